output "region_entry" {
  description = "This region as the edge's REGIONS configuration lists it: name, endpoint, lat, lon."
  value = {
    name     = var.region_name
    endpoint = "https://${var.domain_name}"
    lat      = var.location.latitude
    lon      = var.location.longitude
  }
}

output "endpoint" {
  description = "HTTPS base URL of the region's intake (the load balancer under domain_name)."
  value       = "https://${var.domain_name}"
}

output "latitude" {
  description = "Latitude of the region, as given."
  value       = var.location.latitude
}

output "longitude" {
  description = "Longitude of the region, as given."
  value       = var.location.longitude
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer, for a record outside Route 53 when route53_zone_id is null."
  value       = aws_lb.this.dns_name
}

output "load_balancer_zone_id" {
  description = "Hosted zone id of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "target_group_arn" {
  description = "Target group of the nodes (health check on /readyz)."
  value       = aws_lb_target_group.this.arn
}

output "asset_bucket_name" {
  description = "Bucket of generated images (ASSET_BUCKET on the nodes; the edge's R2 cache fills from it)."
  value       = aws_s3_bucket.this["assets"].bucket
}

output "asset_bucket_arn" {
  description = "ARN of the asset bucket."
  value       = aws_s3_bucket.this["assets"].arn
}

output "model_bucket_name" {
  description = "Versioned bucket of model files and releases."
  value       = aws_s3_bucket.this["models"].bucket
}

output "model_bucket_arn" {
  description = "ARN of the model bucket."
  value       = aws_s3_bucket.this["models"].arn
}

output "model_store_url" {
  description = "MODEL_STORE_URL of the nodes: where model versions are uploaded for this region."
  value       = local.environment.MODEL_STORE_URL
}

output "redis_endpoint" {
  description = "Primary endpoint address of the regional queue's Redis."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "redis_url" {
  description = "REDIS_URL of the nodes (TLS)."
  value       = local.environment.REDIS_URL
}

output "autoscaling_group_names" {
  description = "Auto Scaling groups by role: base (on-demand, warm pool) and burst (mixed on-demand and spot)."
  value       = { for k, g in aws_autoscaling_group.this : k => g.name }
}

output "launch_template_ids" {
  description = "Launch templates by group role."
  value       = { for k, t in aws_launch_template.this : k => t.id }
}

output "node_role_name" {
  description = "IAM role of the nodes, for attaching further policies."
  value       = aws_iam_role.node.name
}

output "node_security_group_id" {
  description = "Security group of the nodes."
  value       = aws_security_group.node.id
}

output "load_balancer_security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.load_balancer.id
}

output "scaling_policy" {
  description = "The region's scaling as configured: instance types, group sizes and backlog targets, the burst group's spot mix, the warm pool, the oldest-job-age steps, the instance warm-up and the metrics they read. The fleet simulator (npm run simulate) replays exactly this."
  value = {
    metrics_namespace       = var.metrics_namespace
    period_seconds          = local.metric_period_seconds
    instance_types          = var.instance_types
    instance_warmup_seconds = var.instance_warmup_seconds
    groups = {
      for k, g in local.groups : k => {
        name           = g.name
        min_size       = g.min_size
        max_size       = g.max_size
        backlog_target = g.target
      }
    }
    burst_mix = {
      on_demand_base_capacity  = var.burst_capacity.on_demand_base_capacity
      spot_percentage          = var.burst_capacity.spot_percentage
      spot_allocation_strategy = var.burst_capacity.spot_allocation_strategy
    }
    warm_pool = {
      pool_state                  = var.warm_pool.pool_state
      min_size                    = var.warm_pool.min_size
      max_group_prepared_capacity = coalesce(var.warm_pool.max_group_prepared_capacity, var.base_capacity.max_size)
      reuse_on_scale_in           = var.warm_pool.reuse_on_scale_in
    }
    oldest_job_age_steps = var.scaling.oldest_job_age_steps
  }
}
