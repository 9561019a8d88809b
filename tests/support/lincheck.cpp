// tests/support/lincheck.cpp: the out-of-line part of support/lincheck.hpp, compiled once
// per build into the library lockless_lincheck (tests/CMakeLists.txt). Every test program
// links it; only the programs that check histories pull these in.
//
// check() reaches every tier (aspects, exact, reference, shrink): defined inline in the
// header, each test program that checks histories compiled all of them again, a third of
// its compile time at -O2 (the dsched test of unbounded_queue: 14.9 s -> 10.5 s). The
// tiers stay inline in their headers for the checker's own tests, which call them one by
// one.
#include "lincheck.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lockless::test::lincheck {

result check(const history& h, const spec& s, const options& o) {
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

std::string verify_linearization(const history& h, const spec& s,
                                 const std::vector<std::size_t>& order) {
  if (order.size() != h.ops.size()) return "order has the wrong length";
  std::vector<bool> used(h.ops.size(), false);
  detail::reference_model m{s.kind, s.capacity, {}, false};
  const std::vector<std::size_t> in_flight =
      s.relaxed_full ? detail::overlapping_ops(h) : std::vector<std::size_t>(h.ops.size(), 0);
  std::uint64_t max_call = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    if (i >= h.ops.size() || used[i]) return "order is not a permutation";
    used[i] = true;
    const operation& op = h.ops[i];
    if (k != 0 && op.ret < max_call) {
      return "real-time order broken at position " + std::to_string(k) + ": " +
             format_operation(op) + " returned before an earlier-placed operation was called";
    }
    max_call = std::max(max_call, op.call);
    if (!detail::replay(m, op, s.relaxed_full, in_flight[i])) {
      return "illegal at position " + std::to_string(k) + ": " + format_operation(op);
    }
  }
  // program order: within each thread, seq increasing along `order`
  std::vector<std::int64_t> last(h.threads, -1);
  for (std::size_t i : order) {
    const operation& op = h.ops[i];
    if (static_cast<std::int64_t>(op.seq) <= last[op.thread]) return "program order broken";
    last[op.thread] = op.seq;
  }
  if (s.complete && !m.items.empty()) return "not empty at the end of a drained history";
  return {};
}

}  // namespace lockless::test::lincheck
