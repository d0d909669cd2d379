# Buckets (encryption, no public access, lifecycle) and the regional queue.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "buckets_and_queue" {
  command = apply

  assert {
    condition = toset([
      for t in one([for r in aws_s3_bucket_lifecycle_configuration.assets.rule : r if r.id == "cool-down"]).transition : "${t.storage_class}@${t.days}"
    ]) == toset(["STANDARD_IA@30", "GLACIER_IR@90"])
    error_message = "Assets must move Standard -> Standard-IA (30 d) -> Glacier Instant Retrieval (90 d)."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.assets.rule : r.abort_incomplete_multipart_upload[0].days_after_initiation if r.id == "abort-incomplete-uploads"]) == 7
    error_message = "Incomplete multipart uploads must be aborted after a week."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.assets.rule : r.expiration[0].days if r.id == "expire-quarantine"]) == 30 && one([for r in aws_s3_bucket_lifecycle_configuration.assets.rule : r.filter[0].prefix if r.id == "expire-quarantine"]) == "quarantine/"
    error_message = "Quarantined outputs must expire after the review window."
  }

  assert {
    condition     = length(one([for r in aws_s3_bucket_lifecycle_configuration.assets.rule : r if r.id == "cool-down"]).expiration) == 0
    error_message = "Assets do not expire unless asked to."
  }

  assert {
    condition     = aws_s3_bucket_versioning.models.versioning_configuration[0].status == "Enabled"
    error_message = "The model bucket must be versioned."
  }

  assert {
    condition     = one(one([for r in aws_s3_bucket_lifecycle_configuration.models.rule : r if r.id == "archive-noncurrent-versions"]).noncurrent_version_transition).storage_class == "GLACIER"
    error_message = "Noncurrent model versions must move to Glacier."
  }

  assert {
    condition     = one(one([for r in aws_s3_bucket_lifecycle_configuration.models.rule : r if r.id == "archive-noncurrent-versions"]).noncurrent_version_expiration).noncurrent_days == 365
    error_message = "Noncurrent model versions expire after a year by default."
  }

  assert {
    condition = alltrue([
      for c in values(aws_s3_bucket_server_side_encryption_configuration.this) : one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    ])
    error_message = "Without a KMS key both buckets use SSE-S3."
  }

  assert {
    condition = alltrue([
      for b in values(aws_s3_bucket_public_access_block.this) : b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets
    ])
    error_message = "Both buckets must block every form of public access."
  }

  assert {
    condition = alltrue([
      for p in values(aws_s3_bucket_policy.this) : jsondecode(p.policy).Statement[0].Effect == "Deny" && jsondecode(p.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    ])
    error_message = "Both buckets must refuse requests without TLS."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.at_rest_encryption_enabled == "true" && aws_elasticache_replication_group.this.transit_encryption_enabled
    error_message = "The queue must be encrypted at rest and in transit."
  }

  assert {
    condition = alltrue(flatten([
      for t in values(aws_launch_template.this) : [for d in t.block_device_mappings : d.ebs[0].encrypted == "true"]
    ]))
    error_message = "Every node volume must be encrypted."
  }

  assert {
    condition     = one([for p in aws_elasticache_parameter_group.this.parameter : p.value if p.name == "maxmemory-policy"]) == "noeviction"
    error_message = "BullMQ needs maxmemory-policy noeviction."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.automatic_failover_enabled && aws_elasticache_replication_group.this.multi_az_enabled && aws_elasticache_replication_group.this.num_cache_clusters == 2
    error_message = "The queue runs a Multi-AZ replica with automatic failover by default."
  }

  assert {
    condition     = output.asset_bucket_name == "genart-test-us-east-assets-123456789012" && output.model_bucket_name == "genart-test-us-east-models-123456789012" && output.model_store_url == "s3://genart-test-us-east-models-123456789012/models/"
    error_message = "Bucket names derive from the name and the account, and the model store is the model bucket's prefix."
  }

  assert {
    condition     = output.redis_url == "rediss://master.genart-queue.abc123.use1.cache.amazonaws.com:6379" && output.redis_endpoint == "master.genart-queue.abc123.use1.cache.amazonaws.com"
    error_message = "REDIS_URL must use TLS (rediss://) on the primary endpoint."
  }
}

run "kms_encryption" {
  command = plan

  variables {
    s3_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0b5e6c1e-1111-2222-3333-444455556666"
  }

  assert {
    condition = alltrue([
      for c in values(aws_s3_bucket_server_side_encryption_configuration.this) : one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(c.rule).bucket_key_enabled
    ])
    error_message = "With a KMS key both buckets use SSE-KMS with bucket keys."
  }
}
