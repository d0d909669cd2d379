output "region_entry" {
  description = "The region as the edge's REGIONS variable lists it."
  value       = module.gpu_region.region_entry
}

output "endpoint" {
  description = "HTTPS endpoint of the region."
  value       = module.gpu_region.endpoint
}

output "asset_bucket_name" {
  description = "Bucket of generated images."
  value       = module.gpu_region.asset_bucket_name
}

output "model_bucket_name" {
  description = "Bucket of model files and releases."
  value       = module.gpu_region.model_bucket_name
}

output "redis_endpoint" {
  description = "Primary endpoint of the regional queue."
  value       = module.gpu_region.redis_endpoint
}

output "autoscaling_group_names" {
  description = "Auto Scaling groups by role."
  value       = module.gpu_region.autoscaling_group_names
}
