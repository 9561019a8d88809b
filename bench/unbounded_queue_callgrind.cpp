// callgrind_unbounded_queue: a tiny driver (not a Google Benchmark binary) for counting
// the instructions of one single-threaded, uncontended try_push+try_pop pair with
// valgrind --tool=callgrind. Instruction counts are repeatable on a noisy machine where
// timings are not.
//
//   callgrind_unbounded_queue --list            the implementations compiled in, one per
//                                               line
//   callgrind_unbounded_queue <impl> [pairs]    warm up, then run `pairs` try_push+try_pop
//                                               pairs (default 1000000) inside
//                                               measured_pairs<>()
//
// The queue holds at most one item: every pair pushes one value and pops it again. For
// the segmented queues (ours: 1024 cells per segment; xenium_ramalhete: 512 entries per
// node; moodycamel: blocks of 32; TBB: pages) the pairs walk through segments, so the
// count includes their turnover amortized over the pairs: ours takes a segment from its
// cache or the allocator every 1024 pairs and retires one through the default epoch
// domain; xenium_ms_queue allocates a node per push and retires one per pop. The bounded
// reference (ref_lockless_bq, room for 65536) wraps around its ring instead. The
// implementations and what their forms do are in bench/unbounded_queue_impls.hpp.
//
// scripts/callgrind_pair.sh --suite unbounded_queue runs it under callgrind with
// --toggle-collect='*measured_pairs*', so only the measured loop is counted (not the
// warm-up, the queue's construction or the program's start-up), and prints the
// instructions per pair of each implementation, and the part spent in malloc/free.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "unbounded_queue_impls.hpp"

namespace {

inline constexpr std::size_t room = std::size_t{1} << 16;

// One pair: try_push then try_pop, as a producer and a consumer of the throughput rows do
// per item when the consumer finds something. Values start at 1 (never 0).
template <class Q>
[[gnu::always_inline]] inline bool pairs(Q& q, std::uint64_t first, std::uint64_t n) {
  std::uint64_t out = 0;
  std::uint64_t sum = 0;
  for (std::uint64_t i = first; i < first + n; ++i) {
    if (!q.try_push(i)) return false;
    if (!q.try_pop(out)) return false;
    sum += out - first + 1;
  }
  // Keeps the popped values observable without a compiler barrier in the loop.
  return sum == n * (n + 1) / 2;
}

// Not measured: reaches the steady state (several segments turned over, the epoch
// domain's and the peers' free lists and caches warm).
// noipa (not just noinline): GCC's identical code folding would otherwise merge the two
// functions into one symbol, and callgrind could not tell them apart (clang has no noipa;
// noinline there).
#if defined(__clang__)
#define LOCKLESS_BENCH_NOIPA gnu::noinline
#else
#define LOCKLESS_BENCH_NOIPA gnu::noipa
#endif
template <class Q>
[[LOCKLESS_BENCH_NOIPA]] bool warmup_pairs(Q& q, std::uint64_t first, std::uint64_t n) {
  return pairs(q, first, n);
}

// Measured: callgrind counts only inside functions matching *measured_pairs*.
template <class Q>
[[LOCKLESS_BENCH_NOIPA]] bool measured_pairs(Q& q, std::uint64_t first, std::uint64_t n) {
  return pairs(q, first, n);
}

inline constexpr std::uint64_t warmup = 200000;

struct run_one {
  std::string_view impl;
  std::uint64_t n;
  bool list;
  int* rc;

  template <class Q>
  void operator()() const {
    if (list) {
      std::printf("%s\n", Q::name);
      *rc = 0;
      return;
    }
    if (impl != Q::name) return;
    auto* q = new Q(room);
    const bool ok = warmup_pairs(*q, 1, warmup) && measured_pairs(*q, warmup + 1, n);
    delete q;
    if (!ok) {
      std::fprintf(stderr, "callgrind_unbounded_queue: %s lost or corrupted a value\n", Q::name);
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
    std::fprintf(stderr, "callgrind_unbounded_queue: unknown implementation '%s' (see --list)\n",
                 argv[1]);
    return 2;
  }
  return rc;
}
