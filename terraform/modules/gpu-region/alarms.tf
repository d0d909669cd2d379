# Operational alarms: what a person should look at. The scale-out alarms live in scaling.tf.

locals {
  lb_dimensions = {
    LoadBalancer = aws_lb.this.arn_suffix
    TargetGroup  = aws_lb_target_group.this.arn_suffix
  }

  # ElastiCache names the members of a replication group <id>-001, <id>-002, ...
  redis_members = [
    for i in range(var.redis.num_cache_clusters) : format("%s-%03d", local.queue_id, i + 1)
  ]

  alarms = merge(
    {
      target-5xx = {
        description = "Nodes of ${var.region_name} answer 5xx."
        namespace   = "AWS/ApplicationELB"
        metric      = "HTTPCode_Target_5XX_Count"
        dimensions  = local.lb_dimensions
        statistic   = "Sum"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = var.alarm_thresholds.target_5xx_per_minute
        periods     = 3
        missing     = "notBreaching"
      }
      unhealthy-nodes = {
        description = "Some nodes of ${var.region_name} fail /readyz."
        namespace   = "AWS/ApplicationELB"
        metric      = "UnHealthyHostCount"
        dimensions  = local.lb_dimensions
        statistic   = "Maximum"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = 1
        periods     = 5
        missing     = "notBreaching"
      }
      oldest-job-age = {
        description = "Jobs in ${var.region_name} wait longer than the service objective."
        namespace   = var.metrics_namespace
        metric      = "OldestJobAgeSeconds"
        dimensions  = { AutoScalingGroupName = local.groups.base.name }
        statistic   = "Maximum"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = var.alarm_thresholds.oldest_job_age_seconds
        periods     = 3
        missing     = "notBreaching"
      }
    },
    {
      for m in local.redis_members : "queue-memory-${m}" => {
        description = "Queue memory of ${var.region_name} is filling up; with noeviction, a full Redis refuses new jobs."
        namespace   = "AWS/ElastiCache"
        metric      = "DatabaseMemoryUsagePercentage"
        dimensions  = { CacheClusterId = m }
        statistic   = "Maximum"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = var.alarm_thresholds.redis_memory_percent
        periods     = 3
        missing     = "breaching"
      }
    },
    {
      for m in local.redis_members : "queue-cpu-${m}" => {
        description = "The queue's Redis engine thread of ${var.region_name} is saturated."
        namespace   = "AWS/ElastiCache"
        metric      = "EngineCPUUtilization"
        dimensions  = { CacheClusterId = m }
        statistic   = "Average"
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = var.alarm_thresholds.redis_engine_cpu_percent
        periods     = 5
        missing     = "notBreaching"
      }
    },
    # A region that should always serve has no healthy node: the edge has stopped routing there.
    # Nor does any node publish the backlog: queue-depth scaling is blind (no lease holder, no
    # PutMetricData permission, a wrong namespace).
    {
      for k, v in {
        no-healthy-nodes = {
          description = "No node of ${var.region_name} passes /readyz."
          namespace   = "AWS/ApplicationELB"
          metric      = "HealthyHostCount"
          dimensions  = local.lb_dimensions
          statistic   = "Minimum"
          comparison  = "LessThanThreshold"
          threshold   = 1
          periods     = 3
          missing     = "breaching"
        }
        scaling-signals-missing = {
          description = "No node of ${var.region_name} publishes BacklogPerInstance: the groups cannot scale on the queue."
          namespace   = var.metrics_namespace
          metric      = "BacklogPerInstance"
          dimensions  = { AutoScalingGroupName = local.groups.base.name }
          statistic   = "SampleCount"
          comparison  = "LessThanThreshold"
          threshold   = 1
          periods     = 5
          missing     = "breaching"
        }
      } : k => v if var.base_capacity.min_size > 0
    },
    # Every node publishes how many model versions it holds hot; the least of them below the warm
    # set means a node serves cold loads on the request path.
    {
      for k, v in {
        warm-models = {
          description = "A node of ${var.region_name} serves without all of warm_models loaded."
          namespace   = var.metrics_namespace
          metric      = "WarmModels"
          dimensions  = { AutoScalingGroupName = local.groups.base.name }
          statistic   = "Minimum"
          comparison  = "LessThanThreshold"
          threshold   = length(var.warm_models)
          periods     = 5
          missing     = "notBreaching"
        }
      } : k => v if length(var.warm_models) > 0
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = local.metric_period_seconds
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = each.value.missing
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}
