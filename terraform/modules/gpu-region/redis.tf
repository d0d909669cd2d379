# The region's shared job queue (BullMQ). TLS in transit, encrypted at rest, reachable from the
# nodes' security group only.

resource "aws_elasticache_subnet_group" "this" {
  name        = "${var.name}-queue"
  description = "Job queue of ${var.region_name}"
  subnet_ids  = var.private_subnet_ids
  tags        = local.tags
}

# BullMQ requires noeviction: an evicted key is a lost job.
resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-queue"
  family      = var.redis.parameter_group_family
  description = "BullMQ job queue: never evict keys"

  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = local.queue_id
  description                = "Job queue of ${var.region_name}"
  engine                     = var.redis.engine
  engine_version             = var.redis.engine_version
  node_type                  = var.redis.node_type
  num_cache_clusters         = var.redis.num_cache_clusters
  port                       = 6379
  parameter_group_name       = aws_elasticache_parameter_group.this.name
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.redis.id]
  automatic_failover_enabled = var.redis.num_cache_clusters > 1
  multi_az_enabled           = var.redis.num_cache_clusters > 1
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  snapshot_retention_limit   = var.redis.snapshot_retention_limit
  auto_minor_version_upgrade = true
  apply_immediately          = false
  tags                       = local.tags
}
