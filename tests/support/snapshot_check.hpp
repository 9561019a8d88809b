// tests/support/snapshot_check.hpp: monotone counters read by snapshots, checked against
// the intervals of the increments and of the reads.
//
// WHAT
//   A family of K counters (keys 0 .. K-1) that only grow. Writers add to one counter per
//   operation (an INCREMENT: key, amount); readers read all K at once (a READ: the K
//   values a snapshot reported). Every operation has an interval [start, end] of stamps,
//   taken just before it was invoked and just after it returned. A correct structure of
//   this kind (a histogram, a set of statistics counters, a metrics registry) promises:
//     C1 lower bound   a read includes every increment that ended before the read started:
//                      values[k] >= sum of the amounts of increments of k with end < start;
//     C2 upper bound   a read includes nothing that started after the read ended:
//                      values[k] <= sum of the amounts of increments of k with start <= end
//                      (ties count as overlap: conservative);
//     C3 monotone      a read that started after another read ended shows at least as much
//                      in every counter (values never go backwards in real time);
//     C4 serial        (optional, options::reads_serialize) any two reads are comparable:
//                      one is >= the other in every counter. For structures whose reads
//                      take turns (under a lock), even overlapping reads form one chain;
//                      check() then returns the reads in that chain's order.
//   C1-C3 are what "the read is a snapshot of monotone counters" means in real time; they
//   are necessary, not sufficient: a read may still mix two moments of different keys
//   (each key is judged alone), and consistency between keys (a total that equals the sum
//   of its parts) is the structure's own check, on each read.
//
// TWO WAYS TO GIVE THE INCREMENTS
//   intervals   one record per increment (key, amount, start, end): fully general, one
//               record per operation. bounds_from_intervals() sorts and sweeps,
//               O((I + R) log(I + R) + R K) for I increments and R reads. For short runs
//               (deterministic schedules, fuzzing) whose every operation can be recorded.
//   lanes       for long runs (stress): each writer thread is a LANE whose increments
//               happen one after another, increment i of lane t adding a known amount to a
//               known key (the test decides them in advance, for instance by repeating a
//               fixed script: periodic_lane). The lane publishes two marks (lane_marks):
//               started = i + 1 before increment i begins, completed = i + 1 after it
//               returns. A read loads every lane's completed mark before it starts (lo[t])
//               and every started mark after it ends (hi[t]): lane t's increments 0 .. lo-1
//               ended before the read started (C1 must count them), those from hi on
//               started after it ended (C2 must not). So a lane is an interval record per
//               increment, compressed to two words, and a read costs O(lanes x K) to check
//               whatever the number of increments. bounds_from_lanes() takes the lane's
//               prefix sums from the caller.
//   Why the marks are sound: completed is stored (release) after the increment
//   returned, and loaded (acquire) before the read starts, so "lo[t] > i" means increment
//   i happens-before the read (what C1 needs). started is stored before increment i
//   begins; a read that includes increment i synchronizes with it (the structure
//   publishes an increment to its readers with a release, or the read could not see it),
//   so the started store happens-before the read, and the load after the read returns
//   sees it: a read that includes increment i finds hi[t] > i (C2 never accuses it wrongly).
//
// READ ORDER
//   C3 needs the reads' own intervals: stamps from any source that gives "A ended before B
//   started" its real meaning (lane_marks::stamp(), a seq_cst counter; a scheduler's step
//   counter in a deterministic run).
//
// USAGE
//   snapshot_check::lane_marks marks(lanes);              // writers:
//   marks.begin(t, i); structure.add(...); marks.end(t, i);
//   snapshot_check::lane_read r;                          // a reader:
//   r.start = marks.stamp(); marks.completed(r.lo); auto snap = structure.read();
//   marks.started(r.hi); r.end = marks.stamp(); r.values = counts_of(snap);
//   ... after the join:
//   auto b = snapshot_check::bounds_from_lanes(K, reads, [&](std::size_t t, std::uint64_t n,
//                                              snapshot_check::counts& acc) { ... });
//   snapshot_check::result res = snapshot_check::check(K, reads, b, options);
//   EXPECT_TRUE(res.ok()) << res.failure;
//
// Generic: names no structure. Used by the histogram's stress test and schedule scenarios.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace lockless::test::snapshot_check {

using counts = std::vector<std::uint64_t>;  // one value per key

// One increment with its interval (the "intervals" form).
struct increment {
  std::size_t key = 0;
  std::uint64_t amount = 0;
  std::uint64_t start = 0;  // stamp taken before the operation was invoked
  std::uint64_t end = 0;    // stamp taken after it returned
};

// One read: its interval and the K values it reported. For the "lanes" form, also the
// marks: lo[t] (lane t's completed mark loaded before the read), hi[t] (its started mark
// loaded after the read).
struct read {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  counts values;
  std::vector<std::uint64_t> lo, hi;  // lanes form only
};

// What a read must show, per key: lower[k] <= values[k] <= upper[k].
struct bounds {
  counts lower, upper;
};

struct options {
  bool reads_serialize = false;  // C4: any two reads are comparable (reads take turns)
  std::size_t max_reported = 8;  // violations described in the failure text
  // A key's name in the failure text ("key 3" by default).
  std::function<std::string(std::size_t)> key_name;
};

struct result {
  std::string failure;             // empty: C1-C3 (and C4 if asked) hold
  std::size_t violations = 0;      // how many (read, key) pairs failed, all kinds
  std::vector<std::size_t> order;  // with reads_serialize: the reads in chain order
  [[nodiscard]] bool ok() const noexcept { return failure.empty(); }
};

// ---- increments given as intervals ---------------------------------------------------

// C1/C2 bounds of every read, from every increment's interval. O((I + R) log + R K).
inline std::vector<bounds> bounds_from_intervals(std::size_t keys,
                                                 const std::vector<increment>& incs,
                                                 const std::vector<read>& reads) {
  std::vector<bounds> out(reads.size(), bounds{counts(keys, 0), counts(keys, 0)});
  std::vector<std::size_t> by_end(incs.size()), by_start(incs.size());
  std::iota(by_end.begin(), by_end.end(), std::size_t{0});
  std::iota(by_start.begin(), by_start.end(), std::size_t{0});
  std::sort(by_end.begin(), by_end.end(),
            [&](std::size_t a, std::size_t b) { return incs[a].end < incs[b].end; });
  std::sort(by_start.begin(), by_start.end(),
            [&](std::size_t a, std::size_t b) { return incs[a].start < incs[b].start; });
  std::vector<std::size_t> reads_by_start(reads.size()), reads_by_end(reads.size());
  std::iota(reads_by_start.begin(), reads_by_start.end(), std::size_t{0});
  std::iota(reads_by_end.begin(), reads_by_end.end(), std::size_t{0});
  std::sort(reads_by_start.begin(), reads_by_start.end(),
            [&](std::size_t a, std::size_t b) { return reads[a].start < reads[b].start; });
  std::sort(reads_by_end.begin(), reads_by_end.end(),
            [&](std::size_t a, std::size_t b) { return reads[a].end < reads[b].end; });
  counts acc(keys, 0);
  std::size_t i = 0;
  for (std::size_t r : reads_by_start) {  // C1: increments that ended before r started
    while (i < by_end.size() && incs[by_end[i]].end < reads[r].start) {
      acc[incs[by_end[i]].key] += incs[by_end[i]].amount;
      ++i;
    }
    out[r].lower = acc;
  }
  std::fill(acc.begin(), acc.end(), 0);
  i = 0;
  for (std::size_t r : reads_by_end) {  // C2: increments that started by r's end
    while (i < by_start.size() && incs[by_start[i]].start <= reads[r].end) {
      acc[incs[by_start[i]].key] += incs[by_start[i]].amount;
      ++i;
    }
    out[r].upper = acc;
  }
  return out;
}

// ---- increments given as lanes --------------------------------------------------------

// The marks of `lanes` writer threads, each word on its own cache line, and a stamp
// source for the reads' intervals. See "Why the marks are sound" above.
class lane_marks {
 public:
  explicit lane_marks(std::size_t lanes) : marks_(lanes) {}

  // Writer t, around its increment number i (0, 1, 2, ... in order).
  void begin(std::size_t t, std::uint64_t i) noexcept {
    marks_[t].started.store(i + 1, std::memory_order_release);
  }
  void end(std::size_t t, std::uint64_t i) noexcept {
    marks_[t].completed.store(i + 1, std::memory_order_release);
  }
  // A reader: completed marks just before it starts, started marks just after it ends.
  void completed(std::vector<std::uint64_t>& lo) const {
    lo.resize(marks_.size());
    for (std::size_t t = 0; t < marks_.size(); ++t) {
      lo[t] = marks_[t].completed.load(std::memory_order_acquire);
    }
  }
  void started(std::vector<std::uint64_t>& hi) const {
    hi.resize(marks_.size());
    for (std::size_t t = 0; t < marks_.size(); ++t) {
      hi[t] = marks_[t].started.load(std::memory_order_acquire);
    }
  }
  // A read's start/end stamp (unique; A.end < B.start means A returned before B began).
  std::uint64_t stamp() noexcept { return clock_.fetch_add(1, std::memory_order_seq_cst); }

 private:
  struct alignas(64) lane {
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> completed{0};
  };
  std::vector<lane> marks_;
  alignas(64) std::atomic<std::uint64_t> clock_{1};
};

// C1/C2 bounds of every read from its marks. prefix(t, n, acc) adds, per key, what lane t's
// first n increments add (acc has K entries). O(R x lanes x cost of prefix).
template <class Prefix>
std::vector<bounds> bounds_from_lanes(std::size_t keys, const std::vector<read>& reads,
                                      Prefix&& prefix) {
  std::vector<bounds> out(reads.size(), bounds{counts(keys, 0), counts(keys, 0)});
  for (std::size_t r = 0; r < reads.size(); ++r) {
    for (std::size_t t = 0; t < reads[r].lo.size(); ++t) prefix(t, reads[r].lo[t], out[r].lower);
    for (std::size_t t = 0; t < reads[r].hi.size(); ++t) prefix(t, reads[r].hi[t], out[r].upper);
  }
  return out;
}

// A lane that repeats a fixed script of increments: increment i is script[i % size].
// prefix(n, acc) in O(K): whole periods times the period's totals, plus a table of the
// partial period.
class periodic_lane {
 public:
  struct step {
    std::size_t key;
    std::uint64_t amount;
  };

  periodic_lane(std::size_t keys, std::vector<step> script) : script_(std::move(script)) {
    partial_.assign((script_.size() + 1) * keys, 0);
    keys_ = keys;
    for (std::size_t p = 0; p < script_.size(); ++p) {
      std::copy_n(partial_.begin() + static_cast<std::ptrdiff_t>(p * keys), keys,
                  partial_.begin() + static_cast<std::ptrdiff_t>((p + 1) * keys));
      partial_[(p + 1) * keys + script_[p].key] += script_[p].amount;
    }
  }

  [[nodiscard]] const step& at(std::uint64_t i) const noexcept {
    return script_[static_cast<std::size_t>(i % script_.size())];
  }
  [[nodiscard]] std::size_t period() const noexcept { return script_.size(); }

  // Adds what increments 0 .. n-1 add, per key, to acc.
  void prefix(std::uint64_t n, counts& acc) const {
    const std::uint64_t whole = n / script_.size();
    const std::size_t rest = static_cast<std::size_t>(n % script_.size());
    const std::size_t last = script_.size() * keys_;
    for (std::size_t k = 0; k < keys_; ++k) {
      acc[k] += whole * partial_[last + k] + partial_[rest * keys_ + k];
    }
  }

 private:
  std::vector<step> script_;
  std::size_t keys_ = 0;
  counts partial_;  // partial_[p * K + k]: key k's total over script steps 0 .. p-1
};

// ---- the check -------------------------------------------------------------------------

namespace detail {

inline std::string key_text(const options& o, std::size_t k) {
  return o.key_name ? o.key_name(k) : "key " + std::to_string(k);
}

inline std::string read_text(const std::vector<read>& reads, std::size_t r) {
  return "read " + std::to_string(r) + " [" + std::to_string(reads[r].start) + ", " +
         std::to_string(reads[r].end) + "]";
}

}  // namespace detail

// C1-C3 (and C4 with options::reads_serialize) over every read. keys: K; each
// reads[r].values must have K entries; b: from bounds_from_intervals/bounds_from_lanes.
inline result check(std::size_t keys, const std::vector<read>& reads, const std::vector<bounds>& b,
                    const options& o = {}) {
  result res;
  auto report = [&](const std::string& line) {
    if (++res.violations <= o.max_reported) res.failure += line + "\n";
  };
  for (std::size_t r = 0; r < reads.size(); ++r) {
    if (reads[r].values.size() != keys || b[r].lower.size() != keys || b[r].upper.size() != keys) {
      report(detail::read_text(reads, r) + ": has " + std::to_string(reads[r].values.size()) +
             " values, not " + std::to_string(keys));
      continue;
    }
    for (std::size_t k = 0; k < keys; ++k) {
      if (reads[r].values[k] < b[r].lower[k]) {
        report(detail::read_text(reads, r) + ": " + detail::key_text(o, k) + " = " +
               std::to_string(reads[r].values[k]) + ", but " + std::to_string(b[r].lower[k]) +
               " had been added by increments that ended before it started (C1)");
      }
      if (reads[r].values[k] > b[r].upper[k]) {
        report(detail::read_text(reads, r) + ": " + detail::key_text(o, k) + " = " +
               std::to_string(reads[r].values[k]) + ", but only " + std::to_string(b[r].upper[k]) +
               " had been added by increments that started before it ended (C2)");
      }
    }
  }
  if (res.violations != 0) {
    res.failure += "(" + std::to_string(res.violations) + " violations in all)\n";
    return res;
  }

  // C3: sweep the reads by start; `top` is the elementwise maximum over the reads that
  // ended before the current one started (and which read holds it).
  std::vector<std::size_t> by_start(reads.size()), by_end(reads.size());
  std::iota(by_start.begin(), by_start.end(), std::size_t{0});
  std::iota(by_end.begin(), by_end.end(), std::size_t{0});
  std::sort(by_start.begin(), by_start.end(),
            [&](std::size_t a, std::size_t c) { return reads[a].start < reads[c].start; });
  std::sort(by_end.begin(), by_end.end(),
            [&](std::size_t a, std::size_t c) { return reads[a].end < reads[c].end; });
  counts top(keys, 0);
  std::vector<std::size_t> holder(keys, reads.size());
  std::size_t e = 0;
  for (std::size_t r : by_start) {
    while (e < by_end.size() && reads[by_end[e]].end < reads[r].start) {
      const std::size_t p = by_end[e++];
      for (std::size_t k = 0; k < keys; ++k) {
        if (holder[k] == reads.size() || reads[p].values[k] > top[k]) {
          top[k] = reads[p].values[k];
          holder[k] = p;
        }
      }
    }
    for (std::size_t k = 0; k < keys; ++k) {
      if (reads[r].values[k] < top[k]) {
        report(detail::read_text(reads, r) + ": " + detail::key_text(o, k) + " = " +
               std::to_string(reads[r].values[k]) + ", less than the " + std::to_string(top[k]) +
               " of " + detail::read_text(reads, holder[k]) + ", which ended before it (C3)");
      }
    }
  }

  if (o.reads_serialize) {
    // C4: sorted by total, consecutive reads must be comparable (then all pairs are).
    std::vector<std::uint64_t> total(reads.size(), 0);
    for (std::size_t r = 0; r < reads.size(); ++r) {
      for (std::uint64_t v : reads[r].values) total[r] += v;
    }
    res.order.resize(reads.size());
    std::iota(res.order.begin(), res.order.end(), std::size_t{0});
    // (std::sort with a total order: std::stable_sort trips clang 19's deprecation of
    // libstdc++ 12's get_temporary_buffer.)
    std::sort(res.order.begin(), res.order.end(), [&](std::size_t a, std::size_t c) {
      if (total[a] != total[c]) return total[a] < total[c];
      return reads[a].start != reads[c].start ? reads[a].start < reads[c].start : a < c;
    });
    for (std::size_t i = 1; i < res.order.size(); ++i) {
      const std::size_t p = res.order[i - 1], q = res.order[i];
      for (std::size_t k = 0; k < keys; ++k) {
        if (reads[p].values[k] > reads[q].values[k]) {
          report(detail::read_text(reads, p) + " and " + detail::read_text(reads, q) +
                 " are not comparable: " + detail::key_text(o, k) + " = " +
                 std::to_string(reads[p].values[k]) + " in the first, " +
                 std::to_string(reads[q].values[k]) + " in the second, whose total is larger (C4)");
          break;
        }
      }
    }
  }
  if (res.violations != 0) {
    res.failure += "(" + std::to_string(res.violations) + " violations in all)\n";
  }
  return res;
}

}  // namespace lockless::test::snapshot_check
