// bench_bounded_queue: suite `bounded_queue`, lockless::bounded_queue against
// std::mutex + std::queue (+ std::condition_variable) and the installed peers, side by
// side in one binary (docs/design.md, "Benchmark rules"). Values are std::uint64_t.
//
//   bounded_queue/try_<P>p<C>c/<impl>         throughput, P producers + C consumers (1p1c,
//                                             2p2c, 4p4c, 8p8c: threads:2, 4, 8, 16), the
//                                             try forms, std::this_thread::yield() after a
//                                             full / empty. One item = one value handed
//                                             from a producer to a consumer; items/s is
//                                             over wall time. Capacity 1024.
//   bounded_queue/blocking_<P>p<C>c/<impl>    the same with the blocking forms (push /
//                                             pop wait while full / empty), for the queues
//                                             that have them.
//   bounded_queue/poll_1p1c/<impl>            1P1C throughput with the try forms and one
//                                             PAUSE between tries instead of a yield: a
//                                             producer and a consumer that each own a CPU
//                                             and poll. A failed try here costs what it
//                                             reads from the other side's cache lines.
//                                             Also for the reference rings.
//   bounded_queue/pair_1t/<impl>              one thread, no contention: try_push then
//                                             try_pop, one item per pair; 1e9 / items/s is
//                                             the time of a pair in ns (locked
//                                             instructions and all, which the callgrind
//                                             pair's instruction count leaves out). Also
//                                             for the reference rings. Capacity 1024.
//   bounded_queue/pingpong_try/<impl>         handoff latency: two queues, thread 0 sends a
//   bounded_queue/pingpong_blocking/<impl>    value on one and waits for it to come back on
//                                             the other (thread 1 echoes it); one item = one
//                                             round trip, timed with steady_clock. Counters
//                                             rtt_p50_ns and rtt_p99_ns: percentiles of
//                                             the round-trip time.
//   bounded_queue/preempt_8p8c_2cpu/<impl>    oversubscription: 8 producers + 8 consumers,
//                                             all pinned to 2 CPUs, capacity 8, try forms
//                                             with yield, for 200 ms (one iteration, manual
//                                             time). Items/s counts pushes in the window.
//                                             Counters: prod_min_over_max (fewest / most
//                                             items pushed by one producer thread: 1 is
//                                             fair) and cons_min_over_max (the same for
//                                             pops). A producer preempted between claiming
//                                             and filling a slot stalls the consumers of a
//                                             Vyukov-style ring; it must not stall ours.
//   bounded_queue/try_<P>p<C>c/ref_ring_*     reference rings (try rows only): Vyukov's ring
//                                             with three kinds of publishing write, to show
//                                             what the publish step costs, and with the
//                                             claim's code shaped as an exact-capacity
//                                             ring's (ref_ring_wrap), to show how much of
//                                             a row the code's shape decides
//                                             (bounded_queue_reference_rings.hpp). Counter
//                                             overtakes_per_m_items on ref_ring_asym.
//   bounded_queue/heavy_fence/membarrier      one detail::asymmetric_fence::heavy_fence()
//                                             per iteration (threads:1, and threads:2 with
//                                             a second thread running); counter armed.
//   bounded_queue/wait_cpu/<impl>             one consumer waits 1 s on an empty queue, the
//                                             queue's own way (wait_pop_for in
//                                             bounded_queue_impls.hpp: sleeping where the
//                                             queue can, spinning where it cannot). Counter
//                                             cpu_percent: CPU time of the waiting thread
//                                             (CLOCK_THREAD_CPUTIME_ID) over wall time.
//                                             No row for lockless_bq_try,
//                                             lockless_bq_fast_empty and moodycamel_cq (no
//                                             waiting form: their waiting twins are
//                                             lockless_bq and moodycamel_bcq).
//
// Placement: the threads of every throughput and ping-pong run are pinned round robin to
// the CPUs the process may use (thread i to the i-th CPU modulo their number:
// lockless_bench::scoped_cpu_pin), so every run of every queue gets the same placement.
// On 2 CPUs, 1P1C is a producer on one CPU and a consumer on the other, and 2P2C and up
// put producers and consumers on each CPU alike. LOCKLESS_BENCH_PIN=0 leaves placement to
// the kernel (docs/benchmarks.md, "Placement": unpinned, the oversubscribed rows land by
// chance in placements whose throughput differs 5-10x).
//
// Host state: the Setup of every run of two or more threads first measures the host's
// cross-CPU round trip (lockless_bench::cross_cpu_round_trip_ns, 2-10 ms), and thread 0
// reports it as the counter xcpu_rtt_ns on the throughput, poll and ping-pong rows. On a
// virtual machine whose host moves the vCPUs it reads about 100 or about 450 ns, and it
// says which of the two each run met (docs/benchmarks.md, "The host's two states").
//
// Each throughput / ping-pong run gets fresh queues (Setup/Teardown); each preempt and
// wait_cpu iteration builds its own. Throughput and ping-pong rows run for MinTime(0.2)
// (this overrides --benchmark_min_time) so the whole suite stays short; the preempt rows
// run 200 ms and the wait_cpu rows 1 s per repetition.
//
// Implementations: bench/bounded_queue_impls.hpp (lockless_bq, lockless_bq_try,
// lockless_bq_fast_empty, std_mutex_queue and each installed peer; what each one's forms do
// is described there), and bench/bounded_queue_reference_rings.hpp (the ref_ring_* cost
// models).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "support/bench_support.hpp"
#include "bounded_queue_impls.hpp"
#include "bounded_queue_reference_rings.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

inline constexpr std::size_t throughput_capacity = 1024;
inline constexpr std::size_t preempt_capacity = 8;
inline constexpr int preempt_producers = 8;
inline constexpr int preempt_consumers = 8;
inline constexpr auto preempt_window = std::chrono::milliseconds(200);
inline constexpr auto wait_time = std::chrono::seconds(1);
inline constexpr double min_time = 0.2;

// Distinct, never-zero values per thread (AtomicQueueB reserves 0).
std::uint64_t first_value(int thread) {
  return (static_cast<std::uint64_t>(thread) + 1) << 40;
}

// Two queues shared by all threads of a run, fresh for every run (Setup/Teardown run on
// the main thread before the run's threads start and after they finish). A run of more
// than one thread also measures the host's cross-CPU round trip just before it starts
// (lockless_bench::cross_cpu_round_trip_ns), which thread 0 reports as xcpu_rtt_ns.
template <class Q>
struct shared_queues {
  static inline Q* a = nullptr;
  static inline Q* b = nullptr;
  static inline double xcpu_rtt_ns = 0;
  static void setup(const benchmark::State& state) {
    xcpu_rtt_ns = state.threads() > 1 ? lockless_bench::cross_cpu_round_trip_ns() : 0.0;
    a = new Q(throughput_capacity);
    b = new Q(throughput_capacity);
  }
  static void teardown(const benchmark::State&) {
    delete a;
    delete b;
    a = b = nullptr;
  }
};

// How a loop around a queue waits when an operation finds it full or empty:
//   yield  the try form, std::this_thread::yield() between tries (the try_ rows);
//   pause  the try form, one PAUSE (detail::cpu_relax()) between tries: a thread that has a
//          CPU to itself and polls (the poll_1p1c row);
//   block  the blocking form, push_wait / pop_wait (the blocking_ rows).
enum class retry { yield, pause, block };

template <retry R>
LOCKLESS_BENCH_ADAPTOR inline void between_tries() {
  if constexpr (R == retry::yield) {
    std::this_thread::yield();
  } else {
    lockless::detail::cpu_relax();
  }
}

// send and receive are the loops a program would write around a queue; always inline, as
// the adaptors (bounded_queue_impls.hpp): left to GCC they stayed out of line for every
// queue, so each operation paid a call and register saves that such a program would not.
template <class Q, retry R>
LOCKLESS_BENCH_ADAPTOR inline void send(Q& q, std::uint64_t v) {
  if constexpr (R == retry::block) {
    q.push_wait(v);
  } else {
    while (!q.try_push(v)) between_tries<R>();
  }
}

template <class Q, retry R>
LOCKLESS_BENCH_ADAPTOR inline void receive(Q& q, std::uint64_t& out) {
  if constexpr (R == retry::block) {
    q.pop_wait(out);
  } else {
    while (!q.try_pop(out)) between_tries<R>();
  }
}

// threads/2 producers (thread indexes 0 .. threads/2-1), the rest consumers. Every thread
// runs the same number of iterations, so every pushed item is popped. Only producers
// report items, so items/s is handoffs per second.
template <class Q, retry R>
void throughput(benchmark::State& state) {
  const lockless_bench::scoped_cpu_pin pin(state.thread_index());
  Q& q = *shared_queues<Q>::a;
  const bool producer = state.thread_index() < state.threads() / 2;
  if (state.thread_index() == 0) {  // counters are summed over threads
    state.counters["xcpu_rtt_ns"] = shared_queues<Q>::xcpu_rtt_ns;
  }
  if (producer) {
    std::uint64_t v = first_value(state.thread_index());
    for (auto _ : state) send<Q, R>(q, v++);
    state.SetItemsProcessed(state.iterations());
  } else {
    std::uint64_t out = 0;
    std::uint64_t overtakes_before = 0;
    if constexpr (requires { Q::q_type::overtakes_here(); }) {
      overtakes_before = Q::q_type::overtakes_here();
    }
    for (auto _ : state) {
      receive<Q, R>(q, out);
      benchmark::DoNotOptimize(out);
    }
    if constexpr (requires { Q::q_type::overtakes_here(); }) {
      // Per consumer, over its share of the items; summed over the consumers by the
      // library, this is overtakes per million items handed over.
      const double consumers = state.threads() - state.threads() / 2;
      state.counters["overtakes_per_m_items"] =
          1e6 * static_cast<double>(Q::q_type::overtakes_here() - overtakes_before) /
          (static_cast<double>(state.iterations()) * consumers);
    }
  }
}

// One thread: a push and a pop per iteration on a queue nobody else touches.
template <class Q>
void pair_1t(benchmark::State& state) {
  Q& q = *shared_queues<Q>::a;
  std::uint64_t v = first_value(0);
  std::uint64_t out = 0;
  for (auto _ : state) {
    if (!q.try_push(v++) || !q.try_pop(out)) [[unlikely]] {
      state.SkipWithError("a push or pop on a queue of one thread failed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

template <class Q, retry R>
void pingpong(benchmark::State& state) {
  const lockless_bench::scoped_cpu_pin pin(state.thread_index());
  Q& there = *shared_queues<Q>::a;
  Q& back = *shared_queues<Q>::b;
  std::uint64_t out = 0;
  if (state.thread_index() == 0) {
    std::vector<std::uint32_t> rtt;
    rtt.reserve(static_cast<std::size_t>(state.max_iterations));
    std::uint64_t v = 1;
    for (auto _ : state) {
      const auto t0 = clock_type::now();
      send<Q, R>(there, v);
      receive<Q, R>(back, out);
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
    state.counters["xcpu_rtt_ns"] = shared_queues<Q>::xcpu_rtt_ns;
  } else {
    for (auto _ : state) {
      receive<Q, R>(there, out);
      send<Q, R>(back, out);
    }
  }
}

// The first two CPUs this process may run on (one if it has only one; none if they could
// not be read, and then the preempt rows' threads are not pinned).
#if defined(__linux__)
cpu_set_t two_cpus() {
  cpu_set_t chosen;
  CPU_ZERO(&chosen);
  const auto& cpus = lockless_bench::process_cpus;
  for (std::size_t i = 0; i < cpus.size() && i < 2; ++i) CPU_SET(cpus[i], &chosen);
  return chosen;
}
#endif

struct alignas(64) padded_count {
  std::uint64_t n = 0;
};

double min_over_max(const std::vector<padded_count>& counts) {
  std::uint64_t lo = UINT64_MAX;
  std::uint64_t hi = 0;
  for (const auto& c : counts) {
    lo = std::min(lo, c.n);
    hi = std::max(hi, c.n);
  }
  return hi == 0 ? 0.0 : static_cast<double>(lo) / static_cast<double>(hi);
}

template <class Q>
void preempt(benchmark::State& state) {
#if defined(__linux__)
  const cpu_set_t cpus = two_cpus();
#endif
  double prod_fair = 0;
  double cons_fair = 0;
  std::uint64_t items = 0;
  for (auto _ : state) {
    Q q(preempt_capacity);
    std::vector<padded_count> pushed(preempt_producers);
    std::vector<padded_count> popped(preempt_consumers);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};
    std::atomic<int> producers_left{preempt_producers};
    auto start = [&] {
#if defined(__linux__)
      (void)pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
#endif
      ready.fetch_add(1, std::memory_order_relaxed);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    };
    std::vector<std::thread> threads;
    for (int p = 0; p < preempt_producers; ++p) {
      threads.emplace_back([&, p] {
        start();
        std::uint64_t v = first_value(p);
        std::uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          if (q.try_push(v)) {
            ++v;
            ++n;
          } else {
            std::this_thread::yield();
          }
        }
        pushed[static_cast<std::size_t>(p)].n = n;
        producers_left.fetch_sub(1, std::memory_order_release);
      });
    }
    for (int c = 0; c < preempt_consumers; ++c) {
      threads.emplace_back([&, c] {
        start();
        std::uint64_t out = 0;
        std::uint64_t n = 0;
        for (;;) {
          if (q.try_pop(out)) {
            ++n;
          } else if (producers_left.load(std::memory_order_acquire) == 0) {
            if (!q.try_pop(out)) break;  // drained (as far as this queue tells)
            ++n;
          } else {
            std::this_thread::yield();
          }
        }
        benchmark::DoNotOptimize(out);
        popped[static_cast<std::size_t>(c)].n = n;
      });
    }
    while (ready.load(std::memory_order_relaxed) < preempt_producers + preempt_consumers) {
      std::this_thread::yield();
    }
    const auto t0 = clock_type::now();
    go.store(true, std::memory_order_release);
    std::this_thread::sleep_for(preempt_window);
    stop.store(true, std::memory_order_relaxed);
    const auto t1 = clock_type::now();
    for (auto& t : threads) t.join();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    for (const auto& c : pushed) items += c.n;
    prod_fair = min_over_max(pushed);
    cons_fair = min_over_max(popped);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.counters["prod_min_over_max"] = prod_fair;
  state.counters["cons_min_over_max"] = cons_fair;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class Q>
void wait_cpu(benchmark::State& state) {
  double cpu_percent = 0;
  for (auto _ : state) {
    Q q(throughput_capacity);
    std::uint64_t out = 0;
    const double cpu0 = thread_cpu_seconds();
    const auto t0 = clock_type::now();
    const bool got = q.wait_pop_for(out, wait_time);
    const auto t1 = clock_type::now();
    const double cpu1 = thread_cpu_seconds();
    if (got) {
      state.SkipWithError("the wait on an empty queue returned an item");
      break;
    }
    const double wall = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(wall);
    cpu_percent = wall > 0 ? (cpu1 - cpu0) / wall * 100.0 : 0.0;
  }
  state.counters["cpu_percent"] = cpu_percent;
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

// The rare side of the asymmetric fence pair (detail/asymmetric_fence.hpp), as
// ref_ring_asym's consumers would pay it for each slot they give up on: thread 0 calls
// heavy_fence() once per iteration; with threads:2, thread 1 keeps spinning until thread 0
// is done, so each call has another CPU of this process to interrupt. Time per iteration =
// one heavy fence. Counter armed: 1 when it is the membarrier system call, 0 when both
// sides fall back to full fences.
std::atomic<bool> heavy_fence_done{false};
void heavy_fence_cost(benchmark::State& state) {
  namespace af = lockless::detail::asymmetric_fence;
  const bool armed = af::arm();
  if (state.thread_index() == 0) {
    for (auto _ : state) af::heavy_fence();
    heavy_fence_done.store(true, std::memory_order_release);
    state.counters["armed"] = armed ? 1.0 : 0.0;
    state.SetItemsProcessed(state.iterations());
  } else {
    for (auto _ : state) {
    }
    while (!heavy_fence_done.load(std::memory_order_acquire)) {
    }
  }
}

std::string row(const char* workload, const char* impl) {
  return std::string("bounded_queue/") + workload + "/" + impl;
}

// Registered workload by workload (each over every queue), so a run lists the
// implementations of a workload side by side.
void register_all() {
  using lockless_bench::blocking_queue;
  using lockless_bench::for_each_queue;
  using lockless_bench::waiting_queue;
  for (const shape& s : shapes) {
    const std::string workload = std::string("try_") + s.name;
    auto add = [&]<class Q>() {
      with_queues<Q>(benchmark::RegisterBenchmark(row(workload.c_str(), Q::name).c_str(),
                                                  throughput<Q, retry::yield>))
          ->Threads(s.threads);
    };
    for_each_queue(add);
    lockless_bench::for_each_reference_ring(add);
  }
  {
    auto add = [&]<class Q>() {
      with_queues<Q>(benchmark::RegisterBenchmark(row("poll_1p1c", Q::name).c_str(),
                                                  throughput<Q, retry::pause>))
          ->Threads(2);
    };
    for_each_queue(add);
    lockless_bench::for_each_reference_ring(add);
  }
  {
    auto add = [&]<class Q>() {
      with_queues<Q>(benchmark::RegisterBenchmark(row("pair_1t", Q::name).c_str(), pair_1t<Q>))
          ->Threads(1);
    };
    for_each_queue(add);
    lockless_bench::for_each_reference_ring(add);
  }
  for (const shape& s : shapes) {
    const std::string workload = std::string("blocking_") + s.name;
    for_each_queue([&]<class Q>() {
      if constexpr (blocking_queue<Q>) {
        with_queues<Q>(benchmark::RegisterBenchmark(row(workload.c_str(), Q::name).c_str(),
                                                    throughput<Q, retry::block>))
            ->Threads(s.threads);
      }
    });
  }
  for_each_queue([&]<class Q>() {
    with_queues<Q>(benchmark::RegisterBenchmark(row("pingpong_try", Q::name).c_str(),
                                                pingpong<Q, retry::yield>))
        ->Threads(2);
  });
  for_each_queue([&]<class Q>() {
    if constexpr (blocking_queue<Q>) {
      with_queues<Q>(benchmark::RegisterBenchmark(row("pingpong_blocking", Q::name).c_str(),
                                                  pingpong<Q, retry::block>))
          ->Threads(2);
    }
  });
  for_each_queue([&]<class Q>() {
    benchmark::RegisterBenchmark(row("preempt_8p8c_2cpu", Q::name).c_str(), preempt<Q>)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  });
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(row("heavy_fence", "membarrier").c_str(), heavy_fence_cost)
        ->Threads(threads)
        ->MinTime(min_time)
        ->UseRealTime()
        ->Setup([](const benchmark::State&) { heavy_fence_done.store(false); });
  }
  for_each_queue([&]<class Q>() {
    if constexpr (waiting_queue<Q>) {
      benchmark::RegisterBenchmark(row("wait_cpu", Q::name).c_str(), wait_cpu<Q>)
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
