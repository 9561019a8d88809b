// bench_histogram: suite `histogram`, lockless::histogram against a std::mutex histogram
// and prometheus-cpp's Histogram (when installed), side by side in one binary
// (docs/design.md, "Benchmark rules"). Implementations and the value stream:
// bench/histogram_impls.hpp (classic buckets: Prometheus' default latency buckets).
//
//   histogram/observe/<impl>                 observe() throughput, threads 1, 2, 4, 8 on
//                                            one shared histogram (fresh per run); every
//                                            thread cycles through its own precomputed
//                                            latencies. One item = one observe(); items/s
//                                            over wall time, all threads together.
//   histogram/observe_snapshot_loop/<impl>   the same at threads 1 and 4 while one more
//                                            thread (started by Setup, stopped by Teardown,
//                                            not one of the benchmark's threads) takes
//                                            snapshots back to back (ours: snapshot();
//                                            prometheus-cpp: Collect(); the mutex one: a
//                                            copy under its lock). items/s counts the
//                                            observers only; counter snapshots_per_s: the
//                                            snapshots finished during thread 0's timed
//                                            loop, per second of it.
//   histogram/snapshot_classic/lockless_histogram/<buckets>/<shards>
//   histogram/snapshot_native/lockless_histogram_native/<buckets>/<shards>
//                                            the cost of one snapshot() (ns, one thread, no
//                                            observers), buckets 10, 100, 1000 x shards 1,
//                                            4, 16, 64. Every shard is filled first (one
//                                            fresh thread per shard: stripes are handed out
//                                            round-robin, so `shards` threads in a row cover
//                                            them all), every bucket non-zero in every
//                                            shard. classic: linear_buckets(1, 1, buckets),
//                                            each shard observes each bucket and +Inf.
//                                            native: native buckets only, schema 3,
//                                            max_buckets = buckets, each shard observes
//                                            `buckets` distinct native buckets (the bound is
//                                            met: the schema stays 3). With classic
//                                            buckets the filling threads count in an
//                                            owner lane instead (each fresh thread takes
//                                            the lowest free lane number, the same one):
//                                            one lane holds the counts, the shards are
//                                            read empty (a shard is read whole whatever
//                                            it holds) and the unused lanes skipped.
//   histogram/collect/<impl>/<buckets>       a scrape's cost, classic buckets
//                                            linear_buckets(1, 1, buckets), 10, 100, 1000,
//                                            ours at its default shard count, every shard
//                                            filled as above (ns per collect()).
//
// Every row runs in a process that has had a second thread (see `registered` below).
// Run with the default --benchmark_min_time (0.5 s per row); scripts/bench.sh runs 5
// interleaved repetitions.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "histogram_impls.hpp"
#include "support/bench_support.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using lockless_bench::bench_values;
using lockless_bench::value_count;

std::string row(const char* workload, const char* impl) {
  return std::string("histogram/") + workload + "/" + impl;
}

// One histogram shared by all threads of a run, fresh for every run (Setup/Teardown run
// on the main thread before the run's threads start and after they finish). With
// `snapshots`, Setup also starts a thread that calls collect() back to back until
// Teardown stops it.
template <class H, bool snapshots>
struct shared_histogram {
  static inline H* instance = nullptr;
  static inline std::thread* snapshotter = nullptr;
  static inline std::atomic<bool> stop{false};
  static inline std::atomic<std::uint64_t> taken{0};

  static void setup(const benchmark::State&) {
    instance = new H(lockless_bench::default_latency_bounds());
    if constexpr (snapshots) {
      stop.store(false, std::memory_order_relaxed);
      taken.store(0, std::memory_order_relaxed);
      snapshotter = new std::thread([] {
        std::uint64_t sink = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          sink += instance->collect();
          taken.fetch_add(1, std::memory_order_relaxed);
        }
        benchmark::DoNotOptimize(sink);
      });
    }
  }
  static void teardown(const benchmark::State&) {
    if constexpr (snapshots) {
      stop.store(true, std::memory_order_relaxed);
      snapshotter->join();
      delete snapshotter;
      snapshotter = nullptr;
    }
    delete instance;
    instance = nullptr;
  }
};

template <class H, bool snapshots>
void observe(benchmark::State& state) {
  H& h = *shared_histogram<H, snapshots>::instance;
  const std::vector<double> values = bench_values(static_cast<std::uint64_t>(state.thread_index()));
  std::size_t i = 0;
  const std::uint64_t taken0 = shared_histogram<H, snapshots>::taken.load();
  const auto t0 = clock_type::now();
  for (auto _ : state) {
    h.observe(values[i]);
    i = (i + 1) & (value_count - 1);
  }
  const auto t1 = clock_type::now();
  const std::uint64_t taken1 = shared_histogram<H, snapshots>::taken.load();
  state.SetItemsProcessed(state.iterations());
  if (snapshots && state.thread_index() == 0) {  // counters are summed over threads
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    state.counters["snapshots_per_s"] =
        seconds > 0 ? static_cast<double>(taken1 - taken0) / seconds : 0.0;
  }
}

// Calls f(h) once on each of `shards` fresh threads started one after another: the
// histogram's shards all get touched (stripes are handed out round-robin, once per
// thread, and nothing else starts threads meanwhile).
template <class F>
void on_every_shard(std::size_t shards, F f) {
  for (std::size_t s = 0; s < shards; ++s) std::thread(f).join();
}

enum class layout { classic, native };

std::unique_ptr<lockless::histogram> make_filled(layout l, std::size_t buckets,
                                                 std::size_t shards) {
  std::unique_ptr<lockless::histogram> h;
  if (l == layout::classic) {
    h = std::make_unique<lockless::histogram>(lockless::linear_buckets(1, 1, buckets), shards);
    on_every_shard(h->shard_count(), [&] {
      for (std::size_t b = 0; b <= buckets; ++b) h->observe(static_cast<double>(b) + 0.5);
    });
    return h;
  }
  lockless::native_buckets nb;
  nb.schema = 3;
  nb.max_buckets = static_cast<std::uint32_t>(buckets);
  h = std::make_unique<lockless::histogram>(nb, shards);
  on_every_shard(h->shard_count(), [&] {
    for (std::size_t k = 1; k <= buckets; ++k) {
      // Inside bucket k, not on its bound: the reported bound is the nearest double, which
      // may lie just above the real boundary (and so in bucket k + 1).
      h->observe(0.99 *
                 lockless::histogram_snapshot::native_upper_bound(static_cast<std::int32_t>(k), 3));
    }
  });
  return h;
}

template <layout L>
void snapshot_cost(benchmark::State& state) {
  const auto buckets = static_cast<std::size_t>(state.range(0));
  const auto shards = static_cast<std::size_t>(state.range(1));
  const std::unique_ptr<const lockless::histogram> h = make_filled(L, buckets, shards);
  {
    // One observation per bucket per filling thread, and no coarsening.
    const std::uint64_t expected = (L == layout::classic ? buckets + 1 : buckets) * shards;
    const lockless::histogram_snapshot s = h->snapshot();
    const bool native_ok = L == layout::classic || (s.schema == 3 && s.positive.size() == buckets);
    if (h->shard_count() != shards || s.count != expected || !native_ok) {
      state.SkipWithError("the filled histogram does not hold what it should");
      return;
    }
  }
  for (auto _ : state) {
    lockless::histogram_snapshot s = h->snapshot();
    benchmark::DoNotOptimize(s);
  }
}

template <class H>
void collect_cost(benchmark::State& state) {
  const auto buckets = static_cast<std::size_t>(state.range(0));
  H h(lockless::linear_buckets(1, 1, buckets));
  std::size_t shards = 1;
  if constexpr (requires { h.h.shard_count(); }) shards = h.h.shard_count();
  on_every_shard(shards, [&] {
    for (std::size_t b = 0; b <= buckets; ++b) h.observe(static_cast<double>(b) + 0.5);
  });
  if (h.collect() != (buckets + 1) * shards) {
    state.SkipWithError("the filled histogram does not hold what it should");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(h.collect());
}

template <class H, bool snapshots>
benchmark::internal::Benchmark* with_histogram(benchmark::internal::Benchmark* b) {
  return b->Setup(shared_histogram<H, snapshots>::setup)
      ->Teardown(shared_histogram<H, snapshots>::teardown)
      ->UseRealTime();
}

void snapshot_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t buckets : {10, 100, 1000}) {
    for (std::int64_t shards : {1, 4, 16, 64}) b->Args({buckets, shards});
  }
  b->UseRealTime();
}

// Registered workload by workload (each over every histogram), so a run lists the
// implementations of a workload side by side.
void register_all() {
  using lockless_bench::for_each_histogram;
  for_each_histogram([]<class H>() {
    with_histogram<H, false>(
        benchmark::RegisterBenchmark(row("observe", H::name).c_str(), observe<H, false>))
        ->Apply(lockless_bench::standard_threads);
  });
  for_each_histogram([]<class H>() {
    with_histogram<H, true>(benchmark::RegisterBenchmark(
                                row("observe_snapshot_loop", H::name).c_str(), observe<H, true>))
        ->Threads(1)
        ->Threads(4);
  });
  benchmark::RegisterBenchmark(
      row("snapshot_classic", lockless_bench::lockless_histogram::name).c_str(),
      snapshot_cost<layout::classic>)
      ->Apply(snapshot_args);
  benchmark::RegisterBenchmark(
      row("snapshot_native", lockless_bench::lockless_histogram_native::name).c_str(),
      snapshot_cost<layout::native>)
      ->Apply(snapshot_args);
  for_each_histogram([]<class H>() {
    if constexpr (!std::is_same_v<H, lockless_bench::lockless_histogram_native>) {
      benchmark::RegisterBenchmark(row("collect", H::name).c_str(), collect_cost<H>)
          ->Arg(10)
          ->Arg(100)
          ->Arg(1000)
          ->UseRealTime();
    }
  });
}

[[maybe_unused]] const bool registered = [] {
  // glibc (2.36 here) skips the lock prefix of pthread_mutex_lock/unlock while a process
  // has never had a second thread, which would make the mutex-based rows at threads:1
  // faster when they happen to run before any multi-threaded row (the order is random
  // under --benchmark_enable_random_interleaving). One thread started and joined first:
  // every row measures a multi-threaded process, as in a server.
  std::thread([] {}).join();
  register_all();
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
