// Relacy mutants of drr_scheduler: one program, built once per mutant declared in
// drr_scheduler_mutants.cmake (each build sees its own mutated copy of the headers and gets
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

#include "drr_scheduler_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// An RL_ASSERT of the scenario failed: here, a pushed item never delivered (stranded), or
// a drain that does not end with closed after close().
constexpr rl::test_result_e wrong_result = rl::test_result_user_assert_failed;

// The store-buffering outcome of the activation handshake ([DA1] or [DA3] weakened): a
// stranded item, or a consumer asleep for ever. A template, so that only the builds that call
// it instantiate its scenarios (support/relacy_runner.hpp).
template <class = void>
void stranded_item(report& r) {
  r.expect_failure<drr_activation>("drr_activation", random_plan(20000), {wrong_result});
  r.expect_failure<drr_two_producers>("drr_two_producers", random_plan(300000), {wrong_result});
  r.expect_failure<drr_inbox>("drr_inbox", random_plan(300000), {wrong_result});
  r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000), {rl::test_result_deadlock});
}

// Plans: random schedules, 20,000 executions where the check is caught within 2,500
// (most within 300: `random <n>` prints where), 300,000 where it comes later: the
// stranded item of drr_two_producers (3,752-8,287 executions) and drr_inbox (28,869 for
// [DA1]/[DA3] since the pop's [DK4] load of 2026-12-07 moved Relacy's random schedules;
// 7,115 before), drr_remove for [DA4] (4,633). So every plan leaves a margin of ten times
// and more. A mutant that is caught costs only the executions up to it.
// drr_two_waiting_consumers and drr_blocked_push are there for the wake-ups (the last two
// mutants: the only scenarios in which a consumer sleeps behind the gate, and a producer
// sleeps behind a turn that goes on).
const mutant_table mutants = {
    mutant<"mutant_drr_scheduler_publish_release">(
        // [DP4] release: the producer's [DA1] reads the flow still listed while the consumer's
        // re-check [DA4] misses the item: stranded (the drain says empty, the item is lost);
        // with blocking pops the consumer sleeps for ever.
        []<class = void>(report& r) {
          r.expect_failure<drr_activation>("drr_activation", random_plan(20000), {wrong_result});
          r.expect_failure<drr_close>("drr_close", random_plan(20000), {wrong_result});
          r.expect_failure<drr_two_producers>("drr_two_producers", random_plan(300000),
                                              {wrong_result});
          r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000),
                                         {rl::test_result_deadlock});
        }),
    mutant<"mutant_drr_scheduler_listed_acquire">(
        // [DA1] acquire: the same store-buffering outcome, from the producer's side.
        []<class = void>(report& r) { stranded_item(r); }),
    mutant<"mutant_drr_scheduler_unlist_release">(
        // [DA3] release: the same outcome, from the consumer's side.
        []<class = void>(report& r) { stranded_item(r); }),
    mutant<"mutant_drr_scheduler_no_recheck">(
        // [DA4] dropped: a producer that published and read the flow listed just before the
        // consumer unlisted it leaves its item stranded (a plain interleaving); a close that
        // came in between is never completed.
        []<class = void>(report& r) {
          r.expect_failure<drr_activation>("drr_activation", random_plan(20000), {wrong_result});
          r.expect_failure<drr_two_producers>("drr_two_producers", random_plan(300000),
                                              {wrong_result});
          // A removed flow left unlisted is never finished: the drain's assertion, or, when
          // the run ends first, the flow never freed.
          r.expect_failure<drr_remove>("drr_remove", random_plan(300000),
                                       {wrong_result, rl::test_result_memory_leak});
          r.expect_failure<drr_close>("drr_close", random_plan(20000), {wrong_result});
          r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000),
                                         {rl::test_result_deadlock});
        }),
    mutant<"mutant_drr_scheduler_take_relaxed">(
        // [DC1] relaxed: the consumer reads the slot (the item's cost) of a flow it already
        // holds without an edge from the producer that built it.
        []<class = void>(report& r) {
          r.expect_failure<drr_activation>("drr_activation", random_plan(20000),
                                           {rl::test_result_data_race});
          r.expect_failure<drr_close>("drr_close", random_plan(20000), {rl::test_result_data_race});
          r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000),
                                         {rl::test_result_data_race});
        }),
    mutant<"mutant_drr_scheduler_free_relaxed">(
        // [DC3] relaxed: the next lap's producer builds in the slot without an edge from the
        // previous item's move-out.
        []<class = void>(report& r) {
          r.expect_failure<drr_activation>("drr_activation", random_plan(20000),
                                           {rl::test_result_data_race});
          r.expect_failure<drr_two_producers>("drr_two_producers", random_plan(20000),
                                              {rl::test_result_data_race});
          r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000),
                                         {rl::test_result_data_race});
        }),
    mutant<"mutant_drr_scheduler_inbox_relaxed">(
        // [DI1] relaxed: the consumer reads a flow's inbox link without an edge from the
        // producer that wrote it.
        []<class = void>(report& r) {
          r.expect_failure<drr_inbox>("drr_inbox", random_plan(20000), {rl::test_result_data_race});
          r.expect_failure<drr_two_producers>("drr_two_producers", random_plan(20000),
                                              {rl::test_result_data_race});
          r.expect_failure<drr_two_consumers>("drr_two_consumers", random_plan(20000),
                                              {rl::test_result_data_race});
        }),
    mutant<"mutant_drr_scheduler_close_unlisted">(
        // close_flow() does not list the flow: a drained flow closed by close() is never
        // finished (the drain says empty, not closed; a blocking pop sleeps for ever); one
        // removed is never retired nor owned by the destructor (a leak).
        []<class = void>(report& r) {
          r.expect_failure<drr_remove>("drr_remove", random_plan(20000),
                                       {rl::test_result_memory_leak});
          r.expect_failure<drr_close>("drr_close", random_plan(20000), {wrong_result});
          r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000),
                                         {rl::test_result_deadlock});
        }),
    mutant<"mutant_drr_scheduler_free_after_close_open">(
        // [DK4] dropped: the pop that frees the full flow's slot after close() has begun
        // leaves the flow open, and a push that read the scheduler open before the close
        // takes the slot: a success that no linearization admits.
        []<class = void>(report& r) {
          r.expect_failure<drr_close_full_flow>("drr_close_full_flow", random_plan(30000),
                                                {wrong_result});
        }),
    mutant<"mutant_drr_scheduler_leave_no_wake">(
        // [DG2] without its wake-up: a consumer that got busy, set the contended bit and went
        // to sleep is not woken when the holder leaves; the next push finds its flow listed
        // and notifies nobody, so the waiter sleeps with an item listed.
        []<class = void>(report& r) {
          r.expect_failure<drr_two_waiting_consumers>(
              "drr_two_waiting_consumers", random_plan(20000), {rl::test_result_deadlock});
        }),
    mutant<"mutant_drr_scheduler_pop_no_wake">(
        // No wake-up of the flow's producers after a pop: the producer asleep on its full flow
        // is never told that the pop freed a slot (drr_blocking: the turn ends drained, which
        // wakes nobody either). drr_blocked_push (the turn goes on after the one pop) caught
        // it at execution 169 before pushes read the scheduler's closed word [DK2]; since
        // then its random plan of 20,000 executions no longer reaches that interleaving.
        []<class = void>(report& r) {
          r.expect_failure<drr_blocking>("drr_blocking", random_plan(20000),
                                         {rl::test_result_deadlock});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  if (is_survey(argc, argv)) {
    return run_survey(argc, argv, random_plan, []<class = void>(const survey& s) {
      s.one<drr_activation>("drr_activation");
      s.one<drr_two_producers>("drr_two_producers");
      s.one<drr_remove>("drr_remove");
      s.one<drr_close>("drr_close");
      s.one<drr_inbox>("drr_inbox");
      s.one<drr_two_consumers>("drr_two_consumers");
      s.one<drr_blocking>("drr_blocking");
      s.one<drr_two_waiting_consumers>("drr_two_waiting_consumers");
      s.one<drr_blocked_push>("drr_blocked_push");
    });
  }
  return run_mutant(argc, argv, mutants);
}
