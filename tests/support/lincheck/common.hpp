// tests/support/lincheck/common.hpp: what every linearizability checker tier shares: the
// sequential specification being checked (spec), the verdict type (result), and a little
// plumbing (value index, elapsed time). See support/lincheck.hpp for the overview.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../history.hpp"

namespace lockless::test::lincheck {

// ---------------------------------------------------------------------------------------
// Sequential specification
// ---------------------------------------------------------------------------------------
//   insert (push/enqueue) v:  closed            -> closed
//                             capacity reached  -> full
//                             otherwise         -> ok, v added (top of a stack, tail of a
//                                                  queue)
//   remove (pop/dequeue):     not empty         -> value: the top (stack) / head (queue)
//                             empty and closed  -> closed
//                             empty, not closed -> empty
//   close:                    -> ok; the container is closed from then on (idempotent).
//                             Values already in it can still be removed.
//   complete: the history ends with a quiescent drain, so the container must be empty
//             after the last operation (a value inserted and never removed is "lost").
//   relaxed_full (full_when_in_flight()): "full" is relaxed for a bounded container whose
//             in-flight operations hold slots (bounded_queue: a push between taking a free
//             slot and publishing it, a pop between taking an element and giving its slot
//             back). An insert that returned full is legal at a point where
//             size + k >= capacity (and not closed), k being the number of OTHER
//             insert/remove operations (any result; closes do not count) whose interval
//             overlaps the insert's own (neither precedes the other; see
//             detail::in_flight_counts). Every other rule is unchanged: an ok insert still
//             needs size < capacity, and FIFO/LIFO, empty, closed and drained are exact.
//             k is a property of the history, so removing operations can lower it: the
//             shrinker keeps every operation overlapping a FULL result (shrink.hpp).
enum class container : std::uint8_t { stack, queue };

struct spec {
  container kind = container::stack;
  std::size_t capacity = 0;  // 0: unbounded
  bool complete = false;
  bool relaxed_full = false;  // see full_when_in_flight()

  [[nodiscard]] static constexpr spec stack() noexcept {
    return {container::stack, 0, false, false};
  }
  [[nodiscard]] static constexpr spec queue() noexcept {
    return {container::queue, 0, false, false};
  }
  [[nodiscard]] static constexpr spec bounded_queue(std::size_t capacity) noexcept {
    return {container::queue, capacity, false, false};
  }
  [[nodiscard]] static constexpr spec bounded_stack(std::size_t capacity) noexcept {
    return {container::stack, capacity, false, false};
  }
  // The same spec, for a history that ends with a quiescent drain.
  [[nodiscard]] constexpr spec drained() const noexcept {
    spec s = *this;
    s.complete = true;
    return s;
  }
  // The same spec with "full" relaxed for operations in flight (relaxed_full above):
  // lockless::bounded_queue's spec is spec::bounded_queue(cap).full_when_in_flight().
  [[nodiscard]] constexpr spec full_when_in_flight() const noexcept {
    spec s = *this;
    s.relaxed_full = true;
    return s;
  }

  [[nodiscard]] std::string name() const {
    std::string s = capacity != 0 ? "bounded " : "";
    s += kind == container::stack ? "stack" : "queue";
    if (capacity != 0) s += " (capacity " + std::to_string(capacity) + ")";
    if (relaxed_full) {
      s += ", full_when_in_flight (full legal once size + overlapping inserts/removes >= "
           "capacity)";
    }
    if (complete) s += ", drained at the end";
    return s;
  }
};

// ---------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------
enum class verdict : std::uint8_t { linearizable, not_linearizable, undecided };

[[nodiscard]] constexpr const char* to_string(verdict v) noexcept {
  switch (v) {
    case verdict::linearizable:
      return "linearizable";
    case verdict::not_linearizable:
      return "NOT linearizable";
    case verdict::undecided:
      return "UNDECIDED";
  }
  return "?";
}

struct result {
  verdict v = verdict::undecided;
  std::string tier;    // "aspects", "exact", "reference", or "check" (the combined driver)
  std::string reason;  // why not linearizable / why undecided; empty when linearizable
  // On failure: operations to look at. If window_confirmed, they form a sub-history that
  // is not linearizable on its own (and, by monotonicity, no history containing it is);
  // if window_minimal too, removing any removable operation from it makes it
  // linearizable. Otherwise they are the operations around the point where the search got
  // stuck, or the operations an aspect violation names.
  std::vector<operation> window;
  std::vector<std::size_t> window_index;  // the same operations: indices into the history
  bool window_confirmed = false;
  bool window_minimal = false;
  // Exact and reference tiers, when linearizable: a witness order (indices into the
  // history's ops), first linearized first.
  std::vector<std::size_t> linearization;
  std::uint64_t states = 0;  // search states explored (exact, reference)
  double seconds = 0;
  std::size_t ops = 0;  // size of the history checked

  [[nodiscard]] bool linearizable() const noexcept { return v == verdict::linearizable; }
  [[nodiscard]] bool violated() const noexcept { return v == verdict::not_linearizable; }
  [[nodiscard]] bool undecided() const noexcept { return v == verdict::undecided; }

  // A printable account: verdict, tier, reason, the window.
  [[nodiscard]] std::string report() const {
    std::ostringstream os;
    os << to_string(v) << " [" << tier << "] " << ops << " ops, " << states << " states, "
       << seconds << " s";
    if (!reason.empty()) os << "\n  " << reason;
    if (!window.empty()) {
      os << "\n  ";
      if (window_confirmed) {
        os << (window_minimal ? "minimal " : "") << "sub-history that is not linearizable by "
           << "itself (" << window.size() << " ops):";
      } else {
        os << "operations involved (" << window.size() << "):";
      }
      for (const auto& op : window) os << "\n    " << format_operation(op);
    }
    return os.str();
  }
};

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline constexpr std::uint32_t no_value = std::numeric_limits<std::uint32_t>::max();

// Dense ids for the inserted values, and who inserted/removed each. Shared by the aspect
// and exact tiers (the reference tier does not use it).
struct value_index {
  std::unordered_map<std::uint64_t, std::uint32_t> id;  // value -> dense id
  std::vector<std::size_t> insert_op;                   // id -> op index of its insert
  std::vector<std::vector<std::size_t>> remove_ops;     // id -> removes that returned it
  std::vector<std::size_t> fresh_removes;               // removes returning a value nobody inserted
  std::string error;                                    // non-empty: values are not unique

  explicit value_index(const history& h) {
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      const operation& op = h.ops[i];
      if (!op.inserts()) continue;
      auto [it, fresh] = id.emplace(op.arg, static_cast<std::uint32_t>(insert_op.size()));
      if (!fresh) {
        error = "inserted values are not unique (" + format_value(op.arg) +
                " twice): this tier needs unique values (unique_value(thread, seq))";
        return;
      }
      insert_op.push_back(i);
    }
    remove_ops.resize(insert_op.size());
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      const operation& op = h.ops[i];
      if (!op.removed_value()) continue;
      auto it = id.find(op.result.value);
      if (it == id.end()) {
        fresh_removes.push_back(i);
      } else {
        remove_ops[it->second].push_back(i);
      }
    }
  }
  [[nodiscard]] std::uint32_t lookup(std::uint64_t v) const {
    auto it = id.find(v);
    return it == id.end() ? no_value : it->second;
  }
  [[nodiscard]] std::size_t size() const noexcept { return insert_op.size(); }
};

// For spec::full_when_in_flight(): for each operation of `ops`, the number of OTHER
// insert/remove operations (closes do not count) whose interval overlaps its own, i.e.
// neither precedes the other (precedes(): a.ret < b.call). O(n log n): the operations
// called by op.ret, minus those that returned before op.call (all of them called by
// op.ret too), minus op itself. Closes get 0 (only inserts read it).
inline std::vector<std::size_t> in_flight_counts(const std::vector<operation>& ops) {
  std::vector<std::uint64_t> calls, rets;
  calls.reserve(ops.size());
  rets.reserve(ops.size());
  for (const operation& op : ops) {
    if (!op.inserts() && !op.removes()) continue;
    calls.push_back(op.call);
    rets.push_back(op.ret);
  }
  std::sort(calls.begin(), calls.end());
  std::sort(rets.begin(), rets.end());
  std::vector<std::size_t> k(ops.size(), 0);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const operation& op = ops[i];
    if (!op.inserts() && !op.removes()) continue;
    const auto called = std::upper_bound(calls.begin(), calls.end(), op.ret) - calls.begin();
    const auto gone = std::lower_bound(rets.begin(), rets.end(), op.call) - rets.begin();
    k[i] = static_cast<std::size_t>(called - gone - 1);
  }
  return k;
}

// Sets r.window / r.window_index to the operations idx (deduplicated, in call order).
inline void set_window(result& r, const history& h, std::vector<std::size_t> idx) {
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  r.window.clear();
  r.window.reserve(idx.size());
  for (std::size_t i : idx) r.window.push_back(h.ops[i]);
  r.window_index = std::move(idx);
}

}  // namespace detail
}  // namespace lockless::test::lincheck
