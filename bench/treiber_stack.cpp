// bench_treiber_stack: suite `stack`, lockless::treiber_stack against std::mutex + std::stack and
// the installed peers, side by side in one binary (docs/design.md, "Benchmark rules").
//
//   stack/push_pop_pair/<impl>       each thread loops { push(x); pop(); }: one item is
//                                    one push+pop pair. Real time per iteration is the
//                                    cost of one pair over all threads (1 / throughput);
//                                    at threads:1 it is the single-thread pair cost.
//   stack/push_then_pop/<impl>/64    each thread pushes 64 values, then pops 64: a deeper
//                                    stack, and nodes are not reused right away. One item
//                                    is still one push+pop pair.
//
// In both workloads a pop never finds the stack empty: every thread has pushed more than
// it has popped when it pops, so the stack holds at least one item. A failing pop is
// reported as an error, and each run ends with the stack empty.
//
// Implementations (bench/treiber_stack_impls.hpp): lockless_treiber (default epoch
// domain), std_mutex_stack, boost_lockfree_stack, libcds_treiber_hp, libcds_treiber_dhp
// (each peer only when installed). Each run gets a fresh stack (Setup/Teardown).
// lockless rows also report the epoch domain's counters epoch_adv_per_k and pending
// (bench/support/bench_support.hpp). Every row reports allocs/pair and frees/pair, the
// calls of the global operator new and delete per push+pop pair over all threads
// (bench/support/alloc_counter.hpp, which replaces them in this binary).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "support/alloc_counter.hpp"
#include "support/bench_support.hpp"
#include "treiber_stack_impls.hpp"

namespace {

using lockless_bench::shared_instance;

// Reclamation counters (bench_support.hpp) for the implementations that use an epoch
// domain; nothing for the others.
template <class S>
struct probe {
  explicit probe(const benchmark::State&) {}
  void report(benchmark::State&, std::int64_t = 1) const {}
};
template <class S>
  requires requires { S::epoch_domain(); }
struct probe<S> : lockless_bench::epoch_probe {
  explicit probe(const benchmark::State& state)
      : lockless_bench::epoch_probe(state, S::epoch_domain()) {}
};

template <class S>
void push_pop_pair(benchmark::State& state) {
  S::prepare_thread();
  S& s = *shared_instance<S>::instance;
  // Distinct values per thread (not needed for correctness; keeps the data honest).
  std::uint64_t v = static_cast<std::uint64_t>(state.thread_index()) << 48;
  std::uint64_t out = 0;
  const probe<S> reclamation(state);
  const lockless_bench::alloc_probe allocations;
  for (auto _ : state) {
    s.push(v++);
    if (!s.pop(out)) [[unlikely]] {
      state.SkipWithError("pop found the stack empty");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  reclamation.report(state);
  allocations.report(state);
}

template <class S>
void push_then_pop(benchmark::State& state) {
  S::prepare_thread();
  S& s = *shared_instance<S>::instance;
  const auto batch = static_cast<int>(state.range(0));
  std::uint64_t v = static_cast<std::uint64_t>(state.thread_index()) << 48;
  std::uint64_t out = 0;
  bool failed = false;
  const probe<S> reclamation(state);
  const lockless_bench::alloc_probe allocations;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) s.push(v++);
    for (int i = 0; i < batch; ++i) {
      failed |= !s.pop(out);
      benchmark::DoNotOptimize(out);
    }
    if (failed) [[unlikely]] {
      state.SkipWithError("pop found the stack empty");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  reclamation.report(state, batch);
  allocations.report(state, batch);
}

template <class S>
void register_stack() {
  using shared = shared_instance<S>;
  const std::string impl = S::name;
  benchmark::RegisterBenchmark(("stack/push_pop_pair/" + impl).c_str(), push_pop_pair<S>)
      ->Setup(shared::setup)
      ->Teardown(shared::teardown)
      ->Apply(lockless_bench::standard_threads);
  benchmark::RegisterBenchmark(("stack/push_then_pop/" + impl).c_str(), push_then_pop<S>)
      ->Arg(64)
      ->Setup(shared::setup)
      ->Teardown(shared::teardown)
      ->Apply(lockless_bench::standard_threads);
}

[[maybe_unused]] const bool registered = [] {
  register_stack<lockless_bench::lockless_treiber>();
  register_stack<lockless_bench::std_mutex_stack>();
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
  register_stack<lockless_bench::boost_lockfree_stack>();
#endif
#if defined(LOCKLESS_HAVE_LIBCDS)
  register_stack<lockless_bench::libcds_treiber_hp>();
  register_stack<lockless_bench::libcds_treiber_dhp>();
#endif
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
