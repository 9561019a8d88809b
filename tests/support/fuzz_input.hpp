// tests/support/fuzz_input.hpp: a tiny reader that turns a libFuzzer input into op codes and
// operands. Reading past the end yields zeros, so every input decodes to some sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace lockless_fuzz {

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) noexcept : p_(data), end_(data + size) {}

  [[nodiscard]] bool empty() const noexcept { return p_ == end_; }

  std::uint8_t u8() noexcept { return p_ == end_ ? 0 : *p_++; }

  // What has not been read yet (schedule targets hand it to dsched::byte_schedule).
  [[nodiscard]] const std::uint8_t* rest() const noexcept { return p_; }
  [[nodiscard]] std::size_t rest_size() const noexcept {
    return static_cast<std::size_t>(end_ - p_);
  }

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

// Per-thread scripts for the schedule targets (structures/<name>_scenarios.hpp): one byte
// for the thread count (min_threads + b % (max_threads - min_threads + 1)), then per
// thread one byte for its length (1 + b % max_ops) and one byte per operation, the letter
// letter_of(b) (the structure's alphabet decodes it: structures/<name>_ops.hpp,
// script_op_from_byte).
template <class LetterOf>
std::vector<std::string> decode_scripts(input& in, LetterOf&& letter_of, unsigned min_threads = 2,
                                        unsigned max_threads = 4, unsigned max_ops = 6) {
  const unsigned threads = min_threads + in.u8() % (max_threads - min_threads + 1);
  std::vector<std::string> scripts(threads);
  for (std::string& s : scripts) {
    const unsigned n = 1 + in.u8() % max_ops;
    for (unsigned i = 0; i < n; ++i) s += static_cast<char>(letter_of(in.u8()));
  }
  return scripts;
}

// A failed check: say what, then trap so libFuzzer records a crash with the input.
[[noreturn]] inline void fail(const char* what, const char* file, int line) noexcept {
  std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, file, line);
  __builtin_trap();
}

}  // namespace lockless_fuzz

#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::lockless_fuzz::fail(#cond, __FILE__, __LINE__))
