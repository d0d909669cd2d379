# Production: three GPU regions, one provider alias each. Sizes here are the cost knobs
# docs/operations.md prices out; everything else is the module's defaults.

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
  environment = "production"

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
  instance_types = ["g6.xlarge", "g5.xlarge", "g6.2xlarge", "g5.2xlarge"]
  base_capacity  = { min_size = 2, max_size = 6 }
  burst_capacity = { max_size = 12, spot_percentage = 70 }
  warm_pool      = { pool_state = "Stopped", min_size = 2 }
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
  redis = { node_type = "cache.r7g.large", num_cache_clusters = 2 }
}

module "us_east" {
  source    = "../../modules/gpu-region"
  providers = { aws = aws.us_east_1 }

  name            = "genart-prod-us-east"
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
}

module "eu_west" {
  source    = "../../modules/gpu-region"
  providers = { aws = aws.eu_west_1 }

  name            = "genart-prod-eu-west"
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
}

module "ap_southeast" {
  source    = "../../modules/gpu-region"
  providers = { aws = aws.ap_southeast_1 }

  name            = "genart-prod-ap-southeast"
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
}
