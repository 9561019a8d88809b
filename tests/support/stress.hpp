// tests/support/stress.hpp: running oversubscribed threads that start together.
//
//   run_threads(n, fn)        starts n threads, each runs fn(thread_index) once all n are
//                             ready (a spinning start gate), joins them, and returns the
//                             per-thread results (a std::vector, in thread-index order) when
//                             fn returns a value.
//   thread_team team(n);      n threads kept for many rounds: team.run(fn) has each call
//   team.run(fn)              fn(thread_index) once, started together, waits for all and
//                             rethrows the first exception. For tests of many short rounds
//                             on a structure without per-thread state (the threads never
//                             exit between rounds): creating a thread costs about a
//                             millisecond under ThreadSanitizer.
//   unique_value(t, seq)      t << 40 | seq: values unique by construction across threads;
//   value_thread(v), value_seq(v) take them apart (support/values.hpp, lockless::test).
//   default_threads           8: oversubscribed on the 2-core machines tests run on.
//   scaled(n)                 see sanitizers.hpp.
//   xorshift                  a tiny per-thread PRNG (no shared state, no locks).
//   weighted<Op>, pick(mix, rng)   an operation mix: operations of a structure's alphabet
//                             (structures/<name>_ops.hpp) with weights; pick() draws one.
//
// Threads report through their return values; assert on the main thread after the join
// (gtest assertions in other threads only return from the thread's function).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>
#include <type_traits>
#include <vector>

#include "sanitizers.hpp"
#include "values.hpp"

namespace lockless_test {

inline constexpr std::size_t default_threads = 8;

// All threads wait at the gate until the main thread opens it, so they start their
// work at the same moment instead of one after another as they are created.
class start_gate {
 public:
  void arrive_and_wait() noexcept {
    ready_.fetch_add(1, std::memory_order_acq_rel);
    while (!open_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  void open_when(std::size_t n) noexcept {
    while (ready_.load(std::memory_order_acquire) < n) std::this_thread::yield();
    open_.store(true, std::memory_order_release);
  }

 private:
  std::atomic<std::size_t> ready_{0};
  std::atomic<bool> open_{false};
};

// Runs fn(thread_index) on n threads started together; returns the results by index.
// An exception thrown by a thread function is rethrown on the calling thread after the
// join (the first one, by thread index).
template <class Fn>
auto run_threads(std::size_t n, Fn fn) {
  using result = std::invoke_result_t<Fn&, std::size_t>;
  if constexpr (std::is_void_v<result>) {
    struct nothing {};  // not bool: vector<bool> elements would share words across threads
    (void)run_threads(n, [&](std::size_t i) {
      fn(i);
      return nothing{};
    });
  } else {
    start_gate gate;
    std::vector<std::exception_ptr> errors(n);
    std::vector<result> results(n);
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        gate.arrive_and_wait();
        try {
          results[i] = fn(i);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    gate.open_when(n);
    for (auto& t : threads) t.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    return results;
  }
}

class thread_team {
 public:
  explicit thread_team(std::size_t n) : errors_(n) {
    threads_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~thread_team() {
    stop_ = true;  // read by the threads after the generation changes (release below)
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& t : threads_) t.join();
  }
  thread_team(const thread_team&) = delete;
  thread_team& operator=(const thread_team&) = delete;

  // fn(thread_index) on every thread of the team; returns when all have returned.
  template <class Fn>
  void run(Fn fn) {
    start_gate gate;  // as run_threads: every thread is awake before any runs fn
    job_ = [&fn, &gate](std::size_t i) {
      gate.arrive_and_wait();
      fn(i);
    };
    for (auto& e : errors_) e = nullptr;
    done_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);  // pairs with loop()'s acquire
    generation_.notify_all();
    gate.open_when(threads_.size());
    for (;;) {
      const std::size_t d = done_.load(std::memory_order_acquire);
      if (d == threads_.size()) break;
      done_.wait(d, std::memory_order_acquire);
    }
    job_ = nullptr;
    for (auto& e : errors_) {
      if (e) std::rethrow_exception(e);
    }
  }

 private:
  void loop(std::size_t i) {
    std::uint64_t seen = 0;
    for (;;) {
      generation_.wait(seen, std::memory_order_acquire);
      seen = generation_.load(std::memory_order_acquire);
      if (stop_) return;
      try {
        job_(i);
      } catch (...) {
        errors_[i] = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);  // pairs with run()'s acquire
      done_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::vector<std::exception_ptr> errors_;
  std::function<void(std::size_t)> job_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::size_t> done_{0};
  bool stop_ = false;
};

// xorshift64*: a per-thread pseudo-random stream, seeded from the thread index.
class xorshift {
 public:
  explicit xorshift(std::uint64_t seed) noexcept : s_(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  std::uint64_t next() noexcept {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  // Uniform enough in [0, n).
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }

 private:
  std::uint64_t s_;
};

// An operation mix: pick(mix, rng) draws mix[i].op with probability weight / total
// (one rng.below(total) per draw).
template <class Op>
struct weighted {
  Op op;
  std::uint64_t weight;
};

template <class Op, std::size_t N>
Op pick(const weighted<Op> (&mix)[N], xorshift& rng) noexcept {
  std::uint64_t total = 0;
  for (const weighted<Op>& w : mix) total += w.weight;
  std::uint64_t r = rng.below(total);
  for (const weighted<Op>& w : mix) {
    if (r < w.weight) return w.op;
    r -= w.weight;
  }
  return mix[N - 1].op;
}

}  // namespace lockless_test
