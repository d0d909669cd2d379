#!/bin/bash
# Writes /run/genart/secrets.env (tmpfs, root only) from the SSM SecureStrings listed in
# /etc/genart/secrets.list as NAME=/parameter/name. Runs before every start of genart-region, so a
# rotated secret is picked up by a restart and secrets never rest on disk.
set -euo pipefail
# shellcheck source=/dev/null
source /etc/genart/lifecycle.env

install -d -m 0700 /run/genart
tmp=$(mktemp /run/genart/secrets.XXXXXX)
trap 'rm -f "$tmp"' EXIT
while IFS='=' read -r name parameter; do
  [ -n "$name" ] || continue
  value=$(aws ssm get-parameter --region "$AWS_REGION" --with-decryption --name "$parameter" \
    --query Parameter.Value --output text)
  case "$value" in *$'\n'*)
    echo "secret $parameter spans several lines; not representable in an environment file" >&2
    exit 1
    ;;
  esac
  value=${value//\\/\\\\}
  value=${value//\"/\\\"}
  printf '%s="%s"\n' "$name" "$value" >>"$tmp"
done </etc/genart/secrets.list
mv "$tmp" /run/genart/secrets.env
trap - EXIT
