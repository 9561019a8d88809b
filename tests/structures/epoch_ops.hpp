// tests/structures/epoch_ops.hpp: epoch_domain's ONE operation alphabet, shared by every
// layer that spells operations: the schedule scenarios (structures/epoch_scenarios.hpp,
// run by tests/dsched/epoch.cpp and tests/fuzz/epoch_sched.cpp), the sequential fuzz
// target (tests/fuzz/epoch_seq.cpp) and the stress tests' operation mixes
// (tests/stress/epoch.cpp).
//
// Two families. The RCU pattern (schedules, stress): a shared pointer that readers follow
// and writers replace; each operation is one whole read or write. The domain's own calls
// (sequential fuzzing, and flush/barrier/unregister in the schedules too): pin, unpin,
// lock, retire, ... one call each.
//
//   op                 one letter per operation (a script is a string of letters;
//                      switch (op{c}) reads one back)
//   all                every operation, in declaration order
//   name(o)            for printing
//   from_byte(b)       the sequential fuzz target's decoder: one input byte -> operation
//   script_mix         what a scheduled thread's script is drawn from (the schedule fuzz
//                      target: byte b -> script_mix[b % size]); weighted by repetition
//   writes(o)          whether a script operation replaces the shared object
//
// Plain C++ with no dependencies beyond <cstddef>/<cstdint>, like treiber_stack_ops.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockless::test::epoch_ops {

enum class op : char {
  // The RCU pattern.
  read = 'r',           // pin, load the shared pointer, check the object, unpin
  read_nested = 'n',    // the same inside a second (nested) guard
  read_locked = 'l',    // the same through the BasicLockable facade (scoped_lock on the domain)
  read_slow = 'h',      // the same, holding the pin across a sleep
  write = 'w',          // swap in a new object, retire the old one
  write_guarded = 'v',  // swap while pinned, check the old object, retire it via the guard
  write_sync = 's',     // swap in a new object, synchronize(), free the old one
  // The domain's calls.
  pin = 'p',           // a new (nested) epoch_guard
  unpin = 'P',         // release the innermost guard
  lock = 'k',          // lock(): the BasicLockable facade
  unlock = 'K',        // unlock()
  retire = 'd',        // retire(p) with the default deleter (operand: through a guard)
  retire_small = 'e',  // retire(p, small lambda): the deleter is stored inline
  retire_big = 'E',    // retire(p, big lambda): the deleter is boxed
  retire_burst = 'D',  // a burst of retires (operand: how many): fills whole bags
  flush = 'f',         // flush()
  synchronize = 'y',   // synchronize() (throws while pinned)
  barrier = 'b',       // barrier() (throws while pinned)
  unregister = 'u',    // unregister_current_thread()
  stats = 't',         // stats() and its invariants
};

inline constexpr op all[] = {op::read,         op::read_nested,   op::read_locked,  op::read_slow,
                             op::write,        op::write_guarded, op::write_sync,   op::pin,
                             op::unpin,        op::lock,          op::unlock,       op::retire,
                             op::retire_small, op::retire_big,    op::retire_burst, op::flush,
                             op::synchronize,  op::barrier,       op::unregister,   op::stats};

constexpr const char* name(op o) noexcept {
  switch (o) {
    case op::read:
      return "read";
    case op::read_nested:
      return "read_nested";
    case op::read_locked:
      return "read_locked";
    case op::read_slow:
      return "read_slow";
    case op::write:
      return "write";
    case op::write_guarded:
      return "write_guarded";
    case op::write_sync:
      return "write_sync";
    case op::pin:
      return "pin";
    case op::unpin:
      return "unpin";
    case op::lock:
      return "lock";
    case op::unlock:
      return "unlock";
    case op::retire:
      return "retire";
    case op::retire_small:
      return "retire_small";
    case op::retire_big:
      return "retire_big";
    case op::retire_burst:
      return "retire_burst";
    case op::flush:
      return "flush";
    case op::synchronize:
      return "synchronize";
    case op::barrier:
      return "barrier";
    case op::unregister:
      return "unregister";
    case op::stats:
      return "stats";
  }
  return "?";
}

constexpr char letter(op o) noexcept {
  return static_cast<char>(o);
}

// Whether a script operation writes (replaces the shared object).
constexpr bool writes(op o) noexcept {
  return o == op::write || o == op::write_guarded || o == op::write_sync;
}

// The sequential fuzz target's decoder (its seed corpora are written in it): b % 12
// selects, 0 pin, 1 unpin, 2 lock (bit 7: unlock), 3 retire, 4 retire_small,
// 5 retire_big (for 3-5, bit 7 is the operand "through the innermost guard"),
// 6 retire_burst, 7 flush, 8 synchronize, 9 barrier, 10/11 stats.
constexpr op from_byte(std::uint8_t b) noexcept {
  switch (b % 12) {
    case 0:
      return op::pin;
    case 1:
      return op::unpin;
    case 2:
      return (b & 0x80) != 0 ? op::unlock : op::lock;
    case 3:
      return op::retire;
    case 4:
      return op::retire_small;
    case 5:
      return op::retire_big;
    case 6:
      return op::retire_burst;
    case 7:
      return op::flush;
    case 8:
      return op::synchronize;
    case 9:
      return op::barrier;
    default:
      return op::stats;
  }
}

// A scheduled thread's operations (dsched scenarios and the schedule fuzz target).
// Weighted for the fuzz target: readers and writers more often than the domain calls (its
// seed corpora are written in this order).
inline constexpr op script_mix[] = {op::read,  op::read,    op::read_nested,
                                    op::write, op::write,   op::write_sync,
                                    op::flush, op::barrier, op::unregister};
inline constexpr std::size_t script_mix_size = sizeof(script_mix) / sizeof(script_mix[0]);

constexpr op script_op_from_byte(std::uint8_t b) noexcept {
  return script_mix[b % script_mix_size];
}

}  // namespace lockless::test::epoch_ops

namespace lockless::test {
using epoch_op = epoch_ops::op;
}  // namespace lockless::test
