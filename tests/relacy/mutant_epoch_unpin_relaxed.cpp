// Relacy mutant: unpin's store [G3] is relaxed instead of release (epoch.hpp).
// The scan still sees "not pinned", but the reader's critical section no longer
// happens-before the advance, hence before the deleter. No read ever follows the free,
// so only the destructor's write (poison) shows it: a data race.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_unpin_relaxed
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
  r.expect_failure<ebr_retire_poison_registered>("ebr_retire_poison_registered",
                                                 random_plan(300000),
                                                 {rl::test_result_data_race});
  r.expect_failure<ebr_retire_poison>("ebr_retire_poison", bound_plan(1),
                                      {rl::test_result_data_race});
  return r.exit_code();
}
