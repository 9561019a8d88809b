// Relacy mutant: barrier()'s fence between its wait and its forced collection [B1] is
// removed (epoch.hpp).
// The other half of mutant_epoch_recheck_no_fence: barrier() may find the sealed list
// empty while a concurrent collector, which put the batch back, reads a stale epoch.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_barrier_no_fence
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
  r.expect_failure<ebr_barrier_collector>("ebr_barrier_collector", random_plan(300000),
                                          {rl::test_result_user_assert_failed});
  return r.exit_code();
}
