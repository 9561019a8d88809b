// The progress test of bounded_queue (issue 9, item 6): lock-freedom in the strict sense,
// shown under the deterministic scheduler.
//
// "Lock-free" means: a thread suspended at any instruction cannot stop the others from
// completing their operations. Here one thread (the victim) is suspended at each of its
// yield points in turn (every atomic operation of the real header is one) and never
// scheduled again while any other thread can run; the other threads must then finish
// their whole scripts of try_push/try_pop within a fixed budget of yield points, and
// the history (the victim's operation completes last, after it is released) must be
// linearizable against spec::bounded_queue(cap).full_when_in_flight().drained().
//
//   suspend_at   the strategy: before the suspension it follows a base strategy (or, in
//                "victim first" runs, runs the victim alone, so that the others start
//                from scratch); at the victim's k-th yield point it stops picking the
//                victim; the others are scheduled by the base strategy among themselves.
//                The victim runs again only when it is the only runnable thread (the
//                others are done), or, if the others spend more than `budget` yield
//                points without finishing, it is released and the run is marked
//                "starved": the others could not complete without the victim.
//
// For every victim thread and every k below the victim's yield-point count (measured by
// a victim-first calibration run), the test runs one victim-first schedule, a few random
// walks and a few PCT schedules. A run whose victim never reached its k-th yield point
// (the others finished first) suspends nothing and is only counted.
//
// A checker that never fails proves nothing: vyukov_twin is the usual fast ring (Vyukov's
// bounded MPMC queue, as in atomic_queue, rigtorp/MPMCQueue, xenium), written on
// detail::atomic, whose try_pop waits for a producer that claimed the slot at the head
// but has not written it yet (answering "empty" there would instead be the
// empty-while-non-empty bug of docs/testing.md). The same test must find a victim and a
// yield point at which the twin's other threads starve.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
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

// Yield points the non-suspended threads may spend before they count as starved. Their
// scripts are a few operations each at capacity 1 or 2; an unsuspended run of a whole
// scenario takes well under 300 (printed by the test).
constexpr std::uint64_t budget = 3000;

class suspend_at : public ds::strategy {
 public:
  // victim: the thread to suspend; k: at its k-th yield point (0 = its first);
  // base: the strategy before the suspension and for the others after it, or null for
  // "victim first" (the victim runs alone until it is suspended, then run_to_block).
  suspend_at(unsigned victim, std::uint64_t k, std::unique_ptr<ds::strategy> base)
      : victim_(victim), k_(k), base_(std::move(base)) {}

  void begin(unsigned threads) override {
    if (base_) base_->begin(threads);
    victim_steps_ = 0;
    suspended_ = false;
    released_ = false;
    starved_ = false;
    suspended_at_step_ = 0;
    others_steps_ = 0;
  }

  [[nodiscard]] unsigned pick(const ds::choice& c) override {
    const bool victim_here = c.current == victim_ && c.current_runnable;
    if (!suspended_ && victim_here) {
      if (victim_steps_ == k_) {
        suspended_ = true;
        suspended_at_step_ = c.step;
      } else {
        ++victim_steps_;
      }
    }
    if (suspended_ && !released_) {
      others_steps_ = c.step - suspended_at_step_;
      if (others_steps_ > budget) {
        starved_ = true;
        released_ = true;
      }
    }
    if (!suspended_ || released_) {
      if (!base_) {  // victim first
        const bool victim_runnable =
            std::find(c.runnable.begin(), c.runnable.end(), victim_) != c.runnable.end();
        if (!suspended_ && victim_runnable) return victim_;
        return ds::run_to_block{}.pick(c);
      }
      return base_->pick(c);
    }
    // Suspended: anyone but the victim.
    std::vector<unsigned> others;
    for (unsigned t : c.runnable) {
      if (t != victim_) others.push_back(t);
    }
    if (others.size() == 1) return others.front();
    const bool current_is_other = c.current != victim_ && c.current_runnable;
    const ds::choice sub{others, c.current, current_is_other, c.spinning, c.step, c.threads};
    if (!base_) return ds::run_to_block{}.pick(sub);
    return base_->pick(sub);
  }

  [[nodiscard]] std::string describe() const override {
    return "suspend_at(victim=" + std::to_string(victim_) + ",k=" + std::to_string(k_) +
           ",base=" + (base_ ? base_->describe() : std::string("victim first")) + ")";
  }

  [[nodiscard]] bool suspended() const noexcept { return suspended_; }
  [[nodiscard]] bool starved() const noexcept { return starved_; }
  // The victim's yield points seen by the strategy (the calibration's count).
  [[nodiscard]] std::uint64_t victim_steps() const noexcept { return victim_steps_; }
  // Yield points the others spent after the suspension (at the last decision).
  [[nodiscard]] std::uint64_t others_steps() const noexcept { return others_steps_; }

 private:
  unsigned victim_;
  std::uint64_t k_;
  std::unique_ptr<ds::strategy> base_;
  std::uint64_t victim_steps_ = 0;
  bool suspended_ = false;
  bool released_ = false;
  bool starved_ = false;
  std::uint64_t suspended_at_step_ = 0;
  std::uint64_t others_steps_ = 0;
};

struct progress_summary {
  std::uint64_t points = 0;   // (victim, k) pairs: every yield point of every thread
  std::uint64_t covered = 0;  // pairs at which some run really suspended the victim
  std::uint64_t runs = 0;
  std::uint64_t suspended_runs = 0;    // the victim really was suspended
  std::uint64_t starved_runs = 0;      // the others exceeded the budget
  std::uint64_t max_others_steps = 0;  // over suspended, not starved runs
  std::string first_failure;           // a run that failed (history, deadlock, ...)
  std::string first_starved;           // the first starved run's strategy
};

// One scenario: run(strategy&) runs the scripts once and returns "" or a failure.
// victims: how many scripted threads; seeds: random walks and PCT schedules per (victim, k).
template <class Run>
progress_summary explore_progress(unsigned victims, unsigned seeds, Run&& run) {
  progress_summary s;
  for (unsigned v = 0; v < victims; ++v) {
    // Calibration: the victim alone, never suspended, counts its yield points.
    suspend_at calib(v, std::numeric_limits<std::uint64_t>::max(), nullptr);
    if (std::string why = run(calib); !why.empty() && s.first_failure.empty()) {
      s.first_failure = calib.describe() + ": " + why;
    }
    const std::uint64_t points = calib.victim_steps();
    s.points += points;
    for (std::uint64_t k = 0; k < points; ++k) {
      bool covered = false;
      std::vector<std::unique_ptr<suspend_at>> strategies;
      strategies.push_back(std::make_unique<suspend_at>(v, k, nullptr));
      for (unsigned i = 0; i < seeds; ++i) {
        const std::uint64_t seed = 1 + i + 1000 * k + 100000 * v;
        strategies.push_back(
            std::make_unique<suspend_at>(v, k, std::make_unique<ds::random_walk>(seed, 30)));
        strategies.push_back(std::make_unique<suspend_at>(
            v, k, std::make_unique<ds::pct>(seed, 1 + i % 3, 4 * points + 50)));
      }
      for (auto& strat : strategies) {
        ++s.runs;
        const std::string why = run(*strat);
        if (!why.empty() && s.first_failure.empty()) {
          s.first_failure = strat->describe() + ": " + why;
        }
        if (!strat->suspended()) continue;
        covered = true;
        ++s.suspended_runs;
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
  return std::to_string(s.points) + " yield points (" + std::to_string(s.covered) +
         " suspended at), " + std::to_string(s.runs) + " runs, " +
         std::to_string(s.suspended_runs) + " with the victim suspended, " +
         std::to_string(s.starved_runs) + " starved; the others needed at most " +
         std::to_string(s.max_others_steps) + " yield points while the victim was suspended";
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
  };
  return all;
}

TEST(DschedBoundedQueueProgress, OthersCompleteWhileAnyThreadIsSuspendedAtAnyYieldPoint) {
  for (const progress_scenario& sc : progress_scenarios()) {
    const progress_summary s = explore_progress(
        static_cast<unsigned>(sc.scripts.size()), lockless_test::under_asan ? 2 : 8,
        [&](ds::strategy& strat) {
          return lockless::test::bounded_queue_schedule_run(strat, sc.scripts, sc.capacity);
        });
    EXPECT_EQ(s.first_failure, "") << sc.name;
    EXPECT_EQ(s.starved_runs, 0U) << sc.name << ": the others starved under " << s.first_starved;
    EXPECT_EQ(s.covered, s.points) << sc.name << ": some yield point was never suspended at";
    EXPECT_GT(s.points, 0U) << sc.name;
    std::printf("bounded_queue progress [%s]: %s\n", sc.name, describe(s).c_str());
  }
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
    c->value.get_mut() = v;  // claimed, not yet written: a suspended producer is here
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
  const progress_summary s =
      explore_progress(static_cast<unsigned>(sc.scripts.size()), 4, [&](ds::strategy& strat) {
        vyukov_twin q(sc.capacity);
        return lockless::test::scripted_run(
            strat, sc.scripts, lc::spec::bounded_queue(sc.capacity).drained(),
            [&](std::uint64_t v) { return q.try_push(v); }, [&] { return q.try_pop(); },
            [](char, unsigned) {}, queue_ops);
      });
  EXPECT_GT(s.starved_runs, 0U) << "the Vyukov twin was never caught: " << describe(s);
  std::printf("vyukov_twin [%s]: %s; first starved under %s\n", sc.name, describe(s).c_str(),
              s.first_starved.c_str());
}

}  // namespace
