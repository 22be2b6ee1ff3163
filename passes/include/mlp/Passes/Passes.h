//===- Passes.h - transformations of mlp IR ---------------------*- C++ -*-===//
#ifndef MLP_PASSES_PASSES_H
#define MLP_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlp {
class WeightStore;

#define GEN_PASS_DECL
#include "mlp/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mlp/Passes/Passes.h.inc"

/// The passes working on the driver's weight store instead of opening the
/// `weights` option's path. Pruning and distillation change the store.
std::unique_ptr<mlir::Pass> createMLPCheckWeights(const WeightStore &store);
std::unique_ptr<mlir::Pass> createMLPPrune(const MLPPruneOptions &options,
                                           WeightStore &store);
std::unique_ptr<mlir::Pass> createMLPDistill(const MLPDistillOptions &options,
                                             WeightStore &store);

/// Attribute names of the pruning passes.
constexpr llvm::StringLiteral kTeacherAttr = "mlp.teacher";
constexpr llvm::StringLiteral kPrunedAttr = "mlp.pruned";
constexpr llvm::StringLiteral kKeptAttr = "mlp.kept";
constexpr llvm::StringLiteral kSparsityAttr = "mlp.sparsity";

/// The optimization passes between the frontend and code generation.
void addOptimizationPasses(mlir::OpPassManager &pm);

/// -mlp-fuse: kernel groups (mlp.fused) for the CPU backend, after the
/// optimization and pruning passes (the CUDA backend forms its own groups
/// from plain mlp IR).
void addFusionPasses(mlir::OpPassManager &pm);

} // namespace mlp

#endif // MLP_PASSES_PASSES_H
