//===- CudaEmulation.h - CUDA kernels of mlpc run on host threads -*- C++
//-*-===//
//
// The generated libraries' kernels that use no tensor cores (the general,
// row-wise and elementwise ones of codegen/cuda/kernels) are plain CUDA C++.
// Included after this header and compiled by the host compiler, they run on
// host threads: one thread per CUDA thread, the blocks of a launch one after
// the other, __syncthreads as a barrier of the block and warp shuffles
// through a per-warp exchange. That checks their indexing and arithmetic on
// machines without a GPU (CI); timing and the memory model are not emulated.
//
//===----------------------------------------------------------------------===//
#ifndef MLPC_TEST_CUDAEMULATION_H
#define MLPC_TEST_CUDAEMULATION_H

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <vector_types.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>

// One block runs at a time, so a kernel's __shared__ arrays are statics.
#undef __shared__
#define __shared__ static
#define MLPC_DYNAMIC_SHARED(T, name) static T *name = nullptr

extern thread_local uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim, gridDim;

void __syncthreads();
float __shfl_xor_sync(unsigned mask, float value, int laneMask);

template <class T> inline T __ldg(const T *p) { return *p; }
inline size_t __cvta_generic_to_shared(const void *p) {
  return reinterpret_cast<size_t>(p);
}
inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return std::exp(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

namespace mlpc::emulation {
/// Runs `kernel` on a grid of `grid` blocks of `threads` threads.
void launch(dim3 grid, unsigned threads, const std::function<void()> &kernel);
} // namespace mlpc::emulation

#endif // MLPC_TEST_CUDAEMULATION_H
