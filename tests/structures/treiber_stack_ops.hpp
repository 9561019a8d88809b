// tests/structures/treiber_stack_ops.hpp: treiber_stack's ONE operation alphabet, shared
// by every layer that spells operations: the Relacy scenarios
// (tests/relacy/treiber_stack_scenarios.hpp), the schedule scenarios
// (structures/treiber_stack_scenarios.hpp, run by tests/dsched/treiber_stack.cpp and
// tests/fuzz/treiber_stack_sched.cpp), the sequential fuzz target
// (tests/fuzz/treiber_stack_seq.cpp) and the stress test's operation mix.
//
//   op                 one letter per operation (a script is a string of letters;
//                      switch (op{c}) reads one back)
//   all                every operation, in declaration order
//   name(o)            for printing
//   from_byte(b)       the sequential fuzz target's decoder: one input byte -> operation
//   script_mix         what a scheduled thread's script is drawn from (the schedule fuzz
//                      target: byte b -> script_mix[b % size]); weighted by repetition
//   reclaims(o)        whether the operation can free retired nodes (a scenario without
//                      one checks no reclamation)
//
// Plain C++ with no dependencies beyond <cstddef>/<cstdint>: the Relacy build includes it
// after Relacy's macros (support/relacy_prelude.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockless::test::treiber_stack_ops {

// push and pop keep 'i' and 'r', the letters of the generic scripted runs
// (support/dsched_history.hpp: 'i' insert, 'r' remove) that the schedule scenarios use.
enum class op : char {
  push = 'i',          // push(T&&) of a value unique to (thread, step)
  push_copy = 'c',     // push(const T&) (copyable T; the others push(T&&))
  emplace = 'e',       // emplace(args...)
  pop = 'r',           // try_pop() -> std::optional<T>
  pop_into = 'o',      // try_pop(T&) -> bool
  was_empty = 'w',     // was_empty()
  push_burst = 'I',    // a burst of pushes (operand: how many); crosses the epoch bag size
  pop_burst = 'R',     // a burst of pops (operand: how many), more than there may be
  flush = 'f',         // flush() of the stack's epoch domain
  flush_pinned = 'g',  // flush() from inside an epoch_guard: seals, frees what is safe
  barrier = 'b',       // barrier() of the stack's epoch domain (never pinned)
  stats = 's',         // the domain's stats() and the stack's reclaimer(): cheap observers
};

inline constexpr op all[] = {op::push,     op::push_copy,    op::emplace,    op::pop,
                             op::pop_into, op::was_empty,    op::push_burst, op::pop_burst,
                             op::flush,    op::flush_pinned, op::barrier,    op::stats};

constexpr const char* name(op o) noexcept {
  switch (o) {
    case op::push:
      return "push";
    case op::push_copy:
      return "push_copy";
    case op::emplace:
      return "emplace";
    case op::pop:
      return "pop";
    case op::pop_into:
      return "pop_into";
    case op::was_empty:
      return "was_empty";
    case op::push_burst:
      return "push_burst";
    case op::pop_burst:
      return "pop_burst";
    case op::flush:
      return "flush";
    case op::flush_pinned:
      return "flush_pinned";
    case op::barrier:
      return "barrier";
    case op::stats:
      return "stats";
  }
  return "?";
}

constexpr char letter(op o) noexcept {
  return static_cast<char>(o);
}

// The sequential fuzz target's decoder (its seed corpora are written in it): b % 10
// selects, 0/1 push (bit 7: push_copy), 2 emplace, 3 pop, 4 pop_into, 5 was_empty,
// 6 push_burst, 7 pop_burst, 8 flush (bit 6: barrier), 9 stats.
constexpr op from_byte(std::uint8_t b) noexcept {
  switch (b % 10) {
    case 0:
    case 1:
      return (b & 0x80) != 0 ? op::push_copy : op::push;
    case 2:
      return op::emplace;
    case 3:
      return op::pop;
    case 4:
      return op::pop_into;
    case 5:
      return op::was_empty;
    case 6:
      return op::push_burst;
    case 7:
      return op::pop_burst;
    case 8:
      return (b & 0x40) != 0 ? op::barrier : op::flush;
    default:
      return op::stats;
  }
}

// A scheduled thread's operations (dsched scenarios, the schedule fuzz target, Relacy
// scenarios use push/pop/flush of these). Weighted for the fuzz target: three pushes,
// three pops, a flush, a pinned flush (its seed corpora are written in this order).
inline constexpr op script_mix[] = {op::push, op::push, op::push,  op::pop,
                                    op::pop,  op::pop,  op::flush, op::flush_pinned};
inline constexpr std::size_t script_mix_size = sizeof(script_mix) / sizeof(script_mix[0]);

constexpr op script_op_from_byte(std::uint8_t b) noexcept {
  return script_mix[b % script_mix_size];
}

constexpr bool reclaims(op o) noexcept {
  return o == op::flush || o == op::flush_pinned || o == op::barrier;
}

}  // namespace lockless::test::treiber_stack_ops

namespace lockless::test {
using treiber_stack_op = treiber_stack_ops::op;
}  // namespace lockless::test
