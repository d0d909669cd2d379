#!/usr/bin/env bash
# CI services: makes sure the binaries the tests start for themselves are installed (redis-server,
# chromium). Tests that need Redis run their own `redis-server` on a free loopback port
# (regional-gpu/testing/redis-server.ts), so nothing is left running here. Debian/Ubuntu: installs with apt-get when missing (as root, or
# through sudo). Safe to run again.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "start-services: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

if ! command -v redis-server >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "start-services: redis-server is missing and apt-get is not available; install Redis >= 6.2" >&2
    exit 1
  fi
  echo "== installing redis-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package may start a system instance; the tests run their own, on other ports.
fi

# Headless Chromium for the page tests (test/browser): Debian's package, driven by playwright-core.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "start-services: chromium is missing and apt-get is not available; the page tests will be skipped" >&2
  fi
fi
command -v chromium >/dev/null 2>&1 && echo "== $(chromium --version 2>/dev/null | head -1)"

echo "== redis-server: $(redis-server --version)"
# A quick start on a throwaway unix socket (no TCP port to collide with) proves the binary runs here.
dir="$(mktemp -d)"
redis-server --port 0 --unixsocket "$dir/redis.sock" --dir "$dir" --save "" --appendonly no \
  --daemonize no --logfile "" >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  if grep -qi "ready to accept connections" "$dir/log"; then
    echo "== redis-server starts and accepts connections"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "start-services: redis-server did not start:" >&2
cat "$dir/log" >&2
exit 1
