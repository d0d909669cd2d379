#!/usr/bin/env bash
# Runs the real templates/genart-lifecycle.sh through an instance's life: launched into the warm pool,
# moved into service, terminated. Instance metadata, the AWS CLI and systemd are stand-ins on PATH
# that record what the agent asks of them; the test checks the order of those requests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
agent="$here/../templates/genart-lifecycle.sh"

t=$(mktemp -d)
agent_pid=""
cleanup() {
  if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$t"
}
trap cleanup EXIT
mkdir -p "$t/bin" "$t/cache"
calls="$t/calls"
touch "$calls"

cat >"$t/bin/curl" <<EOF
#!/usr/bin/env bash
url=\${*: -1}
case "\$url" in
  */api/token) echo token ;;
  */meta-data/instance-id) echo i-0123456789abcdef0 ;;
  */meta-data/autoscaling/target-lifecycle-state) cat "$t/target" ;;
  */readyz) [ -e "$t/active" ] ;;
  *) exit 22 ;;
esac
EOF
cat >"$t/bin/aws" <<EOF
#!/usr/bin/env bash
echo "aws \$*" >>"$calls"
if [ "\$1 \$2" = "s3 cp" ]; then mkdir -p "\$(dirname "\${*: -1}")" && touch "\${*: -1}"; fi
if [ "\$1 \$2" = "s3 sync" ]; then mkdir -p "\${*: -1}" && touch "\${*: -1}/model.onnx"; fi
EOF
cat >"$t/bin/systemctl" <<EOF
#!/usr/bin/env bash
case "\$1" in
  start) echo "systemctl start \$2" >>"$calls"; touch "$t/active" ;;
  stop) echo "systemctl stop \$2" >>"$calls"; rm -f "$t/active" ;;
  is-active) [ -e "$t/active" ] ;;
  is-failed) exit 1 ;;
esac
EOF
printf '#!/usr/bin/env bash\nexit 0\n' >"$t/bin/chown"
chmod +x "$t/bin/"*

cat >"$t/lifecycle.env" <<EOF
AWS_REGION=us-east-1
GROUP_NAME=genart-test-base
LAUNCH_HOOK_NAME=genart-test-launch
TERMINATE_HOOK_NAME=genart-test-drain
APP_PORT=8080
READY_TIMEOUT_SECONDS=5
WARM_MODELS=cppn-glove@2026-11-27.1,cppn-glove@2026-12-10.1
MODEL_STORE_URL=s3://genart-test-models/models/
MODEL_CACHE_DIR=$t/cache
EOF

fail() {
  echo "genart-lifecycle test: $*" >&2
  echo "--- requests so far:" >&2
  cat "$calls" >&2
  exit 1
}

# Waits until the request log has `want` lines, then checks the last ones.
expect() {
  local want=$1
  shift
  for _ in $(seq 100); do
    [ "$(wc -l <"$calls")" -ge "$want" ] && break
    sleep 0.05
  done
  [ "$(wc -l <"$calls")" -eq "$want" ] || fail "expected $want requests"
  local i=$((want - $# + 1))
  for line in "$@"; do
    # shellcheck disable=SC2053 # the expectation is a glob pattern
    [[ "$(sed -n "${i}p" "$calls")" == $line ]] || fail "request $i should match: $line"
    i=$((i + 1))
  done
}

hook() { echo "aws autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name genart-test-base --lifecycle-hook-name $1 --instance-id i-0123456789abcdef0 --lifecycle-action-result $2"; }

echo "Warmed:Stopped" >"$t/target"
PATH="$t/bin:$PATH" GENART_LIFECYCLE_ENV="$t/lifecycle.env" POLL_SECONDS=0.05 bash "$agent" >"$t/agent.log" 2>&1 &
agent_pid=$!

# Into the warm pool: models copied (manifest last), launch hook completed, service never started.
expect 5 \
  "aws s3 sync * --exclude manifest.json s3://genart-test-models/models/cppn-glove/2026-11-27.1/ $t/cache/cppn-glove/2026-11-27.1" \
  "aws s3 cp * s3://genart-test-models/models/cppn-glove/2026-11-27.1/manifest.json $t/cache/cppn-glove/2026-11-27.1/manifest.json" \
  "aws s3 sync * s3://genart-test-models/models/cppn-glove/2026-12-10.1/ $t/cache/cppn-glove/2026-12-10.1" \
  "aws s3 cp * s3://genart-test-models/models/cppn-glove/2026-12-10.1/manifest.json *" \
  "$(hook genart-test-launch CONTINUE)"
[ -e "$t/cache/cppn-glove/2026-12-10.1/manifest.json" ] || fail "warm set not on disk"

# Out of the warm pool into service: start, wait for /readyz, then complete the launch hook.
echo "InService" >"$t/target"
expect 7 "systemctl start genart-region.service" "$(hook genart-test-launch CONTINUE)"

# Terminated: drain first, then let the termination proceed.
echo "Terminated" >"$t/target"
expect 9 "systemctl stop genart-region.service" "$(hook genart-test-drain CONTINUE)"

echo "genart-lifecycle: warm pool -> in service -> terminated: ok"
