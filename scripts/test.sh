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
# Fuzz smoke (issue #7): builds the libFuzzer targets into build-fuzz/ and runs
# each for MLPC_FUZZ_SMOKE_RUNS executions (default 10000) after replaying the
# known crash inputs; about 3 minutes on 2 cores, most of it the build.
# MLPC_FUZZ_SMOKE=0 skips it. Its result counts in the exit status; the lit
# summary stays the last line.
if [ "${MLPC_FUZZ_SMOKE:-1}" != "0" ]; then
  bash scripts/fuzz.sh "${MLPC_FUZZ_SMOKE_RUNS:-10000}" || status=1
fi
/usr/bin/python3 scripts/summarize_lit.py "$BUILD_DIR/test/results.xml" || status=1
exit $status
