terraform {
  # 1.9: validations that refer to other variables; 1.7: mock providers in `terraform test`.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # warm_pool.instance_reuse_policy, instance_maintenance_policy and the valkey engine need >= 5.70.
      version = ">= 5.70, < 6.0"
    }
  }
}
