// tests/fuzz/histogram_sched.cpp: schedule fuzzing of histogram.
//
// The input picks the histogram's layout and shard count, the operations of 2-3 threads
// and the interleaving. histogram_schedule_run() (structures/histogram_scenarios.hpp)
// runs the scripts on the real header built with LOCKLESS_DSCHED, the rest of the input
// driving dsched::byte_schedule (the next thread at every yield point), and checks every
// snapshot when it is taken (consistent: count == +Inf bucket == the classic buckets, the
// per-class counts decoded from it put exactly the native buckets it reports there, the
// sum is that of exactly the counted observations, the native bound kept unless at
// schema -4), all of them after the run (support/snapshot_check.hpp: each includes what
// ended before it started and nothing that started after it ended; they form one chain
// along which counts and native buckets, reduced to the later schema, only grow) and a
// final snapshot that must equal what was observed. A deadlock or a livelock (step limit)
// fails too. Every input replays exactly: the bytes are the schedule (and the thread
// stripes are realigned before each run).
//
// Encoding: byte 0: bits 0-1: the model (0 and 3 "exact": dyadic values, zero threshold
// 0.25, schema 2, max_buckets 3; 1 "wide": 2^-750 .. 2^600, +-Inf, NaN, max_buckets 2;
// 2 "classic": classic buckets only); bit 2: 2 shards instead of 1. Then the scripts
// (support/fuzz_input.hpp, decode_scripts: 2-3 threads, 1-6 operations each, letters of
// the histogram's alphabet structures/histogram_ops.hpp, script_op_from_byte: observe,
// observe_n, snapshot), then the schedule bytes.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <lockless/histogram.hpp>

#include "structures/histogram_ops.hpp"
#include "structures/histogram_scenarios.hpp"
#include "support/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ops = lockless::test::histogram_ops;
  lockless_fuzz::input in(data, size);
  const std::uint8_t config = in.u8();
  const lockless::test::histogram_model* model = &lockless::test::histogram_exact_model();
  if ((config & 3) == 1) model = &lockless::test::histogram_wide_model();
  if ((config & 3) == 2) model = &lockless::test::histogram_classic_model();
  const std::size_t shards = (config & 4) != 0 ? 2 : 1;
  const std::vector<std::string> scripts = lockless_fuzz::decode_scripts(
      in, [](std::uint8_t b) { return ops::letter(ops::script_op_from_byte(b)); }, 2, 3, 6);
  lockless::test::histogram_schedule_options opt;
  opt.run.max_steps = 200'000;  // a snapshot of a native histogram is ~1,000; more: a livelock
  lockless::dsched::byte_schedule schedule(in.rest(), in.rest_size());
  const std::string failure =
      lockless::test::histogram_schedule_run(schedule, *model, shards, scripts, opt);
  if (!failure.empty()) {
    std::fprintf(stderr, "%s\n", failure.c_str());
    FUZZ_CHECK(failure.empty());
  }
  return 0;
}
