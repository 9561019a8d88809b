// tests/structures/treiber_stack_stress.hpp: treiber_stack's stress runs, written once for
// every stack with its interface (treiber_stack, elimination_stack): used by
// tests/stress/treiber_stack.cpp and tests/stress/elimination_stack.cpp.
//
//   run_stress<Stack>(p, ops, make, check[, after])
//       p.threads threads (8 or 16 on a 2-core machine) push unique values make(v) and
//       pop concurrently, ops operations each, in bursts of one kind (mix: push-heavy,
//       pop-heavy, alternating, or one of those per thread), on a Stack with its own
//       epoch_domain; check(popped, value_out) reads a popped payload back and says
//       whether it is intact. Then the stack is drained and
//         popped + drained == pushed, as multisets (nothing lost, duplicated or invented),
//         values remaining in the stack come out newest-first per producer (a node never
//         moves once linked, and a later push of the same thread is above an earlier one:
//         one producer's values popped by one consumer after its pushes, in reverse order),
//         some pops succeeded and some values changed threads (the run exercised something),
//         after(stack) runs (a structure's own checks: statistics),
//         and the domain's barrier frees every retired node.
//   run_storm<Stack>(threads, moves)
//       a small stack (threads / 2 values) hammered by pop-then-push-back from every
//       thread: the set of values must survive intact, payloads destroyed exactly once.
//   mix, params, param_name, PrintTo: the parameters of a TEST_P over run_stress.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <lockless/epoch.hpp>

#include "structures/treiber_stack_ops.hpp"
#include "support/counting.hpp"
#include "support/stress.hpp"

namespace lockless::test {

enum class mix { push_heavy, pop_heavy, alternating, per_thread };

inline const char* mix_name(mix m) {
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
inline mix thread_mix(mix m, std::size_t thread) {
  if (m != mix::per_thread) return m;
  return static_cast<mix>(thread % 3);
}

// Threads work in bursts of 1..max_burst operations of one kind, so that one thread's pops
// overlap another's pushes for long enough to take values across threads (with single
// alternating operations a thread nearly always pops back its own last push).
inline constexpr std::uint64_t max_burst = 16;

// The operation of burst number `burst` of a thread running `m`: push or pop, in the
// stack's alphabet (structures/treiber_stack_ops.hpp).
inline treiber_stack_op burst_op(mix m, std::size_t burst, lockless_test::xorshift& rng) {
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

inline void PrintTo(const params& p, std::ostream* os) {
  *os << p.threads << " threads, " << mix_name(p.m);
}

inline std::string param_name(const testing::TestParamInfo<params>& info) {
  return std::string(mix_name(info.param.m)) + "_" + std::to_string(info.param.threads) + "Threads";
}

// Checks popped (from all threads) + drained against what was pushed; returns a
// description of every discrepancy, empty if none.
inline std::string check_conservation(const std::vector<thread_report>& reports,
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
inline std::string check_drain_order(const std::vector<std::uint64_t>& drained) {
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

struct no_after {
  template <class Stack>
  void operator()(Stack&) const noexcept {}
};

// The generic run: each thread pushes make(value) / pops value_of(popped).
template <class Stack, class Make, class Check, class After = no_after>
void run_stress(const params& p, std::size_t ops_per_thread, Make make, Check check,
                After after = {}) {
  using T = typename Stack::value_type;
  using lockless_test::xorshift;
  epoch_domain d;
  Stack s{epoch_reclaimer(d)};
  std::vector<thread_report> reports = lockless_test::run_threads(p.threads, [&](std::size_t t) {
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
  after(s);

  d.barrier();
  EXPECT_EQ(d.stats().retired_pending, 0u);
}

// A small stack hammered by pop-then-push-back from every thread: the head node changes
// constantly and freed nodes' addresses would be reused at once without reclamation, the
// classic setting for ABA and use-after-free. The set of values must survive intact.
// Each thread goes on until it has moved its quota, however often its pops find the
// stack empty (how often depends on preemption, so no bound on it is asserted): the work
// done is fixed, not a matter of scheduling. It ends, because a thread that pops a value
// pushes it straight back, and a thread left alone finds the values there.
// Stack holds counted<Tag> payloads; after(stack) runs once the threads are joined.
template <class Stack, class After = no_after>
void run_storm(std::size_t threads, std::size_t moves, After after = {}) {
  using V = typename Stack::value_type;
  V::counters().reset();
  const std::size_t values = threads / 2;  // fewer values than threads: pops find it empty too
  std::vector<std::uint64_t> all;
  {
    epoch_domain d;
    Stack s{epoch_reclaimer(d)};
    for (std::uint64_t i = 0; i < values; ++i) s.emplace(unique_value(99, i));
    lockless_test::run_threads(threads, [&](std::size_t) {
      for (std::size_t n = 0; n < moves;) {
        if (auto v = s.try_pop()) {
          s.push(std::move(*v));
          ++n;
        }
      }
    });
    after(s);
    while (auto v = s.try_pop()) all.push_back(v->value());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::uint64_t> expected;
  for (std::uint64_t i = 0; i < values; ++i) expected.push_back(unique_value(99, i));
  EXPECT_EQ(all, expected) << "threads " << threads;
  EXPECT_EQ(V::counters().live(), 0) << "threads " << threads;
  EXPECT_EQ(V::counters().errors.load(), 0) << "threads " << threads;
}

}  // namespace lockless::test
