"""GPU end-to-end checks of the CUDA backend against NumPy float64.

Two halves, because the GPU machine has no mlpc:
  cuda_cases.py build DIR   compiles every case (here, with mlpc and nvcc) into
                            DIR with random weights and a manifest;
  cuda_cases.py check DIR   loads each library on the GPU, runs fresh random
                            inputs at several batch sizes and compares with a
                            float64 reference of the same weights;
  cuda_cases.py all DIR     both (what the lit test runs on a GPU machine).

Tolerances (relative L2 error of the whole output): 1e-4 for fp32 arithmetic,
2e-2 for fp16/bf16 tensor-core arithmetic with fp32 accumulation.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import mlpc  # noqa: E402
from mlpc.safetensors import load_safetensors, save_safetensors  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOLERANCE = {"f32": 1e-4, "f16": 2e-2, "bf16": 2e-2}
BATCHES = [0, 1, 7, 1000, 4097]

ACTS = {
    "relu": lambda x: np.maximum(x, 0),
    "gelu": lambda x: 0.5 * x * (1 + np.vectorize(math.erf, otypes=[float])(x / np.sqrt(2))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    None: lambda x: x,
}
NP_DTYPE = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16}


def to_bf16_bits(x):
    """float -> bfloat16 bits (round to nearest even), as uint16."""
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def from_bits(x, dtype):
    if dtype == "bf16":
        return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return x.astype(np.float64)


def chain_case(name, dims, acts, bias, io, precision, batches=BATCHES):
    """in dims[0] -> ... -> dims[-1], linear layers l0, l1, ... with acts."""
    lines = ["model %s {" % name, "  input x: %s[N, %d]" % (io, dims[0]), "  h = x"]
    for i, (n, act) in enumerate(zip(dims[1:], acts)):
        b = "" if bias else ", bias=false"
        lines.append("  h = h |> linear(%d%s) @l%d%s" % (n, b, i, " |> " + act if act else ""))
    lines += ["  output y = h", "}"]
    layers = [{"w": "l%d.weight" % i, "b": "l%d.bias" % i if bias else None, "act": a}
              for i, a in enumerate(acts)]
    return {"name": name, "source": "\n".join(lines) + "\n", "dims": dims, "layers": layers,
            "io": io, "precision": precision, "batches": batches}


def blocks_case(name, d, h, blocks, io, precision, batches=BATCHES):
    """Pre-norm residual MLP blocks: x = x + fc2(gelu(fc1(layer_norm(x))))."""
    src = ("model %s {\n  input x: %s[N, %d]\n  repeat %d as i @blocks.{i} {\n"
           "    x = x + (layer_norm(x) @norm |> linear(%d) @fc1 |> gelu |> linear(%d) @fc2)\n"
           "  }\n  output y = x\n}\n" % (name, io, d, blocks, h, d))
    return {"name": name, "source": src, "kind": "blocks", "d": d, "h": h, "blocks": blocks,
            "dims": [d, d], "io": io, "precision": precision, "batches": batches}


CASES = [
    chain_case("narrow_w32_f16", [32, 32, 32, 32, 32, 16], ["relu"] * 4 + [None], False,
               "f16", "f16", BATCHES + [65536]),
    chain_case("narrow_w64_f16", [32, 64, 64, 64, 64, 16], ["relu"] * 4 + [None], False,
               "f16", "f16", BATCHES + [65536]),
    chain_case("narrow_w128_f16", [32, 128, 128, 128, 128, 16], ["relu"] * 4 + [None], False,
               "f16", "f16"),
    chain_case("narrow_w256_f16", [32, 256, 256, 256, 256, 16], ["relu"] * 4 + [None], False,
               "f16", "f16"),
    chain_case("narrow_w64_bf16", [32, 64, 64, 64, 64, 16], ["relu"] * 4 + [None], False,
               "bf16", "bf16"),
    chain_case("vec_io_bias_f16", [48, 64, 64, 32], ["gelu", "relu", None], True,
               "f16", "f16"),
    chain_case("odd_widths_f32io_f16", [45, 100, 37, 200, 3],
               ["gelu", "silu", "sigmoid", "tanh"], True, "f32", "f16"),
    chain_case("odd_widths_f32", [45, 100, 37, 200, 3],
               ["gelu", "silu", "sigmoid", "tanh"], True, "f32", "f32"),
    chain_case("wide_f16", [128, 512, 512, 512, 1], ["relu"] * 3 + [None], True, "f32", "f16"),
    chain_case("wide_f32", [128, 512, 512, 512, 1], ["relu"] * 3 + [None], True, "f32", "f32"),
    blocks_case("blocks_f16", 256, 1024, 2, "f16", "f16"),
    blocks_case("blocks_bf16", 256, 1024, 2, "bf16", "bf16"),
    blocks_case("blocks_f32", 96, 384, 2, "f32", "f32"),
]


def weights_for(case, rng):
    """Random weights in the model's type; bfloat16 as raw bits."""
    tensors = {}
    if case.get("kind") == "blocks":
        d, h = case["d"], case["h"]
        for b in range(case["blocks"]):
            p = "blocks.%d." % b
            tensors[p + "norm.weight"] = 1 + 0.1 * rng.standard_normal(d)
            tensors[p + "norm.bias"] = 0.1 * rng.standard_normal(d)
            tensors[p + "fc1.weight"] = rng.standard_normal((h, d)) / np.sqrt(d)
            tensors[p + "fc1.bias"] = 0.1 * rng.standard_normal(h)
            tensors[p + "fc2.weight"] = rng.standard_normal((d, h)) / np.sqrt(h)
            tensors[p + "fc2.bias"] = 0.1 * rng.standard_normal(d)
    for i, layer in enumerate(case.get("layers", [])):
        k, n = case["dims"][i], case["dims"][i + 1]
        tensors[layer["w"]] = rng.standard_normal((n, k)) * np.sqrt(2.0 / k)
        if layer["b"]:
            tensors[layer["b"]] = 0.1 * rng.standard_normal(n)
    if case["io"] == "bf16":
        return {k: to_bf16_bits(v) for k, v in tensors.items()}, {k: "BF16" for k in tensors}
    return {k: v.astype(NP_DTYPE[case["io"]]) for k, v in tensors.items()}, None


def reference(case, weights, x):
    if case.get("kind") == "blocks":
        w = {k: from_bits(v, case["io"]) for k, v in weights.items()}
        for b in range(case["blocks"]):
            p = "blocks.%d." % b
            mean = x.mean(axis=1, keepdims=True)
            var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
            n = (x - mean) / np.sqrt(var + 1e-5) * w[p + "norm.weight"] + w[p + "norm.bias"]
            hid = ACTS["gelu"](n @ w[p + "fc1.weight"].T + w[p + "fc1.bias"])
            x = x + hid @ w[p + "fc2.weight"].T + w[p + "fc2.bias"]
        return x
    h = x
    for layer in case["layers"]:
        h = h @ from_bits(weights[layer["w"]], case["io"]).T
        if layer["b"]:
            h = h + from_bits(weights[layer["b"]], case["io"])
        h = ACTS[layer["act"]](h)
    return h


def build(out_dir, targets="cuda"):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(1234)
    manifest = []
    for case in CASES:
        src = os.path.join(out_dir, case["name"] + ".mlp")
        with open(src, "w") as f:
            f.write(case["source"])
        wpath = os.path.join(out_dir, case["name"] + ".safetensors")
        tensors, dtypes = weights_for(case, rng)
        save_safetensors(tensors, wpath, dtypes=dtypes)
        lib = os.path.join(out_dir, "lib%s.so" % case["name"])
        cmd = [mlpc.find_compiler(), src, "--weights", wpath, "--target=" + targets,
               "--precision=" + case["precision"], "-o", lib]
        # MLPC_EXTRA_ARGS: e.g. a hidden tuning flag, to check a kernel variant.
        subprocess.run(cmd + os.environ.get("MLPC_EXTRA_ARGS", "").split(), check=True)
        manifest.append(dict(case, lib=os.path.basename(lib), weights=os.path.basename(wpath)))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def check_errors(out_dir, case):
    """Clear statuses for a device that does not exist and host memory
    passed as CUDA memory; never a crash."""
    lib = os.path.join(out_dir, case["lib"])
    try:
        mlpc.load(lib, device="cuda:64")
        raise AssertionError("cuda:64 must not exist")
    except mlpc.MlpcError as e:
        assert e.status == "MLP_ERR_DEVICE", e
        print("  error ok: %s" % e)

    class FakeCuda:  # host memory that claims to be CUDA memory
        def __init__(self, a):
            self.a = a
            self.__cuda_array_interface__ = {"shape": a.shape, "typestr": a.dtype.str,
                                             "data": (a.ctypes.data, False), "version": 3}

    m = mlpc.load(lib)
    x = np.zeros((4, case["dims"][0]), NP_DTYPE[case["io"]])
    y = np.zeros((4, case["dims"][-1]), NP_DTYPE[case["io"]])
    try:
        m.run({"x": FakeCuda(x)}, out={"y": FakeCuda(y)})
        raise AssertionError("host memory passed as CUDA memory must fail")
    except mlpc.MlpcError as e:
        assert e.status == "MLP_ERR_DEVICE", e
        print("  error ok: %s" % e)


def check(out_dir):
    with open(os.path.join(out_dir, "manifest.json")) as f:
        manifest = json.load(f)
    rng = np.random.default_rng()
    worst = {}
    failures = 0
    for case in manifest:
        weights = load_safetensors(os.path.join(out_dir, case["weights"]))
        model = mlpc.load(os.path.join(out_dir, case["lib"]))
        tol = TOLERANCE[case["precision"]]
        for batch in case["batches"]:
            x64 = rng.standard_normal((batch, case["dims"][0]))
            if case["io"] == "bf16":
                xin = to_bf16_bits(x64)
            else:
                xin = x64.astype(NP_DTYPE[case["io"]])
            ref = reference(case, weights, from_bits(xin, case["io"]))
            y = model(xin)
            got = from_bits(y, case["io"])
            assert got.shape == ref.shape, (got.shape, ref.shape)
            if batch == 0:
                continue
            err = np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30)
            ok = np.isfinite(got).all() and err <= tol
            worst[case["name"]] = max(worst.get(case["name"], 0.0), err)
            if not ok:
                failures += 1
                print("FAIL %s batch %d: relative error %.3g > %.g" % (case["name"], batch, err, tol))
        print("%-24s %-5s worst relative error %.3g (tolerance %.g)"
              % (case["name"], case["precision"], worst.get(case["name"], 0.0), tol))
    check_errors(out_dir, manifest[0])
    print("cuda cases: %d checked, %d failed" % (len(manifest), failures))
    return failures


if __name__ == "__main__":
    mode, directory = sys.argv[1], sys.argv[2]
    if mode in ("build", "all"):
        build(directory)
    if mode in ("check", "all"):
        sys.exit(1 if check(directory) else 0)
