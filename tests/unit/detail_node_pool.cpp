// The per-thread node pool (lockless/detail/node_pool.hpp): blocks are reused most
// recently freed first, a thread keeps at most `capacity` of them, and cached blocks are
// not reported as leaks.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <lockless/detail/node_pool.hpp>

#if defined(LOCKLESS_DETAIL_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace {

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
