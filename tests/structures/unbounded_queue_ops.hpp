// tests/structures/unbounded_queue_ops.hpp: unbounded_queue's ONE operation alphabet,
// shared by every layer that spells operations: the Relacy scenarios
// (tests/relacy/unbounded_queue*), the schedule scenarios
// (structures/unbounded_queue_scenarios.hpp, run by tests/dsched/unbounded_queue*.cpp and
// tests/fuzz/unbounded_queue_sched.cpp), the sequential fuzz target
// (tests/fuzz/unbounded_queue_seq.cpp) and the stress tests' operation mixes.
//
//   op                 one letter per operation (a script is a string of letters;
//                      switch (op{c}) reads one back)
//   all                every operation, in declaration order
//   name(o)            for printing
//   from_byte(b)       the sequential fuzz target's decoder: one input byte -> operation
//   script_mix         what a scheduled thread's script is drawn from (the schedule fuzz
//                      target: byte b -> script_mix[b % size]); weighted by repetition
//   blocks(o)          whether the operation may wait (a schedule scenario with one needs
//                      a partner that releases it, or a close)
//   pushes(o)          how many values the operation offers (0 for pops, close, observe)
//
// The letters are bounded_queue's (structures/bounded_queue_ops.hpp), so that a script
// means the same on both queues, with the unbounded semantics: nothing is ever full, so
// every push form (P push, p push_for, and the try_ forms) answers success or closed at
// once and never waits; only the pops wait (O pop, o pop_for) while the queue is empty
// and open.
//
// Plain C++ with no dependencies beyond <cstddef>/<cstdint>: the Relacy build includes it
// after Relacy's macros (support/relacy_prelude.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockless::test::unbounded_queue_ops {

// try_push and try_pop keep 'i' and 'r', the letters of the generic scripted runs
// (support/dsched_history.hpp: 'i' insert, 'r' remove).
enum class op : char {
  try_push = 'i',       // try_push(T&&) of a value unique to (thread, step): success|closed
  try_push_copy = 'c',  // try_push(const T&)
  try_emplace = 'e',    // try_emplace(args...)
  try_pop = 'r',        // try_pop() -> queue_result<T>: value|empty|closed
  push = 'P',           // push(T&&): never waits; false once closed
  emplace = 'E',        // emplace(args...): never waits; false once closed
  pop = 'O',            // blocking pop(): waits while empty; nullopt once closed and drained
  push_for = 'p',       // push_for(T&&, timeout): success|closed at once, never waits
  pop_for = 'o',        // pop_for(timeout): waits while empty (empty on timeout)
  push_bulk = 'I',      // try_push_bulk of a few values (operand: how many)
  pop_bulk = 'R',       // try_pop_bulk (operand: at most how many)
  close = 'x',          // close()
  observe = 's',        // size_approx(), is_closed(): cheap observers
};

inline constexpr op all[] = {
    op::try_push, op::try_push_copy, op::try_emplace, op::try_pop,  op::push,  op::emplace, op::pop,
    op::push_for, op::pop_for,       op::push_bulk,   op::pop_bulk, op::close, op::observe};

constexpr const char* name(op o) noexcept {
  switch (o) {
    case op::try_push:
      return "try_push";
    case op::try_push_copy:
      return "try_push_copy";
    case op::try_emplace:
      return "try_emplace";
    case op::try_pop:
      return "try_pop";
    case op::push:
      return "push";
    case op::emplace:
      return "emplace";
    case op::pop:
      return "pop";
    case op::push_for:
      return "push_for";
    case op::pop_for:
      return "pop_for";
    case op::push_bulk:
      return "push_bulk";
    case op::pop_bulk:
      return "pop_bulk";
    case op::close:
      return "close";
    case op::observe:
      return "observe";
  }
  return "?";
}

constexpr char letter(op o) noexcept {
  return static_cast<char>(o);
}

// The sequential fuzz target's decoder (its seed corpora are written in it): b % 16
// selects; 0-4 try_push (bit 7: try_push_copy, bit 6: try_emplace), 5-8 try_pop,
// 9 push (bit 7: emplace), 10 push_bulk, 11 pop_bulk, 12 push_for, 13 pop_for,
// 14 observe, 15 close (only when bit 7 is also set: closing ends most of a sequence, so
// it is rare), else observe. The pushes never wait, so the decoder yields push and emplace;
// a sequential run would wait forever in a blocking pop of an empty open queue: pop is
// never decoded (pop_for's forms cover it when the model says it returns at once).
constexpr op from_byte(std::uint8_t b) noexcept {
  switch (b % 16) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      return (b & 0x80) != 0 ? op::try_push_copy : (b & 0x40) != 0 ? op::try_emplace : op::try_push;
    case 5:
    case 6:
    case 7:
    case 8:
      return op::try_pop;
    case 9:
      return (b & 0x80) != 0 ? op::emplace : op::push;
    case 10:
      return op::push_bulk;
    case 11:
      return op::pop_bulk;
    case 12:
      return op::push_for;
    case 13:
      return op::pop_for;
    case 15:
      return (b & 0x80) != 0 ? op::close : op::observe;
    default:
      return op::observe;
  }
}

// A scheduled thread's operations (dsched scenarios, the schedule fuzz target): three
// try_pushes, three try_pops, a push (never waits) and a blocking pop (a scenario that
// uses the blocking pop ends with a close, so nobody waits forever), in this order.
inline constexpr op script_mix[] = {op::try_push, op::try_push, op::try_push, op::try_pop,
                                    op::try_pop,  op::try_pop,  op::push,     op::pop};
inline constexpr std::size_t script_mix_size = sizeof(script_mix) / sizeof(script_mix[0]);

constexpr op script_op_from_byte(std::uint8_t b) noexcept {
  return script_mix[b % script_mix_size];
}

// Only the pops wait: nothing is ever full.
constexpr bool blocks(op o) noexcept {
  return o == op::pop || o == op::pop_for;
}

// Values a script letter offers to the queue (bulk: `bulk` of them).
constexpr std::size_t pushes(op o, std::size_t bulk) noexcept {
  switch (o) {
    case op::try_push:
    case op::try_push_copy:
    case op::try_emplace:
    case op::push:
    case op::emplace:
    case op::push_for:
      return 1;
    case op::push_bulk:
      return bulk;
    default:
      return 0;
  }
}

}  // namespace lockless::test::unbounded_queue_ops

namespace lockless::test {
using unbounded_queue_op = unbounded_queue_ops::op;
}  // namespace lockless::test
