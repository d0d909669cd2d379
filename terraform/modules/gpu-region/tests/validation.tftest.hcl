# Bad inputs fail at plan time with a message, before anything reaches AWS. Runs that break several
# unrelated variables at once assert that each of them fails on its own validation.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

run "min_greater_than_max" {
  command = plan

  variables {
    base_capacity = { min_size = 5, max_size = 2 }
  }

  expect_failures = [var.base_capacity]
}

run "non_gpu_instance_type" {
  command = plan

  variables {
    instance_types = ["g6.xlarge", "m7i.xlarge"]
  }

  expect_failures = [var.instance_types]
}

run "amd_gpu_burst_min_over_max_early_glacier_bad_latitude" {
  command = plan

  variables {
    instance_types  = ["g4ad.xlarge"]
    burst_capacity  = { min_size = 3, max_size = 1 }
    asset_lifecycle = { standard_ia_days = 30, glacier_ir_days = 45 }
    location        = { latitude = 95, longitude = 0 }
  }

  expect_failures = [var.instance_types, var.burst_capacity, var.asset_lifecycle, var.location]
}

run "running_warm_pool_spot_over_100_unordered_steps_node_18" {
  command = plan

  variables {
    warm_pool      = { pool_state = "Running" }
    burst_capacity = { max_size = 4, spot_percentage = 120 }
    scaling        = { oldest_job_age_steps = [{ age_seconds = 120, add_instances = 3 }, { age_seconds = 30, add_instances = 1 }] }
    nodejs         = { url = "https://nodejs.org/dist/v18.20.0/node-v18.20.0-linux-x64.tar.xz" }
  }

  expect_failures = [var.warm_pool, var.burst_capacity, var.scaling, var.nodejs]
}

run "small_prepared_capacity_no_signing_secret_plain_http_edge" {
  command = plan

  variables {
    warm_pool         = { max_group_prepared_capacity = 2 }
    secret_parameters = { DATABASE_URL = "/genart/test/database-url" }
    edge_url          = "http://api.genart.example"
  }

  expect_failures = [var.warm_pool, var.secret_parameters, var.edge_url]
}
