// tests/relacy/unbounded_queue_scenarios.hpp: Relacy scenarios of lockless::unbounded_queue
// across segment boundaries, shared by unbounded_queue.cpp (the real header) and
// unbounded_queue_mutants.cpp (broken copies of it, see unbounded_queue_mutants.cmake).
//
// Every queue has unbounded_queue_options{.segment_size = 2}: the third push links a new
// segment, the third pop moves head_ off the first one and retires it. Each scenario
// builds a private epoch_domain and its queue in before() and destroys both in after(),
// so every execution starts from scratch and Relacy's leak check covers the segments, the
// segment cache and the elements. cached_segments is 0 (a retired segment goes back to
// the allocator: a use after that is an ACCESS TO FREED MEMORY) or 1 (it goes into the
// cache and the next segment-linking push takes it back: a use through a stale pointer
// meets a reset segment or another push's element).
//
// Each thread runs a fixed script (a string of letters):
//   i  try_push(T&&)    c  try_push(const T&)   e  try_emplace(id)
//   r  try_pop()        O  pop() (blocking; may_block scenarios only)
//   x  close()          s  size_approx() and is_closed()
//   f  epoch_domain::flush(): seals the thread's retired segments, tries to advance the
//      epoch and runs the deleters that are due. Two or three flushes make a retired
//      segment's deleter run DURING the execution, while other threads may still be
//      inside an operation.
// then leaves the domain (unregister_current_thread(): its open bag goes to the domain).
// A pushed value is unique to (thread, step).
//
// The element (uq_item) keeps its value in an rl::var, so Relacy sees every read and
// write of it: an element read without a happens-before edge from the push that built it
// is a DATA RACE, one read from a freed segment an ACCESS TO FREED MEMORY. Its destructor
// poisons it, and a move or copy of a destroyed element fails an assert (a double pop).
// The cells' access markers add the same check on the cell itself.
//
// What is checked, per execution (only program order and "after every thread finished"
// are used: the order in which Relacy's scheduler ran things is not real time):
//   - statuses: pushes say success|closed, try_pop value|empty|closed, pop() value|closed;
//     closed only in a scenario with close(); a thread that closed or was told closed is
//     told closed by every later push and never empty by a later pop; after a pop said
//     closed, every later pop of that thread says closed; is_closed() agrees.
//   - a refused push leaves its argument intact.
//   - program-order emptiness: a thread's pop that says empty or closed comes after every
//     value that thread pushed before it had left (not popped later by it, not left for the
//     final drain).
//   - closed means drained: once any pop said closed, nothing is left in the queue (the
//     final drain finds nothing). A pop that says closed while a pushed value is still
//     queued, or a push that succeeds after that, loses the value.
//   - after(): the drain (values, then empty, or closed if the scenario closes); every
//     successful push popped exactly once (during the run or by the drain), nothing else
//     popped; per-producer FIFO in each consumer and in the drain, and each producer's
//     values popped during the run precede its values left for the drain. Then, quiescent:
//     an open queue takes three more values (across a segment boundary) and gives them back
//     in order, then says empty; a closed one refuses a push and pops closed.
//   - scenario-specific expectations (Derived::expect) where the scripts force an outcome.
// Relacy itself reports data races, accesses to freed memory, leaks, and DEADLOCK (a
// blocking pop asleep with nobody left to wake it).
#pragma once

#include <lockless/epoch.hpp>
#include <lockless/unbounded_queue.hpp>

#include "support/counting_epoch_reclaimer.hpp"

namespace lockless_relacy {

using lockless::queue_status;

// The scripts' letters (the subset of the queue alphabet these scenarios spell, plus the
// epoch flush).
enum class uq_op : char {
  try_push = 'i',
  try_push_copy = 'c',
  try_emplace = 'e',
  try_pop = 'r',
  pop = 'O',
  close = 'x',
  observe = 's',
  flush = 'f',
};

// An element whose value Relacy watches (an rl::var) and that notices use after destroy.
struct uq_item {
  static constexpr int live = 0x5eed;
  static constexpr int dead = 0xdead;
  static constexpr int moved_from = -1;
  rl::var<int> id;
  int magic = live;

  explicit uq_item(int i) noexcept : id(i) {}
  uq_item(const uq_item& o) noexcept : id(o.value()) {}
  uq_item(uq_item&& o) noexcept : id(o.value()) { o.id($) = moved_from; }
  uq_item& operator=(const uq_item& o) noexcept {
    RL_ASSERT(magic == live);
    id($) = o.value();
    return *this;
  }
  uq_item& operator=(uq_item&& o) noexcept {
    RL_ASSERT(magic == live);
    id($) = o.value();
    o.id($) = moved_from;
    return *this;
  }
  ~uq_item() {
    RL_ASSERT(magic == live);  // destroyed twice
    magic = dead;
  }
  int value() const {
    RL_ASSERT(magic == live);  // read after destroy
    return id($);
  }
};

// Counts, across the executions of one run, those in which a retired segment's deleter
// ran before after() (evidence that a scenario really recycles or frees segments while
// threads are inside operations). Counters the executions only write keep Relacy's
// replay deterministic.
struct uq_evidence {
  unsigned long long executions = 0;
  unsigned long long with_reclamation = 0;
  bool in_run = false;
  unsigned deleters_in_run = 0;
};
inline uq_evidence& evidence() {
  static uq_evidence e;
  return e;
}

// epoch_reclaimer with every retired object's deleter wrapped to count for evidence()
// (tests/support/counting_epoch_reclaimer.hpp).
using uq_reclaimer = lockless_test::counting_epoch_reclaimer<&evidence>;

// Options of a scenario's queue (segment_size is always 2).
struct uq_config {
  std::size_t cached_segments = 0;
  // false: no blocking forms, no notifications (event_count's fences and release/acquire
  // bumps could hide a missing order in the queue itself).
  bool may_block = false;
  // Values pushed and popped in before(): the run starts this far into the first segment.
  int warmup = 0;
};

struct uq_event {
  char op = 0;
  queue_status status = queue_status::busy;
  int id = -1;  // the value pushed or popped (-1: none)
};

template <class Derived, int Threads, uq_config C>
struct uq_suite : rl::test_suite<Derived, Threads> {
  static constexpr int max_ops = 8;
  using queue_t = lockless::unbounded_queue<
      uq_item, uq_reclaimer, std::allocator<uq_item>,
      lockless::unbounded_queue_options{
          .may_block = C.may_block, .segment_size = 2, .cached_segments = C.cached_segments}>;

  lockless::epoch_domain* domain = nullptr;
  queue_t* queue = nullptr;
  uq_event log[Threads][max_ops];  // written only by their thread, read in after()
  int log_len[Threads];
  int remaining[Threads * max_ops + 4];  // what the final drain found, in order
  int remaining_count = 0;

  static int value_id(int thread, int step) { return thread * 100 + step + 1; }
  static int producer(int id) { return (id - 1) / 100; }
  static int step_of(int id) { return (id - 1) % 100; }

  static bool scenario_closes() {
    for (int t = 0; t < Threads; ++t) {
      for (const char* s = Derived::scripts[t]; *s != '\0'; ++s) {
        if (uq_op{*s} == uq_op::close) return true;
      }
    }
    return false;
  }
  static bool is_push(char op) {
    return uq_op{op} == uq_op::try_push || uq_op{op} == uq_op::try_push_copy ||
           uq_op{op} == uq_op::try_emplace;
  }
  static bool is_pop(char op) { return uq_op{op} == uq_op::try_pop || uq_op{op} == uq_op::pop; }

  void before() {
    static_assert(Threads * max_ops < 100, "value ids encode (thread, step) in base 100");
    domain = new lockless::epoch_domain;
    queue = new queue_t(uq_reclaimer(*domain));
    for (int t = 0; t < Threads; ++t) log_len[t] = 0;
    remaining_count = 0;
    for (int k = 0; k < C.warmup; ++k) {
      RL_ASSERT(queue->try_push(uq_item(900 + k)) == queue_status::success);
    }
    for (int k = 0; k < C.warmup; ++k) {
      lockless::queue_result<uq_item> r = queue->try_pop();
      RL_ASSERT(r.has_value() && r->value() == 900 + k);
    }
    if (C.warmup > 0) domain->unregister_current_thread();
    evidence().in_run = true;
    evidence().deleters_in_run = 0;
  }

  static int popped_id(const uq_item& v) {
    const int id = v.value();
    RL_ASSERT(id > 0 && id < 900);  // a real value of this run, not a moved-from shell
    return id;
  }
  static void check_untouched(const uq_item& v, int id) { RL_ASSERT(v.value() == id); }

  void thread(unsigned index) {
    const int t = static_cast<int>(index);
    const char* script = Derived::scripts[t];
    for (int step = 0; script[step] != '\0'; ++step) {
      RL_ASSERT(step < max_ops);
      const char op = script[step];
      const int id = value_id(t, step);
      uq_event ev{op, queue_status::success, -1};
      switch (uq_op{op}) {
        case uq_op::try_push: {
          uq_item v(id);
          ev.status = queue->try_push(std::move(v));
          ev.id = id;
          if (ev.status != queue_status::success) check_untouched(v, id);
          break;
        }
        case uq_op::try_push_copy: {
          const uq_item v(id);
          ev.status = queue->try_push(v);
          ev.id = id;
          check_untouched(v, id);
          break;
        }
        case uq_op::try_emplace:
          ev.status = queue->try_emplace(id);
          ev.id = id;
          break;
        case uq_op::try_pop: {
          lockless::queue_result<uq_item> r = queue->try_pop();
          if (r) {
            ev.id = popped_id(*r);
          } else {
            ev.status = r.error();
          }
          break;
        }
        case uq_op::pop:
          if constexpr (C.may_block) {
            std::optional<uq_item> v = queue->pop();
            if (v) {
              ev.id = popped_id(*v);
            } else {
              ev.status = queue_status::closed;
            }
          } else {
            RL_ASSERT(!"a blocking pop in a may_block = false scenario");
          }
          break;
        case uq_op::close:
          queue->close();
          break;
        case uq_op::observe:
          (void)queue->size_approx();
          ev.status = queue->is_closed() ? queue_status::closed : queue_status::success;
          break;
        case uq_op::flush:
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
      for (int i = from_index; i < remaining_count; ++i) n += remaining[i] == id;
      return n;
    }
    for (int i = from_index; i < log_len[u]; ++i) {
      const uq_event& e = log[u][i];
      n += is_pop(e.op) && e.status == queue_status::success && e.id == id;
    }
    return n;
  }

  bool any_pop_said_closed() const {
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        if (is_pop(log[t][i].op) && log[t][i].status == queue_status::closed) return true;
      }
    }
    return false;
  }

  void check_statuses() const {
    const bool closes = scenario_closes();
    for (int t = 0; t < Threads; ++t) {
      bool closed_seen = false;   // this thread closed, or was told closed
      bool drained_seen = false;  // a pop of this thread said closed
      for (int i = 0; i < log_len[t]; ++i) {
        const uq_event& e = log[t][i];
        const uq_op o{e.op};
        RL_ASSERT(e.status != queue_status::busy);
        if (e.status == queue_status::closed) RL_ASSERT(closes);
        if (is_push(e.op)) {
          RL_ASSERT(e.status == queue_status::success || e.status == queue_status::closed);
          if (closed_seen) RL_ASSERT(e.status == queue_status::closed);
        } else if (is_pop(e.op)) {
          RL_ASSERT(e.status == queue_status::success || e.status == queue_status::empty ||
                    e.status == queue_status::closed);
          if (o == uq_op::pop) RL_ASSERT(e.status != queue_status::empty);
          if (closed_seen) RL_ASSERT(e.status != queue_status::empty);
          if (drained_seen) RL_ASSERT(e.status == queue_status::closed);
          if (e.status == queue_status::closed) drained_seen = true;
        } else if (o == uq_op::observe) {
          if (closed_seen) RL_ASSERT(e.status == queue_status::closed);
        }
        if (o == uq_op::close || e.status == queue_status::closed) closed_seen = true;
      }
    }
  }

  void check_program_order_emptiness() const {
    for (int t = 0; t < Threads; ++t) {
      for (int k = 0; k < log_len[t]; ++k) {
        const uq_event& e = log[t][k];
        if (!is_pop(e.op) || e.status == queue_status::success) continue;
        for (int j = 0; j < k; ++j) {
          const uq_event& p = log[t][j];
          if (!is_push(p.op) || p.status != queue_status::success) continue;
          RL_ASSERT(popped_by(t, p.id, k + 1) == 0);
          RL_ASSERT(popped_by(Threads, p.id, 0) == 0);
        }
      }
    }
  }

  void check_values() const {
    int pushed_total = 0;
    int seen_total = remaining_count;
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        const uq_event& e = log[t][i];
        if (is_push(e.op) && e.status == queue_status::success) {
          ++pushed_total;
          int seen = 0;
          for (int u = 0; u <= Threads; ++u) seen += popped_by(u, e.id, 0);
          RL_ASSERT(seen == 1);  // 0: lost; 2 or more: duplicated
        }
        if (is_pop(e.op) && e.status == queue_status::success) ++seen_total;
      }
    }
    RL_ASSERT(seen_total == pushed_total);  // nothing popped that was not pushed
    // Per-producer FIFO within each consumer and within the drain.
    for (int u = 0; u <= Threads; ++u) {
      int last_step[Threads];
      for (int p = 0; p < Threads; ++p) last_step[p] = -1;
      const int n = u == Threads ? remaining_count : log_len[u];
      for (int i = 0; i < n; ++i) {
        int id = -1;
        if (u == Threads) {
          id = remaining[i];
        } else if (is_pop(log[u][i].op) && log[u][i].status == queue_status::success) {
          id = log[u][i].id;
        }
        if (id < 0) continue;
        RL_ASSERT(producer(id) < Threads);
        RL_ASSERT(step_of(id) > last_step[producer(id)]);
        last_step[producer(id)] = step_of(id);
      }
    }
    // A producer's values popped during the run precede its values left for the drain.
    for (int i = 0; i < remaining_count; ++i) {
      for (int u = 0; u < Threads; ++u) {
        for (int k = 0; k < log_len[u]; ++k) {
          const uq_event& e = log[u][k];
          if (!is_pop(e.op) || e.status != queue_status::success) continue;
          if (producer(e.id) == producer(remaining[i])) {
            RL_ASSERT(step_of(e.id) < step_of(remaining[i]));
          }
        }
      }
    }
  }

  void after() {
    uq_evidence& ev = evidence();
    ev.in_run = false;
    ++ev.executions;
    if (ev.deleters_in_run > 0) ++ev.with_reclamation;

    const bool closed = scenario_closes();
    RL_ASSERT(queue->is_closed() == closed);
    for (;;) {
      lockless::queue_result<uq_item> r = queue->try_pop();
      if (!r) {
        RL_ASSERT(r.error() == (closed ? queue_status::closed : queue_status::empty));
        break;
      }
      RL_ASSERT(remaining_count < Threads * max_ops);
      remaining[remaining_count++] = popped_id(*r);
    }
    // Closed means drained: after a pop said closed no value can be (or enter) the queue.
    if (any_pop_said_closed()) RL_ASSERT(remaining_count == 0);
    check_statuses();
    check_program_order_emptiness();
    check_values();
    Derived::expect(static_cast<const Derived&>(*this));
    // Quiescent: FIFO across a segment boundary, empty after; closed is final.
    if (!closed) {
      for (int k = 0; k < 3; ++k) {
        RL_ASSERT(queue->try_push(uq_item(1000 + k)) == queue_status::success);
      }
      for (int k = 0; k < 3; ++k) {
        lockless::queue_result<uq_item> r = queue->try_pop();
        RL_ASSERT(r.has_value() && r->value() == 1000 + k);
      }
      RL_ASSERT(queue->try_pop().error() == queue_status::empty);
    } else {
      RL_ASSERT(queue->try_push(uq_item(2000)) == queue_status::closed);
      RL_ASSERT(queue->try_pop().error() == queue_status::closed);
    }
    delete queue;
    delete domain;  // runs the deleters still pending; the last one frees the cache
  }

  static void expect(const Derived&) {}

  const uq_event& event(int t, int i) const {
    RL_ASSERT(i < log_len[t]);
    return log[t][i];
  }
};

// ---- the scenarios -------------------------------------------------------------------

// 1. One producer, one consumer, across two segment boundaries, with recycling: five
//    values fill cells 0-1 of the first segment, 0-1 of the second, 0 of the third. The
//    consumer's pops move head_ on and retire the segments behind it; its flushes run
//    their deleters, which put them into the one-slot cache, from which the producer's
//    segment-linking push may take one back while the consumer may still be in it.
//    Strict FIFO (one producer).
struct uq_spsc_cross : uq_suite<uq_spsc_cross, 2, uq_config{.cached_segments = 1}> {
  static constexpr const char* scripts[2] = {"iiiii", "rrrffrrf"};
};

// 2. The same with nothing cached: a retired segment is freed by the flushes, so a
//    consumer or producer still using it is an access to freed memory.
struct uq_spsc_free : uq_suite<uq_spsc_free, 2, uq_config{.cached_segments = 0}> {
  static constexpr const char* scripts[2] = {"iiiii", "rrrffrrf"};
};

// 3. Late producers: two producers, one consumer. A consumer that sees two tickets taken
//    and the first cell still unwritten burns it; its producer takes the element back and
//    moves on, possibly past the end of the segment (linking the next one with the
//    element in cell 0). The consumer crosses and retires the first segment.
struct uq_burn : uq_suite<uq_burn, 3, uq_config{.cached_segments = 1}> {
  static constexpr const char* scripts[3] = {"ii", "ie", "rrrrf"};
};

// 4. tail_ lagging behind a retired segment: the run starts with the first segment used
//    up; the first producer links the second one and may be preempted before it moves
//    tail_ ([UE4]); the consumer moves head_ past the first segment (tail_ must move
//    first, [UH0]), retires it, takes the value and flushes until its deleter runs; a
//    second producer pins and reads tail_ in between. Nothing cached: reaching the freed
//    segment through tail_ is an access to freed memory.
struct uq_tail_lag : uq_suite<uq_tail_lag, 3, uq_config{.cached_segments = 0, .warmup = 2}> {
  static constexpr const char* scripts[3] = {"i", "rfff", "i"};
};

// 5. Close racing a segment-linking push (the seal): the producer's third push needs a
//    new segment while the consumer pops two values and closes; its pops after the close
//    must not say closed while that push can still succeed (the seal of the full last
//    segment decides: a push whose link finds the seal says closed).
struct uq_close_seal : uq_suite<uq_close_seal, 2, uq_config{.cached_segments = 1}> {
  static constexpr const char* scripts[2] = {"iii", "rrxrr"};
};

// 6. Close racing pushes that hold tickets: two producers (one by copy, one emplacing)
//    and a closer that drains. A push that took its ticket and then read closed leaves
//    its cell EMPTY: the consumer must burn it and say closed, not empty, and must not
//    say closed while a push that read closed_ false can still complete. Starts one cell
//    before a segment boundary.
struct uq_close_push : uq_suite<uq_close_push, 3, uq_config{.cached_segments = 0, .warmup = 1}> {
  static constexpr const char* scripts[3] = {"ii", "ce", "xrrr"};
};

// 7. Blocking pops woken by pushes across a segment boundary: the consumer's four pop()s
//    get the four values in order. A lost wake-up is a DEADLOCK. (No close here: its
//    notify_all would wake a pop that a push forgot to wake; uq_close_two_waiters has it.)
struct uq_pingpong : uq_suite<uq_pingpong, 2, uq_config{.cached_segments = 1, .may_block = true}> {
  static constexpr const char* scripts[2] = {"iiii", "OOOO"};
  static void expect(const uq_pingpong& s) {
    for (int i = 0; i < 4; ++i) {
      RL_ASSERT(s.event(0, i).status == queue_status::success);
      RL_ASSERT(s.event(1, i).status == queue_status::success);
      RL_ASSERT(s.event(1, i).id == value_id(0, i));
    }
  }
};

// 8. Two blocked pops, one value pushed across a segment boundary (the run starts with
//    the first segment used up), then close: one pop gets the value, the other is woken
//    by close (notify_all) and says closed.
struct uq_close_two_waiters
    : uq_suite<uq_close_two_waiters, 3,
               uq_config{.cached_segments = 0, .may_block = true, .warmup = 2}> {
  static constexpr const char* scripts[3] = {"O", "O", "ix"};
  static void expect(const uq_close_two_waiters& s) {
    RL_ASSERT(s.event(2, 0).status == queue_status::success);
    const bool first = s.event(0, 0).status == queue_status::success;
    const bool second = s.event(1, 0).status == queue_status::success;
    RL_ASSERT(first != second);
    RL_ASSERT((first ? s.event(1, 0) : s.event(0, 0)).status == queue_status::closed);
  }
};

}  // namespace lockless_relacy
