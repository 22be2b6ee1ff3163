//===- Model.h - The runtime's model object ---------------------*- C++ -*-===//
//
// Internal to the runtime (and its unit tests). The public functions in
// runtime.h work on the model linked into the library; createModel takes the
// model's symbols explicitly so tests can exercise metadata variants.
//
//===----------------------------------------------------------------------===//

#ifndef MLP_RUNTIME_MODEL_H
#define MLP_RUNTIME_MODEL_H

#include "CudaModel.h"
#include "Metadata.h"

#include "mlp/runtime.h"
#include "mlp/safetensors.h"

#include <atomic>
#include <memory>
#include <vector>

namespace mlp::rt {

using EntryFn = void (*)(void **args);
/// The column-parallel entry: every thread of a team calls it at once with
/// its index; args end in the descriptor of the team's shared scratch.
using ColumnsEntryFn = void (*)(void **args, int64_t thread, int64_t threads);

/// The symbols a generated object defines (docs/runtime-abi.md); entry is
/// null in a library without CPU code, cudaFatbin in one without CUDA code.
struct ModelDefinition {
  const char *metadata;
  const unsigned char *weights;
  EntryFn entry;
  const unsigned char *cudaFatbin = nullptr;
  ColumnsEntryFn columnsEntry = nullptr;
};

/// mlp_model_create for an explicit model definition. `device` NULL picks
/// the CPU when the library has CPU code (setting up CUDA device 0 as well
/// when it has CUDA code and a GPU is there), else CUDA device 0.
mlp_status createModel(const ModelDefinition &def, const char *weightsPath,
                       mlp_model **out, const DLDevice *device = nullptr);

/// Frees memory obtained with 64-byte aligned operator new.
struct AlignedDelete {
  void operator()(void *p) const;
};
using AlignedBuffer = std::unique_ptr<void, AlignedDelete>;

} // namespace mlp::rt

/// Immutable after mlp_model_create, so concurrent runs need no locking.
struct mlp_model {
  mlp::rt::ModelMetadata meta;
  mlp::rt::EntryFn entry = nullptr;
  /// Null unless the metadata announces a column entry and it is there.
  mlp::rt::ColumnsEntryFn columnsEntry = nullptr;
  /// Keeps the mapping of an external weights file alive.
  std::unique_ptr<mlp::SafetensorsFile> weightsFile;
  /// Data of each param, in metadata order.
  std::vector<const void *> params;
  /// Aligned copies of params whose mapped data was misaligned.
  std::vector<mlp::rt::AlignedBuffer> copies;
  std::vector<mlp_tensor_info> inputInfo, outputInfo;
  /// Cap on a run's working memory in bytes (0 = none).
  std::atomic<uint64_t> memoryLimit{0};
  /// The GPU side, when the library has CUDA code and it could be set up;
  /// otherwise why not (for the error of a run given CUDA tensors).
  std::unique_ptr<mlp::rt::CudaModel> cuda;
  std::string cudaUnavailable;
};

#endif // MLP_RUNTIME_MODEL_H
