// Relacy mutant: try_advance's full fence [A1] is removed (epoch.hpp).
// A thread that advances the epoch without having sealed a bag (so without seal's fence
// [S1] on its path) may miss a reader's pin and advance past it; the writer then frees
// what the reader still reads.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_advance_no_fence
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
  r.expect_failure<ebr_advancer>("ebr_advancer", random_plan(500000),
                                 {rl::test_result_access_to_freed_memory});
  return r.exit_code();
}
