// examples/bounded_queue_pipeline.cpp: a two-stage pipeline over bounded queues. Two
// producers push work items, two workers square them and pass the results on, one
// collector sums them. close() ends each stage: the workers and the collector leave their
// pop() loops once their input is closed and drained. The teaching page
// (docs/algorithms/bounded_queue.md) quotes the part between the markers.
#include <lockless/bounded_queue.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

int main() {
  // [pipeline-begin]
  lockless::bounded_queue<std::uint64_t> work(64);     // at most 64 items waiting
  lockless::bounded_queue<std::uint64_t> results(64);  // push() waits while a queue is full

  std::vector<std::jthread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&] {
      // pop() waits while the queue is empty; nullopt once it is closed and drained.
      while (std::optional<std::uint64_t> x = work.pop()) results.push(*x * *x);
    });
  }
  std::uint64_t sum = 0;
  std::jthread collector([&] {
    while (std::optional<std::uint64_t> r = results.pop()) sum += *r;
  });

  {
    std::vector<std::jthread> producers;
    for (std::uint64_t p = 0; p < 2; ++p) {
      producers.emplace_back([&work, p] {
        for (std::uint64_t i = p; i < 10000; i += 2) work.push(i);  // evens / odds
      });
    }
  }  // producers joined: every item is in `work` or already taken
  work.close();  // the workers drain what is left, then their pop() returns nullopt
  for (std::jthread& w : workers) w.join();
  results.close();  // the same for the collector
  collector.join();
  // [pipeline-end]

  const std::uint64_t n = 10000;
  const std::uint64_t expected = (n - 1) * n * (2 * n - 1) / 6;  // sum of i^2 for i < n
  std::printf("sum of squares below %llu: %llu\n", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(sum));
  return sum == expected ? 0 : 1;
}
