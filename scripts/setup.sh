#!/usr/bin/env bash
# Installs the native libraries divseg builds against (Debian/Ubuntu) and builds the release
# binaries. Safe to run again: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libopenblas-dev libdnnl-dev libhdf5-dev libpng-dev libjpeg62-turbo-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release
