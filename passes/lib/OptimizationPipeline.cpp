//===- OptimizationPipeline.cpp - mlp-level passes in order ---------------===//
#include "mlp/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

void mlp::addOptimizationPasses(mlir::OpPassManager &pm) {
  // Folds (transpose pairs, identity reshapes) and dead-parameter removal.
  // Fusion (-mlp-fuse), tiling (-mlp-tile) and pruning (-mlp-prune) slot in
  // here as they land.
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}
