// tests/fuzz/treiber_stack_sched.cpp: schedule fuzzing of treiber_stack.
//
// The input picks the operations of 2-4 threads and the interleaving: a few bytes decode
// into per-thread scripts (decode_scripts, in the stack's alphabet
// structures/treiber_stack_ops.hpp: script_op_from_byte draws push, try_pop, flush and a
// flush from inside a guard), and the rest of the input drives dsched::byte_schedule, which
// decides the next thread at every yield point of the real header (built with
// LOCKLESS_DSCHED). treiber_schedule_run() (structures/treiber_stack_scenarios.hpp) records the
// history, drains the stack, and checks that the history is a linearizable LIFO history
// and that every payload was destroyed exactly once once the stack and its domain are
// gone; ASan sees any use after free of a node, LSan any leak. A deadlock or a livelock
// (step limit) fails too. Every input replays exactly: the bytes are the schedule.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "support/fuzz_input.hpp"
#include "structures/treiber_stack_ops.hpp"
#include "structures/treiber_stack_scenarios.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::input in(data, size);
  namespace ops = lockless::test::treiber_stack_ops;
  const std::vector<std::string> scripts = lockless_fuzz::decode_scripts(
      in, [](std::uint8_t b) { return ops::letter(ops::script_op_from_byte(b)); });
  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  lockless::dsched::options opt;
  opt.max_steps = 100'000;  // a few hundred are normal; more is a livelock
  const lockless::test::treiber_outcome r =
      lockless::test::treiber_schedule_run(schedule, scripts, opt);
  if (!r.failure.empty()) {
    std::fprintf(stderr, "%s\n", r.failure.c_str());
    FUZZ_CHECK(r.failure.empty());
  }
  return 0;
}
