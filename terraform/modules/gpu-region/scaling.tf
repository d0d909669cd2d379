# Scale on the queue, not on CPU: a GPU node's CPU says little about how long jobs wait.

# Holds queued jobs per in-service node near the target, in both directions.
resource "aws_autoscaling_policy" "backlog" {
  for_each = local.groups

  name                      = "${each.value.name}-backlog-per-instance"
  autoscaling_group_name    = aws_autoscaling_group.this[each.key].name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.instance_warmup_seconds

  target_tracking_configuration {
    target_value = each.value.target

    customized_metric_specification {
      namespace   = var.metrics_namespace
      metric_name = "BacklogPerInstance"
      statistic   = "Average"

      metric_dimension {
        name  = "AutoScalingGroupName"
        value = each.value.name
      }
    }
  }
}

# Adds capacity fast when the oldest queued job has waited too long, whatever the average says
# (one huge batch, or a model cold everywhere).
resource "aws_autoscaling_policy" "oldest_job_age" {
  for_each = local.groups

  name                      = "${each.value.name}-oldest-job-age"
  autoscaling_group_name    = aws_autoscaling_group.this[each.key].name
  policy_type               = "StepScaling"
  adjustment_type           = "ChangeInCapacity"
  metric_aggregation_type   = "Maximum"
  estimated_instance_warmup = var.instance_warmup_seconds

  dynamic "step_adjustment" {
    for_each = local.age_steps
    content {
      metric_interval_lower_bound = step_adjustment.value.lower
      metric_interval_upper_bound = step_adjustment.value.upper
      scaling_adjustment          = step_adjustment.value.add
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "oldest_job_age" {
  for_each = local.groups

  alarm_name          = "${each.value.name}-oldest-job-age-scale-out"
  alarm_description   = "Scale-out trigger: the oldest queued job in ${var.region_name} waited over ${local.age_threshold} s."
  namespace           = var.metrics_namespace
  metric_name         = "OldestJobAgeSeconds"
  dimensions          = { AutoScalingGroupName = each.value.name }
  statistic           = "Maximum"
  period              = local.metric_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = local.age_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.oldest_job_age[each.key].arn]
  tags                = local.tags
}

locals {
  # One period for every alarm on the nodes' metrics; the nodes send one datum set per period.
  metric_period_seconds = 60

  age_steps_input = var.scaling.oldest_job_age_steps
  age_threshold   = local.age_steps_input[0].age_seconds

  # Step bounds are offsets from the alarm threshold; the last step is open-ended.
  age_steps = [
    for i, s in local.age_steps_input : {
      lower = s.age_seconds - local.age_threshold
      upper = try(local.age_steps_input[i + 1].age_seconds - local.age_threshold, null)
      add   = s.add_instances
    }
  ]
}
