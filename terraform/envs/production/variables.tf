variable "regions" {
  description = "Per-region inputs that only the account knows: the existing network (and, optionally, an SNS topic in that region for alarms). Keys are the platform's region names."
  type = map(object({
    vpc_id             = string
    public_subnet_ids  = list(string)
    private_subnet_ids = list(string)
    alarm_topic_arn    = optional(string)
  }))

  validation {
    condition     = toset(keys(var.regions)) == toset(["us-east", "eu-west", "ap-southeast"])
    error_message = "regions must describe exactly us-east, eu-west and ap-southeast (add a region in main.tf first)."
  }
}

variable "dns_zone_name" {
  description = "Public DNS zone under which each region gets <region>.<zone>, e.g. regions.genart.example."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone of dns_zone_name: regions' alias records and certificate validation records are created in it."
  type        = string
}

variable "edge_url" {
  description = "Base URL of the production edge Worker, where nodes send heartbeats and job events."
  type        = string
}

variable "release_url" {
  description = "s3:// or https:// URL of the regional-gpu release tarball every region installs."
  type        = string
}

variable "release_sha256" {
  description = "Expected sha256 of the release tarball."
  type        = string
  default     = null
}

variable "warm_models" {
  description = "Model versions (name@version) kept on every node's disk and loaded before it reports ready."
  type        = list(string)
  default     = ["cppn-glove@2026-11-27.1"]
}

variable "signing_key_parameter_prefix" {
  description = "SSM path under which each region's SecureStrings live: <prefix>/<region>/region-signing-key (`<key id>:<secret>`) and, while it rotates, <prefix>/<region>/region-signing-key-previous."
  type        = string
  default     = "/genart/production"
}

variable "rotating_signing_keys" {
  description = "Regions whose signing key is being rotated: their nodes also get REGION_SIGNING_KEY_PREVIOUS (docs/operations.md)."
  type        = list(string)
  default     = []
}
