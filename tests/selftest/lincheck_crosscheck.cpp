// The checker tiers agree on thousands of random small histories, half of them corrupted:
// exact == reference on every one, both witnesses replay, the aspect tier never rejects a
// history the reference accepts (soundness) and claims "linearizable" only when the
// reference agrees, and check() reports a confirmed, reference-rejected window for every
// violation. Prints how often the aspects missed a violation, per spec (their
// incompleteness, measured) and on how many histories they decided "linearizable" alone
// (values-only unbounded queues; checked against the reference every time).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck/random_history.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::test::history;
namespace lc = lockless::test::lincheck;

struct config {
  const char* name;
  lc::spec s;
  unsigned close_percent;
  bool drain;
  unsigned insert_percent;
};

struct tally {
  std::size_t histories = 0, linearizable = 0, violations = 0, aspect_catches = 0;
  std::size_t aspects_complete = 0;  // histories where the aspect tier may say linearizable
};

// (void: gtest's ASSERT_* return from it)
void run_config(const config& c, std::size_t count, std::uint64_t seed, tally& t) {
  std::mt19937_64 rng(seed);
  const std::uint64_t spans[] = {5, 15, 40, 100};
  lc::reference_options ro;
  ro.max_ops = 28;
  lc::options co;
  co.reference_max_ops = 28;
  for (std::size_t n = 0; n < count; ++n) {
    lc::random_history_options o;
    o.s = c.s;
    o.threads = 2 + rng() % 3;
    o.ops = 3 + rng() % 10;
    o.span = spans[rng() % 4];
    o.skewed = rng() % 4 == 0;
    o.close_percent = c.close_percent;
    o.drain = c.drain;
    o.insert_percent = c.insert_percent;
    history h = lc::random_linearizable_history(o, rng);
    const lc::spec s = c.drain ? c.s.drained() : c.s;
    std::string what;
    if (rng() % 2 == 0) {
      const int k = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < k; ++i) what += lc::corrupt(h, rng) + "; ";
    }
    ASSERT_EQ(h.validate(), "");
    const std::string trace =
        std::string(c.name) + " #" + std::to_string(n) + " (" + what + ")\n" + h.to_string();
    const lc::result ref = lc::check_reference(h, s, ro);
    const lc::result ex = lc::check_exact(h, s);
    const lc::result as = lc::check_aspects(h, s);
    ASSERT_FALSE(ref.undecided()) << trace << ref.report();
    ASSERT_FALSE(ex.undecided()) << trace << ex.report();
    ASSERT_EQ(ex.v, ref.v) << trace << "exact: " << ex.report() << "\nreference: " << ref.report();
    if (ref.linearizable()) {
      ASSERT_EQ(lc::verify_linearization(h, s, ref.linearization), "") << trace;
      ASSERT_EQ(lc::verify_linearization(h, s, ex.linearization), "") << trace;
      ASSERT_FALSE(as.violated()) << "aspect tier unsound\n" << trace << as.report();
    } else {
      ASSERT_FALSE(as.linearizable()) << "aspect tier claims completeness wrongly\n"
                                      << trace << as.report();
    }
    const lc::result all = lc::check(h, s, co);
    ASSERT_EQ(all.v, ref.v) << trace << all.report();
    if (all.violated()) {
      ASSERT_TRUE(all.window_confirmed) << trace << all.report();
      history w;
      w.threads = h.threads;
      w.ops = all.window;
      ASSERT_TRUE(lc::check_reference(w, s, ro).violated()) << trace << all.report();
    }
    ++t.histories;
    if (ref.linearizable()) ++t.linearizable;
    if (ref.violated()) ++t.violations;
    if (as.violated()) ++t.aspect_catches;
    if (as.linearizable()) ++t.aspects_complete;
  }
}

TEST(LincheckCrosscheck, TiersAgreeOnRandomHistories) {
  const config configs[] = {
      {"stack", lc::spec::stack(), 0, false, 50},
      {"stack, drained", lc::spec::stack(), 0, true, 50},
      {"bounded stack (1)", lc::spec::bounded_stack(1), 0, false, 50},
      {"queue", lc::spec::queue(), 0, false, 50},
      {"queue, 70% enqueues", lc::spec::queue(), 0, false, 70},
      {"queue, drained", lc::spec::queue(), 0, true, 50},
      {"closable queue", lc::spec::queue(), 8, false, 50},
      {"bounded queue (2)", lc::spec::bounded_queue(2), 0, false, 50},
      {"bounded closable queue (3), drained", lc::spec::bounded_queue(3), 5, true, 50},
  };
  const std::size_t per_config = lockless_test::scaled(1500);
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t total = 0;
  std::printf("%-38s %9s %9s %9s %13s %16s\n", "spec", "histories", "lin.", "violating",
              "aspects miss", "aspects decide");
  std::uint64_t seed = 20240601;
  for (const config& c : configs) {
    tally t;
    run_config(c, per_config, seed++, t);
    if (HasFatalFailure()) return;
    total += t.histories;
    std::printf("%-38s %9zu %9zu %9zu %13zu %16zu\n", c.name, t.histories, t.linearizable,
                t.violations, t.violations - t.aspect_catches, t.aspects_complete);
    // The generator gives a real mix.
    EXPECT_GT(t.linearizable, t.histories / 5) << c.name;
    EXPECT_GT(t.violations, t.histories / 5) << c.name;
  }
  const double secs = lc::detail::seconds_since(t0);
  std::printf(
      "cross-validated %zu random histories (exact == reference, aspects sound, "
      "windows confirmed) in %.2f s\n",
      total, secs);
}

// Long histories, where the reference tier cannot go, checked by check() WITHOUT the
// aspect tier (so the exact tier, and the confirmation of a violation on a window where
// the search gave up, decide alone): every history linearizable by construction is
// accepted with a witness that replays; every verdict agrees with the (sound) aspect tier;
// every violation comes with a window that the reference tier rejects on its own; and the
// checker does refute: at least half of the corrupted histories (a corruption may leave a
// history linearizable, e.g. swapping the results of two overlapping removes; the seeded
// run refutes 27 of 30, and 5 of 7 in the TSan-scaled prefix).
TEST(LincheckCrosscheck, LongHistoriesAreConsistent) {
  std::mt19937_64 rng(77);
  const lc::spec specs[] = {lc::spec::stack(), lc::spec::queue(), lc::spec::bounded_queue(3)};
  std::size_t checked = 0, refuted = 0, by_window = 0, undecided = 0, corrupted_count = 0;
  const auto t0 = std::chrono::steady_clock::now();
  lc::options co;
  co.aspects = false;
  co.exact_opts.max_states = std::uint64_t{1} << 18;
  lc::reference_options ro;
  ro.max_ops = 24;
  for (std::size_t n = 0; n < lockless_test::scaled(60); ++n) {
    const lc::spec& base = specs[n % 3];
    lc::random_history_options o;
    o.s = base;
    o.threads = 8;
    o.ops = 500 + rng() % 2500;
    o.span = 50 + rng() % 1000;
    o.skewed = rng() % 2 == 0;
    o.drain = rng() % 2 == 0;
    history h = lc::random_linearizable_history(o, rng);
    const lc::spec s = o.drain ? base.drained() : base;
    const bool corrupted = n % 2 == 1;
    std::string what;
    if (corrupted) {
      what = lc::corrupt(h, rng);
      ++corrupted_count;
    }
    const lc::result r = lc::check(h, s, co);
    const lc::result as = lc::check_aspects(h, s);
    const std::string trace = s.name() + " (" + what + ")\n" + r.report();
    if (!corrupted) {
      ASSERT_TRUE(r.linearizable()) << trace;
    }
    if (r.linearizable()) {
      ASSERT_EQ(lc::verify_linearization(h, s, r.linearization), "") << trace;
      ASSERT_FALSE(as.violated()) << trace << "\n" << as.report();
    } else if (r.violated()) {
      ++refuted;
      if (r.tier == "exact (window)") ++by_window;
      ASSERT_TRUE(r.window_confirmed) << trace;
      ASSERT_FALSE(as.linearizable()) << trace;
      if (r.window.size() <= ro.max_ops) {
        history w;
        w.threads = h.threads;
        w.ops = r.window;
        ASSERT_TRUE(lc::check_reference(w, s, ro).violated()) << trace;
      }
    } else {
      ++undecided;
    }
    ++checked;
  }
  std::printf(
      "%zu long histories (500-3000 ops, 8 threads; %zu corrupted), check() without "
      "aspects: %zu refuted (%zu of them via a window where the exact search gave "
      "up at 2^18 states), %zu undecided, in %.2f s\n",
      checked, corrupted_count, refuted, by_window, undecided, lc::detail::seconds_since(t0));
  ASSERT_GT(corrupted_count, 0u);
  EXPECT_GT(refuted, 0u) << "no corrupted long history was refuted (" << undecided << " undecided)";
  EXPECT_GE(2 * refuted, corrupted_count)
      << "fewer than half of the corrupted long histories were refuted (" << undecided
      << " undecided)";
}

}  // namespace
