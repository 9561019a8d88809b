// Unit tests of the history recorder and builder (tests/support/history.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "support/history.hpp"
#include "support/lincheck/common.hpp"
#include "support/sanitizers.hpp"
#include "support/stress.hpp"

namespace {

using lockless::test::history;
using lockless::test::history_builder;
using lockless::test::op_kind;
using lockless::test::op_result;
using lockless::test::op_status;
using lockless::test::operation;
using lockless::test::recorder;
using lockless::test::stamp_source;
using lockless::test::unique_value;
using lockless::test::value_seq;
using lockless::test::value_thread;

enum class fake_status { success, empty, full, closed };  // P0260-shaped

TEST(LincheckHistory, UniqueValueIsUniqueAndPrintable) {
  EXPECT_NE(unique_value(1, 5), unique_value(2, 5));
  EXPECT_NE(unique_value(1, 5), unique_value(1, 6));
  EXPECT_EQ(unique_value(3, 17), std::uint64_t{3} << 40 | 17);
  EXPECT_EQ(value_thread(unique_value(3, 17)), 3u);
  EXPECT_EQ(value_seq(unique_value(3, 17)), 17u);
  EXPECT_EQ(lockless::test::format_value(unique_value(3, 17)), "3:17");
  EXPECT_EQ(lockless::test::format_value(42), "42");
}

TEST(LincheckHistory, RecordConvertsResults) {
  recorder rec(1, 16);
  rec.record(0, op_kind::push, 7, [] {});
  const bool pushed = rec.record(0, op_kind::enqueue, 8, [] { return false; });
  EXPECT_FALSE(pushed);
  const auto got = rec.record(0, op_kind::pop, 0, [] { return std::optional<int>(7); });
  EXPECT_EQ(got, std::optional<int>(7));
  rec.record(0, op_kind::dequeue, 0, [] { return std::optional<std::uint64_t>{}; });
  rec.record(0, op_kind::dequeue, 0, [] { return op_result::from_status(fake_status::closed, 0); });
  rec.record(0, op_kind::dequeue, 0,
             [] { return op_result::from_status(fake_status::success, 9); });
  rec.record(0, op_kind::enqueue, 10, [] { return fake_status::full; });
  rec.record(0, op_kind::close, 0, [] {});
  const history h = rec.merged();
  ASSERT_EQ(h.size(), 8u);
  EXPECT_EQ(h.validate(), "");
  EXPECT_EQ(h.ops[0].result, op_result::ok());
  EXPECT_EQ(h.ops[0].arg, 7u);
  EXPECT_EQ(h.ops[1].result, op_result::full());
  EXPECT_EQ(h.ops[2].result, op_result::of(7));
  EXPECT_EQ(h.ops[2].arg, 0u);  // removes carry no argument
  EXPECT_EQ(h.ops[3].result, op_result::empty());
  EXPECT_EQ(h.ops[4].result, op_result::closed());
  EXPECT_EQ(h.ops[5].result, op_result::of(9));
  EXPECT_EQ(h.ops[6].result, op_result::full());
  EXPECT_EQ(h.ops[7].kind, op_kind::close);
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(h.ops[i].seq, i);
}

TEST(LincheckHistory, CounterStampsBracketTheCall) {
  recorder rec(1, 4);
  std::uint64_t inside = 0;
  rec.record(0, op_kind::push, 1, [&] { inside = rec.stamp(); });
  const history h = rec.merged();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_LT(h.ops[0].call, inside);
  EXPECT_LT(inside, h.ops[0].ret);
}

// 8 threads, both stamp sources: per-thread program order strict, merged sorted by call,
// nothing lost, and an operation that returned before another was called (as observed
// through a mutex-protected log) precedes it in the stamps.
void concurrent_recording(stamp_source src) {
  constexpr std::size_t threads = 8;
  const std::size_t per = lockless_test::scaled(2000);
  recorder rec(threads, per, src);
  std::mutex m;
  std::vector<std::uint64_t> order;  // values in the order the critical sections ran
  order.reserve(threads * per);
  lockless_test::run_threads(threads, [&](std::size_t t) {
    for (std::size_t i = 0; i < per; ++i) {
      const std::uint64_t v = unique_value(t, i);
      rec.record(t, op_kind::push, v, [&] {
        std::lock_guard<std::mutex> g(m);
        order.push_back(v);
      });
    }
  });
  const history h = rec.merged();
  ASSERT_EQ(h.size(), threads * per);
  EXPECT_EQ(h.validate(), "");
  for (std::size_t i = 1; i < h.size(); ++i) EXPECT_LE(h.ops[i - 1].call, h.ops[i].call);
  std::set<std::uint64_t> seen;
  for (const operation& op : h.ops) seen.insert(op.arg);
  EXPECT_EQ(seen.size(), h.size());
  // Real-time order is sound: if a precedes b in the stamps, a's critical section ran first.
  std::vector<std::size_t> pos_in_order(threads * per);
  for (std::size_t k = 0; k < order.size(); ++k) {
    pos_in_order[value_thread(order[k]) * per + value_seq(order[k])] = k;
  }
  std::size_t checked = 0;
  for (std::size_t i = 0; i + 1 < h.size(); ++i) {
    const operation& a = h.ops[i];
    for (std::size_t j = i + 1; j < h.size() && j < i + 64; ++j) {
      const operation& b = h.ops[j];
      if (!lockless::test::precedes(a, b)) continue;
      ++checked;
      const auto pa = pos_in_order[value_thread(a.arg) * per + value_seq(a.arg)];
      const auto pb = pos_in_order[value_thread(b.arg) * per + value_seq(b.arg)];
      ASSERT_LT(pa, pb) << lockless::test::format_operation(a) << " / "
                        << lockless::test::format_operation(b);
    }
  }
  EXPECT_GT(checked, 0u);
  rec.clear();
  EXPECT_EQ(rec.merged().size(), 0u);
}

TEST(LincheckHistory, ConcurrentRecordingCounter) {
  concurrent_recording(stamp_source::counter);
}
TEST(LincheckHistory, ConcurrentRecordingSteadyClock) {
  concurrent_recording(stamp_source::steady_clock);
}

TEST(LincheckHistory, BuilderNumbersSortsAndValidates) {
  const history h = history_builder{}
                        .push(1, 10, 5, 6)
                        .push(0, 11, 0, 3)
                        .pop(0, 10, 7, 9)
                        .pop_empty(1, 8, 12)
                        .build();
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.threads, 2u);
  EXPECT_EQ(h.ops[0].thread, 0u);
  EXPECT_EQ(h.ops[0].seq, 0u);
  EXPECT_EQ(h.ops[2].thread, 0u);
  EXPECT_EQ(h.ops[2].seq, 1u);
  EXPECT_EQ(h.ops[3].result, op_result::empty());
  EXPECT_NE(h.to_string().find("T0 #1  pop() -> 10"), std::string::npos) << h.to_string();
}

TEST(LincheckHistory, BuilderRejectsMalformedHistories) {
  // two operations of one thread overlap
  EXPECT_THROW((void)history_builder{}.push(0, 1, 0, 5).pop(0, 1, 3, 8).build(),
               std::invalid_argument);
  // call after return
  EXPECT_THROW((void)history_builder{}.push(0, 1, 5, 4).build(), std::invalid_argument);
  // a result that does not fit the operation
  EXPECT_THROW((void)history_builder{}.add(0, op_kind::push, 1, op_result::empty(), 0, 1).build(),
               std::invalid_argument);
  EXPECT_THROW((void)history_builder{}.add(0, op_kind::pop, 0, op_result::full(), 0, 1).build(),
               std::invalid_argument);
  // adjacent stamps are fine (ret < next call)
  EXPECT_NO_THROW((void)history_builder{}.push(0, 1, 0, 1).pop(0, 1, 2, 3).build());
  // sharing a stamp within a thread is not
  EXPECT_THROW((void)history_builder{}.push(0, 1, 0, 1).pop(0, 1, 1, 3).build(),
               std::invalid_argument);
}

}  // namespace
