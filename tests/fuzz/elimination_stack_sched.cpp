// tests/fuzz/elimination_stack_sched.cpp: schedule fuzzing of elimination_stack.
//
// As tests/fuzz/treiber_stack_sched.cpp (the same decoding, in the same alphabet,
// structures/elimination_stack_ops.hpp, which is treiber_stack's; the same runner,
// structures/treiber_stack_scenarios.hpp): a few bytes decode into the scripts of 2-4
// threads (push, try_pop, flush, a flush from inside a guard), the rest drives
// dsched::byte_schedule at every yield point of the real header (LOCKLESS_DSCHED). One
// more leading byte picks the options: width 1 or 2 (bit 0), force_exchange (bit 1, else
// the exchanger is visited only after a failed central CAS). Statistics are on, so the
// runner also follows every thread through the exchanger (exchanger_paths,
// structures/elimination_stack_scenarios.hpp) and checks that stats().eliminated_pairs
// equals the exchanges it saw and that both sides of each exchange saw it. Checks: a
// linearizable LIFO history, every payload destroyed exactly once once the stack and its
// domain are gone (ASan: no use after free of a node, a handed-over one included; LSan: no
// leak), no deadlock or livelock (step limit). Every input replays exactly.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "structures/elimination_stack_ops.hpp"
#include "structures/elimination_stack_scenarios.hpp"
#include "support/fuzz_input.hpp"

namespace {

template <lockless::elimination_options Options>
void run(const std::vector<std::string>& scripts, lockless_fuzz::input& in) {
  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  lockless::dsched::options opt;
  opt.max_steps = 100'000;  // a few thousand are normal; more is a livelock
  lockless::test::exchanger_paths paths;
  const lockless::test::treiber_outcome r =
      lockless::test::elimination_schedule_run<Options>(schedule, scripts, opt, &paths);
  if (!r.failure.empty()) {
    std::fprintf(stderr, "%s\n", r.failure.c_str());
    FUZZ_CHECK(r.failure.empty());
  }
}

constexpr unsigned spins = 4;  // short waits: each round is a yield point

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::input in(data, size);
  namespace ops = lockless::test::elimination_stack_ops;
  const std::uint8_t variant = in.u8();
  const std::vector<std::string> scripts = lockless_fuzz::decode_scripts(
      in, [](std::uint8_t b) { return ops::letter(ops::script_op_from_byte(b)); });
  using lockless::elimination_options;
  switch (variant & 3) {
    case 0:
      run<elimination_options{.width = 1, .exchange_spins = spins, .statistics = true}>(scripts,
                                                                                        in);
      break;
    case 1:
      run<elimination_options{.width = 2, .exchange_spins = spins, .statistics = true}>(scripts,
                                                                                        in);
      break;
    case 2:
      run<elimination_options{
          .width = 1, .exchange_spins = spins, .statistics = true, .force_exchange = true}>(scripts,
                                                                                            in);
      break;
    default:
      run<elimination_options{
          .width = 2, .exchange_spins = spins, .statistics = true, .force_exchange = true}>(scripts,
                                                                                            in);
      break;
  }
  return 0;
}
