// Regression tests for two bug classes of published concurrent queues, under the
// deterministic scheduler. Each shows a small queue with the bug pattern being caught
// (with a schedule that replays) and the same detector accepting correct variants. The
// library's queues, when they land, run the same scenarios through the same helpers
// (support/dsched_history.hpp: scripted_run, scripted_run_blocking).
//
//   Empty while non-empty. A ring in which producers claim a slot (fetch_add on the tail)
//   and fill it afterwards, and whose try_pop gives up when the slot at the head is
//   claimed but not yet filled (Vyukov-style bounded rings do this), answers "empty"
//   although a later producer's push had completed before the try_pop began. The
//   checker's aspect A7 (an empty result needs a moment in its interval at which the
//   queue may be empty) rejects the history. The same ring waiting for the slot instead,
//   and a mutex queue, pass.
//
//   Lost wake-up on a blocking pop. pop() checks for an item, then reads the wake-up word
//   (a hand-written eventcount) and waits on it: a push and its notify that fall between
//   the check and the read leave the consumer waiting for a notify that already happened.
//   Under the scheduler that is a deadlock report (every unfinished thread parked). The
//   library's event count (detail/parking.hpp), whose key is taken before the check, is
//   the fix, and passes the same scenarios.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <lockless/detail/atomic.hpp>
#include <lockless/detail/parking.hpp>
#include <lockless/detail/platform.hpp>

#include "support/dsched_history.hpp"

namespace {

namespace ds = lockless::dsched;
namespace lc = lockless::test::lincheck;
using lockless::detail::atomic;
using lockless::detail::var;
using lockless::test::op_kind;

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;
constexpr auto acq_rel = std::memory_order_acq_rel;

const lockless::test::scripted_kinds queue_ops{op_kind::enqueue, op_kind::dequeue};
const lc::spec fifo = lc::spec::queue().drained();

// ---- empty while non-empty -------------------------------------------------------------

// Unbounded for the test's purposes: capacity exceeds every scenario's inserts, so slots
// are never reused and only the claim/fill gap matters.
template <bool GiveUpOnPendingSlot>
class claim_then_fill_ring {
 public:
  static constexpr std::size_t capacity = 32;

  void push(std::uint64_t v) {
    const std::size_t t = tail_.fetch_add(1, acq_rel);  // claim
    slot& s = slots_[t];
    s.value.get_mut() = v;         // fill
    s.ready.store(true, release);  // publish
  }
  std::optional<std::uint64_t> try_pop() {
    for (;;) {
      std::size_t h = head_.load(acquire);
      if (h == tail_.load(acquire)) return std::nullopt;  // nothing claimed: really empty
      slot& s = slots_[h];
      if (!s.ready.load(acquire)) {
        if (GiveUpOnPendingSlot) return std::nullopt;  // the bug: later slots may be full
        lockless::detail::yield_point();               // wait for the producer
        continue;
      }
      if (head_.compare_exchange_strong(h, h + 1, acq_rel, acquire)) return s.value.get();
    }
  }

 private:
  struct slot {
    var<std::uint64_t> value{std::in_place, 0};
    atomic<bool> ready{false};
  };
  atomic<std::size_t> head_{0};
  atomic<std::size_t> tail_{0};
  slot slots_[capacity];
};

// How a locked_queue's blocking pop waits.
enum class blocking {
  event_count,     // detail::event_count: the key is taken before the check (correct)
  late_word_read,  // a hand-written eventcount word read after the check: the bug
};

// The obviously correct reference: a deque under the shim's mutex (the scheduler's
// own in this build, so holding it across a preemption is fine), plus an eventcount for
// the blocking pop. blocking::late_word_read is the lost wake-up bug.
template <blocking Wait>
class locked_queue {
 public:
  void push(std::uint64_t v) {
    {
      std::lock_guard g(m_);
      (void)items_.fetch_add(1, relaxed);  // a yield point inside the critical section
      q_.push_back(v);
    }
    if constexpr (Wait == blocking::event_count) {
      ec_.notify_all();
    } else {
      (void)word_.fetch_add(1, release);  // then wake: the word changes before the notify
      word_.notify_all();
    }
  }
  std::optional<std::uint64_t> try_pop() {
    std::lock_guard g(m_);
    if (q_.empty()) return std::nullopt;
    (void)items_.fetch_sub(1, relaxed);
    const std::uint64_t v = q_.front();
    q_.pop_front();
    return v;
  }
  std::uint64_t pop() {
    if constexpr (Wait == blocking::event_count) {
      std::optional<std::uint64_t> v;
      ec_.await([&] { return (v = try_pop()).has_value(); });
      return *v;
    } else {
      for (;;) {
        if (std::optional<std::uint64_t> v = try_pop()) return *v;
        const unsigned seen = word_.load(acquire);  // the bug: too late
        word_.wait(seen, acquire);
      }
    }
  }

 private:
  lockless::detail::mutex m_;
  std::deque<std::uint64_t> q_;
  atomic<int> items_{0};
  lockless::detail::event_count ec_;  // blocking::event_count
  atomic<unsigned> word_{0};          // blocking::late_word_read
};

template <class Queue>
std::string queue_run(ds::strategy& strat, const std::vector<std::string>& scripts) {
  Queue q;
  return lockless::test::scripted_run(
      strat, scripts, fifo, [&](std::uint64_t v) { q.push(v); }, [&] { return q.try_pop(); },
      [](char, unsigned) {}, queue_ops);
}

template <class Queue>
std::string blocking_run(ds::strategy& strat, const std::vector<std::string>& scripts) {
  Queue q;
  return lockless::test::scripted_run_blocking(
      strat, scripts, fifo, [&](std::uint64_t v) { q.push(v); }, [&] { return q.try_pop(); },
      [&] { return q.pop(); }, [](char, unsigned) {}, queue_ops);
}

// Producers claim in parallel; the consumer polls while they are at it.
const std::vector<std::vector<std::string>> empty_scenarios = {
    {"i", "i", "r"},
    {"ii", "i", "rr"},
    {"i", "ir", "rr"},
};

// Runs `run` on every scenario; returns the first failure's summary, or an ok one.
template <class Run>
ds::explore_summary explore_all(const std::vector<std::vector<std::string>>& scenarios,
                                std::uint64_t schedules, Run run) {
  ds::explore_summary last;
  for (const auto& scripts : scenarios) {
    ds::explore_options o;
    o.schedules = schedules;
    last = ds::explore(o, [&](ds::strategy& s) { return run(s, scripts); });
    if (!last.ok()) return last;
  }
  return last;
}

TEST(RegressionQueueEmpty, RingThatGivesUpOnAPendingSlotReportsEmptyWhileNonEmpty) {
  const ds::explore_summary s = explore_all(empty_scenarios, 2000, [](auto& strat, auto& sc) {
    return queue_run<claim_then_fill_ring<true>>(strat, sc);
  });
  ASSERT_FALSE(s.ok()) << "the empty-while-non-empty ring was never caught";
  EXPECT_NE(s.failure.find("A7 empty"), std::string::npos) << s.failure;
  std::printf("claim_then_fill_ring (gives up): caught after %llu schedules under %s\n",
              static_cast<unsigned long long>(s.schedules), s.replay.c_str());
}

TEST(RegressionQueueEmpty, CorrectQueuesAreNeverReportedEmptyWhileNonEmpty) {
  const ds::explore_summary ring = explore_all(empty_scenarios, 2000, [](auto& strat, auto& sc) {
    return queue_run<claim_then_fill_ring<false>>(strat, sc);
  });
  EXPECT_TRUE(ring.ok()) << ring.describe();
  const ds::explore_summary locked = explore_all(empty_scenarios, 2000, [](auto& strat, auto& sc) {
    return queue_run<locked_queue<blocking::event_count>>(strat, sc);
  });
  EXPECT_TRUE(locked.ok()) << locked.describe();
}

// Consumers block; producers push as many values as the consumers take.
const std::vector<std::vector<std::string>> wakeup_scenarios = {
    {"p", "i"},
    {"pp", "ii"},
    {"p", "p", "ii"},
    {"p", "ip", "i"},
};

TEST(RegressionQueueWakeup, BlockingPopThatReadsTheWordLateLosesAWakeUp) {
  const ds::explore_summary s = explore_all(wakeup_scenarios, 2000, [](auto& strat, auto& sc) {
    return blocking_run<locked_queue<blocking::late_word_read>>(strat, sc);
  });
  ASSERT_FALSE(s.ok()) << "the lost wake-up was never caught";
  EXPECT_NE(s.failure.find("deadlock"), std::string::npos) << s.failure;
  EXPECT_NE(s.failure.find("parked (wait)"), std::string::npos) << s.failure;
  std::printf("locked_queue (late word read): deadlock after %llu schedules under %s\n",
              static_cast<unsigned long long>(s.schedules), s.replay.c_str());
}

TEST(RegressionQueueWakeup, BlockingPopWithTheEventCountNeverHangs) {
  const ds::explore_summary s = explore_all(wakeup_scenarios, 2000, [](auto& strat, auto& sc) {
    return blocking_run<locked_queue<blocking::event_count>>(strat, sc);
  });
  EXPECT_TRUE(s.ok()) << s.describe();
}

}  // namespace
