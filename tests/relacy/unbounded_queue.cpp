// Relacy: lockless::unbounded_queue across segment boundaries (segment_size 2), with the
// real header. Scenarios and what each execution is checked for in
// unbounded_queue_scenarios.hpp; mutants in unbounded_queue_mutants.cpp/.cmake.
//
// Usage: relacy_unbounded_queue [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "support/relacy_runner.hpp"
#include "unbounded_queue_scenarios.hpp"

using namespace lockless_relacy;

namespace {

// Runs a scenario whose flushes must run a retired segment's deleter during some of its
// executions, and fails the check if none did (the scenario would have become vacuous).
template <class Suite>
void run_reclaiming(report& r, const char* name, const plan& p) {
  evidence() = {};
  r.run<Suite>(name, p);
  std::printf("    %s: a retired segment's deleter ran during %llu of %llu executions\n", name,
              evidence().with_reclamation, evidence().executions);
  r.require(name, evidence().executions == 0 || evidence().with_reclamation > 0,
            "no execution ran a segment's deleter during the run");
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // 60,000 random executions per scenario: more than ten times what the slowest mutant
  // needs to be caught (tests/relacy/unbounded_queue_mutants.cpp: [UC2] at about 4,500,
  // close without notify at about 4,700), about 9 s in all. A soak: `random <iterations>`.
  run_reclaiming<uq_spsc_cross>(r, "uq_spsc_cross", random_plan(60000));
  run_reclaiming<uq_spsc_free>(r, "uq_spsc_free", random_plan(60000));
  run_reclaiming<uq_burn>(r, "uq_burn", random_plan(60000));
  run_reclaiming<uq_tail_lag>(r, "uq_tail_lag", random_plan(60000));
  r.run<uq_close_seal>("uq_close_seal", random_plan(60000));
  r.run<uq_close_push>("uq_close_push", random_plan(60000));
  r.run<uq_pingpong>("uq_pingpong", random_plan(60000));
  r.run<uq_close_two_waiters>("uq_close_two_waiters", random_plan(60000));
  return r.exit_code();
}
