// tests/structures/drr_scheduler_scenarios.hpp: scripted runs of drr_scheduler under the
// deterministic scheduler, shared by tests/dsched/drr_scheduler.cpp and the schedule fuzz
// target tests/fuzz/drr_scheduler_sched.cpp (which decodes the scripts and the schedule
// from its input).
//
//   drr_schedule_run<Options>(strat, flows, scripts, opt, &stats)      -> "" or the failure
//   drr_schedule_run_on<Sched>(strat, flows, scripts, opt, &stats, make) the same runner
//                      over another structure with the scheduler's interface (the broken
//                      twins of tests/dsched/drr_scheduler.cpp)
//   parse_drr_script(text, &error), drr_step_text(step)                 the text form
//
// THE RUN
//   A lockless::drr_scheduler<drr_payload, drr_payload_cost, epoch_reclaimer, Options> on
//   its own epoch_domain. `flows` are added before the run (table indices 0, 1, ...);
//   opt.prefill items are pushed into them by the calling thread before the run (recorded,
//   so that a run can start with backlogged flows). scripts[t] is thread t's program in
//   the text form of structures/drr_scheduler_ops.hpp ("i1*3 r d0 a2*1 x s"):
//     i c e    try_push(flow, T&&) / try_push(flow, const T&) / try_emplace(flow, v, cost)
//     r        try_pop(): item | empty | closed | busy
//     P O      blocking push / pop (recorded: closed when push returns false or pop
//              returns nullopt); with may_block = false they run try_push / try_pop
//     p o      push_for / pop_for with a one-hour timeout (a timed wait is a wait in this
//              build: timeouts are not modelled)
//     a        add_flow(quantum, capacity): the new flow takes the next table index
//     d        remove_flow(flow)
//     x        close()
//     s        observers, checked at once: is_closed() never goes back to false on a
//              thread (and is true after the thread's own close), flow_count() never
//              exceeds the flows added or being added, contains(flow) is false once a
//              remove_flow of it returned true and true while none has begun
//   A flow operand k names table entry k % (flows in the table when the step runs).
//   Values are unique_value(t + 1, seq); each item's cost is its step's cost.
//   With opt.closer, one more scheduled thread (id scripts.size()) does nothing but a
//   recorded close(), wherever the schedule puts it: every blocking operation returns.
//   After the scheduled threads end, the calling thread drains with try_pop until it gets
//   something other than an item (recorded).
//
// THE CHECKS (on the recorded history; a precedes b iff a.ret < b.call)
//   - every run finishes (a deadlock: a lost wake-up; a step limit: a livelock);
//   - each popped item was pushed, into the flow the pop names, with the cost it carries,
//     and is popped once; every item whose push succeeded is popped (the drain included);
//   - per flow, FIFO and capacity: the flow's pushes, the pops of its items, and the
//     close() calls and successful remove_flow(flow) calls (as closes) form a history
//     linearizable against spec::bounded_queue(capacity).full_when_in_flight().drained()
//     (support/lincheck.hpp): FIFO in claim order, closed exactly, full relaxed by one
//     slot per overlapping push or pop of the flow (a pop frees its slot after it took
//     the item: the header's [DC1]/[DC3]), nothing lost;
//   - empty: a try_pop that answered empty had no excuse to: for every item x pushed
//     before it began and not taken by a pop that began before it ended, something must
//     have been in flight during the empty pop (begun before it ended, returned after it
//     began) that holds x back:
//       another push into x's flow: the header's documented gap (a producer between
//         claiming [DP3] and publishing [DP4] holds back the items behind it), and the
//         same for a producer between winning the listing [DA2] and handing the flow
//         over [DI1] (later pushes read the flow listed and leave it to that producer;
//         and a push that began after x's returned can be that producer, when the
//         consumer unlists the flow after x's [DA1] read it listed and the consumer's
//         take-back [DA4] loses the listing to it);
//       a close(), or a remove_flow(x's flow) that returned true: the closer lists the
//         flow too ([DX1], then [DA1]/[DA2]); if it wins [DA2] against x's producer and
//         is suspended before [DI1], x is held back the same way (the header's "What
//         empty means" names these windows; DschedDrrScheduler.
//         CloserMidActivationHoldsBackItems pins this case).
//     With none of these, x sat published in a flow that the consumer side must have had
//     listed ([DA1]-[DA4]): an empty answer then is a stranded item;
//   - closed: a pop that answered closed began after some close() began, and every item
//     pushed with success was taken by a pop that began before it ended; the drain ends
//     with closed exactly when close() was called, else with empty;
//   - busy (several consumers only): another thread's pop overlapped;
//   - remove_flow returns true at most once per flow, and false only once a true one began;
//     after the drain flow_count() == flows added - flows removed;
//   - once the scheduler and its domain are gone, every payload was destroyed exactly once
//     and none was used after its destruction (support/counting.hpp canaries).
//   Returns "" or what went wrong, with the recorded history.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <lockless/drr_scheduler.hpp>
#include <lockless/epoch.hpp>
#include <lockless/queue_status.hpp>

#include "support/counting.hpp"
#include "support/dsched.hpp"
#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/values.hpp"
#include "structures/drr_scheduler_ops.hpp"

namespace lockless::test {

// ---- the payload ------------------------------------------------------------------------

struct drr_schedule_tag {};

// An item: a counted value (constructions, destructions and uses after destruction are
// counted, support/counting.hpp) and its cost, which drr_payload_cost reads.
struct drr_payload {
  drr_payload(std::uint64_t v, std::uint32_t c) noexcept : value(v), cost(c) {}
  lockless_test::counted<drr_schedule_tag> value;
  std::uint32_t cost;

  static lockless_test::instance_counters& counters() noexcept {
    return lockless_test::counted<drr_schedule_tag>::counters();
  }
};

struct drr_payload_cost {
  std::uint32_t operator()(const drr_payload& p) const noexcept { return p.cost; }
};

template <drr_options Options = drr_options{}>
using drr_schedule_scheduler =
    lockless::drr_scheduler<drr_payload, drr_payload_cost, epoch_reclaimer, Options>;

// ---- scripts as text ------------------------------------------------------------------

// "i1*3" -> {try_push, flow 1, cost 3}; steps separated by spaces (or not at all).
inline std::vector<drr_scheduler_ops::step> parse_drr_script(const std::string& text,
                                                             std::string* error) {
  using drr_scheduler_ops::op;
  std::vector<drr_scheduler_ops::step> out;
  std::size_t i = 0;
  auto number = [&](std::uint32_t dflt) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return dflt;
    std::uint32_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + static_cast<std::uint32_t>(text[i] - '0');
      ++i;
    }
    return v;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ') {
      ++i;
      continue;
    }
    if (!drr_scheduler_ops::is_op(c)) {
      if (error != nullptr)
        *error = std::string("unknown script letter '") + c + "' in \"" + text + '"';
      return {};
    }
    ++i;
    drr_scheduler_ops::step s;
    s.o = op{c};
    const bool add = s.o == op::add_flow;
    s.flow = number(add ? 1U : 0U);
    s.cost = 1;
    if (i < text.size() && text[i] == '*') {
      ++i;
      s.cost = number(1);
    }
    out.push_back(s);
  }
  return out;
}

inline std::string drr_step_text(const drr_scheduler_ops::step& s) {
  using drr_scheduler_ops::op;
  std::string t(1, drr_scheduler_ops::letter(s.o));
  switch (s.o) {
    case op::try_pop:
    case op::pop:
    case op::pop_for:
    case op::close:
      return t;
    case op::remove_flow:
    case op::observe:
      return t + std::to_string(s.flow);
    default:
      return t + std::to_string(s.flow) + "*" + std::to_string(s.cost);
  }
}

// ---- options, statistics, records ------------------------------------------------------

struct drr_flow_config {
  std::uint32_t quantum = 1;
  std::size_t capacity = 1;
};

struct drr_prefill {
  std::uint32_t flow = 0;
  std::uint32_t cost = 1;
};

struct drr_schedule_options {
  // One more scheduled thread that only closes the scheduler (recorded): every blocking
  // operation returns, whatever the scripts.
  bool closer = false;
  // Items pushed by the calling thread before the run (recorded).
  std::vector<drr_prefill> prefill;
  dsched::options run;  // max_steps, observer, ...
};

// What the recorded history held (the prefill and the drain included).
struct drr_schedule_stats {
  std::size_t pushed = 0;       // pushes that succeeded
  std::size_t popped = 0;       // pops that returned an item
  std::size_t full = 0;         // pushes that answered full
  std::size_t empty = 0;        // pops that answered empty (the drain's included)
  std::size_t busy = 0;         // pops that answered busy
  std::size_t push_closed = 0;  // pushes that answered closed
  std::size_t pop_closed = 0;   // pops that answered closed (the drain's included)
  std::size_t removed = 0;      // remove_flow calls that returned true
  std::size_t added = 0;        // add_flow calls during the run
  std::size_t ops = 0;          // recorded operations

  void add(const drr_schedule_stats& o) noexcept {
    pushed += o.pushed;
    popped += o.popped;
    full += o.full;
    empty += o.empty;
    busy += o.busy;
    push_closed += o.push_closed;
    pop_closed += o.pop_closed;
    removed += o.removed;
    added += o.added;
    ops += o.ops;
  }
  [[nodiscard]] std::string describe() const {
    std::ostringstream os;
    os << pushed << " pushed, " << popped << " popped, " << full << " full, " << empty << " empty, "
       << busy << " busy, " << push_closed << " pushes closed, " << pop_closed << " pops closed, "
       << removed << " flows removed, " << added << " added";
    return os.str();
  }
};

// One recorded operation.
struct drr_record {
  enum class what : std::uint8_t { push, pop, close, remove, add };
  static constexpr std::uint32_t no_flow = std::numeric_limits<std::uint32_t>::max();

  what kind = what::push;
  char letter = '?';
  std::uint32_t thread = 0;
  std::uint32_t seq = 0;  // index among the thread's operations
  std::uint64_t call = 0;
  std::uint64_t ret = 0;
  // push, remove, add: the flow's table index; pop: the table index of the flow the item
  // came from (no_flow without an item, or when the handle named no flow of the run).
  std::uint32_t flow = no_flow;
  std::uint64_t value = 0;  // push: the value offered; pop: the value taken
  std::uint32_t cost = 0;
  // push: success | full | closed; pop: success (an item) | empty | closed | busy;
  // remove: success (true) | closed (false); close, add: success.
  queue_status status = queue_status::success;

  [[nodiscard]] bool pushed_ok() const noexcept {
    return kind == what::push && status == queue_status::success;
  }
  [[nodiscard]] bool popped_item() const noexcept {
    return kind == what::pop && status == queue_status::success;
  }
  [[nodiscard]] std::string text() const {
    std::ostringstream os;
    os << 'T' << thread << " #" << seq << "  " << letter << ' ';
    switch (kind) {
      case what::push:
        os << "push(f" << flow << ", " << format_value(value) << ", cost " << cost << ") -> "
           << to_string(status);
        break;
      case what::pop:
        os << "pop() -> ";
        if (status == queue_status::success) {
          os << "f" << flow << ", " << format_value(value) << ", cost " << cost;
        } else {
          os << to_string(status);
        }
        break;
      case what::close:
        os << "close()";
        break;
      case what::remove:
        os << "remove_flow(f" << flow << ") -> " << (status == queue_status::success);
        break;
      case what::add:
        os << "add_flow() -> f" << flow;
        break;
    }
    std::string s = os.str();
    if (s.size() < 48) s.resize(48, ' ');
    return s + " [call " + std::to_string(call) + ", ret " + std::to_string(ret) + "]";
  }
};

inline std::string drr_history_text(const std::vector<drr_record>& h) {
  std::string s;
  for (const drr_record& r : h) s += r.text() + '\n';
  return s;
}

// ---- the checks ------------------------------------------------------------------------

// The checks of the header comment on a complete history (sorted by call), given each
// flow's capacity. Returns "" or the first violation found.
inline std::string drr_check_history(const std::vector<drr_record>& h,
                                     const std::vector<std::size_t>& capacity,
                                     std::uint32_t history_threads, bool several_consumers,
                                     drr_schedule_stats* stats) {
  using what = drr_record::what;
  drr_schedule_stats st;
  st.ops = h.size();
  const drr_record* first_close = nullptr;
  for (const drr_record& r : h) {
    switch (r.kind) {
      case what::push:
        st.pushed += r.status == queue_status::success ? 1 : 0;
        st.full += r.status == queue_status::full ? 1 : 0;
        st.push_closed += r.status == queue_status::closed ? 1 : 0;
        break;
      case what::pop:
        st.popped += r.status == queue_status::success ? 1 : 0;
        st.empty += r.status == queue_status::empty ? 1 : 0;
        st.busy += r.status == queue_status::busy ? 1 : 0;
        st.pop_closed += r.status == queue_status::closed ? 1 : 0;
        break;
      case what::close:
        if (first_close == nullptr || r.call < first_close->call) first_close = &r;
        break;
      case what::remove:
        st.removed += r.status == queue_status::success ? 1 : 0;
        break;
      case what::add:
        break;
    }
  }
  if (stats != nullptr) *stats = st;

  // Pushes by value; each popped item matched to its push, once.
  std::vector<const drr_record*> pushes;
  for (const drr_record& r : h) {
    if (r.pushed_ok()) pushes.push_back(&r);
  }
  auto push_of = [&](std::uint64_t v) -> const drr_record* {
    for (const drr_record* p : pushes) {
      if (p->value == v) return p;
    }
    return nullptr;
  };
  std::vector<const drr_record*> popper(pushes.size(), nullptr);
  for (const drr_record& r : h) {
    if (!r.popped_item()) continue;
    const drr_record* p = push_of(r.value);
    if (p == nullptr) return "popped a value no successful push inserted: " + r.text();
    if (p->flow != r.flow) {
      return "popped item names another flow than it was pushed into: " + r.text() +
             " (pushed by " + p->text() + ")";
    }
    if (p->cost != r.cost) return "popped item carries another cost: " + r.text();
    const auto at =
        static_cast<std::size_t>(std::find(pushes.begin(), pushes.end(), p) - pushes.begin());
    if (popper[at] != nullptr) {
      return "an item was popped twice: " + popper[at]->text() + " and " + r.text();
    }
    popper[at] = &r;
  }

  for (const drr_record& e : h) {
    if (e.kind != what::pop) continue;
    if (e.status == queue_status::empty) {
      for (std::size_t i = 0; i < pushes.size(); ++i) {
        const drr_record& x = *pushes[i];
        if (!(x.ret < e.call)) continue;  // not surely published before the pop
        if (popper[i] != nullptr && popper[i]->call < e.ret) continue;  // taken by then
        // In flight during the pop: begun before it ended, returned after it began. (Not
        // only a holder that began before x's push returned: a push, close() or
        // remove_flow() that begins after it may still win the listing [DA2] that x's
        // push left to the consumer side, when the consumer unlists the flow after x's
        // [DA1] read it listed and its re-check's take-back [DA4] loses to that holder;
        // DschedDrrScheduler.LaterPushHoldingTheListingHoldsBackAnEarlierItem.)
        auto in_flight = [&](const drr_record& y) { return y.call < e.ret && y.ret > e.call; };
        const bool gap = std::any_of(pushes.begin(), pushes.end(), [&](const drr_record* y) {
          return y != &x && y->flow == x.flow && in_flight(*y);
        });
        const bool activation = std::any_of(h.begin(), h.end(), [&](const drr_record& c) {
          return (c.kind == what::close || (c.kind == what::remove && c.flow == x.flow &&
                                            c.status == queue_status::success)) &&
                 in_flight(c);
        });
        if (!gap && !activation) {
          return "empty while an item was published and listed (a stranded item): " + e.text() +
                 "\n  the item: " + x.text() + "\n  taken by: " +
                 (popper[i] != nullptr ? popper[i]->text() : std::string("nobody, ever"));
        }
      }
    } else if (e.status == queue_status::closed) {
      if (first_close == nullptr || !(first_close->call < e.ret)) {
        return "closed before any close() began: " + e.text();
      }
      for (std::size_t i = 0; i < pushes.size(); ++i) {
        if (popper[i] == nullptr || !(popper[i]->call < e.ret)) {
          return "closed while an item was still to be delivered: " + e.text() +
                 "\n  the item: " + pushes[i]->text() + "\n  taken by: " +
                 (popper[i] != nullptr ? popper[i]->text() : std::string("nobody, ever"));
        }
      }
    } else if (e.status == queue_status::busy) {
      if (!several_consumers) return "busy with a single consumer: " + e.text();
      const bool other = std::any_of(h.begin(), h.end(), [&](const drr_record& o) {
        return o.kind == what::pop && o.thread != e.thread && o.call < e.ret && e.call < o.ret;
      });
      if (!other) return "busy while no other pop overlapped: " + e.text();
    }
  }

  for (std::size_t i = 0; i < pushes.size(); ++i) {
    if (popper[i] == nullptr)
      return "lost: never popped, not even by the drain: " + pushes[i]->text();
  }

  // Per flow: a bounded FIFO with closes.
  for (std::uint32_t f = 0; f < capacity.size(); ++f) {
    history fh;
    fh.threads = history_threads;
    for (const drr_record& r : h) {
      operation o;
      o.call = r.call;
      o.ret = r.ret;
      o.thread = r.thread;
      o.seq = r.seq;
      if (r.kind == what::push && r.flow == f) {
        o.kind = op_kind::enqueue;
        o.arg = r.value;
        o.result = r.status == queue_status::success ? op_result::ok()
                   : r.status == queue_status::full  ? op_result::full()
                                                     : op_result::closed();
      } else if (r.popped_item() && r.flow == f) {
        o.kind = op_kind::dequeue;
        o.result = op_result::of(r.value);
      } else if (r.kind == what::close ||
                 (r.kind == what::remove && r.flow == f && r.status == queue_status::success)) {
        o.kind = op_kind::close;
        o.result = op_result::ok();
      } else {
        continue;
      }
      fh.ops.push_back(o);
    }
    fh.sort();
    const lincheck::spec spec =
        lincheck::spec::bounded_queue(capacity[f]).full_when_in_flight().drained();
    const lincheck::result c = lincheck::check(fh, spec);
    if (!c.linearizable()) {
      return "flow " + std::to_string(f) + ": " + c.report() + "\nspec: " + spec.name() +
             "\nflow history:\n" + fh.to_string();
    }
  }

  // remove_flow: true once per flow, false only once a true one began.
  for (const drr_record& r : h) {
    if (r.kind != what::remove) continue;
    for (const drr_record& o : h) {
      if (&o == &r || o.kind != what::remove || o.flow != r.flow) continue;
      if (r.status == queue_status::success && o.status == queue_status::success) {
        return "remove_flow returned true twice for one flow: " + r.text() + " / " + o.text();
      }
    }
    if (r.status != queue_status::success) {
      const bool earlier = std::any_of(h.begin(), h.end(), [&](const drr_record& o) {
        return o.kind == what::remove && o.flow == r.flow && o.status == queue_status::success &&
               o.call < r.ret;
      });
      if (!earlier) return "remove_flow returned false for a live flow: " + r.text();
    }
  }
  return {};
}

// ---- the runner ----------------------------------------------------------------------

// Runs the scripts on the structure make(domain) builds (Sched: drr_scheduler's interface;
// operations it lacks, e.g. a twin without close(), fail the run with a message). Options
// tell what the structure promises: MayBlock (the blocking forms run; else the try_ forms),
// SingleConsumer (at most one script may pop; busy is never legal).
template <class Sched, bool MayBlock, bool SingleConsumer, class Make>
std::string drr_schedule_run_on(dsched::strategy& strat, const std::vector<drr_flow_config>& flows,
                                const std::vector<std::string>& scripts,
                                const drr_schedule_options& opt, drr_schedule_stats* stats,
                                Make&& make) {
  using drr_scheduler_ops::op;
  using drr_scheduler_ops::step;
  using what = drr_record::what;
  using flow_handle = typename Sched::flow;
  constexpr auto forever = std::chrono::hours(1);

  auto& counters = drr_payload::counters();
  counters.reset();

  const std::size_t n = scripts.size();
  std::vector<std::vector<step>> programs(n);
  std::size_t popping_threads = 0;
  for (std::size_t t = 0; t < n; ++t) {
    std::string error;
    programs[t] = parse_drr_script(scripts[t], &error);
    if (!error.empty()) return error;
    if (std::any_of(programs[t].begin(), programs[t].end(),
                    [](const step& s) { return drr_scheduler_ops::pops(s.o); })) {
      ++popping_threads;
    }
    for (const step& s : programs[t]) {
      if (s.o == op::add_flow && (s.flow == 0 || s.cost == 0)) {
        return "add_flow needs a capacity and a quantum of at least 1: \"" + scripts[t] + '"';
      }
    }
  }
  if (SingleConsumer && popping_threads > 1) {
    return "single_consumer: at most one script may pop (" + std::to_string(popping_threads) +
           " do)";
  }
  if (flows.empty()) return "a run needs at least one flow";

  const std::size_t scheduled = n + (opt.closer ? 1 : 0);
  const std::size_t setup = scheduled;  // the calling thread: prefill, then the drain
  std::vector<std::vector<drr_record>> lanes(scheduled + 1);
  std::vector<std::string> errors(n);
  std::uint64_t clock = 0;  // one thread runs at a time: a plain counter orders the stamps

  // The run's table of flows (one thread runs at a time: plain vectors).
  std::vector<flow_handle> table;
  std::vector<std::size_t> capacity;
  std::vector<bool> remove_started;
  std::vector<bool> removed_done;
  std::size_t adds_started = 0;
  bool any_close = false;

  // On the heap: an abandoned run (deadlock, step limit) leaves threads parked inside
  // them, so they are then leaked on purpose (support/dsched.hpp, RULES).
  auto domain = std::make_unique<epoch_domain>();
  std::unique_ptr<Sched> sched = make(*domain);
  for (const drr_flow_config& fc : flows) {
    table.push_back(sched->add_flow(fc.quantum, fc.capacity));
    capacity.push_back(fc.capacity);
    remove_started.push_back(false);
    removed_done.push_back(false);
  }

  auto record = [&](std::size_t lane, drr_record r, auto&& f) {
    r.thread = static_cast<std::uint32_t>(lane);
    r.seq = static_cast<std::uint32_t>(lanes[lane].size());
    r.call = clock++;
    f(r);
    r.ret = clock++;
    lanes[lane].push_back(r);
    return r;
  };
  auto index_of = [&](const flow_handle& h) -> std::uint32_t {
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (table[i] == h) return static_cast<std::uint32_t>(i);
    }
    return drr_record::no_flow;
  };
  // One pop of any form, recorded.
  auto pop_into = [&](std::size_t lane, char letter, auto&& attempt) {
    drr_record r;
    r.kind = what::pop;
    r.letter = letter;
    return record(lane, r, [&](drr_record& rec) {
      auto res = attempt();
      if (res.has_value()) {
        rec.status = queue_status::success;
        rec.flow = index_of(res->flow);
        rec.value = res->value.value.value();
        rec.cost = res->value.cost;
      } else {
        rec.status = res.error();
      }
    });
  };
  auto try_pop_attempt = [&] { return sched->try_pop(); };

  std::uint64_t prefill_seq = 0;
  for (const drr_prefill& p : opt.prefill) {
    const std::uint32_t f = p.flow % static_cast<std::uint32_t>(table.size());
    const std::uint64_t v = unique_value(setup + 1, prefill_seq++);
    drr_record r;
    r.kind = what::push;
    r.letter = 'i';
    r.flow = f;
    r.value = v;
    r.cost = p.cost;
    record(setup, r, [&](drr_record& rec) {
      rec.status = sched->try_push(table[f], drr_payload(v, p.cost));
    });
  }

  std::vector<std::function<void(unsigned)>> bodies;
  for (std::size_t t = 0; t < n; ++t) {
    bodies.push_back([&, t](unsigned) {
      Sched& s = *sched;
      std::uint64_t seq = 0;
      bool saw_closed = false;
      bool closed_myself = false;
      auto fail = [&](const std::string& why) { errors[t] += why + "\n"; };
      for (const step& st : programs[t]) {
        const std::uint32_t f = st.flow % static_cast<std::uint32_t>(table.size());
        if (drr_scheduler_ops::pushes(st.o)) {
          const std::uint64_t v = unique_value(t + 1, seq++);
          drr_record r;
          r.kind = what::push;
          r.letter = drr_scheduler_ops::letter(st.o);
          r.flow = f;
          r.value = v;
          r.cost = st.cost;
          const flow_handle h = table[f];
          drr_payload arg(v, st.cost);
          bool moved = false;
          record(t, r, [&](drr_record& rec) {
            switch (st.o) {
              case op::try_push_copy:
                if constexpr (requires(const drr_payload& c) { s.try_push(h, c); }) {
                  const drr_payload& c = arg;
                  rec.status = s.try_push(h, c);
                } else {
                  fail("the structure has no try_push(const T&)");
                }
                break;
              case op::try_emplace:
                if constexpr (requires { s.try_emplace(h, v, st.cost); }) {
                  rec.status = s.try_emplace(h, v, st.cost);
                } else {
                  fail("the structure has no try_emplace");
                }
                break;
              case op::push:
                moved = true;
                if constexpr (MayBlock) {
                  rec.status =
                      s.push(h, std::move(arg)) ? queue_status::success : queue_status::closed;
                } else {
                  rec.status = s.try_push(h, std::move(arg));
                }
                break;
              case op::push_for:
                moved = true;
                if constexpr (MayBlock) {
                  rec.status = s.push_for(h, std::move(arg), forever);
                } else {
                  rec.status = s.try_push(h, std::move(arg));
                }
                break;
              default:
                moved = true;
                rec.status = s.try_push(h, std::move(arg));
                break;
            }
          });
          if (moved && lanes[t].back().status != queue_status::success && arg.value.value() != v) {
            fail("a refused push(T&&) changed its argument");
          }
          continue;
        }
        switch (st.o) {
          case op::try_pop:
            (void)pop_into(t, 'r', try_pop_attempt);
            break;
          case op::pop:
            if constexpr (MayBlock) {
              (void)pop_into(t, 'O', [&]() -> lockless::queue_result<typename Sched::item> {
                auto got = s.pop();
                if (!got) return queue_status::closed;
                return lockless::queue_result<typename Sched::item>(std::in_place, std::move(*got));
              });
            } else {
              (void)pop_into(t, 'O', try_pop_attempt);
            }
            break;
          case op::pop_for:
            if constexpr (MayBlock) {
              (void)pop_into(t, 'o', [&] { return s.pop_for(forever); });
            } else {
              (void)pop_into(t, 'o', try_pop_attempt);
            }
            break;
          case op::add_flow: {
            if constexpr (requires { s.add_flow(1U, std::size_t{1}); }) {
              ++adds_started;
              drr_record r;
              r.kind = what::add;
              r.letter = 'a';
              std::optional<flow_handle> h;
              record(t, r, [&](drr_record& rec) {
                h = s.add_flow(st.cost, st.flow);
                rec.flow = static_cast<std::uint32_t>(table.size());
              });
              table.push_back(*h);
              capacity.push_back(st.flow);
              remove_started.push_back(false);
              removed_done.push_back(false);
            } else {
              fail("the structure has no add_flow");
            }
            break;
          }
          case op::remove_flow: {
            if constexpr (requires { s.remove_flow(table[f]); }) {
              remove_started[f] = true;
              drr_record r;
              r.kind = what::remove;
              r.letter = 'd';
              r.flow = f;
              const drr_record done = record(t, r, [&](drr_record& rec) {
                rec.status = s.remove_flow(table[f]) ? queue_status::success : queue_status::closed;
              });
              if (done.status == queue_status::success) removed_done[f] = true;
            } else {
              fail("the structure has no remove_flow");
            }
            break;
          }
          case op::close:
            if constexpr (requires { s.close(); }) {
              any_close = true;
              drr_record r;
              r.kind = what::close;
              r.letter = 'x';
              record(t, r, [&](drr_record&) { s.close(); });
              closed_myself = true;
            } else {
              fail("the structure has no close()");
            }
            break;
          case op::observe:
            if constexpr (requires { s.is_closed(); }) {
              const bool closed_now = s.is_closed();
              if (saw_closed && !closed_now) fail("is_closed() went back to false");
              if (closed_myself && !closed_now)
                fail("is_closed() false after this thread's close()");
              saw_closed = saw_closed || closed_now;
              const bool removed_before = removed_done[f];  // returned before the call
              const bool has = s.contains(table[f]);
              const bool remove_begun = remove_started[f];  // begun before it returned
              if (removed_before && has) fail("contains() true after remove_flow returned true");
              if (!remove_begun && !has) fail("contains() false for a flow nobody removed");
              const std::size_t count = s.flow_count();
              if (count > flows.size() + adds_started) {
                fail("flow_count() = " + std::to_string(count) + " > flows added");
              }
            }
            break;
          default:
            break;
        }
      }
    });
  }
  if (opt.closer) {
    bodies.push_back([&](unsigned) {
      if constexpr (requires { sched->close(); }) {
        any_close = true;
        drr_record r;
        r.kind = what::close;
        r.letter = 'x';
        record(n, r, [&](drr_record&) { sched->close(); });
      }
    });
  }

  const dsched::result run = dsched::run(strat, std::move(bodies), opt.run);
  if (!run.ok()) {
    (void)sched.release();  // parked threads still point into them
    (void)domain.release();
    std::vector<drr_record> h;
    for (const auto& l : lanes) h.insert(h.end(), l.begin(), l.end());
    std::sort(h.begin(), h.end(),
              [](const drr_record& a, const drr_record& b) { return a.call < b.call; });
    return run.report + "history so far:\n" + drr_history_text(h);
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (!errors[t].empty()) return "thread " + std::to_string(t) + ": " + errors[t];
  }

  // The drain: try_pop until something other than an item (bounded: a structure that
  // keeps answering items would otherwise never stop).
  std::size_t offered = opt.prefill.size();
  for (const auto& p : programs) {
    offered += static_cast<std::size_t>(std::count_if(
        p.begin(), p.end(), [](const step& s) { return drr_scheduler_ops::pushes(s.o); }));
  }
  drr_record last;
  for (std::size_t i = 0; i <= offered + 1; ++i) {
    last = pop_into(setup, 'r', try_pop_attempt);
    if (!last.popped_item()) break;
  }

  std::vector<drr_record> h;
  for (const auto& l : lanes) h.insert(h.end(), l.begin(), l.end());
  std::sort(h.begin(), h.end(),
            [](const drr_record& a, const drr_record& b) { return a.call < b.call; });
  const std::uint32_t threads = static_cast<std::uint32_t>(lanes.size());
  drr_schedule_stats st;
  std::string why = drr_check_history(h, capacity, threads, !SingleConsumer, &st);
  st.added = adds_started;
  if (stats != nullptr) *stats = st;
  if (why.empty() && last.popped_item()) why = "the drain never ended";
  if (why.empty()) {
    const queue_status want = any_close ? queue_status::closed : queue_status::empty;
    if (last.status != want) {
      why = std::string("the drain ended with ") + to_string(last.status) + ", not " +
            to_string(want) + (any_close ? " (close() was called)" : " (nothing closed it)");
    }
  }
  if (why.empty()) {
    if constexpr (requires { sched->flow_count(); }) {
      const std::size_t want = table.size() - st.removed;
      if (sched->flow_count() != want) {
        why = "flow_count() = " + std::to_string(sched->flow_count()) + " after the run, not " +
              std::to_string(want);
      }
    }
  }
  if (!why.empty()) return why + "\nhistory:\n" + drr_history_text(h);
  sched.reset();
  domain.reset();  // runs the deleters of retired flows
  if (counters.errors.load() != 0) return "a payload was used after its destruction";
  if (counters.live() != 0) {
    return std::to_string(counters.live()) + " payloads never destroyed (or destroyed twice)";
  }
  return {};
}

// The real scheduler, on its own epoch_domain.
template <drr_options Options = drr_options{}>
std::string drr_schedule_run(dsched::strategy& strat, const std::vector<drr_flow_config>& flows,
                             const std::vector<std::string>& scripts,
                             const drr_schedule_options& opt = {},
                             drr_schedule_stats* stats = nullptr) {
  using sched = drr_schedule_scheduler<Options>;
  return drr_schedule_run_on<sched, Options.may_block, Options.single_consumer>(
      strat, flows, scripts, opt, stats, [](epoch_domain& d) {
        return std::make_unique<sched>(drr_payload_cost{}, epoch_reclaimer(d));
      });
}

}  // namespace lockless::test
