// Relacy mutant: try_pop deletes the unlinked node at once instead of retiring it
// (treiber_stack.hpp).
// The textbook Treiber use-after-free: another popper that loaded the node reads its next
// after the delete (and, with the memory reused, could fall for ABA).
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_treiber_delete_not_retire
//       [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#if !defined(LOCKLESS_RELACY_MUTANT)
#error "built without its mutation: declare it in tests/relacy/mutants.cmake"
#endif

#include "relacy_runner.hpp"
#include "treiber_scenario.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  r.expect_failure<treiber_reclaim>("treiber_reclaim", random_plan(100000),
                                    {rl::test_result_access_to_freed_memory});
  r.expect_failure<treiber_push_pop>("treiber_push_pop", bound_plan(1),
                                     {rl::test_result_access_to_freed_memory});
  return r.exit_code();
}
