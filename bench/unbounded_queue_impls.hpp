// bench/unbounded_queue_impls.hpp: the queues compared by bench_unbounded_queue and
// callgrind_unbounded_queue, behind one tiny interface:
//
//   static constexpr const char* name;    the <impl> part of the benchmark name
//   explicit Q(std::size_t most);         a fresh, empty queue; `most` is the most items
//                                         it will hold at once (only the bounded
//                                         reference uses it: its capacity)
//   bool try_push(std::uint64_t v);       false only if full (the bounded reference);
//                                         the unbounded queues always accept
//   bool try_pop(std::uint64_t& out);     false if empty
// For the memory rows a queue may also have a twin, `typename Q::counted`, with the same
// name and interface, that allocates through counting_allocator (below) where the queue
// takes an allocator (then `static constexpr bool counts_allocations = true`), and may
// have `void settle()`: what a user does to get the memory of a drained queue back (ours:
// the private epoch domain's barrier(); see lockless_uq::counted).
//
// Values are never 0 and below 2^63 (xenium's ramalhete_queue stores them as pointers,
// with null meaning empty and the top bit as its mark).
// Peers are compiled in when bench/CMakeLists.txt found them (LOCKLESS_HAVE_<PEER>).
// Nothing here depends on Google Benchmark, so the callgrind driver can use it too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <new>

#include <lockless/bounded_queue.hpp>
#include <lockless/epoch.hpp>
#include <lockless/unbounded_queue.hpp>

#if defined(LOCKLESS_HAVE_MOODYCAMEL)
#include <concurrentqueue/concurrentqueue.h>
#endif

#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/queue.hpp>
#endif

#if defined(LOCKLESS_HAVE_TBB)
#include <tbb/cache_aligned_allocator.h>
#include <tbb/concurrent_queue.h>
#endif

#if defined(LOCKLESS_HAVE_XENIUM)
#include <xenium/michael_scott_queue.hpp>
#include <xenium/policy.hpp>
#include <xenium/ramalhete_queue.hpp>
#include <xenium/reclamation/generic_epoch_based.hpp>
#endif

namespace lockless_bench {

// ---- counting allocation ----------------------------------------------------------------
// Bytes live (allocated and not yet freed) through counting_allocator and the counting
// moodycamel traits, over the whole process. The memory rows run one at a time on one
// thread and read differences, so one global pair of counters suffices; relaxed, since
// only that thread reads them after the queue's own threads (if any) are gone.
struct alloc_counter {
  static inline std::atomic<std::int64_t> live{0};
  static inline std::atomic<std::int64_t> peak{0};
  static void add(std::size_t bytes) noexcept {
    const std::int64_t now =
        live.fetch_add(static_cast<std::int64_t>(bytes), std::memory_order_relaxed) +
        static_cast<std::int64_t>(bytes);
    std::int64_t p = peak.load(std::memory_order_relaxed);
    while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
    }
  }
  static void sub(std::size_t bytes) noexcept {
    live.fetch_sub(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
  }
  // Restarts the peak from the current live count (at the start of a memory row).
  static void reset_peak() noexcept {
    peak.store(live.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
};

// An allocator that counts the bytes it hands out and takes back, over Base<T> (the
// allocator the queue would use by default: std::allocator, or TBB's
// cache_aligned_allocator for tbb::concurrent_queue). Stateless: all instances are equal.
template <class T, template <class> class Base = std::allocator>
struct counting_allocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = counting_allocator<U, Base>;
  };
  counting_allocator() noexcept = default;
  template <class U>
  counting_allocator(const counting_allocator<U, Base>&) noexcept {}  // NOLINT: rebinding
  T* allocate(std::size_t n) {
    T* p = Base<T>().allocate(n);
    alloc_counter::add(n * sizeof(T));
    return p;
  }
  void deallocate(T* p, std::size_t n) noexcept {
    alloc_counter::sub(n * sizeof(T));
    Base<T>().deallocate(p, n);
  }
  friend bool operator==(const counting_allocator&, const counting_allocator&) noexcept {
    return true;
  }
};

// ---- ours -------------------------------------------------------------------------------
template <class Q>
struct lockless_ops {
  static bool try_push(Q& q, std::uint64_t v) {
    return q.try_push(v) == lockless::queue_status::success;
  }
  static bool try_pop(Q& q, std::uint64_t& out) {
    auto r = q.try_pop();
    if (!r) return false;
    out = *r;
    return true;
  }
};

// lockless::unbounded_queue with the default epoch domain and std::allocator, the options
// given: try_push / try_pop. lockless_uq has the default options (may_block = true: the
// try forms pay the check for sleeping waiters), lockless_uq_try may_block = false.
template <lockless::unbounded_queue_options Options>
struct lockless_uq_base {
  using queue = lockless::unbounded_queue<std::uint64_t, lockless::epoch_reclaimer,
                                          std::allocator<std::uint64_t>, Options>;
  explicit lockless_uq_base(std::size_t) {}
  bool try_push(std::uint64_t v) { return lockless_ops<queue>::try_push(q, v); }
  bool try_pop(std::uint64_t& out) { return lockless_ops<queue>::try_pop(q, out); }
  queue q;
};

// The memory twin of ours: a private epoch_domain (declared first, so it outlives the
// queue) and counting_allocator. The domain frees a retired segment only after the bag
// holding it was sealed (full, flushed, or its thread exited) and two epochs passed; a
// thread that just drained a burst still holds up to a bag of retired segments, and the
// last few sealed bags wait for the epoch to move. settle() = domain.barrier() from this
// quiescent thread: seals its bag, waits out the epochs and runs the deleters, which
// put up to cached_segments segments into the queue's cache and free the rest.
template <lockless::unbounded_queue_options Options>
struct lockless_uq_counted {
  using queue = lockless::unbounded_queue<std::uint64_t, lockless::epoch_reclaimer,
                                          counting_allocator<std::uint64_t>, Options>;
  static constexpr bool counts_allocations = true;
  explicit lockless_uq_counted(std::size_t) : q(lockless::epoch_reclaimer(domain)) {}
  bool try_push(std::uint64_t v) { return lockless_ops<queue>::try_push(q, v); }
  bool try_pop(std::uint64_t& out) { return lockless_ops<queue>::try_pop(q, out); }
  void settle() { domain.barrier(); }
  lockless::epoch_domain domain;
  queue q;
};

struct lockless_uq : lockless_uq_base<lockless::unbounded_queue_options{}> {
  static constexpr const char* name = "lockless_uq";
  using lockless_uq_base::lockless_uq_base;
  struct counted : lockless_uq_counted<lockless::unbounded_queue_options{}> {
    static constexpr const char* name = "lockless_uq";
    using lockless_uq_counted::lockless_uq_counted;
  };
};

struct lockless_uq_try : lockless_uq_base<lockless::unbounded_queue_options{.may_block = false}> {
  static constexpr const char* name = "lockless_uq_try";
  using lockless_uq_base::lockless_uq_base;
  // No memory twin: the options do not change what the queue holds.
};

// The reference beside it: lockless::bounded_queue (default options) with a capacity of
// `most` items (throughput rows: 65536, so producers rarely find it full; memory rows:
// the whole burst). Its name does not start with lockless_ on purpose: bench_table.py's
// "vs lockless" column then compares with the unbounded queue, not with this one.
template <class Alloc>
struct bounded_ref_base {
  using queue = lockless::bounded_queue<std::uint64_t, Alloc>;
  static constexpr const char* name = "ref_lockless_bq";
  explicit bounded_ref_base(std::size_t most) : q(most) {}
  bool try_push(std::uint64_t v) { return lockless_ops<queue>::try_push(q, v); }
  bool try_pop(std::uint64_t& out) { return lockless_ops<queue>::try_pop(q, out); }
  queue q;
};
struct ref_lockless_bq : bounded_ref_base<std::allocator<std::uint64_t>> {
  using bounded_ref_base::bounded_ref_base;
  struct counted : bounded_ref_base<counting_allocator<std::uint64_t>> {
    static constexpr bool counts_allocations = true;
    using bounded_ref_base::bounded_ref_base;
  };
};

// ---- the baseline -----------------------------------------------------------------------
// std::mutex + std::deque, unbounded (a FIFO deque allocates a 512-byte block every 64
// pushes and frees one every 64 pops).
template <class Alloc>
struct std_mutex_queue_base {
  static constexpr const char* name = "std_mutex_queue";
  explicit std_mutex_queue_base(std::size_t) {}
  bool try_push(std::uint64_t v) {
    std::lock_guard lock(m_);
    q_.push_back(v);
    return true;
  }
  bool try_pop(std::uint64_t& out) {
    std::lock_guard lock(m_);
    if (q_.empty()) return false;
    out = q_.front();
    q_.pop_front();
    return true;
  }

 private:
  std::mutex m_;
  std::deque<std::uint64_t, Alloc> q_;
};
struct std_mutex_queue : std_mutex_queue_base<std::allocator<std::uint64_t>> {
  using std_mutex_queue_base::std_mutex_queue_base;
  struct counted : std_mutex_queue_base<counting_allocator<std::uint64_t>> {
    static constexpr bool counts_allocations = true;
    using std_mutex_queue_base::std_mutex_queue_base;
  };
};

// ---- peers ------------------------------------------------------------------------------
#if defined(LOCKLESS_HAVE_MOODYCAMEL)
// moodycamel::ConcurrentQueue (Debian's concurrentqueue 1.0.3), default construction
// (preallocates a few blocks of 32). enqueue() / try_dequeue(): each producer thread has
// its own implicit sub-queue, FIFO per producer, not across producers; a consumer picks
// a sub-queue. Blocks are recycled through the queue's free list and given back to the
// allocator only when the queue is destroyed.
// Counting: Traits::malloc / free (moodycamel takes no allocator), with a 16-byte header
// holding the size (keeps max_align_t alignment, as moodycamel expects of malloc).
struct counting_moodycamel_traits : moodycamel::ConcurrentQueueDefaultTraits {
  static constexpr std::size_t header = alignof(std::max_align_t);
  static void* malloc(std::size_t size) {
    auto* raw = static_cast<unsigned char*>(std::malloc(size + header));
    if (raw == nullptr) return nullptr;
    *reinterpret_cast<std::size_t*>(raw) = size;
    alloc_counter::add(size);
    return raw + header;
  }
  static void free(void* p) {
    if (p == nullptr) return;
    unsigned char* raw = static_cast<unsigned char*>(p) - header;
    alloc_counter::sub(*reinterpret_cast<std::size_t*>(raw));
    std::free(raw);
  }
};
template <class Traits>
struct moodycamel_base {
  static constexpr const char* name = "moodycamel_cq";
  explicit moodycamel_base(std::size_t) {}
  bool try_push(std::uint64_t v) { return q.enqueue(v); }
  bool try_pop(std::uint64_t& out) { return q.try_dequeue(out); }
  moodycamel::ConcurrentQueue<std::uint64_t, Traits> q;
};
struct moodycamel_cq : moodycamel_base<moodycamel::ConcurrentQueueDefaultTraits> {
  using moodycamel_base::moodycamel_base;
  struct counted : moodycamel_base<counting_moodycamel_traits> {
    static constexpr bool counts_allocations = true;
    using moodycamel_base::moodycamel_base;
  };
};
#endif

#if defined(LOCKLESS_HAVE_TBB)
// oneTBB 2021.8 tbb::concurrent_queue (unbounded, no blocking forms): push / try_pop.
// Default allocator tbb::cache_aligned_allocator (through tbbmalloc when it loads, else
// malloc); the counting twin counts over that same allocator.
template <class Alloc>
struct tbb_queue_base {
  static constexpr const char* name = "tbb_queue";
  explicit tbb_queue_base(std::size_t) {}
  bool try_push(std::uint64_t v) {
    q.push(v);
    return true;
  }
  bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  tbb::concurrent_queue<std::uint64_t, Alloc> q;
};
template <class T>
using tbb_cache_aligned = tbb::cache_aligned_allocator<T>;
struct tbb_queue : tbb_queue_base<tbb::cache_aligned_allocator<std::uint64_t>> {
  using tbb_queue_base::tbb_queue_base;
  struct counted : tbb_queue_base<counting_allocator<std::uint64_t, tbb_cache_aligned>> {
    static constexpr bool counts_allocations = true;
    using tbb_queue_base::tbb_queue_base;
  };
};
#endif

#if defined(LOCKLESS_HAVE_XENIUM)
// xenium 0.0.2 with its generic_epoch_based<> reclaimer (default traits: a scan of all
// threads every 100 critical-region entries, eager region extension). xenium allocates
// with plain new / delete (no allocator parameter): no counting twin, RSS only.
//   xenium_ms_queue    michael_scott_queue: one node allocated per push, retired per pop.
//   xenium_ramalhete   ramalhete_queue (FAAArrayQueue): arrays of 512 entries; a pop that
//                      finds its entry unwritten spins up to 1000 times for the push
//                      before it marks the entry taken. It stores values that fit in a
//                      pointer (the top bit is its mark), so the uint64_t values travel
//                      as std::uint64_t* bit patterns, never dereferenced.
using xenium_reclaimer = xenium::reclamation::generic_epoch_based<>;
struct xenium_ms_queue {
  static constexpr const char* name = "xenium_ms_queue";
  using counted = xenium_ms_queue;
  explicit xenium_ms_queue(std::size_t) {}
  bool try_push(std::uint64_t v) {
    q.push(v);
    return true;
  }
  bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  xenium::michael_scott_queue<std::uint64_t, xenium::policy::reclaimer<xenium_reclaimer>> q;
};
struct xenium_ramalhete {
  static constexpr const char* name = "xenium_ramalhete";
  using counted = xenium_ramalhete;
  explicit xenium_ramalhete(std::size_t) {}
  bool try_push(std::uint64_t v) {
    q.push(reinterpret_cast<std::uint64_t*>(static_cast<std::uintptr_t>(v)));
    return true;
  }
  bool try_pop(std::uint64_t& out) {
    std::uint64_t* p = nullptr;
    if (!q.try_pop(p)) return false;
    out = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
    return true;
  }
  xenium::ramalhete_queue<std::uint64_t*, xenium::policy::reclaimer<xenium_reclaimer>> q;
};
#endif

#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
// boost::lockfree::queue (Boost 1.74), run-time sized (not fixed_sized): a Michael-Scott
// queue over a node pool of 1024 preallocated nodes; push() takes a node from the pool's
// free list or allocates one (not lock-free then), pop() returns nodes to the free list.
// Nodes go back to the allocator only when the queue is destroyed. Trivially copyable T
// only.
template <class Alloc>
struct boost_queue_base {
  static constexpr const char* name = "boost_lockfree_queue";
  static constexpr std::size_t initial_nodes = 1024;
  explicit boost_queue_base(std::size_t) : q(initial_nodes) {}
  bool try_push(std::uint64_t v) { return q.push(v); }
  bool try_pop(std::uint64_t& out) { return q.pop(out); }
  boost::lockfree::queue<std::uint64_t, boost::lockfree::allocator<Alloc>> q;
};
struct boost_lockfree_queue : boost_queue_base<std::allocator<void>> {
  using boost_queue_base::boost_queue_base;
  struct counted : boost_queue_base<counting_allocator<void>> {
    static constexpr bool counts_allocations = true;
    using boost_queue_base::boost_queue_base;
  };
};
#endif

// Runs f.template operator()<Q>() for every queue compiled in, ours first.
template <class F>
void for_each_queue(F&& f) {
  f.template operator()<lockless_uq>();
  f.template operator()<lockless_uq_try>();
  f.template operator()<ref_lockless_bq>();
  f.template operator()<std_mutex_queue>();
#if defined(LOCKLESS_HAVE_MOODYCAMEL)
  f.template operator()<moodycamel_cq>();
#endif
#if defined(LOCKLESS_HAVE_TBB)
  f.template operator()<tbb_queue>();
#endif
#if defined(LOCKLESS_HAVE_XENIUM)
  f.template operator()<xenium_ms_queue>();
  f.template operator()<xenium_ramalhete>();
#endif
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
  f.template operator()<boost_lockfree_queue>();
#endif
}

}  // namespace lockless_bench
