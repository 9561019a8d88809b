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

// An element's construction and its move-out without a happens-before edge ([QP4]/[QT3]):
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
// ([QT4]/[QP3]): 7 of the 9 scenarios catch it within 35 executions, all but the two whose
// one value never makes a cell go round (bq_close_blocked_pop, bq_close_two_waiters).
template <class = void>
void reuse_race(report& r) {
  r.expect_failure<bq_try_cap1>("bq_try_cap1", random_plan(20000), {rl::test_result_data_race});
  r.expect_failure<bq_try_spsc_cap2>("bq_try_spsc_cap2", random_plan(20000),
                                     {rl::test_result_data_race});
  r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000), {rl::test_result_data_race});
}

const mutant_table mutants = {
    mutant<"mutant_bounded_queue_publish_relaxed">(
        // [QP4] the publish relaxed: the pop's move-out races with the push's build.
        []<class = void>(report& r) { element_race(r); }),
    mutant<"mutant_bounded_queue_take_relaxed">(
        // [QT3] both takes relaxed: the same race, from the pop's side. (try_pop's take is
        // the one caught: lookahead()'s scan acquires the publish by its seq_cst load.)
        []<class = void>(report& r) { element_race(r); }),
    mutant<"mutant_bounded_queue_release_relaxed">(
        // [QT4] the release relaxed: the next push's build races with the move-out.
        []<class = void>(report& r) { reuse_race(r); }),
    mutant<"mutant_bounded_queue_claim_relaxed">(
        // [QP3] the claim relaxed: the same race, from the push's side.
        []<class = void>(report& r) { reuse_race(r); }),
    mutant<"mutant_bounded_queue_push_closed_relaxed">(
        // [QP1] relaxed: a push refused for closed does not synchronise with the close; a
        // later pop of the same thread reads the cells from before the marker and says
        // empty (check_statuses: empty after closed). Found at execution 24; only
        // bq_close_push has a thread that pushes after a close it did not make and pops.
        []<class = void>(report& r) {
          r.expect_failure<bq_close_push>("bq_close_push", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_close_flag_relaxed">(
        // [QC2] relaxed: the pair of [QP1] broken on the closing side; the same failure,
        // found at execution 24 of bq_close_push.
        []<class = void>(report& r) {
          r.expect_failure<bq_close_push>("bq_close_push", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_release_before_move">(
        // take() releases the cell before the move-out (its access marker with it): the
        // next push claims the cell and builds over the element being moved.
        []<class = void>(report& r) { reuse_race(r); }),
    mutant<"mutant_bounded_queue_is_closed_flag_only">(
        // is_closed() reads only the flag ([QC3]): after its pop said closed (it read the
        // marker), a thread's is_closed() says false while the flag is not yet set.
        []<class = void>(report& r) {
          r.expect_failure<bq_close_observe>("bq_close_observe", random_plan(20000),
                                             {wrong_result});
          r.expect_failure<bq_close_observe>("bq_close_observe", bound_plan(1), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_close_no_notify">(
        // close() does not wake the sleeping pops: the one that did not get the value sleeps
        // for ever.
        []<class = void>(report& r) {
          r.expect_failure<bq_close_two_waiters>("bq_close_two_waiters", random_plan(20000),
                                                 {rl::test_result_deadlock});
          r.expect_failure<bq_close_blocked_pop>("bq_close_blocked_pop", bound_plan(1),
                                                 {rl::test_result_deadlock});
        }),
    mutant<"mutant_bounded_queue_push_no_notify">(
        // a push does not wake a sleeping pop.
        []<class = void>(report& r) {
          r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000),
                                        {rl::test_result_deadlock});
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
    });
  }
  return run_mutant(argc, argv, mutants);
}
