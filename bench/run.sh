#!/usr/bin/env bash
# Runs the CPU benchmark (bench/cpu_bench.py) and writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/install-bench-deps.sh
bash scripts/build.sh
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this machine for older
# OpenBLAS builds; they force slower kernels, so the anchor runs without them
# (the table names the kernel OpenBLAS picked).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
  PATH="$PWD/build/bin:$PATH" PYTHONPATH="$PWD/python" /usr/bin/python3 bench/cpu_bench.py "$@"
