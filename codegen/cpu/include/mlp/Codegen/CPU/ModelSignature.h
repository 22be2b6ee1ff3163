//===- ModelSignature.h - what a compiled model looks like ------*- C++ -*-===//
//
// The inputs, weights and outputs of a model function, in the order the
// generated entry point takes them. It becomes the metadata JSON that the
// runtime reads (docs/runtime-abi.md).
//
//===----------------------------------------------------------------------===//
#ifndef MLP_CODEGEN_CPU_MODELSIGNATURE_H
#define MLP_CODEGEN_CPU_MODELSIGNATURE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlp::cpu {

struct TensorSignature {
  std::string name;
  std::string dtype;          // "float32", ...
  std::vector<int64_t> shape; // -1 = batch; params: the checkpoint's shape
  std::vector<int64_t> layout; // params: stored permutation (empty: none)
  uint64_t offset = 0;        // params only: byte offset in the weight blob
  uint64_t nbytes = 0;
};

struct ModelSignature {
  std::string name;
  std::vector<TensorSignature> inputs, params, outputs;
  bool weightsEmbedded = false;
  uint64_t weightsBytes = 0;
  bool rowsIndependent = false;
  /// Bytes of intermediate tensors per batch row: an upper bound of what the
  /// generated code allocates for one row.
  uint64_t scratchBytesPerRow = 0;
  /// The runtime's row block chosen by -mlp-tile (0: the runtime's default).
  int64_t rowsPerBlock = 0;
  /// Scratch bytes per batch row of the column-parallel entry
  /// (mlpc_model_columns_entry); 0 when the library has none.
  uint64_t columnScratchBytesPerRow = 0;
  /// Whether the library holds CPU code (mlpc_model_entry).
  bool hasCpuCode = true;
  /// The CUDA backend's "cuda" metadata section (JSON; empty: no CUDA code).
  std::string cudaSection;
};

/// Alignment of every weight inside the blob (a cache line).
constexpr uint64_t kWeightAlignment = 64;

/// Reads the signature of the one model function in `module`, on linalg on
/// tensors (after mlp-params-to-arguments). Offsets follow the blob layout.
mlir::FailureOr<ModelSignature> extractSignature(mlir::ModuleOp module);

/// The metadata JSON of docs/runtime-abi.md.
std::string toMetadataJson(const ModelSignature &signature);

} // namespace mlp::cpu

#endif // MLP_CODEGEN_CPU_MODELSIGNATURE_H
