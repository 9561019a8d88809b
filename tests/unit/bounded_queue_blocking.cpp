// Unit tests of lockless::bounded_queue with threads: blocking push/pop hand-off, timed
// forms (push_for / push_until / pop_for / pop_until: a timeout reports full / empty, a
// wait satisfied by another thread returns early), and close() waking every waiter on
// both sides.
//
// Timing: timeouts are 20-50 ms and only bounded loosely: at least the timeout (the
// deadline really passed), at most 5 s (nobody slept forever). The pauses that let a
// waiter block are 20 ms; every assertion holds whether or not the waiter had actually
// gone to sleep by then (a waiter still spinning sees the same outcome). A lost wake-up
// shows as a test that hangs until ctest's timeout.
#include <lockless/bounded_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/values.hpp"

namespace {

using lockless::bounded_queue;
using lockless::queue_result;
using lockless::queue_status;
using lockless::test::unique_value;
using lockless::test::value_seq;
using lockless::test::value_thread;

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds timeout{30};
constexpr std::chrono::seconds generous{5};  // the loose upper bound of every wait
constexpr milliseconds let_it_block{20};

// Lets threads that are about to wait reach their wait (the assertions do not depend on it).
void pause_for_waiters() {
  std::this_thread::sleep_for(let_it_block);
}

// ---- blocking hand-off -------------------------------------------------------------------

TEST(BoundedQueueBlocking, PopWaitsForAPush) {
  bounded_queue<int> q(1);
  std::optional<int> got;
  std::thread consumer([&] { got = q.pop(); });
  pause_for_waiters();
  EXPECT_TRUE(q.push(42));
  consumer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 42);
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

TEST(BoundedQueueBlocking, PushWaitsForAPop) {
  for (std::size_t cap : {1u, 2u, 3u}) {
    bounded_queue<int> q(cap);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(q.push(static_cast<int>(i)));
    std::atomic<bool> pushed{false};
    std::thread producer([&] {
      EXPECT_TRUE(q.push(100));  // full: waits
      pushed.store(true);
    });
    pause_for_waiters();
    std::optional<int> first = q.pop();
    producer.join();
    EXPECT_TRUE(pushed.load());
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, 0);
    for (std::size_t i = 1; i < cap; ++i) EXPECT_EQ(q.pop(), static_cast<int>(i));
    EXPECT_EQ(q.pop(), 100) << "cap " << cap;
  }
}

TEST(BoundedQueueBlocking, EmplaceWaitsForAPop) {
  bounded_queue<std::string> q(1);
  ASSERT_TRUE(q.emplace(3, 'a'));
  std::thread producer([&] { EXPECT_TRUE(q.emplace(3, 'b')); });
  pause_for_waiters();
  EXPECT_EQ(q.pop(), "aaa");
  producer.join();
  EXPECT_EQ(q.pop(), "bbb");
}

// One producer, one consumer, capacity 1 and 2: every value crosses in order through a
// queue that is full or empty most of the time, so both sides block over and over.
TEST(BoundedQueueBlocking, PingPongHandOffKeepsFifoOrder) {
  for (std::size_t cap : {1u, 2u}) {
    bounded_queue<std::uint64_t> q(cap);
    constexpr std::uint64_t n = 2000;
    std::thread producer([&] {
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_TRUE(q.push(i));
    });
    for (std::uint64_t i = 0; i < n; ++i) {
      std::optional<std::uint64_t> v = q.pop();
      ASSERT_TRUE(v);
      ASSERT_EQ(*v, i) << "cap " << cap;
    }
    producer.join();
    EXPECT_EQ(q.try_pop().error(), queue_status::empty);
  }
}

// Two producers, two consumers, capacity 2, ended by close(): every value arrives exactly
// once, and each producer's values arrive in its push order at each consumer.
TEST(BoundedQueueBlocking, ManyProducersManyConsumersEveryValueOnce) {
  constexpr unsigned producers = 2;
  constexpr unsigned consumers = 2;
  constexpr std::uint64_t per_producer = 1500;
  bounded_queue<std::uint64_t> q(2);
  std::vector<std::vector<std::uint64_t>> received(consumers);
  {
    std::vector<std::jthread> cs;
    for (unsigned c = 0; c < consumers; ++c) {
      cs.emplace_back([&q, &out = received[c]] {
        while (std::optional<std::uint64_t> v = q.pop()) out.push_back(*v);
      });
    }
    {
      std::vector<std::jthread> ps;
      for (unsigned p = 0; p < producers; ++p) {
        ps.emplace_back([&q, p] {
          for (std::uint64_t i = 0; i < per_producer; ++i) {
            if (i % 2 == 0) {
              EXPECT_TRUE(q.push(unique_value(p, i)));
            } else {
              EXPECT_TRUE(q.emplace(unique_value(p, i)));
            }
          }
        });
      }
    }  // producers joined
    q.close();
  }  // consumers joined: they saw closed-and-drained
  std::vector<unsigned> seen(producers * per_producer, 0);
  for (const auto& out : received) {
    std::vector<std::uint64_t> last(producers, 0);
    std::vector<bool> any(producers, false);
    for (std::uint64_t v : out) {
      const auto p = static_cast<unsigned>(value_thread(v));
      ASSERT_LT(p, producers);
      const std::uint64_t s = value_seq(v);
      ASSERT_LT(s, per_producer);
      ++seen[p * per_producer + s];
      if (any[p]) {
        EXPECT_GT(s, last[p]) << "per-producer order at one consumer";
      }
      any[p] = true;
      last[p] = s;
    }
  }
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1u) << "value " << i;
}

// The non-waiting forms from several threads (queue_options{.may_block = false}, spinning
// on full and empty): every value arrives exactly once, and size_approx() stays within
// [0, capacity] throughout.
TEST(BoundedQueueBlocking, TryFormsFromSeveralThreadsEveryValueOnce) {
  constexpr std::uint64_t per_producer = 1500;
  constexpr std::size_t cap = 3;
  bounded_queue<std::uint64_t, std::allocator<std::uint64_t>,
                lockless::queue_options{.may_block = false}>
      q(cap);
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> size_ok{true};
  std::vector<std::vector<std::uint64_t>> received(2);
  {
    std::vector<std::jthread> ts;
    for (unsigned p = 0; p < 2; ++p) {
      ts.emplace_back([&q, p] {
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          for (;;) {
            const queue_status st = q.try_push(unique_value(p, i));
            if (st == queue_status::success) break;
            ASSERT_EQ(st, queue_status::full);
            std::this_thread::yield();
          }
        }
      });
    }
    for (unsigned c = 0; c < 2; ++c) {
      ts.emplace_back([&, c] {
        while (consumed.load() < 2 * per_producer) {
          queue_result<std::uint64_t> r = q.try_pop();
          if (r) {
            received[c].push_back(*r);
            consumed.fetch_add(1);
          } else {
            ASSERT_EQ(r.error(), queue_status::empty);
            std::this_thread::yield();
          }
          if (q.size_approx() > cap) size_ok.store(false);
        }
      });
    }
  }
  EXPECT_TRUE(size_ok.load()) << "size_approx() above capacity()";
  std::vector<unsigned> seen(2 * per_producer, 0);
  for (const auto& out : received) {
    for (std::uint64_t v : out) {
      ASSERT_LT(value_thread(v), 2u);
      ASSERT_LT(value_seq(v), per_producer);
      ++seen[value_thread(v) * per_producer + value_seq(v)];
    }
  }
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1u) << "value " << i;
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

// ---- timeouts ----------------------------------------------------------------------------

TEST(BoundedQueueBlocking, PushForOnAFullQueueTimesOutAsFull) {
  bounded_queue<std::string> q(1);
  ASSERT_EQ(q.try_push("in"), queue_status::success);
  std::string arg = "refused, and long enough to live on the heap, not in SSO";
  const auto start = clock_type::now();
  EXPECT_EQ(q.push_for(std::move(arg), timeout), queue_status::full);
  const auto elapsed = clock_type::now() - start;
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, generous);
  EXPECT_EQ(arg, "refused, and long enough to live on the heap, not in SSO")
      << "a timed-out push leaves its argument intact";
  const std::string& carg = arg;
  EXPECT_EQ(q.push_for(carg, milliseconds(1)), queue_status::full);
  EXPECT_EQ(q.try_pop().value(), "in");
}

TEST(BoundedQueueBlocking, PushUntilOnAFullQueueTimesOutAsFull) {
  bounded_queue<int> q(2);
  ASSERT_EQ(q.try_push(1), queue_status::success);
  ASSERT_EQ(q.try_push(2), queue_status::success);
  const auto start = clock_type::now();
  EXPECT_EQ(q.push_until(3, start + timeout), queue_status::full);
  EXPECT_GE(clock_type::now() - start, timeout);
  const auto sys_start = std::chrono::system_clock::now();
  const int three = 3;
  EXPECT_EQ(q.push_until(three, sys_start + timeout), queue_status::full)
      << "a system_clock deadline";
  EXPECT_GE(std::chrono::system_clock::now() - sys_start, timeout);
  EXPECT_LT(clock_type::now() - start, generous);
  EXPECT_EQ(q.try_pop().value(), 1);
  EXPECT_EQ(q.try_pop().value(), 2);
}

TEST(BoundedQueueBlocking, PopForOnAnEmptyQueueTimesOutAsEmpty) {
  bounded_queue<int> q(3);
  const auto start = clock_type::now();
  queue_result<int> r = q.pop_for(timeout);
  const auto elapsed = clock_type::now() - start;
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), queue_status::empty);
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, generous);
}

TEST(BoundedQueueBlocking, PopUntilWithASystemClockDeadline) {
  bounded_queue<int> q(3);
  const auto start = std::chrono::system_clock::now();
  queue_result<int> r = q.pop_until(start + timeout);
  EXPECT_EQ(r.error(), queue_status::empty);
  EXPECT_GE(std::chrono::system_clock::now() - start, timeout);
  const auto steady_start = clock_type::now();
  EXPECT_EQ(q.pop_until(steady_start + timeout).error(), queue_status::empty);
  EXPECT_GE(clock_type::now() - steady_start, timeout);
  EXPECT_LT(std::chrono::system_clock::now() - start, generous);
}

TEST(BoundedQueueBlocking, PastDeadlinesStillTryOnce) {
  bounded_queue<int> q(1);
  const auto past = clock_type::now() - std::chrono::seconds(1);
  EXPECT_EQ(q.push_until(1, past), queue_status::success) << "room: a past deadline still pushes";
  EXPECT_EQ(q.push_until(2, past), queue_status::full);
  EXPECT_EQ(q.push_for(2, milliseconds(0)), queue_status::full);
  EXPECT_EQ(q.push_for(2, milliseconds(-5)), queue_status::full);
  queue_result<int> r = q.pop_until(past);
  ASSERT_TRUE(r) << "an element: a past deadline still pops";
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(q.pop_until(past).error(), queue_status::empty);
  EXPECT_EQ(q.pop_for(milliseconds(0)).error(), queue_status::empty);
  EXPECT_EQ(q.pop_for(std::chrono::nanoseconds(1)).error(), queue_status::empty);
}

// Deadlines of a few microseconds end inside the spin of detail::await_attempt, where a try
// runs only when the hint (push_may_succeed / pop_may_succeed) says the next cell is ready:
// a deadline that passes while the hint says no must still end in an exact answer.
TEST(BoundedQueueBlocking, DeadlinesInsideTheSpinStillAnswerExactly) {
  bounded_queue<std::string> q(1);
  ASSERT_EQ(q.try_push("in"), queue_status::success);
  for (const auto d :
       {std::chrono::microseconds(1), std::chrono::microseconds(3), std::chrono::microseconds(10),
        std::chrono::microseconds(30), std::chrono::microseconds(100)}) {
    std::string arg = "refused, and long enough to live on the heap, not in SSO";
    EXPECT_EQ(q.push_for(std::move(arg), d), queue_status::full) << d.count() << " us";
    EXPECT_EQ(arg, "refused, and long enough to live on the heap, not in SSO")
        << "a timed-out push leaves its argument intact (" << d.count() << " us)";
  }
  EXPECT_EQ(q.try_pop().value(), "in");
  for (const auto d :
       {std::chrono::microseconds(1), std::chrono::microseconds(3), std::chrono::microseconds(10),
        std::chrono::microseconds(30), std::chrono::microseconds(100)}) {
    EXPECT_EQ(q.pop_for(d).error(), queue_status::empty) << d.count() << " us";
  }
  q.close();
  for (const auto d : {std::chrono::microseconds(3), std::chrono::microseconds(30)}) {
    EXPECT_EQ(q.pop_for(d).error(), queue_status::closed) << d.count() << " us";
    EXPECT_EQ(q.push_for(std::string("late"), d), queue_status::closed) << d.count() << " us";
  }
}

TEST(BoundedQueueBlocking, PopForIsSatisfiedByAPushBeforeItsDeadline) {
  bounded_queue<int> q(1);
  const auto start = clock_type::now();
  std::thread producer([&] {
    pause_for_waiters();
    EXPECT_EQ(q.try_push(7), queue_status::success);
  });
  queue_result<int> r = q.pop_for(std::chrono::seconds(30));
  const auto elapsed = clock_type::now() - start;
  producer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  EXPECT_LT(elapsed, generous) << "woken by the push, not by the deadline";
}

TEST(BoundedQueueBlocking, PushForIsSatisfiedByAPopBeforeItsDeadline) {
  bounded_queue<int> q(1);
  ASSERT_EQ(q.try_push(1), queue_status::success);
  const auto start = clock_type::now();
  std::thread consumer([&] {
    pause_for_waiters();
    EXPECT_EQ(q.try_pop().value(), 1);
  });
  EXPECT_EQ(q.push_for(2, std::chrono::seconds(30)), queue_status::success);
  const auto elapsed = clock_type::now() - start;
  consumer.join();
  EXPECT_LT(elapsed, generous) << "woken by the pop, not by the deadline";
  EXPECT_EQ(q.try_pop().value(), 2);
}

// The largest duration of each unit (a caller's "for ever") is longer than the steady
// clock can count from now: the timed forms then wait like the untimed ones. (They used to
// compute now + d, which overflowed: undefined behaviour, and with nanoseconds::max() a
// deadline in the past, so pop_for answered empty at once.) A NaN duration is no wait.
TEST(BoundedQueueBlocking, TheLargestDurationsWaitLikeTheUntimedForms) {
  bounded_queue<int> q(1);
  const auto pop_later = [&](int expected) {
    return std::thread([&q, expected] {
      pause_for_waiters();
      EXPECT_EQ(q.try_pop().value(), expected);
    });
  };
  const auto push_later = [&](int v) {
    return std::thread([&q, v] {
      pause_for_waiters();
      EXPECT_EQ(q.try_push(v), queue_status::success);
    });
  };
  std::thread t = push_later(1);
  queue_result<int> r = q.pop_for(std::chrono::nanoseconds::max());
  t.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);
  t = push_later(2);
  queue_result<int> r2 = q.pop_for(std::chrono::hours::max());
  t.join();
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, 2);
  t = push_later(3);
  queue_result<int> r3 = q.pop_for(std::chrono::duration<double>::max());
  t.join();
  ASSERT_TRUE(r3);
  EXPECT_EQ(*r3, 3);

  ASSERT_EQ(q.try_push(4), queue_status::success);  // full from here on
  t = pop_later(4);
  EXPECT_EQ(q.push_for(5, std::chrono::nanoseconds::max()), queue_status::success);
  t.join();
  t = pop_later(5);
  int six = 6;
  EXPECT_EQ(q.push_for(std::move(six), std::chrono::hours::max()), queue_status::success);
  t.join();

  const auto start = clock_type::now();
  EXPECT_EQ(q.push_for(7, std::chrono::duration<double>(std::nan(""))), queue_status::full);
  EXPECT_EQ(q.try_pop().value(), 6);
  EXPECT_EQ(q.pop_for(std::chrono::duration<double>(std::nan(""))).error(), queue_status::empty);
  EXPECT_LT(clock_type::now() - start, generous);
}

// A time point of a coarser duration than its clock's and beyond the clock's range
// (time_point<steady_clock, hours>::max(), a caller's "for ever") waits like the untimed
// form, and its min() has passed: one try. (The _until forms compared it with
// Clock::now() in nanoseconds: the conversion overflowed, undefined behaviour, and in
// practice a deadline in the past.)
TEST(BoundedQueueBlocking, CoarseTimePointsBeyondTheClockSaturate) {
  using hours_point = std::chrono::time_point<clock_type, std::chrono::hours>;
  bounded_queue<int> q(1);
  std::thread producer([&] {
    pause_for_waiters();
    EXPECT_EQ(q.try_push(1), queue_status::success);
  });
  queue_result<int> r = q.pop_until(hours_point::max());
  producer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);

  ASSERT_EQ(q.try_push(2), queue_status::success);  // full from here on
  std::thread consumer([&] {
    pause_for_waiters();
    EXPECT_EQ(q.try_pop().value(), 2);
  });
  EXPECT_EQ(q.push_until(3, hours_point::max()), queue_status::success);
  consumer.join();

  const auto start = clock_type::now();
  EXPECT_EQ(q.push_until(4, hours_point::min()), queue_status::full);
  EXPECT_EQ(q.try_pop().value(), 3);
  EXPECT_EQ(q.pop_until(hours_point::min()).error(), queue_status::empty);
  EXPECT_LT(clock_type::now() - start, generous);
}

TEST(BoundedQueueBlocking, PopUntilIsSatisfiedByAPushBeforeItsDeadline) {
  bounded_queue<std::unique_ptr<int>> q(2);
  std::thread producer([&] {
    pause_for_waiters();
    EXPECT_TRUE(q.push(std::make_unique<int>(5)));
  });
  auto r = q.pop_until(std::chrono::system_clock::now() + std::chrono::seconds(30));
  producer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 5);
}

// ---- close wakes every waiter --------------------------------------------------------------

// Threads blocked in push on a full queue: close() wakes them all, each returns false
// (or closed) with its argument intact; the elements already in stay poppable.
TEST(BoundedQueueBlocking, CloseWakesEveryBlockedPusher) {
  const std::string long_arg = "an argument long enough to live on the heap, not in SSO";
  for (std::size_t cap : {1u, 2u}) {
    bounded_queue<std::string> q(cap);
    for (std::size_t i = 0; i < cap; ++i) {
      ASSERT_EQ(q.try_push(std::to_string(i)), queue_status::success);
    }
    constexpr int blocked = 5;
    std::atomic<int> refused{0};
    std::atomic<int> intact{0};
    std::vector<std::thread> pushers;
    for (int t = 0; t < blocked; ++t) {
      pushers.emplace_back([&, t] {
        std::string mine = long_arg;
        bool was_refused = false;
        switch (t) {
          case 0:
            was_refused = !q.push(std::move(mine));
            break;
          case 1:
            was_refused = !q.push(std::as_const(mine));
            break;
          case 2:
            was_refused = !q.emplace(std::move(mine));
            break;
          case 3:
            was_refused =
                q.push_for(std::move(mine), std::chrono::seconds(30)) == queue_status::closed;
            break;
          default:
            was_refused =
                q.push_until(std::move(mine), clock_type::now() + std::chrono::seconds(30)) ==
                queue_status::closed;
            break;
        }
        if (was_refused) refused.fetch_add(1);
        if (mine == long_arg) intact.fetch_add(1);
      });
    }
    pause_for_waiters();
    const auto start = clock_type::now();
    q.close();
    for (auto& th : pushers) th.join();
    EXPECT_LT(clock_type::now() - start, generous) << "woken by close, not by the deadlines";
    EXPECT_EQ(refused.load(), blocked) << "cap " << cap;
    EXPECT_EQ(intact.load(), blocked) << "cap " << cap << ": refused arguments are not moved from";
    for (std::size_t i = 0; i < cap; ++i) {
      std::optional<std::string> v = q.pop();
      ASSERT_TRUE(v);
      EXPECT_EQ(*v, std::to_string(i));
    }
    EXPECT_EQ(q.pop(), std::nullopt);
  }
}

// Threads blocked in pop on an empty queue: close() wakes them all, and each returns
// nullopt (or closed).
TEST(BoundedQueueBlocking, CloseWakesEveryBlockedPopper) {
  for (std::size_t cap : {1u, 2u, 3u}) {
    bounded_queue<int> q(cap);
    constexpr int blocked = 4;
    std::atomic<int> woke_closed{0};
    std::vector<std::thread> poppers;
    for (int t = 0; t < blocked; ++t) {
      poppers.emplace_back([&, t] {
        switch (t % 3) {
          case 0:
            if (!q.pop().has_value()) woke_closed.fetch_add(1);
            break;
          case 1:
            if (q.pop_for(std::chrono::seconds(30)).error() == queue_status::closed) {
              woke_closed.fetch_add(1);
            }
            break;
          default:
            if (q.pop_until(std::chrono::system_clock::now() + std::chrono::seconds(30)).error() ==
                queue_status::closed) {
              woke_closed.fetch_add(1);
            }
            break;
        }
      });
    }
    pause_for_waiters();
    const auto start = clock_type::now();
    q.close();
    for (auto& th : poppers) th.join();
    EXPECT_LT(clock_type::now() - start, generous) << "woken by close, not by the deadlines";
    EXPECT_EQ(woke_closed.load(), blocked) << "cap " << cap;
  }
}

// Both sides in one test, one after the other on two queues, with close() racing the
// waiters' arrival instead of following it (no pause): whoever is waiting or about to
// wait must return.
TEST(BoundedQueueBlocking, CloseRacingArrivingWaitersOnBothSides) {
  for (int round = 0; round < 20; ++round) {
    bounded_queue<int> full(1);
    bounded_queue<int> empty(1);
    ASSERT_EQ(full.try_push(0), queue_status::success);
    std::atomic<int> returned{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t) {
      ts.emplace_back([&] {
        EXPECT_FALSE(full.push(1));
        returned.fetch_add(1);
      });
      ts.emplace_back([&] {
        EXPECT_EQ(empty.pop(), std::nullopt);
        returned.fetch_add(1);
      });
    }
    full.close();
    empty.close();
    for (auto& th : ts) th.join();
    EXPECT_EQ(returned.load(), 4);
    EXPECT_EQ(full.try_pop().value(), 0);
    EXPECT_EQ(full.try_pop().error(), queue_status::closed);
  }
}

// A consumer blocked on an empty queue while a producer pushes and then closes: it gets
// every element first, then nullopt.
TEST(BoundedQueueBlocking, BlockedConsumerDrainsBeforeSeeingClose) {
  bounded_queue<int> q(2);
  std::vector<int> got;
  std::thread consumer([&] {
    while (std::optional<int> v = q.pop()) got.push_back(*v);
  });
  pause_for_waiters();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.push(i));
  q.close();
  consumer.join();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

}  // namespace
