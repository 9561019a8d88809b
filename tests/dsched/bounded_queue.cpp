// bounded_queue under deterministic schedules: explored interleavings of 2-5 threads at
// capacity 1 and 2, every history checked.
//
// Each scenario is a set of per-thread scripts for bounded_queue_schedule_run()
// (structures/bounded_queue_scenarios.hpp), spelled in the queue's alphabet
// (structures/bounded_queue_ops.hpp: 'i' try_push, 'c' try_push(const T&), 'e'
// try_emplace, 'r' try_pop, 'P'/'O' blocking push/pop, 'p'/'o' timed ones, 'I'/'R' bulk,
// 'x' close, 's' observers). explore() runs it under PCT and random-walk schedules (and,
// in SlowPathsUnderAWalkThatPreemptsInThem, under walks that preempt in the slow paths); every
// run must finish (no deadlock, no livelock), its history must be linearizable against
// spec::bounded_queue(capacity).full_when_in_flight().drained() (FIFO; empty and closed
// exact; full relaxed by one slot per overlapping operation, as the header documents),
// and every payload must be destroyed exactly once. Scenarios are sized so that full,
// empty and closed results really occur (checked over all runs of a scenario).
//
// The progress test (lock-freedom) is tests/dsched/bounded_queue_progress.cpp; the queue
// regression scenarios of docs/testing.md are tests/dsched/bounded_queue_regression.cpp.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "structures/bounded_queue_scenarios.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::test::bounded_queue_schedule_options;
using lockless::test::bounded_queue_schedule_stats;

// Schedules sized for the dev build; under AddressSanitizer a schedule (which starts 2-4
// threads) costs about ten times as much, so a quarter of them.
std::uint64_t sized(std::uint64_t n) {
  return lockless_test::under_asan ? std::max<std::uint64_t>(n / 4, 100) : n;
}

struct queue_scenario {
  const char* name;
  std::size_t capacity;
  std::vector<std::string> scripts;
  bool closer;  // one more thread that only closes the queue
  std::uint64_t schedules;
  // Which results the runs together must have produced (not vacuous): 'f' full,
  // 'e' empty, 'c' closed.
  std::string want;
};

const std::vector<queue_scenario>& scenarios() {
  static const std::vector<queue_scenario> all = {
      {"cap 1: two producers race a consumer", 1, {"ii", "ii", "rr"}, false, 2500, "fe"},
      {"cap 1: wraparound, push/pop pairs", 1, {"irir", "riri"}, false, 2500, "fe"},
      {"cap 2: full and empty transitions", 2, {"iiir", "rrir"}, false, 2500, "fe"},
      {"cap 2: three threads, pops race pushes", 2, {"iir", "rri", "irr"}, false, 2500, "fe"},
      {"cap 1: close races pushes and pops", 1, {"iix", "rir", "ri"}, false, 2500, "fec"},
      {"cap 2: copy, emplace, bulk, observers, close", 2, {"cIes", "Rrsx"}, false, 1500, "fec"},
      {"cap 1: blocking pops and pushes, closer", 1, {"PP", "OO", "O"}, true, 2000, "c"},
      {"cap 2: blocking and timed forms, try_ forms", 2, {"Pip", "Oro"}, true, 2000, "c"},
  };
  return all;
}

TEST(DschedBoundedQueue, EveryScheduleIsLinearizableWithFullEmptyAndClosed) {
  for (const queue_scenario& sc : scenarios()) {
    bounded_queue_schedule_stats total;
    ds::explore_options o;
    o.schedules = sized(sc.schedules);
    bounded_queue_schedule_options opt;
    opt.closer = sc.closer;
    const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
      bounded_queue_schedule_stats st;
      std::string why =
          lockless::test::bounded_queue_schedule_run(strat, sc.scripts, sc.capacity, opt, &st);
      total.pushed += st.pushed;
      total.popped += st.popped;
      total.full += st.full;
      total.empty += st.empty;
      total.closed += st.closed;
      total.needed_relaxed_full += st.needed_relaxed_full;
      return why;
    });
    EXPECT_TRUE(s.ok()) << sc.name << ": " << s.describe();
    if (sc.want.find('f') != std::string::npos) {
      EXPECT_GT(total.full, 0U) << sc.name << ": no run saw full";
    }
    if (sc.want.find('e') != std::string::npos) {
      EXPECT_GT(total.empty, 0U) << sc.name << ": no run saw empty";
    }
    if (sc.want.find('c') != std::string::npos) {
      EXPECT_GT(total.closed, 0U) << sc.name << ": no run saw closed";
    }
    EXPECT_EQ(total.pushed, total.popped) << sc.name;
    std::printf(
        "bounded_queue [%s]: %s; results: %zu pushed, %zu full, %zu empty, %zu closed; %zu "
        "histories needed the relaxed full\n",
        sc.name, s.describe().c_str(), total.pushed, total.full, total.empty, total.closed,
        total.needed_relaxed_full);
  }
}

// The scripts of the scenarios above (a subset) with other options.
template <lockless::queue_options Options>
void explore_with_options(const char* label) {
  const std::vector<std::string> scripts = {"iirIs", "rrRx", "ir"};
  ds::explore_options o;
  o.schedules = sized(1500);
  const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
    return lockless::test::bounded_queue_schedule_run<Options>(strat, scripts, 2);
  });
  EXPECT_TRUE(s.ok()) << label << ": " << s.describe();
  std::printf("bounded_queue<%s>: %s\n", label, s.describe().c_str());
}

TEST(DschedBoundedQueue, NonBlockingOptionUnderTheSameScenarios) {
  explore_with_options<lockless::queue_options{.may_block = false}>("may_block=false");
}

// queue_options::fast_empty (a pop answers empty from its cell while order_ is quiet).
TEST(DschedBoundedQueue, FastEmptyOptionUnderTheSameScenarios) {
  explore_with_options<lockless::queue_options{.may_block = false, .fast_empty = true}>(
      "fast_empty");
}

// The slow paths under schedules that preempt inside them (ds::site_walk): a random walk
// that switches threads at a quarter of the yield points inside the functions named below
// (a publish and a free, where a holder stops so that others give up on it; the give-ups
// and their helpers, the holders' settling, the full and empty answers, the order word of
// fast_empty, close, and the parking of the blocking forms), and at 2 % elsewhere. PCT
// and the random walk spread their preemptions over the common paths, where most yield
// points are; a bug that needs a thread stopped at one point of a rare path, and another
// stopped at one point of another, is out of their reach (the record ABA of 2026-12-07:
// 1.2 million of their schedules never found it, this walk did). The scenarios mix the
// options: fast_empty's order word against holes and close, blocking forms against
// give-ups. 1,000 schedules per scenario here (a quarter under ASan), scaled by
// LOCKLESS_DSCHED_SCALE for a soak (docs/testing.md, "Slow-path walks").
//
// The functions the walk preempts in. Every one has yield points of its own (where names
// the innermost function: pop_loop's, wait_pop's and await's accesses are all in the
// functions they call) and is reached by the 40 probe walks of each scenario set below
// (function_probe); the two of rarely_reached are reached by too few walks to be required.
constexpr const char* slow_path_functions =
    "claim_step|push_loop|push_settle|pop_step|help_skip|finish_skip|help_give_up|publish|"
    "settle_publish|free_cell|settle_free|pass_hole|full_at|check_order|mark|remark|quieten|"
    "close|prepare_wait|cancel_wait|done_waiting|wait|wake|notify|heavy_fence|light_fence";
constexpr const char* rarely_reached = "taken_settle|vacant_ahead";

std::string hot_functions() {
  return std::string(slow_path_functions) + "|" + rarely_reached;
}

template <lockless::queue_options Options>
void explore_slow_paths(ds::function_probe& probe, const char* label, std::size_t capacity,
                        const std::vector<std::string>& scripts, bool closer) {
  bounded_queue_schedule_options opt;
  opt.closer = closer;
  opt.run.max_steps = 100'000;  // a livelock ends here as a step-limit report
  // 40 walks that record which of the functions they pass through (runs that must pass
  // too), then the walks of the test.
  bounded_queue_schedule_options probed = opt;
  probe.attach(probed.run);
  EXPECT_EQ(probe.walk(hot_functions(), 25, 2,
                       [&](ds::strategy& strat) {
                         return lockless::test::bounded_queue_schedule_run<Options>(
                             strat, scripts, capacity, probed);
                       }),
            "")
      << label;
  ds::explore_options o;
  o.schedules = sized(1000);
  o.hot_functions = hot_functions();
  o.cold_percent = 2;
  const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
    return lockless::test::bounded_queue_schedule_run<Options>(strat, scripts, capacity, opt);
  });
  EXPECT_TRUE(s.ok()) << label << ": " << s.describe();
  std::printf("bounded_queue slow-path walk [%s]: %s\n", label, s.describe().c_str());
}

TEST(DschedBoundedQueue, SlowPathsUnderAWalkThatPreemptsInThem) {
  using lockless::queue_options;
  ds::function_probe probe(slow_path_functions);
  explore_slow_paths<queue_options{.may_block = false, .fast_empty = true}>(
      probe, "fast_empty, cap 2: producers out of order, pops, close", 2, {"ii", "ir", "rrx", "r"},
      false);
  explore_slow_paths<queue_options{.fast_empty = true}>(
      probe, "fast_empty, cap 1: blocking and try forms, closer", 1, {"iP", "rO", "ri"}, true);
  explore_slow_paths<queue_options{}>(probe, "cap 2: give-ups of both sides, blocking pop, closer",
                                      2, {"iii", "rO", "ri", "i"}, true);
  explore_slow_paths<queue_options{.may_block = false}>(
      probe, "cap 2: emplace, bulk, give-ups, close", 2, {"eI", "rR", "irx", "r"}, false);
  explore_slow_paths<queue_options{}>(probe, "cap 1: four threads round one cell", 1,
                                      {"iii", "ri", "rr", "i"}, false);
  explore_slow_paths<queue_options{}>(probe, "cap 2: five threads, three producers", 2,
                                      {"iiii", "rr", "rr", "ii", "r"}, false);
  // A renamed function, or one with no yield point of its own, would leave the walk cold
  // there without a word.
  EXPECT_EQ(probe.unreached(), "");
}

}  // namespace
