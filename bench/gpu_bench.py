"""GPU benchmark of mlpc's CUDA backend (issue: CUDA backend).

Narrow MLP: in 32 -> 4 hidden layers of width W (ReLU, no bias) -> out 16,
fp16 inputs, weights and outputs, W in {32, 64, 128}, batch 2^16, 2^20, 2^22.
mlpc runs through the generated .so (its C ABI, device tensors, the
caller's stream); PyTorch eager and torch.compile run the same network with
the same weights in the same process. tiny-cuda-nn's FullyFusedMLP figures
come from ../shared/ANCHORS.md for the same card type (measured with
CUDA 13 on that card; not re-run here).

Two halves, because the GPU machine has no mlpc:
  python3 bench/gpu_bench.py build DIR    (here: compile the .so files)
  python3 bench/gpu_bench.py run DIR      (GPU machine: time and print)
Timing: CUDA events around 20 back-to-back runs, median of 7 such
repetitions after warm-up; fresh random inputs; each result also checked
against PyTorch eager (relative L2 error).

Other modes (the first argument; DIR as above): `wide` and `vision` (the
wide MLP and the vision models against eager and torch.compile), `build-vision`,
`wide-rounds` (MLPC_WIDE_ROUNDS alternating rounds against torch.compile;
MLPC_WIDE_VARIANTS compares several libraries), `wide-clocks` (SM clock and
power while each runs), `build-layers` / `layers` (one wide GEMM layer through each kernel),
`build-variants` / `variants` (chain-kernel tuning flags), `early` (early
launches against serialized ones). MLPC_PROFILE=1 adds per-kernel CUPTI
profiles and the GPU timeline of one call.
"""
import ctypes
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import mlpc  # noqa: E402
from mlpc.safetensors import load_safetensors, save_safetensors  # noqa: E402

WIDTHS = [32, 64, 128]
BATCHES = [1 << 16, 1 << 20, 1 << 22]

# tiny-cuda-nn FullyFusedMLP, M points/s (../shared/ANCHORS.md, 2026-11-26).
TCNN = {
    "H200": {(32, 1 << 16): 9143, (32, 1 << 20): 17901, (32, 1 << 22): 19551,
             (64, 1 << 16): 3696, (64, 1 << 20): 5298, (64, 1 << 22): 5661,
             (128, 1 << 16): 1054, (128, 1 << 20): 1616, (128, 1 << 22): 1646},
    "H100": {(32, 1 << 20): 17527, (32, 1 << 22): 19428,
             (64, 1 << 20): 5328, (64, 1 << 22): 5709,
             (128, 1 << 20): 1649, (128, 1 << 22): 1681},
}


def model_source(w):
    return ("model narrow_w%d {\n  input x: f16[N, 32]\n  h = x\n" % w
            + "".join("  h = h |> linear(%d, bias=false) @l%d |> relu\n" % (w, i) for i in range(4))
            + "  output y = h |> linear(16, bias=false) @l4\n}\n")


# Wide MLP: 12 blocks of x + fc2(gelu(fc1(layer_norm(x)))), 1024 -> 4096 -> 1024.
WIDE_D, WIDE_H, WIDE_BLOCKS, WIDE_BATCH = 1024, 4096, 12, 16384
WIDE_WEIGHTS = "/tmp/wide_mlp.safetensors"  # made on the GPU machine


def wide_source():
    return ("model wide_mlp {\n  input x: f16[N, %d]\n  repeat %d as i @blocks.{i} {\n"
            "    x = x + (layer_norm(x) @norm |> linear(%d) @fc1 |> gelu |> linear(%d) @fc2)\n"
            "  }\n  output y = x\n}\n" % (WIDE_D, WIDE_BLOCKS, WIDE_H, WIDE_D))


# Extra mlpc flags for the wide and vision builds (e.g. the hidden tuning
# flags), to compare kernel variants in one run.
EXTRA_ARGS = os.environ.get("MLPC_EXTRA_ARGS", "").split()


def build(out):
    os.makedirs(out, exist_ok=True)
    # The wide model's 200 MB of weights are made on the GPU machine.
    src = os.path.join(out, "wide_mlp.mlp")
    with open(src, "w") as f:
        f.write(wide_source())
    subprocess.run([mlpc.find_compiler(), src, "--target=cuda", "--no-embed-weights",
                    "-o", os.path.join(out, "libwide_mlp.so")] + EXTRA_ARGS, check=True)
    rng = np.random.default_rng(7)
    for w in WIDTHS:
        dims = [32, w, w, w, w, 16]
        tensors = {"l%d.weight" % i: (rng.standard_normal((dims[i + 1], dims[i]))
                                      * np.sqrt(2.0 / dims[i])).astype(np.float16)
                   for i in range(5)}
        src = os.path.join(out, "narrow_w%d.mlp" % w)
        with open(src, "w") as f:
            f.write(model_source(w))
        save_safetensors(tensors, os.path.join(out, "narrow_w%d.safetensors" % w))
        subprocess.run([mlpc.find_compiler(), src, "--weights",
                        os.path.join(out, "narrow_w%d.safetensors" % w), "--target=cuda",
                        "-o", os.path.join(out, "libnarrow_w%d.so" % w)], check=True)


# (W, m16 row tiles per warp (sm_80 path), threads per CTA).
VARIANTS = [(w, 2, t) for w in WIDTHS for t in (128, 256, 384)]
# MLPC_VARIANTS: "W:threads:prefetch:min CTAs per SM:ring,..." instead (the
# chain kernels' hidden tuning flags; 0 for the compiler's choice).
if os.environ.get("MLPC_VARIANTS"):
    VARIANTS = [tuple(int(v) for v in item.split(":"))
                for item in os.environ["MLPC_VARIANTS"].split(",")]


def variant_name(v):
    return "_".join(str(n) for n in v)


def variant_flags(v):
    if len(v) == 3:  # (W, row tiles, threads)
        return ["--cuda-chain-row-tiles=%d" % v[1], "--cuda-chain-threads=%d" % v[2]]
    names = ["threads", "prefetch", "min-ctas", "ring"]
    return ["--cuda-chain-%s=%d" % (n, k) for n, k in zip(names, v[1:]) if k or n == "ring"]


def build_variants(out):
    """Chain kernels with other row tiles per warp / threads per CTA (the
    hidden tuning flags), to choose the builder's defaults."""
    build(out)
    for v in VARIANTS:
        w = v[0]
        subprocess.run([mlpc.find_compiler(), os.path.join(out, "narrow_w%d.mlp" % w),
                        "--weights", os.path.join(out, "narrow_w%d.safetensors" % w),
                        "--target=cuda"] + variant_flags(v) +
                       ["-o", os.path.join(out, "libnarrow_%s.so" % variant_name(v))],
                       check=True)


def load_modes(path, full=True, **kw):
    """[(label, model)]: the library as is, and for one built with
    --cuda-cublaslt its cuBLASLt path (MLPC_CUBLASLT=1), the same with every
    launch serialized (MLPC_EARLY_LAUNCH=0), its kernels alone (=0) and, with
    `full`, the cuBLASLt path with the exact-GELU layers left to their fused
    kernels and the kernels with the cp.async loads instead of the TMA
    (MLPC_TMA=0), to compare them in one run."""
    with open(path, "rb") as f:
        if b'"cublaslt"' not in f.read():
            return [("mlpc", mlpc.load(path, **kw))]
    models = []
    modes = [("mlpc cuBLASLt", {"MLPC_CUBLASLT": "1"}),
             ("mlpc cuBLASLt, serialized launches",
              {"MLPC_CUBLASLT": "1", "MLPC_EARLY_LAUNCH": "0"}),
             ("mlpc cuBLASLt but GELU layers", {"MLPC_CUBLASLT": "none,relu,gelu_tanh"}),
             ("mlpc kernels", {"MLPC_CUBLASLT": "0"}),
             ("mlpc kernels, cp.async", {"MLPC_CUBLASLT": "0", "MLPC_TMA": "0"})]
    if not full:
        modes = modes[:2] + [modes[3]]
    for label, env in modes:
        os.environ.update(env)
        try:
            models.append((label, mlpc.load(path, **kw)))
        finally:
            for k in env:
                os.environ.pop(k, None)
    return models


def abi_call(model, x, y, torch):
    """The C ABI call with its arguments prepared once (what a C caller does)."""
    keep = []
    xin = (mlpc._abi.DLTensor * 1)()
    yout = (mlpc._abi.DLTensor * 1)()
    xin[0], _ = model._describe("input", model.inputs[0], x, keep, False)
    yout[0], _ = model._describe("output", model.outputs[0], y, keep, False)
    lib, handle = model._lib, model._handle
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)

    def call():
        keep  # noqa: B018 (keeps the DLTensor shapes alive)
        status = lib.mlp_model_run_async(handle, xin, 1, yout, 1, stream)
        if status != 0:
            raise RuntimeError(mlpc._decode(lib.mlp_last_error()))
    return call


def variants(out):
    import torch
    print("device: %s" % torch.cuda.get_device_name())
    print("| variant (%s) | M pts/s 2^20 | M pts/s 2^22 | max diff vs default |" % (
        "W, threads, prefetch, min CTAs, ring" if os.environ.get("MLPC_VARIANTS")
        else "W, row tiles, threads"))
    print("|---|---|---|---|")
    for v in VARIANTS:
        w = v[0]
        model = mlpc.load(os.path.join(out, "libnarrow_%s.so" % variant_name(v)))
        default = mlpc.load(os.path.join(out, "libnarrow_w%d.so" % w))
        rates, diff = [], 0.0
        for batch in (1 << 20, 1 << 22):
            x = torch.randn(batch, 32, device="cuda", dtype=torch.half)
            y = torch.empty(batch, 16, device="cuda", dtype=torch.half)
            rates.append(batch / time_gpu(abi_call(model, x, y, torch), torch) / 1e6)
            ref = torch.empty_like(y)  # the same math by the default kernel
            abi_call(default, x, ref, torch)()
            torch.cuda.synchronize()
            diff = max(diff, float((y.float() - ref.float()).abs().max()))
        print("| %s | %.0f | %.0f | %.1e |" % (", ".join(map(str, v)), rates[0], rates[1], diff))


def load_serialized(path):
    """The library with every launch serialized (MLPC_EARLY_LAUNCH=0: no
    kernel starts before the previous one ends), to measure the early
    launches against."""
    os.environ["MLPC_EARLY_LAUNCH"] = "0"
    try:
        return mlpc.load(path)
    finally:
        os.environ.pop("MLPC_EARLY_LAUNCH", None)


def early(out):
    """Narrow chains with and without early launches, alternating, 3 rounds."""
    import torch
    print("device: %s" % torch.cuda.get_device_name())
    print("| W | batch | early launch M pts/s | serialized | gain |")
    print("|---|---|---|---|---|")
    for w in WIDTHS:
        path = os.path.join(out, "libnarrow_w%d.so" % w)
        models = [mlpc.load(path), load_serialized(path)]
        for batch in BATCHES:
            x = torch.randn(batch, 32, device="cuda", dtype=torch.half)
            y = torch.empty(batch, 16, device="cuda", dtype=torch.half)
            rates = [[], []]
            for _ in range(3):
                for i, m in enumerate(models):
                    rates[i].append(batch / time_gpu(abi_call(m, x, y, torch), torch) / 1e6)
            a, b = np.median(rates[0]), np.median(rates[1])
            print("| %d | 2^%d | %.0f | %.0f | %.3fx |" % (w, int(np.log2(batch)), a, b, a / b))


def time_gpu(fn, torch, reps=7, inner=20):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / inner)
    return float(np.median(times)) / 1e3  # seconds


def profile_calls(model, calls, torch):
    """MLPC_PROFILE=1: every kernel's GPU time in one call of each of `calls`
    (CUPTI sees the driver-API launches of mlpc_stepN too), printed as a top
    list and added to $OUT/profile.json, {model: {label: [[kernel, us,
    launches]]}}; bench/profile_steps.py names mlpc's steps from --emit=cuda."""
    from torch.profiler import ProfilerActivity, profile
    path = os.path.join(os.environ.get("OUT", "/tmp"), "profile.json")
    data = json.load(open(path)) if os.path.exists(path) else {}
    for label, call in calls.items():
        with torch.no_grad(), profile(activities=[ProfilerActivity.CUDA]) as prof:
            call()
            torch.cuda.synchronize()
        events = prof.key_averages()
        attr = ("self_device_time_total" if hasattr(events[0], "self_device_time_total")
                else "self_cuda_time_total")  # the name before PyTorch 2.4
        data.setdefault(model, {})[label] = sorted(
            ([e.key, getattr(e, attr), e.count] for e in events), key=lambda r: -r[1])
        print("%s, %s: %.0f us on the GPU" % (model, label,
                                             sum(r[1] for r in data[model][label])))
        print(events.table(sort_by="cuda_time_total", row_limit=8,
                           max_name_column_width=60))
        print_timeline(prof, torch)
    with open(path, "w") as f:
        json.dump(data, f)


def print_timeline(prof, torch):
    """Where the GPU idles in a profiled call: the span from the first
    kernel's start to the last one's end against the union of the kernels'
    intervals (early launches overlap them), and the largest gaps."""
    kernels = sorted((e.time_range.start, e.time_range.end, e.name) for e in prof.events()
                     if e.device_type == torch.autograd.DeviceType.CUDA)
    if not kernels:
        return
    busy, gaps, end, last = 0.0, [], kernels[0][0], ""
    for start, stop, name in kernels:
        if start > end:
            gaps.append((start - end, last, name))
        busy += max(0.0, stop - max(start, end))
        if stop > end:
            end, last = stop, name
    span = end - kernels[0][0]
    gaps.sort(reverse=True)
    print("timeline: %d kernels, span %.0f us, busy %.0f us, idle %.0f us in %d gaps; "
          "largest: %s" % (len(kernels), span, busy, span - busy, len(gaps), "; ".join(
              "%.1f us %s -> %s" % (g, a[:40], b[:40]) for g, a, b in gaps[:4])))


def wide_models(out, torch):
    """mlpc's wide MLP (load_modes), PyTorch eager and torch.compile with the
    same weights, an input and an output."""
    rng = np.random.default_rng(11)
    d, h = WIDE_D, WIDE_H
    tensors = {}
    for b in range(WIDE_BLOCKS):
        p = "blocks.%d." % b
        tensors[p + "norm.weight"] = (1 + 0.1 * rng.standard_normal(d)).astype(np.float16)
        tensors[p + "norm.bias"] = (0.1 * rng.standard_normal(d)).astype(np.float16)
        tensors[p + "fc1.weight"] = (rng.standard_normal((h, d)) / np.sqrt(d)).astype(np.float16)
        tensors[p + "fc1.bias"] = (0.1 * rng.standard_normal(h)).astype(np.float16)
        tensors[p + "fc2.weight"] = (rng.standard_normal((d, h)) / np.sqrt(h)).astype(np.float16)
        tensors[p + "fc2.bias"] = (0.1 * rng.standard_normal(d)).astype(np.float16)
    save_safetensors(tensors, WIDE_WEIGHTS)
    models = load_modes(os.path.join(out, "libwide_mlp.so"), weights=WIDE_WEIGHTS)

    class Block(torch.nn.Module):
        def __init__(self, b):
            super().__init__()
            p = "blocks.%d." % b
            self.norm = torch.nn.LayerNorm(d)
            self.fc1 = torch.nn.Linear(d, h)
            self.fc2 = torch.nn.Linear(h, d)
            for mod, name in ((self.norm, "norm"), (self.fc1, "fc1"), (self.fc2, "fc2")):
                mod.weight.data = torch.from_numpy(tensors[p + name + ".weight"].astype(np.float32))
                mod.bias.data = torch.from_numpy(tensors[p + name + ".bias"].astype(np.float32))

        def forward(self, x):
            return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm(x))))

    eager = torch.nn.Sequential(*[Block(b) for b in range(WIDE_BLOCKS)]).half().cuda().eval()
    compiled = torch.compile(eager)
    x = torch.randn(WIDE_BATCH, d, device="cuda", dtype=torch.half)
    return models, eager, compiled, x, torch.empty_like(x)


def run_wide(out, torch):
    """The wide MLP against PyTorch eager and torch.compile (same weights)."""
    models, eager, compiled, x, y = wide_models(out, torch)
    flops = 2.0 * WIDE_BATCH * 2 * WIDE_D * WIDE_H * WIDE_BLOCKS
    t, err = {}, 0.0
    calls = {}
    with torch.no_grad():
        ref = eager(x).float()
        for label, model in models:
            call = calls[label] = abi_call(model, x, y, torch)
            call()
            torch.cuda.synchronize()
            err = max(err, float((y.float() - ref).norm() / ref.norm()))
            t[label] = time_gpu(call, torch, reps=5, inner=5)
        t["eager"] = time_gpu(lambda: eager(x), torch, reps=5, inner=5)
        t["compile"] = time_gpu(lambda: compiled(x), torch, reps=5, inner=5)
        if os.environ.get("MLPC_PROFILE"):
            profile_calls("wide_mlp", dict(calls, compile=lambda: compiled(x)), torch)
    print("\nwide MLP (12 x [LN, 1024 -> 4096 GELU -> 1024, + x]), batch %d, fp16:" % WIDE_BATCH)
    print("| | ms | effective TFLOP/s | vs torch.compile |")
    print("|---|---|---|---|")
    for k, v in t.items():
        print("| %s | %.3f | %.0f | %.2fx |" % (k, v * 1e3, flops / v / 1e12, t["compile"] / v))
    print("relative L2 difference mlpc vs eager: %.1e" % err)
    return t, err


# One layer of the wide MLP (16384 x 1024 -> 4096), with each activation:
# the generated GEMM kernels against cuBLASLt and PyTorch, one layer at a time.
LAYER_ACTS = ["none", "relu", "gelu"]


def layer_source(act):
    return ("model layer_%s {\n  input x: f16[N, %d]\n  output y = x |> linear(%d) @fc%s\n}\n"
            % (act, WIDE_D, WIDE_H, "" if act == "none" else " |> " + act))


def build_layers(out, flags=()):
    os.makedirs(out, exist_ok=True)
    for act in LAYER_ACTS:
        src = os.path.join(out, "layer_%s.mlp" % act)
        with open(src, "w") as f:
            f.write(layer_source(act))
        subprocess.run([mlpc.find_compiler(), src, "--target=cuda", "--no-embed-weights",
                        "-o", os.path.join(out, "liblayer_%s.so" % act)] + list(flags)
                       + EXTRA_ARGS, check=True)


def layers(out):
    """Each layer through cuBLASLt and through the generated kernel, against
    torch's F.linear (+ activation), in us per call and TFLOP/s."""
    import torch
    print("device: %s" % torch.cuda.get_device_name())
    rng = np.random.default_rng(5)
    w = (rng.standard_normal((WIDE_H, WIDE_D)) / np.sqrt(WIDE_D)).astype(np.float16)
    b = (0.1 * rng.standard_normal(WIDE_H)).astype(np.float16)
    wpath = "/tmp/layer.safetensors"
    save_safetensors({"fc.weight": w, "fc.bias": b}, wpath)
    x = torch.randn(WIDE_BATCH, WIDE_D, device="cuda", dtype=torch.half)
    y = torch.empty(WIDE_BATCH, WIDE_H, device="cuda", dtype=torch.half)
    wt, bt = torch.from_numpy(w).cuda(), torch.from_numpy(b).cuda()
    flops = 2.0 * WIDE_BATCH * WIDE_D * WIDE_H
    print("| layer | mlpc cuBLASLt us | mlpc ping-pong kernel us | mlpc pair kernel us | torch us "
          "| ping-pong TFLOP/s | max diff |")
    print("|---|---|---|---|---|---|---|")
    fns = {"none": lambda v: v, "relu": torch.relu, "gelu": torch.nn.functional.gelu}
    with torch.no_grad():
        for act in LAYER_ACTS:
            path = os.path.join(out, "liblayer_%s.so" % act)
            lt, _, kernel = [m for _, m in load_modes(path, full=False, weights=wpath)]
            os.environ.update(MLPC_CUBLASLT="0", MLPC_PING_PONG="0")
            pair = mlpc.load(path, weights=wpath)
            for k in ("MLPC_CUBLASLT", "MLPC_PING_PONG"):
                os.environ.pop(k)
            ref = fns[act](torch.nn.functional.linear(x, wt, bt)).float()
            times, diff = [], 0.0
            for m in (lt, kernel, pair):
                call = abi_call(m, x, y, torch)
                call()
                torch.cuda.synchronize()
                diff = max(diff, float((y.float() - ref).abs().max()))
                times.append(time_gpu(call, torch))
            t_torch = time_gpu(lambda: fns[act](torch.nn.functional.linear(x, wt, bt)), torch)
            print("| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.1e |" % (
                act, times[0] * 1e6, times[1] * 1e6, times[2] * 1e6, t_torch * 1e6,
                flops / times[1] / 1e12, diff))


def wide_variants(default):
    """[(label, model)] to time in wide_rounds: MLPC_WIDE_VARIANTS,
    "label=lib.so[@VAR=value]" items separated by commas (libraries built
    with --no-embed-weights, loaded with wide_models' weights, VAR set while
    loading), or else mlpc's default mode."""
    spec = os.environ.get("MLPC_WIDE_VARIANTS")
    if not spec:
        return [("mlpc", default)]
    models = []
    for item in spec.split(","):
        label, rest = item.split("=", 1)
        path, _, env = rest.partition("@")
        var, _, value = env.partition("=")
        if var:
            os.environ[var] = value
        try:
            models.append((label, mlpc.load(path, weights=WIDE_WEIGHTS)))
        finally:
            os.environ.pop(var, None)
    return models


def wide_rounds(out):
    """mlpc's wide MLP (its default mode, or MLPC_WIDE_VARIANTS) and
    torch.compile's, timed in alternating rounds in one process
    (MLPC_WIDE_ROUNDS, default 7): the median of the per-round ratios, which
    drift with the GPU's power state less than a single pair does."""
    import torch
    rounds = int(os.environ.get("MLPC_WIDE_ROUNDS", "7"))
    models, _, compiled, x, y = wide_models(out, torch)
    variants = wide_variants(models[0][1])
    ref = None
    with torch.no_grad():
        for label, model in variants:  # every variant computes the same
            abi_call(model, x, y, torch)()
            torch.cuda.synchronize()
            ref = y.clone() if ref is None else ref
            print("%s: relative L2 difference from %s %.1e" % (
                label, variants[0][0], float((y.float() - ref.float()).norm() / ref.float().norm())))
    calls = [(label, abi_call(model, x, y, torch)) for label, model in variants]
    times = {label: [] for label, _ in calls}
    theirs = []
    with torch.no_grad():
        for _ in range(rounds):
            for label, call in calls:
                times[label].append(time_gpu(call, torch, reps=5, inner=5) * 1e3)
            theirs.append(time_gpu(lambda: compiled(x), torch, reps=5, inner=5) * 1e3)
    print("torch.compile ms: %s" % ", ".join("%.3f" % t for t in theirs))
    for label, ours in times.items():
        ratios = [b / a for a, b in zip(ours, theirs)]
        print("%s ms: %s" % (label, ", ".join("%.3f" % t for t in ours)))
        print("  per-round ratios: %s" % ", ".join("%.3fx" % r for r in ratios))
        print("  median: %.3f ms against torch.compile's %.3f, ratio %.3fx" % (
            np.median(ours), np.median(theirs), np.median(ratios)))


def wide_clocks(out):
    """Runs mlpc's wide MLP and torch.compile's for 2 s each, twice, while
    nvidia-smi samples the SM clock and the power every 20 ms: whether one
    of them runs at lower clocks (power or thermal limits)."""
    import torch
    models, _, compiled, x, y = wide_models(out, torch)
    calls = [("mlpc", abi_call(models[0][1], x, y, torch)), ("compile", lambda: compiled(x))]
    log = os.path.join(os.environ.get("OUT", "/tmp"), "clocks.csv")
    smi = subprocess.Popen(["nvidia-smi", "--query-gpu=timestamp,clocks.sm,power.draw,"
                            "temperature.gpu,clocks_event_reasons.active", "--format=csv,noheader,"
                            "nounits", "-lms", "20"], stdout=open(log, "w"))
    phases = []
    with torch.no_grad():
        for label, call in calls * 2:
            call()
            torch.cuda.synchronize()
            begin, n = time.time(), 0
            while time.time() - begin < 2.0:
                call()
                n += 1
                if n % 4 == 0:
                    torch.cuda.synchronize()
            torch.cuda.synchronize()
            phases.append((label, begin, time.time(), n))
            time.sleep(0.5)
    time.sleep(0.1)
    smi.terminate()
    samples = []
    for line in open(log):
        f = [v.strip() for v in line.split(",")]
        try:
            stamp = time.mktime(time.strptime(f[0].split(".")[0], "%Y/%m/%d %H:%M:%S"))
            samples.append((stamp + float("0." + f[0].split(".")[1]), float(f[1]),
                            float(f[2]), float(f[3]), f[4]))
        except (ValueError, IndexError):
            continue
    print("| run | ms per call | SM MHz (mean) | power W (mean) | temperature C | clock event reasons |")
    print("|---|---|---|---|---|---|")
    for label, begin, end, n in phases:
        inside = [s for s in samples if begin + 0.3 <= s[0] <= end]
        if not inside:
            print("| %s | %.3f | - | - | - | - |" % (label, (end - begin) / n * 1e3))
            continue
        reasons = sorted({s[4] for s in inside})
        print("| %s | %.3f | %.0f | %.0f | %.0f | %s |" % (
            label, (end - begin) / n * 1e3, np.mean([s[1] for s in inside]),
            np.mean([s[2] for s in inside]), np.max([s[3] for s in inside]),
            " ".join(reasons)))


VISION = [("mixer_s16_224", "mixer_s16_224"), ("mixer_b16_224", "mixer_b16_224"),
          ("resmlp_12_224", "resmlp_12_224"),
          ("gmlp_s16_224", "gmlp_s16_224"), ("poolformer_s12", "poolformer_s12")]
VISION_BATCH = 256
if os.environ.get("MLPC_VISION"):  # a comma-separated subset
    VISION = [v for v in VISION if v[0] in os.environ["MLPC_VISION"].split(",")]


# The models whose token mixing runs as batched GEMMs.
TOKEN_GEMM_MODELS = ("mixer_s16_224", "mixer_b16_224", "resmlp_12_224", "gmlp_s16_224")


def mixer_b16_source(models):
    """MLP-Mixer B/16 (not a zoo model): the S/16 file with B/16's widths
    (768 channels, token MLP 384, channel MLP 3072) and 12 blocks."""
    with open(os.path.join(models, "mixer_s16_224.mlp")) as f:
        text = f.read()
    for old, new in (("model mixer_s16_224", "model mixer_b16_224"),
                     ("dim=512", "dim=768"), ("repeat 8 ", "repeat 12 "),
                     ("linear(256)", "linear(384)"), ("linear(2048)", "linear(3072)"),
                     ("linear(512)", "linear(768)")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def build_vision(out):
    """The zoo's vision MLPs (and Mixer B/16) for CUDA in f16, weights given
    at load time."""
    os.makedirs(out, exist_ok=True)
    models = os.path.join(HERE, "..", "models")
    for name, _ in VISION:
        src = os.path.join(models, name + ".mlp")
        if name == "mixer_b16_224":
            src = os.path.join(out, name + ".mlp")
            with open(src, "w") as f:
                f.write(mixer_b16_source(models))
        subprocess.run([mlpc.find_compiler(), src,
                        "--target=cuda", "--precision=f16", "--no-embed-weights",
                        "-o", os.path.join(out, "lib%s.so" % name)] + EXTRA_ARGS,
                       check=True)
        # Token mixing through transposes and chain kernels, against the
        # default batched GEMM (--cuda-token-gemm), in the same run.
        if name in TOKEN_GEMM_MODELS:
            subprocess.run([mlpc.find_compiler(), src, "--target=cuda", "--precision=f16",
                            "--no-embed-weights", "--cuda-token-gemm=false",
                            "-o", os.path.join(out, "lib%s_transposes.so" % name)]
                           + EXTRA_ARGS, check=True)



def run_vision(out, torch):
    """timm's models (random init) against mlpc with the same state_dict, batch 256,
    images/s; the f16 timm model gets f16 images, mlpc its declared f32 input."""
    import timm
    rows = []
    for name, timm_name in VISION:
        net = timm.create_model(timm_name, pretrained=False).eval()
        # timm initializes the classifier head to zero: every output would be
        # the (zero) bias and the comparison below would check nothing.
        with torch.no_grad():
            for pname, p in net.named_parameters():
                if pname.startswith("head"):
                    p.normal_(0.0, 0.02)
        state = {k: v.detach().numpy().astype(np.float32)
                 for k, v in net.state_dict().items()}
        wpath = "/tmp/%s.safetensors" % name
        save_safetensors(state, wpath)
        try:
            models = load_modes(os.path.join(out, "lib%s.so" % name), full=False,
                                weights=wpath)
            transposes = os.path.join(out, "lib%s_transposes.so" % name)
            if os.path.exists(transposes):
                models.append(("mlpc cuBLASLt, token mixing by transposes",
                               mlpc.load(transposes, weights=wpath)))

        except mlpc.MlpcError as e:  # e.g. timm's parameter names changed
            print("%s: cannot load timm's weights: %s" % (name, e))
            continue
        net = net.half().cuda()
        compiled = torch.compile(net)
        x32 = torch.randn(VISION_BATCH, 3, 224, 224, device="cuda")
        x16 = x32.half()
        y = torch.empty(VISION_BATCH, 1000, device="cuda")
        t, err, calls = {}, 0.0, {}
        with torch.no_grad():
            ref = net(x16).float()
            for label, model in models:
                call = calls[label] = abi_call(model, x32, y, torch)
                call()
                torch.cuda.synchronize()
                # timm's random init can overflow fp16 in PyTorch's own output:
                # compare where both are finite, and say how many are not.
                finite = torch.isfinite(ref) & torch.isfinite(y)
                yf, rf = y[finite].double(), ref[finite].double()
                err = max(err, float((yf - rf).norm() / rf.norm()))
                if not bool(finite.all()):
                    print("%s: %d non-finite outputs (mlpc %d, PyTorch %d)" % (
                        name, int((~finite).sum()), int((~torch.isfinite(y)).sum()),
                        int((~torch.isfinite(ref)).sum())))
                t[label] = time_gpu(call, torch, reps=5, inner=5)
            t["eager"] = time_gpu(lambda: net(x16), torch, reps=5, inner=5)
            t["compile"] = time_gpu(lambda: compiled(x16), torch, reps=5, inner=5)
        if os.environ.get("MLPC_PROFILE"):
            profile_calls(name, dict(calls, compile=lambda: compiled(x16)), torch)
        rows.append((name, t, err))
    print("\nvision MLPs, batch %d, fp16, images/s:" % VISION_BATCH)
    print("| model | mlpc | PyTorch eager | torch.compile | mlpc / compile | rel. diff vs eager |")
    print("|---|---|---|---|---|---|")
    for name, t, err in rows:
        ips = {k: VISION_BATCH / v for k, v in t.items()}
        for label in (k for k in ips if k.startswith("mlpc")):
            print("| %s | %.0f | %.0f | %.0f | %.2fx | %.1e |" % (
                name + label[4:], ips[label], ips["eager"], ips["compile"],
                ips[label] / ips["compile"], err))
    return rows


def run(out):
    import torch
    name = torch.cuda.get_device_name()
    card = "H200" if "H200" in name else "H100" if "H100" in name else None
    print("device: %s (torch %s)" % (name, torch.__version__))
    rows = []
    for w in WIDTHS:
        weights = load_safetensors(os.path.join(out, "narrow_w%d.safetensors" % w))
        layers = []
        for i in range(5):
            wt = torch.from_numpy(weights["l%d.weight" % i]).cuda()
            lin = torch.nn.Linear(wt.shape[1], wt.shape[0], bias=False).half().cuda()
            lin.weight.data.copy_(wt)
            layers += [lin] + ([torch.nn.ReLU()] if i < 4 else [])
        eager = torch.nn.Sequential(*layers).eval()
        compiled = torch.compile(eager)
        model = mlpc.load(os.path.join(out, "libnarrow_w%d.so" % w))
        serialized = load_serialized(os.path.join(out, "libnarrow_w%d.so" % w))
        for batch in BATCHES:
            x = torch.randn(batch, 32, device="cuda", dtype=torch.half)
            y = torch.empty(batch, 16, device="cuda", dtype=torch.half)
            call = abi_call(model, x, y, torch)
            with torch.no_grad():
                call()
                torch.cuda.synchronize()
                ref = eager(x).float()
                err = float((y.float() - ref).norm() / ref.norm())
                t_mlpc = time_gpu(call, torch)
                t_serial = time_gpu(abi_call(serialized, x, y, torch), torch)
                if os.environ.get("MLPC_PROFILE") and batch == 1 << 20:
                    # The kernel's own time, and the host's per call (no
                    # sync: the launches queue up unless the host is slower).
                    profile_calls("narrow_w%d_2^20" % w, {"mlpc": call}, torch)
                    torch.cuda.synchronize()
                    begin = time.perf_counter()
                    for _ in range(200):
                        call()
                    host = (time.perf_counter() - begin) / 200
                    torch.cuda.synchronize()
                    print("narrow W=%d 2^20: %.1f us per call on the host, %.1f us on the GPU"
                          % (w, host * 1e6, t_mlpc * 1e6))
                t_eager = time_gpu(lambda xb=x: eager(xb), torch)
                t_comp = time_gpu(lambda xb=x: compiled(xb), torch)
            tc = TCNN.get(card, {}).get((w, batch))
            rows.append({"W": w, "batch": batch, "mlpc": batch / t_mlpc / 1e6,
                         "serialized": batch / t_serial / 1e6,
                         "eager": batch / t_eager / 1e6, "compile": batch / t_comp / 1e6,
                         "tcnn": tc, "err": err})
            del x, y
    wide, wide_err = run_wide(out, torch)
    with open(os.path.join(os.environ.get("OUT", out), "gpu_bench.json"), "w") as f:
        json.dump({"device": name, "rows": rows, "wide": wide, "wide_err": wide_err}, f,
                  indent=1)
    print("\n| W | batch | mlpc M pts/s | serialized launches | PyTorch eager | torch.compile "
          "| tiny-cuda-nn (ANCHORS) | mlpc / tcnn | mlpc / compile | rel. err vs eager |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tc = r["tcnn"]
        print("| %d | 2^%d | %.0f | %.0f | %.0f | %.0f | %s | %s | %.2fx | %.1e |" % (
            r["W"], int(np.log2(r["batch"])), r["mlpc"], r["serialized"], r["eager"],
            r["compile"],
            "%d" % tc if tc else "-", "%.2fx" % (r["mlpc"] / tc) if tc else "-",
            r["mlpc"] / r["compile"], r["err"]))


if __name__ == "__main__":
    {"build": build, "run": run, "build-variants": build_variants,
     "variants": variants, "early": early, "wide-clocks": wide_clocks,
     "wide-rounds": wide_rounds,
     "build-layers": build_layers, "layers": layers,
     "wide": lambda out: run_wide(out, __import__("torch")),
     "build-vision": build_vision,
     "vision": lambda out: run_vision(out, __import__("torch"))}[sys.argv[1]](sys.argv[2])
