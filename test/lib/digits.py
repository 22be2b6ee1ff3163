"""The handwritten-digits classifier of the pruning tests and benchmark.

Trains a 64 -> 256 -> 256 -> 10 ReLU MLP in NumPy (float64, Adam, fixed seed)
on scikit-learn's load_digits with a stratified 30 % test split, and writes
its weights (PyTorch names fc1/fc2/fc3), the calibration inputs (the training
images) and the model file.
"""
import os

import numpy as np

import mlpc

MODEL = """model digits {
  input x: f32[N, 64]
  h = linear(x, 256) @fc1 |> relu
  h = linear(h, 256) @fc2 |> relu
  output logits = linear(h, 10) @fc3
}
"""


def prepare(workdir, epochs=40, seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, stratify=y, random_state=seed)
    rng = np.random.default_rng(seed)
    dims = [64, 256, 256, 10]
    w = [rng.standard_normal((o, i)) * np.sqrt(2.0 / i) for i, o in zip(dims[:-1], dims[1:])]
    b = [np.zeros(o) for o in dims[1:]]
    params = w + b
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for start in range(0, len(xtr), 64):
            idx = order[start:start + 64]
            hs = [xtr[idx].astype(np.float64)]
            for layer in range(3):
                z = hs[-1] @ w[layer].T + b[layer]
                hs.append(np.maximum(z, 0) if layer < 2 else z)
            p = np.exp(hs[-1] - hs[-1].max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = p
            g[np.arange(len(idx)), ytr[idx]] -= 1
            g /= len(idx)
            gw, gb = [None] * 3, [None] * 3
            for layer in (2, 1, 0):
                gw[layer], gb[layer] = g.T @ hs[layer], g.sum(0)
                if layer:
                    g = (g @ w[layer]) * (hs[layer] > 0)
            step += 1
            for i, (param, grad) in enumerate(zip(params, gw + gb)):
                m[i] = 0.9 * m[i] + 0.1 * grad
                v[i] = 0.999 * v[i] + 0.001 * grad * grad
                param -= 1e-3 * (m[i] / (1 - 0.9 ** step)) / (np.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8)
    weights = {}
    for layer, name in enumerate(("fc1", "fc2", "fc3")):
        weights[name + ".weight"] = w[layer].astype(np.float32)
        weights[name + ".bias"] = b[layer].astype(np.float32)
    os.makedirs(workdir, exist_ok=True)
    paths = {"weights": os.path.join(workdir, "digits.safetensors"),
             "calibration": os.path.join(workdir, "calibration.safetensors"),
             "model": os.path.join(workdir, "digits.mlp")}
    mlpc.save_safetensors(weights, paths["weights"])
    mlpc.save_safetensors({"x": xtr}, paths["calibration"])
    with open(paths["model"], "w") as f:
        f.write(MODEL)
    return paths, xte, yte


def accuracy(library, x, y):
    return float((mlpc.load(library)(x).argmax(1) == y).mean())
