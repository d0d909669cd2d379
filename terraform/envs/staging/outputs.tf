output "region_map" {
  description = "The edge's REGIONS value: scripts/region-map.ts reads this output and deploys the edge with it."
  value = [
    module.us_east.region_entry,
    module.eu_west.region_entry,
    module.ap_southeast.region_entry,
  ]
}

output "regions" {
  description = "Operator view of each region: endpoint, buckets, queue and Auto Scaling groups."
  value = {
    for m in [module.us_east, module.eu_west, module.ap_southeast] : m.region_entry.name => {
      endpoint                = m.endpoint
      asset_bucket_name       = m.asset_bucket_name
      model_bucket_name       = m.model_bucket_name
      model_store_url         = m.model_store_url
      redis_endpoint          = m.redis_endpoint
      autoscaling_group_names = m.autoscaling_group_names
    }
  }
}

output "scaling_policy" {
  description = "Each region's scaling as configured (the module's scaling_policy): what the fleet simulator (npm run simulate) replays. tests/fixtures/scaling_policy.json is proven equal to it."
  value       = { for m in [module.us_east, module.eu_west, module.ap_southeast] : m.region_entry.name => m.scaling_policy }
}
