// Relacy mutants of detail/parking.hpp (event_count): one program, built once per mutant
// declared in detail_parking_mutants.cmake (each build sees its own mutated copy of the
// headers and gets the mutant's name as LOCKLESS_RELACY_MUTANT). The table below says, per
// mutant, which scenarios must catch it and with which kind of failure; the program exits
// 0 only if Relacy reports each one as expected, 1 if the mutant slips through or is
// caught for another reason, 2 if the name has no entry here.
//
// Usage: relacy_<mutant> [random <iterations> | bound <context bound> | full]
#include "support/relacy_prelude.hpp"

#include "support/relacy_runner.hpp"
#include "detail_parking_scenarios.hpp"

using namespace lockless_relacy;

namespace {

// A lost wake-up of the store-buffering shape: either fence of the pair missing.
void store_buffering_lost(report& r) {
  r.expect_failure<parking_handoff>("parking_handoff", random_plan(200000),
                                    {rl::test_result_deadlock});
  r.expect_failure<parking_handoff>("parking_handoff", bound_plan(1), {rl::test_result_deadlock});
  // The same through await(), with two consumers.
  r.expect_failure<parking_two_consumers>("parking_two_consumers", random_plan(200000),
                                          {rl::test_result_deadlock});
}

const mutant_table mutants = {
    // [KN1] removed: the notifier reads "no waiters" while the consumer read "no item".
    mutant<"mutant_parking_notify_no_fence">(
        []<class = void>(report& r) { store_buffering_lost(r); }),
    // [KW2] removed: the other side of the same store buffering.
    mutant<"mutant_parking_prepare_no_fence">(
        []<class = void>(report& r) { store_buffering_lost(r); }),
    mutant<"mutant_parking_key_relaxed">(
        // [KW3] relaxed: a key that read the bump no longer makes the item visible.
        []<class = void>(report& r) {
          r.expect_failure<parking_handoff>("parking_handoff", random_plan(200000),
                                            {rl::test_result_deadlock});
          r.expect_failure<parking_handoff>("parking_handoff", bound_plan(2),
                                            {rl::test_result_deadlock});
        }),
    mutant<"mutant_parking_notify_no_bump">(
        // [KN3] gone: a notify between the consumer's check and its block is lost.
        []<class = void>(report& r) {
          r.expect_failure<parking_handoff>("parking_handoff", random_plan(200000),
                                            {rl::test_result_deadlock});
          r.expect_failure<parking_handoff>("parking_handoff", bound_plan(1),
                                            {rl::test_result_deadlock});
        }),
};

}  // namespace

int main(int argc, char** argv) {
  return run_mutant(argc, argv, mutants);
}
