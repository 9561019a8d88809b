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

// A slot's contents published without [QE4]'s release. A template, so that only the builds
// that call it instantiate its scenarios (support/relacy_runner.hpp).
template <class = void>
void slot_race(report& r) {
  r.expect_failure<bq_try_cap1>("bq_try_cap1", random_plan(20000), {rl::test_result_data_race});
  r.expect_failure<bq_try_spsc_cap2>("bq_try_spsc_cap2", random_plan(20000),
                                     {rl::test_result_data_race});
  r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000), {rl::test_result_data_race});
}

const mutant_table mutants = {
    mutant<"mutant_bounded_queue_enqueue_cas_relaxed">(
        // [QE4] enqueue's CAS relaxed/relaxed: publishing a slot's index no longer publishes
        // its contents. The popper's move-out (or, through free_, the next pusher's build)
        // races with the previous owner's access to the slot.
        []<class = void>(report& r) { slot_race(r); }),
    mutant<"mutant_bounded_queue_enqueue_cas_no_release">(
        // [QE4] enqueue's CAS acquire/acquire: the release half is the one that matters.
        []<class = void>(report& r) { slot_race(r); }),
    mutant<"mutant_bounded_queue_dequeue_load_relaxed">(
        // [QD2] dequeue's load of the entry relaxed: taking an index no longer makes the
        // slot's contents visible.
        []<class = void>(report& r) {
          r.expect_failure<bq_try_cap1>("bq_try_cap1", random_plan(20000),
                                        {rl::test_result_data_race});
          r.expect_failure<bq_try_spsc_cap2>("bq_try_spsc_cap2", random_plan(20000),
                                             {rl::test_result_data_race});
          r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000),
                                        {rl::test_result_data_race});
        }),
    mutant<"mutant_bounded_queue_dequeue_cas_no_release">(
        // [QD4] the burning / unsafe-marking CAS acquire/acquire: an enqueuer on free_ that
        // reads the unsafe mark no longer sees its dequeuer's ticket in head_ ([QE3]) and
        // fills an entry that dequeuer already passed: a slot index is stranded, and with
        // nothing in flight the queue refuses a push below capacity() (after()'s refill).
        // Found at execution 36,331 of bq_try_cap1; not by the other scenarios in 100,000.
        []<class = void>(report& r) {
          r.expect_failure<bq_try_cap1>("bq_try_cap1", random_plan(100000), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_no_closed_after_round">(
        // dequeue says empty instead of closed after a futile round that saw the closed bit:
        // a blocking pop woken by close sleeps again (DEADLOCK); a closed thread's try_pop
        // says empty (assertion).
        []<class = void>(report& r) {
          r.expect_failure<bq_close_two_waiters>("bq_close_two_waiters", random_plan(20000),
                                                 {rl::test_result_deadlock});
          r.expect_failure<bq_close_push>("bq_close_push", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_bounded_queue_catch_up_drops_closed">(
        // catch_up ([QD7]) drops the closed bit: the queue reopens (after()'s push after the
        // close succeeds, or a pop says empty after closed).
        []<class = void>(report& r) {
          r.expect_failure<bq_close_push>("bq_close_push", random_plan(20000), {wrong_result});
          r.expect_failure<bq_close_blocked_push>("bq_close_blocked_push", random_plan(20000),
                                                  {wrong_result});
        }),
    mutant<"mutant_bounded_queue_give_back_before_move">(
        // a pop gives the index back before moving the element out: the next pusher builds
        // over it; one value is lost and another popped twice (exactly-once assertion).
        []<class = void>(report& r) {
          r.expect_failure<bq_try_cap1>("bq_try_cap1", random_plan(20000), {wrong_result});
          r.expect_failure<bq_pingpong>("bq_pingpong", random_plan(20000), {wrong_result});
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
    });
  }
  return run_mutant(argc, argv, mutants);
}
