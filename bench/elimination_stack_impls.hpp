// bench/elimination_stack_impls.hpp: the stacks compared by bench_elimination_stack and
// callgrind_elimination_stack, behind the interface of bench/treiber_stack_impls.hpp
// (name, prepare_thread(), push(v), pop(out)), whose adapters are reused as they are:
// lockless_treiber, std_mutex_stack, boost_lockfree_stack, libcds_treiber_hp and
// libcds_treiber_dhp. This file adds elimination_stack and libcds's elimination back-off.
//
// Peers are compiled in when bench/CMakeLists.txt found them (LOCKLESS_HAVE_<PEER>).
// Nothing here depends on Google Benchmark, so the callgrind driver can use it too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <lockless/elimination_stack.hpp>

#include "treiber_stack_impls.hpp"

#if defined(LOCKLESS_HAVE_LIBCDS)
#include <cds/algo/backoff_strategy.h>
#include <cds/container/treiber_stack.h>

#include "support/libcds_runtime.hpp"
#endif

namespace lockless_bench {

// Ours: treiber_stack's code (the same node cache, epoch domain and first central CAS)
// with an elimination array as its back-off. Options picks the array (width, wait,
// statistics); the defaults are elimination_options{}.
template <lockless::elimination_options Options>
struct lockless_elimination_base {
  static void prepare_thread() {}
  static lockless::epoch_domain& epoch_domain() { return lockless::default_epoch_domain(); }
  void push(std::uint64_t v) { s.push(v); }
  bool pop(std::uint64_t& out) { return s.try_pop(out); }
  lockless::elimination_stack<std::uint64_t, lockless::epoch_reclaimer, Options> s;
};

// The default options (width 8, exchange_spins 64, no statistics).
struct lockless_elimination : lockless_elimination_base<lockless::elimination_options{}> {
  static constexpr const char* name = "lockless_elimination";
};

// The same with statistics on (stats(): eliminated pairs, central CAS failures, range,
// wait): the row that reports the elimination rate. Its counters are two shared relaxed
// fetch-and-adds, paid only after a failed central CAS or an exchange.
struct lockless_elimination_stats
    : lockless_elimination_base<lockless::elimination_options{.statistics = true}> {
  static constexpr const char* name = "lockless_elimination_stats";
};

// "lockless_elim_w<Width>_s<Spins>", built at compile time (a constant, as `name` must be).
template <unsigned Width, unsigned Spins>
struct sweep_name {
  static constexpr std::array<char, 40> text = [] {
    std::array<char, 40> a{};
    std::size_t at = 0;
    const auto put = [&](const char* s) {
      while (*s != '\0') a[at++] = *s++;
    };
    const auto put_number = [&](unsigned v) {
      char digits[10];
      std::size_t n = 0;
      do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v != 0);
      while (n > 0) a[at++] = digits[--n];
    };
    put("lockless_elim_w");
    put_number(Width);
    put("_s");
    put_number(Spins);
    return a;
  }();
};

// Sweep-only variants (workload stack_sweep/...): width and exchange_spins, statistics on.
template <unsigned Width, unsigned Spins>
struct lockless_elimination_sweep
    : lockless_elimination_base<lockless::elimination_options{
          .width = Width, .exchange_spins = Spins, .statistics = true}> {
  static constexpr const char* name = sweep_name<Width, Spins>::text.data();
};

#if defined(LOCKLESS_HAVE_LIBCDS)
// libcds 2.3.3 cds::container::TreiberStack with elimination back-off
// (cds::opt::enable_elimination<true>), HP. libcds's elimination array ("collision
// array") has a fixed width (the default opt::v::initialized_static_buffer<int, 4>: 4
// slots) and protects each slot with a spin lock (cds::sync::spin); an operation whose
// central CAS failed publishes a record on its own stack in a random slot, or takes the
// opposite record found there, then waits for a partner with the elimination back-off:
//   libcds_elim_hp       as shipped: cds::backoff::delay<> checks for a partner, then
//                        sleeps 2 ms, up to a 5 ms timeout (std::this_thread::sleep_for);
//   libcds_elim_hp_spin  elimination_backoff = cds::backoff::Default (exponential): the
//                        wait spins 16 PAUSE rounds checking for a partner (a fresh
//                        back-off per wait), close to our exchange wait.
// The central stack's own back-off is the default (exponential) in both.
template <class Traits>
struct libcds_elimination_base {
  static void prepare_thread() { libcds_attach_this_thread(); }
  void push(std::uint64_t v) { (void)s.push(v); }
  bool pop(std::uint64_t& out) { return s.pop(out); }
  cds::container::TreiberStack<cds::gc::HP, std::uint64_t, Traits> s;
};
struct libcds_elim_traits
    : cds::container::treiber_stack::make_traits<cds::opt::enable_elimination<true>>::type {};
struct libcds_elim_spin_traits : cds::container::treiber_stack::make_traits<
                                     cds::opt::enable_elimination<true>,
                                     cds::opt::elimination_backoff<cds::backoff::Default>>::type {};
struct libcds_elim_hp : libcds_elimination_base<libcds_elim_traits> {
  static constexpr const char* name = "libcds_elim_hp";
};
struct libcds_elim_hp_spin : libcds_elimination_base<libcds_elim_spin_traits> {
  static constexpr const char* name = "libcds_elim_hp_spin";
};
#endif

}  // namespace lockless_bench
