// tests/relacy/treiber_stack_scenarios.hpp: Relacy scenarios of lockless::treiber_stack with
// epoch-based reclamation, shared by treiber_stack.cpp (the real header) and the
// treiber_stack_mutants.cpp program (broken copies of it, see treiber_stack_mutants.cmake).
//
// Every scenario builds its own epoch_domain and stack in before() and destroys them in
// after(), so each execution starts from scratch and Relacy's leak check covers them.
// Each thread runs a fixed script of operations, spelled in the stack's alphabet
// (tests/structures/treiber_stack_ops.hpp):
//   i   push: a value unique to (thread, step)
//   r   pop: try_pop; the result, if any, is recorded for the final check
//   f   flush: epoch_domain::flush() seals the thread's open bag, tries to advance the
//       epoch and frees expired bags. Two or three flushes free a popped node DURING the
//       execution, while the other threads may still hold it in try_pop: this is what
//       makes a reclamation bug an access to freed memory that Relacy sees.
// then unregisters from the domain (its open bag goes to the domain).
//
// Each pop checks that its payload arrived intact and, where the scripts guarantee a
// non-empty stack (pop_must_succeed: every thread pushes before each of its pops at least
// as often as it pops, and all threads run the same script), that it succeeded. after()
// drains the stack and checks that popped + remaining == pushed as multisets.
#pragma once

#include <lockless/epoch.hpp>
#include <lockless/treiber_stack.hpp>

#include "structures/treiber_stack_ops.hpp"

namespace lockless_relacy {

using lockless::test::treiber_stack_op;

// Two ints tied by an invariant, so a payload read too early (before the push that
// wrote it is visible) or from a recycled node shows up as a failed assert even where
// no race is reported. treiber_stack keeps it in a detail::var, whose accesses Relacy
// checks for races and use after free.
struct treiber_payload {
  int id;
  int check;
  static treiber_payload make(int id) { return {id, id * 7 + 3}; }
  bool intact() const { return check == id * 7 + 3; }
};

// Counts, across the executions of one run, those in which at least one popped node
// was freed before after(): evidence that the scenario really exercises reclamation.
// (A counter the executions only write does not make Relacy's replay non-deterministic.)
inline unsigned long long& executions_with_reclamation() {
  static unsigned long long n = 0;
  return n;
}
inline unsigned long long& executions_total() {
  static unsigned long long n = 0;
  return n;
}

// Scripts: a string of push, pop and flush letters per thread.
template <class Derived, int Threads>
struct treiber_suite : rl::test_suite<Derived, Threads> {
  static constexpr int max_ops = 16;
  using stack_t = lockless::treiber_stack<treiber_payload>;

  lockless::epoch_domain* domain = nullptr;
  stack_t* stack = nullptr;
  // Per-thread results: written only by their thread, read in after().
  int popped[Threads][max_ops];
  int popped_count[Threads];
  int pushed_count[Threads];

  static int value_id(int thread, int step) { return thread * 100 + step; }

  void before() {
    domain = new lockless::epoch_domain;
    stack = new stack_t(lockless::epoch_reclaimer(*domain));
    for (int t = 0; t < Threads; ++t) popped_count[t] = pushed_count[t] = 0;
  }

  void thread(unsigned index) {
    const int t = static_cast<int>(index);
    const char* script = Derived::scripts[t];
    for (int step = 0; script[step] != '\0'; ++step) {
      switch (treiber_stack_op{script[step]}) {
        case treiber_stack_op::push:
          stack->push(treiber_payload::make(value_id(t, step)));
          ++pushed_count[t];
          break;
        case treiber_stack_op::pop: {
          std::optional<treiber_payload> v = stack->try_pop();
          // Derived::pop_must_succeed: the script guarantees a non-empty stack here.
          if constexpr (Derived::pop_must_succeed) RL_ASSERT(v.has_value());
          if (v) {
            RL_ASSERT(v->intact());
            popped[t][popped_count[t]++] = v->id;
          }
          break;
        }
        case treiber_stack_op::flush:
          domain->flush();
          break;
        default:
          RL_ASSERT(false);
      }
    }
    domain->unregister_current_thread();
  }

  void after() {
    // Popped nodes not freed by now were freed by nobody during the execution.
    const std::size_t pending = domain->retired_pending();
    std::size_t pops = 0;
    for (int t = 0; t < Threads; ++t) pops += static_cast<std::size_t>(popped_count[t]);
    ++executions_total();
    if (pending < pops) ++executions_with_reclamation();

    // Drain (runs on the last thread's context; it registers again, which the domain's
    // destructor undoes).
    int remaining[Threads * max_ops];
    int remaining_count = 0;
    while (std::optional<treiber_payload> v = stack->try_pop()) {
      RL_ASSERT(v->intact());
      RL_ASSERT(remaining_count < Threads * max_ops);
      remaining[remaining_count++] = v->id;
    }
    // Multiset equality: every pushed id seen exactly once, and nothing else.
    int seen_total = remaining_count;
    for (int t = 0; t < Threads; ++t) seen_total += popped_count[t];
    int pushed_total = 0;
    for (int t = 0; t < Threads; ++t) pushed_total += pushed_count[t];
    RL_ASSERT(seen_total == pushed_total);
    for (int t = 0; t < Threads; ++t) {
      const char* script = Derived::scripts[t];
      for (int step = 0; script[step] != '\0'; ++step) {
        if (treiber_stack_op{script[step]} != treiber_stack_op::push) continue;
        const int id = value_id(t, step);
        int seen = 0;
        for (int i = 0; i < remaining_count; ++i) seen += remaining[i] == id;
        for (int u = 0; u < Threads; ++u) {
          for (int i = 0; i < popped_count[u]; ++i) seen += popped[u][i] == id;
        }
        RL_ASSERT(seen == 1);
      }
    }
    delete stack;
    delete domain;  // frees every retired node still pending, and the thread records
  }
};

// 1. Two threads push two values each, then pop twice: push/pop publication ([TP2] with
//    [TC1]/[TC3]) and the pop race. Every pop must succeed.
struct treiber_push_pop : treiber_suite<treiber_push_pop, 2> {
  static constexpr const char* scripts[2] = {"iirr", "iirr"};
  static constexpr bool pop_must_succeed = true;
};

// 1b. The same threads with reclamation inside the execution: each thread frees the
//     node it popped (two flushes) while the other may be in the middle of a pop that
//     loaded it, then pushes a node that may reuse its memory (ABA bait).
struct treiber_reclaim : treiber_suite<treiber_reclaim, 2> {
  static constexpr const char* scripts[2] = {"irffirf", "irffirf"};
  static constexpr bool pop_must_succeed = true;
};

// 2. Three threads: two push/pop/flush, one only pops and flushes (its pops may find
//    the stack empty).
struct treiber_three : treiber_suite<treiber_three, 3> {
  static constexpr const char* scripts[3] = {"irfirf", "irfirf", "rfrff"};
  static constexpr bool pop_must_succeed = false;
};

}  // namespace lockless_relacy
