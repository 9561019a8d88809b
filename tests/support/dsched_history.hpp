// tests/support/dsched_history.hpp: one scripted run of a container under the
// deterministic scheduler, recorded and checked for linearizability.
//
//   std::string why = lockless::test::scripted_run(strat, {"iri", "rri", "ir"},
//       lc::spec::stack().drained(),
//       [&](std::uint64_t v) { s.push(v); },       // insert: void | bool | op_result
//       [&] { return s.try_pop(); },               // remove: optional | op_result
//       [&](char op, unsigned thread) { ... });    // any other script letter
//   EXPECT_EQ(why, "");
//
// scripts[t] is thread t's program: 'i' inserts the next unique value unique_value(t, seq),
// 'r' removes once, any other letter goes to `extra` (flush, a nested guard, ...; not
// recorded). After the scheduled threads end, the calling thread (thread id
// scripts.size() in the history) removes until the container reports something other
// than a value, so the history is complete (spec.drained()). Returns "" or what went
// wrong: the run's report (deadlock, step limit) or the checker's, with the history.
// Stamps come from the recorder's counter: under the scheduler they are deterministic.
//
// scripted_run_blocking() adds 'p', a blocking remove (a P0260 pop()) recorded like 'r':
// a lost wake-up leaves its thread parked and the run ends in a deadlock report. Give
// the scripts no more 'p' than values inserted, or the deadlock is the script's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dsched.hpp"
#include "history.hpp"
#include "lincheck.hpp"
#include "lincheck/harness.hpp"

namespace lockless::test {

// The letters a scripted run interprets itself, for every collection (a structure's
// alphabet, structures/<name>_ops.hpp, spells its insert and remove with them); every
// other letter goes to `extra`.
inline constexpr char script_insert = 'i';
inline constexpr char script_remove = 'r';
inline constexpr char script_blocking_pop = 'p';  // scripted_run_blocking only

struct scripted_kinds {
  op_kind insert = op_kind::push;  // how the history prints: push/pop or enqueue/dequeue
  op_kind remove = op_kind::pop;
};

template <class Insert, class Remove, class Pop, class Extra>
std::string scripted_run_blocking(dsched::strategy& strat, const std::vector<std::string>& scripts,
                                  const lincheck::spec& spec, Insert&& insert, Remove&& remove,
                                  Pop&& pop, Extra&& extra, scripted_kinds kinds = {},
                                  const dsched::options& opt = {}) {
  const std::size_t n = scripts.size();
  std::vector<std::size_t> capacity(n + 1, 0);
  std::size_t inserts = 0;
  for (std::size_t t = 0; t < n; ++t) {
    for (char c : scripts[t]) {
      if (c == script_insert || c == script_remove || c == script_blocking_pop) ++capacity[t];
      if (c == script_insert) ++inserts;
    }
  }
  capacity[n] = inserts + 1;  // the drain
  recorder rec(capacity);
  std::vector<std::function<void(unsigned)>> bodies;
  for (std::size_t t = 0; t < n; ++t) {
    bodies.push_back([&, t](unsigned) {
      std::uint64_t seq = 0;
      for (char c : scripts[t]) {
        if (c == script_insert) {
          const std::uint64_t v = unique_value(t + 1, seq++);  // nonzero values
          rec.record(t, kinds.insert, v, [&] { return insert(v); });
        } else if (c == script_remove) {
          rec.record(t, kinds.remove, 0, [&] { return lincheck::as_result(remove()); });
        } else if (c == script_blocking_pop) {
          rec.record(t, kinds.remove, 0, [&] { return lincheck::as_result(pop()); });
        } else {
          extra(c, static_cast<unsigned>(t));
        }
      }
    });
  }
  const dsched::result r = dsched::run(strat, std::move(bodies), opt);
  if (!r.ok()) return r.report;
  for (;;) {
    const op_result got =
        rec.record(n, kinds.remove, 0, [&] { return lincheck::as_result(remove()); });
    if (got.status != op_status::value) break;
  }
  const history h = rec.merged();
  const lincheck::result c = lincheck::check(h, spec);
  if (c.linearizable()) return {};
  return c.report() + "\nhistory:\n" + h.to_string();
}

template <class Insert, class Remove, class Extra>
std::string scripted_run(dsched::strategy& strat, const std::vector<std::string>& scripts,
                         const lincheck::spec& spec, Insert&& insert, Remove&& remove,
                         Extra&& extra, scripted_kinds kinds = {},
                         const dsched::options& opt = {}) {
  auto no_pop = []() -> op_result {
    std::fprintf(stderr, "scripted_run: a script uses 'p' (use scripted_run_blocking)\n");
    std::abort();
  };
  return scripted_run_blocking(strat, scripts, spec, std::forward<Insert>(insert),
                               std::forward<Remove>(remove), no_pop, std::forward<Extra>(extra),
                               kinds, opt);
}

// A named set of per-thread scripts and how many schedules to explore it under.
struct schedule_scenario {
  const char* name;
  std::vector<std::string> scripts;
  std::uint64_t schedules;
};

// explore_scenario(sc, run): explores sc under sc.schedules schedules; run(strategy&)
// runs the scripts once and returns {failure ("" if none), whether memory was reclaimed
// during the run}. Returns explore()'s summary and how many runs reclaimed (a scenario
// that is meant to reclaim and never does checks nothing).
struct scenario_outcome {
  dsched::explore_summary summary;
  std::uint64_t reclaiming_runs = 0;
};

struct scenario_run {
  std::string failure;
  bool reclaimed = false;
};

template <class Run>
scenario_outcome explore_scenario(const schedule_scenario& sc, Run&& run) {
  scenario_outcome out;
  dsched::explore_options o;
  o.schedules = sc.schedules;
  out.summary = dsched::explore(o, [&](dsched::strategy& strat) {
    scenario_run r = run(strat);
    out.reclaiming_runs += r.reclaimed ? 1 : 0;
    return std::move(r.failure);
  });
  return out;
}

}  // namespace lockless::test
