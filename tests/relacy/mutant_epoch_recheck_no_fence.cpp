// Relacy mutant: collect's fence before re-reading the epoch [R3] is removed (epoch.hpp).
// A collector that took the sealed list while a batch was too young puts it back and
// re-reads the epoch; without the fence (store buffering against barrier()'s [B1]) it
// may read a stale epoch while barrier(), which advanced the epoch, found the list
// empty. Nobody then frees the batch barrier() was waiting for.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_recheck_no_fence
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
