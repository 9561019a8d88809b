// Relacy mutant: the store that publishes a new thread record on the domain's list is
// relaxed instead of release (epoch.hpp, acquire_record). Untagged in the contract.
// A thread that scans the records (try_advance, without the registration mutex) may
// read a record's fields before the writes that initialised them.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_record_publish_relaxed
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
  r.expect_failure<ebr_retire_poison>("ebr_retire_poison", random_plan(300000),
                                      {rl::test_result_data_race,
                                       rl::test_result_unitialized_access});
  return r.exit_code();
}
