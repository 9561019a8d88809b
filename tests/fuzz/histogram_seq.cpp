// tests/fuzz/histogram_seq.cpp: sequential fuzzing of histogram.
//
// The input picks a layout (classic bounds of four kinds, native schema, zero threshold,
// a small max_buckets so that the bound triggers, 1-4 shards) and a sequence of
// operations of the histogram's alphabet (structures/histogram_ops.hpp), run on one
// thread against a sequential model:
//   classic   per-bucket counts (first bound >= v; NaN and +Inf in +Inf), count, the sum
//             as a left fold of v*n in call order (one thread: the histogram adds in the
//             same order), compared NaN-aware
//   native    the zero count and EXACT per-key counts at the configured schema
//             (histogram_ops::exact_native_key: integer arithmetic, not the header's
//             key function), reduced to whatever schema a snapshot reports
// Every snapshot is checked: bounds echoed, cumulative counts and count and sum exact;
// native: the schema within [-4, previous], at most max_buckets buckets unless at -4,
// buckets ascending with positive counts, exactly the model's keys reduced to the schema,
// zero + buckets == count - NaNs, the schema unchanged while the model's distinct keys at
// the configured schema fit in max_buckets; monotone against the previous snapshot
// (classic per bucket, native after reducing the earlier one to the later schema).
// quantile(q) and native_quantile(q) must equal the model's own PromQL computation
// (Prometheus 2.42's bucketQuantile and histogramQuantile with its bucket iterator: the
// zero bucket only when it holds observations, the lowest positive / highest negative
// bucket clamped to the zero threshold), bit for bit or both NaN.
//
// Encoding (reading past the end yields zeros):
//   byte 0   bits 0-1: 0 classic only, 1 native only, 2-3 both; bits 2-3: shards - 1;
//            bits 4-5: the classic bounds' kind (0 powers of two, 1 linear_buckets,
//            2 exponential_buckets, 3 values of the alphabet, sorted)
//   with classic buckets: one byte, the bound count b % 8; two bytes p0, p1, the bounds'
//            parameters (kind 0: 2^(p0 % 24 - 12 + j); kind 1: start -1 + (p0 % 8) / 4,
//            width (1 + p1 % 8) / 8; kind 2: start 0.001 * 2^(p0 % 8), factor 1.5 + p1 % 4;
//            kind 3: value_from(small or negative, p1), then one byte per further bound)
//   byte     native schema, -4 + b % 13
//   byte     zero threshold: b % 5 -> 0, 2^-128, 1e-3, 0.5, 1
//   byte     max_buckets, 1 + b % 12
//   then operations, one byte each: op = from_byte(b) (b % 8), value class = (b >> 3) % 8
//   (0-6: the alphabet's value_class; 7: a native boundary 2^(i/2^t) * 2^e as exp2()
//   gives it, or the double just below or above it: r and one more byte, see value());
//     observe     one byte r: value_from(class, r), or the boundary value
//     observe_n   r, then n: b % 4 (0..3; 0 is a no-op), or 1000 + b when b % 8 == 7
//     snapshot    none
//     quantile    one byte: q from a table (0, 0.25, 0.5, 0.75, 0.9, 0.99, 1, -0.5, 1.5,
//                 NaN, b / 255 twice)
//     burst       two bytes k, r: 1 + k % 48 observations spread over 2^-32 .. 2^32,
//                 both signs (pushes the native bound)
// At most 400 operations per input.
#include <lockless/histogram.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "structures/histogram_ops.hpp"
#include "support/fuzz_input.hpp"

namespace {

namespace ops = lockless::test::histogram_ops;
using lockless::histogram;
using lockless::histogram_snapshot;
using lockless::native_bucket;
using lockless::native_buckets;
using ops::op;
using ops::value_class;

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

using key_map = std::map<std::pair<bool, std::int32_t>, std::uint64_t>;  // (negative, key)

struct model {
  std::vector<double> bounds;
  std::vector<std::uint64_t> classic;  // per bucket, last = +Inf
  std::uint64_t count = 0;
  double sum = 0.0;
  std::uint64_t nans = 0;

  bool native = false;
  std::int32_t schema = 0;
  double zero_threshold = 0;
  std::uint32_t max_buckets = 0;
  std::uint64_t zero = 0;
  key_map buckets;                                        // at `schema`
  std::unordered_map<std::uint64_t, std::int32_t> cache;  // mantissa bits -> key in [1, 2)

  std::int32_t exact_key(double a) {
    if (schema <= 0) return ops::exact_native_key(a, schema);
    int e = 0;
    const double m = 2 * std::frexp(a, &e);  // a = m * 2^(e-1), m in [1, 2)
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(m);
    auto it = cache.find(bits);
    if (it == cache.end()) it = cache.emplace(bits, ops::exact_native_key(m, schema)).first;
    return (e - 1) * (std::int32_t{1} << schema) + it->second;
  }

  void observe(double v, std::uint64_t n) {
    if (n == 0) return;
    std::size_t b = 0;
    if (std::isnan(v)) {
      b = bounds.size();
    } else {
      while (b < bounds.size() && bounds[b] < v) ++b;
    }
    classic[b] += n;
    count += n;
    sum += v * static_cast<double>(n);
    if (std::isnan(v)) {
      nans += n;
      return;
    }
    if (!native) return;
    const double a = std::fabs(v);
    if (a <= zero_threshold) {
      zero += n;
      return;
    }
    const std::int32_t key = std::isinf(a) ? ops::reference_inf_key(schema) : exact_key(a);
    buckets[{v < 0, key}] += n;
  }

  [[nodiscard]] key_map at(std::int32_t s) const {
    key_map out;
    for (const auto& [k, c] : buckets)
      out[{k.first, ops::reference_reduce(k.second, schema, s)}] += c;
    return out;
  }
};

key_map buckets_of(const histogram_snapshot& s) {
  key_map out;
  for (const native_bucket& b : s.positive) out[{false, b.index}] += b.count;
  for (const native_bucket& b : s.negative) out[{true, b.index}] += b.count;
  return out;
}

// PromQL histogram_quantile over classic buckets (Prometheus 2.42, bucketQuantile).
double classic_quantile(const std::vector<double>& bounds,
                        const std::vector<std::uint64_t>& per_bucket, double q) {
  if (std::isnan(q)) return nan;
  if (q < 0) return -inf;
  if (q > 1) return inf;
  std::vector<double> cum;  // the finite buckets' cumulative counts, then +Inf's
  double running = 0;
  for (const std::uint64_t c : per_bucket) {
    running += static_cast<double>(c);
    cum.push_back(running);
  }
  if (cum.size() < 2) return nan;
  const double observations = cum.back();
  if (observations == 0) return nan;
  double rank = q * observations;
  std::size_t b = 0;
  while (b < cum.size() - 1 && !(cum[b] >= rank)) ++b;
  if (b == cum.size() - 1) return bounds[bounds.size() - 1];
  if (b == 0 && bounds[0] <= 0) return bounds[0];
  double start = 0;
  const double end = bounds[b];
  double c = cum[b];
  if (b > 0) {
    start = bounds[b - 1];
    c -= cum[b - 1];
    rank -= cum[b - 1];
  }
  return start + (end - start) * (rank / c);
}

// PromQL histogram_quantile over native buckets (Prometheus 2.42: histogramQuantile and
// allFloatBucketIterator), bucket bounds from histogram_snapshot::native_upper_bound.
double native_quantile(const key_map& b, std::int32_t schema, std::uint64_t zero, double zt,
                       std::uint64_t count, double q) {
  if (q < 0) return -inf;
  if (q > 1) return inf;
  if (count == 0 || std::isnan(q)) return nan;
  struct bucket {
    double lower = 0, upper = 0, count = 0;
  };
  std::vector<bucket> all;
  bool has_negative = false;
  bool has_positive = false;
  for (auto it = b.rbegin(); it != b.rend(); ++it) {  // negative, from the largest |key|
    if (!it->first.first) continue;
    has_negative = true;
    bucket x{-histogram_snapshot::native_upper_bound(it->first.second, schema),
             -histogram_snapshot::native_upper_bound(it->first.second - 1, schema),
             static_cast<double>(it->second)};
    if (x.upper > -zt) x.upper = -zt;
    all.push_back(x);
  }
  if (zero > 0) all.push_back({-zt, zt, static_cast<double>(zero)});
  for (const auto& [k, c] : b) {
    if (k.first) continue;
    has_positive = true;
    bucket x{histogram_snapshot::native_upper_bound(k.second - 1, schema),
             histogram_snapshot::native_upper_bound(k.second, schema), static_cast<double>(c)};
    if (x.lower < zt) x.lower = zt;
    all.push_back(x);
  }
  const double total = static_cast<double>(count);
  double rank = q * total;
  bucket cur;
  double seen = 0;
  for (const bucket& x : all) {
    cur = x;
    seen += x.count;
    if (seen >= rank) break;
  }
  if (cur.lower < 0 && cur.upper > 0) {
    if (!has_negative && has_positive) {
      cur.lower = 0;
    } else if (!has_positive && has_negative) {
      cur.upper = 0;
    }
  }
  if (seen > total) seen = total;
  if (seen < rank) return cur.upper;
  rank -= seen - cur.count;
  return cur.lower + (cur.upper - cur.lower) * (rank / cur.count);
}

class runner {
 public:
  runner(lockless_fuzz::input& in) : in_(in) {}

  void run() {
    const std::uint8_t layout = in_.u8();
    const unsigned which = layout & 3;
    const std::size_t shards = 1 + ((layout >> 2) & 3);
    const bool classic = which != 1;
    m_.native = which != 0;
    if (classic) m_.bounds = make_bounds((layout >> 4) & 3);
    m_.classic.assign(m_.bounds.size() + 1, 0);
    const native_buckets nb{
        .schema = -4 + static_cast<std::int32_t>(in_.u8() % 13),
        .zero_threshold = zero_thresholds[in_.u8() % 5],
        .max_buckets = 1 + static_cast<std::uint32_t>(in_.u8() % 12),
    };
    std::optional<histogram> h;
    if (m_.native) {
      m_.schema = nb.schema;
      m_.zero_threshold = nb.zero_threshold;
      m_.max_buckets = nb.max_buckets;
      if (classic) {
        h.emplace(m_.bounds, nb, shards);
      } else {
        h.emplace(nb, shards);
      }
    } else {
      h.emplace(m_.bounds, shards);
    }
    FUZZ_CHECK(h->has_native() == m_.native);
    FUZZ_CHECK(h->shard_count() == std::bit_ceil(shards));
    FUZZ_CHECK(std::equal(h->upper_bounds().begin(), h->upper_bounds().end(), m_.bounds.begin(),
                          m_.bounds.end()));
    if (m_.native) {
      FUZZ_CHECK(h->native_layout().schema == nb.schema);
      FUZZ_CHECK(h->native_layout().max_buckets == nb.max_buckets);
    }
    prev_schema_ = m_.schema;

    for (int ops_left = 400; ops_left > 0 && !in_.empty(); --ops_left) {
      const std::uint8_t b = in_.u8();
      const unsigned cls = (b >> 3) % 8;  // 0..6 value classes of the alphabet, 7 boundary
      switch (ops::from_byte(b)) {
        case op::observe: {
          const double v = value(cls, in_.u8());
          h->observe(v);
          m_.observe(v, 1);
          break;
        }
        case op::observe_n: {
          const double v = value(cls, in_.u8());
          const std::uint8_t nb2 = in_.u8();
          const std::uint64_t n = nb2 % 8 == 7 ? 1000u + nb2 : nb2 % 4u;
          h->observe(v, n);
          m_.observe(v, n);
          break;
        }
        case op::snapshot:
          check(h->snapshot());
          break;
        case op::quantile: {
          const std::uint8_t qb = in_.u8();
          const double qq = qb % 12 >= 10 ? static_cast<double>(qb) / 255.0 : quantiles[qb % 12];
          const histogram_snapshot s = h->snapshot();
          check(s);
          expect_quantile("quantile", qq, s.quantile(qq),
                          classic_quantile(m_.bounds, m_.classic, qq));
          if (m_.native) {
            expect_quantile("native_quantile", qq, s.native_quantile(qq),
                            native_quantile(m_.at(s.schema), s.schema, m_.zero, m_.zero_threshold,
                                            m_.count, qq));
          } else {
            FUZZ_CHECK(std::isnan(s.native_quantile(qq)));
          }
          break;
        }
        case op::burst: {
          const unsigned k = 1 + in_.u8() % 48;
          const unsigned r = in_.u8();
          for (unsigned i = 0; i < k; ++i) {
            const double mant = 1.0 + static_cast<double>((r + 13 * i) % 97) / 97.0;
            double v = std::ldexp(mant, static_cast<int>((r * 7 + 11 * i) % 64) - 32);
            if (((r + i) & 1) != 0) v = -v;
            h->observe(v);
            m_.observe(v, 1);
          }
          break;
        }
      }
    }
    check(h->snapshot());
  }

 private:
  static constexpr double zero_thresholds[5] = {0.0, 0x1p-128, 1e-3, 0.5, 1.0};
  static constexpr double quantiles[12] = {0, 0.25, 0.5, 0.75, 0.9, 0.99, 1, -0.5, 1.5, nan, 0, 0};

  // Equal bit for bit or both NaN; else say what differed (and trap).
  static void expect_quantile(const char* which, double q, double got, double want) {
    if (same(got, want)) return;
    std::fprintf(stderr, "%s(%.17g): histogram %.17g, model %.17g\n", which, q, got, want);
    FUZZ_CHECK(same(got, want));
  }

  // Class 7: a native bucket boundary 2^(i / 2^t) (t = 1..8) of some octave, as exp2()
  // rounds it, or a neighbouring double: where a key function with rounded bounds errs.
  // r: t = 1 + r % 8, octave (r >> 3) % 8 - 4, bit 6: a neighbour, bit 7: above; then one
  // more byte: i = byte % 2^t.
  double value(unsigned c, std::uint8_t r) {
    if (c < static_cast<unsigned>(value_class::count_)) {
      return ops::value_from(static_cast<value_class>(c), r, m_.bounds.data(), m_.bounds.size());
    }
    const int n = 1 << (1 + r % 8);
    const double b = std::exp2(static_cast<double>(in_.u8() % n) / n);
    const double v = (r & 0x40) != 0 ? std::nextafter(b, (r & 0x80) != 0 ? 2.0 : 0.0) : b;
    return std::ldexp(v, static_cast<int>((r >> 3) % 8) - 4);
  }

  std::vector<double> make_bounds(unsigned kind) {
    const std::size_t n = in_.u8() % 8;
    const std::uint8_t p0 = in_.u8();
    const std::uint8_t p1 = in_.u8();
    if (n == 0) return {};
    switch (kind) {
      case 0: {
        std::vector<double> b;
        for (std::size_t j = 0; j < n; ++j) {
          b.push_back(std::ldexp(1.0, static_cast<int>(p0 % 24) - 12 + static_cast<int>(j)));
        }
        return b;
      }
      case 1:
        return lockless::linear_buckets(-1 + (p0 % 8) * 0.25, 0.125 * (1 + p1 % 8), n);
      case 2:
        return lockless::exponential_buckets(0.001 * std::ldexp(1.0, p0 % 8), 1.5 + p1 % 4, n);
      default: {
        std::vector<double> b;
        b.push_back(ops::value_from(static_cast<value_class>(p0 % 2 == 0 ? 0 : 3), p1, nullptr, 0));
        for (std::size_t j = 1; j < n; ++j) {
          const std::uint8_t r = in_.u8();
          const auto c = static_cast<value_class>(r % 2 == 0 ? 0 : 3);  // small / negative
          b.push_back(ops::value_from(c, r, nullptr, 0));
        }
        std::sort(b.begin(), b.end());
        b.erase(std::unique(b.begin(), b.end()), b.end());
        return b;
      }
    }
  }

  void check(const histogram_snapshot& s) {
    FUZZ_CHECK(s.upper_bounds == m_.bounds);
    FUZZ_CHECK(s.cumulative.size() == m_.classic.size());
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < m_.classic.size(); ++i) {
      running += m_.classic[i];
      FUZZ_CHECK(s.cumulative[i] == running);
    }
    FUZZ_CHECK(s.count == m_.count);
    FUZZ_CHECK(s.cumulative.back() == s.count);
    FUZZ_CHECK(same(s.sum, m_.sum));
    FUZZ_CHECK(s.native == m_.native);
    if (prev_) {
      for (std::size_t i = 0; i < s.cumulative.size(); ++i) {
        FUZZ_CHECK(s.cumulative[i] >= prev_->cumulative[i]);
      }
    }
    if (m_.native) check_native(s);
    prev_ = s;
  }

  void check_native(const histogram_snapshot& s) {
    FUZZ_CHECK(s.zero_threshold == m_.zero_threshold);
    FUZZ_CHECK(s.zero_count == m_.zero);
    FUZZ_CHECK(s.schema >= -4);
    FUZZ_CHECK(s.schema <= prev_schema_);  // only goes down
    for (const std::vector<native_bucket>* side : {&s.positive, &s.negative}) {
      for (std::size_t i = 0; i < side->size(); ++i) {
        FUZZ_CHECK((*side)[i].count > 0);
        if (i > 0) FUZZ_CHECK((*side)[i - 1].index < (*side)[i].index);
      }
    }
    if (s.schema > -4) FUZZ_CHECK(s.positive.size() + s.negative.size() <= m_.max_buckets);
    const key_map got = buckets_of(s);
    FUZZ_CHECK(got == m_.at(s.schema));  // exact reduction, nothing lost or misplaced
    std::uint64_t total = s.zero_count;
    for (const auto& [k, c] : got) total += c;
    FUZZ_CHECK(total == s.count - m_.nans);
    // No lowering while every bucket at the configured schema fits (observers lower the
    // hint only once a set holds more than max_buckets distinct buckets).
    if (m_.buckets.size() <= m_.max_buckets) FUZZ_CHECK(s.schema == m_.schema);
    if (prev_) {  // monotone: the earlier snapshot reduced to this schema
      key_map earlier;
      for (const auto& [k, c] : buckets_of(*prev_)) {
        earlier[{k.first, ops::reference_reduce(k.second, prev_->schema, s.schema)}] += c;
      }
      for (const auto& [k, c] : earlier) {
        const auto it = got.find(k);
        FUZZ_CHECK(it != got.end() && it->second >= c);
      }
    }
    prev_schema_ = s.schema;
  }

  lockless_fuzz::input& in_;
  model m_;
  std::optional<histogram_snapshot> prev_;
  std::int32_t prev_schema_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::input in(data, size);
  runner(in).run();
  return 0;
}
