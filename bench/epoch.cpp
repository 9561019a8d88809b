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
//
// Many domains per thread (single thread each; the time column is per item):
//   epoch/register/lockless_epoch_guard/<N>   (N = 1, 100, 4000; manual time)
//                                   one fresh thread registers with N fresh user domains:
//                                   its first epoch_guard{d} on each (registration + one
//                                   pin/unpin). The time column is per registration (each
//                                   iteration registers N times and reports 1/N of its
//                                   time); domain creation, thread start and thread exit
//                                   are outside the timed region. Fixed iterations: 5000,
//                                   200, 1.
//   epoch/guard_alternating/lockless_epoch_guard/<N>   (N = 2, 100, 4000)
//                                   a thread registered with exactly N domains takes
//                                   un-nested guards alternating between domain 0 and
//                                   domain N-1: time per guard, what a thread that uses
//                                   many domains pays when it switches between two of
//                                   them (N = 2 is the reference). The loop runs on a
//                                   persistent worker thread registered once per N (not
//                                   the benchmark's main thread, so the N domains of one
//                                   row do not slow the others down); real time and that
//                                   thread's CPU time.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include <lockless/epoch.hpp>

#include "epoch_workloads.hpp"

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
  static xenium_node node;       // never retired
  static xenium_ptr ptr(&node);  // read by every thread
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

// ---- many domains per thread ------------------------------------------------------------

using lockless_bench::domain_list;
using lockless_bench::make_domains;

// A thread of its own, registered with `n` domains of its own (in creation order), that
// runs jobs on request. Registering a thread with thousands of domains may be slow (it
// is what epoch/register measures), so this is done once per N and kept.
class registered_worker {
 public:
  explicit registered_worker(std::size_t n) : domains_(make_domains(n)) {
    thread_ = std::thread([this] { serve(); });
    run([this] {
      for (auto& d : domains_) {
        lockless::epoch_guard g(*d);  // registers
      }
    });
  }
  registered_worker(const registered_worker&) = delete;
  registered_worker& operator=(const registered_worker&) = delete;
  ~registered_worker() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // the thread's exit releases its records; then the domains go
  }

  // Runs `job` on the worker thread and waits for it.
  void run(const std::function<void()>& job) {
    std::unique_lock lock(mutex_);
    job_ = &job;
    cv_.notify_all();
    cv_.wait(lock, [this] { return job_ == nullptr; });
  }

  lockless::epoch_domain& domain(std::size_t i) const { return *domains_[i]; }

 private:
  void serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || job_ != nullptr; });
      if (stop_) return;
      lock.unlock();
      (*job_)();
      lock.lock();
      job_ = nullptr;
      cv_.notify_all();
    }
  }

  domain_list domains_;
  std::mutex mutex_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  bool stop_ = false;
  std::thread thread_;
};

// The workers of epoch/guard_alternating, one per N, created on first use.
std::map<std::size_t, std::unique_ptr<registered_worker>>& alternating_workers() {
  static std::map<std::size_t, std::unique_ptr<registered_worker>> workers;
  return workers;
}

registered_worker& alternating_worker(std::size_t n) {
  auto& w = alternating_workers()[n];
  if (!w) w = std::make_unique<registered_worker>(n);
  return *w;
}

void register_domains(benchmark::State& state) {
  // The workers' domains would otherwise be alive during the measurement (in any run
  // order, e.g. with random interleaving), and the number of live domains may matter
  // to registration. Dropping them costs a re-registration if guard_alternating runs
  // again later.
  alternating_workers().clear();
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    const domain_list domains = make_domains(n);  // not timed
    double seconds = 0;
    std::thread fresh([&] {  // a thread with no registration at all
      const auto start = std::chrono::steady_clock::now();
      for (const auto& d : domains) {
        lockless::epoch_guard g(*d);  // this thread's first guard on d: registers
        benchmark::ClobberMemory();
      }
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
    fresh.join();  // thread exit (releasing the N records) is not timed
    // Per registration, so that the time column reads per item whatever N is. (No
    // items_per_second: scripts/bench_table.py would show it in M items/s, 0.00 here.)
    state.SetIterationTime(seconds / static_cast<double>(n));
  }
}

void guard_alternating(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  registered_worker& worker = alternating_worker(n);  // registered before the timed loop
  lockless::epoch_domain* const pair[2] = {&worker.domain(0), &worker.domain(n - 1)};
  // Google Benchmark's State is driven from the worker: its timer reads real time and
  // the calling thread's CPU clock, so both figures are the worker's.
  worker.run([&] {
    std::size_t i = 0;
    for (auto _ : state) {
      lockless::epoch_guard g(*pair[i]);
      benchmark::ClobberMemory();
      i ^= 1;
    }
  });
}

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

  // Iterations are fixed: registration takes microseconds to seconds depending on the
  // implementation and N, and every iteration starts a thread and creates N domains
  // (untimed, but not free). At N = 4000 one iteration registers 4000 times.
  for (const auto& [n, iterations] : {std::pair<int, int>{1, 5000}, {100, 200}, {4000, 1}}) {
    benchmark::RegisterBenchmark("epoch/register/lockless_epoch_guard", register_domains)
        ->Arg(n)
        ->Iterations(iterations)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("epoch/guard_alternating/lockless_epoch_guard", guard_alternating)
      ->Arg(2)
      ->Arg(100)
      ->Arg(4000)
      ->UseRealTime();
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
