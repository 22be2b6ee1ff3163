#!/usr/bin/env bash
# On the GPU machine, after bench/gpu_prepare.sh here: unpacks
# .gpu_pack/gpu.tar.xz and runs `checks` (the op and zoo cases against
# their float64 references) or `bench` (narrow and wide MLPs, then the
# vision models, against PyTorch eager and torch.compile; MLPC_PROFILE=1
# adds CUPTI profiles). Each stage fits one 10-minute device call; the logs
# go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/mlpc_gpu}
mkdir -p "$OUT"
[ -d .gpu ] || python3 -c "import tarfile; tarfile.open('.gpu_pack/gpu.tar.xz').extractall('.')"
export PYTHONPATH="$PWD/python"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
case "${1:-checks}" in
checks)
  timeout 240 python3 test/lib/cuda_cases.py check .gpu/cases >"$OUT/cases.log" 2>&1
  echo "cases rc $?"; grep -i "fail" "$OUT/cases.log" | head; tail -1 "$OUT/cases.log"
  # The GEMM kernels' cp.async path (what runs where the TMA cannot).
  MLPC_TMA=0 timeout 240 python3 test/lib/cuda_cases.py check .gpu/cases >"$OUT/cases_cp_async.log" 2>&1
  echo "cases (MLPC_TMA=0) rc $?"; grep -i "fail" "$OUT/cases_cp_async.log" | head; tail -1 "$OUT/cases_cp_async.log"
  timeout 320 python3 test/lib/cuda_zoo.py check .gpu/zoo >"$OUT/zoo.log" 2>&1
  echo "zoo rc $?"; grep -i "failed\|cuda zoo" "$OUT/zoo.log" | tail -5
  ;;
bench)
  timeout 250 python3 bench/gpu_bench.py run .gpu/bench >"$OUT/bench.log" 2>&1
  echo "bench rc $?"; grep -A11 "^| W |" "$OUT/bench.log"; grep -A7 "^wide" "$OUT/bench.log"
  timeout 320 python3 bench/gpu_bench.py vision .gpu/vision >"$OUT/vision.log" 2>&1
  echo "vision rc $?"; grep -A12 "^| model" "$OUT/vision.log"
  ;;
*) echo "usage: $0 checks|bench" >&2; exit 2 ;;
esac
