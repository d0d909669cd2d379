# Staging: the same three regions as production at the smallest useful size, so a release and a
# model version are proven on the real topology (warm pool, spot, lifecycle hooks) before production.

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "eu_west_1"
  region = "eu-west-1"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "ap_southeast_1"
  region = "ap-southeast-1"

  default_tags {
    tags = local.tags
  }
}

locals {
  environment = "staging"

  # Passed to the modules as well: provider default_tags do not reach the instances and volumes an
  # Auto Scaling group launches, and cost allocation needs them there.
  tags = {
    Project     = "genart"
    Environment = local.environment
    ManagedBy   = "terraform"
  }

  # Where the edge believes each region is (the AWS region's data centres), for its latency model.
  locations = {
    us-east      = { latitude = 39.0, longitude = -77.5 }
    eu-west      = { latitude = 53.3, longitude = -6.3 }
    ap-southeast = { latitude = 1.3, longitude = 103.8 }
  }

  # Shared by every region.
  instance_types = ["g6.xlarge", "g5.xlarge", "g4dn.xlarge"]
  base_capacity  = { min_size = 1, max_size = 2 }
  burst_capacity = { max_size = 2, spot_percentage = 100 }
  warm_pool      = { pool_state = "Stopped", min_size = 1 }
  scaling        = { backlog_per_instance_target = 1.25 }
  # Each region its own key (`<key id>:<secret>`, also in the edge's REGION_SIGNING_KEYS), and the
  # one it retires while a rotation is under way (docs/operations.md).
  secrets = {
    for region in keys(local.locations) : region => merge(
      { REGION_SIGNING_KEY = "${var.signing_key_parameter_prefix}/${region}/region-signing-key" },
      contains(var.rotating_signing_keys, region) ? {
        REGION_SIGNING_KEY_PREVIOUS = "${var.signing_key_parameter_prefix}/${region}/region-signing-key-previous"
      } : {},
    )
  }
  redis = { node_type = "cache.t4g.small", num_cache_clusters = 1, snapshot_retention_limit = 0 }

  # Throwaway data: staging can be destroyed and rebuilt without emptying buckets by hand.
  disposable = true
}

module "us_east" {
  source    = "../../modules/gpu-region"
  providers = { aws = aws.us_east_1 }

  name            = "genart-stg-us-east"
  region_name     = "us-east"
  location        = local.locations["us-east"]
  domain_name     = "us-east.${var.dns_zone_name}"
  route53_zone_id = var.route53_zone_id

  vpc_id             = var.regions["us-east"].vpc_id
  public_subnet_ids  = var.regions["us-east"].public_subnet_ids
  private_subnet_ids = var.regions["us-east"].private_subnet_ids
  alarm_actions      = compact([var.regions["us-east"].alarm_topic_arn])

  instance_types    = local.instance_types
  base_capacity     = local.base_capacity
  burst_capacity    = local.burst_capacity
  warm_pool         = local.warm_pool
  scaling           = local.scaling
  redis             = local.redis
  release_url       = var.release_url
  release_sha256    = var.release_sha256
  edge_url          = var.edge_url
  warm_models       = var.warm_models
  secret_parameters = local.secrets["us-east"]
  tags              = local.tags

  force_destroy_buckets             = local.disposable
  load_balancer_deletion_protection = !local.disposable
}

module "eu_west" {
  source    = "../../modules/gpu-region"
  providers = { aws = aws.eu_west_1 }

  name            = "genart-stg-eu-west"
  region_name     = "eu-west"
  location        = local.locations["eu-west"]
  domain_name     = "eu-west.${var.dns_zone_name}"
  route53_zone_id = var.route53_zone_id

  vpc_id             = var.regions["eu-west"].vpc_id
  public_subnet_ids  = var.regions["eu-west"].public_subnet_ids
  private_subnet_ids = var.regions["eu-west"].private_subnet_ids
  alarm_actions      = compact([var.regions["eu-west"].alarm_topic_arn])

  instance_types    = local.instance_types
  base_capacity     = local.base_capacity
  burst_capacity    = local.burst_capacity
  warm_pool         = local.warm_pool
  scaling           = local.scaling
  redis             = local.redis
  release_url       = var.release_url
  release_sha256    = var.release_sha256
  edge_url          = var.edge_url
  warm_models       = var.warm_models
  secret_parameters = local.secrets["eu-west"]
  tags              = local.tags

  force_destroy_buckets             = local.disposable
  load_balancer_deletion_protection = !local.disposable
}

module "ap_southeast" {
  source    = "../../modules/gpu-region"
  providers = { aws = aws.ap_southeast_1 }

  name            = "genart-stg-ap-southeast"
  region_name     = "ap-southeast"
  location        = local.locations["ap-southeast"]
  domain_name     = "ap-southeast.${var.dns_zone_name}"
  route53_zone_id = var.route53_zone_id

  vpc_id             = var.regions["ap-southeast"].vpc_id
  public_subnet_ids  = var.regions["ap-southeast"].public_subnet_ids
  private_subnet_ids = var.regions["ap-southeast"].private_subnet_ids
  alarm_actions      = compact([var.regions["ap-southeast"].alarm_topic_arn])

  instance_types    = local.instance_types
  base_capacity     = local.base_capacity
  burst_capacity    = local.burst_capacity
  warm_pool         = local.warm_pool
  scaling           = local.scaling
  redis             = local.redis
  release_url       = var.release_url
  release_sha256    = var.release_sha256
  edge_url          = var.edge_url
  warm_models       = var.warm_models
  secret_parameters = local.secrets["ap-southeast"]
  tags              = local.tags

  force_destroy_buckets             = local.disposable
  load_balancer_deletion_protection = !local.disposable
}
