//===- CudaArena.cpp - packing a run's intermediates ----------------------===//
#include "CudaArena.h"

#include <algorithm>
#include <numeric>

namespace mlp::rt {

std::vector<ValueLifetime> valueLifetimes(const CudaPlan &plan) {
  std::vector<ValueLifetime> life(plan.values.size());
  for (size_t s = 0; s < plan.steps.size(); ++s)
    for (const CudaArg &arg : plan.steps[s].args) {
      if (arg.kind != CudaArg::Value || arg.index < 0 ||
          static_cast<size_t>(arg.index) >= life.size())
        continue;
      ValueLifetime &l = life[arg.index];
      if (l.first < 0)
        l.first = static_cast<int>(s);
      l.last = static_cast<int>(s);
    }
  return life;
}

ArenaLayout planArena(const CudaPlan &plan,
                      const std::vector<ValueLifetime> &lifetimes,
                      int64_t rows) {
  constexpr uint64_t kAlign = 256;
  ArenaLayout layout;
  layout.rows = rows;
  layout.offsets.assign(plan.values.size(), 0);
  std::vector<uint64_t> size(plan.values.size(), 0);
  std::vector<size_t> order;
  for (size_t i = 0; i < plan.values.size(); ++i) {
    const CudaValue &v = plan.values[i];
    if (v.kind != CudaValue::Temp || lifetimes[i].first < 0)
      continue;
    const uint64_t bytes =
        uint64_t(v.batched ? rows : 1) * v.rowsPerBatch * v.cols * v.elemBytes;
    size[i] = (std::max<uint64_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return size[a] > size[b]; });
  // Placed values live during any step of `i`, sorted by offset; the lowest
  // gap that holds `i` wins.
  std::vector<size_t> placed;
  for (size_t i : order) {
    std::vector<size_t> busy;
    for (size_t j : placed)
      if (lifetimes[j].first <= lifetimes[i].last &&
          lifetimes[i].first <= lifetimes[j].last)
        busy.push_back(j);
    std::sort(busy.begin(), busy.end(), [&](size_t a, size_t b) {
      return layout.offsets[a] < layout.offsets[b];
    });
    uint64_t at = 0;
    for (size_t j : busy) {
      if (layout.offsets[j] >= at + size[i])
        break;
      at = std::max(at, layout.offsets[j] + size[j]);
    }
    layout.offsets[i] = at;
    layout.bytes = std::max(layout.bytes, at + size[i]);
    placed.push_back(i);
  }
  return layout;
}

} // namespace mlp::rt
