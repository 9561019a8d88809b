// The shim's atomic waiting (detail::atomic wait/notify) and detail::mutex
// (lockless/detail/atomic.hpp).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
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

}  // namespace
