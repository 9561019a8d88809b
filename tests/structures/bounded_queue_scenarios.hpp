// tests/structures/bounded_queue_scenarios.hpp: scripted runs of bounded_queue under the
// deterministic scheduler, shared by tests/dsched/bounded_queue*.cpp and the schedule
// fuzz target tests/fuzz/bounded_queue_sched.cpp (which decodes the scripts and the
// schedule from its input).
//
//   bounded_queue_schedule_run(strat, scripts, capacity)        -> "" or the failure
//   bounded_queue_schedule_run(strat, scripts, capacity, opt, &stats)
//
//   A lockless::bounded_queue<counted payload> of `capacity` (Options: a template
//   argument, default queue_options{}). scripts[t] is thread t's program, one letter per
//   operation of the queue's alphabet (structures/bounded_queue_ops.hpp):
//     i c e    try_push(T&&) / try_push(const T&) / try_emplace(v): success|full|closed
//     r        try_pop(): value|empty|closed
//     P        push(T&&) (blocking): ok, or closed when it returns false
//     O        pop() (blocking): value, or closed when it returns nullopt
//     p o      push_for / pop_for with a one-hour timeout (in this build a timed wait is
//              a wait: timeouts are not modelled), recorded with their status
//     I        try_push_bulk of 2 values; R  try_pop_bulk of at most 2 (see BULK below)
//     x        close(), recorded
//     s        observers: capacity() == capacity, size_approx() <= capacity, and
//              is_closed() never goes back to false on a thread (not recorded)
//   Inserted values are unique_value(t + 1, seq) (nonzero, unique by construction).
//   With opt.closer, one more scheduled thread (id scripts.size()) does nothing but a
//   recorded close(), at whatever point the schedule puts it: every blocking operation
//   then returns, whatever the scripts (without it, a script whose blocking operation
//   nobody releases ends in a deadlock report, which is a failure).
//   After the scheduled threads end, the calling thread drains with try_pop until it gets
//   something other than a value (recorded, so the history is complete), and the history
//   is checked against lc::spec::bounded_queue(capacity).full_when_in_flight().drained()
//   (FIFO, exact empty and closed; full relaxed by one slot per overlapping operation:
//   the header's documented guarantee). Then the queue is destroyed and every payload
//   must have been destroyed exactly once, and none used after its destruction.
//
//   Returns "" or what went wrong: the run's report (deadlock, step limit), an observer
//   violation, the checker's report with the history, or a payload count error.
//
// BULK. A bulk call is several operations, each its own (others may interleave); the
//   recorder can only stamp the whole call. Each element operation (the pushed values and
//   the refused one, the popped values) is recorded with the whole call's interval, on a
//   history thread of its own (ids after the drain's), so the checker may order them
//   anywhere inside the call: weaker than per-element intervals, and sound. A refused
//   bulk element is recorded as closed if is_closed() (read inside the interval) says so,
//   else full: closed is permanent, so a closed refusal always reads true, and a full
//   refusal that reads true is legal as closed at a point after the close. A try_pop_bulk
//   that stops on empty/closed does not record that last try_pop (it changes nothing and
//   holds no slot, so leaving it out keeps every witness the checker needs).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lockless/bounded_queue.hpp>

#include "support/counting.hpp"
#include "support/dsched.hpp"
#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/values.hpp"
#include "structures/bounded_queue_ops.hpp"

namespace lockless::test {

struct bounded_queue_schedule_tag {};
using bounded_queue_payload = lockless_test::counted<bounded_queue_schedule_tag>;

struct bounded_queue_schedule_options {
  // One more scheduled thread that only closes the queue (recorded): every blocking
  // operation returns, whatever the scripts.
  bool closer = false;
  // max_steps etc. (a livelock is a step_limit report). Pooled threads: the queue keeps
  // no per-thread state, so a new OS thread per run (and under ASan its fake stack) would
  // only cost time.
  dsched::options run = dsched::pooled_threads();
};

// What the recorded history held (counted after the run; the drain included). A scenario
// meant to reach full, empty or closed can check that it does.
struct bounded_queue_schedule_stats {
  std::size_t pushed = 0;  // inserts that returned ok
  std::size_t popped = 0;  // removes that returned a value
  std::size_t full = 0;    // inserts that returned full
  std::size_t empty = 0;   // removes that returned empty (the drain's last one included)
  std::size_t closed = 0;  // inserts or removes that returned closed
  std::size_t ops = 0;     // recorded operations
  // 1 if the history needed the relaxed full: linearizable against the spec above but not
  // against spec::bounded_queue(capacity).drained() with an exact full (a full answered
  // while another operation held a slot). Only computed when stats are asked for.
  std::size_t needed_relaxed_full = 0;
};

namespace detail {

template <class R>
op_result bounded_queue_pop_result(const R& r) {
  if (r) return op_result::of(r->value());
  return op_result::from_status(r.error(), 0, true);
}

inline bounded_queue_schedule_stats bounded_queue_count(const history& h) {
  bounded_queue_schedule_stats s;
  s.ops = h.size();
  for (const operation& op : h.ops) {
    switch (op.result.status) {
      case op_status::ok:
        s.pushed += op.inserts() ? 1 : 0;
        break;
      case op_status::value:
        ++s.popped;
        break;
      case op_status::full:
        ++s.full;
        break;
      case op_status::empty:
        ++s.empty;
        break;
      case op_status::closed:
        ++s.closed;
        break;
    }
  }
  return s;
}

}  // namespace detail

template <queue_options Options = queue_options{}>
std::string bounded_queue_schedule_run(dsched::strategy& strat,
                                       const std::vector<std::string>& scripts,
                                       std::size_t capacity,
                                       const bounded_queue_schedule_options& opt = {},
                                       bounded_queue_schedule_stats* stats = nullptr) {
  using payload = bounded_queue_payload;
  using queue = lockless::bounded_queue<payload, std::allocator<payload>, Options>;
  using bounded_queue_ops::op;
  constexpr auto forever = std::chrono::hours(1);
  constexpr std::size_t bulk = 2;

  auto& counters = payload::counters();
  counters.reset();

  const std::size_t n = scripts.size();
  const std::size_t scheduled = n + (opt.closer ? 1 : 0);
  const std::size_t drainer = scheduled;
  std::vector<std::size_t> lane_capacity(scheduled + 1, 1);
  std::size_t inserts = 0;
  for (std::size_t t = 0; t < n; ++t) {
    lane_capacity[t] = scripts[t].size();
    for (char c : scripts[t]) {
      switch (op{c}) {
        case op::push_bulk:
          inserts += bulk;
          break;
        case op::try_push:
        case op::try_push_copy:
        case op::try_emplace:
        case op::push:
        case op::push_for:
          ++inserts;
          break;
        default:
          break;
      }
    }
  }
  lane_capacity[drainer] = inserts + 1;
  recorder rec(lane_capacity);
  // Bulk element operations, per scripted thread (given their own history threads later).
  std::vector<std::vector<operation>> bulk_ops(n);
  std::vector<std::string> errors(n);

  // On the heap: an abandoned run (deadlock, step limit) leaves threads parked inside it,
  // so it is then leaked on purpose (support/dsched.hpp, RULES).
  auto q = std::make_unique<queue>(capacity);

  std::vector<std::function<void(unsigned)>> bodies;
  for (std::size_t t = 0; t < n; ++t) {
    bodies.push_back([&, t](unsigned) {
      queue& qq = *q;
      std::uint64_t seq = 0;
      bool saw_closed = false;
      auto record_bulk = [&](op_kind kind, std::uint64_t arg, op_result r, std::uint64_t call) {
        operation o;
        o.call = call;
        o.kind = kind;
        o.arg = arg;
        o.result = r;
        bulk_ops[t].push_back(o);  // ret set by the caller
      };
      for (char c : scripts[t]) {
        switch (op{c}) {
          case op::try_push: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            rec.record(t, op_kind::enqueue, v, [&] { return qq.try_push(payload(v)); });
            break;
          }
          case op::try_push_copy: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            const payload p(v);
            rec.record(t, op_kind::enqueue, v, [&] { return qq.try_push(p); });
            break;
          }
          case op::try_emplace: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            rec.record(t, op_kind::enqueue, v, [&] { return qq.try_emplace(v); });
            break;
          }
          case op::try_pop:
            rec.record(t, op_kind::dequeue, 0,
                       [&] { return detail::bounded_queue_pop_result(qq.try_pop()); });
            break;
          case op::push: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            rec.record(t, op_kind::enqueue, v, [&] {
              if constexpr (Options.may_block) {
                return qq.push(payload(v)) ? op_result::ok() : op_result::closed();
              } else {
                return op_result::from_status(qq.try_push(payload(v)));
              }
            });
            break;
          }
          case op::pop:
            rec.record(t, op_kind::dequeue, 0, [&] {
              if constexpr (Options.may_block) {
                std::optional<payload> p = qq.pop();
                return p ? op_result::of(p->value()) : op_result::closed();
              } else {
                return detail::bounded_queue_pop_result(qq.try_pop());
              }
            });
            break;
          case op::push_for: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            rec.record(t, op_kind::enqueue, v, [&] {
              if constexpr (Options.may_block) {
                return op_result::from_status(qq.push_for(payload(v), forever));
              } else {
                return op_result::from_status(qq.try_push(payload(v)));
              }
            });
            break;
          }
          case op::pop_for:
            rec.record(t, op_kind::dequeue, 0, [&] {
              if constexpr (Options.may_block) {
                return detail::bounded_queue_pop_result(qq.pop_for(forever));
              } else {
                return detail::bounded_queue_pop_result(qq.try_pop());
              }
            });
            break;
          case op::push_bulk: {
            std::vector<payload> items;
            std::vector<std::uint64_t> values;
            for (std::size_t k = 0; k < bulk; ++k) {
              values.push_back(unique_value(t + 1, seq++));
              items.emplace_back(values.back());
            }
            const std::size_t first = bulk_ops[t].size();
            const std::uint64_t call = rec.stamp();
            const std::size_t pushed = qq.try_push_bulk(items.begin(), items.end());
            for (std::size_t k = 0; k < pushed && k < bulk; ++k) {
              record_bulk(op_kind::enqueue, values[k], op_result::ok(), call);
            }
            if (pushed < bulk) {
              record_bulk(op_kind::enqueue, values[pushed],
                          qq.is_closed() ? op_result::closed() : op_result::full(), call);
            }
            const std::uint64_t ret = rec.stamp();
            for (std::size_t k = first; k < bulk_ops[t].size(); ++k) bulk_ops[t][k].ret = ret;
            break;
          }
          case op::pop_bulk: {
            std::vector<payload> out;
            const std::size_t first = bulk_ops[t].size();
            const std::uint64_t call = rec.stamp();
            const std::size_t popped = qq.try_pop_bulk(std::back_inserter(out), bulk);
            const std::uint64_t ret = rec.stamp();
            if (popped != out.size() || popped > bulk) {
              errors[t] += "try_pop_bulk returned " + std::to_string(popped) + " but wrote " +
                           std::to_string(out.size()) + "\n";
            }
            for (const payload& p : out) {
              record_bulk(op_kind::dequeue, 0, op_result::of(p.value()), call);
            }
            for (std::size_t k = first; k < bulk_ops[t].size(); ++k) bulk_ops[t][k].ret = ret;
            break;
          }
          case op::close:
            rec.record(t, op_kind::close, 0, [&] { qq.close(); });
            break;
          case op::observe: {
            if (qq.capacity() != capacity) errors[t] += "capacity() changed\n";
            if (qq.size_approx() > capacity) errors[t] += "size_approx() > capacity()\n";
            const bool closed_now = qq.is_closed();
            if (saw_closed && !closed_now) errors[t] += "is_closed() went back to false\n";
            saw_closed = saw_closed || closed_now;
            break;
          }
          default:
            errors[t] += std::string("unknown script letter '") + c + "'\n";
            break;
        }
      }
    });
  }
  if (opt.closer) {
    bodies.push_back([&](unsigned) {
      queue& qq = *q;
      rec.record(n, op_kind::close, 0, [&] { qq.close(); });
    });
  }

  const dsched::result r = dsched::run(strat, std::move(bodies), opt.run);
  if (!r.ok()) {
    (void)q.release();  // parked threads still point into it
    return r.report;
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (!errors[t].empty()) return "thread " + std::to_string(t) + ": " + errors[t];
  }
  for (;;) {
    const op_result got = rec.record(drainer, op_kind::dequeue, 0, [&] {
      return detail::bounded_queue_pop_result(q->try_pop());
    });
    if (got.status != op_status::value) break;
  }
  history h = rec.merged();
  for (std::size_t t = 0; t < n; ++t) {
    for (operation o : bulk_ops[t]) {
      o.thread = h.threads++;
      o.seq = 0;
      h.ops.push_back(o);
    }
  }
  h.sort();
  if (stats != nullptr) *stats = detail::bounded_queue_count(h);
  const lincheck::spec spec =
      lincheck::spec::bounded_queue(capacity).full_when_in_flight().drained();
  const lincheck::result c = lincheck::check(h, spec);
  if (!c.linearizable()) {
    return c.report() + "\nspec: " + spec.name() + "\nhistory:\n" + h.to_string();
  }
  if (stats != nullptr && stats->full != 0) {
    const lincheck::spec exact_full = lincheck::spec::bounded_queue(capacity).drained();
    stats->needed_relaxed_full = lincheck::check(h, exact_full).linearizable() ? 0 : 1;
  }
  q.reset();
  if (counters.errors.load() != 0) return "a payload was used after its destruction";
  if (counters.live() != 0) {
    return std::to_string(counters.live()) + " payloads never destroyed (or destroyed twice)";
  }
  return {};
}

}  // namespace lockless::test
