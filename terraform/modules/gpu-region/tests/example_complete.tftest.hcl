# The complete example applies end to end against the mocked provider.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan

  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }

  mock_resource "aws_vpc" {
    defaults = {
      id = "vpc-0e1e2e3e4e5e6e7e8"
    }
  }

  mock_resource "aws_subnet" {
    defaults = {
      id = "subnet-0e1e2e3e4e5e6e7e8"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:genart-example-eu-west-alarms"
    }
  }
}

run "complete" {
  command = plan

  module {
    source = "./examples/complete"
  }

  variables {
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
    domain_name     = "eu-west.regions.genart.example"
    release_url     = "s3://genart-example-releases/regional-gpu/1.2.3.tar.gz"
    edge_url        = "https://api.genart.example"
  }

  assert {
    condition     = output.region_entry == { name = "eu-west", endpoint = "https://eu-west.regions.genart.example", lat = 53.3, lon = -6.3 }
    error_message = "The example's region entry must match its inputs."
  }

  assert {
    condition     = output.autoscaling_group_names == { base = "genart-example-eu-west-base", burst = "genart-example-eu-west-burst" }
    error_message = "The example must create the base and burst groups."
  }

  assert {
    condition     = module.gpu_region.load_balancer_dns_name != "" && length(aws_vpc_endpoint.s3.route_table_ids) == 1
    error_message = "The example must wire the module into its network."
  }

  assert {
    condition     = length(aws_subnet.private) == 2 && length(aws_subnet.public) == 2
    error_message = "The example spreads over two Availability Zones."
  }
}
