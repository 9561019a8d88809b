// tests/fuzz/treiber_stack_seq.cpp: sequential fuzzing of treiber_stack against a
// std::stack model (the operations, payloads and encoding: tests/fuzz/stack_seq.hpp).
#include <cstddef>
#include <cstdint>

#include <lockless/epoch.hpp>
#include <lockless/treiber_stack.hpp>

#include "stack_seq.hpp"

namespace {
struct treiber_stack_of {
  template <class T>
  using type = lockless::treiber_stack<T, lockless::epoch_reclaimer>;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::stack_seq::run_both<treiber_stack_of>(data, size, [](const auto&) {});
  return 0;
}
