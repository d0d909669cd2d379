locals {
  # systemd EnvironmentFile syntax; values are quoted so URLs and lists pass through unchanged.
  environment_file = join("\n", [
    for k in sort(keys(local.environment)) : "${k}=\"${replace(replace(local.environment[k], "\\", "\\\\"), "\"", "\\\"")}\""
  ])
  secrets_list = join("\n", [for k in sort(keys(var.secret_parameters)) : "${k}=${var.secret_parameters[k]}"])

  user_data = {
    for key, group in local.groups : key => templatefile("${path.module}/templates/user-data.sh.tftpl", {
      region_name           = var.region_name
      group                 = key
      group_name            = group.name
      aws_region            = local.aws_region
      launch_hook_name      = local.launch_hook_name
      terminate_hook_name   = local.terminate_hook_name
      port                  = var.app.port
      ready_timeout_seconds = var.launch_timeout_seconds
      warm_models           = join(",", var.warm_models)
      model_store_url       = local.environment.MODEL_STORE_URL
      environment_file      = local.environment_file
      secrets_list          = local.secrets_list
      model_cache_dir       = local.model_cache_dir
      nodejs_url            = var.nodejs.url
      nodejs_sha256         = var.nodejs.sha256 == null ? "" : var.nodejs.sha256
      release_url           = var.release_url
      release_sha256        = var.release_sha256 == null ? "" : var.release_sha256
      lifecycle_script      = trimspace(file("${path.module}/templates/genart-lifecycle.sh"))
      fetch_secrets_script  = trimspace(file("${path.module}/templates/genart-fetch-secrets.sh"))
      lifecycle_unit        = trimspace(file("${path.module}/templates/genart-lifecycle.service"))
      region_unit = trimspace(templatefile("${path.module}/templates/genart-region.service.tftpl", {
        region_name           = var.region_name
        model_cache_dir       = local.model_cache_dir
        start_command         = join(" ", var.app.start_command)
        drain_timeout_seconds = var.drain_timeout_seconds
      }))
    })
  }
}

resource "aws_launch_template" "this" {
  for_each = local.groups

  name_prefix            = "${each.value.name}-"
  description            = "GPU node of ${var.region_name} (${each.key} group)"
  image_id               = local.ami_id
  instance_type          = each.key == "base" ? var.instance_types[0] : null
  update_default_version = true
  ebs_optimized          = true
  user_data              = base64gzip(local.user_data[each.key])
  vpc_security_group_ids = [aws_security_group.node.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.node.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  # Hibernation needs the flag at launch and an encrypted root volume large enough for RAM.
  dynamic "hibernation_options" {
    for_each = each.key == "base" && var.warm_pool.pool_state == "Hibernated" ? [true] : []
    content {
      configured = true
    }
  }

  block_device_mappings {
    device_name = data.aws_ami.this.root_device_name

    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  block_device_mappings {
    device_name = "/dev/sdf"

    ebs {
      volume_size           = var.model_cache_volume.size_gb
      volume_type           = var.model_cache_volume.type
      iops                  = var.model_cache_volume.iops
      throughput            = var.model_cache_volume.type == "gp3" ? var.model_cache_volume.throughput : null
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  dynamic "tag_specifications" {
    for_each = toset(["instance", "volume", "network-interface"])
    content {
      resource_type = tag_specifications.value
      tags          = merge(local.tags, { Name = each.value.name })
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = length(base64gzip(local.user_data[each.key])) <= 16384
      error_message = "The rendered user data exceeds EC2's 16 KiB limit even gzipped."
    }
  }
}
