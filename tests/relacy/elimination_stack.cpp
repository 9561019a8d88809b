// Relacy: lockless::elimination_stack (one exchanger slot) with epoch-based reclamation, with
// the real headers. Scenarios in elimination_stack_scenarios.hpp; mutants in
// elimination_stack_mutants.cpp/.cmake.
//
// Usage: relacy_elimination_stack [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "elimination_stack_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// Runs a scenario without force_exchange, and fails the check if none of its executions
// eliminated a pair (the scenario would no longer reach the exchanger).
template <class Suite>
void run_eliminating(report& r, const char* name, const plan& p) {
  elim_executions_total() = 0;
  elim_executions_eliminated() = 0;
  r.run<Suite>(name, p);
  std::printf("    %s: a pair was eliminated in %llu of %llu executions\n", name,
              elim_executions_eliminated(), elim_executions_total());
  r.require(name, elim_executions_total() == 0 || elim_executions_eliminated() > 0,
            "no execution eliminated a pair");
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // The pairs: every schedule with at most 3 (elim_pair, about 330,000 executions) or 2
  // (elim_give, about 250,000) preemptions; a full search of elim_pair does not end within
  // minutes (no partial-order reduction). The mutants need at most 2 (elimination_stack_mutants.cpp).
  r.run<elim_pair>("elim_pair", bound_plan(3));
  r.run<elim_give>("elim_give", bound_plan(2));
  // Two ops a side: every schedule with one preemption (about 52,000), then random ones.
  r.run<elim_lifo>("elim_lifo", bound_plan(1));
  r.run<elim_lifo>("elim_lifo", random_plan(100000));
  // Three threads: random schedules (a context bound of 1 does not end within minutes);
  // over twenty times what the slowest mutant needs (about 4,700 executions).
  r.run<elim_three>("elim_three", random_plan(200000));
  run_eliminating<elim_central>(r, "elim_central", random_plan(200000));
  return r.exit_code();
}
