#!/usr/bin/env bash
# Runs the CPU benchmark (bench/cpu_bench.py) and writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/install-bench-deps.sh
bash scripts/build.sh
PATH="$PWD/build/bin:$PATH" PYTHONPATH="$PWD/python" /usr/bin/python3 bench/cpu_bench.py "$@"
