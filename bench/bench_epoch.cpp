// bench_epoch: suite `epoch`, the cost of lockless's epoch-based reclamation next to the
// reclaimers of the installed peers and a std::mutex reference row.
//
// Every figure is real time per iteration. With N threads that is wall time over all
// threads' iterations (1 / aggregate throughput); the cost one thread sees per operation
// is N times that while N <= cores (2 here). Read threads:1 for the single-thread cost.
//
//   epoch/pin_unpin/<impl>          enter + leave one read-side critical section
//     lockless_epoch_guard              epoch_guard{} on the default domain, un-nested
//     lockless_epoch_guard_user_domain  epoch_guard{d} on a domain of our own
//     lockless_epoch_domain_lock        d.lock(); d.unlock() (the P2545 facade)
//     std_mutex_lock_unlock             lock+unlock of an uncontended std::mutex (one per
//                                       thread): the reference row
//     std_shared_mutex_lock_shared      lock_shared+unlock_shared of ONE std::shared_mutex
//                                       shared by all threads: what a reader pays when
//                                       the alternative to RCU is a reader-writer lock
//     xenium_nebr_region_guard          xenium new_epoch_based<>::region_guard (eager
//                                       region: flag store + seq_cst fence)
//     xenium_ebr_guard_ptr              xenium epoch_based<> guard_ptr acquire + reset:
//                                       its per-access critical-region entry and exit
//     libcds_hp_guard / libcds_dhp_guard
//                                       cds::gc::HP/DHP::Guard + protect() of one pointer:
//                                       what a hazard-pointer reader pays per pointer
//   epoch/pin_unpin_nested/lockless_epoch_guard
//                                   an inner guard while an outer one is held (two plain
//                                   increments and a TLS lookup)
//   epoch/retire/<impl>             allocate a 16-byte object and hand it to the reclaimer
//     new_delete                        new + delete: the reference (no reclamation)
//     lockless_epoch_retire             new + lockless::retire(p) (default domain, no
//                                       guard held); includes the batched free
//     lockless_epoch_guard_retire       new + { epoch_guard g; g.retire(p); }: how a
//                                       container pops (pin + retire + unpin)
//     xenium_ebr_guard_reclaim          new + xenium guard_ptr to it + reclaim(): the
//                                       xenium counterpart of the previous row
//   Retire cost = (new + retire) - (new + delete): both rows include the allocation and,
//   eventually, the delete. The lockless rows report the counters epoch_adv_per_k and
//   pending (bench/support/bench_support.hpp).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include <lockless/epoch.hpp>

#include "support/bench_support.hpp"

#if defined(LOCKLESS_HAVE_XENIUM)
#include <xenium/reclamation/generic_epoch_based.hpp>
#endif

#if defined(LOCKLESS_HAVE_LIBCDS)
#include "support/libcds_runtime.hpp"
#endif

namespace {

using lockless_bench::standard_threads;

// ---- pin / unpin ------------------------------------------------------------------------

void pin_unpin_lockless_default(benchmark::State& state) {
  for (auto _ : state) {
    lockless::epoch_guard g;
    benchmark::ClobberMemory();
  }
}

lockless::epoch_domain& user_domain() {
  static lockless::epoch_domain d;  // lives until exit; no thread is pinned by then
  return d;
}

void pin_unpin_lockless_user_domain(benchmark::State& state) {
  lockless::epoch_domain& d = user_domain();
  for (auto _ : state) {
    lockless::epoch_guard g(d);
    benchmark::ClobberMemory();
  }
}

void pin_unpin_lockless_domain_lock(benchmark::State& state) {
  lockless::epoch_domain& d = user_domain();
  for (auto _ : state) {
    d.lock();
    benchmark::ClobberMemory();
    d.unlock();
  }
}

void pin_unpin_nested_lockless(benchmark::State& state) {
  lockless::epoch_guard outer;  // held for the whole run: nothing is retired meanwhile
  for (auto _ : state) {
    lockless::epoch_guard inner;
    benchmark::ClobberMemory();
  }
}

void pin_unpin_std_mutex(benchmark::State& state) {
  std::mutex m;  // one per thread: uncontended
  for (auto _ : state) {
    m.lock();
    benchmark::ClobberMemory();
    m.unlock();
  }
}

std::shared_mutex shared_rw_mutex;  // one for all threads

void pin_unpin_std_shared_mutex(benchmark::State& state) {
  for (auto _ : state) {
    shared_rw_mutex.lock_shared();
    benchmark::ClobberMemory();
    shared_rw_mutex.unlock_shared();
  }
}

#if defined(LOCKLESS_HAVE_XENIUM)
namespace xr = xenium::reclamation;
using xenium_nebr = xr::new_epoch_based<>;
using xenium_ebr = xr::epoch_based<>;

struct xenium_node : xenium_ebr::enable_concurrent_ptr<xenium_node> {
  std::uint64_t payload[2] = {0, 0};
};
using xenium_ptr = xenium_ebr::concurrent_ptr<xenium_node>;

void pin_unpin_xenium_region_guard(benchmark::State& state) {
  for (auto _ : state) {
    xenium_nebr::region_guard g;
    benchmark::ClobberMemory();
  }
}

void pin_unpin_xenium_guard_ptr(benchmark::State& state) {
  static xenium_node node;        // never retired
  static xenium_ptr ptr(&node);   // read by every thread
  for (auto _ : state) {
    xenium_ptr::guard_ptr g;
    g.acquire(ptr);
    benchmark::DoNotOptimize(g.get());
    g.reset();
  }
}
#endif

#if defined(LOCKLESS_HAVE_LIBCDS)
template <class GC>
void pin_unpin_libcds_guard(benchmark::State& state) {
  lockless_bench::libcds_attach_this_thread();
  static std::uint64_t target = 0;
  static std::atomic<std::uint64_t*> ptr{&target};
  for (auto _ : state) {
    typename GC::Guard g;
    benchmark::DoNotOptimize(g.protect(ptr));
  }
}
#endif

// ---- retire -----------------------------------------------------------------------------

struct object {  // the size of a treiber_stack<std::uint64_t> node
  std::uint64_t a = 1;
  std::uint64_t b = 2;
};

void retire_new_delete(benchmark::State& state) {
  for (auto _ : state) {
    auto* p = new object;
    benchmark::DoNotOptimize(p);  // the pointer escapes: new/delete cannot be elided
    delete p;
  }
}

void retire_lockless(benchmark::State& state) {
  const lockless_bench::epoch_probe reclamation(state, lockless::default_epoch_domain());
  for (auto _ : state) {
    auto* p = new object;
    benchmark::DoNotOptimize(p);
    lockless::retire(p);
  }
  reclamation.report(state);
}

void retire_lockless_guard(benchmark::State& state) {
  const lockless_bench::epoch_probe reclamation(state, lockless::default_epoch_domain());
  for (auto _ : state) {
    auto* p = new object;
    benchmark::DoNotOptimize(p);
    lockless::epoch_guard g;
    g.retire(p);
  }
  reclamation.report(state);
}

#if defined(LOCKLESS_HAVE_XENIUM)
void retire_xenium_guard_reclaim(benchmark::State& state) {
  for (auto _ : state) {
    auto* p = new xenium_node;
    benchmark::DoNotOptimize(p);
    xenium_ptr::guard_ptr g{xenium_ptr::marked_ptr(p)};  // enters the critical region
    g.reclaim();
  }
}
#endif

void reg(const char* name, void (*fn)(benchmark::State&)) {
  benchmark::RegisterBenchmark(name, fn)->Apply(standard_threads);
}

[[maybe_unused]] const bool registered = [] {
  reg("epoch/pin_unpin/lockless_epoch_guard", pin_unpin_lockless_default);
  reg("epoch/pin_unpin/lockless_epoch_guard_user_domain", pin_unpin_lockless_user_domain);
  reg("epoch/pin_unpin/lockless_epoch_domain_lock", pin_unpin_lockless_domain_lock);
  reg("epoch/pin_unpin/std_mutex_lock_unlock", pin_unpin_std_mutex);
  reg("epoch/pin_unpin/std_shared_mutex_lock_shared", pin_unpin_std_shared_mutex);
#if defined(LOCKLESS_HAVE_XENIUM)
  reg("epoch/pin_unpin/xenium_nebr_region_guard", pin_unpin_xenium_region_guard);
  reg("epoch/pin_unpin/xenium_ebr_guard_ptr", pin_unpin_xenium_guard_ptr);
#endif
#if defined(LOCKLESS_HAVE_LIBCDS)
  reg("epoch/pin_unpin/libcds_hp_guard", pin_unpin_libcds_guard<cds::gc::HP>);
  reg("epoch/pin_unpin/libcds_dhp_guard", pin_unpin_libcds_guard<cds::gc::DHP>);
#endif
  reg("epoch/pin_unpin_nested/lockless_epoch_guard", pin_unpin_nested_lockless);

  reg("epoch/retire/new_delete", retire_new_delete);
  reg("epoch/retire/lockless_epoch_retire", retire_lockless);
  reg("epoch/retire/lockless_epoch_guard_retire", retire_lockless_guard);
#if defined(LOCKLESS_HAVE_XENIUM)
  reg("epoch/retire/xenium_ebr_guard_reclaim", retire_xenium_guard_reclaim);
#endif
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
