// callgrind_elimination_stack: a tiny driver (not a Google Benchmark binary) for counting
// the instructions of one single-threaded push+pop pair with valgrind --tool=callgrind,
// elimination_stack beside treiber_stack and the peers (bench/elimination_stack_impls.hpp).
// On one thread no central CAS fails, so elimination_stack never touches its array: the
// count is the cost of the shared code path (detail::treiber_core) with the elimination
// policy plugged in, against treiber_stack's plain back-off.
//
//   callgrind_elimination_stack --list            the implementations compiled in, one per
//                                                 line (lockless_treiber first: the ratios'
//                                                 reference)
//   callgrind_elimination_stack <impl> [pairs]    warm up, then run `pairs` push+pop pairs
//                                                 (default 1000000) inside measured_pairs<>()
//
// bash scripts/callgrind_pair.sh --suite elimination_stack [pairs] [impl...] runs it under
// callgrind with --toggle-collect='*measured_*', so only the measured loop is counted.
// The driver's body is bench/treiber_stack_callgrind.cpp's (same pair, warm-up and
// dispatch), over this suite's implementations.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "elimination_stack_impls.hpp"

namespace {

// One pair is exactly what bench_elimination_stack's push_pop_pair does per iteration and
// thread.
template <class S>
[[gnu::always_inline]] inline bool pairs(S& s, std::uint64_t n) {
  std::uint64_t out = 0;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    s.push(i);
    if (!s.pop(out)) return false;
    sum += out;
  }
  // Keeps the popped values observable without a compiler barrier in the loop.
  return sum == n * (n - 1) / 2;
}

// Not measured: reaches the steady state (epoch record registered, a spare batch in
// hand, the allocator's caches warm, the freelists filled).
// noipa (not just noinline): GCC's identical code folding would otherwise merge the two
// functions into one symbol, and callgrind could not tell them apart.
template <class S>
[[gnu::noipa]] bool warmup_pairs(S& s, std::uint64_t n) {
  return pairs(s, n);
}

// Measured: callgrind counts only inside functions matching *measured_pairs*.
template <class S>
[[gnu::noipa]] bool measured_pairs(S& s, std::uint64_t n) {
  return pairs(s, n);
}

template <class S>
int run(std::string_view impl, std::uint64_t n, bool list) {
  if (list) {
    std::printf("%s\n", S::name);
    return 0;
  }
  if (impl != S::name) return -1;  // not this one
  S::prepare_thread();
  auto* s = new S();
  const bool ok = warmup_pairs(*s, 100000) && measured_pairs(*s, n);
  S::prepare_thread();
  delete s;
  if (!ok) {
    std::fprintf(stderr, "callgrind_elimination_stack: %s lost or corrupted a value\n", S::name);
    return 1;
  }
  return 0;
}

template <class... S>
int dispatch(std::string_view impl, std::uint64_t n, bool list) {
  int rc = -1;
  // Runs each implementation whose name matches (all of them print with --list).
  ((rc =
        [&] {
          const int r = run<S>(impl, n, list);
          return r == -1 ? rc : r;
        }()),
   ...);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s --list | <impl> [pairs]\n", argv[0]);
    return 2;
  }
  const std::string_view impl = argv[1];
  const bool list = impl == "--list";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const int rc =
      dispatch<lockless_bench::lockless_treiber, lockless_bench::lockless_elimination,
               lockless_bench::lockless_elimination_stats, lockless_bench::std_mutex_stack
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
               ,
               lockless_bench::boost_lockfree_stack
#endif
#if defined(LOCKLESS_HAVE_LIBCDS)
               ,
               lockless_bench::libcds_treiber_hp, lockless_bench::libcds_treiber_dhp,
               lockless_bench::libcds_elim_hp, lockless_bench::libcds_elim_hp_spin
#endif
               >(impl, n, list);
  if (rc == -1) {
    std::fprintf(stderr, "callgrind_elimination_stack: unknown implementation '%s' (see --list)\n",
                 argv[1]);
    return 2;
  }
  return rc;
}
