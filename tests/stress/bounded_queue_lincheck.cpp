// lockless::bounded_queue under 8 threads on whatever cores there are: every recorded
// round of try_push/try_pop (unique values), with a close() near the end (a ninth thread
// closes once 90% of the operations are done) and a quiescent
// drain, must be a linearizable history of a bounded FIFO queue with close, against
// spec::bounded_queue(cap).full_when_in_flight().drained(): FIFO, empty and closed exact,
// full relaxed by one slot per overlapping push or pop (the header's documented
// guarantee). Capacities 1, 2, 3 (not a power of two: tickets keep a power-of-two range
// of positions, the ring must not) and 64. Rounds alternate the stamp source (global counter, steady_clock) and the
// push ratio. Every history is checked, and decided: undecided fails the test.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include <lockless/bounded_queue.hpp>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/sanitizers.hpp"
#include "support/stress.hpp"
#include "support/values.hpp"

// Rounds per capacity (bounded_queue_lap_wrap.cpp, which includes this file, runs fewer:
// its laps wrap within the first rounds).
#ifndef LOCKLESS_BQ_LINCHECK_ROUNDS
#define LOCKLESS_BQ_LINCHECK_ROUNDS 32
#endif

namespace {

using lockless::test::history;
using lockless::test::op_kind;
using lockless::test::op_result;
using lockless::test::op_status;
using lockless::test::stamp_source;
namespace lc = lockless::test::lincheck;

constexpr std::size_t threads = lockless_test::default_threads;

op_result pop_result(const lockless::queue_result<std::uint64_t>& r) {
  if (r) return op_result::of(*r);
  return op_result::from_status(r.error(), 0, true);
}

struct round_totals {
  std::uint64_t ops = 0, states = 0, full = 0, empty = 0, closed = 0;
  double seconds = 0;
};

// One round: `ops` operations per worker thread, and one more thread that closes the
// queue (recorded) once the workers have done 90% of their operations together, so the
// last operations race the close.
template <lockless::queue_options Options>
history record_round(std::size_t capacity, std::size_t ops, unsigned push_percent,
                     stamp_source stamps, std::uint64_t seed) {
  lockless::bounded_queue<std::uint64_t, std::allocator<std::uint64_t>, Options> q(capacity);
  std::vector<std::size_t> lanes(threads + 2, ops);
  lanes[threads] = 1;                      // the closer
  lanes[threads + 1] = threads * ops + 1;  // the drain
  lockless::test::recorder rec(lanes, stamps);
  std::atomic<std::size_t> done{0};
  const std::size_t close_after = threads * ops * 9 / 10;
  lockless_test::run_threads(threads + 1, [&](std::size_t t) {
    if (t == threads) {
      while (done.load(std::memory_order_relaxed) < close_after) std::this_thread::yield();
      rec.record(t, op_kind::close, 0, [&] { q.close(); });
      return;
    }
    std::mt19937_64 rng(seed * 1000003 + t);
    std::uniform_int_distribution<unsigned> pct(0, 99);
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < ops; ++i, done.fetch_add(1, std::memory_order_relaxed)) {
      if (pct(rng) < push_percent) {
        const std::uint64_t v = lockless::test::unique_value(t, seq++);
        rec.record(t, op_kind::enqueue, v, [&] { return q.try_push(v); });
      } else {
        rec.record(t, op_kind::dequeue, 0, [&] { return pop_result(q.try_pop()); });
      }
    }
  });
  for (;;) {
    const op_result r =
        rec.record(threads + 1, op_kind::dequeue, 0, [&] { return pop_result(q.try_pop()); });
    if (r.status != op_status::value) break;
  }
  return rec.merged();
}

template <lockless::queue_options Options = lockless::queue_options{}>
void check_capacity(std::size_t capacity, std::size_t rounds, std::size_t ops) {
  const unsigned push_percent[] = {50, 65, 35};
  const lc::spec spec = lc::spec::bounded_queue(capacity).full_when_in_flight().drained();
  round_totals tot;
  for (std::size_t round = 0; round < rounds; ++round) {
    const stamp_source stamps = round % 2 == 0 ? stamp_source::counter : stamp_source::steady_clock;
    const history h = record_round<Options>(capacity, ops, push_percent[round % 3], stamps,
                                            100 * capacity + round);
    const lc::result r = lc::check(h, spec);
    ASSERT_TRUE(r.linearizable()) << "capacity " << capacity << ", round " << round << "\n"
                                  << r.report();
    ASSERT_EQ(lc::verify_linearization(h, spec, r.linearization), "");
    tot.ops += h.size();
    tot.states += r.states;
    tot.seconds += r.seconds;
    for (const auto& op : h.ops) {
      tot.full += op.result.status == op_status::full ? 1 : 0;
      tot.empty += op.result.status == op_status::empty ? 1 : 0;
      tot.closed += op.result.status == op_status::closed ? 1 : 0;
    }
  }
  // Not vacuous: every capacity sees full, empty and closed results.
  EXPECT_GT(tot.full, 0U) << "capacity " << capacity;
  EXPECT_GT(tot.empty, 0U) << "capacity " << capacity;
  EXPECT_GT(tot.closed, 0U) << "capacity " << capacity;
  std::printf(
      "bounded_queue%s capacity %zu: %zu rounds, %llu operations (%llu full, %llu empty, %llu "
      "closed), all linearizable; checking took %.3f s (%llu states)\n",
      Options.fast_empty ? " (fast_empty)" : "", capacity, rounds,
      static_cast<unsigned long long>(tot.ops), static_cast<unsigned long long>(tot.full),
      static_cast<unsigned long long>(tot.empty), static_cast<unsigned long long>(tot.closed),
      tot.seconds, static_cast<unsigned long long>(tot.states));
}

TEST(LincheckBoundedQueue, Capacity1) {
  check_capacity(1, lockless_test::scaled(LOCKLESS_BQ_LINCHECK_ROUNDS, 4), 500);
}
TEST(LincheckBoundedQueue, Capacity2) {
  check_capacity(2, lockless_test::scaled(LOCKLESS_BQ_LINCHECK_ROUNDS, 4), 500);
}
TEST(LincheckBoundedQueue, Capacity3) {
  check_capacity(3, lockless_test::scaled(LOCKLESS_BQ_LINCHECK_ROUNDS, 4), 500);
}
TEST(LincheckBoundedQueue, Capacity64) {
  check_capacity(64, lockless_test::scaled(LOCKLESS_BQ_LINCHECK_ROUNDS, 4), 500);
}
// queue_options::fast_empty: pops answer empty from the cell and order_ while it is quiet.
TEST(LincheckBoundedQueue, FastEmptyCapacity2) {
  check_capacity<lockless::queue_options{.fast_empty = true}>(
      2, lockless_test::scaled(LOCKLESS_BQ_LINCHECK_ROUNDS, 4), 500);
}
TEST(LincheckBoundedQueue, FastEmptyCapacity64) {
  check_capacity<lockless::queue_options{.fast_empty = true}>(
      64, lockless_test::scaled(LOCKLESS_BQ_LINCHECK_ROUNDS, 4), 500);
}

}  // namespace
