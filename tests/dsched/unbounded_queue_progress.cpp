// The progress test of unbounded_queue (issue 10, item 2): lock-freedom in the strict
// sense, shown under the deterministic scheduler, with segments of 2 cells so that the
// suspensions fall inside segment links, head moves and retirements too.
//
// "Lock-free" means: a thread suspended at any instruction cannot stop the others from
// completing their operations. Here one thread (the victim) is held at each of its yield
// points in turn (every atomic operation of the real header, and of the epoch domain
// under it, is one) and never scheduled again while any other thread can run; the other
// threads must then finish their whole scripts within a fixed budget of yield points,
// and the history (the victim's operation completes last, after it is released) must be
// linearizable against spec::queue().drained(), with every payload and segment freed
// once (unbounded_queue_schedule_run, structures/unbounded_queue_scenarios.hpp). Among
// those points: a producer held between its ticket [UE1] and its CAS [UE2] (its cell is
// burned by the consumer of that ticket, who moves on), a producer held before linking a
// segment [UE3], a consumer held after its ticket [UD2] (its element is lost to nobody
// else: the others take the next tickets), a consumer held inside advance_head.
//
//   ds::hold_at (support/dsched.hpp) is the strategy: before the hold it follows a base
//   strategy (or, in "victim first" runs, runs the victim alone, so that the others start
//   from scratch); at the victim's k-th yield point it stops picking the victim; the
//   others are scheduled by the base strategy among themselves. The hold ends when the
//   others have finished; if instead they spend more than the budget of yield points, or
//   cannot run at all, the victim is released and the run is marked "starved": the others
//   could not complete without the victim. A point inside a detail::mutex critical
//   section (the epoch domain's thread registration, on a thread's first pin, documented
//   as blocking) is not held, and is counted apart.
//
// For every victim thread and every k below the victim's yield-point count (measured by
// a victim-first calibration run), ds::explore_progress runs one victim-first schedule
// and a few random walks and PCT schedules (more with LOCKLESS_DSCHED_SCALE). A run whose
// victim never reached its k-th yield point (the others finished first) holds nothing and
// is only counted.
//
// A checker that never fails proves nothing: waiting_twin is this algorithm without the
// burn, a one-array fetch-and-add queue whose consumer, having taken the ticket of a
// claimed but unwritten cell, waits for its producer (as the FAA queues that do not burn
// cells must). The same test must find a victim and a yield point at which the twin's
// other threads starve. (tests/dsched/bounded_queue_progress.cpp does the same for
// bounded_queue, with a Vyukov ring as its twin.)
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lockless/detail/atomic.hpp>

#include "structures/unbounded_queue_scenarios.hpp"
#include "support/dsched_history.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
namespace lc = lockless::test::lincheck;
using lockless::detail::atomic;
using lockless::detail::var;
using lockless::test::op_kind;

// The generic progress machinery of support/dsched.hpp (ds::hold_at, ds::explore_progress):
// the others may spend 5000 yield points while the victim is held before they count as
// starved. An unheld run of a whole scenario takes well under 1000 (printed).
ds::progress_options progress_options(unsigned seeds) {
  ds::progress_options o;
  o.budget = 5000;
  o.seeds = seeds;
  return o;
}

struct progress_scenario {
  const char* name;
  std::vector<std::string> scripts;  // 'i' try_push, 'r' try_pop, 'x' close
};

const std::vector<progress_scenario>& progress_scenarios() {
  static const std::vector<progress_scenario> all = {
      {"producer, consumer, mixed", {"iir", "rri", "iri"}},
      {"two threads across three segments", {"iriir", "rirri"}},
      {"close among pushes and pops", {"iix", "rri"}},
  };
  return all;
}

TEST(DschedUnboundedQueueProgress, OthersCompleteWhileAnyThreadIsHeldAtAnyYieldPoint) {
  const ds::progress_options o = progress_options(lockless_test::under_asan ? 1 : 4);
  for (const progress_scenario& sc : progress_scenarios()) {
    const ds::progress_summary s =
        ds::explore_progress(static_cast<unsigned>(sc.scripts.size()), o, [&](ds::strategy& strat) {
          return lockless::test::unbounded_queue_schedule_run(strat, sc.scripts);
        });
    EXPECT_EQ(s.first_failure, "") << sc.name;
    EXPECT_EQ(s.starved_runs, 0U) << sc.name << ": the others starved under " << s.first_starved;
    // Every point is held at, but those inside the epoch domain's registration mutex (a
    // thread's first pin), which blocks by design and is never held.
    EXPECT_EQ(s.covered + s.in_lock, s.points) << sc.name << ": some yield point was never held at";
    EXPECT_LT(s.in_lock * 4, s.points) << sc.name;
    EXPECT_GT(s.points, 0U) << sc.name;
    std::printf("unbounded_queue progress [%s]: %s\n", sc.name, s.describe().c_str());
  }
}

// ---- the waiting twin ---------------------------------------------------------------

// One array of cells with fetch-and-add tickets, as unbounded_queue's segment, but no
// burning: a consumer that takes the ticket of a cell whose producer has not written it
// yet waits for that producer. (One array of 64 cells: the scenario pushes fewer.)
class waiting_twin {
 public:
  bool try_push(std::uint64_t v) {
    const std::uint64_t i = enq_.fetch_add(1, std::memory_order_seq_cst);
    cells_[i].value.get_mut() = v;  // claimed, not yet written: a held producer is here
    cells_[i].full.store(1, std::memory_order_release);
    return true;
  }

  std::optional<std::uint64_t> try_pop() {
    std::uint64_t d = deq_.load(std::memory_order_relaxed);
    for (;;) {
      if (d >= enq_.load(std::memory_order_seq_cst)) return std::nullopt;  // empty
      if (deq_.compare_exchange_weak(d, d + 1, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
        break;
      }
    }
    // THE DEFECT: the ticket is taken, the cell may be unwritten: wait for its producer.
    while (cells_[d].full.load(std::memory_order_acquire) == 0) {
      lockless::detail::yield_point();
    }
    return cells_[d].value.get();
  }

 private:
  struct cell {
    atomic<std::uint32_t> full{0};
    var<std::uint64_t> value{std::in_place, 0};
  };
  atomic<std::uint64_t> enq_{0};
  atomic<std::uint64_t> deq_{0};
  std::array<cell, 64> cells_;
};

TEST(DschedUnboundedQueueProgress, WaitingTwinStarvesTheOthersAndIsCaught) {
  const progress_scenario& sc = progress_scenarios()[0];
  const lockless::test::scripted_kinds queue_ops{op_kind::enqueue, op_kind::dequeue};
  const ds::progress_summary s = ds::explore_progress(
      static_cast<unsigned>(sc.scripts.size()), progress_options(2), [&](ds::strategy& strat) {
        auto q = std::make_unique<waiting_twin>();
        std::string why = lockless::test::scripted_run(
            strat, sc.scripts, lc::spec::queue().drained(),
            [&](std::uint64_t v) { return q->try_push(v); }, [&] { return q->try_pop(); },
            [](char, unsigned) {}, queue_ops);
        return why;
      });
  EXPECT_GT(s.starved_runs, 0U) << "the waiting twin was never caught: " << s.describe();
  std::printf("waiting_twin [%s]: %s; first starved under %s\n", sc.name, s.describe().c_str(),
              s.first_starved.c_str());
}

}  // namespace
