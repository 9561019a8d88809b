// Relacy mutant: synchronize()'s full fence [Y0] is removed (epoch.hpp).
// The bug Relacy found in synchronize(): without the fence, the epoch read that sets the
// wait's target may precede the visibility of the caller's unlink. A reader that flushed
// (moving the epoch on), pinned at the new epoch and still loads the unlinked object is
// then not waited for: synchronize() returns one epoch early and the caller deletes the
// object under the reader.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_synchronize_no_fence
//       [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#if !defined(LOCKLESS_RELACY_MUTANT)
#error "built without its mutation: declare it in tests/relacy/mutants.cmake"
#endif

#include "epoch_scenario.hpp"
#include "relacy_runner.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  r.expect_failure<ebr_synchronize_flushing_reader>(
      "ebr_synchronize_flushing_reader", random_plan(300000), {rl::test_result_data_race});
  r.expect_failure<ebr_synchronize_flushing_reader>(
      // Bound 2, not 1: every thread now registers before its first step (registration
      // takes the domain's mutex, which orders), so the losing interleaving needs one
      // more preemption. Either report is the mutant's use-after-free.
      "ebr_synchronize_flushing_reader", bound_plan(2),
      {rl::test_result_data_race, rl::test_result_access_to_freed_memory});
  r.expect_failure<ebr_synchronize_flushing_slow_reader>(
      "ebr_synchronize_flushing_slow_reader", random_plan(300000),
      {rl::test_result_access_to_freed_memory});
  return r.exit_code();
}
