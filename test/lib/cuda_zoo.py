"""Zoo models on the CUDA backend against their float64 NumPy references,
through test/lib/e2e_check.py (fresh random inputs every run).

  cuda_zoo.py build DIR [ONLY]   compile every case into DIR (needs mlpc and nvcc)
  cuda_zoo.py check DIR [ONLY]   run them on the GPU (no mlpc needed)
  cuda_zoo.py all DIR [ONLY]     both

ONLY: comma-separated label prefixes (e.g. "din,tabm_california_f16") to
build or check some cases only. The check regenerates the weights from
their seed, so DIR's .safetensors files need not travel to the GPU machine
(`find DIR -name '*.safetensors' -delete` leaves about 80 MB of libraries).

Tolerances (max |y - ref| / max |ref|): 1e-4 for fp32 arithmetic, 2e-2 for
f16/bf16 tensor cores with fp32 accumulation. The big models are built without
embedded weights; e2e_check regenerates the same weights from its seed.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "models")

# (label, e2e_check model, .mlp or None, precision, batches, external only
#  [, more mlpc flags])
LT = ("--cuda-cublaslt",)
CASES = [
    ("mixer_tiny_f32", "mixer_tiny", "mixer_tiny.mlp", "f32", "1,7,64", False),
    ("mixer_tiny_f16", "mixer_tiny", "mixer_tiny.mlp", "f16", "1,7,64", False),
    ("mixer_s16_224_f32", "mixer_s16_224", "mixer_s16_224.mlp", "f32", "1,3", True),
    ("mixer_s16_224_f16", "mixer_s16_224", "mixer_s16_224.mlp", "f16", "1,3", True),
    ("resmlp_12_224_f32", "resmlp_12_224", "resmlp_12_224.mlp", "f32", "1,3", True),
    ("resmlp_12_224_f16", "resmlp_12_224", "resmlp_12_224.mlp", "f16", "2", True),
    ("scaling_mlp_f32", "scaling_mlp_b6_wi1024", "scaling_mlp_b6_wi1024.mlp", "f32", "1,5",
     True),
    ("gmlp_s16_224_f32", "gmlp_s16_224", "gmlp_s16_224.mlp", "f32", "1,2", True),
    ("gmlp_s16_224_f16", "gmlp_s16_224", "gmlp_s16_224.mlp", "f16", "2", True),
    ("transcoder_gpt2_f32", "transcoder_gpt2", "transcoder_gpt2.mlp", "f32", "1,7", True),
    ("siren_f32", "siren", "siren.mlp", "f32", "1,7,1000", False),
    # The general kernels (mlpc_generic.cuh): broadcasting, concat,
    # reductions, embeddings with int64 ids, batch_norm, B-spline and RBF
    # bases, pooling and convolutions, products of computed weights.
    ("nerf_f32", "nerf", "nerf.mlp", "f32", "1,7,1000", False),
    ("nerf_f16", "nerf", "nerf.mlp", "f16", "1,7,1000", False),
    ("tabm_california_f32", "tabm_california", "tabm_california.mlp", "f32", "1,7,64", False),
    ("tabm_california_f16", "tabm_california", "tabm_california.mlp", "f16", "1,7,64", False),
    ("tabm_california_bf16", "tabm_california", "tabm_california.mlp", "bf16", "1,7,64", False),
    ("tsmixer_etth1_f32", "tsmixer_etth1", "tsmixer_etth1.mlp", "f32", "1,7,64", False),
    ("tsmixer_etth1_f16", "tsmixer_etth1", "tsmixer_etth1.mlp", "f16", "1,7,64", False),
    ("softs_weather_f32", "softs_weather", "softs_weather.mlp", "f32", "1,7,64", True),
    ("softs_weather_f16", "softs_weather", "softs_weather.mlp", "f16", "1,7,64", True),
    ("softs_weather_bf16", "softs_weather", "softs_weather.mlp", "bf16", "1,7", True),
    ("efficient_kan_f32", "efficient_kan_mnist", "efficient_kan_mnist.mlp", "f32", "1,7,64",
     False),
    ("efficient_kan_f16", "efficient_kan_mnist", "efficient_kan_mnist.mlp", "f16", "1,7,64",
     False),
    ("fast_kan_f32", "fast_kan_mnist", "fast_kan_mnist.mlp", "f32", "1,7,64", False),
    ("fast_kan_f16", "fast_kan_mnist", "fast_kan_mnist.mlp", "f16", "1,7,64", False),
    ("finalmlp_frappe_f32", "finalmlp_frappe", "finalmlp_frappe.mlp", "f32", "1,7,64", True),
    ("finalmlp_frappe_f16", "finalmlp_frappe", "finalmlp_frappe.mlp", "f16", "1,7,64", True),
    ("din_amazon_f32", "din_amazon", "din_amazon.mlp", "f32", "1,7,64", True),
    ("din_amazon_f16", "din_amazon", "din_amazon.mlp", "f16", "1,7,64", True),
    ("poolformer_s12_f32", "poolformer_s12", "poolformer_s12.mlp", "f32", "1,3", True),
    ("poolformer_s12_f16", "poolformer_s12", "poolformer_s12.mlp", "f16", "1,3", True),
    # The other cases are built with --cuda-cublaslt=false (the generated
    # kernels); these with cuBLASLt (the default) and checked with
    # MLPC_CUBLASLT=1 (loading fails unless the runtime finds cuBLASLt).
    ("mixer_s16_224_f16_cublaslt", "mixer_s16_224", "mixer_s16_224.mlp", "f16", "1,3", True,
     LT),
    ("resmlp_12_224_f16_cublaslt", "resmlp_12_224", "resmlp_12_224.mlp", "f16", "2", True, LT),
    ("gmlp_s16_224_f16_cublaslt", "gmlp_s16_224", "gmlp_s16_224.mlp", "f16", "2", True, LT),
    ("poolformer_s12_f16_cublaslt", "poolformer_s12", "poolformer_s12.mlp", "f16", "1,3", True,
     LT),
    ("scaling_mlp_bf16_cublaslt", "scaling_mlp_b6_wi1024", "scaling_mlp_b6_wi1024.mlp", "bf16",
     "1,5", True, LT),
]
RTOL = {"f32": "1e-4", "f16": "2e-2", "bf16": "2e-2"}


def run(directory, mode, only=None):
    failed = 0
    cases = [c for c in CASES if not only or any(c[0].startswith(p) for p in only)]
    for label, model, mlp, precision, batches, external, *more in cases:
        flags = list(more[0]) if more else []
        if "--cuda-cublaslt" not in flags:  # the generated kernels alone
            flags.append("--cuda-cublaslt=false")
        cmd = [sys.executable, os.path.join(HERE, "e2e_check.py"), "--model", model,
               "--workdir", os.path.join(directory, label), "--batches", batches,
               "--rtol", RTOL[precision], "--mlpc-arg=--target=cuda",
               "--mlpc-arg=--precision=" + precision] + ["--mlpc-arg=" + f for f in flags]
        env = dict(os.environ)
        if "--cuda-cublaslt" in flags:
            env["MLPC_CUBLASLT"] = "1"
        if mlp:
            cmd += ["--mlp", os.path.join(MODELS, mlp)]
        cmd += ["--external-only"] if external else ["--no-external-weights"]
        cmd += ["--build-only"] if mode == "build" else ["--prebuilt"]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env)
        lines = [l for l in proc.stdout.splitlines() if "error" in l or "FAIL" in l
                 or "PASSED" in l or "built" in l]
        print("%s (%s): %s" % (label, mode, "ok" if proc.returncode == 0 else "FAILED"))
        for line in lines:
            print("  " + line)
        if proc.returncode != 0:
            print(proc.stdout[-3000:])
            failed += 1
    print("cuda zoo %s: %d cases, %d failed" % (mode, len(cases), failed))
    return failed


if __name__ == "__main__":
    mode, directory = sys.argv[1], sys.argv[2]
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else None
    bad = 0
    if mode in ("build", "all"):
        bad += run(directory, "build", only)
    if mode in ("check", "all") and not bad:
        bad += run(directory, "check", only)
    sys.exit(1 if bad else 0)
