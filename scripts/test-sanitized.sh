#!/usr/bin/env bash
# Builds everything (runtime, compiler, tests) with AddressSanitizer + UBSan
# (-DMLPC_SANITIZE=ON) into build-asan/ and runs the whole lit suite there:
# every test, including the end-to-end ones whose generated libraries link
# the sanitized runtime (test/lit.cfg.py preloads ASan for them), and the
# runtime's unit tests under LeakSanitizer. Ends with one line
# "N passed, N failed, N skipped". Takes about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
cmake -G Ninja -S . -B "$BUILD_DIR" -DMLPC_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS"
status=0
ninja -C "$BUILD_DIR" check-mlp || status=$?
/usr/bin/python3 scripts/summarize_lit.py "$BUILD_DIR/test/results.xml" || status=1
exit $status
