// callgrind_treiber_stack: a tiny driver (not a Google Benchmark binary) for counting the
// instructions of one single-threaded push+pop pair with valgrind --tool=callgrind.
// Instruction counts are repeatable on a noisy machine where timings are not.
//
//   callgrind_treiber_stack --list            the implementations compiled in, one per line
//   callgrind_treiber_stack <impl> [pairs]    warm up, then run `pairs` push+pop pairs (default
//                                     1000000) inside measured_pairs<>()
//
// scripts/callgrind_pair.sh runs it under callgrind with
// --toggle-collect='*measured_pairs*', so only the measured loop is counted (not the
// warm-up, the thread's registration or the program's start-up), and prints the
// instructions per pair of each implementation.
#include "treiber_stack_impls.hpp"
#include "support/stack_callgrind.hpp"

int main(int argc, char** argv) {
  return lockless_bench::stack_callgrind_main<
      lockless_bench::lockless_treiber, lockless_bench::std_mutex_stack
#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
      ,
      lockless_bench::boost_lockfree_stack
#endif
#if defined(LOCKLESS_HAVE_LIBCDS)
      ,
      lockless_bench::libcds_treiber_hp, lockless_bench::libcds_treiber_dhp
#endif
      >("callgrind_treiber_stack", argc, argv);
}
