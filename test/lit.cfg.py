# lit configuration for the mlpc suite.
import os
import shutil
import subprocess

import lit.formats

config.name = "mlpc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".mlp", ".test"]
config.excludes = ["Inputs", "corpus", "regressions", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mlpc_obj_root, "test")

# Tools: ours first, then LLVM's FileCheck/not/count.
config.environment["PATH"] = os.pathsep.join(
    [config.mlpc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.environment["PYTHONPATH"] = os.path.join(config.mlpc_src_root, "python")
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%mlpc_src", config.mlpc_src_root))
config.substitutions.append(("%test_lib", os.path.join(config.mlpc_src_root, "test", "lib")))

# -DMLPC_SANITIZE=ON (ASan + UBSan): generated .so files link the sanitized
# runtime, so mlpc links them through a wrapper adding -fsanitize, and the ASan
# runtime is preloaded into every process, since python and the C programs
# that load those libraries are not instrumented. Leak detection is off here:
# in a preloaded python, cc or ld, LeakSanitizer reports those programs' own
# exit-time leaks. test/runtime/leak-sanitizer.test turns it back on for our
# own programs (mlpc, the runtime's unit tests).
if getattr(config, "sanitize", False):
    config.available_features.add("sanitize")
    config.environment["MLPC_CXX"] = config.sanitizer_cxx
    config.environment["LD_PRELOAD"] = config.sanitizer_runtime
    config.environment["ASAN_OPTIONS"] = os.environ.get(
        "ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
    config.environment["UBSAN_OPTIONS"] = os.environ.get(
        "UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
if shutil.which("valgrind"):
    config.available_features.add("valgrind")
config.substitutions.append(("%mlpc_obj", config.mlpc_obj_root))

# Features tests can REQUIRE.
config.available_features.add("cpu")
if shutil.which("nvidia-smi") and subprocess.call(
        ["nvidia-smi", "-L"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("cuda-gpu")
# nvcc compiles the CUDA backend's kernels (CI has it and no GPU).
if os.environ.get("MLPC_NVCC") or shutil.which("nvcc") or os.access(
        "/usr/local/cuda/bin/nvcc", os.X_OK):
    config.available_features.add("nvcc")
try:
    with open("/proc/cpuinfo") as f:
        if " avx512f" in f.read():
            config.available_features.add("avx512")
except OSError:
    pass

# scikit-learn ships the handwritten digits used by the pruning e2e test.
if subprocess.call([config.python_executable, "-c", "import sklearn.datasets"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("sklearn")
