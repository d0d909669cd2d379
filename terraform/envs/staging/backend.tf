# State lives in S3 with S3-native locking (use_lockfile, Terraform >= 1.10; no DynamoDB table).
# The bucket is account-specific, so it is given at init:
#   terraform init -backend-config="bucket=<state bucket>"
# (docs/operations.md shows how to create it once per account).
terraform {
  backend "s3" {
    key          = "genart/staging/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
