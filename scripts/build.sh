#!/usr/bin/env bash
# Configures and builds mlpc (compiler, runtime, tools, tests) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS"
