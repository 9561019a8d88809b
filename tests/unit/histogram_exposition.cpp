// Unit tests of lockless/detail/histogram_exposition.hpp: the text format 0.0.4, OpenMetrics
// 1.0 text and the delimited protobuf MetricFamily of histogram snapshots. Exact outputs for
// small hand-built snapshots and real histograms; Go's float spelling (table + round trip);
// escaping; validation (std::invalid_argument, `out` unchanged); the protobuf bytes, checked
// byte by byte for a tiny family and otherwise decoded by a small wire-format reader here
// (spans + deltas expanded back to per-index counts, gaps, negative buckets, the no-op span).
// The real clients (promtool, the Python parsers, protoc's decoder) are in tests/interop/.
#include <lockless/histogram.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using lockless::histogram;
using lockless::histogram_series;
using lockless::histogram_snapshot;
using lockless::native_bucket;

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string text(std::string_view name, std::string_view help,
                 const std::vector<histogram_series>& s) {
  std::string out;
  lockless::write_prometheus_text(out, name, help, s);
  return out;
}

std::string openmetrics(std::string_view name, std::string_view help,
                        const std::vector<histogram_series>& s) {
  std::string out;
  lockless::write_openmetrics_text(out, name, help, s);
  return out;
}

std::string protobuf(std::string_view name, std::string_view help,
                     const std::vector<histogram_series>& s) {
  std::string out;
  lockless::write_prometheus_protobuf(out, name, help, s);
  return out;
}

histogram_snapshot classic(std::vector<double> bounds, std::vector<std::uint64_t> cumulative,
                           double sum) {
  histogram_snapshot h;
  h.upper_bounds = std::move(bounds);
  h.cumulative = std::move(cumulative);
  h.count = h.cumulative.back();
  h.sum = sum;
  return h;
}

std::string go_float(double v, bool openmetrics) {
  std::string s;
  lockless::detail::exposition::append_float(s, v, openmetrics);
  return s;
}

// ---- floats ---------------------------------------------------------------------------

TEST(HistogramExposition, FloatsAreSpelledAsGoSpellsThem) {
  struct row {
    double v;
    const char* text;  // strconv.FormatFloat(v, 'g', -1, 64)
    const char* om;    // Prometheus' formatOpenMetricsFloat
  };
  const row rows[] = {
      {0, "0", "0.0"},
      {-0.0, "0", "0.0"},  // Go tests f == 0 before formatting
      {1, "1", "1.0"},
      {-1, "-1", "-1.0"},
      {0.5, "0.5", "0.5"},
      {0.1, "0.1", "0.1"},
      {2.5, "2.5", "2.5"},
      {-2.5, "-2.5", "-2.5"},
      {10, "10", "10.0"},
      {100000, "100000", "100000.0"},
      {123456, "123456", "123456.0"},
      {123456.7, "123456.7", "123456.7"},
      {999999, "999999", "999999.0"},
      {1e6, "1e+06", "1e+06"},
      {1234567.8, "1.2345678e+06", "1.2345678e+06"},
      {1e21, "1e+21", "1e+21"},
      {0.0001, "0.0001", "0.0001"},
      {0.00012, "0.00012", "0.00012"},
      {0.00001, "1e-05", "1e-05"},
      {1.5e-5, "1.5e-05", "1.5e-05"},
      {1.0 / 3, "0.3333333333333333", "0.3333333333333333"},
      {2.0999999999999996, "2.0999999999999996", "2.0999999999999996"},
      {1e300, "1e+300", "1e+300"},
      {5e-324, "5e-324", "5e-324"},
      {0x1p-128, "2.938735877055719e-39", "2.938735877055719e-39"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308", "1.7976931348623157e+308"},
      {inf, "+Inf", "+Inf"},
      {-inf, "-Inf", "-Inf"},
      {nan, "NaN", "NaN"},
  };
  for (const row& r : rows) {
    EXPECT_EQ(go_float(r.v, false), r.text) << r.v;
    EXPECT_EQ(go_float(r.v, true), r.om) << r.v;
  }
}

TEST(HistogramExposition, FloatsRoundTrip) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t bits = rng();
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    if (i % 2 == 0)
      v = std::ldexp(static_cast<double>(rng() % 1000000), static_cast<int>(rng() % 60) - 40);
    for (bool om : {false, true}) {
      const std::string s = go_float(v, om);
      double back = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), back);
      ASSERT_EQ(r.ec, std::errc{}) << s;
      ASSERT_EQ(r.ptr, s.data() + s.size()) << s;
      ASSERT_EQ(std::memcmp(&back, &v, sizeof v), 0) << s;
      if (om) {
        ASSERT_NE(s.find_first_of(".e"), std::string::npos) << s;
      }
    }
  }
}

// ---- text 0.0.4 and OpenMetrics -------------------------------------------------------

TEST(HistogramExposition, TextFormatExact) {
  std::vector<histogram_series> s;
  s.push_back({{{"method", "get"}, {"code", "200"}}, classic({0.5, 1, 2.5}, {1, 3, 3, 4}, 7.25)});
  s.push_back({{{"method", "post"}, {"code", "500"}}, classic({0.5, 1, 2.5}, {0, 0, 0, 0}, 0)});
  EXPECT_EQ(text("rpc_latency_seconds", "Latency of the RPCs.", s),
            "# HELP rpc_latency_seconds Latency of the RPCs.\n"
            "# TYPE rpc_latency_seconds histogram\n"
            "rpc_latency_seconds_bucket{method=\"get\",code=\"200\",le=\"0.5\"} 1\n"
            "rpc_latency_seconds_bucket{method=\"get\",code=\"200\",le=\"1\"} 3\n"
            "rpc_latency_seconds_bucket{method=\"get\",code=\"200\",le=\"2.5\"} 3\n"
            "rpc_latency_seconds_bucket{method=\"get\",code=\"200\",le=\"+Inf\"} 4\n"
            "rpc_latency_seconds_sum{method=\"get\",code=\"200\"} 7.25\n"
            "rpc_latency_seconds_count{method=\"get\",code=\"200\"} 4\n"
            "rpc_latency_seconds_bucket{method=\"post\",code=\"500\",le=\"0.5\"} 0\n"
            "rpc_latency_seconds_bucket{method=\"post\",code=\"500\",le=\"1\"} 0\n"
            "rpc_latency_seconds_bucket{method=\"post\",code=\"500\",le=\"2.5\"} 0\n"
            "rpc_latency_seconds_bucket{method=\"post\",code=\"500\",le=\"+Inf\"} 0\n"
            "rpc_latency_seconds_sum{method=\"post\",code=\"500\"} 0\n"
            "rpc_latency_seconds_count{method=\"post\",code=\"500\"} 0\n");
}

TEST(HistogramExposition, OpenMetricsExact) {
  std::vector<histogram_series> s;
  s.push_back({{{"method", "get"}}, classic({0.5, 1, 1e6}, {1, 3, 3, 4}, 7.0)});
  EXPECT_EQ(openmetrics("rpc_latency_seconds", "Latency \"quoted\".", s),
            "# HELP rpc_latency_seconds Latency \\\"quoted\\\".\n"
            "# TYPE rpc_latency_seconds histogram\n"
            "rpc_latency_seconds_bucket{method=\"get\",le=\"0.5\"} 1\n"
            "rpc_latency_seconds_bucket{method=\"get\",le=\"1.0\"} 3\n"
            "rpc_latency_seconds_bucket{method=\"get\",le=\"1e+06\"} 3\n"
            "rpc_latency_seconds_bucket{method=\"get\",le=\"+Inf\"} 4\n"
            "rpc_latency_seconds_sum{method=\"get\"} 7.0\n"
            "rpc_latency_seconds_count{method=\"get\"} 4\n");
  EXPECT_EQ(lockless::openmetrics_eof, "# EOF\n");
}

TEST(HistogramExposition, NoLabelsNoBraces) {
  std::vector<histogram_series> s{{{}, classic({}, {3}, -1.5)}};
  EXPECT_EQ(text("x", "", s),
            "# TYPE x histogram\n"
            "x_bucket{le=\"+Inf\"} 3\n"
            "x_sum -1.5\n"
            "x_count 3\n");
  EXPECT_EQ(openmetrics("x", "", s),  // a negative sum: no _sum, no _count
            "# TYPE x histogram\n"
            "x_bucket{le=\"+Inf\"} 3\n");
  EXPECT_EQ(text("x", "h", {}), "# HELP x h\n# TYPE x histogram\n");
}

TEST(HistogramExposition, OpenMetricsLeavesOutSumAndCountWithNegativeBounds) {
  std::vector<histogram_series> s{{{}, classic({-1, 0, 1}, {1, 2, 2, 3}, -0.5)}};
  EXPECT_EQ(openmetrics("t", "", s),
            "# TYPE t histogram\n"
            "t_bucket{le=\"-1.0\"} 1\n"
            "t_bucket{le=\"0.0\"} 2\n"
            "t_bucket{le=\"1.0\"} 2\n"
            "t_bucket{le=\"+Inf\"} 3\n");
  // The text format has no such rule (as client_golang).
  EXPECT_EQ(text("t", "", s),
            "# TYPE t histogram\n"
            "t_bucket{le=\"-1\"} 1\n"
            "t_bucket{le=\"0\"} 2\n"
            "t_bucket{le=\"1\"} 2\n"
            "t_bucket{le=\"+Inf\"} 3\n"
            "t_sum -0.5\n"
            "t_count 3\n");
}

TEST(HistogramExposition, Escaping) {
  std::vector<histogram_series> s{{{{"path", "a\\b\"c\nd"}}, classic({}, {0}, 0)}};
  const std::string help = "back\\slash \"quote\"\nnewline";
  EXPECT_EQ(text("e", help, s),
            "# HELP e back\\\\slash \"quote\"\\nnewline\n"
            "# TYPE e histogram\n"
            "e_bucket{path=\"a\\\\b\\\"c\\nd\",le=\"+Inf\"} 0\n"
            "e_sum{path=\"a\\\\b\\\"c\\nd\"} 0\n"
            "e_count{path=\"a\\\\b\\\"c\\nd\"} 0\n");
  EXPECT_EQ(openmetrics("e", help, s),
            "# HELP e back\\\\slash \\\"quote\\\"\\nnewline\n"
            "# TYPE e histogram\n"
            "e_bucket{path=\"a\\\\b\\\"c\\nd\",le=\"+Inf\"} 0\n"
            "e_sum{path=\"a\\\\b\\\"c\\nd\"} 0.0\n"
            "e_count{path=\"a\\\\b\\\"c\\nd\"} 0\n");
}

TEST(HistogramExposition, SpecialSums) {
  for (const auto& [sum, spelled] :
       std::vector<std::pair<double, std::string>>{{nan, "NaN"}, {inf, "+Inf"}, {-inf, "-Inf"}}) {
    std::vector<histogram_series> s{{{}, classic({1}, {0, 1}, sum)}};
    EXPECT_NE(text("s", "", s).find("s_sum " + spelled + "\n"), std::string::npos);
  }
  // OpenMetrics: the sum is a counter, never NaN or negative; without it, no _count.
  std::vector<histogram_series> s{{{}, classic({1}, {0, 1}, inf)}};
  EXPECT_NE(openmetrics("s", "", s).find("s_sum +Inf\ns_count 1\n"), std::string::npos);
  for (const double sum : {nan, -inf, -0.5}) {
    s[0].snapshot.sum = sum;
    EXPECT_EQ(openmetrics("s", "", s),
              "# TYPE s histogram\n"
              "s_bucket{le=\"1.0\"} 0\n"
              "s_bucket{le=\"+Inf\"} 1\n")
        << sum;
  }
  s[0].snapshot.sum = 0;
  EXPECT_NE(openmetrics("s", "", s).find("s_sum 0.0\ns_count 1\n"), std::string::npos);
}

TEST(HistogramExposition, CountsAreExactIntegers) {
  const std::uint64_t big = (std::uint64_t{1} << 60) + 1;  // not a double
  std::vector<histogram_series> s{{{}, classic({1}, {1000000, big}, 1)}};
  const std::string t = text("c", "", s);
  EXPECT_NE(t.find("c_bucket{le=\"1\"} 1000000\n"), std::string::npos) << t;
  EXPECT_NE(t.find("c_count 1152921504606846977\n"), std::string::npos) << t;
}

TEST(HistogramExposition, AppendsToWhatIsThere) {
  std::vector<histogram_series> s{{{}, classic({}, {0}, 0)}};
  std::string out = "before\n";
  lockless::write_prometheus_text(out, "a", "", s);
  lockless::write_openmetrics_text(out, "b", "", s);
  EXPECT_EQ(out.rfind("before\n# TYPE a histogram\n", 0), 0u);
  EXPECT_NE(out.find("a_count 0\n# TYPE b histogram\n"), std::string::npos);
  const std::string pb = protobuf("c", "", s);
  out = "xy";
  lockless::write_prometheus_protobuf(out, "c", "", s);
  EXPECT_EQ(out, "xy" + pb);
}

TEST(HistogramExposition, RealHistogramText) {
  histogram h(std::vector<double>{0.5, 1, 2.5}, 1);
  for (double v : {0.1, 0.5, 0.7, 1.0, 2.0, 3.0, -1.0}) h.observe(v);
  h.observe(nan);
  h.observe(inf);
  h.observe(-inf);
  std::vector<histogram_series> s{{{{"job", "unit"}}, h.snapshot()}};
  // -Inf, -1, 0.1, 0.5 | 0.7, 1 | 2 | 3, NaN, +Inf; the sum is NaN.
  EXPECT_EQ(text("real", "A real one.", s),
            "# HELP real A real one.\n"
            "# TYPE real histogram\n"
            "real_bucket{job=\"unit\",le=\"0.5\"} 4\n"
            "real_bucket{job=\"unit\",le=\"1\"} 6\n"
            "real_bucket{job=\"unit\",le=\"2.5\"} 7\n"
            "real_bucket{job=\"unit\",le=\"+Inf\"} 10\n"
            "real_sum{job=\"unit\"} NaN\n"
            "real_count{job=\"unit\"} 10\n");
  histogram g(lockless::linear_buckets(1, 1, 3), 1);
  g.observe(1.5, 4);
  std::vector<histogram_series> t{{{}, g.snapshot()}};
  EXPECT_EQ(openmetrics("g", "", t),
            "# TYPE g histogram\n"
            "g_bucket{le=\"1.0\"} 0\n"
            "g_bucket{le=\"2.0\"} 4\n"
            "g_bucket{le=\"3.0\"} 4\n"
            "g_bucket{le=\"+Inf\"} 4\n"
            "g_sum 6.0\n"
            "g_count 4\n");
}

// ---- validation -----------------------------------------------------------------------

void expect_invalid(std::string_view name, const std::vector<histogram_series>& s) {
  std::string out = "keep";
  EXPECT_THROW(lockless::write_prometheus_text(out, name, "h", s), std::invalid_argument) << name;
  EXPECT_THROW(lockless::write_openmetrics_text(out, name, "h", s), std::invalid_argument) << name;
  EXPECT_THROW(lockless::write_prometheus_protobuf(out, name, "h", s), std::invalid_argument)
      << name;
  EXPECT_EQ(out, "keep");
}

TEST(HistogramExposition, InvalidMetricNames) {
  const std::vector<histogram_series> ok{{{}, classic({}, {0}, 0)}};
  for (const char* bad : {"", "1abc", "a-b", "a b", "a.b", "é", "a\n"}) expect_invalid(bad, ok);
  for (const char* good : {"a", "_a", ":a", "a:b_c9", "A_Z"}) {
    EXPECT_NO_THROW(text(good, "", ok)) << good;
    EXPECT_NO_THROW(protobuf(good, "", ok)) << good;
  }
}

TEST(HistogramExposition, InvalidLabelNames) {
  for (const char* bad : {"", "le", "__name__", "__x", "1a", "a:b", "a-b", "a b"}) {
    expect_invalid("m", {{{{bad, "v"}}, classic({}, {0}, 0)}});
  }
  expect_invalid("m", {{{{"a", "1"}, {"a", "2"}}, classic({}, {0}, 0)}});
  for (const char* good : {"a", "_a", "Le", "le_x", "_", "a9"}) {
    EXPECT_NO_THROW(text("m", "", {{{{good, "v"}}, classic({}, {0}, 0)}})) << good;
  }
}

TEST(HistogramExposition, InconsistentSnapshots) {
  expect_invalid("m", {{{}, classic({1, 1}, {0, 0, 0}, 0)}});    // not increasing
  expect_invalid("m", {{{}, classic({2, 1}, {0, 0, 0}, 0)}});    // decreasing
  expect_invalid("m", {{{}, classic({nan}, {0, 0}, 0)}});        // NaN bound
  expect_invalid("m", {{{}, classic({1, inf}, {0, 0, 0}, 0)}});  // +Inf is implied
  expect_invalid("m", {{{}, classic({1}, {0, 2, 1}, 0)}});       // too many counts
  expect_invalid("m", {{{}, classic({1}, {2, 1}, 0)}});          // decreasing counts
  histogram_snapshot wrong_count = classic({1}, {1, 2}, 0);
  wrong_count.count = 3;
  expect_invalid("m", {{{}, wrong_count}});
  histogram_snapshot none;  // cumulative empty
  expect_invalid("m", {{{}, none}});
  histogram_snapshot n = classic({}, {3}, 0);
  n.native = true;
  n.schema = 9;
  expect_invalid("m", {{{}, n}});
  n.schema = -5;
  expect_invalid("m", {{{}, n}});
  n.schema = 0;
  n.zero_threshold = -1;
  expect_invalid("m", {{{}, n}});
  n.zero_threshold = nan;
  expect_invalid("m", {{{}, n}});
  n.zero_threshold = inf;
  expect_invalid("m", {{{}, n}});
  n.zero_threshold = 0;
  n.positive = {{2, 1}, {2, 1}};
  expect_invalid("m", {{{}, n}});
  n.positive = {{2, 1}, {1, 1}};
  expect_invalid("m", {{{}, n}});
  n.positive = {{1, 1}};
  n.negative = {{3, 1}, {-3, 1}};
  expect_invalid("m", {{{}, n}});
  n.negative = {{std::numeric_limits<std::int32_t>::min(), 1},
                {std::numeric_limits<std::int32_t>::max(), 1}};  // gap beyond sint32
  std::string out;
  EXPECT_THROW(
      lockless::write_prometheus_protobuf(out, "m", "", std::vector<histogram_series>{{{}, n}}),
      std::invalid_argument);
  EXPECT_TRUE(out.empty());
  n.negative = {{-3, 1}, {3, 1}};
  EXPECT_NO_THROW(protobuf("m", "", {{{}, n}}));
  // A non-native snapshot's native fields are not looked at.
  n.native = false;
  n.schema = 100;
  EXPECT_NO_THROW(protobuf("m", "", {{{}, n}}));
}

// ---- protobuf -------------------------------------------------------------------------

// A minimal reader of the protobuf wire format.
struct wire_field {
  std::uint32_t number = 0;
  std::uint32_t type = 0;
  std::uint64_t value = 0;  // varint or fixed64
  std::string_view bytes;   // length-delimited
};

std::uint64_t read_varint(std::string_view& in) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) throw std::runtime_error("truncated varint");
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return v;
  }
  throw std::runtime_error("varint too long");
}

std::vector<wire_field> read_message(std::string_view in) {
  std::vector<wire_field> fields;
  while (!in.empty()) {
    const std::uint64_t key = read_varint(in);
    wire_field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.type = static_cast<std::uint32_t>(key & 7);
    if (f.type == 0) {
      f.value = read_varint(in);
    } else if (f.type == 1) {
      if (in.size() < 8) throw std::runtime_error("truncated fixed64");
      for (int i = 0; i < 8; ++i) {
        f.value |= std::uint64_t{static_cast<unsigned char>(in[static_cast<std::size_t>(i)])}
                   << (8 * i);
      }
      in.remove_prefix(8);
    } else if (f.type == 2) {
      const std::uint64_t n = read_varint(in);
      if (in.size() < n) throw std::runtime_error("truncated bytes");
      f.bytes = in.substr(0, n);
      in.remove_prefix(n);
    } else {
      throw std::runtime_error("unexpected wire type");
    }
    fields.push_back(f);
  }
  return fields;
}

double as_double(std::uint64_t bits) {
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

struct decoded_histogram {
  std::map<std::string, std::string> labels;
  std::uint64_t sample_count = 0;
  double sample_sum = 0;
  std::vector<std::pair<double, std::uint64_t>> buckets;
  bool has_schema = false, has_zero_threshold = false, has_zero_count = false;
  std::int32_t schema = 0;
  double zero_threshold = 0;
  std::uint64_t zero_count = 0;
  std::vector<std::pair<std::int32_t, std::uint32_t>> positive_spans, negative_spans;
  std::vector<std::int64_t> positive_deltas, negative_deltas;
  std::vector<std::uint32_t> other_fields;
};

struct decoded_family {
  std::string name, help;
  bool has_help = false;
  std::uint64_t type = 99;
  std::vector<decoded_histogram> metrics;
};

// Reads one delimited MetricFamily from the front of `in`.
decoded_family read_family(std::string_view& in) {
  const std::uint64_t length = read_varint(in);
  if (in.size() < length) throw std::runtime_error("truncated family");
  decoded_family fam;
  for (const wire_field& f : read_message(in.substr(0, length))) {
    if (f.number == 1) fam.name = f.bytes;
    if (f.number == 2) {
      fam.help = f.bytes;
      fam.has_help = true;
    }
    if (f.number == 3) fam.type = f.value;
    if (f.number != 4) continue;
    decoded_histogram m;
    for (const wire_field& mf : read_message(f.bytes)) {
      if (mf.number == 1) {
        std::string n, v;
        for (const wire_field& lf : read_message(mf.bytes)) {
          (lf.number == 1 ? n : v) = lf.bytes;
        }
        m.labels[n] = v;
      } else if (mf.number == 7) {
        for (const wire_field& h : read_message(mf.bytes)) {
          switch (h.number) {
            case 1:
              m.sample_count = h.value;
              break;
            case 2:
              m.sample_sum = as_double(h.value);
              break;
            case 3: {
              std::pair<double, std::uint64_t> b{};
              for (const wire_field& bf : read_message(h.bytes)) {
                if (bf.number == 1) b.second = bf.value;
                if (bf.number == 2) b.first = as_double(bf.value);
              }
              m.buckets.push_back(b);
              break;
            }
            case 5:
              m.has_schema = true;
              m.schema = static_cast<std::int32_t>(unzigzag(h.value));
              break;
            case 6:
              m.has_zero_threshold = true;
              m.zero_threshold = as_double(h.value);
              break;
            case 7:
              m.has_zero_count = true;
              m.zero_count = h.value;
              break;
            case 9:
            case 12: {
              std::pair<std::int32_t, std::uint32_t> sp{};
              for (const wire_field& sf : read_message(h.bytes)) {
                if (sf.number == 1) sp.first = static_cast<std::int32_t>(unzigzag(sf.value));
                if (sf.number == 2) sp.second = static_cast<std::uint32_t>(sf.value);
              }
              (h.number == 9 ? m.negative_spans : m.positive_spans).push_back(sp);
              break;
            }
            case 10:
              m.negative_deltas.push_back(unzigzag(h.value));
              break;
            case 13:
              m.positive_deltas.push_back(unzigzag(h.value));
              break;
            default:
              m.other_fields.push_back(h.number);
          }
        }
      } else {
        m.other_fields.push_back(mf.number);
      }
    }
    fam.metrics.push_back(m);
  }
  in.remove_prefix(length);
  return fam;
}

// Spans + deltas back to index -> count (explicit zero buckets included).
std::map<std::int32_t, std::uint64_t> expand(
    const std::vector<std::pair<std::int32_t, std::uint32_t>>& spans,
    const std::vector<std::int64_t>& deltas) {
  std::map<std::int32_t, std::uint64_t> out;
  std::int64_t index = 0;
  std::int64_t count = 0;
  std::size_t d = 0;
  for (std::size_t s = 0; s < spans.size(); ++s) {
    index += spans[s].first;
    for (std::uint32_t i = 0; i < spans[s].second; ++i) {
      EXPECT_LT(d, deltas.size());
      if (d >= deltas.size()) return out;
      count += deltas[d++];
      EXPECT_GE(count, 0);
      out[static_cast<std::int32_t>(index)] = static_cast<std::uint64_t>(count);
      ++index;
    }
  }
  EXPECT_EQ(d, deltas.size());
  return out;
}

std::map<std::int32_t, std::uint64_t> populated(const std::map<std::int32_t, std::uint64_t>& m) {
  std::map<std::int32_t, std::uint64_t> out;
  for (const auto& [i, c] : m) {
    if (c != 0) out[i] = c;
  }
  return out;
}

std::map<std::int32_t, std::uint64_t> as_map(const std::vector<native_bucket>& b) {
  std::map<std::int32_t, std::uint64_t> out;
  for (const native_bucket& x : b) out[x.index] = x.count;
  return out;
}

// Everything the decoded histogram says equals the snapshot.
void expect_matches(const decoded_histogram& m, const histogram_snapshot& h) {
  EXPECT_EQ(m.sample_count, h.count);
  if (std::isnan(h.sum)) {
    EXPECT_TRUE(std::isnan(m.sample_sum));
  } else {
    EXPECT_EQ(m.sample_sum, h.sum);
  }
  ASSERT_EQ(m.buckets.size(), h.upper_bounds.size());
  for (std::size_t i = 0; i < m.buckets.size(); ++i) {
    EXPECT_EQ(m.buckets[i].first, h.upper_bounds[i]);
    EXPECT_EQ(m.buckets[i].second, h.cumulative[i]);
  }
  EXPECT_TRUE(m.other_fields.empty());
  EXPECT_EQ(m.has_schema, h.native);
  EXPECT_EQ(m.has_zero_threshold, h.native);
  EXPECT_EQ(m.has_zero_count, h.native);
  if (!h.native) {
    EXPECT_TRUE(m.positive_spans.empty() && m.negative_spans.empty());
    EXPECT_TRUE(m.positive_deltas.empty() && m.negative_deltas.empty());
    return;
  }
  EXPECT_EQ(m.schema, h.schema);
  EXPECT_EQ(m.zero_threshold, h.zero_threshold);
  EXPECT_EQ(m.zero_count, h.zero_count);
  EXPECT_EQ(populated(expand(m.positive_spans, m.positive_deltas)), populated(as_map(h.positive)));
  EXPECT_EQ(populated(expand(m.negative_spans, m.negative_deltas)), populated(as_map(h.negative)));
}

TEST(HistogramExposition, ProtobufBytesOfATinyFamily) {
  // MetricFamily{name "a", type HISTOGRAM, metric {histogram {sample_count 0, sample_sum 0}}}
  const std::string expected(
      "\x14"  // length 20
      "\x0a\x01"
      "a"                                      // name
      "\x18\x04"                               // type HISTOGRAM
      "\x22\x0d"                               // metric, 13 bytes
      "\x3a\x0b"                               // histogram, 11 bytes
      "\x08\x00"                               // sample_count 0
      "\x11\x00\x00\x00\x00\x00\x00\x00\x00",  // sample_sum 0.0
      21);
  EXPECT_EQ(protobuf("a", "", {{{}, classic({}, {0}, 0)}}), expected);

  // With help, a label, one bucket and a native part (schema -1, zero_threshold 0,
  // zero_count 1, positive bucket 2 with count 3, negative bucket -1 with count 1).
  histogram_snapshot n = classic({1.5}, {1, 5}, 2.0);
  n.native = true;
  n.schema = -1;
  n.zero_threshold = 0;
  n.zero_count = 1;
  n.positive = {{2, 3}};
  n.negative = {{-1, 1}};
  const std::string hist(
      "\x08\x05"                              // sample_count 5
      "\x11\x00\x00\x00\x00\x00\x00\x00\x40"  // sample_sum 2.0
      "\x1a\x0b"                              // bucket, 11 bytes
      "\x08\x01"                              //   cumulative_count 1
      "\x11\x00\x00\x00\x00\x00\x00\xf8\x3f"  //   upper_bound 1.5
      "\x28\x01"                              // schema sint32 -1
      "\x31\x00\x00\x00\x00\x00\x00\x00\x00"  // zero_threshold 0.0
      "\x38\x01"                              // zero_count 1
      "\x4a\x04\x08\x01\x10\x01"              // negative_span {offset -1, length 1}
      "\x50\x02"                              // negative_delta 1
      "\x62\x04\x08\x04\x10\x01"              // positive_span {offset 2, length 1}
      "\x68\x06",                             // positive_delta 3
      53);
  const std::string label("\x0a\x05\x0a\x01k\x12\x00", 7);  // label {name "k", value ""}
  const std::string metric = label + "\x3a" + static_cast<char>(hist.size()) + hist;
  const std::string family = std::string(
                                 "\x0a\x01"
                                 "b"
                                 "\x12\x02"
                                 "hi"
                                 "\x18\x04",
                                 9) +
                             "\x22" + static_cast<char>(metric.size()) + metric;
  ASSERT_LT(family.size(), 128u);
  EXPECT_EQ(protobuf("b", "hi", {{{{"k", ""}}, n}}), static_cast<char>(family.size()) + family);
}

TEST(HistogramExposition, ProtobufSpansAndDeltas) {
  histogram_snapshot n = classic({}, {14}, 1);
  n.native = true;
  n.schema = 3;
  n.zero_threshold = 0x1p-128;
  // Positive: -3, (-2 empty: closed), -1, 0, then 4 after a gap of 3 (new span).
  n.positive = {{-3, 1}, {-1, 2}, {0, 2}, {4, 5}};
  // Negative: 0 and 3 (gap of exactly 2: closed), then 7 (gap 3: new span).
  n.negative = {{0, 1}, {3, 1}, {7, 2}};
  n.zero_count = 0;
  std::string pb = protobuf("sp", "", {{{}, n}});
  std::string_view in = pb;
  const decoded_family f = read_family(in);
  EXPECT_TRUE(in.empty());
  ASSERT_EQ(f.metrics.size(), 1u);
  const decoded_histogram& m = f.metrics[0];
  using spans = std::vector<std::pair<std::int32_t, std::uint32_t>>;
  EXPECT_EQ(m.positive_spans, (spans{{-3, 4}, {3, 1}}));
  EXPECT_EQ(m.positive_deltas, (std::vector<std::int64_t>{1, -1, 2, 0, 3}));
  EXPECT_EQ(m.negative_spans, (spans{{0, 4}, {3, 1}}));
  EXPECT_EQ(m.negative_deltas, (std::vector<std::int64_t>{1, -1, 0, 1, 1}));
  expect_matches(m, n);
  // A decreasing large count: a negative delta needs the zigzag's full 64 bits.
  n.positive = {{5, std::uint64_t{1} << 62}, {6, 1}};
  pb = protobuf("sp", "", {{{}, n}});
  in = pb;
  const decoded_family g = read_family(in);
  EXPECT_EQ(g.metrics[0].positive_deltas,
            (std::vector<std::int64_t>{std::int64_t{1} << 62, 1 - (std::int64_t{1} << 62)}));
  expect_matches(g.metrics[0], n);
}

TEST(HistogramExposition, ProtobufNoOpSpanMarksAnEmptyNativeHistogram) {
  histogram_snapshot n = classic({}, {0}, 0);
  n.native = true;
  n.schema = 0;
  n.zero_threshold = 0;
  std::string pb = protobuf("e", "", {{{}, n}});
  std::string_view in = pb;
  decoded_histogram m = read_family(in).metrics.at(0);
  using spans = std::vector<std::pair<std::int32_t, std::uint32_t>>;
  EXPECT_EQ(m.positive_spans, (spans{{0, 0}}));
  EXPECT_TRUE(m.positive_deltas.empty());
  EXPECT_TRUE(m.negative_spans.empty());
  EXPECT_TRUE(m.has_zero_threshold);
  // With a zero threshold > 0 (or a zero count, or a bucket) it is recognisable as it is.
  for (int variant = 0; variant < 3; ++variant) {
    histogram_snapshot k = n;
    if (variant == 0) k.zero_threshold = 1e-9;
    if (variant == 1) k.zero_count = 1, k.count = 1, k.cumulative = {1};
    if (variant == 2) k.negative = {{1, 1}}, k.count = 1, k.cumulative = {1};
    pb = protobuf("e", "", {{{}, k}});
    in = pb;
    m = read_family(in).metrics.at(0);
    EXPECT_TRUE(m.positive_spans.empty()) << variant;
    expect_matches(m, k);
  }
  // A classic-only snapshot writes no native field at all.
  pb = protobuf("e", "", {{{}, classic({1}, {0, 0}, 0)}});
  in = pb;
  m = read_family(in).metrics.at(0);
  EXPECT_FALSE(m.has_schema || m.has_zero_threshold || m.has_zero_count);
  EXPECT_TRUE(m.positive_spans.empty() && m.negative_spans.empty());
}

TEST(HistogramExposition, ProtobufRealHistograms) {
  histogram h({-1, 0, 0.5, 1, 2.5}, lockless::native_buckets{3, 0x1p-128, 160}, 1);
  for (double v : {0.1, 0.5, 0.7, 1.0, 2.0, 3.0, -1.0, -0.3, 0.0, 1e-300, 1e300, -1e-3}) {
    h.observe(v);
  }
  h.observe(2.0, 5);
  h.observe(nan);
  h.observe(inf);
  h.observe(-inf);
  histogram c(lockless::exponential_buckets(0.001, 2, 20), 1);
  for (int i = 0; i < 1000; ++i) c.observe(0.0001 * i);
  histogram only_native(lockless::native_buckets{-2, 0, 10}, 1);  // coarsens to fit 10
  for (double v = 1e-6; v < 1e6; v *= 3.7) {
    only_native.observe(v);
    only_native.observe(-v);
  }
  histogram empty(lockless::native_buckets{8, 0, 160}, 1);
  std::vector<histogram_series> s;
  s.push_back({{{"kind", "mixed"}}, h.snapshot()});
  s.push_back({{{"kind", "classic"}, {"shard", "1"}}, c.snapshot()});
  s.push_back({{{"kind", "native"}}, only_native.snapshot()});
  s.push_back({{{"kind", "empty"}}, empty.snapshot()});
  ASSERT_TRUE(s[0].snapshot.native && !s[0].snapshot.positive.empty() &&
              !s[0].snapshot.negative.empty());
  ASSERT_LE(s[2].snapshot.positive.size() + s[2].snapshot.negative.size(), 10u);
  ASSERT_LT(s[2].snapshot.schema, -2);

  std::string pb = protobuf("real_hist", "Real histograms.", s);
  pb += protobuf("second", "", {s[1]});  // a stream of two families
  std::string_view in = pb;
  const decoded_family f = read_family(in);
  EXPECT_EQ(f.name, "real_hist");
  EXPECT_EQ(f.help, "Real histograms.");
  EXPECT_EQ(f.type, 4u);
  ASSERT_EQ(f.metrics.size(), s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    SCOPED_TRACE(i);
    std::map<std::string, std::string> labels;
    for (const auto& l : s[i].labels) labels[l.name] = l.value;
    EXPECT_EQ(f.metrics[i].labels, labels);
    expect_matches(f.metrics[i], s[i].snapshot);
  }
  const decoded_family f2 = read_family(in);
  EXPECT_EQ(f2.name, "second");
  EXPECT_FALSE(f2.has_help);
  ASSERT_EQ(f2.metrics.size(), 1u);
  expect_matches(f2.metrics[0], s[1].snapshot);
  EXPECT_TRUE(in.empty());
}

TEST(HistogramExposition, ContentTypes) {
  EXPECT_EQ(lockless::prometheus_text_content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(lockless::openmetrics_content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(lockless::prometheus_protobuf_content_type,
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
            "encoding=delimited");
}

}  // namespace
