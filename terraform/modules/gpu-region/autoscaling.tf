resource "aws_autoscaling_group" "this" {
  for_each = local.groups

  name                      = each.value.name
  min_size                  = each.value.min_size
  max_size                  = each.value.max_size
  vpc_zone_identifier       = var.private_subnet_ids
  target_group_arns         = [aws_lb_target_group.this.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 60
  default_instance_warmup   = var.instance_warmup_seconds
  capacity_rebalance        = each.key == "burst"
  termination_policies      = ["OldestLaunchTemplate", "AllocationStrategy", "Default"]
  enabled_metrics           = local.group_metrics
  # Readiness is gated by the launch lifecycle hook (install and model pull take minutes), so
  # Terraform does not wait for capacity itself.
  wait_for_capacity_timeout = "0"

  dynamic "launch_template" {
    for_each = each.key == "base" ? [aws_launch_template.this[each.key]] : []
    content {
      id      = launch_template.value.id
      version = launch_template.value.latest_version
    }
  }

  dynamic "mixed_instances_policy" {
    for_each = each.key == "burst" ? [aws_launch_template.this[each.key]] : []
    content {
      instances_distribution {
        on_demand_base_capacity                  = var.burst_capacity.on_demand_base_capacity
        on_demand_percentage_above_base_capacity = 100 - var.burst_capacity.spot_percentage
        on_demand_allocation_strategy            = "prioritized"
        spot_allocation_strategy                 = var.burst_capacity.spot_allocation_strategy
      }

      launch_template {
        launch_template_specification {
          launch_template_id = mixed_instances_policy.value.id
          version            = mixed_instances_policy.value.latest_version
        }

        dynamic "override" {
          for_each = var.instance_types
          content {
            instance_type = override.value
          }
        }
      }
    }
  }

  # AWS allows a warm pool only on a group without a mixed instances policy or spot: the base group.
  dynamic "warm_pool" {
    for_each = each.key == "base" ? [var.warm_pool] : []
    content {
      pool_state                  = warm_pool.value.pool_state
      min_size                    = warm_pool.value.min_size
      max_group_prepared_capacity = coalesce(warm_pool.value.max_group_prepared_capacity, var.base_capacity.max_size)

      instance_reuse_policy {
        reuse_on_scale_in = warm_pool.value.reuse_on_scale_in
      }
    }
  }

  # Declared inline so the hooks exist before the first instance launches.
  initial_lifecycle_hook {
    name                 = local.launch_hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_LAUNCHING"
    heartbeat_timeout    = var.launch_timeout_seconds
    default_result       = "ABANDON"
  }

  initial_lifecycle_hook {
    name                 = local.terminate_hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    heartbeat_timeout    = var.drain_timeout_seconds + 60
    default_result       = "CONTINUE"
  }

  # Launch before terminate: GPU capacity is scarce, so never dip below the desired count.
  instance_maintenance_policy {
    min_healthy_percentage = 100
    max_healthy_percentage = 200
  }

  instance_refresh {
    strategy = "Rolling"
    # Same rule for rollouts (set explicitly: the provider would otherwise send 90/100).
    preferences {
      min_healthy_percentage       = 100
      max_healthy_percentage       = 150
      instance_warmup              = var.instance_warmup_seconds
      skip_matching                = true
      auto_rollback                = true
      scale_in_protected_instances = "Refresh"
      standby_instances            = "Terminate"
    }
  }

  dynamic "tag" {
    for_each = merge(local.tags, { Name = each.value.name })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}

locals {
  group_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTotalCapacity",
  ]
}
