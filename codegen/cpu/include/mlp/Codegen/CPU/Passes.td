//===- Passes.td - CPU lowering passes ---------------------*- tablegen -*-===//
#ifndef MLP_CODEGEN_CPU_PASSES_TD
#define MLP_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def MLPParamsToArguments : Pass<"mlp-params-to-arguments", "mlir::ModuleOp"> {
  let summary = "Turn mlp.param ops into function arguments";
  let description = [{
    Kernels receive weights as arguments, so the runtime can hand them
    pointers into the embedded or memory-mapped weight store. Every distinct
    `mlp.param` of a model function becomes a new argument appended after the
    inputs, carrying `mlp.param = "<name>"`; the function records the order
    in `mlp.params` and is marked `llvm.emit_c_interface`, so that the
    generated entry point can call it with memref descriptors.
  }];
}

def ConvertMLPToLinalg : Pass<"convert-mlp-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower mlp ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Linear layers become `linalg.matmul_transpose_b` on a 2-D view (leading
    dimensions collapsed) accumulating into the broadcast bias; elementwise
    ops and normalizations become `linalg.generic`. Only f32 is supported; any
    other element type is reported at the op's location.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect"
  ];
}

#endif // MLP_CODEGEN_CPU_PASSES_TD
