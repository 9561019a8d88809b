// tests/relacy/drr_scheduler_scenarios.hpp: Relacy scenarios of lockless::drr_scheduler,
// shared by drr_scheduler.cpp (the real header) and drr_scheduler_mutants.cpp (broken copies
// of it, see drr_scheduler_mutants.cmake).
//
// Every scenario builds a private epoch_domain and its scheduler in before() (flows 0 and,
// with two flows, 1, of a small capacity) and destroys both in after(), so every execution
// starts from scratch and Relacy's leak check covers the flows (their rings, the elements
// left in them), the retired flows and the table. Each thread runs a fixed script (a string
// of letters):
//   a  try_push(flow 0, T&&)      b  try_push(flow 1, T&&)     e  try_emplace(flow 0, id)
//   r  try_pop()                  P  push(flow 0, T&&) (blocking; may_block scenarios only)
//   O  pop() (blocking)           d  remove_flow(flow 0)       x  close()
//   f  epoch_domain::flush(): seals the thread's retired flows, tries to advance the epoch
//      and runs the deleters that are due (a removed flow freed DURING the execution, while
//      a producer may still be in a push that looked it up)
// then leaves the domain (unregister_current_thread()). A pushed value is unique to
// (thread, step).
//
// The element (drr_value) notices misuse: its destructor poisons it, and a move from, or a
// destruction of, a destroyed element fails an assert (a double pop). Accesses to a slot are
// seen by Relacy through the slot's access_marker, and the inbox links and the consumer
// side's fields are detail::var: a slot or a link handed over without a happens-before edge
// is a DATA RACE, a flow used after the epoch freed it an ACCESS TO FREED MEMORY.
//
// Scenarios with may_block = false have no notifications at all: event_count's fences and
// release/acquire bumps are extra synchronization that could hide a missing order.
//
// What is checked, per execution (only program order and "after every thread finished" are
// used: the order in which Relacy's scheduler ran things is not real time):
//   - statuses: pushes say success|full|closed (blocking ones success|closed), try_pop
//     item|empty|closed, and busy only with several consumers (single_consumer = false);
//     closed for a push only in a scenario that closes, or removes that push's flow; closed
//     for a pop only in a scenario that closes; full only once the flow's capacity of other
//     pushes succeeded; a thread that removed or closed a flow, or was told closed by a push
//     into it, is told closed by its later pushes into it; after a pop said closed, every
//     later pop of that thread says closed.
//   - after(): the final drain (on one thread, all pushes complete) pops items until the
//     scheduler says empty, or closed in a scenario that closes. Then: every successful push
//     was delivered exactly once (during the run or by the drain) with its flow's handle,
//     nothing else was delivered. An item that the drain cannot reach although every push
//     has completed is a STRANDED item (its flow unlisted with the item in it): a lost
//     value, and this check fails. Per (producer, flow) FIFO in each consumer and in the
//     drain, and a producer's items of a flow popped during the run precede those left for
//     the drain. Once a pop said closed, the drain finds nothing.
//   - after(), quiescent: every flow still open accepts exactly its capacity of new items
//     (no slot lost), is listed again by the first of them (the active word is consistent:
//     INV1) and gives them back in order, then the scheduler says empty; after close() a
//     push says closed and a pop closed; a removed flow's handle is stale (push closed,
//     contains false, remove_flow false).
//   - scenario-specific expectations (Derived::expect) where the scripts force an outcome.
// Relacy itself reports data races, accesses to freed memory, MEMORY LEAKs (a removed flow
// that is never finished, hence never retired nor freed by the destructor) and DEADLOCK (a
// blocking pop or push asleep with nobody left to wake it).
#pragma once

#include <lockless/drr_scheduler.hpp>
#include <lockless/epoch.hpp>

#include "support/counting_epoch_reclaimer.hpp"

namespace lockless_relacy {

using lockless::queue_status;

// The scripts' letters.
enum class drr_op : char {
  push_a = 'a',
  push_b = 'b',
  emplace_a = 'e',
  try_pop = 'r',
  push = 'P',
  pop = 'O',
  remove_a = 'd',
  close = 'x',
  flush = 'f',
};

// An element that notices use after destroy. Plain ints otherwise: cheap to model-check.
struct drr_value {
  static constexpr int live = 0x5eed;
  static constexpr int dead = 0xdead;
  static constexpr int moved_from = -1;
  int id;
  int magic = live;

  explicit drr_value(int i) noexcept : id(i) {}
  drr_value(const drr_value& o) noexcept : id(o.id) { RL_ASSERT(o.magic == live); }
  drr_value(drr_value&& o) noexcept : id(o.id) {
    RL_ASSERT(o.magic == live);
    o.id = moved_from;
  }
  drr_value& operator=(const drr_value&) = delete;
  drr_value& operator=(drr_value&&) = delete;
  ~drr_value() {
    RL_ASSERT(magic == live);  // destroyed twice
    magic = dead;
  }
};

// Counts, across the executions of one run, those in which a removed flow's deleter ran
// before after() (evidence that a scenario really frees flows while threads may still be
// in a push that found them), and those in which a try_pop said busy (evidence that two
// consumers really met at the gate). Counters the executions only write keep Relacy's
// replay deterministic.
struct drr_evidence {
  unsigned long long executions = 0;
  unsigned long long with_reclamation = 0;
  unsigned long long with_busy = 0;
  bool in_run = false;
  unsigned deleters_in_run = 0;
};
inline drr_evidence& drr_evidence_counts() {
  static drr_evidence e;
  return e;
}

// epoch_reclaimer with every retired object's deleter wrapped to count for the evidence
// above (tests/support/counting_epoch_reclaimer.hpp).
using drr_reclaimer = lockless_test::counting_epoch_reclaimer<&drr_evidence_counts>;

// Options of a scenario's scheduler.
struct drr_config {
  int flows = 1;             // 1 or 2
  std::size_t capacity = 1;  // of every flow
  bool single_consumer = true;
  bool may_block = false;
};

// One logged operation.
struct drr_event {
  char op = 0;
  queue_status status = queue_status::busy;
  int id = -1;    // the value pushed or popped (-1: none)
  int flow = -1;  // the flow pushed into or popped from (-1: none)
};

template <class Derived, int Threads, drr_config C>
struct drr_suite : rl::test_suite<Derived, Threads> {
  static_assert(C.flows == 1 || C.flows == 2);
  static constexpr int max_ops = 8;
  static constexpr int max_items = Threads * max_ops + 8;
  static constexpr std::uint32_t quanta[2] = {1, 2};
  using sched_t =
      lockless::drr_scheduler<drr_value, lockless::unit_cost, drr_reclaimer,
                              lockless::drr_options{.single_consumer = C.single_consumer,
                                                    .may_block = C.may_block}>;

  lockless::epoch_domain* domain = nullptr;
  sched_t* sched = nullptr;
  lockless::drr_flow flows[2];
  drr_event log[Threads][max_ops];  // written only by their thread, read in after()
  int log_len[Threads];
  drr_event remaining[max_items];  // what the final drain found, in order
  int remaining_count = 0;

  static int value_id(int thread, int step) { return thread * 100 + step + 1; }
  static int producer(int id) { return (id - 1) / 100; }
  static int step_of(int id) { return (id - 1) % 100; }

  static bool scenario_has(drr_op o) {
    for (int t = 0; t < Threads; ++t) {
      for (const char* s = Derived::scripts[t]; *s != '\0'; ++s) {
        if (drr_op{*s} == o) return true;
      }
    }
    return false;
  }
  static bool scenario_closes() { return scenario_has(drr_op::close); }
  static bool scenario_removes() { return scenario_has(drr_op::remove_a); }
  // Whether pushes into flow i may say closed.
  static bool may_close_flow(int i) { return scenario_closes() || (i == 0 && scenario_removes()); }

  static bool is_push(char op) {
    switch (drr_op{op}) {
      case drr_op::push_a:
      case drr_op::push_b:
      case drr_op::emplace_a:
      case drr_op::push:
        return true;
      default:
        return false;
    }
  }
  static bool is_pop(char op) { return drr_op{op} == drr_op::try_pop || drr_op{op} == drr_op::pop; }

  void before() {
    static_assert(Threads * max_ops < 100, "value ids encode (thread, step) in base 100");
    domain = new lockless::epoch_domain;
    sched = new sched_t(lockless::unit_cost{}, drr_reclaimer(*domain));
    for (int i = 0; i < C.flows; ++i) flows[i] = sched->add_flow(quanta[i], C.capacity);
    for (int t = 0; t < Threads; ++t) log_len[t] = 0;
    remaining_count = 0;
    drr_evidence_counts().in_run = true;
    drr_evidence_counts().deleters_in_run = 0;
  }

  // The flow (0 or 1) a popped item names.
  int flow_of(lockless::drr_flow h) const {
    for (int i = 0; i < C.flows; ++i) {
      if (h == flows[i]) return i;
    }
    RL_ASSERT(!"a popped item names no flow of the scenario");
    return -1;
  }

  // A popped element: a real value of this run, alive.
  drr_event popped(char op, const lockless::drr_item<drr_value>& it) const {
    RL_ASSERT(it.value.magic == drr_value::live);
    RL_ASSERT(it.value.id > 0 && it.value.id < 900);
    return drr_event{op, queue_status::success, it.value.id, flow_of(it.flow)};
  }

  // A refused push left its argument as it was.
  static void check_untouched(const drr_value& v, int id) {
    RL_ASSERT(v.magic == drr_value::live);
    RL_ASSERT(v.id == id);
  }

  drr_event push_into(char op, int flow, int id) {
    drr_event ev{op, queue_status::success, id, flow};
    if (drr_op{op} == drr_op::emplace_a) {
      ev.status = sched->try_emplace(flows[flow], id);
      return ev;
    }
    drr_value v(id);
    if (drr_op{op} == drr_op::push) {
      if constexpr (C.may_block) {
        ev.status =
            sched->push(flows[flow], std::move(v)) ? queue_status::success : queue_status::closed;
      } else {
        RL_ASSERT(!"a blocking push in a may_block = false scenario");
      }
    } else {
      ev.status = sched->try_push(flows[flow], std::move(v));
    }
    if (ev.status != queue_status::success) check_untouched(v, id);
    return ev;
  }

  void thread(unsigned index) {
    const int t = static_cast<int>(index);
    const char* script = Derived::scripts[t];
    for (int step = 0; script[step] != '\0'; ++step) {
      RL_ASSERT(step < max_ops);
      const char op = script[step];
      const int id = value_id(t, step);
      drr_event ev{op, queue_status::success, -1, -1};
      switch (drr_op{op}) {
        case drr_op::push_a:
        case drr_op::emplace_a:
        case drr_op::push:
          ev = push_into(op, 0, id);
          break;
        case drr_op::push_b:
          RL_ASSERT(C.flows == 2);
          ev = push_into(op, 1, id);
          break;
        case drr_op::try_pop: {
          lockless::queue_result<lockless::drr_item<drr_value>> r = sched->try_pop();
          if (r) {
            ev = popped(op, *r);
          } else {
            ev.status = r.error();
          }
          break;
        }
        case drr_op::pop:
          if constexpr (C.may_block) {
            std::optional<lockless::drr_item<drr_value>> r = sched->pop();
            if (r) {
              ev = popped(op, *r);
            } else {
              ev.status = queue_status::closed;
            }
          } else {
            RL_ASSERT(!"a blocking pop in a may_block = false scenario");
          }
          break;
        case drr_op::remove_a:
          ev.status = sched->remove_flow(flows[0]) ? queue_status::success : queue_status::closed;
          ev.flow = 0;
          break;
        case drr_op::close:
          sched->close();
          break;
        case drr_op::flush:
          domain->flush();
          break;
        default:
          RL_ASSERT(!"an operation these scenarios do not spell");
      }
      log[t][log_len[t]++] = ev;
    }
    domain->unregister_current_thread();
  }

  // ---- after(): the checks of the whole execution ------------------------------------
  // How often `id` was popped by thread u (u == Threads: the final drain), from index on.
  int popped_by(int u, int id, int from_index) const {
    int n = 0;
    if (u == Threads) {
      for (int i = from_index; i < remaining_count; ++i) n += remaining[i].id == id;
      return n;
    }
    for (int i = from_index; i < log_len[u]; ++i) {
      const drr_event& e = log[u][i];
      n += is_pop(e.op) && e.status == queue_status::success && e.id == id;
    }
    return n;
  }

  bool any_pop_said(queue_status st) const {
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        if (is_pop(log[t][i].op) && log[t][i].status == st) return true;
      }
    }
    return false;
  }

  void check_statuses() const {
    int succeeded[2] = {0, 0};  // successful pushes per flow
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        const drr_event& e = log[t][i];
        if (is_push(e.op) && e.status == queue_status::success) ++succeeded[e.flow];
      }
    }
    for (int t = 0; t < Threads; ++t) {
      bool closed_seen[2] = {false, false};  // this thread closed the flow, or was told so
      bool drained_seen = false;             // a pop of this thread said closed
      for (int i = 0; i < log_len[t]; ++i) {
        const drr_event& e = log[t][i];
        const drr_op o{e.op};
        if (is_push(e.op)) {
          RL_ASSERT(e.status == queue_status::success || e.status == queue_status::full ||
                    e.status == queue_status::closed);
          if (o == drr_op::push) RL_ASSERT(e.status != queue_status::full);
          if (e.status == queue_status::closed) RL_ASSERT(may_close_flow(e.flow));
          if (e.status == queue_status::full) {
            RL_ASSERT(succeeded[e.flow] >= static_cast<int>(C.capacity));
          }
          if (closed_seen[e.flow]) RL_ASSERT(e.status == queue_status::closed);
          if (e.status == queue_status::closed) closed_seen[e.flow] = true;
        } else if (is_pop(e.op)) {
          RL_ASSERT(e.status == queue_status::success || e.status == queue_status::empty ||
                    e.status == queue_status::closed ||
                    (!C.single_consumer && e.status == queue_status::busy));
          if (o == drr_op::pop) {
            RL_ASSERT(e.status == queue_status::success || e.status == queue_status::closed);
          }
          if (e.status == queue_status::closed) RL_ASSERT(scenario_closes());
          if (drained_seen) RL_ASSERT(e.status == queue_status::closed);
          if (e.status == queue_status::closed) drained_seen = true;
        } else if (o == drr_op::remove_a) {
          // The only removal of flow 0 in every scenario that spells one.
          RL_ASSERT(e.status == queue_status::success);
          closed_seen[0] = true;
        } else if (o == drr_op::close) {
          closed_seen[0] = closed_seen[1] = true;
        }
      }
    }
  }

  void check_values() const {
    int pushed_total = 0;
    int seen_total = remaining_count;
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        const drr_event& e = log[t][i];
        if (is_push(e.op) && e.status == queue_status::success) {
          ++pushed_total;
          int seen = 0;
          for (int u = 0; u <= Threads; ++u) seen += popped_by(u, e.id, 0);
          RL_ASSERT(seen >= 1);  // lost: stranded in an unlisted flow, or destroyed
          RL_ASSERT(seen <= 1);  // duplicated
        }
        if (is_pop(e.op) && e.status == queue_status::success) ++seen_total;
      }
    }
    RL_ASSERT(seen_total == pushed_total);  // nothing popped that was not pushed
    // Each item came out with the flow it was pushed into, per (producer, flow) in order.
    for (int u = 0; u <= Threads; ++u) {
      int last_step[Threads][2];
      for (int p = 0; p < Threads; ++p) last_step[p][0] = last_step[p][1] = -1;
      const int n = u == Threads ? remaining_count : log_len[u];
      for (int i = 0; i < n; ++i) {
        const drr_event& e = u == Threads ? remaining[i] : log[u][i];
        if (!is_pop(e.op) || e.status != queue_status::success) continue;
        const int p = producer(e.id);
        RL_ASSERT(p < Threads);
        const drr_event& pushed = log[p][step_of(e.id)];
        RL_ASSERT(is_push(pushed.op) && pushed.id == e.id && pushed.flow == e.flow);
        RL_ASSERT(step_of(e.id) > last_step[p][e.flow]);
        last_step[p][e.flow] = step_of(e.id);
      }
    }
    // A producer's items of a flow popped during the run precede those left for the drain.
    for (int i = 0; i < remaining_count; ++i) {
      for (int u = 0; u < Threads; ++u) {
        for (int k = 0; k < log_len[u]; ++k) {
          const drr_event& e = log[u][k];
          if (!is_pop(e.op) || e.status != queue_status::success) continue;
          if (producer(e.id) == producer(remaining[i].id) && e.flow == remaining[i].flow) {
            RL_ASSERT(step_of(e.id) < step_of(remaining[i].id));
          }
        }
      }
    }
  }

  // Quiescent: every open flow takes exactly its capacity, is listed again and gives the
  // items back in order; closed and removed flows refuse.
  void check_quiescent() {
    const bool closed = scenario_closes();
    for (int f = 0; f < C.flows; ++f) {
      const bool removed = f == 0 && scenario_removes();
      if (removed) {
        RL_ASSERT(!sched->contains(flows[f]));
        RL_ASSERT(!sched->remove_flow(flows[f]));
      }
      if (removed || closed) {
        RL_ASSERT(sched->try_push(flows[f], drr_value(2000)) == queue_status::closed);
        continue;
      }
      RL_ASSERT(sched->contains(flows[f]));
      for (std::size_t k = 0; k < C.capacity; ++k) {
        RL_ASSERT(sched->try_push(flows[f], drr_value(1000 + static_cast<int>(k))) ==
                  queue_status::success);
      }
      RL_ASSERT(sched->try_push(flows[f], drr_value(1999)) == queue_status::full);
      for (std::size_t k = 0; k < C.capacity; ++k) {
        lockless::queue_result<lockless::drr_item<drr_value>> r = sched->try_pop();
        RL_ASSERT(r.has_value());
        RL_ASSERT(r->flow == flows[f] && r->value.id == 1000 + static_cast<int>(k));
      }
      RL_ASSERT(sched->try_pop().error() == queue_status::empty);
    }
    const queue_status last = sched->try_pop().error();
    RL_ASSERT(last == (closed ? queue_status::closed : queue_status::empty));
    RL_ASSERT(sched->is_closed() == closed);
    RL_ASSERT(sched->flow_count() ==
              static_cast<std::size_t>(C.flows - (scenario_removes() ? 1 : 0)));
  }

  void after() {
    drr_evidence& ev = drr_evidence_counts();
    ev.in_run = false;
    ++ev.executions;
    if (ev.deleters_in_run > 0) ++ev.with_reclamation;
    if (any_pop_said(queue_status::busy)) ++ev.with_busy;

    // The drain: every push has completed, so nothing may be left behind.
    const bool closed = scenario_closes();
    for (;;) {
      lockless::queue_result<lockless::drr_item<drr_value>> r = sched->try_pop();
      if (!r) {
        RL_ASSERT(r.error() == (closed ? queue_status::closed : queue_status::empty));
        break;
      }
      RL_ASSERT(remaining_count < max_items);
      remaining[remaining_count++] = popped(drr_op_char(drr_op::try_pop), *r);
    }
    if (any_pop_said(queue_status::closed))
      RL_ASSERT(remaining_count == 0);  // closed means drained
    check_statuses();
    check_values();
    Derived::expect(static_cast<const Derived&>(*this));
    check_quiescent();
    delete sched;
    delete domain;  // runs the deleters still pending
  }

  static constexpr char drr_op_char(drr_op o) { return static_cast<char>(o); }
  static void expect(const Derived&) {}

  const drr_event& event(int t, int i) const {
    RL_ASSERT(i < log_len[t]);
    return log[t][i];
  }
};

// ---- the scenarios -------------------------------------------------------------------
// Scripts are kept short: a scenario must run its executions in seconds, and each mutant
// program runs them again at -O0.

// 1. The activation race ([DP4]/[DA1] against [DA3]/[DA4]): one producer pushes three items
//    into a flow of capacity 2 while the consumer pops four times, so the consumer finds
//    the flow drained and unlists it while the producer publishes and looks at the active
//    word; the third push reuses slot 0 ([DP2]/[DC3]); the consumer pops a second item of
//    a flow it already holds ([DC1]/[DP4] with no inbox hand-over in between).
struct drr_activation : drr_suite<drr_activation, 2, drr_config{.capacity = 2}> {
  static constexpr const char* scripts[2] = {"aaa", "rrrr"};
};

// 2. Two producers on one flow of capacity 1: slot reuse across laps ([DP2]/[DC3]), a
//    producer's gap between [DP3] and [DP4] seen by the consumer, and two producers
//    contending to list the flow ([DA2]).
struct drr_two_producers : drr_suite<drr_two_producers, 3, drr_config{.capacity = 1}> {
  static constexpr const char* scripts[3] = {"aa", "ea", "rrr"};
};

// 3. remove_flow racing a producer and the consumer: the removal closes the flow ([DX1]),
//    lists it, and the consumer delivers what was pushed before and finishes it; the flow
//    is retired when both sides let go ([DX2]) and freed by the consumer's flushes while
//    the producer may still be in a push that found it; the remover's own push after the
//    removal says closed. A removed flow that is never listed is never finished: a MEMORY
//    LEAK.
struct drr_remove : drr_suite<drr_remove, 3, drr_config{.capacity = 2}> {
  static constexpr const char* scripts[3] = {"aa", "rrrff", "daff"};
};

// 4. close() racing a producer and the consumer (the consumer closes between its pops, the
//    producer pushes into both flows): what was pushed before the close is delivered, the
//    drain ends with closed, and a push after it says closed (after()).
struct drr_close : drr_suite<drr_close, 2, drr_config{.flows = 2, .capacity = 1}> {
  static constexpr const char* scripts[2] = {"aba", "rxr"};
};

// 5. Two producers activating two flows through the inbox at the same time ([DI1]/[DI2]):
//    the consumer takes the batch, reverses it and serves both flows; the second push of
//    each producer may find its flow listed or held.
struct drr_inbox : drr_suite<drr_inbox, 3, drr_config{.flows = 2, .capacity = 1}> {
  static constexpr const char* scripts[3] = {"aa", "bb", "rrr"};
};

// 6. Several consumers (the gate, [DG1]/[DG2]): two consumers pop while a producer feeds
//    two flows; a consumer inside makes the other one's try_pop say busy, and the consumer
//    state (the current flow, the private list, the deficits) passes between them.
struct drr_two_consumers
    : drr_suite<drr_two_consumers, 3,
                drr_config{.flows = 2, .capacity = 1, .single_consumer = false}> {
  static constexpr const char* scripts[3] = {"aba", "rr", "rr"};
};

// 7. The blocking forms: the producer pushes two items into a flow of capacity 1 (the
//    second waits for the consumer to free the slot) and closes; the consumer's blocking
//    pops get both items, then nullopt. A lost wake-up is a DEADLOCK.
struct drr_blocking : drr_suite<drr_blocking, 2, drr_config{.capacity = 1, .may_block = true}> {
  static constexpr const char* scripts[2] = {"PPx", "OOO"};
  static void expect(const drr_blocking& s) {
    RL_ASSERT(s.event(0, 0).status == queue_status::success);
    RL_ASSERT(s.event(0, 1).status == queue_status::success);
    RL_ASSERT(s.event(1, 0).status == queue_status::success && s.event(1, 0).id == 1);
    RL_ASSERT(s.event(1, 1).status == queue_status::success && s.event(1, 1).id == 2);
    RL_ASSERT(s.event(1, 2).status == queue_status::closed);
  }
};

// 8. Several consumers, blocking: two consumers wait in pop() while the producer pushes two
//    items and closes. A consumer that finds the gate held sleeps, asking the holder to
//    wake it ([DG1]'s contended bit, read by [DG2]'s exchange); if it slept while items
//    were listed with nobody left to wake it, that is a DEADLOCK.
struct drr_two_waiting_consumers
    : drr_suite<drr_two_waiting_consumers, 3,
                drr_config{.capacity = 2, .single_consumer = false, .may_block = true}> {
  static constexpr const char* scripts[3] = {"PP", "O", "O"};
};

// 9. A blocked push behind a turn that goes on: the producer's third push finds the flow
//    of capacity 2 full and sleeps; the consumer's one pop frees a slot while the flow's
//    turn goes on (its second item is ready). The push must be woken by that pop, not by
//    the end of the turn, which never comes here (the consumer pops once): else DEADLOCK.
struct drr_blocked_push
    : drr_suite<drr_blocked_push, 2, drr_config{.capacity = 2, .may_block = true}> {
  static constexpr const char* scripts[2] = {"PPP", "O"};
  static void expect(const drr_blocked_push& s) {
    for (int i = 0; i < 3; ++i) RL_ASSERT(s.event(0, i).status == queue_status::success);
    RL_ASSERT(s.event(1, 0).status == queue_status::success && s.event(1, 0).id == 1);
  }
};

// 10. A push racing close() into a full flow ([DK4]/[DX3]): thread 0 fills flow 1 (capacity
//    1) and closes; thread 1 pushes into it; thread 2 pushes into it (told closed: the
//    close has taken effect) and then pops, freeing the only slot. Flow 1, not flow 0:
//    close() reaches it second, which widens the window between [DK1] and its [DX1] (on
//    flow 0 the mutant below needed about 350,000 random executions, here 2,413). Thread 1's push began while the
//    flow was full and no pop came before thread 2's refusal, so it is linearized either
//    before the close (full) or after it (closed); success is not linearizable. Without
//    the pop's check [DK4], thread 1 can read the scheduler open, wait, and claim the slot
//    that the pop freed before close() reached the flow's closed bit [DX1].
struct drr_close_full_flow
    : drr_suite<drr_close_full_flow, 3, drr_config{.flows = 2, .capacity = 1}> {
  static constexpr const char* scripts[3] = {"bx", "b", "br"};
  static void expect(const drr_close_full_flow& s) {
    const bool filled = s.event(0, 0).status == queue_status::success;
    const bool refused_after_close = s.event(2, 0).status == queue_status::closed;
    RL_ASSERT(!(filled && refused_after_close && s.event(1, 0).status == queue_status::success));
  }
};

}  // namespace lockless_relacy
