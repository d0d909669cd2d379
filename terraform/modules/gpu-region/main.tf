data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# The AMI is resolved here rather than with resolve:ssm: in the launch template, so every image change
# is a visible launch template version rolled out by instance refresh (which can then roll back).
data "aws_ssm_parameter" "ami" {
  count = var.ami.id == null ? 1 : 0

  name = var.ami.ssm_parameter
}

data "aws_ami" "this" {
  owners = ["amazon", "self"]

  filter {
    name   = "image-id"
    values = [local.ami_id]
  }
}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  aws_region = data.aws_region.current.name

  ami_id = coalesce(var.ami.id, try(nonsensitive(data.aws_ssm_parameter.ami[0].value), null))

  tags = merge(var.tags, {
    "genart:region" = var.region_name
  })

  asset_bucket_name = coalesce(var.asset_bucket_name, "${var.name}-assets-${local.account_id}")
  model_bucket_name = coalesce(var.model_bucket_name, "${var.name}-models-${local.account_id}")
  asset_bucket_arn  = "arn:${local.partition}:s3:::${local.asset_bucket_name}"
  model_bucket_arn  = "arn:${local.partition}:s3:::${local.model_bucket_name}"

  # A release outside the model bucket still needs read access; an https release needs none.
  release_s3 = regex("^(?:s3://(?P<bucket>[^/]+)/(?P<key>.+))?", var.release_url)

  # "base": on-demand, first instance type, warm pool. "burst": mixed instances, spot share.
  # The nodes publish their scaling metrics once per group name, so an empty burst group still
  # sees the region's backlog and can scale out from zero.
  groups = {
    base = {
      name     = "${var.name}-base"
      min_size = var.base_capacity.min_size
      max_size = var.base_capacity.max_size
      target   = var.scaling.backlog_per_instance_target
    }
    burst = {
      name     = "${var.name}-burst"
      min_size = var.burst_capacity.min_size
      max_size = var.burst_capacity.max_size
      target   = var.scaling.backlog_per_instance_target * var.scaling.burst_target_ratio
    }
  }

  queue_id            = "${var.name}-queue"
  launch_hook_name    = "${var.name}-launch"
  terminate_hook_name = "${var.name}-drain"

  model_cache_dir = "/var/lib/genart/models"

  # Set by this module; extra_environment cannot override them (merge order).
  environment = merge(var.extra_environment, {
    REGION_NAME = var.region_name
    HOST        = "0.0.0.0"
    PORT        = tostring(var.app.port)
    OPS_HOST    = "0.0.0.0"
    OPS_PORT    = tostring(var.app.ops_port)
    EDGE_URL    = var.edge_url
    # Ends before systemd's stop timeout (and the termination hook), so the node exits on its own.
    DRAIN_TIMEOUT_MS = tostring((var.drain_timeout_seconds - 10) * 1000)
    MODEL_STORE_URL  = "s3://${local.model_bucket_name}/${var.model_store_prefix}"
    MODEL_CACHE_DIR  = local.model_cache_dir
    # Headroom on the cache volume for the filesystem and a download in flight.
    MODEL_CACHE_MAX_BYTES = format("%d", floor(var.model_cache_volume.size_gb * 0.9) * 1073741824)
    # OBJECT_STORE is where regional-gpu/config.ts writes outputs; ASSET_BUCKET names the same bucket.
    OBJECT_STORE        = "s3://${local.asset_bucket_name}/"
    ASSET_BUCKET        = local.asset_bucket_name
    REDIS_URL           = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
    ORT_EP              = "cuda"
    WARM_MODELS         = join(",", var.warm_models)
    METRICS_NAMESPACE   = var.metrics_namespace
    SCALING_GROUP_NAMES = join(",", [for g in local.groups : g.name])
    AWS_REGION          = local.aws_region
    NODE_ENV            = "production"
  })
}
