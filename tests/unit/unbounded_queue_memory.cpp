// Unit tests of lockless::unbounded_queue's memory: its allocator and segment turnover.
//   A tracking allocator (stateful: every copy and rebind reports to one registry, under a
//   mutex, so deleters run on any thread are seen) records every block it hands out by
//   address and type. The queue's segment type is found by what a segment-crossing push
//   allocates. With a private epoch_domain (epoch_reclaimer(domain)):
//   - construction allocates one segment (and the shared cache block), nothing per element,
//     one segment per segment_size pushes; std::bad_alloc for a new segment leaves the
//     queue unchanged and the argument intact;
//   - every segment is freed exactly once (no double free, none leaked once the queue and
//     the domain are gone), with and without the segment cache, one thread and several;
//   - no segment is freed, or reused from the cache, while a guard that could reach it is
//     alive (the guard on another thread, or on this one); it is freed by barrier() after
//     the guard is gone; retired segments outlive the queue, and their cache block with them;
//   - after a burst of 10 million ints drains (and the reclaimer runs: domain.barrier()
//     from the quiescent main thread, after the worker threads joined), the allocator
//     holds at most the empty queue's bytes plus the cached segments (checked against
//     the loose bound of the issue, 1 + cached_segments + 2 segments, and the exact one).
// The burst is sized by lockless_test::scaled() (tests/support/sanitizers.hpp): 10 M in a
// plain build, 5 M under ASan, 2.5 M under TSan.
#include <lockless/unbounded_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support/counting.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::epoch_domain;
using lockless::epoch_guard;
using lockless::epoch_reclaimer;
using lockless::queue_status;
using lockless::unbounded_queue;
using lockless::unbounded_queue_options;

// ---- the tracking allocator ----------------------------------------------------------

// Every block the allocator handed out and has not taken back, by address.
class alloc_registry {
 public:
  struct block {
    std::size_t bytes;
    std::type_index type;
  };

  void on_allocate(const void* p, std::size_t bytes, std::type_index type) {
    std::lock_guard lock(m_);
    if (!live_.emplace(p, block{bytes, type}).second) ++errors_;  // handed out twice
    log_.emplace_back(p, type);
    ++allocations_;
    bytes_live_ += bytes;
  }
  void on_deallocate(const void* p, std::size_t bytes, std::type_index type) noexcept {
    std::lock_guard lock(m_);
    auto it = live_.find(p);
    // A double free, a pointer never handed out, or a size or type not the allocation's.
    if (it == live_.end() || it->second.bytes != bytes || it->second.type != type) {
      ++errors_;
      return;
    }
    bytes_live_ -= bytes;
    live_.erase(it);
    ++deallocations_;
  }
  // Throws std::bad_alloc on the n-th allocation from now (0: never).
  void fail_nth(long n) {
    std::lock_guard lock(m_);
    fail_at_ = n;
  }
  bool should_fail() {
    std::lock_guard lock(m_);
    return fail_at_ > 0 && --fail_at_ == 0;
  }

  [[nodiscard]] long allocations() const {
    std::lock_guard lock(m_);
    return allocations_;
  }
  [[nodiscard]] long deallocations() const {
    std::lock_guard lock(m_);
    return deallocations_;
  }
  [[nodiscard]] long errors() const {
    std::lock_guard lock(m_);
    return errors_;
  }
  [[nodiscard]] std::size_t bytes_live() const {
    std::lock_guard lock(m_);
    return bytes_live_;
  }
  [[nodiscard]] std::size_t live_blocks() const {
    std::lock_guard lock(m_);
    return live_.size();
  }
  [[nodiscard]] bool is_live(const void* p) const {
    std::lock_guard lock(m_);
    return live_.count(p) != 0;
  }
  // Blocks of `type` allocated so far (live or not), and those live now.
  [[nodiscard]] long allocations_of(std::type_index type) const {
    std::lock_guard lock(m_);
    long n = 0;
    for (const auto& [p, t] : log_) n += t == type ? 1 : 0;
    return n;
  }
  [[nodiscard]] long live_of(std::type_index type) const {
    std::lock_guard lock(m_);
    long n = 0;
    for (const auto& [p, b] : live_) n += b.type == type ? 1 : 0;
    return n;
  }
  // Every allocation in order: (address, type).
  [[nodiscard]] std::vector<std::pair<const void*, std::type_index>> log() const {
    std::lock_guard lock(m_);
    return log_;
  }

 private:
  mutable std::mutex m_;
  std::unordered_map<const void*, block> live_;
  std::vector<std::pair<const void*, std::type_index>> log_;
  long allocations_ = 0;
  long deallocations_ = 0;
  long errors_ = 0;
  std::size_t bytes_live_ = 0;
  long fail_at_ = 0;
};

template <class T>
struct tracking_allocator {
  using value_type = T;
  alloc_registry* reg;

  explicit tracking_allocator(alloc_registry* r) noexcept : reg(r) {}
  template <class U>
  tracking_allocator(const tracking_allocator<U>& o) noexcept : reg(o.reg) {}  // NOLINT

  T* allocate(std::size_t n) {
    if (reg->should_fail()) throw std::bad_alloc();
    T* p = std::allocator<T>().allocate(n);
    reg->on_allocate(p, n * sizeof(T), typeid(T));
    return p;
  }
  void deallocate(T* p, std::size_t n) noexcept {
    reg->on_deallocate(p, n * sizeof(T), typeid(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const tracking_allocator& a, const tracking_allocator<U>& b) noexcept {
    return a.reg == b.reg;
  }
};

template <class T, unbounded_queue_options O = unbounded_queue_options{}>
using tracked_queue = unbounded_queue<T, epoch_reclaimer, tracking_allocator<T>, O>;

// The type of Q's segments: what a push past the first (full) segment allocates.
template <class Q>
std::type_index segment_type() {
  static const std::type_index t = [] {
    alloc_registry reg;
    epoch_domain domain;
    Q q{epoch_reclaimer(domain), typename Q::allocator_type(&reg)};
    for (std::size_t i = 0; i < Q::segment_size; ++i) EXPECT_TRUE(q.push(typename Q::value_type{}));
    const long before = reg.allocations();
    EXPECT_TRUE(q.push(typename Q::value_type{}));
    EXPECT_EQ(reg.allocations(), before + 1) << "a push past a full segment allocates one block";
    return reg.log().back().second;
  }();
  return t;
}

// One segment's bytes: the registry's live bytes grow by it on a segment-crossing push.
template <class Q>
std::size_t segment_bytes() {
  static const std::size_t b = [] {
    alloc_registry reg;
    epoch_domain domain;
    std::size_t bytes = 0;
    {
      Q q{epoch_reclaimer(domain), typename Q::allocator_type(&reg)};
      for (std::size_t i = 0; i < Q::segment_size; ++i)
        EXPECT_TRUE(q.push(typename Q::value_type{}));
      const std::size_t before = reg.bytes_live();
      EXPECT_TRUE(q.push(typename Q::value_type{}));
      bytes = reg.bytes_live() - before;
    }
    return bytes;
  }();
  return b;
}

// The segments (addresses) allocated so far, in order.
std::vector<const void*> segments_allocated(const alloc_registry& reg, std::type_index seg) {
  std::vector<const void*> out;
  for (const auto& [p, t] : reg.log()) {
    if (t == seg) out.push_back(p);
  }
  return out;
}

// ---- construction, per-element and per-segment allocation ------------------------------

TEST(UnboundedQueueMemory, ConstructionAllocatesOneSegmentAndTheAllocatorIsUsedForSegments) {
  using Q = tracked_queue<int, unbounded_queue_options{.segment_size = 4}>;
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<int>(&reg)};
      EXPECT_EQ(reg.allocations_of(seg), 1) << "the empty queue holds one segment";
      EXPECT_EQ(reg.allocations(), 2) << "one segment and the shared cache block";
      EXPECT_EQ(q.get_allocator(), tracking_allocator<int>(&reg));
      EXPECT_EQ(q.get_allocator().reg, &reg);
      EXPECT_EQ(&q.reclaimer().domain(), &domain);
    }
    EXPECT_EQ(reg.live_blocks(), 0u) << "nothing retired: the destructor frees everything";
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.allocations(), reg.deallocations());
  EXPECT_EQ(reg.bytes_live(), 0u);
}

TEST(UnboundedQueueMemory, NoAllocationPerElementOneSegmentPerSegmentSizePushes) {
  constexpr std::size_t S = 8;
  using Q = tracked_queue<std::uint64_t, unbounded_queue_options{.segment_size = S}>;
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<std::uint64_t>(&reg)};
      const long at_construction = reg.allocations();
      for (std::uint64_t i = 0; i < S; ++i) ASSERT_TRUE(q.push(i));
      EXPECT_EQ(reg.allocations(), at_construction)
          << "pushing within one segment allocates nothing";
      for (std::uint64_t i = S; i < 5 * S; ++i) {
        ASSERT_TRUE(q.push(i));
        ASSERT_EQ(reg.allocations(), at_construction + static_cast<long>(i / S)) << i;
      }
      EXPECT_EQ(reg.allocations_of(seg), 5);
      // Popping allocates nothing through the queue's allocator (the epoch domain's own
      // bookkeeping uses the global heap).
      for (std::uint64_t i = 0; i < 5 * S; ++i) ASSERT_EQ(q.try_pop().value(), i);
      EXPECT_EQ(reg.allocations(), at_construction + 4);
    }
    domain.barrier();
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

struct bad_alloc_tag {};
TEST(UnboundedQueueMemory, BadAllocForANewSegmentThrowsAndLeavesQueueAndArgumentUnchanged) {
  using V = lockless_test::move_only<bad_alloc_tag>;
  using Q = tracked_queue<V, unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>;
  V::counters().reset();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<V>(&reg)};
      ASSERT_TRUE(q.push(V(0)));
      ASSERT_TRUE(q.push(V(1)));
      for (int round = 0; round < 3; ++round) {
        const long allocations = reg.allocations();
        V arg(42);
        reg.fail_nth(1);
        EXPECT_THROW((void)q.try_push(std::move(arg)), std::bad_alloc);
        EXPECT_EQ(arg.value(), 42u) << "the argument is intact";
        reg.fail_nth(1);
        EXPECT_THROW((void)q.push(std::move(arg)), std::bad_alloc);
        EXPECT_EQ(arg.value(), 42u);
        reg.fail_nth(1);
        EXPECT_THROW((void)q.try_emplace(std::uint64_t{43}), std::bad_alloc);
        reg.fail_nth(1);
        EXPECT_THROW((void)q.emplace(std::uint64_t{43}), std::bad_alloc);
        reg.fail_nth(0);
        EXPECT_EQ(reg.allocations(), allocations);
        EXPECT_EQ(q.size_approx(), 2u) << "the queue is unchanged";
        EXPECT_EQ(V::counters().live(), 3) << "the two queued and the argument";
      }
      V arg(42);
      ASSERT_EQ(q.try_push(std::move(arg)), queue_status::success);
      EXPECT_EQ(q.try_pop()->value(), 0u);
      EXPECT_EQ(q.try_pop()->value(), 1u);
      EXPECT_EQ(q.try_pop()->value(), 42u);
      EXPECT_EQ(q.try_pop().error(), queue_status::empty);
    }
    domain.barrier();
  }
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

TEST(UnboundedQueueMemory, BadAllocInTheConstructorLeaksNothing) {
  using Q = tracked_queue<int, unbounded_queue_options{.segment_size = 4}>;
  for (long n = 1; n <= 2; ++n) {
    alloc_registry reg;
    epoch_domain domain;
    reg.fail_nth(n);
    EXPECT_THROW(Q(epoch_reclaimer(domain), tracking_allocator<int>(&reg)), std::bad_alloc) << n;
    EXPECT_EQ(reg.live_blocks(), 0u) << n;
    EXPECT_EQ(reg.errors(), 0) << n;
  }
}

// ---- segment turnover: every segment freed exactly once ---------------------------------

template <class Q>
void check_turnover_one_thread() {
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), typename Q::allocator_type(&reg)};
      std::uint64_t next_in = 0;
      std::uint64_t next_out = 0;
      // Waves of different lengths, with flushes in between so that retired segments
      // come back through the cache while the queue is in use.
      for (std::uint64_t wave = 1; wave <= 40; ++wave) {
        for (std::uint64_t i = 0; i < wave * 3; ++i) ASSERT_TRUE(q.push(next_in++));
        for (std::uint64_t i = 0; i < wave * 2 + 1 && next_out < next_in; ++i) {
          ASSERT_EQ(q.try_pop().value(), next_out++);
        }
        if (wave % 5 == 0) domain.flush();
      }
      EXPECT_GT(reg.allocations_of(seg), 2);
      // Leave some in the queue: the destructor frees the segments from head to tail, the
      // domain the retired ones.
    }
    EXPECT_EQ(reg.errors(), 0);
    domain.barrier();
    EXPECT_EQ(reg.live_blocks(), 0u)
        << "after the queue and a barrier: every segment and the cache block freed";
  }
  EXPECT_EQ(reg.errors(), 0) << "no segment freed twice, none freed that was not allocated";
  EXPECT_EQ(reg.live_blocks(), 0u);
  EXPECT_EQ(reg.allocations(), reg.deallocations());
  EXPECT_EQ(reg.bytes_live(), 0u);
}

TEST(UnboundedQueueMemory, EverySegmentFreedExactlyOnceOneThread) {
  check_turnover_one_thread<tracked_queue<
      std::uint64_t, unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>>();
  check_turnover_one_thread<
      tracked_queue<std::uint64_t, unbounded_queue_options{.segment_size = 2}>>();
  check_turnover_one_thread<tracked_queue<
      std::uint64_t, unbounded_queue_options{.segment_size = 4, .cached_segments = 5}>>();
}

// Two producers and two consumers on segments of 2: segments are retired by whichever
// consumer moves head_, freed by whichever thread collects its bag; still exactly once.
template <class Q>
void check_turnover_threads() {
  alloc_registry reg;
  constexpr std::uint64_t per_producer = 20000;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), typename Q::allocator_type(&reg)};
      std::atomic<std::uint64_t> popped{0};
      std::vector<std::thread> ts;
      for (int p = 0; p < 2; ++p) {
        ts.emplace_back([&] {
          for (std::uint64_t i = 0; i < per_producer; ++i) ASSERT_TRUE(q.push(i));
        });
      }
      for (int c = 0; c < 2; ++c) {
        ts.emplace_back([&] {
          while (popped.load(std::memory_order_relaxed) < 2 * per_producer) {
            if (q.try_pop()) popped.fetch_add(1, std::memory_order_relaxed);
          }
        });
      }
      for (auto& t : ts) t.join();
      EXPECT_EQ(popped.load(), 2 * per_producer);
      EXPECT_EQ(q.try_pop().error(), queue_status::empty);
      EXPECT_EQ(reg.errors(), 0);
    }
    domain.barrier();
    EXPECT_EQ(reg.live_blocks(), 0u);
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
  EXPECT_EQ(reg.allocations(), reg.deallocations());
}

TEST(UnboundedQueueMemory, EverySegmentFreedExactlyOnceWithThreads) {
  check_turnover_threads<tracked_queue<
      std::uint64_t, unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>>();
  check_turnover_threads<
      tracked_queue<std::uint64_t, unbounded_queue_options{.segment_size = 2}>>();
}

// ---- no segment freed while a guard can reach it ----------------------------------------

// A thread that takes a guard of `domain`, says so, and holds it until told to let go.
class guard_holder {
 public:
  explicit guard_holder(epoch_domain& d)
      : thread_([this, &d] {
          epoch_guard g(d);
          std::unique_lock lock(m_);
          pinned_ = true;
          cv_.notify_all();
          cv_.wait(lock, [this] { return release_; });
        }) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [this] { return pinned_; });
  }
  void release() {
    {
      std::lock_guard lock(m_);
      release_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ~guard_holder() { release(); }
  guard_holder(const guard_holder&) = delete;
  guard_holder& operator=(const guard_holder&) = delete;

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool pinned_ = false;
  bool release_ = false;
  std::thread thread_;
};

// The head passes the first segments while a guard (taken before) is alive: they stay
// allocated through any number of flushes, and are freed by barrier() once it is gone.
TEST(UnboundedQueueMemory, NoSegmentFreedWhileAGuardOnAnotherThreadCanReachIt) {
  using Q = tracked_queue<int, unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>;
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<int>(&reg)};
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.push(i));  // segments 0..4
      const std::vector<const void*> segs = segments_allocated(reg, seg);
      ASSERT_EQ(segs.size(), 5u);
      guard_holder holder(domain);
      // Pop 7: head_ passes segments 0, 1 and 2 (each retired by the pop that moves on).
      for (int i = 0; i < 7; ++i) ASSERT_EQ(q.try_pop().value(), i);
      for (int k = 0; k < 10; ++k) domain.flush();
      for (int s = 0; s < 5; ++s) EXPECT_TRUE(reg.is_live(segs[static_cast<std::size_t>(s)])) << s;
      EXPECT_EQ(reg.deallocations(), 0) << "nothing freed while the guard is held";
      holder.release();
      domain.barrier();
      for (int s = 0; s < 3; ++s) {
        EXPECT_FALSE(reg.is_live(segs[static_cast<std::size_t>(s)])) << "segment " << s << " freed";
      }
      EXPECT_TRUE(reg.is_live(segs[3])) << "head_ is on segment 3";
      EXPECT_TRUE(reg.is_live(segs[4]));
      EXPECT_EQ(reg.errors(), 0);
      EXPECT_EQ(q.try_pop().value(), 7);
    }
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

// The same with the guard on the popping thread itself (guards nest with the queue's).
TEST(UnboundedQueueMemory, NoSegmentFreedWhileAGuardOnThisThreadCanReachIt) {
  using Q = tracked_queue<int, unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>;
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<int>(&reg)};
      for (int i = 0; i < 6; ++i) ASSERT_TRUE(q.push(i));
      const std::vector<const void*> segs = segments_allocated(reg, seg);
      ASSERT_EQ(segs.size(), 3u);
      {
        epoch_guard g(domain);
        for (int i = 0; i < 5; ++i) ASSERT_EQ(q.try_pop().value(), i);  // passes 0 and 1
        for (int k = 0; k < 10; ++k) domain.flush();
        for (int s = 0; s < 3; ++s)
          EXPECT_TRUE(reg.is_live(segs[static_cast<std::size_t>(s)])) << s;
        EXPECT_EQ(reg.deallocations(), 0);
      }
      domain.barrier();
      EXPECT_FALSE(reg.is_live(segs[0]));
      EXPECT_FALSE(reg.is_live(segs[1]));
      EXPECT_TRUE(reg.is_live(segs[2]));
      EXPECT_EQ(reg.errors(), 0);
    }
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

// With a segment cache: a retired segment is not reused while a guard can reach it (new
// segments are allocated instead); once the guard is gone and the reclaimer has run, it
// is reused from the cache rather than allocated.
TEST(UnboundedQueueMemory, NoSegmentReusedFromTheCacheWhileAGuardCanReachIt) {
  using Q = tracked_queue<int, unbounded_queue_options{.segment_size = 2, .cached_segments = 2}>;
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<int>(&reg)};
      guard_holder holder(domain);
      int next_in = 0;
      int next_out = 0;
      for (int i = 0; i < 40; ++i) {
        ASSERT_TRUE(q.push(next_in++));
        ASSERT_EQ(q.try_pop().value(), next_out++);
        if (i % 4 == 0) domain.flush();
      }
      // 40 pushes on segments of 2: segments 0..19, every one newly allocated.
      EXPECT_EQ(reg.allocations_of(seg), 20) << "no retired segment reused under the guard";
      EXPECT_EQ(reg.deallocations(), 0);
      holder.release();
      domain.barrier();  // the retired segments: two into the cache, the rest freed
      EXPECT_EQ(reg.live_of(seg), 1 + 2) << "head_'s segment and the two cached";
      const long allocated = reg.allocations_of(seg);
      for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.push(next_in++));  // needs two new segments
      EXPECT_EQ(reg.allocations_of(seg), allocated) << "taken from the cache";
      while (next_out < next_in) ASSERT_EQ(q.try_pop().value(), next_out++);
    }
    domain.barrier();
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

// Retired segments outlive the queue: their deleters run later (here at barrier()), into a
// cache block that must still be there; the last of them frees it.
TEST(UnboundedQueueMemory, RetiredSegmentsAndTheCacheOutliveTheQueue) {
  using Q = tracked_queue<int, unbounded_queue_options{.segment_size = 2, .cached_segments = 1}>;
  const std::type_index seg = segment_type<Q>();
  alloc_registry reg;
  {
    epoch_domain domain;
    std::vector<const void*> segs;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<int>(&reg)};
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.push(i));
      for (int i = 0; i < 9; ++i) ASSERT_EQ(q.try_pop().value(), i);  // retires 0..3
      segs = segments_allocated(reg, seg);
      ASSERT_EQ(segs.size(), 5u);
    }
    // The queue is gone: segment 4 freed by its destructor; 0..3 still retired (this
    // thread's bag is open), and the cache block alive for their deleters.
    EXPECT_FALSE(reg.is_live(segs[4]));
    for (int s = 0; s < 4; ++s) EXPECT_TRUE(reg.is_live(segs[static_cast<std::size_t>(s)])) << s;
    EXPECT_EQ(reg.live_blocks(), 5u) << "four retired segments and the cache block";
    domain.barrier();
    EXPECT_EQ(reg.live_blocks(), 0u) << "the deleters freed the segments, the last one the cache";
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.allocations(), reg.deallocations());
}

// ---- memory after a burst drains -----------------------------------------------------

// Pushes n, pops them all (one thread), runs the reclaimer; the allocator then holds the
// empty queue's bytes plus at most the cached segments.
TEST(UnboundedQueueMemory, MemoryAfterABurstDrainsIsWithinAFewSegmentsOfEmpty) {
  using Q = tracked_queue<int>;  // default options: segments of 1024, two cached
  const std::size_t seg_bytes = segment_bytes<Q>();
  ASSERT_GT(seg_bytes, Q::segment_size * sizeof(int));
  const std::size_t n = lockless_test::scaled(10'000'000, 100'000);
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<int>(&reg)};
      const std::size_t empty_bytes = reg.bytes_live();
      for (std::size_t i = 0; i < n; ++i) {
        if (!q.push(static_cast<int>(i))) FAIL() << i;
      }
      EXPECT_GE(reg.bytes_live(), empty_bytes + (n / Q::segment_size - 1) * seg_bytes)
          << "the burst is held";
      for (std::size_t i = 0; i < n; ++i) {
        auto r = q.try_pop();
        if (!r || *r != static_cast<int>(i)) FAIL() << i;
      }
      EXPECT_EQ(q.try_pop().error(), queue_status::empty);
      domain.barrier();  // quiescent main thread: every retired segment's deleter runs
      const std::size_t held = reg.bytes_live();
      RecordProperty("burst_elements", std::to_string(n));
      RecordProperty("empty_bytes", std::to_string(empty_bytes));
      RecordProperty("held_after_drain_bytes", std::to_string(held));
      EXPECT_LE(held, empty_bytes + (Q::cached_segments + 2) * seg_bytes)
          << "the issue's bound: within a few segments of the empty queue";
      EXPECT_LE(held, empty_bytes + Q::cached_segments * seg_bytes)
          << "exactly: head_'s segment (as when empty) plus the cache";
      // And the queue still works from there.
      for (int i = 0; i < 3000; ++i) ASSERT_TRUE(q.push(i));
      for (int i = 0; i < 3000; ++i) ASSERT_EQ(q.try_pop().value(), i);
    }
    domain.barrier();
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

// The same with two producers and two consumers (retired segments in several threads'
// bags; the workers' exits seal them): after the join and a barrier from the main thread
// the bound holds.
TEST(UnboundedQueueMemory, MemoryAfterAThreadedBurstDrainsIsWithinAFewSegmentsOfEmpty) {
  using Q = tracked_queue<std::uint64_t>;
  const std::size_t seg_bytes = segment_bytes<Q>();
  const std::uint64_t per_producer = lockless_test::scaled(500'000, 20'000);
  alloc_registry reg;
  {
    epoch_domain domain;
    {
      Q q{epoch_reclaimer(domain), tracking_allocator<std::uint64_t>(&reg)};
      const std::size_t empty_bytes = reg.bytes_live();
      std::atomic<std::uint64_t> popped{0};
      std::vector<std::thread> ts;
      for (int p = 0; p < 2; ++p) {
        ts.emplace_back([&] {
          for (std::uint64_t i = 0; i < per_producer; ++i) {
            if (!q.push(i)) ADD_FAILURE() << i;
          }
        });
      }
      for (int c = 0; c < 2; ++c) {
        ts.emplace_back([&] {
          while (popped.load(std::memory_order_relaxed) < 2 * per_producer) {
            if (q.try_pop()) popped.fetch_add(1, std::memory_order_relaxed);
          }
        });
      }
      for (auto& t : ts) t.join();
      EXPECT_EQ(q.try_pop().error(), queue_status::empty);
      domain.barrier();
      const std::size_t held = reg.bytes_live();
      EXPECT_LE(held, empty_bytes + (Q::cached_segments + 2) * seg_bytes)
          << "held " << held << ", empty " << empty_bytes << ", segment " << seg_bytes;
    }
    domain.barrier();
  }
  EXPECT_EQ(reg.errors(), 0);
  EXPECT_EQ(reg.live_blocks(), 0u);
}

}  // namespace
