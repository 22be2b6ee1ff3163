//===- RowBlocks.cpp - splitting a batch into row blocks ------------------===//
#include "RowBlocks.h"

#include "Status.h"
#include "ThreadPool.h"

#include <algorithm>
#include <string>

namespace mlp::rt {
namespace {
// Blocks are multiples of the kernels' 8-row register tile (and of 16 for
// good measure), so only the last block has a scalar remainder.
constexpr int64_t kRowGranule = 16;
// Without a caller's limit a block keeps its scratch within this, so that a
// huge batch never allocates batch-sized intermediates.
constexpr uint64_t kDefaultBlockScratch = 32ull << 20;
constexpr int64_t kMaxRowsPerBlock = 4096;

int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }
} // namespace

mlp_status planRows(const ModelMetadata &meta, int64_t batch, uint64_t limit,
                    RowPlan &plan) {
  const uint64_t perRow = meta.scratchBytesPerRow;
  plan = RowPlan();
  if (!meta.rowsIndependent || batch <= 1) {
    plan.rowsPerBlock = batch;
    plan.workingMemory =
        perRow * static_cast<uint64_t>(std::max<int64_t>(batch, 0));
    if (limit && plan.workingMemory > limit)
      return fail(MLP_ERR_OUT_OF_MEMORY,
                  "mlp_model_run: model '" + meta.name + "' needs " +
                      std::to_string(plan.workingMemory) +
                      " bytes of working memory for batch " +
                      std::to_string(batch) + ", over the limit of " +
                      std::to_string(limit) + " bytes");
    return MLP_OK;
  }
  const int32_t threads = numThreads();
  // Enough blocks to keep every thread busy, none bigger than the default
  // scratch budget.
  int64_t rows = roundUp((batch + threads - 1) / threads, kRowGranule);
  int64_t budgetRows =
      perRow ? static_cast<int64_t>(kDefaultBlockScratch / perRow) : batch;
  // The compiler's choice keeps a block's intermediates in L2.
  int64_t maxRows =
      meta.rowsPerBlock > 0 ? meta.rowsPerBlock : kMaxRowsPerBlock;
  rows = std::min({rows, maxRows, std::max<int64_t>(kRowGranule, budgetRows)});
  rows = std::max<int64_t>(1, std::min(rows, batch));
  int64_t blocks = (batch + rows - 1) / rows;
  int32_t inFlight = static_cast<int32_t>(std::min<int64_t>(threads, blocks));
  if (limit && perRow) {
    // Fit the blocks in flight, then fewer threads, into the limit.
    while (static_cast<uint64_t>(rows) * perRow * inFlight > limit) {
      if (rows > 1)
        rows = rows > kRowGranule ? rows / 2 : rows - 1;
      else if (inFlight > 1)
        --inFlight;
      else
        return fail(MLP_ERR_OUT_OF_MEMORY,
                    "mlp_model_run: model '" + meta.name + "' needs " +
                        std::to_string(perRow) +
                        " bytes of working memory per row, over the limit "
                        "of " +
                        std::to_string(limit) + " bytes");
    }
    blocks = (batch + rows - 1) / rows;
  }
  plan.rowsPerBlock = rows;
  plan.blocks = blocks;
  plan.threads = inFlight;
  plan.workingMemory = static_cast<uint64_t>(rows) * perRow * inFlight;
  return MLP_OK;
}

uint64_t columnScratchBytes(const ModelMetadata &meta, const RowPlan &plan,
                            int64_t rows, uint64_t limit) {
  const uint64_t bytes = static_cast<uint64_t>(std::max<int64_t>(rows, 0)) *
                         meta.columnScratchBytesPerRow;
  if (!bytes || numThreads() <= 1 || plan.blocks >= numThreads() ||
      (limit && bytes > limit))
    return 0;
  return bytes;
}

} // namespace mlp::rt
