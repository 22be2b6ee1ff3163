//===- CudaArena.h - one device block for a run's intermediates -*- C++ -*-===//
//
// A run's intermediate tensors live in one device allocation. Two
// intermediates share bytes when no step uses both of them at once: each one
// is live from the first step that names it to the last, and a greedy
// first-fit packing (largest first) gives each an offset. The layout depends
// on the batch (every size is batch * bytes per batch row), so a model keeps
// the layout of the last batch it ran.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_CUDAARENA_H
#define MLP_RUNTIME_CUDAARENA_H

#include "CudaPlan.h"

#include <cstdint>
#include <vector>

namespace mlp::rt {

/// The steps during which each value of the plan is live ([-1, -1]: never
/// used, or not an intermediate).
struct ValueLifetime {
  int first = -1, last = -1;
};
std::vector<ValueLifetime> valueLifetimes(const CudaPlan &plan);

struct ArenaLayout {
  int64_t rows = -1;
  uint64_t bytes = 0;            // the whole block
  std::vector<uint64_t> offsets; // per value; intermediates only
};

/// Offsets (256-byte aligned) of the intermediates of a run on `rows` batch
/// rows; no two values live at the same step overlap.
ArenaLayout planArena(const CudaPlan &plan,
                      const std::vector<ValueLifetime> &lifetimes,
                      int64_t rows);

} // namespace mlp::rt

#endif // MLP_RUNTIME_CUDAARENA_H
