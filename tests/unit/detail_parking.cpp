// detail/parking.hpp: event_count with real threads.
//
// No timing assertions: a lost wake-up shows as a test that never finishes (ctest's
// timeout), a wrong count as a failed expectation. The interleavings themselves are
// model-checked in tests/relacy/detail_parking.cpp and replayed under the deterministic
// scheduler in tests/selftest/dsched_queue_regression.cpp.
#include <lockless/detail/parking.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using lockless::detail::event_count;

// Until `n` threads have announced themselves, then a little longer, so that they have
// most likely left the spin phase and sleep in the kernel (the test is correct either way;
// the pause only makes the kernel path the common one).
void until_waiters(const event_count& ec, std::uint32_t n) {
  while (ec.waiter_count() < n) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST(DetailParking, NotifyWithoutWaitersReturnsAndLeavesTheKeyAlone) {
  event_count ec;
  const event_count::key before = ec.prepare_wait();
  ec.cancel_wait();
  ec.notify_one();
  ec.notify_all();
  EXPECT_EQ(ec.waiter_count(), 0U);
  // Nobody waited, so neither notify wrote: the cheap path.
  const event_count::key after = ec.prepare_wait();
  ec.cancel_wait();
  EXPECT_EQ(before, after);
}

TEST(DetailParking, WaitReturnsAtOnceAfterANotifyThatFollowedPrepareWait) {
  event_count ec;
  const event_count::key k = ec.prepare_wait();
  ec.notify_one();  // the announced waiter is this thread
  ec.wait(k);       // must not block
  EXPECT_EQ(ec.waiter_count(), 0U);

  // The same with the notify from another thread, finished before the wait.
  const event_count::key k2 = ec.prepare_wait();
  std::thread([&] { ec.notify_all(); }).join();
  ec.wait(k2);
  EXPECT_EQ(ec.waiter_count(), 0U);
  EXPECT_FALSE(k == k2);
}

TEST(DetailParking, ABlockedWaiterIsWokenByNotifyOne) {
  event_count ec;
  std::atomic<bool> ready{false};
  std::thread waiter([&] { ec.await([&] { return ready.load(std::memory_order_acquire); }); });
  until_waiters(ec, 1);
  ready.store(true, std::memory_order_release);
  ec.notify_one();
  waiter.join();
  EXPECT_EQ(ec.waiter_count(), 0U);
}

TEST(DetailParking, AwaitOfATrueConditionDoesNotAnnounce) {
  event_count ec;
  int calls = 0;
  ec.await([&] { return ++calls > 0; });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ec.waiter_count(), 0U);
}

TEST(DetailParking, NotifyAllWakesEveryWaiter) {
  constexpr unsigned waiters = 8;
  event_count ec;
  std::atomic<bool> go{false};
  std::atomic<unsigned> woken{0};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < waiters; ++i) {
    threads.emplace_back([&] {
      ec.await([&] { return go.load(std::memory_order_acquire); });
      woken.fetch_add(1, std::memory_order_relaxed);
    });
  }
  until_waiters(ec, waiters);
  go.store(true, std::memory_order_release);
  ec.notify_all();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(woken.load(std::memory_order_relaxed), waiters);
  EXPECT_EQ(ec.waiter_count(), 0U);
}

// Two threads hand a turn back and forth, each sleeping on its own event count.
TEST(DetailParking, PingPong) {
  constexpr int rounds = 5000;
  event_count ec[2];
  std::atomic<int> turn{0};
  int moves[2] = {0, 0};
  auto player = [&](int me) {
    const int other = 1 - me;
    for (int r = 0; r < rounds; ++r) {
      ec[me].await([&] { return turn.load(std::memory_order_acquire) == me; });
      ++moves[me];
      turn.store(other, std::memory_order_release);
      ec[other].notify_one();
    }
  };
  std::thread a(player, 0);
  std::thread b(player, 1);
  a.join();
  b.join();
  EXPECT_EQ(moves[0], rounds);
  EXPECT_EQ(moves[1], rounds);
  EXPECT_EQ(turn.load(std::memory_order_relaxed), 0);
  EXPECT_EQ(ec[0].waiter_count(), 0U);
  EXPECT_EQ(ec[1].waiter_count(), 0U);
}

// Producers hand out tokens one at a time with notify_one; consumers block until they can
// take one. Every token is taken exactly once and nobody is left asleep.
TEST(DetailParking, TokensWithNotifyOne) {
  constexpr int producers = 2;
  constexpr int consumers = 3;
  constexpr int per_consumer = 2000;
  constexpr int total = consumers * per_consumer;
  static_assert(total % producers == 0);
  event_count ec;
  std::atomic<int> tokens{0};
  std::atomic<int> taken{0};
  auto try_take = [&] {
    int n = tokens.load(std::memory_order_acquire);
    while (n > 0) {
      if (tokens.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      for (int i = 0; i < per_consumer; ++i) {
        ec.await(try_take);
        taken.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < total / producers; ++i) {
        tokens.fetch_add(1, std::memory_order_release);
        ec.notify_one();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(taken.load(std::memory_order_relaxed), total);
  EXPECT_EQ(tokens.load(std::memory_order_relaxed), 0);
  EXPECT_EQ(ec.waiter_count(), 0U);
}

}  // namespace
