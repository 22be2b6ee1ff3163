//===- CudaEmulation.cpp - CUDA kernels of mlpc run on host threads -------===//
#include "CudaEmulation.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

thread_local uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim, gridDim;

namespace {

/// A reusable barrier of `count` threads.
class Barrier {
public:
  explicit Barrier(unsigned count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const unsigned generation = generation_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation != generation_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  unsigned count_, arrived_ = 0, generation_ = 0;
};

struct Block {
  explicit Block(unsigned threads) : all(threads) {
    for (unsigned w = 0; w < (threads + 31) / 32; ++w)
      warps.emplace_back(new Barrier(std::min(32u, threads - 32 * w)));
    values.resize(threads);
  }
  Barrier all;
  std::vector<std::unique_ptr<Barrier>> warps;
  std::vector<float> values; // one per thread, for shuffles
};

Block *current = nullptr;

} // namespace

void __syncthreads() { current->all.wait(); }

float __shfl_xor_sync(unsigned, float value, int laneMask) {
  const unsigned t = threadIdx.x, lane = t & 31, warp = t >> 5;
  current->values[t] = value;
  current->warps[warp]->wait();
  const float other = current->values[warp * 32 + (lane ^ laneMask)];
  current->warps[warp]->wait();
  return other;
}

void mlpc::emulation::launch(dim3 grid, unsigned threads,
                             const std::function<void()> &kernel) {
  Block block(threads);
  current = &block;
  gridDim = grid;
  blockDim = dim3(threads, 1, 1);
  std::vector<std::thread> team;
  for (unsigned t = 0; t < threads; ++t)
    team.emplace_back([&, t] {
      threadIdx = make_uint3(t, 0, 0);
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) {
          if (t == 0)
            blockIdx = make_uint3(x, y, 0);
          block.all.wait(); // blockIdx is set
          kernel();
          block.all.wait(); // every thread is done with this block
        }
    });
  for (std::thread &t : team)
    t.join();
  current = nullptr;
}
