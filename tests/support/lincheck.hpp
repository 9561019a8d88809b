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

[[nodiscard]] inline result check(const history& h, const spec& s, const options& o = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  auto finish = [&](result r) {
    if (r.violated() && o.shrink) shrink_window(h, s, r, o.shrink_opts);
    r.seconds = detail::seconds_since(t0);
    return r;
  };
  if (std::string err = h.validate(); !err.empty()) {
    result r;
    r.tier = "check";
    r.ops = h.size();
    r.reason = "malformed history: " + err;
    return r;
  }
  std::string aspects_note;
  if (o.aspects) {
    result a = check_aspects(h, s);
    if (a.violated()) return finish(std::move(a));
    if (a.linearizable() && !o.exact && o.reference_max_ops < h.size()) return finish(a);
    aspects_note = a.reason;
  }
  result e;
  if (o.exact) {
    e = check_exact(h, s, o.exact_opts);
    if (e.undecided() && o.shrink && !e.window_index.empty()) {
      // Refuting a long history can need an exhaustive search; a violation is local, so
      // try to confirm one on a window around where the search got stuck.
      result w = e;
      shrink_window(h, s, w, o.shrink_opts);
      if (w.window_confirmed) {
        w.v = verdict::not_linearizable;
        w.tier = "exact (window)";
        w.reason =
            "the sub-history below is not linearizable on its own, so neither is the "
            "whole history (removing operations as done here keeps a linearizable "
            "history linearizable); the search over the whole history " +
            e.reason;
        w.seconds = detail::seconds_since(t0);
        return w;
      }
    }
    if (e.undecided() && !aspects_note.empty()) e.reason += " (" + aspects_note + ")";
  }
  if (h.size() <= o.reference_max_ops) {
    reference_options ro = o.reference_opts;
    ro.max_ops = std::max(ro.max_ops, o.reference_max_ops);
    result ref = check_reference(h, s, ro);
    if (!o.exact) return finish(std::move(ref));
    if (!e.undecided() && !ref.undecided() && e.v != ref.v) {
      result r;
      r.tier = "check";
      r.ops = h.size();
      r.reason = std::string("checker bug: exact tier says ") + to_string(e.v) +
                 ", reference tier says " + to_string(ref.v);
      return r;
    }
    if (e.undecided()) return finish(std::move(ref));
  }
  return finish(std::move(e));
}

}  // namespace lockless::test::lincheck
