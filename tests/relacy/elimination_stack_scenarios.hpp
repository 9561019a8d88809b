// tests/relacy/elimination_stack_scenarios.hpp: Relacy scenarios of lockless::elimination_stack
// with epoch-based reclamation, shared by elimination_stack.cpp (the real header) and the
// elimination_stack_mutants.cpp program (broken copies of it, see
// elimination_stack_mutants.cmake).
//
// Every stack has ONE exchanger slot (elimination_options::width = 1), so a push and a pop
// that visit it meet there, and a short wait (exchange_spins 1 or 2; under Relacy each round
// of the wait is a scheduling point). With force_exchange every operation visits the
// exchanger before its first central CAS: a push and a pop running at the same time meet in
// every way the exchanger allows (the pop takes the push's offer [XC2]; the push gives its
// node to the waiting pop [XP3]; either withdraws [XP5]/[XC5], or a partner arrives just as
// it withdraws), and then race on the central stack. Without it, an operation reaches the
// exchanger only after its central CAS failed, which takes a third thread changing the head.
//
// Each scenario builds its own epoch_domain and stack in before() and destroys them in
// after(), so each execution starts from scratch and Relacy's leak check covers the nodes
// (a node handed over in the exchanger is freed by its pop at once, not retired). Each
// thread runs a fixed script in the stack's alphabet (tests/structures/elimination_stack_ops.hpp):
//   i   push: a value unique to (thread, step)
//   r   pop: try_pop; the result (a value or empty) is recorded for the final check
//   f   flush: epoch_domain::flush() (frees retired nodes during the execution)
// then unregisters from the domain.
//
// The payload is treiber_stack's (two ints tied by an invariant, in the node's detail::var,
// which Relacy checks for races and use after free): a pop that reads a handed-over node
// without a happens-before edge from the push that built it is a DATA RACE; a node used
// after its pop freed it, an ACCESS TO FREED MEMORY. What after() checks, per execution,
// using only program order and "every thread has finished" (the order in which Relacy ran
// the threads is not real time):
//   - every payload intact;
//   - exactly once: popped + left in the stack (drained in after()) == pushed, as multisets;
//   - LIFO, at the end: the values a thread pushed that are still in the stack come out of
//     the drain in reverse order of their pushes;
//   - LIFO and emptiness, per pop: a value x "must be in the stack" at a pop of thread P if
//     its push happened before the pop (P pushed it earlier, or P popped earlier a value y
//     that x's pusher pushed after x) and nobody removed it before (it is left for the
//     drain, or P itself pops it later). Then that pop must not say empty, and must not
//     return a value z pushed by x's pusher before x (x is above z).
#pragma once

#include <lockless/elimination_stack.hpp>
#include <lockless/epoch.hpp>

#include "structures/elimination_stack_ops.hpp"
#include "treiber_stack_scenarios.hpp"  // treiber_payload: the same payload, the same checks

namespace lockless_relacy {

using lockless::test::elimination_stack_op;

// Counts, across the executions of one run, those with at least one eliminated pair
// (stats(), for the scenarios with elimination_options::statistics): evidence that a
// scenario without force_exchange really reaches the exchanger. Written only by after().
inline unsigned long long& elim_executions_eliminated() {
  static unsigned long long n = 0;
  return n;
}
inline unsigned long long& elim_executions_total() {
  static unsigned long long n = 0;
  return n;
}

template <class Derived, int Threads, lockless::elimination_options Options>
struct elim_suite : rl::test_suite<Derived, Threads> {
  static constexpr int max_ops = 8;
  static constexpr int empty_pop = -1;  // result of a pop that found the stack empty
  static constexpr int no_pop = -2;     // result of a step that is not a pop
  using stack_t = lockless::elimination_stack<treiber_payload, lockless::epoch_reclaimer, Options>;

  lockless::epoch_domain* domain = nullptr;
  stack_t* stack = nullptr;
  // Per thread and step: the popped id, empty_pop or no_pop. Written only by its thread.
  int result[Threads][max_ops];
  // The drain in after(), top first.
  int remaining[Threads * max_ops];
  int remaining_count = 0;

  static int value_id(int thread, int step) { return thread * 100 + step; }
  static int thread_of(int id) { return id / 100; }
  static int step_of(int id) { return id % 100; }
  static bool is_push(int thread, int step) {
    return elimination_stack_op{Derived::scripts[thread][step]} == elimination_stack_op::push;
  }

  void before() {
    domain = new lockless::epoch_domain;
    stack = new stack_t(lockless::epoch_reclaimer(*domain));
    for (int t = 0; t < Threads; ++t) {
      for (int s = 0; s < max_ops; ++s) result[t][s] = no_pop;
    }
    remaining_count = 0;
  }

  void thread(unsigned index) {
    const int t = static_cast<int>(index);
    const char* script = Derived::scripts[t];
    for (int step = 0; script[step] != '\0'; ++step) {
      RL_ASSERT(step < max_ops);
      switch (elimination_stack_op{script[step]}) {
        case elimination_stack_op::push:
          stack->push(treiber_payload::make(value_id(t, step)));
          break;
        case elimination_stack_op::pop: {
          std::optional<treiber_payload> v = stack->try_pop();
          if (v) RL_ASSERT(v->intact());
          result[t][step] = v ? v->id : empty_pop;
          break;
        }
        case elimination_stack_op::flush:
          domain->flush();
          break;
        default:
          RL_ASSERT(false);
      }
    }
    domain->unregister_current_thread();
  }

  // How many times id was popped (by any thread) or left in the stack.
  int times_seen(int id) const {
    int seen = 0;
    for (int i = 0; i < remaining_count; ++i) seen += remaining[i] == id;
    for (int t = 0; t < Threads; ++t) {
      for (int s = 0; s < max_ops; ++s) seen += result[t][s] == id;
    }
    return seen;
  }

  // Whether value x must be in the stack at the pop of thread p at step s (see the top of
  // this file): its push happened before that pop, and nobody can have removed it before.
  bool must_be_in_stack(int p, int s, int x) const {
    const int t = thread_of(x);
    const int i = step_of(x);
    bool pushed_before = t == p && i < s;
    for (int s2 = 0; s2 < s && !pushed_before; ++s2) {
      const int y = result[p][s2];
      pushed_before = y >= 0 && thread_of(y) == t && step_of(y) > i;
    }
    if (!pushed_before) return false;
    for (int k = 0; k < remaining_count; ++k) {
      if (remaining[k] == x) return true;
    }
    for (int s2 = s + 1; s2 < max_ops; ++s2) {
      if (result[p][s2] == x) return true;
    }
    return false;
  }

  void after() {
    // Drain (on the last thread's context; it registers again, which the domain's
    // destructor undoes).
    while (std::optional<treiber_payload> v = stack->try_pop()) {
      RL_ASSERT(v->intact());
      RL_ASSERT(remaining_count < Threads * max_ops);
      remaining[remaining_count++] = v->id;
    }
    ++elim_executions_total();
    if constexpr (Options.statistics) {
      if (stack->stats().eliminated_pairs > 0) ++elim_executions_eliminated();
    }

    // Exactly once: every pushed id seen once, and nothing else.
    int pushed_total = 0;
    int seen_total = remaining_count;
    for (int t = 0; t < Threads; ++t) {
      for (int s = 0; Derived::scripts[t][s] != '\0'; ++s) {
        if (result[t][s] >= 0) ++seen_total;
        if (!is_push(t, s)) continue;
        ++pushed_total;
        RL_ASSERT(times_seen(value_id(t, s)) == 1);
      }
    }
    RL_ASSERT(seen_total == pushed_total);

    // LIFO at the end: one thread's values left in the stack, latest push on top.
    for (int a = 0; a < remaining_count; ++a) {
      for (int b = a + 1; b < remaining_count; ++b) {
        if (thread_of(remaining[a]) == thread_of(remaining[b])) {
          RL_ASSERT(step_of(remaining[a]) > step_of(remaining[b]));
        }
      }
    }

    // LIFO and emptiness per pop.
    for (int p = 0; p < Threads; ++p) {
      for (int s = 0; Derived::scripts[p][s] != '\0'; ++s) {
        const int got = result[p][s];
        if (got == no_pop) continue;
        for (int t = 0; t < Threads; ++t) {
          for (int i = 0; Derived::scripts[t][i] != '\0'; ++i) {
            if (!is_push(t, i) || !must_be_in_stack(p, s, value_id(t, i))) continue;
            // x = (t, i) is in the stack at this pop: it is not empty, and x is above
            // every value t pushed before it.
            RL_ASSERT(got != empty_pop);
            RL_ASSERT(!(thread_of(got) == t && step_of(got) < i));
          }
        }
      }
    }
    delete stack;
    delete domain;  // frees every retired node still pending, and the thread records
  }
};

// The exchanger first, one slot, the shortest wait: every meeting of a push and a pop.
inline constexpr lockless::elimination_options exchange_first{
    .width = 1, .exchange_spins = 1, .force_exchange = true};
// The same with a wait of two rounds: a partner can come during the wait, not only at once,
// and the adaptive wait ([XR1]) is halved after a timeout and doubled after a meeting.
inline constexpr lockless::elimination_options exchange_first_wait2{
    .width = 1, .exchange_spins = 2, .force_exchange = true};
// The production policy (exchanger only after a failed central CAS), one slot, counted.
inline constexpr lockless::elimination_options exchange_on_conflict{
    .width = 1, .exchange_spins = 2, .statistics = true};

// 1. A push and a pop meet in the exchanger: the pop takes the offer ([XP2] -> [XC2]), or
//    the push gives its node to the waiting pop ([XP3] -> [XC4], or -> [XC5] when the give
//    comes as the pop withdraws), or one withdraws ([XP5]/[XC5]) and they meet on the
//    central stack, or do not meet. Checked with every schedule of up to three preemptions.
struct elim_pair : elim_suite<elim_pair, 2, exchange_first> {
  static constexpr const char* scripts[2] = {"i", "r"};
};

// 1b. The push comes late (its thread flushes the domain first: registration and an advance
//     attempt), so the pop is often already waiting when the push's first visit arrives:
//     the give [XP3] to a pop that sees it in its wait [XC4] or as it withdraws [XC5], with
//     no offer of the push before it. (In elim_pair a give usually follows the push's own
//     offer and withdraw, whose release CAS [XP2] heads a release sequence that the
//     withdraw, the waiting mark and the give, all RMWs, continue: the pop synchronizes
//     with the offer, so a relaxed give goes unnoticed there.) A wait of two rounds: a
//     partner can come during the wait, and the adaptive wait is halved and doubled.
struct elim_give : elim_suite<elim_give, 2, exchange_first_wait2> {
  static constexpr const char* scripts[2] = {"fi", "r"};
};

// 2. Two pushes against two pops, all through the exchanger first: LIFO order between the
//    eliminated pairs and the central stack (popping the second value first means the
//    first is still there for the second pop).
struct elim_lifo : elim_suite<elim_lifo, 2, exchange_first> {
  static constexpr const char* scripts[2] = {"ii", "rr"};
};

// 3. Three threads: a push and a pop meeting in the exchanger while a third thread pushes
//    and pops, through the same slot (collisions) and on the central stack.
struct elim_three : elim_suite<elim_three, 3, exchange_first> {
  static constexpr const char* scripts[3] = {"i", "r", "ir"};
};

// 4. Three threads, exchanger on conflict only (the production policy): the third thread's
//    push and pop move the head between the others' load and CAS, so their CASes fail and
//    they meet in the exchanger (a pop whose CAS lost to the third thread's pop waits, the
//    push whose CAS lost to it gives). stats() counts the executions that eliminated.
struct elim_central : elim_suite<elim_central, 3, exchange_on_conflict> {
  static constexpr const char* scripts[3] = {"i", "r", "ir"};
};

}  // namespace lockless_relacy
