// Relacy mutant: the advance's CAS [A3] is acquire instead of acq_rel (epoch.hpp): it
// loses the release that hands what the scan [A2] acquired on to collectors.
// A thread that frees a batch because another thread advanced the epoch is no longer
// ordered after the critical sections that advance scanned: the destructor's write races
// with a reader's read. Needs a collector other than the advancer: three threads.
//
// Built against a mutated copy of the headers (see mutants.cmake); exits 0 only if
// Relacy reports each failure below with the expected kind, 1 if the mutant slips
// through or is caught for another reason. Same usage as the other programs:
//   relacy_mutant_epoch_advance_cas_acquire
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
  r.expect_failure<ebr_two_readers>("ebr_two_readers", random_plan(500000),
                                    {rl::test_result_data_race});
  // The same through synchronize(): the wait ends on another thread's advance.
  r.expect_failure<ebr_synchronize_advancer>("ebr_synchronize_advancer",
                                             random_plan(300000),
                                             {rl::test_result_data_race});
  return r.exit_code();
}
