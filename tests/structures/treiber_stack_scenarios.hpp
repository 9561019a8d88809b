// tests/structures/treiber_stack_scenarios.hpp: scripted runs of treiber_stack (and of
// every stack built on its code, elimination_stack) under the deterministic scheduler,
// shared by tests/dsched/treiber_stack.cpp, tests/dsched/elimination_stack*.cpp and the
// schedule fuzz targets tests/fuzz/{treiber,elimination}_stack_sched.cpp (which decode the
// scripts and the schedule from their input).
//
//   stack_schedule_run<Of>(strat, scripts, opt, inspect)   Of::type<P> (a stack of the
//       treiber_stack interface over payload P, constructed from an epoch_reclaimer) of
//       counted move-only payloads on its own epoch_domain. Scripts are spelled in the
//       stack's operation alphabet (treiber_stack_ops.hpp): push, pop, flush,
//       flush_pinned. Returns "" or the failure: the run's report, a history that is not
//       a linearizable LIFO history (support/dsched_history.hpp), a payload used after
//       destruction, or one not destroyed exactly once once the stack and its domain are
//       gone. freed_nodes: nodes the domain had freed by the end of the run (a scenario
//       that never frees anything checks little reclamation; an elimination_stack's
//       handed-over nodes are subtracted only when its statistics are on). inspect(stack) is called
//       after the run and its drain (statistics, range()).
//   treiber_schedule_run(strat, scripts, opt)   stack_schedule_run<treiber_stack_of>.
//   (elimination_stack's: structures/elimination_stack_scenarios.hpp.)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lockless/epoch.hpp>
#include <lockless/treiber_stack.hpp>

#include "support/counting.hpp"
#include "support/dsched.hpp"
#include "support/dsched_history.hpp"
#include "support/lincheck.hpp"
#include "structures/treiber_stack_ops.hpp"

namespace lockless::test {

// scripted_run() interprets push and pop itself.
static_assert(treiber_stack_ops::letter(treiber_stack_op::push) == script_insert);
static_assert(treiber_stack_ops::letter(treiber_stack_op::pop) == script_remove);

struct treiber_schedule_tag {};

struct treiber_outcome {
  std::string failure;
  std::size_t freed_nodes = 0;  // freed by the domain while the threads ran
};

// The stack under test: Of::type<P>.
struct treiber_stack_of {
  template <class P>
  using type = lockless::treiber_stack<P, lockless::epoch_reclaimer>;
};

struct no_inspection {
  template <class Stack>
  void operator()(const Stack&) const noexcept {}
};

template <class Of, class Inspect = no_inspection>
treiber_outcome stack_schedule_run(dsched::strategy& strat, const std::vector<std::string>& scripts,
                                   const dsched::options& opt = {}, Inspect&& inspect = {}) {
  using payload = lockless_test::move_only<treiber_schedule_tag>;
  auto& counters = payload::counters();
  counters.reset();
  treiber_outcome out;
  {
    lockless::epoch_domain domain;
    {
      typename Of::template type<payload> s{lockless::epoch_reclaimer(domain)};
      std::size_t popped = 0;
      out.failure = scripted_run(
          strat, scripts, lincheck::spec::stack().drained(), [&](std::uint64_t v) { s.emplace(v); },
          [&]() -> std::optional<std::uint64_t> {
            std::optional<payload> p = s.try_pop();
            if (!p) return std::nullopt;
            ++popped;  // one thread runs at a time
            return p->value();
          },
          [&](char c, unsigned) {
            switch (treiber_stack_op{c}) {
              case treiber_stack_op::flush:
                domain.flush();
                break;
              case treiber_stack_op::flush_pinned: {
                lockless::epoch_guard g(domain);
                domain.flush();  // pinned: seals, and frees what is already safe
                break;
              }
              default:
                break;  // scripts use push, pop, flush and flush_pinned only
            }
          },
          {}, opt);
      inspect(std::as_const(s));
      // A node handed over by an elimination is freed at once, never retired: with
      // statistics, those pops are not the domain's.
      if constexpr (requires { s.stats().eliminated_pairs; }) popped -= s.stats().eliminated_pairs;
      // The drain's nodes sit in this thread's open batch (far from full): what the
      // domain has freed, it freed during the run.
      out.freed_nodes = popped - domain.retired_pending();
    }
  }
  if (!out.failure.empty()) return out;
  if (counters.errors.load() != 0) {
    out.failure = "a payload was used after its destruction";
  } else if (counters.live() != 0) {
    out.failure =
        std::to_string(counters.live()) + " payloads never destroyed (or destroyed twice)";
  }
  return out;
}

inline treiber_outcome treiber_schedule_run(dsched::strategy& strat,
                                            const std::vector<std::string>& scripts,
                                            const dsched::options& opt = {}) {
  return stack_schedule_run<treiber_stack_of>(strat, scripts, opt);
}

}  // namespace lockless::test
