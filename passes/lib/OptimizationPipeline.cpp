//===- OptimizationPipeline.cpp - mlp-level passes in order ---------------===//
#include "mlp/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

void mlp::addOptimizationPasses(mlir::OpPassManager &pm) {
  // Folds (transpose pairs, identity reshapes) and dead-parameter removal.
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void mlp::addFusionPasses(mlir::OpPassManager &pm) {
  pm.addPass(mlp::createMLPFuse());
}
