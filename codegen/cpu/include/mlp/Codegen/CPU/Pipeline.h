//===- Pipeline.h - the stages of CPU code generation -----------*- C++ -*-===//
#ifndef MLP_CODEGEN_CPU_PIPELINE_H
#define MLP_CODEGEN_CPU_PIPELINE_H

#include "mlp/Codegen/CPU/CostModel.h"

#include "mlir/Pass/PassManager.h"

#include <string>

namespace mlp::cpu {

/// Passes from verified mlp IR to linalg on tensors, weights as arguments,
/// tiles chosen for `target` (and read from the autotune cache, if any).
void addLowerToLinalgPasses(mlir::OpPassManager &pm, const CpuTarget &target,
                            const std::string &autotuneCache);

/// Passes from linalg on tensors to bufferized, tiled and vectorized loops.
struct LoopOptions {
  int64_t vectorWidth = 16; // f32 lanes: 16 with AVX-512, 8 with AVX2
  int64_t rowTile = 8;      // matmul rows when -mlp-tile recorded none
  bool vectorize = true;
};
void addLowerToLoopsPasses(mlir::OpPassManager &pm, const LoopOptions &options);

/// Passes from loops to the LLVM dialect.
void addLowerToLLVMPasses(mlir::OpPassManager &pm);

/// Registers the three stages as mlp-opt pipelines: -mlp-cpu-to-linalg,
/// -mlp-cpu-to-loops, -mlp-cpu-to-llvm.
void registerPipelines();

} // namespace mlp::cpu

#endif // MLP_CODEGEN_CPU_PIPELINE_H
