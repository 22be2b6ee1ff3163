//===- Pipeline.cpp - the stages of CPU code generation -------------------===//
#include "mlp/Codegen/CPU/Pipeline.h"
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlp::cpu::addLowerToLinalgPasses(OpPassManager &pm,
                                      const CpuTarget &target,
                                      const std::string &autotuneCache) {
  pm.addPass(mlp::createMLPParamsToArguments());
  pm.addPass(mlp::createConvertMLPToLinalg());
  pm.addPass(mlp::createMLPPackWeights());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  mlp::MLPTileOptions tile;
  tile.cpu = target.name;
  tile.vectorWidth = target.vectorWidth;
  tile.vectorRegisters = target.vectorRegisters;
  tile.l2Bytes = static_cast<int64_t>(target.l2Bytes);
  tile.cachePath = autotuneCache;
  pm.addPass(mlp::createMLPTile(tile));
}

void mlp::cpu::addLowerToLoopsPasses(OpPassManager &pm,
                                     const LoopOptions &options) {
  // Elementwise chains (bias + activation + residual) become one generic.
  pm.addPass(mlp::createMLPFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  // One function per distinct kernel: repeated blocks share their code.
  pm.addPass(mlp::createMLPOutlineKernels());
  // Column-chunk variants of the kernels, for tiny batches on many threads.
  pm.addPass(mlp::createMLPSplitColumns());
  if (options.vectorize) {
    mlp::MLPTileAndVectorizeOptions tiling;
    tiling.vectorWidth = options.vectorWidth;
    tiling.rowTile = options.rowTile;
    pm.addNestedPass<func::FuncOp>(mlp::createMLPTileAndVectorize(tiling));
    // Accumulators of the reduction loops stay in registers.
    pm.addPass(createLoopInvariantSubsetHoistingPass());
    pm.addPass(createCanonicalizerPass());
  }

  // Results are written straight into the caller's output buffers.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  // Copies between strided views (rare: a tile that cannot be written in
  // place) become linalg.copy, which lowers to loops, rather than
  // memref.copy, which would need the memrefCopy helper of MLIR's C runner
  // library in every generated .so.
  bufferization.memCpyFn = [](OpBuilder &b, Location loc, Value from,
                              Value to) {
    b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  // Folds a kernel's loops that yield its destination unchanged, so that it
  // returns the destination argument itself and the result is dropped.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  pm.addPass(bufferization::createBufferResultsToOutParamsPass());
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);
  // The entry a team of threads runs for a tiny batch (after bufferization:
  // its buffers are views of a scratch the runtime shares among them).
  pm.addPass(mlp::createMLPColumnEntry());
  if (options.vectorize)
    pm.addNestedPass<func::FuncOp>(mlp::createMLPLowerVectors());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlp::cpu::addLowerToLLVMPasses(OpPassManager &pm) {
  // Fully unrolled 1-D transfers: the default lowering goes through stack
  // buffers allocated inside loops, which overflow the stack on big batches.
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll(true);
  transfers.setTargetRank(1);
  pm.addPass(createConvertVectorToSCFPass(transfers));
  // Intrinsics first (exp, sqrt stay vectorized), then libm for erf and
  // tanh, whose vector forms it scalarizes into vector ops: so before the
  // vector dialect goes to LLVM.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createBufferizationToMemRefPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlp::cpu::registerPipelines() {
  mlir::PassPipelineRegistration<>(
      "mlp-cpu-to-linalg", "mlp IR to linalg on tensors (mlpc --emit=linalg)",
      [](OpPassManager &pm) { addLowerToLinalgPasses(pm, CpuTarget(), ""); });
  mlir::PassPipelineRegistration<>(
      "mlp-cpu-to-loops",
      "linalg on tensors to bufferized vectorized loops (mlpc --emit=loops)",
      [](OpPassManager &pm) { addLowerToLoopsPasses(pm, LoopOptions()); });
  mlir::PassPipelineRegistration<>(
      "mlp-cpu-to-llvm", "loops to the LLVM dialect (mlpc --emit=llvm)",
      [](OpPassManager &pm) { addLowerToLLVMPasses(pm); });
}
