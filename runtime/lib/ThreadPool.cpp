//===- ThreadPool.cpp - persistent workers for row-parallel runs ----------===//
//
// Workers spin for a while after each job before they sleep, and so does the
// caller waiting for them: a batch-1 run takes a few microseconds, and waking
// a sleeping thread through the kernel costs about as much again.
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MLP_PAUSE() _mm_pause()
#else
#define MLP_PAUSE() ((void)0)
#endif

namespace mlp::rt {
namespace {

std::atomic<int32_t> requestedThreads{0};

// How long an idle worker polls for the next job before it sleeps: longer
// than the gap between back-to-back calls from Python (~10 us), short
// enough not to hold a core for long once calls stop.
constexpr auto kIdleSpin = std::chrono::microseconds(200);
// How long a barrier or a join spins before sleeping: a step of a batch-1
// run takes a few microseconds; a partner not there by then has lost its
// core.
constexpr auto kWaitSpin = std::chrono::microseconds(20);

int32_t defaultThreads() {
  if (const char *env = std::getenv("MLP_NUM_THREADS")) {
    long n = std::strtol(env, nullptr, 10);
    if (n > 0 && n < 4096)
      return static_cast<int32_t>(n);
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores ? static_cast<int32_t>(cores) : 1;
}

/// Polls `done` with pause for up to `spin`; true if it became true.
template <typename Done>
bool spinFor(Done done, std::chrono::microseconds spin) {
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1; !done(); ++i) {
    MLP_PAUSE();
    if (i % 64 == 0 && std::chrono::steady_clock::now() - start > spin)
      return false;
  }
  return true;
}

/// Set when a team member had to sleep: a partner lost its core (a busy
/// machine), and every barrier of a run may then cost a scheduler period.
std::atomic<bool> contended{false};
// Team runs refused after a contended one: they take the single-thread path
// meanwhile (tens of microseconds, not hundreds), then teams are tried again.
constexpr int32_t kBackoffRuns = 64;

/// Where a thread waits for a condition after spinning: it sleeps, so that
/// on a busy machine it hands its core to the thread it waits for (yielding
/// does not: the scheduler may run it again at once).
struct Sleeper {
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<int32_t> sleeping{0};

  template <typename Done> void wait(Done done) {
    if (spinFor(done, kWaitSpin))
      return;
    std::unique_lock<std::mutex> lock(mutex);
    // Seq-cst with the notifier's update and check of `sleeping`: either it
    // sees this thread sleeping, or this thread sees the condition met.
    contended.store(true, std::memory_order_relaxed);
    sleeping.fetch_add(1);
    cv.wait(lock, done);
    sleeping.fetch_sub(1);
  }
  /// After making the condition true (with a seq-cst store).
  void notify() {
    if (sleeping.load() == 0)
      return;
    { std::lock_guard<std::mutex> lock(mutex); }
    cv.notify_all();
  }
};

/// A reusable barrier for the members of one team (sense by generation).
struct Barrier {
  std::atomic<int32_t> arrived{0};
  std::atomic<uint32_t> phase{0};
  int32_t size = 1;
  Sleeper sleeper;

  void wait() {
    if (size <= 1)
      return;
    uint32_t current = phase.load();
    if (arrived.fetch_add(1) + 1 == size) {
      arrived.store(0);
      phase.store(current + 1);
      sleeper.notify();
      return;
    }
    sleeper.wait([&] { return phase.load() != current; });
  }
};

thread_local Barrier *currentBarrier = nullptr;

class Pool {
public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping.store(true);
    }
    wake.notify_all();
    for (auto &w : workers)
      w->thread.join();
  }

  /// Tasks [0, count) on up to `threads` threads; with `team`, exactly
  /// `count` == `threads` threads each run one task, concurrently.
  bool run(int64_t count, const std::function<void(int64_t)> &task,
           int32_t threads, bool team) {
    std::unique_lock<std::mutex> job(jobMutex, std::try_to_lock);
    if (team && job.owns_lock() && backoff > 0) {
      --backoff; // guarded by jobMutex
      return false;
    }
    if (!job.owns_lock() && team)
      return false;
    if (!job.owns_lock() || threads <= 1 || count <= 1) {
      for (int64_t i = 0; i < count; ++i)
        task(i);
      return true;
    }
    int32_t helpers =
        static_cast<int32_t>(std::min<int64_t>(threads - 1, count - 1));
    ensureWorkers(helpers);
    if (team) {
      // A helper asleep takes the kernel 100 us or more to wake here (an
      // idle core), far longer than the run: refuse, so the run takes the
      // single-thread path, and wake the helpers so that they spin, ready
      // for the calls that follow soon.
      bool cold = false;
      for (int32_t i = 0; i < helpers; ++i)
        cold |= workers[i]->asleep.load();
      if (cold) {
        pokes.fetch_add(1);
        { std::lock_guard<std::mutex> lock(mutex); }
        wake.notify_all();
        return false;
      }
    }
    current = &task;
    total = count;
    next.store(team ? 1 : 0, std::memory_order_relaxed);
    isTeam = team;
    barrier.size = team ? static_cast<int32_t>(count) : 1;
    active.store(helpers, std::memory_order_relaxed);
    ++generation;
    contended.store(false, std::memory_order_relaxed); // not an older job's
    // Release: a worker that sees its ticket sees the job's fields.
    for (int32_t i = 0; i < helpers; ++i)
      workers[i]->ticket.store(generation, std::memory_order_release);
    {
      // Taken so that a worker about to sleep cannot miss its ticket.
      std::lock_guard<std::mutex> lock(mutex);
    }
    wake.notify_all();
    if (team) {
      currentBarrier = &barrier;
      task(0);
      currentBarrier = nullptr;
    } else {
      work();
    }
    joined.wait([&] { return active.load() == 0; });
    if (team && contended.exchange(false, std::memory_order_relaxed))
      backoff = kBackoffRuns;
    current = nullptr;
    return true;
  }

private:
  struct Worker {
    std::atomic<uint64_t> ticket{0};
    std::atomic<bool> asleep{false};
    std::thread thread;
  };

  void ensureWorkers(int32_t n) {
    while (static_cast<int32_t>(workers.size()) < n) {
      workers.push_back(std::make_unique<Worker>());
      Worker *w = workers.back().get();
      w->thread = std::thread([this, w] { loop(*w); });
    }
  }

  /// Takes tasks until none are left.
  void work() {
    for (int64_t i = next.fetch_add(1); i < total; i = next.fetch_add(1))
      (*current)(i);
  }

  void loop(Worker &self) {
    uint64_t seen = 0, poked = 0;
    for (;;) {
      auto ready = [&] {
        return stopping.load() || pokes.load() != poked ||
               self.ticket.load(std::memory_order_acquire) != seen;
      };
      auto start = std::chrono::steady_clock::now();
      for (unsigned i = 0; !ready(); ++i) {
        MLP_PAUSE();
        if (i % 64 == 0 &&
            std::chrono::steady_clock::now() - start > kIdleSpin) {
          self.asleep.store(true);
          std::unique_lock<std::mutex> lock(mutex);
          wake.wait(lock, ready);
          self.asleep.store(false);
          break;
        }
      }
      if (stopping.load())
        return;
      poked = pokes.load();
      if (self.ticket.load(std::memory_order_acquire) == seen)
        continue; // woken to spin, not for a job
      seen = self.ticket.load(std::memory_order_acquire);
      if (isTeam) {
        currentBarrier = &barrier;
        (*current)(next.fetch_add(1));
        currentBarrier = nullptr;
      } else {
        work();
      }
      if (active.fetch_sub(1) == 1)
        joined.notify();
    }
  }

  std::mutex jobMutex; // one parallel job at a time
  std::mutex mutex;    // guards sleeping, with `wake`
  std::condition_variable wake;
  std::vector<std::unique_ptr<Worker>> workers;
  const std::function<void(int64_t)> *current = nullptr;
  std::atomic<int64_t> next{0};
  int64_t total = 0;
  bool isTeam = false;
  int32_t backoff = 0;            // team runs still to refuse
  std::atomic<uint64_t> pokes{0}; // wake-ups without a job
  Barrier barrier;
  std::atomic<int64_t> active{0}; // helpers not yet done with the job
  Sleeper joined;                 // the caller, waiting for them
  uint64_t generation = 0;
  std::atomic<bool> stopping{false};
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
  pool().run(count, task, threads, /*team=*/false);
}

bool runTeam(int32_t threads, const std::function<void(int32_t)> &task) {
  if (threads <= 1) {
    task(0);
    return true;
  }
  std::function<void(int64_t)> member = [&](int64_t t) {
    task(static_cast<int32_t>(t));
  };
  return pool().run(threads, member, threads, /*team=*/true);
}

void teamBarrier() {
  if (Barrier *b = currentBarrier)
    b->wait();
}

} // namespace mlp::rt

/// Called by generated column-parallel code between its steps.
extern "C" __attribute__((visibility("hidden"))) void mlpc_column_barrier() {
  mlp::rt::teamBarrier();
}
