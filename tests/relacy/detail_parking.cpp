// Relacy: detail/parking.hpp (event_count) and the shim's atomic waiting underneath it.
//
// The shim maps detail::atomic::wait / notify_* onto Relacy's futex model, so a consumer
// that parks with no notify left to wake it is a DEADLOCK that Relacy reports, not a hang.
//
// Part 1, the real event_count (detail/parking.hpp), in the scenarios of
// detail_parking_scenarios.hpp: a producer makes items available and notifies, consumers
// block through the event count. Must pass. Its mutants (each ordering tag weakened) are
// in detail_parking_mutants.cmake and must be caught as DEADLOCK.
//
// Part 2, the shim's wait/notify mapping on its own, with a hand-written eventcount word:
// a consumer reads the wake-up word, checks for an item, and only then waits on the word it
// read; a producer publishes an item, bumps the word and notifies.
//   wakeup_ok           the consumer reads the word BEFORE checking: must pass (random
//                       schedules and every schedule with at most two preemptions).
//   wakeup_two_consumers  two consumers, two items, notify_one per item: must pass.
//   wakeup_lost (must be caught)  the word read AFTER the check: the producer's bump and
//                       notify can fall between the two, and the consumer waits for a
//                       notify that already happened. Relacy must report a deadlock. (The
//                       same bug pattern is a caller error with event_count: the key taken
//                       after the check. tests/selftest/dsched_queue_regression.cpp shows
//                       it under the deterministic scheduler.)
//
// Usage: relacy_detail_parking [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#include <lockless/detail/atomic.hpp>

#include "support/relacy_runner.hpp"
#include "detail_parking_scenarios.hpp"

using namespace lockless_relacy;

namespace {

constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

// The items (item_pool, detail_parking_scenarios.hpp) and a hand-written eventcount word.
template <class Derived, int Threads, bool WordFirst, bool NotifyOne>
struct wakeup_suite : rl::test_suite<Derived, Threads> {
  parking::item_pool<Threads> pool;
  lockless::detail::atomic<unsigned>* word = nullptr;

  void before() {
    pool.make();
    word = new lockless::detail::atomic<unsigned>(0);
  }
  void after() {
    pool.check_and_free();
    delete word;
  }

  void thread(unsigned index) {
    if (index == 0) {  // the producer: one item per consumer
      for (int i = 1; i < Threads; ++i) {
        pool.put();
        (void)word->fetch_add(1, release);
        if (NotifyOne) {
          word->notify_one();
        } else {
          word->notify_all();
        }
      }
      return;
    }
    for (;;) {  // a consumer: one blocking take
      unsigned seen = 0;
      if (WordFirst) seen = word->load(acquire);
      if (pool.try_take()) break;
      if (!WordFirst) seen = word->load(acquire);  // the bug: too late
      word->wait(seen, acquire);
    }
    ++pool.taken[index];
  }
};

struct wakeup_ok : wakeup_suite<wakeup_ok, 2, true, false> {};
struct wakeup_two_consumers : wakeup_suite<wakeup_two_consumers, 3, true, true> {};
struct wakeup_lost : wakeup_suite<wakeup_lost, 2, false, false> {};

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // Part 1: event_count.
  r.run<parking_handoff>("parking_handoff", random_plan(200000));
  r.run<parking_handoff>("parking_handoff", full_plan());  // every schedule: 1.4 M, ~7 s
  r.run<parking_two_consumers>("parking_two_consumers", random_plan(200000));
  r.run<parking_notify_all>("parking_notify_all", random_plan(200000));
  r.run<parking_ping_pong>("parking_ping_pong", random_plan(200000));
  r.run<parking_ping_pong>("parking_ping_pong", bound_plan(2));
  // Part 2: the shim's wait/notify.
  r.run<wakeup_ok>("wakeup_ok", random_plan(200000));
  r.run<wakeup_ok>("wakeup_ok", bound_plan(2));
  r.run<wakeup_two_consumers>("wakeup_two_consumers", random_plan(200000));
  // A context-bound search of three threads is out of budget here (bound 1: 41 M
  // executions, 113 s), so random schedules only.
  r.expect_failure<wakeup_lost>("wakeup_lost", random_plan(200000), {rl::test_result_deadlock});
  return r.exit_code();
}
