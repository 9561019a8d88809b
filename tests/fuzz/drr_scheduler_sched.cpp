// tests/fuzz/drr_scheduler_sched.cpp: schedule fuzzing of drr_scheduler.
//
// The input picks the flows, the threads' scripts and the interleaving: 2-3 scheduled
// threads run scripts of pushes (three forms, costs 1-4 against quanta 1-4), try_pops,
// blocking push/pop, add_flow, remove_flow, close and observers under
// dsched::byte_schedule (support/dsched.hpp), through drr_schedule_run
// (structures/drr_scheduler_scenarios.hpp), which records the history, drains the
// scheduler and checks it: nothing lost, duplicated or invented; per flow a linearizable
// bounded FIFO with closes (full relaxed by one slot per overlapping operation of the
// flow); no empty answer while an item sat published and listed (a stranded item: the
// activation handshake [DA1]-[DA4]); closed only after close() and once everything was
// delivered; busy only while another consumer was inside; every payload destroyed once.
// A deadlock (a lost wake-up) or a livelock (step limit) fails too; ASan sees any use of a
// freed flow or slot. Every input replays exactly: the bytes are the schedule.
//
// Encoding: byte 0: bits 0-1 the options: 0-1 drr_options{} (several consumers),
// 2 {.single_consumer = true} (only the first script that pops keeps its pops; the
// others' pop bytes push instead), 3 {.may_block = false} (the blocking letters run the
// try_ forms); bit 2: a closer thread (one more scheduled thread that only calls
// close(), wherever the schedule puts it; also added whenever a script holds a blocking
// operation and the scheduler may block, so that every wait is released); bits 3-4: 1-4
// flows; bits 5-6: 0-3 items pushed into them before the run (round robin, cost 1).
// Then one byte per flow: quantum 1 + (f & 3), capacity 1 + ((f >> 2) & 3). Then the
// scripts: one byte for the thread count (2 + b % 2), per thread one byte for its length
// (1 + b % 5) and one byte per step (structures/drr_scheduler_ops.hpp, step_from_byte:
// b & 15 the operation, bits 4-5 the flow, bits 6-7 the cost). Then the schedule bytes.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <lockless/drr_scheduler.hpp>

#include "structures/drr_scheduler_ops.hpp"
#include "structures/drr_scheduler_scenarios.hpp"
#include "support/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ops = lockless::test::drr_scheduler_ops;
  using lockless::drr_options;
  lockless_fuzz::input in(data, size);
  const std::uint8_t config = in.u8();
  const unsigned variant = config & 3U;
  const bool single = variant == 2;
  const bool no_block = variant == 3;
  const unsigned flow_count = 1 + ((config >> 3) & 3U);
  const unsigned prefill = (config >> 5) & 3U;

  std::vector<lockless::test::drr_flow_config> flows;
  for (unsigned i = 0; i < flow_count; ++i) {
    const std::uint8_t f = in.u8();
    flows.push_back({1 + (f & 3U), std::size_t{1} + ((f >> 2) & 3U)});
  }
  lockless::test::drr_schedule_options opt;
  for (unsigned i = 0; i < prefill; ++i) opt.prefill.push_back({i % flow_count, 1});

  const unsigned threads = 2 + in.u8() % 2;
  std::vector<std::string> scripts(threads);
  bool blocking = false;
  int consumer = -1;  // single_consumer: the one thread that may pop
  for (unsigned t = 0; t < threads; ++t) {
    const unsigned n = 1 + in.u8() % 5;
    for (unsigned i = 0; i < n; ++i) {
      ops::step s = ops::step_from_byte(in.u8());
      if (single && ops::pops(s.o)) {
        if (consumer < 0) consumer = static_cast<int>(t);
        if (consumer != static_cast<int>(t)) s.o = ops::op::try_push;
      }
      blocking = blocking || ops::blocks(s.o);
      if (!scripts[t].empty()) scripts[t] += ' ';
      scripts[t] += lockless::test::drr_step_text(s);
    }
  }
  opt.closer = (config & 0x04) != 0 || (blocking && !no_block);
  opt.run.max_steps = 200'000;  // a few hundred to a few thousand are normal
  opt.run.event_log_size = 32;

  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  std::string failure;
  switch (variant) {
    case 2:
      failure = lockless::test::drr_schedule_run<drr_options{.single_consumer = true}>(
          schedule, flows, scripts, opt);
      break;
    case 3:
      failure = lockless::test::drr_schedule_run<drr_options{.may_block = false}>(schedule, flows,
                                                                                  scripts, opt);
      break;
    default:
      failure = lockless::test::drr_schedule_run(schedule, flows, scripts, opt);
      break;
  }
  if (!failure.empty()) {
    std::fprintf(stderr, "scripts:");
    for (const std::string& s : scripts) std::fprintf(stderr, " \"%s\"", s.c_str());
    std::fprintf(stderr, "\n%s\n", failure.c_str());
    FUZZ_CHECK(failure.empty());
  }
  return 0;
}
