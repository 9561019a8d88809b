// tests/support/values.hpp: values unique by construction across threads, for every test
// that inserts into a container from several threads (stress tests, recorded histories,
// scripted schedules): the linearizability checker's fast tiers need unique values, and a
// stress test's audit can tell from a value who pushed it and when.
//
//   unique_value(t, seq)   t << 40 | seq (seq below 2^40)
//   value_thread(v)        t
//   value_seq(v)           seq
#pragma once

#include <cstdint>

namespace lockless::test {

inline constexpr unsigned value_thread_shift = 40;
inline constexpr std::uint64_t value_seq_mask = (std::uint64_t{1} << value_thread_shift) - 1;

[[nodiscard]] constexpr std::uint64_t unique_value(std::uint64_t thread,
                                                   std::uint64_t seq) noexcept {
  return thread << value_thread_shift | (seq & value_seq_mask);
}
[[nodiscard]] constexpr std::uint64_t value_thread(std::uint64_t v) noexcept {
  return v >> value_thread_shift;
}
[[nodiscard]] constexpr std::uint64_t value_seq(std::uint64_t v) noexcept {
  return v & value_seq_mask;
}

}  // namespace lockless::test
