#!/bin/bash
# genart-lifecycle: follows this instance's Auto Scaling target lifecycle state (instance metadata)
# and acts on each change. It runs from every boot, and keeps running, so instances resumed from a
# stopped or hibernated warm pool and instances being scaled in go through it too.
#   InService           start genart-region, wait for /readyz, then complete the launch hook
#   Warmed:*            drain if serving, fill the model disk cache, then complete the launch hook
#   (Warmed:)Terminated drain (SIGTERM, bounded by the unit's TimeoutStopSec), then complete the
#                       termination hook
set -uo pipefail
# shellcheck source=/dev/null
source "${GENART_LIFECYCLE_ENV:-/etc/genart/lifecycle.env}"

IMDS=http://169.254.169.254/latest
POLL_SECONDS=${POLL_SECONDS:-5}

log() { echo "genart-lifecycle: $*"; }

imds() {
  local token
  token=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$IMDS/api/token") || return 1
  curl -sf -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/$1"
}

complete_hook() {
  if aws autoscaling complete-lifecycle-action --region "$AWS_REGION" \
    --auto-scaling-group-name "$GROUP_NAME" --lifecycle-hook-name "$1" \
    --instance-id "$INSTANCE_ID" --lifecycle-action-result "$2" >/dev/null; then
    log "completed $1 with $2"
  else
    # A plain reboot has no pending action, and a timed-out hook has already been decided.
    log "no pending $1 action to complete"
  fi
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
  while ((SECONDS < deadline)); do
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$APP_PORT/readyz" && return 0
    systemctl is-failed --quiet genart-region.service && return 1
    sleep 2
  done
  return 1
}

drain() {
  if systemctl is-active --quiet genart-region.service; then
    log "draining genart-region"
    systemctl stop genart-region.service
  fi
}

# Fills the disk cache with the warm set straight from the model store, without starting the node
# (which would join the queue and send heartbeats). The node's disk tier uses the store's layout,
# <cache>/<name>/<version>/, and checks every file against the manifest's sha256 when it loads it;
# the manifest is copied last, so a version folder that has one is complete.
prefetch() {
  local ref name version src dst
  local -a refs
  IFS=',' read -ra refs <<<"$WARM_MODELS"
  for ref in "${refs[@]}"; do
    name=${ref%@*}
    version=${ref#*@}
    src="${MODEL_STORE_URL}${name}/${version}/"
    dst="${MODEL_CACHE_DIR}/${name}/${version}"
    aws s3 sync --only-show-errors --region "$AWS_REGION" --exclude manifest.json "$src" "$dst" &&
      aws s3 cp --only-show-errors --region "$AWS_REGION" "${src}manifest.json" "$dst/manifest.json" ||
      return 1
  done
  chown -R genart:genart "$MODEL_CACHE_DIR"
}

handle() {
  case "$1" in
    InService)
      systemctl start genart-region.service
      if wait_ready; then
        complete_hook "$LAUNCH_HOOK_NAME" CONTINUE
      else
        log "/readyz not true within ${READY_TIMEOUT_SECONDS}s"
        complete_hook "$LAUNCH_HOOK_NAME" ABANDON
      fi
      ;;
    Terminated | Warmed:Terminated)
      drain
      complete_hook "$TERMINATE_HOOK_NAME" CONTINUE
      ;;
    Warmed:*)
      drain
      if prefetch; then
        complete_hook "$LAUNCH_HOOK_NAME" CONTINUE
      else
        log "prefetch of the warm model set failed"
        complete_hook "$LAUNCH_HOOK_NAME" ABANDON
      fi
      ;;
    *)
      log "target state $1: nothing to do"
      ;;
  esac
}

until INSTANCE_ID=$(imds instance-id); do sleep 2; done
last=""
while true; do
  if target=$(imds autoscaling/target-lifecycle-state) && [ "$target" != "$last" ]; then
    log "target lifecycle state ${last:-(boot)} -> $target"
    handle "$target"
    last=$target
  fi
  sleep "$POLL_SECONDS"
done
