// Relacy mutant: pop's load of head_ [C1] is relaxed instead of acquire
// (treiber_stack.hpp).
// The popper reads the loaded node's next before its CAS; without the acquire that read
// is not ordered after the pusher's write of next: a data race (on real hardware, a
// stale next that the CAS would then install as the new head).
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_treiber_pop_load_relaxed
//       [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#if !defined(LOCKLESS_RELACY_MUTANT)
#error "built without its mutation: declare it in tests/relacy/mutants.cmake"
#endif

#include "relacy_runner.hpp"
#include "treiber_scenario.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  r.expect_failure<treiber_push_pop>("treiber_push_pop", random_plan(100000),
                                     {rl::test_result_data_race});
  r.expect_failure<treiber_push_pop>("treiber_push_pop", bound_plan(1),
                                     {rl::test_result_data_race});
  return r.exit_code();
}
