// tests/support/lincheck/shrink.hpp: from a non-linearizable history to a small
// sub-history that is not linearizable by itself (delta debugging over operations).
//
// UNITS: operations are removed in units: a value (its insert and every remove that
// returned it), or one operation that changes nothing (a remove returning empty/closed, a
// failed insert). close operations are never removed.
// MONOTONICITY: removing a unit from a LINEARIZABLE history leaves it linearizable (delete
// the unit's operations from the linearization: every other result stays legal, fewer
// values are present), with one exception: in a bounded container, removing a value that
// is present at a FULL result's linearization point makes that result illegal. Removing
// value u cannot do that to FULL result f if u is certainly absent during f (u's remove
// returned before f was called, or f returned before u's insert was called). So a
// sub-history S is a valid witness (S not linearizable => the whole history is not) when,
// for every FULL result f in S, S keeps every value possibly present during f: remove the
// read-only units first, then the values. Candidates are closed under that rule.
// spec::full_when_in_flight(): a FULL f is legal where size + k(f) >= capacity, k(f) the
// inserts/removes overlapping f in the history checked, so removing one of them lowers
// k(f) and can make f illegal. The rule then also keeps, for every FULL result f in S,
// the unit of every insert/remove overlapping f: k(f) in S equals k(f) in the whole
// history, the size at f's linearization point is unchanged (the values possibly present
// are kept), and the argument above goes through. Such a unit may hold another FULL
// result, so the closure is taken to a fixpoint.
// SEARCH: the units of the focus (the operations a tier blamed), then windows around each
// focus operation, widened until the sub-history is confirmed non-linearizable (aspects,
// which are sound, or the exact tier within a small budget); then ddmin (Zeller) over its
// units, to 1-minimality unless the check budget runs out.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aspects.hpp"
#include "common.hpp"
#include "exact.hpp"

namespace lockless::test::lincheck {

struct shrink_options {
  std::uint64_t max_states = 200'000;  // exact-tier budget per candidate sub-history
  std::size_t max_checks = 4000;       // candidate sub-histories tried
  double max_seconds = 10;
  std::size_t max_window_ops = 4000;  // stop widening the window past this many ops
};

namespace detail {

class shrinker {
 public:
  shrinker(const history& h, const spec& s, const shrink_options& o)
      : h_(h), s_(s), o_(o), vi_(h), t0_(std::chrono::steady_clock::now()) {}

  // Shrinks r's window (indices into h) in place when it can; sets the flags.
  void run(result& r) {
    if (!vi_.error.empty() || h_.ops.empty()) return;
    build_units();
    std::vector<std::size_t> focus = r.window_index;
    std::vector<std::size_t> sel = window_units(focus);
    if (sel.empty()) return;
    bool minimal = ddmin(sel);
    std::vector<std::size_t> idx = ops_of(sel);
    set_window(r, h_, std::move(idx));
    r.window_confirmed = true;
    r.window_minimal = minimal;
  }

 private:
  void build_units() {
    unit_of_.assign(h_.ops.size(), none);
    for (std::uint32_t v = 0; v < vi_.size(); ++v) {
      std::vector<std::size_t> u{vi_.insert_op[v]};
      u.insert(u.end(), vi_.remove_ops[v].begin(), vi_.remove_ops[v].end());
      add_unit(std::move(u));
    }
    for (std::size_t i = 0; i < h_.ops.size(); ++i) {
      if (h_.ops[i].kind == op_kind::close) {
        pinned_.push_back(i);
      } else if (unit_of_[i] == none) {
        add_unit({i});  // read-only, or a remove of a value nobody inserted
      }
    }
    if (s_.capacity == 0) return;  // FULL is never legal then: nothing to protect
    for (std::size_t i = 0; i < h_.ops.size(); ++i) {
      const operation& f = h_.ops[i];
      if (!f.inserts() || f.result.status != op_status::full) continue;
      std::vector<std::size_t> needs;
      for (std::uint32_t v = 0; v < vi_.size(); ++v) {
        const operation& in = h_.ops[vi_.insert_op[v]];
        if (!in.inserted_ok() || precedes(f, in)) continue;
        bool gone = false;
        for (std::size_t r : vi_.remove_ops[v]) gone = gone || precedes(h_.ops[r], f);
        if (!gone) needs.push_back(unit_of_[vi_.insert_op[v]]);
      }
      if (s_.relaxed_full) {  // the operations in flight that f's k counts
        for (std::size_t j = 0; j < h_.ops.size(); ++j) {
          const operation& o = h_.ops[j];
          if (j == i || (!o.inserts() && !o.removes())) continue;
          if (!precedes(o, f) && !precedes(f, o)) needs.push_back(unit_of_[j]);
        }
      }
      full_needs_.emplace_back(unit_of_[i], std::move(needs));
    }
  }
  void add_unit(std::vector<std::size_t> ops) {
    for (std::size_t i : ops) unit_of_[i] = units_.size();
    units_.push_back(std::move(ops));
  }

  std::vector<std::size_t> ops_of(const std::vector<std::size_t>& sel) const {
    std::vector<std::size_t> idx = pinned_;
    for (std::size_t u : sel) idx.insert(idx.end(), units_[u].begin(), units_[u].end());
    std::sort(idx.begin(), idx.end());
    return idx;
  }

  // The smallest valid witness containing sel (see MONOTONICITY), sorted.
  std::vector<std::size_t> closure(std::vector<std::size_t> sel) const {
    if (!full_needs_.empty() && s_.relaxed_full) {  // needs may hold FULL units: fixpoint
      std::vector<bool> in(units_.size(), false);
      std::vector<std::size_t> needs_of(units_.size(), none);
      for (std::size_t k = 0; k < full_needs_.size(); ++k) needs_of[full_needs_[k].first] = k;
      for (std::size_t u : sel) in[u] = true;
      for (std::size_t w = 0; w < sel.size(); ++w) {  // sel grows: a worklist
        const std::size_t k = needs_of[sel[w]];
        if (k == none) continue;
        for (std::size_t u : full_needs_[k].second) {
          if (!in[u]) {
            in[u] = true;
            sel.push_back(u);
          }
        }
      }
    } else if (!full_needs_.empty()) {
      std::vector<bool> in(units_.size(), false);
      for (std::size_t u : sel) in[u] = true;
      for (const auto& [f, needs] : full_needs_) {
        if (!in[f]) continue;
        for (std::size_t u : needs) {
          if (!in[u]) {
            in[u] = true;
            sel.push_back(u);
          }
        }
      }
    }
    std::sort(sel.begin(), sel.end());
    return sel;
  }

  bool out_of_budget() const {
    return checks_ >= o_.max_checks || seconds_since(t0_) > o_.max_seconds;
  }

  // Is the sub-history of these units confirmed not linearizable?
  bool bad(const std::vector<std::size_t>& sel) {  // sel must be closed
    ++checks_;
    history sub;
    sub.threads = h_.threads;
    for (std::size_t i : ops_of(sel)) sub.ops.push_back(h_.ops[i]);
    if (check_aspects(sub, s_, 1).violated()) return true;
    exact_options eo;
    eo.max_states = o_.max_states;
    return check_exact(sub, s_, eo).violated();
  }

  // The focus' own units first; then, around each focus operation, the operations
  // overlapping it in time and the `pad` neighbours on each side in call order, `pad`
  // doubling until the sub-history is confirmed bad (or everything, or too big, is taken).
  std::vector<std::size_t> window_units(const std::vector<std::size_t>& focus) {
    std::vector<bool> in(units_.size(), false);
    auto selection = [&] {
      std::vector<std::size_t> sel;
      for (std::size_t u = 0; u < units_.size(); ++u) {
        if (in[u]) sel.push_back(u);
      }
      return closure(std::move(sel));
    };
    for (std::size_t i : focus) {
      if (unit_of_[i] != none) in[unit_of_[i]] = true;
    }
    if (!focus.empty()) {
      std::vector<std::size_t> sel = selection();
      if (bad(sel)) return sel;
    }
    std::vector<std::size_t> centres = focus;
    if (centres.empty()) centres.push_back(0);
    const std::size_t n = h_.ops.size();
    for (std::size_t pad = 4;; pad *= 2) {
      for (std::size_t f : centres) {
        const operation& c = h_.ops[f];
        const std::size_t a = f > pad ? f - pad : 0;
        const std::size_t b = std::min(n - 1, f + pad);
        for (std::size_t i = 0; i < n; ++i) {
          const operation& op = h_.ops[i];
          const bool near = (i >= a && i <= b) || (op.ret >= c.call && op.call <= c.ret);
          if (near && unit_of_[i] != none) in[unit_of_[i]] = true;
        }
      }
      std::vector<std::size_t> sel = selection();
      if (ops_of(sel).size() > o_.max_window_ops) return {};
      if (bad(sel)) return sel;
      if (sel.size() == units_.size() || pad > 2 * n || out_of_budget()) return {};
    }
  }

  // Zeller's ddmin, complements only. True if 1-minimal (no single unit removable).
  bool ddmin(std::vector<std::size_t>& cur) {
    std::size_t n = 2;
    while (!cur.empty()) {
      if (out_of_budget()) return false;
      const std::size_t chunk = (cur.size() + n - 1) / n;
      bool reduced = false;
      for (std::size_t start = 0; start < cur.size(); start += chunk) {
        std::vector<std::size_t> cand(cur.begin(), cur.begin() + static_cast<long>(start));
        const std::size_t end = std::min(cur.size(), start + chunk);
        cand.insert(cand.end(), cur.begin() + static_cast<long>(end), cur.end());
        cand = closure(std::move(cand));
        if (cand.size() < cur.size() && bad(cand)) {
          cur = std::move(cand);
          n = std::max<std::size_t>(n - 1, 2);
          reduced = true;
          break;
        }
        if (out_of_budget()) return false;
      }
      if (!reduced) {
        if (n >= cur.size()) return true;
        n = std::min(cur.size(), n * 2);
      }
    }
    return true;
  }

  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  const history& h_;
  spec s_;
  shrink_options o_;
  value_index vi_;
  std::chrono::steady_clock::time_point t0_;
  std::vector<std::vector<std::size_t>> units_;
  std::vector<std::size_t> unit_of_, pinned_;
  std::vector<std::pair<std::size_t, std::vector<std::size_t>>> full_needs_;  // FULL unit,
      // values it needs kept
  std::size_t checks_ = 0;
};

}  // namespace detail

// Looks for a small sub-history of h, around r.window (the operations a tier blamed),
// that is not linearizable on its own; if found, r.window becomes it and
// r.window_confirmed is set (by monotonicity, h is then not linearizable either).
inline void shrink_window(const history& h, const spec& s, result& r,
                          const shrink_options& o = {}) {
  detail::shrinker(h, s, o).run(r);
}

}  // namespace lockless::test::lincheck
