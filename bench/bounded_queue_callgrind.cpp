// callgrind_bounded_queue: a tiny driver (not a Google Benchmark binary) for counting the
// instructions of one single-threaded try_push+try_pop pair with valgrind --tool=callgrind.
// Instruction counts are repeatable on a noisy machine where timings are not.
//
//   callgrind_bounded_queue --list            the implementations compiled in, one per line
//   callgrind_bounded_queue <impl> [pairs]    warm up, then run `pairs` try_push+try_pop
//                                             pairs (default 1000000) inside
//                                             measured_pairs<>()
//   callgrind_bounded_queue <impl>_blocking [pairs]
//                                             the same with the blocking forms (push_wait +
//                                             pop_wait, which never wait here), for the
//                                             queues that have them (listed too)
//
// The queue (capacity 1024, as in bench_bounded_queue's throughput rows) holds at most
// one item: every pair pushes one value and pops it again, so the indexes wrap around
// the ring many times. The implementations and what their try forms do are in
// bench/bounded_queue_impls.hpp (moodycamel's push is enqueue(), which may allocate; in
// this steady state it reuses its blocks).
//
// scripts/callgrind_pair.sh --suite bounded_queue runs it under callgrind with
// --toggle-collect='*measured_pairs*', so only the measured loop is counted (not the
// warm-up, the queue's construction or the program's start-up), and prints the
// instructions per pair of each implementation.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bounded_queue_impls.hpp"

namespace {

inline constexpr std::size_t capacity = 1024;

// One pair: try_push then try_pop, as a producer and a consumer of the throughput rows do
// per item when neither finds the queue full or empty. Values start at 1 (atomic_queue's
// AtomicQueueB reserves 0).
// Blocking: push_wait then pop_wait instead (neither waits: the queue is never full
// before the push, nor empty before the pop).
template <bool Blocking, class Q>
[[gnu::always_inline]] inline bool pairs(Q& q, std::uint64_t n) {
  std::uint64_t out = 0;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    if constexpr (Blocking) {
      q.push_wait(i);
      q.pop_wait(out);
    } else {
      if (!q.try_push(i)) return false;
      if (!q.try_pop(out)) return false;
    }
    sum += out;
  }
  // Keeps the popped values observable without a compiler barrier in the loop.
  return sum == n * (n + 1) / 2;
}

// Not measured: reaches the steady state (every slot of the ring touched, the peers' pools
// and free lists warm).
// noipa (not just noinline): GCC's identical code folding would otherwise merge the two
// functions into one symbol, and callgrind could not tell them apart (clang has no noipa;
// noinline there).
#if defined(__clang__)
#define LOCKLESS_BENCH_NOIPA gnu::noinline
#else
#define LOCKLESS_BENCH_NOIPA gnu::noipa
#endif
template <bool Blocking, class Q>
[[LOCKLESS_BENCH_NOIPA]] bool warmup_pairs(Q& q, std::uint64_t n) {
  return pairs<Blocking>(q, n);
}

// Measured: callgrind counts only inside functions matching *measured_pairs*.
template <bool Blocking, class Q>
[[LOCKLESS_BENCH_NOIPA]] bool measured_pairs(Q& q, std::uint64_t n) {
  return pairs<Blocking>(q, n);
}

struct run_one {
  std::string_view impl;
  std::uint64_t n;
  bool list;
  int* rc;

  template <class Q>
  void operator()() const {
    const std::string blocking_name = std::string(Q::name) + "_blocking";
    if (list) {
      std::printf("%s\n", Q::name);
      if constexpr (lockless_bench::blocking_queue<Q>) std::printf("%s\n", blocking_name.c_str());
      *rc = 0;
      return;
    }
    if (impl == Q::name) {
      run<false, Q>();
    } else if constexpr (lockless_bench::blocking_queue<Q>) {
      if (impl == blocking_name) run<true, Q>();
    }
  }

  template <bool Blocking, class Q>
  void run() const {
    auto* q = new Q(capacity);
    const bool ok = warmup_pairs<Blocking>(*q, 100000) && measured_pairs<Blocking>(*q, n);
    delete q;
    if (!ok) {
      std::fprintf(stderr, "callgrind_bounded_queue: %s lost or corrupted a value\n", Q::name);
      *rc = 1;
      return;
    }
    *rc = 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s --list | <impl> [pairs]\n", argv[0]);
    return 2;
  }
  const std::string_view impl = argv[1];
  const bool list = impl == "--list";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  int rc = -1;
  lockless_bench::for_each_queue(run_one{impl, n, list, &rc});
  if (rc == -1) {
    std::fprintf(stderr, "callgrind_bounded_queue: unknown implementation '%s' (see --list)\n",
                 argv[1]);
    return 2;
  }
  return rc;
}
