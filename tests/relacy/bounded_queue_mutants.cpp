// Relacy mutants of bounded_queue: one program, built once per mutant declared in
// bounded_queue_mutants.cmake (each build sees its own mutated copy of the headers and gets
// the mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per mutant, which
// scenarios must catch it and with which kind of failure; the program exits 0 only if
// Relacy reports each one as expected, 1 if the mutant slips through or is caught for
// another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
//        relacy_<mutant> survey [<iterations> [<scenario>]]   (every scenario, or one, with
//                         random schedules: what Relacy reports for each; no verdict)
#include "support/relacy_prelude.hpp"

#include <cstring>

#include "bounded_queue_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// Relacy's verdicts that mean "the element or the queue's answers were wrong" (an
// RL_ASSERT of the scenario failed).
constexpr rl::test_result_e wrong_result = rl::test_result_user_assert_failed;

// An element's construction and its move-out without a happens-before edge ([QP4]/[QT2]):
// every scenario catches it within a few executions (each moves an element through a
// cell), even bq_close_blocked_pop with its one value. A template, so that only the builds
// that call it instantiate its scenarios (support/relacy_runner.hpp).
template <class = void>
void element_race(report& r) {
  r.expect_failure<bq_try_three>("bq_try_three", random_plan(20000), {rl::test_result_data_race});
  r.expect_failure<bq_close_blocked_pop>("bq_close_blocked_pop", random_plan(20000),
                                         {rl::test_result_data_race});
  r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000), {rl::test_result_data_race});
}

// A move-out and the next build in the same cell without a happens-before edge
// ([QT4]/[QP2]): every scenario that makes a cell go round catches it within a few
// executions (bq_close_push and bq_push_give_up within a few thousand); not the two whose
// one value never does (bq_close_blocked_pop, bq_close_two_waiters).
template <class = void>
void reuse_race(report& r) {
  r.expect_failure<bq_try_cap1>("bq_try_cap1", random_plan(20000), {rl::test_result_data_race});
  r.expect_failure<bq_try_spsc_cap2>("bq_try_spsc_cap2", random_plan(20000),
                                     {rl::test_result_data_race});
  r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000), {rl::test_result_data_race});
}

// The give-up scenarios (bq_pop_give_up, bq_pop_give_up_closed, bq_push_give_up,
// bq_give_up_both) reach a give-up with one preemption, so a context bound of 1 explores
// every place of it. Random schedules reach a give-up's fence a few hundred times in
// 100,000 executions, and against the real header almost never carry it through (that
// needs a thread suspended while the other runs a dozen steps); against a fence mutant the
// stale read does the suspension's work, and they find it within a few thousand. Where a
// mutant lists several checks, each catches it on its own.
//
// The heavy-fence mutants ((g), (h)) are caught by Relacy although, by the letter of
// [atomics.order], the give-up's seq_cst CAS and seq_cst load would suffice against the
// light fence as Relacy models it (a seq_cst fence): Relacy orders a seq_cst fence only
// against other seq_cst fences, not against seq_cst operations. The catch is the right
// one for the real code all the same: there the light fence is a compiler barrier, and
// only the heavy fence orders the pair.

const mutant_table mutants = {
    mutant<"mutant_bounded_queue_publish_relaxed">(
        // (a) [QP4] the publish relaxed: the pop's move-out races with the push's build.
        []<class = void>(report& r) { element_race(r); }),
    mutant<"mutant_bounded_queue_pop_seq_relaxed">(
        // (b) [QT2] the pop's loads of seq relaxed: the same race, from the pop's side.
        []<class = void>(report& r) { element_race(r); }),
    mutant<"mutant_bounded_queue_free_relaxed">(
        // (c) [QT4] the free relaxed: the next push's build races with the move-out.
        []<class = void>(report& r) { reuse_race(r); }),
    mutant<"mutant_bounded_queue_claim_seq_relaxed">(
        // (d) [QP2] the push's loads of seq relaxed: the same race, from the push's side.
        []<class = void>(report& r) { reuse_race(r); }),
    mutant<"mutant_bounded_queue_publish_no_fence">(
        // (e) [QP5] no light fence after the publish. A pop's give-up abandons a ticket
        // whose push reports success: the value is lost (check_values: seen == 1). Found at
        // execution 141 of bq_pop_give_up and 49 of bq_pop_give_up_closed at context bound
        // 1, 8,915 of bq_give_up_both at random. The same fence is [KN1] of the not_empty
        // event count: bq_pingpong's pop sleeps for ever (DEADLOCK, execution 59).
        []<class = void>(report& r) {
          r.expect_failure<bq_pop_give_up>("bq_pop_give_up", bound_plan(1), {wrong_result});
          r.expect_failure<bq_pop_give_up_closed>("bq_pop_give_up_closed", bound_plan(1),
                                                  {wrong_result});
          r.expect_failure<bq_give_up_both>("bq_give_up_both", random_plan(20000), {wrong_result});
          r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000),
                                        {rl::test_result_deadlock});
        }),
    mutant<"mutant_bounded_queue_free_no_fence">(
        // (f) [QT5] no light fence after the free. A push's give-up declares a ticket dead
        // whose cell its holder has freed for it, not past it: the cell is lost to the ring
        // and the quiescent queue accepts fewer than capacity() values (after(): the
        // try_push of the capacity check fails). Found at execution 265 of bq_push_give_up
        // and 29 of bq_give_up_both at context bound 1. The same fence is [KN1] of the
        // not_full event count: bq_pingpong's push sleeps for ever (DEADLOCK, execution 20).
        []<class = void>(report& r) {
          r.expect_failure<bq_push_give_up>("bq_push_give_up", bound_plan(1), {wrong_result});
          r.expect_failure<bq_give_up_both>("bq_give_up_both", bound_plan(1), {wrong_result});
          r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000),
                                        {rl::test_result_deadlock});
        }),
    mutant<"mutant_bounded_queue_give_up_no_fence">(
        // (g) [QG2] no heavy fence in a pop's give-up: the other half of (e), the same lost
        // value. Found at execution 49 of bq_pop_give_up_closed at context bound 1 (the
        // other give-up scenarios pass bound 1), 10,667 of bq_give_up_both at random and
        // 2,469 of bq_pop_give_up at context bound 2. (Before order_ added steps to the
        // schedules: 41, 278, and 2,397 of bq_pop_give_up at random, which 300,000 random
        // executions no longer reach.)
        []<class = void>(report& r) {
          r.expect_failure<bq_pop_give_up_closed>("bq_pop_give_up_closed", bound_plan(1),
                                                  {wrong_result});
          r.expect_failure<bq_give_up_both>("bq_give_up_both", random_plan(20000), {wrong_result});
          r.expect_failure<bq_pop_give_up>("bq_pop_give_up", bound_plan(2), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_skip_no_fence">(
        // (h) [QS2] no heavy fence in a push's give-up: the other half of (f), the same lost
        // cell. No give-up scenario catches it at context bound 1 (the holder's free and the
        // give-up's re-read must interleave with the intent in between, two preemptions);
        // found at execution 50,948 of bq_give_up_both and 18,349 of bq_push_give_up at random
        // (94 and 866 before order_ added steps to the schedules).
        []<class = void>(report& r) {
          r.expect_failure<bq_give_up_both>("bq_give_up_both", random_plan(200000), {wrong_result});
          r.expect_failure<bq_push_give_up>("bq_push_give_up", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_take_relaxed">(
        // (j) [QT1]/[QT3] relaxed: a pop that reads head_ past another pop's take does not
        // see that thread's earlier claim and publish of ticket 1, and answers empty in
        // bq_push_pop_pairs, where no order of the operations allows it (found by Relacy on
        // the first version of this header, which had them relaxed).
        []<class = void>(report& r) {
          r.expect_failure<bq_push_pop_pairs>("bq_push_pop_pairs", bound_plan(2), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_free_before_move">(
        // take() frees the cell before the move-out: the next push builds over the element
        // being moved.
        []<class = void>(report& r) { reuse_race(r); }),
    mutant<"mutant_bounded_queue_push_no_notify">(
        // (i) a push does not wake a sleeping pop.
        []<class = void>(report& r) {
          r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000),
                                        {rl::test_result_deadlock});
        }),
    mutant<"mutant_bounded_queue_close_no_notify">(
        // (i) close() does not wake the sleeping pops: the one that did not get the value
        // sleeps for ever.
        []<class = void>(report& r) {
          r.expect_failure<bq_close_two_waiters>("bq_close_two_waiters", random_plan(20000),
                                                 {rl::test_result_deadlock});
          r.expect_failure<bq_close_blocked_pop>("bq_close_blocked_pop", bound_plan(1),
                                                 {rl::test_result_deadlock});
        }),
    mutant<"mutant_bounded_queue_full_from_cell">(
        // (k) [QF1] full from the cell alone: bq_push_give_up's last push says full while
        // cell 1 is free (its expect() wants success). Found at execution 2,005 at context
        // bound 2; bound 1 passes (thread 1 stopped between its take and its free while
        // thread 0 pops and pushes is two preemptions), and 20,000 random executions found
        // it only at the 14,286th.
        []<class = void>(report& r) {
          r.expect_failure<bq_push_give_up>("bq_push_give_up", bound_plan(2), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_empty_from_cell">(
        // (l) [QE1] empty from the cell alone: a pop at a claimed, unpublished ticket says
        // empty while a later ticket, pushed earlier by the same thread, is published
        // (program-order emptiness). Found at execution 3,941 of bq_give_up_both at context
        // bound 1.
        []<class = void>(report& r) {
          r.expect_failure<bq_give_up_both>("bq_give_up_both", bound_plan(1), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_order_unmarked">(
        // (m) [QO1] no mark: bq_order_mark's thread 1 publishes ticket 1 while ticket 0 is
        // claimed and unpublished, and its pop answers empty from cell 0 (program-order
        // emptiness).
        []<class = void>(report& r) {
          r.expect_failure<bq_order_mark>("bq_order_mark", bound_plan(1), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_order_clear_unchecked">(
        // (n) [QO3] the clearing without its second load of tail_: bq_order_clear's thread 0
        // makes order_ quiet after thread 1's push, and thread 1's pop answers empty. It
        // takes three preemptions: random schedules find it at execution 265,188 (about
        // 5 s); the context-bound search at bound 3 needs millions of executions.
        []<class = void>(report& r) {
          r.expect_failure<bq_order_clear>("bq_order_clear", random_plan(1500000), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_close_unmarked">(
        // (o) [QO4] close() leaves order_ quiet: a pop after the close answers empty from
        // its cell where a closed, drained queue says closed.
        []<class = void>(report& r) {
          r.expect_failure<bq_order_close>("bq_order_close", bound_plan(1), {wrong_result});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  if (is_survey(argc, argv)) {
    return run_survey(argc, argv, random_plan, []<class = void>(const survey& s) {
      s.one<bq_pingpong>("bq_pingpong");
      s.one<bq_close_blocked_pop>("bq_close_blocked_pop");
      s.one<bq_close_two_waiters>("bq_close_two_waiters");
      s.one<bq_close_blocked_push>("bq_close_blocked_push");
      s.one<bq_close_push>("bq_close_push");
      s.one<bq_try_cap1>("bq_try_cap1");
      s.one<bq_try_spsc_cap2>("bq_try_spsc_cap2");
      s.one<bq_try_three>("bq_try_three");
      s.one<bq_try_cap1_notify>("bq_try_cap1_notify");
      s.one<bq_close_observe>("bq_close_observe");
      s.one<bq_pop_give_up>("bq_pop_give_up");
      s.one<bq_pop_give_up_closed>("bq_pop_give_up_closed");
      s.one<bq_push_give_up>("bq_push_give_up");
      s.one<bq_give_up_both>("bq_give_up_both");
      s.one<bq_push_pop_pairs>("bq_push_pop_pairs");
      s.one<bq_order_mark>("bq_order_mark");
      s.one<bq_order_clear>("bq_order_clear");
      s.one<bq_order_close>("bq_order_close");
      s.one<bq_order_pingpong>("bq_order_pingpong");
    });
  }
  return run_mutant(argc, argv, mutants);
}
