// The endpoint of interop_histogram_server (driven by histogram_server.py): a metrics
// endpoint on 127.0.0.1 for a real Prometheus server to scrape, serving lockless
// histograms in the library's own exposition formats, and the figures Prometheus must
// report for them written to a JSON file.
//
//   interop_histogram_server_endpoint <expected.json> [seconds]
//
// Binds 127.0.0.1 on a port the kernel picks, writes <expected.json>, prints
// "PORT <n>" on stdout, then serves until stdin is closed (the driver holds it open) or
// `seconds` (default 60) have passed.
//   /metrics       protobuf (delimited MetricFamily messages) when the Accept header
//                  names application/vnd.google.protobuf (Prometheus with
//                  --enable-feature=native-histograms), text 0.0.4 otherwise
//   /metrics-text  always text 0.0.4 (the classic buckets of the native family: Prometheus
//                  2.42 ingests a protobuf histogram with native buckets as native only)
//
// The histograms are filled once, single-threaded, with one shard, before the first
// scrape and never change, so every scrape serves the same snapshot, the one whose
// figures are in the JSON file (count, sum, classic bounds and cumulative counts,
// quantile(q) and native_quantile(q), schema, zero bucket, native buckets with their
// boundaries from histogram_snapshot::native_upper_bound). Doubles are written as JSON
// strings in the spelling Prometheus uses ("NaN", "+Inf", "-Inf", else the shortest
// round-trip form), so the driver compares them exactly.
#include <lockless/histogram.hpp>

#include <httplib.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// The quantiles asked of Prometheus. 0.2 lands in the native family's bucket that straddles
// its zero threshold (see fill_latency); 0 and 1 are the ends.
constexpr double quantiles[] = {0, 0.01, 0.1, 0.2, 0.25, 0.5, 0.75, 0.9, 0.99, 1};

struct family {
  std::string name;
  std::string help;
  std::vector<lockless::histogram_series> series;
};

// ---- the data: deterministic, spread over many buckets ---------------------------------

// n values from lo to hi (both > 0), equally spaced in log scale.
template <class F>
void log_spread(double lo, double hi, int n, F&& f) {
  for (int i = 0; i < n; ++i) {
    f(lo * std::pow(hi / lo, static_cast<double>(i) / static_cast<double>(n - 1)));
  }
}

// Family lockless_interop_latency_seconds: classic bounds and native buckets (schema 3,
// zero threshold 0.001, not a bucket boundary). Negative values, zeros, values inside the
// zero bucket, values on classic and native boundaries, and a cluster just above the zero
// threshold, inside the native bucket (2^-10, 2^(-79/8)] that the threshold cuts.
lockless::histogram_snapshot fill_latency() {
  const std::vector<double> bounds = {-1,   -0.1, 0,    0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05, 0.1,  0.25, 0.5,   1,      2.5,   5,    10};
  lockless::histogram h(bounds, lockless::native_buckets{3, 0.001, 250}, 1);
  log_spread(0.0011, 8.0, 3000, [&](double v) { h.observe(v); });
  log_spread(0.002, 0.5, 300, [&](double v) { h.observe(-v); });
  h.observe(0.0, 200);
  log_spread(0.00001, 0.001, 100, [&](double v) { h.observe(v); });
  h.observe(-0.0005, 20);
  log_spread(0.00101, 0.00106, 400, [&](double v) { h.observe(v); });
  for (double v : {0.1, 0.5, 1.0, 2.5, 0.25, 0.0625}) h.observe(v, 50);
  h.observe(20.0, 30);  // past the last classic bound: the +Inf bucket
  return h.snapshot();
}

// Family lockless_interop_request_bytes{method=...}: classic buckets only, so Prometheus
// 2.42 ingests it as classic _bucket/_sum/_count series from protobuf as well as from text.
lockless::histogram_snapshot fill_request_bytes(double scale, int n) {
  lockless::histogram h(lockless::exponential_buckets(64, 4, 8), 1);
  log_spread(10.0 * scale, 4'000'000.0 * scale, n, [&](double v) { h.observe(std::round(v)); });
  h.observe(64, 7);  // on a bound (le is inclusive)
  return h.snapshot();
}

// Family lockless_interop_positive_seconds{zeros=...}: native buckets only (no classic
// bounds), positive values only: with zeros the zero bucket is [0, t] for quantiles; without
// any, the (empty) zero bucket takes no part. Schemas 1 and -1.
lockless::histogram_snapshot fill_positive(bool zeros) {
  lockless::histogram h(lockless::native_buckets{zeros ? 1 : -1, 0x1p-128, 160}, 1);
  log_spread(0.003, 300.0, 1000, [&](double v) { h.observe(v); });
  if (zeros) h.observe(0.0, 40);
  return h.snapshot();
}

// ---- the expected figures as JSON ------------------------------------------------------

std::string number(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"+Inf\"" : "\"-Inf\"";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return "\"" + std::string(buf, r.ptr) + "\"";
}

std::string json_string(std::string_view s) {  // the names and values here are plain ASCII
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void write_native_buckets(std::string& out, const std::vector<lockless::native_bucket>& buckets,
                          std::int32_t schema) {
  out += "[";
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const lockless::native_bucket& b = buckets[i];
    out += i == 0 ? "" : ", ";
    out += "{\"index\": " + std::to_string(b.index) + ", \"count\": " + std::to_string(b.count) +
           ", \"lower\": " +
           number(lockless::histogram_snapshot::native_upper_bound(b.index - 1, schema)) +
           ", \"upper\": " +
           number(lockless::histogram_snapshot::native_upper_bound(b.index, schema)) + "}";
  }
  out += "]";
}

std::string expected_json(const std::vector<family>& families) {
  std::string out = "{\"quantiles\": [";
  for (std::size_t i = 0; i < std::size(quantiles); ++i) {
    out += (i == 0 ? "" : ", ") + number(quantiles[i]);
  }
  out += "],\n \"families\": [";
  for (std::size_t f = 0; f < families.size(); ++f) {
    out += f == 0 ? "\n" : ",\n";
    out += "  {\"name\": " + json_string(families[f].name) + ", \"series\": [";
    for (std::size_t i = 0; i < families[f].series.size(); ++i) {
      const lockless::histogram_series& s = families[f].series[i];
      const lockless::histogram_snapshot& snap = s.snapshot;
      out += i == 0 ? "\n" : ",\n";
      out += "   {\"labels\": {";
      for (std::size_t l = 0; l < s.labels.size(); ++l) {
        out += (l == 0 ? "" : ", ") + json_string(s.labels[l].name) + ": " +
               json_string(s.labels[l].value);
      }
      out += "}, \"count\": " + std::to_string(snap.count) + ", \"sum\": " + number(snap.sum);
      out += ",\n    \"upper_bounds\": [";
      for (std::size_t b = 0; b < snap.upper_bounds.size(); ++b) {
        out += (b == 0 ? "" : ", ") + number(snap.upper_bounds[b]);
      }
      out += "], \"cumulative\": [";
      for (std::size_t b = 0; b < snap.cumulative.size(); ++b) {
        out += (b == 0 ? "" : ", ") + std::to_string(snap.cumulative[b]);
      }
      out += "],\n    \"quantile\": [";
      for (std::size_t q = 0; q < std::size(quantiles); ++q) {
        out += (q == 0 ? "" : ", ") + number(snap.quantile(quantiles[q]));
      }
      out += "],\n    \"native\": ";
      out += snap.native ? "true" : "false";
      if (snap.native) {
        out += ", \"native_quantile\": [";
        for (std::size_t q = 0; q < std::size(quantiles); ++q) {
          out += (q == 0 ? "" : ", ") + number(snap.native_quantile(quantiles[q]));
        }
        out += "],\n    \"schema\": " + std::to_string(snap.schema) +
               ", \"zero_threshold\": " + number(snap.zero_threshold) +
               ", \"zero_count\": " + std::to_string(snap.zero_count) + ",\n    \"positive\": ";
        write_native_buckets(out, snap.positive, snap.schema);
        out += ",\n    \"negative\": ";
        write_native_buckets(out, snap.negative, snap.schema);
      }
      out += "}";
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s <expected.json> [seconds]\n", argv[0]);
    return 2;
  }
  const int seconds = argc == 3 ? std::atoi(argv[2]) : 60;
  try {
    std::vector<family> families;
    families.push_back({"lockless_interop_latency_seconds",
                        "Latencies: classic and native buckets.",
                        {{{}, fill_latency()}}});
    families.push_back({"lockless_interop_request_bytes",
                        "Request sizes: classic buckets only.",
                        {{{{"method", "get"}}, fill_request_bytes(1.0, 2000)},
                         {{{"method", "put"}}, fill_request_bytes(0.25, 700)}}});
    families.push_back(
        {"lockless_interop_positive_seconds",
         "Positive values: native buckets only.",
         {{{{"zeros", "yes"}}, fill_positive(true)}, {{{"zeros", "no"}}, fill_positive(false)}}});

    std::string text;
    std::string protobuf;
    for (const family& f : families) {
      lockless::write_prometheus_text(text, f.name, f.help, f.series);
      lockless::write_prometheus_protobuf(protobuf, f.name, f.help, f.series);
    }
    {
      std::ofstream json(argv[1], std::ios::binary | std::ios::trunc);
      json << expected_json(families);
      if (!json.flush()) {
        std::fprintf(stderr, "endpoint: cannot write %s\n", argv[1]);
        return 1;
      }
    }

    std::atomic<int> text_scrapes{0};
    std::atomic<int> protobuf_scrapes{0};
    httplib::Server server;
    auto serve_text = [&](httplib::Response& res) {
      text_scrapes.fetch_add(1, std::memory_order_relaxed);
      res.set_content(text, std::string(lockless::prometheus_text_content_type));
    };
    server.Get("/metrics", [&](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Accept").find("application/vnd.google.protobuf") !=
          std::string::npos) {
        protobuf_scrapes.fetch_add(1, std::memory_order_relaxed);
        res.set_content(protobuf, std::string(lockless::prometheus_protobuf_content_type));
      } else {
        serve_text(res);
      }
    });
    server.Get("/metrics-text",
               [&](const httplib::Request&, httplib::Response& res) { serve_text(res); });
    const int port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) {
      std::fprintf(stderr, "endpoint: cannot bind 127.0.0.1\n");
      return 1;
    }
    std::thread listener([&] { server.listen_after_bind(); });
    std::printf("PORT %d\n", port);
    std::fflush(stdout);

    // Serve until stdin reaches end of file (or fails) or the time is up.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd in{STDIN_FILENO, POLLIN, 0};
      if (::poll(&in, 1, 200) > 0) {
        char buf[256];
        if (::read(STDIN_FILENO, buf, sizeof buf) <= 0) break;
      }
    }
    server.stop();
    listener.join();
    std::fprintf(stderr, "endpoint: served %d protobuf and %d text scrapes\n",
                 protobuf_scrapes.load(), text_scrapes.load());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "endpoint: %s\n", e.what());
    return 1;
  }
}
