// tests/structures/histogram_scenarios.hpp: what a histogram snapshot must hold, for a
// chosen set of observed values (histogram_model), and scripted runs of the histogram
// under the deterministic scheduler. Shared by tests/stress/histogram.cpp (the model
// only), tests/dsched/histogram.cpp and the schedule fuzz target
// tests/fuzz/histogram_sched.cpp (the model and the runs; the runs need LOCKLESS_DSCHED).
//
// THE MODEL (histogram_model)
//   A test observes only values of a few CLASSES: finite values (a class may alternate two
//   values that are equal as doubles, 0.0 and -0.0), +Inf, -Inf and NaN. The classic
//   bounds are derived so that every finite class has a classic bucket of its own (its
//   value is its bucket's bound: "le" is inclusive), -Inf the first bucket alone (a bound
//   below every finite class), +Inf and NaN the +Inf bucket. So a snapshot tells how many
//   observations of each class it counted (decode()):
//     finite class      its classic bucket's own count (minus -Inf in the first bucket,
//                       which has none: -Inf is alone there)
//     +Inf / -Inf       the native inf bucket (index native_inf_key(schema)) of that sign
//     NaN               count minus every native bucket (NaN has none)
//   (+Inf and NaN need native buckets: a model with them must have them.) From the
//   per-class counts everything else in a consistent snapshot follows, and
//   check_snapshot() compares it all, exactly:
//     H1  upper_bounds as configured; cumulative nondecreasing, size bounds + 1;
//         count == cumulative.back() (the +Inf bucket, == the sum of every bucket)
//     H2  every classic bucket holds only the classes that belong there (none negative)
//     H3  native: zero_count + positive + negative == count - NaNs; more exactly, the
//         zero bucket and every positive/negative bucket at the snapshot's schema equal
//         what the per-class counts put there (keys computed here independently of the
//         header: powers of two exactly, other values by log2, asserted away from a bound)
//     H4  native: schema in -4 .. configured; at most max_buckets buckets populated
//         unless the schema is -4; indices ascending, counts > 0; zero_threshold as set
//     H5  sum: NaN if a NaN or both infinities were counted, +-Inf if one infinity,
//         else the sum of count x value over the classes: exactly (==) while every
//         partial sum is exact in double whatever the order of the additions (the values'
//         bits span and the count fit in 52 bits: exact_below()), else within 2^-40 of
//         the sum of the magnitudes
//   and check_successor(a, b) (b taken after a, in the snapshots' own order):
//     H6  every cumulative count of b >= a's; b's schema <= a's; every native bucket of a,
//         reduced to b's schema (i -> (i + 1) >> 1 per step), <= b's; zero count too.
//   Per-class counts are the keys of support/snapshot_check.hpp (interval checks).
//
// THE RUNS (histogram_schedule_run; LOCKLESS_DSCHED builds only)
//   histogram_schedule_run(strat, model, shards, scripts, opt, &stats) -> "" or the failure
//   A histogram of the model's layout (and `shards` shards) and one scheduled thread per
//   script, one letter per operation of the alphabet (structures/histogram_ops.hpp):
//     o  observe(v)             v: the next value of the thread (below)
//     n  observe(v, n)          n = (thread's observation number) % 3: 0 (nothing), 1, 2
//     s  snapshot()             checked at once (check_snapshot) and kept
//     q  snapshot() + quantile(q) and native_quantile(q) for q = 0.1, 0.5, 0.9: as 's',
//        and both quantiles nondecreasing in q (NaN only when nothing is there to rank)
//     b  a burst of 4 observe(v) of successive values (native bound: hint lowering,
//        table full, overflow at schema -4)
//   Thread t's i-th observation has class (7 t + i) mod (classes): the threads spread
//   over every class, and a script's observations differ.
//   Every observation and snapshot is an interval of a step counter kept by the
//   scheduled threads (one runs at a time). After the run the calling thread takes a
//   final snapshot, which must be EXACT: per class, every observation of the scripts.
//   Then support/snapshot_check.hpp, intervals form, reads_serialize (snapshots take
//   turns on a mutex): every snapshot includes what ended before it started and nothing
//   that started after it ended, snapshots form one chain, and H6 holds along that chain.
//   Stripes: a thread's shard is its thread_stripe() (one process-wide counter) modulo
//   the shard count; before each run probe threads advance that counter to a multiple
//   of 4, so that the same schedule gives the same threads the same shards in any
//   process (replays are exact).
//   opt.on_done[t] (if set) is set to 1 when thread t's script ends (progress test).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <lockless/histogram.hpp>

#include "structures/histogram_ops.hpp"
#include "support/snapshot_check.hpp"

namespace lockless::test {

enum class hclass_kind : std::uint8_t { finite, pos_inf, neg_inf, nan };

struct histogram_class {
  hclass_kind kind = hclass_kind::finite;
  double value = 0;      // finite: the value
  double alternate = 0;  // finite: observed instead of value on odd observations (== value)
};

inline histogram_class hfinite(double v, double alt) {
  return {hclass_kind::finite, v, alt};
}
inline histogram_class hfinite(double v) {
  return {hclass_kind::finite, v, v};
}
inline histogram_class hspecial(hclass_kind k) {
  return {k, 0, 0};
}

class histogram_model {
 public:
  // classes: at most one of each special kind; finite values distinct. native: null for
  // classic buckets only (then no +Inf or NaN class). exact_sums: see H5.
  histogram_model(std::vector<histogram_class> classes, const native_buckets* native)
      : classes_(std::move(classes)) {
    if (native != nullptr) {
      native_ = true;
      layout_ = *native;
    }
    std::vector<double> finite;
    int low = 1 << 20, high = -(1 << 20);
    for (std::size_t j = 0; j < classes_.size(); ++j) {
      const histogram_class& c = classes_[j];
      switch (c.kind) {
        case hclass_kind::finite:
          if (!std::isfinite(c.value) || !(c.value == c.alternate)) fail("bad finite class");
          finite.push_back(c.value);
          break;
        case hclass_kind::pos_inf:
          pos_inf_ = j;
          break;
        case hclass_kind::neg_inf:
          neg_inf_ = j;
          break;
        case hclass_kind::nan:
          nan_ = j;
          break;
      }
      if (c.kind != hclass_kind::finite && c.kind != hclass_kind::neg_inf && !native_) {
        fail("+Inf and NaN classes need native buckets");
      }
      if (c.kind == hclass_kind::finite && native_ && std::fabs(c.value) > layout_.zero_threshold) {
        for (std::int32_t s = -4; s <= layout_.schema; ++s) (void)key_of(std::fabs(c.value), s);
      }
      if (c.kind == hclass_kind::finite && c.value != 0) {
        // The value's lowest and highest bits: every partial sum of these values is a
        // multiple of 2^low below count x 2^high.
        int e = std::ilogb(c.value);
        high = std::max(high, e + 1);
        while (std::ldexp(c.value, -e) != std::trunc(std::ldexp(c.value, -e))) --e;
        low = std::min(low, e);
      }
    }
    const int span = high - low;  // bits a partial sum needs, besides log2(count)
    exact_below_ =
        span >= 52 ? 0 : (high < low ? ~std::uint64_t{0} : std::uint64_t{1} << (52 - span));
    std::sort(finite.begin(), finite.end());
    if (std::adjacent_find(finite.begin(), finite.end()) != finite.end()) fail("duplicate value");
    if (finite.empty()) fail("no finite class");
    if (neg_inf_ != npos) {
      const double lo = finite.front();
      bounds_.push_back(lo < 0 ? 2 * lo : (lo == 0 ? -1.0 : lo / 2));
    }
    bounds_.insert(bounds_.end(), finite.begin(), finite.end());
    bucket_of_.resize(classes_.size());
    for (std::size_t j = 0; j < classes_.size(); ++j) {
      const histogram_class& c = classes_[j];
      if (c.kind == hclass_kind::finite) {
        bucket_of_[j] = static_cast<std::size_t>(
            std::lower_bound(bounds_.begin(), bounds_.end(), c.value) - bounds_.begin());
        finite_in_bucket_.emplace(bucket_of_[j], j);
      } else {
        bucket_of_[j] = c.kind == hclass_kind::neg_inf ? 0 : bounds_.size();
      }
    }
  }

  [[nodiscard]] std::size_t classes() const noexcept { return classes_.size(); }
  [[nodiscard]] const histogram_class& at(std::size_t j) const noexcept { return classes_[j]; }
  [[nodiscard]] const std::vector<double>& bounds() const noexcept { return bounds_; }
  [[nodiscard]] bool native() const noexcept { return native_; }
  // Snapshots with fewer observations than this have exact sums (H5); 0: never.
  [[nodiscard]] std::uint64_t exact_below() const noexcept { return exact_below_; }
  [[nodiscard]] const native_buckets& layout() const noexcept { return layout_; }

  // The value observation number i of class j observes.
  [[nodiscard]] double value(std::size_t j, std::uint64_t i) const noexcept {
    const histogram_class& c = classes_[j];
    switch (c.kind) {
      case hclass_kind::finite:
        return (i & 1) != 0 ? c.alternate : c.value;
      case hclass_kind::pos_inf:
        return std::numeric_limits<double>::infinity();
      case hclass_kind::neg_inf:
        return -std::numeric_limits<double>::infinity();
      case hclass_kind::nan:
        return std::numeric_limits<double>::quiet_NaN();
    }
    return 0;
  }

  [[nodiscard]] std::string class_name(std::size_t j) const {
    switch (classes_[j].kind) {
      case hclass_kind::finite: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "class %zu (%a)", j, classes_[j].value);
        return buf;
      }
      case hclass_kind::pos_inf:
        return "class " + std::to_string(j) + " (+Inf)";
      case hclass_kind::neg_inf:
        return "class " + std::to_string(j) + " (-Inf)";
      case hclass_kind::nan:
        return "class " + std::to_string(j) + " (NaN)";
    }
    return "?";
  }

  [[nodiscard]] std::unique_ptr<histogram> make(std::size_t shards) const {
    if (native_) return std::make_unique<histogram>(bounds_, layout_, shards);
    return std::make_unique<histogram>(bounds_, shards);
  }

  // The native index of |v| (finite, above the zero threshold) at schema s, computed
  // without the header: exactly for powers of two, by log2 otherwise (asserted at least
  // 1e-6 away from a bucket boundary).
  static std::int32_t key_of(double a, std::int32_t s) {
    int e = 0;
    const double frac = std::frexp(a, &e);
    if (frac == 0.5) {  // a = 2^(e-1): the bucket whose upper bound it is
      const std::int64_t k = e - 1;
      if (s >= 0) return static_cast<std::int32_t>(k * (std::int64_t{1} << s));
      const std::int64_t d = std::int64_t{1} << -s;
      return static_cast<std::int32_t>(k >= 0 ? (k + d - 1) / d : -((-k) / d));
    }
    const double x = std::ldexp(std::log2(a), s);
    if (std::fabs(x - std::round(x)) < 1e-6) fail("a value too close to a native bucket bound");
    return static_cast<std::int32_t>(std::ceil(x));
  }
  static std::int32_t inf_key(std::int32_t s) noexcept {
    return (s >= 0 ? (std::int32_t{1024} << s) : (std::int32_t{1024} >> -s)) + 1;
  }
  static std::int32_t reduce(std::int32_t key, std::int32_t from, std::int32_t to) noexcept {
    for (; from > to; --from) key = (key + 1) >> 1;  // ceil(key / 2), arithmetic shift
    return key;
  }

  // Per-class counts of a snapshot (see THE MODEL). "" or why it cannot be decoded.
  std::string decode(const histogram_snapshot& s, snapshot_check::counts& out) const {
    out.assign(classes_.size(), 0);
    if (s.cumulative.size() != bounds_.size() + 1) return "cumulative has the wrong size";
    std::uint64_t native_total = 0;
    std::uint64_t pinf = 0, ninf = 0;
    if (!native_ && neg_inf_ != npos) ninf = s.cumulative[0];  // -Inf: alone in the first bucket
    if (native_) {
      native_total = s.zero_count;
      for (const native_bucket& b : s.positive) {
        native_total += b.count;
        if (b.index == inf_key(s.schema)) pinf = b.count;
      }
      for (const native_bucket& b : s.negative) {
        native_total += b.count;
        if (b.index == inf_key(s.schema)) ninf = b.count;
      }
      if (native_total > s.count) {
        return "native buckets hold " + std::to_string(native_total) + " > count " +
               std::to_string(s.count);
      }
    }
    std::vector<std::uint64_t> special(bounds_.size() + 1, 0);  // specials per bucket
    auto put = [&](std::size_t j, std::uint64_t n) {
      if (j == npos) return n == 0;
      out[j] = n;
      special[bucket_of_[j]] += n;
      return true;
    };
    if (!put(pos_inf_, pinf)) return "+Inf counted, but the model has no +Inf class";
    if (!put(neg_inf_, ninf)) return "-Inf counted, but the model has no -Inf class";
    if (native_ && !put(nan_, s.count - native_total)) {
      return "count exceeds the native buckets by " + std::to_string(s.count - native_total) +
             ", but the model has no NaN class";
    }
    for (std::size_t b = 0; b <= bounds_.size(); ++b) {
      const std::uint64_t below = b == 0 ? 0 : s.cumulative[b - 1];
      if (s.cumulative[b] < below) return "cumulative decreases at bucket " + std::to_string(b);
      const std::uint64_t own = s.cumulative[b] - below;
      if (own < special[b]) {
        return "classic bucket " + std::to_string(b) + " holds " + std::to_string(own) +
               ", fewer than the " + std::to_string(special[b]) +
               " +Inf/-Inf/NaN observations the native buckets say belong there (H2)";
      }
      const auto it = finite_in_bucket_.find(b);
      if (it != finite_in_bucket_.end()) {
        out[it->second] = own - special[b];
      } else if (own != special[b]) {
        return "classic bucket " + std::to_string(b) + " holds " +
               std::to_string(own - special[b]) + " observations of no class (H2)";
      }
    }
    return {};
  }

  // H1-H5 on one snapshot; per_class (if given) receives decode()'s counts.
  std::string check_snapshot(const histogram_snapshot& s,
                             snapshot_check::counts* per_class = nullptr) const {
    snapshot_check::counts c;
    if (s.upper_bounds != bounds_) return "upper_bounds differ from the configured ones (H1)";
    if (s.cumulative.empty() || s.count != s.cumulative.back()) {
      return "count " + std::to_string(s.count) + " != the +Inf bucket (H1)";
    }
    if (std::string why = decode(s, c); !why.empty()) return why;
    if (per_class != nullptr) *per_class = c;
    if (s.native != native_) return "native flag differs from the layout (H4)";
    std::uint64_t pinf = 0, ninf = 0, nans = 0;
    if (pos_inf_ != npos) pinf = c[pos_inf_];
    if (neg_inf_ != npos) ninf = c[neg_inf_];
    if (nan_ != npos) nans = c[nan_];
    if (native_) {
      if (s.schema < -4 || s.schema > layout_.schema) {
        return "schema " + std::to_string(s.schema) + " outside -4.." +
               std::to_string(layout_.schema) + " (H4)";
      }
      if (!(s.zero_threshold == layout_.zero_threshold)) return "zero_threshold differs (H4)";
      if (s.schema != -4 && s.positive.size() + s.negative.size() > layout_.max_buckets) {
        return std::to_string(s.positive.size() + s.negative.size()) +
               " native buckets populated at schema " + std::to_string(s.schema) + " > max " +
               std::to_string(layout_.max_buckets) + " (H4)";
      }
      // H3: the expected native buckets from the per-class counts.
      std::uint64_t zero = 0;
      std::map<std::int32_t, std::uint64_t> pos, neg;
      for (std::size_t j = 0; j < classes_.size(); ++j) {
        if (c[j] == 0) continue;
        const histogram_class& k = classes_[j];
        if (k.kind == hclass_kind::pos_inf) pos[inf_key(s.schema)] += c[j];
        if (k.kind == hclass_kind::neg_inf) neg[inf_key(s.schema)] += c[j];
        if (k.kind != hclass_kind::finite) continue;
        const double a = std::fabs(k.value);
        if (a <= layout_.zero_threshold) {
          zero += c[j];
        } else {
          (k.value < 0 ? neg : pos)[key_of(a, s.schema)] += c[j];
        }
      }
      if (s.zero_count != zero) {
        return "zero_count " + std::to_string(s.zero_count) + ", expected " + std::to_string(zero) +
               " (H3)";
      }
      for (int sign = 0; sign < 2; ++sign) {
        const auto& got = sign == 0 ? s.positive : s.negative;
        const auto& want = sign == 0 ? pos : neg;
        std::vector<native_bucket> w;
        for (const auto& [i, n] : want) w.push_back({i, n});
        if (got != w) {
          std::string text = std::string(sign == 0 ? "positive" : "negative") +
                             " native buckets at schema " + std::to_string(s.schema) + ":";
          for (const native_bucket& b : got)
            text += " " + std::to_string(b.index) + ":" + std::to_string(b.count);
          text += "; expected:";
          for (const native_bucket& b : w)
            text += " " + std::to_string(b.index) + ":" + std::to_string(b.count);
          return text + " (H3)";
        }
      }
    }
    // H5.
    if (nans > 0 || (pinf > 0 && ninf > 0)) {
      if (!std::isnan(s.sum)) return "sum " + std::to_string(s.sum) + ", expected NaN (H5)";
    } else if (pinf > 0 || ninf > 0) {
      const double inf = pinf > 0 ? std::numeric_limits<double>::infinity()
                                  : -std::numeric_limits<double>::infinity();
      if (!(s.sum == inf)) return "sum " + std::to_string(s.sum) + ", expected an infinity (H5)";
    } else {
      double want = 0, magnitude = 0;
      for (std::size_t j = 0; j < classes_.size(); ++j) {
        if (classes_[j].kind != hclass_kind::finite) continue;
        want += static_cast<double>(c[j]) * classes_[j].value;
        magnitude += static_cast<double>(c[j]) * std::fabs(classes_[j].value);
      }
      const bool exact = s.count < exact_below_;
      if (exact ? !(s.sum == want) : !(std::fabs(s.sum - want) <= magnitude * 0x1p-40)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "sum %a, expected %a (%s) (H5)", s.sum, want,
                      exact ? "exactly" : "within 2^-40");
        return buf;
      }
    }
    return {};
  }

  // H6: b taken after a.
  std::string check_successor(const histogram_snapshot& a, const histogram_snapshot& b) const {
    for (std::size_t i = 0; i < a.cumulative.size() && i < b.cumulative.size(); ++i) {
      if (b.cumulative[i] < a.cumulative[i]) {
        return "cumulative bucket " + std::to_string(i) + " went from " +
               std::to_string(a.cumulative[i]) + " to " + std::to_string(b.cumulative[i]) + " (H6)";
      }
    }
    if (!native_) return {};
    if (b.schema > a.schema) {
      return "schema went up from " + std::to_string(a.schema) + " to " + std::to_string(b.schema) +
             " (H6)";
    }
    if (b.zero_count < a.zero_count) return "zero_count went down (H6)";
    for (int sign = 0; sign < 2; ++sign) {
      const auto& older = sign == 0 ? a.positive : a.negative;
      const auto& newer = sign == 0 ? b.positive : b.negative;
      std::map<std::int32_t, std::uint64_t> reduced;
      for (const native_bucket& x : older) reduced[reduce(x.index, a.schema, b.schema)] += x.count;
      for (const auto& [i, n] : reduced) {
        auto it = std::find_if(newer.begin(), newer.end(),
                               [&](const native_bucket& x) { return x.index == i; });
        const std::uint64_t now = it == newer.end() ? 0 : it->count;
        if (now < n) {
          return std::string(sign == 0 ? "positive" : "negative") + " native bucket " +
                 std::to_string(i) + " at schema " + std::to_string(b.schema) + " went from " +
                 std::to_string(n) + " (earlier snapshot, reduced) to " + std::to_string(now) +
                 " (H6)";
        }
      }
    }
    return {};
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  [[noreturn]] static void fail(const char* what) {
    throw std::logic_error(std::string("histogram_model: ") + what);
  }

  std::vector<histogram_class> classes_;
  std::uint64_t exact_below_ = 0;
  bool native_ = false;
  native_buckets layout_{};
  std::vector<double> bounds_;
  std::vector<std::size_t> bucket_of_;
  std::map<std::size_t, std::size_t> finite_in_bucket_;
  std::size_t pos_inf_ = npos, neg_inf_ = npos, nan_ = npos;
};

// Snapshots in the order they were taken (snapshots take turns on a mutex, so that order
// exists): by per-class total (counts only grow), and among equal totals the finer
// schema first (schemas only go down). `order` is snapshot_check's chain order.
inline void histogram_chain_order(const std::vector<histogram_snapshot>& snaps,
                                  std::vector<std::size_t>& order) {
  std::vector<std::size_t> rank(order.size());  // ties keep the chain's order
  for (std::size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (snaps[a].count != snaps[b].count) return snaps[a].count < snaps[b].count;
    if (snaps[a].schema != snaps[b].schema) return snaps[a].schema > snaps[b].schema;
    return rank[a] < rank[b];
  });
}

}  // namespace lockless::test

#if defined(LOCKLESS_DSCHED)
#include "support/dsched.hpp"

namespace lockless::test {

struct histogram_schedule_options {
  dsched::options run;
  std::vector<char>* on_done = nullptr;  // on_done[t] = 1 when thread t's script ends
};

struct histogram_schedule_stats {
  std::size_t snapshots = 0;     // taken by the scheduled threads
  std::size_t observations = 0;  // observe calls (bursts included)
  std::int32_t min_schema = 8;   // the coarsest schema a snapshot reported (final included)
  bool over_bound = false;       // a snapshot at -4 with more than max_buckets buckets
};

namespace detail {

// Advances the process-wide thread_stripe() counter to a multiple of 4 (see THE RUNS).
inline void align_stripes() {
  for (;;) {
    std::size_t got = 0;
    std::thread([&] { got = ::lockless::detail::thread_stripe(); }).join();
    if ((got + 1) % 4 == 0) return;
  }
}

inline std::string histogram_quantile_check(const histogram_snapshot& s) {
  const double qs[] = {0.1, 0.5, 0.9};
  double last = -std::numeric_limits<double>::infinity();
  for (double q : qs) {
    const double v = s.quantile(q);
    if (s.count > 0 && !s.upper_bounds.empty()) {
      if (std::isnan(v)) return "quantile(" + std::to_string(q) + ") is NaN with count > 0";
      if (v < last) return "quantile() decreases in q";
      last = v;
    }
  }
  last = -std::numeric_limits<double>::infinity();
  for (double q : qs) {
    const double v = s.native_quantile(q);
    if (!s.native && !std::isnan(v)) return "native_quantile() of a classic histogram is not NaN";
    if (s.count == 0 && !std::isnan(v)) return "native_quantile() of an empty histogram is not NaN";
    if (!std::isnan(v)) {
      if (v < last) return "native_quantile() decreases in q";
      last = v;
    }
  }
  return {};
}

}  // namespace detail

// H: lockless::histogram, or a test twin with observe(v), observe(v, n), snapshot();
// make() builds it (default: model.make(shards)).
template <class H = histogram>
std::string histogram_schedule_run(dsched::strategy& strat, const histogram_model& model,
                                   std::size_t shards, const std::vector<std::string>& scripts,
                                   const histogram_schedule_options& opt = {},
                                   histogram_schedule_stats* stats = nullptr,
                                   std::function<std::unique_ptr<H>()> make = nullptr) {
  using histogram_ops::op;
  const std::size_t n = scripts.size();
  const std::size_t m = model.classes();
  detail::align_stripes();
  std::unique_ptr<H> h;
  if (make) {
    h = make();
  } else if constexpr (std::is_same_v<H, histogram>) {
    h = model.make(shards);
  }

  std::uint64_t clock = 1;  // stamps: one scheduled thread runs at a time
  std::vector<std::vector<snapshot_check::increment>> incs(n);
  std::vector<std::vector<snapshot_check::read>> reads(n);
  std::vector<std::vector<histogram_snapshot>> snaps(n);
  std::vector<std::string> errors(n);
  std::vector<std::uint64_t> observations(n, 0);

  std::vector<std::function<void(unsigned)>> bodies;
  for (std::size_t t = 0; t < n; ++t) {
    bodies.push_back([&, t](unsigned) {
      H& hh = *h;
      std::uint64_t seq = 0;
      auto observe = [&](bool with_n) {
        const std::size_t j = static_cast<std::size_t>((7 * t + seq) % m);
        const double v = model.value(j, seq);
        const std::uint64_t amount = with_n ? seq % 3 : 1;
        ++seq;
        snapshot_check::increment inc{j, amount, clock++, 0};
        if (with_n) {
          hh.observe(v, amount);
        } else {
          hh.observe(v);
        }
        inc.end = clock++;
        incs[t].push_back(inc);
      };
      auto take = [&](bool quantiles) {
        snapshot_check::read r;
        r.start = clock++;
        histogram_snapshot s = hh.snapshot();
        r.end = clock++;
        if (errors[t].empty()) {
          if (std::string why = model.check_snapshot(s, &r.values); !why.empty()) {
            errors[t] = "snapshot " + std::to_string(snaps[t].size()) + ": " + why;
          } else if (quantiles) {
            errors[t] = detail::histogram_quantile_check(s);
          }
        }
        if (r.values.size() != m) r.values.assign(m, 0);
        reads[t].push_back(std::move(r));
        snaps[t].push_back(std::move(s));
      };
      for (char c : scripts[t]) {
        switch (op{c}) {
          case op::observe:
            observe(false);
            break;
          case op::observe_n:
            observe(true);
            break;
          case op::snapshot:
            take(false);
            break;
          case op::quantile:
            take(true);
            break;
          case op::burst:
            for (int k = 0; k < 4; ++k) observe(false);
            break;
          default:
            errors[t] += std::string("unknown script letter '") + c + "'\n";
            break;
        }
      }
      observations[t] = seq;
      if (opt.on_done != nullptr) (*opt.on_done)[t] = 1;
    });
  }

  const dsched::result r = dsched::run(strat, std::move(bodies), opt.run);
  if (!r.ok()) {
    (void)h.release();  // parked threads still point into it
    return r.report;
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (!errors[t].empty()) return "thread " + std::to_string(t) + ": " + errors[t];
  }

  // The final snapshot: exact.
  std::vector<snapshot_check::increment> all;
  std::vector<snapshot_check::read> all_reads;
  std::vector<histogram_snapshot> all_snaps;
  snapshot_check::counts total(m, 0);
  for (std::size_t t = 0; t < n; ++t) {
    for (const auto& i : incs[t]) {
      total[i.key] += i.amount;
      all.push_back(i);
    }
    for (std::size_t k = 0; k < reads[t].size(); ++k) {
      all_reads.push_back(std::move(reads[t][k]));
      all_snaps.push_back(std::move(snaps[t][k]));
    }
  }
  snapshot_check::read fin;
  fin.start = clock++;
  histogram_snapshot last = h->snapshot();
  fin.end = clock++;
  if (std::string why = model.check_snapshot(last, &fin.values); !why.empty()) {
    return "final snapshot: " + why;
  }
  if (fin.values != total) {
    std::string text = "final snapshot is not exact:";
    for (std::size_t j = 0; j < m; ++j) {
      if (fin.values[j] != total[j]) {
        text += " " + model.class_name(j) + " " + std::to_string(fin.values[j]) + " (observed " +
                std::to_string(total[j]) + ")";
      }
    }
    return text;
  }
  all_reads.push_back(std::move(fin));
  all_snaps.push_back(std::move(last));

  snapshot_check::options o;
  o.reads_serialize = true;
  o.key_name = [&](std::size_t j) { return model.class_name(j); };
  const auto b = snapshot_check::bounds_from_intervals(m, all, all_reads);
  snapshot_check::result res = snapshot_check::check(m, all_reads, b, o);
  if (!res.ok()) return "snapshot intervals: " + res.failure;
  histogram_chain_order(all_snaps, res.order);
  for (std::size_t i = 1; i < res.order.size(); ++i) {
    const std::string why =
        model.check_successor(all_snaps[res.order[i - 1]], all_snaps[res.order[i]]);
    if (!why.empty()) return "snapshots in their order: " + why;
  }
  if (stats != nullptr) {
    stats->snapshots = all_snaps.size() - 1;
    for (std::uint64_t o2 : observations) stats->observations += o2;
    for (const histogram_snapshot& s : all_snaps) {
      stats->min_schema = std::min(stats->min_schema, s.schema);
      if (s.schema == -4 && s.positive.size() + s.negative.size() > model.layout().max_buckets) {
        stats->over_bound = true;
      }
    }
  }
  return {};
}

// The models of the schedule runs.
//   exact  small dyadic values (exact sums), zero threshold 0.25 (a nonzero value in the
//          zero bucket), schema 2, max_buckets 3: hint lowering and coarsening.
//   wide   values 2^-750 .. 2^600 (every one in a native bucket of its own even at schema
//          -4), +-Inf, NaN, max_buckets 2: the bound cannot be kept, the table fills, the
//          overflow at schema -4 is reached; sums within 2^-40.
//   classic  classic buckets only.
inline const histogram_model& histogram_exact_model() {
  static const native_buckets layout{.schema = 2, .zero_threshold = 0.25, .max_buckets = 3};
  static const histogram_model m(
      {hfinite(-4), hfinite(-1), hfinite(-0.25), hfinite(0.0, -0.0), hfinite(0.25), hfinite(0.5),
       hfinite(1), hfinite(1.5), hfinite(2), hfinite(8), hfinite(64)},
      &layout);
  return m;
}
inline const histogram_model& histogram_wide_model() {
  static const native_buckets layout{.schema = 3, .zero_threshold = 0x1p-700, .max_buckets = 2};
  static const histogram_model m(
      {hfinite(-0x1p300), hfinite(-1), hfinite(-0x1p-300), hfinite(0.0, -0.0), hfinite(0x1p-750),
       hfinite(0x1p-600), hfinite(0x1p-300), hfinite(1), hfinite(0x1p300), hfinite(0x1p600),
       hspecial(hclass_kind::pos_inf), hspecial(hclass_kind::neg_inf), hspecial(hclass_kind::nan)},
      &layout);
  return m;
}
inline const histogram_model& histogram_classic_model() {
  static const histogram_model m({hfinite(-2), hfinite(0.0, -0.0), hfinite(0.5), hfinite(1),
                                  hfinite(3), hspecial(hclass_kind::neg_inf)},
                                 nullptr);
  return m;
}

}  // namespace lockless::test
#endif  // LOCKLESS_DSCHED
