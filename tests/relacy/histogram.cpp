// Relacy: lockless::histogram, observers racing the hot/cold flip of snapshots, with the
// real header. Scenarios and what each execution is checked for in
// histogram_scenarios.hpp; mutants in histogram_mutants.cpp/.cmake.
//
// Usage: relacy_histogram [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "histogram_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// Random schedules with room for the pacing polls (histogram_scenarios.hpp) and the
// hundreds of atomic steps of a native snapshot.
plan hist_plan(rl::iteration_t iterations) {
  plan p = random_plan(iterations);
  p.execution_depth_limit = 100000;
  return p;
}

// Runs a scenario and fails the check if no execution had a partial snapshot (one that
// counted some observations but not all): the scenario would no longer race observers
// with snapshots.
template <class Suite>
void run_racing(report& r, const char* name, const plan& p) {
  evidence() = {};
  r.run<Suite>(name, p);
  std::printf("    %s: a snapshot during the run was partial in %llu of %llu executions\n", name,
              evidence().with_partial, evidence().executions);
  r.require(name, evidence().executions == 0 || evidence().with_partial > 0,
            "no snapshot during the run was partial");
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  // A plan given on the command line gets the same room (see hist_plan).
  override_plan().value.execution_depth_limit = hist_plan(1).execution_depth_limit;
  report r;
  // Every mutant of histogram_mutants.cpp is caught within 50 executions; these counts
  // leave a margin of a hundred times and more, in about 6 s of CPU in all (a native
  // snapshot is hundreds of atomic steps, so the native scenarios run fewer).
  // A soak: `random <iterations>`.
  run_racing<hist_one_shard>(r, "hist_one_shard", hist_plan(50000));
  run_racing<hist_two_shards>(r, "hist_two_shards", hist_plan(20000));
  run_racing<hist_native_coarsen>(r, "hist_native_coarsen", hist_plan(4000));
  run_racing<hist_native_reuse>(r, "hist_native_reuse", hist_plan(5000));
  run_racing<hist_lanes>(r, "hist_lanes", hist_plan(20000));
  run_racing<hist_lane_owner_snapshots>(r, "hist_lane_owner_snapshots", hist_plan(20000));
  return r.exit_code();
}
