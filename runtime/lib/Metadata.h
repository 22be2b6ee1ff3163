//===- Metadata.h - The model description the compiler embeds ---*- C++ -*-===//
//
// Parses and validates `mlpc_model_metadata` (see docs/runtime-abi.md), and
// converts between mlpc dtype names and DLPack types.
//
//===----------------------------------------------------------------------===//

#ifndef MLP_RUNTIME_METADATA_H
#define MLP_RUNTIME_METADATA_H

#include "CudaPlan.h"

#include <dlpack/dlpack.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlp::rt {

/// One input, output or parameter. shape[i] == -1 is the batch dimension
/// (inputs and outputs only).
struct TensorSpec {
  std::string name;
  std::string dtypeName; // "float32", ...
  DLDataType dtype;
  std::vector<int64_t> shape;
  uint64_t offset = 0; // params: byte offset in mlpc_weights_blob
  uint64_t nbytes = 0; // params: byte size
  /// params: the stored layout, a permutation of the checkpoint's dims
  /// (empty: as in the checkpoint), and the shape the kernels see.
  std::vector<int64_t> layout;
  std::vector<int64_t> storedShape;
};

struct ModelMetadata {
  std::string name;
  std::vector<TensorSpec> inputs, params, outputs;
  bool embedded = false;
  uint64_t weightsBytes = 0;
  /// Every row of the batch is computed independently of the others (the
  /// batch is the leading dim of every input and output), so a run may be
  /// split into row blocks: bounded memory and parallel threads.
  bool rowsIndependent = false;
  /// Upper bound of the scratch memory the generated code allocates per row.
  uint64_t scratchBytesPerRow = 0;
  /// The row block the compiler's cost model chose (0: the runtime picks).
  int64_t rowsPerBlock = 0;
  /// Scratch bytes per row of the column-parallel entry (0: there is none).
  uint64_t columnScratchBytesPerRow = 0;
  /// The library holds CPU code (mlpc_model_entry) / CUDA kernels.
  bool hasCpu = true;
  bool hasCuda = false;
  CudaPlan cuda;
};

/// Parses the metadata JSON; false and a message on any inconsistency.
bool parseMetadata(const char *text, ModelMetadata &out, std::string &error);

/// mlpc dtype name -> DLPack type; false if the name has no DLPack type.
bool dtypeFromName(const std::string &name, DLDataType &out);

/// DLPack type -> "float32", or a description such as "float32x4" or
/// "dtype(code=9, bits=8, lanes=1)" for types mlpc has no name for.
std::string dtypeToString(DLDataType dtype);

/// "[N, 128]" (declared, -1 printed as N) or "[4, 128]" (actual).
std::string formatShape(const int64_t *dims, int64_t ndim);

} // namespace mlp::rt

#endif // MLP_RUNTIME_METADATA_H
