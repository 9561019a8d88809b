// examples/elimination_stack_pool.cpp: a pool of reusable buffers shared by worker threads,
// kept on an elimination_stack. Every worker takes a buffer (or makes one if the pool is
// empty), uses it, and gives it back: pushes and pops come at the same rate from every
// thread, the load where a failed central CAS is likely to find a partner in the
// elimination array. The stack is built with statistics on, and the program prints them.
//
// It checks its own results: every use was made by the only holder of its buffer (a plain
// counter per buffer, which the sanitizers and the final sum would catch otherwise), no
// buffer was lost or handed out twice, no more buffers were made than there are workers,
// and the counters agree with each other. How many pairs were eliminated depends on the
// machine and the moment, so the program prints that number and checks only what must hold
// (each eliminated pair took two exchanger visits, each after a failed central CAS). The
// teaching page (docs/algorithms/elimination_stack.md) quotes the parts between the markers.
#include <lockless/elimination_stack.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace {

struct buffer {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(4096);
  long uses = 0;  // written only by the buffer's current holder
};

// [pool-begin]
// A pool of buffers: acquire() reuses a returned buffer, or makes one if none is free.
class buffer_pool {
 public:
  // Statistics cost nothing unless asked for: a compile-time option.
  using stack = lockless::elimination_stack<std::unique_ptr<buffer>, lockless::epoch_reclaimer,
                                            lockless::elimination_options{.statistics = true}>;

  std::unique_ptr<buffer> acquire() {
    if (std::optional<std::unique_ptr<buffer>> b = free_.try_pop()) return std::move(*b);
    made_.fetch_add(1, std::memory_order_relaxed);
    return std::make_unique<buffer>();
  }
  void release(std::unique_ptr<buffer> b) { free_.push(std::move(b)); }

  lockless::elimination_stack_stats stats() const { return free_.stats(); }
  long made() const { return made_.load(std::memory_order_relaxed); }
  std::optional<std::unique_ptr<buffer>> take_free() { return free_.try_pop(); }

 private:
  stack free_;
  std::atomic<long> made_{0};
};
// [pool-end]

}  // namespace

int main() {
  constexpr int workers = 4;
  constexpr long rounds = 20000;
  buffer_pool pool;

  // [workers-begin]
  {
    std::latch start(workers);  // the workers begin together, so that they contend
    std::vector<std::jthread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&pool, &start, w] {
        start.arrive_and_wait();
        for (long i = 0; i < rounds; ++i) {
          std::unique_ptr<buffer> b = pool.acquire();  // pop, or a new buffer
          b->bytes[static_cast<std::size_t>(i) % b->bytes.size()] = static_cast<std::uint8_t>(w);
          ++b->uses;                   // ours alone until release()
          pool.release(std::move(b));  // push it back
        }
      });
    }
  }  // the workers join here; the counters are exact from now on

  const lockless::elimination_stack_stats s = pool.stats();
  std::printf("eliminated pairs %llu, central CAS failures %llu, range %u, wait %u spins\n",
              static_cast<unsigned long long>(s.eliminated_pairs),
              static_cast<unsigned long long>(s.central_cas_failures), s.range, s.wait_spins);
  // [workers-end]

  long buffers = 0;
  long uses = 0;
  while (std::optional<std::unique_ptr<buffer>> b = pool.take_free()) {
    ++buffers;
    uses += (*b)->uses;
  }
  const long made = pool.made();
  std::printf("%ld buffers made for %d workers, %ld uses (expected %ld)\n", made, workers, uses,
              workers * rounds);

  bool ok = true;
  auto check = [&ok](bool c, const char* what) {
    if (!c) {
      std::printf("FAILED: %s\n", what);
      ok = false;
    }
  };
  check(uses == workers * rounds, "every use counted once");
  check(buffers == made, "every buffer made came back to the pool, once");
  check(made >= 1 && made <= workers, "at most one buffer per worker was ever made");
  check(s.central_cas_failures >= 2 * s.eliminated_pairs,
        "an eliminated pair is two exchanger visits, each after a failed central CAS");
  check(s.range >= 1 && s.range <= buffer_pool::stack::options.width, "range in [1, width]");
  check(s.wait_spins >= buffer_pool::stack::options.exchange_spins / 16 &&
            s.wait_spins <= buffer_pool::stack::options.exchange_spins,
        "wait in [exchange_spins / 16, exchange_spins]");
  return ok ? 0 : 1;
}
