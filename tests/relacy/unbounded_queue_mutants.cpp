// Relacy mutants of unbounded_queue: one program, built once per mutant declared in
// unbounded_queue_mutants.cmake (each build sees its own mutated copy of the headers and
// gets the mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per mutant,
// which scenarios must catch it and with which kind of failure; the program exits 0 only
// if Relacy reports each one as expected, 1 if the mutant slips through or is caught for
// another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
//        relacy_<mutant> survey [<iterations> [<scenario>]]   (every scenario, or one, with
//                         random schedules: what Relacy reports for each; no verdict)
#include "support/relacy_prelude.hpp"

#include <cstring>

#include "support/relacy_runner.hpp"
#include "unbounded_queue_scenarios.hpp"

using namespace lockless_relacy;

namespace {

// An RL_ASSERT of the scenario failed: a value lost, duplicated or out of order, or a
// wrong status.
constexpr rl::test_result_e wrong_result = rl::test_result_user_assert_failed;

// The element read without the push's release: either side of [UE2]/[UD3]. A template, so
// that only the builds that call it instantiate its scenarios (support/relacy_runner.hpp).
template <class = void>
void element_race(report& r) {
  r.expect_failure<uq_spsc_cross>("uq_spsc_cross", random_plan(20000), {rl::test_result_data_race});
  r.expect_failure<uq_burn>("uq_burn", random_plan(20000), {rl::test_result_data_race});
  r.expect_failure<uq_pingpong>("uq_pingpong", random_plan(20000), {rl::test_result_data_race});
}

const mutant_table mutants = {
    mutant<"mutant_unbounded_queue_publish_relaxed">(
        // [UE2] relaxed: the element is read without the push's release.
        []<class = void>(report& r) { element_race(r); }),
    mutant<"mutant_unbounded_queue_take_relaxed">(
        // [UD3] relaxed: the same edge, broken on the pop's side.
        []<class = void>(report& r) { element_race(r); }),
    mutant<"mutant_unbounded_queue_link_relaxed">(
        // [UE3] without release: a consumer entering the new segment reads its cell 0's
        // element (an rl::var constructed by the linking push) without happening after it.
        []<class = void>(report& r) {
          r.expect_failure<uq_spsc_free>(
              "uq_spsc_free", random_plan(20000),
              {rl::test_result_unitialized_access, rl::test_result_data_race});
          r.expect_failure<uq_burn>(
              "uq_burn", random_plan(20000),
              {rl::test_result_unitialized_access, rl::test_result_data_race});
          r.expect_failure<uq_close_seal>(
              "uq_close_seal", random_plan(20000),
              {rl::test_result_unitialized_access, rl::test_result_data_race});
        }),
    mutant<"mutant_unbounded_queue_advance_next_relaxed">(
        // [UN1] relaxed where a pop moves head_ on: the same edge, on the consumer's side.
        []<class = void>(report& r) {
          r.expect_failure<uq_spsc_free>(
              "uq_spsc_free", random_plan(20000),
              {rl::test_result_unitialized_access, rl::test_result_data_race});
          r.expect_failure<uq_tail_lag>(
              "uq_tail_lag", random_plan(20000),
              {rl::test_result_unitialized_access, rl::test_result_data_race});
          r.expect_failure<uq_close_two_waiters>(
              "uq_close_two_waiters", random_plan(20000),
              {rl::test_result_unitialized_access, rl::test_result_data_race});
        }),
    mutant<"mutant_unbounded_queue_ticket_relaxed">(
        // [UE1] relaxed: a consumer's drained check ([UD6]) misses a ticket whose push read
        // closed_ false; it says closed and the push then succeeds (the value is left behind).
        []<class = void>(report& r) {
          r.expect_failure<uq_close_seal>("uq_close_seal", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_unbounded_queue_push_closed_acquire">(
        // [UC2] acquire: the push reads closed_ false after the close; the same loss.
        []<class = void>(report& r) {
          r.expect_failure<uq_close_push>("uq_close_push", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_unbounded_queue_look_ignores_closed">(
        // the look's closed_ check dropped: a closed queue whose last ticket's push gave up
        // says empty for ever.
        []<class = void>(report& r) {
          r.expect_failure<uq_close_push>("uq_close_push", random_plan(20000), {wrong_result});
          r.expect_failure<uq_close_seal>("uq_close_seal", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_unbounded_queue_closed_without_seal">(
        // drained() says closed for a full last segment without the seal: a push that read
        // closed_ false links a successor afterwards.
        []<class = void>(report& r) {
          r.expect_failure<uq_close_seal>("uq_close_seal", random_plan(20000), {wrong_result});
        }),
    mutant<"mutant_unbounded_queue_close_no_notify">(
        // close() does not wake the sleeping pops: the one that did not get the value sleeps
        // for ever.
        []<class = void>(report& r) {
          r.expect_failure<uq_close_two_waiters>("uq_close_two_waiters", random_plan(20000),
                                                 {rl::test_result_deadlock});
        }),
    mutant<"mutant_unbounded_queue_push_no_notify">(
        // a push does not wake a sleeping pop.
        []<class = void>(report& r) {
          r.expect_failure<uq_pingpong>("uq_pingpong", random_plan(20000),
                                        {rl::test_result_deadlock});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  if (is_survey(argc, argv)) {
    return run_survey(argc, argv, random_plan, []<class = void>(const survey& s) {
      s.one<uq_spsc_cross>("uq_spsc_cross");
      s.one<uq_spsc_free>("uq_spsc_free");
      s.one<uq_burn>("uq_burn");
      s.one<uq_tail_lag>("uq_tail_lag");
      s.one<uq_close_seal>("uq_close_seal");
      s.one<uq_close_push>("uq_close_push");
      s.one<uq_pingpong>("uq_pingpong");
      s.one<uq_close_two_waiters>("uq_close_two_waiters");
    });
  }
  return run_mutant(argc, argv, mutants);
}
