// Unit tests of lockless::histogram: layouts and their errors, where observations land
// (classic "le" buckets, native exponential buckets at every schema, the zero bucket,
// NaN and the infinities), observe(v, n), the native bound (max_buckets: the schema goes
// down, counts are preserved and reduced exactly), PromQL quantiles against worked
// examples (Prometheus 2.42 semantics, computed by hand in the comments), snapshots that
// are consistent and monotone across many interleaved observes, and a few threads on
// several shards (final snapshot exact).
//
// Native keys are checked against worked values and against an exact reference key
// (structures/histogram_ops.hpp: exact_native_key, integer arithmetic only), never
// against the header's own key function.
#include <lockless/histogram.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "structures/histogram_ops.hpp"

namespace {

using lockless::exponential_buckets;
using lockless::exponential_buckets_range;
using lockless::histogram;
using lockless::histogram_snapshot;
using lockless::linear_buckets;
using lockless::native_bucket;
using lockless::native_buckets;
namespace ops = lockless::test::histogram_ops;

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double dbl_max = std::numeric_limits<double>::max();
constexpr double denorm_min = std::numeric_limits<double>::denorm_min();

static_assert(!std::is_copy_constructible_v<histogram>);
static_assert(!std::is_copy_assignable_v<histogram>);
static_assert(!std::is_move_constructible_v<histogram>);
static_assert(!std::is_move_assignable_v<histogram>);
static_assert(!std::is_default_constructible_v<histogram>);
static_assert(noexcept(std::declval<histogram&>().observe(1.0)));
static_assert(noexcept(std::declval<histogram&>().observe(1.0, 2)));

double up(double v) {
  return std::nextafter(v, inf);
}
double down(double v) {
  return std::nextafter(v, -inf);
}

// Per-bucket (not cumulative) classic counts of a snapshot.
std::vector<std::uint64_t> classic_counts(const histogram_snapshot& s) {
  std::vector<std::uint64_t> out(s.cumulative.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = s.cumulative[i] - (i == 0 ? 0 : s.cumulative[i - 1]);
  }
  return out;
}

// ---- a reference model of native buckets: exact keys at the configured schema ---------
struct native_model {
  native_model(std::int32_t s, double t) : schema(s), zero_threshold(t) {}
  std::int32_t schema;
  double zero_threshold;
  std::uint64_t zero = 0;
  std::uint64_t nans = 0;
  std::map<std::pair<bool, std::int32_t>, std::uint64_t> buckets;  // (negative, key)

  void observe(double v, std::uint64_t n = 1) {
    if (n == 0) return;
    if (std::isnan(v)) {
      nans += n;
      return;
    }
    const double a = std::fabs(v);
    if (a <= zero_threshold) {
      zero += n;
      return;
    }
    const std::int32_t key =
        std::isinf(a) ? ops::reference_inf_key(schema) : ops::exact_native_key(a, schema);
    buckets[{v < 0, key}] += n;
  }
  // The buckets at a coarser schema: (negative, key) -> count.
  [[nodiscard]] std::map<std::pair<bool, std::int32_t>, std::uint64_t> at(std::int32_t s) const {
    std::map<std::pair<bool, std::int32_t>, std::uint64_t> out;
    for (const auto& [k, c] : buckets)
      out[{k.first, ops::reference_reduce(k.second, schema, s)}] += c;
    return out;
  }
};

std::map<std::pair<bool, std::int32_t>, std::uint64_t> snapshot_buckets(
    const histogram_snapshot& s) {
  std::map<std::pair<bool, std::int32_t>, std::uint64_t> out;
  for (const native_bucket& b : s.positive) out[{false, b.index}] += b.count;
  for (const native_bucket& b : s.negative) out[{true, b.index}] += b.count;
  return out;
}

// Ascending, strictly, with positive counts.
void expect_well_formed(const std::vector<native_bucket>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_GT(v[i].count, 0u);
    if (i > 0) {
      EXPECT_LT(v[i - 1].index, v[i].index);
    }
  }
}

// The key a single finite or infinite positive value gets at `schema` (one observation in
// a fresh native histogram with zero threshold 0).
std::int32_t key_of(double v, std::int32_t schema) {
  histogram h(native_buckets{.schema = schema, .zero_threshold = 0, .max_buckets = 160}, 1);
  h.observe(v);
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.schema, schema);
  EXPECT_TRUE(s.negative.empty());
  if (s.positive.size() != 1) {
    ADD_FAILURE() << "value " << v << " at schema " << schema << ": " << s.positive.size()
                  << " positive buckets";
    return std::numeric_limits<std::int32_t>::min();
  }
  EXPECT_EQ(s.positive[0].count, 1u);
  return s.positive[0].index;
}

// ---- layouts ------------------------------------------------------------------------

TEST(HistogramLayouts, LinearBuckets) {
  EXPECT_EQ(linear_buckets(1, 2, 4), (std::vector<double>{1, 3, 5, 7}));
  EXPECT_EQ(linear_buckets(-1, 0.5, 3), (std::vector<double>{-1, -0.5, 0}));
  EXPECT_EQ(linear_buckets(5, 1, 1), (std::vector<double>{5}));
  EXPECT_THROW((void)linear_buckets(0, 1, 0), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(nan, 1, 3), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(inf, 1, 3), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(0, inf, 3), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(0, nan, 3), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(0, 0, 3), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(0, -1, 3), std::invalid_argument);
  EXPECT_THROW((void)linear_buckets(1e308, 1e308, 3), std::invalid_argument);  // 3e308
}

TEST(HistogramLayouts, ExponentialBuckets) {
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(exponential_buckets(0.5, 10, 3), (std::vector<double>{0.5, 5, 50}));
  EXPECT_EQ(exponential_buckets(3, 1.5, 1), (std::vector<double>{3}));
  EXPECT_THROW((void)exponential_buckets(1, 2, 0), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(-1, 2, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(1, 1, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(1, 0.5, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(nan, 2, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(inf, 2, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(1, inf, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(1, nan, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets(1e300, 10, 10), std::invalid_argument);  // overflow
}

TEST(HistogramLayouts, ExponentialBucketsRange) {
  EXPECT_EQ(exponential_buckets_range(1, 2, 2), (std::vector<double>{1, 2}));
  const std::vector<double> b = exponential_buckets_range(1, 1000, 4);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b.front(), 1.0);
  EXPECT_EQ(b.back(), 1000.0);  // exactly max
  EXPECT_NEAR(b[1], 10.0, 1e-12);
  EXPECT_NEAR(b[2], 100.0, 1e-10);
  const std::vector<double> c = exponential_buckets_range(0.001, 7.5, 50);
  ASSERT_EQ(c.size(), 50u);
  EXPECT_EQ(c.front(), 0.001);
  EXPECT_EQ(c.back(), 7.5);
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_LT(c[i - 1], c[i]) << i;
  EXPECT_THROW((void)exponential_buckets_range(1, 10, 0), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(1, 10, 1), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(0, 10, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(-1, 10, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(10, 10, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(10, 1, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(nan, 10, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(1, nan, 3), std::invalid_argument);
  EXPECT_THROW((void)exponential_buckets_range(1, inf, 3), std::invalid_argument);
}

// 0 < min < max, both finite, count >= 2 is documented as valid; max / min overflows a
// double here (1e600), but the bounds themselves (1e-300, 1, 1e300) are all finite.
TEST(HistogramLayouts, ExponentialBucketsRangeWideButValid) {
  std::vector<double> b;
  ASSERT_NO_THROW(b = exponential_buckets_range(1e-300, 1e300, 3));
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.front(), 1e-300);
  EXPECT_NEAR(b[1], 1.0, 1e-9);
  EXPECT_EQ(b.back(), 1e300);
}

TEST(HistogramLayouts, ConstructorRejectsBadBounds) {
  EXPECT_THROW(histogram(std::vector<double>{1, nan, 3}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{1, inf}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{-inf, 1}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{nan}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{1, 1}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{2, 1}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{1, 2, 2, 3}), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{0.0, -0.0}), std::invalid_argument);  // equal
  EXPECT_THROW(histogram(std::vector<double>{1, nan}, native_buckets{}), std::invalid_argument);
  EXPECT_NO_THROW(histogram(std::vector<double>{}));
  EXPECT_NO_THROW(histogram(std::vector<double>{-dbl_max, dbl_max}));
}

TEST(HistogramLayouts, ConstructorRejectsBadNativeLayouts) {
  auto make = [](native_buckets n) { histogram h(n, 1); };
  EXPECT_THROW(make({.schema = -5}), std::invalid_argument);
  EXPECT_THROW(make({.schema = 9}), std::invalid_argument);
  EXPECT_NO_THROW(make({.schema = -4}));
  EXPECT_NO_THROW(make({.schema = 8}));
  EXPECT_THROW(make({.zero_threshold = -1e-9}), std::invalid_argument);
  EXPECT_THROW(make({.zero_threshold = nan}), std::invalid_argument);
  EXPECT_THROW(make({.zero_threshold = inf}), std::invalid_argument);
  EXPECT_NO_THROW(make({.zero_threshold = 0}));
  EXPECT_NO_THROW(make({.zero_threshold = dbl_max}));
  EXPECT_THROW(make({.max_buckets = 0}), std::invalid_argument);
  EXPECT_THROW(make({.max_buckets = 32769}), std::invalid_argument);
  EXPECT_NO_THROW(make({.max_buckets = 1}));
  EXPECT_NO_THROW(make({.max_buckets = 32768}));
  EXPECT_THROW(histogram(std::vector<double>{1}, native_buckets{.schema = 9}),
               std::invalid_argument);
}

TEST(HistogramLayouts, Shards) {
  EXPECT_THROW(histogram(std::vector<double>{1}, 1025), std::invalid_argument);
  EXPECT_THROW(histogram(native_buckets{}, 1025), std::invalid_argument);
  EXPECT_THROW(histogram(std::vector<double>{1}, native_buckets{}, 4096), std::invalid_argument);
  const std::pair<std::size_t, std::size_t> rounding[] = {
      {1, 1}, {2, 2}, {3, 4}, {5, 8}, {8, 8}, {9, 16}, {1000, 1024}, {1024, 1024}};
  for (const auto& [asked, got] : rounding) {
    EXPECT_EQ(histogram(std::vector<double>{1}, asked).shard_count(), got) << asked;
  }
  EXPECT_EQ(histogram(native_buckets{}, 3).shard_count(), 4u);
  const std::size_t classic_default = histogram(std::vector<double>{1}).shard_count();
  EXPECT_TRUE(std::has_single_bit(classic_default));
  EXPECT_LE(classic_default, 64u);
  const std::size_t native_default = histogram(native_buckets{}).shard_count();
  EXPECT_TRUE(std::has_single_bit(native_default));
  EXPECT_LE(native_default, 8u);
}

TEST(HistogramLayouts, Observers) {
  const std::vector<double> bounds{0.1, 1, 10};
  histogram classic(bounds, 2);
  EXPECT_EQ(std::vector<double>(classic.upper_bounds().begin(), classic.upper_bounds().end()),
            bounds);
  EXPECT_FALSE(classic.has_native());
  const native_buckets layout{.schema = -2, .zero_threshold = 0.25, .max_buckets = 7};
  histogram both(bounds, layout, 2);
  EXPECT_TRUE(both.has_native());
  EXPECT_EQ(both.native_layout().schema, -2);
  EXPECT_EQ(both.native_layout().zero_threshold, 0.25);
  EXPECT_EQ(both.native_layout().max_buckets, 7u);
  histogram native_only(layout, 1);
  EXPECT_TRUE(native_only.upper_bounds().empty());
  const histogram_snapshot s = native_only.snapshot();
  EXPECT_TRUE(s.native);
  EXPECT_EQ(s.schema, -2);
  EXPECT_EQ(s.zero_threshold, 0.25);
  EXPECT_EQ(s.cumulative, std::vector<std::uint64_t>{0});
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0.0);
  EXPECT_FALSE(classic.snapshot().native);
}

// ---- classic buckets ------------------------------------------------------------------

TEST(HistogramClassic, LeIsInclusive) {
  histogram h(std::vector<double>{-1, 0, 1, 2.5}, 1);
  // bucket:     le -1        le 0            le 1        le 2.5      +Inf
  h.observe(-1);       // 0: equal to the bound
  h.observe(up(-1));   // 1: just above
  h.observe(-100);     // 0: below the first
  h.observe(-inf);     // 0
  h.observe(0);        // 1
  h.observe(-0.0);     // 1
  h.observe(up(0));    // 2 (the smallest subnormal)
  h.observe(1);        // 2
  h.observe(2.5);      // 3
  h.observe(up(2.5));  // 4
  h.observe(1e300);    // 4
  h.observe(dbl_max);  // 4
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{-1, 0, 1, 2.5}));
  EXPECT_EQ(classic_counts(s), (std::vector<std::uint64_t>{3, 3, 2, 1, 3}));
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{3, 6, 8, 9, 12}));
  EXPECT_EQ(s.count, 12u);
  EXPECT_EQ(s.sum, -inf);
  EXPECT_FALSE(s.native);
}

TEST(HistogramClassic, OnlyTheInfBucket) {
  histogram h(std::vector<double>{}, 1);
  h.observe(3);
  h.observe(-3);
  h.observe(0.5, 4);
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, std::vector<std::uint64_t>{6});
  EXPECT_EQ(s.count, 6u);
  EXPECT_EQ(s.sum, 2.0);
}

TEST(HistogramClassic, NaNCountsInInfBucket) {
  histogram h(std::vector<double>{1, 2}, native_buckets{.schema = 0}, 1);
  h.observe(1.5);
  h.observe(nan);
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(classic_counts(s), (std::vector<std::uint64_t>{0, 1, 1}));
  EXPECT_EQ(s.count, 2u);
  EXPECT_TRUE(std::isnan(s.sum));
  // native: no bucket for NaN, count still counts it
  EXPECT_EQ(s.zero_count, 0u);
  EXPECT_EQ(s.positive, (std::vector<native_bucket>{{1, 1}}));
  EXPECT_TRUE(s.negative.empty());
}

TEST(HistogramClassic, Infinities) {
  {
    histogram h(std::vector<double>{0, 1}, 1);
    h.observe(inf);
    h.observe(5);
    const histogram_snapshot s = h.snapshot();
    EXPECT_EQ(classic_counts(s), (std::vector<std::uint64_t>{0, 0, 2}));
    EXPECT_EQ(s.sum, inf);
  }
  {
    histogram h(std::vector<double>{0, 1}, 1);
    h.observe(-inf);
    const histogram_snapshot s = h.snapshot();
    EXPECT_EQ(classic_counts(s), (std::vector<std::uint64_t>{1, 0, 0}));
    EXPECT_EQ(s.sum, -inf);
  }
  {
    histogram h(std::vector<double>{0, 1}, 1);
    h.observe(-inf);
    h.observe(inf);
    const histogram_snapshot s = h.snapshot();
    EXPECT_EQ(s.count, 2u);
    EXPECT_TRUE(std::isnan(s.sum));
  }
}

TEST(HistogramClassic, ObserveN) {
  histogram h(std::vector<double>{1, 4}, native_buckets{.schema = 0, .zero_threshold = 0}, 2);
  h.observe(2.0, 5);
  h.observe(0.5, 0);  // nothing
  h.observe(nan, 0);  // nothing: the sum stays a number
  h.observe(inf, 0);  // nothing
  h.observe(-3.0, 1);
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(classic_counts(s), (std::vector<std::uint64_t>{1, 5, 0}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_EQ(s.sum, 7.0);
  EXPECT_EQ(s.positive, (std::vector<native_bucket>{{1, 5}}));  // 2 in (1, 2]
  EXPECT_EQ(s.negative, (std::vector<native_bucket>{{2, 1}}));  // 3 in (2, 4]
  EXPECT_EQ(s.zero_count, 0u);
  histogram empty(std::vector<double>{1}, 1);
  empty.observe(1, 0);
  EXPECT_EQ(empty.snapshot().count, 0u);
  EXPECT_EQ(empty.snapshot().sum, 0.0);
}

// ---- native buckets ------------------------------------------------------------------------

TEST(HistogramNative, ZeroBucket) {
  histogram h(native_buckets{.schema = 0, .zero_threshold = 0.5}, 1);
  h.observe(0);
  h.observe(-0.0);
  h.observe(0.5);  // threshold inclusive
  h.observe(-0.5);
  h.observe(0.25, 3);
  h.observe(up(0.5));  // (0.5, 1]: key 0
  h.observe(-up(0.5));
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.zero_count, 7u);
  EXPECT_EQ(s.zero_threshold, 0.5);
  EXPECT_EQ(s.positive, (std::vector<native_bucket>{{0, 1}}));
  EXPECT_EQ(s.negative, (std::vector<native_bucket>{{0, 1}}));
  EXPECT_EQ(s.count, 9u);
}

TEST(HistogramNative, ZeroThresholdZeroAndDefault) {
  {
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0}, 1);
    h.observe(0);
    h.observe(-0.0);
    h.observe(denorm_min);  // 2^-1074: key -1074 at schema 0
    const histogram_snapshot s = h.snapshot();
    EXPECT_EQ(s.zero_count, 2u);
    EXPECT_EQ(s.positive, (std::vector<native_bucket>{{-1074, 1}}));
  }
  {
    histogram h(native_buckets{.schema = 0}, 1);  // default threshold 2^-128
    EXPECT_EQ(h.native_layout().zero_threshold, 0x1p-128);
    h.observe(0x1p-128);
    h.observe(-0x1p-130);
    h.observe(up(0x1p-128));  // (2^-128, 2^-127]: key -127
    const histogram_snapshot s = h.snapshot();
    EXPECT_EQ(s.zero_count, 2u);
    EXPECT_EQ(s.positive, (std::vector<native_bucket>{{-127, 1}}));
  }
}

TEST(HistogramNative, NegativeBuckets) {
  histogram h(native_buckets{.schema = 0, .zero_threshold = 0}, 1);
  h.observe(-3);    // |v| in (2, 4]: key 2
  h.observe(-4);    // key 2
  h.observe(-1);    // key 0
  h.observe(-0.3);  // (0.25, 0.5]: key -1
  h.observe(5);     // (4, 8]: key 3
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.negative, (std::vector<native_bucket>{{-1, 1}, {0, 1}, {2, 2}}));
  EXPECT_EQ(s.positive, (std::vector<native_bucket>{{3, 1}}));
  EXPECT_DOUBLE_EQ(s.sum, -3.3);
}

TEST(HistogramNative, Infinities) {
  for (const std::int32_t schema : {-4, -2, 0, 3, 8}) {
    histogram h(native_buckets{.schema = schema, .zero_threshold = 0}, 1);
    h.observe(inf);
    h.observe(-inf, 2);
    h.observe(dbl_max);
    const histogram_snapshot s = h.snapshot();
    // inf key: 1024 * 2^s + 1 (s < 0: (1024 >> -s) + 1); DBL_MAX: 1024 * 2^s
    const std::int32_t inf_key = schema >= 0 ? (1024 << schema) + 1 : (1024 >> -schema) + 1;
    EXPECT_EQ(s.positive, (std::vector<native_bucket>{{inf_key - 1, 1}, {inf_key, 1}})) << schema;
    EXPECT_EQ(s.negative, (std::vector<native_bucket>{{inf_key, 2}})) << schema;
    EXPECT_TRUE(std::isnan(s.sum));
    EXPECT_EQ(histogram_snapshot::native_upper_bound(inf_key, schema), inf) << schema;
    EXPECT_EQ(histogram_snapshot::native_upper_bound(inf_key - 1, schema), dbl_max) << schema;
  }
  histogram h(native_buckets{.schema = 3}, 1);
  h.observe(inf);
  EXPECT_EQ(h.snapshot().sum, inf);
  histogram g(native_buckets{.schema = 3}, 1);
  g.observe(-inf);
  EXPECT_EQ(g.snapshot().sum, -inf);
}

TEST(HistogramNative, KeysSchema0) {
  // bucket i: (2^(i-1), 2^i]
  EXPECT_EQ(key_of(1, 0), 0);
  EXPECT_EQ(key_of(up(1), 0), 1);
  EXPECT_EQ(key_of(1.5, 0), 1);
  EXPECT_EQ(key_of(2, 0), 1);
  EXPECT_EQ(key_of(3, 0), 2);
  EXPECT_EQ(key_of(4, 0), 2);
  EXPECT_EQ(key_of(up(4), 0), 3);
  EXPECT_EQ(key_of(0.75, 0), 0);
  EXPECT_EQ(key_of(0.5, 0), -1);
  EXPECT_EQ(key_of(down(0.5), 0), -1);
  EXPECT_EQ(key_of(0.25, 0), -2);
  EXPECT_EQ(key_of(1024, 0), 10);
}

TEST(HistogramNative, KeysPositiveSchemas) {
  // schema 3: bucket i is (2^((i-1)/8), 2^(i/8)]; 2^(4/8) = 1.41421..., 2^(5/8) = 1.54221...
  EXPECT_EQ(key_of(1, 3), 0);
  EXPECT_EQ(key_of(up(1), 3), 1);
  EXPECT_EQ(key_of(2, 3), 8);
  EXPECT_EQ(key_of(up(2), 3), 9);
  EXPECT_EQ(key_of(4, 3), 16);
  EXPECT_EQ(key_of(up(4), 3), 17);
  EXPECT_EQ(key_of(0.5, 3), -8);
  EXPECT_EQ(key_of(up(0.5), 3), -7);
  EXPECT_EQ(key_of(1.5, 3), 5);   // 1.414 < 1.5 <= 1.542
  EXPECT_EQ(key_of(3, 3), 13);    // 2 * 1.5: one octave up
  EXPECT_EQ(key_of(1.05, 3), 1);  // 1 < 1.05 <= 2^(1/8) = 1.0905
  EXPECT_EQ(key_of(1.1, 3), 2);   // 1.0905 < 1.1 <= 2^(2/8) = 1.1892
  // schema 1: (1, sqrt 2], (sqrt 2, 2]; schema 8: 256 buckets per octave
  EXPECT_EQ(key_of(1.4, 1), 1);
  EXPECT_EQ(key_of(1.5, 1), 2);
  EXPECT_EQ(key_of(2, 1), 2);
  EXPECT_EQ(key_of(2, 8), 256);
  EXPECT_EQ(key_of(up(2), 8), 257);
  EXPECT_EQ(key_of(0.5, 8), -256);
}

// sqrt(2.0) is the double 1.4142135623730951, which is ABOVE the real 2^(1/2) =
// 1.41421356237309504880... (the doubles around 2^(1/2) are ...0949 below it and ...0951
// above it). So it belongs to the bucket (2^(1/2), 2^(...)] at every schema s >= 1
// (key 2^(s-1) + 1), and the double just below it to the bucket ending at 2^(1/2)
// (key 2^(s-1)). Prometheus' client (its table of 2^(i/2^s - 1) holds 0.7071067811865475,
// below 2^(-1/2)) counts it there too.
TEST(HistogramNative, KeysAtIrrationalBoundaries) {
  const double root2 = std::sqrt(2.0);
  ASSERT_EQ(root2 * root2 > 2.0 || std::fma(root2, root2, -2.0) > 0, true);  // above 2^(1/2)
  ASSERT_LT(std::fma(down(root2), down(root2), -2.0), 0);                    // below it
  for (std::int32_t s = 1; s <= 8; ++s) {
    const std::int32_t half = std::int32_t{1} << (s - 1);
    EXPECT_EQ(key_of(down(root2), s), half) << "schema " << s;
    EXPECT_EQ(key_of(root2, s), half + 1) << "schema " << s;
  }
}

// Every boundary 2^(i/2^s) of schemas 1..8 in [1, 2), the doubles at and around it, in
// two octaves: the histogram's buckets must equal the exact reference keys.
TEST(HistogramNative, KeysAroundEveryBoundaryMatchTheExactKey) {
  for (std::int32_t s = 1; s <= 8; ++s) {
    const std::int32_t n = std::int32_t{1} << s;
    histogram h(native_buckets{.schema = s, .zero_threshold = 0, .max_buckets = 32768}, 1);
    native_model model{s, 0};
    for (std::int32_t i = 0; i < n; ++i) {
      const double b = std::exp2(static_cast<double>(i) / n);
      for (const double v : {down(down(b)), down(b), b, up(b), up(up(b))}) {
        for (const int e : {-40, 33}) {
          h.observe(std::ldexp(v, e));
          model.observe(std::ldexp(v, e));
        }
      }
    }
    const histogram_snapshot snap = h.snapshot();
    ASSERT_EQ(snap.schema, s);
    const auto got = snapshot_buckets(snap);
    const auto want = model.at(s);
    std::size_t wrong = 0;
    std::string first;
    for (const auto& [k, c] : want) {
      const auto it = got.find(k);
      if (it == got.end() || it->second != c) {
        if (wrong++ < 3) {
          first += " key " + std::to_string(k.second) + ": want " + std::to_string(c) + " got " +
                   std::to_string(it == got.end() ? 0 : it->second) + ";";
        }
      }
    }
    EXPECT_EQ(wrong, 0u) << "schema " << s << ":" << first;
    EXPECT_EQ(got.size(), want.size()) << "schema " << s;
  }
}

TEST(HistogramNative, KeysNegativeSchemas) {
  // schema -1: bucket i is (4^(i-1), 4^i]
  EXPECT_EQ(key_of(1, -1), 0);
  EXPECT_EQ(key_of(2, -1), 1);
  EXPECT_EQ(key_of(4, -1), 1);
  EXPECT_EQ(key_of(up(4), -1), 2);
  EXPECT_EQ(key_of(0.5, -1), 0);
  EXPECT_EQ(key_of(0.3, -1), 0);
  EXPECT_EQ(key_of(0.25, -1), -1);
  EXPECT_EQ(key_of(down(0.25), -1), -1);
  EXPECT_EQ(key_of(0.0625, -1), -2);
  // schema -4: bucket i is (2^(16(i-1)), 2^(16 i)]
  EXPECT_EQ(key_of(1, -4), 0);
  EXPECT_EQ(key_of(up(1), -4), 1);
  EXPECT_EQ(key_of(65536, -4), 1);
  EXPECT_EQ(key_of(65537, -4), 2);
  EXPECT_EQ(key_of(0x1p-16, -4), -1);
  EXPECT_EQ(key_of(up(0x1p-16), -4), 0);
  EXPECT_EQ(key_of(0.5, -4), 0);
  EXPECT_EQ(key_of(0x1p-17, -4), -1);
  EXPECT_EQ(key_of(0x1p-32, -4), -2);
  EXPECT_EQ(key_of(up(0x1p-32), -4), -1);
}

TEST(HistogramNative, KeysOfExtremes) {
  // subnormals: 2^-1074, 2^-1073, 3 * 2^-1074 in (2^-1073, 2^-1072]
  EXPECT_EQ(key_of(denorm_min, 0), -1074);
  EXPECT_EQ(key_of(2 * denorm_min, 0), -1073);
  EXPECT_EQ(key_of(3 * denorm_min, 0), -1072);
  EXPECT_EQ(key_of(std::numeric_limits<double>::min(), 0), -1022);
  EXPECT_EQ(key_of(denorm_min, 3), -1074 * 8);
  EXPECT_EQ(key_of(denorm_min, -4), -67);  // ceil(-1074 / 16)
  EXPECT_EQ(key_of(denorm_min, -1), -537);
  EXPECT_EQ(key_of(3 * denorm_min, 1), -2144);  // 3*2^-1074 = 2^-1072.415: (2^-1072.5, 2^-1072]
  // DBL_MAX (just under 2^1024): key 1024 * 2^s
  EXPECT_EQ(key_of(dbl_max, 0), 1024);
  EXPECT_EQ(key_of(dbl_max, 3), 8192);
  EXPECT_EQ(key_of(dbl_max, 8), 262144);
  EXPECT_EQ(key_of(dbl_max, -4), 64);
  EXPECT_EQ(key_of(0x1p1023, 0), 1023);
  // a sweep: each key's bounds hold the value, at every schema
  for (std::int32_t s = -4; s <= 8; ++s) {
    for (const double v :
         {denorm_min, 3e-310, 1e-300, 0.001, 0.1, 0.7, 1.0, 1.3, 3.0, 1e10, 1e300, dbl_max}) {
      const std::int32_t k = key_of(v, s);
      EXPECT_EQ(k, ops::exact_native_key(v, s)) << v << " schema " << s;
      EXPECT_LE(v, histogram_snapshot::native_upper_bound(k, s)) << v << " schema " << s;
      // (below DBL_MIN the bounds 2^(i/2^s) round to few bits: 2^(-1074 - 1/2^s) is
      // 2^-1074 again, so only normal values are bracketed strictly)
      if (v >= std::numeric_limits<double>::min()) {
        EXPECT_GT(v, histogram_snapshot::native_upper_bound(k - 1, s)) << v << " schema " << s;
      }
    }
  }
}

TEST(HistogramNative, UpperBound) {
  using S = histogram_snapshot;
  EXPECT_EQ(S::native_upper_bound(0, 0), 1.0);
  EXPECT_EQ(S::native_upper_bound(1, 0), 2.0);
  EXPECT_EQ(S::native_upper_bound(-1, 0), 0.5);
  EXPECT_EQ(S::native_upper_bound(10, 0), 1024.0);
  EXPECT_EQ(S::native_upper_bound(8, 3), 2.0);
  EXPECT_EQ(S::native_upper_bound(-8, 3), 0.5);
  EXPECT_EQ(S::native_upper_bound(16, 3), 4.0);
  EXPECT_NEAR(S::native_upper_bound(4, 3), std::sqrt(2.0), 4e-16);
  EXPECT_NEAR(S::native_upper_bound(1, 3), 1.0905077326652577, 4e-16);
  EXPECT_NEAR(S::native_upper_bound(-3, 3), 0.7711054127039704, 4e-16);  // 2^(-3/8)
  EXPECT_EQ(S::native_upper_bound(1, -1), 4.0);
  EXPECT_EQ(S::native_upper_bound(-1, -1), 0.25);
  EXPECT_EQ(S::native_upper_bound(1, -4), 65536.0);
  EXPECT_EQ(S::native_upper_bound(-1, -4), 0x1p-16);
  EXPECT_EQ(S::native_upper_bound(-1074, 0), denorm_min);
  EXPECT_EQ(S::native_upper_bound(-1075, 0), 0.0);
  EXPECT_EQ(S::native_upper_bound(1024, 0), dbl_max);
  EXPECT_EQ(S::native_upper_bound(1025, 0), inf);
  EXPECT_EQ(S::native_upper_bound(262144, 8), dbl_max);
  EXPECT_EQ(S::native_upper_bound(262145, 8), inf);
  EXPECT_EQ(S::native_upper_bound(64, -4), dbl_max);
  EXPECT_EQ(S::native_upper_bound(65, -4), inf);
  EXPECT_EQ(S::native_upper_bound(512, -1), dbl_max);
  EXPECT_EQ(S::native_upper_bound(513, -1), inf);
}

// ---- the bound -----------------------------------------------------------------------------

// max_buckets 8, schema 8: values over 2^-12 .. 2^12 (24 octaves) and -2^-4 .. -2^3, zeros
// and a NaN. At schema -2 (4 octaves a bucket) they fill 6 + 2 buckets; at -1, 12 + 3. The
// snapshot must lower the schema until at most 8 buckets remain (to -2, or lower where the
// lazy lowering overshoots, never to -4), and its buckets must be exactly the model's
// exact keys (at schema 8) reduced to the reported schema.
TEST(HistogramBound, SpreadObservationsLowerTheSchemaExactly) {
  const native_buckets layout{.schema = 8, .zero_threshold = 1e-9, .max_buckets = 8};
  histogram h(std::vector<double>{1}, layout, 1);
  native_model model{8, 1e-9};
  auto observe = [&](double v, std::uint64_t n = 1) {
    h.observe(v, n);
    model.observe(v, n);
  };
  for (int e = -12; e < 12; ++e) observe(std::ldexp(1.3, e));
  for (int e = -2; e < 2; ++e) observe(-std::ldexp(1.7, 2 * e), 3);
  observe(0, 2);
  observe(nan);
  observe(1e-10);
  const histogram_snapshot s = h.snapshot();
  EXPECT_LE(s.schema, -2);
  EXPECT_GT(s.schema, -4);
  EXPECT_LE(s.positive.size() + s.negative.size(), 8u);
  expect_well_formed(s.positive);
  expect_well_formed(s.negative);
  EXPECT_EQ(snapshot_buckets(s), model.at(s.schema));
  std::uint64_t in_buckets = s.zero_count;
  for (const native_bucket& b : s.positive) in_buckets += b.count;
  for (const native_bucket& b : s.negative) in_buckets += b.count;
  EXPECT_EQ(s.zero_count, 3u);
  EXPECT_EQ(in_buckets, s.count - 1);  // one NaN
  EXPECT_EQ(s.count, 24u + 12u + 2u + 1u + 1u);

  // The schema never goes back up, even when later observations would fit finer.
  const std::int32_t lowered = s.schema;
  for (int i = 0; i < 5; ++i) {
    observe(1.0 + i * 0.001);
    const histogram_snapshot t = h.snapshot();
    EXPECT_LE(t.schema, lowered);
    EXPECT_LE(t.positive.size() + t.negative.size(), 8u);
    EXPECT_EQ(snapshot_buckets(t), model.at(t.schema));
  }
}

// At schema -4 (the coarsest) the bound cannot hold: the snapshot reports more buckets.
TEST(HistogramBound, CoarsestSchemaMayExceedTheBound) {
  histogram h(native_buckets{.schema = 0, .zero_threshold = 0, .max_buckets = 2}, 1);
  native_model model{0, 0};
  for (const double v : {0x1p-100, 1.0, 0x1p100, -0x1p-100, -0x1p100}) {
    h.observe(v);
    model.observe(v);
  }
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.schema, -4);
  EXPECT_EQ(s.positive.size() + s.negative.size(), 5u);
  EXPECT_EQ(snapshot_buckets(s), model.at(-4));
}

// With exactly max_buckets distinct keys the schema stays; one more bucket lowers it.
TEST(HistogramBound, NoLoweringWhileTheBucketsFit) {
  histogram h(native_buckets{.schema = 3, .zero_threshold = 0, .max_buckets = 10}, 1);
  native_model model{3, 0};
  for (int i = 0; i < 10; ++i) {  // keys 0, 8, 16, ... at schema 3: 10 distinct buckets
    h.observe(std::ldexp(1.0, i), 2);
    model.observe(std::ldexp(1.0, i), 2);
  }
  histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.schema, 3);
  EXPECT_EQ(s.positive.size(), 10u);
  EXPECT_EQ(snapshot_buckets(s), model.at(3));
  h.observe(0x1p-20);  // an 11th bucket
  model.observe(0x1p-20);
  s = h.snapshot();
  EXPECT_LT(s.schema, 3);
  EXPECT_LE(s.positive.size(), 10u);
  EXPECT_EQ(snapshot_buckets(s), model.at(s.schema));
}

// max_buckets 1 (a table of 16 slots) and hundreds of distinct keys between two
// snapshots: observations overflow into the coarsest schema; none is lost.
TEST(HistogramBound, OverflowToTheCoarsestSchemaLosesNothing) {
  histogram h(native_buckets{.schema = 8, .zero_threshold = 0, .max_buckets = 1}, 2);
  native_model model{8, 0};
  for (int e = -1000; e <= 1000; e += 7) {
    h.observe(std::ldexp(1.01, e));
    model.observe(std::ldexp(1.01, e));
    h.observe(-std::ldexp(1.5, e / 2));
    model.observe(-std::ldexp(1.5, e / 2));
  }
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.schema, -4);
  EXPECT_EQ(snapshot_buckets(s), model.at(-4));
  EXPECT_EQ(s.count, 2u * 286u);
  std::uint64_t total = 0;
  for (const auto& [k, c] : snapshot_buckets(s)) total += c;
  EXPECT_EQ(total, s.count);
  h.observe(1.0);
  model.observe(1.0);
  const histogram_snapshot t = h.snapshot();
  EXPECT_EQ(t.schema, -4);
  EXPECT_EQ(snapshot_buckets(t), model.at(-4));
}

// ---- classic quantiles (PromQL histogram_quantile, Prometheus 2.42) ------------------------

TEST(HistogramQuantile, WorkedExamples) {
  histogram h(std::vector<double>{1, 2, 4}, 1);
  h.observe(0.5, 2);  // le 1
  h.observe(1.5, 2);  // le 2
  h.observe(3, 4);    // le 4
  h.observe(10, 2);   // +Inf
  const histogram_snapshot s = h.snapshot();
  ASSERT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 4, 8, 10}));
  // q 0.5: rank 5; first cumulative >= 5 is le 4 (8); 2 + (4 - 2) * (5 - 4) / 4 = 2.5
  EXPECT_EQ(s.quantile(0.5), 2.5);
  // q 0.1: rank 1, first bucket, lower end 0: 0 + 1 * 1/2 = 0.5
  EXPECT_EQ(s.quantile(0.1), 0.5);
  // q 0.2: rank 2: 0 + 1 * 2/2 = 1
  EXPECT_EQ(s.quantile(0.2), 1.0);
  // q 0.3: rank 3, le 2 (4): 1 + 1 * (3 - 2) / 2 = 1.5
  EXPECT_EQ(s.quantile(0.3), 1.5);
  // q 0.8: rank 8, le 4: 2 + 2 * (8 - 4) / 4 = 4
  EXPECT_EQ(s.quantile(0.8), 4.0);
  // q 0.9: rank 9 > 8: the +Inf bucket: the largest finite bound, 4
  EXPECT_EQ(s.quantile(0.9), 4.0);
  EXPECT_EQ(s.quantile(1), 4.0);
  // q 0: rank 0, first bucket: 0 + 1 * 0/2 = 0
  EXPECT_EQ(s.quantile(0), 0.0);
  EXPECT_EQ(s.quantile(-0.1), -inf);
  EXPECT_EQ(s.quantile(1.1), inf);
  EXPECT_TRUE(std::isnan(s.quantile(nan)));
}

TEST(HistogramQuantile, EdgeCases) {
  // empty: NaN for q in [0, 1]; q outside still +-Inf (checked before the count)
  const histogram_snapshot empty = histogram(std::vector<double>{1, 2}, 1).snapshot();
  EXPECT_TRUE(std::isnan(empty.quantile(0.5)));
  EXPECT_EQ(empty.quantile(-1), -inf);
  EXPECT_EQ(empty.quantile(2), inf);
  // no finite bound: NaN
  histogram only_inf(std::vector<double>{}, 1);
  only_inf.observe(1);
  EXPECT_TRUE(std::isnan(only_inf.snapshot().quantile(0.5)));
  // first bound <= 0: a rank in the first bucket returns that bound
  histogram neg(std::vector<double>{-1, 5}, 1);
  neg.observe(-2, 3);
  neg.observe(1);
  EXPECT_EQ(neg.snapshot().quantile(0.5), -1.0);  // rank 2 <= 3
  // rank 3.2 in (-1, 5] (count 1): -1 + 6 * (3.2 - 3) / 1 = 0.2 (up to rounding)
  EXPECT_NEAR(neg.snapshot().quantile(0.8), 0.2, 1e-12);
  histogram zero(std::vector<double>{0, 5}, 1);
  zero.observe(-2);
  zero.observe(3);
  EXPECT_EQ(zero.snapshot().quantile(0.25), 0.0);
  // q 0 with an empty first bucket: rank 0 in bucket le 1 holding 0: 0 * (0/0) = NaN, as
  // Prometheus 2.42's bucketQuantile computes it
  histogram first_empty(std::vector<double>{1, 2}, 1);
  first_empty.observe(1.5);
  EXPECT_TRUE(std::isnan(first_empty.snapshot().quantile(0)));
  EXPECT_EQ(first_empty.snapshot().quantile(0.5), 1.5);  // 1 + 1 * 0.5 / 1
  // NaN observations count in +Inf: rank beyond the finite buckets -> the largest bound
  histogram with_nan(std::vector<double>{1}, 1);
  with_nan.observe(0.5);
  with_nan.observe(nan);
  EXPECT_EQ(with_nan.snapshot().quantile(0.5), 1.0);   // rank 1: 0 + 1 * 1/1
  EXPECT_EQ(with_nan.snapshot().quantile(0.75), 1.0);  // rank 1.5: +Inf bucket
  EXPECT_EQ(with_nan.snapshot().quantile(0.25), 0.5);  // rank 0.5: 0 + 1 * 0.5
}

// ---- native quantiles (PromQL histogram_quantile over native buckets, Prometheus 2.42) ----

TEST(HistogramNativeQuantile, WorkedExamples) {
  histogram h(native_buckets{.schema = 0, .zero_threshold = 0}, 1);
  h.observe(1.5, 2);  // (1, 2]
  h.observe(3, 2);    // (2, 4]
  const histogram_snapshot s = h.snapshot();
  // q 0.5: rank 2, reached in (1, 2] (2): 1 + 1 * 2/2 = 2
  EXPECT_EQ(s.native_quantile(0.5), 2.0);
  // q 0.25: rank 1: 1 + 1 * 1/2 = 1.5
  EXPECT_EQ(s.native_quantile(0.25), 1.5);
  // q 0.75: rank 3 in (2, 4]: 2 + 2 * (3 - 2) / 2 = 3
  EXPECT_EQ(s.native_quantile(0.75), 3.0);
  EXPECT_EQ(s.native_quantile(1), 4.0);
  EXPECT_EQ(s.native_quantile(-0.5), -inf);
  EXPECT_EQ(s.native_quantile(1.5), inf);
  EXPECT_TRUE(std::isnan(s.native_quantile(nan)));
  // q 0: rank 0 reached in the first bucket: its lower end, 1
  EXPECT_EQ(s.native_quantile(0), 1.0);
  // no native buckets configured: NaN
  histogram classic(std::vector<double>{1}, 1);
  classic.observe(0.5);
  EXPECT_TRUE(std::isnan(classic.snapshot().native_quantile(0.5)));
  // empty: NaN
  EXPECT_TRUE(std::isnan(histogram(native_buckets{}, 1).snapshot().native_quantile(0.5)));
}

TEST(HistogramNativeQuantile, ZeroBucketCutAtZero) {
  {  // only positive buckets: the zero bucket is [0, 0.5]
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0.5}, 1);
    h.observe(0.1, 2);
    h.observe(3, 2);  // (2, 4]
    const histogram_snapshot s = h.snapshot();
    // q 0.25: rank 1 in the zero bucket (2): 0 + 0.5 * 1/2 = 0.25
    EXPECT_EQ(s.native_quantile(0.25), 0.25);
    // q 0.75: rank 3 in (2, 4]: 2 + 2 * 1/2 = 3
    EXPECT_EQ(s.native_quantile(0.75), 3.0);
  }
  {  // only negative buckets: the zero bucket is [-0.5, 0]
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0.5}, 1);
    h.observe(-0.1, 2);
    h.observe(-3, 2);  // [-4, -2)
    const histogram_snapshot s = h.snapshot();
    // q 0.75: rank 3; [-4, -2) holds 2 < 3; the zero bucket reaches 4: -0.5 + 0.5 * 1/2
    EXPECT_EQ(s.native_quantile(0.75), -0.25);
    // q 0.25: rank 1 in [-4, -2): -4 + 2 * 1/2 = -3
    EXPECT_EQ(s.native_quantile(0.25), -3.0);
  }
  {  // both signs: the zero bucket is [-0.5, 0.5]
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0.5}, 1);
    h.observe(-3);
    h.observe(0.1);
    h.observe(3);
    const histogram_snapshot s = h.snapshot();
    // q 0.5: rank 1.5; [-4, -2) holds 1; zero bucket: -0.5 + 1 * 0.5 / 1 = 0
    EXPECT_EQ(s.native_quantile(0.5), 0.0);
  }
  {  // only the zero bucket: [-t, t], not cut
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0.5}, 1);
    h.observe(0.1, 4);
    EXPECT_EQ(h.snapshot().native_quantile(0.5), 0.0);     // -0.5 + 1 * 2/4
    EXPECT_EQ(h.snapshot().native_quantile(0.25), -0.25);  // -0.5 + 1 * 1/4
  }
}

// Prometheus 2.42 iterates the zero bucket only when it holds observations
// (allFloatBucketIterator: `if ZeroCount > 0`), and clamps the lowest positive bucket's
// lower end (and the highest negative bucket's upper end) to the zero threshold.
TEST(HistogramNativeQuantile, EmptyZeroBucketAndThresholdClamp) {
  {  // default threshold 2^-128, zero_count 0, one observation of 1 (bucket (0.5, 1])
    histogram h(native_buckets{.schema = 0}, 1);
    h.observe(1.0);
    const histogram_snapshot s = h.snapshot();
    // q 0: rank 0; the first bucket iterated is (0.5, 1] (count 1 >= 0): 0.5 + 0.5 * 0/1
    EXPECT_EQ(s.native_quantile(0), 0.5);
    EXPECT_EQ(s.native_quantile(0.5), 0.75);  // 0.5 + 0.5 * 0.5/1
  }
  {  // threshold 0.3 inside the bucket (0.25, 0.5] of the observation 0.4
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0.3}, 1);
    h.observe(0.4);
    const histogram_snapshot s = h.snapshot();
    ASSERT_EQ(s.positive, (std::vector<native_bucket>{{-1, 1}}));
    // the bucket iterated is (0.3, 0.5]: q 0.5: 0.3 + 0.2 * 0.5/1 = 0.4
    EXPECT_DOUBLE_EQ(s.native_quantile(0.5), 0.4);
  }
  {  // the same on the negative side: [-0.5, -0.3)
    histogram h(native_buckets{.schema = 0, .zero_threshold = 0.3}, 1);
    h.observe(-0.4);
    // q 0.5: -0.5 + 0.2 * 0.5/1 = -0.4
    EXPECT_DOUBLE_EQ(h.snapshot().native_quantile(0.5), -0.4);
  }
}

TEST(HistogramNativeQuantile, NaNObservations) {
  histogram h(native_buckets{.schema = 0, .zero_threshold = 0}, 1);
  h.observe(1.5);
  h.observe(nan);
  const histogram_snapshot s = h.snapshot();
  ASSERT_EQ(s.count, 2u);
  // q 0.9: rank 1.8, the buckets hold 1: the upper end of the highest bucket, 2
  EXPECT_EQ(s.native_quantile(0.9), 2.0);
  // q 0.25: rank 0.5 in (1, 2]: 1 + 1 * 0.5/1 = 1.5
  EXPECT_EQ(s.native_quantile(0.25), 1.5);
}

// ---- owner lanes -------------------------------------------------------------------------

TEST(HistogramLanes, Count) {
  const histogram by_default(std::vector<double>{1}, 8);
  EXPECT_EQ(by_default.lane_count(), 8u);  // as many as shards
  EXPECT_EQ(histogram(std::vector<double>{1}, 8, 0).lane_count(), 0u);
  EXPECT_EQ(histogram(std::vector<double>{1}, 8, 3).lane_count(), 3u);   // not rounded
  EXPECT_EQ(histogram(std::vector<double>{1}, 1024).lane_count(), 64u);  // at most 64
  EXPECT_EQ(histogram(std::vector<double>{1}, 2, 1000).lane_count(), 64u);
  EXPECT_EQ(histogram({1.0, 2.0}, 2, 1).lane_count(), 1u);
  // Native buckets: no lanes (a snapshot compacts native tables, which needs the lock).
  EXPECT_EQ(histogram(native_buckets{}, 4).lane_count(), 0u);
  EXPECT_EQ(histogram(std::vector<double>{1}, native_buckets{}, 4).lane_count(), 0u);
}

TEST(HistogramLanes, ShortLivedThreadsHandTheirLanesOnAndLoseNothing) {
  // Each thread counts in its lane (or the shards, without one) and exits; the next ones
  // take the freed lane numbers and go on adding to the same lanes. Waves of 3 live
  // threads over 2 lanes: lanes, shards and hand-overs all in use. Dyadic values: exact.
  const std::vector<double> bounds{1, 4, 16};
  histogram h(bounds, 2, 2);
  constexpr int waves = 60;
  constexpr int per_wave = 3;
  constexpr int per_thread = 500;
  auto value = [](int t, int i) { return static_cast<double>((t * 7 + i) % 40) * 0.5; };
  for (int w = 0; w < waves; ++w) {
    std::vector<std::thread> threads;
    for (int k = 0; k < per_wave; ++k) {
      threads.emplace_back([&, t = w * per_wave + k] {
        for (int i = 0; i < per_thread; ++i) h.observe(value(t, i));
      });
    }
    for (std::thread& t : threads) t.join();
  }
  std::vector<std::uint64_t> buckets(bounds.size() + 1, 0);
  double sum = 0;
  for (int t = 0; t < waves * per_wave; ++t) {
    for (int i = 0; i < per_thread; ++i) {
      const double v = value(t, i);
      ++buckets[static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                         bounds.begin())];
      sum += v;
    }
  }
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(classic_counts(s), buckets);
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(waves * per_wave * per_thread));
  EXPECT_EQ(s.sum, sum);
}

TEST(HistogramLanes, SnapshotsFinishWhileOwnersObserveWithoutPause) {
  // Two owners observe back to back, never stopping, while this thread takes snapshots.
  // A lane read retries while its owner writes; with 1000 buckets it takes far longer than
  // an observe(), so without the pause hint (which sends the owner's next calls to the
  // shards) it would hardly ever succeed. Every snapshot consistent (1.0 only: sum ==
  // count) and monotone.
  histogram h(lockless::linear_buckets(0.5, 1.5, 1000), 2, 2);
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::vector<std::thread> owners;
  for (int t = 0; t < 2; ++t) {
    owners.emplace_back([&] {
      h.observe(1.0);
      started.fetch_add(1);
      while (!stop.load(std::memory_order_relaxed)) h.observe(1.0);
    });
  }
  while (started.load() < 2) std::this_thread::yield();
  std::uint64_t last = 0;
  for (int i = 0; i < 300; ++i) {
    const histogram_snapshot s = h.snapshot();
    ASSERT_EQ(s.count, s.cumulative.back());
    ASSERT_EQ(s.cumulative[0], 0u);
    ASSERT_EQ(s.cumulative[1], s.count);
    ASSERT_EQ(s.sum, static_cast<double>(s.count));
    ASSERT_GE(s.count, last);
    last = s.count;
  }
  stop = true;
  for (std::thread& t : owners) t.join();
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(s.sum, static_cast<double>(s.count));
  EXPECT_GT(s.count, 0u);
}

// ---- snapshots: consistent, exact and monotone single-threaded --------------------------

TEST(HistogramSnapshot, ManySnapshotsInterleavedWithObserves) {
  const std::vector<double> bounds{0.01, 0.1, 1, 10};
  const native_buckets layout{.schema = 3, .zero_threshold = 0.001, .max_buckets = 12};
  histogram h(bounds, layout, 2);
  native_model model{3, 0.001};
  std::vector<std::uint64_t> classic(bounds.size() + 1, 0);
  std::uint64_t count = 0;
  double sum = 0;
  histogram_snapshot prev = h.snapshot();
  std::uint64_t x = 88172645463325252ull;  // xorshift64
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 300; ++round) {
    const int k = static_cast<int>(next() % 5);
    for (int j = 0; j < k; ++j) {
      next();
      // 0.0001 .. ~100, both signs; the range widens over the rounds (the bound triggers)
      double v = std::ldexp(1.0 + static_cast<double>(x % 1000) / 1000.0,
                            static_cast<int>((x >> 10) % (8 + round / 20)) - 12);
      if ((x >> 20) % 4 == 0) v = -v;
      const std::uint64_t n = 1 + (x >> 30) % 3;
      h.observe(v, n);
      model.observe(v, n);
      classic[static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                       bounds.begin())] += n;
      count += n;
      sum += v * static_cast<double>(n);
    }
    const histogram_snapshot s = h.snapshot();
    ASSERT_EQ(classic_counts(s), classic) << round;
    ASSERT_EQ(s.count, count);
    ASSERT_EQ(s.sum, sum) << round;  // same additions in the same order
    ASSERT_EQ(snapshot_buckets(s), model.at(s.schema)) << round;
    ASSERT_EQ(s.zero_count, model.zero);
    ASSERT_LE(s.schema, prev.schema);
    if (s.schema > -4) {
      ASSERT_LE(s.positive.size() + s.negative.size(), 12u);
    }
    for (std::size_t b = 0; b < s.cumulative.size(); ++b)
      ASSERT_GE(s.cumulative[b], prev.cumulative[b]);
    // native monotone: the earlier snapshot reduced to the later schema
    std::map<std::pair<bool, std::int32_t>, std::uint64_t> earlier;
    for (const auto& [k2, c] : snapshot_buckets(prev)) {
      earlier[{k2.first, ops::reference_reduce(k2.second, prev.schema, s.schema)}] += c;
    }
    const auto now = snapshot_buckets(s);
    for (const auto& [k2, c] : earlier) {
      const auto it = now.find(k2);
      ASSERT_TRUE(it != now.end() && it->second >= c) << round;
    }
    prev = s;
  }
  EXPECT_LT(prev.schema, 3);  // the widening range did trigger the bound
}

// ---- threads on several shards ----------------------------------------------------------

// Four threads, each observing a known multiset (integers, so the sum is exact in any
// order), on 4 shards; a fifth thread snapshots meanwhile (consistency and monotonicity).
// The final snapshot is exact: classic buckets, count, sum, and the native buckets equal
// the model's exact keys reduced to whatever schema the bound led to.
TEST(HistogramThreads, FinalSnapshotIsExact) {
  const std::vector<double> bounds{2, 8, 32, 128};
  const native_buckets layout{.schema = 4, .zero_threshold = 0, .max_buckets = 20};
  histogram h(bounds, layout, 4);
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  auto value = [](int t, int i) {
    return static_cast<double>((i * (t + 3)) % 200) - (t == 3 ? 50 : 0);
  };
  std::atomic<bool> done{false};
  std::thread reader([&] {
    histogram_snapshot prev = h.snapshot();
    while (!done.load()) {
      const histogram_snapshot s = h.snapshot();
      EXPECT_EQ(s.count, s.cumulative.back());
      std::uint64_t native_total = s.zero_count;
      for (const native_bucket& b : s.positive) native_total += b.count;
      for (const native_bucket& b : s.negative) native_total += b.count;
      EXPECT_EQ(native_total, s.count);
      EXPECT_LE(s.schema, prev.schema);
      for (std::size_t b = 0; b < s.cumulative.size(); ++b)
        EXPECT_GE(s.cumulative[b], prev.cumulative[b]);
      prev = s;
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        h.observe(value(t, i), 1 + static_cast<std::uint64_t>(i % 2));
    });
  }
  for (std::thread& w : workers) w.join();
  done = true;
  reader.join();

  native_model model{4, 0};
  std::vector<std::uint64_t> classic(bounds.size() + 1, 0);
  std::uint64_t count = 0;
  double sum = 0;
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < per_thread; ++i) {
      const double v = value(t, i);
      const std::uint64_t n = 1 + static_cast<std::uint64_t>(i % 2);
      model.observe(v, n);
      classic[static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                       bounds.begin())] += n;
      count += n;
      sum += v * static_cast<double>(n);
    }
  }
  const histogram_snapshot s = h.snapshot();
  EXPECT_EQ(classic_counts(s), classic);
  EXPECT_EQ(s.count, count);
  EXPECT_EQ(s.sum, sum);
  EXPECT_EQ(s.zero_count, model.zero);
  EXPECT_EQ(snapshot_buckets(s), model.at(s.schema));
  if (s.schema > -4) {
    EXPECT_LE(s.positive.size() + s.negative.size(), 20u);
  }
  // and again: nothing changes without observations
  const histogram_snapshot again = h.snapshot();
  EXPECT_EQ(again.cumulative, s.cumulative);
  EXPECT_EQ(again.sum, s.sum);
  EXPECT_EQ(snapshot_buckets(again), model.at(again.schema));
}

}  // namespace
