// Relacy mutant: the scan's load of a thread record [A2] is relaxed instead of acquire
// (epoch.hpp).
// Seeing "not pinned" no longer orders the reader's critical section before the
// advance, hence before the deleter: the destructor's write races with the read.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_scan_relaxed
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
  // Not ebr_barrier: barrier() puts a seq_cst fence [B1] after its scan, and a relaxed
  // load followed by a fence with acquire semantics synchronizes with the release store
  // it read, so on that path [A2]'s acquire is redundant and the mutant is harmless.
  // synchronize() followed by delete has no such fence.
  r.expect_failure<ebr_synchronize>("ebr_synchronize", random_plan(300000),
                                    {rl::test_result_data_race});
  return r.exit_code();
}
