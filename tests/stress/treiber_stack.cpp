// Stress tests of lockless::treiber_stack: 8 and 16 threads on a 2-core machine push
// unique values and pop concurrently (push-heavy, pop-heavy and alternating threads in
// the same run); afterwards the stack is drained and
//   popped + drained == pushed, as multisets (nothing lost, nothing duplicated),
//   values remaining in the stack come out newest-first per producer,
//   every payload object was destroyed exactly once (instance counter, canary),
// and, with heap payloads, nothing is touched after it was freed (ASan, canaries).
// The linearizability check of recorded histories is treiber_stack_lincheck.cpp.
#include <lockless/treiber_stack.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "support/counting.hpp"
#include "support/stress.hpp"
#include "structures/treiber_stack_ops.hpp"

namespace {

using lockless::epoch_domain;
using lockless::epoch_reclaimer;
using lockless::treiber_stack;
using lockless::test::treiber_stack_op;
using lockless::test::unique_value;
using lockless::test::value_seq;
using lockless::test::value_thread;
using lockless_test::checked_object;
using lockless_test::counted;
using lockless_test::run_threads;
using lockless_test::scaled;
using lockless_test::xorshift;

enum class mix { push_heavy, pop_heavy, alternating, per_thread };

const char* mix_name(mix m) {
  switch (m) {
    case mix::push_heavy:
      return "PushHeavy";
    case mix::pop_heavy:
      return "PopHeavy";
    case mix::alternating:
      return "Alternating";
    case mix::per_thread:
      return "MixedPerThread";
  }
  return "?";
}

// The mix one thread runs: per_thread gives each thread one of the three.
mix thread_mix(mix m, std::size_t thread) {
  if (m != mix::per_thread) return m;
  return static_cast<mix>(thread % 3);
}

// Threads work in bursts of 1..max_burst operations of one kind, so that one thread's pops
// overlap another's pushes for long enough to take values across threads (with single
// alternating operations a thread nearly always pops back its own last push).
constexpr std::uint64_t max_burst = 16;

// The operation of burst number `burst` of a thread running `m`: push or pop, in the
// stack's alphabet (structures/treiber_stack_ops.hpp).
treiber_stack_op burst_op(mix m, std::size_t burst, xorshift& rng) {
  bool push = true;
  switch (m) {
    case mix::push_heavy:
      push = rng.below(4) != 0;
      break;  // 75 %
    case mix::pop_heavy:
      push = rng.below(4) == 0;
      break;  // 25 %: many pops find it empty
    case mix::alternating:
      push = burst % 2 == 0;
      break;  // push k, pop k, push k', ...
    case mix::per_thread:
      break;
  }
  return push ? treiber_stack_op::push : treiber_stack_op::pop;
}

struct thread_report {
  std::uint64_t pushed = 0;           // values unique_value(t, 0 .. pushed-1)
  std::vector<std::uint64_t> popped;  // in pop order
  std::uint64_t empty_pops = 0;
  std::uint64_t bad_payloads = 0;  // payload failed its integrity check when popped
};

struct params {
  std::size_t threads;
  mix m;
};

void PrintTo(const params& p, std::ostream* os) {
  *os << p.threads << " threads, " << mix_name(p.m);
}

std::string param_name(const testing::TestParamInfo<params>& info) {
  return std::string(mix_name(info.param.m)) + "_" + std::to_string(info.param.threads) + "Threads";
}

// Checks popped (from all threads) + drained against what was pushed; returns a
// description of every discrepancy, empty if none.
std::string check_conservation(const std::vector<thread_report>& reports,
                               const std::vector<std::uint64_t>& drained) {
  std::vector<std::uint64_t> seen(drained);
  std::uint64_t expected_total = 0;
  for (const auto& r : reports) {
    seen.insert(seen.end(), r.popped.begin(), r.popped.end());
    expected_total += r.pushed;
  }
  std::sort(seen.begin(), seen.end());
  std::vector<std::uint64_t> expected;
  expected.reserve(expected_total);
  for (std::size_t t = 0; t < reports.size(); ++t) {
    for (std::uint64_t s = 0; s < reports[t].pushed; ++s) expected.push_back(unique_value(t, s));
  }
  std::sort(expected.begin(), expected.end());
  if (seen == expected) return {};

  std::vector<std::uint64_t> lost;
  std::vector<std::uint64_t> extra;  // duplicated or never pushed
  std::set_difference(expected.begin(), expected.end(), seen.begin(), seen.end(),
                      std::back_inserter(lost));
  std::set_difference(seen.begin(), seen.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  std::ostringstream os;
  os << "pushed " << expected.size() << ", popped+drained " << seen.size() << "; lost "
     << lost.size() << ", duplicated or unknown " << extra.size() << ".";
  for (std::size_t i = 0; i < lost.size() && i < 5; ++i) {
    os << " lost t" << value_thread(lost[i]) << "#" << value_seq(lost[i]);
  }
  for (std::size_t i = 0; i < extra.size() && i < 5; ++i) {
    os << " extra t" << value_thread(extra[i]) << "#" << value_seq(extra[i]);
  }
  return os.str();
}

// Values left in the stack after the join: per producer, newest first (a node never
// moves once linked, and a later push of the same thread is above an earlier one).
std::string check_drain_order(const std::vector<std::uint64_t>& drained) {
  std::vector<std::uint64_t> last_seq;
  std::vector<bool> seen_thread;
  for (std::uint64_t v : drained) {
    const std::uint64_t t = value_thread(v);
    if (t >= last_seq.size()) {
      last_seq.resize(t + 1);
      seen_thread.resize(t + 1, false);
    }
    if (seen_thread[t] && value_seq(v) >= last_seq[t]) {
      std::ostringstream os;
      os << "drain order: t" << t << "#" << value_seq(v) << " came after t" << t << "#"
         << last_seq[t];
      return os.str();
    }
    seen_thread[t] = true;
    last_seq[t] = value_seq(v);
  }
  return {};
}

// The generic run: each thread pushes make(value) / pops value_of(popped).
template <class T, class Make, class Check>
void run_stress(const params& p, std::size_t ops_per_thread, Make make, Check check) {
  epoch_domain d;
  treiber_stack<T> s{epoch_reclaimer(d)};
  std::vector<thread_report> reports = run_threads(p.threads, [&](std::size_t t) {
    thread_report r;
    r.popped.reserve(ops_per_thread);
    xorshift rng(t + 1);
    const mix m = thread_mix(p.m, t);
    std::size_t op = 0;
    std::uint64_t burst_length = 0;
    for (std::size_t burst = 0; op < ops_per_thread; ++burst) {
      if (m != mix::alternating || burst % 2 == 0) burst_length = 1 + rng.below(max_burst);
      const treiber_stack_op o = burst_op(m, burst, rng);
      for (std::uint64_t k = 0; k < burst_length && op < ops_per_thread; ++k, ++op) {
        if (o == treiber_stack_op::push) {
          s.push(make(unique_value(t, r.pushed)));
          ++r.pushed;
        } else if (std::optional<T> v = s.try_pop()) {
          std::uint64_t value = 0;
          if (!check(*v, value)) ++r.bad_payloads;
          r.popped.push_back(value);
        } else {
          ++r.empty_pops;
        }
      }
    }
    return r;
  });

  std::vector<std::uint64_t> drained;
  std::uint64_t bad_drained = 0;
  while (std::optional<T> v = s.try_pop()) {
    std::uint64_t value = 0;
    if (!check(*v, value)) ++bad_drained;
    drained.push_back(value);
  }
  EXPECT_TRUE(s.was_empty());

  std::uint64_t bad = bad_drained;
  std::uint64_t pops = 0;
  std::uint64_t cross_pops = 0;  // values popped by a thread other than their producer
  for (std::size_t t = 0; t < reports.size(); ++t) {
    bad += reports[t].bad_payloads;
    pops += reports[t].popped.size();
    for (std::uint64_t v : reports[t].popped) cross_pops += value_thread(v) != t ? 1 : 0;
  }
  EXPECT_EQ(bad, 0u) << "payloads failed their integrity check";
  EXPECT_EQ(check_conservation(reports, drained), "");
  EXPECT_EQ(check_drain_order(drained), "");
  EXPECT_GT(pops, 0u) << "no concurrent pop succeeded: the test exercised nothing";
  EXPECT_GT(cross_pops, 0u) << "no value changed threads: the threads never interleaved";
  testing::Test::RecordProperty("cross_thread_pops", std::to_string(cross_pops));

  d.barrier();
  EXPECT_EQ(d.stats().retired_pending, 0u);
}

class TreiberStress : public testing::TestWithParam<params> {};

struct counted_tag {};
TEST_P(TreiberStress, CountedPayloadsNothingLostNothingDuplicated) {
  using V = counted<counted_tag>;
  V::counters().reset();
  const std::size_t ops = scaled(500'000, 2'000) * 8 / GetParam().threads;
  run_stress<V>(
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
  run_stress<P>(
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
                         param_name);

// A small stack hammered by pop-then-push-back from every thread: the head node changes
// constantly and freed nodes' addresses would be reused at once without reclamation, the
// classic setting for ABA and use-after-free. The set of values must survive intact.
// Each thread goes on until it has moved its quota, however often its pops find the
// stack empty (how often depends on preemption, so no bound on it is asserted): the work
// done is fixed, not a matter of scheduling. It ends, because a thread that pops a value
// pushes it straight back, and a thread left alone finds the values there.
struct storm_tag {};
TEST(TreiberStressStorm, PopPushBackOnASmallStack) {
  using V = counted<storm_tag>;
  V::counters().reset();
  for (const std::size_t threads : {std::size_t{8}, std::size_t{16}}) {
    const std::size_t values = threads / 2;  // fewer values than threads: pops find it empty too
    const std::size_t moves = scaled(100'000, 1'000) * 8 / threads;
    std::vector<std::uint64_t> all;
    {
      epoch_domain d;
      treiber_stack<V> s{epoch_reclaimer(d)};
      for (std::uint64_t i = 0; i < values; ++i) s.emplace(unique_value(99, i));
      run_threads(threads, [&](std::size_t) {
        for (std::size_t n = 0; n < moves;) {
          if (auto v = s.try_pop()) {
            s.push(std::move(*v));
            ++n;
          }
        }
      });
      while (auto v = s.try_pop()) all.push_back(v->value());
    }
    std::sort(all.begin(), all.end());
    std::vector<std::uint64_t> expected;
    for (std::uint64_t i = 0; i < values; ++i) expected.push_back(unique_value(99, i));
    EXPECT_EQ(all, expected) << "threads " << threads;
    EXPECT_EQ(V::counters().live(), 0) << "threads " << threads;
    EXPECT_EQ(V::counters().errors.load(), 0) << "threads " << threads;
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
