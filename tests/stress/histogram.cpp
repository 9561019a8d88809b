// Stress tests of lockless::histogram: 8 observer threads and 2 snapshotting threads on a
// 2-core machine, histograms with classic and native buckets at 1, 2 and the default
// number of shards.
//
// Observers observe values of a few classes (structures/histogram_scenarios.hpp,
// histogram_model): every class has a classic bucket of its own, and the values are
// dyadic, so that from any snapshot the number of observations of each class can be read
// off and the sum predicted exactly. Each observer repeats a fixed random script of
// observe(v) and observe(v, n) (the histogram's alphabet, structures/histogram_ops.hpp)
// and publishes, around each call, how many it has started and completed
// (support/snapshot_check.hpp, lanes). Checked:
//   - every snapshot consistent when it is taken: count == +Inf bucket == the classic
//     buckets; per class, the native buckets (zero, positive, negative at the snapshot's
//     schema) hold exactly what the classic buckets say, and zero + positive + negative
//     == count - NaNs; at most max_buckets native buckets unless at schema -4; the sum
//     equals the sum of exactly the counted observations (exactly, ==), or NaN/Inf
//     as the special values counted demand (H1-H5 of the scenarios header);
//   - interval-correct: each snapshot counts, per class, at least what the observers
//     had completed before it started and at most what they had started when it ended
//     (snapshot_check, lanes form), snapshots never go backwards in real time, and the
//     snapshots of both snapshotters form one chain (they take turns);
//   - monotone along that chain: cumulative counts, the schema (only down), native
//     buckets after reducing the earlier snapshot to the later schema (H6);
//   - after the join, a final snapshot equals the multiset observed, exactly.
// Models: "small" (12 dyadic values, default native layout: the schema never moves),
// "classic" (the same values, classic buckets only: owner lanes, as many as shards),
// "spread" (powers of two 2^-6 .. 2^14 of both signs, zero threshold 2^-6, max_buckets 16:
// the sets' hints go down and snapshots coarsen while observers run), and "special"
// (spread plus +Inf, -Inf and NaN). Sized for 2 cores: LOCKLESS_STRESS_SCALE for soak.
#include <lockless/histogram.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "structures/histogram_ops.hpp"
#include "structures/histogram_scenarios.hpp"
#include "support/snapshot_check.hpp"
#include "support/stress.hpp"

namespace {

namespace sc = lockless::test::snapshot_check;
using lockless::histogram;
using lockless::histogram_snapshot;
using lockless::native_buckets;
using lockless::test::hclass_kind;
using lockless::test::hfinite;
using lockless::test::histogram_class;
using lockless::test::histogram_model;
using lockless::test::histogram_op;
using lockless::test::hspecial;
using lockless_test::scaled;
using lockless_test::xorshift;

constexpr std::size_t observers = lockless_test::default_threads;  // 8
constexpr std::size_t snapshotters = 2;
constexpr std::size_t script_period = 101;
constexpr std::size_t max_kept = 20000;     // snapshots kept per snapshotter for the checks
constexpr std::size_t min_snapshots = 100;  // observers go on (up to 4x) until this many

const histogram_model& small_model() {
  static const native_buckets layout{};  // schema 3, threshold 2^-128, 160 buckets
  static const histogram_model m(
      {hfinite(-3), hfinite(-0.5), hfinite(0.0, -0.0), hfinite(0.25), hfinite(0.5), hfinite(1),
       hfinite(1.5), hfinite(2), hfinite(3), hfinite(5), hfinite(8), hfinite(100)},
      &layout);
  return m;
}

// The small model's values with classic buckets only: the histogram has owner lanes (as
// many as shards), so observers count in their lanes, in the shards when they have none
// or a snapshot pauses theirs, and in the guests' lane when every shard is busy.
const histogram_model& classic_model() {
  static const histogram_model m(
      {hfinite(-3), hfinite(-0.5), hfinite(0.0, -0.0), hfinite(0.25), hfinite(0.5), hfinite(1),
       hfinite(1.5), hfinite(2), hfinite(3), hfinite(5), hfinite(8), hfinite(100)},
      nullptr);
  return m;
}

std::vector<histogram_class> spread_classes(bool special) {
  std::vector<histogram_class> c{hfinite(0.0, -0.0)};
  for (int k = -6; k <= 14; ++k) {
    c.push_back(hfinite(std::ldexp(1.0, k)));
    c.push_back(hfinite(-std::ldexp(1.0, k)));
  }
  if (special) {
    c.push_back(hspecial(hclass_kind::pos_inf));
    c.push_back(hspecial(hclass_kind::neg_inf));
    c.push_back(hspecial(hclass_kind::nan));
  }
  return c;
}

const native_buckets spread_layout{.schema = 3, .zero_threshold = 0x1p-6, .max_buckets = 16};

const histogram_model& spread_model() {
  static const histogram_model m(spread_classes(false), &spread_layout);
  return m;
}
const histogram_model& special_model() {
  static const histogram_model m(spread_classes(true), &spread_layout);
  return m;
}

// One observer's script: (class, amount) per step, and whether the step is observe(v, n).
struct lane_script {
  sc::periodic_lane lane;
  std::vector<char> with_n;
};

lane_script make_script(const histogram_model& m, std::size_t t) {
  static const lockless_test::weighted<histogram_op> mix[] = {{histogram_op::observe, 3},
                                                              {histogram_op::observe_n, 1}};
  xorshift rng(1000 + t);
  std::vector<sc::periodic_lane::step> steps;
  std::vector<char> with_n;
  for (std::size_t p = 0; p < script_period; ++p) {
    const std::size_t j = static_cast<std::size_t>(rng.below(m.classes()));
    const bool n = lockless_test::pick(mix, rng) == histogram_op::observe_n;
    steps.push_back({j, n ? rng.below(4) : 1});  // observe(v, 0) included: counts nothing
    with_n.push_back(n ? 1 : 0);
  }
  return {sc::periodic_lane(m.classes(), std::move(steps)), std::move(with_n)};
}

struct kept {
  sc::read read;
  histogram_snapshot snap;
};

void run_config(const char* name, const histogram_model& model, std::size_t shards,
                std::size_t per_thread, bool want_coarser) {
  SCOPED_TRACE(name);
  const auto t0 = std::chrono::steady_clock::now();
  const std::unique_ptr<histogram> h = model.make(shards);
  const std::size_t m = model.classes();
  std::vector<lane_script> scripts;
  for (std::size_t t = 0; t < observers; ++t) scripts.push_back(make_script(model, t));
  sc::lane_marks marks(observers);
  std::atomic<std::size_t> running{observers};
  std::atomic<std::size_t> snapshots_taken{0};
  const std::size_t cap = 4 * per_thread;  // observers go on until min_snapshots, up to this

  struct outcome {
    std::vector<kept> snaps;
    std::size_t taken = 0;
    std::uint64_t observed = 0;  // observer: calls made
    std::string error;
  };
  std::vector<outcome> results =
      lockless_test::run_threads(observers + snapshotters, [&](std::size_t i) {
        outcome out;
        if (i < observers) {
          const lane_script& s = scripts[i];
          std::uint64_t k = 0;
          for (; k < per_thread ||
                 (k < cap && snapshots_taken.load(std::memory_order_relaxed) < min_snapshots);
               ++k) {
            const sc::periodic_lane::step& st = s.lane.at(k);
            const double v = model.value(st.key, k);
            marks.begin(i, k);
            if (s.with_n[k % script_period] != 0) {
              h->observe(v, st.amount);
            } else {
              h->observe(v);
            }
            marks.end(i, k);
            // A voluntary switch now and then, outside observe(): fewer observers are
            // preempted inside it, so snapshots (which wait for those) come more often.
            if (k % 256 == 255) std::this_thread::yield();
          }
          out.observed = k;
          running.fetch_sub(1, std::memory_order_release);
          return out;
        }
        while (running.load(std::memory_order_acquire) != 0) {
          kept k;
          k.read.start = marks.stamp();
          marks.completed(k.read.lo);
          k.snap = h->snapshot();
          marks.started(k.read.hi);
          k.read.end = marks.stamp();
          ++out.taken;
          snapshots_taken.fetch_add(1, std::memory_order_relaxed);
          if (out.error.empty()) {
            out.error = model.check_snapshot(k.snap, &k.read.values);
            if (!out.error.empty())
              out.error = "snapshot " + std::to_string(out.taken) + ": " + out.error;
          }
          if (k.read.values.size() != m) k.read.values.assign(m, 0);
          if (out.snaps.size() < max_kept) {
            k.snap.upper_bounds.clear();  // checked above; H6 does not need them
            out.snaps.push_back(std::move(k));
          }
          std::this_thread::yield();
        }
        return out;
      });

  // The final snapshot: exactly what was observed.
  sc::counts total(m, 0);
  for (std::size_t t = 0; t < observers; ++t) scripts[t].lane.prefix(results[t].observed, total);
  const histogram_snapshot last = h->snapshot();
  sc::counts got;
  ASSERT_EQ(model.check_snapshot(last, &got), "") << "final snapshot";
  EXPECT_EQ(got, total) << "final snapshot is not the multiset observed";

  std::vector<sc::read> reads;
  std::vector<histogram_snapshot> snaps;
  std::size_t taken = 0;
  for (outcome& o : results) {
    EXPECT_EQ(o.error, "");
    taken += o.taken;
    for (kept& k : o.snaps) {
      reads.push_back(std::move(k.read));
      snaps.push_back(std::move(k.snap));
    }
  }
  {  // the final snapshot joins the checks (lo = hi = everything)
    sc::read fin;
    fin.start = marks.stamp();
    marks.completed(fin.lo);
    marks.started(fin.hi);
    fin.end = marks.stamp();
    fin.values = got;
    reads.push_back(std::move(fin));
    snaps.push_back(last);
  }
  sc::options o;
  o.reads_serialize = true;
  o.key_name = [&](std::size_t j) { return model.class_name(j); };
  const auto b = sc::bounds_from_lanes(
      m, reads,
      [&](std::size_t t, std::uint64_t n, sc::counts& acc) { scripts[t].lane.prefix(n, acc); });
  sc::result res = sc::check(m, reads, b, o);
  EXPECT_TRUE(res.ok()) << res.failure;
  if (res.ok()) {
    lockless::test::histogram_chain_order(snaps, res.order);
    std::size_t bad = 0;
    for (std::size_t i = 1; i < res.order.size() && bad < 5; ++i) {
      const std::string why = model.check_successor(snaps[res.order[i - 1]], snaps[res.order[i]]);
      if (!why.empty()) {
        ++bad;
        ADD_FAILURE() << "snapshots " << res.order[i - 1] << " then " << res.order[i] << ": "
                      << why;
      }
    }
  }

  // Not vacuous: snapshots taken while observers ran.
  std::size_t mid = 0;
  std::int32_t coarsest = model.native() ? model.layout().schema : 0;
  for (const histogram_snapshot& s : snaps) {
    if (s.count > 0 && s.count < last.count) ++mid;
    coarsest = std::min(coarsest, s.schema);
  }
  EXPECT_GE(mid, 20U) << "too few snapshots while observers ran";
  if (want_coarser) {
    EXPECT_LT(last.schema, model.layout().schema) << "never coarsened";
  }
  EXPECT_LT(last.count, model.exact_below()) << "sums no longer exact: scale the work down";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "histogram stress [%s, %zu shards, %zu lanes]: %zu observations, %zu snapshots (%zu "
      "checked by intervals, %zu mid-run), final schema %d, coarsest %d, %.2f s\n",
      name, h->shard_count(), h->lane_count(), static_cast<std::size_t>(last.count), taken,
      reads.size(), mid, static_cast<int>(last.schema), static_cast<int>(coarsest), secs);
}

// Observations per observer (more while snapshots are few: min_snapshots). TSan runs
// atomics about a hundred times slower: a twentieth of the work there (scaled()'s /4, /5).
std::size_t ops() {
  return scaled(lockless_test::under_tsan ? 200000 : 1000000, 20000);
}

TEST(HistogramStress, SmallValuesSnapshotsConsistentMonotoneIntervalCorrect) {
  run_config("small", small_model(), 1, ops(), false);
  run_config("small", small_model(), 2, ops(), false);
  run_config("small", small_model(), 0, ops(), false);
}

TEST(HistogramStress, ClassicOwnerLanesSnapshotsConsistentMonotoneIntervalCorrect) {
  run_config("classic", classic_model(), 1, ops(), false);
  run_config("classic", classic_model(), 0, ops(), false);
}

TEST(HistogramStress, SpreadValuesCoarsenWhileObserved) {
  run_config("spread", spread_model(), 1, ops(), true);
  run_config("spread", spread_model(), 0, ops(), true);
}

TEST(HistogramStress, SpecialValuesNaNAndInfinities) {
  run_config("special", special_model(), 2, ops(), true);
}

}  // namespace
