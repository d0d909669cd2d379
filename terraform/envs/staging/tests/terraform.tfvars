dns_zone_name   = "staging.regions.genart.example"
route53_zone_id = "Z0123456789ABCDEFGHIJ"
edge_url        = "https://genart-edge-staging.genart.workers.dev"
release_url     = "s3://genart-staging-releases/regional-gpu/1.2.3.tar.gz"

regions = {
  us-east = {
    vpc_id             = "vpc-0a0a0a0a0a0a0a0a1"
    public_subnet_ids  = ["subnet-0a0a0a0a0a0a0a0a1", "subnet-0a0a0a0a0a0a0a0a2"]
    private_subnet_ids = ["subnet-0a0a0a0a0a0a0a0a3", "subnet-0a0a0a0a0a0a0a0a4"]
    alarm_topic_arn    = "arn:aws:sns:us-east-1:123456789012:genart-staging-alarms"
  }
  eu-west = {
    vpc_id             = "vpc-0b0b0b0b0b0b0b0b1"
    public_subnet_ids  = ["subnet-0b0b0b0b0b0b0b0b1", "subnet-0b0b0b0b0b0b0b0b2"]
    private_subnet_ids = ["subnet-0b0b0b0b0b0b0b0b3", "subnet-0b0b0b0b0b0b0b0b4"]
  }
  ap-southeast = {
    vpc_id             = "vpc-0c0c0c0c0c0c0c0c1"
    public_subnet_ids  = ["subnet-0c0c0c0c0c0c0c0c1", "subnet-0c0c0c0c0c0c0c0c2"]
    private_subnet_ids = ["subnet-0c0c0c0c0c0c0c0c3", "subnet-0c0c0c0c0c0c0c0c4"]
  }
}
