// unbounded_queue under deterministic schedules: explored interleavings of 2-4 threads
// with segments of 2 cells (and 3, and no segment cache), so that schedules cross segment
// boundaries, link and retire segments, and close while pushes and pops are in flight.
//
// Each scenario is a set of per-thread scripts for unbounded_queue_schedule_run()
// (structures/unbounded_queue_scenarios.hpp), spelled in the queue's alphabet
// (structures/unbounded_queue_ops.hpp: 'i' try_push, 'c' try_push(const T&), 'e'
// try_emplace, 'P'/'E' push/emplace (never wait), 'p' push_for (never waits), 'r'
// try_pop, 'O'/'o' blocking/timed pop, 'I'/'R' bulk, 'x' close, 's' observers; 'F' a
// flush of the queue's epoch domain). explore() runs it under PCT and random-walk
// schedules; every run must finish (no deadlock, no livelock), its history must be
// linearizable against spec::queue().drained() (FIFO; empty and closed exact), a push
// refused as closed must have its argument back, the quiescent size_approx() must match
// the drain, every payload must be destroyed exactly once and every segment allocated
// must be given back exactly once once the queue and its domain are gone. Scenarios are
// sized so that empty and closed results and segment turnover really occur (checked over
// all runs of a scenario).
//
// The progress test (lock-freedom) is tests/dsched/unbounded_queue_progress.cpp; the
// interleavings named in the header's LINEARIZATION POINTS and INVARIANTS are steered
// one by one in tests/dsched/unbounded_queue_regression.cpp.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "structures/unbounded_queue_scenarios.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::test::unbounded_queue_schedule_options;
using lockless::test::unbounded_queue_schedule_stats;

// Schedules sized for the dev build; under AddressSanitizer a schedule (which starts 2-4
// threads) costs about ten times as much, so a quarter of them.
std::uint64_t sized(std::uint64_t n) {
  return lockless_test::under_asan ? std::max<std::uint64_t>(n / 4, 100) : n;
}

struct queue_scenario {
  const char* name;
  std::vector<std::string> scripts;
  bool closer;  // one more thread that only closes the queue
  std::uint64_t schedules;
  // Which results the runs together must have produced (not vacuous): 'e' empty,
  // 'c' closed, 's' a segment beyond the first allocated in some run.
  std::string want;
};

struct totals {
  std::size_t pushed = 0, popped = 0, empty = 0, closed = 0;
  long max_segments = 0;
  void add(const unbounded_queue_schedule_stats& st) {
    pushed += st.pushed;
    popped += st.popped;
    empty += st.empty;
    closed += st.closed;
    max_segments = std::max(max_segments, st.segments);
  }
};

template <lockless::unbounded_queue_options Options>
void run_scenarios(const char* what, const std::vector<queue_scenario>& all) {
  for (const queue_scenario& sc : all) {
    totals total;
    ds::explore_options o;
    o.schedules = sized(sc.schedules);
    unbounded_queue_schedule_options opt;
    opt.closer = sc.closer;
    const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
      unbounded_queue_schedule_stats st;
      std::string why =
          lockless::test::unbounded_queue_schedule_run<Options>(strat, sc.scripts, opt, &st);
      total.add(st);
      return why;
    });
    EXPECT_TRUE(s.ok()) << what << " " << sc.name << ": " << s.describe();
    if (sc.want.find('e') != std::string::npos) {
      EXPECT_GT(total.empty, 0U) << sc.name << ": no run saw empty";
    }
    if (sc.want.find('c') != std::string::npos) {
      EXPECT_GT(total.closed, 0U) << sc.name << ": no run saw closed";
    }
    if (sc.want.find('s') != std::string::npos) {
      // 2 = the cache block and the first segment.
      EXPECT_GT(total.max_segments, 2) << sc.name << ": no run allocated a second segment";
    }
    EXPECT_EQ(total.pushed, total.popped) << sc.name;
    std::printf(
        "unbounded_queue %s [%s]: %s; results: %zu pushed, %zu empty, %zu closed; at most %ld "
        "allocations in a run\n",
        what, sc.name, s.describe().c_str(), total.pushed, total.empty, total.closed,
        total.max_segments);
  }
}

TEST(DschedUnboundedQueue, EveryScheduleIsLinearizableAcrossSegments) {
  static const std::vector<queue_scenario> all = {
      {"two producers race a consumer", {"iii", "ii", "rrr"}, false, 1000, "es"},
      {"push/pop pairs", {"irir", "riri"}, false, 1000, "es"},
      {"three threads, pops race pushes", {"iir", "rri", "irr"}, false, 1000, "es"},
      {"pops burn cells of late pushes", {"ii", "rrr", "rrr"}, false, 1000, "es"},
      {"reclamation inside the schedule", {"iiirF", "rrrrF", "iFr"}, false, 800, "es"},
      {"close races pushes and pops", {"iix", "rir", "ri"}, false, 1000, "ecs"},
      {"close races a segment link", {"iii", "rrx", "r"}, false, 1000, "ecs"},
      {"copy, emplace, bulk, observers, close", {"cIesE", "Rrsx"}, false, 800, "ecs"},
      {"blocking pops, closer", {"PPP", "OO", "O"}, true, 800, "cs"},
      {"blocking and timed forms, try_ forms", {"Pip", "Oro"}, true, 800, "cs"},
  };
  run_scenarios<lockless::test::unbounded_queue_small_segments>("segment 2", all);
}

TEST(DschedUnboundedQueue, OtherSegmentSizesAndNoCache) {
  static const std::vector<queue_scenario> three = {
      {"segment 3: producers and consumers", {"iiii", "rrr", "irr"}, false, 800, "es"},
      {"segment 3: close among them", {"iii", "rrx", "ir"}, false, 800, "ecs"},
  };
  run_scenarios<lockless::unbounded_queue_options{.segment_size = 3}>("segment 3", three);
  static const std::vector<queue_scenario> no_cache = {
      {"no cache: turnover and flushes", {"iiiF", "rrrF", "irF"}, false, 800, "es"},
  };
  run_scenarios<lockless::unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>(
      "no cache", no_cache);
}

TEST(DschedUnboundedQueue, NonBlockingOptionUnderTheSameScenarios) {
  static const std::vector<queue_scenario> all = {
      {"may_block = false", {"iirIs", "rrRx", "ir"}, false, 800, "ecs"},
  };
  run_scenarios<lockless::unbounded_queue_options{.may_block = false, .segment_size = 2}>(
      "no_block", all);
}

}  // namespace
