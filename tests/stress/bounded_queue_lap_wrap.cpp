// The lap wrap of lockless::bounded_queue. Tickets are plain 62-bit counters (they do not
// wrap within 2^62 operations, GUARANTEES), but a cell's record keeps the lap of the
// operation it is about modulo 2^44 and compares laps as a signed difference in that width
// (the header's clap_diff()). This program is bounded_queue_lincheck.cpp's stress test (8
// threads, every history checked for linearizability) with the test hook
// LOCKLESS_BOUNDED_QUEUE_LAP_BASE = 1: every cell and both counters start two laps below
// that wrap, so the records of every small capacity wrap within the first rounds.
// (8 rounds per capacity here instead of 32.)
// One more test, single-threaded: a capacity above 2^20 cells, where a ticket (62 bits:
// pos in the low ceil(log2 capacity) bits) has fewer than 44 bits of lap, starts 64 laps
// below the top of the ticket range and goes round three laps in FIFO order.
#define LOCKLESS_BOUNDED_QUEUE_LAP_BASE 1
#define LOCKLESS_BQ_LINCHECK_ROUNDS 8  // the laps wrap within the first rounds
#include "bounded_queue_lincheck.cpp"  // NOLINT(bugprone-suspicious-include)

namespace {

TEST(BoundedQueueLapWrap, LargeRingNearTheTicketLimitInOrder) {
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
