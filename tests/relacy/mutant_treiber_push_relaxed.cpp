// Relacy mutant: push's CAS [P2] is relaxed instead of release (treiber_stack.hpp).
// A popper's acquire load of head_ no longer synchronizes with the push that published
// the node, so its read of next and of the payload races with the pusher's writes.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_treiber_push_relaxed
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
