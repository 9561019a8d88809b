// lockless::treiber_stack under 8 threads on whatever cores there are: every recorded
// round (8 x 375 random push/try_pop of unique values, then a quiescent drain) must be a
// linearizable LIFO history, decided by the exact tier (the aspect tier runs first and must
// find nothing). Rounds alternate the stamp source (global counter, steady_clock) and the
// push ratio; a last round records 8 x 4,000 operations as one history. The rounds are
// structures/treiber_stack_lincheck.hpp's (shared with elimination_stack).
#include <gtest/gtest.h>

#include <cstdint>
#include <lockless/treiber_stack.hpp>

#include "structures/treiber_stack_lincheck.hpp"
#include "support/lincheck.hpp"
#include "support/sanitizers.hpp"

namespace {

TEST(LincheckTreiber, RecordedHistoriesAreLinearizable) {
  lockless::test::lincheck_rounds o;
  o.rounds = lockless_test::scaled(24, 3);
  o.long_round_ops = lockless_test::scaled(4000);
  lockless::test::check_recorded_rounds<lockless::treiber_stack<std::uint64_t>>("treiber_stack", o);
}

}  // namespace
