# Staging composes the same three regions as production, small and disposable; its region_map output
# is what the staging edge is deployed with.

mock_provider "aws" {
  alias           = "us_east_1"
  source          = "../../modules/gpu-region/tests/mocks"
  override_during = plan
}

mock_provider "aws" {
  alias           = "eu_west_1"
  source          = "../../modules/gpu-region/tests/mocks"
  override_during = plan
}

mock_provider "aws" {
  alias           = "ap_southeast_1"
  source          = "../../modules/gpu-region/tests/mocks"
  override_during = plan
}

run "regions" {
  command = plan

  assert {
    condition     = jsonencode(output.scaling_policy) == jsonencode(jsondecode(file("${path.module}/tests/fixtures/scaling_policy.json")))
    error_message = "scaling_policy must equal tests/fixtures/scaling_policy.json, which the fleet simulator replays (npm run simulate): update the fixture with the change and rerun the simulator."
  }

  assert {
    condition     = output.region_map == jsondecode(file("${path.module}/tests/fixtures/region_map.json"))
    error_message = "region_map must equal tests/fixtures/region_map.json, the value the staging edge is deployed with."
  }

  assert {
    condition     = [for r in output.region_map : "${r.name}@${r.lat},${r.lon}"] == [for r in jsondecode(file("${path.module}/../production/tests/fixtures/region_map.json")) : "${r.name}@${r.lat},${r.lon}"]
    error_message = "Staging must run the same regions, at the same places, as production."
  }

  assert {
    condition     = length(distinct(flatten([for r in values(output.regions) : values(r.autoscaling_group_names)]))) == 6 && alltrue([for r in values(output.regions) : startswith(r.asset_bucket_name, "genart-stg-")])
    error_message = "Staging resources are named apart from production's."
  }

  assert {
    condition     = local.base_capacity.max_size <= 2 && local.burst_capacity.spot_percentage == 100 && local.disposable
    error_message = "Staging stays small, all-spot above its base, and disposable."
  }
}
