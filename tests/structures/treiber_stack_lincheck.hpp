// tests/structures/treiber_stack_lincheck.hpp: treiber_stack's linearizability rounds,
// written once for every stack with its interface (treiber_stack, elimination_stack):
// used by tests/stress/treiber_stack_lincheck.cpp and elimination_stack_lincheck.cpp.
//
//   check_recorded_rounds<Stack>(name, o[, after_round])
//       o.rounds rounds; each records 8 threads x o.ops_per_round random push/try_pop of
//       unique values on a fresh Stack, then a quiescent drain (support/lincheck/harness.hpp),
//       and the history must be a linearizable LIFO history, decided by the exact tier (the
//       aspect tier runs first and must find nothing), its linearization replayed by
//       verify_linearization. Rounds alternate the stamp source (global counter,
//       steady_clock) and the push ratio (50, 65, 35 %); the last round records
//       o.long_round_ops operations per thread as one history. after_round(stack, history)
//       runs after each round's check (a structure's own counts: statistics). Prints a
//       summary line per run, prefixed with `name`.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck/harness.hpp"

namespace lockless::test {

struct lincheck_rounds {
  std::size_t rounds = 24;
  std::size_t ops_per_round = 375;  // per thread
  std::size_t long_round_ops = 4000;
  std::uint64_t first_seed = 1000;
};

struct no_round_check {
  template <class Stack>
  void operator()(Stack&, const history&) const noexcept {}
};

template <class Stack, class AfterRound = no_round_check>
void check_recorded_rounds(const char* name, const lincheck_rounds& o,
                           AfterRound after_round = {}) {
  namespace lc = lincheck;
  const unsigned push_percent[] = {50, 65, 35};
  std::uint64_t total_ops = 0, total_states = 0;
  double total_seconds = 0;
  for (std::size_t round = 0; round < o.rounds; ++round) {
    Stack s;
    lc::run_options ro;
    ro.threads = 8;
    ro.ops_per_thread = round + 1 == o.rounds ? o.long_round_ops : o.ops_per_round;
    ro.seed = o.first_seed + round;
    ro.stamps = round % 2 == 0 ? stamp_source::counter : stamp_source::steady_clock;
    ro.insert_percent = push_percent[round % 3];
    const history h =
        lc::record_run(ro, [&](std::uint64_t v) { s.push(v); }, [&] { return s.try_pop(); });
    ASSERT_TRUE(s.was_empty());
    const lc::spec spec = lc::spec::stack().drained();
    const lc::result r = lc::check(h, spec);
    ASSERT_TRUE(r.linearizable()) << name << ": round " << round << "\n" << r.report();
    ASSERT_EQ(lc::verify_linearization(h, spec, r.linearization), "");
    after_round(s, h);
    total_ops += h.size();
    total_states += r.states;
    total_seconds += r.seconds;
    if (round + 1 == o.rounds) {
      std::printf("%s: long round, %zu operations: %s in %.4f s (%llu states)\n", name, h.size(),
                  lc::to_string(r.v), r.seconds, static_cast<unsigned long long>(r.states));
    }
  }
  std::printf(
      "%s: %zu rounds, %llu operations, all linearizable; checking took %.3f s (%llu states)\n",
      name, o.rounds, static_cast<unsigned long long>(total_ops), total_seconds,
      static_cast<unsigned long long>(total_states));
}

}  // namespace lockless::test
