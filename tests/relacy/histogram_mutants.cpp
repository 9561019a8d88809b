// Relacy mutants of histogram: one program, built once per mutant declared in
// histogram_mutants.cmake (each build sees its own mutated copy of the headers and gets
// the mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per mutant, which
// scenarios must catch it and with which kind of failure; the program exits 0 only if
// Relacy reports each one as expected, 1 if the mutant slips through or is caught for
// another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
//        relacy_<mutant> survey [<iterations> [<scenario>]]   (every scenario, or one, with
//                         random schedules: what Relacy reports for each; no verdict)
#include "support/relacy_prelude.hpp"

#include <cstring>

#include "histogram_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// An RL_ASSERT of the scenario failed: an inconsistent, non-prefix or non-monotone
// snapshot, or a final snapshot that is not exact.
constexpr rl::test_result_e wrong_result = rl::test_result_user_assert_failed;

// Random schedules with room for the pacing polls (histogram_scenarios.hpp) and the
// hundreds of atomic steps of a native snapshot.
plan hist_plan(rl::iteration_t iterations) {
  plan p = random_plan(iterations);
  p.execution_depth_limit = 100000;
  return p;
}

// The checks several mutants share. Templates, like the table's lambdas, so that a build
// instantiates only the scenarios of its own mutant (support/relacy_runner.hpp).

// A shard's counters read stale or reset under a guest: every model with shards.
template <class = void>
void stale_shards(report& r) {
  r.expect_failure<hist_one_shard>("hist_one_shard", hist_plan(20000), {wrong_result});
  r.expect_failure<hist_two_shards>("hist_two_shards", hist_plan(20000), {wrong_result});
  r.expect_failure<hist_native_coarsen>("hist_native_coarsen", hist_plan(2000), {wrong_result});
}
// A guest counting in a native slot whose code it read before the reset.
template <class = void>
void native_reuse(report& r) {
  r.expect_failure<hist_native_reuse>("hist_native_reuse", hist_plan(5000), {wrong_result});
}
// A lane read torn or stale.
template <class = void>
void torn_lane(report& r) {
  r.expect_failure<hist_lanes>("hist_lanes", hist_plan(20000), {wrong_result});
}

// Iterations: every mutant below is caught within 50 executions (survey, -O0 build); the
// plans leave a wide margin. A mutant that is caught costs only the executions up to it.
const mutant_table mutants = {
    // [HL1] relaxed: a shard's holder reads the previous holder's counters stale (a lost
    // increment, or a snapshot whose sum disagrees with its buckets).
    mutant<"mutant_histogram_lock_relaxed">([]<class = void>(report& r) { stale_shards(r); }),
    // [HL2] relaxed: the same edge, on the releasing side.
    mutant<"mutant_histogram_unlock_relaxed">([]<class = void>(report& r) { stale_shards(r); }),
    // [HO1] relaxed: a guest reads the code it claimed before the reset and counts in a
    // slot whose code is empty; the next snapshot's native buckets miss it. Only
    // hist_native_reuse reaches this (classic counters are read-modify-writes, which
    // Relacy always serves the latest value: see the report in histogram_mutants.cmake).
    mutant<"mutant_histogram_join_relaxed">([]<class = void>(report& r) { native_reuse(r); }),
    // [HS2] relaxed: the same edge, on the snapshot's side.
    mutant<"mutant_histogram_flip_relaxed">([]<class = void>(report& r) { native_reuse(r); }),
    // [HO4] relaxed: the snapshot reads a finished guest's counters stale.
    mutant<"mutant_histogram_done_relaxed">([]<class = void>(report& r) { stale_shards(r); }),
    // [HS3] relaxed: the same edge, on the snapshot's side.
    mutant<"mutant_histogram_wait_relaxed">([]<class = void>(report& r) { stale_shards(r); }),
    mutant<"mutant_histogram_no_wait">(
        // the snapshot reads and resets the old hot set while a guest is still adding to it.
        []<class = void>(report& r) {
          r.expect_failure<hist_one_shard>("hist_one_shard", hist_plan(20000), {wrong_result});
          r.expect_failure<hist_two_shards>("hist_two_shards", hist_plan(20000), {wrong_result});
          native_reuse(r);
        }),
    mutant<"mutant_histogram_no_mutex">(
        // [HS1] gone: concurrent snapshots drain the guests' lane and update the base at once.
        []<class = void>(report& r) {
          r.expect_failure<hist_two_shards>("hist_two_shards", hist_plan(20000), {wrong_result});
        }),
    mutant<"mutant_histogram_no_reset">(
        // the drained set keeps its counts and its `completed`, which then never equals the
        // restarted count of calls: the next drain of that set waits for ever.
        []<class = void>(report& r) {
          r.expect_failure<hist_one_shard>("hist_one_shard", hist_plan(20000),
                                           {rl::test_result_livelock, wrong_result});
        }),
    // [HW2] relaxed: a snapshot reads a lane's bucket counter from a call in flight without
    // seeing that call's odd sequence, and reports the bucket without its sum.
    mutant<"mutant_histogram_lane_store_relaxed">([]<class = void>(report& r) { torn_lane(r); }),
    // [HW3] relaxed: a snapshot reads the even sequence of a finished call without its
    // counters (a stale bucket or sum beside a fresh one).
    mutant<"mutant_histogram_lane_publish_relaxed">([]<class = void>(report& r) { torn_lane(r); }),
    // [HR1] relaxed: the same edge, on the snapshot's side.
    mutant<"mutant_histogram_lane_read_relaxed">([]<class = void>(report& r) { torn_lane(r); }),
    // [HR2] relaxed: a bucket counter read from a call in flight need not bring its odd
    // sequence to the re-check.
    mutant<"mutant_histogram_lane_counters_relaxed">([]<class = void>(report& r) { torn_lane(r); }),
    // [HR3] gone: the snapshot keeps what it read while the owner wrote (a torn lane).
    mutant<"mutant_histogram_lane_no_recheck">([]<class = void>(report& r) { torn_lane(r); }),
};

}  // namespace

int main(int argc, char** argv) {
  if (is_survey(argc, argv)) {
    return run_survey(argc, argv, hist_plan, []<class = void>(const survey& s) {
      s.one<hist_one_shard>("hist_one_shard");
      s.one<hist_two_shards>("hist_two_shards");
      s.one<hist_native_coarsen>("hist_native_coarsen");
      s.one<hist_native_reuse>("hist_native_reuse");
      s.one<hist_lanes>("hist_lanes");
      s.one<hist_lane_owner_snapshots>("hist_lane_owner_snapshots");
    });
  }
  if (!parse_args(argc, argv)) return 2;
  // A plan given on the command line gets the same room (see hist_plan); run_mutant is
  // handed no arguments, so that it keeps this plan.
  override_plan().value.execution_depth_limit = hist_plan(1).execution_depth_limit;
  return run_mutant(1, argv, mutants);
}
