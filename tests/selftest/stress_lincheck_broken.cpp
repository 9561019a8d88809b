// A checker that never fails proves nothing: deliberately broken containers, hammered by 8
// threads and recorded, must be reported "not linearizable", while their correct
// counterparts under the same harness must be accepted.
//
//   dup_pop_stack        pop reads the top, lets go of the lock, and removes whatever is on
//                        top later: two poppers can return the same value (and another
//                        value is lost).
//   swapping_queue       an enqueue that had to wait for the lock swaps its value with the
//                        one before it: FIFO broken between non-overlapping enqueues.
//   spurious_empty_stack pop reports empty whenever it loses a try_lock race.
//
// The correct counterparts are the reference containers mutex_stack and mutex_queue
// (support/reference_containers.hpp); each broken one derives from its counterpart.
// Each broken container is run for up to `max_rounds` rounds (fresh container, 8 threads x
// 375 operations, drained) until the checker reports it; the test fails if the bug never
// shows. All of them are data-race free (a mutex guards the data), so the sanitizer builds
// run them too: the bugs are in the logic, which only the checker sees.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck/harness.hpp"
#include "support/reference_containers.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::test::history;
using lockless::test::mutex_queue;
using lockless::test::mutex_stack;
using lockless::test::op_kind;
using lockless::test::stamp_source;
namespace lc = lockless::test::lincheck;

class dup_pop_stack : public mutex_stack {
 public:
  std::optional<std::uint64_t> pop() {
    std::uint64_t top = 0;
    {
      std::lock_guard<std::mutex> g(mutex_);
      if (items_.empty()) return std::nullopt;
      top = items_.back();  // BUG: read now, removed later
    }
    std::this_thread::yield();  // widen the window
    std::lock_guard<std::mutex> g(mutex_);
    if (!items_.empty()) items_.pop_back();  // removes whatever is on top by now
    return top;
  }
};

class swapping_queue : public mutex_queue {
 public:
  void enqueue(std::uint64_t v) {
    const bool contended = !mutex_.try_lock();
    if (contended) mutex_.lock();
    std::lock_guard<std::mutex> g(mutex_, std::adopt_lock);
    items_.push_back(v);
    if (contended && items_.size() >= 2) {
      std::swap(items_[items_.size() - 1], items_[items_.size() - 2]);  // BUG
    }
  }
  std::optional<std::uint64_t> dequeue() {
    std::lock_guard<std::mutex> g(mutex_);
    const std::optional<std::uint64_t> v = take_locked();
    if (v) std::this_thread::yield();  // hold the lock a while: more contention
    return v;
  }
};

class spurious_empty_stack : public mutex_stack {
 public:
  void push(std::uint64_t v) {
    std::lock_guard<std::mutex> g(mutex_);
    items_.push_back(v);
    std::this_thread::yield();  // hold the lock a while: more contention
  }
  std::optional<std::uint64_t> pop() {
    if (!mutex_.try_lock()) return std::nullopt;  // BUG: "empty" because busy
    std::lock_guard<std::mutex> g(mutex_, std::adopt_lock);
    return take_locked();
  }
};

template <class Container>
history run_once(std::uint64_t seed, stamp_source src, unsigned insert_percent) {
  Container c;
  lc::run_options o;
  o.threads = 8;
  o.ops_per_thread = 375;
  o.seed = seed;
  o.stamps = src;
  o.insert_percent = insert_percent;
  if constexpr (requires { c.dequeue(); }) {
    o.insert_kind = op_kind::enqueue;
    o.remove_kind = op_kind::dequeue;
    return lc::record_run(o, [&](std::uint64_t v) { c.enqueue(v); }, [&] { return c.dequeue(); });
  } else {
    return lc::record_run(o, [&](std::uint64_t v) { c.push(v); }, [&] { return c.pop(); });
  }
}

// Runs until check() reports a violation; returns the round (1-based), 0 if never.
template <class Container>
std::size_t rounds_until_caught(const char* name, const lc::spec& s, unsigned insert_percent,
                                std::size_t max_rounds) {
  for (std::size_t round = 1; round <= max_rounds; ++round) {
    const stamp_source src = round % 2 == 1 ? stamp_source::counter : stamp_source::steady_clock;
    const history h = run_once<Container>(round, src, insert_percent);
    const lc::result r = lc::check(h, s);
    EXPECT_FALSE(r.linearizable()) << name << ": a broken container passed?\n" << r.report();
    if (!r.violated()) continue;
    // Without the aspect tier, the exact tier (and, where its search gives up, the
    // confirmation of a violation on a window around where it got stuck) must find it too.
    lc::options exact_only;
    exact_only.aspects = false;
    exact_only.exact_opts.max_states = std::uint64_t{1} << 20;
    const lc::result e = lc::check(h, s, exact_only);
    EXPECT_TRUE(e.violated()) << e.report();
    EXPECT_TRUE(r.window_confirmed) << r.report();
    std::printf(
        "%s: caught in round %zu (%zu ops); check(): %s by the %s tier; without "
        "aspects: %s by the %s tier (%llu states, %.3f s)\n%s\n",
        name, round, h.size(), lc::to_string(r.v), r.tier.c_str(), lc::to_string(e.v),
        e.tier.c_str(), static_cast<unsigned long long>(e.states), e.seconds, r.report().c_str());
    return round;
  }
  return 0;
}

template <class Container>
void accepted(const char* name, const lc::spec& s, std::size_t rounds) {
  for (std::size_t round = 1; round <= rounds; ++round) {
    const stamp_source src = round % 2 == 1 ? stamp_source::counter : stamp_source::steady_clock;
    const history h = run_once<Container>(round, src, 50);
    const lc::result r = lc::check(h, s);
    ASSERT_TRUE(r.linearizable()) << name << "\n" << r.report();
    std::printf("%s: round %zu linearizable (%zu ops, %llu states, %.4f s)\n", name, round,
                h.size(), static_cast<unsigned long long>(r.states), r.seconds);
  }
}

constexpr std::size_t max_rounds = 40;

TEST(LincheckBroken, DuplicatePopStackIsCaught) {
  EXPECT_NE(rounds_until_caught<dup_pop_stack>("dup_pop_stack", lc::spec::stack().drained(), 50,
                                               max_rounds),
            0u)
      << "the duplicate-pop bug never manifested in " << max_rounds << " rounds";
}

TEST(LincheckBroken, SwappingQueueIsCaught) {
  EXPECT_NE(rounds_until_caught<swapping_queue>("swapping_queue", lc::spec::queue().drained(), 50,
                                                max_rounds),
            0u)
      << "the swap bug never manifested in " << max_rounds << " rounds";
}

TEST(LincheckBroken, SpuriousEmptyStackIsCaught) {
  EXPECT_NE(rounds_until_caught<spurious_empty_stack>("spurious_empty_stack",
                                                      lc::spec::stack().drained(), 70, max_rounds),
            0u)
      << "the spurious-empty bug never manifested in " << max_rounds << " rounds";
}

TEST(LincheckBroken, CorrectContainersAreAccepted) {
  accepted<mutex_stack>("mutex_stack", lc::spec::stack().drained(), lockless_test::scaled(6, 2));
  accepted<mutex_queue>("mutex_queue", lc::spec::queue().drained(), lockless_test::scaled(6, 2));
}

}  // namespace
