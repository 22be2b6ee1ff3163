#!/usr/bin/env bash
# Installs, builds and runs every test (lit: dialect, frontend, passes,
# codegen, e2e, and the runtime's GoogleTest suite). Ends with one line
# "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
status=0
ninja -C "$BUILD_DIR" check-mlp || status=$?
/usr/bin/python3 scripts/summarize_lit.py "$BUILD_DIR/test/results.xml" || status=1
exit $status
