#!/usr/bin/env bash
# Builds bench/gemm_probe.cu here: mlpc's CUDA kernels as `mlpc --emit=cuda`
# writes them for the wide MLP (its generated steps cut off; the probe keeps
# the kernels header and the wgmma specializations), then nvcc. Run the
# binary on the GPU machine: `DIR/gemm_probe [seconds]`.
#   bash bench/gemm_probe.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/gemm_probe.sh DIR}
mkdir -p "$out"
mlpc=${MLPC:-build/bin/mlpc}
cat >"$out/wide_mlp.mlp" <<'EOF'
model wide_mlp {
  input x: f16[N, 1024]
  repeat 2 as i @blocks.{i} {
    x = x + (layer_norm(x) @norm |> linear(4096) @fc1 |> gelu |> linear(1024) @fc2)
  }
  output y = x
}
EOF
"$mlpc" "$out/wide_mlp.mlp" --target=cuda --emit=cuda -o "$out/wide_mlp.cu"
# Everything before the first generated step.
awk '/^\/\/ layer_norm over /{exit} {print}' "$out/wide_mlp.cu" >"$out/gemm_probe_kernels.cuh"
grep -q 'struct WgmmaSS<__half, 128>' "$out/gemm_probe_kernels.cuh"
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
"$nvcc" -O2 -std=c++17 -arch=sm_90a -include "$out/gemm_probe_kernels.cuh" \
  bench/gemm_probe.cu -o "$out/gemm_probe" -lcuda
echo "$out/gemm_probe"
