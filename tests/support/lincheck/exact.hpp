// tests/support/lincheck/exact.hpp: tier (b), the exact checker for long histories.
//
// ALGORITHM: Wing & Gong's search for a linearization, with Lowe's just-in-time rule and
// memoisation (G. Lowe, "Testing for linearizability", CCPE 2017), specialised to
// histories whose threads are sequential and whose values are unique.
//
//   State: one cursor per thread (the linearized operations are, per thread, a prefix:
//   a thread's operations are sequential, so its k-th cannot be linearized before its
//   (k-1)-th) plus the container's contents (the closed flag follows from the cursors).
//   Candidates (JIT rule): the next operation x of a thread can be linearized now iff no
//   other unlinearized operation y precedes it (y.ret < x.call), i.e. x.call <= minRet,
//   the smallest return stamp among the threads' next operations.
//   Depth-first search over candidates, with the states already explored remembered: a
//   state reached again is pruned (from it, the outcome is the same).
//
//   Two reductions and one prune make it fast; all keep the search complete (proofs at
//   candidates() and order_ok()):
//   G1 An operation that does not change the contents (a remove returning empty or
//      closed, an insert returning full or closed) and is legal now is linearized at
//      once, as the only child of the state.
//   G2 Without FULL results in the history, a remove returning v, when v is at the
//      top (stack) / head (queue) now, is likewise linearized at once.
//   P1 An insert is tried only if the removes of the values then present can still come
//      in the order the container imposes (a necessary condition on intervals).
//   What is left to branch on is essentially where successful inserts (and closes) go.
//   Inserts are tried in an order that is usually right first (inserts whose remove is
//   waiting; for a stack the most urgent insert first, "as late as possible"; for a queue
//   in the order their values were dequeued).
//
// MEMO KEYS: two independent 61-bit hashes (mod 2^61-1) of (cursors, contents), each
//   sum_t R_t * cursor_t + sum_i H(v_i) * B^i over the contents v_i at absolute positions
//   i (stack: depth from the bottom; queue: index among all enqueues so far, which the
//   cursors determine), updated incrementally in O(1) per operation. Distinct states
//   collide with probability <= (n+T)/2^61 per hash (Schwartz-Zippel), so about 1e-30 per
//   pair for both; a collision could only prune a live state (a false "not
//   linearizable"), and check() re-confirms every failure on a small sub-history.
//
// COST: about one state per operation on linearizable histories, recorded or synthetic,
//   even with heavy overlap (3,000 operations from 8 threads: ~1 ms, 3,000-8,000 states;
//   tests/selftest/lincheck_perf.cpp prints figures). Refuting a NON-linearizable history can
//   need an exhaustive search of everything before the violation, exponential when many
//   values with overlapping removes sit in the container at once (long unbounded queues
//   or stacks): past max_states the answer is undecided, never a silent pass, with the
//   operations where the search got furthest as the window; check() then tries to confirm
//   the violation on a small sub-history there (shrink.hpp), which is sound by
//   monotonicity.
//
// SOUND AND COMPLETE for stacks, queues, bounded and closable ones, with or without
// spec::full_when_in_flight() (a FULL is legal when size + its in-flight count >=
// capacity; G1, G2 and P1 stay sound, see candidates()) (up to the hash collision above),
// when values are unique; undecided otherwise.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"

namespace lockless::test::lincheck {

struct exact_options {
  // Distinct states remembered before giving up (undecided). Memory: 16 bytes per state,
  // in a table kept at most half full: 2^22 states -> 128 MiB at worst.
  std::uint64_t max_states = std::uint64_t{1} << 22;
  double max_seconds = 0;  // 0: no time limit
  std::uint64_t hash_seed = 0x6c696e636865636bULL;
};

namespace detail {

__extension__ typedef unsigned __int128 u128;

inline constexpr std::uint64_t mersenne61 = (std::uint64_t{1} << 61) - 1;

inline std::uint64_t mod61(std::uint64_t x) noexcept {
  x = (x & mersenne61) + (x >> 61);
  return x >= mersenne61 ? x - mersenne61 : x;
}
inline std::uint64_t mulmod61(std::uint64_t a, std::uint64_t b) noexcept {
  const u128 z = static_cast<u128>(a) * b;
  const std::uint64_t lo = static_cast<std::uint64_t>(z) & mersenne61;
  const std::uint64_t hi = static_cast<std::uint64_t>(z >> 61);
  return mod61(lo + hi);
}
inline std::uint64_t addmod61(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t s = a + b;
  return s >= mersenne61 ? s - mersenne61 : s;
}
inline std::uint64_t submod61(std::uint64_t a, std::uint64_t b) noexcept {
  return a >= b ? a - b : a + mersenne61 - b;
}

inline std::uint64_t splitmix64(std::uint64_t& s) noexcept {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Open-addressing set of 128-bit keys (two values < 2^61).
class state_set {
 public:
  state_set() { rehash(1 << 12); }
  // true if (a, b) was not there (and is now)
  bool insert(std::uint64_t a, std::uint64_t b) {
    if ((count_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
    return place(a | occupied, b);
  }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  static constexpr std::uint64_t occupied = std::uint64_t{1} << 63;
  struct key {
    std::uint64_t a = 0, b = 0;
  };
  bool place(std::uint64_t a, std::uint64_t b) {
    const std::size_t mask = keys_.size() - 1;
    std::size_t i = static_cast<std::size_t>((b ^ (a * 0x9e3779b97f4a7c15ULL)) >> 7) & mask;
    for (;;) {
      key& k = keys_[i];
      if (k.a == 0) {
        k.a = a;
        k.b = b;
        ++count_;
        return true;
      }
      if (k.a == a && k.b == b) return false;
      i = (i + 1) & mask;
    }
  }
  void rehash(std::size_t n) {
    std::vector<key> old = std::move(keys_);
    keys_.assign(n, key{});
    count_ = 0;
    for (const key& k : old) {
      if (k.a != 0) place(k.a, k.b);
    }
  }
  std::vector<key> keys_;
  std::size_t count_ = 0;
};

class exact_checker {
 public:
  exact_checker(const history& h, const spec& s, const exact_options& o)
      : h_(h), s_(s), o_(o), vi_(h) {}

  result run() {
    const auto t0 = std::chrono::steady_clock::now();
    result r;
    r.tier = "exact";
    r.ops = h_.size();
    if (std::string err = h_.validate(); !err.empty()) {
      r.reason = "malformed history: " + err;
      return r;
    }
    if (!vi_.error.empty()) {
      r.reason = vi_.error;
      return r;
    }
    prepare();
    const outcome out = search(t0);
    r.states = states_;
    r.seconds = seconds_since(t0);
    switch (out) {
      case outcome::found:
        r.v = verdict::linearizable;
        r.linearization = std::move(order_);
        break;
      case outcome::exhausted:
        r.v = verdict::not_linearizable;
        describe_stuck(r);
        break;
      case outcome::budget:
        r.reason = "gave up: more than " + std::to_string(o_.max_states) +
                   " states explored (max_states); " + progress();
        set_window(r, h_, frontier_ops());
        break;
      case outcome::timeout:
        r.reason = "gave up: time limit of " + std::to_string(o_.max_seconds) + " s reached; " +
                   progress();
        set_window(r, h_, frontier_ops());
        break;
    }
    return r;
  }

 private:
  enum class outcome { found, exhausted, budget, timeout };
  enum cls : std::uint8_t { ins_ok, ins_full, ins_closed, rem_value, rem_empty, rem_closed, close };

  struct xop {
    std::uint64_t call, ret;
    std::uint64_t rem_call;             // inserts: call of the first remove of the value, or max
    std::uint64_t rem_ret;              // inserts: return of that remove, or max
    std::size_t hist;                   // index in h_.ops
    std::size_t in_flight;              // full_when_in_flight: overlapping inserts/removes
    std::uint32_t vid;                  // value id, or no_value
    std::uint32_t rem_thread, rem_pos;  // inserts: where that remove is
    cls c;
  };

  struct cand_key {
    std::uint8_t cat;
    std::uint64_t k1, k2;
    std::uint32_t thread;
    bool operator<(const cand_key& o) const noexcept {
      if (cat != o.cat) return cat < o.cat;
      if (k1 != o.k1) return k1 < o.k1;
      if (k2 != o.k2) return k2 < o.k2;
      return thread < o.thread;
    }
  };

  struct frame {
    std::uint32_t via;  // thread whose operation led here; none at the root
    std::uint32_t ncand, next;
  };
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

  void prepare() {
    threads_ = h_.threads;
    std::vector<std::vector<std::size_t>> per(threads_);
    for (std::size_t i = 0; i < h_.ops.size(); ++i) per[h_.ops[i].thread].push_back(i);
    begin_.assign(threads_ + 1, 0);
    std::vector<std::uint32_t> pos_of(h_.ops.size()), thread_of(h_.ops.size());
    for (std::uint32_t t = 0; t < threads_; ++t) {
      std::sort(per[t].begin(), per[t].end(),
                [&](std::size_t a, std::size_t b) { return h_.ops[a].seq < h_.ops[b].seq; });
      begin_[t + 1] = begin_[t] + static_cast<std::uint32_t>(per[t].size());
      for (std::size_t k = 0; k < per[t].size(); ++k) {
        pos_of[per[t][k]] = static_cast<std::uint32_t>(k);
        thread_of[per[t][k]] = t;
      }
    }
    ops_.resize(h_.ops.size());
    std::vector<std::size_t> in_flight;
    if (s_.relaxed_full) in_flight = in_flight_counts(h_.ops);
    std::size_t inserts = 0;
    for (std::uint32_t t = 0; t < threads_; ++t) {
      for (std::size_t k = 0; k < per[t].size(); ++k) {
        const operation& op = h_.ops[per[t][k]];
        xop& x = ops_[begin_[t] + k];
        x.call = op.call;
        x.ret = op.ret;
        x.hist = per[t][k];
        x.in_flight = s_.relaxed_full ? in_flight[per[t][k]] : 0;
        x.vid = no_value;
        x.rem_call = std::numeric_limits<std::uint64_t>::max();
        x.rem_ret = std::numeric_limits<std::uint64_t>::max();
        x.rem_thread = none;
        x.rem_pos = none;
        const op_status st = op.result.status;
        if (op.inserts()) {
          ++inserts;
          x.c = st == op_status::ok ? ins_ok : st == op_status::full ? ins_full : ins_closed;
          x.vid = vi_.lookup(op.arg);
          if (st == op_status::full) has_full_ = true;
          // the first remove (by call) of this value, for the candidate order
          std::size_t best = std::numeric_limits<std::size_t>::max();
          for (std::size_t ri : vi_.remove_ops[x.vid]) {
            if (best == std::numeric_limits<std::size_t>::max() ||
                h_.ops[ri].call < h_.ops[best].call) {
              best = ri;
            }
          }
          if (best != std::numeric_limits<std::size_t>::max()) {
            x.rem_call = h_.ops[best].call;
            x.rem_ret = h_.ops[best].ret;
            x.rem_thread = thread_of[best];
            x.rem_pos = pos_of[best];
          }
        } else if (op.removes()) {
          x.c = st == op_status::value   ? rem_value
                : st == op_status::empty ? rem_empty
                                         : rem_closed;
          if (st == op_status::value) x.vid = vi_.lookup(op.result.value);
        } else {
          x.c = close;
        }
      }
    }
    // hashing constants
    std::uint64_t seed = o_.hash_seed;
    auto rnd = [&] { return mod61(splitmix64(seed)); };
    base1_ = rnd() | 2;
    base2_ = rnd() | 2;
    pw1_.resize(inserts + 1);
    pw2_.resize(inserts + 1);
    pw1_[0] = pw2_[0] = 1;
    for (std::size_t i = 1; i <= inserts; ++i) {
      pw1_[i] = mulmod61(pw1_[i - 1], base1_);
      pw2_[i] = mulmod61(pw2_[i - 1], base2_);
    }
    hv1_.resize(vi_.size());
    hv2_.resize(vi_.size());
    for (auto& v : hv1_) v = rnd();
    for (auto& v : hv2_) v = rnd();
    rc1_.resize(threads_);
    rc2_.resize(threads_);
    for (auto& v : rc1_) v = rnd();
    for (auto& v : rc2_) v = rnd();
    cur_.assign(threads_, 0);
    items_.reserve(inserts);
    bound_.reserve(inserts);
    insert_pos_.assign(vi_.size(), 0);
    for (std::uint32_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].c == ins_ok || ops_[i].c == ins_full || ops_[i].c == ins_closed) {
        insert_pos_[ops_[i].vid] = i;
      }
    }
  }

  // ---- the model -------------------------------------------------------------------
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  [[nodiscard]] std::uint32_t front() const noexcept {  // the value a remove would take
    return s_.kind == container::stack ? items_.back() : items_[head_];
  }
  [[nodiscard]] std::size_t front_pos() const noexcept {
    return s_.kind == container::stack ? items_.size() - 1 : head_;
  }

  [[nodiscard]] bool legal(const xop& x) const noexcept {
    switch (x.c) {
      case ins_ok:
        return closed_ == 0 && (s_.capacity == 0 || size() < s_.capacity) && order_ok(x);
      case ins_full:  // relaxed: slots held by the x.in_flight overlapping operations
        if (s_.relaxed_full) {
          return closed_ == 0 && s_.capacity != 0 && size() + x.in_flight >= s_.capacity;
        }
        return closed_ == 0 && s_.capacity != 0 && size() == s_.capacity;
      case ins_closed:
        return closed_ != 0;
      case rem_value:
        return size() != 0 && front() == x.vid;
      case rem_empty:
        return size() == 0 && closed_ == 0;
      case rem_closed:
        return size() == 0 && closed_ != 0;
      case close:
        return true;
    }
    return false;
  }

  // P1, a necessary condition on inserting x now: the removes of the values present must
  // still fit in an order the container allows. Stack: x's value lands on top, so its pop
  // must come before the pop of every value below: rem_call(x) <= rem_ret(below) for all
  // of them (LPs at one instant may be ordered either way, hence <=). Queue: every value
  // enqueued earlier in this linearization must leave before x's value: rem_call(earlier)
  // <= rem_ret(x); values already dequeued satisfy it in any completion (their LP and so
  // their call come before x's dequeue), so the running maximum over all earlier enqueues
  // can be used. A value never removed has rem_call = rem_ret = infinity, so nothing can be
  // pushed onto it that is popped, and nothing that is dequeued can be enqueued behind it.
  [[nodiscard]] bool order_ok(const xop& x) const noexcept {
    if (items_.empty()) return true;
    if (s_.kind == container::stack) return x.rem_call <= bound_.back();
    return bound_.back() <= x.rem_ret;
  }
  // bound_[i] for items_[0..i]: stack: min rem_ret; queue: max rem_call.
  void push_bound(const xop& x) {
    if (s_.kind == container::stack) {
      bound_.push_back(bound_.empty() ? x.rem_ret : std::min(bound_.back(), x.rem_ret));
    } else {
      bound_.push_back(bound_.empty() ? x.rem_call : std::max(bound_.back(), x.rem_call));
    }
  }

  const xop& next_of(std::uint32_t t) const noexcept { return ops_[begin_[t] + cur_[t]]; }
  bool has_next(std::uint32_t t) const noexcept { return begin_[t] + cur_[t] < begin_[t + 1]; }

  void apply(std::uint32_t t) {
    const xop& x = next_of(t);
    switch (x.c) {
      case ins_ok: {
        const std::size_t i = items_.size();
        h1_ = addmod61(h1_, mulmod61(hv1_[x.vid], pw1_[i]));
        h2_ = addmod61(h2_, mulmod61(hv2_[x.vid], pw2_[i]));
        items_.push_back(x.vid);
        push_bound(x);
        break;
      }
      case rem_value: {
        const std::size_t i = front_pos();
        h1_ = submod61(h1_, mulmod61(hv1_[x.vid], pw1_[i]));
        h2_ = submod61(h2_, mulmod61(hv2_[x.vid], pw2_[i]));
        if (s_.kind == container::stack) {
          items_.pop_back();
          bound_.pop_back();
        } else {
          ++head_;
        }
        break;
      }
      case close:
        ++closed_;
        break;
      default:
        break;  // read-only
    }
    h1_ = addmod61(h1_, rc1_[t]);
    h2_ = addmod61(h2_, rc2_[t]);
    ++cur_[t];
    ++done_;
  }

  void undo(std::uint32_t t) {
    --done_;
    --cur_[t];
    h1_ = submod61(h1_, rc1_[t]);
    h2_ = submod61(h2_, rc2_[t]);
    const xop& x = next_of(t);
    switch (x.c) {
      case ins_ok: {
        items_.pop_back();
        bound_.pop_back();
        const std::size_t i = items_.size();
        h1_ = submod61(h1_, mulmod61(hv1_[x.vid], pw1_[i]));
        h2_ = submod61(h2_, mulmod61(hv2_[x.vid], pw2_[i]));
        break;
      }
      case rem_value: {
        if (s_.kind == container::stack) {
          items_.push_back(x.vid);
          push_bound(ops_[insert_pos_[x.vid]]);
        } else {
          --head_;
        }
        const std::size_t i = front_pos();
        h1_ = addmod61(h1_, mulmod61(hv1_[x.vid], pw1_[i]));
        h2_ = addmod61(h2_, mulmod61(hv2_[x.vid], pw2_[i]));
        break;
      }
      case close:
        --closed_;
        break;
      default:
        break;
    }
  }

  // ---- candidates ------------------------------------------------------------------
  // Fills cand_[depth*T ...] with the threads whose next operation to try, in order.
  //
  // G1 (read-only x legal now): take any linearization L from this state in which x comes
  //   later, after y1..yk. Moving x to the front keeps every operation legal (x changes
  //   nothing) and respects real time: x.call <= minRet <= yi.ret for every unlinearized
  //   yi, so no yi precedes x. So if any completion exists, one starts with x.
  //   Holds under spec::full_when_in_flight() too: a FULL's legality is still a function
  //   of the state now (size, closed) and of a constant of x (its in-flight count).
  // G2 (no FULL in the history; remove of v with v at the front now): in L, between now
  //   and x, v stays at the front (stack: at the top of the stack below everything pushed
  //   meanwhile; queue: at the head), so no yi removes v, no yi returns empty or closed (v
  //   is present), and the yi that remove values remove values inserted after now, which
  //   sit above v (stack) / behind v (queue) and behave the same with v gone. Inserts
  //   that returned ok stay legal with one value fewer; only a FULL result could become
  //   illegal, and there is none. Real time: as in G1. (The relaxed FULL of
  //   full_when_in_flight() is a FULL result too: G2 stays off whenever one is there.)
  std::uint32_t candidates(std::size_t depth, std::uint64_t& min_ret_out) {
    std::uint64_t min_ret = std::numeric_limits<std::uint64_t>::max();
    for (std::uint32_t t = 0; t < threads_; ++t) {
      if (has_next(t)) min_ret = std::min(min_ret, next_of(t).ret);
    }
    min_ret_out = min_ret;
    std::uint32_t* out = &cand_[depth * threads_];
    keys_.clear();
    for (std::uint32_t t = 0; t < threads_; ++t) {
      if (!has_next(t)) continue;
      const xop& x = next_of(t);
      if (x.call > min_ret || !legal(x)) continue;
      switch (x.c) {
        case ins_full:
        case ins_closed:
        case rem_empty:
        case rem_closed:  // G1
          out[0] = t;
          return 1;
        case rem_value:
          if (!has_full_) {  // G2
            out[0] = t;
            return 1;
          }
          keys_.push_back({0, 0, 0, t});
          break;
        case ins_ok: {
          const bool enabling = x.rem_thread != none && cur_[x.rem_thread] == x.rem_pos &&
                                x.rem_call <= min_ret &&
                                (s_.kind == container::stack || size() == 0);
          if (enabling) {
            keys_.push_back({1, x.ret, 0, t});
          } else if (s_.kind == container::stack) {
            keys_.push_back({2, x.ret, 0, t});  // most urgent first: as late as possible
          } else {
            keys_.push_back({2, x.rem_call, x.ret, t});  // in dequeue order
          }
          break;
        }
        case close:
          keys_.push_back({3, x.ret, 0, t});
          break;
      }
    }
    std::sort(keys_.begin(), keys_.end());
    for (std::size_t i = 0; i < keys_.size(); ++i) out[i] = keys_[i].thread;
    return static_cast<std::uint32_t>(keys_.size());
  }

  [[nodiscard]] bool final_ok() const noexcept { return !s_.complete || size() == 0; }

  outcome search(std::chrono::steady_clock::time_point t0) {
    const std::size_t n = ops_.size();
    cand_.assign((n + 1) * std::max<std::uint32_t>(threads_, 1), 0);
    std::vector<frame> frames;
    frames.reserve(n + 1);
    if (done_ == n) return final_ok() ? found_order(frames, none) : outcome::exhausted;
    seen_.insert(h1_, h2_);
    states_ = 1;
    std::uint64_t mr = 0;
    frames.push_back({none, candidates(0, mr), 0});
    deepest_ = 0;
    deepest_cur_ = cur_;
    while (!frames.empty()) {
      frame& f = frames.back();
      if (f.next == f.ncand) {
        if (f.via != none) undo(f.via);
        frames.pop_back();
        continue;
      }
      const std::uint32_t t = cand_[(frames.size() - 1) * threads_ + f.next++];
      apply(t);
      if (done_ == n) {
        if (final_ok()) return found_order(frames, t);
        ended_not_empty_ = true;
        undo(t);
        continue;
      }
      if (!seen_.insert(h1_, h2_)) {
        undo(t);
        continue;
      }
      if (++states_ > o_.max_states) return outcome::budget;
      if ((states_ & 0xffff) == 0 && o_.max_seconds > 0 && seconds_since(t0) > o_.max_seconds) {
        return outcome::timeout;
      }
      if (done_ > deepest_) {
        deepest_ = done_;
        deepest_cur_ = cur_;
      }
      frames.push_back({t, candidates(frames.size(), mr), 0});
    }
    return outcome::exhausted;
  }

  outcome found_order(const std::vector<frame>& frames, std::uint32_t last) {
    std::vector<std::uint32_t> path;
    for (std::size_t i = 1; i < frames.size(); ++i) path.push_back(frames[i].via);
    if (last != none) path.push_back(last);
    std::vector<std::uint32_t> c(threads_, 0);
    order_.clear();
    for (std::uint32_t t : path) order_.push_back(ops_[begin_[t] + c[t]++].hist);
    return outcome::found;
  }

  std::string progress() const {
    return "deepest point: " + std::to_string(deepest_) + " of " + std::to_string(ops_.size()) +
           " operations linearized";
  }

  // At the deepest state reached: the operation with the smallest return stamp (which
  // every extension had to linearize and could not), and the other candidates then.
  void describe_stuck(result& r) const {
    if (ended_not_empty_) {
      r.reason =
          "no linearization exists: every operation could be linearized, but never "
          "leaving the container empty at the end of this drained history (a value "
          "was lost)";
      std::vector<std::size_t> idx;  // the values never removed
      for (std::uint32_t v = 0; v < vi_.size() && idx.size() < 16; ++v) {
        if (h_.ops[vi_.insert_op[v]].inserted_ok() && vi_.remove_ops[v].empty()) {
          idx.push_back(vi_.insert_op[v]);
        }
      }
      if (!idx.empty()) {
        set_window(r, h_, std::move(idx));
        return;
      }
    }
    std::string urgent_s;
    const std::vector<std::size_t> idx = frontier_ops(&urgent_s);
    if (r.reason.empty()) {
      r.reason = "no linearization exists; the search got furthest with " +
                 std::to_string(deepest_) + " of " + std::to_string(ops_.size()) +
                 " operations linearized, and there could not place " + urgent_s;
    }
    set_window(r, h_, idx);
  }

  // The operations that could come next at the deepest state reached (the next one of
  // each thread, called before the earliest return among them); the one with the
  // earliest return (which had to be linearized next and could not) in *urgent.
  std::vector<std::size_t> frontier_ops(std::string* urgent = nullptr) const {
    std::uint64_t min_ret = std::numeric_limits<std::uint64_t>::max();
    std::uint32_t first = none;
    for (std::uint32_t t = 0; t < threads_; ++t) {
      if (begin_[t] + deepest_cur_[t] < begin_[t + 1]) {
        const xop& x = ops_[begin_[t] + deepest_cur_[t]];
        if (x.ret < min_ret) {
          min_ret = x.ret;
          first = t;
        }
      }
    }
    std::vector<std::size_t> idx;
    for (std::uint32_t t = 0; t < threads_; ++t) {
      if (begin_[t] + deepest_cur_[t] < begin_[t + 1]) {
        const xop& x = ops_[begin_[t] + deepest_cur_[t]];
        if (x.call <= min_ret) idx.push_back(x.hist);
        if (t == first && urgent != nullptr) *urgent = format_operation(h_.ops[x.hist]);
      }
    }
    return idx;
  }

  const history& h_;
  spec s_;
  exact_options o_;
  value_index vi_;

  std::uint32_t threads_ = 0;
  std::vector<xop> ops_;                   // thread by thread, in program order
  std::vector<std::uint32_t> begin_;       // thread t's ops: [begin_[t], begin_[t+1])
  std::vector<std::uint32_t> cur_;         // per-thread cursors
  std::vector<std::uint32_t> items_;       // contents (stack: bottom..top; queue: all enqueued)
  std::vector<std::uint64_t> bound_;       // P1 bounds, parallel to items_
  std::vector<std::uint32_t> insert_pos_;  // value id -> its insert in ops_
  std::size_t head_ = 0;                   // queue: first present item
  std::uint32_t closed_ = 0;               // closes linearized
  std::size_t done_ = 0;                   // operations linearized
  bool has_full_ = false;
  bool ended_not_empty_ = false;

  std::uint64_t base1_ = 0, base2_ = 0, h1_ = 0, h2_ = 0;
  std::vector<std::uint64_t> pw1_, pw2_, hv1_, hv2_, rc1_, rc2_;

  state_set seen_;
  std::vector<std::uint32_t> cand_;
  std::vector<cand_key> keys_;
  std::uint64_t states_ = 0;
  std::size_t deepest_ = 0;
  std::vector<std::uint32_t> deepest_cur_;
  std::vector<std::size_t> order_;
};

}  // namespace detail

// Tier (b): exact for unique values; undecided past the budget or with duplicate values.
[[nodiscard]] inline result check_exact(const history& h, const spec& s,
                                        const exact_options& o = {}) {
  return detail::exact_checker(h, s, o).run();
}

}  // namespace lockless::test::lincheck
