# Production composes three regions; its region_map output is exactly what the edge is deployed with
# (tests/fixtures/region_map.json, which scripts/region-map.test.ts feeds to the deploy script).

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
    error_message = "region_map must equal tests/fixtures/region_map.json, the value the edge is deployed with."
  }

  assert {
    condition     = length(distinct([for r in output.region_map : r.name])) == 3 && alltrue([for r in output.region_map : startswith(r.endpoint, "https://")])
    error_message = "Three distinct regions, each behind HTTPS."
  }

  assert {
    condition     = length(distinct(flatten([for r in values(output.regions) : values(r.autoscaling_group_names)]))) == 6
    error_message = "Every region has its own base and burst groups."
  }

  assert {
    condition     = local.base_capacity.min_size >= 2 && local.warm_pool.min_size >= 1 && local.burst_capacity.spot_percentage < 100
    error_message = "Production keeps two serving nodes per region, a warm pool behind them, and some on-demand burst capacity."
  }

  assert {
    condition     = output.regions["eu-west"].model_store_url == "s3://genart-prod-eu-west-models-123456789012/models/"
    error_message = "Each region reads models from its own bucket."
  }
}

run "missing_region" {
  command = plan

  variables {
    regions = {
      us-east = {
        vpc_id             = "vpc-0a0a0a0a0a0a0a0a1"
        public_subnet_ids  = ["subnet-0a0a0a0a0a0a0a0a1", "subnet-0a0a0a0a0a0a0a0a2"]
        private_subnet_ids = ["subnet-0a0a0a0a0a0a0a0a3", "subnet-0a0a0a0a0a0a0a0a4"]
      }
    }
  }

  expect_failures = [var.regions]
}
