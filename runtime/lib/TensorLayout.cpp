//===- TensorLayout.cpp - weight layouts chosen by the compiler -----------===//
#include "mlp/tensor_layout.h"

#include <cstring>

bool mlp::isPermutation(const std::vector<int64_t> &perm, size_t rank) {
  if (perm.size() != rank)
    return false;
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || static_cast<size_t>(p) >= rank || seen[p])
      return false;
    seen[p] = true;
  }
  return true;
}

std::vector<int64_t> mlp::permuteShape(const std::vector<int64_t> &shape,
                                       const std::vector<int64_t> &perm) {
  std::vector<int64_t> result;
  for (int64_t p : perm)
    result.push_back(shape[p]);
  return result;
}

void mlp::permuteTensor(const void *src, void *dst,
                        const std::vector<int64_t> &shape,
                        const std::vector<int64_t> &perm,
                        size_t elementSize) {
  size_t rank = shape.size();
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  if (count == 0)
    return;
  // Source strides (in elements), read in the order of the stored dims.
  std::vector<int64_t> srcStrides(rank, 1);
  for (size_t i = rank; i-- > 1;)
    srcStrides[i - 1] = srcStrides[i] * shape[i];
  std::vector<int64_t> outShape = permuteShape(shape, perm);
  std::vector<int64_t> index(rank, 0);
  const auto *in = static_cast<const unsigned char *>(src);
  auto *out = static_cast<unsigned char *>(dst);
  for (int64_t n = 0; n < count; ++n) {
    int64_t offset = 0;
    for (size_t i = 0; i < rank; ++i)
      offset += index[i] * srcStrides[perm[i]];
    std::memcpy(out + n * elementSize, in + offset * elementSize,
                elementSize);
    // Advance the row-major index over the stored shape.
    for (size_t i = rank; i-- > 0;) {
      if (++index[i] < outShape[i])
        break;
      index[i] = 0;
    }
  }
}
