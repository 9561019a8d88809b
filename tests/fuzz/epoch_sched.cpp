// tests/fuzz/epoch_sched.cpp: schedule fuzzing of epoch_domain.
//
// The input picks the operations of 2-4 threads on an RCU-style pointer and the
// interleaving: decode_scripts gives each thread, in the epoch alphabet
// (structures/epoch_ops.hpp, script_op_from_byte), readers (plain and nested), retiring
// and synchronizing writers, flush, barrier and unregister; the rest of
// the input drives dsched::byte_schedule at every yield point of the real epoch.hpp (built
// with LOCKLESS_DSCHED), thread exit and its orphan hand-over included.
// epoch_schedule_run() (structures/epoch_scenarios.hpp) checks that no reader ever sees a
// freed object, that nothing stays pinned, and that every object is freed exactly once
// after a final barrier(); ASan and LSan watch the domain's own memory. A deadlock or a
// livelock (step limit) fails too. Every input replays exactly.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <lockless/epoch.hpp>

#include "support/fuzz_input.hpp"
#include "structures/epoch_ops.hpp"
#include "structures/epoch_scenarios.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::input in(data, size);
  namespace ops = lockless::test::epoch_ops;
  const std::vector<std::string> scripts = lockless_fuzz::decode_scripts(
      in, [](std::uint8_t b) { return ops::letter(ops::script_op_from_byte(b)); });
  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  lockless::dsched::options opt;
  opt.max_steps = 100'000;
  lockless::epoch_domain domain;  // per input: its epochs and garbage are ours alone
  const lockless::test::epoch_outcome r = lockless::test::epoch_schedule_run(
      schedule, scripts, domain, lockless::test::disposal::retire, opt);
  if (!r.failure.empty()) {
    std::fprintf(stderr, "%s\n", r.failure.c_str());
    FUZZ_CHECK(r.failure.empty());
  }
  return 0;
}
