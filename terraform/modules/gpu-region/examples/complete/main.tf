# One GPU region from nothing but a hosted zone: a VPC with public and private subnets in two
# Availability Zones, an alarm topic, and the module (which requests and validates its certificate).

provider "aws" {
  region = var.aws_region
}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  name = "genart-example-eu-west"
  azs  = slice(data.aws_availability_zones.available.names, 0, 2)
  tags = {
    Project     = "genart"
    Environment = "example"
  }
}

################################################################################
# Network
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = "10.40.0.0/16"
  enable_dns_hostnames = true
  enable_dns_support   = true
  tags                 = merge(local.tags, { Name = local.name })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = local.name })
}

resource "aws_subnet" "public" {
  for_each = { for i, az in local.azs : az => i }

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(aws_vpc.this.cidr_block, 8, each.value)
  tags              = merge(local.tags, { Name = "${local.name}-public-${each.key}" })
}

resource "aws_subnet" "private" {
  for_each = { for i, az in local.azs : az => i }

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(aws_vpc.this.cidr_block, 4, each.value + 1)
  tags              = merge(local.tags, { Name = "${local.name}-private-${each.key}" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${local.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

# One NAT gateway keeps the example cheap; production uses one per Availability Zone.
resource "aws_eip" "nat" {
  domain = "vpc"
  tags   = merge(local.tags, { Name = "${local.name}-nat" })
}

resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[local.azs[0]].id
  tags          = merge(local.tags, { Name = local.name })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${local.name}-private" })
}

resource "aws_route" "private_nat" {
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this.id
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private.id
}

# S3 traffic (models, assets) stays off the NAT gateway.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.aws_region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = merge(local.tags, { Name = "${local.name}-s3" })
}

################################################################################
# Alarms
################################################################################

resource "aws_sns_topic" "alarms" {
  name = "${local.name}-alarms"
  tags = local.tags
}

################################################################################
# GPU region
################################################################################

module "gpu_region" {
  source = "../.."

  name        = local.name
  region_name = "eu-west"
  location    = { latitude = 53.3, longitude = -6.3 }

  vpc_id             = aws_vpc.this.id
  public_subnet_ids  = [for s in aws_subnet.public : s.id]
  private_subnet_ids = [for s in aws_subnet.private : s.id]

  domain_name     = var.domain_name
  route53_zone_id = var.route53_zone_id

  instance_types = ["g6.xlarge", "g5.xlarge", "g6e.xlarge"]
  base_capacity  = { min_size = 1, max_size = 3 }
  burst_capacity = { max_size = 6, spot_percentage = 100 }
  warm_pool      = { pool_state = "Stopped", min_size = 1 }

  release_url       = var.release_url
  edge_url          = var.edge_url
  warm_models       = ["cppn-glove@2026-11-27.1"]
  secret_parameters = { REGION_SIGNING_KEY = var.signing_key_parameter }

  redis = { node_type = "cache.t4g.medium" }

  alarm_actions                     = [aws_sns_topic.alarms.arn]
  force_destroy_buckets             = true
  load_balancer_deletion_protection = false

  tags = local.tags
}
