// Stress tests of lockless::treiber_stack: 8 and 16 threads on a 2-core machine push
// unique values and pop concurrently (push-heavy, pop-heavy and alternating threads in
// the same run); afterwards the stack is drained and
//   popped + drained == pushed, as multisets (nothing lost, nothing duplicated),
//   values remaining in the stack come out newest-first per producer,
//   every payload object was destroyed exactly once (instance counter, canary),
// and, with heap payloads, nothing is touched after it was freed (ASan, canaries).
// The runs are structures/treiber_stack_stress.hpp's (shared with elimination_stack).
// The linearizability check of recorded histories is treiber_stack_lincheck.cpp.
#include <lockless/treiber_stack.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "structures/treiber_stack_stress.hpp"
#include "support/counting.hpp"
#include "support/stress.hpp"

namespace {

using lockless::epoch_domain;
using lockless::epoch_reclaimer;
using lockless::treiber_stack;
using lockless::test::mix;
using lockless::test::params;
using lockless::test::run_stress;
using lockless::test::unique_value;
using lockless_test::checked_object;
using lockless_test::counted;
using lockless_test::run_threads;
using lockless_test::scaled;
using lockless_test::xorshift;

class TreiberStress : public testing::TestWithParam<params> {};

struct counted_tag {};
TEST_P(TreiberStress, CountedPayloadsNothingLostNothingDuplicated) {
  using V = counted<counted_tag>;
  V::counters().reset();
  const std::size_t ops = scaled(500'000, 2'000) * 8 / GetParam().threads;
  run_stress<treiber_stack<V>>(
      GetParam(), ops, [](std::uint64_t v) { return V(v); },
      [](const V& v, std::uint64_t& out) {
        out = v.value();
        return v.alive();
      });
  EXPECT_EQ(V::counters().live(), 0) << "every payload destroyed once stack and domain are done";
  EXPECT_EQ(V::counters().constructions.load(), V::counters().destructions.load());
  EXPECT_EQ(V::counters().errors.load(), 0) << "double destruction or use after destruction";
}

TEST_P(TreiberStress, HeapPayloadsNeverUsedAfterFree) {
  // Each value owns a heap object: a pop that returned a node someone else freed, or a
  // payload moved out twice, shows up as an ASan report or a failed canary/checksum.
  using P = std::unique_ptr<checked_object>;
  const std::size_t ops = scaled(300'000, 2'000) * 8 / GetParam().threads;
  run_stress<treiber_stack<P>>(
      GetParam(), ops, [](std::uint64_t v) { return std::make_unique<checked_object>(v); },
      [](const P& p, std::uint64_t& out) {
        if (p == nullptr) return false;
        out = p->id;
        return p->valid();
      });
}

INSTANTIATE_TEST_SUITE_P(Mixes, TreiberStress,
                         testing::Values(params{8, mix::per_thread}, params{16, mix::per_thread},
                                         params{8, mix::push_heavy}, params{8, mix::pop_heavy},
                                         params{16, mix::alternating}),
                         lockless::test::param_name);

struct storm_tag {};
TEST(TreiberStressStorm, PopPushBackOnASmallStack) {
  for (const std::size_t threads : {std::size_t{8}, std::size_t{16}}) {
    lockless::test::run_storm<treiber_stack<counted<storm_tag>>>(
        threads, scaled(100'000, 1'000) * 8 / threads);
  }
}

TEST(TreiberStressShared, SeveralStacksShareOneDomain) {
  // Two stacks on one domain, threads moving values from one to the other: a value is in
  // exactly one place at the end, and the shared domain reclaims both stacks' nodes.
  using V = counted<struct shared_domain_tag>;
  V::counters().reset();
  const std::size_t threads = 8;
  const std::size_t per_thread = scaled(60'000, 500);
  {
    epoch_domain d;
    treiber_stack<V> a{epoch_reclaimer(d)};
    treiber_stack<V> b{epoch_reclaimer(d)};
    for (std::size_t t = 0; t < threads; ++t) {
      for (std::uint64_t i = 0; i < per_thread; ++i) a.emplace(unique_value(t, i));
    }
    run_threads(threads, [&](std::size_t t) {
      xorshift rng(t + 7);
      for (std::size_t i = 0; i < 2 * per_thread; ++i) {
        treiber_stack<V>& from = rng.below(2) == 0 ? a : b;
        treiber_stack<V>& to = &from == &a ? b : a;
        if (auto v = from.try_pop()) to.push(std::move(*v));
      }
    });
    std::vector<std::uint64_t> all;
    while (auto v = a.try_pop()) all.push_back(v->value());
    while (auto v = b.try_pop()) all.push_back(v->value());
    std::sort(all.begin(), all.end());
    std::vector<std::uint64_t> expected;
    for (std::size_t t = 0; t < threads; ++t) {
      for (std::uint64_t i = 0; i < per_thread; ++i) expected.push_back(unique_value(t, i));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_TRUE(all == expected) << "values lost or duplicated moving between stacks: "
                                 << all.size() << " vs " << expected.size();
  }
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

}  // namespace
