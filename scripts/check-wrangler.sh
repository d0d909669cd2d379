#!/usr/bin/env bash
# CI check of the edge's deployable environments: `wrangler deploy --dry-run` for staging and
# production. Each goes through scripts/region-map.ts with the environment's region map fixture (the
# JSON its Terraform test proves equal to the `region_map` output), so the bindings, the vars and the
# Terraform -> REGIONS hand-off are all exercised, offline and without credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for env in staging production; do
  echo "== wrangler deploy --dry-run --env $env"
  node scripts/region-map.ts deploy "$env" \
    --from-file "terraform/envs/$env/tests/fixtures/region_map.json" \
    -- --dry-run --outdir "$out/$env" 2>&1 | tee "$out/$env.log"
  if [ ! -s "$out/$env/worker.js" ]; then
    echo "check-wrangler: no bundle written for $env" >&2
    exit 1
  fi
  if ! grep -q "env\.REGIONS" "$out/$env.log"; then
    echo "check-wrangler: the $env Worker was not given REGIONS" >&2
    exit 1
  fi
done
echo "wrangler dry-runs passed"
