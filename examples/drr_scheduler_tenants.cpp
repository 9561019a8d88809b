// examples/drr_scheduler_tenants.cpp: why a server puts deficit round robin in front of its
// worker pool. Four tenants send requests to a pool of two workers: three heavy tenants push
// as fast as the blocking push lets them (their flows stay full), one light tenant sends a
// request about every 100 us. Each request carries the time it was pushed; a worker
// observes how long a light request waited (its queueing latency) into a
// lockless::histogram when it pops it, then spends 2 us "handling" it.
//
// The same load runs twice, for half a second each: through a lockless::drr_scheduler with
// one flow per tenant and equal quanta (the workers pop in DRR order, several consumers at
// once), and through one FIFO lockless::bounded_queue holding as many requests as the four
// flows together. In the FIFO queue the light request waits behind whatever the heavy
// tenants have queued (hundreds of requests), and its push even waits for room in the full
// queue (the timestamp is taken before the push, so that wait counts too); under DRR it
// waits for at most one turn of each backlogged flow. The program prints the light tenant's p50 and p99 (the histogram's
// quantile(), as PromQL computes it) for both. The figures depend on the machine and its
// load; what the program checks (and its exit status) does not: every accepted request is
// served exactly once and the light tenant got requests through. The teaching page
// (docs/algorithms/drr_scheduler.md) quotes the parts between the markers.
#include <lockless/bounded_queue.hpp>
#include <lockless/drr_scheduler.hpp>
#include <lockless/histogram.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int heavy_tenants = 3;
constexpr int light_tenant = heavy_tenants;  // tenants 0, 1, 2 are heavy, 3 is light
constexpr int tenants = heavy_tenants + 1;
constexpr int workers = 2;
constexpr std::size_t heavy_capacity = 256;
constexpr std::size_t light_capacity = 64;
constexpr auto run_time = 500ms;
constexpr auto light_interval = 100us;
constexpr auto work_per_request = 2us;

struct request {
  clock_type::time_point pushed;  // when its tenant pushed it
  int tenant;
};

// Stands in for handling a request: a couple of microseconds of CPU.
void handle(const request&) {
  const clock_type::time_point until = clock_type::now() + work_per_request;
  while (clock_type::now() < until) {
  }
}

// [tenants-begin]
// One flow per tenant, equal quanta: while backlogged, every tenant gets one request per
// round, whatever the others queue. Several workers pop at once (the default options).
class drr_channel {
 public:
  drr_channel() {
    for (int t = 0; t < tenants; ++t) {
      flows_[t] =
          sched_.add_flow(/*quantum=*/1, t == light_tenant ? light_capacity : heavy_capacity);
    }
  }
  // Waits while the tenant's own flow is full; false once closed.
  bool push(const request& r) { return sched_.push(flows_[r.tenant], r); }
  // Waits while no flow is backlogged; nullopt once closed and drained.
  std::optional<request> pop() {
    std::optional<lockless::drr_item<request>> item = sched_.pop();
    if (!item) return std::nullopt;
    return item->value;  // item->flow is flows_[item->value.tenant]
  }
  void close() { sched_.close(); }

 private:
  lockless::drr_scheduler<request> sched_;
  lockless::drr_flow flows_[tenants];
};
// [tenants-end]

// The same load through one FIFO queue with room for as many requests as the flows above.
class fifo_channel {
 public:
  bool push(const request& r) { return queue_.push(r); }
  std::optional<request> pop() { return queue_.pop(); }
  void close() { queue_.close(); }

 private:
  lockless::bounded_queue<request> queue_{heavy_tenants * heavy_capacity + light_capacity};
};

struct counts {
  std::atomic<std::uint64_t> pushed[tenants]{};
  std::atomic<std::uint64_t> served[tenants]{};
};

template <class Channel>
void run(Channel& channel, lockless::histogram& light_latency, counts& c) {
  // [load-begin]
  std::atomic<bool> stop{false};
  std::vector<std::jthread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      while (std::optional<request> r = channel.pop()) {
        if (r->tenant == light_tenant) {
          const std::chrono::duration<double> waited = clock_type::now() - r->pushed;
          light_latency.observe(waited.count());  // seconds; lock-free
        }
        handle(*r);
        c.served[r->tenant].fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < heavy_tenants; ++t) {
      senders.emplace_back([&, t] {  // as fast as the blocking push lets it
        while (!stop.load(std::memory_order_relaxed)) {
          if (!channel.push(request{clock_type::now(), t})) break;
          c.pushed[t].fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    senders.emplace_back([&] {  // the light tenant: one request about every 100 us
      while (!stop.load(std::memory_order_relaxed)) {
        if (!channel.push(request{clock_type::now(), light_tenant})) break;
        c.pushed[light_tenant].fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(light_interval);
      }
    });
    std::this_thread::sleep_for(run_time);
    stop.store(true, std::memory_order_relaxed);
  }  // the senders have finished their last push (the workers kept popping)
  channel.close();  // the workers drain what is queued, then pop() says nullopt
  // [load-end]
}

lockless::histogram make_latency_histogram() {
  // 1 us to about 16.8 s, four buckets per doubling.
  return lockless::histogram(lockless::exponential_buckets(1e-6, 1.189207115002721, 97));
}

// Prints one row; false if a request was lost or duplicated, or the light tenant got
// nothing through.
bool report(const char* name, const lockless::histogram& latency, const counts& c) {
  const lockless::histogram_snapshot s = latency.snapshot();
  std::uint64_t heavy = 0;
  bool exact = true;
  for (int t = 0; t < tenants; ++t) {
    const std::uint64_t pushed = c.pushed[t].load(std::memory_order_relaxed);
    const std::uint64_t served = c.served[t].load(std::memory_order_relaxed);
    if (pushed != served) {
      std::printf("  tenant %d: %llu requests accepted, %llu served\n", t,
                  static_cast<unsigned long long>(pushed), static_cast<unsigned long long>(served));
      exact = false;
    }
    if (t != light_tenant) heavy += served;
  }
  const std::uint64_t light = c.served[light_tenant].load(std::memory_order_relaxed);
  std::printf("%-34s %10.1f us %10.1f us %13llu %13llu\n", name, s.quantile(0.5) * 1e6,
              s.quantile(0.99) * 1e6, static_cast<unsigned long long>(light),
              static_cast<unsigned long long>(heavy));
  return exact && light > 0 && s.count == light;
}

}  // namespace

int main() {
  std::printf(
      "%d heavy tenants flooding, 1 light tenant (a request about every 100 us),\n"
      "%d workers, about 2 us of work per request. The light tenant's queueing "
      "latency:\n\n",
      heavy_tenants, workers);
  std::printf("%-34s %13s %13s %13s %13s\n", "", "p50", "p99", "light served", "heavy served");

  lockless::histogram drr_latency = make_latency_histogram();
  counts drr_counts;
  {
    drr_channel channel;
    run(channel, drr_latency, drr_counts);
  }
  const bool drr_ok = report("drr_scheduler (a flow per tenant)", drr_latency, drr_counts);

  lockless::histogram fifo_latency = make_latency_histogram();
  counts fifo_counts;
  {
    fifo_channel channel;
    run(channel, fifo_latency, fifo_counts);
  }
  const bool fifo_ok = report("bounded_queue (one FIFO)", fifo_latency, fifo_counts);

  if (!drr_ok || !fifo_ok) {
    std::printf("\nUNEXPECTED: a request was lost or duplicated, or none got through\n");
    return 1;
  }
  std::printf("\nevery accepted request was served once\n");
  return 0;
}
