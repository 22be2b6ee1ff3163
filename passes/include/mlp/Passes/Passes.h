//===- Passes.h - transformations of mlp IR ---------------------*- C++ -*-===//
#ifndef MLP_PASSES_PASSES_H
#define MLP_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlp {
class SafetensorsFile;

#define GEN_PASS_DECL
#include "mlp/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mlp/Passes/Passes.h.inc"

/// mlp-check-weights against an already opened weights file (the driver's
/// weight store), instead of opening the `weights` option's path.
std::unique_ptr<mlir::Pass> createMLPCheckWeights(const SafetensorsFile &store);

/// The optimization passes between the frontend and code generation.
void addOptimizationPasses(mlir::OpPassManager &pm);

} // namespace mlp

#endif // MLP_PASSES_PASSES_H
