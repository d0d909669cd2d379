# Values the mocked AWS provider returns where the module reads them (data sources and computed
# attributes that end up in names, ARNs or user data). Everything else gets generated values.

mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_ssm_parameter" {
  defaults = {
    value = "ami-0123456789abcdef0"
  }
}

mock_data "aws_ami" {
  defaults = {
    root_device_name = "/dev/sda1"
  }
}

mock_resource "aws_elasticache_replication_group" {
  defaults = {
    primary_endpoint_address = "master.genart-queue.abc123.use1.cache.amazonaws.com"
  }
}

mock_resource "aws_iam_instance_profile" {
  defaults = {
    arn = "arn:aws:iam::123456789012:instance-profile/genart-node"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/genart/0123456789abcdef"
    arn_suffix = "app/genart/0123456789abcdef"
    dns_name   = "genart-123456789.us-east-1.elb.amazonaws.com"
    zone_id    = "Z35SXDOTRQ7X7K"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/genart-tg/0123456789abcdef"
    arn_suffix = "targetgroup/genart-tg/0123456789abcdef"
  }
}

mock_resource "aws_launch_template" {
  defaults = {
    id             = "lt-0123456789abcdef0"
    latest_version = 1
  }
}

mock_resource "aws_autoscaling_policy" {
  defaults = {
    arn = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0b5e6c1e-1111-2222-3333-444455556666:autoScalingGroupName/genart:policyName/genart"
  }
}

mock_resource "aws_acm_certificate" {
  defaults = {
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/9b5e6c1e-1111-2222-3333-444455556666"
    domain_validation_options = [{
      domain_name           = "us-east.regions.genart.example"
      resource_record_name  = "_0123456789abcdef.us-east.regions.genart.example."
      resource_record_type  = "CNAME"
      resource_record_value = "_fedcba9876543210.acm-validations.aws."
    }]
  }
}
