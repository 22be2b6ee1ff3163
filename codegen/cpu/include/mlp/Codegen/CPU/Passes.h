//===- Passes.h - CPU lowering passes ---------------------------*- C++ -*-===//
#ifndef MLP_CODEGEN_CPU_PASSES_H
#define MLP_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlp {

#define GEN_PASS_DECL
#include "mlp/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mlp/Codegen/CPU/Passes.h.inc"

/// Attribute names shared by the passes, the metadata writer and the tests.
constexpr llvm::StringLiteral kModelAttr = "mlp.model";
constexpr llvm::StringLiteral kNameAttr = "mlp.name";
constexpr llvm::StringLiteral kParamAttr = "mlp.param";
constexpr llvm::StringLiteral kParamsAttr = "mlp.params";
constexpr llvm::StringLiteral kLayoutAttr = "mlp.layout";
constexpr llvm::StringLiteral kRowsIndependentAttr = "mlp.rows_independent";
constexpr llvm::StringLiteral kTileAttr = "mlp.tile";
/// On the linalg.generic that applies a fused epilogue to a matmul's result
/// in place: it is outlined, tiled and vectorized together with the matmul.
constexpr llvm::StringLiteral kEpilogueAttr = "mlp.epilogue";
/// On the linalg.generic contraction of a token-mixing group: out[.., i, c]
/// += W[i, k] * x[.., k, c], register-tiled like a matmul.
constexpr llvm::StringLiteral kTokenMatmulAttr = "mlp.token_matmul";
constexpr llvm::StringLiteral kScratchAttr = "mlp.scratch_bytes_per_row";
constexpr llvm::StringLiteral kRowsPerBlockAttr = "mlp.rows_per_block";
/// On a kernel: its column-chunk variant (-mlp-cpu-split-columns) and the
/// variant's chunk width and number of chunks.
constexpr llvm::StringLiteral kColumnKernelAttr = "mlp.column_kernel";
constexpr llvm::StringLiteral kColumnChunkAttr = "mlp.column_chunk";
constexpr llvm::StringLiteral kColumnCountAttr = "mlp.column_count";
/// On the module: scratch bytes per batch row of the column-parallel entry
/// (-mlp-cpu-column-entry); absent when there is none.
constexpr llvm::StringLiteral kColumnScratchAttr =
    "mlp.column_scratch_bytes_per_row";
/// The runtime's barrier between the steps of a column-parallel run.
constexpr llvm::StringLiteral kColumnBarrierFn = "mlpc_column_barrier";

} // namespace mlp

#endif // MLP_CODEGEN_CPU_PASSES_H
