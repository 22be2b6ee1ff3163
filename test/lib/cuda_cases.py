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
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    None: lambda x: x,
}
SOURCE_ACT = {"gelu_tanh": 'gelu(approximate="tanh")'}
NP_DTYPE = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16}


def to_bf16_bits(x):
    """float -> bfloat16 bits (round to nearest even), as uint16."""
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def from_bits(x, dtype):
    if dtype == "bf16":
        return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return x.astype(np.float64)


def chain_case(name, dims, acts, bias, io, precision, batches=BATCHES, flags=()):
    """in dims[0] -> ... -> dims[-1], linear layers l0, l1, ... with acts."""
    lines = ["model %s {" % name, "  input x: %s[N, %d]" % (io, dims[0]), "  h = x"]
    for i, (n, act) in enumerate(zip(dims[1:], acts)):
        b = "" if bias else ", bias=false"
        lines.append("  h = h |> linear(%d%s) @l%d%s" % (
            n, b, i, " |> " + SOURCE_ACT.get(act, act) if act else ""))
    lines += ["  output y = h", "}"]
    layers = [{"w": "l%d.weight" % i, "b": "l%d.bias" % i if bias else None, "act": a}
              for i, a in enumerate(acts)]
    return {"name": name, "source": "\n".join(lines) + "\n", "dims": dims, "layers": layers,
            "io": io, "precision": precision, "batches": batches, "flags": list(flags)}


def scaled_case(name, d, io, precision, flags=()):
    """y = x + linear(x) * s: a layer scale after a residual-free linear."""
    src = ("model %s {\n  input x: %s[N, %d]\n  s = param @s: %s[%d]\n"
           "  output y = x + linear(x, %d) @fc * s\n}\n" % (name, io, d, io, d, d))
    return {"name": name, "source": src, "kind": "scaled", "d": d, "dims": [d, d], "io": io,
            "precision": precision, "batches": BATCHES, "flags": list(flags)}


def blocks_case(name, d, h, blocks, io, precision, batches=BATCHES, flags=()):
    """Pre-norm residual MLP blocks: x = x + fc2(gelu(fc1(layer_norm(x))))."""
    src = ("model %s {\n  input x: %s[N, %d]\n  repeat %d as i @blocks.{i} {\n"
           "    x = x + (layer_norm(x) @norm |> linear(%d) @fc1 |> gelu |> linear(%d) @fc2)\n"
           "  }\n  output y = x\n}\n" % (name, io, d, blocks, h, d))
    return {"name": name, "source": src, "kind": "blocks", "d": d, "h": h, "blocks": blocks,
            "dims": [d, d], "io": io, "precision": precision, "batches": batches,
            "flags": list(flags)}


# Cases whose library describes layers for cuBLASLt (the default,
# --cuda-cublaslt) are checked twice: through cuBLASLt (MLPC_CUBLASLT=1:
# loading fails without it) and through their kernels (=0).
LT = ["--cuda-cublaslt"]

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
    chain_case("lt_wide_f16", [256, 512, 1024, 512, 64], ["relu", "gelu_tanh", "gelu", None],
               True, "f16", "f16", flags=LT),
    chain_case("lt_f32out_bf16", [128, 512, 512, 256], ["relu", "relu", None], True,
               "f32", "bf16", flags=LT),
    blocks_case("lt_blocks_bf16", 256, 1024, 2, "bf16", "bf16", flags=LT),
    scaled_case("lt_scaled_f16", 512, "f16", "f16", flags=LT),
]


# -- op-level cases of the general kernels (mlpc_generic.cuh) --------------------
#
# Each: an .mlp source, its parameters {name: (shape, init)}, inputs
# [(name, shape, kind)] (kind "f32", or "i64:V" / "i32:V" for ids drawn from
# [-2, V + 2), out-of-range ones included), the outputs, and a float64 NumPy
# reference ref(params, inputs) -> [outputs]. The references live here, so the
# GPU machine finds them by case name.

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _bspline(x, grid, order):
    """Cox-de Boor as efficient-kan's b_splines, float64."""
    x = x[..., None]
    b = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).astype(np.float64)
    for k in range(1, order + 1):
        b = ((x - grid[:, :-(k + 1)]) / (grid[:, k:-1] - grid[:, :-(k + 1)]) * b[..., :-1]
             + (grid[:, k + 1:] - x) / (grid[:, k + 1:] - grid[:, 1:-k]) * b[..., 1:])
    return b


def _embedding(table, ids):
    ok = (ids >= 0) & (ids < table.shape[0])
    return np.where(ok[..., None], table[np.where(ok, ids, 0)], 0.0)


def _avg_pool(x, k, stride, pad, include_pad):
    n, h, w, c = x.shape
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    xp = np.zeros((n, h + 2 * pad, w + 2 * pad, c))
    xp[:, pad:pad + h, pad:pad + w] = x
    ones = np.zeros((1, h + 2 * pad, w + 2 * pad, 1))
    ones[:, pad:pad + h, pad:pad + w] = 1
    y = np.zeros((n, oh, ow, c))
    cnt = np.zeros((1, oh, ow, 1))
    for i in range(k):
        for j in range(k):
            y += xp[:, i:i + stride * oh:stride, j:j + stride * ow:stride]
            cnt += ones[:, i:i + stride * oh:stride, j:j + stride * ow:stride]
    return y / (k * k if include_pad else cnt)


def _conv(x, w, b, stride, pad):
    n, h, wd, c = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    xp = np.zeros((n, h + 2 * pad, wd + 2 * pad, c))
    xp[:, pad:pad + h, pad:pad + wd] = x
    y = np.zeros((n, oh, ow, o)) + b
    for i in range(kh):
        for j in range(kw):
            y += xp[:, i:i + stride * oh:stride, j:j + stride * ow:stride] @ w[:, :, i, j].T
    return y


def _group_norm(x, w, b, eps=1e-5):
    axes = tuple(range(1, x.ndim))
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def _layer_norm(x, w, b, eps=1e-5):
    m = x.mean(axis=-1, keepdims=True)
    v = ((x - m) ** 2).mean(axis=-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def _pool_mixer(x, g, scale):
    """MetaFormer's pooling mixer: x + (avg_pool 3x3 of g - g) * scale."""
    return x + (_avg_pool(g, 3, 1, 1, False) - g) * scale


def _token_mixing(p, x):
    """The token_mixing case below, in float64."""
    def mix(v, name):  # a linear over the tokens of [N, T, C]
        return np.swapaxes(np.swapaxes(v, 1, 2) @ p[name + ".weight"].T + p[name + ".bias"], 1, 2)
    y = x + mix(_layer_norm(x, p["norm.weight"], p["norm.bias"]), "mix")
    g = y @ p["fc.weight"].T + p["fc.bias"]
    z = g[..., :40] * mix(_layer_norm(g[..., 40:], p["gnorm.weight"], p["gnorm.bias"]), "gate")
    return z + mix(z * p["alpha"] + p["beta"], "mix2") * p["ls"]


def _token_gemm(p, x):
    """The token_gemm case below, in float64."""
    def mix(v, name):
        out = np.swapaxes(v, 1, 2) @ p[name + ".weight"].T
        return np.swapaxes(out + p[name + ".bias"] if name + ".bias" in p else out, 1, 2)
    g = ACTS["gelu"](_layer_norm(x, p["n0.weight"], p["n0.bias"]) @ p["fc.weight"].T
                    + p["fc.bias"])
    z = g[..., :48] * mix(_layer_norm(g[..., 48:], p["gnorm.weight"], p["gnorm.bias"]), "gate")
    # MLP-Mixer's token MLP: two layers with the exact GELU between.
    h = np.swapaxes(_layer_norm(z, p["n1.weight"], p["n1.bias"]), 1, 2)
    h = ACTS["gelu"](h @ p["tok1.weight"].T + p["tok1.bias"]) @ p["tok2.weight"].T + p["tok2.bias"]
    z = z + np.swapaxes(h, 1, 2)
    return mix(z, "down").mean(axis=1)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


OP_CASES = {
    "bcast": dict(
        source="""model bcast {
  input x: f32[N, 4, 1, 6]
  input m: f32[N, 1, 5, 1]
  p = param @p: f32[5, 6]
  q = param @q: f32[4, 1, 1]
  output y = (x - m) * p + x / (q * q + 1.0)
  output z = 1.0 - x * m
  output w = 2.0 / (m * m + 1.0) + sigmoid(p)
}
""",
        params={"p": ((5, 6), "normal"), "q": ((4, 1, 1), "normal")},
        inputs=[("x", (4, 1, 6), "f32"), ("m", (1, 5, 1), "f32")],
        outputs=["y", "z", "w"],
        ref=lambda p, x: [(x["x"] - x["m"]) * p["p"] + x["x"] / (p["q"] ** 2 + 1),
                          1 - x["x"] * x["m"],
                          2 / (x["m"] ** 2 + 1) + _sigmoid(p["p"])]),
    "permute": dict(
        source="""model permute {
  input x: f32[N, 2, 3, 4, 5]
  output y = transpose(x, 1, 3)
  output z = transpose(x, 3, 4) |> transpose(1, 2) |> relu
  output t = transpose(x, 2, 3) |> reshape(N, 2, 20, 3) |> transpose(1, 3)
}
""",
        params={},
        inputs=[("x", (2, 3, 4, 5), "f32")],
        outputs=["y", "z", "t"],
        ref=lambda p, x: [x["x"].transpose(0, 3, 2, 1, 4),
                          np.maximum(x["x"].transpose(0, 1, 2, 4, 3).transpose(0, 2, 1, 3, 4), 0),
                          x["x"].transpose(0, 1, 3, 2, 4).reshape(-1, 2, 20, 3)
                          .transpose(0, 3, 2, 1)]),
    "concat_slice": dict(
        source="""model concat_slice {
  input a: f32[N, 3, 4]
  input b: f32[N, 3, 2]
  input c: f32[N, 2, 4]
  output y = concat(a, sin(b), axis=2)
  output z = concat(a, c * 2.0, a, axis=1)
  output s = slice(a, 1, 3, axis=1) |> cos
  output u = concat(reshape(a, N, 12), reshape(b, N, 6)) |> reshape(N, 1, 18)
    |> broadcast_to(N, 3, 18)
}
""",
        params={},
        inputs=[("a", (3, 4), "f32"), ("b", (3, 2), "f32"), ("c", (2, 4), "f32")],
        outputs=["y", "z", "s", "u"],
        ref=lambda p, x: [np.concatenate([x["a"], np.sin(x["b"])], axis=2),
                          np.concatenate([x["a"], 2 * x["c"], x["a"]], axis=1),
                          np.cos(x["a"][:, 1:3]),
                          np.broadcast_to(np.concatenate([x["a"].reshape(-1, 1, 12),
                                                          x["b"].reshape(-1, 1, 6)], axis=2),
                                          (x["a"].shape[0], 3, 18))]),
    # Column slices read in place by layer_norm and elementwise runs, and one
    # copied out for a linear (codegen/cuda: deferred slices).
    "slice_views": dict(
        source="""model slice_views {
  input x: f32[N, 4, 64]
  u = slice(x, 0, 32)
  v = slice(x, 32, 64) |> layer_norm(eps=1e-5) @norm
  w = slice(x, 16, 48)
  output y = u * v + w
  output z = gelu(slice(x, 8, 40)) * 2.0
  output l = linear(slice(x, 24, 56), 16) @fc
}
""",
        params={"norm.weight": ((32,), "normal"), "norm.bias": ((32,), "normal"),
                "fc.weight": ((16, 32), "normal"), "fc.bias": ((16,), "normal")},
        inputs=[("x", (4, 64), "f32")],
        outputs=["y", "z", "l"],
        ref=lambda p, x: [x["x"][..., :32] * _layer_norm(x["x"][..., 32:], p["norm.weight"],
                                                         p["norm.bias"])
                          + x["x"][..., 16:48],
                          2.0 * ACTS["gelu"](x["x"][..., 8:40]),
                          x["x"][..., 24:56] @ p["fc.weight"].T + p["fc.bias"]]),
    # A tensor-core GEMM whose K (196, MLP-Mixer B/16's tokens) is not a
    # multiple of 8: its rows load in 8-byte pieces; and GEMMs writing rows
    # of 196 halves (8-byte stores), one adding a residual.
    "gemm_k196": dict(
        source="""model gemm_k196 {
  input x: f32[N, 196]
  a = (x * 1.0) |> linear(384) @a |> gelu
  h = linear(a, 196) @b
  g = h + linear(a, 196) @c
  output y = g * 1.0
}
""",
        params={"a.weight": ((384, 196), "normal"), "a.bias": ((384,), "normal"),
                "b.weight": ((196, 384), "normal"), "b.bias": ((196,), "normal"),
                "c.weight": ((196, 384), "normal"), "c.bias": ((196,), "normal")},
        inputs=[("x", (196,), "f32")],
        outputs=["y"],
        ref=lambda p, x: (lambda a: [a @ p["b.weight"].T + p["b.bias"]
                                     + a @ p["c.weight"].T + p["c.bias"]])(
            ACTS["gelu"](x["x"] @ p["a.weight"].T + p["a.bias"]))),
    "reduce": dict(
        source="""model reduce {
  input x: f32[N, 5, 7, 3]
  output s = sum(x, axis=2)
  output m = mean(x, axis=3)
  output a = mean(reshape(x, N, 105), axis=1)
  output p = softmax(x, axis=1)
  output q = softmax(x, axis=3) |> sum(axis=1)
  output g = group_norm(x) @gn
}
""",
        params={"gn.weight": ((3,), "normal"), "gn.bias": ((3,), "normal")},
        inputs=[("x", (5, 7, 3), "f32")],
        outputs=["s", "m", "a", "p", "q", "g"],
        ref=lambda p, x: [x["x"].sum(axis=2), x["x"].mean(axis=3),
                          x["x"].reshape(-1, 105).mean(axis=1),
                          _softmax(x["x"], 1), _softmax(x["x"], 3).sum(axis=1),
                          _group_norm(x["x"], p["gn.weight"], p["gn.bias"])]),
    "group_norm": dict(
        # 24576 elements per sample: three chunks; a mean far from zero.
        source="""model group_norm {
  input x: f32[N, 32, 32, 24]
  s = param @ls: f32[24]
  output y = group_norm(x * 3.0 + 8.0, eps=1e-6) @gn
  output z = group_norm(x, affine=false) |> relu
  g = group_norm(x) @gm
  output p = x + (avg_pool2d(g, 3, stride=1, padding=1, count_include_pad=false) - g) * s
}
""",
        params={"gn.weight": ((24,), "normal"), "gn.bias": ((24,), "normal"),
                "gm.weight": ((24,), "normal"), "gm.bias": ((24,), "normal"),
                "ls": ((24,), "normal")},
        inputs=[("x", (32, 32, 24), "f32")],
        outputs=["y", "z", "p"],
        ref=lambda p, x: [_group_norm(3 * x["x"] + 8, p["gn.weight"], p["gn.bias"], 1e-6),
                          np.maximum(_group_norm(x["x"], 1.0, 0.0), 0),
                          _pool_mixer(x["x"], _group_norm(x["x"], p["gm.weight"],
                                                          p["gm.bias"]), p["ls"])]),
    "token_mixing": dict(
        # The fused transposes of token mixing at sizes that are no multiple
        # of 32: layer_norm written transposed (of a slice too), the transpose
        # back with a residual add, a gating multiply by a slice, a layer scale.
        source="""model token_mixing {
  input x: f32[N, 20, 40]
  s = param @ls: f32[40]
  t = layer_norm(x) @norm |> transpose(1, 2) |> linear(20) @mix
  y = x + transpose(t, 1, 2)
  g = linear(y, 80) @fc
  v = slice(g, 40, 80) |> layer_norm @gnorm |> transpose(1, 2) |> linear(20) @gate
  z = slice(g, 0, 40) * transpose(v, 1, 2)
  al = param @alpha: f32[1, 1, 40]
  be = param @beta: f32[1, 1, 40]
  w = transpose(z * al + be, 1, 2) |> linear(20) @mix2
  output o = z + transpose(w, 1, 2) * s
}
""",
        params={"norm.weight": ((40,), "normal"), "norm.bias": ((40,), "normal"),
                "mix.weight": ((20, 20), "normal"), "mix.bias": ((20,), "normal"),
                "fc.weight": ((80, 40), "normal"), "fc.bias": ((80,), "normal"),
                "gnorm.weight": ((40,), "normal"), "gnorm.bias": ((40,), "normal"),
                "gate.weight": ((20, 20), "normal"), "gate.bias": ((20,), "normal"),
                "mix2.weight": ((20, 20), "normal"), "mix2.bias": ((20,), "normal"),
                "ls": ((40,), "normal"), "alpha": ((1, 1, 40), "normal"),
                "beta": ((1, 1, 40), "normal")},
        inputs=[("x", (20, 40), "f32")],
        outputs=["o"],
        ref=lambda p, x: [_token_mixing(p, x["x"])]),
    "token_gemm": dict(
        # Token mixing as cuBLASLt's batched GEMMs (f16/bf16) over 30 tokens
        # padded to 32: gMLP's gate through the deferred exact GELU, MLP-Mixer's
        # two-layer token MLP (30 -> 40 -> 30, the exact GELU between), then a
        # 30 -> 12 layer without a bias whose reader (a mean) needs the
        # padding rows copied out.
        source="""model token_gemm {
  input x: f32[N, 30, 48]
  g = layer_norm(x) @n0 |> linear(96) @fc |> gelu
  v = slice(g, 48, 96) |> layer_norm @gnorm |> transpose(1, 2) |> linear(30) @gate
  z = slice(g, 0, 48) * transpose(v, 1, 2)
  h = layer_norm(z) @n1 |> transpose(1, 2) |> linear(40) @tok1 |> gelu |> linear(30) @tok2
  z = z + transpose(h, 1, 2)
  w = transpose(z, 1, 2) |> linear(12, bias=false) @down
  output o = mean(transpose(w, 1, 2), axis=1)
}
""",
        params={"n0.weight": ((48,), "normal"), "n0.bias": ((48,), "normal"),
                "fc.weight": ((96, 48), "normal"), "fc.bias": ((96,), "normal"),
                "gnorm.weight": ((48,), "normal"), "gnorm.bias": ((48,), "normal"),
                "gate.weight": ((30, 30), "normal"), "gate.bias": ((30,), "normal"),
                "n1.weight": ((48,), "normal"), "n1.bias": ((48,), "normal"),
                "tok1.weight": ((40, 30), "normal"), "tok1.bias": ((40,), "normal"),
                "tok2.weight": ((30, 40), "normal"), "tok2.bias": ((30,), "normal"),
                "down.weight": ((12, 30), "normal")},
        inputs=[("x", (30, 48), "f32")],
        outputs=["o"],
        ref=lambda p, x: [_token_gemm(p, x["x"])]),
    "batch_norm": dict(
        source="""model batch_norm {
  input x: f32[N, 24]
  input t: f32[N, 6, 10]
  output y = batch_norm(x, eps=1e-5) @bn |> relu
  output z = batch_norm(t, eps=1e-3, affine=false) @bn2
}
""",
        params={"bn.weight": ((24,), "normal"), "bn.bias": ((24,), "normal"),
                "bn.running_mean": ((24,), "normal"), "bn.running_var": ((24,), "positive"),
                "bn2.running_mean": ((10,), "normal"), "bn2.running_var": ((10,), "positive")},
        inputs=[("x", (24,), "f32"), ("t", (6, 10), "f32")],
        outputs=["y", "z"],
        ref=lambda p, x: [np.maximum((x["x"] - p["bn.running_mean"])
                                     / np.sqrt(p["bn.running_var"] + 1e-5) * p["bn.weight"]
                                     + p["bn.bias"], 0),
                          (x["t"] - p["bn2.running_mean"]) / np.sqrt(p["bn2.running_var"] + 1e-3)]),
    "embedding_i64": dict(
        source="""model embedding_i64 {
  input ids: i64[N, 5]
  input one: i64[N]
  e = embedding(ids, 11, 6) @emb
  output y = e * reshape(padding_mask(ids), N, 5, 1)
  output z = concat(embedding(one, 7, 6) @emb2, sum(e, axis=1))
}
""",
        params={"emb.weight": ((11, 6), "normal"), "emb2.weight": ((7, 6), "normal")},
        inputs=[("ids", (5,), "i64:11"), ("one", (), "i64:7")],
        outputs=["y", "z"],
        ref=lambda p, x: [_embedding(p["emb.weight"], x["ids"])
                          * (x["ids"] != 0)[..., None],
                          np.concatenate([_embedding(p["emb2.weight"], x["one"]),
                                          _embedding(p["emb.weight"], x["ids"]).sum(axis=1)],
                                         axis=1)]),
    "embedding_i32": dict(
        source="""model embedding_i32 {
  input ids: i32[N, 3]
  output y = embedding(ids, 9, 4) @emb |> reshape(N, 12) |> linear(5) @fc
  output m = padding_mask(ids, padding_idx=2)
}
""",
        params={"emb.weight": ((9, 4), "normal"), "fc.weight": ((5, 12), "normal"),
                "fc.bias": ((5,), "normal")},
        inputs=[("ids", (3,), "i32:9")],
        outputs=["y", "m"],
        ref=lambda p, x: [_embedding(p["emb.weight"], x["ids"]).reshape(-1, 12)
                          @ p["fc.weight"].T + p["fc.bias"],
                          (x["ids"] != 2).astype(np.float64)]),
    "kan_bases": dict(
        source="""model kan_bases {
  input x: f32[N, 6]
  grid = param @grid: f32[6, 12]
  g = param @rbf: f32[8]
  output b = bspline_basis(x, grid, order=3)
  t = reshape(x, N, 6, 1) - g
  output r = exp(-(t / 0.5) * (t / 0.5)) |> reshape(N, 48)
}
""",
        params={"grid": ((6, 12), "knots"), "rbf": ((8,), "normal")},
        inputs=[("x", (6,), "f32")],
        outputs=["b", "r"],
        ref=lambda p, x: [_bspline(x["x"], p["grid"], 3),
                          np.exp(-((x["x"][..., None] - p["rbf"]) / 0.5) ** 2).reshape(-1, 48)]),
    "param_math": dict(
        source="""model param_math {
  input x: f32[N, 12]
  w = param @w: f32[8, 12, 2]
  s = param @s: f32[8, 12]
  c = param @c: f32[1, 5]
  v = w * reshape(s, 8, 12, 1) |> reshape(8, 24)
  gate = linear(c, 24) @gate |> sigmoid
  h = matmul(concat(x, x * 2.0), transpose(v, 0, 1))
  output y = h + linear(gate * concat(x, x), 8, bias=false) @fc
}
""",
        params={"w": ((8, 12, 2), "normal"), "s": ((8, 12), "normal"), "c": ((1, 5), "normal"),
                "gate.weight": ((24, 5), "normal"), "gate.bias": ((24,), "normal"),
                "fc.weight": ((8, 24), "normal")},
        inputs=[("x", (12,), "f32")],
        outputs=["y"],
        ref=lambda p, x: [np.concatenate([x["x"], 2 * x["x"]], axis=1)
                          @ (p["w"] * p["s"][..., None]).reshape(8, 24).T
                          + (_sigmoid(p["c"] @ p["gate.weight"].T + p["gate.bias"])
                             * np.concatenate([x["x"], x["x"]], axis=1)) @ p["fc.weight"].T]),
    "pooling": dict(
        source="""model pooling {
  input x: f32[N, 6, 7, 5]
  output a = avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=false)
  output b = avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=true)
  output c = conv2d(x, 4, 3, stride=2, padding=1) @conv
  output d = conv2d(x, 3, 1) @pw |> gelu
}
""",
        params={"conv.weight": ((4, 5, 3, 3), "normal"), "conv.bias": ((4,), "normal"),
                "pw.weight": ((3, 5, 1, 1), "normal"), "pw.bias": ((3,), "normal")},
        inputs=[("x", (6, 7, 5), "f32")],
        outputs=["a", "b", "c", "d"],
        ref=lambda p, x: [_avg_pool(x["x"], 3, 1, 1, False), _avg_pool(x["x"], 3, 2, 1, True),
                          _conv(x["x"], p["conv.weight"], p["conv.bias"], 2, 1),
                          ACTS["gelu"](_conv(x["x"], p["pw.weight"], p["pw.bias"], 1, 0))]),
}
OP_BATCHES = [0, 1, 7, 3000]


def op_case(name, precision):
    spec = OP_CASES[name]
    label = "%s_%s" % (name, precision)
    return {"name": label, "op": name, "source": spec["source"].replace(
        "model %s " % name, "model %s " % label), "io": "f32", "precision": precision,
        "batches": OP_BATCHES}


CASES += [op_case(n, "f32") for n in OP_CASES]
CASES += [op_case(n, "f16") for n in ("bcast", "reduce", "group_norm", "token_mixing",
                                      "embedding_i64",
                                      "kan_bases", "param_math", "pooling", "slice_views",
                                      "gemm_k196", "token_gemm")]
CASES += [op_case(n, "bf16") for n in ("bcast", "pooling", "token_gemm")]


def op_inputs(case, batch, rng):
    xs = {}
    for name, shape, kind in OP_CASES[case["op"]]["inputs"]:
        if kind == "f32":
            xs[name] = rng.standard_normal((batch,) + shape).astype(np.float32)
        else:
            dtype, vocabulary = kind.split(":")
            xs[name] = rng.integers(-2, int(vocabulary) + 2, (batch,) + shape).astype(
                np.int64 if dtype == "i64" else np.int32)
    return xs


def op_weights(case, rng):
    tensors = {}
    for name, (shape, init) in sorted(OP_CASES[case["op"]]["params"].items()):
        if init == "positive":
            v = rng.uniform(0.5, 2.0, shape)
        elif init == "knots":  # increasing knots per row, around the inputs
            v = np.sort(rng.uniform(-2.5, 2.5, shape), axis=-1)
        else:
            v = 0.5 * rng.standard_normal(shape)
        tensors[name] = v.astype(np.float32)
    return tensors


def load_with_cublaslt(lib, cublaslt):
    """The library loaded with MLPC_CUBLASLT=`cublaslt` (None: unset)."""
    if cublaslt is not None:
        os.environ["MLPC_CUBLASLT"] = cublaslt
    try:
        return mlpc.load(lib)
    finally:
        os.environ.pop("MLPC_CUBLASLT", None)


def check_op_case(out_dir, case, rng):
    """Every output at every batch, through cuBLASLt and through the
    kernels when the library describes steps for cuBLASLt; returns the
    number of failures."""
    with open(os.path.join(out_dir, case["lib"]), "rb") as f:
        described = b'"cublaslt"' in f.read()
    if not described:
        return check_op_case_once(out_dir, case, rng, None)
    return sum(check_op_case_once(out_dir, case, rng, mode) for mode in ("1", "0"))


def check_op_case_once(out_dir, case, rng, cublaslt):
    spec = OP_CASES[case["op"]]
    weights = load_safetensors(os.path.join(out_dir, case["weights"]))
    p64 = {k: v.astype(np.float64) for k, v in weights.items()}
    model = load_with_cublaslt(os.path.join(out_dir, case["lib"]), cublaslt)
    tol = TOLERANCE[case["precision"]]
    failures, worst = 0, 0.0
    for batch in case["batches"]:
        xs = op_inputs(case, batch, rng)
        got = model.run(xs)
        want = spec["ref"](p64, {k: v.astype(np.float64) if v.dtype.kind == "f" else v
                                 for k, v in xs.items()})
        for name, ref in zip(spec["outputs"], want):
            y = got[name].astype(np.float64)
            if y.shape != ref.shape:
                failures += 1
                print("FAIL %s batch %d: output %s has shape %s, expected %s"
                      % (case["name"], batch, name, y.shape, ref.shape))
                continue
            if batch == 0:
                continue
            err = np.linalg.norm(y - ref) / max(np.linalg.norm(ref), 1e-30)
            worst = max(worst, err)
            if not (np.isfinite(y).all() and err <= tol):
                failures += 1
                print("FAIL %s batch %d: output %s relative error %.3g > %.g"
                      % (case["name"], batch, name, err, tol))
    print("%-24s %-5s worst relative error %.3g (tolerance %.g)%s"
          % (case["name"], case["precision"], worst, tol,
             {"1": " cuBLASLt", "0": " kernels"}.get(cublaslt, "")))
    return failures


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
    if case.get("kind") == "scaled":
        d = case["d"]
        tensors["fc.weight"] = rng.standard_normal((d, d)) / np.sqrt(d)
        tensors["fc.bias"] = 0.1 * rng.standard_normal(d)
        tensors["s"] = rng.uniform(0.1, 1.0, d)
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
    if case.get("kind") == "scaled":
        w = {k: from_bits(v, case["io"]) for k, v in weights.items()}
        return x + (x @ w["fc.weight"].T + w["fc.bias"]) * w["s"]
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
    # MLPC_CASES: a comma-separated subset of the names, for a quick check.
    only = [n for n in os.environ.get("MLPC_CASES", "").split(",") if n]
    for case in CASES:
        if only and case["name"] not in only:
            continue
        src = os.path.join(out_dir, case["name"] + ".mlp")
        with open(src, "w") as f:
            f.write(case["source"])
        wpath = os.path.join(out_dir, case["name"] + ".safetensors")
        if "op" in case:
            tensors, dtypes = op_weights(case, rng), None
        else:
            tensors, dtypes = weights_for(case, rng)
        save_safetensors(tensors, wpath, dtypes=dtypes)
        lib = os.path.join(out_dir, "lib%s.so" % case["name"])
        cmd = [mlpc.find_compiler(), src, "--weights", wpath, "--target=" + targets,
               "--precision=" + case["precision"], "-o", lib]
        # MLPC_EXTRA_ARGS: e.g. a hidden tuning flag, to check a kernel variant.
        subprocess.run(cmd + case.get("flags", []) + os.environ.get("MLPC_EXTRA_ARGS",
                                                                   "").split(), check=True)
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
        if "op" in case:
            failures += check_op_case(out_dir, case, rng)
            continue
        weights = load_safetensors(os.path.join(out_dir, case["weights"]))
        with open(os.path.join(out_dir, case["lib"]), "rb") as f:
            described = b'"cublaslt"' in f.read()
        for mode in (["1", "0"] if described else [None]):
            failures += check_case(out_dir, case, weights, rng, worst, mode)
    layer_cases = [case for case in manifest if "op" not in case]
    if layer_cases:  # (a subset built with MLPC_CASES may have none)
        check_errors(out_dir, layer_cases[0])
    print("cuda cases: %d checked, %d failed" % (len(manifest), failures))
    return failures


def check_case(out_dir, case, weights, rng, worst, cublaslt):
    """Every batch of a layer case; `cublaslt` is MLPC_CUBLASLT's value
    (None: unset) while the model loads."""
    name = case["name"] + ({"1": " (cuBLASLt)", "0": " (kernels)"}.get(cublaslt, ""))
    model = load_with_cublaslt(os.path.join(out_dir, case["lib"]), cublaslt)
    tol = TOLERANCE[case["precision"]]
    failures = 0
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
        worst[name] = max(worst.get(name, 0.0), err)
        if not ok:
            failures += 1
            print("FAIL %s batch %d: relative error %.3g > %.g" % (name, batch, err, tol))
    print("%-24s %-5s worst relative error %.3g (tolerance %.g)"
          % (name, case["precision"], worst.get(name, 0.0), tol))
    return failures


if __name__ == "__main__":
    mode, directory = sys.argv[1], sys.argv[2]
    if mode in ("build", "all"):
        build(directory)
    if mode in ("check", "all"):
        sys.exit(1 if check(directory) else 0)
