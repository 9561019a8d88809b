// lockless::elimination_stack under 8 threads on whatever cores there are: every recorded
// round (8 x 375 random push/try_pop of unique values, then a quiescent drain) must be a
// linearizable LIFO history (structures/treiber_stack_lincheck.hpp's rounds, shared with
// treiber_stack: exact tier, aspects first, the linearization replayed).
//   ForceExchangeHistoriesAreLinearizable: elimination-heavy runs. force_exchange sends
//     every operation to the exchanger before the central stack, statistics count the
//     pairs that met there; each round's stack reports its eliminated pairs, all of them
//     among the recorded operations (the quiescent drain runs alone: nobody to meet), and
//     the run must have eliminated pairs (it reports what share of its operations did).
//     Width 8 (the default, the range adapting) and width 1 (one slot: every operation
//     meets every other there).
//   DefaultOptionsHistoriesAreLinearizable: elimination_options{}: the exchanger is
//     visited only after a failed central CAS.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <lockless/elimination_stack.hpp>

#include "structures/treiber_stack_lincheck.hpp"
#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::elimination_options;
using lockless::elimination_stack;
using lockless::epoch_reclaimer;

// Sums each round's eliminated pairs (a fresh stack per round).
struct elimination_tally {
  std::uint64_t pairs = 0;
  std::uint64_t ops = 0;
  std::size_t rounds_with_pairs = 0;
  template <class S>
  void operator()(S& s, const lockless::test::history& h) {
    const std::uint64_t p = s.stats().eliminated_pairs;
    pairs += p;
    ops += h.size();
    rounds_with_pairs += p > 0 ? 1 : 0;
  }
};

template <elimination_options Options>
void check_forced(const char* name) {
  static_assert(Options.force_exchange && Options.statistics);
  lockless::test::lincheck_rounds o;
  o.rounds = lockless_test::scaled(8, 2);
  o.long_round_ops = lockless_test::scaled(1500);
  o.first_seed = 2000;
  elimination_tally tally;
  lockless::test::check_recorded_rounds<elimination_stack<std::uint64_t, epoch_reclaimer, Options>>(
      name, o, [&](auto& s, const lockless::test::history& h) { tally(s, h); });
  EXPECT_GT(tally.pairs, 0u) << "no push met a pop in the checked histories";
  std::printf("%s: %llu eliminated pairs (%.1f %% of the operations), in %zu of %zu rounds\n", name,
              static_cast<unsigned long long>(tally.pairs),
              tally.ops == 0 ? 0.0 : 200.0 * static_cast<double>(tally.pairs) / tally.ops,
              tally.rounds_with_pairs, o.rounds);
}

TEST(LincheckElimination, ForceExchangeHistoriesAreLinearizable) {
  check_forced<elimination_options{.statistics = true, .force_exchange = true}>(
      "elimination_stack force_exchange");
  check_forced<elimination_options{.width = 1, .statistics = true, .force_exchange = true}>(
      "elimination_stack force_exchange width 1");
}

TEST(LincheckElimination, DefaultOptionsHistoriesAreLinearizable) {
  lockless::test::lincheck_rounds o;
  o.rounds = lockless_test::scaled(8, 2);
  o.long_round_ops = lockless_test::scaled(4000);
  o.first_seed = 3000;
  lockless::test::check_recorded_rounds<elimination_stack<std::uint64_t>>(
      "elimination_stack default options", o);
}

}  // namespace
