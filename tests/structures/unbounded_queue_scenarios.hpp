// tests/structures/unbounded_queue_scenarios.hpp: scripted runs of unbounded_queue under
// the deterministic scheduler, shared by tests/dsched/unbounded_queue*.cpp and the schedule
// fuzz target tests/fuzz/unbounded_queue_sched.cpp (which decodes the scripts and the
// schedule from its input).
//
//   unbounded_queue_schedule_run(strat, scripts)                 -> "" or the failure
//   unbounded_queue_schedule_run<Options>(strat, scripts, opt, &stats)
//
//   A lockless::unbounded_queue<payload, epoch_reclaimer, counting allocator, Options>
//   (Options default: segment_size 2, so that every other push crosses a segment
//   boundary) on its own epoch_domain. scripts[t] is thread t's program, one letter per
//   operation of the queue's alphabet (structures/unbounded_queue_ops.hpp):
//     i c e    try_push(T&&) / try_push(const T&) / try_emplace(v): success|closed
//     P E      push(T&&) / emplace(v) (never wait): ok, or closed when they return false
//     p        push_for(T&&, one hour): success|closed at once (never waits)
//     r        try_pop(): value|empty|closed
//     O        pop() (blocking): value, or closed when it returns nullopt
//     o        pop_for(one hour) (in this build a timed wait is a wait: timeouts are not
//              modelled), recorded with its status
//     I        try_push_bulk of 2 values; R  try_pop_bulk of at most 2 (see BULK below)
//     x        close(), recorded
//     s        observers: is_closed() never goes back to false on a thread, size_approx()
//              answers (it takes a guard) and is at most the values offered so far plus
//              the cells pops may have burned (not recorded)
//   and one letter that is not the queue's:
//     F        flush() of the queue's epoch_domain (seals this thread's retired segments
//              and frees what is safe: the reclamation runs inside the schedule)
//   Inserted values are unique_value(t + 1, seq) (nonzero, unique by construction).
//   A push that reports closed must leave its argument as it was (checked for the T&&
//   forms: the payload marks a moved-from object, so an argument moved into a burned cell
//   and not moved back is seen), and a push never reports anything but success or closed.
//   With opt.closer, one more scheduled thread (id scripts.size()) does nothing but a
//   recorded close(), at whatever point the schedule puts it: every blocking pop then
//   returns, whatever the scripts (without it, a pop that nobody releases ends in a
//   deadlock report, which is a failure).
//   After the scheduled threads end: size_approx() (quiescent) is at least what the drain
//   then finds, and exactly that when no push reported closed (a push refused by [UC2]
//   holds a ticket it never fills, which the counters still count). The calling thread
//   drains with try_pop until it gets something other than a value (recorded, so the
//   history is complete), and the history is checked against
//   lc::spec::queue().drained() (unbounded FIFO: every answer exact). Then the queue and
//   its domain are destroyed: every payload must have been destroyed exactly once, none
//   used after its destruction, and every segment the counting allocator handed out must
//   have come back exactly once (the shared segment cache and every retired segment
//   included).
//
//   Returns "" or what went wrong: the run's report (deadlock, step limit), an observer or
//   argument violation, the checker's report with the history, or a payload or segment
//   count error. An abandoned run (deadlock, step limit) leaks the queue and its domain on
//   purpose (support/dsched.hpp, RULES).
//
// BULK. As in bounded_queue_scenarios.hpp: each element operation of a bulk call is
//   recorded with the whole call's interval on a history thread of its own (ids after the
//   drain's), so the checker may order it anywhere inside the call. A refused bulk element
//   can only be refused as closed. A try_pop_bulk that stops on empty/closed does not
//   record that last try_pop.
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

#include <lockless/epoch.hpp>
#include <lockless/unbounded_queue.hpp>

#include "support/counting.hpp"
#include "support/dsched.hpp"
#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/values.hpp"
#include "structures/unbounded_queue_ops.hpp"

namespace lockless::test {

// A copyable counted value whose moved-from state is visible (value() == moved_from), so
// that a push that reports closed can be checked to have given its argument back.
// (lockless_test::counted keeps its value when moved from; move_only is not copyable.)
template <class Tag>
class uq_payload : public lockless_test::detail::canaried<Tag> {
  using base = lockless_test::detail::canaried<Tag>;

 public:
  static constexpr std::uint64_t moved_from = ~std::uint64_t{0};
  explicit uq_payload(std::uint64_t v = 0) noexcept : value_(v) {}
  uq_payload(const uq_payload& o) noexcept : base(), value_(o.value()) {}
  uq_payload(uq_payload&& o) noexcept : base(), value_(o.value()) { o.value_ = moved_from; }
  uq_payload& operator=(const uq_payload& o) noexcept {
    this->check();
    value_ = o.value();
    return *this;
  }
  uq_payload& operator=(uq_payload&& o) noexcept {
    this->check();
    value_ = o.value();
    o.value_ = moved_from;
    return *this;
  }
  ~uq_payload() = default;
  [[nodiscard]] std::uint64_t value() const noexcept {
    this->check();
    return value_;
  }

 private:
  std::uint64_t value_;
};

// Allocations of one queue (its segments and its segment cache), through
// segment_counting_allocator. Plain counters: a scheduled run executes one thread at a
// time, and the set-up and the checks run outside it.
struct uq_alloc_stats {
  long allocations = 0;
  long deallocations = 0;
  long live_bytes = 0;
};

template <class T>
struct segment_counting_allocator {
  using value_type = T;
  uq_alloc_stats* stats;
  explicit segment_counting_allocator(uq_alloc_stats* s) noexcept : stats(s) {}
  template <class U>
  segment_counting_allocator(const segment_counting_allocator<U>& o) noexcept  // NOLINT
      : stats(o.stats) {}
  T* allocate(std::size_t n) {
    T* p = std::allocator<T>().allocate(n);
    ++stats->allocations;
    stats->live_bytes += static_cast<long>(n * sizeof(T));
    return p;
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ++stats->deallocations;
    stats->live_bytes -= static_cast<long>(n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const segment_counting_allocator& a,
                         const segment_counting_allocator<U>& b) noexcept {
    return a.stats == b.stats;
  }
};

struct unbounded_queue_schedule_tag {};
using unbounded_queue_payload = uq_payload<unbounded_queue_schedule_tag>;

// The segment size of the schedule runs: every other push crosses a segment boundary.
inline constexpr unbounded_queue_options unbounded_queue_small_segments{.segment_size = 2};

struct unbounded_queue_schedule_options {
  // One more scheduled thread that only closes the queue (recorded): every blocking
  // pop returns, whatever the scripts.
  bool closer = false;
  dsched::options run;  // max_steps etc. (a livelock is a step_limit report)
};

// What the recorded history held (counted after the run; the drain included), and what
// each scripted thread's recorded operations answered, in order: 'o' a push's success,
// 'v' a value, 'e' empty, 'c' closed, 'x' a close (bulk elements are not in it).
struct unbounded_queue_schedule_stats {
  std::size_t pushed = 0;       // inserts that returned ok
  std::size_t popped = 0;       // removes that returned a value
  std::size_t empty = 0;        // removes that returned empty (the drain's last one included)
  std::size_t closed = 0;       // inserts or removes that returned closed
  std::size_t push_closed = 0;  // inserts that returned closed
  std::size_t ops = 0;          // recorded operations
  long segments = 0;            // allocations by the queue's allocator (segments and the cache)
  std::vector<std::string> answers;
};

namespace detail {

template <class R>
op_result unbounded_queue_pop_result(const R& r) {
  if (r) return op_result::of(r->value());
  return op_result::from_status(r.error(), 0, true);
}

inline void unbounded_queue_count(const history& h, unbounded_queue_schedule_stats& s) {
  s.ops = h.size();
  for (const operation& op : h.ops) {
    switch (op.result.status) {
      case op_status::ok:
        s.pushed += op.inserts() ? 1 : 0;
        break;
      case op_status::value:
        ++s.popped;
        break;
      case op_status::empty:
        ++s.empty;
        break;
      case op_status::closed:
        ++s.closed;
        s.push_closed += op.inserts() ? 1 : 0;
        break;
      case op_status::full:
        break;  // never (the checker rejects it: the spec is unbounded)
    }
  }
}

inline char unbounded_queue_answer(const op_result& r, op_kind kind) {
  switch (r.status) {
    case op_status::ok:
      return kind == op_kind::close ? 'x' : 'o';
    case op_status::value:
      return 'v';
    case op_status::empty:
      return 'e';
    case op_status::closed:
      return 'c';
    case op_status::full:
      return 'f';
  }
  return '?';
}

}  // namespace detail

template <unbounded_queue_options Options = unbounded_queue_small_segments>
std::string unbounded_queue_schedule_run(dsched::strategy& strat,
                                         const std::vector<std::string>& scripts,
                                         const unbounded_queue_schedule_options& opt = {},
                                         unbounded_queue_schedule_stats* stats = nullptr) {
  using payload = unbounded_queue_payload;
  using allocator = segment_counting_allocator<payload>;
  using queue = lockless::unbounded_queue<payload, epoch_reclaimer, allocator, Options>;
  using unbounded_queue_ops::op;
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
    for (char c : scripts[t]) inserts += unbounded_queue_ops::pushes(op{c}, bulk);
  }
  lane_capacity[drainer] = inserts + 1;
  recorder rec(lane_capacity);
  std::vector<std::vector<operation>> bulk_ops(n);
  std::vector<std::string> errors(n);
  std::vector<std::string> answers(n);
  std::size_t offered = 0;  // values offered so far (one thread runs at a time)
  std::size_t pops = 0;     // pop operations started so far

  // On the heap: an abandoned run leaves threads parked inside them (leaked on purpose).
  auto alloc_stats = std::make_unique<uq_alloc_stats>();
  auto domain = std::make_unique<epoch_domain>();
  auto q = std::make_unique<queue>(epoch_reclaimer(*domain), allocator(alloc_stats.get()));
  if (alloc_stats->allocations != 2) {  // the cache block and the first segment
    return "the constructor made " + std::to_string(alloc_stats->allocations) +
           " allocations, not 2 (the segment cache and one segment)";
  }

  std::vector<std::function<void(unsigned)>> bodies;
  for (std::size_t t = 0; t < n; ++t) {
    bodies.push_back([&, t](unsigned) {
      queue& qq = *q;
      std::uint64_t seq = 0;
      bool saw_closed = false;
      auto answer = [&](const op_result& r, op_kind kind) {
        answers[t] += detail::unbounded_queue_answer(r, kind);
        if (is_insert(kind) && r.status != op_status::ok && r.status != op_status::closed) {
          errors[t] += "a push answered neither success nor closed\n";
        }
      };
      // A push of a moved argument: on closed the argument must hold its value again.
      auto push_moved = [&](std::uint64_t v, auto&& call) {
        ++offered;
        payload arg(v);
        const op_result r = rec.record(t, op_kind::enqueue, v, [&] { return call(arg); });
        if (r.status == op_status::closed && arg.value() != v) {
          errors[t] += "a push that reported closed did not give its argument back\n";
        }
        answer(r, op_kind::enqueue);
      };
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
          case op::try_push:
            push_moved(unique_value(t + 1, seq++), [&](payload& a) {
              return op_result::from_status(qq.try_push(std::move(a)));
            });
            break;
          case op::push:
            push_moved(unique_value(t + 1, seq++), [&](payload& a) {
              return qq.push(std::move(a)) ? op_result::ok() : op_result::closed();
            });
            break;
          case op::push_for:
            push_moved(unique_value(t + 1, seq++), [&](payload& a) {
              return op_result::from_status(qq.push_for(std::move(a), forever));
            });
            break;
          case op::try_push_copy: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            ++offered;
            const payload p(v);
            answer(rec.record(t, op_kind::enqueue, v,
                              [&] { return op_result::from_status(qq.try_push(p)); }),
                   op_kind::enqueue);
            break;
          }
          case op::try_emplace: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            ++offered;
            answer(rec.record(t, op_kind::enqueue, v,
                              [&] { return op_result::from_status(qq.try_emplace(v)); }),
                   op_kind::enqueue);
            break;
          }
          case op::emplace: {
            const std::uint64_t v = unique_value(t + 1, seq++);
            ++offered;
            answer(
                rec.record(t, op_kind::enqueue, v,
                           [&] { return qq.emplace(v) ? op_result::ok() : op_result::closed(); }),
                op_kind::enqueue);
            break;
          }
          case op::try_pop:
            ++pops;
            answer(rec.record(t, op_kind::dequeue, 0,
                              [&] { return detail::unbounded_queue_pop_result(qq.try_pop()); }),
                   op_kind::dequeue);
            break;
          case op::pop:
            ++pops;
            answer(rec.record(t, op_kind::dequeue, 0,
                              [&] {
                                if constexpr (Options.may_block) {
                                  std::optional<payload> p = qq.pop();
                                  return p ? op_result::of(p->value()) : op_result::closed();
                                } else {
                                  return detail::unbounded_queue_pop_result(qq.try_pop());
                                }
                              }),
                   op_kind::dequeue);
            break;
          case op::pop_for:
            ++pops;
            answer(rec.record(t, op_kind::dequeue, 0,
                              [&] {
                                if constexpr (Options.may_block) {
                                  return detail::unbounded_queue_pop_result(qq.pop_for(forever));
                                } else {
                                  return detail::unbounded_queue_pop_result(qq.try_pop());
                                }
                              }),
                   op_kind::dequeue);
            break;
          case op::push_bulk: {
            std::vector<payload> items;
            std::vector<std::uint64_t> values;
            for (std::size_t k = 0; k < bulk; ++k) {
              values.push_back(unique_value(t + 1, seq++));
              items.emplace_back(values.back());
            }
            offered += bulk;
            const std::size_t first = bulk_ops[t].size();
            const std::uint64_t call = rec.stamp();
            const std::size_t pushed = qq.try_push_bulk(items.begin(), items.end());
            for (std::size_t k = 0; k < pushed && k < bulk; ++k) {
              record_bulk(op_kind::enqueue, values[k], op_result::ok(), call);
            }
            if (pushed < bulk) {
              // Only closed refuses; the refused element keeps its value.
              record_bulk(op_kind::enqueue, values[pushed], op_result::closed(), call);
              if (items[pushed].value() != values[pushed]) {
                errors[t] += "try_push_bulk moved from the element it could not push\n";
              }
            }
            const std::uint64_t ret = rec.stamp();
            for (std::size_t k = first; k < bulk_ops[t].size(); ++k) bulk_ops[t][k].ret = ret;
            break;
          }
          case op::pop_bulk: {
            pops += bulk;
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
            answers[t] += 'x';
            break;
          case op::observe: {
            // Counted: every offered value and, at most, one burned cell per pop ticket;
            // pops are bounded by the tickets they find, so offered + pops bounds it.
            const std::size_t size = qq.size_approx();
            if (size > offered + pops) {
              errors[t] += "size_approx() = " + std::to_string(size) + " > " +
                           std::to_string(offered) + " values offered + " + std::to_string(pops) +
                           " pops\n";
            }
            const bool closed_now = qq.is_closed();
            if (saw_closed && !closed_now) errors[t] += "is_closed() went back to false\n";
            saw_closed = saw_closed || closed_now;
            break;
          }
          default:
            if (c == 'F') {
              domain->flush();
            } else {
              errors[t] += std::string("unknown script letter '") + c + "'\n";
            }
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
    // Parked threads still point into them.
    (void)q.release();
    (void)domain.release();
    (void)alloc_stats.release();
    return r.report;
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (!errors[t].empty()) return "thread " + std::to_string(t) + ": " + errors[t];
  }
  const std::size_t approx = q->size_approx();
  std::size_t drained = 0;
  for (;;) {
    const op_result got = rec.record(drainer, op_kind::dequeue, 0, [&] {
      return detail::unbounded_queue_pop_result(q->try_pop());
    });
    if (got.status != op_status::value) break;
    ++drained;
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
  unbounded_queue_schedule_stats st;
  detail::unbounded_queue_count(h, st);
  st.segments = alloc_stats->allocations;
  st.answers = answers;
  if (stats != nullptr) *stats = st;
  const lincheck::spec spec = lincheck::spec::queue().drained();
  const lincheck::result c = lincheck::check(h, spec);
  if (!c.linearizable()) {
    return c.report() + "\nspec: " + spec.name() + "\nhistory:\n" + h.to_string();
  }
  if (approx < drained || (st.push_closed == 0 && approx != drained)) {
    return "quiescent size_approx() = " + std::to_string(approx) + ", but the drain found " +
           std::to_string(drained) + "\nhistory:\n" + h.to_string();
  }
  q.reset();
  domain.reset();  // runs the deleters of every retired segment: into the cache, or freed
  if (counters.errors.load() != 0) return "a payload was used after its destruction";
  if (counters.live() != 0) {
    return std::to_string(counters.live()) + " payloads never destroyed (or destroyed twice)";
  }
  if (alloc_stats->allocations != alloc_stats->deallocations || alloc_stats->live_bytes != 0) {
    return "the queue's allocator: " + std::to_string(alloc_stats->allocations) + " allocations, " +
           std::to_string(alloc_stats->deallocations) + " deallocations, " +
           std::to_string(alloc_stats->live_bytes) +
           " bytes still held after the queue and its domain are gone";
  }
  return {};
}

}  // namespace lockless::test
