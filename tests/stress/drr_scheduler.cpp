// Stress tests of lockless::drr_scheduler: 8 producers (and more threads) on a 2-core
// machine, with one consumer (drr_options::single_consumer) or several (the default, the
// consumer gate), flows added and removed on the fly, and close() racing everything.
//
// Values are unique by construction: unique_value(producer + 1, tag << 24 | n), where tag
// names the flow the value was pushed into (an index into the test's table of handles) and
// n counts the producer's pushes. So every popped value says who pushed it, into which
// flow, and when in that producer's program order.
//
//   AuditCatchesBrokenRuns the audit below on hand-made runs: loss, duplicate, invented
//                          value, wrong handle, FIFO broken at one consumer and across
//                          consumers are reported; legal reorderings are not.
//   ManyProducers*         8 producers push unique values into 1, 4 or 64 flows
//                          (capacities 1-4, so pushes find flows full; every flow shared
//                          by several producers; half the producers use the blocking
//                          push(), half a try_push() loop), costs 1-5 against quanta 1-3
//                          (turns skipped while the deficit grows), 1 consumer or 3
//                          consumers mixing pop() and try_pop(); a ninth thread closes
//                          once every producer is done, and the consumers pop until
//                          closed. Afterwards, on the main thread: every value popped
//                          exactly once and nothing else, each drr_item's flow is the flow
//                          the value was pushed into, and per-flow FIFO per producer:
//                          at each consumer a producer's values of one flow come out in
//                          push order, and across consumers no value is popped entirely
//                          before (in real time: steady_clock stamps around each pop) a
//                          value its producer pushed earlier into the same flow. With one
//                          consumer that is the exact order. Every payload destroyed once.
//   Lincheck*              recorded rounds (support/history.hpp) of 8 producers' try_push /
//                          push_for into 1 or 3 flows (capacities 1-3) racing 1 or 2
//                          consumers' try_pop / pop_for, with, per round, a close(), a
//                          remove_flow() of one flow, or neither near the end, then a
//                          quiescent drain. The history is projected on each flow: its
//                          pushes (ok, full, closed), the pops that returned one of its
//                          values, the close that closed it (close() or its remove_flow),
//                          and the pops that answered closed (after close() with every
//                          flow finished, so valid for each flow). Each projection must be
//                          linearizable (support/lincheck.hpp) against
//                          spec::bounded_queue(capacity).full_when_in_flight().drained():
//                          FIFO, closed and drained exact, full relaxed by the operations
//                          in flight (a push that reads the slot lap L-1's item is still
//                          in while the pop that took it, at [DC1], has not freed it yet,
//                          [DC3], answers full: that pop overlaps it; see the notes
//                          below). Pops that answered empty are not in any projection:
//                          try_pop's empty is scheduler-wide, and the header documents
//                          that a producer suspended between claiming and publishing
//                          holds back later items of its flow (an empty answer while an
//                          item pushed after the gap has returned is allowed), so an
//                          "empty" is not a per-flow queue's empty. Busy (another consumer
//                          inside the gate) changes nothing and is dropped too. Half the
//                          rounds stamp with a global counter, half with steady_clock (with
//                          fences around each operation: see fenced() below).
//   FlowChurn*             2 threads add flows and remove old ones while 8 producers push
//                          into recently published handles (some already removed: closed)
//                          and consumers pop; close() once everybody is done. Every
//                          accepted value popped exactly once with its flow's handle
//                          (also for flows removed while they held items), FIFO as above,
//                          remove_flow() true once per flow and false after, contains()
//                          false after removal. The reclaimer counts: every removed flow
//                          retired exactly once (once finished and removed), and after the
//                          scheduler is gone and the domain's barrier(), every retired flow
//                          freed; every payload destroyed exactly once.
//   FlowChurnNoDrain       the same churn with a consumer that stops halfway, then the
//                          scheduler is destroyed holding items in live flows and in
//                          removed, unfinished ones (listed in the inbox, the private list
//                          or as the current flow): every payload destroyed exactly once,
//                          removed flows partly retired (finished before the consumer
//                          stopped) and partly not (freed by the destructor), every
//                          retired flow freed (LeakSanitizer in the asan preset sees the
//                          rest).
//   CloseWhileRunning*     producers push until refused (push(), try_push() retried while
//                          full, push_for() retried on timeout), consumers pop until
//                          nullopt/closed, a closer thread calls close() after a share of
//                          the values went through. Each producer's accepted values are a
//                          prefix of its sequence (a refusal is final), exactly the
//                          accepted values are popped, once each, with their flows, FIFO
//                          as above; every consumer ends (a watchdog aborts if one is
//                          still blocked after 60 s).
//
// Notes on the per-flow specification (read against the header's INV2 and LPs):
//   - An ok push needs size < capacity exactly: INV2 (claimed positions never exceed the
//     capacity) with LP(try_push, success) at the claiming CAS [DP3].
//   - A full answer is not exact: LP(try_push, full) is [DP2] reading lap L-1's item, and
//     the item stays visible there from the pop's LP [DC1] until the slot is freed [DC3],
//     both inside the pop's interval; so "full" is legal where size + (overlapping pushes
//     and pops of the flow) >= capacity, which is full_when_in_flight(). A full answer with
//     no pop of that flow in flight must be exact, and the checker demands that.
//   - A closed push through a removed flow's handle can come from the table lookup
//     (remove_flow clears the table slot before its [DX1]); both are inside remove_flow's
//     interval, which is what the recorded close spans.
#include <lockless/drr_scheduler.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support/counting.hpp"
#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/sanitizers.hpp"
#include "support/stress.hpp"
#include "support/values.hpp"

namespace {

using lockless::drr_flow;
using lockless::drr_options;
using lockless::drr_scheduler;
using lockless::queue_status;
using lockless::test::history;
using lockless::test::op_kind;
using lockless::test::op_result;
using lockless::test::op_status;
using lockless::test::stamp_source;
using lockless::test::unique_value;
using lockless::test::value_seq;
using lockless::test::value_thread;
using lockless_test::run_threads;
using lockless_test::scaled;
using lockless_test::xorshift;
namespace lc = lockless::test::lincheck;

using namespace std::chrono_literals;

constexpr std::size_t producers = lockless_test::default_threads;

// ---- values -------------------------------------------------------------------------------

constexpr unsigned tag_shift = 24;
constexpr std::uint64_t n_mask = (std::uint64_t{1} << tag_shift) - 1;

std::uint64_t make_value(std::size_t producer, std::size_t tag, std::uint64_t n) {
  return unique_value(producer + 1, (std::uint64_t{tag} << tag_shift) | n);
}
std::size_t producer_of(std::uint64_t v) {
  return static_cast<std::size_t>(value_thread(v)) - 1;
}
std::size_t tag_of(std::uint64_t v) {
  return static_cast<std::size_t>(value_seq(v) >> tag_shift);
}
std::uint64_t n_of(std::uint64_t v) {
  return value_seq(v) & n_mask;
}

std::uint64_t raw(std::uint64_t v) {
  return v;
}
template <class Tag>
std::uint64_t raw(const lockless_test::counted<Tag>& v) {
  return v.value();
}

// Costs 1-5 against quanta 1-3: items costlier than their flow's quantum wait turns.
struct varied_cost {
  template <class P>
  std::uint32_t operator()(const P& v) const noexcept {
    return 1 + static_cast<std::uint32_t>(raw(v) % 5);
  }
};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Aborts the process with a message unless disarmed within `limit` (a lost wake-up would
// otherwise hang until the ctest timeout).
class watchdog {
 public:
  watchdog(const char* what, std::chrono::seconds limit)
      : thread_([this, what, limit] {
          std::unique_lock lock(m_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: %s still running after %lld s (lost wake-up?)\n", what,
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~watchdog() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// ---- the audit of a run -------------------------------------------------------------------

// One pop as a consumer saw it: the value, the handle the item came with, steady_clock
// stamps taken just before the call and just after the return.
struct popped {
  std::uint64_t value = 0;
  drr_flow flow;
  std::uint64_t call = 0;
  std::uint64_t ret = 0;
};

// accepted[p]: producer p's accepted values in push order; got[c]: consumer c's pops in
// order; flows[tag]: the handle values with that tag were pushed into. Returns "" or what
// is wrong: a value popped that was never accepted, popped twice, accepted and never
// popped (when `drained`), popped with another flow's handle, or FIFO broken per producer
// and flow (at one consumer; across consumers in real time).
std::string audit(const std::vector<drr_flow>& flows,
                  const std::vector<std::vector<std::uint64_t>>& accepted,
                  const std::vector<std::vector<popped>>& got, bool drained) {
  std::unordered_map<std::uint64_t, int> state;  // 0 accepted, 1 popped
  std::size_t total = 0;
  for (const auto& a : accepted) total += a.size();
  state.reserve(total);
  for (std::size_t p = 0; p < accepted.size(); ++p) {
    for (std::uint64_t v : accepted[p]) {
      if (producer_of(v) != p || !state.emplace(v, 0).second) {
        return "test bug: accepted value " + lockless::test::format_value(v) + " not unique";
      }
    }
  }
  struct pop_at {
    std::uint64_t n, call, ret;
  };
  std::unordered_map<std::uint64_t, std::vector<pop_at>> by_key;  // (producer, tag) -> pops
  for (std::size_t c = 0; c < got.size(); ++c) {
    std::unordered_map<std::uint64_t, std::uint64_t> last;  // (producer, tag) -> n + 1
    for (const popped& x : got[c]) {
      const std::string what =
          "consumer " + std::to_string(c) + " popped " + lockless::test::format_value(x.value);
      auto it = state.find(x.value);
      if (it == state.end()) return what + ", a value never accepted";
      if (it->second++ != 0) return what + " twice";
      const std::size_t tag = tag_of(x.value);
      if (tag >= flows.size() || !(flows[tag] == x.flow)) {
        return what + " with the handle of flow (index " + std::to_string(x.flow.index()) +
               ", generation " + std::to_string(x.flow.generation()) +
               "), not the handle it was pushed into";
      }
      const std::uint64_t key = value_thread(x.value) << 32 | tag;
      std::uint64_t& l = last[key];
      if (n_of(x.value) + 1 <= l) {
        return what + " after the same producer's later push #" + std::to_string(l - 1) +
               " into the same flow (per-flow FIFO broken)";
      }
      l = n_of(x.value) + 1;
      by_key[key].push_back({n_of(x.value), x.call, x.ret});
    }
  }
  if (drained) {
    for (const auto& [v, s] : state) {
      if (s == 0) return "accepted value " + lockless::test::format_value(v) + " never popped";
    }
  }
  // Across consumers: a value whose pop returned before the pop of a value pushed earlier
  // (same producer, same flow) was even called overtook it.
  for (auto& [key, pops] : by_key) {
    std::sort(pops.begin(), pops.end(), [](const pop_at& a, const pop_at& b) { return a.n < b.n; });
    std::uint64_t max_call = 0;
    std::uint64_t max_call_n = 0;
    for (const pop_at& x : pops) {
      if (x.ret < max_call) {
        return "producer " + std::to_string((key >> 32) - 1) + "'s push #" + std::to_string(x.n) +
               " into flow tag " + std::to_string(key & 0xFFFFFFFFu) +
               " was popped before its push #" + std::to_string(max_call_n) +
               " into the same flow was (per-flow FIFO broken across consumers)";
      }
      if (x.call > max_call) {
        max_call = x.call;
        max_call_n = x.n;
      }
    }
  }
  return {};
}

template <class Tag>
void expect_counted_clean(const char* what) {
  const auto& c = lockless_test::counted<Tag>::counters();
  EXPECT_EQ(c.live(), 0) << what << ": payloads constructed and never destroyed";
  EXPECT_EQ(c.errors.load(), 0) << what << ": payload destroyed twice or used after destruction";
}

// The audit catches what it is for (a checker that never fails proves nothing).
TEST(DrrSchedulerStress, AuditCatchesBrokenRuns) {
  drr_scheduler<std::uint64_t> s;
  const std::vector<drr_flow> flows = {s.add_flow(1, 4), s.add_flow(1, 4)};
  const std::uint64_t a0 = make_value(0, 0, 0), a1 = make_value(0, 0, 1), b0 = make_value(0, 1, 2);
  const std::vector<std::vector<std::uint64_t>> accepted = {{a0, a1, b0}};
  using run = std::vector<std::vector<popped>>;
  const popped pa0{a0, flows[0], 10, 11}, pa1{a1, flows[0], 12, 13}, pb0{b0, flows[1], 14, 15};
  EXPECT_EQ(audit(flows, accepted, run{{pa0, pa1, pb0}}, true), "");
  EXPECT_EQ(audit(flows, accepted, run{{pb0, pa0, pa1}}, true), "");  // flows interleave freely
  EXPECT_EQ(audit(flows, accepted, run{{pa0}, {pb0}, {pa1}}, true), "");
  // Overlapping pops on two consumers may come back in either order.
  EXPECT_EQ(
      audit(flows, accepted, run{{{a1, flows[0], 10, 13}}, {{a0, flows[0], 11, 12}, pb0}}, true),
      "");
  EXPECT_NE(audit(flows, accepted, run{{pa0, pb0}}, true), "");            // lost
  EXPECT_EQ(audit(flows, accepted, run{{pa0, pb0}}, false), "");           // ... unless not drained
  EXPECT_NE(audit(flows, accepted, run{{pa0, pa1, pb0, pa1}}, true), "");  // duplicated
  EXPECT_NE(
      audit(flows, accepted, run{{pa0, pa1, pb0, {make_value(0, 1, 3), flows[1], 16, 17}}}, true),
      "");                                                                               // invented
  EXPECT_NE(audit(flows, accepted, run{{pa0, pa1, {b0, flows[0], 14, 15}}}, true), "");  // handle
  EXPECT_NE(audit(flows, accepted, run{{pa1, pa0, pb0}}, true), "");  // FIFO at one consumer
  EXPECT_NE(
      audit(flows, accepted, run{{{a1, flows[0], 10, 11}}, {{a0, flows[0], 12, 13}, pb0}}, true),
      "");  // FIFO across consumers: a1's pop returned before a0's was called
}

// After a consumer saw closed: the scheduler stays closed and drained, for try_pop and pop.
// With several consumers try_pop may answer busy while another consumer is inside the gate
// (an answer about the gate, not the contents: the header's PROGRESS), so it asks again;
// with one consumer busy is an error like any other answer.
template <bool Single, class S>
bool stays_closed(S& s) {
  for (;;) {
    const auto r = s.try_pop();
    if (r) return false;
    if constexpr (!Single) {
      if (r.error() == queue_status::busy) {
        std::this_thread::yield();
        continue;
      }
    }
    return r.error() == queue_status::closed && !s.pop().has_value();
  }
}

// ---- many producers, FIFO, no loss --------------------------------------------------------

struct fifo_tag {};

template <bool Single>
void many_producers(std::size_t nflows, std::size_t consumers, std::uint64_t per_producer) {
  using payload = lockless_test::counted<fifo_tag>;
  using sched = drr_scheduler<payload, varied_cost, lockless::epoch_reclaimer,
                              drr_options{.single_consumer = Single}>;
  payload::counters().reset();
  std::vector<std::vector<std::uint64_t>> accepted(producers);
  std::vector<std::vector<popped>> got(consumers);
  std::vector<drr_flow> flows;
  std::vector<std::size_t> fulls(producers, 0), errors(producers + consumers, 0);
  const auto t0 = std::chrono::steady_clock::now();
  {
    sched s;
    for (std::size_t k = 0; k < nflows; ++k) {
      flows.push_back(s.add_flow(static_cast<std::uint32_t>(1 + k % 3), 1 + k % 4));
    }
    std::atomic<std::size_t> producers_done{0};
    watchdog dog("ManyProducers", 60s);
    run_threads(producers + consumers + 1, [&](std::size_t t) {
      if (t < producers) {
        xorshift rng(t + 1);
        accepted[t].reserve(per_producer);
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          const std::size_t tag = static_cast<std::size_t>(rng.below(nflows));
          const std::uint64_t v = make_value(t, tag, i);
          if (t % 2 == 0) {
            if (!s.push(flows[tag], payload(v))) ++errors[t];
          } else {
            payload x(v);
            for (;;) {
              const queue_status st = s.try_push(flows[tag], std::move(x));
              if (st == queue_status::success) break;
              if (st != queue_status::full) {
                ++errors[t];
                break;
              }
              ++fulls[t];
              std::this_thread::yield();
            }
          }
          accepted[t].push_back(v);
        }
        producers_done.fetch_add(1, std::memory_order_acq_rel);
      } else if (t < producers + consumers) {
        auto& mine = got[t - producers];
        for (std::uint64_t k = 0;; ++k) {
          const std::uint64_t call = now_ns();
          if (k % 2 == 0) {
            std::optional<lockless::drr_item<payload>> r = s.pop();
            const std::uint64_t ret = now_ns();
            if (!r) break;
            mine.push_back({r->value.value(), r->flow, call, ret});
          } else {
            lockless::queue_result<lockless::drr_item<payload>> r = s.try_pop();
            const std::uint64_t ret = now_ns();
            if (r) {
              mine.push_back({r->value.value(), r->flow, call, ret});
            } else if (r.error() == queue_status::closed) {
              break;
            } else if (r.error() == queue_status::busy && Single) {
              ++errors[t];  // busy only with several consumers
            } else {
              std::this_thread::yield();
            }
          }
        }
        // Closed and drained: it stays so.
        if (!stays_closed<Single>(s)) ++errors[t];
      } else {
        while (producers_done.load(std::memory_order_acquire) < producers) {
          std::this_thread::yield();
        }
        s.close();
      }
    });
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t t = 0; t < errors.size(); ++t) {
    EXPECT_EQ(errors[t], 0U) << "thread " << t << " saw an unexpected status";
  }
  EXPECT_EQ(audit(flows, accepted, got, true), "");
  expect_counted_clean<fifo_tag>("ManyProducers");
  std::size_t total_full = 0;
  for (std::size_t f : fulls) total_full += f;
  EXPECT_GT(total_full, 0U) << "no try_push ever found a flow full: the test is vacuous";
  std::size_t total = 0;
  for (const auto& g : got) total += g.size();
  std::printf("%s, %zu flows, %zu consumer(s): %zu values, %zu try_push full answers, %.3f s\n",
              Single ? "single_consumer" : "multi-consumer", nflows, consumers, total, total_full,
              secs);
}

const std::uint64_t fifo_per_producer = scaled(3000, 200);

TEST(DrrSchedulerStress, ManyProducersOneFlowSingleConsumer) {
  many_producers<true>(1, 1, fifo_per_producer);
}
TEST(DrrSchedulerStress, ManyProducersFourFlowsSingleConsumer) {
  many_producers<true>(4, 1, fifo_per_producer);
}
TEST(DrrSchedulerStress, ManyProducers64FlowsSingleConsumer) {
  many_producers<true>(64, 1, fifo_per_producer);
}
TEST(DrrSchedulerStress, ManyProducersOneFlowThreeConsumers) {
  many_producers<false>(1, 3, fifo_per_producer);
}
TEST(DrrSchedulerStress, ManyProducersFourFlowsTwoConsumers) {
  many_producers<false>(4, 2, fifo_per_producer);
}
TEST(DrrSchedulerStress, ManyProducers64FlowsThreeConsumers) {
  many_producers<false>(64, 3, fifo_per_producer);
}

// ---- linearizability of each flow ---------------------------------------------------------

enum class ending : std::uint8_t { close_all, remove_one, none };

struct lincheck_totals {
  std::uint64_t ops = 0, ok = 0, full = 0, closed_push = 0, values = 0, closed_pop = 0, states = 0;
  double seconds = 0;
};

op_result pop_result(const lockless::queue_result<lockless::drr_item<std::uint64_t>>& r) {
  if (r) return op_result::of(r->value);
  if (r.error() == queue_status::closed) return op_result::closed();
  return op_result::empty();  // empty, or busy: neither changes anything; both dropped below
}

// steady_clock stamps: a clock read is not a fence (support/history.hpp). A pop frees its
// slot with a plain release store ([DC3]) that can still sit in the consumer's store
// buffer when it reads its return stamp; a push whose call stamp is later can then read
// the slot as still holding that item and answer full with no pop of that flow in flight
// among the recorded intervals (seen: a full called 20 ns after the pop that emptied the
// slot returned, a capacity-3 flow holding 2 values). Not a linearizability violation in
// C++ terms (nothing orders the two), but the checker judges the stamps. So in
// steady_clock rounds every recorded push and pop is bracketed by full fences
// (detail::full_fence(): no synchronisation for TSan, so it hides no race): its effects
// are visible to every thread before its return stamp is taken, and it reads nothing
// before its call stamp. Counter stamps are seq_cst read-modify-writes: fences already.
template <class F>
auto fenced(bool on, F&& f) {
  if (on) lockless::detail::full_fence();
  auto r = std::forward<F>(f)();
  if (on) lockless::detail::full_fence();
  return r;
}

template <bool Single>
void lincheck_round(std::size_t round, std::size_t consumers, std::size_t ops,
                    lincheck_totals& tot) {
  using sched = drr_scheduler<std::uint64_t, varied_cost, lockless::epoch_reclaimer,
                              drr_options{.single_consumer = Single}>;
  const std::size_t nflows = round % 2 == 0 ? 1 : 3;
  const ending end = static_cast<ending>(round % 3);
  const stamp_source stamps = round % 4 < 2 ? stamp_source::counter : stamp_source::steady_clock;
  const bool fence = stamps == stamp_source::steady_clock;
  std::vector<std::size_t> capacity(nflows);
  for (std::size_t k = 0; k < nflows; ++k) capacity[k] = nflows == 1 ? 1 + (round / 2) % 3 : 1 + k;
  const std::size_t removed_tag = round % nflows;

  sched s;
  std::vector<drr_flow> flows;
  for (std::size_t k = 0; k < nflows; ++k) {
    flows.push_back(s.add_flow(static_cast<std::uint32_t>(1 + (k + round) % 2), capacity[k]));
  }
  // Lanes: producers, consumers, the closer, the drain.
  const std::size_t consumer_cap = 6 * producers * ops;
  const std::size_t closer = producers + consumers;
  const std::size_t drain = closer + 1;
  std::vector<std::size_t> lanes(drain + 1, ops);
  for (std::size_t c = 0; c < consumers; ++c) lanes[producers + c] = consumer_cap;
  lanes[closer] = 1;
  lanes[drain] = producers * ops + 2;
  lockless::test::recorder rec(lanes, stamps);
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> producers_done{0};
  std::vector<std::size_t> wrong_flow(drain + 1, 0);
  const std::size_t close_after = producers * ops * 9 / 10;

  auto recorded_pop = [&](std::size_t t, bool timed) {
    return rec.record(t, op_kind::dequeue, 0, [&] {
      lockless::queue_result<lockless::drr_item<std::uint64_t>> r =
          fenced(fence, [&] { return timed ? s.pop_for(200us) : s.try_pop(); });
      if (r && !(tag_of(r->value) < nflows && flows[tag_of(r->value)] == r->flow)) {
        ++wrong_flow[t];
      }
      return pop_result(r);
    });
  };

  run_threads(producers + consumers + 1, [&](std::size_t t) {
    if (t < producers) {
      xorshift rng(1000 * round + t + 1);
      for (std::uint64_t i = 0; i < ops; ++i, done.fetch_add(1, std::memory_order_relaxed)) {
        const std::size_t tag = static_cast<std::size_t>(rng.below(nflows));
        const std::uint64_t v = make_value(t, tag, i);
        if (t % 4 == 3) {
          rec.record(t, op_kind::enqueue, v, [&] {
            return fenced(fence, [&] { return s.push_for(flows[tag], v, 100us); });
          });
        } else {
          rec.record(t, op_kind::enqueue, v,
                     [&] { return fenced(fence, [&] { return s.try_push(flows[tag], v); }); });
        }
      }
      producers_done.fetch_add(1, std::memory_order_release);
    } else if (t < closer) {
      const bool timed = !Single && t == producers;  // one of several consumers waits
      for (std::size_t k = 0; k < consumer_cap; ++k) {
        if (producers_done.load(std::memory_order_acquire) == producers) break;
        const op_result r = recorded_pop(t, timed && k % 2 == 1);
        if (r.status != op_status::value) std::this_thread::yield();
      }
    } else {
      while (done.load(std::memory_order_relaxed) < close_after) std::this_thread::yield();
      if (end == ending::close_all) {
        rec.record(t, op_kind::close, 0, [&] { s.close(); });
      } else if (end == ending::remove_one) {
        rec.record(t, op_kind::close, 0, [&] { (void)s.remove_flow(flows[removed_tag]); });
      }
    }
  });
  for (;;) {
    const op_result r = recorded_pop(drain, false);
    if (r.status != op_status::value) {
      // At quiescence: closed after close() (every flow finished), else empty.
      ASSERT_EQ(r.status, end == ending::close_all ? op_status::closed : op_status::empty)
          << "round " << round;
      break;
    }
  }
  for (std::size_t t = 0; t < wrong_flow.size(); ++t) {
    ASSERT_EQ(wrong_flow[t], 0U) << "round " << round << ": thread " << t
                                 << " popped an item with another flow's handle";
  }

  // Project on each flow.
  const history all = rec.merged();
  std::vector<history> per(nflows);
  for (auto& h : per) h.threads = all.threads;
  for (const auto& op : all.ops) {
    if (op.inserts()) {
      per[tag_of(op.arg)].ops.push_back(op);
    } else if (op.removes()) {
      if (op.result.status == op_status::value) {
        ASSERT_LT(tag_of(op.result.value), nflows);
        per[tag_of(op.result.value)].ops.push_back(op);
      } else if (op.result.status == op_status::closed) {
        for (auto& h : per) h.ops.push_back(op);  // every flow closed and drained
        ++tot.closed_pop;
      }
    } else if (end == ending::close_all) {
      for (auto& h : per) h.ops.push_back(op);
    } else {
      per[removed_tag].ops.push_back(op);
    }
    tot.ok += op.inserted_ok() ? 1 : 0;
    tot.full += op.result.status == op_status::full ? 1 : 0;
    tot.closed_push += op.inserts() && op.result.status == op_status::closed ? 1 : 0;
    tot.values += op.removed_value() ? 1 : 0;
  }
  for (std::size_t k = 0; k < nflows; ++k) {
    per[k].sort();
    const lc::spec spec = lc::spec::bounded_queue(capacity[k]).full_when_in_flight().drained();
    const lc::result r = lc::check(per[k], spec);
    ASSERT_TRUE(r.linearizable()) << (Single ? "single_consumer" : "multi-consumer") << ", round "
                                  << round << ", flow " << k << " of " << nflows << " (capacity "
                                  << capacity[k] << ")\n"
                                  << r.report();
    ASSERT_EQ(lc::verify_linearization(per[k], spec, r.linearization), "");
    tot.ops += per[k].size();
    tot.states += r.states;
    tot.seconds += r.seconds;
  }
}

template <bool Single>
void lincheck_rounds(std::size_t rounds, std::size_t consumers, std::size_t ops) {
  lincheck_totals tot;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t round = 0; round < rounds; ++round) {
    lincheck_round<Single>(round, consumers, ops, tot);
    if (testing::Test::HasFatalFailure()) return;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Not vacuous: full and closed pushes, pops of values, pops that answered closed.
  EXPECT_GT(tot.full, 0U);
  EXPECT_GT(tot.closed_push, 0U);
  EXPECT_GT(tot.values, 0U);
  EXPECT_GT(tot.closed_pop, 0U);
  std::printf(
      "%s lincheck: %zu rounds, %llu per-flow operations (%llu ok pushes, %llu full, %llu "
      "closed, %llu values popped), all linearizable; %.3f s, checking %.3f s (%llu states)\n",
      Single ? "single_consumer" : "multi-consumer", rounds,
      static_cast<unsigned long long>(tot.ops), static_cast<unsigned long long>(tot.ok),
      static_cast<unsigned long long>(tot.full), static_cast<unsigned long long>(tot.closed_push),
      static_cast<unsigned long long>(tot.values), secs, tot.seconds,
      static_cast<unsigned long long>(tot.states));
}

TEST(DrrSchedulerStress, LincheckSingleConsumer) {
  lincheck_rounds<true>(scaled(24, 6), 1, 300);
}
TEST(DrrSchedulerStress, LincheckTwoConsumers) {
  lincheck_rounds<false>(scaled(24, 6), 2, 300);
}

// ---- flows added and removed while producers push -----------------------------------------

// An epoch reclaimer on a private domain that counts what the scheduler retires and what
// the domain frees.
struct reclaim_counts {
  std::atomic<std::size_t> retired{0};
  std::atomic<std::size_t> freed{0};
};

class counting_reclaimer {
 public:
  class guard_type {
   public:
    guard_type(lockless::epoch_domain& d, reclaim_counts* c) : g_(d), c_(c) {}
    guard_type(const guard_type&) = delete;
    guard_type& operator=(const guard_type&) = delete;
    ~guard_type() = default;

    template <class T>
    [[nodiscard]] T* protect(const lockless::detail::atomic<T*>& src,
                             std::memory_order order) noexcept {
      return g_.protect(src, order);
    }
    template <class T>
    [[nodiscard]] T* protect(const lockless::detail::atomic<T*>& src, T* loaded,
                             std::memory_order order) noexcept {
      return g_.protect(src, loaded, order);
    }
    template <class T>
    void retire(T* p) noexcept {
      retire(p, std::default_delete<T>());
    }
    template <class T, class Deleter>
    void retire(T* p, Deleter deleter) noexcept {
      c_->retired.fetch_add(1, std::memory_order_relaxed);
      reclaim_counts* c = c_;
      g_.retire(p, [deleter, c](T* q) noexcept {
        deleter(q);
        c->freed.fetch_add(1, std::memory_order_relaxed);
      });
    }

   private:
    lockless::epoch_guard g_;
    reclaim_counts* c_;
  };

  counting_reclaimer(lockless::epoch_domain& d, reclaim_counts& c) noexcept : d_(&d), c_(&c) {}
  [[nodiscard]] guard_type pin() const { return guard_type(*d_, c_); }

 private:
  lockless::epoch_domain* d_;
  reclaim_counts* c_;
};

static_assert(lockless::detail::reclaimer<counting_reclaimer>);

struct churn_tag {};
struct churn_nodrain_tag {};

// Flow handles published by one churner: written once, then the count is released.
struct handle_pool {
  std::vector<drr_flow> handles;
  std::atomic<std::size_t> published{0};
};

constexpr std::size_t churners = 2;

struct churn_result {
  std::vector<std::vector<std::uint64_t>> accepted;
  std::vector<std::vector<popped>> got;
  std::vector<drr_flow> flows;  // by tag
  std::size_t removed = 0;
  std::size_t closed_pushes = 0;
  std::size_t errors = 0;
  std::string error_what;
};

// Producers push into recent handles while the churners add flows and remove old ones;
// `consumers` consumers pop. drain: a closer closes once producers and churners are done
// and the consumers pop until closed; otherwise the consumers stop halfway through the
// producers' attempts (producers then give a full flow up after a few retries), and the
// scheduler is destroyed with what is left: removed flows finished and retired in the
// first half, removed flows still holding items in the second.
template <class Tag, bool Single>
void churn(std::size_t consumers, std::size_t flows_per_churner, std::uint64_t per_producer,
           bool drain, reclaim_counts& counts, churn_result& out) {
  using payload = lockless_test::counted<Tag>;
  using sched = drr_scheduler<payload, varied_cost, counting_reclaimer,
                              drr_options{.single_consumer = Single}>;
  constexpr std::size_t live_limit = 6;  // a churner removes its oldest flow beyond this
  constexpr std::size_t window = 10;     // producers pick among the newest handles
  lockless::epoch_domain domain;
  out.accepted.assign(producers, {});
  out.got.assign(consumers, {});
  std::vector<handle_pool> pools(churners);
  for (auto& p : pools) p.handles.resize(flows_per_churner);
  std::vector<std::size_t> removed(churners, 0), closed(producers, 0);
  std::vector<std::size_t> errors(producers + consumers + churners + 1, 0);
  {
    sched s(varied_cost{}, counting_reclaimer(domain, counts));
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<std::size_t> producers_done{0}, churners_done{0};
    const std::uint64_t total_attempts = producers * per_producer;
    const std::size_t threads = producers + consumers + churners + (drain ? 1 : 0);
    watchdog dog("FlowChurn", 60s);
    run_threads(threads, [&](std::size_t t) {
      if (t < producers) {
        xorshift rng(t + 77);
        std::uint64_t n = 0;
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          const std::size_t c = static_cast<std::size_t>(rng.below(churners));
          std::size_t pub = 0;
          while ((pub = pools[c].published.load(std::memory_order_acquire)) == 0) {
            std::this_thread::yield();  // the churner's first flow
          }
          attempts.fetch_add(1, std::memory_order_relaxed);
          const std::size_t j =
              pub - 1 - static_cast<std::size_t>(rng.below(std::min(pub, window)));
          const drr_flow h = pools[c].handles[j];
          const std::size_t tag = c * flows_per_churner + j;
          const std::uint64_t v = make_value(t, tag, n);
          bool ok = false;
          if (drain && t % 2 == 0) {
            ok = s.push(h, payload(v));
            if (!ok) ++closed[t];
          } else {
            // Without a drain the consumer stops early: a full flow is given up soon.
            payload x(v);
            for (int tries = 0;; ++tries) {
              const queue_status st = s.try_push(h, std::move(x));
              if (st == queue_status::success) {
                ok = true;
                break;
              }
              if (x.value() != v) ++errors[t];  // a refused push leaves its argument
              if (st == queue_status::closed) {
                ++closed[t];
                break;
              }
              if (!drain && tries == 3) break;
              std::this_thread::yield();  // full: retry
            }
          }
          if (ok) {
            out.accepted[t].push_back(v);
            ++n;
          }
        }
        producers_done.fetch_add(1, std::memory_order_acq_rel);
      } else if (t < producers + consumers) {
        auto& mine = out.got[t - producers];
        for (std::uint64_t k = 0;; ++k) {
          if (!drain && (attempts.load(std::memory_order_relaxed) >= total_attempts / 2 ||
                         (producers_done.load(std::memory_order_acquire) == producers &&
                          churners_done.load(std::memory_order_acquire) == churners))) {
            break;
          }
          const std::uint64_t call = now_ns();
          if (k % 3 == 2) {
            lockless::queue_result<lockless::drr_item<payload>> r = s.try_pop();
            const std::uint64_t ret = now_ns();
            if (r) {
              mine.push_back({r->value.value(), r->flow, call, ret});
            } else if (r.error() == queue_status::closed) {
              if (!drain) ++errors[t];
              break;
            } else {
              std::this_thread::yield();
            }
          } else if (drain) {
            std::optional<lockless::drr_item<payload>> r = s.pop();
            const std::uint64_t ret = now_ns();
            if (!r) break;
            mine.push_back({r->value.value(), r->flow, call, ret});
          } else {
            lockless::queue_result<lockless::drr_item<payload>> r = s.pop_for(1ms);
            const std::uint64_t ret = now_ns();
            if (r) {
              mine.push_back({r->value.value(), r->flow, call, ret});
            } else if (r.error() == queue_status::closed) {
              ++errors[t];
              break;
            }
          }
        }
      } else if (t < producers + consumers + churners) {
        const std::size_t c = t - producers - consumers;
        handle_pool& pool = pools[c];
        std::size_t oldest_live = 0;
        for (std::size_t j = 0; j < flows_per_churner; ++j) {
          // Spread the churn over the producers' run.
          while (attempts.load(std::memory_order_relaxed) <
                     j * total_attempts / flows_per_churner &&
                 producers_done.load(std::memory_order_acquire) < producers) {
            std::this_thread::yield();
          }
          pool.handles[j] = s.add_flow(static_cast<std::uint32_t>(1 + j % 3), 1 + (j + c) % 3);
          pool.published.store(j + 1, std::memory_order_release);
          if (!s.contains(pool.handles[j])) ++errors[t];
          if (j + 1 - oldest_live > live_limit) {
            const drr_flow old = pool.handles[oldest_live++];
            if (!s.remove_flow(old)) ++errors[t];
            ++removed[c];
            if (s.contains(old) || s.remove_flow(old)) ++errors[t];  // gone, and only once
            if (s.try_push(old, payload(0)) != queue_status::closed) ++errors[t];
          }
        }
        churners_done.fetch_add(1, std::memory_order_acq_rel);
      } else {
        while (producers_done.load(std::memory_order_acquire) < producers ||
               churners_done.load(std::memory_order_acquire) < churners) {
          std::this_thread::yield();
        }
        s.close();
      }
    });
    for (std::size_t c = 0; c < churners; ++c) out.removed += removed[c];
    if (drain) {
      // Closed and drained: every removed flow was finished, hence retired, exactly once.
      const std::size_t r = counts.retired.load();
      if (r != out.removed) {
        out.error_what =
            "retired " + std::to_string(r) + " flows, removed " + std::to_string(out.removed);
      }
    }
  }  // the scheduler is destroyed: what it still held, too
  domain.barrier();  // every thread that retired has exited: their batches are sealed
  for (std::size_t t = 0; t < errors.size(); ++t) out.errors += errors[t];
  for (std::size_t p = 0; p < producers; ++p) out.closed_pushes += closed[p];
  out.flows.resize(churners * flows_per_churner);
  for (std::size_t c = 0; c < churners; ++c) {
    for (std::size_t j = 0; j < flows_per_churner; ++j) {
      out.flows[c * flows_per_churner + j] = pools[c].handles[j];
    }
  }
}

template <bool Single>
void flow_churn(std::size_t consumers) {
  lockless_test::counted<churn_tag>::counters().reset();
  reclaim_counts counts;
  churn_result res;
  const auto t0 = std::chrono::steady_clock::now();
  churn<churn_tag, Single>(consumers, scaled(300, 40), scaled(6000, 400), true, counts, res);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(res.errors, 0U) << "a thread saw an unexpected status or handle answer";
  EXPECT_EQ(res.error_what, "");
  EXPECT_EQ(audit(res.flows, res.accepted, res.got, true), "");
  EXPECT_GT(res.closed_pushes, 0U) << "no push hit a removed flow: the test is vacuous";
  EXPECT_GT(res.removed, 0U);
  EXPECT_EQ(counts.freed.load(), counts.retired.load())
      << "retired flows not freed after the domain's barrier()";
  expect_counted_clean<churn_tag>("FlowChurn");
  std::size_t total = 0;
  for (const auto& g : res.got) total += g.size();
  std::printf(
      "%s churn: %zu flows removed (%zu retired, %zu freed), %zu values delivered, %zu pushes "
      "refused as closed, %.3f s\n",
      Single ? "single_consumer" : "multi-consumer", res.removed, counts.retired.load(),
      counts.freed.load(), total, res.closed_pushes, secs);
}

TEST(DrrSchedulerStress, FlowChurnSingleConsumer) {
  flow_churn<true>(1);
}
TEST(DrrSchedulerStress, FlowChurnTwoConsumers) {
  flow_churn<false>(2);
}

TEST(DrrSchedulerStress, FlowChurnNoDrain) {
  lockless_test::counted<churn_nodrain_tag>::counters().reset();
  reclaim_counts counts;
  churn_result res;
  churn<churn_nodrain_tag, true>(1, scaled(200, 30), scaled(2000, 200), false, counts, res);
  EXPECT_EQ(res.errors, 0U);
  EXPECT_EQ(audit(res.flows, res.accepted, res.got, false), "");
  EXPECT_GT(res.removed, 0U);
  EXPECT_EQ(counts.freed.load(), counts.retired.load());
  expect_counted_clean<churn_nodrain_tag>("FlowChurnNoDrain");
  std::size_t accepted = 0, delivered = 0;
  for (const auto& a : res.accepted) accepted += a.size();
  for (const auto& g : res.got) delivered += g.size();
  // Not vacuous: the scheduler was destroyed holding items.
  EXPECT_GT(accepted, delivered);
  EXPECT_LT(counts.retired.load(), res.removed) << "no removed flow was left unfinished";
  std::printf(
      "no drain: %zu closed, %zu flows removed (%zu retired, %zu freed), %zu values accepted, %zu "
      "delivered, %zu destroyed with the scheduler\n",
      res.closed_pushes, res.removed, counts.retired.load(), counts.freed.load(), accepted,
      delivered, accepted - delivered);
}

// ---- close() while producers and consumers run --------------------------------------------

struct close_tag {};

template <bool Single>
void close_while_running(std::size_t consumers, std::size_t nflows, std::size_t close_after) {
  using payload = lockless_test::counted<close_tag>;
  using sched = drr_scheduler<payload, varied_cost, lockless::epoch_reclaimer,
                              drr_options{.single_consumer = Single}>;
  payload::counters().reset();
  std::vector<std::vector<std::uint64_t>> accepted(producers);
  std::vector<std::vector<popped>> got(consumers);
  std::vector<drr_flow> flows;
  std::vector<std::size_t> errors(producers + consumers + 1, 0);
  bool closed_seen = false;
  {
    sched s;
    for (std::size_t k = 0; k < nflows; ++k) {
      flows.push_back(s.add_flow(static_cast<std::uint32_t>(1 + k % 2), 2));
    }
    std::atomic<std::size_t> popped_count{0};
    watchdog dog("CloseWhileRunning", 60s);
    run_threads(producers + consumers + 1, [&](std::size_t t) {
      if (t < producers) {
        xorshift rng(t + 5);
        for (std::uint64_t i = 0;; ++i) {
          const std::size_t tag = static_cast<std::size_t>(rng.below(nflows));
          const std::uint64_t v = make_value(t, tag, i);
          queue_status st = queue_status::success;
          switch (t % 3) {
            case 0:
              st = s.push(flows[tag], payload(v)) ? queue_status::success : queue_status::closed;
              break;
            case 1:
              do {
                st = s.try_push(flows[tag], payload(v));
                if (st == queue_status::full) std::this_thread::yield();
              } while (st == queue_status::full);
              break;
            default:
              do {
                st = s.push_for(flows[tag], payload(v), 200us);
              } while (st == queue_status::full);
              break;
          }
          if (st == queue_status::success) {
            accepted[t].push_back(v);
            continue;
          }
          if (st != queue_status::closed) ++errors[t];
          // A refusal is final, into every flow.
          for (const drr_flow& f : flows) {
            if (s.try_push(f, payload(0)) != queue_status::closed) ++errors[t];
          }
          break;
        }
      } else if (t < producers + consumers) {
        auto& mine = got[t - producers];
        for (std::uint64_t k = 0;; ++k) {
          const std::uint64_t call = now_ns();
          if (Single || k % 2 == 0) {
            std::optional<lockless::drr_item<payload>> r = s.pop();
            const std::uint64_t ret = now_ns();
            if (!r) break;
            mine.push_back({r->value.value(), r->flow, call, ret});
          } else {
            lockless::queue_result<lockless::drr_item<payload>> r = s.try_pop();
            const std::uint64_t ret = now_ns();
            if (r) {
              mine.push_back({r->value.value(), r->flow, call, ret});
            } else if (r.error() == queue_status::closed) {
              break;
            } else {
              std::this_thread::yield();
              continue;
            }
          }
          popped_count.fetch_add(1, std::memory_order_relaxed);
        }
        if (!stays_closed<Single>(s)) ++errors[t];
      } else {
        while (popped_count.load(std::memory_order_relaxed) < close_after) {
          std::this_thread::yield();
        }
        s.close();
      }
    });
    closed_seen = s.is_closed();
  }
  EXPECT_TRUE(closed_seen);
  for (std::size_t t = 0; t < errors.size(); ++t) {
    EXPECT_EQ(errors[t], 0U) << "thread " << t << " saw an unexpected status";
  }
  // Accepted values are a prefix of each producer's sequence (the refusal was final).
  for (std::size_t p = 0; p < producers; ++p) {
    for (std::size_t i = 0; i < accepted[p].size(); ++i) {
      ASSERT_EQ(n_of(accepted[p][i]), i) << "producer " << p;
    }
  }
  EXPECT_EQ(audit(flows, accepted, got, true), "");
  expect_counted_clean<close_tag>("CloseWhileRunning");
  std::size_t total = 0;
  for (const auto& g : got) total += g.size();
  EXPECT_GE(total, close_after);
  std::printf("%s close while running: %zu values delivered, every consumer saw closed\n",
              Single ? "single_consumer" : "multi-consumer", total);
}

TEST(DrrSchedulerStress, CloseWhileRunningSingleConsumer) {
  close_while_running<true>(1, 5, scaled(20000, 1000));
}
TEST(DrrSchedulerStress, CloseWhileRunningThreeConsumers) {
  close_while_running<false>(3, 5, scaled(20000, 1000));
}

}  // namespace
