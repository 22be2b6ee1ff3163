"""Weights and calibration inputs for the pruning tests (fixed seed)."""
import os
import sys

import numpy as np

import mlpc

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
weights = {
    "fc1.weight": rng.standard_normal((16, 8)), "fc1.bias": rng.standard_normal(16),
    "fc2.weight": rng.standard_normal((16, 16)) / 4, "fc2.bias": rng.standard_normal(16),
    "fc3.weight": rng.standard_normal((4, 16)) / 4,
}
mlpc.save_safetensors({k: v.astype(np.float32) for k, v in weights.items()},
                      os.path.join(out, "w.safetensors"))
calib = rng.standard_normal((64, 8)).astype(np.float32)
mlpc.save_safetensors({"x": calib}, os.path.join(out, "calib.safetensors"))
# Hostile calibration files for the error tests.
mlpc.save_safetensors({"z": calib}, os.path.join(out, "missing.safetensors"))
mlpc.save_safetensors({"x": calib[:, :7]}, os.path.join(out, "shape.safetensors"))
mlpc.save_safetensors({"x": calib.astype(np.float64)}, os.path.join(out, "dtype.safetensors"))
bad = calib.copy()
bad[3, 2] = np.nan
mlpc.save_safetensors({"x": bad}, os.path.join(out, "nan.safetensors"))
inf = calib.copy()
inf[0, 0] = np.inf
mlpc.save_safetensors({"x": inf}, os.path.join(out, "inf.safetensors"))
mlpc.save_safetensors({"x": calib[:4]}, os.path.join(out, "few.safetensors"))
with open(os.path.join(out, "chain.mlp"), "w") as f:
    f.write("""model chain {
  input x: f32[N, 8]
  h = linear(x, 16) @fc1 |> relu
  h = linear(h, 16) @fc2 |> gelu
  output y = linear(h, 4, bias=false) @fc3
}
""")
