//===- ThreadPool.h - persistent workers for row-parallel runs --*- C++ -*-===//
//
// One pool per generated library, started on first use and kept for the
// life of the process: spawning threads per call costs 15-45 % on small
// batches (reference/cpu-codegen.md). The calling thread works too, so a
// pool of n threads has n-1 workers.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_THREADPOOL_H
#define MLP_RUNTIME_THREADPOOL_H

#include <cstdint>
#include <functional>

namespace mlp::rt {

/// Threads a run may use (>= 1): mlp_set_num_threads, else MLP_NUM_THREADS,
/// else the number of cores.
int32_t numThreads();
void setNumThreads(int32_t n); // 0 = back to the default

/// Calls task(i) for every i in [0, count), on up to `threads` threads
/// (the caller's included), and returns when all are done. If the pool is busy with another caller's
/// job, the tasks run on the calling thread instead: concurrent runs never
/// wait for each other.
void parallelFor(int64_t count, int32_t threads,
                 const std::function<void(int64_t)> &task);

/// Runs task(t, threads) on `threads` threads at once (t = 0 on the caller),
/// for code that synchronizes them with teamBarrier(). Returns false, having
/// run nothing, if the pool is busy with another caller's job: a team that
/// waits at barriers cannot run its members one after the other.
bool runTeam(int32_t threads, const std::function<void(int32_t)> &task);

/// Waits until every member of the calling thread's team arrives (a no-op
/// outside a team). Spins first: the steps between barriers of a tiny batch
/// take microseconds, far less than a sleep and wake-up.
void teamBarrier();

} // namespace mlp::rt

#endif // MLP_RUNTIME_THREADPOOL_H
