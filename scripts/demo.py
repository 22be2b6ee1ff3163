#!/usr/bin/env python3
"""mlpc in one minute: compile models/tabular_mlp.mlp with random weights,
load the generated libmodel.so from Python, run it on 8 random rows and check
it against a NumPy float64 computation of the same network.

    python3 scripts/demo.py [--seed N] [--keep]

Needs NumPy and the mlpc compiler ($MLPC, `mlpc` on PATH, or build/bin/mlpc).
Exits non-zero if the max relative error exceeds 1e-5 (the fp32 tolerance).
"""

import argparse
import os
import shutil
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
import mlpc  # noqa: E402

LAYERS = [("fc1", 128, 512), ("fc2", 512, 512), ("fc3", 512, 512), ("head", 512, 1)]


def random_weights(rng):
    """A PyTorch-style state_dict: nn.Linear's default U(-1/sqrt(in), 1/sqrt(in))."""
    params = {}
    for name, fan_in, fan_out in LAYERS:
        bound = 1.0 / np.sqrt(fan_in)
        params[name + ".weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        params[name + ".bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return params


def reference(params, x):
    """The same network in float64: relu(x W^T + b) three times, then the head."""
    h = x.astype(np.float64)
    for name, _, _ in LAYERS:
        h = h @ params[name + ".weight"].astype(np.float64).T + params[name + ".bias"]
        if name != "head":
            h = np.maximum(h, 0.0)
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the weights and inputs")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    work = tempfile.mkdtemp(prefix="mlpc-demo-")
    try:
        model_file = os.path.join(REPO, "models", "tabular_mlp.mlp")
        weights = os.path.join(work, "tabular_mlp.safetensors")
        params = random_weights(rng)
        mlpc.save_safetensors(params, weights)

        print("compiling %s with %s" % (os.path.relpath(model_file, REPO), mlpc.find_compiler()))
        so = mlpc.compile(model_file, weights=weights, output=os.path.join(work, "libtabular_mlp.so"))

        x = rng.standard_normal((8, 128)).astype(np.float32)
        with mlpc.load(so) as model:
            print("loaded %s: %s -> %s" % (model.name, model.inputs, model.outputs))
            y = model(x)

        want = reference(params, x)
        err = float(np.max(np.abs(y - want)) / max(float(np.max(np.abs(want))), 1e-6))
        np.set_printoptions(precision=7, suppress=True, linewidth=100)
        print("input shape:", x.shape, x.dtype)
        print("output (mlpc, float32):         ", y.ravel())
        print("reference (NumPy, float64):     ", want.ravel())
        print("max relative error: %.3e (tolerance 1e-5)" % err)
        if not err <= 1e-5:
            print("FAILED")
            return 1
        print("OK")
        return 0
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
