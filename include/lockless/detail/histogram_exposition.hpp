// lockless/detail/histogram_exposition.hpp: histogram snapshots in the three formats a
// Prometheus server scrapes: the text format 0.0.4, OpenMetrics 1.0 text, and the
// delimited protobuf format (the only one that carries native buckets). Included by
// histogram.hpp; part of the public API (lockless::write_prometheus_text, ...).
//
// WHAT
//   Each writer appends ONE metric family (a name, a help text, type histogram) with one
//   series per histogram_series (its labels and a histogram_snapshot) to a std::string.
//   An exposition is any number of families one after the other (each name once); an
//   OpenMetrics exposition ends with openmetrics_eof, written once by the caller. Serve
//   it with the matching content type (prometheus_text_content_type, ...). The writers
//   keep no state and take no lock: snapshot first, then write.
//
// TEXT 0.0.4 (what client_golang's expfmt writes)
//     # HELP name help                      (left out when help is empty)
//     # TYPE name histogram
//     name_bucket{a="x",le="0.5"} 3         one per classic bound, increasing, then
//     name_bucket{a="x",le="+Inf"} 7        le="+Inf" (the count) last
//     name_sum{a="x"} 12.5
//     name_count{a="x"} 7
//   Floats (le values, sums) in Go's strconv 'g' shortest form: the shortest decimal that
//   reads back as the same double, in exponent form when its exponent is < -4 or >= 6
//   ("0.0001", "123456", "1e+06", "1.5e-05"); "+Inf", "-Inf", "NaN"; -0 as "0". Counts
//   are exact decimal integers (Go writes them as floats, "1e+06"; every parser reads
//   both, and an integer never rounds past 2^53). HELP escapes backslash and newline;
//   label values escape backslash, double quote and newline. Labels appear in the order
//   given, le last.
//
// OPENMETRICS 1.0
//   The same lines with OpenMetrics' canonical floats: an integral value gets ".0"
//   (le="1.0", "0.0", "1e+06" stays), as client_golang's OpenMetrics writer and Prometheus
//   itself (formatOpenMetricsFloat) spell them; HELP escapes the double quote as well. No
//   _created sample (optional). OpenMetrics makes the sum a counter: it MUST NOT be NaN
//   or negative, and a histogram with a negative bucket bound MUST NOT have one; _count
//   appears if and only if _sum does. So a series whose classic bounds include one < 0,
//   or whose sum is NaN or < 0 (a NaN, -Inf or negative observation), has neither: its
//   buckets say it all (le="+Inf" is the count). The Python parser rejects the
//   alternative; client_golang writes them anyway. The text format keeps them always.
//
// PROTOBUF (io.prometheus.client.MetricFamily, prometheus/client_model's metrics.proto)
//   One MetricFamily (name, help if not empty, type HISTOGRAM, a Metric per series with
//   its LabelPairs and a Histogram) preceded by its length as a varint: the "delimited"
//   encoding Prometheus reads. Histogram: sample_count, sample_sum, a Bucket
//   (cumulative_count, upper_bound) per finite classic bound (the +Inf bucket is
//   optional in the proto and left out, as the Go client does: it is sample_count).
//   Native snapshots add schema, zero_threshold (always, even 0), zero_count, and the
//   negative and positive buckets as spans + deltas:
//     span    (offset, length): a run of consecutive bucket indices. The first span's
//             offset is its first index; a later one's is the gap since the previous
//             span's end (index of its first bucket - previous span's last index - 1).
//     delta   per bucket in the runs, in index order: count - previous bucket's count
//             (the first: its count).
//   Gaps of one or two empty buckets are closed with zero-count buckets instead of a new
//   span, as client_golang does (a span costs 4+ bytes, an empty bucket 1). A snapshot
//   without native buckets (histogram_snapshot::native false) writes no native field.
//   A native histogram with no bucket, zero_count 0 and zero_threshold 0 would look
//   exactly like a classic one; the Go client then writes a no-op positive span (offset
//   0, length 0) so scrapers can tell, and so do we. Prometheus 2.42 (Debian 12) does not
//   look at spans yet (it decides on deltas, zero_count and zero_threshold > 0; spans
//   count since prometheus PR 12584, mid-2023): with it such a histogram reads as
//   classic until its first observation. It also decides once per family, from the
//   first series: the series of one family should agree on native. With the default
//   zero_threshold (2^-128) the question never arises. Native buckets reach Prometheus
//   2.42 only with --enable-feature=native-histograms and only through this format.
//   Repeated scalars (deltas) are written unpacked, as proto2 declares them. The encoder
//   is a few lines of wire format (varints, zigzag sint32/sint64, little-endian doubles,
//   length-delimited submessages), so the library needs no libprotobuf and no generated
//   code: a header-only library cannot impose a protobuf runtime (and its version) on its
//   users, and the message is small and fixed.
//
// VALIDATION
//   Every writer checks everything before writing anything (strong guarantee: `out` is
//   unchanged when it throws std::invalid_argument; without exceptions the process
//   aborts with the message, as detail/error.hpp does elsewhere):
//     metric name   [a-zA-Z_:][a-zA-Z0-9_:]*
//     label names   [a-zA-Z_][a-zA-Z0-9_]*, not "le", not starting with "__" (reserved
//                   to Prometheus), no name twice in one series
//     snapshots     finite, strictly increasing bounds; cumulative has one count more,
//                   non-decreasing, its last == count; native: schema -4..8,
//                   zero_threshold finite >= 0, bucket indices strictly increasing.
//   Not checked: that help and label values are UTF-8 (Prometheus requires it; they are
//   written byte for byte), and that two series of a family have different label sets.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../histogram.hpp"
#include "config.hpp"
#include "error.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// One label of a series: name="value".
struct metric_label {
  std::string name;
  std::string value;
};

// One series of a histogram family: its labels and what the histogram held.
struct histogram_series {
  std::vector<metric_label> labels;
  histogram_snapshot snapshot;
};

inline constexpr std::string_view prometheus_text_content_type =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view openmetrics_content_type =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
inline constexpr std::string_view prometheus_protobuf_content_type =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
    "encoding=delimited";
// The last line of every OpenMetrics exposition (written once, after every family).
inline constexpr std::string_view openmetrics_eof = "# EOF\n";

namespace detail::exposition {

inline bool name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool name_char(char c) noexcept {
  return name_start(c) || (c >= '0' && c <= '9');
}

inline bool valid_metric_name(std::string_view n) noexcept {
  if (n.empty() || !(name_start(n[0]) || n[0] == ':')) return false;
  for (char c : n) {
    if (!(name_char(c) || c == ':')) return false;
  }
  return true;
}

inline bool valid_label_name(std::string_view n) noexcept {
  if (n.empty() || !name_start(n[0]) || n == "le" || n.starts_with("__")) return false;
  for (char c : n) {
    if (!name_char(c)) return false;
  }
  return true;
}

inline void validate_buckets(const std::vector<native_bucket>& buckets) {
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    if (!(buckets[i].index > buckets[i - 1].index)) {
      throw_invalid_argument("lockless: histogram exposition: native bucket indices must increase");
    }
  }
}

inline void validate(std::string_view name, std::span<const histogram_series> series) {
  if (!valid_metric_name(name)) {
    throw_invalid_argument(
        "lockless: histogram exposition: metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (const histogram_series& s : series) {
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      if (!valid_label_name(s.labels[i].name)) {
        throw_invalid_argument(
            "lockless: histogram exposition: label name must match [a-zA-Z_][a-zA-Z0-9_]*, "
            "not be \"le\" nor start with \"__\"");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (s.labels[j].name == s.labels[i].name) {
          throw_invalid_argument(
              "lockless: histogram exposition: a label name appears twice in a series");
        }
      }
    }
    const histogram_snapshot& h = s.snapshot;
    for (std::size_t i = 0; i < h.upper_bounds.size(); ++i) {
      if (!std::isfinite(h.upper_bounds[i]) ||
          (i > 0 && !(h.upper_bounds[i] > h.upper_bounds[i - 1]))) {
        throw_invalid_argument(
            "lockless: histogram exposition: bounds must be finite and strictly increasing");
      }
    }
    if (h.cumulative.size() != h.upper_bounds.size() + 1 || h.cumulative.back() != h.count) {
      throw_invalid_argument(
          "lockless: histogram exposition: cumulative needs one count per bound plus +Inf, "
          "the last equal to count");
    }
    for (std::size_t i = 1; i < h.cumulative.size(); ++i) {
      if (h.cumulative[i] < h.cumulative[i - 1]) {
        throw_invalid_argument(
            "lockless: histogram exposition: cumulative counts must not decrease");
      }
    }
    if (h.native) {
      if (h.schema < native_min_schema || h.schema > native_max_schema) {
        throw_invalid_argument("lockless: histogram exposition: native schema must be in -4..8");
      }
      if (!std::isfinite(h.zero_threshold) || h.zero_threshold < 0) {
        throw_invalid_argument(
            "lockless: histogram exposition: zero_threshold must be finite and >= 0");
      }
      validate_buckets(h.positive);
      validate_buckets(h.negative);
    }
  }
}

// ---- numbers as text ------------------------------------------------------------------

// Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest round-tripping digits, in
// exponent form when the decimal exponent is < -4 or >= 6 (Go's rule for the shortest
// 'g'), else positional. `openmetrics` appends ".0" to a form with neither '.' nor 'e'.
inline void append_float(std::string& out, double v, bool openmetrics) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (v == 0) {  // -0 too, as Go's writers (they test f == 0 first)
    out += openmetrics ? "0.0" : "0";
    return;
  }
  char sci[64];
  const std::to_chars_result r =
      std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view s(sci, static_cast<std::size_t>(r.ptr - sci));  // [-]d[.ddd]e(+|-)dd[d]
  if (s.front() == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  int exponent = 0;
  const char* exp_first = s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0);
  std::from_chars(exp_first, s.data() + s.size(), exponent);
  if (exponent < -4 || exponent >= 6) {
    out += s;  // the same form as Go's: mantissa, 'e', sign, at least two digits
    return;
  }
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  std::string fixed;
  if (exponent >= 0) {
    const auto int_digits = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= int_digits) {
      fixed = digits + std::string(int_digits - digits.size(), '0');
    } else {
      fixed = digits.substr(0, int_digits) + "." + digits.substr(int_digits);
    }
  } else {
    fixed = "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  }
  out += fixed;
  if (openmetrics && fixed.find('.') == std::string::npos) out += ".0";
}

inline void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// HELP: backslash and newline (text 0.0.4); OpenMetrics also escapes the double quote.
inline void append_help(std::string& out, std::string_view help, bool openmetrics) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && openmetrics) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

inline void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// name<suffix>{labels[,le="..."]} value-less: the caller appends " value\n".
inline void append_series_name(std::string& out, std::string_view name, std::string_view suffix,
                               const std::vector<metric_label>& labels, const double* le,
                               bool openmetrics) {
  out += name;
  out += suffix;
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const metric_label& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    append_label_value(out, l.value);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    append_float(out, *le, openmetrics);
    out += '"';
  }
  out += '}';
}

inline void write_text(std::string& out, std::string_view name, std::string_view help,
                       std::span<const histogram_series> series, bool openmetrics) {
  validate(name, series);
  if (!help.empty()) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_help(out, help, openmetrics);
    out += '\n';
  }
  out += "# TYPE ";
  out += name;
  out += " histogram\n";
  const double inf = std::numeric_limits<double>::infinity();
  for (const histogram_series& s : series) {
    const histogram_snapshot& h = s.snapshot;
    for (std::size_t i = 0; i <= h.upper_bounds.size(); ++i) {
      const double* le = i < h.upper_bounds.size() ? &h.upper_bounds[i] : &inf;
      append_series_name(out, name, "_bucket", s.labels, le, openmetrics);
      out += ' ';
      append_uint(out, h.cumulative[i]);
      out += '\n';
    }
    if (openmetrics && ((!h.upper_bounds.empty() && h.upper_bounds.front() < 0) ||
                        std::isnan(h.sum) || h.sum < 0)) {
      continue;  // OpenMetrics: the sum is a counter (see OPENMETRICS above)
    }
    append_series_name(out, name, "_sum", s.labels, nullptr, openmetrics);
    out += ' ';
    append_float(out, h.sum, openmetrics);
    out += '\n';
    append_series_name(out, name, "_count", s.labels, nullptr, openmetrics);
    out += ' ';
    append_uint(out, h.count);
    out += '\n';
  }
}

// ---- protobuf wire format ---------------------------------------------------------------

namespace pb {

enum wire : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2 };

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(static_cast<unsigned char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out += static_cast<char>(static_cast<unsigned char>(v));
}

inline void put_tag(std::string& out, std::uint32_t field, wire w) {
  put_varint(out, (std::uint64_t{field} << 3) | w);
}

inline void put_uint(std::string& out, std::uint32_t field, std::uint64_t v) {
  put_tag(out, field, varint);
  put_varint(out, v);
}

// sint32 / sint64: zigzag, so small negative numbers stay short.
inline void put_sint32(std::string& out, std::uint32_t field, std::int32_t v) {
  put_tag(out, field, varint);
  put_varint(out, (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31));
}

inline void put_sint64(std::string& out, std::uint32_t field, std::int64_t v) {
  put_tag(out, field, varint);
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

inline void put_double(std::string& out, std::uint32_t field, double v) {
  put_tag(out, field, fixed64);
  std::uint64_t bits = 0;
  static_assert(sizeof bits == sizeof v);
  std::memcpy(&bits, &v, sizeof v);
  for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<unsigned char>(bits >> (8 * i)));
}

// A string, bytes or an already encoded submessage.
inline void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_tag(out, field, length_delimited);
  put_varint(out, bytes.size());
  out += bytes;
}

}  // namespace pb

// Field numbers of metrics.proto.
namespace field {
inline constexpr std::uint32_t family_name = 1, family_help = 2, family_type = 3, family_metric = 4;
inline constexpr std::uint32_t metric_label = 1, metric_histogram = 7;
inline constexpr std::uint32_t label_name = 1, label_value = 2;
inline constexpr std::uint32_t sample_count = 1, sample_sum = 2, bucket = 3, schema = 5,
                               zero_threshold = 6, zero_count = 7, negative_span = 9,
                               negative_delta = 10, positive_span = 12, positive_delta = 13;
inline constexpr std::uint32_t bucket_cumulative_count = 1, bucket_upper_bound = 2;
inline constexpr std::uint32_t span_offset = 1, span_length = 2;
inline constexpr std::uint64_t type_histogram = 4;
}  // namespace field

inline void put_span(std::string& out, std::uint32_t f, std::int32_t offset, std::uint32_t length) {
  std::string span;
  pb::put_sint32(span, field::span_offset, offset);
  pb::put_uint(span, field::span_length, length);
  pb::put_bytes(out, f, span);
}

// Spans + deltas of populated buckets (ascending index), gaps of <= 2 closed with zeros.
inline void put_native_buckets(std::string& out, std::uint32_t span_field,
                               std::uint32_t delta_field,
                               const std::vector<native_bucket>& buckets) {
  struct run {
    std::int64_t offset;
    std::uint32_t length;
  };
  std::vector<run> spans;
  std::vector<std::int64_t> deltas;
  std::uint64_t previous = 0;
  std::int64_t next = 0;  // the index after the last bucket written
  auto append = [&](std::uint64_t count) {
    ++spans.back().length;
    deltas.push_back(static_cast<std::int64_t>(count - previous));  // two's complement
    previous = count;
  };
  for (std::size_t n = 0; n < buckets.size(); ++n) {
    const std::int64_t gap = std::int64_t{buckets[n].index} - next;
    if (n == 0 || gap > 2) {
      spans.push_back({gap, 0});
    } else {
      for (std::int64_t j = 0; j < gap; ++j) append(0);
    }
    append(buckets[n].count);
    next = std::int64_t{buckets[n].index} + 1;
  }
  for (const run& r : spans) {  // offsets fit: validate_gaps()
    put_span(out, span_field, static_cast<std::int32_t>(r.offset), r.length);
  }
  for (const std::int64_t d : deltas) pb::put_sint64(out, delta_field, d);
}

inline void put_histogram(std::string& out, const histogram_snapshot& h) {
  pb::put_uint(out, field::sample_count, h.count);
  pb::put_double(out, field::sample_sum, h.sum);
  for (std::size_t i = 0; i < h.upper_bounds.size(); ++i) {
    std::string bucket;
    pb::put_uint(bucket, field::bucket_cumulative_count, h.cumulative[i]);
    pb::put_double(bucket, field::bucket_upper_bound, h.upper_bounds[i]);
    pb::put_bytes(out, field::bucket, bucket);
  }
  if (!h.native) return;
  pb::put_sint32(out, field::schema, h.schema);
  pb::put_double(out, field::zero_threshold, h.zero_threshold);
  pb::put_uint(out, field::zero_count, h.zero_count);
  put_native_buckets(out, field::negative_span, field::negative_delta, h.negative);
  put_native_buckets(out, field::positive_span, field::positive_delta, h.positive);
  if (h.zero_threshold == 0 && h.zero_count == 0 && h.positive.empty() && h.negative.empty()) {
    put_span(out, field::positive_span, 0, 0);  // the no-op span: "this one is native"
  }
}

// Checks that every gap between native spans fits the proto's sint32 offset.
inline void validate_gaps(std::span<const histogram_series> series) {
  for (const histogram_series& s : series) {
    if (!s.snapshot.native) continue;
    for (const std::vector<native_bucket>* b : {&s.snapshot.positive, &s.snapshot.negative}) {
      for (std::size_t i = 1; i < b->size(); ++i) {
        const std::int64_t gap = std::int64_t{(*b)[i].index} - (*b)[i - 1].index - 1;
        if (gap > std::numeric_limits<std::int32_t>::max()) {
          throw_invalid_argument(
              "lockless: histogram exposition: native bucket indices too far apart");
        }
      }
    }
  }
}

}  // namespace detail::exposition

// Prometheus text format 0.0.4: one histogram family (see the header comment). Throws
// std::invalid_argument (and leaves `out` unchanged) for an invalid metric or label name
// or an inconsistent snapshot.
inline void write_prometheus_text(std::string& out, std::string_view name, std::string_view help,
                                  std::span<const histogram_series> series) {
  std::string text;
  detail::exposition::write_text(text, name, help, series, false);
  out += text;
}

// OpenMetrics 1.0 text: one histogram family. End the whole exposition with
// openmetrics_eof, once. Throws as write_prometheus_text.
inline void write_openmetrics_text(std::string& out, std::string_view name, std::string_view help,
                                   std::span<const histogram_series> series) {
  std::string text;
  detail::exposition::write_text(text, name, help, series, true);
  out += text;
}

// Protobuf, delimited: the varint length, then one io.prometheus.client.MetricFamily of
// type HISTOGRAM. Throws as write_prometheus_text.
inline void write_prometheus_protobuf(std::string& out, std::string_view name,
                                      std::string_view help,
                                      std::span<const histogram_series> series) {
  namespace x = detail::exposition;
  x::validate(name, series);
  x::validate_gaps(series);
  std::string family;
  x::pb::put_bytes(family, x::field::family_name, name);
  if (!help.empty()) x::pb::put_bytes(family, x::field::family_help, help);
  x::pb::put_uint(family, x::field::family_type, x::field::type_histogram);
  for (const histogram_series& s : series) {
    std::string metric;
    for (const metric_label& l : s.labels) {
      std::string pair;
      x::pb::put_bytes(pair, x::field::label_name, l.name);
      x::pb::put_bytes(pair, x::field::label_value, l.value);
      x::pb::put_bytes(metric, x::field::metric_label, pair);
    }
    std::string histogram;
    x::put_histogram(histogram, s.snapshot);
    x::pb::put_bytes(metric, x::field::metric_histogram, histogram);
    x::pb::put_bytes(family, x::field::family_metric, metric);
  }
  x::pb::put_varint(out, family.size());
  out += family;
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
