// Relacy: lockless::epoch_domain::synchronize() (unlink, wait for readers, delete), with
// the real header. Scenarios in epoch_scenarios.hpp.
//
// Usage: relacy_epoch_synchronize [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#include "epoch_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  r.run<ebr_synchronize>("ebr_synchronize", random_plan(300000));
  r.run<ebr_synchronize>("ebr_synchronize", bound_plan(2));
  r.run<ebr_synchronize_slow_reader>("ebr_synchronize_slow_reader", random_plan(300000));
  r.run<ebr_synchronize_slow_reader>("ebr_synchronize_slow_reader", bound_plan(1));
  r.run<ebr_synchronize_flushing_reader>("ebr_synchronize_flushing_reader", random_plan(300000));
  r.run<ebr_synchronize_flushing_reader>("ebr_synchronize_flushing_reader", bound_plan(1));
  r.run<ebr_synchronize_flushing_slow_reader>("ebr_synchronize_flushing_slow_reader",
                                              random_plan(300000));
  // Three threads: the advance that ends the wait may be another thread's.
  r.run<ebr_synchronize_advancer>("ebr_synchronize_advancer", random_plan(300000));
  return r.exit_code();
}
