// Relacy mutant: pin's fence [G1] is acq_rel instead of seq_cst (epoch.hpp,
// store_then_full_fence).
// An acq_rel fence does not order the pin's store before the reader's later load (store
// buffering), so this fails like a missing fence, but only in schedules where the
// reader's earlier loads did not already synchronize with the writer: the random
// scheduler needs the slow reader to find it (ebr_retire: not found in 2 M executions).
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_pin_acq_rel_fence
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
  r.expect_failure<ebr_slow_reader>("ebr_slow_reader", random_plan(300000),
                                    {rl::test_result_access_to_freed_memory});
  r.expect_failure<ebr_retire_poison>("ebr_retire_poison", bound_plan(1),
                                      {rl::test_result_data_race});
  return r.exit_code();
}
