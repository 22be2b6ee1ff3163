#!/usr/bin/env bash
# The main job: install, build, compile models/tabular_mlp.mlp with random
# weights to a .so, run it from Python and compare with NumPy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
PATH="$PWD/build/bin:$PATH" PYTHONPATH="$PWD/python" /usr/bin/python3 scripts/demo.py
