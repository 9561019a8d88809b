// tests/support/lincheck/reference.hpp: tier (c), the reference checker for small
// histories, written independently of the other tiers (it shares only the history types).
//
// ALGORITHM: Wing & Gong's search with memoisation on (set of linearized operations,
// model state), as in Lowe (CCPE 2017) and Porcupine. An operation may come next iff every
// operation that must precede it (returned before it was called, or earlier in its
// thread) is already linearized; the model computes what the operation should have
// returned and the search goes on only if that is what it did return. The set of
// linearized operations is a 64-bit mask, the model a std::deque; states are remembered in
// a std::set, exactly (no hashing).
//
// SOUND AND COMPLETE for every history it accepts: any values (unique or not), any mix of
// results. Exponential: meant for up to ~20 operations (max_ops; more gives undecided).
// spec::full_when_in_flight(): an insert that returned full is also accepted, changing
// nothing, where the model is open and size + k >= capacity, k counted here by brute force
// (overlapping_ops(), independent of the other tiers' in_flight_counts()).
//
// verify_linearization() independently replays a claimed linearization (the exact tier's
// witness, say) against the model and the real-time order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common.hpp"

namespace lockless::test::lincheck {

struct reference_options {
  std::size_t max_ops = 20;              // at most 64
  std::uint64_t max_states = 2'000'000;  // then undecided
};

namespace detail {

// The sequential container, written out plainly.
struct reference_model {
  container kind;
  std::size_t capacity;
  std::deque<std::uint64_t> items;  // front = bottom of a stack / head of a queue
  bool closed = false;

  // What `op` returns when run on this state; the state is updated.
  op_result run(const operation& op) {
    if (op.kind == op_kind::close) {
      closed = true;
      return op_result::ok();
    }
    if (op.inserts()) {
      if (closed) return op_result::closed();
      if (capacity != 0 && items.size() >= capacity) return op_result::full();
      items.push_back(op.arg);
      return op_result::ok();
    }
    if (items.empty()) return closed ? op_result::closed() : op_result::empty();
    std::uint64_t v = 0;
    if (kind == container::stack) {
      v = items.back();
      items.pop_back();
    } else {
      v = items.front();
      items.pop_front();
    }
    return op_result::of(v);
  }

  bool operator<(const reference_model& o) const {
    return std::tie(closed, items) < std::tie(o.closed, o.items);
  }
};

// spec::full_when_in_flight(), written out plainly: for each operation, how many other
// inserts/removes overlap it (neither returned before the other was called). O(n^2).
inline std::vector<std::size_t> overlapping_ops(const history& h) {
  std::vector<std::size_t> k(h.ops.size(), 0);
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    for (std::size_t j = 0; j < h.ops.size(); ++j) {
      const operation& a = h.ops[i];
      const operation& b = h.ops[j];
      if (i == j || b.kind == op_kind::close) continue;
      if (!precedes(a, b) && !precedes(b, a)) ++k[i];
    }
  }
  return k;
}

// Runs `op` on `m`: true if its recorded result is legal there (m updated), false if not
// (m then unspecified). in_flight: overlapping_ops() of op, read only when relaxed_full
// (spec::full_when_in_flight()): a FULL is then legal, changing nothing, when open and
// size + in_flight >= capacity (which includes the exact size >= capacity).
inline bool replay(reference_model& m, const operation& op, bool relaxed_full,
                   std::size_t in_flight) {
  if (relaxed_full && op.inserts() && op.result.status == op_status::full) {
    return !m.closed && m.capacity != 0 && m.items.size() + in_flight >= m.capacity;
  }
  return m.run(op) == op.result;
}

class reference_checker {
 public:
  reference_checker(const history& h, const spec& s, const reference_options& o)
      : h_(h), s_(s), o_(o) {}

  result run() {
    const auto t0 = std::chrono::steady_clock::now();
    result r;
    r.tier = "reference";
    r.ops = h_.size();
    const std::size_t n = h_.ops.size();
    if (std::string err = h_.validate(); !err.empty()) {
      r.reason = "malformed history: " + err;
      return r;
    }
    if (n > o_.max_ops || n > 64) {
      r.reason = "history too long for the reference tier (" + std::to_string(n) + " > " +
                 std::to_string(std::min<std::size_t>(o_.max_ops, 64)) + " operations)";
      return r;
    }
    must_precede_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        const operation& a = h_.ops[j];
        const operation& b = h_.ops[i];
        const bool same_thread_earlier = a.thread == b.thread && a.seq < b.seq;
        if (i != j && (a.ret < b.call || same_thread_earlier)) {
          must_precede_[i] |= std::uint64_t{1} << j;
        }
      }
    }
    all_ = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
    in_flight_ = overlapping_ops(h_);
    reference_model m{s_.kind, s_.capacity, {}, false};
    const int found = dfs(0, m);
    r.states = seen_.size();
    r.seconds = seconds_since(t0);
    if (found > 0) {
      r.v = verdict::linearizable;
      r.linearization.assign(path_.rbegin(), path_.rend());
    } else if (found == 0) {
      r.v = verdict::not_linearizable;
      r.reason = "no linearization exists (exhaustive search)";
      std::vector<std::size_t> all(n);
      for (std::size_t i = 0; i < n; ++i) all[i] = i;
      set_window(r, h_, std::move(all));
    } else {
      r.reason = "gave up: more than " + std::to_string(o_.max_states) + " states";
    }
    return r;
  }

 private:
  // 1: found (path_ holds the order, last first), 0: none, -1: budget exceeded
  int dfs(std::uint64_t done, const reference_model& m) {
    if (done == all_) return !s_.complete || m.items.empty() ? 1 : 0;
    if (!seen_.emplace(done, m).second) return 0;
    if (seen_.size() > o_.max_states) return -1;
    for (std::size_t i = 0; i < h_.ops.size(); ++i) {
      const std::uint64_t bit = std::uint64_t{1} << i;
      if ((done & bit) != 0 || (must_precede_[i] & ~done) != 0) continue;
      reference_model next = m;
      if (!replay(next, h_.ops[i], s_.relaxed_full, in_flight_[i])) continue;
      const int sub = dfs(done | bit, next);
      if (sub != 0) {
        if (sub > 0) path_.push_back(i);
        return sub;
      }
    }
    return 0;
  }

  const history& h_;
  spec s_;
  reference_options o_;
  std::vector<std::uint64_t> must_precede_;
  std::vector<std::size_t> in_flight_;
  std::uint64_t all_ = 0;
  std::set<std::pair<std::uint64_t, reference_model>> seen_;
  std::vector<std::size_t> path_;
};

}  // namespace detail

// Tier (c): exhaustive, for small histories.
[[nodiscard]] inline result check_reference(const history& h, const spec& s,
                                            const reference_options& o = {}) {
  return detail::reference_checker(h, s, o).run();
}

// Replays `order` (indices into h.ops, first linearized first): every operation exactly
// once, no operation placed before one that precedes it in real time or in its thread,
// every result what the sequential container returns, empty at the end if s.complete.
// Returns "" if it is a valid linearization, else why not.
// Defined in ../lincheck.cpp (the library lockless_lincheck).
[[nodiscard]] std::string verify_linearization(const history& h, const spec& s,
                                               const std::vector<std::size_t>& order);

}  // namespace lockless::test::lincheck
