// Unit tests of lockless::elimination_stack.
//
// treiber_stack's semantics (structures/treiber_stack_unit.hpp: LIFO, move-only and
// throwing types with the strong guarantee, allocation failure, every value destroyed
// exactly once, the destructor, a user epoch_domain, the quarantine reclaimer), for two
// option sets:
//   EliminationStack/Semantics/<options>_<reclaimer>.*, EliminationStack/Reclamation/<options>.*
//   Default         elimination_options{}: the exchanger is visited after a failed central
//                   CAS only (sequential tests never reach it; the concurrent one may);
//   ForceExchange   {.statistics = true, .force_exchange = true}: every operation visits
//                   the exchanger first (offers, waits, withdraws when alone), and the
//                   quarantine's retire count is checked against stats(): a pop that took
//                   a handed node retires nothing.
// Then what is elimination's own (EliminationStack.*, EliminationStackWidth/<width>.*):
//   options are checked at compile time (static_asserts below); an uncontended stack
//   never touches the array; range() starts at 1 and stays in [1, width], widens on
//   collisions and narrows by one per timed-out offer; the wait halves per timeout down to
//   exchange_spins / 16; stats() counts central CAS failures (at least two per eliminated
//   pair without force_exchange) and eliminated pairs (exactly the pops that retired
//   nothing); a forced push/pop pair hands a heap payload over intact, its node freed at
//   once, not retired (quarantine and epoch_domain counts), each value destroyed exactly once.
// Loops that wait for something concurrent to happen (an elimination, a CAS failure, a
// collision) run rounds until it does, with a generous bound: no timing assertion.
#include <lockless/elimination_stack.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "structures/treiber_stack_unit.hpp"
#include "support/counting.hpp"
#include "support/stress.hpp"
#include "support/test_reclaimers.hpp"

namespace {

using lockless::elimination_options;
using lockless::elimination_stack;
using lockless::epoch_domain;
using lockless::epoch_reclaimer;
using lockless::test::unique_value;
using lockless_test::counted;
using lockless_test::quarantine_reclaimer;
using lockless_test::run_threads;

constexpr elimination_options forced{.statistics = true, .force_exchange = true};

// elimination_stack with Options as a stack family of treiber_stack_unit.hpp.
template <elimination_options Options>
struct elimination_family {
  template <class T, class R>
  using stack = elimination_stack<T, R, Options>;
  static constexpr const char* name = Options.force_exchange ? "ForceExchange" : "Default";
  template <class S>
  static std::optional<std::size_t> handed_over(const S& s) {
    if constexpr (Options.statistics) {
      return static_cast<std::size_t>(s.stats().eliminated_pairs);  // one handed node a pair
    } else {
      (void)s;
      return std::nullopt;
    }
  }
};
using default_family = elimination_family<elimination_options{}>;
using forced_family = elimination_family<forced>;

// ---- compile time: the interface and the options ------------------------------------------

static_assert(lockless::test::stack_interface_ok<default_family>());
static_assert(lockless::test::stack_interface_ok<forced_family>());

using default_stack = elimination_stack<int>;
static_assert(std::is_same_v<default_stack::reclaimer_type, epoch_reclaimer>);
static_assert(std::is_same_v<decltype(default_stack::options), const elimination_options>);
static_assert(default_stack::options.width == 8 && default_stack::options.exchange_spins == 64 &&
                  !default_stack::options.statistics && !default_stack::options.force_exchange,
              "the documented defaults");
static_assert(
    std::is_same_v<default_stack, elimination_stack<int, epoch_reclaimer, elimination_options{}>>,
    "equal options, same type");
using forced_stack = elimination_stack<int, epoch_reclaimer, forced>;
static_assert(forced_stack::options.statistics && forced_stack::options.force_exchange &&
              forced_stack::options.width == 8);
static_assert(!std::is_same_v<default_stack, forced_stack>);
// The bounds of validate() are accepted (a value outside them does not compile:
// elimination_options::validate(), detail/options.hpp; not testable at run time).
static_assert(
    lockless::detail::valid_options<elimination_options{.width = 1, .exchange_spins = 1}>);
static_assert(
    lockless::detail::valid_options<elimination_options{.width = 64, .exchange_spins = 1u << 20}>);
static_assert(
    elimination_stack<int, epoch_reclaimer, elimination_options{.width = 64}>::options.width == 64);

template <class S>
concept has_stats = requires(const S& s) {
  { s.stats() } -> std::same_as<lockless::elimination_stack_stats>;
};
static_assert(!has_stats<default_stack>, "stats() only with elimination_options::statistics");
static_assert(has_stats<forced_stack>);
static_assert(
    has_stats<elimination_stack<int, epoch_reclaimer, elimination_options{.statistics = true}>>);
template <class S>
concept has_range = requires(const S& s) {
  { s.range() } -> std::same_as<unsigned>;
};
static_assert(has_range<default_stack> && has_range<forced_stack>);

// ---- a new and an uncontended stack ---------------------------------------------------------

TEST(EliminationStack, NewStackHasRangeOneAndTheFullWaitAndZeroCounts) {
  default_stack d;
  EXPECT_EQ(d.range(), 1u);
  elimination_stack<int, epoch_reclaimer, elimination_options{.width = 64, .statistics = true}> s;
  EXPECT_EQ(s.range(), 1u);
  const lockless::elimination_stack_stats st = s.stats();
  EXPECT_EQ(st.range, 1u);
  EXPECT_EQ(st.wait_spins, 64u);
  EXPECT_EQ(st.eliminated_pairs, 0u);
  EXPECT_EQ(st.central_cas_failures, 0u);
}

TEST(EliminationStack, UncontendedOperationsNeverVisitTheArray) {
  // No central CAS fails on one thread, so the array is never visited: no counts, and the
  // range and wait hints are untouched.
  elimination_stack<int, epoch_reclaimer, elimination_options{.statistics = true}> s;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) s.push(i);
    for (int i = 999; i >= 0; --i) ASSERT_EQ(s.try_pop(), i);
    EXPECT_FALSE(s.try_pop().has_value());
  }
  const auto st = s.stats();
  EXPECT_EQ(st.central_cas_failures, 0u);
  EXPECT_EQ(st.eliminated_pairs, 0u);
  EXPECT_EQ(st.range, 1u);
  EXPECT_EQ(st.wait_spins, 64u);
}

TEST(EliminationStack, ForcedAloneEveryOperationTimesOutAndIsDoneCentrally) {
  // force_exchange on one thread: every operation offers (or waits) in the array, finds
  // no partner, withdraws and goes to the central stack. LIFO holds, nothing is
  // eliminated or counted as a central failure (the first visit is not one), and each
  // timeout halves the wait, down to exchange_spins / 16.
  elimination_stack<int, quarantine_reclaimer, forced> s;
  for (int i = 0; i < 100; ++i) s.push(i);
  for (int i = 99; i >= 0; --i) ASSERT_EQ(s.try_pop(), i);
  EXPECT_FALSE(s.try_pop().has_value());
  const auto st = s.stats();
  EXPECT_EQ(st.eliminated_pairs, 0u);
  EXPECT_EQ(st.central_cas_failures, 0u);
  EXPECT_EQ(st.range, 1u);
  EXPECT_EQ(st.wait_spins, 64u / 16);
  EXPECT_EQ(s.reclaimer().retires(), 100u) << "every pop was central";
}

// ---- range and wait under forced exchanges, per width ---------------------------------------

template <unsigned Width>
struct width {
  static constexpr unsigned value = Width;
};
struct width_names {
  template <class W>
  static std::string GetName(int) {
    return std::to_string(W::value);
  }
};

template <class W>
class EliminationStackWidth : public ::testing::Test {};
using widths = ::testing::Types<width<1>, width<8>, width<64>>;
TYPED_TEST_SUITE(EliminationStackWidth, widths, width_names);

// Two producers and two consumers on a forced stack, plus a thread sampling range() and
// stats() while they run, round after round until an elimination happened and (width > 1)
// the range widened. Every value popped exactly once; every sample within bounds. Then,
// alone, each forced operation times out: the range narrows by exactly one per timeout
// down to 1, the wait halves down to exchange_spins / 16.
TYPED_TEST(EliminationStackWidth, ForcedExchangesKeepRangeInBoundsAndValuesExactlyOnce) {
  constexpr unsigned w = TypeParam::value;
  constexpr elimination_options o{.width = w, .statistics = true, .force_exchange = true};
  elimination_stack<std::uint64_t, epoch_reclaimer, o> s;
  constexpr std::size_t per_producer = 200;
  constexpr int max_rounds = 500;
  unsigned max_range_seen = 1;
  bool in_bounds = true;
  int rounds = 0;
  while (rounds < max_rounds &&
         (s.stats().eliminated_pairs == 0 || (w > 1 && max_range_seen < 2))) {
    ++rounds;
    std::atomic<std::size_t> popped_total{0};
    std::atomic<bool> done{false};
    auto results = run_threads(5, [&](std::size_t t) {
      std::vector<std::uint64_t> got;
      if (t < 2) {
        for (std::size_t i = 0; i < per_producer; ++i) s.push(unique_value(t, i));
      } else if (t < 4) {
        while (popped_total.load(std::memory_order_relaxed) < 2 * per_producer) {
          if (auto v = s.try_pop()) {
            got.push_back(*v);
            popped_total.fetch_add(1, std::memory_order_relaxed);
          } else {
            std::this_thread::yield();  // see forced_pair_round
          }
        }
        done.store(true, std::memory_order_relaxed);
      } else {
        while (!done.load(std::memory_order_relaxed)) {
          const auto st = s.stats();
          const unsigned r = s.range();
          if (r < 1 || r > w || st.range < 1 || st.range > w) got.push_back(0);  // flagged
          if (st.wait_spins < 64 / 16 || st.wait_spins > 64) got.push_back(0);
          max_range_seen = std::max(max_range_seen, std::max(r, st.range));
          std::this_thread::yield();
        }
      }
      return got;
    });
    in_bounds = in_bounds && results[4].empty();
    std::vector<std::uint64_t> all(results[2]);
    all.insert(all.end(), results[3].begin(), results[3].end());
    std::sort(all.begin(), all.end());
    std::vector<std::uint64_t> expected;
    for (std::size_t t = 0; t < 2; ++t) {
      for (std::size_t i = 0; i < per_producer; ++i) expected.push_back(unique_value(t, i));
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(all, expected) << "round " << rounds << ": values lost, duplicated or invented";
    ASSERT_TRUE(s.was_empty());
  }
  EXPECT_TRUE(in_bounds) << "range() or the wait left its bounds while threads ran";
  EXPECT_GT(s.stats().eliminated_pairs, 0u) << "no elimination in " << rounds << " rounds";
  if constexpr (w > 1) {
    EXPECT_GE(max_range_seen, 2u) << "collisions never widened the range in " << rounds
                                  << " rounds";
  } else {
    EXPECT_EQ(max_range_seen, 1u);
  }
  testing::Test::RecordProperty("rounds", rounds);

  // Alone: each operation's offer times out once: range - 1 (not below 1), wait / 2 (not
  // below exchange_spins / 16).
  unsigned r = s.range();
  unsigned wait = s.stats().wait_spins;
  ASSERT_GE(r, 1u);
  ASSERT_LE(r, w);
  for (int i = 0; i < 8 || r > 1; ++i) {
    s.push(std::uint64_t{7});
    r = r > 1 ? r - 1 : 1;
    wait = std::max(wait / 2, 64u / 16);
    ASSERT_EQ(s.range(), r) << "after " << i + 1 << " lone operations";
    ASSERT_EQ(s.stats().wait_spins, wait) << "after " << i + 1 << " lone operations";
  }
  EXPECT_EQ(s.range(), 1u);
  EXPECT_EQ(s.stats().wait_spins, 64u / 16);
}

// ---- statistics without force_exchange -------------------------------------------------------

TEST(EliminationStack, StatsCountCentralCasFailuresAtLeastTwoPerEliminatedPair) {
  // Default options with statistics: the array is visited only after a failed central
  // CAS, and each visit counts one failure; an eliminated pair is two visits. Threads
  // hammer one stack until some CAS failed (a generous bound of rounds).
  elimination_stack<std::uint64_t, epoch_reclaimer, elimination_options{.statistics = true}> s;
  constexpr std::size_t threads = 4;
  const std::size_t ops = lockless_test::scaled(20'000, 2'000);
  int rounds = 0;
  while (rounds < 200 && s.stats().central_cas_failures == 0) {
    ++rounds;
    auto counts = run_threads(threads, [&](std::size_t t) {
      std::size_t pushed = 0, popped = 0;
      for (std::size_t i = 0; i < ops; ++i) {
        if (i % 2 == 0) {
          s.push(unique_value(t, i));
          ++pushed;
        } else if (s.try_pop()) {
          ++popped;
        }
      }
      return pushed - popped;
    });
    std::size_t left = 0;
    for (std::size_t c : counts) left += c;
    std::size_t drained = 0;
    while (s.try_pop()) ++drained;
    ASSERT_EQ(drained, left) << "values lost or duplicated in round " << rounds;
  }
  const auto st = s.stats();
  EXPECT_GT(st.central_cas_failures, 0u) << "no CAS failed in " << rounds << " rounds";
  EXPECT_LE(2 * st.eliminated_pairs, st.central_cas_failures)
      << "every visit of the array follows a failed central CAS";
  EXPECT_GE(st.range, 1u);
  EXPECT_LE(st.range, s.options.width);
  EXPECT_GE(st.wait_spins, s.options.exchange_spins / 16);
  EXPECT_LE(st.wait_spins, s.options.exchange_spins);
  testing::Test::RecordProperty("rounds", rounds);
}

// ---- a forced pair: the value handed over, its node freed at once -----------------------------

// A payload with a heap part (a string beyond the small-string buffer) and a counted part
// (constructions, destructions, canary).
struct handed_tag {};
struct payload {
  explicit payload(std::uint64_t id_) : c(id_), text(text_of(id_)) {}
  static std::string text_of(std::uint64_t id) {
    return "payload #" + std::to_string(id) + ", long enough to live on the heap, not in SSO";
  }
  [[nodiscard]] bool intact() const { return c.alive() && text == text_of(c.value()); }
  counted<handed_tag> c;
  std::string text;
};
using payload_counters = counted<handed_tag>;

// One round: thread 0 pushes k payloads, thread 1 pops until it has k. Returns the ids
// popped, in order; `bad` counts payloads that were not intact.
template <class S>
std::vector<std::uint64_t> forced_pair_round(S& s, std::size_t k, std::uint64_t first,
                                             std::size_t& bad) {
  auto r = run_threads(2, [&](std::size_t t) {
    std::vector<std::uint64_t> got;
    if (t == 0) {
      for (std::size_t i = 0; i < k; ++i) s.emplace(first + i);
    } else {
      while (got.size() < k) {
        if (std::optional<payload> p = s.try_pop()) {
          got.push_back(p->intact() ? p->c.value() : ~std::uint64_t{0});
        } else {
          // Not a hot loop: a push whose offer was taken still has to reset its slot
          // (TAKEN -> EMPTY); until it runs, pops collide there and find the central stack
          // empty at once, and on an oversubscribed machine a pop spinning without a
          // yield keeps that push off the core for a whole time slice.
          std::this_thread::yield();
        }
      }
    }
    return got;
  });
  for (std::uint64_t id : r[1]) bad += id == ~std::uint64_t{0} ? 1 : 0;
  return r[1];
}

TEST(EliminationStack, ForcedPairHandsTheValueIntactAndFreesTheNodeUnretired) {
  // Quarantine: it keeps every retired node (with its moved-from payload) until the stack
  // dies, and counts retires. A pop that took a handed node must not retire it; the node
  // (and the moved-from payload in it) is destroyed at once.
  payload_counters::counters().reset();
  constexpr std::size_t k = 64;
  {
    elimination_stack<payload, quarantine_reclaimer, forced> s;
    std::size_t bad = 0, pops = 0;
    int rounds = 0;
    while (rounds < 200 && s.stats().eliminated_pairs == 0) {
      const std::uint64_t first = static_cast<std::uint64_t>(rounds) * k;
      ++rounds;
      std::vector<std::uint64_t> got = forced_pair_round(s, k, first, bad);
      pops += got.size();
      std::sort(got.begin(), got.end());
      for (std::size_t i = 0; i < k; ++i) ASSERT_EQ(got[i], first + i) << "round " << rounds;
      ASSERT_TRUE(s.was_empty());
    }
    EXPECT_EQ(bad, 0u) << "payloads arrived damaged";
    const std::uint64_t eliminated = s.stats().eliminated_pairs;
    EXPECT_GT(eliminated, 0u) << "no pair met in " << rounds << " rounds";
    EXPECT_EQ(s.reclaimer().retires(), pops - eliminated)
        << "a pop retires its node exactly when it was not handed over";
    EXPECT_EQ(s.reclaimer().double_retires(), 0u);
    // Alive now: only the moved-from payloads inside retired (quarantined) nodes. Those
    // of handed nodes were destroyed with their nodes.
    EXPECT_EQ(payload_counters::counters().live(), static_cast<long>(s.reclaimer().retires()));
    testing::Test::RecordProperty("eliminated_pairs", std::to_string(eliminated));
  }
  EXPECT_EQ(payload_counters::counters().live(), 0);
  EXPECT_EQ(payload_counters::counters().constructions.load(),
            payload_counters::counters().destructions.load());
  EXPECT_EQ(payload_counters::counters().errors.load(), 0) << "a payload destroyed twice";
}

TEST(EliminationStack, ForcedPairRetiresNothingInTheEpochDomainForEliminatedPairs) {
  // The same on a private epoch_domain. The main thread stays pinned in it during the
  // rounds, so nothing retired can be freed and retired_pending counts every retire:
  // exactly the pops that were not eliminated.
  payload_counters::counters().reset();
  constexpr std::size_t k = 64;
  {
    epoch_domain d;
    {
      elimination_stack<payload, epoch_reclaimer, forced> s{epoch_reclaimer(d)};
      std::size_t bad = 0, pops = 0;
      int rounds = 0;
      {
        lockless::epoch_guard pinned(d);
        while (rounds < 200 && s.stats().eliminated_pairs == 0) {
          const std::uint64_t first = static_cast<std::uint64_t>(rounds) * k;
          ++rounds;
          std::vector<std::uint64_t> got = forced_pair_round(s, k, first, bad);
          pops += got.size();
          std::sort(got.begin(), got.end());
          for (std::size_t i = 0; i < k; ++i) ASSERT_EQ(got[i], first + i) << "round " << rounds;
        }
        EXPECT_EQ(bad, 0u) << "payloads arrived damaged";
        const std::uint64_t eliminated = s.stats().eliminated_pairs;
        EXPECT_GT(eliminated, 0u) << "no pair met in " << rounds << " rounds";
        EXPECT_EQ(d.stats().retired_pending, pops - eliminated)
            << "eliminated pairs must not retire their node";
        EXPECT_EQ(payload_counters::counters().live(), static_cast<long>(pops - eliminated));
      }
      d.barrier();
      EXPECT_EQ(d.stats().retired_pending, 0u);
      EXPECT_EQ(payload_counters::counters().live(), 0);
    }
  }
  EXPECT_EQ(payload_counters::counters().constructions.load(),
            payload_counters::counters().destructions.load());
  EXPECT_EQ(payload_counters::counters().errors.load(), 0);
}

}  // namespace

namespace lockless::test {
using elimination_configs =
    ::testing::Types<over<default_family, default_epoch_env>, over<default_family, user_epoch_env>,
                     over<default_family, quarantine_env>, over<forced_family, default_epoch_env>,
                     over<forced_family, user_epoch_env>, over<forced_family, quarantine_env>>;
using elimination_families = ::testing::Types<default_family, forced_family>;
INSTANTIATE_TYPED_TEST_SUITE_P(EliminationStack, Semantics, elimination_configs, type_names);
INSTANTIATE_TYPED_TEST_SUITE_P(EliminationStack, Reclamation, elimination_families, type_names);
}  // namespace lockless::test
