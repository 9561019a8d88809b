// Stress tests of lockless::unbounded_queue: 8 threads and more on a 2-core machine, at
// segment_size 2 and 4 (every second or fourth push links a segment, every second or
// fourth pop retires one) and at the default 1024. Every test runs at the three sizes.
//
//   MpmcExactlyOnce        producers push unique values with every push form (try_push of
//                          an rvalue and of a const&, try_emplace, push, try_push_bulk);
//                          consumers poll with try_pop / try_pop_bulk until the producers
//                          are done and the queue answers empty. Every push succeeds (an
//                          open unbounded queue never refuses), every value is popped
//                          exactly once, values of one producer come out in push order at
//                          each consumer (per-producer FIFO), and every payload is
//                          destroyed exactly once. Shapes 4p4c, 2p6c, 6p2c.
//   BlockingPopsThenClose  consumers wait in pop() / pop_for / pop_until; the last producer
//                          to finish closes. Every waiter returns closed in the end, after
//                          everything was drained exactly once, per-producer FIFO.
//   CloseRacingPushes      producers push until refused while consumers pop() until closed;
//                          a closer closes after a share of the values went through (early
//                          in some rounds). A producer's accepted values are a prefix of its
//                          sequence (a refusal is final), exactly the accepted values are
//                          popped, once each; a push that starts after close() returned, or
//                          after some pop answered closed, is refused.
//   CloseWakesEveryWaiter  close() racing pops blocked (or about to block) on a queue that
//                          gets a few values and then the close: all of them return, the
//                          values are delivered once each, every other answer is closed.
//   PollingConsumersBurnCells  6 consumers polling try_pop without pause against 2 slow
//                          producers (try_emplace whose element takes a while to build
//                          inside the push): cells of late pushes get burned (the push moves
//                          its element on), nothing may be lost or duplicated. With
//                          cached_segments = 0 and a counting allocator, the segments
//                          allocated beyond ceil(pushes / segment_size) count the burns
//                          (printed).
//   DestroyedNonEmpty      the destructor after concurrent pushes and pops that left elements
//                          in several segments (move-only and copyable counted payloads):
//                          every element constructed is destroyed exactly once.
//   SegmentMemory          a private epoch_domain and a counting allocator: after bursts
//                          drained by 8 threads, the threads joined and domain.barrier(),
//                          the queue holds its cache block, the live segment and at most
//                          cached_segments free ones; after the queue is destroyed and
//                          barrier() again, every allocation has been given back.
// The linearizability check of recorded histories is unbounded_queue_lincheck.cpp.
#include <lockless/unbounded_queue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/counting.hpp"
#include "support/stress.hpp"
#include "support/values.hpp"

namespace {

using lockless::epoch_domain;
using lockless::epoch_reclaimer;
using lockless::queue_result;
using lockless::queue_status;
using lockless::unbounded_queue;
using lockless::unbounded_queue_options;
using lockless::test::unique_value;
using lockless::test::value_seq;
using lockless::test::value_thread;
using lockless_test::run_threads;
using lockless_test::scaled;
using lockless_test::xorshift;

using namespace std::chrono_literals;

struct stress_tag {};
using payload = lockless_test::counted<stress_tag>;
struct move_only_tag {};
using move_only_payload = lockless_test::move_only<move_only_tag>;

// ---- helpers ---------------------------------------------------------------------------

// Aborts the process with a message if not destroyed within `limit` of its construction
// (one per test): a lost wake-up would otherwise hang the test until the ctest timeout.
class hang_alarm {
 public:
  hang_alarm(const char* what, std::chrono::seconds limit)
      : what_(what), limit_(limit), thread_([this] { watch(); }) {}
  ~hang_alarm() {
    done_.store(true, std::memory_order_release);
    thread_.join();
  }
  hang_alarm(const hang_alarm&) = delete;
  hang_alarm& operator=(const hang_alarm&) = delete;

 private:
  void watch() {
    const auto deadline = std::chrono::steady_clock::now() + limit_;
    while (!done_.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "hang_alarm: %s still running after %lld s (lost wake-up?)\n", what_,
                     static_cast<long long>(limit_.count()));
        std::abort();
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  const char* what_;
  std::chrono::seconds limit_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// What the consumers popped (per consumer, in pop order) against what the producers
// pushed successfully (per producer: a prefix of its sequence, of length accepted[p]).
// Producers are numbered from 1 in the values (unique_value(p + 1, seq)).
// check(): "" or the first thing wrong: a value popped that was never accepted, a value
// popped twice, a value lost, or two values of one producer popped by one consumer out of
// push order.
std::string audit(const std::vector<std::uint64_t>& accepted,
                  const std::vector<std::vector<std::uint64_t>>& popped) {
  const std::size_t producers = accepted.size();
  std::vector<std::vector<unsigned char>> seen(producers);
  for (std::size_t p = 0; p < producers; ++p) seen[p].assign(accepted[p], 0);
  for (std::size_t c = 0; c < popped.size(); ++c) {
    std::vector<std::uint64_t> next(producers, 0);  // smallest seq allowed next, per producer
    for (std::uint64_t v : popped[c]) {
      const std::uint64_t t = value_thread(v);
      const std::uint64_t s = value_seq(v);
      if (t == 0 || t > producers || s >= accepted[t - 1]) {
        return "consumer " + std::to_string(c) + " popped " + std::to_string(t) + ":" +
               std::to_string(s) + ", never accepted";
      }
      const std::size_t p = t - 1;
      if (seen[p][s]++ != 0) {
        return "value " + std::to_string(t) + ":" + std::to_string(s) + " popped twice";
      }
      if (s < next[p]) {
        return "consumer " + std::to_string(c) + " popped " + std::to_string(t) + ":" +
               std::to_string(s) + " after " + std::to_string(t) + ":" +
               std::to_string(next[p] - 1) + " (per-producer FIFO broken)";
      }
      next[p] = s + 1;
    }
  }
  for (std::size_t p = 0; p < producers; ++p) {
    for (std::size_t s = 0; s < accepted[p]; ++s) {
      if (seen[p][s] == 0) {
        return "value " + std::to_string(p + 1) + ":" + std::to_string(s) + " was lost";
      }
    }
  }
  return {};
}

// Allocation counts shared by every rebound copy of counting_allocator.
struct alloc_counts {
  std::atomic<long> allocations{0};
  std::atomic<long> deallocations{0};
  std::atomic<long> peak_live{0};

  [[nodiscard]] long live() const noexcept {
    return allocations.load(std::memory_order_relaxed) -
           deallocations.load(std::memory_order_relaxed);
  }
  void on_allocate() noexcept {
    const long now = allocations.fetch_add(1, std::memory_order_relaxed) + 1 -
                     deallocations.load(std::memory_order_relaxed);
    long peak = peak_live.load(std::memory_order_relaxed);
    while (now > peak && !peak_live.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
};

// A stateful allocator counting allocate/deallocate calls (atomics only: no lock that
// would order the queue's threads for ThreadSanitizer).
template <class T>
struct counting_allocator {
  using value_type = T;
  alloc_counts* counts;

  explicit counting_allocator(alloc_counts* c) noexcept : counts(c) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) noexcept : counts(o.counts) {}  // NOLINT

  T* allocate(std::size_t n) {
    T* p = std::allocator<T>().allocate(n);
    counts->on_allocate();
    return p;
  }
  void deallocate(T* p, std::size_t n) noexcept {
    counts->deallocations.fetch_add(1, std::memory_order_relaxed);
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const counting_allocator& a, const counting_allocator<U>& b) noexcept {
    return a.counts == b.counts;
  }
};

template <std::size_t Seg, std::size_t Cached = 2>
constexpr unbounded_queue_options opts{.segment_size = Seg, .cached_segments = Cached};

template <class T, std::size_t Seg>
using queue_of = unbounded_queue<T, epoch_reclaimer, std::allocator<T>, opts<Seg>>;

// ---- the typed suite: segment sizes 2, 4 and the default ------------------------------

template <std::size_t S>
struct seg {
  static constexpr std::size_t size = S;
};

template <class Seg>
class UnboundedQueueStress : public ::testing::Test {};

struct seg_names {
  template <class Seg>
  static std::string GetName(int) {
    return "seg" + std::to_string(Seg::size);
  }
};

using segment_sizes = ::testing::Types<seg<2>, seg<4>, seg<1024>>;
TYPED_TEST_SUITE(UnboundedQueueStress, segment_sizes, seg_names);

struct shape {
  std::size_t producers, consumers;
};

// Pushes value v with the form chosen by `form` (0..3); returns the status.
template <class Q>
queue_status push_one(Q& q, std::uint64_t v, unsigned form) {
  switch (form % 4) {
    case 0:
      return q.try_push(payload(v));
    case 1: {
      const payload p(v);
      return q.try_push(p);
    }
    case 2:
      return q.try_emplace(v);
    default:
      return q.push(payload(v)) ? queue_status::success : queue_status::closed;
  }
}

TYPED_TEST(UnboundedQueueStress, MpmcExactlyOnce) {
  constexpr std::size_t S = TypeParam::size;
  const shape shapes[] = {{4, 4}, {2, 6}, {6, 2}};
  for (const shape sh : shapes) {
    const std::size_t per_producer = scaled(120'000, 3'000) / sh.producers;
    payload::counters().reset();
    std::vector<std::vector<std::uint64_t>> popped(sh.consumers);
    std::vector<std::string> errors(sh.producers + sh.consumers);
    {
      queue_of<payload, S> q;
      std::atomic<std::size_t> producers_done{0};
      run_threads(sh.producers + sh.consumers, [&](std::size_t t) {
        xorshift rng(t + 17 * S);
        if (t < sh.producers) {
          std::uint64_t s = 0;
          while (s < per_producer) {
            if (rng.below(8) == 0) {  // a bulk of 1..5 (moved from)
              std::vector<payload> items;
              const std::uint64_t n = std::min<std::uint64_t>(1 + rng.below(5), per_producer - s);
              for (std::uint64_t k = 0; k < n; ++k) items.emplace_back(unique_value(t + 1, s + k));
              const std::size_t pushed = q.try_push_bulk(items.begin(), items.end());
              if (pushed != n) errors[t] = "try_push_bulk pushed " + std::to_string(pushed);
              s += n;
            } else {
              const queue_status st =
                  push_one(q, unique_value(t + 1, s), static_cast<unsigned>(rng.below(4)));
              if (st != queue_status::success) errors[t] = "a push on an open queue failed";
              ++s;
            }
          }
          producers_done.fetch_add(1, std::memory_order_release);
          return;
        }
        std::vector<std::uint64_t>& out = popped[t - sh.producers];
        out.reserve(per_producer * sh.producers);
        std::vector<payload> batch;
        for (;;) {
          // Read before the pop: if every producer was done, an empty answer is final.
          const bool done = producers_done.load(std::memory_order_acquire) == sh.producers;
          bool got = false;
          if (rng.below(6) == 0) {
            batch.clear();
            const std::size_t n = q.try_pop_bulk(std::back_inserter(batch), 1 + rng.below(6));
            if (n != batch.size()) errors[t] = "try_pop_bulk count differs from what it wrote";
            for (const payload& p : batch) out.push_back(p.value());
            got = n != 0;
          } else {
            queue_result<payload> r = q.try_pop();
            if (r) {
              out.push_back(r->value());
              got = true;
            } else if (r.error() != queue_status::empty) {
              errors[t] = "try_pop on an open queue answered closed";
            }
          }
          if (!got) {
            if (done) break;
            std::this_thread::yield();
          }
        }
      });
      EXPECT_FALSE(q.is_closed());
      EXPECT_EQ(q.try_pop().error(), queue_status::empty);
      EXPECT_EQ(q.size_approx(), 0U);
    }
    for (std::size_t t = 0; t < errors.size(); ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
    const std::vector<std::uint64_t> accepted(sh.producers, per_producer);
    EXPECT_EQ(audit(accepted, popped), "")
        << "segment_size " << S << ", " << sh.producers << "p" << sh.consumers << "c";
    EXPECT_EQ(payload::counters().errors.load(), 0);
    EXPECT_EQ(payload::counters().live(), 0);
  }
}

TYPED_TEST(UnboundedQueueStress, BlockingPopsThenClose) {
  constexpr std::size_t S = TypeParam::size;
  const shape sh{3, 6};  // 9 threads
  const std::size_t rounds = scaled(4, 2);
  hang_alarm alarm("BlockingPopsThenClose", 120s);
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t per_producer = scaled(60'000, 2'000) / sh.producers;
    payload::counters().reset();
    std::vector<std::vector<std::uint64_t>> popped(sh.consumers);
    std::vector<std::string> errors(sh.producers + sh.consumers);
    {
      queue_of<payload, S> q;
      std::atomic<std::size_t> producers_left{sh.producers};
      run_threads(sh.producers + sh.consumers, [&](std::size_t t) {
        xorshift rng(round * 100 + t);
        if (t < sh.producers) {
          for (std::uint64_t s = 0; s < per_producer; ++s) {
            const std::uint64_t v = unique_value(t + 1, s);
            const bool ok = t % 3 == 0   ? q.push(payload(v))
                            : t % 3 == 1 ? q.emplace(v)
                                         : q.push_for(payload(v), 1ms) == queue_status::success;
            if (!ok) errors[t] = "push refused before close";
            // Now and then let the consumers catch up, so that they sleep and get woken.
            if (rng.below(256) == 0) std::this_thread::sleep_for(50us);
          }
          if (producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) q.close();
          return;
        }
        const std::size_t c = t - sh.producers;
        std::vector<std::uint64_t>& out = popped[c];
        out.reserve(per_producer * sh.producers);
        for (;;) {
          if (c % 3 == 0) {
            std::optional<payload> p = q.pop();
            if (!p) break;
            out.push_back(p->value());
            continue;
          }
          queue_result<payload> r =
              c % 3 == 1 ? q.pop_for(1ms) : q.pop_until(std::chrono::steady_clock::now() + 2ms);
          if (r) {
            out.push_back(r->value());
          } else if (r.error() == queue_status::closed) {
            break;
          } else if (r.error() != queue_status::empty) {
            errors[t] = "timed pop: unexpected status";
            break;
          }
        }
        // Closed is final: the queue stays closed and drained.
        if (q.try_pop().error() != queue_status::closed) errors[t] = "closed was not final";
        if (q.try_push(payload(0)) != queue_status::closed) errors[t] = "push after closed";
      });
      EXPECT_TRUE(q.is_closed());
      EXPECT_FALSE(q.pop().has_value());
      EXPECT_EQ(q.pop_for(1ms).error(), queue_status::closed);
      EXPECT_FALSE(q.push(payload(1)));
      EXPECT_FALSE(q.emplace(2U));
      EXPECT_EQ(q.try_push(payload(1)), queue_status::closed);
      EXPECT_EQ(q.size_approx(), 0U);
    }
    for (std::size_t t = 0; t < errors.size(); ++t) {
      EXPECT_EQ(errors[t], "") << "round " << round << ", thread " << t;
    }
    const std::vector<std::uint64_t> accepted(sh.producers, per_producer);
    ASSERT_EQ(audit(accepted, popped), "") << "segment_size " << S << ", round " << round;
    EXPECT_EQ(payload::counters().errors.load(), 0);
    EXPECT_EQ(payload::counters().live(), 0);
  }
}

TYPED_TEST(UnboundedQueueStress, CloseRacingPushes) {
  constexpr std::size_t S = TypeParam::size;
  const shape sh{4, 4};
  const std::size_t rounds = scaled(8, 2);
  const std::size_t close_after = scaled(40'000, 1'000);
  std::size_t total_accepted = 0, late_refusals = 0;
  hang_alarm alarm("CloseRacingPushes", 120s);
  for (std::size_t round = 0; round < rounds; ++round) {
    payload::counters().reset();
    std::vector<std::uint64_t> accepted(sh.producers, 0);
    std::vector<std::vector<std::uint64_t>> popped(sh.consumers);
    std::vector<std::string> errors(sh.producers + sh.consumers + 1);
    std::vector<std::size_t> refused_after_close(sh.producers, 0);
    {
      queue_of<payload, S> q;
      std::atomic<std::size_t> pops{0};
      // Set once close() has returned / once some pop answered closed: a push that begins
      // after either must be refused.
      std::atomic<bool> close_returned{false};
      std::atomic<bool> pop_saw_closed{false};
      const std::size_t closer = sh.producers + sh.consumers;
      run_threads(closer + 1, [&](std::size_t t) {
        if (t == closer) {
          const std::size_t target = round % 2 == 0 ? close_after : close_after / 50;
          while (pops.load(std::memory_order_relaxed) < target) std::this_thread::yield();
          q.close();
          close_returned.store(true, std::memory_order_release);
          return;
        }
        if (t < sh.producers) {
          xorshift rng(round * 31 + t);
          std::uint64_t s = 0;
          for (;;) {
            const bool must_fail = close_returned.load(std::memory_order_acquire) ||
                                   pop_saw_closed.load(std::memory_order_acquire);
            bool refused = false;
            if (rng.below(8) == 0) {
              std::vector<payload> items;
              const std::uint64_t n = 1 + rng.below(4);
              for (std::uint64_t k = 0; k < n; ++k) items.emplace_back(unique_value(t + 1, s + k));
              const std::size_t pushed = q.try_push_bulk(items.begin(), items.end());
              if (pushed > n) errors[t] = "try_push_bulk pushed more than given";
              // A refused element stays in the range, intact.
              if (pushed < n && items[pushed].value() != unique_value(t + 1, s + pushed)) {
                errors[t] = "a refused bulk element lost its value";
              }
              if (must_fail && pushed != 0) errors[t] = "a bulk push after the close succeeded";
              s += pushed;
              refused = pushed < n;
            } else {
              const std::uint64_t v = unique_value(t + 1, s);
              payload p(v);
              const queue_status st = (rng.below(2) == 0)
                                          ? q.try_push(std::move(p))
                                          : push_one(q, v, static_cast<unsigned>(1 + rng.below(3)));
              if (st == queue_status::success) {
                if (must_fail) errors[t] = "a push after the close succeeded";
                ++s;
              } else if (st != queue_status::closed) {
                errors[t] = "a push answered neither success nor closed";
              } else {
                refused = true;
                if (p.value() != v) errors[t] = "a refused push lost its argument";
              }
            }
            if (refused) {
              refused_after_close[t] = must_fail ? 1 : 0;
              break;
            }
          }
          accepted[t] = s;
          // A refusal is final, with every form.
          if (q.push(payload(unique_value(t + 1, s))) || q.emplace(unique_value(t + 1, s)) ||
              q.try_push(payload(unique_value(t + 1, s))) != queue_status::closed) {
            errors[t] = "a push succeeded after a refusal";
          }
          return;
        }
        std::vector<std::uint64_t>& out = popped[t - sh.producers];
        while (std::optional<payload> p = q.pop()) {
          out.push_back(p->value());
          pops.fetch_add(1, std::memory_order_relaxed);
        }
        pop_saw_closed.store(true, std::memory_order_release);
        if (q.try_push(payload(0)) != queue_status::closed) {
          errors[t] = "a push after pop() answered closed succeeded";
        }
      });
      for (std::size_t t = 0; t < errors.size(); ++t) {
        EXPECT_EQ(errors[t], "") << "round " << round << ", thread " << t;
      }
      EXPECT_EQ(q.try_pop().error(), queue_status::closed);
    }
    ASSERT_EQ(audit(accepted, popped), "") << "segment_size " << S << ", round " << round;
    EXPECT_EQ(payload::counters().errors.load(), 0);
    EXPECT_EQ(payload::counters().live(), 0);
    for (std::size_t p = 0; p < sh.producers; ++p) {
      total_accepted += accepted[p];
      late_refusals += refused_after_close[p];
    }
  }
  std::printf(
      "segment_size %zu: %zu rounds, %zu values accepted before the close; %zu of %zu "
      "producers first refused on a push begun after the close returned\n",
      S, rounds, total_accepted, late_refusals, rounds * sh.producers);
}

TYPED_TEST(UnboundedQueueStress, CloseWakesEveryWaiter) {
  constexpr std::size_t S = TypeParam::size;
  const std::size_t waiters = 8;
  const std::size_t rounds = scaled(200, 40);
  std::size_t delivered = 0;
  hang_alarm alarm("CloseWakesEveryWaiter", 120s);
  for (std::size_t round = 0; round < rounds; ++round) {
    payload::counters().reset();
    // Values pushed just before the close: 0, a few, or more than a segment's worth.
    const std::size_t values = round % 4 == 0 ? 0 : (round % 4) * 3 + S / 512;
    std::vector<std::vector<std::uint64_t>> popped(waiters);
    std::vector<std::string> errors(waiters + 1);
    std::atomic<std::size_t> arrived{0};
    {
      queue_of<payload, S> q;
      run_threads(waiters + 1, [&](std::size_t t) {
        if (t == waiters) {
          // Close right away, once the waiters arrived, or after they had time to sleep.
          if (round % 3 != 0) {
            while (arrived.load(std::memory_order_relaxed) < waiters) std::this_thread::yield();
          }
          if (round % 3 == 2) std::this_thread::sleep_for(200us);
          for (std::size_t i = 0; i < values; ++i) {
            if (!q.push(payload(unique_value(1, i)))) errors[t] = "push refused before close";
          }
          q.close();
          return;
        }
        arrived.fetch_add(1, std::memory_order_relaxed);
        for (;;) {
          if (t % 3 == 0) {
            std::optional<payload> p = q.pop();
            if (!p) break;
            popped[t].push_back(p->value());
            continue;
          }
          queue_result<payload> r =
              t % 3 == 1 ? q.pop_for(30s) : q.pop_until(std::chrono::steady_clock::now() + 30s);
          if (r) {
            popped[t].push_back(r->value());
          } else {
            if (r.error() != queue_status::closed) errors[t] = "a 30 s wait answered empty";
            break;
          }
        }
      });
      EXPECT_EQ(q.try_pop().error(), queue_status::closed);
    }
    for (std::size_t t = 0; t < errors.size(); ++t) {
      ASSERT_EQ(errors[t], "") << "round " << round << ", thread " << t;
    }
    ASSERT_EQ(audit({values}, popped), "") << "segment_size " << S << ", round " << round;
    EXPECT_EQ(payload::counters().live(), 0);
    EXPECT_EQ(payload::counters().errors.load(), 0);
    delivered += values;
  }
  std::printf(
      "segment_size %zu: %zu rounds, %zu waiting pops each, all released by close; %zu "
      "values delivered once each\n",
      S, rounds, waiters, delivered);
}

// Converts to its value after `spin` idle iterations, and a yield if `yield` is set:
// try_emplace(slow_value) builds the element slowly, inside the push's window between its
// ticket and its publication.
struct slow_value {
  std::uint64_t v;
  unsigned spin;
  bool yield;
  operator std::uint64_t() const noexcept {  // NOLINT(google-explicit-constructor)
    const volatile unsigned limit = spin;    // re-read every iteration: the loop stays
    for (unsigned i = 0; i < limit; ++i) {
    }
    if (yield) std::this_thread::yield();
    return v;
  }
};

// Moves of this payload made by the current thread. A push moves its element only when
// an attempt fails after the element was built in a cell: a burned cell (or a lost race
// to link a segment) costs two moves, out of the cell and into the next one.
inline thread_local std::size_t payload_moves = 0;
struct move_counting : payload {
  explicit move_counting(std::uint64_t v) noexcept : payload(v) {}
  move_counting(move_counting&& o) noexcept : payload(std::move(o)) { ++payload_moves; }
  move_counting& operator=(move_counting&&) = delete;
  ~move_counting() = default;
};

TYPED_TEST(UnboundedQueueStress, PollingConsumersBurnCells) {
  constexpr std::size_t S = TypeParam::size;
  const std::size_t producers = 2, consumers = 6;
  const std::size_t per_producer = scaled(50'000, 2'000);
  payload::counters().reset();
  alloc_counts counts;
  std::vector<std::vector<std::uint64_t>> popped(consumers);
  std::vector<std::string> errors(producers + consumers);
  std::vector<std::size_t> retries(producers, 0);
  long segments_allocated = 0;
  // A private domain, destroyed before `counts`: the deleters of retired segments use the
  // allocator, and may run after the queue is gone.
  epoch_domain domain;
  {
    // cached_segments = 0: every segment a push needs comes from the allocator.
    using queue = unbounded_queue<move_counting, epoch_reclaimer, counting_allocator<move_counting>,
                                  opts<S, 0>>;
    queue q{epoch_reclaimer(domain), counting_allocator<move_counting>(&counts)};
    std::atomic<std::size_t> producers_done{0};
    run_threads(producers + consumers, [&](std::size_t t) {
      if (t < producers) {
        xorshift rng(t + 5);
        payload_moves = 0;
        for (std::uint64_t s = 0; s < per_producer; ++s) {
          // Slow producers: the element is built in the cell between the ticket and the
          // publication, and this one takes a while (and now and then yields there), so
          // pollers find the cells of later tickets still empty and burn them.
          const slow_value arg{unique_value(t + 1, s), static_cast<unsigned>(rng.below(2000)),
                               rng.below(16) == 0};
          if (q.try_emplace(arg) != queue_status::success) {
            errors[t] = "try_emplace on an open queue failed";
          }
        }
        retries[t] = payload_moves / 2;
        producers_done.fetch_add(1, std::memory_order_release);
        return;
      }
      std::vector<std::uint64_t>& out = popped[t - producers];
      for (;;) {
        const bool done = producers_done.load(std::memory_order_acquire) == producers;
        queue_result<move_counting> r = q.try_pop();
        if (r) {
          out.push_back(r->value());
        } else if (r.error() != queue_status::empty) {
          errors[t] = "try_pop on an open queue answered closed";
        } else if (done) {
          break;
        } else {
          std::this_thread::yield();  // lets a producer back in (into its window)
        }
      }
    });
    segments_allocated = counts.allocations.load() - 1;  // minus the cache block
  }
  domain.barrier();
  EXPECT_EQ(counts.live(), 0) << "segments not given back after the queue died";
  for (std::size_t t = 0; t < errors.size(); ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  const std::vector<std::uint64_t> accepted(producers, per_producer);
  EXPECT_EQ(audit(accepted, popped), "") << "segment_size " << S;
  EXPECT_EQ(payload::counters().errors.load(), 0);
  EXPECT_EQ(payload::counters().live(), 0);
  const std::size_t pushes = producers * per_producer;
  const std::size_t minimum = (pushes + S - 1) / S;
  EXPECT_GE(segments_allocated, static_cast<long>(minimum));
  std::printf(
      "segment_size %zu: %zu pushes against 6 polling consumers: %zu push attempts "
      "failed after building the element (burned cell or lost link race); %ld "
      "segments allocated (%zu without them)\n",
      S, pushes, retries[0] + retries[1], segments_allocated, minimum);
}

// Pushes and pops on `threads` threads that leave about half the values queued, then the
// destructor: every element destroyed exactly once.
template <class T, std::size_t S>
void destroyed_non_empty(std::size_t rounds, std::size_t per_thread) {
  auto& counters = T::counters();
  for (std::size_t round = 0; round < rounds; ++round) {
    counters.reset();
    std::vector<std::size_t> pushed(8, 0), popped(8, 0);
    std::size_t left = 0;
    {
      queue_of<T, S> q;
      run_threads(8, [&](std::size_t t) {
        xorshift rng(round * 8 + t);
        for (std::size_t i = 0; i < per_thread; ++i) {
          if (rng.below(3) != 0) {
            if (q.try_emplace(unique_value(t + 1, i)) == queue_status::success) ++pushed[t];
          } else if (q.try_pop()) {
            ++popped[t];
          }
        }
      });
      std::size_t in = 0, out = 0;
      for (std::size_t t = 0; t < 8; ++t) {
        in += pushed[t];
        out += popped[t];
      }
      ASSERT_GE(in, out);
      if (round % 2 == 1) q.close();  // a closed non-empty queue too
      left = in - out;
      EXPECT_EQ(counters.live(), static_cast<long>(left)) << "round " << round;
      // The queue is destroyed here with `left` elements in it.
    }
    EXPECT_GT(left, 0U) << "round " << round;
    EXPECT_EQ(counters.errors.load(), 0) << "round " << round;
    EXPECT_EQ(counters.live(), 0) << "round " << round << ": " << left << " left in the queue";
  }
}

TYPED_TEST(UnboundedQueueStress, DestroyedNonEmpty) {
  constexpr std::size_t S = TypeParam::size;
  destroyed_non_empty<payload, S>(scaled(20, 4), scaled(4'000, 500));
  destroyed_non_empty<move_only_payload, S>(scaled(20, 4), scaled(4'000, 500));
}

TYPED_TEST(UnboundedQueueStress, SegmentMemory) {
  constexpr std::size_t S = TypeParam::size;
  constexpr std::size_t cached = 2;
  using queue =
      unbounded_queue<payload, epoch_reclaimer, counting_allocator<payload>, opts<S, cached>>;
  payload::counters().reset();
  alloc_counts counts;
  const std::size_t bursts = 3;
  const std::size_t burst = std::max<std::size_t>(scaled(40'000, 2'000), 8 * S);
  epoch_domain domain;
  {
    queue q{epoch_reclaimer(domain), counting_allocator<payload>(&counts)};
    EXPECT_EQ(counts.live(), 2);  // the cache block and the first segment
    for (std::size_t b = 0; b < bursts; ++b) {
      // A burst: 4 producers push, 4 consumers drain (they start together, so the queue
      // grows while they race); then a burst pushed by one thread and drained by 8.
      std::atomic<std::size_t> producers_done{0};
      std::vector<std::size_t> got(8, 0);
      const std::size_t per_producer = burst / 4;
      run_threads(8, [&](std::size_t t) {
        if (t < 4) {
          for (std::size_t s = 0; s < per_producer; ++s) {
            (void)q.try_push(payload(unique_value(t + 1, s)));
          }
          producers_done.fetch_add(1, std::memory_order_release);
          return;
        }
        for (;;) {
          const bool done = producers_done.load(std::memory_order_acquire) == 4;
          if (q.try_pop()) {
            ++got[t];
          } else if (done) {
            return;
          } else {
            std::this_thread::yield();
          }
        }
      });
      for (std::size_t s = 0; s < burst; ++s) (void)q.try_push(payload(unique_value(9, s)));
      const long held_full = counts.live();
      run_threads(8, [&](std::size_t t) {
        while (q.try_pop()) ++got[t];
      });
      std::size_t total = 0;
      for (std::size_t n : got) total += n;
      EXPECT_EQ(total, 2 * burst) << "burst " << b;
      // The full queue held at least the burst's segments.
      EXPECT_GE(held_full, static_cast<long>(burst / S)) << "burst " << b;
      // Quiescent: the threads exited (their bags sealed); the main thread's is sealed
      // by barrier(), which then runs every deleter.
      domain.barrier();
      const long held = counts.live();
      EXPECT_GE(held, 2) << "burst " << b;
      EXPECT_LE(held, static_cast<long>(2 + cached))
          << "burst " << b << ": segment_size " << S << ", " << held
          << " allocations held after draining " << 2 * burst << " values (peak "
          << counts.peak_live.load() << ")";
      EXPECT_EQ(payload::counters().live(), 0);
    }
    EXPECT_GE(counts.peak_live.load(), static_cast<long>(burst / S));
    std::printf(
        "segment_size %zu: %zu bursts of %zu values: %ld allocations in all, peak %ld "
        "held, %ld held after each drain + barrier (cache block + segments)\n",
        S, 2 * bursts, burst, counts.allocations.load(), counts.peak_live.load(), counts.live());
  }
  domain.barrier();
  EXPECT_EQ(counts.live(), 0) << "allocations not given back after the queue died";
  EXPECT_EQ(payload::counters().errors.load(), 0);
  EXPECT_EQ(payload::counters().live(), 0);
}

}  // namespace
