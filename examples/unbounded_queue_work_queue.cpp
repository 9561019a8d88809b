// examples/unbounded_queue_work_queue.cpp: a work queue whose producers must never be
// refused or made to wait (say, threads that accept requests and must not stall on a slow
// consumer). Producers push jobs into an unbounded_queue; push() never waits and returns
// false only once the queue is closed. Workers take jobs with the blocking pop(), which
// sleeps while the queue is empty and returns nullopt once it is closed and drained; so
// close() is the whole shutdown protocol. The teaching page
// (docs/algorithms/unbounded_queue.md) quotes the part between the markers.
#include <lockless/unbounded_queue.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct job {
  std::uint64_t id;
  std::string payload;  // any type with a noexcept move works, move-only too
};

int main() {
  constexpr std::uint64_t producers = 3;
  constexpr std::uint64_t per_producer = 20000;
  // [work-queue-begin]
  lockless::unbounded_queue<job> jobs;  // grows by segments of 1024 cells, gives them back

  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> id_sum{0};
  std::vector<std::jthread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&] {
      // pop() waits while the queue is empty and open; nullopt once closed and drained.
      while (std::optional<job> j = jobs.pop()) {
        id_sum.fetch_add(j->id, std::memory_order_relaxed);
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  std::atomic<std::uint64_t> refused{0};
  {
    std::vector<std::jthread> accepters;
    for (std::uint64_t p = 0; p < producers; ++p) {
      accepters.emplace_back([&, p] {
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          const std::uint64_t id = p * per_producer + i;
          // Never waits, never "full": false only after close().
          if (!jobs.push(job{id, "request " + std::to_string(id)})) {
            refused.fetch_add(1, std::memory_order_relaxed);
          }
        }
      });
    }
  }  // accepters joined: every job is queued or already taken

  jobs.close();  // shutdown: workers drain what is left, then pop() returns nullopt
  for (std::jthread& w : workers) w.join();
  const bool late_refused = !jobs.push(job{0, "too late"});  // closed: refused, not queued
  // [work-queue-end]

  const std::uint64_t n = producers * per_producer;
  const std::uint64_t expected_sum = (n - 1) * n / 2;
  std::printf(
      "%llu jobs done by 2 workers (%llu refused before close); a push after close "
      "was %s\n",
      static_cast<unsigned long long>(done.load()), static_cast<unsigned long long>(refused.load()),
      late_refused ? "refused" : "ACCEPTED");
  const bool ok =
      done.load() == n && id_sum.load() == expected_sum && refused.load() == 0 && late_refused;
  return ok ? 0 : 1;
}
