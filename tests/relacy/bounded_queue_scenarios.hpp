// tests/relacy/bounded_queue_scenarios.hpp: Relacy scenarios of lockless::bounded_queue,
// shared by bounded_queue.cpp (the real header) and bounded_queue_mutants.cpp (broken
// copies of it, see bounded_queue_mutants.cmake).
//
// Every scenario builds its queue in before() and destroys it in after(), so each
// execution starts from scratch and Relacy's leak check covers the queue's arrays and the
// elements left in it. Each thread runs a fixed script in the queue's alphabet
// (tests/structures/bounded_queue_ops.hpp):
//   i  try_push(T&&)      c  try_push(const T&)   e  try_emplace(id)
//   r  try_pop()          P  push(T&&) (blocking)  O  pop() (blocking)
//   p  push_for, o pop_for (time is not modelled under Relacy: they wait like P / O)
//   x  close()            s  size_approx() / is_closed() / capacity()
// A pushed value is unique to (thread, step). Each result is logged; after() checks the
// execution as a whole.
//
// The element (bq_item) notices misuse: its destructor poisons it, and a move or copy
// from, or a destruction of, a destroyed element fails an assert (use after destroy, a
// double pop); a popped element must be a real value, not a moved-from shell. Accesses to
// a cell are seen by Relacy through the cell's access_marker, so a cell handed over
// without a happens-before edge is a DATA RACE.
//
// What is checked, per execution. Only orders that the memory model makes meaningful are
// used: a thread's program order, and "after every thread has finished" (after()). The
// interleaving order of Relacy's scheduler is not real time (a relaxed load may read an
// older value), so no check compares operations of different threads by when they ran.
//   - argument intact: a push that reports full or closed leaves its argument untouched.
//   - statuses: try_push says success|full|closed, try_pop value|empty|closed, the blocking
//     and timed forms never full/empty; closed never appears in a scenario without close;
//     full is possible only if at least capacity() other pushes held a cell at some time
//     (succeeded or were refused for closed).
//   - a thread that closed, or that saw closed, sees closed on every later push and never
//     empty on a later pop (close is sticky and exact); after a pop said closed (drained)
//     later pops of that thread say closed too; is_closed() agrees.
//   - program-order emptiness: when a thread's pop says empty or closed, every value that
//     thread pushed before is gone: not popped by it later, not left in the queue at the
//     end (someone else must have popped it before).
//   - after(): the queue is drained (values, then empty, or closed if closed); every
//     successfully pushed value was popped exactly once (during the run or by the drain),
//     nothing else was popped (no loss, no duplicate, no invention); per-producer FIFO:
//     each consumer, and the drain, sees a producer's values in push order, and every
//     value of a producer popped during the run precedes every one of its values left for
//     the drain. Then, with nothing in flight, capacity is exact: an open queue accepts
//     exactly capacity() more values and gives them back in order (no cell lost), a closed
//     one refuses pushes and pops with closed.
//   - scenario-specific expectations (Derived::expect), where the scripts force one
//     outcome (e.g. the blocked pop gets the value, then nullopt after close).
// Relacy itself reports data races on the cells, use of freed memory, leaks, and DEADLOCK
// (a blocking pop or push parked in atomic::wait with nobody left to wake it: a lost
// wake-up).
#pragma once

#include <lockless/bounded_queue.hpp>

#include "structures/bounded_queue_ops.hpp"

namespace lockless_relacy {

namespace bq_ops = lockless::test::bounded_queue_ops;
using lockless::queue_status;

// An element that notices use after destroy. Plain ints otherwise: cheap to model-check.
struct bq_item {
  static constexpr int live = 0x5eed;
  static constexpr int dead = 0xdead;
  static constexpr int moved_from = -1;
  int id;
  int magic = live;

  explicit bq_item(int i) noexcept : id(i) {}
  bq_item(const bq_item& o) noexcept : id(o.id) { RL_ASSERT(o.magic == live); }
  bq_item(bq_item&& o) noexcept : id(o.id) {
    RL_ASSERT(o.magic == live);
    o.id = moved_from;
  }
  bq_item& operator=(const bq_item& o) noexcept {
    RL_ASSERT(magic == live && o.magic == live);
    id = o.id;
    return *this;
  }
  bq_item& operator=(bq_item&& o) noexcept {
    RL_ASSERT(magic == live && o.magic == live);
    id = o.id;
    o.id = moved_from;
    return *this;
  }
  ~bq_item() {
    RL_ASSERT(magic == live);  // destroyed twice
    magic = dead;
  }
};

// Options of a scenario's queue.
struct bq_config {
  std::size_t capacity = 1;
  // false: queue_options{.may_block = false}, no notifications at all. The try-only
  // scenarios use it: event_count's fences and release/acquire bumps are extra
  // synchronization that could hide a missing order in the ring.
  bool may_block = true;
  // true: queue_options{.fast_empty = true}, the order word (the scenarios of order_).
  bool fast_empty = false;
};

// One logged operation.
struct bq_event {
  char op = 0;
  queue_status status = queue_status::busy;
  int id = -1;  // the value pushed, or popped (-1: none)
};

template <class Derived, int Threads, bq_config C>
struct bq_suite : rl::test_suite<Derived, Threads> {
  static constexpr int max_ops = 8;
  static constexpr std::size_t capacity = C.capacity;
  using queue_t = lockless::bounded_queue<bq_item, std::allocator<bq_item>,
                                          lockless::queue_options{.may_block = C.may_block,
                                                                  .fast_empty = C.fast_empty}>;

  queue_t* queue = nullptr;
  // Per-thread logs: written only by their thread, read in after().
  bq_event log[Threads][max_ops];
  int log_len[Threads];
  // Filled by after(): the values the final drain found, in order.
  int remaining[Threads * max_ops + 1];
  int remaining_count = 0;

  static int value_id(int thread, int step) { return thread * 100 + step + 1; }
  static int producer(int id) { return (id - 1) / 100; }
  static int step_of(int id) { return (id - 1) % 100; }

  static bool scenario_closes() {
    for (int t = 0; t < Threads; ++t) {
      for (const char* s = Derived::scripts[t]; *s != '\0'; ++s) {
        if (*s == bq_ops::letter(bq_ops::op::close)) return true;
      }
    }
    return false;
  }

  static bool is_push(char op) {
    switch (bq_ops::op{op}) {
      case bq_ops::op::try_push:
      case bq_ops::op::try_push_copy:
      case bq_ops::op::try_emplace:
      case bq_ops::op::push:
      case bq_ops::op::push_for:
        return true;
      default:
        return false;
    }
  }
  static bool is_pop(char op) {
    switch (bq_ops::op{op}) {
      case bq_ops::op::try_pop:
      case bq_ops::op::pop:
      case bq_ops::op::pop_for:
        return true;
      default:
        return false;
    }
  }

  void before() {
    static_assert(Threads * max_ops < 100, "value ids encode (thread, step) in base 100");
    queue = new queue_t(capacity);
    for (int t = 0; t < Threads; ++t) log_len[t] = 0;
    remaining_count = 0;
  }

  // A popped element: a real value, alive.
  static int popped_id(const bq_item& v) {
    RL_ASSERT(v.magic == bq_item::live);
    RL_ASSERT(v.id > 0);
    return v.id;
  }

  // A refused push left its argument as it was.
  static void check_untouched(const bq_item& v, int id) {
    RL_ASSERT(v.magic == bq_item::live);
    RL_ASSERT(v.id == id);
  }

  template <class R>
  static bq_event pop_event(char op, R&& r) {
    bq_event ev{op, queue_status::success, -1};
    if (r) {
      ev.id = popped_id(*r);
    } else {
      ev.status = r.error();
    }
    return ev;
  }

  void thread(unsigned index) {
    const int t = static_cast<int>(index);
    const char* script = Derived::scripts[t];
    for (int step = 0; script[step] != '\0'; ++step) {
      RL_ASSERT(step < max_ops);
      const char op = script[step];
      const int id = value_id(t, step);
      bq_event ev{op, queue_status::success, -1};
      switch (bq_ops::op{op}) {
        case bq_ops::op::try_push: {
          bq_item v(id);
          ev.status = queue->try_push(std::move(v));
          ev.id = id;
          if (ev.status != queue_status::success) check_untouched(v, id);
          break;
        }
        case bq_ops::op::try_push_copy: {
          const bq_item v(id);
          ev.status = queue->try_push(v);
          ev.id = id;
          check_untouched(v, id);
          break;
        }
        case bq_ops::op::try_emplace:
          ev.status = queue->try_emplace(id);
          ev.id = id;
          break;
        case bq_ops::op::push:
        case bq_ops::op::push_for: {
          bq_item v(id);
          if constexpr (C.may_block) {
            if (bq_ops::op{op} == bq_ops::op::push) {
              ev.status = queue->push(std::move(v)) ? queue_status::success : queue_status::closed;
            } else {
              ev.status = queue->push_for(std::move(v), std::chrono::seconds(1));
            }
          } else {
            RL_ASSERT(!"a blocking push in a may_block = false scenario");
          }
          ev.id = id;
          if (ev.status != queue_status::success) check_untouched(v, id);
          break;
        }
        case bq_ops::op::try_pop:
          ev = pop_event(op, queue->try_pop());
          break;
        case bq_ops::op::pop:
          if constexpr (C.may_block) {
            std::optional<bq_item> v = queue->pop();
            if (v) {
              ev.id = popped_id(*v);
            } else {
              ev.status = queue_status::closed;
            }
          } else {
            RL_ASSERT(!"a blocking pop in a may_block = false scenario");
          }
          break;
        case bq_ops::op::pop_for:
          if constexpr (C.may_block) {
            ev = pop_event(op, queue->pop_for(std::chrono::seconds(1)));
          } else {
            RL_ASSERT(!"a timed pop in a may_block = false scenario");
          }
          break;
        case bq_ops::op::close:
          queue->close();
          break;
        case bq_ops::op::observe:
          RL_ASSERT(queue->size_approx() <= capacity);
          RL_ASSERT(queue->capacity() == capacity);
          ev.status = queue->is_closed() ? queue_status::closed : queue_status::success;
          break;
        default:
          RL_ASSERT(!"an operation these scenarios do not spell");
      }
      log[t][log_len[t]++] = ev;
    }
  }

  // ---- after(): the checks of the whole execution ------------------------------------
  int popped_by(int consumer_or_drain, int id, int from_index) const {
    int n = 0;
    if (consumer_or_drain == Threads) {
      for (int i = from_index; i < remaining_count; ++i) n += remaining[i] == id;
      return n;
    }
    for (int i = from_index; i < log_len[consumer_or_drain]; ++i) {
      const bq_event& e = log[consumer_or_drain][i];
      n += is_pop(e.op) && e.status == queue_status::success && e.id == id;
    }
    return n;
  }

  void check_statuses() const {
    const bool closes = scenario_closes();
    int holders = 0;  // pushes that held a cell at some time, at most
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        const bq_event& e = log[t][i];
        if (is_push(e.op) &&
            (e.status == queue_status::success || e.status == queue_status::closed)) {
          ++holders;
        }
      }
    }
    for (int t = 0; t < Threads; ++t) {
      bool closed_seen = false;   // this thread closed, or was told closed
      bool drained_seen = false;  // a pop of this thread said closed
      for (int i = 0; i < log_len[t]; ++i) {
        const bq_event& e = log[t][i];
        const bq_ops::op o{e.op};
        RL_ASSERT(e.status != queue_status::busy);
        if (e.status == queue_status::closed) RL_ASSERT(closes);
        if (is_push(e.op)) {
          RL_ASSERT(e.status == queue_status::success || e.status == queue_status::full ||
                    e.status == queue_status::closed);
          if (o == bq_ops::op::push || o == bq_ops::op::push_for) {
            RL_ASSERT(e.status != queue_status::full);  // time is not modelled: no timeout
          }
          if (e.status == queue_status::full) {
            RL_ASSERT(holders >= static_cast<int>(capacity));
          }
          if (closed_seen) RL_ASSERT(e.status == queue_status::closed);
        } else if (is_pop(e.op)) {
          RL_ASSERT(e.status == queue_status::success || e.status == queue_status::empty ||
                    e.status == queue_status::closed);
          if (o != bq_ops::op::try_pop) RL_ASSERT(e.status != queue_status::empty);
          if (closed_seen) RL_ASSERT(e.status != queue_status::empty);
          if (drained_seen) RL_ASSERT(e.status == queue_status::closed);
          if (e.status == queue_status::closed) drained_seen = true;
        } else if (o == bq_ops::op::observe) {
          if (closed_seen) RL_ASSERT(e.status == queue_status::closed);
        }
        if (o == bq_ops::op::close || e.status == queue_status::closed) closed_seen = true;
      }
    }
  }

  // A pop that says empty or closed: the thread's own earlier pushes are gone.
  void check_program_order_emptiness() const {
    for (int t = 0; t < Threads; ++t) {
      for (int k = 0; k < log_len[t]; ++k) {
        const bq_event& e = log[t][k];
        if (!is_pop(e.op) || e.status == queue_status::success) continue;
        for (int j = 0; j < k; ++j) {
          const bq_event& p = log[t][j];
          if (!is_push(p.op) || p.status != queue_status::success) continue;
          RL_ASSERT(popped_by(t, p.id, k + 1) == 0);
          RL_ASSERT(popped_by(Threads, p.id, 0) == 0);
        }
      }
    }
  }

  // Exactly once, nothing invented, per-producer FIFO.
  void check_values() const {
    int pushed_total = 0;
    int seen_total = remaining_count;
    for (int t = 0; t < Threads; ++t) {
      for (int i = 0; i < log_len[t]; ++i) {
        const bq_event& e = log[t][i];
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
    // What the drain found of a producer comes after all of it popped during the run.
    for (int i = 0; i < remaining_count; ++i) {
      for (int u = 0; u < Threads; ++u) {
        for (int k = 0; k < log_len[u]; ++k) {
          const bq_event& e = log[u][k];
          if (!is_pop(e.op) || e.status != queue_status::success) continue;
          if (producer(e.id) == producer(remaining[i])) {
            RL_ASSERT(step_of(e.id) < step_of(remaining[i]));
          }
        }
      }
    }
  }

  void after() {
    const bool closed = scenario_closes();
    RL_ASSERT(queue->is_closed() == closed);
    // Drain.
    for (;;) {
      lockless::queue_result<bq_item> r = queue->try_pop();
      if (!r) {
        RL_ASSERT(r.error() == (closed ? queue_status::closed : queue_status::empty));
        break;
      }
      RL_ASSERT(remaining_count < Threads * max_ops);
      remaining[remaining_count++] = popped_id(*r);
    }
    RL_ASSERT(static_cast<std::size_t>(remaining_count) <= capacity);
    check_statuses();
    check_program_order_emptiness();
    check_values();
    Derived::expect(static_cast<const Derived&>(*this));
    // Quiescent: capacity is exact (no cell lost), FIFO, closed is final.
    if (!closed) {
      for (std::size_t k = 0; k < capacity; ++k) {
        RL_ASSERT(queue->try_push(bq_item(1000 + static_cast<int>(k))) == queue_status::success);
      }
      RL_ASSERT(queue->try_push(bq_item(2000)) == queue_status::full);
      for (std::size_t k = 0; k < capacity; ++k) {
        lockless::queue_result<bq_item> r = queue->try_pop();
        RL_ASSERT(r.has_value() && r->id == 1000 + static_cast<int>(k));
      }
      RL_ASSERT(queue->try_pop().error() == queue_status::empty);
    } else {
      RL_ASSERT(queue->try_push(bq_item(2000)) == queue_status::closed);
      RL_ASSERT(queue->try_pop().error() == queue_status::closed);
    }
    delete queue;
  }

  // Default: no scenario-specific expectation.
  static void expect(const Derived&) {}

  // Helpers for Derived::expect.
  const bq_event& event(int t, int i) const {
    RL_ASSERT(i < log_len[t]);
    return log[t][i];
  }
};

// ---- the scenarios -------------------------------------------------------------------

// 1. Ping-pong through capacity 1 with the blocking forms: every push after the first
//    waits for a pop (full -> not full), every pop for a push (empty -> not empty). Three
//    values through one cell take it round three laps. A lost wake-up on
//    either side is a DEADLOCK. The consumer gets 1, 2, 3 in order.
struct bq_pingpong : bq_suite<bq_pingpong, 2, bq_config{.capacity = 1}> {
  static constexpr const char* scripts[2] = {"PPP", "OOO"};
  static void expect(const bq_pingpong& s) {
    for (int i = 0; i < 3; ++i) {
      RL_ASSERT(s.event(0, i).status == queue_status::success);
      RL_ASSERT(s.event(1, i).status == queue_status::success);
      RL_ASSERT(s.event(1, i).id == value_id(0, i));
    }
  }
};

// 2. Close racing a blocked pop: the consumer's second pop waits on an empty queue until
//    close() wakes it; it must then say closed (nullopt). Its first pop gets the value
//    (pushed before the close, in the closer's program order).
struct bq_close_blocked_pop : bq_suite<bq_close_blocked_pop, 2, bq_config{.capacity = 1}> {
  static constexpr const char* scripts[2] = {"OO", "ix"};
  static void expect(const bq_close_blocked_pop& s) {
    RL_ASSERT(s.event(1, 0).status == queue_status::success);
    RL_ASSERT(s.event(0, 0).status == queue_status::success);
    RL_ASSERT(s.event(0, 0).id == value_id(1, 0));
    RL_ASSERT(s.event(0, 1).status == queue_status::closed);
  }
};

// 3. Two blocked pops, one value, then close: one gets the value, the other is woken by
//    close (notify_all) and says closed. Three threads.
struct bq_close_two_waiters : bq_suite<bq_close_two_waiters, 3, bq_config{.capacity = 1}> {
  static constexpr const char* scripts[3] = {"O", "O", "ix"};
  static void expect(const bq_close_two_waiters& s) {
    RL_ASSERT(s.event(2, 0).status == queue_status::success);
    const bool first = s.event(0, 0).status == queue_status::success;
    const bool second = s.event(1, 0).status == queue_status::success;
    RL_ASSERT(first != second);
    RL_ASSERT((first ? s.event(1, 0) : s.event(0, 0)).status == queue_status::closed);
  }
};

// 4. Close racing a blocked push: the producer fills the one cell and then waits in push
//    while the other thread pops once and closes. The blocked push either gets the cell
//    the pop freed or is woken by close and refused (argument untouched).
struct bq_close_blocked_push : bq_suite<bq_close_blocked_push, 2, bq_config{.capacity = 1}> {
  static constexpr const char* scripts[2] = {"iPP", "rxr"};
};

// 5. Close racing pushes (try-only, no notifications): two producers and a closer that
//    then drains. The close (closed_flag in tail_) lands before, between or after the
//    pushes' claims; a push whose claimed ticket is still unpublished when the closer's
//    drain reaches it is published or abandoned (the drain gives up on it, [QG1]), and an
//    abandoned push takes its element back and then says closed.
struct bq_close_push : bq_suite<bq_close_push, 3, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[3] = {"iir", "eci", "xrr"};
};

// 6. Full/empty transitions and wraparound at capacity 1, try-only, no notifications:
//    two threads push and pop alternately (up to four values through one cell: four laps,
//    and pushes that find the cell held by the previous lap answer full, full_at()).
struct bq_try_cap1 : bq_suite<bq_try_cap1, 2, bq_config{.capacity = 1, .may_block = false}> {
  static constexpr const char* scripts[2] = {"irir", "irir"};
};

// 7. A producer/consumer pair at capacity 2, try-only, no notifications: the producer
//    pushes five values (full when the consumer lags), the consumer pops five times;
//    wraparound of the two cells. With one producer and one consumer FIFO is
//    strict: the consumer and the drain see the producer's values in order.
struct bq_try_spsc_cap2
    : bq_suite<bq_try_spsc_cap2, 2, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[2] = {"iiiii", "rrrrr"};
};

// 8. Three threads at capacity 2, try-only: two producer/consumers and a consumer.
struct bq_try_three : bq_suite<bq_try_three, 3, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[3] = {"iir", "iri", "rrr"};
};

// 9. The same shape as 6 with the default options (may_block = true): the try forms with
//    their notifications (event_count fences) in place, as most users run them.
struct bq_try_cap1_notify : bq_suite<bq_try_cap1_notify, 2, bq_config{.capacity = 1}> {
  static constexpr const char* scripts[2] = {"irir", "irir"};
};

// 10. is_closed() racing a close, at capacity 1, try-only: one thread pushes, closes and
//     asks is_closed(); the other pops twice and asks. A pop that said closed read
//     closed_flag in tail_ ([QE1]), so that thread's is_closed() after it ([QC2], the same
//     word) must say true.
struct bq_close_observe
    : bq_suite<bq_close_observe, 2, bq_config{.capacity = 1, .may_block = false}> {
  static constexpr const char* scripts[2] = {"ixs", "rrs"};
};

// ---- the give-ups ----------------------------------------------------------------------
// The scenarios above reach the give-ups only now and then; these three are the smallest
// scripts whose every schedule that suspends one operation at the right place must give up,
// so that the store-buffering pairs [QP5]/[QG2] and [QT5]/[QS2] are exercised in a good
// share of their executions (tests/relacy/bounded_queue_mutants.cpp).

// 11. A pop gives up on a claimed, unpublished ticket because a later one is published
//     ([QG1]): at capacity 2, thread 0 claims ticket 0; thread 1 pushes at ticket 1 and
//     pops. If thread 0 has not published by then, the pop gives up on ticket 0 (abandoned:
//     it takes ticket 1, and thread 0's publish finds the verdict, takes its element back
//     and pushes it again at ticket 2) or, when the publish comes first after all, keeps it.
//     Thread 1's pop always gets a value (its own push is there, and a pop never waits).
struct bq_pop_give_up : bq_suite<bq_pop_give_up, 2, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[2] = {"i", "ir"};
  static void expect(const bq_pop_give_up& s) {
    RL_ASSERT(s.event(0, 0).status == queue_status::success);
    RL_ASSERT(s.event(1, 0).status == queue_status::success);
    RL_ASSERT(s.event(1, 1).status == queue_status::success);
  }
};

// 12. A pop gives up on a claimed, unpublished ticket because the queue is closed: at
//     capacity 1, thread 0 claims ticket 0; thread 1 closes and pops. A closed queue
//     must not wait for the producer, so the pop gives up on ticket 0 and says closed;
//     the push then finds the verdict, takes its element back (its argument is intact,
//     checked) and says closed. Or the publish wins: the pop (or the drain) gets the value.
struct bq_pop_give_up_closed
    : bq_suite<bq_pop_give_up_closed, 2, bq_config{.capacity = 1, .may_block = false}> {
  static constexpr const char* scripts[2] = {"i", "xr"};
};

// 13. A push gives up on a ticket whose cell is still held by the previous lap's pop
//     ([QS1]): at capacity 2, thread 0 pushes two values (tickets 0 and 1); thread 1 takes
//     ticket 0 and, suspended before its free, still holds cell 0; thread 0 pops ticket 1
//     (cell 1 is vacant again) and pushes: ticket 2's cell 0 is held but the queue is not
//     full (cell 1 is free, full_at()), so it declares ticket 2 dead and claims ticket 3
//     (or finds cell 0 freed meanwhile: ticket 2 alive). Thread 1's free then moves cell 0
//     past the dead ticket (vacant for lap 2, ticket 4). With one element queued at most,
//     the last push never says full.
struct bq_push_give_up
    : bq_suite<bq_push_give_up, 2, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[2] = {"iiri", "r"};
  static void expect(const bq_push_give_up& s) {
    RL_ASSERT(s.event(0, 0).status == queue_status::success);
    RL_ASSERT(s.event(0, 1).status == queue_status::success);
    RL_ASSERT(s.event(0, 2).status == queue_status::success);
    RL_ASSERT(s.event(0, 3).status == queue_status::success);
  }
};

// 14. Both give-ups in one schedule with a single preemption (so that a context bound of 1
//     reaches them): at capacity 2, thread 0 pushes and pops; thread 1 pushes, pops and
//     pushes. Thread 0 suspended between its claim of ticket 0 and its publish: thread 1's
//     pop gives up on ticket 0 (a later ticket is published) and takes ticket 1; its push at
//     ticket 2 finds cell 0 held by thread 0 (the previous lap), cell 1 vacant, so it gives
//     up on ticket 2 too and claims ticket 3. Thread 0 then publishes, finds ticket 0
//     abandoned, takes its element back, frees cell 0 past the dead ticket 2, and pushes at
//     ticket 4. Thread 0 suspended inside its pop instead (between take and free): thread
//     1's push gives up on the next lap's ticket of that cell.
struct bq_give_up_both
    : bq_suite<bq_give_up_both, 2, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[2] = {"ir", "iri"};
};

// 15. Each of two threads pushes, then pops, at capacity 2, try-only. In every sequential
//     order of the four operations that keeps each thread's program order, a queue holds
//     at least one element when a pop runs (the popping thread's own push is in, and the
//     other thread's pop comes after the other thread's push), so both pops must get a
//     value: "empty" here is not linearizable even ignoring real time.
struct bq_push_pop_pairs
    : bq_suite<bq_push_pop_pairs, 2, bq_config{.capacity = 2, .may_block = false}> {
  static constexpr const char* scripts[2] = {"ir", "ir"};
  static void expect(const bq_push_pop_pairs& s) {
    RL_ASSERT(s.event(0, 1).status == queue_status::success);
    RL_ASSERT(s.event(1, 1).status == queue_status::success);
  }
};

// ---- order_: empty answered from the cell (queue_options::fast_empty) -------------------
// A pop whose ticket's cell is vacant answers empty from order_ alone while order_ is quiet
// ([QO1]): cleared by a pop that found head_ == tail_ ([QO3]), marked by a push that is
// about to publish while the ticket before its own is unpublished ([QO1]/[QO2]). These
// scenarios build their queue with fast_empty; the ones above use the default (without).

// 16. The mark: thread 0 pops from the new queue (empty: it clears order_) and pushes;
//     thread 1 pushes and pops. Thread 0 suspended between its claim of ticket 0 and its
//     publish: thread 1's push publishes ticket 1 while ticket 0 is unpublished, so it must
//     mark order_ first, and thread 1's pop then reads tail_, finds ticket 1 and gives up on
//     ticket 0. Without the mark it answers empty while its own value is queued, which
//     the program-order emptiness check rejects (one preemption: a context bound of 1
//     reaches it).
struct bq_order_mark
    : bq_suite<bq_order_mark, 2, bq_config{.capacity = 2, .may_block = false, .fast_empty = true}> {
  static constexpr const char* scripts[2] = {"ri", "ir"};
};

// 17. The clearing against a claim ([QO2]/[QO3], a store-buffering pair): thread 0 pops
//     from the new queue (order_ marked): it reads order_, then tail_ (nothing claimed),
//     and clears. Meanwhile thread 2 claims ticket 0 and stays suspended, and thread 1
//     pushes at ticket 1 (ticket 0 unpublished: it would mark, but order_ reads marked
//     still) and pops. If thread 0 finished the clearing after thread 1's push without
//     reading tail_ again, thread 1's pop would answer empty with its own value queued
//     (program-order emptiness; three preemptions).
struct bq_order_clear : bq_suite<bq_order_clear, 3,
                                 bq_config{.capacity = 2, .may_block = false, .fast_empty = true}> {
  static constexpr const char* scripts[3] = {"r", "ir", "i"};
};

// 18. Scenario 10 with fast_empty: a pop that finds its cell vacant after the close must
//     not answer empty from order_ (close() marks it for good, [QO4]), but say closed.
struct bq_order_close : bq_suite<bq_order_close, 2,
                                 bq_config{.capacity = 1, .may_block = false, .fast_empty = true}> {
  static constexpr const char* scripts[2] = {"ixs", "rrs"};
};

// 19. Scenario 1 (ping-pong through one cell, blocking forms) with fast_empty: a pop that
//     re-checks after announcing its wait answers empty from the cell and order_, and must
//     still see a publish that the producer's light fence orders before its look at the
//     waiters (a lost wake-up is a DEADLOCK).
struct bq_order_pingpong
    : bq_suite<bq_order_pingpong, 2, bq_config{.capacity = 1, .fast_empty = true}> {
  static constexpr const char* scripts[2] = {"PPP", "OOO"};
  static void expect(const bq_order_pingpong& s) {
    for (int i = 0; i < 3; ++i) {
      RL_ASSERT(s.event(1, i).status == queue_status::success);
      RL_ASSERT(s.event(1, i).id == value_id(0, i));
    }
  }
};

}  // namespace lockless_relacy
