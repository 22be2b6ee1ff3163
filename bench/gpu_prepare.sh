#!/usr/bin/env bash
# Builds what the GPU machine runs (it has no mlpc, only the CUDA driver,
# PyTorch and timm) and packs it into .gpu_pack/gpu.tar.xz: the op cases,
# the zoo cases (weights regenerated there from their seeds) and the
# benchmark libraries (cuBLASLt described where eligible, the default) so that
# gpu_bench.py times cuBLASLt and the generated kernels in one run. Carry
# .gpu_pack to the GPU machine and run bench/gpu_verify.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
export PATH="$PWD/build/bin:$PATH" PYTHONPATH="$PWD/python"
rm -rf .gpu && mkdir -p .gpu .gpu_pack
/usr/bin/python3 test/lib/cuda_cases.py build .gpu/cases
/usr/bin/python3 test/lib/cuda_zoo.py build .gpu/zoo
find .gpu/zoo -name '*.safetensors' -size +1M -delete
/usr/bin/python3 bench/gpu_bench.py build .gpu/bench
/usr/bin/python3 bench/gpu_bench.py build-vision .gpu/vision
tar cf - .gpu | xz -T2 -6 > .gpu_pack/gpu.tar.xz
ls -l .gpu_pack/gpu.tar.xz
