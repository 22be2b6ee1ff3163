//===- CostModel.cpp - tile sizes for a CPU target ------------------------===//
#include "mlp/Codegen/CPU/CostModel.h"

#include <algorithm>
#include <cstdlib>

using namespace mlp::cpu;

std::vector<RegisterTile> mlp::cpu::rankRegisterTiles(const CpuTarget &target,
                                                      int64_t k, int64_t n) {
  const int64_t vw = target.vectorWidth;
  // B is swept once per row tile; past L1 its vectors come from L2 at about
  // one vector every two cycles.
  const bool bFromL2 = k * n * 4 > 48 * 1024;
  std::vector<RegisterTile> tiles;
  for (int64_t rows : {1, 2, 4, 6, 8, 12, 14, 16}) {
    for (int64_t vectors = 1; vectors <= 4; ++vectors) {
      int64_t cols = vectors * vw;
      // Accumulators, one vector of B per column block, one broadcast of A.
      if (rows * vectors + vectors + 1 > target.vectorRegisters)
        continue;
      if (vectors > 1 && cols > ((n + vw - 1) / vw) * vw)
        continue;
      // Per k step, on two FMA ports and two load ports.
      double fmaCycles = rows * vectors / 2.0;
      double loadCycles = (rows + vectors) / 2.0;
      double l2Cycles = bFromL2 ? 2.0 * vectors : 0.0;
      // Rows of B far apart in L2 (one k step is a row of n floats) also
      // cost a fixed stall per k step that the FMAs of the tile do not
      // hide: about 8 cycles on Zen 5, fitted to MLP-Mixer's 512 x 2048
      // and 2048 x 512 layers, where 14 x 32 tiles beat 8 x 32 by 16 % and
      // 6 x 64 or 12 x 32 by 2 to 3 %. Measured with AVX-512 only.
      double stall = bFromL2 && vw >= 16 ? 8.0 : 0.0;
      double cycles = std::max({fmaCycles, loadCycles, l2Cycles}) + stall;
      // An FMA has 4 cycles of latency: 8 independent accumulators keep
      // both ports busy.
      double latency = std::min(1.0, rows * vectors / 8.0);
      // Columns past N in the last block are wasted lanes.
      int64_t blocks = (n + cols - 1) / cols;
      double useful = static_cast<double>(n) / (blocks * cols);
      // Among equals prefer 8 rows: taller tiles leave more rows to the
      // remainder path, shorter ones sweep B more often.
      double preference = 1.0 - 0.001 * std::abs(rows - 8);
      tiles.push_back(
          {rows, cols, fmaCycles / cycles * latency * useful * preference});
    }
  }
  std::stable_sort(tiles.begin(), tiles.end(),
                   [](const RegisterTile &a, const RegisterTile &b) {
                     return a.score > b.score;
                   });
  return tiles;
}

int64_t mlp::cpu::chooseRowsPerBlock(const CpuTarget &target,
                                     uint64_t scratchPerRow) {
  if (scratchPerRow == 0)
    return 4096;
  // Half of L2 for the block's intermediates, the rest for weights.
  int64_t rows = static_cast<int64_t>(target.l2Bytes / 2 / scratchPerRow);
  // A "row" that is itself a matrix (an image of tokens: MLP-Mixer's is
  // 3.5 MB) is work enough for a block: blocks of one row each keep every
  // thread busy at small batches (16 images in 64-row blocks ran on one
  // thread) and a block's intermediates as small as they can be.
  if (scratchPerRow * 16 > target.l2Bytes)
    return std::max<int64_t>(rows, 1);
  rows = std::clamp<int64_t>(rows, 64, 4096);
  return rows / 16 * 16;
}

std::string mlp::cpu::autotuneKey(const CpuTarget &target, int64_t k,
                                  int64_t n) {
  return target.name + "/v" + std::to_string(target.vectorWidth) + "/matmul/k" +
         std::to_string(k) + "/n" + std::to_string(n);
}
