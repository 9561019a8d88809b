// Unit tests of lockless::unbounded_queue: the interface and its statuses, one thread
// first, then the blocking forms with threads.
//   One thread: the compile-time shape (unbounded_queue_options{.may_block = false} has no
//   pop/pop_for/pop_until), FIFO across many segment boundaries (segment_size 2, 3, 4 and
//   the default 1024), size_approx, empty, close (pushes refused with the argument
//   untouched, pops drain then report closed, idempotent, is_closed exact, at and around
//   segment boundaries), try_emplace, the bulk forms, push_for/push_until that never wait.
//   Threads: pop() woken by a push and by close(), pop_for/pop_until timing out as empty,
//   a blocked consumer draining before it sees close, several producers and consumers
//   (every value once, each producer's values in order).
//
// Timing: timeouts are 20-30 ms and only bounded loosely (at least the timeout, at most
// 5 s); the 20 ms pauses that let a waiter block do not decide any assertion. A lost
// wake-up shows as a test that hangs until ctest's timeout.
//
// Element types, exceptions and destructors: unbounded_queue_types.cpp. Allocators,
// segment turnover and memory after a burst: unbounded_queue_memory.cpp.
#include <lockless/unbounded_queue.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/values.hpp"

namespace {

using lockless::epoch_reclaimer;
using lockless::queue_result;
using lockless::queue_status;
using lockless::unbounded_queue;
using lockless::unbounded_queue_options;

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

template <class T, unbounded_queue_options O>
using queue_with = unbounded_queue<T, epoch_reclaimer, std::allocator<T>, O>;

// ---- compile-time properties ----------------------------------------------------------

template <class Q>
concept can_pop = requires(Q& q) { q.pop(); };
template <class Q>
concept can_pop_for = requires(Q& q) { q.pop_for(milliseconds(1)); };
template <class Q>
concept can_pop_until = requires(Q& q) { q.pop_until(clock_type::now()); };
template <class Q, class V>
concept can_push = requires(Q& q, V&& v) {
  { q.push(std::forward<V>(v)) } -> std::same_as<bool>;
};
template <class Q>
concept can_emplace = requires(Q& q) {
  { q.emplace(1) } -> std::same_as<bool>;
};
template <class Q, class V>
concept can_push_for = requires(Q& q, V&& v) {
  { q.push_for(std::forward<V>(v), milliseconds(1)) } -> std::same_as<queue_status>;
};
template <class Q, class V>
concept can_push_until = requires(Q& q, V&& v) {
  { q.push_until(std::forward<V>(v), clock_type::now()) } -> std::same_as<queue_status>;
};
template <class Q, class V>
concept can_try_push = requires(Q& q, V&& v) {
  { q.try_push(std::forward<V>(v)) } -> std::same_as<queue_status>;
};
template <class Q>
concept can_try_pop = requires(Q& q) {
  { q.try_pop() } -> std::same_as<queue_result<typename Q::value_type>>;
};

using int_queue = unbounded_queue<int>;
using nonblocking_queue = queue_with<int, unbounded_queue_options{.may_block = false}>;

static_assert(std::is_same_v<int_queue::value_type, int>);
static_assert(std::is_same_v<int_queue::allocator_type, std::allocator<int>>);
static_assert(std::is_same_v<int_queue::reclaimer_type, epoch_reclaimer>);
static_assert(std::is_same_v<int_queue::size_type, std::size_t>);
static_assert(std::is_same_v<queue_with<int, unbounded_queue_options{}>, int_queue>,
              "the defaults are epoch_reclaimer, std::allocator, unbounded_queue_options{}");
static_assert(int_queue::segment_size == 1024 && int_queue::cached_segments == 2);
static_assert(queue_with<int, unbounded_queue_options{.segment_size = 2}>::segment_size == 2);
static_assert(queue_with<int, unbounded_queue_options{.cached_segments = 0}>::cached_segments == 0);
static_assert(!std::is_copy_constructible_v<int_queue> && !std::is_copy_assignable_v<int_queue>);
static_assert(!std::is_move_constructible_v<int_queue> && !std::is_move_assignable_v<int_queue>);
static_assert(std::is_default_constructible_v<int_queue>);
static_assert(std::is_constructible_v<int_queue, const std::allocator<int>&>);
static_assert(!std::is_convertible_v<std::allocator<int>, int_queue>, "explicit");
static_assert(std::is_constructible_v<int_queue, epoch_reclaimer>);
static_assert(!std::is_convertible_v<epoch_reclaimer, int_queue>, "explicit");
static_assert(noexcept(std::declval<int_queue&>().close()));
static_assert(noexcept(std::declval<const int_queue&>().is_closed()));
static_assert(noexcept(std::declval<const int_queue&>().get_allocator()));
static_assert(noexcept(std::declval<const int_queue&>().reclaimer()));
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().pop()), std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().try_emplace(1)), queue_status>);
static_assert(std::is_same_v<decltype(std::declval<int_queue&>().pop_for(milliseconds(1))),
                             queue_result<int>>);
static_assert(
    std::is_same_v<decltype(std::declval<const int_queue&>().reclaimer()), const epoch_reclaimer&>);

// The blocking queue has every form.
static_assert(can_pop<int_queue> && can_pop_for<int_queue> && can_pop_until<int_queue>);
static_assert(can_push<int_queue, int&&> && can_push<int_queue, const int&>);
static_assert(can_emplace<int_queue>);
static_assert(can_push_for<int_queue, int&&> && can_push_for<int_queue, const int&>);
static_assert(can_push_until<int_queue, int&&> && can_push_until<int_queue, const int&>);
static_assert(can_try_push<int_queue, int&&> && can_try_push<int_queue, const int&>);
static_assert(can_try_pop<int_queue>);

// may_block = false: no waiting pop. The pushes stay (they never wait on this queue).
static_assert(!can_pop<nonblocking_queue>, "may_block = false: no pop()");
static_assert(!can_pop_for<nonblocking_queue> && !can_pop_until<nonblocking_queue>);
static_assert(can_push<nonblocking_queue, int&&> && can_push<nonblocking_queue, const int&>);
static_assert(can_emplace<nonblocking_queue>);
static_assert(can_push_for<nonblocking_queue, int&&> &&
              can_push_until<nonblocking_queue, const int&>);
static_assert(can_try_push<nonblocking_queue, int&&> && can_try_pop<nonblocking_queue>);

// The option limits (a violated one is a compile error, not testable here).
static_assert(lockless::detail::valid_options<unbounded_queue_options{.segment_size = 2}>);
static_assert(
    lockless::detail::valid_options<unbounded_queue_options{.segment_size = std::size_t{1} << 24}>);
static_assert(lockless::detail::valid_options<unbounded_queue_options{.cached_segments = 0}>);
static_assert(lockless::detail::valid_options<unbounded_queue_options{.cached_segments = 64}>);

// ---- helpers --------------------------------------------------------------------------

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

// ---- FIFO across segment boundaries -------------------------------------------------------

template <class Q>
class UnboundedQueueFifo : public ::testing::Test {};

using fifo_queues = ::testing::Types<
    queue_with<int, unbounded_queue_options{.segment_size = 2}>,
    queue_with<int, unbounded_queue_options{.segment_size = 3}>,
    queue_with<int, unbounded_queue_options{.segment_size = 4}>,
    queue_with<int, unbounded_queue_options{.segment_size = 2, .cached_segments = 0}>,
    queue_with<int, unbounded_queue_options{.may_block = false, .segment_size = 2}>, int_queue>;
TYPED_TEST_SUITE(UnboundedQueueFifo, fifo_queues);

// Enough elements to cross many boundaries of the smallest segments and several of the
// default one.
template <class Q>
constexpr std::size_t many =
    Q::segment_size < 16 ? 40 * Q::segment_size + 1 : 3 * Q::segment_size + 5;

TYPED_TEST(UnboundedQueueFifo, FreshQueueIsEmpty) {
  TypeParam q;
  EXPECT_EQ(q.size_approx(), 0u);
  EXPECT_FALSE(q.is_closed());
  auto r = q.try_pop();
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), queue_status::empty);
  EXPECT_EQ(q.try_pop().error(), queue_status::empty) << "an empty pop changes nothing";
  EXPECT_EQ(q.size_approx(), 0u);
}

TYPED_TEST(UnboundedQueueFifo, PushPopOneAtATimeAcrossManySegments) {
  TypeParam q;
  const std::size_t n = many<TypeParam>;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(q.try_push(static_cast<int>(i)), queue_status::success) << i;
    ASSERT_EQ(q.size_approx(), 1u) << i;
    auto r = q.try_pop();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(*r, static_cast<int>(i));
    ASSERT_EQ(q.size_approx(), 0u) << i;
    ASSERT_EQ(q.try_pop().error(), queue_status::empty) << i;
  }
}

TYPED_TEST(UnboundedQueueFifo, FillAndDrainAcrossManySegments) {
  TypeParam q;
  const std::size_t n = many<TypeParam>;
  for (int round = 0; round < 3; ++round) {
    // Each round starts at a different offset inside a segment.
    const std::size_t count = n + static_cast<std::size_t>(round);
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_EQ(q.try_push(static_cast<int>(i)), queue_status::success);
      ASSERT_EQ(q.size_approx(), i + 1);
    }
    for (std::size_t i = 0; i < count; ++i) {
      auto r = q.try_pop();
      ASSERT_TRUE(r) << "round " << round << ", " << i;
      ASSERT_EQ(*r, static_cast<int>(i)) << "round " << round;
      ASSERT_EQ(q.size_approx(), count - i - 1);
    }
    EXPECT_EQ(q.try_pop().error(), queue_status::empty);
  }
}

// A pseudo-random mix of pushes and pops against std::deque, size_approx exact at every
// step (one thread, no burned cells).
TYPED_TEST(UnboundedQueueFifo, MatchesADequeOnAMixedSequence) {
  TypeParam q;
  std::deque<int> ref;
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  int next = 0;
  const std::size_t steps = 20 * many<TypeParam>;
  for (std::size_t step = 0; step < steps; ++step) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Pushes a little more likely than pops: the queue grows over many segments, and
    // empties now and then.
    if (x % 9 < 5) {
      ASSERT_EQ(q.try_push(next), queue_status::success);
      ref.push_back(next++);
    } else {
      auto r = q.try_pop();
      if (ref.empty()) {
        ASSERT_FALSE(r) << step;
        ASSERT_EQ(r.error(), queue_status::empty);
      } else {
        ASSERT_TRUE(r) << step;
        ASSERT_EQ(*r, ref.front()) << step;
        ref.pop_front();
      }
    }
    ASSERT_EQ(q.size_approx(), ref.size()) << step;
  }
  std::vector<int> rest = drain(q);
  EXPECT_EQ(rest, std::vector<int>(ref.begin(), ref.end()));
}

// How many pops to make before the close, for a queue holding `pushed`: every count within
// 2 of a segment boundary (0, S, 2S) or of `pushed`. With small segments that is every
// count; with the default segment (1,024 cells) the counts far from a boundary are the same
// case over and over, and trying all of them (O(S^2) operations) took 4 s of this binary
// under ASan.
std::vector<std::size_t> pops_around_boundaries(std::size_t pushed, std::size_t s) {
  std::vector<std::size_t> out;
  for (std::size_t p = 0; p <= pushed; ++p) {
    const auto near = [p](std::size_t b) { return (p > b ? p - b : b - p) <= 2; };
    if (near(0) || near(s) || near(2 * s) || near(pushed)) out.push_back(p);
  }
  return out;
}

// close() with the queue holding 0, 1, S-1, S, S+1 and 2S elements and popped to every
// point around a boundary: pushes are refused from then on, pops get everything left,
// then closed, always.
TYPED_TEST(UnboundedQueueFifo, CloseAtEveryPointAroundASegmentBoundary) {
  const std::size_t s = TypeParam::segment_size;
  for (std::size_t pushed : {std::size_t{0}, std::size_t{1}, s - 1, s, s + 1, 2 * s}) {
    for (std::size_t popped : pops_around_boundaries(pushed, s)) {
      TypeParam q;
      for (std::size_t i = 0; i < pushed; ++i)
        ASSERT_EQ(q.try_push(static_cast<int>(i)), queue_status::success);
      for (std::size_t i = 0; i < popped; ++i) ASSERT_EQ(q.try_pop().value(), static_cast<int>(i));
      q.close();
      EXPECT_TRUE(q.is_closed());
      EXPECT_EQ(q.try_push(-1), queue_status::closed);
      EXPECT_EQ(q.try_emplace(-1), queue_status::closed);
      EXPECT_FALSE(q.push(-1));
      EXPECT_FALSE(q.emplace(-1));
      EXPECT_EQ(q.size_approx(), pushed - popped);
      EXPECT_EQ(drain(q), iota(static_cast<int>(popped), pushed - popped))
          << "pushed " << pushed << ", popped " << popped;
      for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(q.try_pop().error(), queue_status::closed)
            << "pushed " << pushed << ", popped " << popped;
      }
      EXPECT_EQ(q.try_push(-1), queue_status::closed) << "closed stays closed after the drain";
      EXPECT_EQ(q.try_pop().error(), queue_status::closed);
    }
  }
}

// ---- try_push / try_emplace / push / emplace -------------------------------------------

TEST(UnboundedQueue, PushOverloadsAndStatuses) {
  queue_with<std::string, unbounded_queue_options{.segment_size = 2}> q;
  const std::string lvalue = "a long string that does not fit in the small buffer, 1";
  std::string rvalue = "a long string that does not fit in the small buffer, 2";
  EXPECT_EQ(q.try_push(lvalue), queue_status::success);
  EXPECT_EQ(lvalue, "a long string that does not fit in the small buffer, 1") << "copied";
  EXPECT_EQ(q.try_push(std::move(rvalue)), queue_status::success);
  EXPECT_EQ(q.try_emplace(3, 'x'), queue_status::success);
  EXPECT_TRUE(q.push(lvalue));
  EXPECT_TRUE(q.push(std::string("five")));
  EXPECT_TRUE(q.emplace("six"));
  EXPECT_EQ(q.size_approx(), 6u);
  EXPECT_EQ(q.try_pop().value(), lvalue);
  EXPECT_EQ(q.try_pop().value(), "a long string that does not fit in the small buffer, 2");
  EXPECT_EQ(q.try_pop().value(), "xxx");
  EXPECT_EQ(q.try_pop().value(), lvalue);
  EXPECT_EQ(q.try_pop().value(), "five");
  EXPECT_EQ(q.try_pop().value(), "six");
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

struct multi {
  multi(int a_, std::string b_, std::unique_ptr<int> c_)
      : a(a_), b(std::move(b_)), c(std::move(c_)) {}
  int a;
  std::string b;
  std::unique_ptr<int> c;
};

TEST(UnboundedQueue, TryEmplaceWithSeveralArgumentsAcrossSegments) {
  queue_with<multi, unbounded_queue_options{.segment_size = 2}> q;
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(q.try_emplace(i, std::to_string(i), std::make_unique<int>(i * 10)),
              queue_status::success);
  }
  for (int i = 0; i < 7; ++i) {
    auto r = q.try_pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->a, i);
    EXPECT_EQ(r->b, std::to_string(i));
    ASSERT_NE(r->c, nullptr);
    EXPECT_EQ(*r->c, i * 10);
  }
  q.close();
  auto kept = std::make_unique<int>(5);
  // emplace forwards: after closed the arguments are not moved from (the push is refused
  // before anything is built, on this thread's closed queue).
  EXPECT_EQ(q.try_emplace(1, std::string("x"), std::move(kept)), queue_status::closed);
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
}

// ---- close --------------------------------------------------------------------------------

TEST(UnboundedQueue, CloseRefusesEveryPushFormAndLeavesTheArgumentUntouched) {
  queue_with<std::unique_ptr<int>, unbounded_queue_options{.segment_size = 2}> q;
  ASSERT_EQ(q.try_emplace(new int(1)), queue_status::success);
  ASSERT_EQ(q.try_emplace(new int(2)), queue_status::success);
  ASSERT_EQ(q.try_emplace(new int(3)), queue_status::success);  // a second segment
  EXPECT_FALSE(q.is_closed());
  q.close();
  EXPECT_TRUE(q.is_closed()) << "is_closed is exact: true right after close()";

  auto arg = std::make_unique<int>(42);
  int* raw = arg.get();
  EXPECT_EQ(q.try_push(std::move(arg)), queue_status::closed);
  EXPECT_EQ(arg.get(), raw) << "try_push(T&&): argument untouched";
  EXPECT_FALSE(q.push(std::move(arg)));
  EXPECT_EQ(arg.get(), raw) << "push(T&&)";
  EXPECT_EQ(q.push_for(std::move(arg), milliseconds(10)), queue_status::closed);
  EXPECT_EQ(arg.get(), raw) << "push_for(T&&)";
  EXPECT_EQ(q.push_until(std::move(arg), clock_type::now() + milliseconds(10)),
            queue_status::closed);
  EXPECT_EQ(arg.get(), raw) << "push_until(T&&)";
  std::vector<std::unique_ptr<int>> src;
  src.push_back(std::make_unique<int>(7));
  EXPECT_EQ(q.try_push_bulk(src.begin(), src.end()), 0u);
  ASSERT_NE(src[0], nullptr) << "try_push_bulk: element untouched";
  EXPECT_EQ(*src[0], 7);
  EXPECT_EQ(*arg, 42);

  // Pops drain, then report closed; pop() says nullopt, the timed forms closed.
  EXPECT_EQ(*q.try_pop().value(), 1);
  EXPECT_EQ(**q.pop(), 2);
  EXPECT_EQ(*q.pop_for(milliseconds(10)).value(), 3);
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
  EXPECT_EQ(q.pop(), std::nullopt);
  EXPECT_EQ(q.pop_for(std::chrono::seconds(10)).error(), queue_status::closed);
  EXPECT_EQ(q.pop_until(clock_type::now() + std::chrono::seconds(10)).error(),
            queue_status::closed);
  std::vector<std::unique_ptr<int>> out;
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 4), 0u);
}

TEST(UnboundedQueue, CloseIsIdempotent) {
  queue_with<int, unbounded_queue_options{.segment_size = 2}> q;
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  ASSERT_TRUE(q.push(3));
  q.close();
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_EQ(q.try_pop().value(), 1);
  q.close();
  EXPECT_EQ(q.try_pop().value(), 2);
  EXPECT_EQ(q.try_pop().value(), 3);
  q.close();
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
  EXPECT_EQ(q.try_push(4), queue_status::closed);
}

TEST(UnboundedQueue, NonBlockingVariantClosesLikeTheBlockingOne) {
  nonblocking_queue q;
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.emplace(2));
  EXPECT_EQ(q.push_for(3, milliseconds(1)), queue_status::success);
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_FALSE(q.push(4));
  EXPECT_EQ(drain(q), iota(1, 3));
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
}

// ---- bulk -----------------------------------------------------------------------------------

TEST(UnboundedQueue, BulkFormsAcrossSegments) {
  queue_with<std::unique_ptr<int>, unbounded_queue_options{.segment_size = 2}> q;
  std::vector<std::unique_ptr<int>> src;
  for (int i = 0; i < 11; ++i) src.push_back(std::make_unique<int>(i));
  EXPECT_EQ(q.try_push_bulk(src.begin(), src.end()), 11u) << "never full";
  for (const auto& p : src) EXPECT_EQ(p, nullptr) << "moved from";
  EXPECT_EQ(q.size_approx(), 11u);

  std::vector<std::unique_ptr<int>> out;
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 0), 0u);
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 4), 4u);
  EXPECT_EQ(q.size_approx(), 7u);
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 100), 7u) << "stops at empty";
  EXPECT_EQ(q.try_pop_bulk(std::back_inserter(out), 100), 0u);
  ASSERT_EQ(out.size(), 11u);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(*out[static_cast<std::size_t>(i)], i);

  std::vector<std::unique_ptr<int>> none;
  EXPECT_EQ(q.try_push_bulk(none.begin(), none.end()), 0u);
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
}

TEST(UnboundedQueue, BulkIntoAnArrayAndFromAnIteratorWithASentinel) {
  queue_with<int, unbounded_queue_options{.segment_size = 4}> q;
  const std::vector<int> src = iota(0, 10);
  // A counted iterator with the default sentinel: a range whose end is not an iterator.
  EXPECT_EQ(q.try_push_bulk(std::counted_iterator(src.begin(), 6), std::default_sentinel), 6u);
  std::array<int, 8> out{};
  EXPECT_EQ(q.try_pop_bulk(out.begin(), out.size()), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(out[6], 0) << "nothing written past what was popped";
}

// ---- size_approx, observers -------------------------------------------------------------------

TEST(UnboundedQueue, SizeApproxFollowsPushesAndPopsAcrossSegments) {
  queue_with<int, unbounded_queue_options{.segment_size = 4}> q;
  EXPECT_EQ(q.size_approx(), 0u);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(q.push(i));
    ASSERT_EQ(q.size_approx(), static_cast<std::size_t>(i + 1));
  }
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(q.try_pop());
    ASSERT_EQ(q.size_approx(), static_cast<std::size_t>(29 - i));
  }
  EXPECT_EQ(q.try_pop().error(), queue_status::empty);
  EXPECT_EQ(q.size_approx(), 0u) << "an empty pop is not counted";
}

TEST(UnboundedQueue, ReclaimerAndAllocatorAreTheOnesGiven) {
  lockless::epoch_domain domain;
  {
    unbounded_queue<int> q{epoch_reclaimer(domain)};
    EXPECT_EQ(&q.reclaimer().domain(), &domain);
    EXPECT_EQ(q.get_allocator(), std::allocator<int>());
    unbounded_queue<int> d;
    EXPECT_EQ(&d.reclaimer().domain(), &lockless::default_epoch_domain());
  }
  domain.barrier();
}

// ---- the pushes never wait -------------------------------------------------------------------

TEST(UnboundedQueue, PushForAndPushUntilReturnAtOnce) {
  queue_with<int, unbounded_queue_options{.segment_size = 2}> q;
  const auto start = clock_type::now();
  const int lvalue = 7;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(q.push_for(i, std::chrono::hours(1)), queue_status::success);
    ASSERT_EQ(q.push_for(lvalue, std::chrono::hours(1)), queue_status::success);
    ASSERT_EQ(q.push_until(i, clock_type::now() + std::chrono::hours(1)), queue_status::success);
    ASSERT_EQ(q.push_until(lvalue, std::chrono::system_clock::now() + std::chrono::hours(1)),
              queue_status::success);
    // A deadline already past still pushes: nothing to wait for.
    ASSERT_EQ(q.push_until(i, clock_type::now() - std::chrono::hours(1)), queue_status::success);
  }
  q.close();
  EXPECT_EQ(q.push_for(1, std::chrono::hours(1)), queue_status::closed);
  EXPECT_EQ(q.push_until(lvalue, clock_type::now() + std::chrono::hours(1)), queue_status::closed);
  EXPECT_LT(clock_type::now() - start, std::chrono::seconds(5)) << "nothing waited";
  EXPECT_EQ(q.size_approx(), 50u);
  std::vector<int> got = drain(q);
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 10; ++i) {
    const std::vector<int> five(got.begin() + 5 * i, got.begin() + 5 * i + 5);
    EXPECT_EQ(five, (std::vector<int>{i, 7, i, 7, i}));
  }
}

// ---- blocking pop (threads) --------------------------------------------------------------

constexpr milliseconds timeout{20};
constexpr std::chrono::seconds generous{5};  // the loose upper bound of every wait
constexpr milliseconds let_it_block{20};

void pause_for_waiters() {
  std::this_thread::sleep_for(let_it_block);
}

TEST(UnboundedQueueBlocking, PopWaitsForAPush) {
  unbounded_queue<int> q;
  std::optional<int> got;
  std::thread consumer([&] { got = q.pop(); });
  pause_for_waiters();
  EXPECT_TRUE(q.push(42));
  consumer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 42);
}

TEST(UnboundedQueueBlocking, PopWaitsForAnEmplaceIntoANewSegment) {
  queue_with<int, unbounded_queue_options{.segment_size = 2}> q;
  ASSERT_TRUE(q.push(0));
  ASSERT_TRUE(q.push(1));
  ASSERT_EQ(q.try_pop().value(), 0);
  ASSERT_EQ(q.try_pop().value(), 1);
  std::optional<int> got;
  std::thread consumer([&] { got = q.pop(); });
  pause_for_waiters();
  EXPECT_TRUE(q.emplace(2));  // the first segment is used up: this links a new one
  consumer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 2);
}

TEST(UnboundedQueueBlocking, PopForOnAnEmptyQueueTimesOutAsEmpty) {
  unbounded_queue<int> q;
  const auto start = clock_type::now();
  auto r = q.pop_for(timeout);
  const auto waited = clock_type::now() - start;
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), queue_status::empty);
  EXPECT_GE(waited, timeout);
  EXPECT_LT(waited, generous);
}

TEST(UnboundedQueueBlocking, PopUntilOnAnEmptyQueueTimesOutAsEmpty) {
  unbounded_queue<int> q;
  const auto start = clock_type::now();
  auto r = q.pop_until(start + timeout);
  EXPECT_EQ(r.error(), queue_status::empty);
  EXPECT_GE(clock_type::now(), start + timeout);
  // With a system_clock deadline.
  const auto sys_deadline = std::chrono::system_clock::now() + timeout;
  auto s = q.pop_until(sys_deadline);
  EXPECT_EQ(s.error(), queue_status::empty);
  EXPECT_GE(std::chrono::system_clock::now(), sys_deadline);
  EXPECT_LT(clock_type::now() - start, generous);
}

TEST(UnboundedQueueBlocking, PastDeadlinesStillTryOnce) {
  unbounded_queue<int> q;
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  EXPECT_EQ(q.pop_for(milliseconds(0)).value(), 1);
  EXPECT_EQ(q.pop_until(clock_type::now() - std::chrono::seconds(1)).value(), 2);
  EXPECT_EQ(q.pop_for(milliseconds(-5)).error(), queue_status::empty);
  q.close();
  EXPECT_EQ(q.pop_for(milliseconds(0)).error(), queue_status::closed);
}

// The largest duration of each unit (a caller's "for ever") waits like pop(): the deadline
// saturates at the steady clock's last time point. (pop_for used to compute now + d, which
// overflowed: undefined behaviour, and with nanoseconds::max() a deadline in the past.)
TEST(UnboundedQueueBlocking, TheLargestDurationsWaitLikePop) {
  unbounded_queue<int> q;
  for (int v = 1; v <= 3; ++v) {
    std::thread producer([&q, v] {
      pause_for_waiters();
      EXPECT_TRUE(q.push(v));
    });
    auto r = v == 1   ? q.pop_for(std::chrono::nanoseconds::max())
             : v == 2 ? q.pop_for(std::chrono::hours::max())
                      : q.pop_for(std::chrono::duration<double>::max());
    producer.join();
    ASSERT_TRUE(r) << v;
    EXPECT_EQ(*r, v);
  }
}

// A time point of a coarser duration than its clock's and beyond the clock's range
// (time_point<steady_clock, hours>::max()) waits like pop(); its min() has passed. (pop_until
// compared it with Clock::now() in nanoseconds: the conversion overflowed.)
TEST(UnboundedQueueBlocking, CoarseTimePointsBeyondTheClockSaturate) {
  using hours_point = std::chrono::time_point<clock_type, std::chrono::hours>;
  unbounded_queue<int> q;
  std::thread producer([&] {
    pause_for_waiters();
    EXPECT_TRUE(q.push(1));
  });
  auto r = q.pop_until(hours_point::max());
  producer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);
  const auto start = clock_type::now();
  EXPECT_EQ(q.pop_until(hours_point::min()).error(), queue_status::empty);
  EXPECT_LT(clock_type::now() - start, generous);
}

TEST(UnboundedQueueBlocking, PopForIsSatisfiedByAPushBeforeItsDeadline) {
  unbounded_queue<int> q;
  std::atomic<int> got{-1};
  std::thread consumer([&] {
    auto r = q.pop_for(std::chrono::seconds(30));
    got.store(r ? *r : -2);
  });
  pause_for_waiters();
  const auto start = clock_type::now();
  EXPECT_TRUE(q.push(5));
  consumer.join();
  EXPECT_LT(clock_type::now() - start, generous) << "woken by the push, not by the deadline";
  EXPECT_EQ(got.load(), 5);
}

TEST(UnboundedQueueBlocking, PopUntilIsSatisfiedByAPushBeforeItsDeadline) {
  unbounded_queue<int> q;
  std::atomic<int> got{-1};
  std::thread consumer([&] {
    auto r = q.pop_until(clock_type::now() + std::chrono::seconds(30));
    got.store(r ? *r : -2);
  });
  pause_for_waiters();
  const auto start = clock_type::now();
  EXPECT_TRUE(q.push(6));
  consumer.join();
  EXPECT_LT(clock_type::now() - start, generous);
  EXPECT_EQ(got.load(), 6);
}

TEST(UnboundedQueueBlocking, CloseWakesEveryBlockedPopper) {
  unbounded_queue<int> q;
  constexpr int blocked = 4;
  std::atomic<int> woke_closed{0};
  std::vector<std::thread> poppers;
  for (int t = 0; t < blocked; ++t) {
    poppers.emplace_back([&, t] {
      switch (t % 3) {
        case 0:
          if (!q.pop().has_value()) woke_closed.fetch_add(1);
          break;
        case 1:
          if (q.pop_for(std::chrono::seconds(30)).error() == queue_status::closed) {
            woke_closed.fetch_add(1);
          }
          break;
        default:
          if (q.pop_until(std::chrono::system_clock::now() + std::chrono::seconds(30)).error() ==
              queue_status::closed) {
            woke_closed.fetch_add(1);
          }
          break;
      }
    });
  }
  pause_for_waiters();
  const auto start = clock_type::now();
  q.close();
  for (auto& th : poppers) th.join();
  EXPECT_LT(clock_type::now() - start, generous) << "woken by close, not by the deadlines";
  EXPECT_EQ(woke_closed.load(), blocked);
}

// close() racing the waiters' arrival (no pause): whoever waits or is about to must return.
TEST(UnboundedQueueBlocking, CloseRacingArrivingWaiters) {
  for (int round = 0; round < 20; ++round) {
    unbounded_queue<int> q;
    std::atomic<int> returned{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 3; ++t) {
      ts.emplace_back([&] {
        EXPECT_EQ(q.pop(), std::nullopt);
        returned.fetch_add(1);
      });
    }
    q.close();
    for (auto& th : ts) th.join();
    EXPECT_EQ(returned.load(), 3);
  }
}

// A consumer blocked on an empty queue while a producer pushes across many segments and
// then closes: it gets every element, in order, then nullopt.
TEST(UnboundedQueueBlocking, BlockedConsumerDrainsBeforeSeeingClose) {
  queue_with<int, unbounded_queue_options{.segment_size = 2}> q;
  std::vector<int> got;
  std::thread consumer([&] {
    while (std::optional<int> v = q.pop()) got.push_back(*v);
  });
  pause_for_waiters();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(q.push(i));
  q.close();
  consumer.join();
  EXPECT_EQ(got, iota(0, 1000));
}

// Two producers, two blocking consumers, small segments: every value exactly once, and
// each consumer sees each producer's values in increasing order (FIFO).
TEST(UnboundedQueueBlocking, ProducersAndBlockingConsumersEveryValueOnceInOrder) {
  using lockless::test::unique_value;
  using lockless::test::value_seq;
  using lockless::test::value_thread;
  queue_with<std::uint64_t, unbounded_queue_options{.segment_size = 4}> q;
  constexpr int producers = 2;
  constexpr int consumers = 2;
  constexpr std::uint64_t per_producer = 20000;
  std::vector<std::vector<std::uint64_t>> seen(consumers);
  std::vector<std::thread> ts;
  for (int c = 0; c < consumers; ++c) {
    ts.emplace_back([&, c] {
      while (std::optional<std::uint64_t> v = q.pop())
        seen[static_cast<std::size_t>(c)].push_back(*v);
    });
  }
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p) {
    ps.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        EXPECT_TRUE(q.push(unique_value(static_cast<std::uint64_t>(p), i)));
      }
    });
  }
  for (auto& th : ps) th.join();
  q.close();
  for (auto& th : ts) th.join();

  std::vector<std::vector<int>> count(producers, std::vector<int>(per_producer, 0));
  for (const auto& s : seen) {
    std::vector<std::uint64_t> last(producers, 0);
    std::vector<bool> any(producers, false);
    for (std::uint64_t v : s) {
      const std::uint64_t p = value_thread(v);
      const std::uint64_t i = value_seq(v);
      ASSERT_LT(p, static_cast<std::uint64_t>(producers));
      ASSERT_LT(i, per_producer);
      ++count[p][i];
      if (any[p]) {
        EXPECT_GT(i, last[p]) << "producer " << p << "'s values out of order";
      }
      any[p] = true;
      last[p] = i;
    }
  }
  for (int p = 0; p < producers; ++p) {
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      ASSERT_EQ(count[static_cast<std::size_t>(p)][i], 1) << "producer " << p << ", value " << i;
    }
  }
  EXPECT_EQ(q.try_pop().error(), queue_status::closed);
}

}  // namespace
