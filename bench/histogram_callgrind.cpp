// callgrind_histogram: a tiny driver (not a Google Benchmark binary) for counting the
// instructions of one single-threaded, uncontended observe() with valgrind
// --tool=callgrind. Instruction counts are repeatable on a noisy machine where timings
// are not.
//
//   callgrind_histogram --list              the implementations compiled in, one per line
//   callgrind_histogram <impl> [observes]   warm up, then run `observes` observe() calls
//                                           (default 1000000) inside measured_observes<>()
//
// The values are bench_values(0) (bench/histogram_impls.hpp: log-uniform latencies over
// [1 ms, 20 s], a precomputed array of 4096 cycled through), the same stream as thread 0
// of bench_histogram's histogram/observe rows; classic buckets are Prometheus' default
// latency buckets. The implementations: bench/histogram_impls.hpp.
//
// scripts/callgrind_pair.sh --suite histogram runs it under callgrind with
// --toggle-collect='*measured_*', so only the measured loop is counted (not the warm-up,
// the construction or the program's start-up; callees such as prometheus-cpp's shared
// library and pthread_mutex_lock are counted), and prints the instructions per observe.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include "histogram_impls.hpp"

namespace {

using lockless_bench::value_count;

template <class H>
[[gnu::always_inline]] inline void observes(H& h, const std::vector<double>& values,
                                            std::uint64_t n) {
  std::size_t i = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    h.observe(values[i]);
    i = (i + 1) & (value_count - 1);
  }
}

// noipa (not just noinline): GCC's identical code folding would otherwise merge the two
// functions into one symbol, and callgrind could not tell them apart (clang has no noipa;
// noinline there).
#if defined(__clang__)
#define LOCKLESS_BENCH_NOIPA gnu::noinline
#else
#define LOCKLESS_BENCH_NOIPA gnu::noipa
#endif
// Not measured: the first call's one-time work (the thread's stripe, static tables,
// the mutex's first lock) and warm caches.
template <class H>
[[LOCKLESS_BENCH_NOIPA]] void warmup_observes(H& h, const std::vector<double>& values,
                                              std::uint64_t n) {
  observes(h, values, n);
}

// Measured: callgrind counts only inside functions matching *measured_*.
template <class H>
[[LOCKLESS_BENCH_NOIPA]] void measured_observes(H& h, const std::vector<double>& values,
                                                std::uint64_t n) {
  observes(h, values, n);
}

inline constexpr std::uint64_t warmup = 100000;

struct run_one {
  std::string_view impl;
  std::uint64_t n;
  bool list;
  int* rc;

  template <class H>
  void operator()() const {
    if (list) {
      std::printf("%s\n", H::name);
      *rc = 0;
      return;
    }
    if (impl != H::name) return;
    const std::vector<double> values = lockless_bench::bench_values(0);
    auto* h = new H(lockless_bench::default_latency_bounds());
    warmup_observes(*h, values, warmup);
    measured_observes(*h, values, n);
    const std::uint64_t count = h->collect();
    delete h;
    if (count != warmup + n) {
      std::fprintf(stderr, "callgrind_histogram: %s counted %llu observations, not %llu\n", H::name,
                   static_cast<unsigned long long>(count),
                   static_cast<unsigned long long>(warmup + n));
      *rc = 1;
      return;
    }
    *rc = 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s --list | <impl> [observes]\n", argv[0]);
    return 2;
  }
  const std::string_view impl = argv[1];
  const bool list = impl == "--list";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  // glibc skips the lock prefix of pthread_mutex_lock/unlock until a process has had a
  // second thread: one started and joined first, so that the mutex-based histograms
  // (std::mutex, prometheus-cpp) run their multi-threaded path, as in a server.
  std::thread([] {}).join();
  int rc = -1;
  lockless_bench::for_each_histogram(run_one{impl, n, list, &rc});
  if (rc == -1) {
    std::fprintf(stderr, "callgrind_histogram: unknown implementation '%s' (see --list)\n",
                 argv[1]);
    return 2;
  }
  return rc;
}
