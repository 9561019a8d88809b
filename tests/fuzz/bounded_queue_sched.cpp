// tests/fuzz/bounded_queue_sched.cpp: schedule fuzzing of bounded_queue.
//
// The input picks the queue's capacity and options, the operations of 2-3 threads and
// the interleaving. bounded_queue_schedule_run() (structures/bounded_queue_scenarios.hpp)
// runs the scripts on the real header built with LOCKLESS_DSCHED, the rest of the input
// driving dsched::byte_schedule (the next thread at every yield point), records the
// history, drains the queue, and checks that the history is linearizable against
// lc::spec::bounded_queue(capacity).full_when_in_flight().drained() (FIFO, exact empty and
// closed, full relaxed by one slot per overlapping operation, as the header documents)
// and that every payload was destroyed exactly once. ASan sees any use of a freed slot,
// LSan any leak; a deadlock (a lost wake-up) or a livelock (step limit) fails too. Every
// input replays exactly: the bytes are the schedule.
//
// Encoding: byte 0: capacity 1 + (b & 3) (1..4); bit 2: a closer thread (one more
// scheduled thread that only calls close(), wherever the schedule puts it); bit 3:
// queue_options{.may_block = false} (the blocking letters then run try_push / try_pop);
// bit 4: queue_options{.fast_empty = true} (pops answer empty from their cell while the
// order word is quiet: the history must stay linearizable with every interleaving of the
// publish-side check, the marking and the quieting pop).
// A closer is also added whenever a script holds a blocking operation and the queue may
// block, so that every wait is released by a close if not by a partner. Then the scripts
// (support/fuzz_input.hpp, decode_scripts: 2-3 threads, 1-6 operations each, letters from
// the queue's alphabet structures/bounded_queue_ops.hpp, script_op_from_byte: try_push,
// try_pop, push, pop), then the schedule bytes.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <lockless/bounded_queue.hpp>

#include "structures/bounded_queue_ops.hpp"
#include "structures/bounded_queue_scenarios.hpp"
#include "support/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ops = lockless::test::bounded_queue_ops;
  lockless_fuzz::input in(data, size);
  const std::uint8_t config = in.u8();
  const std::size_t capacity = 1 + (config & 3);
  const bool no_block = (config & 0x08) != 0;
  const bool fast_empty = (config & 0x10) != 0;
  const std::vector<std::string> scripts = lockless_fuzz::decode_scripts(
      in, [](std::uint8_t b) { return ops::letter(ops::script_op_from_byte(b)); }, 2, 3, 6);
  bool blocking = false;
  for (const std::string& s : scripts) {
    for (char c : s) blocking = blocking || ops::blocks(ops::op{c});
  }
  lockless::test::bounded_queue_schedule_options opt;
  opt.closer = (config & 0x04) != 0 || (blocking && !no_block);
  opt.run.max_steps = 100'000;  // a few hundred are normal; more is a livelock
  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  const auto run = [&]<lockless::queue_options Options>() {
    return lockless::test::bounded_queue_schedule_run<Options>(schedule, scripts, capacity, opt);
  };
  using lockless::queue_options;
  const std::string failure =
      no_block
          ? (fast_empty
                 ? run.template operator()<queue_options{.may_block = false, .fast_empty = true}>()
                 : run.template operator()<queue_options{.may_block = false}>())
          : (fast_empty ? run.template operator()<queue_options{.fast_empty = true}>()
                        : run.template operator()<queue_options{}>());
  if (!failure.empty()) {
    std::fprintf(stderr, "%s\n", failure.c_str());
    FUZZ_CHECK(failure.empty());
  }
  return 0;
}
