// bench_elimination_stack: suite `elimination_stack`, the stack family side by side in one binary
// (docs/design.md, "Benchmark rules"): lockless::elimination_stack, lockless::treiber_stack,
// std::mutex + std::stack and the installed peers, libcds's Treiber stack with and without
// its elimination back-off among them.
//
//   elimination_stack/push_pop_pair/<impl>     each thread loops { push(x); pop(); }: one item is
//                                       one push+pop pair (as bench_treiber_stack).
//   elimination_stack/push_then_pop/<impl>/64  each thread pushes 64 values, then pops 64 (a
//                                       burst: one-sided phases, where pushes meet pushes).
//                                       One item is still one push+pop pair.
// Threads 1, 2, 4, 8 and 16, wall-clock time. A pop never finds the stack empty (every
// thread has pushed more than it has popped when it pops); a failing pop is an error.
//
// Rows with statistics (lockless_elimination_stats and the sweep) report, read by thread
// 0 after every thread has left its timed loop (Google Benchmark's barrier), from a stack
// that is fresh in every run:
//   elim_rate          eliminated pairs / push+pop pairs: the share of pairs that met in
//                      the exchanger instead of the central stack
//   cas_fail_per_pair  failed central CASes (push's and pop's) per pair
//   range, wait_spins  the adaptive range and wait at the end of the run
// Every row reports allocs/pair and frees/pair: global operator new / delete calls per
// push+pop pair over all threads (bench/support/alloc_counter.hpp, which replaces them in
// this binary).
//
//   bench_elimination_stack --sweep [Google Benchmark flags]
// runs, instead of the family, the options sweep: elimination_options width 1/4/8 x
// exchange_spins 16/64/256 (statistics on) and lockless_treiber for reference, push/pop
// pairs at 2 and 8 threads (rows elimination_sweep/push_pop_pair/lockless_elim_w<W>_s<S>).
//
// Implementations: bench/elimination_stack_impls.hpp (and bench/treiber_stack_impls.hpp).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "elimination_stack_impls.hpp"
#include "support/alloc_counter.hpp"
#include "support/bench_support.hpp"

namespace {

using lockless_bench::shared_instance;

// Threads 1, 2, 4, 8 and 16 (the list: one more than standard_threads).
void family_threads(benchmark::internal::Benchmark* b) {
  lockless_bench::threads_with(b, {16});
}
void sweep_threads(benchmark::internal::Benchmark* b) {
  b->Threads(2)->Threads(8)->UseRealTime();
}

// The elimination counters, for the implementations whose stack has stats(); nothing for
// the others.
template <class S>
void report_elimination(benchmark::State&, const S&, std::int64_t) {}
template <class S>
  requires requires(const S& s) { s.s.stats(); }
void report_elimination(benchmark::State& state, const S& s, std::int64_t pairs_per_iteration) {
  if (state.thread_index() != 0) return;  // counters are summed over threads
  const lockless::elimination_stack_stats st = s.s.stats();
  const double pairs = static_cast<double>(state.iterations()) *
                       static_cast<double>(pairs_per_iteration) * state.threads();
  state.counters["elim_rate"] = pairs > 0 ? static_cast<double>(st.eliminated_pairs) / pairs : 0.0;
  state.counters["cas_fail_per_pair"] =
      pairs > 0 ? static_cast<double>(st.central_cas_failures) / pairs : 0.0;
  state.counters["range"] = st.range;
  state.counters["wait_spins"] = st.wait_spins;
}

template <class S>
void push_pop_pair(benchmark::State& state) {
  S::prepare_thread();
  S& s = *shared_instance<S>::instance;
  // Distinct values per thread (not needed for correctness; keeps the data honest).
  std::uint64_t v = static_cast<std::uint64_t>(state.thread_index()) << 48;
  std::uint64_t out = 0;
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
  allocations.report(state);
  report_elimination(state, s, 1);
}

template <class S>
void push_then_pop(benchmark::State& state) {
  S::prepare_thread();
  S& s = *shared_instance<S>::instance;
  const auto batch = static_cast<int>(state.range(0));
  std::uint64_t v = static_cast<std::uint64_t>(state.thread_index()) << 48;
  std::uint64_t out = 0;
  bool failed = false;
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
  allocations.report(state, batch);
  report_elimination(state, s, batch);
}

template <class S>
void register_family(const char* suite) {
  using shared = shared_instance<S>;
  const std::string impl = S::name;
  const std::string prefix = std::string(suite) + "/";
  benchmark::RegisterBenchmark((prefix + "push_pop_pair/" + impl).c_str(), push_pop_pair<S>)
      ->Setup(shared::setup)
      ->Teardown(shared::teardown)
      ->Apply(family_threads);
  benchmark::RegisterBenchmark((prefix + "push_then_pop/" + impl).c_str(), push_then_pop<S>)
      ->Arg(64)
      ->Setup(shared::setup)
      ->Teardown(shared::teardown)
      ->Apply(family_threads);
}

template <class S>
void register_sweep() {
  using shared = shared_instance<S>;
  benchmark::RegisterBenchmark((std::string("elimination_sweep/push_pop_pair/") + S::name).c_str(),
                               push_pop_pair<S>)
      ->Setup(shared::setup)
      ->Teardown(shared::teardown)
      ->Apply(sweep_threads);
}

void register_all_family() {
  namespace lb = lockless_bench;
  register_family<lb::lockless_elimination>("elimination_stack");
  register_family<lb::lockless_elimination_stats>("elimination_stack");
  register_family<lb::lockless_treiber>("elimination_stack");
  register_family<lb::std_mutex_stack>("elimination_stack");
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
  register_family<lb::boost_lockfree_stack>("elimination_stack");
#endif
#if defined(LOCKLESS_HAVE_LIBCDS)
  register_family<lb::libcds_treiber_hp>("elimination_stack");
  register_family<lb::libcds_treiber_dhp>("elimination_stack");
  register_family<lb::libcds_elim_hp>("elimination_stack");
  register_family<lb::libcds_elim_hp_spin>("elimination_stack");
#endif
}

template <unsigned Width>
void register_sweep_width() {
  register_sweep<lockless_bench::lockless_elimination_sweep<Width, 16>>();
  register_sweep<lockless_bench::lockless_elimination_sweep<Width, 64>>();
  register_sweep<lockless_bench::lockless_elimination_sweep<Width, 256>>();
}

void register_all_sweep() {
  register_sweep<lockless_bench::lockless_treiber>();
  register_sweep_width<1>();
  register_sweep_width<4>();
  register_sweep_width<8>();
}

}  // namespace

int main(int argc, char** argv) {
  // --sweep (ours, removed before Google Benchmark sees the flags): the options sweep
  // instead of the family.
  std::vector<char*> args;
  bool sweep = false;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--sweep") == 0) {
      sweep = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (sweep) {
    register_all_sweep();
  } else {
    register_all_family();
  }
  int args_count = static_cast<int>(args.size());
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
