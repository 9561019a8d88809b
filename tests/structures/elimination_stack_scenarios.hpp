// tests/structures/elimination_stack_scenarios.hpp: scripted runs of elimination_stack
// under the deterministic scheduler, shared by tests/dsched/elimination_stack*.cpp and the
// schedule fuzz target tests/fuzz/elimination_stack_sched.cpp.
//
//   elimination_stack_of<Options>        the stack under test for stack_schedule_run
//       (structures/treiber_stack_scenarios.hpp: the same runner as treiber_stack's: counted
//       move-only payloads on the stack's own epoch_domain, a linearizable LIFO history,
//       every payload destroyed exactly once).
//   elimination_schedule_run<Options>(strat, scripts, opt, paths)   that runner; with
//       `paths`, it also follows every thread's yield points through the exchanger
//       (exchanger_paths below) and, with Options.statistics, checks that the stack's
//       eliminated_pairs equals the exchanges the paths saw.
//
//   exchanger_paths   which transitions of the exchanger (elimination_stack.hpp, THE
//       EXCHANGER) a run took, read from the call sites of the yield points (the shim
//       reports the function of every atomic operation: push_visit, pop_visit, and the
//       helpers each outcome goes through next). NEEDS Options.statistics: a successful
//       take [XC2] or give [XP3] is told apart from a collision by the counter's
//       fetch-and-add (count_elimination) that follows it. Per thread:
//         push_visit load [XP1] -> push_visit rmw -> count_elimination: a give [XP3]
//                                                 -> wait_spins: an offer [XP2]
//                                                 -> anything else: a collision
//         (look [XP1] followed by no push_visit rmw: a collision at the look)
//         offered -> met_while_waiting: the offer was taken while it waited ([XC2])
//                 -> push_visit rmw [XP5] -> timed_out: withdrawn
//                                         -> push_taken: withdraw failed (taken first)
//       and symmetrically for pop_visit: rmw -> count_elimination: a take [XC2];
//       -> wait_spins: a waiting mark [XC3]; waiting -> met_while_waiting: given while
//       waiting ([XP3]); -> pop_visit rmw [XC5] -> timed_out: withdrawn, -> pop_given:
//       withdraw failed (given first).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <lockless/elimination_stack.hpp>

#include "structures/elimination_stack_ops.hpp"
#include "structures/treiber_stack_scenarios.hpp"
#include "support/dsched.hpp"

namespace lockless::test {

template <lockless::elimination_options Options>
struct elimination_stack_of {
  template <class P>
  using type = lockless::elimination_stack<P, lockless::epoch_reclaimer, Options>;
};

// The exchanger's transitions, counted over runs.
struct exchanger_paths {
  enum path : unsigned {
    offered,              // [XP2] a push's node in the slot
    taken,                // [XC2] a pop took an offered node
    waited,               // [XC3] a pop's waiting mark in the slot
    given,                // [XP3] a push gave its node to a waiting pop
    taken_while_waiting,  // the offering push saw TAKEN while it waited ([XP4])
    given_while_waiting,  // the waiting pop saw n|1 while it waited ([XC4])
    push_withdrawn,       // [XP5] succeeded: nobody took the node
    push_withdraw_lost,   // [XP5] failed: a pop took the node just before
    pop_withdrawn,        // [XC5] succeeded: nobody gave
    pop_withdraw_lost,    // [XC5] failed: a push gave just before
    collided,             // a visit left at once (a state it cannot use, or a lost CAS)
    count
  };
  static constexpr const char* names[count] = {"offered [XP2]",
                                               "taken [XC2]",
                                               "waited [XC3]",
                                               "given [XP3]",
                                               "taken while waiting",
                                               "given while waiting",
                                               "push withdrawn [XP5]",
                                               "push withdraw lost",
                                               "pop withdrawn [XC5]",
                                               "pop withdraw lost",
                                               "collided"};

  std::array<std::uint64_t, count> n{};

  [[nodiscard]] std::uint64_t operator[](path p) const noexcept { return n[p]; }
  void add(const exchanger_paths& o) noexcept {
    for (unsigned i = 0; i < count; ++i) n[i] += o.n[i];
  }
  [[nodiscard]] std::uint64_t exchanges() const noexcept { return n[taken] + n[given]; }
  [[nodiscard]] std::string describe() const {
    std::string s;
    for (unsigned i = 0; i < count; ++i) {
      s += (i ? ", " : "") + std::string(names[i]) + " " + std::to_string(n[i]);
    }
    return s;
  }

  // The per-thread state machine fed by dsched::options::observer.
  class tracker {
   public:
    explicit tracker(exchanger_paths& out) : out_(out) {}

    // What thread t holds in its slot while it stands at its latest yield point (the
    // operation of that point not done yet).
    enum class holding : unsigned char {
      nothing,
      offer,          // its node, offered ([XP2] done, no [XP5] or TAKEN seen yet)
      taken_unreset,  // TAKEN, seen, not reset yet ([XP6] pending)
      waiting_mark,   // WAITING ([XC3] done, no [XC5] or give seen yet)
      given_unreset,  // n|1, seen, not reset yet ([XC6] pending)
      count
    };
    static constexpr const char* holding_names[static_cast<unsigned>(holding::count)] = {
        "nothing", "its offer", "TAKEN not reset", "its waiting mark", "a given node not reset"};

    void on_point(unsigned t, dsched::event e, const dsched::site& where) {
      if (t >= state_.size()) state_.resize(t + 1, st::idle);
      const st prev = state_[t];
      step(t, e, where);
      const st now = state_[t];
      const char* f = where.function;
      holding h = holding::nothing;
      if (named(f, "push_taken")) {
        h = holding::taken_unreset;
      } else if (named(f, "pop_given")) {
        h = holding::given_unreset;
      } else if (named(f, "met_while_waiting")) {
        h = prev == st::push_offered ? holding::taken_unreset : holding::given_unreset;
      } else if (now == st::push_offered || now == st::push_withdrawing) {
        h = holding::offer;
      } else if (now == st::pop_waiting || now == st::pop_withdrawing) {
        h = holding::waiting_mark;
      }
      last_ = h;
    }
    // What the thread of the latest on_point() holds.
    [[nodiscard]] holding last() const noexcept { return last_; }

   private:
    void step(unsigned t, dsched::event e, const dsched::site& where) {
      st& s = state_[t];
      const char* f = where.function;
      const bool rmw = e == dsched::event::rmw;
      switch (s) {
        case st::push_looked:
          if (named(f, "push_visit") && rmw) {
            s = st::push_cas;
            return;
          }
          ++out_.n[collided];
          break;
        case st::push_cas:
          if (named(f, "count_elimination")) {
            ++out_.n[given];
            s = st::idle;
            return;
          }
          if (named(f, "wait_spins")) {
            ++out_.n[offered];
            s = st::push_offered;
            return;
          }
          ++out_.n[collided];
          break;
        case st::push_offered:
          if (named(f, "met_while_waiting")) {
            ++out_.n[taken_while_waiting];
            s = st::idle;
            return;
          }
          if (named(f, "push_visit") && rmw) s = st::push_withdrawing;
          return;  // waiting: cpu_relax and [XP4] loads
        case st::push_withdrawing:
          ++out_.n[named(f, "push_taken") ? push_withdraw_lost : push_withdrawn];
          break;
        case st::pop_looked:
          if (named(f, "pop_visit") && rmw) {
            s = st::pop_cas;
            return;
          }
          ++out_.n[collided];
          break;
        case st::pop_cas:
          if (named(f, "count_elimination")) {
            ++out_.n[taken];
            s = st::idle;
            return;
          }
          if (named(f, "wait_spins")) {
            ++out_.n[waited];
            s = st::pop_waiting;
            return;
          }
          ++out_.n[collided];
          break;
        case st::pop_waiting:
          if (named(f, "met_while_waiting")) {
            ++out_.n[given_while_waiting];
            s = st::idle;
            return;
          }
          if (named(f, "pop_visit") && rmw) s = st::pop_withdrawing;
          return;
        case st::pop_withdrawing:
          ++out_.n[named(f, "pop_given") ? pop_withdraw_lost : pop_withdrawn];
          break;
        case st::idle:
          break;
      }
      // A new visit starts with its look ([XP1] / [XC1]).
      s = st::idle;
      if (e == dsched::event::load && named(f, "push_visit")) s = st::push_looked;
      if (e == dsched::event::load && named(f, "pop_visit")) s = st::pop_looked;
    }

    enum class st : unsigned char {
      idle,
      push_looked,
      push_cas,
      push_offered,
      push_withdrawing,
      pop_looked,
      pop_cas,
      pop_waiting,
      pop_withdrawing
    };
    // The shim reports the function as the compiler spells it: GCC may add template
    // arguments ("push_visit<...>"), clang does not.
    static bool named(const char* reported, const char* name) noexcept {
      const std::size_t len = std::strlen(name);
      return std::strncmp(reported, name, len) == 0 &&
             (reported[len] == '\0' || reported[len] == '<' || reported[len] == ' ');
    }
    exchanger_paths& out_;
    std::vector<st> state_;
    holding last_ = holding::nothing;
  };
};

template <lockless::elimination_options Options>
treiber_outcome elimination_schedule_run(dsched::strategy& strat,
                                         const std::vector<std::string>& scripts,
                                         dsched::options opt = {},
                                         exchanger_paths* paths = nullptr) {
  if (paths != nullptr && !Options.statistics) {
    throw std::logic_error("elimination_schedule_run: exchanger paths need Options.statistics");
  }
  exchanger_paths run_paths;
  exchanger_paths::tracker track(run_paths);
  if (paths != nullptr) {
    opt.observer = [&, user = std::move(opt.observer)](unsigned t, dsched::event e,
                                                       const dsched::site& s) {
      track.on_point(t, e, s);
      if (user) user(t, e, s);
    };
  }
  std::uint64_t eliminated = 0;
  treiber_outcome out =
      stack_schedule_run<elimination_stack_of<Options>>(strat, scripts, opt, [&](const auto& s) {
        if constexpr (Options.statistics) eliminated = s.stats().eliminated_pairs;
        (void)s;
      });
  if (paths == nullptr) return out;
  paths->add(run_paths);
  if constexpr (Options.statistics) {
    if (out.failure.empty() && eliminated != run_paths.exchanges()) {
      out.failure = "stats().eliminated_pairs = " + std::to_string(eliminated) +
                    ", but the exchanger paths saw " + std::to_string(run_paths.exchanges()) +
                    " exchanges: " + run_paths.describe();
    }
    // Both sides of an exchange that waited see it: the waiting party and its partner.
    if (out.failure.empty() && (run_paths[exchanger_paths::taken_while_waiting] +
                                        run_paths[exchanger_paths::push_withdraw_lost] !=
                                    run_paths[exchanger_paths::taken] ||
                                run_paths[exchanger_paths::given_while_waiting] +
                                        run_paths[exchanger_paths::pop_withdraw_lost] !=
                                    run_paths[exchanger_paths::given])) {
      out.failure = "the exchanger paths do not pair up: " + run_paths.describe();
    }
  }
  return out;
}

}  // namespace lockless::test
