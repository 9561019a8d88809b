// bench/histogram_impls.hpp: the histograms compared by bench_histogram and
// callgrind_histogram, behind one tiny interface:
//
//   static constexpr const char* name;    the <impl> part of the benchmark name
//   explicit H(std::vector<double> bounds);   a fresh, empty histogram with these classic
//                                         upper bounds (+Inf implied)
//   void observe(double v);               counts one observation
//   std::uint64_t collect();              what a scrape does: a snapshot of every bucket,
//                                         count and sum (ours: snapshot(); prometheus-cpp:
//                                         Collect(); the mutex one: a copy under its lock);
//                                         returns the count, so the work cannot be dropped
//
//   lockless_histogram         lockless::histogram, classic buckets only, default shards
//                              (2 x hardware threads, a power of two, at most 64) and as
//                              many owner lanes (a thread with a lane counts there)
//   lockless_histogram_native  the same with native buckets too (native_buckets{}: schema
//                              3, max_buckets 160), as a histogram that is scraped both
//                              ways is configured
//   prometheus_cpp_histogram   prometheus-cpp 1.0.1's prometheus::Histogram (Debian's
//                              prometheus-cpp-dev), built directly (no registry): Observe()
//                              takes one std::mutex, finds the bucket by a linear scan, and
//                              increments a Counter and a Gauge (atomic doubles)
//   std_mutex_histogram        the baseline to beat: one std::mutex over a vector of
//                              uint64_t counts and a double sum (the bucket is found by
//                              std::lower_bound before the lock is taken)
//
// Values: bench_values(seed) is a fixed stream of value_count pseudo-random latencies,
// log-uniform over [1 ms, 20 s], so every classic default bucket and about 115 native
// buckets (schema 3, below max_buckets: the schema never drops) are hit; every thread
// cycles through its own precomputed array, so making values costs nothing in the loop.
// Peers are compiled in when bench/CMakeLists.txt found them (LOCKLESS_HAVE_<PEER>).
// Nothing here depends on Google Benchmark, so the callgrind driver can use it too.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include <lockless/histogram.hpp>

#if defined(LOCKLESS_HAVE_PROMETHEUS_CPP)
#include <prometheus/client_metric.h>
#include <prometheus/histogram.h>
#endif

namespace lockless_bench {

// Prometheus' default latency buckets (client_golang's DefBuckets), in seconds.
inline std::vector<double> default_latency_bounds() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

// How many values each thread cycles through (a power of two: the index is masked).
inline constexpr std::size_t value_count = 4096;

// value_count latencies in seconds, log-uniform over [1e-3, 20], from splitmix64(seed).
inline std::vector<double> bench_values(std::uint64_t seed) {
  std::vector<double> v(value_count);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15u + 1;
  for (double& d : v) {
    x += 0x9E3779B97F4A7C15u;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1p-53;  // [0, 1)
    d = 1e-3 * std::pow(20000.0, u);
  }
  return v;
}

// ---- ours -------------------------------------------------------------------------------
struct lockless_histogram {
  static constexpr const char* name = "lockless_histogram";
  explicit lockless_histogram(std::vector<double> bounds) : h(std::move(bounds)) {}
  void observe(double v) noexcept { h.observe(v); }
  std::uint64_t collect() const { return h.snapshot().count; }
  lockless::histogram h;
};

struct lockless_histogram_native {
  static constexpr const char* name = "lockless_histogram_native";
  explicit lockless_histogram_native(std::vector<double> bounds)
      : h(std::move(bounds), lockless::native_buckets{}) {}
  void observe(double v) noexcept { h.observe(v); }
  std::uint64_t collect() const { return h.snapshot().count; }
  lockless::histogram h;
};

// ---- the baseline -----------------------------------------------------------------------
struct std_mutex_histogram {
  static constexpr const char* name = "std_mutex_histogram";
  struct snapshot_type {
    std::vector<std::uint64_t> counts;
    double sum = 0;
    std::uint64_t count = 0;
  };
  explicit std_mutex_histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v) {
    // The first bound >= v (NaN: the +Inf bucket, as lower_bound gives for it).
    const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                            bounds_.begin());
    std::lock_guard lock(m_);
    ++counts_[i];
    sum_ += v;
  }
  snapshot_type snapshot() const {
    snapshot_type s;
    std::lock_guard lock(m_);
    s.counts = counts_;
    s.sum = sum_;
    for (std::uint64_t c : counts_) s.count += c;
    return s;
  }
  std::uint64_t collect() const { return snapshot().count; }

 private:
  std::vector<double> bounds_;
  mutable std::mutex m_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
};

// ---- peers ------------------------------------------------------------------------------
#if defined(LOCKLESS_HAVE_PROMETHEUS_CPP)
// prometheus-cpp 1.0.1 (libprometheus-cpp-core), the same BucketBoundaries.
struct prometheus_cpp_histogram {
  static constexpr const char* name = "prometheus_cpp_histogram";
  explicit prometheus_cpp_histogram(std::vector<double> bounds) : h(bounds) {}
  void observe(double v) { h.Observe(v); }
  std::uint64_t collect() const { return h.Collect().histogram.sample_count; }
  prometheus::Histogram h;
};
#endif

// f.template operator()<H>() for each histogram compiled in: ours first, then the
// baseline, then the peers.
template <class F>
void for_each_histogram(F&& f) {
  f.template operator()<lockless_histogram>();
  f.template operator()<lockless_histogram_native>();
  f.template operator()<std_mutex_histogram>();
#if defined(LOCKLESS_HAVE_PROMETHEUS_CPP)
  f.template operator()<prometheus_cpp_histogram>();
#endif
}

}  // namespace lockless_bench
