// bench/support/stack_callgrind.hpp: the body of the stack suites' callgrind drivers
// (bench/treiber_stack_callgrind.cpp, bench/elimination_stack_callgrind.cpp): one
// single-threaded push+pop pair, a warm-up that is not counted, the measured loop that
// scripts/callgrind_pair.sh counts (--toggle-collect='*measured_*'), and the command line
// (--list | <impl> [pairs]). A driver names its implementations:
//
//   int main(int argc, char** argv) {
//     return lockless_bench::stack_callgrind_main<impl_a, impl_b>("callgrind_x", argc, argv);
//   }
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace lockless_bench::stack_callgrind {

// One pair is exactly what the stack suites' push_pop_pair does per iteration and thread.
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
int run(const char* driver, std::string_view impl, std::uint64_t n, bool list) {
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
    std::fprintf(stderr, "%s: %s lost or corrupted a value\n", driver, S::name);
    return 1;
  }
  return 0;
}

template <class... S>
int dispatch(const char* driver, std::string_view impl, std::uint64_t n, bool list) {
  int rc = -1;
  // Runs each implementation whose name matches (all of them print with --list).
  ((rc =
        [&] {
          const int r = run<S>(driver, impl, n, list);
          return r == -1 ? rc : r;
        }()),
   ...);
  return rc;
}

}  // namespace lockless_bench::stack_callgrind

namespace lockless_bench {

template <class... S>
int stack_callgrind_main(const char* driver, int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s --list | <impl> [pairs]\n", argv[0]);
    return 2;
  }
  const std::string_view impl = argv[1];
  const bool list = impl == "--list";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const int rc = stack_callgrind::dispatch<S...>(driver, impl, n, list);
  if (rc == -1) {
    std::fprintf(stderr, "%s: unknown implementation '%s' (see --list)\n", driver, argv[1]);
    return 2;
  }
  return rc;
}

}  // namespace lockless_bench
