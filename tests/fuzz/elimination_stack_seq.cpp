// tests/fuzz/elimination_stack_seq.cpp: sequential fuzzing of elimination_stack against a
// std::stack model: treiber_stack's sequential target (the operations, payloads, the
// throwing emplace and the encoding: tests/fuzz/stack_seq.hpp) over three option sets,
// each input run on all three:
//   default             elimination_options{}: the exchanger is never visited (a single
//                       thread's central CAS does not fail)
//   force_exchange      width 1, force_exchange: every operation offers its node or waits
//                       in the slot first, finds no partner, withdraws and goes central
//   statistics          width 4 with statistics: stats() and range() read after every op
// After every operation: range() in [1, width]; with statistics, no eliminated pair (one
// thread has no partner) and the wait hint in [exchange_spins / 16, exchange_spins].
#include <cstddef>
#include <cstdint>

#include <lockless/elimination_stack.hpp>
#include <lockless/epoch.hpp>

#include "stack_seq.hpp"

namespace {

template <lockless::elimination_options Options>
struct elimination_stack_of {
  template <class T>
  using type = lockless::elimination_stack<T, lockless::epoch_reclaimer, Options>;
};

template <lockless::elimination_options Options>
void run_with(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::stack_seq::run_both<elimination_stack_of<Options>>(
      data, size, [](const auto& stack) {
        const unsigned r = stack.range();
        FUZZ_CHECK(r >= 1 && r <= Options.width);
        if constexpr (Options.statistics) {
          const lockless::elimination_stack_stats s = stack.stats();
          FUZZ_CHECK(s.eliminated_pairs == 0);  // one thread: nobody to meet
          FUZZ_CHECK(s.range == r);
          const unsigned low = Options.exchange_spins / 16 > 0 ? Options.exchange_spins / 16 : 1;
          FUZZ_CHECK(s.wait_spins >= low && s.wait_spins <= Options.exchange_spins);
        }
      });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run_with<lockless::elimination_options{}>(data, size);
  run_with<lockless::elimination_options{.width = 1, .exchange_spins = 16, .force_exchange = true}>(
      data, size);
  run_with<lockless::elimination_options{
      .width = 4, .exchange_spins = 16, .statistics = true, .force_exchange = true}>(data, size);
  return 0;
}
