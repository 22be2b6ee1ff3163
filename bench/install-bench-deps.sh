#!/usr/bin/env bash
# The anchors the CPU benchmark compares against: PyTorch (Debian's
# python3-torch) and OpenBLAS. Benchmark-only: the product and its tests need
# neither. Idempotent.
set -euo pipefail
bash "$(dirname "$0")/../scripts/install-deps.sh"
PACKAGES=(python3-torch libopenblas0-pthread)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
