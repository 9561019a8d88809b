// The progress test of bounded_queue (issue 9, item 6): lock-freedom in the strict sense,
// shown under the deterministic scheduler.
//
// "Lock-free" means: a thread suspended at any instruction cannot stop the others from
// completing their operations. Here one thread (the victim) is held at each of its
// yield points in turn (every atomic operation of the real header is one) and never
// scheduled again while any other thread can run; the other threads must then finish
// their whole scripts of try_push/try_pop within a fixed budget of yield points, and
// the history (the victim's operation completes last, after it is released) must be
// linearizable against spec::bounded_queue(cap).full_when_in_flight().drained().
//
//   ds::hold_at (support/dsched.hpp) is the strategy: before the hold it follows a base
//   strategy (or, in "victim first" runs, runs the victim alone, so that the others start
//   from scratch); at the victim's k-th yield point it stops picking the victim; the
//   others are scheduled by the base strategy among themselves. The hold ends when the
//   others have finished; if instead they spend more than the budget of yield points, or
//   cannot run at all, the victim is released and the run is marked "starved": the others
//   could not complete without the victim.
//
// For every victim thread and every k below the victim's yield-point count (measured by
// a victim-first calibration run), ds::explore_progress runs one victim-first schedule, a
// few random walks and a few PCT schedules. A run whose victim never reached its k-th
// yield point (the others finished first) holds nothing and is only counted.
//
// A checker that never fails proves nothing: vyukov_twin is the usual fast ring (Vyukov's
// bounded MPMC queue, as in atomic_queue, rigtorp/MPMCQueue, xenium), written on
// detail::atomic, whose try_pop waits for a producer that claimed the slot at the head
// but has not written it yet (answering "empty" there would instead be the
// empty-while-non-empty bug of docs/testing.md). The same test must find a victim and a
// yield point at which the twin's other threads starve.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lockless/detail/atomic.hpp>

#include "structures/bounded_queue_scenarios.hpp"
#include "support/dsched_history.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
namespace lc = lockless::test::lincheck;
using lockless::detail::atomic;
using lockless::detail::var;
using lockless::test::op_kind;

// The generic progress machinery of support/dsched.hpp (ds::hold_at, ds::explore_progress),
// with a budget of 3000 yield points the others may spend while the victim is held: their
// scripts are a few operations each at capacity 1 or 2, and an unheld run of a whole
// scenario takes well under 300 (printed by the test).
ds::progress_options progress_options(std::uint64_t seeds) {
  ds::progress_options o;
  o.budget = 3000;
  o.seeds = static_cast<unsigned>(seeds);
  return o;
}

struct progress_scenario {
  const char* name;
  std::size_t capacity;
  std::vector<std::string> scripts;  // 'i' try_push, 'r' try_pop only
};

const std::vector<progress_scenario>& progress_scenarios() {
  static const std::vector<progress_scenario> all = {
      {"cap 1: producer, consumer, mixed", 1, {"iir", "rri", "iri"}},
      {"cap 2: producers and consumers", 2, {"iii", "rrr", "irir"}},
      {"cap 2: two threads", 2, {"iriir", "rirri"}},
      // Pushes that may give up on a ticket whose cell a pop still holds, with another
      // push to help finish the give-up.
      {"cap 2: push give-ups with helpers", 2, {"iiii", "r", "r", "i"}},
  };
  return all;
}

template <lockless::queue_options Options>
void check_progress(const char* label, std::uint64_t seeds) {
  for (const progress_scenario& sc : progress_scenarios()) {
    const ds::progress_summary s =
        ds::explore_progress(static_cast<unsigned>(sc.scripts.size()), progress_options(seeds),
                             [&](ds::strategy& strat) {
                               return lockless::test::bounded_queue_schedule_run<Options>(
                                   strat, sc.scripts, sc.capacity);
                             });
    EXPECT_EQ(s.first_failure, "") << label << sc.name;
    EXPECT_EQ(s.starved_runs, 0U) << label << sc.name << ": the others starved under "
                                  << s.first_starved;
    // No mutex in this header: every yield point is held at.
    EXPECT_EQ(s.in_lock, 0U) << label << sc.name;
    EXPECT_EQ(s.covered, s.points) << label << sc.name << ": some yield point was never held at";
    EXPECT_GT(s.points, 0U) << label << sc.name;
    std::printf("bounded_queue%s progress [%s]: %s\n", label, sc.name, s.describe().c_str());
  }
}

TEST(DschedBoundedQueueProgress, OthersCompleteWhileAnyThreadIsSuspendedAtAnyYieldPoint) {
  check_progress<lockless::queue_options{}>("", lockless_test::under_asan ? 2 : 8);
}

// queue_options::fast_empty adds the order word's steps (the check before a publish, the
// mark, the clearing): none of them may be one the others wait on either.
TEST(DschedBoundedQueueProgress, FastEmptyOthersCompleteWhileAnyThreadIsSuspended) {
  check_progress<lockless::queue_options{.fast_empty = true}>(" (fast_empty)",
                                                              lockless_test::under_asan ? 2 : 4);
}

// ---- the broken twin ---------------------------------------------------------------

// Vyukov's bounded MPMC ring: cell i of lap L has seq == pos when free for the producer
// of ticket pos, pos + 1 when written for its consumer. A producer claims a cell by
// moving enqueue_pos_ past it, then writes it; a consumer that finds the head cell
// claimed but unwritten waits for that producer (spins), as the usual rings do.
class vyukov_twin {
 public:
  explicit vyukov_twin(std::size_t capacity) : mask_(capacity - 1), cells_(capacity) {
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, relaxed);
  }

  bool try_push(std::uint64_t v) {
    std::size_t pos = enqueue_pos_.load(relaxed);
    cell* c = nullptr;
    for (;;) {
      c = &cells_[pos & mask_];
      const std::size_t seq = c->seq.load(acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, relaxed, relaxed)) break;
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = enqueue_pos_.load(relaxed);
      }
    }
    c->value.get_mut() = v;  // claimed, not yet written: a held producer is here
    c->seq.store(pos + 1, release);
    return true;
  }

  std::optional<std::uint64_t> try_pop() {
    std::size_t pos = dequeue_pos_.load(relaxed);
    cell* c = nullptr;
    for (;;) {
      c = &cells_[pos & mask_];
      const std::size_t seq = c->seq.load(acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, relaxed, relaxed)) break;
      } else if (diff < 0) {
        if (enqueue_pos_.load(relaxed) <= pos) return std::nullopt;  // really empty
        lockless::detail::yield_point();  // THE DEFECT: wait for the claiming producer
        pos = dequeue_pos_.load(relaxed);
      } else {
        pos = dequeue_pos_.load(relaxed);
      }
    }
    const std::uint64_t v = c->value.get();
    c->seq.store(pos + mask_ + 1, release);
    return v;
  }

 private:
  static constexpr auto relaxed = std::memory_order_relaxed;
  static constexpr auto acquire = std::memory_order_acquire;
  static constexpr auto release = std::memory_order_release;
  struct cell {
    atomic<std::size_t> seq{0};
    var<std::uint64_t> value{std::in_place, 0};
  };
  std::size_t mask_;
  std::vector<cell> cells_;
  atomic<std::size_t> enqueue_pos_{0};
  atomic<std::size_t> dequeue_pos_{0};
};

TEST(DschedBoundedQueueProgress, VyukovTwinStarvesTheOthersAndIsCaught) {
  const progress_scenario& sc = progress_scenarios()[1];  // cap 2: producers and consumers
  const lockless::test::scripted_kinds queue_ops{op_kind::enqueue, op_kind::dequeue};
  const ds::progress_summary s = ds::explore_progress(
      static_cast<unsigned>(sc.scripts.size()), progress_options(4), [&](ds::strategy& strat) {
        vyukov_twin q(sc.capacity);
        return lockless::test::scripted_run(
            strat, sc.scripts, lc::spec::bounded_queue(sc.capacity).drained(),
            [&](std::uint64_t v) { return q.try_push(v); }, [&] { return q.try_pop(); },
            [](char, unsigned) {}, queue_ops, ds::pooled_threads());
      });
  EXPECT_GT(s.starved_runs, 0U) << "the Vyukov twin was never caught: " << s.describe();
  std::printf("vyukov_twin [%s]: %s; first starved under %s\n", sc.name, s.describe().c_str(),
              s.first_starved.c_str());
}

}  // namespace
