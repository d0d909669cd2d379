#!/usr/bin/env bash
# Offline checks of terraform/: `fmt -check`, then `init -backend=false` and `validate` for the
# gpu-region module, its example and each environment, then `terraform test` (mocked AWS provider) for
# the module and each environment, and the nodes' lifecycle agent against stand-in commands. Without
# terraform on the machine it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v terraform >/dev/null 2>&1; then
  echo "test:terraform skipped: terraform not found (install Terraform >= 1.10 to run these checks)"
  exit 0
fi

MODULE=terraform/modules/gpu-region
ENVS=(terraform/envs/staging terraform/envs/production)
VALIDATED=("$MODULE" "$MODULE/examples/complete" "${ENVS[@]}")
TESTED=("$MODULE" "${ENVS[@]}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Provider installation: from a local filesystem mirror of hashicorp/aws when there is one (offline
# machines; TF_PROVIDER_MIRROR overrides the path), else from the registry through a shared plugin
# cache. Either way every directory's .terraform links to one copy of the ~700 MB provider.
mirror=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}
if [ -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  cat >"$work/terraform.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
RC
else
  cache=${TF_PLUGIN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-plugins}
  mkdir -p "$cache"
  printf 'plugin_cache_dir = "%s"\n' "$cache" >"$work/terraform.rc"
fi
export TF_CLI_CONFIG_FILE="$work/terraform.rc"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
unset TF_PLUGIN_CACHE_DIR

start=$SECONDS
terraform version | sed -n 1p # sed reads to the end: no SIGPIPE under pipefail

echo "== terraform fmt -check -recursive terraform"
terraform fmt -check -recursive -diff terraform

for dir in "${VALIDATED[@]}"; do
  echo "== terraform init -backend=false: $dir"
  # Environments are deployed: their committed lock file must already match the provider.
  lockfile=()
  [[ $dir == terraform/envs/* ]] && lockfile=(-lockfile=readonly)
  if ! terraform -chdir="$dir" init -backend=false -no-color "${lockfile[@]}" >"$work/init.log" 2>&1; then
    cat "$work/init.log" >&2
    exit 1
  fi
done

# validate and test each directory concurrently (most of the time goes to starting the provider for
# every run); logs are printed in a fixed order once all are done.
check() {
  terraform -chdir="$1" validate -no-color
  if [[ " ${TESTED[*]} " == *" $1 "* ]]; then
    terraform -chdir="$1" test -no-color
  fi
}
pids=()
for i in "${!VALIDATED[@]}"; do
  check "${VALIDATED[$i]}" >"$work/check-$i.log" 2>&1 &
  pids+=($!)
done
failed=()
for i in "${!VALIDATED[@]}"; do
  dir=${VALIDATED[$i]}
  status=0
  wait "${pids[$i]}" || status=$?
  echo "== terraform validate$([[ " ${TESTED[*]} " == *" $dir "* ]] && echo " + test"): $dir"
  cat "$work/check-$i.log"
  [ "$status" -eq 0 ] || failed+=("$dir")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "terraform checks failed in: ${failed[*]}" >&2
  exit 1
fi

echo "== lifecycle agent: $MODULE/tests/genart-lifecycle.test.sh"
bash "$MODULE/tests/genart-lifecycle.test.sh"

if command -v shellcheck >/dev/null 2>&1; then
  echo "== shellcheck: node scripts of $MODULE"
  shellcheck -s bash "$MODULE"/templates/*.sh "$MODULE"/tests/*.sh
fi

echo "terraform checks passed in $((SECONDS - start)) s"
