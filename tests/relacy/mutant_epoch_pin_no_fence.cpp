// Relacy mutant: pin's full fence [G1] is removed (epoch.hpp, store_then_full_fence).
// The writer's scan may miss a reader's pin while the reader's load of `current` still
// returns the unlinked object: the writer advances twice, frees it, the reader reads it.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_pin_no_fence
//       [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#if !defined(LOCKLESS_RELACY_MUTANT)
#error "built without its mutation: declare it in tests/relacy/mutants.cmake"
#endif

#include "relacy_runner.hpp"
#include "epoch_scenario.hpp"
#include "treiber_scenario.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  r.expect_failure<ebr_retire>("ebr_retire", random_plan(300000),
                               {rl::test_result_access_to_freed_memory});
  r.expect_failure<ebr_slow_reader>("ebr_slow_reader", bound_plan(1),
                                    {rl::test_result_access_to_freed_memory});
  // The same bug seen through the Treiber stack (its two-thread scenarios miss it).
  r.expect_failure<treiber_three>("treiber_three", random_plan(300000),
                                  {rl::test_result_access_to_freed_memory});
  return r.exit_code();
}
