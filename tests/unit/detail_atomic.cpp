// The shim's atomic waiting (detail::atomic wait/notify), detail::mutex and
// detail::full_fence_after_rmw() (lockless/detail/atomic.hpp).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <lockless/detail/atomic.hpp>

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

// The store-buffering litmus on real threads: thread A writes x with a read-modify-write
// and then reads y, thread B writes y and then reads x; each round uses fresh variables.
// With a full barrier between each thread's write and read, at least one of them sees the
// other's write, never both 0. full_fence_after_rmw() claims that after an RMW it gives
// that barrier (on x86-64 through the locked instruction alone). The two threads meet
// before every round so that their accesses overlap in time; the control (a plain store
// and no fence on A's side) shows whether this machine exhibits the reordering at all,
// and is only reported.
template <bool Fenced>
std::size_t store_buffering_both_zero(std::size_t rounds) {
  struct round_vars {
    atomic<int> x{0};
    atomic<int> y{0};
    int ra = -1;  // what A read of y
    int rb = -1;  // what B read of x
  };
  const auto v = std::make_unique<round_vars[]>(rounds);
  std::atomic<std::size_t> a_at{0};
  std::atomic<std::size_t> b_at{0};
  std::thread a([&] {
    for (std::size_t i = 0; i < rounds; ++i) {
      a_at.store(i + 1, std::memory_order_release);
      while (b_at.load(std::memory_order_acquire) < i + 1) {
      }
      if constexpr (Fenced) {
        (void)v[i].x.exchange(1, std::memory_order_relaxed);
        lockless::detail::full_fence_after_rmw();
      } else {
        v[i].x.store(1, std::memory_order_relaxed);
      }
      v[i].ra = v[i].y.load(std::memory_order_relaxed);
    }
  });
  std::thread b([&] {
    for (std::size_t i = 0; i < rounds; ++i) {
      b_at.store(i + 1, std::memory_order_release);
      while (a_at.load(std::memory_order_acquire) < i + 1) {
      }
      v[i].y.store(1, std::memory_order_relaxed);
      lockless::detail::full_fence();
      v[i].rb = v[i].x.load(std::memory_order_relaxed);
    }
  });
  a.join();
  b.join();
  std::size_t both_zero = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    if (v[i].ra == 0 && v[i].rb == 0) ++both_zero;
  }
  return both_zero;
}

TEST(FullFenceAfterRmw, StoreBufferingNeverReadsBothZero) {
  constexpr std::size_t rounds = 200000;
  const std::size_t control = store_buffering_both_zero<false>(rounds);
  std::cout << "store buffering without A's fence: both zero in " << control << " of " << rounds
            << " rounds (only reported: it shows that this machine reorders)\n";
  EXPECT_EQ(store_buffering_both_zero<true>(rounds), 0U);
}

}  // namespace
