// The internal pieces under include/lockless/detail/ that several primitives share:
// the shim's atomic waiting (wait/notify) and mutex, and the per-thread node pool.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <lockless/detail/atomic.hpp>
#include <lockless/detail/node_pool.hpp>

#if defined(LOCKLESS_DETAIL_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace {

using lockless::detail::atomic;

// wait(old) with a value other than old must return without a notify: nobody ever
// notifies here, so a wait that blocked would hang the test (and ctest's timeout fails
// it). The waiter reports, through plain variables read after the join, that it returned
// and what it observed; no timing is involved.
TEST(AtomicWait, ReturnsAtOnceWhenTheValueDiffers) {
  atomic<int> x{1};
  bool returned = false;
  int observed = 0;
  std::thread([&] {
    x.wait(0, std::memory_order_acquire);  // 1 != 0
    observed = x.load(std::memory_order_relaxed);
    returned = true;
  }).join();
  EXPECT_TRUE(returned);
  EXPECT_EQ(observed, 1);
  EXPECT_EQ(x.load(std::memory_order_relaxed), 1);  // wait() does not write
}

TEST(AtomicWait, NotifiedWaitersSeeTheNewValue) {
  for (int round = 0; round < 50; ++round) {
    atomic<int> x{0};
    int payload = 0;
    std::vector<std::thread> waiters;
    std::atomic<int> seen{0};
    for (int i = 0; i < 3; ++i) {
      waiters.emplace_back([&] {
        x.wait(0, std::memory_order_acquire);
        if (payload == 42) seen.fetch_add(1, std::memory_order_relaxed);  // pairs with release
      });
    }
    payload = 42;
    x.store(1, std::memory_order_release);
    x.notify_all();
    for (auto& w : waiters) w.join();
    EXPECT_EQ(seen.load(), 3);
  }
}

TEST(AtomicWait, NotifyOneWakesOneAtATime) {
  atomic<unsigned> tickets{0};
  std::atomic<int> done{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&] {
      for (;;) {  // take a ticket when there is one
        unsigned t = tickets.load(std::memory_order_acquire);
        if (t != 0 && tickets.compare_exchange_strong(t, t - 1, std::memory_order_acq_rel,
                                                      std::memory_order_acquire)) {
          break;
        }
        if (t == 0) tickets.wait(0, std::memory_order_acquire);
      }
      done.fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (int i = 0; i < 4; ++i) {
    (void)tickets.fetch_add(1, std::memory_order_release);
    tickets.notify_one();
  }
  for (auto& w : waiters) w.join();
  EXPECT_EQ(done.load(), 4);
  EXPECT_EQ(tickets.load(std::memory_order_relaxed), 0U);
}

TEST(DetailMutex, IsAMutex) {
  lockless::detail::mutex m;
  long counter = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < 10000; ++k) {
        std::lock_guard g(m);
        ++counter;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, 40000);
}

// A node type of its own size, so that no other test's nodes share its pool.
struct pool_node : lockless::detail::pooled<pool_node> {
  std::uint64_t words[5] = {};
};
using pool = lockless::detail::node_pool<sizeof(pool_node), alignof(pool_node)>;

TEST(NodePool, ReusesTheMostRecentlyFreedBlockFirst) {
  std::thread([] {
    auto* a = new pool_node;
    auto* b = new pool_node;
    void* const pa = a;
    void* const pb = b;
    delete a;
    delete b;
    EXPECT_EQ(pool::cached(), 2U);
    auto* c = new pool_node;
    auto* d = new pool_node;
    EXPECT_EQ(static_cast<void*>(c), pb);
    EXPECT_EQ(static_cast<void*>(d), pa);
    EXPECT_EQ(pool::cached(), 0U);
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
    for (pool_node* n : nodes) delete n;
    EXPECT_EQ(pool::cached(), pool::capacity);  // the rest went back to the allocator
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

}  // namespace
