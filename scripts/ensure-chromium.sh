#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "ensure-chromium: installing chromium from Debian's packages" >&2
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
timeout 600 $SUDO apt-get update -qq >/dev/null || timeout 600 $SUDO apt-get update -qq >/dev/null
timeout 1200 $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
  || timeout 1200 $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
