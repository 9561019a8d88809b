// tests/fuzz/fuzz_input.hpp: a tiny reader that turns a libFuzzer input into op codes and
// operands. Reading past the end yields zeros, so every input decodes to some sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace lockless_fuzz {

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) noexcept : p_(data), end_(data + size) {}

  [[nodiscard]] bool empty() const noexcept { return p_ == end_; }

  std::uint8_t u8() noexcept { return p_ == end_ ? 0 : *p_++; }

  // Little-endian, up to 8 bytes; fewer if the input ends first.
  std::uint64_t u64() noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8 && p_ != end_; ++i) v |= std::uint64_t{*p_++} << (8 * i);
    return v;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// A failed check: say what, then trap so libFuzzer records a crash with the input.
[[noreturn]] inline void fail(const char* what, const char* file, int line) noexcept {
  std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, file, line);
  __builtin_trap();
}

}  // namespace lockless_fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? (void)0 : ::lockless_fuzz::fail(#cond, __FILE__, __LINE__))
