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
//   hold_at   the strategy: before the hold it follows a base strategy (or, in "victim
//             first" runs, runs the victim alone, so that the others start from
//             scratch); at the victim's k-th yield point it stops picking the victim; the
//             others are scheduled by the base strategy among themselves. The victim runs
//             again only when it is the only runnable thread, or, if the others spend more
//             than `budget` yield points without finishing, it is released and the run is
//             marked "starved": the others could not complete without the victim.
//
// For every victim thread and every k below the victim's yield-point count (measured by
// a victim-first calibration run), the test runs one victim-first schedule and a few
// random walks and PCT schedules (more with LOCKLESS_DSCHED_SCALE). A run whose victim
// never reached its k-th yield point (the others finished first) holds nothing and is
// only counted.
//
// A checker that never fails proves nothing: waiting_twin is this algorithm without the
// burn, a one-array fetch-and-add queue whose consumer, having taken the ticket of a
// claimed but unwritten cell, waits for its producer (as the FAA queues that do not burn
// cells must). The same test must find a victim and a yield point at which the twin's
// other threads starve. (tests/dsched/bounded_queue_progress.cpp does the same for
// bounded_queue, with a Vyukov ring as its twin.)
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
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

// Yield points the others may spend while the victim is held before they count as
// starved. An unheld run of a whole scenario takes well under 1000 (printed).
constexpr std::uint64_t budget = 5000;

class hold_at : public ds::strategy {
 public:
  // base: the strategy before the hold and for the others during it; null: victim first.
  hold_at(unsigned victim, std::uint64_t k, std::unique_ptr<ds::strategy> base)
      : victim_(victim), k_(k), base_(std::move(base)) {}

  void begin(unsigned threads) override {
    if (base_) base_->begin(threads);
    seen_ = 0;
    held_ = released_ = starved_ = false;
    held_since_ = others_ = 0;
  }

  [[nodiscard]] unsigned pick(const ds::choice& c) override {
    if (!held_ && c.current == victim_ && c.current_runnable) {
      if (seen_ == k_) {
        held_ = true;
        held_since_ = c.step;
      } else {
        ++seen_;
      }
    }
    if (held_ && !released_) {
      others_ = c.step - held_since_;
      if (others_ > budget) released_ = starved_ = true;
    }
    const bool victim_runnable =
        std::find(c.runnable.begin(), c.runnable.end(), victim_) != c.runnable.end();
    if (!held_ || released_) {
      if (base_) return base_->pick(c);
      if (!held_ && victim_runnable) return victim_;
      return ds::run_to_block{}.pick(c);
    }
    std::vector<unsigned> rest;
    for (unsigned t : c.runnable) {
      if (t != victim_) rest.push_back(t);
    }
    if (rest.size() == 1) return rest.front();
    const ds::choice sub{rest,       c.current, c.current != victim_ && c.current_runnable,
                         c.spinning, c.step,    c.threads};
    return base_ ? base_->pick(sub) : ds::run_to_block{}.pick(sub);
  }

  [[nodiscard]] std::string describe() const override {
    return "hold_at(victim=" + std::to_string(victim_) + ",k=" + std::to_string(k_) +
           ",base=" + (base_ ? base_->describe() : std::string("victim first")) + ")";
  }

  [[nodiscard]] bool held() const noexcept { return held_; }
  [[nodiscard]] bool starved() const noexcept { return starved_; }
  [[nodiscard]] std::uint64_t victim_points() const noexcept { return seen_; }
  [[nodiscard]] std::uint64_t others_steps() const noexcept { return others_; }

 private:
  unsigned victim_;
  std::uint64_t k_;
  std::unique_ptr<ds::strategy> base_;
  std::uint64_t seen_ = 0;
  bool held_ = false, released_ = false, starved_ = false;
  std::uint64_t held_since_ = 0, others_ = 0;
};

struct progress_summary {
  std::uint64_t points = 0, covered = 0, runs = 0, held_runs = 0, starved_runs = 0;
  std::uint64_t max_others_steps = 0;  // over held, not starved runs
  std::string first_failure, first_starved;
};

std::uint64_t scale() {
  const char* s = std::getenv("LOCKLESS_DSCHED_SCALE");
  const long v = s != nullptr ? std::atol(s) : 1;
  return v > 0 ? static_cast<std::uint64_t>(v) : 1;
}

template <class Run>
progress_summary explore_progress(unsigned victims, unsigned seeds, Run&& run) {
  progress_summary s;
  for (unsigned v = 0; v < victims; ++v) {
    hold_at calib(v, std::numeric_limits<std::uint64_t>::max(), nullptr);
    if (std::string why = run(calib); !why.empty() && s.first_failure.empty()) {
      s.first_failure = calib.describe() + ": " + why;
    }
    const std::uint64_t points = calib.victim_points();
    s.points += points;
    for (std::uint64_t k = 0; k < points; ++k) {
      std::vector<std::unique_ptr<hold_at>> strategies;
      strategies.push_back(std::make_unique<hold_at>(v, k, nullptr));
      for (unsigned i = 0; i < seeds; ++i) {
        const std::uint64_t seed = 7 + i + 1000 * k + 1000000 * v;
        strategies.push_back(
            std::make_unique<hold_at>(v, k, std::make_unique<ds::random_walk>(seed, 30)));
        strategies.push_back(std::make_unique<hold_at>(
            v, k, std::make_unique<ds::pct>(seed, 1 + i % 3, 4 * points + 50)));
      }
      bool covered = false;
      for (auto& strat : strategies) {
        ++s.runs;
        const std::string why = run(*strat);
        if (!why.empty() && s.first_failure.empty()) {
          s.first_failure = strat->describe() + ": " + why;
        }
        if (!strat->held()) continue;
        covered = true;
        ++s.held_runs;
        if (strat->starved()) {
          ++s.starved_runs;
          if (s.first_starved.empty()) s.first_starved = strat->describe();
        } else {
          s.max_others_steps = std::max(s.max_others_steps, strat->others_steps());
        }
      }
      s.covered += covered ? 1 : 0;
    }
  }
  return s;
}

std::string describe(const progress_summary& s) {
  return std::to_string(s.points) + " yield points (" + std::to_string(s.covered) + " held at), " +
         std::to_string(s.runs) + " runs, " + std::to_string(s.held_runs) +
         " with the victim held, " + std::to_string(s.starved_runs) +
         " starved; the others needed at most " + std::to_string(s.max_others_steps) +
         " yield points while the victim was held";
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
  const unsigned seeds = static_cast<unsigned>((lockless_test::under_asan ? 1 : 4) * scale());
  for (const progress_scenario& sc : progress_scenarios()) {
    const progress_summary s =
        explore_progress(static_cast<unsigned>(sc.scripts.size()), seeds, [&](ds::strategy& strat) {
          return lockless::test::unbounded_queue_schedule_run(strat, sc.scripts);
        });
    EXPECT_EQ(s.first_failure, "") << sc.name;
    EXPECT_EQ(s.starved_runs, 0U) << sc.name << ": the others starved under " << s.first_starved;
    EXPECT_EQ(s.covered, s.points) << sc.name << ": some yield point was never held at";
    EXPECT_GT(s.points, 0U) << sc.name;
    std::printf("unbounded_queue progress [%s]: %s\n", sc.name, describe(s).c_str());
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
  const progress_summary s =
      explore_progress(static_cast<unsigned>(sc.scripts.size()), 2, [&](ds::strategy& strat) {
        auto q = std::make_unique<waiting_twin>();
        std::string why = lockless::test::scripted_run(
            strat, sc.scripts, lc::spec::queue().drained(),
            [&](std::uint64_t v) { return q->try_push(v); }, [&] { return q->try_pop(); },
            [](char, unsigned) {}, queue_ops);
        return why;
      });
  EXPECT_GT(s.starved_runs, 0U) << "the waiting twin was never caught: " << describe(s);
  std::printf("waiting_twin [%s]: %s; first starved under %s\n", sc.name, describe(s).c_str(),
              s.first_starved.c_str());
}

}  // namespace
