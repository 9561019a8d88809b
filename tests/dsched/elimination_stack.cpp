// elimination_stack (treiber_stack's code with an elimination array) under deterministic
// schedules.
//
// Each scenario is a set of per-thread scripts for elimination_schedule_run()
// (structures/elimination_stack_scenarios.hpp: treiber_stack's runner,
// structures/treiber_stack_scenarios.hpp, over an elimination_stack), spelled in the
// stack's alphabet ('i' push, 'r' try_pop, 'f' flush of the stack's epoch domain, 'g' a
// flush from inside a guard). Every run must finish, its history must be a linearizable
// LIFO history (an eliminated pair linearizes at its exchange), and once the stack and its
// domain are gone every payload must have been destroyed exactly once.
//
// Configurations:
//   meet      width 1, force_exchange, exchange_spins 4, statistics: every operation
//             visits the single slot before its first central CAS and waits there a few
//             rounds (each a yield point), so pushes and pops meet in the slot.
//   two       width 2, force_exchange, statistics: the same over two slots (the range
//             grows on collisions and shrinks on timeouts).
//   default   elimination_options{}: the exchanger is visited only after a failed central
//             CAS, i.e. when the scheduler preempts a thread between its head read and
//             its CAS.
// With statistics on, the runner follows each thread's yield points through the
// exchanger (exchanger_paths) and cross-checks them against stats().eliminated_pairs.
//
// ExchangerTransitionsAreAllReached: over the meet scenarios' schedules, every transition
// of the exchanger (elimination_stack.hpp, THE EXCHANGER) happened at least once: an
// offer taken [XC2], a give to a waiting pop [XP3], a push withdraw [XP5] that succeeded
// and one that failed (the node taken just before), a pop withdraw [XC5] that succeeded
// and one that failed (a node given just before), and a collision.
//
// The two withdraw races are also steered exactly (hold_at, support/dsched.hpp, used as a
// steer: the victim runs alone up to the withdraw CAS, is held there while the partner
// completes, then resumes):
//   PushWithdrawLosesToATake: push T0 offers n and waits out its rounds; held before its
//     [XP5] CAS; pop T1 takes n [XC2] and returns it; T0's [XP5] fails on TAKEN, it
//     resets the slot [XP6] and returns (its node went to T1, not to the central stack).
//   PopWithdrawLosesToAGive: pop T0 marks WAITING [XC3] and waits out its rounds; held
//     before its [XC5] CAS; push T1 gives n [XP3]; T0's [XC5] fails with n|1, it takes n,
//     resets [XC6] and returns T1's value.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "structures/elimination_stack_ops.hpp"
#include "structures/elimination_stack_scenarios.hpp"
#include "support/dsched_history.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::elimination_options;
using lockless::test::exchanger_paths;
using lockless::test::schedule_scenario;

constexpr elimination_options meet{
    .width = 1, .exchange_spins = 4, .statistics = true, .force_exchange = true};
constexpr elimination_options two{
    .width = 2, .exchange_spins = 4, .statistics = true, .force_exchange = true};
constexpr elimination_options plain{};

std::uint64_t budget(std::uint64_t n) {
  return lockless_test::under_asan ? n / 3 : n;
}

const std::vector<schedule_scenario>& meet_scenarios() {
  static const std::vector<schedule_scenario> all = {
      {"one push, one pop", {"i", "r"}, budget(600)},
      {"push/pop pairs", {"irir", "riri"}, budget(600)},
      {"two pushers, two poppers", {"ii", "rr", "ir"}, budget(600)},
      {"reclaiming: pairs and flushes", {"irfi", "rgri"}, budget(400)},
  };
  return all;
}

template <elimination_options Options>
void explore_all(const char* config, const std::vector<schedule_scenario>& scenarios,
                 exchanger_paths* total) {
  for (const schedule_scenario& sc : scenarios) {
    exchanger_paths paths;
    const lockless::test::scenario_outcome out =
        lockless::test::explore_scenario(sc, [&](ds::strategy& strat) {
          lockless::test::treiber_outcome r = lockless::test::elimination_schedule_run<Options>(
              strat, sc.scripts, {}, Options.statistics ? &paths : nullptr);
          return lockless::test::scenario_run{std::move(r.failure), r.freed_nodes != 0};
        });
    EXPECT_TRUE(out.summary.ok()) << config << " [" << sc.name << "]: " << out.summary.describe();
    std::printf("elimination_stack %s [%s]: %s; %llu runs freed nodes\n", config, sc.name,
                out.summary.describe().c_str(),
                static_cast<unsigned long long>(out.reclaiming_runs));
    if (Options.statistics) std::printf("  paths: %s\n", paths.describe().c_str());
    if (total != nullptr) total->add(paths);
  }
}

TEST(DschedEliminationStack, MeetInOneSlotLinearizableAndEveryTransitionReached) {
  exchanger_paths total;
  explore_all<meet>("width 1, force_exchange", meet_scenarios(), &total);
  std::printf("all meet scenarios: %s\n", total.describe().c_str());
  for (unsigned p = 0; p < exchanger_paths::count; ++p) {
    EXPECT_GT(total.n[p], 0U) << "never reached: " << exchanger_paths::names[p];
  }
}

TEST(DschedEliminationStack, TwoSlotsLinearizable) {
  const std::vector<schedule_scenario> scenarios = {
      {"two pushers, two poppers", {"ii", "rr", "ir"}, budget(400)},
      {"four threads", {"ir", "ri", "ii", "rr"}, budget(300)},
  };
  exchanger_paths total;
  explore_all<two>("width 2, force_exchange", scenarios, &total);
  EXPECT_GT(total.exchanges(), 0U);
}

TEST(DschedEliminationStack, DefaultOptionsLinearizable) {
  const std::vector<schedule_scenario> scenarios = {
      {"push/pop pairs", {"irir", "riri"}, budget(600)},
      {"three threads, pops race pushes", {"iir", "rri", "irr"}, budget(600)},
      {"reclaiming: pop, flush, push again", {"irffirf", "irffirf"}, budget(400)},
  };
  explore_all<plain>("default options", scenarios, nullptr);
  // The same scripts with statistics: the exchanger is reached after failed central
  // CASes only (printed, not required: the preemption must fall between read and CAS).
  constexpr elimination_options counted{.statistics = true};
  exchanger_paths total;
  explore_all<counted>("default options + statistics", scenarios, &total);
  EXPECT_GT(total[exchanger_paths::offered] + total[exchanger_paths::waited] +
                total[exchanger_paths::collided],
            0U)
      << "no failed central CAS ever reached the exchanger";
}

// ---- the two withdraw races, steered --------------------------------------------------

// The victim's yield points (function, event) in a victim-first run: where the steer
// must hold it.
std::vector<std::pair<std::string, ds::event>> victim_points(
    const std::vector<std::string>& scripts) {
  std::vector<std::pair<std::string, ds::event>> out;
  ds::hold_at calib(0, std::numeric_limits<std::uint64_t>::max(), nullptr, 0);
  ds::options opt;
  opt.observer = [&](unsigned t, ds::event e, const ds::site& s) {
    if (t == 0) out.emplace_back(s.function, e);
  };
  const lockless::test::treiber_outcome r =
      lockless::test::elimination_schedule_run<meet>(calib, scripts, opt);
  EXPECT_EQ(r.failure, "");
  return out;
}

// The index of the victim's n-th (1-based) rmw in `function`.
std::uint64_t nth_rmw(const std::vector<std::pair<std::string, ds::event>>& points,
                      const char* function, unsigned n) {
  for (std::uint64_t k = 0; k < points.size(); ++k) {
    if (points[k].second == ds::event::rmw && points[k].first.rfind(function, 0) == 0 && --n == 0) {
      return k;
    }
  }
  ADD_FAILURE() << "the victim never reached that rmw in " << function;
  return 0;
}

exchanger_paths steered(const std::vector<std::string>& scripts, std::uint64_t k) {
  ds::hold_at steer(0, k, nullptr, 1000);
  exchanger_paths paths;
  const lockless::test::treiber_outcome r =
      lockless::test::elimination_schedule_run<meet>(steer, scripts, {}, &paths);
  EXPECT_EQ(r.failure, "") << steer.describe();
  EXPECT_TRUE(steer.held()) << steer.describe();
  EXPECT_FALSE(steer.starved()) << steer.describe();
  std::printf("%s: %s\n", steer.describe().c_str(), paths.describe().c_str());
  return paths;
}

TEST(DschedEliminationStack, PushWithdrawLosesToATake) {
  const std::vector<std::string> scripts = {"i", "r"};
  // The victim-first run: alone, the push offers, times out and withdraws ([XP5] wins).
  const auto points = victim_points(scripts);
  // push_visit's rmws: the offer [XP2], then the withdraw [XP5].
  const std::uint64_t k = nth_rmw(points, "push_visit", 2);
  const exchanger_paths p = steered(scripts, k);
  EXPECT_EQ(p[exchanger_paths::offered], 1U);
  EXPECT_EQ(p[exchanger_paths::taken], 1U);
  EXPECT_EQ(p[exchanger_paths::push_withdraw_lost], 1U);
  EXPECT_EQ(p[exchanger_paths::push_withdrawn], 0U);
  EXPECT_EQ(p.exchanges(), 1U);
}

TEST(DschedEliminationStack, PopWithdrawLosesToAGive) {
  const std::vector<std::string> scripts = {"r", "i"};
  const auto points = victim_points(scripts);
  // pop_visit's rmws: the waiting mark [XC3], then the withdraw [XC5].
  const std::uint64_t k = nth_rmw(points, "pop_visit", 2);
  const exchanger_paths p = steered(scripts, k);
  EXPECT_EQ(p[exchanger_paths::waited], 1U);
  EXPECT_EQ(p[exchanger_paths::given], 1U);
  EXPECT_EQ(p[exchanger_paths::pop_withdraw_lost], 1U);
  EXPECT_EQ(p[exchanger_paths::pop_withdrawn], 0U);
  EXPECT_EQ(p.exchanges(), 1U);
}

}  // namespace
