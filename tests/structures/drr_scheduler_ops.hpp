// tests/structures/drr_scheduler_ops.hpp: drr_scheduler's ONE operation alphabet, shared
// by every layer that spells operations: the schedule scenarios
// (structures/drr_scheduler_scenarios.hpp, run by tests/dsched/drr_scheduler*.cpp and
// tests/fuzz/drr_scheduler_sched.cpp), the sequential fuzz target
// (tests/fuzz/drr_scheduler_seq.cpp), the Relacy scenarios and the stress tests' mixes.
//
//   op                 one letter per operation (switch (op{c}) reads one back)
//   all                every operation, in declaration order
//   name(o)            for printing
//   step               an operation with its two operands: the flow (an index into the
//                      run's table of flows, taken modulo its size) and the item's cost;
//                      for add_flow they are the new flow's capacity and quantum
//   from_byte(b)       the sequential fuzz target's decoder: one input byte -> operation
//                      (its operands are read from the next bytes by the target)
//   script_mix         what a scheduled thread's script is drawn from, weighted by
//                      repetition
//   step_from_byte(b)  the schedule fuzz target's decoder: one byte -> a whole step
//                      (b & 15: script_mix; bits 4-5: flow 0-3; bits 6-7: cost 1-4)
//   pushes / pops / blocks / closes   classifications a scenario needs
//
// Written as text (structures/drr_scheduler_scenarios.hpp, parse_drr_script), a step is
// its letter, then optionally the flow (decimal), then optionally '*' and the cost:
// "i1*3" pushes an item of cost 3 into flow 1; "a2*5" adds a flow of capacity 2 and
// quantum 5; "r" pops. Defaults: flow 0, cost 1 (add_flow: capacity 1, quantum 1).
//
// Plain C++ with no dependencies beyond <cstddef>/<cstdint>: the Relacy build includes it
// after Relacy's macros (support/relacy_prelude.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockless::test::drr_scheduler_ops {

// try_push and try_pop keep 'i' and 'r', the letters of the other structures' alphabets.
enum class op : char {
  try_push = 'i',       // try_push(flow, T&&) of a value unique to (thread, step), with
                        // its cost: success|full|closed; refused: the argument untouched
  try_push_copy = 'c',  // try_push(flow, const T&)
  try_emplace = 'e',    // try_emplace(flow, value, cost)
  try_pop = 'r',        // try_pop() -> item (flow, value) | empty | closed | busy
  push = 'P',           // blocking push(flow, T&&): waits while full; false once closed
  pop = 'O',            // blocking pop(): waits while nothing is listed; nullopt once
                        // closed and drained
  push_for = 'p',       // push_for(flow, T&&, timeout) (full on timeout)
  pop_for = 'o',        // pop_for(timeout) (empty on timeout)
  add_flow = 'a',       // add_flow(quantum, capacity): a new flow at the end of the table
  remove_flow = 'd',    // remove_flow(flow): true once per flow; closes it to pushes
  close = 'x',          // close(): every flow closed; pops drain, then report closed
  observe = 's',        // contains(flow), flow_count(), is_closed(): cheap observers
};

inline constexpr op all[] = {op::try_push, op::try_push_copy, op::try_emplace, op::try_pop,
                             op::push,     op::pop,           op::push_for,    op::pop_for,
                             op::add_flow, op::remove_flow,   op::close,       op::observe};

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
    case op::pop:
      return "pop";
    case op::push_for:
      return "push_for";
    case op::pop_for:
      return "pop_for";
    case op::add_flow:
      return "add_flow";
    case op::remove_flow:
      return "remove_flow";
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

// Whether the letter is one of the alphabet's.
constexpr bool is_op(char c) noexcept {
  for (op o : all) {
    if (letter(o) == c) return true;
  }
  return false;
}

// Inserts one item (into the step's flow, with the step's cost).
constexpr bool pushes(op o) noexcept {
  return o == op::try_push || o == op::try_push_copy || o == op::try_emplace || o == op::push ||
         o == op::push_for;
}
// Takes one item (a consumer's operation).
constexpr bool pops(op o) noexcept {
  return o == op::try_pop || o == op::pop || o == op::pop_for;
}
// May wait (a scenario with one needs a partner that releases it, or a close).
constexpr bool blocks(op o) noexcept {
  return o == op::push || o == op::pop || o == op::push_for || o == op::pop_for;
}
// Closes flows to pushes.
constexpr bool closes(op o) noexcept {
  return o == op::remove_flow || o == op::close;
}

// An operation with its operands. flow: the index of a flow in the run's table (modulo
// its size); cost: the item's cost. For add_flow: flow = the capacity, cost = the quantum.
struct step {
  op o = op::try_pop;
  std::uint32_t flow = 0;
  std::uint32_t cost = 1;
};

// The sequential fuzz target's decoder (its seed corpora are written in it): b % 16
// selects; 0-4 a push (bit 7: try_push_copy, else bit 6: try_emplace, else try_push),
// 5-8 try_pop, 9 add_flow, 10 remove_flow when bit 7 is set (else try_pop), 11 push_for,
// 12 pop_for, 13 and 14 observe, 15 close when bit 7 is set (closing ends most of a
// sequence, so it is rare), else observe. The blocking push/pop would wait forever in a
// sequential run: the decoder never yields them; the target's push_for/pop_for bytes
// pick among the timed and the blocking forms where the model says they return at once.
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
      return op::add_flow;
    case 10:
      return (b & 0x80) != 0 ? op::remove_flow : op::try_pop;
    case 11:
      return op::push_for;
    case 12:
      return op::pop_for;
    case 15:
      return (b & 0x80) != 0 ? op::close : op::observe;
    default:
      return op::observe;
  }
}

// A scheduled thread's operations (dsched scenarios, the schedule fuzz target): pushes in
// three forms, try_pops, one blocking push and one blocking pop (a scenario with those
// adds a closer thread, so nobody waits forever), remove_flow, add_flow, close and the
// observers.
inline constexpr op script_mix[] = {
    op::try_push, op::try_push, op::try_push,    op::try_push, op::try_push_copy, op::try_emplace,
    op::try_pop,  op::try_pop,  op::try_pop,     op::try_pop,  op::push,          op::pop,
    op::add_flow, op::observe,  op::remove_flow, op::close};
inline constexpr std::size_t script_mix_size = sizeof(script_mix) / sizeof(script_mix[0]);
static_assert(script_mix_size == 16, "step_from_byte uses the low four bits");

constexpr op script_op_from_byte(std::uint8_t b) noexcept {
  return script_mix[b % script_mix_size];
}

// One byte -> one step: b & 15 the operation (script_mix), bits 4-5 the flow (0-3),
// bits 6-7 the cost (1-4; costs above a quantum of 1-3 make items wait for turns). For
// add_flow: capacity 1 + bits 4-5 (1-4), quantum 1 + bits 6-7 (1-4).
constexpr step step_from_byte(std::uint8_t b) noexcept {
  step s;
  s.o = script_op_from_byte(b);
  const std::uint32_t f = (b >> 4) & 3U;
  const std::uint32_t c = 1 + ((b >> 6) & 3U);
  s.flow = s.o == op::add_flow ? f + 1 : f;
  s.cost = c;
  return s;
}

}  // namespace lockless::test::drr_scheduler_ops

namespace lockless::test {
using drr_scheduler_op = drr_scheduler_ops::op;
}  // namespace lockless::test
