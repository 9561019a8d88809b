// Unit tests of lockless::bounded_queue, one thread: construction and capacities (1, 2
// and non-powers of two; the capacity+1-th push is refused), bad capacities, wraparound
// over many laps, the statuses of try_push / try_emplace / try_pop, close, the bulk
// forms, size_approx and the compile-time shape of the interface (queue_options{.may_block
// = false} has no blocking members).
//
// Threads (blocking forms, timeouts, close waking waiters): bounded_queue_blocking.cpp.
// Element types, exceptions, destructors and allocators: bounded_queue_types.cpp.
#include <lockless/bounded_queue.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using lockless::bounded_queue;
using lockless::queue_options;
using lockless::queue_result;
using lockless::queue_status;

using std::chrono::milliseconds;

// ---- compile-time properties ----------------------------------------------------------

template <class Q>
concept can_pop = requires(Q& q) { q.pop(); };
template <class Q, class V>
concept can_push = requires(Q& q, V&& v) { q.push(std::forward<V>(v)); };
template <class Q>
concept can_emplace = requires(Q& q) { q.emplace(1); };
template <class Q>
concept can_pop_for = requires(Q& q) { q.pop_for(milliseconds(1)); };
template <class Q>
concept can_pop_until = requires(Q& q) { q.pop_until(std::chrono::steady_clock::now()); };
template <class Q, class V>
concept can_push_for = requires(Q& q, V&& v) { q.push_for(std::forward<V>(v), milliseconds(1)); };
template <class Q, class V>
concept can_push_until =
    requires(Q& q, V&& v) { q.push_until(std::forward<V>(v), std::chrono::steady_clock::now()); };
template <class Q, class V>
concept can_try_push = requires(Q& q, V&& v) {
  { q.try_push(std::forward<V>(v)) } -> std::same_as<queue_status>;
};
template <class Q>
concept can_try_pop = requires(Q& q) {
  { q.try_pop() } -> std::same_as<queue_result<typename Q::value_type>>;
};

using int_queue = bounded_queue<int>;
using nonblocking_queue =
    bounded_queue<int, std::allocator<int>, queue_options{.may_block = false}>;

static_assert(std::is_same_v<int_queue::value_type, int>);
static_assert(std::is_same_v<int_queue::allocator_type, std::allocator<int>>);
static_assert(std::is_same_v<int_queue::size_type, std::size_t>);
static_assert(std::is_same_v<bounded_queue<int, std::allocator<int>, queue_options{}>, int_queue>,
              "the default options are queue_options{}");
static_assert(!std::is_copy_constructible_v<int_queue> && !std::is_copy_assignable_v<int_queue>);
static_assert(!std::is_move_constructible_v<int_queue> && !std::is_move_assignable_v<int_queue>);
static_assert(!std::is_convertible_v<std::size_t, int_queue>, "the constructor is explicit");
static_assert(!std::is_default_constructible_v<int_queue>, "a capacity is required");
static_assert(int_queue::max_capacity() >= (std::size_t{1} << 31), "a constant expression");
static_assert(noexcept(std::declval<int_queue&>().try_pop()));
static_assert(noexcept(std::declval<int_queue&>().close()));
static_assert(noexcept(std::declval<const int_queue&>().is_closed()));
static_assert(noexcept(std::declval<const int_queue&>().size_approx()));
static_assert(noexcept(std::declval<const int_queue&>().capacity()));
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().pop()), std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().push(1)), bool>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().emplace(1)), bool>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().try_emplace(1)), queue_status>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().pop_for(milliseconds(1))),
                             queue_result<int>>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().push_for(1, milliseconds(1))),
                             queue_status>);

// The blocking queue has every form; may_block = false only the non-waiting ones.
static_assert(can_pop<int_queue> && can_push<int_queue, int&&> && can_push<int_queue, const int&>);
static_assert(can_emplace<int_queue> && can_pop_for<int_queue> && can_pop_until<int_queue>);
static_assert(can_push_for<int_queue, int&&> && can_push_for<int_queue, const int&>);
static_assert(can_push_until<int_queue, int&&> && can_push_until<int_queue, const int&>);
static_assert(can_try_push<int_queue, int&&> && can_try_pop<int_queue>);

static_assert(!can_pop<nonblocking_queue>, "may_block = false: no pop()");
static_assert(!can_push<nonblocking_queue, int&&> && !can_push<nonblocking_queue, const int&>);
static_assert(!can_emplace<nonblocking_queue>);
static_assert(!can_pop_for<nonblocking_queue> && !can_pop_until<nonblocking_queue>);
static_assert(!can_push_for<nonblocking_queue, int&&> &&
              !can_push_for<nonblocking_queue, const int&>);
static_assert(!can_push_until<nonblocking_queue, int&&> &&
              !can_push_until<nonblocking_queue, const int&>);
static_assert(can_try_push<nonblocking_queue, int&&> &&
              can_try_push<nonblocking_queue, const int&>);
static_assert(can_try_pop<nonblocking_queue>);

// A T whose move constructor may throw is rejected by a static_assert in the class body
// (a pop could not give an element back). That is a hard error, not a substitution
// failure, so it cannot be observed from a test that compiles; it is not tested here.
// The trait it checks, for the record:
struct throwing_move {
  throwing_move() = default;
  throwing_move(throwing_move&&) noexcept(false) {}
};
static_assert(!std::is_nothrow_move_constructible_v<throwing_move>);

// ---- helpers --------------------------------------------------------------------------

// Pushes first, first+1, ... until the queue refuses; returns how many went in.
template <class Q>
std::size_t fill(Q& q, int first = 0) {
  std::size_t n = 0;
  while (q.try_push(first + static_cast<int>(n)) == queue_status::success) ++n;
  return n;
}

// Pops until the queue refuses; returns the values in order.
template <class Q>
std::vector<typename Q::value_type> drain(Q& q) {
  std::vector<typename Q::value_type> out;
  for (;;) {
    auto r = q.try_pop();
    if (!r) break;
    out.push_back(std::move(*r));
  }
  return out;
}

std::vector<int> iota(int first, std::size_t n) {
  std::vector<int> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = first + static_cast<int>(i);
  return v;
}

// ---- construction and capacity ---------------------------------------------------------

class BoundedQueueCapacity : public ::testing::TestWithParam<std::size_t> {};

TEST_P(BoundedQueueCapacity, HoldsExactlyCapacityElements) {
  const std::size_t cap = GetParam();
  int_queue q(cap);
  EXPECT_EQ(q.capacity(), cap);
  EXPECT_EQ(q.size_approx(), 0u);
  EXPECT_FALSE(q.is_closed());
  auto r = q.try_pop();
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), queue_status::empty);

  for (std::size_t i = 0; i < cap; ++i) {
    ASSERT_EQ(q.try_push(static_cast<int>(i)), queue_status::success) << "push " << i;
  }
  EXPECT_EQ(q.try_push(-1), queue_status::full) << "the capacity+1-th push";
  EXPECT_EQ(q.try_emplace(-1), queue_status::full);
  const int lvalue = -2;
  EXPECT_EQ(q.try_push(lvalue), queue_status::full);
  EXPECT_EQ(q.size_approx(), cap);
  EXPECT_EQ(q.capacity(), cap);

  // One out, exactly one more in.
  auto first = q.try_pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 0);
  EXPECT_EQ(q.try_push(static_cast<int>(cap)), queue_status::success);
  EXPECT_EQ(q.try_push(-1), queue_status::full);

  EXPECT_EQ(drain(q), iota(1, cap));
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
  EXPECT_EQ(q.size_approx(), 0u);
}

TEST_P(BoundedQueueCapacity, NonBlockingVariantHoldsExactlyCapacityElements) {
  const std::size_t cap = GetParam();
  nonblocking_queue q(cap);
  EXPECT_EQ(q.capacity(), cap);
  EXPECT_EQ(fill(q), cap);
  EXPECT_EQ(q.try_push(0), queue_status::full);
  EXPECT_EQ(drain(q), iota(0, cap));
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
  q.close();
  EXPECT_EQ(q.try_push(0), queue_status::closed);
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
}

INSTANTIATE_TEST_SUITE_P(Capacities, BoundedQueueCapacity,
                         ::testing::Values(1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 31u, 33u, 64u, 1000u,
                                           1024u, 4097u),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return "Cap" + std::to_string(info.param);
                         });

TEST(BoundedQueue, CapacityZeroThrowsInvalidArgument) {
  EXPECT_THROW((void)int_queue(0), std::invalid_argument);
  EXPECT_THROW((void)nonblocking_queue(0), std::invalid_argument);
}

TEST(BoundedQueue, CapacityAboveMaxThrowsLengthError) {
  const std::size_t max = int_queue::max_capacity();
  EXPECT_THROW((void)int_queue(max + 1), std::length_error);
  EXPECT_THROW((void)int_queue(std::numeric_limits<std::size_t>::max()), std::length_error);
  using big = std::array<std::uint64_t, 1024>;  // 8 KiB elements: max_capacity() is smaller
  static_assert(bounded_queue<big>::max_capacity() <= int_queue::max_capacity());
  EXPECT_THROW((void)bounded_queue<big>(bounded_queue<big>::max_capacity() + 1), std::length_error);
  EXPECT_THROW((void)bounded_queue<big>(std::numeric_limits<std::size_t>::max()),
               std::length_error);
}

TEST(BoundedQueue, CapacityErrorIsCheckedBeforeAnyAllocation) {
  // A capacity just above the maximum must be refused by the check, not by a failed
  // (or, worse, a successful and truncated) allocation: the exception type says which.
  try {
    int_queue q(int_queue::max_capacity() + 1);
    ADD_FAILURE() << "constructed a queue of capacity max_capacity() + 1";
  } catch (const std::length_error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected std::length_error, got: " << e.what();
  }
}

// ---- FIFO and wraparound ----------------------------------------------------------------

class BoundedQueueLaps : public ::testing::TestWithParam<std::size_t> {};

// One element in flight at a time: every push and pop moves on by one cell, so 100000 of
// them take each cell round tens of thousands of laps.
TEST_P(BoundedQueueLaps, PushPopOneAtATimeOverManyLaps) {
  int_queue q(GetParam());
  for (int i = 0; i < 100000; ++i) {
    ASSERT_EQ(q.try_push(i), queue_status::success) << i;
    auto r = q.try_pop();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(*r, i);
  }
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

// Fill to capacity, drain, repeat: every cell goes round many laps, and the capacity+1-th
// push is refused on every lap.
TEST_P(BoundedQueueLaps, FillAndDrainOverManyLaps) {
  const std::size_t cap = GetParam();
  int_queue q(cap);
  const std::size_t laps = 20000 / cap + 3;
  int next_in = 0;
  int next_out = 0;
  for (std::size_t lap = 0; lap < laps; ++lap) {
    for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(q.try_push(next_in++), queue_status::success);
    ASSERT_EQ(q.try_push(-1), queue_status::full) << "lap " << lap;
    for (std::size_t i = 0; i < cap; ++i) {
      auto r = q.try_pop();
      ASSERT_TRUE(r) << "lap " << lap;
      ASSERT_EQ(*r, next_out++);
    }
    ASSERT_EQ(q.try_pop().error(), queue_status::empty) << "lap " << lap;
  }
}

// A steady level of k elements (0 < k <= capacity), one push and one pop per step, with
// empty and full probes on the way: the queue behaves like a std::deque bounded at cap.
TEST_P(BoundedQueueLaps, MatchesABoundedDequeOnAMixedSequence) {
  const std::size_t cap = GetParam();
  int_queue q(cap);
  std::deque<int> model;
  std::uint64_t rng = 0x9E3779B97F4A7C15ULL;
  int next = 0;
  for (int step = 0; step < 30000; ++step) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    if ((rng & 1) != 0) {
      const queue_status st = q.try_push(next);
      if (model.size() < cap) {
        ASSERT_EQ(st, queue_status::success) << "step " << step;
        model.push_back(next);
      } else {
        ASSERT_EQ(st, queue_status::full) << "step " << step;
      }
      ++next;
    } else {
      auto r = q.try_pop();
      if (model.empty()) {
        ASSERT_FALSE(r) << "step " << step;
        ASSERT_EQ(r.error(), queue_status::empty);
      } else {
        ASSERT_TRUE(r) << "step " << step;
        ASSERT_EQ(*r, model.front());
        model.pop_front();
      }
    }
    ASSERT_EQ(q.size_approx(), model.size()) << "step " << step << " (quiescent queue)";
  }
}

INSTANTIATE_TEST_SUITE_P(Capacities, BoundedQueueLaps, ::testing::Values(1u, 2u, 3u, 5u),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return "Cap" + std::to_string(info.param);
                         });

TEST(BoundedQueue, FifoAtCapacity1000) {
  int_queue q(1000);
  EXPECT_EQ(fill(q), 1000u);
  EXPECT_EQ(drain(q), iota(0, 1000));
  // Again, starting at a different place in the ring.
  EXPECT_EQ(q.try_push(5000), queue_status::success);
  EXPECT_EQ(q.try_pop().value(), 5000);
  EXPECT_EQ(fill(q, 10000), 1000u);
  EXPECT_EQ(drain(q), iota(10000, 1000));
}

// ---- try_push / try_emplace / try_pop ------------------------------------------------------

TEST(BoundedQueue, TryPushOverloadsAndStatuses) {
  bounded_queue<std::string> q(2);
  const std::string copy_me = "a string long enough to live on the heap, not in the SSO buffer";
  EXPECT_EQ(q.try_push(copy_me), queue_status::success);
  EXPECT_EQ(copy_me, "a string long enough to live on the heap, not in the SSO buffer");
  std::string move_me = "another string long enough to live on the heap, not in SSO";
  const char* move_me_data = move_me.data();
  EXPECT_EQ(q.try_push(std::move(move_me)), queue_status::success);

  // Full: neither overload touches its argument.
  std::string refused = "refused, and long enough to live on the heap, not in SSO";
  EXPECT_EQ(q.try_push(std::move(refused)), queue_status::full);
  EXPECT_EQ(refused, "refused, and long enough to live on the heap, not in SSO");
  EXPECT_EQ(q.try_push(refused), queue_status::full);
  EXPECT_EQ(refused, "refused, and long enough to live on the heap, not in SSO");
  EXPECT_EQ(q.try_emplace(3, 'x'), queue_status::full);

  auto a = q.try_pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, copy_me);
  auto b = q.try_pop();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->data(), move_me_data) << "push(T&&) -> slot -> result by moves only";

  EXPECT_EQ(q.try_emplace(3, 'x'), queue_status::success);
  EXPECT_EQ(q.try_emplace(), queue_status::success);  // default construction
  EXPECT_EQ(q.try_pop().value(), "xxx");
  EXPECT_EQ(q.try_pop().value(), "");
}

struct multi {
  multi(int i_, std::string s_, double d_) : i(i_), s(std::move(s_)), d(d_) {}
  int i;
  std::string s;
  double d;
};

TEST(BoundedQueue, TryEmplaceWithSeveralArguments) {
  bounded_queue<multi> q(1);
  std::string str = "eight";
  EXPECT_EQ(q.try_emplace(8, str, 8.25), queue_status::success);  // the lvalue is copied
  EXPECT_EQ(str, "eight");
  EXPECT_EQ(q.try_emplace(9, std::move(str), 9.5), queue_status::full);
  EXPECT_EQ(str, "eight") << "a refused emplace does not forward its arguments";
  auto m = q.try_pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->i, 8);
  EXPECT_EQ(m->s, "eight");
  EXPECT_EQ(m->d, 8.25);
}

TEST(BoundedQueue, TryPopResultMembers) {
  int_queue q(2);
  ASSERT_EQ(q.try_push(7), queue_status::success);
  queue_result<int> r = q.try_pop();
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(r.value_or(-1), 7);
  EXPECT_EQ(r.error(), queue_status::success);

  queue_result<int> e = q.try_pop();
  EXPECT_FALSE(e.has_value());
  EXPECT_FALSE(static_cast<bool>(e));
  EXPECT_EQ(e.error(), queue_status::empty);
  EXPECT_EQ(e.value_or(-1), -1);
  try {
    (void)e.value();
    ADD_FAILURE() << "value() of an empty result did not throw";
  } catch (const std::system_error& ex) {
    EXPECT_EQ(ex.code(), queue_status::empty);
    EXPECT_EQ(ex.code(), lockless::make_error_code(queue_status::empty));
  }

  q.close();
  queue_result<int> c = q.try_pop();
  EXPECT_FALSE(c);
  EXPECT_EQ(c.error(), queue_status::closed);
  try {
    (void)c.value();
    ADD_FAILURE() << "value() of a closed result did not throw";
  } catch (const std::system_error& ex) {
    EXPECT_EQ(ex.code(), queue_status::closed);
    EXPECT_EQ(&ex.code().category(), &lockless::queue_category());
  }

  struct point {
    int x;
    int y;
  };
  bounded_queue<point> pq(1);
  ASSERT_EQ(pq.try_push(point{1, 2}), queue_status::success);
  auto p = pq.try_pop();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->x, 1);
  EXPECT_EQ(p->y, 2);
}

TEST(BoundedQueue, TryPopOnAFreshQueueOfEveryShapeIsEmpty) {
  for (std::size_t cap : {1u, 2u, 3u, 1000u}) {
    int_queue q(cap);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(q.try_pop().error(), queue_status::empty) << cap;
    }
    // Repeated empty pops leave it usable (they change nothing in the ring).
    EXPECT_EQ(fill(q), cap);
    EXPECT_EQ(drain(q), iota(0, cap));
  }
}

// ---- close ----------------------------------------------------------------------------------

TEST(BoundedQueue, CloseRefusesPushesAndDrainsThenReportsClosed) {
  bounded_queue<std::string> q(3);
  ASSERT_EQ(q.try_push("one"), queue_status::success);
  ASSERT_EQ(q.try_push("two"), queue_status::success);
  EXPECT_FALSE(q.is_closed());
  q.close();
  EXPECT_TRUE(q.is_closed());

  std::string arg = "refused after close, long enough to live on the heap, not SSO";
  EXPECT_EQ(q.try_push(std::move(arg)), queue_status::closed);
  EXPECT_EQ(arg, "refused after close, long enough to live on the heap, not SSO");
  EXPECT_EQ(q.try_push(arg), queue_status::closed);
  EXPECT_EQ(q.try_emplace(3, 'z'), queue_status::closed);
  EXPECT_EQ(q.push(std::move(arg)), false);
  EXPECT_EQ(arg, "refused after close, long enough to live on the heap, not SSO");
  EXPECT_EQ(q.push(arg), false);
  EXPECT_EQ(q.emplace(std::move(arg)), false);
  EXPECT_EQ(arg, "refused after close, long enough to live on the heap, not SSO")
      << "a refused emplace does not forward its arguments";
  EXPECT_EQ(q.push_for(std::move(arg), milliseconds(20)), queue_status::closed);
  EXPECT_EQ(q.push_until(arg, std::chrono::steady_clock::now() + milliseconds(20)),
            queue_status::closed);
  EXPECT_EQ(arg, "refused after close, long enough to live on the heap, not SSO");

  // Pops drain what is left, in order, then say closed (not empty), every time.
  EXPECT_EQ(q.size_approx(), 2u);
  EXPECT_EQ(q.try_pop().value(), "one");
  std::optional<std::string> two = q.pop();
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, "two");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(q.try_pop().error(), queue_status::closed);
    EXPECT_EQ(q.pop(), std::nullopt);
    EXPECT_EQ(q.pop_for(milliseconds(20)).error(), queue_status::closed);
    EXPECT_EQ(q.pop_until(std::chrono::system_clock::now() + milliseconds(20)).error(),
              queue_status::closed);
  }
  EXPECT_EQ(q.size_approx(), 0u);
  EXPECT_EQ(q.try_push("late"), queue_status::closed);
}

TEST(BoundedQueue, CloseIsIdempotent) {
  int_queue q(2);
  ASSERT_EQ(q.try_push(1), queue_status::success);
  q.close();
  q.close();
  EXPECT_TRUE(q.is_closed());
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_EQ(q.try_pop().value(), 1);
  q.close();
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
  EXPECT_EQ(q.try_push(2), queue_status::closed);
  EXPECT_TRUE(q.is_closed());
}

TEST(BoundedQueue, CloseOfAFullQueueAndOfAnEmptyOne) {
  for (std::size_t cap : {1u, 2u, 3u}) {
    int_queue full(cap);
    ASSERT_EQ(fill(full), cap);
    full.close();
    EXPECT_EQ(full.try_push(0), queue_status::closed) << "closed wins over full";
    EXPECT_EQ(drain(full), iota(0, cap));
    EXPECT_EQ(full.try_pop().error(), queue_status::closed);

    int_queue empty(cap);
    empty.close();
    EXPECT_EQ(empty.try_pop().error(), queue_status::closed) << "closed wins over empty";
    EXPECT_EQ(empty.try_push(0), queue_status::closed);
  }
}

// queue_options::fast_empty: a pop that found the queue empty with nothing claimed clears
// order_, and later pops whose cell is vacant answer empty from it without reading tail_
// ([QO1]); close() must stop that (its closed bit in order_, [QO4]), or they would say
// empty where the queue says closed.
TEST(BoundedQueue, FastEmptyAnswersFromTheCellStopAtClose) {
  using fast_queue = lockless::bounded_queue<int, std::allocator<int>,
                                             lockless::queue_options{.fast_empty = true}>;
  for (std::size_t cap : {1u, 2u, 5u}) {
    fast_queue q(cap);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(q.try_pop().error(), queue_status::empty);
    ASSERT_EQ(q.try_push(7), queue_status::success);
    ASSERT_EQ(q.try_pop().value(), 7);
    ASSERT_EQ(q.try_pop().error(), queue_status::empty);
    q.close();
    EXPECT_EQ(q.try_pop().error(), queue_status::closed);
    EXPECT_EQ(q.try_pop().error(), queue_status::closed);
  }
}

TEST(BoundedQueue, CloseAfterManyLaps) {
  int_queue q(3);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(q.try_push(i), queue_status::success);
    ASSERT_EQ(q.try_push(i), queue_status::success);
    ASSERT_EQ(q.try_pop().value(), i);
    ASSERT_EQ(q.try_pop().value(), i);
    ASSERT_EQ(q.try_pop().error(), queue_status::empty);
  }
  ASSERT_EQ(q.try_push(1), queue_status::success);
  ASSERT_EQ(q.try_push(2), queue_status::success);
  q.close();
  EXPECT_EQ(q.try_push(3), queue_status::closed);
  EXPECT_EQ(q.try_pop().value(), 1);
  EXPECT_EQ(q.try_pop().value(), 2);
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
}

// ---- bulk -----------------------------------------------------------------------------------

TEST(BoundedQueue, TryPushBulkStopsAtFullAndLeavesTheRestUntouched) {
  bounded_queue<std::unique_ptr<int>> q(3);
  std::vector<std::unique_ptr<int>> in;
  for (int i = 0; i < 6; ++i) in.push_back(std::make_unique<int>(i));
  std::vector<int*> raw;
  for (auto& p : in) raw.push_back(p.get());

  EXPECT_EQ(q.try_push_bulk(in.begin(), in.end()), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(in[i], nullptr) << "moved from: " << i;
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(in[i].get(), raw[i]) << "the refused element and those after it: " << i;
  }
  EXPECT_EQ(q.try_push_bulk(in.begin() + 3, in.end()), 0u) << "full";
  EXPECT_EQ(in[3].get(), raw[3]);

  std::vector<std::unique_ptr<int>> out;
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 2), 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].get(), raw[0]);
  EXPECT_EQ(out[1].get(), raw[1]);

  // Room for two more: in[3] and in[4] go, in[5] stays.
  EXPECT_EQ(q.try_push_bulk(in.begin() + 3, in.end()), 2u);
  EXPECT_EQ(in[3], nullptr);
  EXPECT_EQ(in[4], nullptr);
  EXPECT_EQ(in[5].get(), raw[5]);

  // More asked than there is: stops at empty.
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 100), 3u);
  ASSERT_EQ(out.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(out[i].get(), raw[i]) << "FIFO: " << i;
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 100), 0u);
  EXPECT_EQ(out.size(), 5u);
}

TEST(BoundedQueue, BulkFormsWithEmptyRangesZeroMaxAndClose) {
  int_queue q(4);
  std::vector<int> none;
  EXPECT_EQ(q.try_push_bulk(none.begin(), none.end()), 0u);
  const std::vector<int> src = {1, 2, 3};
  EXPECT_EQ(q.try_push_bulk(src.begin(), src.end()), 3u) << "const elements are copied";
  EXPECT_EQ(src, (std::vector<int>{1, 2, 3}));

  std::array<int, 4> out{-1, -1, -1, -1};
  EXPECT_EQ(q.try_pop_bulk(out.begin(), 0), 0u) << "max 0 pops nothing";
  EXPECT_EQ(q.size_approx(), 3u);
  EXPECT_EQ(q.try_pop_bulk(out.begin(), 2), 2u) << "a plain output iterator";
  EXPECT_EQ(out, (std::array<int, 4>{1, 2, -1, -1}));

  q.close();
  int more[] = {7, 8};
  EXPECT_EQ(q.try_push_bulk(std::begin(more), std::end(more)), 0u) << "closed";
  EXPECT_EQ(q.try_pop_bulk(out.begin() + 2, 4), 1u) << "drains after close";
  EXPECT_EQ(out[2], 3);
  EXPECT_EQ(out[3], -1);
  EXPECT_EQ(q.try_pop_bulk(out.begin(), 4), 0u);
}

TEST(BoundedQueue, TryPushBulkFromAnInputIteratorAndASentinel) {
  int_queue q(5);
  std::vector<int> src = {10, 11, 12};
  std::counted_iterator<std::vector<int>::iterator> first(src.begin(), 2);
  EXPECT_EQ(q.try_push_bulk(first, std::default_sentinel), 2u);
  std::vector<int> out;
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 5), 2u);
  EXPECT_EQ(out, (std::vector<int>{10, 11}));
}

// ---- size_approx, get_allocator ----------------------------------------------------------

TEST(BoundedQueue, SizeApproxFollowsPushesAndPops) {
  int_queue q(5);
  for (std::size_t i = 1; i <= 5; ++i) {
    ASSERT_EQ(q.try_push(0), queue_status::success);
    EXPECT_EQ(q.size_approx(), i);
  }
  EXPECT_EQ(q.try_push(0), queue_status::full);
  EXPECT_EQ(q.size_approx(), 5u) << "a refused push does not count";
  for (std::size_t i = 5; i > 0; --i) {
    ASSERT_TRUE(q.try_pop());
    EXPECT_EQ(q.size_approx(), i - 1);
  }
  EXPECT_FALSE(q.try_pop());
  EXPECT_EQ(q.size_approx(), 0u) << "a refused pop does not count";
}

TEST(BoundedQueue, GetAllocatorReturnsACopy) {
  int_queue q(1);
  EXPECT_EQ(q.get_allocator(), std::allocator<int>());
}

}  // namespace
