name               = "genart-test-us-east"
region_name        = "us-east"
location           = { latitude = 39.0, longitude = -77.5 }
vpc_id             = "vpc-0123456789abcdef0"
public_subnet_ids  = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
private_subnet_ids = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
domain_name        = "us-east.regions.genart.example"
certificate_arn    = "arn:aws:acm:us-east-1:123456789012:certificate/0b5e6c1e-1111-2222-3333-444455556666"
instance_types     = ["g6.xlarge", "g5.xlarge", "g6.2xlarge"]
base_capacity      = { min_size = 1, max_size = 4 }
burst_capacity     = { max_size = 8, spot_percentage = 80 }
release_url        = "s3://genart-releases/regional-gpu/1.2.3.tar.gz"
edge_url           = "https://api.genart.example"
warm_models        = ["cppn-glove@2026-11-27.1"]
secret_parameters  = { REGION_SIGNING_KEY = "/genart/test/us-east/region-signing-key" }
