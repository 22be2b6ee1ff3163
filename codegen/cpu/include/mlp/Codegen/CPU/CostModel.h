//===- CostModel.h - tile sizes for a CPU target ----------------*- C++ -*-===//
//
// What -mlp-tile knows about a CPU and how it ranks tilings. The ranking is a
// model of one core's FMA and load ports; `mlpc --autotune` measures the top
// candidates on the real machine and caches the winners.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_CODEGEN_CPU_COSTMODEL_H
#define MLP_CODEGEN_CPU_COSTMODEL_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlp::cpu {

struct CpuTarget {
  std::string name = "generic";  // LLVM CPU name, part of autotune keys
  int64_t vectorWidth = 16;      // f32 lanes per vector register
  int64_t vectorRegisters = 32;  // architectural vector registers
  uint64_t l2Bytes = 1u << 20;   // per-core L2 cache
};

/// A matmul register tile: rows x cols accumulators held in registers across
/// the reduction, which advances one k at a time.
struct RegisterTile {
  int64_t rows = 8;
  int64_t cols = 32;
  double score = 0; // modelled FMA-port utilization, 0..1
};

/// Register tiles for a (M x K) x (K x N) matmul, best first.
std::vector<RegisterTile> rankRegisterTiles(const CpuTarget &target,
                                            int64_t k, int64_t n);

/// Rows per runtime row block: enough that the per-block intermediates stay
/// in L2, at least 64 and at most 4096, a multiple of 16.
int64_t chooseRowsPerBlock(const CpuTarget &target, uint64_t scratchPerRow);

/// Key of a matmul in the autotune cache.
std::string autotuneKey(const CpuTarget &target, int64_t k, int64_t n);

} // namespace mlp::cpu

#endif // MLP_CODEGEN_CPU_COSTMODEL_H
