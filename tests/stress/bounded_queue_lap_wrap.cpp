// The lap wrap of lockless::bounded_queue: a cell word keeps the lap modulo
// 2^min(44, 64 - ceil(log2 capacity)), and laps are compared as a signed difference in that
// width (the header's lap_diff()). This program is bounded_queue_lincheck.cpp's stress test
// (8 threads, every history checked for linearizability) with the test hook
// LOCKLESS_BOUNDED_QUEUE_LAP_BASE = 1: every cell and both hints start two laps below the
// wrap, so every capacity's laps wrap within the first rounds. The research prototype that
// compared laps as plain integers hung here at capacity 1 (a claim spun in its "stale
// word" branch once its cell's lap had wrapped to 0); at 23 M items/s that wrap comes after
// about 9 days of use. (8 rounds per capacity here instead of 32.)
// One more test, single-threaded: a capacity above 2^20 cells, where the ticket (64 bits:
// pos in the low ceil(log2 capacity) bits) leaves fewer than 44 bits of lap and the queue
// narrows its laps to match, goes round three laps across the wrap in FIFO order.
#define LOCKLESS_BOUNDED_QUEUE_LAP_BASE 1
#define LOCKLESS_BQ_LINCHECK_ROUNDS 8  // the laps wrap within the first rounds
#include "bounded_queue_lincheck.cpp"  // NOLINT(bugprone-suspicious-include)

namespace {

TEST(BoundedQueueLapWrap, NarrowLapsOfALargeRingWrapInOrder) {
  const std::size_t cap = (std::size_t{1} << 20) + 3;  // 21 bits of pos: 43 bits of lap
  lockless::bounded_queue<std::uint64_t> q(cap);
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int lap = 0; lap < 3; ++lap) {
    for (std::size_t i = 0; i < cap; ++i) {
      ASSERT_EQ(q.try_push(next_in), lockless::queue_status::success);
      ++next_in;
    }
    ASSERT_EQ(q.try_push(next_in), lockless::queue_status::full);
    for (std::size_t i = 0; i < cap; ++i) {
      auto r = q.try_pop();
      ASSERT_TRUE(r.has_value());
      ASSERT_EQ(*r, next_out);
      ++next_out;
    }
    ASSERT_EQ(q.try_pop().error(), lockless::queue_status::empty);
  }
}

}  // namespace
