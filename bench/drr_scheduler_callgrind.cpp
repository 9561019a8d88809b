// callgrind_drr_scheduler: a tiny driver (not a Google Benchmark binary) for counting the
// instructions of single-threaded push+pop pairs with valgrind --tool=callgrind.
// Instruction counts are repeatable on a noisy machine where timings are not.
//
//   callgrind_drr_scheduler --list           the runs it knows, one per line
//   callgrind_drr_scheduler <run> [pairs]    warm up, then run `pairs` pairs (default
//                                            1000000) inside measured_pairs<>()
//
// Three scenarios per implementation of bench/drr_scheduler_impls.hpp (quantum 1, capacity
// 16 per flow, unit costs, as in bench_drr_scheduler):
//   <impl>        backlogged: 64 flows holding 8 items each; a pair is try_pop, then
//                 try_push of the popped value back into its flow (bench_drr_scheduler's
//                 drr_scheduler/all_backlogged/<impl>/64). Every pop ends a turn and
//                 starts the next flow's.
//   <impl>_lone   one item at a time: one flow, empty; a pair is try_push then try_pop.
//                 Every pop drains the flow, which stays listed, idle (lockless::
//                 drr_scheduler's lazy unlisting; the mutex DRR runs the same model), so
//                 the next push finds it listed: a flow refilled within a round.
//   <impl>_sparse the same, then a try_pop that finds nothing: the idle flow's turn finds
//                 it still empty and it leaves the list ([DA3]/[DA4]), so the next push
//                 activates it again (inbox, notify): the path of a lightly loaded
//                 scheduler whose consumer waits for work.
// The FIFO (fifo_lockless_bq) runs all three for reference: a ring of 64 x 16 items
// holding 512, and a ring of 16 holding at most one.
//
// scripts/callgrind_pair.sh --suite drr_scheduler runs it under callgrind with
// --toggle-collect='*measured_*', so only the measured loop is counted (not the warm-up,
// the construction or the program's start-up), and prints the instructions per pair of
// each run; its ratio column is against the first lockless_* run, lockless_drr
// (backlogged).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "drr_scheduler_impls.hpp"

namespace {

inline constexpr std::uint32_t quantum = 1;
inline constexpr std::size_t capacity = 16;
inline constexpr std::size_t backlogged_flows = 64;
inline constexpr std::size_t fill = 8;
inline constexpr std::uint64_t warmup = 100000;

// Keeps the popped values observable without a compiler barrier in the loop.
volatile std::uint64_t sink = 0;

enum class shape { backlogged, lone, sparse };

template <class S>
struct prepared {
  S s;
  std::vector<typename S::flow_type> flows;
  shape how;
};

// A pair on the backlogged scheduler: pop, push the value back into its flow.
template <class S>
[[gnu::always_inline]] inline bool backlogged_pairs(S& s, std::uint64_t n) {
  typename S::flow_type f{};
  std::uint64_t out = 0;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!s.try_pop(f, out)) return false;
    if (!s.try_push(f, out)) return false;
    sum += out;
  }
  sink = sum;
  return true;
}

// A pair on the lone flow: push, pop the same value; `sparse`: then a pop that finds
// nothing.
template <class S, bool Sparse>
[[gnu::always_inline]] inline bool lone_pairs(S& s, typename S::flow_type flow, std::uint64_t n) {
  typename S::flow_type f{};
  std::uint64_t out = 0;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    if (!s.try_push(flow, i)) return false;
    if (!s.try_pop(f, out)) return false;
    if constexpr (Sparse) {
      if (s.try_pop(f, out)) return false;
    }
    sum += out;
  }
  sink = sum;
  return sum == n * (n + 1) / 2;
}

template <class S>
[[gnu::always_inline]] inline bool pairs(prepared<S>& p, std::uint64_t n) {
  switch (p.how) {
    case shape::lone:
      return lone_pairs<S, false>(p.s, p.flows[0], n);
    case shape::sparse:
      return lone_pairs<S, true>(p.s, p.flows[0], n);
    case shape::backlogged:
      break;
  }
  return backlogged_pairs(p.s, n);
}

// noipa (not just noinline): GCC's identical code folding would otherwise merge the two
// functions into one symbol, and callgrind could not tell them apart (clang has no noipa;
// noinline there).
#if defined(__clang__)
#define LOCKLESS_BENCH_NOIPA gnu::noinline
#else
#define LOCKLESS_BENCH_NOIPA gnu::noipa
#endif
// Not measured: the steady state (the epoch record registered, every slot and flow
// touched, the allocator's caches warm).
template <class S>
[[LOCKLESS_BENCH_NOIPA]] bool warmup_pairs(prepared<S>& p, std::uint64_t n) {
  return pairs(p, n);
}

// Measured: callgrind counts only inside functions matching *measured_*.
template <class S>
[[LOCKLESS_BENCH_NOIPA]] bool measured_pairs(prepared<S>& p, std::uint64_t n) {
  return pairs(p, n);
}

template <class S>
bool prepare(prepared<S>& p) {
  const bool one = p.how != shape::backlogged;
  const std::size_t flows = one ? 1 : backlogged_flows;
  for (std::size_t i = 0; i < flows; ++i) p.flows.push_back(p.s.add_flow(quantum, capacity));
  if (one) return true;
  std::uint64_t v = 1;
  for (std::size_t k = 0; k < fill; ++k) {
    for (std::size_t i = 0; i < flows; ++i) {
      if (!p.s.try_push(p.flows[i], v++)) return false;
    }
  }
  return true;
}

struct run_one {
  std::string_view run;
  std::uint64_t n;
  bool list;
  int* rc;

  template <class S>
  void operator()() const {
    const std::string backlogged = S::name;
    const std::string lone = backlogged + "_lone";
    const std::string sparse = backlogged + "_sparse";
    if (list) {
      std::printf("%s\n%s\n%s\n", backlogged.c_str(), lone.c_str(), sparse.c_str());
      *rc = 0;
      return;
    }
    if (run != backlogged && run != lone && run != sparse) return;
    const shape how = run == lone ? shape::lone : run == sparse ? shape::sparse : shape::backlogged;
    auto* p = new prepared<S>{
        S(how == shape::backlogged ? backlogged_flows * capacity : capacity), {}, how};
    const bool ok = prepare(*p) && warmup_pairs(*p, warmup) && measured_pairs(*p, n);
    delete p;
    if (!ok) {
      std::fprintf(stderr, "callgrind_drr_scheduler: %s lost or corrupted a value\n",
                   std::string(run).c_str());
      *rc = 1;
      return;
    }
    *rc = 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s --list | <run> [pairs]\n", argv[0]);
    return 2;
  }
  const std::string_view run = argv[1];
  const bool list = run == "--list";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  int rc = -1;
  lockless_bench::for_each_scheduler(run_one{run, n, list, &rc});
  if (rc == -1) {
    std::fprintf(stderr, "callgrind_drr_scheduler: unknown run '%s' (see --list)\n", argv[1]);
    return 2;
  }
  return rc;
}
