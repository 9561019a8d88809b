// Stress tests of lockless::elimination_stack: treiber_stack's stress runs
// (structures/treiber_stack_stress.hpp) on elimination stacks, with default options and
// with the test mode that forces every operation through the exchanger first
// (force_exchange, statistics on). 8 and 16 threads on a 2-core machine push unique values
// and pop concurrently; afterwards the stack is drained and
//   popped + drained == pushed, as multisets (nothing lost, duplicated or invented),
//   values remaining in the stack come out newest-first per producer,
//   every payload object was destroyed exactly once (instance counter, canary): a value
//   handed over in the exchanger as much as one popped from the central stack,
//   the domain's barrier frees every retired node (and ASan's leak check, at exit, that
//   every handed node, freed at once rather than retired, was freed),
//   with force_exchange, stats() counted eliminated pairs: the exchanger really ran,
// and, with heap payloads, nothing is touched after it was freed (ASan, canaries).
// The linearizability check of recorded histories is elimination_stack_lincheck.cpp.
#include <lockless/elimination_stack.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "structures/treiber_stack_stress.hpp"
#include "support/counting.hpp"
#include "support/stress.hpp"

namespace {

using lockless::elimination_options;
using lockless::elimination_stack;
using lockless::epoch_reclaimer;
using lockless::test::mix;
using lockless::test::params;
using lockless::test::run_storm;
using lockless::test::run_stress;
using lockless_test::checked_object;
using lockless_test::counted;
using lockless_test::scaled;

constexpr elimination_options forced{.statistics = true, .force_exchange = true};

template <class T>
using default_stack = elimination_stack<T>;
template <class T>
using forced_stack = elimination_stack<T, epoch_reclaimer, forced>;

// After a forced run: pairs were eliminated (every operation went to the exchanger
// first, so with 8+ threads some met), and the range stayed within [1, width].
struct expect_eliminations {
  template <class S>
  void operator()(S& s) const {
    const lockless::elimination_stack_stats st = s.stats();
    EXPECT_GT(st.eliminated_pairs, 0u) << "force_exchange, yet no push met a pop";
    EXPECT_GE(st.range, 1u);
    EXPECT_LE(st.range, S::options.width);
    EXPECT_EQ(s.range(), st.range);
    testing::Test::RecordProperty("eliminated_pairs", std::to_string(st.eliminated_pairs));
    testing::Test::RecordProperty("central_cas_failures", std::to_string(st.central_cas_failures));
  }
};
// After a default run: the range hint stayed within [1, width].
struct expect_range_in_bounds {
  template <class S>
  void operator()(S& s) const {
    EXPECT_GE(s.range(), 1u);
    EXPECT_LE(s.range(), S::options.width);
  }
};

// Payloads: counted (exactly-once destruction) and heap-owning (use after free).
template <class Tag>
struct counted_payload {
  using V = counted<Tag>;
  static V make(std::uint64_t v) { return V(v); }
  static bool check(const V& v, std::uint64_t& out) {
    out = v.value();
    return v.alive();
  }
  static void reset() { V::counters().reset(); }
  static void expect_all_destroyed_once() {
    EXPECT_EQ(V::counters().live(), 0) << "every payload destroyed once stack and domain are done";
    EXPECT_EQ(V::counters().constructions.load(), V::counters().destructions.load());
    EXPECT_EQ(V::counters().errors.load(), 0) << "double destruction or use after destruction";
  }
};
struct heap_payload {
  using V = std::unique_ptr<checked_object>;
  static V make(std::uint64_t v) { return std::make_unique<checked_object>(v); }
  static bool check(const V& p, std::uint64_t& out) {
    if (p == nullptr) return false;
    out = p->id;
    return p->valid();
  }
  static void reset() {}
  static void expect_all_destroyed_once() {}  // ASan: leaks and uses after free
};

template <template <class> class Stack, class Payload, class After>
void run(const params& p, std::size_t ops_per_thread, After after) {
  Payload::reset();
  run_stress<Stack<typename Payload::V>>(p, ops_per_thread, &Payload::make, &Payload::check, after);
  Payload::expect_all_destroyed_once();
}

class EliminationStress : public testing::TestWithParam<params> {
 protected:
  // Operations per thread: the default options run at treiber_stack's speed; a forced
  // operation waits in the exchanger (yields), so forced runs do fewer.
  static std::size_t default_ops() { return scaled(150'000, 2'000) * 8 / GetParam().threads; }
  static std::size_t forced_ops() { return scaled(12'000, 500) * 8 / GetParam().threads; }
};

TEST_P(EliminationStress, DefaultOptionsCountedPayloadsNothingLostNothingDuplicated) {
  run<default_stack, counted_payload<struct default_counted_tag>>(GetParam(), default_ops(),
                                                                  expect_range_in_bounds{});
}

TEST_P(EliminationStress, DefaultOptionsHeapPayloadsNeverUsedAfterFree) {
  run<default_stack, heap_payload>(GetParam(), default_ops(), expect_range_in_bounds{});
}

TEST_P(EliminationStress, ForcedExchangeCountedPayloadsNothingLostNothingDuplicated) {
  run<forced_stack, counted_payload<struct forced_counted_tag>>(GetParam(), forced_ops(),
                                                                expect_eliminations{});
}

TEST_P(EliminationStress, ForcedExchangeHeapPayloadsNeverUsedAfterFree) {
  run<forced_stack, heap_payload>(GetParam(), forced_ops(), expect_eliminations{});
}

INSTANTIATE_TEST_SUITE_P(Mixes, EliminationStress,
                         testing::Values(params{8, mix::per_thread}, params{16, mix::alternating}),
                         lockless::test::param_name);

// Pop-then-push-back on a small stack (structures/treiber_stack_stress.hpp): with
// force_exchange a push-back often goes straight to a waiting pop.
TEST(EliminationStressStorm, PopPushBackOnASmallStack) {
  run_storm<default_stack<counted<struct storm_default_tag>>>(8, scaled(60'000, 1'000),
                                                              expect_range_in_bounds{});
  run_storm<forced_stack<counted<struct storm_forced_tag>>>(8, scaled(4'000, 200),
                                                            expect_eliminations{});
}

}  // namespace
