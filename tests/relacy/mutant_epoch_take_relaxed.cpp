// Relacy mutant: collect's take of the sealed list [R1] is relaxed instead of acquire
// (epoch.hpp).
// The mirror image of mutant_epoch_push_relaxed: a thread that frees another thread's
// batch reads the bag's fields without a happens-before edge from their writes.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_take_relaxed
//       [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#if !defined(LOCKLESS_RELACY_MUTANT)
#error "built without its mutation: declare it in tests/relacy/mutants.cmake"
#endif

#include "relacy_runner.hpp"
#include "epoch_scenario.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  r.expect_failure<ebr_handover>("ebr_handover", random_plan(300000),
                                 {rl::test_result_data_race});
  r.expect_failure<ebr_handover>("ebr_handover", bound_plan(1),
                                 {rl::test_result_data_race});
  return r.exit_code();
}
