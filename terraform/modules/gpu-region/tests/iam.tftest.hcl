# The node role: every action named, nothing granted beyond what a node does.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

run "least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.node.policy).Statement : [for a in s.Action : !strcontains(a, "*")]
    ]))
    error_message = "No IAM action may contain a wildcard."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Effect == "Allow" && !contains(s.Action, "s3:DeleteObject")])
    error_message = "Nodes never delete objects."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.node.policy).Statement : contains(["PublishScalingMetrics", "SessionManager"], s.Sid) if contains(s.Resource, "*")
    ])
    error_message = "Only actions without a resource type (PutMetricData, Session Manager) may use Resource *."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Condition.StringEquals["cloudwatch:namespace"] if s.Sid == "PublishScalingMetrics"]) == "GenArt/Region"
    error_message = "Metrics may be written to the region's namespace only."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Resource if s.Sid == "ReadModels"]) == ["arn:aws:s3:::genart-test-us-east-models-123456789012/*"]
    error_message = "Model reads must be scoped to the model bucket."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Action if s.Sid == "WriteAssets"]) == ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"] && one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Resource if s.Sid == "WriteAssets"]) == ["arn:aws:s3:::genart-test-us-east-assets-123456789012/*"]
    error_message = "Asset writes must be scoped to the asset bucket."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Resource if s.Sid == "ReadSecrets"]) == ["arn:aws:ssm:us-east-1:123456789012:parameter/genart/test/us-east/region-signing-key"]
    error_message = "Only the listed secret parameters may be read."
  }

  assert {
    condition     = length(one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Resource if s.Sid == "CompleteLifecycleActions"])) == 2
    error_message = "Lifecycle actions must be limited to the region's two groups."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Resource if s.Sid == "ReadRelease"]) == ["arn:aws:s3:::genart-releases/regional-gpu/1.2.3.tar.gz"]
    error_message = "A release outside the model bucket must be readable, and nothing else in its bucket."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s if startswith(s.Sid, "UseBucketKey") || s.Sid == "DecryptSecrets"]) == 0
    error_message = "Without customer managed keys the role needs no KMS permissions."
  }

  assert {
    condition     = jsondecode(aws_iam_role.node.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"
    error_message = "Only EC2 may assume the node role."
  }
}

run "release_in_model_bucket_and_kms" {
  command = plan

  variables {
    model_bucket_name   = "genart-test-models"
    release_url         = "s3://genart-test-models/releases/regional-gpu-1.2.3.tgz"
    s3_kms_key_arn      = "arn:aws:kms:us-east-1:123456789012:key/0b5e6c1e-1111-2222-3333-444455556666"
    secrets_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1b5e6c1e-1111-2222-3333-444455556666"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s if s.Sid == "ReadRelease"]) == 0
    error_message = "A release in the model bucket is covered by ReadModels."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Condition.StringEquals["kms:ViaService"] if s.Sid == "UseBucketKey"]) == "s3.us-east-1.amazonaws.com"
    error_message = "The bucket key may be used through S3 only."
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s.Resource if s.Sid == "DecryptSecrets"]) == ["arn:aws:kms:us-east-1:123456789012:key/1b5e6c1e-1111-2222-3333-444455556666"]
    error_message = "The secrets key may be used for decryption only, through SSM."
  }
}

run "https_release_needs_no_grant" {
  command = plan

  variables {
    release_url = "https://releases.genart.example/regional-gpu-1.2.3.tar.gz"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.node.policy).Statement : s if s.Sid == "ReadRelease"]) == 0
    error_message = "An https release needs no S3 grant."
  }
}
