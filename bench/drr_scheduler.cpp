// bench_drr_scheduler: suite `drr_scheduler`, lockless::drr_scheduler (both consumer
// modes) against the same DRR under a std::mutex and against a plain lockless FIFO, side
// by side in one binary (docs/design.md, "Benchmark rules"). Implementations:
// bench/drr_scheduler_impls.hpp (lockless_drr, lockless_drr_sc, std_mutex_drr,
// fifo_lockless_bq). Values are std::uint64_t, every item costs 1 (unit_cost), every flow
// has quantum 1 (one item per turn: a turn ends after every pop, the most list work per
// item) and capacity 16.
//
//   drr_scheduler/all_backlogged/<impl>/<flows>
//                     the cost of one item as the number of flows grows (1, 64, 1024,
//                     65536), every flow backlogged. Prepared before the timed loop (not
//                     timed, and kept between the runs of a row: see prepared_cache):
//                     `flows` flows, each holding 8 items, pushed round-robin, then one
//                     warm-up pop + push per item (the first pop takes the inbox of every
//                     activated flow at once: O(flows), never timed). One iteration, one
//                     thread: try_pop, then try_push of the popped value back into the
//                     flow it came from, so every flow stays backlogged and the consumer
//                     visits each flow in turn (at 65536 flows it walks about 30 MB of
//                     flow state: cache misses are part of the figure). One item = one
//                     pop + push pair; items/s over wall time. DRR's promise is O(1) per
//                     item whatever the number of flows: flat is the goal. The FIFO holds
//                     the same items (flows x 8) in one ring of flows x 16.
//   drr_scheduler/one_busy/<impl>/<flows>
//                     the same loop, but only the first flow holds items (8); the other
//                     flows exist and stay idle. Idle flows must cost nothing: flat again.
//                     The FIFO holds 8 items in a ring of 16.
//   drr_scheduler/throughput_<P>p1c/<impl>
//                     P producers (1, 2, 4, 8) and one consumer (threads:P+1; thread 0
//                     consumes), one scheduler shared by all threads of a run (fresh per
//                     run: Setup/Teardown), 64 flows. Producer p pushes distinct values
//                     round-robin over the 64 flows, starting at flow 64p/P; on full it
//                     yields and retries the same flow. The consumer pops in a loop (P
//                     items per iteration, so that all threads run the same number of
//                     iterations and every pushed item is popped), yielding on empty.
//                     Items/s: items delivered (all producers together) over wall time.
//                     Counters, per item delivered: empty_per_item (failed pops of the
//                     consumer: high means it outpaces the producers and flows drain, so
//                     most items pay a flow's activation and deactivation), full_per_item
//                     (failed pushes, all producers: high means flows stay backlogged).
//                     Both near 1/1024 (one per buffer's worth) means the threads did not
//                     run in parallel but took turns on one CPU (a loaded machine): each
//                     time slice fills or drains the whole buffer, with no cache line
//                     moving between cores, a different (and faster) regime.
//                     The FIFO is one ring of 64 x 16 = 1024 items. On a 2-core machine
//                     4p1c and 8p1c are oversubscribed on purpose.
//
// Every row runs in a process that has had a second thread (see `registered` below).
// Run with the default --benchmark_min_time (0.5 s per row); scripts/bench.sh runs 5
// interleaved repetitions.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "drr_scheduler_impls.hpp"

namespace {

inline constexpr std::uint32_t quantum = 1;
inline constexpr std::size_t capacity = 16;  // per flow
inline constexpr std::size_t fill = 8;       // items per backlogged flow (per_flow rows)
inline constexpr std::size_t throughput_flows = 64;

std::string row(const std::string& workload, const char* impl) {
  return "drr_scheduler/" + workload + "/" + impl;
}

// Distinct values per producer thread.
std::uint64_t first_value(int thread) {
  return (static_cast<std::uint64_t>(thread) + 1) << 40;
}

enum class backlog { all, one };

// The prepared state of a per_flow row: the scheduler, its flows filled, and warmed up.
// A pop + push pair leaves it equivalent (every busy flow still holds `fill` items), so
// the state is kept between the runs of one row (Google Benchmark calls the function
// once per batch of iterations while it sizes the batch, and once per repetition): the
// one most recently prepared state is kept, and preparing another frees it first, so at
// most one exists (at 65536 flows, tens of MB, and a few hundred ms to build on a slow
// machine: longer than the timed loop itself, without the cache).
struct prepared_base {
  virtual ~prepared_base() = default;
};

template <class S>
struct prepared final : prepared_base {
  std::unique_ptr<S> s;
  std::vector<typename S::flow_type> ids;
};

struct prepared_cache {
  std::unique_ptr<prepared_base> state;
  void (*row)(benchmark::State&) = nullptr;  // which instantiation of per_flow prepared it
  std::size_t flows = 0;
};
prepared_cache cache;

// Builds: `flows` flows, the first `busy` of them filled with `fill` items each, pushed
// round-robin (so they join the active list in order), then one warm-up pop + push per
// item: the first pop takes the whole inbox of activated flows at once (O(busy), tens of
// ms at 65536 flows), which must not land in a timed loop; every flow and slot has been
// touched once after it. Null if a push or pop failed.
template <class S>
std::unique_ptr<prepared<S>> prepare(std::size_t flows, std::size_t busy) {
  auto p = std::make_unique<prepared<S>>();
  p->s = std::make_unique<S>(busy * capacity);
  p->ids.reserve(flows);
  for (std::size_t i = 0; i < flows; ++i) p->ids.push_back(p->s->add_flow(quantum, capacity));
  std::uint64_t v = 1;
  for (std::size_t k = 0; k < fill; ++k) {
    for (std::size_t i = 0; i < busy; ++i) {
      if (!p->s->try_push(p->ids[i], v++)) return nullptr;
    }
  }
  typename S::flow_type f{};
  std::uint64_t out = 0;
  for (std::size_t k = 0; k < busy * fill; ++k) {
    if (!p->s->try_pop(f, out) || !p->s->try_push(f, out)) return nullptr;
  }
  return p;
}

// One pop + push pair per iteration on a prepared scheduler: try_pop, then try_push of
// the value back into its flow. Preparing (see above) happens before the timed loop.
template <class S, backlog B>
void per_flow(benchmark::State& state) {
  constexpr void (*self)(benchmark::State&) = per_flow<S, B>;
  const auto flows = static_cast<std::size_t>(state.range(0));
  if (cache.row != self || cache.flows != flows || cache.state == nullptr) {
    cache = prepared_cache{};  // frees the previous state first
    std::unique_ptr<prepared<S>> p = prepare<S>(flows, B == backlog::all ? flows : 1);
    if (p == nullptr) {
      state.SkipWithError("a push into a flow with room, or a pop, failed while preparing");
      return;
    }
    cache = prepared_cache{std::move(p), self, flows};
  }
  S& s = *static_cast<prepared<S>&>(*cache.state).s;
  typename S::flow_type f{};
  std::uint64_t out = 0;
  bool ok = true;
  for (auto _ : state) {
    if (!s.try_pop(f, out) || !s.try_push(f, out)) [[unlikely]] {
      state.SkipWithError("a pop found nothing, or pushing the popped item back failed");
      ok = false;
      break;
    }
  }
  benchmark::DoNotOptimize(out);
  if (!ok) {
    cache = prepared_cache{};  // not in the prepared state any more
    return;
  }
  state.SetItemsProcessed(state.iterations());
}

// One scheduler with its flows shared by all threads of a run, fresh for every run
// (Setup/Teardown run on the main thread before the run's threads start and after they
// finish).
template <class S>
struct shared_scheduler {
  static inline S* instance = nullptr;
  static inline std::vector<typename S::flow_type> flows;
  static void setup(const benchmark::State&) {
    instance = new S(throughput_flows * capacity);
    flows.clear();
    for (std::size_t i = 0; i < throughput_flows; ++i) {
      flows.push_back(instance->add_flow(quantum, capacity));
    }
  }
  static void teardown(const benchmark::State&) {
    delete instance;
    instance = nullptr;
    flows.clear();
  }
};

// Items delivered by a throughput run, from any of its threads after the timed loop:
// every thread runs the same iterations, and every item pushed is popped.
double delivered(const benchmark::State& state) {
  return static_cast<double>(state.iterations()) * (state.threads() - 1);
}

template <class S>
void throughput(benchmark::State& state) {
  S& s = *shared_scheduler<S>::instance;
  const std::vector<typename S::flow_type>& flows = shared_scheduler<S>::flows;
  const int producers = state.threads() - 1;
  if (state.thread_index() == 0) {  // the consumer
    typename S::flow_type f{};
    std::uint64_t out = 0;
    std::uint64_t empties = 0;
    for (auto _ : state) {
      for (int k = 0; k < producers; ++k) {
        while (!s.try_pop(f, out)) {
          ++empties;
          std::this_thread::yield();
        }
      }
    }
    benchmark::DoNotOptimize(out);
    benchmark::DoNotOptimize(f);
    const double items = delivered(state);
    state.counters["empty_per_item"] = items > 0 ? static_cast<double>(empties) / items : 0.0;
  } else {
    const auto p = static_cast<std::size_t>(state.thread_index() - 1);
    std::size_t i = p * throughput_flows / static_cast<std::size_t>(producers);
    std::uint64_t v = first_value(state.thread_index());
    std::uint64_t fulls = 0;
    for (auto _ : state) {
      while (!s.try_push(flows[i], v)) {
        ++fulls;
        std::this_thread::yield();
      }
      ++v;
      i = i + 1 == throughput_flows ? 0 : i + 1;
    }
    state.SetItemsProcessed(state.iterations());  // summed over the producers
    // Counters are summed over threads: each producer adds its share.
    const double items = delivered(state);
    state.counters["full_per_item"] = items > 0 ? static_cast<double>(fulls) / items : 0.0;
  }
}

// Registered workload by workload (each over every implementation), so a run lists the
// implementations of a workload side by side.
void register_all() {
  using lockless_bench::for_each_scheduler;
  auto flow_counts = [](benchmark::internal::Benchmark* b) {
    b->Arg(1)->Arg(64)->Arg(1024)->Arg(65536)->UseRealTime();
  };
  for_each_scheduler([&]<class S>() {
    benchmark::RegisterBenchmark(row("all_backlogged", S::name).c_str(), per_flow<S, backlog::all>)
        ->Apply(flow_counts);
  });
  for_each_scheduler([&]<class S>() {
    benchmark::RegisterBenchmark(row("one_busy", S::name).c_str(), per_flow<S, backlog::one>)
        ->Apply(flow_counts);
  });
  for (int producers : {1, 2, 4, 8}) {
    const std::string workload = "throughput_" + std::to_string(producers) + "p1c";
    for_each_scheduler([&]<class S>() {
      benchmark::RegisterBenchmark(row(workload, S::name).c_str(), throughput<S>)
          ->Setup(shared_scheduler<S>::setup)
          ->Teardown(shared_scheduler<S>::teardown)
          ->Threads(producers + 1)
          ->UseRealTime();
    });
  }
}

[[maybe_unused]] const bool registered = [] {
  // glibc (2.36 here) skips the lock prefix of pthread_mutex_lock/unlock while a process
  // has never had a second thread, which would make the mutex-based rows at one thread
  // faster when they happen to run before any multi-threaded row (the order is random
  // under --benchmark_enable_random_interleaving). One thread started and joined first:
  // every row measures a multi-threaded process, as in a server.
  std::thread([] {}).join();
  register_all();
  return true;
}();

}  // namespace

// BENCHMARK_MAIN(), plus freeing the cached prepared state before static destruction
// begins (the schedulers use the library's epoch domain).
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  cache = prepared_cache{};
  benchmark::Shutdown();
  return 0;
}
