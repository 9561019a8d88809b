// tests/structures/histogram_ops.hpp: histogram's ONE operation alphabet, shared by every
// layer that spells operations: the Relacy scenarios (tests/relacy/histogram_scenarios.hpp),
// the schedule scenarios (structures/histogram_scenarios.hpp, run by tests/dsched/
// histogram.cpp and tests/fuzz/histogram_sched.cpp), the sequential fuzz target
// (tests/fuzz/histogram_seq.cpp) and the stress test's operation mix.
//
//   op                 one letter per operation (a script is a string of letters)
//   all                every operation, in declaration order
//   name(o)            for printing
//   from_byte(b)       the sequential fuzz target's decoder: one input byte -> operation
//                      (the value observed comes from the following bytes: value_from)
//   script_mix         what a scheduled thread's script is drawn from (the schedule fuzz
//                      target: byte b -> script_mix[b % size]); weighted by repetition
//   value_class        which kind of value an observe draws (classic bucket edges, native
//                      key edges, zero bucket, negative, NaN, infinities, subnormals)
//
// Plain C++ with no dependencies beyond <cstddef>/<cstdint>/<cmath>/<limits>: the Relacy
// build includes it after Relacy's macros (support/relacy_prelude.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace lockless::test::histogram_ops {

enum class op : char {
  observe = 'o',       // observe(v)
  observe_n = 'n',     // observe(v, n), n from the operand (0 included: a no-op)
  snapshot = 's',      // snapshot(): checked consistent and monotone against the last one
  quantile = 'q',      // snapshot().quantile(q) and native_quantile(q) against the model
  burst = 'b',         // many observe(v) of spread values (pushes the native bound)
};

inline constexpr op all[] = {op::observe, op::observe_n, op::snapshot, op::quantile, op::burst};

constexpr const char* name(op o) noexcept {
  switch (o) {
    case op::observe:
      return "observe";
    case op::observe_n:
      return "observe_n";
    case op::snapshot:
      return "snapshot";
    case op::quantile:
      return "quantile";
    case op::burst:
      return "burst";
  }
  return "?";
}

constexpr char letter(op o) noexcept {
  return static_cast<char>(o);
}

// The sequential fuzz target's decoder (its seed corpora are written in it): b % 8
// selects, 0-3 observe, 4 observe_n, 5 snapshot, 6 quantile, 7 burst.
constexpr op from_byte(std::uint8_t b) noexcept {
  switch (b % 8) {
    case 4:
      return op::observe_n;
    case 5:
      return op::snapshot;
    case 6:
      return op::quantile;
    case 7:
      return op::burst;
    default:
      return op::observe;
  }
}

// The kinds of value an observation draws, to reach every branch of the bucket search.
enum class value_class : std::uint8_t {
  small_positive,  // 0.001 .. 100, spread (typical latencies)
  on_bound,        // exactly a classic bound (le is inclusive) or a power of two
  zero,            // 0, -0, or within the zero threshold
  negative,        // negative values (negative native buckets)
  nan,             // NaN: count and +Inf bucket only
  infinity,        // +Inf or -Inf
  extreme,         // subnormals, DBL_MAX, DBL_MIN
  count_,          // (number of classes)
};

// A value of class c chosen by the byte r (deterministic). `bounds` may be empty.
inline double value_from(value_class c, std::uint8_t r, const double* bounds,
                         std::size_t n_bounds) noexcept {
  switch (c) {
    case value_class::small_positive:
      return 0.001 * std::pow(1.06, static_cast<double>(r));  // 0.001 .. ~2.8e3
    case value_class::on_bound:
      if (n_bounds > 0 && (r & 1) == 0) return bounds[(r >> 1) % n_bounds];
      return std::ldexp(1.0, static_cast<int>(r % 32) - 16);
    case value_class::zero:
      return (r % 3 == 0) ? 0.0 : (r % 3 == 1 ? -0.0 : 0x1p-140);
    case value_class::negative:
      return -0.001 * std::pow(1.06, static_cast<double>(r));
    case value_class::nan:
      return std::numeric_limits<double>::quiet_NaN();
    case value_class::infinity:
      return (r & 1) != 0 ? std::numeric_limits<double>::infinity()
                          : -std::numeric_limits<double>::infinity();
    case value_class::extreme:
      switch (r % 4) {
        case 0:
          return std::numeric_limits<double>::denorm_min();
        case 1:
          return std::numeric_limits<double>::max();
        case 2:
          return std::numeric_limits<double>::min();
        default:
          return -std::numeric_limits<double>::max();
      }
    case value_class::count_:
      break;
  }
  return 0.0;
}

// A scheduled thread's operations (dsched scenarios, the schedule fuzz target; the Relacy
// scenarios use observe and snapshot). Weighted: observers mostly observe.
inline constexpr op script_mix[] = {op::observe, op::observe, op::observe,  op::observe_n,
                                    op::observe, op::snapshot, op::observe, op::snapshot};
inline constexpr std::size_t script_mix_size = sizeof(script_mix) / sizeof(script_mix[0]);

constexpr op script_op_from_byte(std::uint8_t b) noexcept {
  return script_mix[b % script_mix_size];
}

}  // namespace lockless::test::histogram_ops

namespace lockless::test {
using histogram_op = histogram_ops::op;
}  // namespace lockless::test
