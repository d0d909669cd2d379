variable "aws_region" {
  description = "AWS region to deploy the example into."
  type        = string
  default     = "eu-west-1"
}

variable "route53_zone_id" {
  description = "Public hosted zone that holds domain_name; the region's certificate is validated through it."
  type        = string
}

variable "domain_name" {
  description = "Host name of the region's endpoint, inside the hosted zone."
  type        = string
}

variable "release_url" {
  description = "s3:// or https:// URL of the regional-gpu release tarball."
  type        = string
}

variable "edge_url" {
  description = "Base URL of the edge the nodes report to."
  type        = string
}

variable "signing_key_parameter" {
  description = "SSM SecureString holding this region's REGION_SIGNING_KEY, `<key id>:<secret>` (created out of band, so the value never enters Terraform state)."
  type        = string
  default     = "/genart/example/eu-west/region-signing-key"
}
