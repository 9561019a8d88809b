// Relacy mutant: seal's full fence [S1] is removed (epoch.hpp).
// The tag may then be read before the unlink is visible to a reader that pins at a newer
// epoch meanwhile (the reader flushes, so the epoch moves between the writer's unlink and
// its seal): the tag is older than that reader's epoch, and the batch is freed while the
// reader still reads the object.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_seal_no_fence
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
  r.expect_failure<ebr_flushing_reader>("ebr_flushing_reader", random_plan(300000),
                                        {rl::test_result_data_race,
                                         rl::test_result_access_to_freed_memory});
  r.expect_failure<ebr_flushing_reader>("ebr_flushing_reader", bound_plan(1),
                                        {rl::test_result_data_race,
                                         rl::test_result_access_to_freed_memory});
  return r.exit_code();
}
