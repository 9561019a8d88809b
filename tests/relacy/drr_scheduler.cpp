// Relacy: lockless::drr_scheduler (flows of capacity 1-2, one or two flows, 2-3 threads),
// with the real header. Scenarios and what each execution is checked for in
// drr_scheduler_scenarios.hpp; mutants in drr_scheduler_mutants.cpp/.cmake.
//
// Usage: relacy_drr_scheduler [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "drr_scheduler_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// Runs a scenario and fails the check if the evidence it must leave (counted by `which`
// over its executions) never appeared: the scenario would have become vacuous.
template <class Suite>
void run_with_evidence(report& r, const char* name, const plan& p,
                       unsigned long long drr_evidence::* which, const char* what) {
  drr_evidence_counts() = {};
  r.run<Suite>(name, p);
  const drr_evidence& e = drr_evidence_counts();
  std::printf("    %s: %s in %llu of %llu executions\n", name, what, e.*which, e.executions);
  r.require(name, e.executions == 0 || e.*which > 0, what);
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // Random schedules. Every mutant of drr_scheduler_mutants.cpp is caught by the scenarios
  // its table names (where, and the plans, in its comment); these counts are what the real
  // header must pass, in about 4 s in all. The two wake-up bugs fixed before this test
  // existed are DEADLOCKs here: a consumer asleep behind the gate with items listed
  // (drr_two_waiting_consumers, at execution 1,171) and a producer asleep on a flow with
  // room (drr_blocked_push, at 169). A soak: `random <iterations>` (200,000 of each pass).
  // Context bound 1 is exhaustive but dear: drr_activation about 90,000 executions,
  // drr_two_producers about a million (over a minute); both passed.
  r.run<drr_activation>("drr_activation", random_plan(20000));
  r.run<drr_two_producers>("drr_two_producers", random_plan(20000));
  run_with_evidence<drr_remove>(r, "drr_remove", random_plan(10000),
                                &drr_evidence::with_reclamation,
                                "a removed flow was freed during the run");
  r.run<drr_close>("drr_close", random_plan(10000));
  r.run<drr_close_full_flow>("drr_close_full_flow", random_plan(30000));
  r.run<drr_inbox>("drr_inbox", random_plan(20000));
  run_with_evidence<drr_two_consumers>(r, "drr_two_consumers", random_plan(10000),
                                       &drr_evidence::with_busy, "a try_pop said busy");
  r.run<drr_blocking>("drr_blocking", random_plan(10000));
  r.run<drr_two_waiting_consumers>("drr_two_waiting_consumers", random_plan(10000));
  r.run<drr_blocked_push>("drr_blocked_push", random_plan(10000));
  return r.exit_code();
}
