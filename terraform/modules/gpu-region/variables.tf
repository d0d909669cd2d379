################################################################################
# Identity and placement
################################################################################

variable "name" {
  description = "Prefix for every resource name in this region, e.g. `genart-prod-us-east`. Load balancer and target group names derive from it, hence the 28-character limit."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,26}[a-z0-9]$", var.name))
    error_message = "name must be 3-28 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region_name" {
  description = "The platform's name for this region as the edge routes to it (`REGION_NAME` on the nodes, `name` in the region map), e.g. `us-east`."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+(-[a-z0-9]+)*$", var.region_name))
    error_message = "region_name must be lowercase words joined by hyphens, e.g. us-east."
  }
}

variable "location" {
  description = "Latitude and longitude (decimal degrees) the edge uses to estimate network latency to this region."
  type = object({
    latitude  = number
    longitude = number
  })

  validation {
    condition     = abs(var.location.latitude) <= 90 && abs(var.location.longitude) <= 180
    error_message = "location.latitude must be within [-90, 90] and location.longitude within [-180, 180]."
  }
}

variable "tags" {
  description = "Tags added to every resource (and propagated to instances and volumes)."
  type        = map(string)
  default     = {}
}

################################################################################
# Networking
################################################################################

variable "vpc_id" {
  description = "Existing VPC to deploy into."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "public_subnet_ids" {
  description = "Subnets for the load balancer (at least two Availability Zones)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && alltrue([for s in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "public_subnet_ids needs at least two subnet ids (subnet-...)."
  }
}

variable "private_subnet_ids" {
  description = "Subnets for the GPU nodes and Redis (at least two Availability Zones; they need outbound HTTPS through NAT or VPC endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids needs at least two subnet ids (subnet-...)."
  }
}

variable "ingress_cidr_blocks" {
  description = "IPv4 ranges allowed to reach the HTTPS listener. Every intake call is HMAC-signed by the edge, so the default is open; narrow it to the edge's egress ranges where they are known."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.ingress_cidr_blocks) > 0 && alltrue([for c in var.ingress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "ingress_cidr_blocks must be a non-empty list of IPv4 CIDR blocks."
  }
}

################################################################################
# Load balancer and DNS
################################################################################

variable "domain_name" {
  description = "Public host name of this region's endpoint (covered by certificate_arn), e.g. `us-east.regions.example.com`."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be a lowercase fully qualified host name."
  }
}

variable "certificate_arn" {
  description = "ACM certificate (in this region) for domain_name. Null has the module request one and validate it by DNS in route53_zone_id."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }

  validation {
    condition     = var.certificate_arn != null || var.route53_zone_id != null
    error_message = "Without certificate_arn the module needs route53_zone_id to validate the certificate it requests."
  }
}

variable "route53_zone_id" {
  description = "Public hosted zone for domain_name: the module creates the alias record (and the certificate validation record when it requests the certificate). Null leaves DNS to you."
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "load_balancer_deletion_protection" {
  description = "Refuse to delete the load balancer until this is turned off."
  type        = bool
  default     = true
}

################################################################################
# Instances
################################################################################

variable "instance_types" {
  description = "NVIDIA GPU instance types, most preferred first. The first one is the on-demand base group's type; the burst group may use any of them."
  type        = list(string)

  validation {
    condition = length(var.instance_types) > 0 && length(var.instance_types) == length(distinct(var.instance_types)) && alltrue([
      for t in var.instance_types : can(regex("^(g4dn|g5|g6|g6e|gr6|p3|p3dn|p4d|p4de|p5|p5e|p5en)\\.([0-9]*xlarge|metal)$", t))
    ])
    error_message = "instance_types must be a non-empty list of distinct NVIDIA GPU instance types (g4dn, g5, g6, g6e, gr6, p3, p3dn, p4d, p4de, p5, p5e, p5en families, e.g. g5.xlarge)."
  }
}

variable "ami" {
  description = "Machine image. By default the latest Deep Learning Base OSS NVIDIA Driver GPU AMI (Ubuntu 22.04, CUDA 12), read from its public SSM parameter; set `id` to pin an image."
  type = object({
    id            = optional(string)
    ssm_parameter = optional(string, "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id")
  })
  default = {}

  validation {
    condition     = var.ami.id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami.id))
    error_message = "ami.id must look like ami-0123456789abcdef0."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the root volume (the Deep Learning AMI's snapshot alone is about 75 GB)."
  type        = number
  default     = 150

  validation {
    condition     = var.root_volume_size_gb >= 100 && var.root_volume_size_gb <= 2000
    error_message = "root_volume_size_gb must be between 100 and 2000."
  }
}

variable "model_cache_volume" {
  description = "EBS volume holding the nodes' model disk cache. It is EBS, not instance-store NVMe, because instance store is wiped when a warm-pool instance stops, and the warm pool exists to keep models on disk."
  type = object({
    size_gb    = optional(number, 200)
    type       = optional(string, "gp3")
    iops       = optional(number, 6000)
    throughput = optional(number, 500)
  })
  default = {}

  validation {
    condition     = var.model_cache_volume.size_gb >= 20 && var.model_cache_volume.size_gb <= 16384 && contains(["gp3", "io2"], var.model_cache_volume.type)
    error_message = "model_cache_volume needs a size_gb between 20 and 16384 and type gp3 or io2."
  }

  validation {
    condition     = var.model_cache_volume.iops >= 3000 && var.model_cache_volume.iops <= 16000 && var.model_cache_volume.throughput >= 125 && var.model_cache_volume.throughput <= 1000
    error_message = "model_cache_volume.iops must be within [3000, 16000] and throughput (MiB/s) within [125, 1000]."
  }
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the nodes' EBS volumes. Null uses the account's default EBS key (volumes are encrypted either way)."
  type        = string
  default     = null
}

################################################################################
# Capacity
################################################################################

variable "base_capacity" {
  description = "On-demand group of the first instance type, with the warm pool behind it: the floor that is always serving and the first to grow. AWS does not allow a warm pool on a group with a mixed instances policy, hence a separate burst group for spot."
  type = object({
    min_size = number
    max_size = number
  })

  validation {
    condition     = var.base_capacity.min_size >= 0 && var.base_capacity.max_size >= 1 && var.base_capacity.min_size <= var.base_capacity.max_size
    error_message = "base_capacity needs 0 <= min_size <= max_size and max_size >= 1."
  }
}

variable "burst_capacity" {
  description = "Group with a mixed instances policy across all instance_types: an on-demand base plus a spot share above it, for load beyond the base group."
  type = object({
    min_size                 = optional(number, 0)
    max_size                 = number
    on_demand_base_capacity  = optional(number, 0)
    spot_percentage          = optional(number, 100)
    spot_allocation_strategy = optional(string, "price-capacity-optimized")
  })

  validation {
    condition     = var.burst_capacity.min_size >= 0 && var.burst_capacity.min_size <= var.burst_capacity.max_size
    error_message = "burst_capacity needs 0 <= min_size <= max_size."
  }

  validation {
    condition     = var.burst_capacity.on_demand_base_capacity >= 0 && var.burst_capacity.on_demand_base_capacity <= var.burst_capacity.max_size
    error_message = "burst_capacity.on_demand_base_capacity must be within [0, max_size]."
  }

  validation {
    condition     = var.burst_capacity.spot_percentage >= 0 && var.burst_capacity.spot_percentage <= 100
    error_message = "burst_capacity.spot_percentage must be within [0, 100]."
  }

  validation {
    condition     = contains(["price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"], var.burst_capacity.spot_allocation_strategy)
    error_message = "burst_capacity.spot_allocation_strategy must be price-capacity-optimized, capacity-optimized, capacity-optimized-prioritized or lowest-price."
  }
}

variable "warm_pool" {
  description = "Pre-initialised instances (Node, the release and the warm model set already on disk) kept stopped or hibernated next to the base group. `max_group_prepared_capacity` null means base_capacity.max_size. Hibernated needs an instance type and AMI that support hibernation."
  type = object({
    pool_state                  = optional(string, "Stopped")
    min_size                    = optional(number, 1)
    max_group_prepared_capacity = optional(number)
    reuse_on_scale_in           = optional(bool, true)
  })
  default = {}

  validation {
    condition     = contains(["Stopped", "Hibernated"], var.warm_pool.pool_state)
    error_message = "warm_pool.pool_state must be Stopped or Hibernated (Running costs as much as serving)."
  }

  validation {
    condition     = var.warm_pool.min_size >= 0 && (var.warm_pool.max_group_prepared_capacity == null || try(var.warm_pool.max_group_prepared_capacity >= var.base_capacity.max_size, false))
    error_message = "warm_pool.min_size must be >= 0 and max_group_prepared_capacity, when set, at least base_capacity.max_size."
  }
}

variable "instance_warmup_seconds" {
  description = "Seconds after InService before a new instance's metrics count for scaling and instance refresh."
  type        = number
  default     = 120

  validation {
    condition     = var.instance_warmup_seconds >= 0 && var.instance_warmup_seconds <= 3600
    error_message = "instance_warmup_seconds must be within [0, 3600]."
  }
}

################################################################################
# Scaling on queue depth
################################################################################

variable "metrics_namespace" {
  description = "CloudWatch namespace the nodes publish BacklogPerInstance and OldestJobAgeSeconds in (dimension AutoScalingGroupName). The instance role may write to this namespace only."
  type        = string
  default     = "GenArt/Region"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be a custom CloudWatch namespace (not AWS/...)."
  }
}

variable "scaling" {
  description = "Queue-depth scaling. Target tracking holds BacklogPerInstance (jobs queued or running per node taking jobs) at the target; the burst group tracks target x burst_target_ratio (above 1: the warm base group absorbs load first). The step policy adds instances when the oldest queued job is older than each threshold. Defaults from the fleet simulator (npm run simulate, docs/benchmarks.md)."
  type = object({
    backlog_per_instance_target = optional(number, 1.25)
    burst_target_ratio          = optional(number, 1)
    oldest_job_age_steps = optional(list(object({
      age_seconds   = number
      add_instances = number
    })), [{ age_seconds = 30, add_instances = 1 }, { age_seconds = 120, add_instances = 3 }])
  })
  default = {}

  validation {
    condition     = var.scaling.backlog_per_instance_target > 0 && var.scaling.burst_target_ratio >= 1
    error_message = "scaling.backlog_per_instance_target must be > 0 and burst_target_ratio >= 1."
  }

  validation {
    condition = length(var.scaling.oldest_job_age_steps) > 0 && alltrue([
      for i, s in var.scaling.oldest_job_age_steps : s.age_seconds > 0 && s.add_instances >= 1 && (i == 0 || s.age_seconds > var.scaling.oldest_job_age_steps[max(i - 1, 0)].age_seconds)
    ])
    error_message = "scaling.oldest_job_age_steps needs at least one step, ages strictly increasing and add_instances >= 1."
  }
}

################################################################################
# Node software
################################################################################

variable "release_url" {
  description = "Tarball of the `regional-gpu` release (the repository's package.json, lockfile and sources): `s3://bucket/key` (read through the instance role) or `https://`."
  type        = string

  validation {
    condition     = can(regex("^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|https://.+)\\.(tar\\.gz|tgz)$", var.release_url))
    error_message = "release_url must be an s3:// or https:// URL of a .tar.gz or .tgz file."
  }
}

variable "release_sha256" {
  description = "Expected sha256 of the release tarball. Null skips the check (the object's own integrity is then S3's)."
  type        = string
  default     = null

  validation {
    condition     = var.release_sha256 == null || can(regex("^[0-9a-f]{64}$", var.release_sha256))
    error_message = "release_sha256 must be 64 lowercase hex characters."
  }
}

variable "nodejs" {
  description = "Official Node.js 22 linux-x64 tarball. With sha256 null the tarball is checked against the SHASUMS256.txt published beside it."
  type = object({
    url    = optional(string, "https://nodejs.org/dist/v22.23.3/node-v22.23.3-linux-x64.tar.xz")
    sha256 = optional(string)
  })
  default = {}

  validation {
    condition     = can(regex("^https://.+/node-v22\\.[0-9]+\\.[0-9]+-linux-x64\\.tar\\.(xz|gz)$", var.nodejs.url)) && (var.nodejs.sha256 == null || can(regex("^[0-9a-f]{64}$", var.nodejs.sha256)))
    error_message = "nodejs.url must be an https URL of a node-v22.x.y-linux-x64 tarball and sha256, when set, 64 hex characters."
  }
}

variable "app" {
  description = "How the release runs: the node's entry point and arguments (relative to the release root), its port (behind the load balancer) and its operational port (/metrics and /status: never behind the load balancer)."
  type = object({
    start_command = optional(list(string), ["regional-gpu/main.ts"])
    port          = optional(number, 8080)
    ops_port      = optional(number, 9464)
  })
  default = {}

  validation {
    condition     = length(var.app.start_command) > 0 && alltrue([for a in var.app.start_command : can(regex("^[A-Za-z0-9@%+=:,./_-]+$", a))]) && var.app.port >= 1024 && var.app.port <= 65535 && var.app.ops_port >= 1024 && var.app.ops_port <= 65535 && var.app.ops_port != var.app.port
    error_message = "app.start_command needs at least one word, each without spaces or shell characters, and app.port and app.ops_port must be different unprivileged ports (1024-65535)."
  }
}

variable "edge_url" {
  description = "Base URL of the edge the nodes send signed heartbeats and results to (`EDGE_URL`)."
  type        = string

  validation {
    condition     = can(regex("^https://[^/]+", var.edge_url))
    error_message = "edge_url must be an https URL."
  }
}

variable "warm_models" {
  description = "Model versions (`name@version`) every node keeps on disk and loads before /readyz turns true (`WARM_MODELS`)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.warm_models : can(regex("^[a-z0-9][a-z0-9-]{0,63}@[A-Za-z0-9._-]{1,64}$", m))])
    error_message = "warm_models entries must look like name@version."
  }
}

variable "model_store_prefix" {
  description = "Key prefix of model files in the model bucket (`MODEL_STORE_URL` = s3://<model bucket>/<prefix>)."
  type        = string
  default     = "models/"

  validation {
    condition     = can(regex("^([A-Za-z0-9._-]+/)+$", var.model_store_prefix))
    error_message = "model_store_prefix must be a relative key prefix ending in '/', e.g. models/."
  }
}

variable "secret_parameters" {
  description = "Environment variables filled at each service start from SSM Parameter Store SecureStrings: variable name => parameter name. Must include REGION_SIGNING_KEY (this region's own `<key id>:<secret>`, also in the edge's REGION_SIGNING_KEYS; during a rotation REGION_SIGNING_KEY_PREVIOUS too)."
  type        = map(string)

  validation {
    condition     = contains(keys(var.secret_parameters), "REGION_SIGNING_KEY") && !contains(keys(var.secret_parameters), "REGION_SIGNING_SECRET")
    error_message = "secret_parameters must map REGION_SIGNING_KEY (this region's own key) to its SSM parameter; the shared REGION_SIGNING_SECRET is no longer read."
  }

  validation {
    condition = alltrue([
      for k, v in var.secret_parameters : can(regex("^[A-Z_][A-Z0-9_]*$", k)) && can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", v))
    ])
    error_message = "secret_parameters keys must be environment variable names (A-Z, 0-9, _) and values absolute parameter names (/path/name)."
  }
}

variable "secrets_kms_key_arn" {
  description = "Customer managed KMS key the SecureStrings are encrypted with. Null when they use the AWS managed aws/ssm key, whose key policy already allows decryption through SSM."
  type        = string
  default     = null
}

variable "extra_environment" {
  description = "Additional non-secret environment variables for the node service. They cannot override the ones this module sets."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.extra_environment : can(regex("^[A-Z_][A-Z0-9_]*$", k)) && !strcontains(v, "\n")])
    error_message = "extra_environment keys must be environment variable names and values single-line."
  }
}

variable "drain_timeout_seconds" {
  description = "Time a node gets on scale-in, spot reclaim or instance refresh to finish in-flight batches and hand unstarted jobs back (termination lifecycle hook and systemd stop timeout)."
  type        = number
  default     = 300

  # The node's own drain deadline (DRAIN_TIMEOUT_MS) is capped at 10 minutes.
  validation {
    condition     = var.drain_timeout_seconds >= 30 && var.drain_timeout_seconds <= 600
    error_message = "drain_timeout_seconds must be within [30, 600]."
  }
}

variable "launch_timeout_seconds" {
  description = "Time a new instance gets to install, pull the warm model set and report /readyz before its launch is abandoned."
  type        = number
  default     = 1800

  validation {
    condition     = var.launch_timeout_seconds >= 300 && var.launch_timeout_seconds <= 7200
    error_message = "launch_timeout_seconds must be within [300, 7200]."
  }
}

################################################################################
# Storage
################################################################################

variable "asset_bucket_name" {
  description = "Name of the bucket for generated images. Null derives `<name>-assets-<account id>`."
  type        = string
  default     = null
}

variable "model_bucket_name" {
  description = "Name of the versioned bucket for model files (and, usually, releases). Null derives `<name>-models-<account id>`."
  type        = string
  default     = null
}

variable "asset_lifecycle" {
  description = "Storage classes of generated images by age: Standard, then Standard-IA, then Glacier Instant Retrieval; optional expiry. Blocked outputs under quarantine/ are kept for review for quarantine_expiration_days."
  type = object({
    standard_ia_days           = optional(number, 30)
    glacier_ir_days            = optional(number, 90)
    expiration_days            = optional(number)
    quarantine_expiration_days = optional(number, 30)
    abort_multipart_days       = optional(number, 7)
  })
  default = {}

  validation {
    # S3 refuses Standard-IA before 30 days, and a rule that moves on from Standard-IA sooner than 30 days later.
    condition     = var.asset_lifecycle.standard_ia_days >= 30 && var.asset_lifecycle.glacier_ir_days >= var.asset_lifecycle.standard_ia_days + 30
    error_message = "asset_lifecycle needs standard_ia_days >= 30 and glacier_ir_days >= standard_ia_days + 30."
  }

  validation {
    condition     = (var.asset_lifecycle.expiration_days == null || try(var.asset_lifecycle.expiration_days > var.asset_lifecycle.glacier_ir_days, false)) && var.asset_lifecycle.quarantine_expiration_days >= 1 && var.asset_lifecycle.abort_multipart_days >= 1
    error_message = "asset_lifecycle.expiration_days, when set, must come after glacier_ir_days; quarantine_expiration_days and abort_multipart_days must be >= 1."
  }
}

variable "model_lifecycle" {
  description = "What happens to overwritten or deleted model files (noncurrent versions): moved to a Glacier class, then expired."
  type = object({
    noncurrent_storage_class   = optional(string, "GLACIER")
    noncurrent_transition_days = optional(number, 30)
    noncurrent_expiration_days = optional(number, 365)
    newer_noncurrent_versions  = optional(number, 3)
    abort_multipart_days       = optional(number, 7)
  })
  default = {}

  validation {
    condition     = contains(["GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"], var.model_lifecycle.noncurrent_storage_class)
    error_message = "model_lifecycle.noncurrent_storage_class must be GLACIER, GLACIER_IR or DEEP_ARCHIVE."
  }

  validation {
    condition     = var.model_lifecycle.noncurrent_transition_days >= 1 && var.model_lifecycle.noncurrent_expiration_days > var.model_lifecycle.noncurrent_transition_days && var.model_lifecycle.newer_noncurrent_versions >= 0 && var.model_lifecycle.abort_multipart_days >= 1
    error_message = "model_lifecycle needs noncurrent_transition_days >= 1, noncurrent_expiration_days after it, newer_noncurrent_versions >= 0 and abort_multipart_days >= 1."
  }
}

variable "s3_kms_key_arn" {
  description = "Customer managed KMS key for both buckets (SSE-KMS with bucket keys). Null uses SSE-S3."
  type        = string
  default     = null
}

variable "force_destroy_buckets" {
  description = "Allow `terraform destroy` to delete non-empty buckets. For throwaway environments only."
  type        = bool
  default     = false
}

################################################################################
# Redis (regional queue)
################################################################################

variable "redis" {
  description = "ElastiCache replication group for the region's shared job queue (BullMQ). Two or more nodes give a Multi-AZ replica with automatic failover."
  type = object({
    engine                   = optional(string, "valkey")
    engine_version           = optional(string, "8.0")
    parameter_group_family   = optional(string, "valkey8")
    node_type                = optional(string, "cache.r7g.large")
    num_cache_clusters       = optional(number, 2)
    snapshot_retention_limit = optional(number, 1)
  })
  default = {}

  validation {
    condition     = contains(["redis", "valkey"], var.redis.engine) && var.redis.num_cache_clusters >= 1 && var.redis.num_cache_clusters <= 6
    error_message = "redis.engine must be redis or valkey and num_cache_clusters within [1, 6]."
  }

  validation {
    condition     = startswith(var.redis.node_type, "cache.") && var.redis.snapshot_retention_limit >= 0 && var.redis.snapshot_retention_limit <= 35
    error_message = "redis.node_type must be an ElastiCache node type (cache.*) and snapshot_retention_limit within [0, 35]."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarm_actions" {
  description = "SNS topic ARNs notified when an alarm fires or recovers."
  type        = list(string)
  default     = []
}

variable "alarm_thresholds" {
  description = "Thresholds of the operational alarms (the scaling alarms come from `scaling`)."
  type = object({
    oldest_job_age_seconds   = optional(number, 300)
    target_5xx_per_minute    = optional(number, 10)
    redis_memory_percent     = optional(number, 80)
    redis_engine_cpu_percent = optional(number, 80)
  })
  default = {}

  validation {
    condition     = var.alarm_thresholds.oldest_job_age_seconds > 0 && var.alarm_thresholds.target_5xx_per_minute > 0 && var.alarm_thresholds.redis_memory_percent > 0 && var.alarm_thresholds.redis_memory_percent <= 100 && var.alarm_thresholds.redis_engine_cpu_percent > 0 && var.alarm_thresholds.redis_engine_cpu_percent <= 100
    error_message = "alarm_thresholds must be positive and percentages at most 100."
  }
}

variable "metrics_cidr_blocks" {
  description = "CIDR blocks (inside the VPC: the Prometheus scrapers) allowed to the nodes' operational port (/metrics, /status). Empty: none; the load balancer never forwards that port."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.metrics_cidr_blocks : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "metrics_cidr_blocks must be IPv4 CIDR blocks, and not 0.0.0.0/0."
  }
}
