# Least privilege for the nodes: every action named (no wildcards), resources scoped wherever the
# service supports it. Built with jsonencode rather than a data source so `terraform test` can read
# the statements at plan time.

locals {
  secret_parameter_arns = [
    for p in values(var.secret_parameters) : "arn:${local.partition}:ssm:${local.aws_region}:${local.account_id}:parameter${p}"
  ]
  release_object_arn = local.release_s3.bucket == null ? null : "arn:${local.partition}:s3:::${local.release_s3.bucket}/${local.release_s3.key}"
  group_arns = [
    for g in local.groups : "arn:${local.partition}:autoscaling:${local.aws_region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${g.name}"
  ]

  node_policy_statements = concat(
    [
      {
        Sid      = "ReadModels"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = ["${local.model_bucket_arn}/*"]
      },
      {
        Sid      = "ListModels"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [local.model_bucket_arn]
      },
      {
        # Content-addressed keys: the uploader checks for an existing object before writing.
        Sid      = "WriteAssets"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
        Resource = ["${local.asset_bucket_arn}/*"]
      },
      {
        Sid      = "ListAssets"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [local.asset_bucket_arn]
      },
      {
        # PutMetricData has no resource type; the condition pins the namespace.
        Sid      = "PublishScalingMetrics"
        Effect   = "Allow"
        Action   = ["cloudwatch:PutMetricData"]
        Resource = ["*"]
        Condition = {
          StringEquals = { "cloudwatch:namespace" = var.metrics_namespace }
        }
      },
      {
        Sid      = "ReadSecrets"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = local.secret_parameter_arns
      },
      {
        Sid      = "CompleteLifecycleActions"
        Effect   = "Allow"
        Action   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
        Resource = local.group_arns
      },
      {
        # Session Manager instead of SSH; these actions have no resource type.
        Sid    = "SessionManager"
        Effect = "Allow"
        Action = [
          "ssm:UpdateInstanceInformation",
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ]
        Resource = ["*"]
      },
    ],
    [
      for s in [{
        Sid      = "ReadRelease"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [local.release_object_arn]
      }] : s if local.release_object_arn != null && local.release_s3.bucket != local.model_bucket_name
    ],
    [
      for s in [{
        Sid      = "UseBucketKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.s3_kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.aws_region}.amazonaws.com" }
        }
      }] : s if var.s3_kms_key_arn != null
    ],
    [
      for s in [{
        Sid      = "DecryptSecrets"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.secrets_kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "ssm.${local.aws_region}.amazonaws.com" }
        }
      }] : s if var.secrets_kms_key_arn != null
    ],
  )
}

resource "aws_iam_role" "node" {
  name_prefix = "${var.name}-node-"
  description = "GPU nodes of ${var.region_name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = ["sts:AssumeRole"]
      Principal = { Service = "ec2.${data.aws_partition.current.dns_suffix}" }
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "node" {
  name = "genart-node"
  role = aws_iam_role.node.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.node_policy_statements
  })
}

resource "aws_iam_instance_profile" "node" {
  name_prefix = "${var.name}-node-"
  role        = aws_iam_role.node.name
  tags        = local.tags
}
