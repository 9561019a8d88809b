// Unit tests of lockless::unbounded_queue's element types: move-only T (std::unique_ptr,
// a counted move-only type), T without a default constructor, over-aligned and large T,
// a T whose copy constructor throws on demand (the strong guarantee at every position in
// a segment and on the push that links a new segment: queue unchanged, argument intact,
// later pushes and pops still FIFO), every constructed element destroyed exactly once
// (popped, refused, or left in the queue at destruction across several segments), and
// the global allocator: std::bad_alloc for a new segment leaves the queue unchanged and
// the argument intact; no allocation per element.
//
// Allocators (a counting allocator), segment turnover and memory after a burst:
// unbounded_queue_memory.cpp.
#include <lockless/unbounded_queue.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/alloc_failure.hpp"  // replaces operator new/delete in this executable
#include "support/counting.hpp"

namespace {

using lockless::epoch_reclaimer;
using lockless::queue_status;
using lockless::unbounded_queue;
using lockless::unbounded_queue_options;
using lockless_test::counted;
using lockless_test::fail_nth_allocation;
using lockless_test::injected_error;
using lockless_test::move_only;
using lockless_test::throw_on_nth_construction;
using lockless_test::throwing;

using std::chrono::milliseconds;

template <class T, std::size_t S, std::size_t Cached = 2>
using queue_with =
    unbounded_queue<T, epoch_reclaimer, std::allocator<T>,
                    unbounded_queue_options{.segment_size = S, .cached_segments = Cached}>;

// Pops everything and returns the values.
template <class Q>
std::vector<std::uint64_t> drain_values(Q& q) {
  std::vector<std::uint64_t> out;
  while (auto r = q.try_pop()) out.push_back(r->value());
  return out;
}

// ---- move-only T -----------------------------------------------------------------------

TEST(UnboundedQueueTypes, UniquePtrThroughEveryForm) {
  queue_with<std::unique_ptr<int>, 2> q;
  auto one = std::make_unique<int>(1);
  int* one_raw = one.get();
  EXPECT_EQ(q.try_push(std::move(one)), queue_status::success);
  EXPECT_EQ(one, nullptr);
  EXPECT_EQ(q.try_emplace(new int(2)), queue_status::success);
  auto three = std::make_unique<int>(3);
  EXPECT_TRUE(q.push(std::move(three)));  // links the second segment
  EXPECT_EQ(three, nullptr);
  EXPECT_TRUE(q.emplace(new int(4)));
  EXPECT_EQ(q.push_for(std::make_unique<int>(5), milliseconds(1)), queue_status::success);
  EXPECT_EQ(q.push_until(std::make_unique<int>(6), std::chrono::steady_clock::now()),
            queue_status::success);

  auto r = q.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get(), one_raw);
  std::optional<std::unique_ptr<int>> two = q.pop();
  ASSERT_TRUE(two);
  EXPECT_EQ(**two, 2);
  auto t3 = q.pop_for(milliseconds(1));
  ASSERT_TRUE(t3);
  EXPECT_EQ(**t3, 3);
  std::vector<std::unique_ptr<int>> out;
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 5), 3u);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(*out[0], 4);
  EXPECT_EQ(*out[1], 5);
  EXPECT_EQ(*out[2], 6);
}

struct move_only_tag {};
TEST(UnboundedQueueTypes, MoveOnlyCountedDestroyedExactlyOnceAndUntouchedWhenClosed) {
  using V = move_only<move_only_tag>;
  V::counters().reset();
  {
    queue_with<V, 2> q;
    for (std::uint64_t lap = 0; lap < 50; ++lap) {
      V a(lap);
      ASSERT_EQ(q.try_push(std::move(a)), queue_status::success);
      EXPECT_EQ(a.value(), V::moved_from);
      ASSERT_EQ(q.try_emplace(lap + 1000), queue_status::success);
      ASSERT_TRUE(q.push(V(lap + 2000)));
      EXPECT_EQ(q.try_pop()->value(), lap);
      EXPECT_EQ(q.try_pop()->value(), lap + 1000);
      EXPECT_EQ(q.try_pop()->value(), lap + 2000);
    }
    ASSERT_EQ(q.try_emplace(1u), queue_status::success);
    ASSERT_EQ(q.try_emplace(2u), queue_status::success);
    ASSERT_EQ(q.try_emplace(3u), queue_status::success);
    q.close();
    V refused(7);
    EXPECT_EQ(q.try_push(std::move(refused)), queue_status::closed);
    EXPECT_EQ(refused.value(), 7u) << "a refused T&& is not moved from";
    EXPECT_FALSE(q.push(std::move(refused)));
    EXPECT_EQ(refused.value(), 7u);
    EXPECT_EQ(q.push_for(std::move(refused), milliseconds(1)), queue_status::closed);
    EXPECT_EQ(refused.value(), 7u);
    EXPECT_EQ(q.push_until(std::move(refused), std::chrono::steady_clock::now()),
              queue_status::closed);
    EXPECT_EQ(refused.value(), 7u);
    EXPECT_FALSE(q.emplace(8u));
    EXPECT_EQ(V::counters().live(), 4) << "three queued and `refused`; the refused emplace "
                                          "left nothing behind";
    EXPECT_EQ(q.try_pop()->value(), 1u);
  }
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

// ---- destructors --------------------------------------------------------------------------

// Elements left in the queue at its destruction are destroyed exactly once, wherever they
// sit: several segments, a head segment partly popped, a full last segment, a closed
// (sealed) queue.
struct left_tag {};
template <std::size_t S>
void check_left_at_destruction() {
  using V = counted<left_tag>;
  for (std::size_t popped_first : {std::size_t{0}, std::size_t{1}, S, S + 1, 3 * S}) {
    for (std::size_t left : {std::size_t{0}, std::size_t{1}, S - 1, S, S + 1, 4 * S + 1}) {
      for (bool close : {false, true}) {
        V::counters().reset();
        {
          queue_with<V, S> q;
          for (std::size_t i = 0; i < popped_first; ++i) {
            ASSERT_EQ(q.try_emplace(i), queue_status::success);
          }
          for (std::size_t i = 0; i < popped_first; ++i) ASSERT_EQ(q.try_pop()->value(), i);
          for (std::size_t i = 0; i < left; ++i) ASSERT_EQ(q.try_emplace(i), queue_status::success);
          if (close) {
            q.close();
            if (left == 0) {
              EXPECT_EQ(q.try_pop().error(), queue_status::closed);  // seals
            }
          }
          EXPECT_EQ(V::counters().live(), static_cast<long>(left));
        }
        EXPECT_EQ(V::counters().live(), 0)
            << "S " << S << ", popped " << popped_first << ", left " << left << ", close " << close;
        EXPECT_EQ(V::counters().errors.load(), 0);
      }
    }
  }
}

TEST(UnboundedQueueTypes, DestructorDestroysElementsLeftAcrossSegmentsExactlyOnce) {
  check_left_at_destruction<2>();
  check_left_at_destruction<3>();
  check_left_at_destruction<8>();
}

struct popped_tag {};
TEST(UnboundedQueueTypes, PopLeavesNoObjectBehind) {
  using V = counted<popped_tag>;
  V::counters().reset();
  {
    queue_with<V, 2> q;
    for (std::uint64_t i = 0; i < 9; ++i) {
      ASSERT_EQ(q.try_emplace(i), queue_status::success);
      EXPECT_EQ(V::counters().live(), 1);
      {
        auto r = q.try_pop();
        ASSERT_TRUE(r);
        EXPECT_EQ(V::counters().live(), 1) << "the cell's object is destroyed after the move";
      }
      EXPECT_EQ(V::counters().live(), 0);
    }
    ASSERT_TRUE(q.push(V(2)));
    {
      std::optional<V> v = q.pop();
      ASSERT_TRUE(v);
      EXPECT_EQ(v->value(), 2u);
      EXPECT_EQ(V::counters().live(), 1);
    }
    EXPECT_EQ(V::counters().live(), 0);
  }
  EXPECT_EQ(V::counters().errors.load(), 0);
}

// ---- throwing constructors: the strong guarantee -----------------------------------------

struct throw_tag {};
using T_throw = throwing<throw_tag>;

// With k = 0 .. 3S elements queued (so the failing push lands at every cell position, on
// the push that must link a new segment, and behind popped cells), every form throws once
// per round: the queue holds what it held, the argument is intact, and a later push and
// the pops are still FIFO.
template <std::size_t S, std::size_t Cached>
void check_throwing_copy() {
  for (std::size_t popped = 0; popped <= S; ++popped) {
    for (std::size_t k = 0; k <= 3 * S; ++k) {
      T_throw::counters().reset();
      {
        queue_with<T_throw, S, Cached> q;
        for (std::size_t i = 0; i < popped; ++i)
          ASSERT_EQ(q.try_emplace(i + 500), queue_status::success);
        for (std::size_t i = 0; i < popped; ++i) ASSERT_EQ(q.try_pop()->value(), i + 500);
        for (std::size_t i = 0; i < k; ++i) ASSERT_EQ(q.try_emplace(i), queue_status::success);
        const T_throw arg(77);
        {
          throw_on_nth_construction arm(1);
          EXPECT_THROW((void)q.try_push(arg), injected_error);
        }
        {
          throw_on_nth_construction arm(1);
          EXPECT_THROW((void)q.try_emplace(std::uint64_t{5}, std::uint64_t{6}), injected_error);
        }
        {
          throw_on_nth_construction arm(1);
          EXPECT_THROW((void)q.push(arg), injected_error);
        }
        {
          throw_on_nth_construction arm(1);
          EXPECT_THROW((void)q.emplace(std::uint64_t{5}), injected_error);
        }
        {
          throw_on_nth_construction arm(1);
          EXPECT_THROW((void)q.push_for(arg, milliseconds(20)), injected_error);
        }
        {
          throw_on_nth_construction arm(1);
          EXPECT_THROW((void)q.push_until(arg, std::chrono::steady_clock::now() + milliseconds(20)),
                       injected_error);
        }
        EXPECT_EQ(arg.value(), 77u) << "the argument is intact";
        EXPECT_EQ(T_throw::counters().live(), static_cast<long>(k + 1))
            << "nothing built by a failed push survives";
        // A push that succeeds after the failures, then everything in order.
        ASSERT_EQ(q.try_push(arg), queue_status::success);
        ASSERT_EQ(q.try_emplace(std::uint64_t{78}), queue_status::success);
        std::vector<std::uint64_t> expect;
        for (std::size_t i = 0; i < k; ++i) expect.push_back(i);
        expect.push_back(77);
        expect.push_back(78);
        EXPECT_EQ(drain_values(q), expect) << "S " << S << ", popped " << popped << ", k " << k;
        EXPECT_EQ(q.try_pop().error(), queue_status::empty);
        // And once more after the drain: the burned cells are behind us.
        ASSERT_EQ(q.try_push(arg), queue_status::success);
        EXPECT_EQ(drain_values(q), std::vector<std::uint64_t>{77});
        q.close();
        EXPECT_EQ(q.try_pop().error(), queue_status::closed);
      }
      EXPECT_EQ(T_throw::counters().live(), 0) << "S " << S << ", k " << k;
      EXPECT_EQ(T_throw::counters().errors.load(), 0) << "S " << S << ", k " << k;
    }
  }
}

TEST(UnboundedQueueTypes, ThrowingCopyLeavesQueueUnchangedAtEveryPosition) {
  check_throwing_copy<2, 2>();
  check_throwing_copy<3, 0>();
  check_throwing_copy<4, 2>();
}

// A failed push next to close: the queue still drains to closed (a cell left EMPTY by the
// throw must not make the drained queue look non-empty forever).
TEST(UnboundedQueueTypes, ThrowingCopyThenCloseStillDrainsToClosed) {
  for (std::size_t k = 0; k <= 4; ++k) {
    queue_with<T_throw, 2> q;
    for (std::size_t i = 0; i < k; ++i) ASSERT_EQ(q.try_emplace(i), queue_status::success);
    const T_throw arg(1);
    {
      throw_on_nth_construction arm(1);
      EXPECT_THROW((void)q.try_push(arg), injected_error);
    }
    q.close();
    std::vector<std::uint64_t> expect;
    for (std::size_t i = 0; i < k; ++i) expect.push_back(i);
    EXPECT_EQ(drain_values(q), expect) << k;
    EXPECT_EQ(q.try_pop().error(), queue_status::closed) << k;
  }
}

// A throwing push must not release a waiting pop with nothing.
TEST(UnboundedQueueTypes, ThrowingPushDoesNotReleaseAWaitingPopWithNothing) {
  queue_with<T_throw, 2> q;
  std::optional<T_throw> got;
  std::thread consumer([&] { got = q.pop(); });
  std::this_thread::sleep_for(milliseconds(20));
  const T_throw arg(9);
  for (int i = 0; i < 3; ++i) {  // at cells 0 and 1, then on the push that links a segment
    throw_on_nth_construction arm(1);
    EXPECT_THROW((void)q.push(arg), injected_error);
  }
  EXPECT_TRUE(q.push(arg));
  consumer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value(), 9u);
}

// ---- awkward element types -------------------------------------------------------------

struct no_default {
  explicit no_default(int x_) noexcept : x(x_) {}
  no_default(const no_default&) = default;
  no_default(no_default&&) noexcept = default;
  no_default& operator=(const no_default&) = delete;
  no_default& operator=(no_default&&) = delete;
  int x;
};

TEST(UnboundedQueueTypes, ElementWithoutDefaultConstructorOrAssignment) {
  static_assert(!std::is_default_constructible_v<no_default>);
  queue_with<no_default, 2> q;
  EXPECT_EQ(q.try_emplace(1), queue_status::success);
  const no_default two(2);
  EXPECT_EQ(q.try_push(two), queue_status::success);
  EXPECT_EQ(q.try_push(no_default(3)), queue_status::success);  // a new segment
  q.close();
  no_default four(4);
  EXPECT_EQ(q.try_push(std::move(four)), queue_status::closed);
  EXPECT_EQ(four.x, 4);
  EXPECT_FALSE(q.push(two));
  EXPECT_EQ(q.try_pop()->x, 1);
  EXPECT_EQ(q.try_pop()->x, 2);
  EXPECT_EQ(q.try_pop()->x, 3);
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
}

struct alignas(128) over_aligned {
  std::uint64_t v;
  std::array<char, 100> pad{};
};

TEST(UnboundedQueueTypes, OverAlignedElements) {
  queue_with<over_aligned, 3> q;
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(q.try_push(over_aligned{i, {}}), queue_status::success);
    ASSERT_EQ(q.try_push(over_aligned{i + 1, {}}), queue_status::success);
    auto a = q.try_pop();
    auto b = q.try_pop();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&*a) % 128, 0u);
    EXPECT_EQ(a->v, i);
    EXPECT_EQ(b->v, i + 1);
  }
}

TEST(UnboundedQueueTypes, LargeElements) {
  using big = std::array<std::uint64_t, 512>;
  queue_with<big, 2> q;
  big b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = i;
  for (std::uint64_t k = 0; k < 5; ++k) {
    b[0] = k;
    ASSERT_EQ(q.try_push(b), queue_status::success);
  }
  for (std::uint64_t k = 0; k < 5; ++k) {
    auto r = q.try_pop();
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)[0], k);
    EXPECT_EQ((*r)[511], 511u);
  }
}

TEST(UnboundedQueueTypes, HeapOwningElementsLeftAtDestructionAreFreed) {
  // ASan's leak check fails this test if the destructor skips an element.
  queue_with<std::string, 2> q;
  for (int i = 0; i < 9; ++i) {
    ASSERT_EQ(q.try_push(std::string(100, static_cast<char>('a' + i))), queue_status::success);
  }
  ASSERT_TRUE(q.try_pop());
  ASSERT_TRUE(q.try_pop());
  ASSERT_TRUE(q.try_pop());
}

// ---- the global allocator: bad_alloc for a segment, no allocation per element ------------

// The segment is allocated after the queue is pinned and before the element is built: the
// armed allocation is the segment's (the thread's epoch registration is done by then).
template <class V, std::size_t S, class Make, class Value>
void check_bad_alloc_for_a_segment(Make make, Value value) {
  queue_with<V, S, 0> q;
  for (std::size_t i = 0; i < S; ++i) ASSERT_TRUE(q.push(make(i)));  // the first segment, full
  for (int attempt = 0; attempt < 3; ++attempt) {
    V arg = make(99);
    {
      fail_nth_allocation fail(1);
      EXPECT_THROW((void)q.try_push(std::move(arg)), std::bad_alloc);
    }
    EXPECT_EQ(value(arg), 99u) << "T&&: the argument is intact";
    {
      fail_nth_allocation fail(1);
      EXPECT_THROW((void)q.push(std::move(arg)), std::bad_alloc);
    }
    EXPECT_EQ(value(arg), 99u);
    {
      fail_nth_allocation fail(1);
      EXPECT_THROW((void)q.try_emplace(make(98)), std::bad_alloc);
    }
    EXPECT_EQ(q.size_approx(), S) << "the queue is unchanged";
  }
  // Then the push succeeds, and everything comes out in order.
  V arg = make(99);
  ASSERT_EQ(q.try_push(std::move(arg)), queue_status::success);
  std::vector<std::uint64_t> got;
  while (auto r = q.try_pop()) got.push_back(value(*r));
  std::vector<std::uint64_t> expect;
  for (std::size_t i = 0; i < S; ++i) expect.push_back(i);
  expect.push_back(99);
  EXPECT_EQ(got, expect);
}

struct bad_alloc_tag {};
TEST(UnboundedQueueTypes, BadAllocForANewSegmentLeavesQueueAndArgumentUnchanged) {
  using V = move_only<bad_alloc_tag>;
  V::counters().reset();
  check_bad_alloc_for_a_segment<V, 2>([](std::size_t i) { return V(i); },
                                      [](const V& v) { return v.value(); });
  check_bad_alloc_for_a_segment<V, 5>([](std::size_t i) { return V(i); },
                                      [](const V& v) { return v.value(); });
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
  using P = std::unique_ptr<std::uint64_t>;
  check_bad_alloc_for_a_segment<P, 2>(
      [](std::size_t i) { return std::make_unique<std::uint64_t>(i); },
      [](const P& p) { return p ? *p : ~std::uint64_t{0}; });
}

// The copy form: const T& is never touched, and a copy that is itself allocating (a long
// std::string) is not built before the segment exists.
TEST(UnboundedQueueTypes, BadAllocForANewSegmentWithACopiedArgument) {
  queue_with<std::string, 2, 0> q;
  ASSERT_TRUE(q.push(std::string(50, 'a')));
  ASSERT_TRUE(q.push(std::string(50, 'b')));
  const std::string arg(50, 'c');
  {
    fail_nth_allocation fail(1);
    EXPECT_THROW((void)q.try_push(arg), std::bad_alloc);
  }
  EXPECT_EQ(arg, std::string(50, 'c'));
  ASSERT_TRUE(q.push(arg));
  EXPECT_EQ(q.try_pop().value(), std::string(50, 'a'));
  EXPECT_EQ(q.try_pop().value(), std::string(50, 'b'));
  EXPECT_EQ(q.try_pop().value(), std::string(50, 'c'));
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

// Pushing within a segment allocates nothing; one allocation per segment_size pushes.
TEST(UnboundedQueueTypes, OneAllocationPerSegmentNonePerElement) {
  constexpr std::size_t S = 8;
  queue_with<std::uint64_t, S, 0> q;
  ASSERT_TRUE(q.push(0));  // this thread's first use of the queue's domain is behind us
  {
    lockless_test::allocation_counter counter;
    for (std::uint64_t i = 1; i < S; ++i) ASSERT_TRUE(q.push(i));
    EXPECT_EQ(counter.count(), 0) << "the first segment holds S elements";
  }
  {
    lockless_test::allocation_counter counter;
    for (std::uint64_t i = S; i < 10 * S; ++i) ASSERT_TRUE(q.push(i));
    EXPECT_EQ(counter.count(), 9) << "one segment per S pushes";
  }
  {
    // Pops retire segments through the epoch domain; the pushes of the same values again
    // allocate nothing per element either (at most one segment per S pushes).
    lockless_test::allocation_counter counter;
    for (std::uint64_t i = 0; i < S - 1; ++i) ASSERT_EQ(q.try_pop().value(), i);
    EXPECT_EQ(counter.count(), 0) << "popping within a segment allocates nothing";
  }
}

}  // namespace
