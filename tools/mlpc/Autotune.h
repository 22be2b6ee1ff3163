//===- Autotune.h - measuring tilings on this machine -----------*- C++ -*-===//
#ifndef MLPC_AUTOTUNE_H
#define MLPC_AUTOTUNE_H

#include "mlp/Codegen/CPU/CostModel.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlpc {

struct Options;

/// For every matmul shape of `module` (linalg on tensors) that the cache at
/// `cachePath` lacks, compiles a one-layer model per candidate register tile,
/// times it through the runtime on this machine, and records the fastest in
/// the cache (written atomically). Progress goes to stderr. False + error on
/// failure; the cache is then unchanged.
bool autotune(mlir::ModuleOp module, const mlp::cpu::CpuTarget &target,
              const Options &options, const std::string &cachePath,
              std::string &error);

/// $MLPC_AUTOTUNE_CACHE, else $XDG_CACHE_HOME/mlpc/autotune.json, else
/// ~/.cache/mlpc/autotune.json.
std::string defaultAutotuneCache();

} // namespace mlpc

#endif // MLPC_AUTOTUNE_H
