// Relacy mutant: synchronize()'s wait loop reads the epoch relaxed instead of acquire
// [Y1] (epoch.hpp).
// When the advance that ends the wait is another thread's, the caller is no longer
// ordered after the reader's critical section that advance scanned: its delete (the
// destructor's write) races with the reader's read. Three threads.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_synchronize_relaxed
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
  r.expect_failure<ebr_synchronize_advancer>("ebr_synchronize_advancer",
                                             random_plan(300000),
                                             {rl::test_result_data_race});
  return r.exit_code();
}
