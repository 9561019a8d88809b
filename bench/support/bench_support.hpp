// bench/support/bench_support.hpp: pieces shared by the Google Benchmark suites.
//
// Naming: every benchmark is registered as  <suite>/<workload>/<impl>  and Google
// Benchmark appends /real_time/threads:N. scripts/bench_table.py groups rows by
// (suite, workload, args, threads) and compares implementations: `lockless_*` are ours,
// `std_mutex*` is the baseline to beat.
//
// Threads: 1, 2, 4, 8 (LOCKLESS_BENCH_THREADS replaces the list) with UseRealTime() (docs/design.md, "Benchmark rules"). On a 2-core
// machine 4 and 8 threads are oversubscribed on purpose: that is a workload, not an error.
//
// Google Benchmark 1.7.1 creates fresh std::threads for every run (every batch of
// iterations, repetitions included); thread 0 is the main thread. Per-thread
// registration with a library (libcds attach, epoch records, xenium control blocks)
// therefore happens once per thread per run, outside the timed loop's steady state.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include <lockless/epoch.hpp>

namespace lockless_bench {

// The thread counts of the standard rows: 1, 2, 4, 8, or the comma-separated list in the
// environment variable LOCKLESS_BENCH_THREADS (e.g. "1,2,4,8,16" on a many-core machine),
// plus `extra` (a suite's additional counts), sorted, without duplicates.
inline std::vector<int> bench_thread_counts(std::initializer_list<int> extra = {}) {
  std::vector<int> counts;
  if (const char* env = std::getenv("LOCKLESS_BENCH_THREADS"); env != nullptr && *env != '\0') {
    for (const char* p = env; *p != '\0';) {
      char* end = nullptr;
      const long v = std::strtol(p, &end, 10);
      if (end == p || v < 1 || v > 1024) {
        std::fprintf(stderr, "LOCKLESS_BENCH_THREADS: '%s' is not a list of thread counts\n", env);
        std::exit(2);
      }
      counts.push_back(static_cast<int>(v));
      p = *end == ',' ? end + 1 : end;
    }
  } else {
    counts = {1, 2, 4, 8};
  }
  counts.insert(counts.end(), extra.begin(), extra.end());
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  return counts;
}

// Threads bench_thread_counts(extra), wall-clock time (so items_per_second is over real
// time).
inline void threads_with(benchmark::internal::Benchmark* b, std::initializer_list<int> extra) {
  for (int t : bench_thread_counts(extra)) b->Threads(t);
  b->UseRealTime();
}
inline void standard_threads(benchmark::internal::Benchmark* b) {
  threads_with(b, {});
}

// One instance of S shared by all threads of a run. Setup/Teardown (Google Benchmark
// 1.7.0+) run on the main thread exactly once per run, before the run's threads start
// and after they have all finished, so every run starts from a fresh, empty structure.
template <class S>
struct shared_instance {
  static inline S* instance = nullptr;
  static void setup(const benchmark::State&) {
    S::prepare_thread();  // the constructor may need a registered thread (libcds)
    instance = new S();
  }
  static void teardown(const benchmark::State&) {
    S::prepare_thread();
    delete instance;
    instance = nullptr;
  }
};

// Reclamation telemetry for the rows that use an epoch domain, as user counters (listed
// in the last column of scripts/bench_table.py). Thread 0 reads the domain before and
// after its timed loop (outside timing); every thread runs the same number of iterations.
//   epoch_adv_per_k  epoch advances per 1000 items over all threads. A thread that
//                    retires one object per item seals a batch every 62 retires and then
//                    tries to advance once, so about 1000/62 = 16 is the most to expect;
//                    much less means advances were refused (a pinned thread lagged).
//   pending          objects retired and not yet freed when thread 0 finished: the
//                    garbage in flight (bounded in a healthy domain).
class epoch_probe {
 public:
  epoch_probe(const benchmark::State& state, const lockless::epoch_domain& d)
      : domain_(d), start_(state.thread_index() == 0 ? d.epoch() : 0) {}

  void report(benchmark::State& state, std::int64_t items_per_iteration = 1) const {
    if (state.thread_index() != 0) return;  // counters are summed over threads
    const double items = static_cast<double>(state.iterations()) *
                         static_cast<double>(items_per_iteration) * state.threads();
    const auto advances = static_cast<double>(domain_.epoch() - start_);
    state.counters["epoch_adv_per_k"] = items > 0 ? advances * 1000.0 / items : 0.0;
    state.counters["pending"] = static_cast<double>(domain_.retired_pending());
  }

 private:
  const lockless::epoch_domain& domain_;
  std::uint64_t start_;
};

// ---- thread placement ---------------------------------------------------------------
// The CPUs this process may run on, as read when the program started (before any thread
// was pinned), in increasing order.
inline const std::vector<int> process_cpus = [] {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
#endif
  return cpus;
}();

// Round-robin placement of a run's threads: thread i runs only on process_cpus[i mod n]
// from construction to destruction, when the thread's own mask comes back (thread 0 is
// the main thread, which goes on to later runs). Why: with more threads than CPUs, where
// the kernel happens to put each thread decides the result more than the structure does.
// On 2 CPUs, 2P2C with both producers on one CPU and both consumers on the other runs
// 5-10x faster than with a producer and a consumer on each, and an unpinned run lands in
// either placement by chance (docs/benchmarks.md, "Placement"), so medians of a few
// repetitions compared luck. Pinned, every run of every implementation gets the same
// placement. LOCKLESS_BENCH_PIN=0 in the environment turns it off (the kernel places).
class scoped_cpu_pin {
 public:
  explicit scoped_cpu_pin(int thread_index) {
#if defined(__linux__)
    if (!enabled() || process_cpus.empty()) return;
    if (pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(process_cpus[static_cast<std::size_t>(thread_index) % process_cpus.size()], &one);
    pinned_ = pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
#else
    (void)thread_index;
#endif
  }
  ~scoped_cpu_pin() {
#if defined(__linux__)
    if (pinned_) (void)pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
#endif
  }
  scoped_cpu_pin(const scoped_cpu_pin&) = delete;
  scoped_cpu_pin& operator=(const scoped_cpu_pin&) = delete;

  static bool enabled() {
    static const bool on = [] {
      const char* env = std::getenv("LOCKLESS_BENCH_PIN");
      return env == nullptr || env[0] != '0';  // unset, empty or not starting with 0
    }();
    return on;
  }

 private:
#if defined(__linux__)
  cpu_set_t saved_{};
#endif
  bool pinned_ = false;
};

// ---- the host's cross-CPU cost ------------------------------------------------------
// Mean round trip, in ns, of one cache line passed back and forth `round_trips` times
// between two threads pinned to the first two CPUs this process may use (the calling
// thread's mask comes back afterwards); 0 with fewer than two CPUs. On a virtual machine
// the host decides where the vCPUs run and may move them while the process runs: on the
// 2-vCPU machine of docs/benchmarks.md this reads either about 100 ns (the vCPUs share a
// cache) or about 450 ns (they do not), switching within seconds, and every row whose
// threads hand lines from one CPU to the other follows it. A suite that measures it just
// before each run (bounded_queue's Setup) can report it with the run (counter
// xcpu_rtt_ns), so rows are compared with others from the same state. 20,000 round
// trips take 2-10 ms.
inline double cross_cpu_round_trip_ns(long round_trips = 20000) {
#if defined(__linux__)
  if (process_cpus.size() < 2) return 0.0;
  struct alignas(128) line {
    std::atomic<long> word{0};
  };
  line l;
  auto pin_to = [](int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
  };
  cpu_set_t saved;
  CPU_ZERO(&saved);
  if (pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) != 0) return 0.0;
  std::thread echo([&] {
    (void)pin_to(process_cpus[1]);
    for (long i = 1; i < 2 * round_trips; i += 2) {
      while (l.word.load(std::memory_order_acquire) != i) {
      }
      l.word.store(i + 1, std::memory_order_release);
    }
  });
  (void)pin_to(process_cpus[0]);
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < 2 * round_trips; i += 2) {
    while (l.word.load(std::memory_order_acquire) != i) {
    }
    l.word.store(i + 1, std::memory_order_release);
  }
  const auto t1 = std::chrono::steady_clock::now();
  echo.join();
  (void)pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
  return std::chrono::duration<double, std::nano>(t1 - t0).count() /
         static_cast<double>(round_trips);
#else
  (void)round_trips;
  return 0.0;
#endif
}

}  // namespace lockless_bench
