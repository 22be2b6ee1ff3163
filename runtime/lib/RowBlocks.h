//===- RowBlocks.h - splitting a batch into row blocks ----------*- C++ -*-===//
//
// A run over a batch of independent rows is split into blocks of rows: each
// block's scratch memory is bounded, and blocks run on the thread pool.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_ROWBLOCKS_H
#define MLP_RUNTIME_ROWBLOCKS_H

#include "Metadata.h"

#include "mlp/runtime.h"

#include <cstdint>

namespace mlp::rt {

struct RowPlan {
  int64_t rowsPerBlock = 0; // the whole batch when rows are not independent
  int64_t blocks = 1;
  int32_t threads = 1;        // blocks computed at once
  uint64_t workingMemory = 0; // scratch bytes of the blocks at once
};

/// Chooses the blocks for `batch` rows so that the scratch memory of the
/// blocks in flight stays within `limit` (0 = none). Fails with
/// MLP_ERR_OUT_OF_MEMORY, before any work, if even one row exceeds it.
mlp_status planRows(const ModelMetadata &meta, int64_t batch, uint64_t limit,
                    RowPlan &plan);

/// The scratch bytes of a column-parallel run of `rows` rows (a team of
/// threads splitting each layer's columns), or 0 where `plan`'s row blocks
/// run instead: the model has no column scratch, one thread, at least as
/// many blocks as threads, or a scratch over `limit` (0 = none).
uint64_t columnScratchBytes(const ModelMetadata &meta, const RowPlan &plan,
                            int64_t rows, uint64_t limit);

} // namespace mlp::rt

#endif // MLP_RUNTIME_ROWBLOCKS_H
