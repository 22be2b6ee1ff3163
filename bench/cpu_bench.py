#!/usr/bin/env python3
"""CPU benchmark: mlpc against PyTorch eager and OpenBLAS sgemm, same machine,
same run, same thread count.

    bash bench/run.sh                # installs anchors, builds, runs, writes RESULTS.md

Every workload gets fresh random weights and inputs; times are medians of
repeated runs after warm-up. The OpenBLAS column is the sgemm time of the same
matrix shapes (bias and activation excluded): the practical ceiling.
"""
import argparse
import ctypes
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import mlpc  # noqa: E402

try:
    import torch
except ImportError:  # the table says so
    torch = None


def median_seconds(fn, min_time=0.5, min_reps=5, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 200:
            break
    return statistics.median(times)


# --- models ------------------------------------------------------------------

class MLP:
    """A plain MLP: dims[0] -> ... -> dims[-1], ReLU between layers."""

    def __init__(self, name, dims, bias, rng):
        self.name, self.dims, self.bias = name, dims, bias
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
            w = (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
            b = rng.standard_normal(n_out).astype(np.float32) * 0.1 if bias else None
            self.layers.append(("fc%d" % i, w, b))

    def source(self):
        lines = ["model %s {" % self.name, "  input x: f32[N, %d]" % self.dims[0], "  h = x"]
        for i, (name, w, b) in enumerate(self.layers):
            act = " |> relu" if i + 1 < len(self.layers) else ""
            bias = "" if self.bias else ", bias=false"
            target = "output y" if i + 1 == len(self.layers) else "h"
            lines.append("  %s = linear(h, %d%s) @%s%s" % (target, w.shape[0], bias, name, act))
        lines.append("}")
        return "\n".join(lines) + "\n"

    def weights(self):
        out = {}
        for name, w, b in self.layers:
            out[name + ".weight"] = w
            if b is not None:
                out[name + ".bias"] = b
        return out

    def flops(self, batch):
        return 2 * batch * sum(w.size for _, w, _ in self.layers)

    def torch_module(self):
        mods = []
        for i, (_, w, b) in enumerate(self.layers):
            lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                if b is not None:
                    lin.bias.copy_(torch.from_numpy(b))
            mods.append(lin)
            if i + 1 < len(self.layers):
                mods.append(torch.nn.ReLU())
        return torch.nn.Sequential(*mods).eval()

    def gemm_shapes(self, batch):
        return [(batch, w.shape[1], w.shape[0]) for _, w, _ in self.layers]


def compile_model(model, workdir):
    mlp_path = os.path.join(workdir, model.name + ".mlp")
    with open(mlp_path, "w") as f:
        f.write(model.source())
    weights = os.path.join(workdir, model.name + ".safetensors")
    mlpc.save_safetensors(model.weights(), weights)
    start = time.perf_counter()
    lib = mlpc.compile(mlp_path, weights=weights, output=os.path.join(workdir, "lib%s.so" % model.name))
    return mlpc.load(lib), time.perf_counter() - start


# --- OpenBLAS ----------------------------------------------------------------

class OpenBLAS:
    PATHS = ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
             "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"]

    def __init__(self, threads):
        self.lib = None
        self.core = "not found"
        for path in self.PATHS:
            if os.path.exists(path):
                self.lib = ctypes.CDLL(path)
                break
        if self.lib is None:
            return
        self.lib.openblas_set_num_threads(threads)
        self.lib.openblas_get_corename.restype = ctypes.c_char_p
        self.core = self.lib.openblas_get_corename().decode()
        self.lib.cblas_sgemm.restype = None
        p = ctypes.c_void_p
        i = ctypes.c_int
        f = ctypes.c_float
        self.lib.cblas_sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]

    def gemm_chain_seconds(self, shapes):
        """Times C = A @ B^T for each (M, K, N), the layout of nn.Linear."""
        if self.lib is None:
            return None
        bufs = []
        for m, k, n in shapes:
            a = np.random.rand(m, k).astype(np.float32)
            b = np.random.rand(n, k).astype(np.float32)
            c = np.empty((m, n), np.float32)
            bufs.append((m, k, n, a, b, c))

        def run():
            for m, k, n, a, b, c in bufs:
                # RowMajor=101, NoTrans=111, Trans=112
                self.lib.cblas_sgemm(101, 111, 112, m, n, k, 1.0, a.ctypes.data, k,
                                     b.ctypes.data, k, 0.0, c.ctypes.data, n)
        return median_seconds(run)


# --- the table ---------------------------------------------------------------

def bench_mlp(model, batch, threads, blas, workdir, rows, label=None, cached=None):
    m, compile_s = cached if cached else compile_model(model, workdir)
    m.num_threads = threads
    x = np.random.default_rng().standard_normal((batch, model.dims[0])).astype(np.float32)
    t_mlpc = median_seconds(lambda: m(x))
    t_torch = None
    if torch is not None:
        module = model.torch_module()
        xt = torch.from_numpy(x)
        with torch.inference_mode():
            t_torch = median_seconds(lambda: module(xt))
    t_blas = blas.gemm_chain_seconds(model.gemm_shapes(batch))
    rows.append({
        "workload": label or "%s, batch %d" % (model.name, batch),
        "mlpc_ms": t_mlpc * 1e3,
        "torch_ms": t_torch * 1e3 if t_torch else None,
        "gflops": model.flops(batch) / t_mlpc / 1e9,
        "blas_gflops": model.flops(batch) / t_blas / 1e9 if t_blas else None,
        "compile_s": compile_s,
    })
    return m, compile_s


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def table(rows):
    head = ("| workload | mlpc ms | PyTorch ms | speedup vs PyTorch | mlpc GFLOP/s "
            "| sgemm GFLOP/s | % of sgemm | compile s |")
    out = [head, "|" + "---|" * 8]
    for r in rows:
        ratio = r["torch_ms"] / r["mlpc_ms"] if r["torch_ms"] else None
        pct = 100 * r["gflops"] / r["blas_gflops"] if r["blas_gflops"] else None
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["workload"], fmt(r["mlpc_ms"], ".3f"), fmt(r["torch_ms"], ".3f"),
            fmt(ratio, ".2f") + ("x" if ratio else ""), fmt(r["gflops"], ".1f"),
            fmt(r["blas_gflops"], ".1f"), fmt(pct, ".0f"), fmt(r["compile_s"], ".2f")))
    return "\n".join(out)


def odd_batches(model, threads, workdir, cached, rounds=3):
    """Per-row time of each odd batch and its nearest round batch, measured
    alternately `rounds` times (the lowest median of each counts), so that a
    burst of load on a shared machine does not land on one side only."""
    m, _ = cached
    m.num_threads = threads
    lines = ["| batch | per-row µs | nearest round batch | per-row µs | ratio |", "|---|---|---|---|---|"]
    for odd, round_ in ((1, 1), (7, 8), (1000, 1024), (4097, 4096)):
        xs = [np.random.default_rng().standard_normal((b, model.dims[0])).astype(np.float32)
              for b in (odd, round_)]
        per_row = [float("inf")] * 2
        for _ in range(rounds):
            for i, x in enumerate(xs):
                per_row[i] = min(per_row[i], median_seconds(lambda: m(x)) / len(x) * 1e6)
        lines.append("| %d | %.3f | %d | %.3f | %.2f |" % (odd, per_row[0], round_, per_row[1],
                                                           per_row[0] / per_row[1]))
    return "\n".join(lines)


# Batch-1 latency without the Python binding, and the time to read the
# weights once (the floor of a batch-1 run, which touches every weight once):
# small C programs built with the system compiler for this machine.
C_LATENCY = r"""
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "mlp/runtime.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b;
                                               return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  int64_t batch = atoll(argv[2]), in = atoll(argv[3]), out = atoll(argv[4]);
  int threads = atoi(argv[5]), reps = 2000;
  mlp_status (*create)(const char *, mlp_model **) = dlsym(h, "mlp_model_create");
  mlp_status (*run)(mlp_model *, const DLTensor *, int32_t, DLTensor *, int32_t) =
      dlsym(h, "mlp_model_run");
  mlp_status (*set_threads)(int32_t) = dlsym(h, "mlp_set_num_threads");
  mlp_model *m;
  if (create(NULL, &m)) return 1;
  set_threads(threads);
  float *x = calloc(batch * in, 4), *y = calloc(batch * out, 4);
  for (int64_t i = 0; i < batch * in; ++i) x[i] = (float)(i % 7) * 0.1f;
  int64_t xs[2] = {batch, in}, ys[2] = {batch, out};
  DLTensor tx = {x, {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, xs, NULL, 0};
  DLTensor ty = {y, {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, ys, NULL, 0};
  double *t = malloc(reps * sizeof(double));
  for (int i = 0; i < 200; ++i) run(m, &tx, 1, &ty, 1);
  for (int i = 0; i < reps; ++i) { double s = now(); run(m, &tx, 1, &ty, 1); t[i] = now() - s; }
  qsort(t, reps, sizeof(double), cmp);
  printf("%g %g\n", t[reps / 2], t[reps / 10]);
  return 0;
}
"""

C_READ = r"""
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b;
                                               return x < y ? -1 : x > y; }
enum { REPS = 2000 };
typedef struct { const float *p; size_t n; double t[REPS]; float sink; pthread_barrier_t *bar; } Arg;
static float sweep(const float *p, size_t n) {
  __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
  for (size_t i = 0; i < n; i += 64) {
    a = _mm512_add_ps(a, _mm512_load_ps(p + i));
    b = _mm512_add_ps(b, _mm512_load_ps(p + i + 16));
    c = _mm512_add_ps(c, _mm512_load_ps(p + i + 32));
    d = _mm512_add_ps(d, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}
static void *worker(void *v) {
  Arg *a = v; float s = 0;
  for (int i = 0; i < 50; ++i) s += sweep(a->p, a->n);
  for (int i = 0; i < REPS; ++i) {
    pthread_barrier_wait(a->bar);
    double t = now(); s += sweep(a->p, a->n); a->t[i] = now() - t;
  }
  a->sink = s;
  return 0;
}
int main(int argc, char **argv) {
  size_t bytes = (size_t)atoll(argv[1]) / 4096 * 4096; int threads = atoi(argv[2]);
  float *p = aligned_alloc(64, bytes);
  for (size_t i = 0; i < bytes / 4; ++i) p[i] = 1.0f;
  pthread_barrier_t bar; pthread_barrier_init(&bar, 0, threads);
  Arg *a = calloc(threads, sizeof(Arg)); pthread_t *t = calloc(threads, sizeof(pthread_t));
  for (int i = 0; i < threads; ++i) {
    a[i].n = bytes / 4 / threads / 64 * 64; a[i].p = p + i * a[i].n; a[i].bar = &bar;
    pthread_create(&t[i], 0, worker, &a[i]);
  }
  for (int i = 0; i < threads; ++i) pthread_join(t[i], 0);
  double sweep_t[REPS];
  for (int r = 0; r < REPS; ++r) {  /* a sweep lasts as long as its slowest thread */
    sweep_t[r] = 0;
    for (int i = 0; i < threads; ++i) if (a[i].t[r] > sweep_t[r]) sweep_t[r] = a[i].t[r];
  }
  qsort(sweep_t, REPS, sizeof(double), cmp);
  printf("%g %g\n", sweep_t[REPS / 2], sweep_t[0]);
  return 0;
}
"""


def build_c(source, name, workdir, libs=()):
    """Compiles a C program for this machine; None if that fails."""
    src = os.path.join(workdir, name + ".c")
    exe = os.path.join(workdir, name)
    with open(src, "w") as f:
        f.write(source)
    proc = subprocess.run(["cc", "-O2", "-march=native", "-pthread",
                           "-I" + os.path.join(ROOT, "runtime", "include"), src, "-o", exe,
                           *libs], capture_output=True, text=True)
    return exe if proc.returncode == 0 else None


def batch1_latency(model, threads, workdir, rows):
    """Batch-1 latency of the tabular .so through its C API (no Python
    binding), next to the time to read its weights once: the floor."""
    exe = build_c(C_LATENCY, "latency", workdir, ["-ldl"])
    lib = os.path.join(workdir, "lib%s.so" % model.name)
    # On one thread too: batch 1 is one row block, which ran on one thread
    # before column-parallel runs (a team splitting each layer's columns).
    for t in sorted({1, threads}) if exe else ():
        out = subprocess.run([exe, lib, "1", str(model.dims[0]), str(model.dims[-1]),
                              str(t)], capture_output=True, text=True).stdout.split()
        rows.append({"workload": "tabular, batch 1, C API, %d thread%s (median; 10th percentile "
                                 "%.3f ms)" % (t, "s" if t > 1 else "", float(out[1]) * 1e3),
                     "mlpc_ms": float(out[0]) * 1e3, "torch_ms": None,
                     "gflops": model.flops(1) / float(out[0]) / 1e9, "blas_gflops": None,
                     "compile_s": None})
    reader = build_c(C_READ, "read", workdir)
    weight_bytes = 4 * sum(w.size + (b.size if b is not None else 0) for _, w, b in model.layers)
    lines = ["| threads | read %.2f MB once: median µs | best µs | GB/s (median) |" % (
        weight_bytes / 1e6), "|---|---|---|---|"]
    for t in sorted({1, threads}):
        if not reader:
            break
        out = subprocess.run([reader, str(weight_bytes), str(t)], capture_output=True,
                             text=True).stdout.split()
        lines.append("| %d | %.2f | %.2f | %.0f |" % (t, float(out[0]) * 1e6, float(out[1]) * 1e6,
                                                       weight_bytes / float(out[0]) / 1e9))
    return "\n".join(lines)


def compile_times(workdir):
    lines = ["| model | compile s (to .so, random weights) |", "|---|---|"]
    models_dir = os.path.join(ROOT, "models")
    for name in sorted(os.listdir(models_dir)):
        if not name.endswith(".mlp"):
            continue
        path = os.path.join(models_dir, name)
        start = time.perf_counter()
        proc = subprocess.run([mlpc.find_compiler(), path, "--emit=obj", "--no-embed-weights",
                               "-o", os.path.join(workdir, name + ".o")],
                              capture_output=True, text=True)
        took = time.perf_counter() - start
        lines.append("| %s | %s |" % (name, "%.2f" % took if proc.returncode == 0 else
                                      "fails: " + proc.stderr.strip().splitlines()[0]))
    return "\n".join(lines)


def mixer_row(batch, threads, workdir, rows):
    """MLP-Mixer S/16 (models/mixer_s16_224.mlp) against the same network in
    PyTorch (timm's MixerBlock structure: Conv2d stem, LayerNorm eps 1e-6,
    exact GELU), same random weights."""
    path = os.path.join(ROOT, "models", "mixer_s16_224.mlp")
    if not os.path.exists(path):
        return
    rng = np.random.default_rng()
    p = {"stem.proj.weight": rng.standard_normal((512, 3, 16, 16)) * 0.02,
         "stem.proj.bias": np.zeros(512), "norm.weight": np.ones(512), "norm.bias": np.zeros(512),
         "head.weight": rng.standard_normal((1000, 512)) * 0.02, "head.bias": np.zeros(1000)}
    for i in range(8):
        pre = "blocks.%d." % i
        for norm in ("norm1", "norm2"):
            p[pre + norm + ".weight"], p[pre + norm + ".bias"] = np.ones(512), np.zeros(512)
        for mlp, (n_in, n_hidden) in (("mlp_tokens", (196, 256)), ("mlp_channels", (512, 2048))):
            p[pre + mlp + ".fc1.weight"] = rng.standard_normal((n_hidden, n_in)) / np.sqrt(n_in)
            p[pre + mlp + ".fc1.bias"] = np.zeros(n_hidden)
            p[pre + mlp + ".fc2.weight"] = rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_hidden)
            p[pre + mlp + ".fc2.bias"] = np.zeros(n_in)
    p = {k: v.astype(np.float32) for k, v in p.items()}
    weights = os.path.join(workdir, "mixer.safetensors")
    mlpc.save_safetensors(p, weights)
    start = time.perf_counter()
    lib = mlpc.compile(path, weights=weights, output=os.path.join(workdir, "libmixer.so"))
    compile_s = time.perf_counter() - start
    m = mlpc.load(lib)
    m.num_threads = threads
    x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
    t_mlpc = median_seconds(lambda: m(x), min_time=2.0, min_reps=3)
    t_torch = None
    if torch is not None:
        t = {k: torch.from_numpy(v) for k, v in p.items()}
        F = torch.nn.functional

        def forward(img):
            h = F.conv2d(img, t["stem.proj.weight"], t["stem.proj.bias"], stride=16)
            h = h.flatten(2).transpose(1, 2)
            for i in range(8):
                pre = "blocks.%d." % i
                y = F.layer_norm(h, (512,), t[pre + "norm1.weight"], t[pre + "norm1.bias"], 1e-6)
                y = y.transpose(1, 2)
                y = F.linear(F.gelu(F.linear(y, t[pre + "mlp_tokens.fc1.weight"],
                                             t[pre + "mlp_tokens.fc1.bias"])),
                             t[pre + "mlp_tokens.fc2.weight"], t[pre + "mlp_tokens.fc2.bias"])
                h = h + y.transpose(1, 2)
                y = F.layer_norm(h, (512,), t[pre + "norm2.weight"], t[pre + "norm2.bias"], 1e-6)
                y = F.linear(F.gelu(F.linear(y, t[pre + "mlp_channels.fc1.weight"],
                                             t[pre + "mlp_channels.fc1.bias"])),
                             t[pre + "mlp_channels.fc2.weight"], t[pre + "mlp_channels.fc2.bias"])
                h = h + y
            h = F.layer_norm(h, (512,), t["norm.weight"], t["norm.bias"], 1e-6).mean(1)
            return F.linear(h, t["head.weight"], t["head.bias"])

        xt = torch.from_numpy(x)
        with torch.inference_mode():
            ref = forward(xt).numpy()
            t_torch = median_seconds(lambda: forward(xt), min_time=2.0, min_reps=3)
        err = np.abs(m(x) - ref).max() / np.abs(ref).max()
        assert err < 1e-4, "mlpc and PyTorch disagree on Mixer: %g" % err
    flops = 2 * batch * (196 * 768 * 512 + 8 * (2 * 512 * 196 * 256 + 2 * 196 * 512 * 2048)
                         + 512 * 1000)
    rows.append({"workload": "MLP-Mixer S/16, batch %d" % batch, "mlpc_ms": t_mlpc * 1e3,
                 "torch_ms": t_torch * 1e3 if t_torch else None,
                 "gflops": flops / t_mlpc / 1e9, "blas_gflops": None, "compile_s": compile_s})


def pruning_table(threads, workdir):
    """Digits classifier: accuracy and speed of the pruned + distilled .so
    (least-squares refit, then 200 epochs of logit distillation at
    temperature 4, as in test/e2e/prune_digits.test)."""
    sys.path.insert(0, os.path.join(ROOT, "test", "lib"))
    try:
        import digits
    except ImportError:
        return "(scikit-learn is not installed: no pruning table)"
    paths, xte, yte = digits.prepare(os.path.join(workdir, "digits"))
    x = np.random.default_rng().standard_normal((4096, 64)).astype(np.float32)
    lines = ["| model | hidden widths | test accuracy | batch 4096 ms | speedup |",
             "|---|---|---|---|---|"]
    base_ms = None
    for ratio in (None, "0.5", "0.25", "0.125"):
        out = os.path.join(workdir, "digits-%s.so" % (ratio or "full"))
        flags = [] if ratio is None else ["--prune=width:" + ratio, "--distill",
                                          "--distill-epochs=200",
                                          "--distill-temperature=4"]
        subprocess.run([mlpc.find_compiler(), paths["model"], "--weights", paths["weights"],
                        "--calibration", paths["calibration"], "-o", out, *flags],
                       check=True, stderr=subprocess.DEVNULL)
        m = mlpc.load(out)
        m.num_threads = threads
        ms = median_seconds(lambda: m(x)) * 1e3
        base_ms = base_ms or ms
        width = 256 if ratio is None else round(256 * float(ratio))
        lines.append("| %s | %d, %d | %.4f | %.3f | %.2fx |" % (
            "unpruned" if ratio is None else "width %s + distill" % ratio, width, width,
            digits.accuracy(out, xte, yte), ms, base_ms / ms))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(args.threads)
    blas = OpenBLAS(args.threads)
    rng = np.random.default_rng()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        narrow64 = MLP("narrow64", [32, 64, 64, 64, 64, 16], False, rng)
        narrow128 = MLP("narrow128", [32, 128, 128, 128, 128, 16], False, rng)
        tabular = MLP("tabular", [128, 512, 512, 512, 1], True, rng)
        bench_mlp(narrow64, 65536, args.threads, blas, workdir, rows)
        bench_mlp(narrow128, 65536, args.threads, blas, workdir, rows)
        cached = bench_mlp(tabular, 4096, args.threads, blas, workdir, rows)
        bench_mlp(tabular, 1, args.threads, blas, workdir, rows,
                  label="tabular, batch 1 (latency)", cached=cached)
        floor = batch1_latency(tabular, args.threads, workdir, rows)
        mixer_row(16, args.threads, workdir, rows)
        odd = odd_batches(tabular, args.threads, workdir, cached)
        compiles = compile_times(workdir)
        pruning = pruning_table(args.threads, workdir)

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    report = "\n".join([
        "# CPU benchmark results",
        "",
        "Measured by `bash bench/run.sh` on %s (%d threads for every engine), %s." % (
            cpu, args.threads, time.strftime("%Y-%m-%d")),
        "PyTorch %s (Debian python3-torch, eager, `torch.inference_mode`); OpenBLAS sgemm "
        "through its C API on the same shapes (kernel: %s). Medians of repeated runs after "
        "warm-up, fresh random weights and inputs, fp32." % (
            torch.__version__ if torch else "(not installed)", blas.core),
        "",
        table(rows),
        "",
        "## Odd batch sizes (tabular MLP)",
        "",
        odd,
        "",
        "Batch-1 floor: every weight is read once per run; reading that many bytes "
        "with AVX-512 loads on this machine, the buffer hot in cache:",
        "",
        floor,
        "",
        "## Pruning + distillation (digits, 64 -> 256 -> 256 -> 10)",
        "",
        pruning,
        "",
        "## Compile time of every zoo model",
        "",
        compiles,
        "",
    ])
    print(report)
    with open(args.output, "w") as f:
        f.write(report)


if __name__ == "__main__":
    main()
