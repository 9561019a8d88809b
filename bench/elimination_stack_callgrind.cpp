// callgrind_elimination_stack: a tiny driver (not a Google Benchmark binary) for counting
// the instructions of one single-threaded push+pop pair with valgrind --tool=callgrind,
// elimination_stack beside treiber_stack and the peers (bench/elimination_stack_impls.hpp).
// On one thread no central CAS fails, so elimination_stack never touches its array: the
// count is the cost of the shared code path (detail::treiber_core) with the elimination
// policy plugged in, against treiber_stack's plain back-off.
//
//   callgrind_elimination_stack --list            the implementations compiled in, one per
//                                                 line (lockless_treiber first: the ratios'
//                                                 reference)
//   callgrind_elimination_stack <impl> [pairs]    warm up, then run `pairs` push+pop pairs
//                                                 (default 1000000) inside measured_pairs<>()
//
// bash scripts/callgrind_pair.sh --suite elimination_stack [pairs] [impl...] runs it under
// callgrind with --toggle-collect='*measured_*', so only the measured loop is counted.
// The driver's body is bench/support/stack_callgrind.hpp, shared with
// bench/treiber_stack_callgrind.cpp.
#include "elimination_stack_impls.hpp"
#include "support/stack_callgrind.hpp"

int main(int argc, char** argv) {
  return lockless_bench::stack_callgrind_main<
      lockless_bench::lockless_treiber, lockless_bench::lockless_elimination,
      lockless_bench::lockless_elimination_stats, lockless_bench::std_mutex_stack
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
      ,
      lockless_bench::boost_lockfree_stack
#endif
#if defined(LOCKLESS_HAVE_LIBCDS)
      ,
      lockless_bench::libcds_treiber_hp, lockless_bench::libcds_treiber_dhp,
      lockless_bench::libcds_elim_hp, lockless_bench::libcds_elim_hp_spin
#endif
      >("callgrind_elimination_stack", argc, argv);
}
