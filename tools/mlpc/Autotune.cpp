//===- Autotune.cpp - measuring tilings on this machine -------------------===//
//
// Each candidate is a real compile of a one-layer model through the whole
// pipeline, loaded with dlopen and run through the runtime ABI: what is
// measured is exactly the code a model would get.
//
//===----------------------------------------------------------------------===//
#include "Autotune.h"
#include "CompilerStages.h"

#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/runtime.h"
#include "mlp/safetensors.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <dlfcn.h>
#include <random>
#include <set>
#include <unistd.h>

using namespace mlpc;

namespace {

constexpr int64_t kBatch = 2048;
constexpr int kCandidates = 4;

struct Runtime {
  void *handle = nullptr;
  decltype(&mlp_model_create) create = nullptr;
  decltype(&mlp_model_run) run = nullptr;
  decltype(&mlp_model_destroy) destroy = nullptr;
  decltype(&mlp_set_num_threads) setThreads = nullptr;
  decltype(&mlp_last_error) lastError = nullptr;
  ~Runtime() {
    if (handle)
      dlclose(handle);
  }
  bool open(const std::string &path, std::string &error) {
    // dlopen of a path that is still loaded returns the old library, whatever
    // the file now holds; see the candidate paths in autotune().
    if (void *stale = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
      dlclose(stale);
      error = path + " is already loaded: it would not be the new candidate";
      return false;
    }
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      error = dlerror();
      return false;
    }
    create =
        reinterpret_cast<decltype(create)>(dlsym(handle, "mlp_model_create"));
    run = reinterpret_cast<decltype(run)>(dlsym(handle, "mlp_model_run"));
    destroy =
        reinterpret_cast<decltype(destroy)>(dlsym(handle, "mlp_model_destroy"));
    setThreads = reinterpret_cast<decltype(setThreads)>(
        dlsym(handle, "mlp_set_num_threads"));
    lastError =
        reinterpret_cast<decltype(lastError)>(dlsym(handle, "mlp_last_error"));
    if (!create || !run || !destroy || !setThreads || !lastError) {
      error = path + " lacks the mlp_* ABI";
      return false;
    }
    return true;
  }
};

DLTensor hostTensor(float *data, int64_t *shape) {
  DLTensor t{};
  t.data = data;
  t.device = {kDLCPU, 0};
  t.ndim = 2;
  t.dtype = {kDLFloat, 32, 1};
  t.shape = shape;
  return t;
}

/// Seconds per run of the one-layer model in `library` (best of several,
/// one thread: tiles are a per-core decision).
double timeLibrary(const std::string &library, const std::string &weights,
                   int64_t k, int64_t n, std::string &error) {
  Runtime rt;
  if (!rt.open(library, error))
    return -1;
  mlp_model *model = nullptr;
  if (rt.create(weights.c_str(), &model) != MLP_OK) {
    error = std::string("cannot create the autotune model: ") + rt.lastError();
    return -1;
  }
  rt.setThreads(1);
  std::vector<float> x(kBatch * k, 0.5f), y(kBatch * n);
  int64_t xShape[] = {kBatch, k}, yShape[] = {kBatch, n};
  DLTensor in = hostTensor(x.data(), xShape),
           out = hostTensor(y.data(), yShape);
  double best = 1e30;
  auto start = std::chrono::steady_clock::now();
  for (int rep = 0; rep < 50; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    rt.run(model, &in, 1, &out, 1);
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    best = std::min(best, s);
    if (rep >= 4 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                .count() > 0.3)
      break;
  }
  rt.destroy(model);
  rt.setThreads(0);
  return best;
}

bool writeText(const std::string &path, const std::string &text,
               std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  os << text;
  return true;
}

} // namespace

std::string mlpc::defaultAutotuneCache() {
  if (auto env = llvm::sys::Process::GetEnv("MLPC_AUTOTUNE_CACHE"))
    return *env;
  llvm::SmallString<256> path;
  if (auto xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME")) {
    path = *xdg;
  } else if (auto home = llvm::sys::Process::GetEnv("HOME")) {
    path = *home;
    llvm::sys::path::append(path, ".cache");
  } else {
    return "";
  }
  llvm::sys::path::append(path, "mlpc", "autotune.json");
  return std::string(path);
}

bool mlpc::autotune(mlir::ModuleOp module, const mlp::cpu::CpuTarget &target,
                    const Options &options, const std::string &cachePath,
                    std::string &error) {
  nlohmann::json cache = nlohmann::json::object();
  if (auto buffer = llvm::MemoryBuffer::getFile(cachePath)) {
    cache = nlohmann::json::parse((*buffer)->getBuffer().begin(),
                                  (*buffer)->getBuffer().end(), nullptr, false);
    if (!cache.is_object())
      cache = nlohmann::json::object();
  }
  std::set<std::pair<int64_t, int64_t>> shapes;
  module.walk([&](mlir::linalg::MatmulOp op) {
    auto b =
        mlir::dyn_cast<mlir::RankedTensorType>(op.getInputs()[1].getType());
    if (b && b.hasStaticShape())
      shapes.insert({b.getShape()[0], b.getShape()[1]});
  });

  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("mlpc-tune", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return false;
  }
  struct Cleanup {
    llvm::SmallString<128> &dir;
    ~Cleanup() { llvm::sys::fs::remove_directories(dir); }
  } cleanup{dir};

  bool changed = false;
  for (auto [k, n] : shapes) {
    std::string key = mlp::cpu::autotuneKey(target, k, n);
    if (cache.contains(key))
      continue;
    // One-layer model and random weights for this shape.
    std::string source = (dir + "/layer.mlp").str();
    std::string weights = (dir + "/layer.safetensors").str();
    if (!writeText(source,
                   "model autotune_layer {\n  input x: f32[N, " +
                       std::to_string(k) + "]\n  output y = linear(x, " +
                       std::to_string(n) + ", bias=false) @w\n}\n",
                   error))
      return false;
    std::vector<float> w(static_cast<size_t>(k * n));
    std::mt19937 rng(0);
    std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
    for (float &v : w)
      v = dist(rng);
    if (!mlp::writeSafetensors(weights,
                               {{"w.weight",
                                 "float32",
                                 {n, k},
                                 w.data(),
                                 w.size() * sizeof(float)}},
                               error))
      return false;

    auto ranked = mlp::cpu::rankRegisterTiles(target, k, n);
    ranked.resize(std::min<size_t>(ranked.size(), kCandidates));
    double bestTime = 1e30;
    mlp::cpu::RegisterTile best = ranked.front();
    for (size_t c = 0; c < ranked.size(); ++c) {
      const mlp::cpu::RegisterTile &tile = ranked[c];
      // The candidate goes in through a cache of its own.
      std::string candidateCache = (dir + "/candidate.json").str();
      nlohmann::json only = {{key, {tile.rows, tile.cols}}};
      if (!writeText(candidateCache, only.dump(), error))
        return false;
      Options layer = options;
      layer.inputFile = source;
      layer.weightsFile = "";
      layer.embedWeights = false;
      layer.emit = Stage::SharedLib;
      layer.dumpStagesDir = "";
      // A path of its own per candidate: dlclose does not unload a library
      // whose thread_local objects (the runtime's error message) this
      // thread still holds, and dlopen of the same path would then hand
      // back the previous candidate (another tiling, or another shape).
      layer.outputFile = (dir + "/layer-k" + std::to_string(k) + "-n" +
                          std::to_string(n) + "-" + std::to_string(c) + ".so")
                             .str();
      layer.autotune = false;
      layer.autotuneCache = candidateCache;
      if (compile(layer) != 0) {
        error = "compiling an autotune candidate failed";
        return false;
      }
      double seconds = timeLibrary(layer.outputFile, weights, k, n, error);
      if (seconds < 0)
        return false;
      llvm::errs() << "mlpc: autotune " << key << ": " << tile.rows << "x"
                   << tile.cols << " " << llvm::format("%.1f", seconds * 1e6)
                   << " us\n";
      if (seconds < bestTime) {
        bestTime = seconds;
        best = tile;
      }
    }
    cache[key] = {best.rows, best.cols};
    changed = true;
  }
  if (!changed)
    return true;
  llvm::SmallString<256> parent(llvm::sys::path::parent_path(cachePath));
  if (!parent.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(parent)) {
      error = "cannot create " + std::string(parent) + ": " + ec.message();
      return false;
    }
  std::string temporary = cachePath + ".tmp" + std::to_string(::getpid());
  if (!writeText(temporary, cache.dump(2) + "\n", error))
    return false;
  if (std::error_code ec = llvm::sys::fs::rename(temporary, cachePath)) {
    llvm::sys::fs::remove(temporary);
    error = "cannot write " + cachePath + ": " + ec.message();
    return false;
  }
  return true;
}
