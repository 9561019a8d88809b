// histogram under deterministic schedules: observers and snapshotters (2-3 threads),
// small histograms with classic and native buckets, 1 and 2 shards, native bounds tiny
// enough (max_buckets 2-3) that the sets' schema hints are lowered, snapshots coarsen, the
// native table fills and the overflow at schema -4 is used.
//
// Each scenario is a set of scripts for histogram_schedule_run()
// (structures/histogram_scenarios.hpp), in the histogram's alphabet
// (structures/histogram_ops.hpp: 'o' observe, 'n' observe(v, n), 's' snapshot, 'q'
// snapshot + quantiles, 'b' a burst of four observes). Every snapshot is checked when it
// is taken (consistent: H1-H5 of the scenarios header, exact per-class counts decoded
// from it), all of them after the run (support/snapshot_check.hpp: each includes what
// ended before it started and nothing that started after it ended; they form one chain
// in which counts and native buckets, reduced to the later schema, only grow), and the
// final snapshot must be exact. Scenarios are sized so that coarsening and the bound
// really occur (checked over all runs of a scenario).
//
// Broken twins the same checks must catch: a histogram whose snapshot reads its counters
// one by one while observers add (torn_twin: count and buckets disagree), one whose
// snapshots are consistent but one call late (stale_twin: only the interval check sees
// it), and, for the progress test, one whose observe() takes the snapshot's lock
// (locked_twin).
//
// PROGRESS (lock-freedom of observe). One thread (the victim) is held at each of its
// yield points in turn, then scheduled only when nothing else can run; the other
// OBSERVERS must finish their scripts within a budget of yield points (a snapshot may
// legitimately wait for a held observer: it is not required to finish while the victim
// is held, but the run must complete, every check passing, once it is released). The
// snapshotter as the victim is held at a sample of its (many) yield points. The
// locked twin must be caught: its observers park behind a held observer.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <lockless/detail/atomic.hpp>
#include <lockless/histogram.hpp>

#include "structures/histogram_scenarios.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::histogram_snapshot;
using lockless::detail::atomic;
using lockless::test::histogram_model;
using lockless::test::histogram_schedule_options;
using lockless::test::histogram_schedule_run;
using lockless::test::histogram_schedule_stats;

// Schedules sized for the dev build; under AddressSanitizer a quarter of them.
std::uint64_t sized(std::uint64_t n) {
  return lockless_test::under_asan ? std::max<std::uint64_t>(n / 4, 30) : n;
}

struct scenario {
  const char* name;
  const histogram_model* model;
  std::size_t shards;
  std::vector<std::string> scripts;
  std::uint64_t schedules;
  bool want_coarser;  // some snapshot below the configured schema
  bool want_over;     // some snapshot at -4 with more than max_buckets buckets
};

TEST(DschedHistogram, SnapshotsAreConsistentMonotoneAndExactTheFinalOneExact) {
  const histogram_model& exact = lockless::test::histogram_exact_model();
  const histogram_model& wide = lockless::test::histogram_wide_model();
  const histogram_model& classic = lockless::test::histogram_classic_model();
  const std::vector<scenario> all = {
      {"exact, 1 shard: observers and a snapshotter",
       &exact,
       1,
       {"obon", "nob", "sqs"},
       300,
       true,
       false},
      {"exact, 2 shards: everyone snapshots", &exact, 2, {"obs", "bos", "nsq"}, 300, true, false},
      {"wide, 1 shard: bursts past the bound", &wide, 1, {"bbs", "bos", "sbs"}, 200, true, true},
      {"wide, 2 shards", &wide, 2, {"bbs", "obbs", "s"}, 200, true, true},
      {"classic only, 2 shards", &classic, 2, {"oonos", "nbs", "sq"}, 400, false, false},
  };
  for (const scenario& sc : all) {
    std::int32_t min_schema = std::numeric_limits<std::int32_t>::max();
    bool over = false;
    std::size_t snapshots = 0;
    ds::explore_options o;
    o.schedules = sized(sc.schedules);
    const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
      histogram_schedule_stats st;
      std::string why = histogram_schedule_run(strat, *sc.model, sc.shards, sc.scripts, {}, &st);
      min_schema = std::min(min_schema, st.min_schema);
      over = over || st.over_bound;
      snapshots += st.snapshots;
      return why;
    });
    EXPECT_TRUE(s.ok()) << sc.name << ": " << s.describe();
    if (sc.want_coarser) {
      EXPECT_LT(min_schema, sc.model->layout().schema) << sc.name << ": never coarsened";
    }
    if (sc.want_over) {
      EXPECT_TRUE(over) << sc.name << ": no snapshot past the bound at schema -4";
    }
    std::printf("histogram [%s]: %s; %zu snapshots checked, coarsest schema %d%s\n", sc.name,
                s.describe().c_str(), snapshots, static_cast<int>(min_schema),
                over ? ", bound exceeded at -4" : "");
  }
}

// ---- twins ------------------------------------------------------------------------

// Classic buckets, counters read one by one: no cut.
class torn_twin {
 public:
  explicit torn_twin(std::vector<double> bounds)
      : bounds_(std::move(bounds)), buckets_(new atomic<std::uint64_t>[bounds_.size() + 1]) {
    for (std::size_t b = 0; b <= bounds_.size(); ++b)
      buckets_[b].store(0, std::memory_order_relaxed);
  }
  void observe(double v) { observe(v, 1); }
  void observe(double v, std::uint64_t n) {
    if (n == 0) return;
    count_.fetch_add(n, std::memory_order_relaxed);
    const std::size_t b = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[std::isnan(v) ? bounds_.size() : b].fetch_add(n, std::memory_order_relaxed);
    std::uint64_t old = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(
        old, std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + v * static_cast<double>(n)),
        std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
  }
  [[nodiscard]] histogram_snapshot snapshot() const {
    histogram_snapshot out;
    out.upper_bounds = bounds_;
    out.count = count_.load(std::memory_order_acquire);
    std::uint64_t below = 0;
    for (std::size_t b = 0; b <= bounds_.size(); ++b) {
      below += buckets_[b].load(std::memory_order_acquire);
      out.cumulative.push_back(below);
    }
    out.sum = std::bit_cast<double>(sum_.load(std::memory_order_acquire));
    return out;
  }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<atomic<std::uint64_t>[]> buckets_;
  atomic<std::uint64_t> count_{0};
  atomic<std::uint64_t> sum_{0};
};

// Classic buckets under the snapshot's lock: consistent, but observe() waits.
class locked_twin {
 public:
  explicit locked_twin(std::vector<double> bounds)
      : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1, 0) {}
  void observe(double v) { observe(v, 1); }
  void observe(double v, std::uint64_t n) {
    if (n == 0) return;
    const std::size_t b = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    std::lock_guard<lockless::detail::mutex> lock(mutex_);
    buckets_[std::isnan(v) ? bounds_.size() : b] += n;
    sum_ += v * static_cast<double>(n);
  }
  [[nodiscard]] histogram_snapshot snapshot() const {
    histogram_snapshot out;
    out.upper_bounds = bounds_;
    std::lock_guard<lockless::detail::mutex> lock(mutex_);
    std::uint64_t below = 0;
    for (std::uint64_t c : buckets_) out.cumulative.push_back(below += c);
    out.count = below;
    out.sum = sum_;
    return out;
  }

 private:
  std::vector<double> bounds_;
  mutable lockless::detail::mutex mutex_;
  std::vector<std::uint64_t> buckets_;
  double sum_ = 0;
};

TEST(DschedHistogram, TornSnapshotTwinIsCaught) {
  const histogram_model& classic = lockless::test::histogram_classic_model();
  const std::vector<std::string> scripts = {"oon", "sos"};
  ds::explore_options o;
  o.schedules = 400;
  const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
    return histogram_schedule_run<torn_twin>(strat, classic, 1, scripts, {}, nullptr, [&] {
      return std::make_unique<torn_twin>(classic.bounds());
    });
  });
  EXPECT_FALSE(s.ok()) << "the torn twin was never caught: " << s.describe();
  std::printf("torn_twin: caught after %llu schedules\n",
              static_cast<unsigned long long>(s.schedules));
}

// Consistent but stale: each snapshot() returns the previous call's snapshot of a real
// histogram. Only the interval check (snapshot_check's C1) can catch it.
class stale_twin {
 public:
  explicit stale_twin(std::unique_ptr<lockless::histogram> h)
      : h_(std::move(h)), last_(h_->snapshot()) {}
  void observe(double v) { h_->observe(v); }
  void observe(double v, std::uint64_t n) { h_->observe(v, n); }
  [[nodiscard]] histogram_snapshot snapshot() {
    histogram_snapshot now = h_->snapshot();
    std::swap(now, last_);
    return now;
  }

 private:
  std::unique_ptr<lockless::histogram> h_;
  histogram_snapshot last_;
};

TEST(DschedHistogram, StaleSnapshotTwinIsCaughtByTheIntervalCheck) {
  const histogram_model& exact = lockless::test::histogram_exact_model();
  const std::vector<std::string> scripts = {"oos", "nos"};
  ds::explore_options o;
  o.schedules = 100;
  const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
    return histogram_schedule_run<stale_twin>(strat, exact, 1, scripts, {}, nullptr, [&] {
      return std::make_unique<stale_twin>(exact.make(1));
    });
  });
  EXPECT_FALSE(s.ok()) << "the stale twin was never caught: " << s.describe();
  EXPECT_NE(s.failure.find("(C1)"), std::string::npos) << s.failure;
  std::printf("stale_twin: caught after %llu schedules\n",
              static_cast<unsigned long long>(s.schedules));
}

// ---- progress -----------------------------------------------------------------------

constexpr std::uint64_t budget = 20000;  // yield points the others may spend while held

class hold_at : public ds::strategy {
 public:
  // base: the strategy before the hold and for the others during it; null: victim first.
  // must: the threads that must finish while the victim is held; done[t]: t finished.
  hold_at(unsigned victim, std::uint64_t k, std::unique_ptr<ds::strategy> base,
          const std::vector<char>* done, std::vector<unsigned> must)
      : victim_(victim), k_(k), base_(std::move(base)), done_(done), must_(std::move(must)) {}

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
    std::vector<unsigned> rest;
    for (unsigned t : c.runnable) {
      if (t != victim_) rest.push_back(t);
    }
    if (held_ && !released_) {
      others_ = c.step - held_since_;
      const bool all_done =
          std::all_of(must_.begin(), must_.end(), [&](unsigned t) { return (*done_)[t] != 0; });
      // The victim at a later yield point: the scheduler ran it without asking, since
      // nothing else could run (the others parked or finished).
      const bool forced = c.current == victim_ && c.step > held_since_;
      if (all_done) {
        released_ = true;
      } else if (others_ > budget || rest.empty() || forced) {
        released_ = starved_ = true;  // the others could not finish without the victim
      }
    }
    const bool victim_runnable = rest.size() != c.runnable.size();
    if (!held_ || released_) {
      if (base_) return base_->pick(c);
      if (!held_ && victim_runnable) return victim_;
      return ds::run_to_block{}.pick(c);
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
  const std::vector<char>* done_;
  std::vector<unsigned> must_;
  std::uint64_t seen_ = 0;
  bool held_ = false, released_ = false, starved_ = false;
  std::uint64_t held_since_ = 0, others_ = 0;
};

struct progress_summary {
  std::uint64_t points = 0, tried = 0, runs = 0, held_runs = 0, starved_runs = 0;
  std::uint64_t max_others_steps = 0;
  std::string first_failure, first_starved;
};

// run(strategy, done): one run with done[] to fill. Observers: threads whose script has
// no snapshot. A victim with more than `sample` yield points is held at `sample` of them,
// evenly spread.
template <class Run>
progress_summary explore_progress(const std::vector<std::string>& scripts, unsigned seeds,
                                  std::uint64_t sample, Run&& run) {
  progress_summary s;
  const auto victims = static_cast<unsigned>(scripts.size());
  std::vector<char> done(victims, 0);
  auto observer = [&](unsigned t) { return scripts[t].find_first_of("sq") == std::string::npos; };
  for (unsigned v = 0; v < victims; ++v) {
    std::vector<unsigned> must;
    for (unsigned t = 0; t < victims; ++t) {
      if (t != v && observer(t)) must.push_back(t);
    }
    auto one = [&](hold_at& strat) {
      std::fill(done.begin(), done.end(), 0);
      ++s.runs;
      const std::string why = run(strat, done);
      if (!why.empty() && s.first_failure.empty()) s.first_failure = strat.describe() + ": " + why;
    };
    hold_at calib(v, std::numeric_limits<std::uint64_t>::max(), nullptr, &done, must);
    one(calib);
    const std::uint64_t points = calib.victim_points();
    s.points += points;
    const std::uint64_t stride = std::max<std::uint64_t>(1, points / sample);
    for (std::uint64_t k = 0; k < points; k += stride) {
      ++s.tried;
      std::vector<std::unique_ptr<hold_at>> strategies;
      strategies.push_back(std::make_unique<hold_at>(v, k, nullptr, &done, must));
      for (unsigned i = 0; i < seeds; ++i) {
        const std::uint64_t seed = 7 + i + 1000 * k + 1000000 * v;
        strategies.push_back(std::make_unique<hold_at>(
            v, k, std::make_unique<ds::random_walk>(seed, 30), &done, must));
        strategies.push_back(std::make_unique<hold_at>(
            v, k, std::make_unique<ds::pct>(seed, 1 + i % 3, 4 * points + 50), &done, must));
      }
      for (auto& strat : strategies) {
        one(*strat);
        if (!strat->held()) continue;
        ++s.held_runs;
        if (strat->starved()) {
          ++s.starved_runs;
          if (s.first_starved.empty()) s.first_starved = strat->describe();
        } else {
          s.max_others_steps = std::max(s.max_others_steps, strat->others_steps());
        }
      }
    }
  }
  return s;
}

std::string describe(const progress_summary& s) {
  return std::to_string(s.points) + " yield points (" + std::to_string(s.tried) + " held at), " +
         std::to_string(s.runs) + " runs, " + std::to_string(s.held_runs) +
         " with the victim held, " + std::to_string(s.starved_runs) +
         " starved; the others needed at most " + std::to_string(s.max_others_steps) +
         " yield points while the victim was held";
}

std::uint64_t scale() {
  const char* s = std::getenv("LOCKLESS_DSCHED_SCALE");
  const long v = s != nullptr ? std::atol(s) : 1;
  return v > 0 ? static_cast<std::uint64_t>(v) : 1;
}

TEST(DschedHistogramProgress, ObserversCompleteWhileAnyThreadIsHeldAtAnyYieldPoint) {
  const histogram_model& exact = lockless::test::histogram_exact_model();
  const std::vector<std::string> scripts = {"onb", "obo", "s"};
  const unsigned seeds = static_cast<unsigned>(scale());
  const std::uint64_t sample = (lockless_test::under_asan ? 16 : 64) * scale();
  for (std::size_t shards : {std::size_t{1}, std::size_t{2}}) {
    const progress_summary s =
        explore_progress(scripts, seeds, sample, [&](ds::strategy& strat, std::vector<char>& done) {
          histogram_schedule_options opt;
          opt.on_done = &done;
          return histogram_schedule_run(strat, exact, shards, scripts, opt);
        });
    EXPECT_EQ(s.first_failure, "") << shards << " shards";
    EXPECT_EQ(s.starved_runs, 0U) << shards << " shards: observers starved under "
                                  << s.first_starved;
    EXPECT_GT(s.held_runs, 0U);
    std::printf("histogram progress [%zu shards]: %s\n", shards, describe(s).c_str());
  }
}

TEST(DschedHistogramProgress, LockedTwinStarvesTheObserversAndIsCaught) {
  const histogram_model& classic = lockless::test::histogram_classic_model();
  const std::vector<std::string> scripts = {"oon", "ono", "s"};
  const progress_summary s =
      explore_progress(scripts, 1, 64, [&](ds::strategy& strat, std::vector<char>& done) {
        histogram_schedule_options opt;
        opt.on_done = &done;
        return histogram_schedule_run<locked_twin>(strat, classic, 1, scripts, opt, nullptr, [&] {
          return std::make_unique<locked_twin>(classic.bounds());
        });
      });
  EXPECT_EQ(s.first_failure, "") << "the locked twin is consistent; only its progress fails";
  EXPECT_GT(s.starved_runs, 0U) << "the locked twin was never caught: " << describe(s);
  std::printf("locked_twin: %s; first starved under %s\n", describe(s).c_str(),
              s.first_starved.c_str());
}

}  // namespace
