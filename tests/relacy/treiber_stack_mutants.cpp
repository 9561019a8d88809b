// Relacy mutants of treiber_stack: one program, built once per mutant declared in
// treiber_stack_mutants.cmake (each build sees its own mutated copy of the headers and gets the
// mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per mutant, which
// scenarios must catch it and with which kind of failure; the program exits 0 only if
// Relacy reports each one as expected, 1 if the mutant slips through or is caught for
// another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#include "support/relacy_runner.hpp"
#include "treiber_stack_scenarios.hpp"

using namespace lockless_relacy;

namespace {

const mutant_table mutants = {
    mutant<"mutant_treiber_stack_delete_not_retire">(
        // try_pop deletes the unlinked node at once instead of retiring it
        // (treiber_stack.hpp).
        // The textbook Treiber use-after-free: another popper that loaded the node reads its next
        // after the delete (and, with the memory reused, could fall for ABA).
        []<class = void>(report& r) {
          r.expect_failure<treiber_reclaim>("treiber_reclaim", random_plan(100000),
                                            {rl::test_result_access_to_freed_memory});
          r.expect_failure<treiber_push_pop>("treiber_push_pop", bound_plan(1),
                                             {rl::test_result_access_to_freed_memory});
        }),
    mutant<"mutant_treiber_stack_pop_cas_failure_relaxed">(
        // pop's CAS [TC3] is relaxed on failure instead of acquire
        // (treiber_stack.hpp).
        // A failed CAS reloads the head into `expected`, and the next round reads that node's
        // next before its CAS: without the acquire the read races with the pusher's write.
        []<class = void>(report& r) {
          r.expect_failure<treiber_push_pop>("treiber_push_pop", random_plan(100000),
                                             {rl::test_result_data_race});
          r.expect_failure<treiber_push_pop>("treiber_push_pop", bound_plan(1),
                                             {rl::test_result_data_race});
        }),
    mutant<"mutant_treiber_stack_pop_load_relaxed">(
        // pop's load of head_ [TC1] is relaxed instead of acquire
        // (treiber_stack.hpp).
        // The popper reads the loaded node's next before its CAS; without the acquire that read
        // is not ordered after the pusher's write of next: a data race (on real hardware, a
        // stale next that the CAS would then install as the new head).
        []<class = void>(report& r) {
          r.expect_failure<treiber_push_pop>("treiber_push_pop", random_plan(100000),
                                             {rl::test_result_data_race});
          r.expect_failure<treiber_push_pop>("treiber_push_pop", bound_plan(1),
                                             {rl::test_result_data_race});
        }),
    mutant<"mutant_treiber_stack_push_relaxed">(
        // push's CAS [TP2] is relaxed instead of release (treiber_stack.hpp).
        // A popper's acquire load of head_ no longer synchronizes with the push that published
        // the node, so its read of next and of the payload races with the pusher's writes.
        []<class = void>(report& r) {
          r.expect_failure<treiber_push_pop>("treiber_push_pop", random_plan(100000),
                                             {rl::test_result_data_race});
          r.expect_failure<treiber_push_pop>("treiber_push_pop", bound_plan(1),
                                             {rl::test_result_data_race});
        }),
    mutant<"mutant_treiber_stack_load_before_pin">(
        // try_pop loads head_ before its guard pins: a node another popper retires meanwhile
        // can be freed (nothing holds the epoch back) before this popper reads its next. It
        // takes a third thread to advance the epoch twice in between: treiber_reclaim's two
        // threads do not catch it (100,000 random schedules). The freed node is read either
        // while it is free (ACCESS TO FREED MEMORY) or after a push has reused its memory: a
        // DATA RACE with the new node's construction (`early` was loaded acquire, so a node
        // still live would be race-free). Which one the random plan meets first depends on
        // the exact sequence of the epoch's operations, not on the bug.
        []<class = void>(report& r) {
          r.expect_failure<treiber_three>(
              "treiber_three", random_plan(100000),
              {rl::test_result_access_to_freed_memory, rl::test_result_data_race});
          r.expect_failure<treiber_three>("treiber_three", bound_plan(1),
                                          {rl::test_result_access_to_freed_memory});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  return run_mutant(argc, argv, mutants);
}
