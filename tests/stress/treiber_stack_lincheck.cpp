// lockless::treiber_stack under 8 threads on whatever cores there are: every recorded
// round (8 x 375 random push/try_pop of unique values, then a quiescent drain) must be a
// linearizable LIFO history, decided by the exact tier (the aspect tier runs first and must
// find nothing). Rounds alternate the stamp source (global counter, steady_clock) and the
// push ratio; a last round records 8 x 4,000 operations as one history.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <lockless/treiber_stack.hpp>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck/harness.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::test::history;
using lockless::test::stamp_source;
namespace lc = lockless::test::lincheck;

TEST(LincheckTreiber, RecordedHistoriesAreLinearizable) {
  const std::size_t rounds = lockless_test::scaled(24, 3);
  const unsigned push_percent[] = {50, 65, 35};
  std::uint64_t total_ops = 0, total_states = 0;
  double total_seconds = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    lockless::treiber_stack<std::uint64_t> s;
    lc::run_options o;
    o.threads = 8;
    o.ops_per_thread = round + 1 == rounds ? lockless_test::scaled(4000) : 375;
    o.seed = 1000 + round;
    o.stamps = round % 2 == 0 ? stamp_source::counter : stamp_source::steady_clock;
    o.insert_percent = push_percent[round % 3];
    const history h =
        lc::record_run(o, [&](std::uint64_t v) { s.push(v); }, [&] { return s.try_pop(); });
    ASSERT_TRUE(s.was_empty());
    const lc::spec spec = lc::spec::stack().drained();
    const lc::result r = lc::check(h, spec);
    ASSERT_TRUE(r.linearizable()) << "round " << round << "\n" << r.report();
    ASSERT_EQ(lc::verify_linearization(h, spec, r.linearization), "");
    total_ops += h.size();
    total_states += r.states;
    total_seconds += r.seconds;
    if (round + 1 == rounds) {
      std::printf("treiber_stack: long round, %zu operations: %s in %.4f s (%llu states)\n",
                  h.size(), lc::to_string(r.v), r.seconds,
                  static_cast<unsigned long long>(r.states));
    }
  }
  std::printf(
      "treiber_stack: %zu rounds, %llu operations, all linearizable; checking took "
      "%.3f s (%llu states)\n",
      rounds, static_cast<unsigned long long>(total_ops), total_seconds,
      static_cast<unsigned long long>(total_states));
}

}  // namespace
