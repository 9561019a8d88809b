// The node pool (lockless/detail/node_pool.hpp): blocks are reused most recently freed
// first, a thread keeps at most `capacity` of them, a full cache hands a batch to the
// depot and an empty one takes a batch from it (so blocks freed by one thread are reused
// by another without the allocator), the depot holds at most depot_batches batches (the
// rest goes to the allocator), thread exit hands the cache back, neither cached nor
// depot blocks are reported as leaks, and a write to a depot block is reported.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <lockless/detail/node_pool.hpp>

#include "support/alloc_failure.hpp"

#if defined(LOCKLESS_DETAIL_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace {

// A node type of its own size, so that no other test's nodes share its pool.
struct pool_node : lockless::detail::pooled<pool_node> {
  std::uint64_t words[5] = {};
};
using pool = lockless::detail::node_pool<sizeof(pool_node), alignof(pool_node)>;

// Node types for the depot tests, one size (hence one depot) per test: the depot is
// process-wide and outlives a test.
template <std::size_t Words>
struct sized_node : lockless::detail::pooled<sized_node<Words>> {
  std::uint64_t words[Words] = {};
};
template <class Node>
using pool_of = lockless::detail::node_pool<sizeof(Node), alignof(Node)>;

// Allocator calls (global operator new, support/alloc_failure.hpp) of `counted_size`
// bytes made by threads that opted in with counting_thread = true.
std::atomic<long> sized_allocations{0};
std::atomic<std::size_t> counted_size{0};
constinit thread_local bool counting_thread = false;
void count_sized(std::size_t size, std::size_t) noexcept {
  if (counting_thread && size == counted_size.load(std::memory_order_relaxed)) {
    sized_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
// RAII: counts allocations of sizeof(Node) from now on; reads them with calls().
template <class Node>
class count_allocator_calls {
 public:
  count_allocator_calls() {
    counted_size.store(sizeof(Node), std::memory_order_relaxed);
    sized_allocations.store(0, std::memory_order_relaxed);
    lockless_test::set_allocation_observer(&count_sized);
  }
  ~count_allocator_calls() { lockless_test::set_allocation_observer(nullptr); }
  count_allocator_calls(const count_allocator_calls&) = delete;
  count_allocator_calls& operator=(const count_allocator_calls&) = delete;
  [[nodiscard]] long calls() const noexcept {
    return sized_allocations.load(std::memory_order_relaxed);
  }
};

template <class Node>
std::vector<Node*> make_nodes(std::size_t n) {
  std::vector<Node*> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(new Node);
  return v;
}

TEST(NodePool, ReusesTheMostRecentlyFreedBlockFirst) {
  std::thread([] {
    auto* a = new pool_node;
    auto* b = new pool_node;
    void* const pa = a;
    void* const pb = b;
    // Not necessarily 0: a batch from the depot if another test left one there.
    const std::size_t before = pool::cached();
    delete a;
    delete b;
    EXPECT_EQ(pool::cached(), before + 2);
    auto* c = new pool_node;
    auto* d = new pool_node;
    EXPECT_EQ(static_cast<void*>(c), pb);
    EXPECT_EQ(static_cast<void*>(d), pa);
    EXPECT_EQ(pool::cached(), before);
    delete c;
    delete d;
  }).join();
}

TEST(NodePool, KeepsAtMostCapacityBlocksPerThread) {
  std::thread([] {
    std::vector<pool_node*> nodes;
    for (std::size_t i = 0; i < pool::capacity + 50; ++i) nodes.push_back(new pool_node);
    std::set<void*> distinct(nodes.begin(), nodes.end());
    EXPECT_EQ(distinct.size(), nodes.size());
    ASSERT_EQ(pool::cached(), 0U);  // every block taken from the cache is in `nodes`
    std::size_t most = 0;
    for (pool_node* n : nodes) {
      delete n;
      most = std::max(most, pool::cached());
    }
    EXPECT_EQ(most, pool::capacity);
    // The free that found the cache full handed its older half (one batch) over.
    EXPECT_EQ(pool::cached(), pool::capacity - pool::batch + 50);
  }).join();
}

// LeakSanitizer ignores pointers stored in poisoned memory. Cached blocks are poisoned
// under ASan, so the cache must not link them through themselves, or every cached block
// but one would be reported as leaked (found by the schedule fuzz targets).
TEST(NodePool, CachedBlocksAreNotReportedAsLeaks) {
#if defined(LOCKLESS_DETAIL_ASAN)
  std::vector<pool_node*> nodes;
  for (int i = 0; i < 20; ++i) nodes.push_back(new pool_node);
  for (pool_node* n : nodes) delete n;
  nodes.clear();
  nodes.shrink_to_fit();  // no pointer to the blocks but the cache's own
  ASSERT_GE(pool::cached(), 20U);
  EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0);
#else
  GTEST_SKIP() << "needs AddressSanitizer (runs in the asan preset)";
#endif
}

// A batch freed by one thread is reused by another without the allocator: thread A's
// cache overflows (one batch to the depot) and A's exit hands its cache's full batch to
// the depot too (the odd block to the allocator); thread B then takes both batches.
TEST(NodePoolDepot, ABatchFreedByOneThreadIsReusedByAnotherWithoutTheAllocator) {
  using node = sized_node<7>;
  using p = pool_of<node>;
  ASSERT_EQ(p::depot_size(), 0U);
  const count_allocator_calls<node> counter;
  std::set<void*> freed_by_a;
  std::thread([&] {
    std::vector<node*> nodes = make_nodes<node>(p::capacity + 1);
    freed_by_a.insert(nodes.begin(), nodes.end());
    for (node* n : nodes) delete n;
    EXPECT_EQ(p::depot_size(), 1U);  // the 129th free handed the older half over
    EXPECT_EQ(p::cached(), p::capacity - p::batch + 1);
  }).join();
  EXPECT_EQ(p::depot_size(), 2U);  // A's exit: one more full batch, the odd block freed
  std::thread([&] {
    counting_thread = true;
    std::vector<node*> nodes = make_nodes<node>(2 * p::batch);
    EXPECT_EQ(counter.calls(), 0);  // both batches came from the depot
    for (node* n : nodes) EXPECT_EQ(freed_by_a.count(n), 1U) << "not one of A's blocks";
    EXPECT_EQ(p::depot_size(), 0U);
    nodes.push_back(new node);  // cache and depot empty: the allocator
    EXPECT_EQ(counter.calls(), 1);
    for (node* n : nodes) delete n;
    counting_thread = false;
  }).join();
  EXPECT_EQ(p::depot_size(), 2U);  // B's exit: 129 cached blocks, two full batches
}

// The depot holds at most depot_batches batches: a thread that frees more than its
// cache and the depot can hold gives the rest to the allocator, and a second thread finds
// exactly depot_batches * batch blocks there before it needs the allocator again.
TEST(NodePoolDepot, HoldsAtMostDepotBatchesAndTheRestGoesToTheAllocator) {
  using node = sized_node<9>;
  using p = pool_of<node>;
  ASSERT_EQ(p::depot_size(), 0U);
  const count_allocator_calls<node> counter;
  std::latch a_freed(1);
  std::latch b_done(1);
  std::thread a([&] {
    // capacity stay cached; every further batch spills, one more than the depot holds.
    for (node* n : make_nodes<node>(p::capacity + (p::depot_batches + 1) * p::batch)) delete n;
    EXPECT_EQ(p::cached(), p::capacity);
    EXPECT_EQ(p::depot_size(), p::depot_batches);
    a_freed.count_down();
    b_done.wait();  // A's exit would refill the depot: B looks first
  });
  std::thread b([&] {
    a_freed.wait();
    counting_thread = true;
    std::vector<node*> nodes = make_nodes<node>(p::depot_batches * p::batch);
    EXPECT_EQ(counter.calls(), 0);
    EXPECT_EQ(p::depot_size(), 0U);
    nodes.push_back(new node);  // the spilled extra batch is not in the depot
    EXPECT_EQ(counter.calls(), 1);
    counting_thread = false;
    for (node* n : nodes) delete n;
    b_done.count_down();
  });
  a.join();
  b.join();
  EXPECT_LE(p::depot_size(), p::depot_batches);
}

// Thread exit hands the cache back: its full batches to the depot, the remainder to the
// allocator; another thread then reuses those batches.
TEST(NodePoolDepot, ThreadExitHandsTheCacheBack) {
  using node = sized_node<11>;
  using p = pool_of<node>;
  ASSERT_EQ(p::depot_size(), 0U);
  std::set<void*> freed;
  std::thread([&] {
    std::vector<node*> nodes = make_nodes<node>(p::batch + 30);  // fits the cache
    freed.insert(nodes.begin(), nodes.end());
    for (node* n : nodes) delete n;
    EXPECT_EQ(p::cached(), p::batch + 30);
    EXPECT_EQ(p::depot_size(), 0U);
  }).join();
  EXPECT_EQ(p::depot_size(), 1U);  // one full batch; the other 30 blocks were freed
  const count_allocator_calls<node> counter;
  std::thread([&] {
    counting_thread = true;
    std::vector<node*> nodes = make_nodes<node>(p::batch);
    counting_thread = false;
    EXPECT_EQ(counter.calls(), 0);
    for (node* n : nodes) EXPECT_EQ(freed.count(n), 1U);
    for (node* n : nodes) delete n;
  }).join();
}

// One-way flow, as when one thread pushes and another pops, retires and frees: the
// consumer's full cache feeds the depot, the producer's empty cache takes from it, so the
// producer almost never calls the allocator (without the depot it would for every node).
// Also the concurrent put/take test for TSan.
TEST(NodePoolDepot, AOneWayFlowBetweenThreadsStaysOffTheAllocator) {
  using node = sized_node<13>;
  using p = pool_of<node>;
  constexpr std::size_t nodes = 20000;
  constexpr std::size_t max_in_flight = 256;
  const count_allocator_calls<node> counter;
  std::mutex m;
  std::condition_variable cv;
  std::deque<node*> queue;
  bool done = false;
  std::thread consumer([&] {
    for (;;) {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return !queue.empty() || done; });
      if (queue.empty()) return;
      node* n = queue.front();
      queue.pop_front();
      lock.unlock();
      cv.notify_all();
      if (n->words[0] != 42) ADD_FAILURE() << "payload lost";
      delete n;
    }
  });
  std::thread producer([&] {
    counting_thread = true;
    for (std::size_t i = 0; i < nodes; ++i) {
      node* n = new node;
      n->words[0] = 42;
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return queue.size() < max_in_flight; });
      queue.push_back(n);
      lock.unlock();
      cv.notify_all();
    }
    counting_thread = false;
    {
      std::lock_guard lock(m);
      done = true;
    }
    cv.notify_all();
  });
  producer.join();
  consumer.join();
  // Blocks in circulation: in flight, two caches, the depot; a few more when the
  // depot is momentarily empty or full. Without the depot: one call per node.
  EXPECT_LT(counter.calls(), static_cast<long>(nodes / 10));
  EXPECT_LE(p::depot_size(), p::depot_batches);
}

// The depot's batches are arrays of block pointers in static storage, and the blocks are
// poisoned whole: LeakSanitizer must find them from there.
TEST(NodePoolDepot, DepotBlocksAreNotReportedAsLeaks) {
#if defined(LOCKLESS_DETAIL_ASAN)
  using node = sized_node<15>;
  using p = pool_of<node>;
  std::thread([] {
    for (node* n : make_nodes<node>(p::capacity + 3 * p::batch)) delete n;
  }).join();
  ASSERT_EQ(p::depot_size(), 5U);  // 3 spilled, 2 at exit
  EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0);
#else
  GTEST_SKIP() << "needs AddressSanitizer (runs in the asan preset)";
#endif
}

// Nothing is stored in a block while it is in the depot (a batch is an array of pointers,
// not a list through the blocks), so the whole block stays poisoned: a write through a
// stale pointer into a depot block is reported, even to its first word (which held the
// batch's link, unpoisoned, when batches were lists).
TEST(NodePoolDepotDeathTest, AWriteToADepotBlockIsReported) {
#if defined(LOCKLESS_DETAIL_ASAN)
  using node = sized_node<17>;
  using p = pool_of<node>;
  node* stale = nullptr;
  std::thread([&] {
    std::vector<node*> nodes = make_nodes<node>(p::capacity + p::batch);
    stale = nodes.front();  // the oldest block: in the first batch spilled to the depot
    for (node* n : nodes) delete n;
  }).join();
  ASSERT_EQ(p::depot_size(), 3U);  // 1 spilled, 2 at exit
  EXPECT_DEATH(stale->words[0] = 1, "use-after-poison");
#else
  GTEST_SKIP() << "needs AddressSanitizer (runs in the asan preset)";
#endif
}

}  // namespace
