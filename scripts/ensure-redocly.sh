#!/usr/bin/env bash
# Installs Redocly's CLI, pinned, for the lint of the OpenAPI document
# (api's TestRedoclyLint), from the npm registry into api/testdata/redocly
# (not committed) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.77.0
dir=api/testdata/redocly
if [ -x "$dir/node_modules/.bin/redocly" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/@redocly/cli/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "ensure-redocly: npm is missing; installing Debian's npm" >&2
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 $SUDO apt-get update -qq >/dev/null || true
  timeout 900 $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
# @redocly/cli 2 runs on Node.js 20.19+ or 22.12+.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || a === 20 && b >= 19 ? 0 : 1)'; then
  echo "ensure-redocly: @redocly/cli@$version needs Node.js 20.19 or later, not $(node --version)" >&2
  exit 1
fi
echo "ensure-redocly: installing @redocly/cli@$version" >&2
mkdir -p "$dir"
timeout 600 npm install --prefix "$dir" --no-audit --no-fund --silent "@redocly/cli@$version" \
  || timeout 600 npm install --prefix "$dir" --no-audit --no-fund --silent "@redocly/cli@$version"
