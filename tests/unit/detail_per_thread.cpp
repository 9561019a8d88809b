// detail/per_thread.hpp: the per-thread slot, the per-thread allocation, the striped
// array and the lane numbers. (Under Relacy, where the slot is an array indexed by the
// model thread, the epoch programs of tests/relacy/ exercise it; it is not tested here.)
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstddef>
#include <cstdint>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include <lockless/detail/atomic.hpp>
#include <lockless/detail/per_thread.hpp>
#include <lockless/detail/platform.hpp>

namespace {

using lockless::detail::cache_line_size;
using lockless::detail::per_thread;
using lockless::detail::striped;

struct counter_slot {
  int value = 0;
  bool exit_ran = false;
};
struct tag_a {};
struct tag_b {};
using slot_a = per_thread<counter_slot, tag_a>;
using slot_b = per_thread<counter_slot, tag_b>;

// ---- per_thread -------------------------------------------------------------------------

TEST(PerThread, LocalIsTheSameObjectOnOneThreadAndStartsValueInitialized) {
  counter_slot& s = slot_a::local();
  EXPECT_EQ(s.value, 0);
  s.value = 7;
  EXPECT_EQ(&slot_a::local(), &s);
  EXPECT_EQ(slot_a::local().value, 7);
  s.value = 0;
}

TEST(PerThread, TagsSeparateSlotsOfTheSameType) {
  EXPECT_NE(&slot_a::local(), &slot_b::local());
}

TEST(PerThread, EachThreadHasItsOwnSlot) {
  slot_b::local().value = 1;
  std::vector<int> seen(4, -1);
  std::vector<const void*> addresses(4, nullptr);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      counter_slot& s = slot_b::local();
      seen[static_cast<std::size_t>(i)] = s.value;  // fresh: 0, not the main thread's 1
      s.value = 100 + i;
      addresses[static_cast<std::size_t>(i)] = &s;
      EXPECT_EQ(slot_b::local().value, 100 + i);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int v : seen) EXPECT_EQ(v, 0);
  EXPECT_EQ(std::set<const void*>(addresses.begin(), addresses.end()).size(), 4u);
  EXPECT_EQ(slot_b::local().value, 1);
  slot_b::local().value = 0;
}

TEST(PerThread, ForEachQuiescentVisitsOnlyTheCallersSlotOutsideTheModelChecker) {
  int visits = 0;
  counter_slot* visited = nullptr;
  slot_a::for_each_quiescent([&](counter_slot& s) {
    ++visits;
    visited = &s;
  });
  EXPECT_EQ(visits, 1);
  EXPECT_EQ(visited, &slot_a::local());
}

struct exit_tag {};
using exit_slot = per_thread<counter_slot, exit_tag>;
std::atomic<int> exit_hooks_run{0};
void count_exit() noexcept {
  exit_slot::local().exit_ran = true;                      // usable during exit
  exit_hooks_run.fetch_add(1, std::memory_order_relaxed);  // test counter
}
inline thread_local constinit lockless::detail::thread_exit_hook exit_hook{&count_exit, nullptr,
                                                                           false};

TEST(PerThread, AtThreadExitRunsTheHookOncePerThread) {
  exit_hooks_run.store(0, std::memory_order_relaxed);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([] {
      exit_slot::at_thread_exit(exit_hook);
      exit_slot::at_thread_exit(exit_hook);  // armed once
    });
  }
  for (std::thread& t : threads) t.join();  // join: the exit hooks have run
  EXPECT_EQ(exit_hooks_run.load(std::memory_order_relaxed), 3);
}

TEST(PerThread, AllocatePerThreadValueInitializes) {
  struct pair_slot {
    void* a;
    std::size_t b;
  };
  pair_slot* p = lockless::detail::allocate_per_thread<pair_slot>(16);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(p[i].a, nullptr);
    EXPECT_EQ(p[i].b, 0u);
  }
  lockless::detail::deallocate_per_thread(p);
}

// ---- striped ----------------------------------------------------------------------------

using counters = striped<lockless::detail::atomic<std::uint64_t>, 8>;

static_assert(counters::stripes == 8);
static_assert(alignof(counters) == cache_line_size, "each stripe starts a cache line");
static_assert(sizeof(counters) == 8 * cache_line_size, "one line per small stripe, no more");
static_assert(sizeof(striped<char[cache_line_size + 1], 2>) == 4 * cache_line_size,
              "a stripe larger than a line is padded to whole lines");

TEST(Striped, StripesAreOnDistinctCacheLines) {
  counters c;
  for (std::size_t i = 0; i < counters::stripes; ++i) {
    const auto addr = reinterpret_cast<std::uintptr_t>(&c[i]);
    EXPECT_EQ(addr % cache_line_size, 0u) << "stripe " << i;
    if (i > 0) {
      EXPECT_EQ(addr - reinterpret_cast<std::uintptr_t>(&c[i - 1]), cache_line_size);
    }
  }
}

TEST(Striped, StripesStartValueInitialized) {
  striped<int, 4> s;
  int sum = 1;
  s.for_each([&](int& v) { sum += v; });
  EXPECT_EQ(sum, 1);
}

TEST(Striped, LocalIsStableOnOneThread) {
  counters c;
  auto* first = &c.local();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(&c.local(), first);
  EXPECT_EQ(lockless::detail::thread_stripe(), lockless::detail::thread_stripe());
}

TEST(Striped, ThreadsStartingOneAfterAnotherGetDistinctStripes) {
  // Stripe numbers are handed out round-robin at a thread's first call, so N threads that
  // make their first call one after another take N consecutive numbers: distinct stripes.
  constexpr std::size_t n = counters::stripes;
  std::vector<std::size_t> numbers;
  for (std::size_t i = 0; i < n; ++i) {
    std::thread([&] { numbers.push_back(lockless::detail::thread_stripe()); }).join();
  }
  std::set<std::size_t> stripes;
  for (std::size_t k : numbers) stripes.insert(k % n);
  EXPECT_EQ(stripes.size(), n);
}

TEST(Striped, ConcurrentThreadsSpreadAndAggregationSumsEveryIncrement) {
  counters c;
  constexpr int threads_n = 16;
  constexpr std::uint64_t per_thread_n = 10000;
  std::vector<std::thread> threads;
  std::vector<const void*> chosen(threads_n);
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = c.local();
      chosen[static_cast<std::size_t>(t)] = &mine;
      for (std::uint64_t i = 0; i < per_thread_n; ++i) {
        // Relaxed: a counter; join() orders the increments before the sum.
        mine.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::uint64_t sum = 0;
  c.for_each([&](const lockless::detail::atomic<std::uint64_t>& v) {
    sum += v.load(std::memory_order_relaxed);  // after join: no ordering needed
  });
  EXPECT_EQ(sum, threads_n * per_thread_n);
  // 16 threads, each with a new round-robin number, over 8 stripes: every stripe used.
  EXPECT_EQ(std::set<const void*>(chosen.begin(), chosen.end()).size(), counters::stripes);
}

TEST(Striped, ConstForEachVisitsEveryStripeInOrder) {
  striped<int, 5> s;
  for (std::size_t i = 0; i < 5; ++i) s[i] = static_cast<int>(i) + 1;
  const striped<int, 5>& cs = s;
  std::vector<int> seen;
  cs.for_each([&](const int& v) { seen.push_back(v); });
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5}));
}

// ---- lane numbers -----------------------------------------------------------------------

using lockless::detail::max_thread_lanes;
using lockless::detail::thread_lane;

// Lanes of `n` threads alive at once (each asks twice: the number is stable).
std::vector<std::size_t> lanes_of_live_threads(std::size_t n) {
  std::vector<std::size_t> lanes(n);
  std::barrier all(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      lanes[i] = thread_lane();
      all.arrive_and_wait();  // every thread holds its number now
      EXPECT_EQ(thread_lane(), lanes[i]);
      all.arrive_and_wait();  // nobody exits before everyone has asked again
    });
  }
  for (std::thread& t : threads) t.join();
  return lanes;
}

TEST(ThreadLane, LiveThreadsHoldDistinctNumbers) {
  const std::vector<std::size_t> lanes = lanes_of_live_threads(16);
  std::set<std::size_t> distinct;
  for (std::size_t l : lanes) {
    ASSERT_LT(l, max_thread_lanes);
    distinct.insert(l);
  }
  EXPECT_EQ(distinct.size(), lanes.size());
}

TEST(ThreadLane, AnExitedThreadsNumberGoesToTheNextThread) {
  // Taken lowest-free-first and handed back at exit: a thread started after another one
  // exited, with nothing else changing meanwhile, gets the same number.
  std::size_t first = max_thread_lanes;
  std::thread([&] { first = thread_lane(); }).join();
  ASSERT_LT(first, max_thread_lanes);
  for (int i = 0; i < 100; ++i) {
    std::size_t next = max_thread_lanes;
    std::thread([&] { next = thread_lane(); }).join();
    EXPECT_EQ(next, first) << "round " << i;
  }
}

TEST(ThreadLane, NoneWhenAllAreHeldThenFreeAgain) {
  // 70 threads alive at once: at most 64 numbers (some may be held outside this test, by
  // the main thread); the others get none (max_thread_lanes), and all are distinct.
  const std::vector<std::size_t> lanes = lanes_of_live_threads(70);
  std::set<std::size_t> held;
  std::size_t none = 0;
  for (std::size_t l : lanes) {
    if (l == max_thread_lanes) {
      ++none;
    } else {
      ASSERT_LT(l, max_thread_lanes);
      EXPECT_TRUE(held.insert(l).second) << "lane " << l << " given twice";
    }
  }
  EXPECT_GE(none, 6u);
  EXPECT_EQ(held.size() + none, lanes.size());
  // Every one of them handed back at exit: a new thread gets a number again.
  std::size_t after = max_thread_lanes;
  std::thread([&] { after = thread_lane(); }).join();
  EXPECT_LT(after, max_thread_lanes);
}

}  // namespace
