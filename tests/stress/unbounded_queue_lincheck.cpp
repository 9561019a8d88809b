// lockless::unbounded_queue under 8 threads on whatever cores there are: every recorded
// round of operations drawn from the queue's alphabet (structures/unbounded_queue_ops.hpp:
// try_push of an rvalue and of a const&, try_emplace, push, emplace, push_for, bulk
// pushes; try_pop, pop_for with a short timeout, bulk pops; observers), with a close() by
// a ninth thread once the workers have done 90% (in some rounds 50%) of their operations,
// and a quiescent drain, must be a linearizable history of an unbounded FIFO queue with
// close: lc::spec::queue().drained() (FIFO, empty and closed exact, never full, nothing
// lost). Segment sizes 2 and 4 (a segment linked and retired every few operations) and
// the default 1024. Rounds alternate the stamp source (global counter, steady_clock) and
// the push ratio. Every history is checked, and decided: undecided fails the test.
//
// Not drawn: the blocking pop() ('O'): a worker waiting in it on an empty queue waits for
// the close, which waits for the workers' operations; pop_for covers the waiting path.
//
// BULK. A bulk call is several operations, each its own; the recorder stamps only whole
// calls. Each element operation (the values pushed and the refused one; the values
// popped) is recorded with the whole call's interval on a history thread of its own
// (one per worker and element position, so calls of one worker stay sequential on it):
// the checker may place it anywhere inside the call, which is weaker than per-element
// intervals and sound. A bulk push's refusal is closed (nothing is ever full). A
// try_pop_bulk that stops early does not record its last, empty or closed, try_pop (it
// changes nothing, so leaving it out keeps every witness the checker needs); instead the
// per-producer order inside one bulk pop is checked directly.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <lockless/unbounded_queue.hpp>

#include "structures/unbounded_queue_ops.hpp"
#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/sanitizers.hpp"
#include "support/stress.hpp"
#include "support/values.hpp"

namespace {

using lockless::queue_status;
using lockless::test::history;
using lockless::test::op_kind;
using lockless::test::op_result;
using lockless::test::op_status;
using lockless::test::operation;
using lockless::test::stamp_source;
using lockless::test::unique_value;
using lockless::test::unbounded_queue_ops::op;
using lockless_test::weighted;
namespace lc = lockless::test::lincheck;

using namespace std::chrono_literals;

constexpr std::size_t workers = lockless_test::default_threads;
constexpr std::size_t max_bulk = 3;
// History threads: workers, the closer, the drain, then the bulk lanes.
constexpr std::size_t closer = workers;
constexpr std::size_t drainer = workers + 1;
constexpr std::size_t first_bulk_lane = workers + 2;

template <std::size_t Seg>
using queue_of = lockless::unbounded_queue<std::uint64_t, lockless::epoch_reclaimer,
                                           std::allocator<std::uint64_t>,
                                           lockless::unbounded_queue_options{.segment_size = Seg}>;

op_result pop_result(const lockless::queue_result<std::uint64_t>& r) {
  if (r) return op_result::of(*r);
  return op_result::from_status(r.error(), 0, true);
}

// Pushes weigh `push_weight` of every 100 draws in all (split as below), pops the rest.
struct mix {
  weighted<op> ops[11];
};

mix make_mix(unsigned push_weight) {
  const unsigned pop_weight = 98 - push_weight;
  const unsigned p = push_weight;
  return {{{op::try_push, p * 36 / 100},
           {op::try_push_copy, p * 12 / 100},
           {op::try_emplace, p * 12 / 100},
           {op::push, p * 10 / 100},
           {op::emplace, p * 8 / 100},
           {op::push_for, p * 8 / 100},
           {op::push_bulk, p * 14 / 100},
           {op::try_pop, pop_weight * 66 / 100},
           {op::pop_for, pop_weight * 14 / 100},
           {op::pop_bulk, pop_weight * 20 / 100},
           {op::observe, 2}}};
}

struct round_totals {
  std::uint64_t ops = 0, states = 0, empty = 0, closed = 0, bulk_elements = 0;
  double seconds = 0;
};

struct round_result {
  history h;
  std::string error;  // what a worker saw that the history cannot show
};

// One round: `ops` operations per worker, a closer that closes (recorded) once the workers
// have done close_percent% of their operations together, and a quiescent drain.
template <std::size_t Seg>
round_result record_round(std::size_t ops, const mix& m, unsigned close_percent,
                          stamp_source stamps, std::uint64_t seed) {
  queue_of<Seg> q;
  std::vector<std::size_t> lanes(first_bulk_lane, ops);
  lanes[closer] = 1;
  lanes[drainer] = workers * ops * max_bulk + 1;
  lockless::test::recorder rec(lanes, stamps);
  // Bulk element operations per worker (thread and seq set after the merge), and the lane
  // position of each.
  std::vector<std::vector<operation>> bulk_ops(workers);
  std::vector<std::vector<std::size_t>> bulk_pos(workers);
  std::vector<std::string> errors(workers);
  std::atomic<std::size_t> done{0};
  const std::size_t close_after = workers * ops * close_percent / 100;
  lockless_test::run_threads(workers + 1, [&](std::size_t t) {
    if (t == closer) {
      while (done.load(std::memory_order_relaxed) < close_after) std::this_thread::yield();
      rec.record(t, op_kind::close, 0, [&] { q.close(); });
      return;
    }
    lockless_test::xorshift rng(seed * 1000003 + t);
    std::uint64_t seq = 0;
    std::uint64_t last_bulk_ret = 0;
    bool saw_closed = false;
    auto next_value = [&] { return unique_value(t + 1, seq++); };
    // A bulk call's stamps: strictly after this worker's previous bulk call (its lanes
    // must stay sequential, and steady_clock stamps can tie).
    auto bulk_stamp = [&] {
      std::uint64_t s = rec.stamp();
      while (s <= last_bulk_ret) s = rec.stamp();
      return s;
    };
    auto add_bulk = [&](std::size_t pos, op_kind kind, std::uint64_t arg, op_result r,
                        std::uint64_t call, std::uint64_t ret) {
      operation o;
      o.call = call;
      o.ret = ret;
      o.kind = kind;
      o.arg = arg;
      o.result = r;
      bulk_ops[t].push_back(o);
      bulk_pos[t].push_back(pos);
    };
    for (std::size_t i = 0; i < ops; ++i, done.fetch_add(1, std::memory_order_relaxed)) {
      const op o = lockless_test::pick(m.ops, rng);
      switch (o) {
        case op::try_push: {
          const std::uint64_t v = next_value();
          rec.record(t, op_kind::enqueue, v, [&] { return q.try_push(std::uint64_t{v}); });
          break;
        }
        case op::try_push_copy: {
          const std::uint64_t v = next_value();
          rec.record(t, op_kind::enqueue, v, [&] { return q.try_push(v); });
          break;
        }
        case op::try_emplace: {
          const std::uint64_t v = next_value();
          rec.record(t, op_kind::enqueue, v, [&] { return q.try_emplace(v); });
          break;
        }
        case op::push: {
          const std::uint64_t v = next_value();
          rec.record(t, op_kind::enqueue, v, [&] {
            return q.push(std::uint64_t{v}) ? op_result::ok() : op_result::closed();
          });
          break;
        }
        case op::emplace: {
          const std::uint64_t v = next_value();
          rec.record(t, op_kind::enqueue, v,
                     [&] { return q.emplace(v) ? op_result::ok() : op_result::closed(); });
          break;
        }
        case op::push_for: {
          const std::uint64_t v = next_value();
          rec.record(t, op_kind::enqueue, v, [&] { return q.push_for(std::uint64_t{v}, 1ms); });
          break;
        }
        case op::push_bulk: {
          const std::size_t n = 1 + rng.below(max_bulk);
          std::uint64_t values[max_bulk];
          for (std::size_t k = 0; k < n; ++k) values[k] = next_value();
          const std::uint64_t call = bulk_stamp();
          const std::size_t pushed = q.try_push_bulk(values, values + n);
          const std::uint64_t ret = rec.stamp();
          last_bulk_ret = ret;
          if (pushed > n) errors[t] += "try_push_bulk pushed more than it was given\n";
          for (std::size_t k = 0; k < pushed && k < n; ++k) {
            add_bulk(k, op_kind::enqueue, values[k], op_result::ok(), call, ret);
          }
          if (pushed < n) {
            add_bulk(pushed, op_kind::enqueue, values[pushed], op_result::closed(), call, ret);
          }
          break;
        }
        case op::try_pop:
          rec.record(t, op_kind::dequeue, 0, [&] { return pop_result(q.try_pop()); });
          break;
        case op::pop_for:
          rec.record(t, op_kind::dequeue, 0, [&] { return pop_result(q.pop_for(100us)); });
          break;
        case op::pop_bulk: {
          const std::size_t max = 1 + rng.below(max_bulk);
          std::uint64_t out[max_bulk] = {};
          const std::uint64_t call = bulk_stamp();
          const std::size_t n = q.try_pop_bulk(out, max);
          const std::uint64_t ret = rec.stamp();
          last_bulk_ret = ret;
          if (n > max) errors[t] += "try_pop_bulk popped more than asked\n";
          for (std::size_t k = 0; k < n && k < max; ++k) {
            add_bulk(k, op_kind::dequeue, 0, op_result::of(out[k]), call, ret);
            // Inside one call, one producer's values in push order (the checker may
            // reorder them, as they share an interval).
            for (std::size_t j = 0; j < k; ++j) {
              if (lockless::test::value_thread(out[j]) == lockless::test::value_thread(out[k]) &&
                  lockless::test::value_seq(out[j]) >= lockless::test::value_seq(out[k])) {
                errors[t] += "try_pop_bulk returned one producer's values out of order\n";
              }
            }
          }
          break;
        }
        case op::observe: {
          const bool closed_now = q.is_closed();
          if (saw_closed && !closed_now) errors[t] += "is_closed() went back to false\n";
          saw_closed = saw_closed || closed_now;
          (void)q.size_approx();
          break;
        }
        default:
          errors[t] += std::string("unexpected operation ") +
                       lockless::test::unbounded_queue_ops::name(o) + "\n";
          break;
      }
    }
  });
  round_result res;
  for (;;) {
    const op_result r =
        rec.record(drainer, op_kind::dequeue, 0, [&] { return pop_result(q.try_pop()); });
    if (r.status != op_status::value) {
      if (r.status != op_status::closed) res.error += "the drain ended on empty, not closed\n";
      break;
    }
  }
  for (std::size_t t = 0; t < workers; ++t) res.error += errors[t];
  res.h = rec.merged();
  std::vector<std::uint32_t> lane_seq(workers * max_bulk, 0);
  for (std::size_t t = 0; t < workers; ++t) {
    for (std::size_t i = 0; i < bulk_ops[t].size(); ++i) {
      operation o = bulk_ops[t][i];
      const std::size_t lane = t * max_bulk + bulk_pos[t][i];
      o.thread = static_cast<std::uint32_t>(first_bulk_lane + lane);
      o.seq = lane_seq[lane]++;
      res.h.ops.push_back(o);
    }
  }
  res.h.threads = static_cast<std::uint32_t>(first_bulk_lane + workers * max_bulk);
  res.h.sort();
  return res;
}

template <std::size_t Seg>
void check_segment_size(std::size_t rounds, std::size_t ops) {
  const unsigned push_percent[] = {50, 65, 35};
  const lc::spec spec = lc::spec::queue().drained();
  round_totals tot;
  for (std::size_t round = 0; round < rounds; ++round) {
    const stamp_source stamps = round % 2 == 0 ? stamp_source::counter : stamp_source::steady_clock;
    const unsigned close_percent = round % 4 == 3 ? 50 : 90;
    const round_result rr = record_round<Seg>(ops, make_mix(push_percent[round % 3]), close_percent,
                                              stamps, 100 * Seg + round);
    ASSERT_EQ(rr.error, "") << "segment_size " << Seg << ", round " << round;
    const history& h = rr.h;
    ASSERT_EQ(h.validate(), "") << "segment_size " << Seg << ", round " << round;
    const lc::result r = lc::check(h, spec);
    ASSERT_TRUE(r.linearizable()) << "segment_size " << Seg << ", round " << round << "\n"
                                  << r.report();
    if (!r.linearization.empty()) {
      ASSERT_EQ(lc::verify_linearization(h, spec, r.linearization), "");
    }
    tot.ops += h.size();
    tot.states += r.states;
    tot.seconds += r.seconds;
    for (const auto& o : h.ops) {
      tot.empty += o.result.status == op_status::empty ? 1 : 0;
      tot.closed += o.result.status == op_status::closed ? 1 : 0;
      tot.bulk_elements += o.thread >= first_bulk_lane ? 1 : 0;
    }
  }
  // Not vacuous: empty and closed answers, and bulk elements, in every configuration.
  EXPECT_GT(tot.empty, 0U) << "segment_size " << Seg;
  EXPECT_GT(tot.closed, 0U) << "segment_size " << Seg;
  EXPECT_GT(tot.bulk_elements, 0U) << "segment_size " << Seg;
  std::printf(
      "unbounded_queue segment_size %zu: %zu rounds, %llu operations (%llu empty, %llu closed, "
      "%llu bulk elements), all linearizable; checking took %.3f s (%llu states)\n",
      Seg, rounds, static_cast<unsigned long long>(tot.ops),
      static_cast<unsigned long long>(tot.empty), static_cast<unsigned long long>(tot.closed),
      static_cast<unsigned long long>(tot.bulk_elements), tot.seconds,
      static_cast<unsigned long long>(tot.states));
}

TEST(LincheckUnboundedQueue, Segment2) {
  check_segment_size<2>(lockless_test::scaled(64, 8), 400);
}
TEST(LincheckUnboundedQueue, Segment4) {
  check_segment_size<4>(lockless_test::scaled(64, 8), 400);
}
TEST(LincheckUnboundedQueue, Segment1024) {
  check_segment_size<1024>(lockless_test::scaled(64, 8), 400);
}

}  // namespace
