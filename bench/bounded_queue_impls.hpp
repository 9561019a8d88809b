// bench/bounded_queue_impls.hpp: the queues compared by bench_bounded_queue and
// callgrind_bounded_queue, behind one tiny interface:
//
//   static constexpr const char* name;    the <impl> part of the benchmark name
//   explicit Q(std::size_t capacity);     a fresh, empty queue
//   bool try_push(std::uint64_t v);       false if full (never waits for a free slot)
//   bool try_pop(std::uint64_t& out);     false if empty
// and, where the queue has them (the suite registers a workload only for the queues that
// have its members; see the blocking_queue / waiting_queue concepts below):
//   void push_wait(std::uint64_t v);      waits while full (blocking push)
//   void pop_wait(std::uint64_t& out);    waits while empty (blocking pop)
//   bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d);
//                                         waits up to d for an item, the queue's own way
//                                         (sleeping, or spinning where it has no wait)
//
// try_push and try_pop are LOCKLESS_BENCH_ADAPTOR (always inline) in every adaptor: a
// program that calls a queue in a loop gets the queue's own inlining, and an adaptor must
// not add a call that such a program would not have. (Left to GCC, the adaptors of the
// queues with the larger inline paths stayed out of line and paid a call per operation,
// while the others were inlined: docs/benchmarks.md, "Call-free common paths".)
// Values are never 0 (atomic_queue's AtomicQueueB reserves 0 as its empty marker).
// Peers are compiled in when bench/CMakeLists.txt found them (LOCKLESS_HAVE_<PEER>).
// Nothing here depends on Google Benchmark, so the callgrind driver can use it too.
#pragma once

#define LOCKLESS_BENCH_ADAPTOR [[gnu::always_inline]]

#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>

#include <lockless/bounded_queue.hpp>

#if defined(LOCKLESS_HAVE_MOODYCAMEL)
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/concurrentqueue.h>
#endif

#if defined(LOCKLESS_HAVE_ATOMIC_QUEUE)
#include <atomic_queue/atomic_queue.h>
#endif

#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/queue.hpp>
#endif

#if defined(LOCKLESS_HAVE_TBB)
#include <tbb/concurrent_queue.h>
#endif

#if defined(LOCKLESS_HAVE_XENIUM)
#include <xenium/vyukov_bounded_queue.hpp>
#endif

namespace lockless_bench {

template <class Q>
concept blocking_queue = requires(Q& q, std::uint64_t v, std::uint64_t& out) {
  q.push_wait(v);
  q.pop_wait(out);
};

template <class Q>
concept waiting_queue = requires(Q& q, std::uint64_t& out, std::chrono::nanoseconds d) {
  { q.wait_pop_for(out, d) } -> std::same_as<bool>;
};

// The "wait" of the queues that have none: try_pop in a loop until the deadline, reading
// the clock every 64 attempts. This burns a core on purpose: it is what a user of such a
// queue has to do (or sleep and add latency).
template <class Q>
bool spin_pop_for(Q& q, std::uint64_t& out, std::chrono::nanoseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (q.try_pop(out)) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

// Ours, either options. try_* map to try_push / try_pop; the blocking forms to push / pop
// (spin briefly, then sleep on the parking piece), the timed wait to pop_for.
template <class Q>
struct lockless_bq_base {
  explicit lockless_bq_base(std::size_t capacity) : q(capacity) {}
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) {
    return q.try_push(v) == lockless::queue_status::success;
  }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) {
    auto r = q.try_pop();
    if (!r) return false;
    out = *r;
    return true;
  }
  Q q;
};

// Default options (may_block = true): blocking and timed forms, and try_push / try_pop
// pay the check for sleeping waiters.
struct lockless_bq : lockless_bq_base<lockless::bounded_queue<std::uint64_t>> {
  static constexpr const char* name = "lockless_bq";
  using lockless_bq_base::lockless_bq_base;
  LOCKLESS_BENCH_ADAPTOR void push_wait(std::uint64_t v) { (void)q.push(v); }
  LOCKLESS_BENCH_ADAPTOR void pop_wait(std::uint64_t& out) { out = *q.pop(); }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    auto r = q.pop_for(d);
    if (!r) return false;
    out = *r;
    return true;
  }
};

// may_block = false: try forms only, no notify cost.
struct lockless_bq_try
    : lockless_bq_base<lockless::bounded_queue<std::uint64_t, std::allocator<std::uint64_t>,
                                               lockless::queue_options{.may_block = false}>> {
  static constexpr const char* name = "lockless_bq_try";
  using lockless_bq_base::lockless_bq_base;
};

// may_block = false, fast_empty = true: a pop that finds its cell vacant answers empty from
// the cell and the order word, without reading tail_, while producers publish in order;
// each publish reads the seq of the cell before its own.
struct lockless_bq_fast_empty
    : lockless_bq_base<lockless::bounded_queue<std::uint64_t, std::allocator<std::uint64_t>,
                                               lockless::queue_options{.may_block = false,
                                                                       .fast_empty = true}>> {
  static constexpr const char* name = "lockless_bq_fast_empty";
  using lockless_bq_base::lockless_bq_base;
};

// The baseline to beat: std::mutex + std::queue (a std::deque: used as a FIFO it
// allocates a 512-byte block every 64 pushes and frees one every 64 pops), bounded by a
// size check, with two std::condition_variable for the blocking forms. A push or pop
// notifies only when a waiter is registered (counted under the mutex), so the try forms
// pay no notify when nobody waits, like ours.
struct std_mutex_queue {
  static constexpr const char* name = "std_mutex_queue";
  explicit std_mutex_queue(std::size_t capacity) : capacity_(capacity) {}

  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) {
    bool wake = false;
    {
      std::lock_guard lock(m_);
      if (q_.size() >= capacity_) return false;
      q_.push(v);
      wake = pop_waiters_ > 0;
    }
    if (wake) not_empty_.notify_one();
    return true;
  }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) {
    bool wake = false;
    {
      std::lock_guard lock(m_);
      if (q_.empty()) return false;
      out = take();
      wake = push_waiters_ > 0;
    }
    if (wake) not_full_.notify_one();
    return true;
  }
  LOCKLESS_BENCH_ADAPTOR void push_wait(std::uint64_t v) {
    bool wake = false;
    {
      std::unique_lock lock(m_);
      if (q_.size() >= capacity_) {
        ++push_waiters_;
        not_full_.wait(lock, [&] { return q_.size() < capacity_; });
        --push_waiters_;
      }
      q_.push(v);
      wake = pop_waiters_ > 0;
    }
    if (wake) not_empty_.notify_one();
  }
  LOCKLESS_BENCH_ADAPTOR void pop_wait(std::uint64_t& out) {
    bool wake = false;
    {
      std::unique_lock lock(m_);
      if (q_.empty()) {
        ++pop_waiters_;
        not_empty_.wait(lock, [&] { return !q_.empty(); });
        --pop_waiters_;
      }
      out = take();
      wake = push_waiters_ > 0;
    }
    if (wake) not_full_.notify_one();
  }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    bool wake = false;
    {
      std::unique_lock lock(m_);
      if (q_.empty()) {
        ++pop_waiters_;
        const bool ready = not_empty_.wait_for(lock, d, [&] { return !q_.empty(); });
        --pop_waiters_;
        if (!ready) return false;
      }
      out = take();
      wake = push_waiters_ > 0;
    }
    if (wake) not_full_.notify_one();
    return true;
  }

 private:
  std::uint64_t take() {
    const std::uint64_t v = q_.front();
    q_.pop();
    return v;
  }
  const std::size_t capacity_;
  std::mutex m_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::size_t pop_waiters_ = 0;
  std::size_t push_waiters_ = 0;
  std::queue<std::uint64_t> q_;
};

#if defined(LOCKLESS_HAVE_MOODYCAMEL)
// moodycamel::ConcurrentQueue (Debian's concurrentqueue 1.0.3): UNBOUNDED. The
// constructor preallocates blocks for `capacity` items (blocks of 32), and push is
// enqueue(), which allocates another block when the preallocated ones are all in use, so
// try_push never reports full and producers can run ahead of consumers (a bounded queue's
// producers wait instead). Each thread enqueues into its own implicit sub-queue: FIFO per
// producer, not across producers. No blocking forms.
struct moodycamel_cq {
  static constexpr const char* name = "moodycamel_cq";
  explicit moodycamel_cq(std::size_t capacity) : q(capacity) {}
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) { return q.enqueue(v); }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) { return q.try_dequeue(out); }
  moodycamel::ConcurrentQueue<std::uint64_t> q;
};

// moodycamel::BlockingConcurrentQueue: the same queue plus a lightweight semaphore (spins,
// then sleeps in the kernel); also UNBOUNDED, so push_wait (enqueue) never waits, and only
// pop_wait (wait_dequeue) and the timed wait (wait_dequeue_timed) block.
struct moodycamel_bcq {
  static constexpr const char* name = "moodycamel_bcq";
  explicit moodycamel_bcq(std::size_t capacity) : q(capacity) {}
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) { return q.enqueue(v); }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) { return q.try_dequeue(out); }
  LOCKLESS_BENCH_ADAPTOR void push_wait(std::uint64_t v) { (void)q.enqueue(v); }
  LOCKLESS_BENCH_ADAPTOR void pop_wait(std::uint64_t& out) { q.wait_dequeue(out); }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    return q.wait_dequeue_timed(out, d);
  }
  moodycamel::BlockingConcurrentQueue<std::uint64_t> q;
};
#endif

#if defined(LOCKLESS_HAVE_ATOMIC_QUEUE)
// atomic_queue (Debian's git 2022-05-18): Vyukov-style rings with a runtime capacity,
// rounded up to a power of two and to at least 64 slots (AtomicQueueB of uint64_t: 8
// atomics per cache line, index shuffling needs 8 x 8), so at a small capacity it holds
// more than the others. try_push / try_pop claim a slot by CAS and then SPIN until the
// slot's previous owner finished (a preempted producer stalls the consumer of its slot).
// push_wait / pop_wait are its push() / pop(): they take a ticket and spin (with pause)
// until their slot is ready; they never sleep. No timed wait: wait_pop_for spins.
//   AtomicQueueB   atomic elements, 0 is the empty marker (values are never 0 here)
//   AtomicQueueB2  any element type, a separate state byte per slot
template <class Q>
struct atomic_queue_base {
  explicit atomic_queue_base(std::size_t capacity) : q(static_cast<unsigned>(capacity)) {}
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) { return q.try_push(v); }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  LOCKLESS_BENCH_ADAPTOR void push_wait(std::uint64_t v) { q.push(v); }
  LOCKLESS_BENCH_ADAPTOR void pop_wait(std::uint64_t& out) { out = q.pop(); }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    return spin_pop_for(*this, out, d);
  }
  Q q;
};
struct atomic_queue_b : atomic_queue_base<atomic_queue::AtomicQueueB<std::uint64_t>> {
  static constexpr const char* name = "atomic_queue_b";
  using atomic_queue_base::atomic_queue_base;
};
struct atomic_queue_b2 : atomic_queue_base<atomic_queue::AtomicQueueB2<std::uint64_t>> {
  static constexpr const char* name = "atomic_queue_b2";
  using atomic_queue_base::atomic_queue_base;
};
#endif

#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
// boost::lockfree::queue (Boost 1.74): Michael-Scott queue over a preallocated node pool
// (fixed_sized: `capacity` nodes plus its dummy node, so exactly `capacity` items fit;
// push fails when the pool is empty). Trivially copyable T only. No blocking forms; the
// timed wait spins.
struct boost_lockfree_queue {
  static constexpr const char* name = "boost_lockfree_queue";
  explicit boost_lockfree_queue(std::size_t capacity) : q(capacity) {}
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) { return q.bounded_push(v); }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) { return q.pop(out); }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    return spin_pop_for(*this, out, d);
  }
  boost::lockfree::queue<std::uint64_t, boost::lockfree::fixed_sized<true>> q;
};
#endif

#if defined(LOCKLESS_HAVE_TBB)
// oneTBB 2021.8 tbb::concurrent_bounded_queue with set_capacity(capacity): push / pop
// block (spin, then sleep on TBB's concurrent monitor). It has no timed pop: the timed
// wait is a blocking pop that a helper thread aborts (abort(): waiting pops throw
// tbb::user_abort) once the time is up; the helper repeats the abort every millisecond
// until the pop has returned, in case its first abort came before the pop started to
// wait.
struct tbb_bounded_queue {
  static constexpr const char* name = "tbb_bounded_queue";
  explicit tbb_bounded_queue(std::size_t capacity) {
    q.set_capacity(static_cast<std::ptrdiff_t>(capacity));
  }
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) { return q.try_push(v); }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  LOCKLESS_BENCH_ADAPTOR void push_wait(std::uint64_t v) { q.push(v); }
  LOCKLESS_BENCH_ADAPTOR void pop_wait(std::uint64_t& out) { q.pop(out); }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    std::atomic<bool> returned{false};
    std::thread aborter([&] {
      std::this_thread::sleep_for(d);
      while (!returned.load(std::memory_order_acquire)) {
        q.abort();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    bool got = false;
    try {
      q.pop(out);
      got = true;
    } catch (const tbb::user_abort&) {
    }
    returned.store(true, std::memory_order_release);
    aborter.join();
    return got;
  }
  tbb::concurrent_bounded_queue<std::uint64_t> q;
};
#endif

#if defined(LOCKLESS_HAVE_XENIUM)
// xenium 0.0.2 vyukov_bounded_queue (Debian's; it predates upstream's Nikolaev queues):
// Vyukov's ring, capacity a power of two >= 2 (rounded up here). Default policy: the
// strong try_push / try_pop, which spin while the slot they claimed is still being
// written or read by a half-finished operation of another thread (a preempted producer
// stalls it). No blocking forms; the timed wait spins.
inline std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 2;
  while (p < n) p *= 2;
  return p;
}
struct xenium_vyukov {
  static constexpr const char* name = "xenium_vyukov";
  explicit xenium_vyukov(std::size_t capacity) : q(round_up_pow2(capacity)) {}
  LOCKLESS_BENCH_ADAPTOR bool try_push(std::uint64_t v) { return q.try_push(v); }
  LOCKLESS_BENCH_ADAPTOR bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  bool wait_pop_for(std::uint64_t& out, std::chrono::nanoseconds d) {
    return spin_pop_for(*this, out, d);
  }
  xenium::vyukov_bounded_queue<std::uint64_t> q;
};
#endif

// Runs f.template operator()<Q>() for every queue compiled in, ours first.
template <class F>
void for_each_queue(F&& f) {
  f.template operator()<lockless_bq>();
  f.template operator()<lockless_bq_try>();
  f.template operator()<lockless_bq_fast_empty>();
  f.template operator()<std_mutex_queue>();
#if defined(LOCKLESS_HAVE_MOODYCAMEL)
  f.template operator()<moodycamel_cq>();
  f.template operator()<moodycamel_bcq>();
#endif
#if defined(LOCKLESS_HAVE_ATOMIC_QUEUE)
  f.template operator()<atomic_queue_b>();
  f.template operator()<atomic_queue_b2>();
#endif
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
  f.template operator()<boost_lockfree_queue>();
#endif
#if defined(LOCKLESS_HAVE_TBB)
  f.template operator()<tbb_bounded_queue>();
#endif
#if defined(LOCKLESS_HAVE_XENIUM)
  f.template operator()<xenium_vyukov>();
#endif
}

}  // namespace lockless_bench
