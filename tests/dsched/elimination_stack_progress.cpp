// The progress test of elimination_stack (issue 12): lock-freedom in the strict sense,
// shown under the deterministic scheduler, with the exchanger in the way.
//
// One thread (the victim) is held at each of its yield points in turn (every atomic
// operation of the real header, and of the epoch domain under it, is one) and never
// scheduled again until the other threads have finished their whole scripts within a
// fixed budget of yield points (ds::hold_at / ds::explore_progress, support/dsched.hpp).
// The history (the victim's operation completes last, after it is released) must be a
// linearizable LIFO history and every payload must be destroyed once
// (elimination_schedule_run, structures/elimination_stack_scenarios.hpp).
//
// With width 1 and force_exchange every operation visits the single slot first, so among
// the held points are a push held with its node offered [XP2] (the others' pops take it
// [XC2] or collide and go to the central stack; the others' pushes collide), a push held
// after its node was taken, TAKEN not reset yet [XP6] (every visitor collides), a pop held
// with its waiting mark in the slot [XC3] (a push gives to it [XP3] or collides), a pop
// held with a given node not reset yet [XC6], and both held just before a withdraw
// ([XP5], [XC5]). Points inside a detail::mutex critical section (the epoch domain's
// thread registration, on a thread's first pin) are not held (ds::hold_at: blocking by
// design, not the stack's). The header's claim: a thread held inside the exchanger holds at most one
// slot, and nobody waits for it. The test also counts, over the held runs, how often the
// victim was held in each exchanger state (from the paths of exchanger_paths), and
// requires each of them to have been held at.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "structures/elimination_stack_scenarios.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::elimination_options;

constexpr elimination_options meet{
    .width = 1, .exchange_spins = 2, .statistics = true, .force_exchange = true};

struct progress_scenario {
  const char* name;
  std::vector<std::string> scripts;  // 'i' push, 'r' try_pop, 'f' flush
};

TEST(DschedEliminationStackProgress, OthersCompleteWhileAnyThreadIsHeldAtAnyYieldPoint) {
  using tracker = lockless::test::exchanger_paths::tracker;
  using holding = tracker::holding;
  constexpr auto kinds = static_cast<unsigned>(holding::count);
  const std::vector<progress_scenario> scenarios = {
      {"push against pop", {"ir", "ri"}},
      {"pusher, popper, mixed", {"ii", "rr", "ir"}},
  };
  ds::progress_options o;
  o.budget = 5000;
  o.seeds = 4;  // under ASan too: with 2 seeds a few yield points were never held at
  std::array<std::uint64_t, kinds> held_holding{};  // held runs by what the victim held
  for (const progress_scenario& sc : scenarios) {
    const ds::progress_summary s =
        ds::explore_progress(static_cast<unsigned>(sc.scripts.size()), o, [&](ds::strategy& strat) {
          const auto* h = dynamic_cast<const ds::hold_at*>(&strat);
          lockless::test::exchanger_paths paths;
          tracker track(paths);
          std::vector<holding> victim_holds;  // at each of the victim's yield points
          ds::options opt;
          opt.observer = [&](unsigned t, ds::event e, const ds::site& where) {
            track.on_point(t, e, where);
            if (h != nullptr && t == h->victim()) victim_holds.push_back(track.last());
          };
          std::string why =
              lockless::test::elimination_schedule_run<meet>(strat, sc.scripts, opt).failure;
          if (h != nullptr && h->held() && h->k() < victim_holds.size()) {
            ++held_holding[static_cast<unsigned>(victim_holds[h->k()])];
          }
          return why;
        });
    EXPECT_EQ(s.first_failure, "") << sc.name;
    EXPECT_EQ(s.starved_runs, 0U) << sc.name << ": the others starved under " << s.first_starved;
    // Every point is held at, but those inside the epoch domain's registration mutex.
    EXPECT_EQ(s.covered + s.in_lock, s.points) << sc.name << ": some yield point was never held at";
    EXPECT_LT(s.in_lock * 4, s.points) << sc.name;
    EXPECT_GT(s.points, 0U) << sc.name;
    std::printf("elimination_stack progress [%s]: %s\n", sc.name, s.describe().c_str());
  }
  std::printf("held runs by what the victim held in the exchanger:");
  for (unsigned i = 0; i < kinds; ++i) {
    std::printf(" %s %llu;", tracker::holding_names[i],
                static_cast<unsigned long long>(held_holding[i]));
    EXPECT_GT(held_holding[i], 0U) << "never held holding " << tracker::holding_names[i];
  }
  std::printf("\n");
}

}  // namespace
