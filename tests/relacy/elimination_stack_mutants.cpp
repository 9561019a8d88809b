// Relacy mutants of elimination_stack: one program, built once per mutant declared in
// elimination_stack_mutants.cmake (each build sees its own mutated copy of the headers and
// gets the mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per mutant, which
// scenarios must catch it and with which kind of failure; the program exits 0 only if
// Relacy reports each one as expected, 1 if the mutant slips through or is caught for
// another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
//        relacy_<mutant> survey [<iterations> [<scenario>]]   (every scenario, or one, with
//                         random schedules: what Relacy reports for each; no verdict)
#include "support/relacy_prelude.hpp"

#include "elimination_stack_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

namespace {

// What each kind of mutant is caught as.
constexpr rl::test_result_e race = rl::test_result_data_race;  // payload read without hb
constexpr rl::test_result_e freed = rl::test_result_access_to_freed_memory;
constexpr rl::test_result_e wrong_result = rl::test_result_user_assert_failed;  // after()

const mutant_table mutants = {
    mutant<"mutant_elimination_stack_XP2_relaxed">(
        // [XP2] the push's offer CAS is relaxed: the pop that takes the node [XC2] reads its
        // payload without a happens-before edge from the push that built it.
        []<class = void>(report& r) {
          r.expect_failure<elim_pair>("elim_pair", random_plan(20000), {race});
          r.expect_failure<elim_pair>("elim_pair", bound_plan(1), {race});
          r.expect_failure<elim_three>("elim_three", random_plan(20000), {race});
        }),
    mutant<"mutant_elimination_stack_XP3_relaxed">(
        // [XP3] the push's give CAS is relaxed: the waiting pop reads the given node's payload
        // without a happens-before edge from the push that built it. Only a give that is the
        // push's first visit shows it: after an offer and a withdraw of its own, the push's
        // release offer [XP2] heads a release sequence that the withdraw, the waiting mark and
        // the give (all RMWs) continue, so the pop still synchronizes with the offer. elim_pair
        // misses it (100,000 random executions); elim_give, whose push comes late, does not.
        []<class = void>(report& r) {
          r.expect_failure<elim_give>("elim_give", random_plan(20000), {race});
          r.expect_failure<elim_give>("elim_give", bound_plan(1), {race});
          r.expect_failure<elim_central>("elim_central", random_plan(20000), {race});
        }),
    mutant<"mutant_elimination_stack_XC2_relaxed">(
        // [XC2] the pop's take CAS is relaxed: it reads the offered node's payload without
        // synchronizing with the offer [XP2].
        []<class = void>(report& r) {
          r.expect_failure<elim_pair>("elim_pair", random_plan(20000), {race});
          r.expect_failure<elim_pair>("elim_pair", bound_plan(1), {race});
          r.expect_failure<elim_three>("elim_three", random_plan(20000), {race});
        }),
    mutant<"mutant_elimination_stack_XC4_relaxed">(
        // [XC4] the waiting pop's loads are relaxed: seeing n|1 no longer synchronizes with the
        // give [XP3], and the payload read races with the push's construction (or, after an
        // offer and a withdraw of the push, with its write of the node's next).
        []<class = void>(report& r) {
          r.expect_failure<elim_give>("elim_give", random_plan(20000), {race});
          r.expect_failure<elim_give>("elim_give", bound_plan(1), {race});
          r.expect_failure<elim_central>("elim_central", random_plan(20000), {race});
        }),
    mutant<"mutant_elimination_stack_XC5_relaxed">(
        // [XC5] the pop's withdraw CAS is relaxed on failure: a give that came after the
        // wait's last load makes the withdraw fail, and the payload is read without
        // synchronizing with the give (a first-visit give, as for [XP3]).
        []<class = void>(report& r) {
          r.expect_failure<elim_give>("elim_give", random_plan(20000), {race});
          r.expect_failure<elim_give>("elim_give", bound_plan(1), {race});
          r.expect_failure<elim_central>("elim_central", random_plan(50000), {race});
        }),
    mutant<"mutant_elimination_stack_XP5_store">(
        // The push withdraws with a plain store instead of the CAS [XP5]: a node a pop took
        // just before is also pushed on the central stack, and the pop frees it at once; the
        // push links the freed node (or a later pop reads it).
        []<class = void>(report& r) {
          r.expect_failure<elim_pair>("elim_pair", random_plan(20000), {freed});
          // Two preemptions: the push's wait misses the take, the take, the withdraw.
          r.expect_failure<elim_pair>("elim_pair", bound_plan(2), {freed});
          r.expect_failure<elim_lifo>("elim_lifo", random_plan(20000), {freed});
        }),
    mutant<"mutant_elimination_stack_XC5_store">(
        // The pop withdraws with a plain store instead of the CAS [XC5]: a node given just
        // before is lost (its push returned, its value never comes out): the exactly-once
        // check fails.
        []<class = void>(report& r) {
          r.expect_failure<elim_give>("elim_give", random_plan(20000), {wrong_result});
          r.expect_failure<elim_give>("elim_give", bound_plan(1), {wrong_result});
          r.expect_failure<elim_three>("elim_three", random_plan(20000), {wrong_result});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  if (is_survey(argc, argv)) {
    return run_survey(argc, argv, random_plan, []<class = void>(const survey& s) {
      s.one<elim_pair>("elim_pair");
      s.one<elim_give>("elim_give");
      s.one<elim_lifo>("elim_lifo");
      s.one<elim_three>("elim_three");
      s.one<elim_central>("elim_central");
    });
  }
  return run_mutant(argc, argv, mutants);
}
