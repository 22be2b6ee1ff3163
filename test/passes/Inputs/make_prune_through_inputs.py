"""Weights and calibration inputs for pruning through norms and scales.

Every hidden layer is 16 wide, the input 8 wide; the names say which test
file uses them (fixed seed). The calibration inputs are the x of
make_prune_inputs.py.
"""
import os
import sys

import numpy as np

import mlpc

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
shapes = {}
for prefix in ("bn", "scale", "ln", "gate", "shared"):
    shapes.update({prefix + ".fc1.weight": (16, 8), prefix + ".fc1.bias": (16,),
                   prefix + ".fc2.weight": (16, 16), prefix + ".fc2.bias": (16,),
                   prefix + ".fc3.weight": (4, 16)})
shapes.update({"gate.up.weight": (16, 8)})
for name in ("bn.norm1", "bn.norm2"):
    shapes.update({name + ".running_mean": (16,), name + ".running_var": (16,)})
shapes.update({"bn.norm1.weight": (16,), "bn.norm1.bias": (16,)})
shapes.update({"scale.gamma": (16,), "scale.beta": (1, 16), "scale.divisor": (16,),
               "scale.shift": (1,), "ln.norm.weight": (16,), "ln.norm.bias": (16,),
               "shared.gamma": (16,)})
weights = {}
for name, shape in shapes.items():
    w = rng.standard_normal(shape)
    if name.endswith("running_var") or name.endswith("divisor"):
        w = 0.5 + np.abs(w)
    elif name.endswith("weight") and len(shape) == 2:
        w = w / np.sqrt(shape[1])
    weights[name] = w.astype(np.float32)
mlpc.save_safetensors(weights, os.path.join(out, "through.safetensors"))
