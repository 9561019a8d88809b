// Relacy: lockless::epoch_domain alone (retire + flush, barrier), with the real header.
// Scenarios in epoch_scenarios.hpp; synchronize() has its own program,
// epoch_synchronize.cpp; mutants of the same scenarios in epoch_mutants.cpp/.cmake.
//
// Usage: relacy_epoch [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "epoch_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // Two threads: random schedules, and every schedule with at most one preemption
  // (ebr_retire's bounded search is left to ebr_retire_poison, which sees the same
  // schedules and reports a superset of the failures).
  r.run<ebr_retire>("ebr_retire", random_plan(300000));
  r.run<ebr_retire_poison>("ebr_retire_poison", random_plan(300000));
  r.run<ebr_retire_poison>("ebr_retire_poison", bound_plan(1));
  r.run<ebr_retire_poison_registered>("ebr_retire_poison_registered", random_plan(200000));
  r.run<ebr_handover>("ebr_handover", random_plan(200000));
  r.run<ebr_handover>("ebr_handover", bound_plan(1));
  r.run<ebr_flushing_reader>("ebr_flushing_reader", random_plan(200000));
  r.run<ebr_flushing_reader>("ebr_flushing_reader", bound_plan(1));
  r.run<ebr_slow_reader>("ebr_slow_reader", random_plan(300000));
  r.run<ebr_slow_reader>("ebr_slow_reader", bound_plan(1));
  r.run<ebr_barrier>("ebr_barrier", random_plan(300000));
  r.run<ebr_barrier>("ebr_barrier", bound_plan(1));
  r.run<ebr_barrier_collector>("ebr_barrier_collector", random_plan(300000));
  // Three threads: random schedules only (context bound 1 takes over 10 minutes).
  r.run<ebr_two_readers>("ebr_two_readers", random_plan(500000));
  r.run<ebr_advancer>("ebr_advancer", random_plan(500000));
  // Three threads doing one step each: small enough for context bound 1 (625 K executions),
  // which is what finds a read of E after [EA1] (random schedules do not).
  r.run<ebr_advance_order>("ebr_advance_order", random_plan(100000));
  r.run<ebr_advance_order>("ebr_advance_order", bound_plan(1));
  return r.exit_code();
}
