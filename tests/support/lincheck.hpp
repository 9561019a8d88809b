// tests/support/lincheck.hpp: linearizability checking of stack and queue histories.
//
// Record a history with support/history.hpp (recorder), then:
//
//   namespace lc = lockless::test::lincheck;
//   lc::result r = lc::check(h, lc::spec::stack().drained());
//   EXPECT_TRUE(r.linearizable()) << r.report();
//
// TIERS (each usable on its own; check() combines them). All need completed operations
// only (what the recorder produces); a, b need unique inserted values.
//   (a) check_aspects    lincheck/aspects.hpp   O(n log n) necessary conditions A1-A10:
//                        fresh, failed-insert, causality, duplicate, lost (drained),
//                        FIFO/LIFO order between non-overlapping operations, witnesses
//                        for empty/closed/full/ok-insert results. SOUND: a reported
//                        violation is real. COMPLETE only for unbounded queues whose
//                        operations all succeed (then it answers linearizable); elsewhere
//                        passing answers undecided.
//   (b) check_exact      lincheck/exact.hpp     JIT linearization search with
//                        memoisation, exploiting per-thread program order. SOUND AND
//                        COMPLETE for stacks, queues, bounded and closable ones (up to a
//                        ~1e-30-per-pair hash collision that could only turn a pass into
//                        a failure); undecided past its state budget. ~1 ms for 3,000
//                        operations from 8 threads when linearizable; refuting can cost
//                        an exhaustive search (budget -> undecided).
//   (c) check_reference  lincheck/reference.hpp exhaustive Wing-Gong search with exact
//                        memoisation, independent code; SOUND AND COMPLETE for any values;
//                        <= ~20 operations (max_ops). verify_linearization() replays a
//                        witness order.
//
// check(): malformed history or duplicate values -> undecided. Otherwise the aspects first
// (cheap; a violation is final), then the exact tier; if it gives up, a violation is
// looked for on a window around where it got stuck (sound: see MONOTONICITY in
// lincheck/shrink.hpp); for small histories (options::reference_max_ops) the reference
// tier too, and a disagreement is reported as undecided ("checker bug"). Every violation
// is shrunk to a small sub-history that is not linearizable by itself (result::window,
// printed by result::report()). The answer is linearizable only when the exact or
// reference tier found a linearization (result::linearization), or the aspects are
// complete for the history; never by default.
//
// RELAXED FULL: spec::bounded_queue(cap).full_when_in_flight() is the spec of a bounded
// queue whose in-flight operations hold slots (lockless::bounded_queue): an insert that
// returned full is legal at a point where size + k >= capacity, k = the number of other
// inserts/removes overlapping it (lincheck/common.hpp). Every tier judges it: aspect A8
// with the relaxed witness, the exact and reference tiers with the relaxed legality, and
// the shrinker keeps every operation overlapping a kept FULL result (lincheck/shrink.hpp),
// so windows and the window confirmation stay sound.
//
// Recording a run: lincheck/harness.hpp (record_run). Random histories for tests and
// fuzzers: lincheck/random_history.hpp.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>

#include "history.hpp"
#include "lincheck/aspects.hpp"
#include "lincheck/common.hpp"
#include "lincheck/exact.hpp"
#include "lincheck/reference.hpp"
#include "lincheck/shrink.hpp"

namespace lockless::test::lincheck {

struct options {
  bool aspects = true;                // tier (a) first
  bool exact = true;                  // tier (b)
  std::size_t reference_max_ops = 0;  // also tier (c), and demand agreement, up to this size
  bool shrink = true;                 // shrink the window of a violation
  exact_options exact_opts;
  reference_options reference_opts;
  shrink_options shrink_opts;
};

// Defined in lincheck.cpp, which the build compiles once into the library lockless_lincheck
// (tests/CMakeLists.txt) that every test program links: compiled in each test instead, the
// four tiers it reaches were a third of a test's compile time at -O2.
[[nodiscard]] result check(const history& h, const spec& s, const options& o = {});

}  // namespace lockless::test::lincheck
