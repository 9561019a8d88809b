// Relacy mutants of epoch: one program, built once per mutant declared in
// epoch_mutants.cmake (each build sees its own mutated copy of the headers and gets the
// mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per mutant, which
// scenarios must catch it and with which kind of failure; the program exits 0 only if
// Relacy reports each one as expected, 1 if the mutant slips through or is caught for
// another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#include "support/relacy_runner.hpp"
#include "epoch_scenarios.hpp"
#include "treiber_stack_scenarios.hpp"

using namespace lockless_relacy;

namespace {

const mutant_table mutants = {
    mutant<"mutant_epoch_advance_cas_acquire">(
        // the advance's CAS [EA3] is acquire instead of acq_rel (epoch.hpp): it
        // loses the release that hands what the scan [EA2] acquired on to collectors.
        // A thread that frees a batch because another thread advanced the epoch is no longer
        // ordered after the critical sections that advance scanned: the destructor's write races
        // with a reader's read. Needs a collector other than the advancer: three threads.
        []<class = void>(report& r) {
          r.expect_failure<ebr_two_readers>("ebr_two_readers", random_plan(500000),
                                            {rl::test_result_data_race});
          // The same through synchronize(): the wait ends on another thread's advance.
          r.expect_failure<ebr_synchronize_advancer>(
              "ebr_synchronize_advancer", random_plan(300000), {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_advance_reads_epoch_after_fence">(
        // try_advance reads the epoch after its fence [EA1] instead of before it (epoch.hpp,
        // INV1): a program order, not a memory order.
        // The advancer's fence may precede the reader's pin, so its scan may miss the pin,
        // while the epoch it then reads is the writer's advance, which came after that fence:
        // it advances from that epoch and frees the batch the reader still reads. Needs the
        // advancer preempted between its fence and its read, the reader pinned across the
        // writer's whole flush, and a stale read of the reader's record: context bound 1
        // finds it in ebr_advance_order; random schedules do not (2 M executions of it), nor
        // does any other scenario with its usual plans (all of epoch.cpp's and
        // epoch_synchronize.cpp's, ebr_advancer's 500 K random executions included, and the
        // Treiber stack's).
        []<class = void>(report& r) {
          r.expect_failure<ebr_advance_order>("ebr_advance_order", bound_plan(1),
                                              {rl::test_result_access_to_freed_memory});
        }),
    mutant<"mutant_epoch_advance_no_fence">(
        // try_advance's full fence [EA1] is removed (epoch.hpp).
        // A thread that advances the epoch without having sealed a bag (so without seal's fence
        // [ES1] on its path) may miss a reader's pin and advance past it; the writer then frees
        // what the reader still reads.
        []<class = void>(report& r) {
          r.expect_failure<ebr_advancer>("ebr_advancer", random_plan(500000),
                                         {rl::test_result_access_to_freed_memory});
        }),
    mutant<"mutant_epoch_barrier_no_fence">(
        // barrier()'s fence between its wait and its forced collection [EB1] is
        // removed (epoch.hpp).
        // The other half of mutant_epoch_recheck_no_fence: barrier() may find the sealed list
        // empty while a concurrent collector, which put the batch back, reads a stale epoch.
        []<class = void>(report& r) {
          r.expect_failure<ebr_barrier_collector>("ebr_barrier_collector", random_plan(300000),
                                                  {rl::test_result_user_assert_failed});
        }),
    mutant<"mutant_epoch_collect_relaxed">(
        // collect's load of the epoch [ER2] is relaxed instead of acquire
        // (epoch.hpp).
        // A thread that frees a bag because another thread advanced the epoch is no longer
        // ordered after the critical sections that advance waited for: the destructor's write
        // races with a reader's read. Needs a collector other than the advancer: three threads.
        []<class = void>(report& r) {
          r.expect_failure<ebr_two_readers>("ebr_two_readers", random_plan(500000),
                                            {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_pin_acq_rel_fence">(
        // pin's fence [EG1] is acq_rel instead of seq_cst (epoch.hpp,
        // store_then_full_fence).
        // An acq_rel fence does not order the pin's store before the reader's later load (store
        // buffering), so this fails like a missing fence, but only in schedules where the
        // reader's earlier loads did not already synchronize with the writer: the random
        // scheduler needs the slow reader to find it (ebr_retire: not found in 2 M executions).
        []<class = void>(report& r) {
          r.expect_failure<ebr_slow_reader>("ebr_slow_reader", random_plan(300000),
                                            {rl::test_result_access_to_freed_memory});
          r.expect_failure<ebr_retire_poison>("ebr_retire_poison", bound_plan(1),
                                              {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_pin_no_fence">(
        // pin's full fence [EG1] is removed (epoch.hpp, store_then_full_fence).
        // The writer's scan may miss a reader's pin while the reader's load of `current` still
        // returns the unlinked object: the writer advances twice, frees it, the reader reads it.
        []<class = void>(report& r) {
          r.expect_failure<ebr_retire>("ebr_retire", random_plan(300000),
                                       {rl::test_result_access_to_freed_memory});
          r.expect_failure<ebr_slow_reader>("ebr_slow_reader", bound_plan(1),
                                            {rl::test_result_access_to_freed_memory});
          // The same bug seen through the Treiber stack (its two-thread scenarios miss it).
          // The prematurely freed node is read either while it is free (ACCESS TO FREED
          // MEMORY) or after a push has reused its memory (DATA RACE on the new node's next;
          // the popper's load is acquire, so a live node's next would be race-free):
          // which of the two the random plan meets first depends on the exact sequence of
          // the library's atomic operations, not on the bug.
          r.expect_failure<treiber_three>(
              "treiber_three", random_plan(300000),
              {rl::test_result_access_to_freed_memory, rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_push_relaxed">(
        // the push of a sealed batch [ES2] is relaxed instead of release
        // (epoch.hpp, push_sealed).
        // A thread that takes the sealed list and frees another thread's batch no longer sees
        // that thread's writes to the bag and to the retired object: its reads of the bag's
        // fields race with them.
        []<class = void>(report& r) {
          r.expect_failure<ebr_handover>("ebr_handover", random_plan(300000),
                                         {rl::test_result_data_race});
          r.expect_failure<ebr_handover>("ebr_handover", bound_plan(1),
                                         {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_recheck_no_fence">(
        // collect's fence before re-reading the epoch [ER3] is removed (epoch.hpp).
        // A collector that took the sealed list while a batch was too young puts it back and
        // re-reads the epoch; without the fence (store buffering against barrier()'s [EB1]) it
        // may read a stale epoch while barrier(), which advanced the epoch, found the list
        // empty. Nobody then frees the batch barrier() was waiting for.
        []<class = void>(report& r) {
          r.expect_failure<ebr_barrier_collector>("ebr_barrier_collector", random_plan(300000),
                                                  {rl::test_result_user_assert_failed});
        }),
    mutant<"mutant_epoch_record_publish_relaxed">(
        // the store that publishes a new thread record on the domain's list is
        // relaxed instead of release (epoch.hpp, acquire_record). Untagged in the contract.
        // A thread that scans the records (try_advance, without the registration mutex) may
        // read a record's fields before the writes that initialised them.
        []<class = void>(report& r) {
          r.expect_failure<ebr_retire_poison>(
              "ebr_retire_poison", random_plan(300000),
              {rl::test_result_data_race, rl::test_result_unitialized_access});
        }),
    mutant<"mutant_epoch_scan_relaxed">(
        // the scan's load of a thread record [EA2] is relaxed instead of acquire
        // (epoch.hpp).
        // Seeing "not pinned" no longer orders the reader's critical section before the
        // advance, hence before the deleter: the destructor's write races with the read.
        []<class = void>(report& r) {
          r.expect_failure<ebr_retire_poison_registered>(
              "ebr_retire_poison_registered", random_plan(300000), {rl::test_result_data_race});
          // Not ebr_barrier: barrier() puts a seq_cst fence [EB1] after its scan, and a relaxed
          // load followed by a fence with acquire semantics synchronizes with the release store
          // it read, so on that path [EA2]'s acquire is redundant and the mutant is harmless.
          // synchronize() followed by delete has no such fence.
          r.expect_failure<ebr_synchronize>("ebr_synchronize", random_plan(300000),
                                            {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_seal_no_fence">(
        // seal's full fence [ES1] is removed (epoch.hpp).
        // The tag may then be read before the unlink is visible to a reader that pins at a newer
        // epoch meanwhile (the reader flushes, so the epoch moves between the writer's unlink and
        // its seal): the tag is older than that reader's epoch, and the batch is freed while the
        // reader still reads the object.
        []<class = void>(report& r) {
          r.expect_failure<ebr_flushing_reader>(
              "ebr_flushing_reader", random_plan(300000),
              {rl::test_result_data_race, rl::test_result_access_to_freed_memory});
          r.expect_failure<ebr_flushing_reader>(
              "ebr_flushing_reader", bound_plan(1),
              {rl::test_result_data_race, rl::test_result_access_to_freed_memory});
        }),
    mutant<"mutant_epoch_synchronize_no_fence">(
        // synchronize()'s full fence [EY0] is removed (epoch.hpp).
        // The bug Relacy found in synchronize(): without the fence, the epoch read that sets the
        // wait's target may precede the visibility of the caller's unlink. A reader that flushed
        // (moving the epoch on), pinned at the new epoch and still loads the unlinked object is
        // then not waited for: synchronize() returns one epoch early and the caller deletes the
        // object under the reader.
        []<class = void>(report& r) {
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
        }),
    mutant<"mutant_epoch_synchronize_relaxed">(
        // synchronize()'s wait loop reads the epoch relaxed instead of acquire
        // [EY1] (epoch.hpp).
        // When the advance that ends the wait is another thread's, the caller is no longer
        // ordered after the reader's critical section that advance scanned: its delete (the
        // destructor's write) races with the reader's read. Three threads.
        []<class = void>(report& r) {
          r.expect_failure<ebr_synchronize_advancer>(
              "ebr_synchronize_advancer", random_plan(300000), {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_take_relaxed">(
        // collect's take of the sealed list [ER1] is relaxed instead of acquire
        // (epoch.hpp).
        // The mirror image of mutant_epoch_push_relaxed: a thread that frees another thread's
        // batch reads the bag's fields without a happens-before edge from their writes.
        []<class = void>(report& r) {
          r.expect_failure<ebr_handover>("ebr_handover", random_plan(300000),
                                         {rl::test_result_data_race});
          r.expect_failure<ebr_handover>("ebr_handover", bound_plan(1),
                                         {rl::test_result_data_race});
        }),
    mutant<"mutant_epoch_unpin_relaxed">(
        // unpin's store [EG3] is relaxed instead of release (epoch.hpp).
        // The scan still sees "not pinned", but the reader's critical section no longer
        // happens-before the advance, hence before the deleter. No read ever follows the free,
        // so only the destructor's write (poison) shows it: a data race.
        []<class = void>(report& r) {
          r.expect_failure<ebr_retire_poison_registered>(
              "ebr_retire_poison_registered", random_plan(300000), {rl::test_result_data_race});
          r.expect_failure<ebr_retire_poison>("ebr_retire_poison", bound_plan(1),
                                              {rl::test_result_data_race});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  return run_mutant(argc, argv, mutants);
}
