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
  observe = 'o',    // observe(v)
  observe_n = 'n',  // observe(v, n), n from the operand (0 included: a no-op)
  snapshot = 's',   // snapshot(): checked consistent and monotone against the last one
  quantile = 'q',   // snapshot().quantile(q) and native_quantile(q) against the model
  burst = 'b',      // many observe(v) of spread values (pushes the native bound)
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
// ---- reference native keys (sequential models) -------------------------------------
// The native bucket a value belongs to, computed EXACTLY (integers only, no floating-point
// bounds), so models do not share the header's key function: bucket i at schema s holds
// (2^((i-1)*2^-s), 2^(i*2^-s)]. For finite a > 0 write a = (M / 2^52) * 2^e with M a
// 53-bit integer in [2^52, 2^53) (frexp). At s <= 0: the key at schema 0 is e + 1, or e
// when M = 2^52 (a power of two is the upper bound of its bucket), then ceil(k / 2^-s).
// At s > 0, n = 2^s: the key is e*n + i with i the smallest integer such that
// (M / 2^52)^n <= 2^i, i.e. M^n <= 2^(i + 52n): i = bitlength(M^n) - 52n, minus one when
// M^n is a power of two. M^n has at most 53 * 256 bits: a fixed array of 64-bit limbs.
inline std::int32_t exact_native_key(double a, std::int32_t schema) noexcept {
  int e2 = 0;
  const double frac = std::frexp(a, &e2);  // a = frac * 2^e2, frac in [0.5, 1)
  const std::int32_t e = e2 - 1;           // a = (2 frac) * 2^e, 2 frac in [1, 2)
  const auto m = static_cast<std::uint64_t>(std::ldexp(frac, 53));  // exact: 53 bits
  const bool power_of_two = m == (std::uint64_t{1} << 52);
  if (schema <= 0) {
    const std::int32_t k = power_of_two ? e : e + 1;  // key at schema 0
    const std::int32_t d = std::int32_t{1} << -schema;
    // ceil(k / d) for any sign of k
    return k >= 0 ? (k + d - 1) / d : -((-k) / d);
  }
  const std::int32_t n = std::int32_t{1} << schema;
  __extension__ typedef unsigned __int128 wide;  // GCC/Clang; __extension__: -Wpedantic
  constexpr std::size_t max_limbs = (53 * 256) / 64 + 2;
  std::uint64_t p[max_limbs] = {m};
  std::size_t len = 1;
  for (std::int32_t k = 1; k < n; ++k) {  // p *= m
    std::uint64_t carry = 0;
    for (std::size_t j = 0; j < len; ++j) {
      const wide t = static_cast<wide>(p[j]) * m + carry;
      p[j] = static_cast<std::uint64_t>(t);
      carry = static_cast<std::uint64_t>(t >> 64);
    }
    if (carry != 0) p[len++] = carry;
  }
  std::int32_t bits = static_cast<std::int32_t>(64 * (len - 1));
  for (std::uint64_t top = p[len - 1]; top != 0; top >>= 1) ++bits;
  // m^n is a power of two only when m is (m odd part > 1 stays odd in every power).
  const std::int32_t i = bits - 52 * n - (power_of_two ? 1 : 0);
  return e * n + i;
}

// The key of the inf bucket (+-Inf observations) at schema s: one past DBL_MAX's, whose
// key is 1024 * 2^s (2^1024 is a bucket boundary at every schema).
constexpr std::int32_t reference_inf_key(std::int32_t schema) noexcept {
  return (schema >= 0 ? 1024 * (std::int32_t{1} << schema) : 1024 / (std::int32_t{1} << -schema)) +
         1;
}

// A key at schema `from` at the coarser schema `to` (<= from): ceil(key / 2^(from - to)).
constexpr std::int32_t reference_reduce(std::int32_t key, std::int32_t from,
                                        std::int32_t to) noexcept {
  const std::int64_t d = std::int64_t{1} << (from - to);
  const std::int64_t k = key;
  return static_cast<std::int32_t>(k >= 0 ? (k + d - 1) / d : -((-k) / d));
}

inline constexpr op script_mix[] = {op::observe, op::observe,  op::observe, op::observe_n,
                                    op::observe, op::snapshot, op::observe, op::snapshot};
inline constexpr std::size_t script_mix_size = sizeof(script_mix) / sizeof(script_mix[0]);

constexpr op script_op_from_byte(std::uint8_t b) noexcept {
  return script_mix[b % script_mix_size];
}

}  // namespace lockless::test::histogram_ops

namespace lockless::test {
using histogram_op = histogram_ops::op;
}  // namespace lockless::test
