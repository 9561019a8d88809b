// Relacy: lockless::treiber_stack with epoch-based reclamation, with the real headers.
// Scenarios in treiber_stack_scenarios.hpp; mutants in treiber_stack_mutants.cpp/.cmake.
//
// Usage: relacy_treiber_stack [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "support/relacy_runner.hpp"
#include "treiber_stack_scenarios.hpp"

using namespace lockless_relacy;

namespace {

// Runs a scenario that frees nodes during the execution, and fails the check if none
// of its executions did (the scenario would have become vacuous).
template <class Suite>
void run_reclaiming(report& r, const char* name, const plan& p) {
  executions_total() = 0;
  executions_with_reclamation() = 0;
  r.run<Suite>(name, p);
  std::printf("    %s: a popped node was freed during %llu of %llu executions\n", name,
              executions_with_reclamation(), executions_total());
  r.require(name, executions_total() == 0 || executions_with_reclamation() > 0,
            "no execution reclaimed a node during the run");
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // Two threads, push/push/pop/pop each: random schedules, then every schedule with at
  // most one preemption.
  r.run<treiber_push_pop>("treiber_push_pop", random_plan(500000));
  r.run<treiber_push_pop>("treiber_push_pop", bound_plan(1));
  // Two threads freeing nodes the other may hold (context bound 1 takes over 5 minutes).
  run_reclaiming<treiber_reclaim>(r, "treiber_reclaim", random_plan(500000));
  // Three threads.
  run_reclaiming<treiber_three>(r, "treiber_three", random_plan(300000));
  return r.exit_code();
}
