// examples/histogram_latency.cpp: request latencies recorded by several threads into one
// lockless::histogram, scraped while they run, then exposed in the Prometheus text format
// (0.0.4) and summarised by quantiles.
//
// Four workers each time 2,000 "requests" (a few microseconds of arithmetic, a slow one
// every 32nd) with std::chrono::steady_clock and observe() the duration in seconds, the
// unit Prometheus expects. observe() is lock-free and never waits for a scrape. Meanwhile
// the main thread scrapes every millisecond, as a metrics endpoint would, and checks what
// the histogram guarantees: every snapshot is consistent (count equals the +Inf bucket and
// the native buckets) and no snapshot shows fewer observations than the one before. At
// the end it prints the exposition and the p50/p90/p99 that PromQL's histogram_quantile()
// would compute from the classic and from the native buckets. The latencies differ from
// run to run; what the program checks (and its exit status) does not. Runs in well under
// a second. The teaching page (docs/algorithms/histogram.md) quotes the part between the
// markers.
#include <lockless/histogram.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

// Stands in for handling a request: a few thousand steps of a linear congruential
// generator, and fifty times as many for every 32nd request (the slow tail).
std::uint64_t handle_request(std::uint64_t request) {
  const std::uint64_t steps = request % 32 == 31 ? 200000 : 2000 + request % 5 * 1000;
  std::uint64_t x = request;
  for (std::uint64_t i = 0; i < steps; ++i) x = x * 6364136223846793005u + 1442695040888963407u;
  return x;
}

// Observations in the native buckets: the zero bucket and both signs (no NaN observed).
std::uint64_t native_total(const lockless::histogram_snapshot& s) {
  std::uint64_t n = s.zero_count;
  for (const lockless::native_bucket& b : s.positive) n += b.count;
  for (const lockless::native_bucket& b : s.negative) n += b.count;
  return n;
}

}  // namespace

int main() {
  constexpr int workers = 4;
  constexpr int requests_per_worker = 2000;
  bool consistent = true;
  int scrapes = 0;

  // [latency-begin]
  // Classic buckets 1 us, 2 us, ... 32.8 ms (+Inf implied), and native (exponential)
  // buckets at schema 3: boundaries a factor 2^(1/8) apart, at most 160 of them.
  lockless::histogram latency(lockless::exponential_buckets(1e-6, 2, 16),
                              lockless::native_buckets{.schema = 3, .max_buckets = 160});

  std::atomic<int> running{workers};
  std::atomic<std::uint64_t> results{0};  // keeps the simulated work from being optimised out
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        for (std::uint64_t i = 0; i < requests_per_worker; ++i) {
          const auto start = std::chrono::steady_clock::now();
          results.fetch_add(handle_request(w * requests_per_worker + i), std::memory_order_relaxed);
          const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
          latency.observe(took.count());  // seconds; lock-free, never waits for a scrape
        }
        running.fetch_sub(1, std::memory_order_release);
      });
    }

    // The scraper: a snapshot every millisecond while the workers run. Each one is
    // consistent, and none shows fewer observations than the one before.
    std::uint64_t previous = 0;
    while (running.load(std::memory_order_acquire) > 0) {
      const lockless::histogram_snapshot s = latency.snapshot();
      consistent = consistent && s.count >= previous && s.cumulative.back() == s.count &&
                   native_total(s) == s.count;
      previous = s.count;
      ++scrapes;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }  // the workers are joined: every observe() has returned

  const lockless::histogram_snapshot s = latency.snapshot();  // includes all of them
  std::string exposition;
  const lockless::histogram_series series[] = {{{{"handler", "/api/v1/query"}}, s}};
  lockless::write_prometheus_text(exposition, "request_duration_seconds",
                                  "Time spent handling a request.", series);
  std::fputs(exposition.c_str(), stdout);
  std::printf("classic p50 %.1f us, p90 %.1f us, p99 %.1f us\n", s.quantile(0.5) * 1e6,
              s.quantile(0.9) * 1e6, s.quantile(0.99) * 1e6);
  std::printf("native  p50 %.1f us, p90 %.1f us, p99 %.1f us (schema %d, %zu buckets)\n",
              s.native_quantile(0.5) * 1e6, s.native_quantile(0.9) * 1e6,
              s.native_quantile(0.99) * 1e6, static_cast<int>(s.schema), s.positive.size());
  // [latency-end]

  std::printf("%d scrapes while recording, every one consistent: %s\n", scrapes,
              consistent ? "yes" : "NO");

  // What does not depend on timing: every observation is counted once, in one bucket of
  // each layout; the sum is the sum of positive durations; quantiles are ordered; the
  // native layout stays within its bound; the exposition has the family's lines.
  const std::uint64_t total = std::uint64_t{workers} * requests_per_worker;
  bool ok = consistent && s.count == total && s.cumulative.back() == total &&
            native_total(s) == total && s.negative.empty() && s.sum > 0 && std::isfinite(s.sum) &&
            s.native && s.schema <= 3 && s.positive.size() <= 160;
  for (std::size_t b = 1; b < s.cumulative.size(); ++b)
    ok = ok && s.cumulative[b - 1] <= s.cumulative[b];
  for (double (lockless::histogram_snapshot::*q)(double) const :
       {&lockless::histogram_snapshot::quantile, &lockless::histogram_snapshot::native_quantile}) {
    const double p50 = (s.*q)(0.5);
    const double p90 = (s.*q)(0.9);
    const double p99 = (s.*q)(0.99);
    ok = ok && p50 > 0 && p50 <= p90 && p90 <= p99 && std::isfinite(p99);
  }
  const std::string count_line =
      "request_duration_seconds_count{handler=\"/api/v1/query\"} " + std::to_string(total) + "\n";
  ok = ok && exposition.starts_with("# HELP request_duration_seconds ") &&
       exposition.find("# TYPE request_duration_seconds histogram\n") != std::string::npos &&
       exposition.find("le=\"+Inf\"} " + std::to_string(total) + "\n") != std::string::npos &&
       exposition.find(count_line) != std::string::npos;
  return ok ? 0 : 1;
}
