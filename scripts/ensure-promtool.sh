#!/usr/bin/env bash
# Prints the path of a promtool for the metrics test (`promtool check
# metrics`). Uses one on the PATH; else takes it out of Debian's prometheus
# package, unpacked into a cache folder rather than installed, so that no
# Prometheus server is set up or started on the machine.
set -euo pipefail
if command -v promtool >/dev/null; then command -v promtool; exit 0; fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/baton/promtool"
if [ -x "$cache/usr/bin/promtool" ]; then echo "$cache/usr/bin/promtool"; exit 0; fi
echo "ensure-promtool: unpacking promtool from Debian's prometheus package into $cache" >&2
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { (cd "$tmp" && timeout 600 apt-get download prometheus >/dev/null 2>&1); }
if ! fetch; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  timeout 600 $SUDO apt-get update -qq >/dev/null || true
  fetch || fetch
fi
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
mkdir -p "$cache/usr/bin"
cp "$tmp/x/usr/bin/promtool" "$cache/usr/bin/promtool"
"$cache/usr/bin/promtool" --version >&2
echo "$cache/usr/bin/promtool"
