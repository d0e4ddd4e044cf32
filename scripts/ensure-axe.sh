#!/usr/bin/env bash
# Installs axe-core, pinned, for the browser tests' accessibility checks,
# from the npm registry into web/testdata/axe (not committed) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.14.1
dir=web/testdata/axe
if [ -f "$dir/node_modules/axe-core/axe.min.js" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/axe-core/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "ensure-axe: npm is missing; installing Debian's npm" >&2
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 $SUDO apt-get update -qq >/dev/null || true
  timeout 900 $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "ensure-axe: installing axe-core@$version" >&2
mkdir -p "$dir"
timeout 300 npm install --prefix "$dir" --no-audit --no-fund --silent "axe-core@$version" \
  || timeout 300 npm install --prefix "$dir" --no-audit --no-fund --silent "axe-core@$version"
