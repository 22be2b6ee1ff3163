#!/usr/bin/env bash
# Installs every system package mlpc needs to build and test. Idempotent: safe to re-run.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ git
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools clang-19
  nlohmann-json3-dev libdlpack-dev libgtest-dev
  python3 python3-numpy python3-sklearn
  libfuzzer-19-dev libclang-rt-19-dev valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
