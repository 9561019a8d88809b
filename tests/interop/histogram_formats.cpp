// interop_histogram_formats_writer: builds a few histograms (classic + native, classic only,
// native only, an empty native one with zero_threshold 0), observes a fixed set of values
// (NaN, +-Inf, negatives, zero and -0, values on the bounds, values under the zero
// threshold, huge and tiny ones), and writes one exposition in each format plus what the
// snapshots hold, for histogram_formats.py to compare with what real parsers read:
//
//   interop_histogram_formats_writer TEXT OPENMETRICS PROTOBUF JSON
//
// TEXT: text 0.0.4 (promtool check metrics, prometheus_client.parser), OPENMETRICS:
// OpenMetrics 1.0 (prometheus_client.openmetrics.parser), PROTOBUF: delimited
// MetricFamily messages (decoded with the published metrics.proto). JSON: per family its
// name, help and per series its labels, the snapshot (count, sum, classic bounds and
// cumulative counts, native schema, zero threshold and count, positive and negative
// buckets) and the observations themselves (value, times), so the script can also work
// out the buckets on its own. Doubles go into the JSON as "%.17g" strings (Python's
// float() reads them, nan and inf included). One shard per histogram: the snapshots are
// deterministic.
#include <lockless/histogram.hpp>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

struct observation {
  double value;
  std::uint64_t times;
};

struct series_spec {
  std::vector<lockless::metric_label> labels;
  std::vector<observation> observations;
};

struct family_spec {
  std::string name;
  std::string help;
  std::vector<double> bounds;  // classic; empty and !native: +Inf only
  bool native = false;
  lockless::native_buckets layout{};
  std::vector<series_spec> series;
};

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string("\"") + buf + "\"";
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_buckets(const std::vector<lockless::native_bucket>& b) {
  std::string out = "[";
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i > 0) out += ",";
    out += "[" + std::to_string(b[i].index) + "," + std::to_string(b[i].count) + "]";
  }
  return out + "]";
}

std::string json_series(const series_spec& spec, const lockless::histogram_snapshot& h,
                        const family_spec& family) {
  std::string out = "{\"labels\":{";
  for (std::size_t i = 0; i < spec.labels.size(); ++i) {
    if (i > 0) out += ",";
    out += json_string(spec.labels[i].name) + ":" + json_string(spec.labels[i].value);
  }
  out += "},\"count\":" + std::to_string(h.count) + ",\"sum\":" + number(h.sum);
  out += ",\"bounds\":[";
  for (std::size_t i = 0; i < h.upper_bounds.size(); ++i) {
    out += (i > 0 ? "," : "") + number(h.upper_bounds[i]);
  }
  out += "],\"cumulative\":[";
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    out += (i > 0 ? "," : "") + std::to_string(h.cumulative[i]);
  }
  out += "],\"native\":" + std::string(h.native ? "true" : "false");
  if (h.native) {
    out += ",\"schema\":" + std::to_string(h.schema) +
           ",\"configured_schema\":" + std::to_string(family.layout.schema) +
           ",\"zero_threshold\":" + number(h.zero_threshold) +
           ",\"zero_count\":" + std::to_string(h.zero_count) +
           ",\"positive\":" + json_buckets(h.positive) +
           ",\"negative\":" + json_buckets(h.negative);
  }
  out += ",\"observations\":[";
  for (std::size_t i = 0; i < spec.observations.size(); ++i) {
    out += (i > 0 ? "," : "") + std::string("[") + number(spec.observations[i].value) + "," +
           std::to_string(spec.observations[i].times) + "]";
  }
  return out + "]}";
}

bool write_file(const char* path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) std::fprintf(stderr, "interop_histogram_formats_writer: cannot write %s\n", path);
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s TEXT OPENMETRICS PROTOBUF JSON\n", argv[0]);
    return 2;
  }
  // Every special value, on the bounds and between them, below the zero threshold.
  const std::vector<observation> mixed = {
      {not_a_number, 1}, {inf, 1},     {-inf, 1},  {-1, 1},     {-0.5, 2}, {-1e-3, 1}, {0, 1},
      {-0.0, 1},         {1e-300, 1},  {0.5, 1},   {0.7, 1},    {1, 3},    {2.5, 1},   {3, 1},
      {10, 1},           {42, 1},      {1e300, 1}, {-1e300, 1}, {2.0, 5},  {0.001, 1}, {1e-40, 1},
      {1024, 1},         {0x1p-128, 1}};
  std::vector<observation> spread;  // many buckets: coarsening, gaps, a long stream
  for (double v = 1e-7; v < 1e7; v *= 2.3) {
    spread.push_back({v, 1});
    spread.push_back({-v * 0.3, 2});  // the sum stays > 0: OpenMetrics writes it
  }
  const std::vector<observation> sizes = {{1, 1},    {3, 2},   {4, 1}, {5, 1},  {100, 4}, {4096, 1},
                                          {5000, 1}, {1e9, 1}, {0, 1}, {17, 1}, {64, 1}};

  std::vector<family_spec> families;
  families.push_back(
      {"lockless_interop_latency_seconds",
       "Latency with \"quotes\", a backslash \\ and a\nnewline.",
       {-1, 0, 0.5, 1, 2.5, 10},  // a negative bound: OpenMetrics has no _sum/_count
       true,
       {3, 0x1p-128, 160},
       {{{{"route", "/a"}, {"method", "GET"}}, mixed},
        {{{"route", "/b \"q\" \\ \n end"}, {"method", "POST"}}, {{0.25, 2}, {-3, 1}}}}});
  families.push_back({"lockless_interop_size_bytes",
                      "Sizes.",
                      lockless::exponential_buckets(1, 4, 8),
                      true,
                      {0, 0, 160},  // zero_threshold 0: the empty series needs the no-op span
                      {{{{"shard", "0"}}, sizes}, {{{"shard", "1"}}, {}}}});
  families.push_back({"lockless_interop_queue_depth",
                      "Classic only; its sum is NaN.",
                      lockless::linear_buckets(0, 5, 4),
                      false,
                      {},
                      {{{}, mixed}}});
  families.push_back({"lockless_interop_spread",
                      "Native only, coarsened to 20 buckets.",
                      {},
                      true,
                      {8, 1e-9, 20},
                      {{{{"kind", "spread"}}, spread}}});

  std::string text, om, pb, json = "{\"families\":[";
  for (std::size_t f = 0; f < families.size(); ++f) {
    const family_spec& fam = families[f];
    std::vector<lockless::histogram_series> series;
    for (const series_spec& s : fam.series) {
      lockless::histogram h = fam.native ? lockless::histogram(fam.bounds, fam.layout, 1)
                                         : lockless::histogram(fam.bounds, 1);
      for (const observation& o : s.observations) {
        if (o.times == 1) {
          h.observe(o.value);
        } else {
          h.observe(o.value, o.times);
        }
      }
      series.push_back({s.labels, h.snapshot()});
    }
    lockless::write_prometheus_text(text, fam.name, fam.help, series);
    lockless::write_openmetrics_text(om, fam.name, fam.help, series);
    lockless::write_prometheus_protobuf(pb, fam.name, fam.help, series);
    json += (f > 0 ? "," : "") + std::string("{\"name\":") + json_string(fam.name) +
            ",\"help\":" + json_string(fam.help) + ",\"series\":[";
    for (std::size_t i = 0; i < series.size(); ++i) {
      json += (i > 0 ? "," : "") + json_series(fam.series[i], series[i].snapshot, fam);
    }
    json += "]}";
  }
  om += lockless::openmetrics_eof;
  json += "]}\n";
  const bool ok = write_file(argv[1], text) && write_file(argv[2], om) && write_file(argv[3], pb) &&
                  write_file(argv[4], json);
  return ok ? 0 : 1;
}
