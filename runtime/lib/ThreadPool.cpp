//===- ThreadPool.cpp - persistent workers for row-parallel runs ----------===//
#include "ThreadPool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace mlp::rt {
namespace {

std::atomic<int32_t> requestedThreads{0};

int32_t defaultThreads() {
  if (const char *env = std::getenv("MLP_NUM_THREADS")) {
    long n = std::strtol(env, nullptr, 10);
    if (n > 0 && n < 4096)
      return static_cast<int32_t>(n);
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores ? static_cast<int32_t>(cores) : 1;
}

class Pool {
public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &t : workers)
      t.join();
  }

  void run(int64_t count, const std::function<void(int64_t)> &task,
           int32_t threads) {
    std::unique_lock<std::mutex> job(jobMutex, std::try_to_lock);
    if (!job.owns_lock() || threads <= 1 || count <= 1) {
      for (int64_t i = 0; i < count; ++i)
        task(i);
      return;
    }
    ensureWorkers(threads - 1);
    {
      std::lock_guard<std::mutex> lock(mutex);
      current = &task;
      total = count;
      next.store(0);
      participants = std::min<int64_t>(threads - 1, count - 1);
      active = participants;
      ++generation;
    }
    wake.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait(lock, [&] { return active == 0; });
    current = nullptr;
  }

private:
  void ensureWorkers(int32_t n) {
    std::lock_guard<std::mutex> lock(mutex);
    while (static_cast<int32_t>(workers.size()) < n)
      workers.emplace_back([this, id = workers.size()] { loop(id); });
  }

  /// Takes tasks until none are left.
  void work() {
    for (int64_t i = next.fetch_add(1); i < total; i = next.fetch_add(1))
      (*current)(i);
  }

  void loop(size_t id) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
      // Only the first `participants` workers join a job of few tasks; the
      // count is fixed per job (unlike `active`), so a worker that wakes
      // late still knows it must join and check out.
      if (static_cast<int64_t>(id) >= participants)
        continue;
      lock.unlock();
      work();
      lock.lock();
      if (--active == 0)
        finished.notify_one();
    }
  }

  std::mutex jobMutex; // one parallel job at a time
  std::mutex mutex;
  std::condition_variable wake, finished;
  std::vector<std::thread> workers;
  const std::function<void(int64_t)> *current = nullptr;
  std::atomic<int64_t> next{0};
  int64_t total = 0;
  int64_t participants = 0; // workers in the current job
  int64_t active = 0;       // of those, the ones not yet done
  uint64_t generation = 0;
  bool stopping = false;
};

Pool &pool() {
  static Pool instance;
  return instance;
}

} // namespace

int32_t numThreads() {
  int32_t n = requestedThreads.load();
  return n > 0 ? n : defaultThreads();
}

void setNumThreads(int32_t n) { requestedThreads.store(n > 0 ? n : 0); }

void parallelFor(int64_t count, int32_t threads,
                 const std::function<void(int64_t)> &task) {
  pool().run(count, task, threads);
}

} // namespace mlp::rt
