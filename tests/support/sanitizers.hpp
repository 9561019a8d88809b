// tests/support/sanitizers.hpp: which sanitizer this test binary was built with, and a
// helper that scales iteration counts down under the slow ones.
//
//   lockless_test::under_tsan / under_asan      constexpr bools
//   lockless_test::scaled(n)                    n in a plain build, n/4 under TSan, n/2
//                                               under ASan (never below `floor`), times
//                                               $LOCKLESS_STRESS_SCALE if set (a positive
//                                               integer: soak runs, e.g. 20)
//
// Stress tests size their work for the dev build and call scaled() so that each binary
// stays within its time budget under ThreadSanitizer (5-15x slower per instruction; the
// stress tests spend much of their time in yields and sleeps, hence only /4) and
// AddressSanitizer (roughly 2x).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>

#include <lockless/detail/sanitizers.hpp>

namespace lockless_test {

#if defined(LOCKLESS_DETAIL_TSAN)
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif

#if defined(LOCKLESS_DETAIL_ASAN)
inline constexpr bool under_asan = true;
#else
inline constexpr bool under_asan = false;
#endif

inline constexpr std::size_t tsan_divisor = 4;
inline constexpr std::size_t asan_divisor = 2;

// $LOCKLESS_STRESS_SCALE, or 1 if unset or not a positive integer.
inline std::size_t stress_scale_from_env() noexcept {
  static const std::size_t factor = [] {
    const char* s = std::getenv("LOCKLESS_STRESS_SCALE");
    if (s == nullptr) return std::size_t{1};
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    return (end != s && *end == '\0' && v > 0) ? static_cast<std::size_t>(v) : std::size_t{1};
  }();
  return factor;
}

// An iteration count sized for the plain build, scaled down for sanitizer builds.
inline std::size_t scaled(std::size_t n, std::size_t floor = 1) noexcept {
  if constexpr (under_tsan) {
    n /= tsan_divisor;
  } else if constexpr (under_asan) {
    n /= asan_divisor;
  }
  return std::max(n, floor) * stress_scale_from_env();
}

}  // namespace lockless_test
