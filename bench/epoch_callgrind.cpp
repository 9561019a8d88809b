// callgrind_epoch: a tiny driver (not a Google Benchmark binary) for counting the
// instructions of single-threaded epoch operations with valgrind --tool=callgrind.
// Instruction counts are repeatable on a noisy machine where timings are not.
//
//   callgrind_epoch --list                      the workloads, one per line
//   callgrind_epoch <workload> [count] [N]      warm up, then run `count` operations
//                                               (default 1000000) inside a function
//                                               named measured_<workload>()
//
//   pin_unpin_default       epoch_guard{} on the default domain, un-nested: one
//                           operation = one pin + unpin (bench_epoch's
//                           epoch/pin_unpin/lockless_epoch_guard)
//   pin_unpin_user_domain   epoch_guard{d} on a domain of our own
//   guard_alternating       the thread is registered with N domains (default 100) and
//                           takes un-nested guards alternating between domain 0 and
//                           domain N-1; one operation = one guard
//                           (epoch/guard_alternating/lockless_epoch_guard/<N>)
//   register                N = count: one thread's first guard on each of `count` fresh
//                           domains; one operation = one registration (the domains are
//                           created before, and destroyed after, the measured function)
//
// Run it under callgrind with --toggle-collect='*measured_*' so that only the measured
// function is counted (not the warm-up, the registrations or the program's start-up),
// and divide the total Ir by `count`:
//
//   valgrind --tool=callgrind --toggle-collect='*measured_*'
//            build/release/bench/callgrind_epoch pin_unpin_default 1000000
//
// Same flags as the benchmark suites, plus -g for callgrind_annotate's line tables.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include <lockless/epoch.hpp>

#include "epoch_workloads.hpp"

namespace {

// What benchmark::ClobberMemory() is: the guard's stores cannot be sunk out of the loop.
inline void clobber_memory() {
  asm volatile("" : : : "memory");
}

[[gnu::always_inline]] inline void pins(lockless::epoch_domain& d, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    lockless::epoch_guard g(d);
    clobber_memory();
  }
}

[[gnu::always_inline]] inline void alternating(lockless::epoch_domain* const (&pair)[2],
                                               std::uint64_t n) {
  std::size_t k = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    lockless::epoch_guard g(*pair[k]);
    clobber_memory();
    k ^= 1;
  }
}

// noipa (not just noinline): GCC's identical code folding would otherwise merge
// functions with the same body into one symbol, and callgrind could not tell them apart.
[[gnu::noipa]] void warmup_pins(lockless::epoch_domain& d, std::uint64_t n) {
  pins(d, n);
}
[[gnu::noipa]] void measured_pin_unpin(lockless::epoch_domain& d, std::uint64_t n) {
  pins(d, n);
}

[[gnu::noipa]] void warmup_alternating(lockless::epoch_domain* const (&pair)[2], std::uint64_t n) {
  alternating(pair, n);
}
[[gnu::noipa]] void measured_guard_alternating(lockless::epoch_domain* const (&pair)[2],
                                               std::uint64_t n) {
  alternating(pair, n);
}

using lockless_bench::domain_list;
using lockless_bench::make_domains;

[[gnu::noipa]] void register_all(const domain_list& domains) {
  for (const auto& d : domains) {
    lockless::epoch_guard g(*d);
    clobber_memory();
  }
}
[[gnu::noipa]] void measured_register(const domain_list& domains) {
  register_all(domains);
}

constexpr const char* workloads[] = {"pin_unpin_default", "pin_unpin_user_domain",
                                     "guard_alternating", "register"};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s --list | <workload> [count] [N]\n", argv[0]);
    return 2;
  }
  const std::string_view w = argv[1];
  if (w == "--list") {
    for (const char* name : workloads) std::printf("%s\n", name);
    return 0;
  }
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const std::uint64_t domains_n = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100;
  if (n == 0) {
    std::fprintf(stderr, "callgrind_epoch: count must be at least 1\n");
    return 2;
  }
  if (w == "pin_unpin_default") {
    lockless::epoch_domain& d = lockless::default_epoch_domain();
    warmup_pins(d, 100000);  // registers the thread and warms the caches
    measured_pin_unpin(d, n);
  } else if (w == "pin_unpin_user_domain") {
    lockless::epoch_domain d;
    warmup_pins(d, 100000);
    measured_pin_unpin(d, n);
    d.unregister_current_thread();
  } else if (w == "guard_alternating") {
    if (domains_n < 2) {
      std::fprintf(stderr, "callgrind_epoch: guard_alternating needs N >= 2\n");
      return 2;
    }
    const domain_list domains = make_domains(domains_n);
    register_all(domains);
    lockless::epoch_domain* const pair[2] = {domains.front().get(), domains.back().get()};
    warmup_alternating(pair, 1000);
    measured_guard_alternating(pair, n);
    for (const auto& d : domains) d->unregister_current_thread();
  } else if (w == "register") {
    {  // one registration first: the thread's own state (its thread_locals) is set up
      lockless::epoch_domain first;
      {
        lockless::epoch_guard g(first);
        clobber_memory();
      }
      first.unregister_current_thread();
    }
    const domain_list domains = make_domains(n);
    measured_register(domains);
    for (const auto& d : domains) d->unregister_current_thread();
  } else {
    std::fprintf(stderr, "callgrind_epoch: unknown workload '%s' (see --list)\n", argv[1]);
    return 2;
  }
  return 0;
}
