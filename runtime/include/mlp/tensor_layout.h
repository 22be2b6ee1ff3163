//===- tensor_layout.h - weight layouts chosen by the compiler --*- C++ -*-===//
//
// The compiler may store a weight in another layout than the checkpoint's
// (for example a linear weight (out, in) as (in, out), so that a matmul reads
// it along contiguous rows). The layout is a permutation: dimension i of the
// stored tensor is dimension perm[i] of the checkpoint tensor. The compiler
// uses this to write the embedded blob, the runtime to re-lay a tensor read
// from a .safetensors file; both share this one implementation.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_TENSOR_LAYOUT_H
#define MLP_TENSOR_LAYOUT_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mlp {

/// True if perm is a permutation of 0..rank-1.
bool isPermutation(const std::vector<int64_t> &perm, size_t rank);

/// The stored shape: shape[perm[i]] for every i.
std::vector<int64_t> permuteShape(const std::vector<int64_t> &shape,
                                  const std::vector<int64_t> &perm);

/// Copies a row-major tensor of `shape` from src to dst in the permuted
/// layout. src and dst must not overlap; elementSize is in bytes.
void permuteTensor(const void *src, void *dst,
                   const std::vector<int64_t> &shape,
                   const std::vector<int64_t> &perm, size_t elementSize);

} // namespace mlp

#endif // MLP_TENSOR_LAYOUT_H
