# Capacity: an on-demand base group with a warm pool, a mixed on-demand/spot burst group, lifecycle
# hooks, instance refresh, and scaling on the queue rather than on CPU.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

run "capacity_and_scaling" {
  command = plan

  assert {
    condition     = aws_autoscaling_group.this["base"].min_size == 1 && aws_autoscaling_group.this["base"].max_size == 4 && aws_autoscaling_group.this["burst"].max_size == 8
    error_message = "Group sizes must come from base_capacity and burst_capacity."
  }

  assert {
    condition     = length(aws_autoscaling_group.this["base"].mixed_instances_policy) == 0 && aws_launch_template.this["base"].instance_type == "g6.xlarge"
    error_message = "The base group must launch the first instance type on demand, without a mixed instances policy (AWS refuses warm pools on those)."
  }

  assert {
    condition = alltrue([
      for g in values(aws_autoscaling_group.this) : g.health_check_type == "ELB" && toset(g.target_group_arns) == toset([aws_lb_target_group.this.arn])
    ])
    error_message = "Both groups must register with the target group and use its /readyz health check."
  }

  assert {
    condition     = length(aws_autoscaling_group.this["base"].warm_pool) == 1 && length(aws_autoscaling_group.this["burst"].warm_pool) == 0
    error_message = "Exactly the base group has a warm pool."
  }

  assert {
    condition     = aws_autoscaling_group.this["base"].warm_pool[0].pool_state == "Stopped" && aws_autoscaling_group.this["base"].warm_pool[0].min_size == 1
    error_message = "The warm pool defaults to one stopped instance."
  }

  assert {
    condition     = aws_autoscaling_group.this["base"].warm_pool[0].instance_reuse_policy[0].reuse_on_scale_in
    error_message = "Scaled-in instances must return to the warm pool with their models on disk."
  }

  assert {
    condition     = aws_autoscaling_group.this["base"].warm_pool[0].max_group_prepared_capacity == 4
    error_message = "Prepared capacity defaults to the base group's max_size."
  }

  assert {
    condition     = length(aws_launch_template.this["base"].hibernation_options) == 0
    error_message = "Hibernation is configured only for a Hibernated warm pool."
  }

  assert {
    condition     = aws_autoscaling_group.this["burst"].mixed_instances_policy[0].instances_distribution[0].on_demand_percentage_above_base_capacity == 20
    error_message = "spot_percentage 80 must leave 20% on demand above the base."
  }

  assert {
    condition     = aws_autoscaling_group.this["burst"].mixed_instances_policy[0].instances_distribution[0].spot_allocation_strategy == "price-capacity-optimized"
    error_message = "Spot capacity must default to price-capacity-optimized."
  }

  assert {
    condition     = [for o in aws_autoscaling_group.this["burst"].mixed_instances_policy[0].launch_template[0].override : o.instance_type] == ["g6.xlarge", "g5.xlarge", "g6.2xlarge"]
    error_message = "The burst group must offer every instance type, in order of preference."
  }

  assert {
    condition     = aws_autoscaling_group.this["burst"].capacity_rebalance && !aws_autoscaling_group.this["base"].capacity_rebalance
    error_message = "Capacity rebalancing belongs to the spot group only."
  }

  assert {
    condition = alltrue([
      for g in values(aws_autoscaling_group.this) : anytrue([
        for h in g.initial_lifecycle_hook : h.lifecycle_transition == "autoscaling:EC2_INSTANCE_LAUNCHING" && h.default_result == "ABANDON" && h.heartbeat_timeout == 1800
      ])
    ])
    error_message = "Each group needs a launch hook that abandons instances never reporting ready."
  }

  assert {
    condition = alltrue([
      for g in values(aws_autoscaling_group.this) : anytrue([
        for h in g.initial_lifecycle_hook : h.lifecycle_transition == "autoscaling:EC2_INSTANCE_TERMINATING" && h.default_result == "CONTINUE" && h.heartbeat_timeout >= 300
      ])
    ])
    error_message = "Each group needs a termination hook at least as long as the drain timeout."
  }

  assert {
    condition = alltrue([
      for g in values(aws_autoscaling_group.this) : g.instance_refresh[0].strategy == "Rolling" && g.instance_refresh[0].preferences[0].auto_rollback && g.instance_refresh[0].preferences[0].min_healthy_percentage == 100 && g.instance_maintenance_policy[0].min_healthy_percentage == 100
    ])
    error_message = "Launch template changes must roll out by instance refresh without losing capacity, rolling back on failure."
  }

  assert {
    condition = alltrue([
      for k, p in aws_autoscaling_policy.backlog : p.policy_type == "TargetTrackingScaling"
      && p.target_tracking_configuration[0].customized_metric_specification[0].metric_name == "BacklogPerInstance"
      && p.target_tracking_configuration[0].customized_metric_specification[0].namespace == "GenArt/Region"
      && p.target_tracking_configuration[0].customized_metric_specification[0].metric_dimension[0].value == aws_autoscaling_group.this[k].name
    ])
    error_message = "Target tracking must follow BacklogPerInstance in GenArt/Region for each group."
  }

  assert {
    condition     = length([for p in aws_autoscaling_policy.backlog : p if length(p.target_tracking_configuration[0].predefined_metric_specification) > 0]) == 0
    error_message = "No policy may scale on a predefined (CPU or network) metric."
  }

  assert {
    condition     = aws_autoscaling_policy.backlog["base"].target_tracking_configuration[0].target_value == 1.25 && aws_autoscaling_policy.backlog["burst"].target_tracking_configuration[0].target_value == 1.25
    error_message = "Both groups track 1.25 jobs queued or running per node by default (burst_target_ratio 1: the fleet simulator's choice)."
  }

  assert {
    condition     = output.scaling_policy.groups.burst.backlog_target == aws_autoscaling_policy.backlog["burst"].target_tracking_configuration[0].target_value && output.scaling_policy.warm_pool.max_group_prepared_capacity == 4 && output.scaling_policy.period_seconds == aws_cloudwatch_metric_alarm.oldest_job_age["base"].period
    error_message = "scaling_policy must report what the policies and the warm pool are configured with."
  }

  assert {
    condition = alltrue([
      for k, a in aws_cloudwatch_metric_alarm.oldest_job_age : a.metric_name == "OldestJobAgeSeconds" && a.threshold == 30 && contains(a.alarm_actions, aws_autoscaling_policy.oldest_job_age[k].arn)
    ])
    error_message = "The oldest-job-age alarm must trigger the step policy at the first step's age."
  }

  assert {
    condition = toset([
      for s in aws_autoscaling_policy.oldest_job_age["base"].step_adjustment : "${s.metric_interval_lower_bound}..${coalesce(s.metric_interval_upper_bound, "inf")}:+${s.scaling_adjustment}"
    ]) == toset(["0..90:+1", "90..inf:+3"])
    error_message = "Steps must be offsets from the threshold: +1 from 30 s, +3 from 120 s."
  }
}

run "burst_target_ratio" {
  command = plan

  variables {
    scaling = { backlog_per_instance_target = 2, burst_target_ratio = 1.5 }
  }

  assert {
    condition     = aws_autoscaling_policy.backlog["base"].target_tracking_configuration[0].target_value == 2 && aws_autoscaling_policy.backlog["burst"].target_tracking_configuration[0].target_value == 3
    error_message = "The burst group tracks target x burst_target_ratio."
  }
}

run "hibernated_warm_pool" {
  command = plan

  variables {
    warm_pool = { pool_state = "Hibernated", min_size = 2, max_group_prepared_capacity = 6 }
  }

  assert {
    condition     = aws_autoscaling_group.this["base"].warm_pool[0].pool_state == "Hibernated" && aws_autoscaling_group.this["base"].warm_pool[0].max_group_prepared_capacity == 6
    error_message = "warm_pool settings must reach the group."
  }

  assert {
    condition     = aws_launch_template.this["base"].hibernation_options[0].configured && length(aws_launch_template.this["burst"].hibernation_options) == 0
    error_message = "A Hibernated pool needs hibernation enabled on the base launch template only."
  }
}
