#!/usr/bin/env bash
# CI check of the edge's deployable environments: `wrangler deploy --dry-run` for staging and
# production, and `wrangler versions upload --dry-run` for staging (the preview-per-change flow of
# docs/operations.md). Each goes through scripts/region-map.ts with the environment's region map
# fixture (the JSON its Terraform test proves equal to the `region_map` output), so the bindings, the
# vars and the Terraform -> REGIONS hand-off are all exercised, offline and without credentials.
# Each deployable one must be a production Worker with PUBLIC_URL; and a `wrangler deploy` without
# `--env` must not build anything (the top level of wrangler.toml has no entry point, so no
# development Worker can be published by accident).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# check <region-map command> <env>: a dry run that must write a bundle and give the Worker REGIONS.
check() {
  local command=$1 env=$2 name="$1-$2"
  node scripts/region-map.ts "$command" "$env" \
    --from-file "terraform/envs/$env/tests/fixtures/region_map.json" \
    -- --dry-run --outdir "$out/$name" 2>&1 | tee "$out/$name.log"
  if [ ! -s "$out/$name/worker.js" ]; then
    echo "check-wrangler: no bundle written for $name" >&2
    exit 1
  fi
  if ! grep -q "env\.REGIONS" "$out/$name.log"; then
    echo "check-wrangler: the $name Worker was not given REGIONS" >&2
    exit 1
  fi
  if ! grep -q 'env\.ENVIRONMENT ("production")' "$out/$name.log"; then
    echo "check-wrangler: the $name Worker is not ENVIRONMENT=production" >&2
    exit 1
  fi
  for binding in REPLAY_GUARD ACCOUNT_LIMITER PUBLIC_URL; do
    if ! grep -q "env\.$binding" "$out/$name.log"; then
      echo "check-wrangler: the $name Worker has no $binding" >&2
      exit 1
    fi
  done
}

for env in staging production; do
  echo "== wrangler deploy --dry-run --env $env"
  check deploy "$env"
done
echo "== wrangler versions upload --dry-run --env staging"
check upload staging
echo "== wrangler deploy --dry-run (no --env): must refuse"
if wrangler deploy --dry-run --outdir "$out/bare" >"$out/bare.log" 2>&1; then
  cat "$out/bare.log"
  echo "check-wrangler: a deploy without --env built a Worker" >&2
  exit 1
fi
if [ -s "$out/bare/worker.js" ]; then
  echo "check-wrangler: a deploy without --env wrote a bundle" >&2
  exit 1
fi
grep -i "entry-point" "$out/bare.log" | head -1
echo "wrangler dry-runs passed"
