// bench_unbounded_queue: suite `unbounded_queue`, lockless::unbounded_queue against
// std::mutex + std::deque, the installed peers and lockless::bounded_queue as a
// reference, side by side in one binary (docs/design.md, "Benchmark rules"). Values are
// std::uint64_t.
//
//   unbounded_queue/try_<P>p<C>c/<impl>     throughput, P producers + C consumers (1p1c,
//                                           2p2c, 4p4c, 8p8c: threads:2, 4, 8, 16), the
//                                           try forms. Every thread runs the same number
//                                           of iterations: each producer pushes that many
//                                           values, each consumer pops that many, retrying
//                                           try_pop (std::this_thread::yield() after an
//                                           empty answer, as in bench_bounded_queue; the
//                                           bounded reference's producers do the same after
//                                           a full one). One item = one value handed from a
//                                           producer to a consumer; items/s is over wall
//                                           time. The unbounded queues let producers run
//                                           ahead: what they hold grows meanwhile.
//   unbounded_queue/pingpong_try/<impl>     handoff latency: two queues, thread 0 sends a
//                                           value on one and retries try_pop on the other
//                                           until it comes back (thread 1 echoes it); one
//                                           item = one round trip, timed with
//                                           steady_clock. Counters rtt_p50_ns, rtt_p99_ns:
//                                           percentiles of the round-trip time.
//   unbounded_queue/burst_drain/<impl>      memory after a burst drains: one thread pushes
//                                           LOCKLESS_BENCH_BURST values (default 10000000)
//                                           into a new queue, then pops them all (checking
//                                           that they come out in order); one iteration,
//                                           manual time = the push and pop phases, items/s
//                                           = values per second through the queue. Counters
//                                           (KiB):
//       alloc_empty_kb, alloc_full_kb, alloc_drained_kb, alloc_settled_kb
//                                           bytes the queue holds through its allocator
//                                           (counting_allocator in unbounded_queue_impls.hpp)
//                                           after construction, after the pushes, after the
//                                           pops, and after settle(); only for the queues
//                                           that take an allocator (ours, the bounded
//                                           reference, std::deque, moodycamel via its
//                                           Traits, TBB, Boost; not xenium).
//       rss_empty_kb                        the growth of the process's resident set
//                                           (/proc/self/statm) from constructing the queue.
//       rss_full_kb, rss_drained_kb, rss_settled_kb, rss_trimmed_kb
//                                           the resident set minus its value just before
//                                           the burst (after construction), at the same
//                                           points as the alloc_ counters, and then
//                                           after malloc_trim(0) (glibc gives free heap
//                                           pages back to the kernel: what is still
//                                           resident then is held by the queue, or by an
//                                           allocator other than glibc's, e.g. tbbmalloc).
//       settle()                            what a user does to get a drained queue's
//                                           memory back. Ours (lockless_uq): a private
//                                           epoch_domain, and settle() calls its barrier():
//                                           the epoch frees a retired segment only after
//                                           the bag holding it was sealed (full, flushed,
//                                           or its thread exited) and the epoch moved on,
//                                           so right after the drain up to a bag of retired
//                                           segments (and the last sealed bags) are still
//                                           held; barrier() seals this thread's bag and
//                                           runs every deleter, which keep cached_segments
//                                           (2) segments for reuse and free the rest. The
//                                           others have nothing to call: no _settled_
//                                           counters (they would repeat the _drained_ ones).
//                                           Each row builds its own queue (and domain) and
//                                           calls malloc_trim(0) before it measures the
//                                           baseline, so earlier rows' free pages do not
//                                           hide its growth.
//
// Throughput and ping-pong rows get fresh queues (Setup/Teardown) and run for MinTime(0.2)
// (this overrides --benchmark_min_time) so the whole suite stays short; each burst_drain
// row runs once per repetition (Iterations(1)).
//
// Implementations: bench/unbounded_queue_impls.hpp (lockless_uq: default options;
// lockless_uq_try: may_block = false; ref_lockless_bq: lockless::bounded_queue with room
// for 65536 items, or for the whole burst; std_mutex_queue; and each installed peer:
// moodycamel_cq, tbb_queue, xenium_ms_queue, xenium_ramalhete, boost_lockfree_queue).
// Only lockless_uq has a burst_drain row of ours (lockless_uq_try holds the same memory).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <unistd.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "unbounded_queue_impls.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using lockless_bench::alloc_counter;

// Room for the bounded reference in the throughput and ping-pong rows.
inline constexpr std::size_t throughput_room = std::size_t{1} << 16;
inline constexpr double min_time = 0.2;
inline constexpr std::uint64_t default_burst = 10'000'000;

// Distinct, never-zero values per thread, below 2^63 (xenium_ramalhete's mark bit).
std::uint64_t first_value(int thread) {
  return (static_cast<std::uint64_t>(thread) + 1) << 40;
}

std::uint64_t burst_items() {
  if (const char* s = std::getenv("LOCKLESS_BENCH_BURST")) {
    const std::uint64_t n = std::strtoull(s, nullptr, 10);
    if (n > 0) return n;
  }
  return default_burst;
}

// Two queues shared by all threads of a run, fresh for every run (Setup/Teardown run on
// the main thread before the run's threads start and after they finish).
template <class Q>
struct shared_queues {
  static inline Q* a = nullptr;
  static inline Q* b = nullptr;
  static void setup(const benchmark::State&) {
    a = new Q(throughput_room);
    b = new Q(throughput_room);
  }
  static void teardown(const benchmark::State&) {
    delete a;
    delete b;
    a = b = nullptr;
  }
};

template <class Q>
void send(Q& q, std::uint64_t v) {
  while (!q.try_push(v)) std::this_thread::yield();  // only the bounded reference: full
}

template <class Q>
void receive(Q& q, std::uint64_t& out) {
  while (!q.try_pop(out)) std::this_thread::yield();
}

// threads/2 producers (thread indexes 0 .. threads/2-1), the rest consumers. Every thread
// runs the same number of iterations, so every pushed item is popped. Only producers
// report items, so items/s is handoffs per second.
template <class Q>
void throughput(benchmark::State& state) {
  Q& q = *shared_queues<Q>::a;
  const bool producer = state.thread_index() < state.threads() / 2;
  if (producer) {
    std::uint64_t v = first_value(state.thread_index());
    for (auto _ : state) send(q, v++);
    state.SetItemsProcessed(state.iterations());
  } else {
    std::uint64_t out = 0;
    for (auto _ : state) {
      receive(q, out);
      benchmark::DoNotOptimize(out);
    }
  }
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

template <class Q>
void pingpong(benchmark::State& state) {
  Q& there = *shared_queues<Q>::a;
  Q& back = *shared_queues<Q>::b;
  std::uint64_t out = 0;
  if (state.thread_index() == 0) {
    std::vector<std::uint32_t> rtt;
    rtt.reserve(static_cast<std::size_t>(state.max_iterations));
    std::uint64_t v = 1;
    for (auto _ : state) {
      const auto t0 = clock_type::now();
      send(there, v);
      receive(back, out);
      const auto t1 = clock_type::now();
      if (out != v) [[unlikely]] {
        state.SkipWithError("ping-pong got a different value back");
        break;
      }
      ++v;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
      rtt.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(ns, UINT32_MAX)));
    }
    state.SetItemsProcessed(state.iterations());
    // Counters are summed over threads; only thread 0 sets these.
    state.counters["rtt_p50_ns"] = percentile(rtt, 0.50);
    state.counters["rtt_p99_ns"] = percentile(rtt, 0.99);
  } else {
    for (auto _ : state) {
      receive(there, out);
      send(back, out);
    }
  }
}

// ---- memory after a burst --------------------------------------------------------------

// Resident set size in bytes (0 where /proc/self/statm cannot be read).
std::int64_t rss_bytes() {
#if defined(__linux__)
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0;
  long resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<std::int64_t>(resident) * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
#else
  return 0;
#endif
}

void trim_heap() {
#if defined(__GLIBC__)
  (void)malloc_trim(0);
#endif
}

double kib(std::int64_t bytes) {
  return static_cast<double>(bytes) / 1024.0;
}

template <class Q>
concept counting_queue = Q::counts_allocations;

template <class Q>
concept settling_queue = requires(Q& q) { q.settle(); };

template <class Q>
void burst_drain(benchmark::State& state) {
  const std::uint64_t n = burst_items();
  for (auto _ : state) {
    trim_heap();
    const std::int64_t alloc0 = alloc_counter::live.load(std::memory_order_relaxed);
    const std::int64_t rss_before = rss_bytes();
    auto* q = new Q(static_cast<std::size_t>(n));
    auto held = [&] { return alloc_counter::live.load(std::memory_order_relaxed) - alloc0; };
    const std::int64_t alloc_empty = held();
    const std::int64_t rss0 = rss_bytes();

    const auto t0 = clock_type::now();
    bool ok = true;
    for (std::uint64_t i = 1; i <= n && ok; ++i) ok = q->try_push(i);
    const auto t1 = clock_type::now();
    const std::int64_t alloc_full = held();
    const std::int64_t rss_full = rss_bytes() - rss0;

    const auto t2 = clock_type::now();
    std::uint64_t out = 0;
    for (std::uint64_t i = 1; i <= n && ok; ++i) ok = q->try_pop(out) && out == i;
    const auto t3 = clock_type::now();
    if (ok) ok = !q->try_pop(out);
    const std::int64_t alloc_drained = held();
    const std::int64_t rss_drained = rss_bytes() - rss0;

    if constexpr (settling_queue<Q>) q->settle();
    const std::int64_t alloc_settled = held();
    const std::int64_t rss_settled = rss_bytes() - rss0;
    trim_heap();
    const std::int64_t rss_trimmed = rss_bytes() - rss0;
    delete q;

    if (!ok) {
      state.SkipWithError("the burst lost, reordered or kept a value");
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
    if constexpr (counting_queue<Q>) {
      state.counters["alloc_empty_kb"] = kib(alloc_empty);
      state.counters["alloc_full_kb"] = kib(alloc_full);
      state.counters["alloc_drained_kb"] = kib(alloc_drained);
      if constexpr (settling_queue<Q>) state.counters["alloc_settled_kb"] = kib(alloc_settled);
    }
    state.counters["rss_empty_kb"] = kib(rss0 - rss_before);
    state.counters["rss_full_kb"] = kib(rss_full);
    state.counters["rss_drained_kb"] = kib(rss_drained);
    if constexpr (settling_queue<Q>) state.counters["rss_settled_kb"] = kib(rss_settled);
    state.counters["rss_trimmed_kb"] = kib(rss_trimmed);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n) * state.iterations());
}

struct shape {
  const char* name;
  int threads;
};
constexpr shape shapes[] = {{"1p1c", 2}, {"2p2c", 4}, {"4p4c", 8}, {"8p8c", 16}};

template <class Q>
benchmark::internal::Benchmark* with_queues(benchmark::internal::Benchmark* b) {
  return b->Setup(shared_queues<Q>::setup)
      ->Teardown(shared_queues<Q>::teardown)
      ->MinTime(min_time)
      ->UseRealTime();
}

std::string row(const char* workload, const char* impl) {
  return std::string("unbounded_queue/") + workload + "/" + impl;
}

// Registered workload by workload (each over every queue), so a run lists the
// implementations of a workload side by side.
void register_all() {
  using lockless_bench::for_each_queue;
  for (const shape& s : shapes) {
    const std::string workload = std::string("try_") + s.name;
    for_each_queue([&]<class Q>() {
      with_queues<Q>(
          benchmark::RegisterBenchmark(row(workload.c_str(), Q::name).c_str(), throughput<Q>))
          ->Threads(s.threads);
    });
  }
  for_each_queue([&]<class Q>() {
    with_queues<Q>(benchmark::RegisterBenchmark(row("pingpong_try", Q::name).c_str(), pingpong<Q>))
        ->Threads(2);
  });
  for_each_queue([&]<class Q>() {
    if constexpr (requires { typename Q::counted; }) {
      benchmark::RegisterBenchmark(row("burst_drain", Q::name).c_str(),
                                   burst_drain<typename Q::counted>)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  });
}

[[maybe_unused]] const bool registered = [] {
  register_all();
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
