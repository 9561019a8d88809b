// tests/support/lincheck/harness.hpp: record a multi-threaded run of a container.
//
//   lockless::treiber_stack<std::uint64_t> s;
//   lc::run_options o;                      // 8 threads x 375 ops, 50% inserts, drained
//   history h = lc::record_run(o,
//       [&](std::uint64_t v) { s.push(v); },           // insert: void | bool | op_result
//       [&] { return s.try_pop(); });                  // remove: optional | op_result
//   EXPECT_TRUE(lc::check(h, lc::spec::stack().drained()).linearizable());
//
// Threads 0..threads-1 start together (run_threads, support/stress.hpp), each doing
// ops_per_thread random inserts/removes of unique values unique_value(thread, seq)
// (support/values.hpp). After they are joined, thread id `threads` drains: removes until a remove returns something other than a value (so
// the history is complete: use spec.drained()). The run is deterministic in which
// operations each thread attempts (seeded), not in their interleaving.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <type_traits>
#include <vector>

#include "../history.hpp"
#include "../stress.hpp"

namespace lockless::test::lincheck {

struct run_options {
  std::size_t threads = 8;
  std::size_t ops_per_thread = 375;
  unsigned insert_percent = 50;
  stamp_source stamps = stamp_source::counter;
  std::uint64_t seed = 1;
  bool drain = true;
  op_kind insert_kind = op_kind::push;  // how the history prints: push/pop or
  op_kind remove_kind = op_kind::pop;   // enqueue/dequeue
};

namespace detail {
template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

// A remove's return value as an op_result: optional (value | empty), an integer (the
// value: a blocking pop always returns one), or op_result as is.
template <class R>
op_result as_result(const R& r) {
  if constexpr (detail::is_std_optional<R>::value) {
    return r.has_value() ? op_result::of(static_cast<std::uint64_t>(*r)) : op_result::empty();
  } else if constexpr (std::is_integral_v<R>) {
    return op_result::of(static_cast<std::uint64_t>(r));
  } else {
    return r;
  }
}

template <class Insert, class Remove>
history record_run(const run_options& o, Insert&& insert, Remove&& remove) {
  std::vector<std::size_t> capacity(o.threads + 1, o.ops_per_thread);
  capacity[o.threads] = o.drain ? o.threads * o.ops_per_thread + 1 : 0;  // the drainer
  recorder rec(capacity, o.stamps);
  lockless_test::run_threads(o.threads, [&](std::size_t t) {
    std::mt19937_64 rng(o.seed * 1000003 + t);
    std::uniform_int_distribution<unsigned> pct(0, 99);
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < o.ops_per_thread; ++i) {
      if (pct(rng) < o.insert_percent) {
        const std::uint64_t v = unique_value(t, seq++);
        rec.record(t, o.insert_kind, v, [&] { return insert(v); });
      } else {
        rec.record(t, o.remove_kind, 0, [&] { return remove(); });
      }
    }
  });
  if (o.drain) {
    for (;;) {
      const op_result r =
          rec.record(o.threads, o.remove_kind, 0, [&] { return as_result(remove()); });
      if (r.status != op_status::value) break;
    }
  }
  return rec.merged();
}

}  // namespace lockless::test::lincheck
