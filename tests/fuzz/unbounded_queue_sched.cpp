// tests/fuzz/unbounded_queue_sched.cpp: schedule fuzzing of unbounded_queue.
//
// The input picks the queue's options, the operations of 2-3 threads and the
// interleaving. unbounded_queue_schedule_run() (structures/unbounded_queue_scenarios.hpp)
// runs the scripts on the real header built with LOCKLESS_DSCHED, on its own epoch domain
// and a counting allocator, the rest of the input driving dsched::byte_schedule (the next
// thread at every yield point), records the history, drains the queue, and checks that
// the history is linearizable against lc::spec::queue().drained() (FIFO, exact empty and
// closed), that a push refused as closed gave its argument back, that the quiescent
// size_approx() matches the drain, and that every payload was destroyed and every
// segment freed exactly once. ASan sees any use of a freed segment, LSan any leak; a
// deadlock (a lost wake-up) or a livelock (step limit) fails too. Every input replays
// exactly: the bytes are the schedule.
//
// Encoding: byte 0: bit 0: segments of 3 cells instead of 2; bit 1: no segment cache
// (cached_segments = 0); bit 2: a closer thread (one more scheduled thread that only
// calls close(), wherever the schedule puts it); bit 3: may_block = false (the blocking
// pop then runs try_pop). A closer is also added whenever a script holds a blocking pop
// and the queue may block, so that every wait is released by a close if not by a
// partner. Then the scripts (support/fuzz_input.hpp, decode_scripts: 2-3 threads, 1-6
// operations each, letters from the queue's alphabet structures/unbounded_queue_ops.hpp,
// script_op_from_byte: try_push, try_pop, push, pop), then the schedule bytes.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <lockless/unbounded_queue.hpp>

#include "structures/unbounded_queue_ops.hpp"
#include "structures/unbounded_queue_scenarios.hpp"
#include "support/fuzz_input.hpp"

namespace {

using lockless::unbounded_queue_options;
using lockless::test::unbounded_queue_schedule_options;

template <unbounded_queue_options O>
std::string run(lockless::dsched::strategy& s, const std::vector<std::string>& scripts,
                const unbounded_queue_schedule_options& opt) {
  return lockless::test::unbounded_queue_schedule_run<O>(s, scripts, opt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ops = lockless::test::unbounded_queue_ops;
  lockless_fuzz::input in(data, size);
  const std::uint8_t config = in.u8();
  const bool three = (config & 0x01) != 0;
  const bool no_cache = (config & 0x02) != 0;
  const bool no_block = (config & 0x08) != 0;
  const std::vector<std::string> scripts = lockless_fuzz::decode_scripts(
      in, [](std::uint8_t b) { return ops::letter(ops::script_op_from_byte(b)); }, 2, 3, 6);
  bool blocking = false;
  for (const std::string& s : scripts) {
    for (char c : s) blocking = blocking || ops::blocks(ops::op{c});
  }
  unbounded_queue_schedule_options opt;
  opt.closer = (config & 0x04) != 0 || (blocking && !no_block);
  opt.run.max_steps = 100'000;  // a few hundred are normal; more is a livelock
  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  std::string failure;
  const std::size_t seg = three ? 3 : 2;
  const std::size_t cache = no_cache ? 0 : 2;
  // Eight instantiations: segment 2/3 x cache 2/0 x may_block.
  if (no_block) {
    if (seg == 2 && cache == 2)
      failure = run<unbounded_queue_options{false, 2, 2}>(schedule, scripts, opt);
    if (seg == 2 && cache == 0)
      failure = run<unbounded_queue_options{false, 2, 0}>(schedule, scripts, opt);
    if (seg == 3 && cache == 2)
      failure = run<unbounded_queue_options{false, 3, 2}>(schedule, scripts, opt);
    if (seg == 3 && cache == 0)
      failure = run<unbounded_queue_options{false, 3, 0}>(schedule, scripts, opt);
  } else {
    if (seg == 2 && cache == 2)
      failure = run<unbounded_queue_options{true, 2, 2}>(schedule, scripts, opt);
    if (seg == 2 && cache == 0)
      failure = run<unbounded_queue_options{true, 2, 0}>(schedule, scripts, opt);
    if (seg == 3 && cache == 2)
      failure = run<unbounded_queue_options{true, 3, 2}>(schedule, scripts, opt);
    if (seg == 3 && cache == 0)
      failure = run<unbounded_queue_options{true, 3, 0}>(schedule, scripts, opt);
  }
  if (!failure.empty()) {
    std::fprintf(stderr, "%s\n", failure.c_str());
    FUZZ_CHECK(failure.empty());
  }
  return 0;
}
