//===- ConcurrencyTest.cpp - mlp_model_run from many threads --------------===//
//
// runtime.h documents mlp_model_run as safe to call concurrently on one model
// and mlp_last_error as per thread. These tests hammer both from 8 threads
// with different inputs and batch sizes, on the fake model as is (one call of
// the entry per run) and on a variant whose rows are independent (runs split
// into row blocks on the runtime's thread pool). A watchdog turns a deadlock
// into a failure instead of a hung test suite.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "Model.h"

#include "mlp/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kThreads = 8;

DLTensor tensor(float *data, std::vector<int64_t> &shape) {
  DLTensor t{};
  t.data = data;
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = {kDLFloat, 32, 1};
  t.shape = shape.data();
  return t;
}

/// y = x @ w^T for x [batch, 3], w [2, 3]; exact for small integer inputs.
std::vector<float> reference(const std::vector<float> &x) {
  const float *w = mlp::test::fakeWeights;
  std::vector<float> y;
  for (size_t b = 0; b < x.size() / 3; ++b)
    for (int o = 0; o < 2; ++o)
      y.push_back(x[3 * b] * w[3 * o] + x[3 * b + 1] * w[3 * o + 1] +
                  x[3 * b + 2] * w[3 * o + 2]);
  return y;
}

/// Runs `body` on kThreads threads released together; fails the test (and
/// ends the process: a deadlocked thread cannot be joined) if they are not
/// all done within `seconds`.
void runConcurrently(const std::function<void(int)> &body, int seconds = 120) {
  std::mutex mutex;
  std::condition_variable cv;
  int ready = 0, done = 0;
  bool go = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      body(t);
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      cv.notify_all();
    });
  std::unique_lock<std::mutex> lock(mutex);
  cv.wait(lock, [&] { return ready == kThreads; });
  go = true;
  cv.notify_all();
  if (!cv.wait_for(lock, std::chrono::seconds(seconds),
                   [&] { return done == kThreads; })) {
    std::fprintf(stderr,
                 "FATAL: %d of %d threads still running after %d s: "
                 "deadlock in mlp_model_run?\n",
                 kThreads - done, kThreads, seconds);
    std::fflush(stderr);
    std::_Exit(1);
  }
  lock.unlock();
  for (std::thread &th : threads)
    th.join();
}

/// Thread t's input: batch 1 + 7t rows of small integers unique to t.
std::vector<float> inputFor(int t, int iteration) {
  std::vector<float> x(3 * (1 + 7 * t));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] =
        static_cast<float>((t * 31 + iteration + static_cast<int>(i)) % 17 - 8);
  return x;
}

/// Every thread runs `model` `iterations` times on its own inputs and checks
/// every output; returns per-thread success.
std::vector<int> hammer(mlp_model *model, int iterations,
                        std::function<std::vector<float>(int, int)> input,
                        int seconds = 120) {
  std::vector<int> ok(kThreads, 0);
  runConcurrently(
      [&](int t) {
        bool good = true;
        for (int i = 0; i < iterations && good; ++i) {
          std::vector<float> x = input(t, i);
          std::vector<float> y(x.size() / 3 * 2, -99.0f);
          std::vector<int64_t> xs = {static_cast<int64_t>(x.size() / 3), 3},
                               ys = {xs[0], 2};
          DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
          mlp_status s = mlp_model_run(model, &in, 1, &out, 1);
          good = s == MLP_OK && y == reference(x);
          if (!good)
            std::fprintf(stderr, "thread %d iteration %d: %s %s\n", t, i,
                         mlp_status_string(s), mlp_last_error());
        }
        ok[t] = good;
      },
      seconds);
  return ok;
}

TEST(Concurrency, EightThreadsOneModel) {
  mlp_model *model = nullptr;
  ASSERT_EQ(mlp_model_create(nullptr, &model), MLP_OK) << mlp_last_error();
  EXPECT_EQ(hammer(model, 2000, inputFor), std::vector<int>(kThreads, 1));
  mlp_model_destroy(model);
}

// The fake model's metadata, with rows declared independent: runs are split
// into row blocks that run on the thread pool.
const char kRowsIndependentMetadata[] = R"({
  "abi": 1, "name": "fake_rows",
  "inputs":  [{"name": "x", "dtype": "float32", "shape": [-1, 3]}],
  "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 2]}],
  "params":  [{"name": "w", "dtype": "float32", "shape": [2, 3], "offset": 0}],
  "weights": {"embedded": true, "nbytes": 64},
  "rows_independent": true, "scratch_bytes_per_row": 64
})";

/// Restores the default thread count when a test ends.
struct ThreadCount {
  explicit ThreadCount(int32_t n) { mlp_set_num_threads(n); }
  ~ThreadCount() { mlp_set_num_threads(0); }
};

// This test and the next found a deadlock in runtime/lib/ThreadPool.cpp
// (fixed in afed10b): a worker joined a job only if its id < `active`, but
// `active` counted down as workers finished, so a worker that woke late
// skipped the job and the caller waited for `active == 0` forever (4 threads
// on 2 cores: within seconds).
TEST(Concurrency, EightThreadsOneModelRowBlocks) {
  ThreadCount threads(4);
  mlp_model *model = nullptr;
  ASSERT_EQ(mlp::rt::createModel(
                {kRowsIndependentMetadata, mlpc_weights_blob, mlpc_model_entry},
                nullptr, &model),
            MLP_OK)
      << mlp_last_error();
  // Batches up to 200 rows: up to 13 blocks of 16 rows per run.
  auto input = [](int t, int i) {
    std::vector<float> x(3 * (1 + (t * 29 + i) % 200));
    for (size_t k = 0; k < x.size(); ++k)
      x[k] = static_cast<float>((t + i + static_cast<int>(k)) % 13 - 6);
    return x;
  };
  EXPECT_EQ(hammer(model, 200, input, /*seconds=*/60),
            std::vector<int>(kThreads, 1));
  mlp_model_destroy(model);
}

TEST(Concurrency, PoolRunsManyJobsFromOneThread) {
  // One caller owns the pool for every run, so every run is a parallel job
  // handed to the workers: a worker that misses a job's start must not
  // leave the caller waiting for it.
  ThreadCount threads(4);
  mlp_model *model = nullptr;
  ASSERT_EQ(mlp::rt::createModel(
                {kRowsIndependentMetadata, mlpc_weights_blob, mlpc_model_entry},
                nullptr, &model),
            MLP_OK)
      << mlp_last_error();
  std::atomic<bool> ok{true};
  {
    // The premise: a run of 64 rows on 4 threads is split into blocks.
    std::vector<float> x(3 * 64, 1.0f), y(2 * 64);
    std::vector<int64_t> xs = {64, 3}, ys = {64, 2};
    DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
    int before = mlp::test::fakeEntryCalls.load();
    ASSERT_EQ(mlp_model_run(model, &in, 1, &out, 1), MLP_OK);
    ASSERT_GT(mlp::test::fakeEntryCalls.load() - before, 1)
        << "the run was not split into row blocks";
  }
  std::thread caller([&] {
    std::vector<float> x(3 * 64);
    for (size_t k = 0; k < x.size(); ++k)
      x[k] = static_cast<float>(k % 7);
    std::vector<float> y(2 * 64), want = reference(x);
    std::vector<int64_t> xs = {64, 3}, ys = {64, 2};
    DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
    for (int i = 0; i < 20000 && ok; ++i)
      ok = mlp_model_run(model, &in, 1, &out, 1) == MLP_OK && y == want;
  });
  // The same watchdog as runConcurrently, for one thread.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    while (!finished) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "FATAL: 20000 pooled runs not done after 60 s: "
                             "deadlock in the thread pool?\n");
        std::fflush(stderr);
        std::_Exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  caller.join();
  finished = true;
  watchdog.join();
  EXPECT_TRUE(ok);
  mlp_model_destroy(model);
}

TEST(Concurrency, LastErrorIsPerThread) {
  mlp_model *model = nullptr;
  ASSERT_EQ(mlp_model_create(nullptr, &model), MLP_OK) << mlp_last_error();
  // The main thread's own message must survive everything below.
  ASSERT_EQ(mlp_model_input_info(model, 7, nullptr), MLP_ERR_INVALID_ARGUMENT);
  const std::string mainError = mlp_last_error();
  ASSERT_FALSE(mainError.empty());

  std::vector<int> ok(kThreads, 0);
  runConcurrently([&](int t) {
    // Even threads fail with a shape error naming their own feature count
    // (4 + t), odd threads succeed in between their own failures: a
    // success must not clear, and another thread's failure must not
    // replace, this thread's message.
    std::vector<float> x(3 * 8, 1.0f), y(2 * 8);
    std::vector<int64_t> xs = {8, 3}, ys = {8, 2}, bad = {8, 4 + t};
    DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
    DLTensor wrong = tensor(x.data(), bad);
    const std::string mine = "got [8, " + std::to_string(4 + t) + "]";
    bool good = std::string(mlp_last_error()).empty();
    for (int i = 0; i < 500 && good; ++i) {
      good &= mlp_model_run(model, &wrong, 1, &out, 1) == MLP_ERR_SHAPE;
      good &= std::string(mlp_last_error()).find(mine) != std::string::npos;
      if (t % 2) {
        good &= mlp_model_run(model, &in, 1, &out, 1) == MLP_OK;
        good &= std::string(mlp_last_error()).find(mine) != std::string::npos;
      }
      std::this_thread::yield();
      good &= std::string(mlp_last_error()).find(mine) != std::string::npos;
    }
    if (!good)
      std::fprintf(stderr, "thread %d: last error '%s', expected '%s'\n", t,
                   mlp_last_error(), mine.c_str());
    ok[t] = good;
  });
  EXPECT_EQ(ok, std::vector<int>(kThreads, 1));
  EXPECT_EQ(mainError, mlp_last_error());
  mlp_model_destroy(model);
}

} // namespace
