# What a node does on first boot, read from the rendered (gzipped) user data.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

run "bootstrap" {
  command = plan

  variables {
    extra_environment = { LOG_LEVEL = "debug", ORT_EP = "cpu" }
    secret_parameters = {
      REGION_SIGNING_KEY = "/genart/test/us-east/region-signing-key"
      DATABASE_URL       = "/genart/test/database-url"
    }
  }

  assert {
    condition     = strcontains(local.user_data["base"], "node-v22.23.3-linux-x64.tar.xz") && strcontains(local.user_data["base"], "SHASUMS256.txt") && strcontains(local.user_data["base"], "grep -q '^v22\\.'")
    error_message = "User data must install Node 22 from the official tarball and verify it."
  }

  assert {
    condition     = strcontains(local.user_data["base"], "aws s3 cp --only-show-errors --region \"us-east-1\" \"s3://genart-releases/regional-gpu/1.2.3.tar.gz\"")
    error_message = "User data must fetch the release from release_url."
  }

  assert {
    condition     = strcontains(local.user_data["base"], "npm ci --omit=dev --no-audit --no-fund --onnxruntime-node-install=cuda12")
    error_message = "User data must install the release with ONNX Runtime's CUDA 12 binaries."
  }

  assert {
    condition     = strcontains(local.user_data["base"], "WARM_MODELS=cppn-glove@2026-11-27.1\nMODEL_STORE_URL=s3://genart-test-us-east-models-123456789012/models/\nMODEL_CACHE_DIR=/var/lib/genart/models") && strcontains(local.user_data["base"], "aws s3 sync --only-show-errors --region \"$AWS_REGION\" --exclude manifest.json")
    error_message = "The lifecycle agent must know the warm model set, and pre-pull it from the model store into the disk cache."
  }

  assert {
    condition     = strcontains(local.user_data["base"], "/readyz") && strcontains(local.user_data["base"], "complete_hook \"$LAUNCH_HOOK_NAME\" CONTINUE") && strcontains(local.user_data["base"], "LAUNCH_HOOK_NAME=genart-test-us-east-launch")
    error_message = "The launch hook must be completed by the lifecycle agent once /readyz is true."
  }

  assert {
    condition     = strcontains(local.user_data["burst"], "GROUP_NAME=genart-test-us-east-burst") && strcontains(local.user_data["base"], "GROUP_NAME=genart-test-us-east-base")
    error_message = "Each launch template completes the hooks of its own group."
  }

  assert {
    condition     = strcontains(local.user_data["base"], "TimeoutStopSec=300") && strcontains(local.user_data["base"], "ExecStart=/opt/genart/node/bin/node regional-gpu/main.ts")
    error_message = "The service unit must run the release and bound the drain by drain_timeout_seconds."
  }

  assert {
    condition     = aws_launch_template.this["base"].user_data == base64gzip(local.user_data["base"])
    error_message = "The launch template carries the rendered user data, gzipped."
  }

  assert {
    condition = alltrue([
      for line in [
        "REGION_NAME=\"us-east\"",
        "PORT=\"8080\"",
        "EDGE_URL=\"https://api.genart.example\"",
        "MODEL_STORE_URL=\"s3://genart-test-us-east-models-123456789012/models/\"",
        "ASSET_BUCKET=\"genart-test-us-east-assets-123456789012\"",
        "REDIS_URL=\"rediss://master.genart-queue.abc123.use1.cache.amazonaws.com:6379\"",
        "ORT_EP=\"cuda\"",
        "HOST=\"0.0.0.0\"",
        "OPS_HOST=\"0.0.0.0\"",
        "OPS_PORT=\"9464\"",
        "MODEL_CACHE_DIR=\"/var/lib/genart/models\"",
        "MODEL_CACHE_MAX_BYTES=\"193273528320\"",
        "DRAIN_TIMEOUT_MS=\"290000\"",
        "OBJECT_STORE=\"s3://genart-test-us-east-assets-123456789012/\"",
        "METRICS_NAMESPACE=\"GenArt/Region\"",
        "SCALING_GROUP_NAMES=\"genart-test-us-east-base,genart-test-us-east-burst\"",
        "LOG_LEVEL=\"debug\"",
      ] : strcontains(local.environment_file, line)
    ])
    error_message = "The service environment must carry the documented variables, and extra_environment may not override them."
  }

  assert {
    condition     = local.secrets_list == "DATABASE_URL=/genart/test/database-url\nREGION_SIGNING_KEY=/genart/test/us-east/region-signing-key" && !strcontains(local.environment_file, "SECRET")
    error_message = "Secrets are named by SSM parameter and fetched at start, never written into the environment file."
  }
}
