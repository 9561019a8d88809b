// Stress tests of lockless::bounded_queue's blocking forms and close: 8 threads (and
// more) on a 2-core machine, so waiters really sleep and wake.
//
//   ProducersThenClose     producers push unique values with push() (half of them with
//                          push_for and a short timeout, retried), consumers pop with pop()
//                          (half with pop_for) until closed; the last producer to finish
//                          closes. Afterwards: every value popped exactly once, values of
//                          one producer come out in push order at each consumer
//                          (per-producer FIFO), the closed queue answers closed / nullopt
//                          / false, and every payload was destroyed exactly once.
//   CloseWhilePushing      producers push until refused (push(), or try_push() retried
//                          while full) while consumers pop; a closer
//                          thread closes after a share of the values went through. Each
//                          producer's accepted values are a prefix of its sequence (a
//                          refusal is final), and exactly the accepted values are popped,
//                          once each, per-producer FIFO.
//   CloseWakesEveryWaiter  close() racing threads blocked (or about to block) in pop() on
//                          an empty queue and in push() on a full one, plus timed waiters:
//                          every one of them returns (closed), nothing is lost. A watchdog
//                          aborts with a message if a waiter is still blocked after 60 s
//                          (a lost wake-up would otherwise hang until the ctest timeout).
//   TryTrafficKeepsMoving  try_push / try_pop only, without yielding, until every value
//                          is through: every value popped once, per-producer FIFO, and
//                          a watchdog aborts if no value is popped for 20 s (a livelock).
// The linearizability check of recorded try_push/try_pop histories is
// bounded_queue_lincheck.cpp.
#include <lockless/bounded_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/counting.hpp"
#include "support/stress.hpp"
#include "support/values.hpp"

namespace {

using lockless::bounded_queue;
using lockless::queue_status;
using lockless::test::unique_value;
using lockless::test::value_seq;
using lockless::test::value_thread;
using lockless_test::run_threads;
using lockless_test::scaled;

using namespace std::chrono_literals;

struct stress_tag {};
using payload = lockless_test::counted<stress_tag>;

// Aborts the process with a message unless disarmed (destroyed) or kicked within `limit`
// (each kick() gives another `limit`: one watchdog can guard many rounds).
class watchdog {
 public:
  watchdog(const char* what, std::chrono::seconds limit)
      : thread_([this, what, limit] {
          std::unique_lock lock(m_);
          for (;;) {
            if (!cv_.wait_for(lock, limit, [this] { return done_ || kicked_; })) {
              std::fprintf(stderr, "watchdog: %s still blocked after %lld s (lost wake-up?)\n",
                           what, static_cast<long long>(limit.count()));
              std::abort();
            }
            if (done_) return;
            kicked_ = false;
          }
        }) {}
  void kick() {
    {
      std::lock_guard lock(m_);
      kicked_ = true;
    }
    cv_.notify_one();
  }
  ~watchdog() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  bool kicked_ = false;
  std::thread thread_;
};

// What each consumer popped, in order; the checks below run on the main thread.
struct audit {
  std::size_t producers = 0;
  std::vector<std::uint64_t> accepted;  // per producer: how many of its values were accepted
  std::vector<std::vector<std::uint64_t>> popped;  // per consumer, in pop order

  // "" or what is wrong: every accepted value popped exactly once, nothing else popped,
  // and at each consumer the values of one producer in increasing sequence.
  [[nodiscard]] std::string check() const {
    std::vector<std::vector<unsigned char>> seen(producers);
    for (std::size_t p = 0; p < producers; ++p) seen[p].assign(accepted[p], 0);
    for (std::size_t c = 0; c < popped.size(); ++c) {
      std::vector<std::uint64_t> last(producers, 0);
      std::vector<bool> any(producers, false);
      for (std::uint64_t v : popped[c]) {
        const std::uint64_t p = value_thread(v) - 1;  // producers are numbered from 1
        const std::uint64_t s = value_seq(v);
        if (p >= producers || s >= accepted[p]) {
          return "consumer " + std::to_string(c) +
                 " popped a value never accepted: " + std::to_string(p) + ":" + std::to_string(s);
        }
        if (seen[p][s]++ != 0) {
          return "value " + std::to_string(p) + ":" + std::to_string(s) + " popped twice";
        }
        if (any[p] && s <= last[p]) {
          return "consumer " + std::to_string(c) + " popped producer " + std::to_string(p) + "'s " +
                 std::to_string(s) + " after " + std::to_string(last[p]) +
                 " (per-producer FIFO broken)";
        }
        any[p] = true;
        last[p] = s;
      }
    }
    for (std::size_t p = 0; p < producers; ++p) {
      for (std::size_t s = 0; s < accepted[p]; ++s) {
        if (seen[p][s] == 0) {
          return "value " + std::to_string(p) + ":" + std::to_string(s) + " was lost";
        }
      }
    }
    return {};
  }
};

struct shape {
  std::size_t capacity, producers, consumers;
};

std::string shape_name(const shape& s) {
  return "cap" + std::to_string(s.capacity) + "_" + std::to_string(s.producers) + "p" +
         std::to_string(s.consumers) + "c";
}

class BoundedQueueStress : public ::testing::TestWithParam<shape> {};

// Producer p (0-based) pushes unique_value(p + 1, seq): even producers push(), odd ones
// push_for(1 ms) retried on timeout. Consumers: even pop(), odd pop_for(1 ms) retried.
TEST_P(BoundedQueueStress, ProducersThenClose) {
  const shape sh = GetParam();
  const std::size_t per_producer = scaled(360'000, 4'000) / sh.producers;
  payload::counters().reset();
  audit a;
  a.producers = sh.producers;
  a.accepted.assign(sh.producers, per_producer);
  a.popped.resize(sh.consumers);
  {
    bounded_queue<payload> q(sh.capacity);
    std::atomic<std::size_t> producers_left{sh.producers};
    std::vector<std::string> errors(sh.producers + sh.consumers);
    watchdog dog("ProducersThenClose", 60s);
    run_threads(sh.producers + sh.consumers, [&](std::size_t t) {
      if (t < sh.producers) {
        for (std::uint64_t s = 0; s < per_producer; ++s) {
          const std::uint64_t v = unique_value(t + 1, s);
          if (t % 2 == 0) {
            if (!q.push(payload(v))) errors[t] = "push refused before close";
          } else {
            queue_status st;
            while ((st = q.push_for(payload(v), 1ms)) == queue_status::full) {
            }
            if (st != queue_status::success) errors[t] = "push_for refused before close";
          }
        }
        if (producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) q.close();
      } else {
        const std::size_t c = t - sh.producers;
        std::vector<std::uint64_t>& out = a.popped[c];
        out.reserve(per_producer * sh.producers / sh.consumers * 2);
        for (;;) {
          if (c % 2 == 0) {
            std::optional<payload> p = q.pop();
            if (!p) break;
            out.push_back(p->value());
          } else {
            lockless::queue_result<payload> r = q.pop_for(1ms);
            if (r) {
              out.push_back(r->value());
            } else if (r.error() == queue_status::closed) {
              break;
            } else if (r.error() != queue_status::empty) {
              errors[t] = "pop_for: unexpected status";
              break;
            }
          }
        }
      }
    });
    for (std::size_t t = 0; t < errors.size(); ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
    EXPECT_TRUE(q.is_closed());
    lockless::queue_result<payload> r = q.try_pop();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), queue_status::closed);
    EXPECT_FALSE(q.pop().has_value());
    EXPECT_FALSE(q.push(payload(1)));
    EXPECT_EQ(q.try_push(payload(1)), queue_status::closed);
  }
  EXPECT_EQ(a.check(), "");
  EXPECT_EQ(payload::counters().errors.load(), 0);
  EXPECT_EQ(payload::counters().live(), 0);
  std::size_t total = 0;
  for (const auto& v : a.popped) total += v.size();
  EXPECT_EQ(total, per_producer * sh.producers);
}

// Producers push until refused; a closer closes once `close_after` values were popped.
TEST_P(BoundedQueueStress, CloseWhilePushing) {
  const shape sh = GetParam();
  const std::size_t rounds = scaled(8, 2);
  const std::size_t close_after = scaled(80'000, 2'000);
  for (std::size_t round = 0; round < rounds; ++round) {
    audit a;
    a.producers = sh.producers;
    a.accepted.assign(sh.producers, 0);
    a.popped.resize(sh.consumers);
    bounded_queue<std::uint64_t> q(sh.capacity);
    std::atomic<std::size_t> popped{0};
    std::vector<std::string> errors(sh.producers + sh.consumers + 1);
    watchdog dog("CloseWhilePushing", 60s);
    const std::size_t closer = sh.producers + sh.consumers;
    run_threads(closer + 1, [&](std::size_t t) {
      if (t == closer) {
        // Late in some rounds, early (while producers are blocked on a full queue) in
        // others.
        const std::size_t target = round % 2 == 0 ? close_after : close_after / 50;
        while (popped.load(std::memory_order_relaxed) < target) std::this_thread::yield();
        q.close();
      } else if (t < sh.producers) {
        std::uint64_t s = 0;
        for (;; ++s) {
          const std::uint64_t v = unique_value(t + 1, s);
          bool ok = false;
          if (t % 2 == 0) {
            ok = q.push(v);
          } else {  // try_push, retried while full
            queue_status st;
            while ((st = q.try_push(v)) == queue_status::full) std::this_thread::yield();
            ok = st == queue_status::success;
          }
          if (!ok) break;
        }
        a.accepted[t] = s;
        if (q.push(unique_value(t + 1, s)) ||
            q.try_push(unique_value(t + 1, s)) != queue_status::closed) {
          errors[t] = "a push succeeded after a refusal";
        }
      } else {
        const std::size_t c = t - sh.producers;
        std::vector<std::uint64_t>& out = a.popped[c];
        while (std::optional<std::uint64_t> v = q.pop()) {
          out.push_back(*v);
          popped.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
    for (std::size_t t = 0; t < errors.size(); ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
    ASSERT_EQ(a.check(), "") << "round " << round;
  }
}

TEST_P(BoundedQueueStress, CloseWakesEveryWaiter) {
  const shape sh = GetParam();
  const std::size_t rounds = scaled(600, 60);
  std::size_t blocked_pops = 0, blocked_pushes = 0;
  const std::size_t closer = sh.producers + sh.consumers;
  // The same threads every round (the queue keeps no per-thread state): a round is then
  // the waits and the close, not 2 x 9-17 thread creations.
  lockless_test::thread_team team(closer + 1);
  watchdog dog("CloseWakesEveryWaiter", 60s);
  for (std::size_t round = 0; round < rounds; ++round) {
    bounded_queue<std::uint64_t> empty_q(sh.capacity);  // poppers wait on it
    bounded_queue<std::uint64_t> full_q(sh.capacity);   // pushers wait on it
    for (std::size_t i = 0; i < sh.capacity; ++i) {
      ASSERT_EQ(full_q.try_push(unique_value(0, i)), queue_status::success);
    }
    std::vector<std::string> errors(sh.producers + sh.consumers + 1);
    std::atomic<std::size_t> arrived{0};
    dog.kick();
    team.run([&](std::size_t t) {
      if (t == closer) {
        // Close right away, after the waiters arrived, or after they had time to sleep.
        switch (round % 3) {
          case 0:
            break;
          case 1:
            while (arrived.load(std::memory_order_relaxed) < closer) std::this_thread::yield();
            break;
          default:
            while (arrived.load(std::memory_order_relaxed) < closer) std::this_thread::yield();
            std::this_thread::sleep_for(200us);
            break;
        }
        empty_q.close();
        full_q.close();
      } else if (t < sh.producers) {
        arrived.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t v = unique_value(t + 1, 0);
        if (t % 2 == 0) {
          if (full_q.push(v)) errors[t] = "push into a full queue succeeded";
        } else {
          const queue_status st = full_q.push_for(v, 30s);
          if (st != queue_status::closed) errors[t] = "push_for did not answer closed";
        }
      } else {
        arrived.fetch_add(1, std::memory_order_relaxed);
        if (t % 2 == 0) {
          if (empty_q.pop().has_value()) errors[t] = "pop from an empty queue got a value";
        } else {
          lockless::queue_result<std::uint64_t> r = empty_q.pop_for(30s);
          if (r || r.error() != queue_status::closed) errors[t] = "pop_for did not answer closed";
        }
      }
    });
    for (std::size_t t = 0; t < errors.size(); ++t) {
      ASSERT_EQ(errors[t], "") << "round " << round << ", thread " << t;
    }
    // Nothing lost: the full queue still holds exactly what was put in first, in order.
    for (std::size_t i = 0; i < sh.capacity; ++i) {
      lockless::queue_result<std::uint64_t> r = full_q.try_pop();
      ASSERT_TRUE(r.has_value()) << "round " << round;
      EXPECT_EQ(*r, unique_value(0, i));
    }
    EXPECT_EQ(full_q.try_pop().error(), queue_status::closed);
    EXPECT_EQ(empty_q.try_pop().error(), queue_status::closed);
    blocked_pops += sh.consumers;
    blocked_pushes += sh.producers;
  }
  std::printf("%s: %zu rounds, %zu waiting pops and %zu waiting pushes, all released by close\n",
              shape_name(GetParam()).c_str(), rounds, blocked_pops, blocked_pushes);
}

// Try-only traffic: producers try_push their values (retrying on full, without yielding),
// consumers try_pop until every value has come out; a watchdog aborts if no value is
// popped for 20 s. The give-ups of both sides happen here at full speed (a push whose cell
// a pop still holds, a pop whose ticket a push has claimed but not published), at the
// bench's shape (the bench is where the one livelock of the counters design was found, as
// a hang at try 2P2C; its deterministic regression is in
// tests/dsched/bounded_queue_regression.cpp, since this traffic rarely reaches it).
void try_traffic(const shape sh, std::size_t per_producer) {
  bounded_queue<std::uint64_t> q(sh.capacity);
  audit a;
  a.producers = sh.producers;
  a.accepted.assign(sh.producers, per_producer);
  a.popped.resize(sh.consumers);
  const std::size_t total = per_producer * sh.producers;
  std::atomic<std::size_t> popped{0};
  std::atomic<bool> done{false};
  std::thread monitor([&] {
    std::size_t last = 0;
    auto since = std::chrono::steady_clock::now();
    while (!done.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(50ms);
      const std::size_t now = popped.load(std::memory_order_relaxed);
      if (now != last) {
        last = now;
        since = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - since > 20s) {
        std::fprintf(stderr, "TryTrafficKeepsMoving %s: no value popped for 20 s (%zu of %zu)\n",
                     shape_name(sh).c_str(), now, total);
        std::abort();
      }
    }
  });
  run_threads(sh.producers + sh.consumers, [&](std::size_t t) {
    if (t < sh.producers) {
      for (std::size_t i = 0; i < per_producer;) {
        if (q.try_push(unique_value(t + 1, i)) == queue_status::success) ++i;
      }
      return;
    }
    std::vector<std::uint64_t>& mine = a.popped[t - sh.producers];
    while (popped.load(std::memory_order_relaxed) < total) {
      lockless::queue_result<std::uint64_t> r = q.try_pop();
      if (!r) continue;
      mine.push_back(*r);
      popped.fetch_add(1, std::memory_order_relaxed);
    }
  });
  done.store(true, std::memory_order_release);
  monitor.join();
  EXPECT_EQ(a.check(), "") << shape_name(sh);
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

TEST(BoundedQueueStressTry, TryTrafficKeepsMoving) {
  for (const shape sh : {shape{1024, 2, 2}, shape{16, 2, 2}, shape{2, 2, 2}}) {
    const auto t0 = std::chrono::steady_clock::now();
    try_traffic(sh, scaled(400000));
    std::printf("try traffic %s: %.2f s\n", shape_name(sh).c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BoundedQueueStress,
                         ::testing::Values(shape{1, 4, 4}, shape{4, 6, 2}, shape{64, 2, 6},
                                           shape{3, 8, 8}),
                         [](const ::testing::TestParamInfo<shape>& i) {
                           return shape_name(i.param);
                         });

}  // namespace
