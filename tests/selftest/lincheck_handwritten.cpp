// Hand-written histories, linearizable or not, for every checker tier
// (tests/support/lincheck.hpp). The exact and reference tiers must reject every bad
// history; the aspect tier must reject the ones its aspects cover (the tag says which)
// and is allowed to miss only the documented cases (EXPECT_ASPECTS_MISS).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck_expect.hpp"
#include "support/lincheck/random_history.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::test::history;
using lockless::test::history_builder;
using lockless::test::op_kind;
using lockless::test::op_result;
using lockless::test::operation;
namespace lc = lockless::test::lincheck;

using lc::aspects;
using lc::expect_linearizable;
using lc::expect_violation;
using lc::with_reference;

#define EXPECT_ASPECTS_CATCH(h, s, tag) expect_violation(h, s, aspects::catch_it, tag)
#define EXPECT_ASPECTS_MISS(h, s) expect_violation(h, s, aspects::miss_it, "")

const lc::spec stack = lc::spec::stack();
const lc::spec queue = lc::spec::queue();

// ---------------------------------------------------------------------------------------
// Stack
// ---------------------------------------------------------------------------------------
TEST(LincheckStack, SequentialPushPop) {
  expect_linearizable(history_builder{}
                          .push(0, 1, 0, 1)
                          .push(0, 2, 2, 3)
                          .pop(0, 2, 4, 5)
                          .pop(0, 1, 6, 7)
                          .pop_empty(0, 8, 9)
                          .build(),
                      stack);
}

TEST(LincheckStack, OverlappingPopMaySeeThePush) {
  expect_linearizable(history_builder{}.push(0, 1, 0, 10).pop(1, 1, 2, 5).build(), stack);
}

TEST(LincheckStack, OverlappingPopMayMissThePush) {
  expect_linearizable(history_builder{}.push(0, 1, 0, 10).pop_empty(1, 2, 5).build(), stack);
}

TEST(LincheckStack, OverlappingPushesMayGoEitherWay) {
  // 2 may have been pushed first, so popping 1 before 2 is fine.
  expect_linearizable(
      history_builder{}.push(0, 1, 0, 5).push(1, 2, 1, 6).pop(2, 1, 7, 8).pop(2, 2, 9, 10).build(),
      stack);
}

TEST(LincheckStack, PopBeforeThePushStarted) {
  EXPECT_ASPECTS_CATCH(history_builder{}.pop(1, 1, 0, 1).push(0, 1, 2, 3).build(), stack, "A3");
}

TEST(LincheckStack, PopOfAValueNeverPushed) {
  EXPECT_ASPECTS_CATCH(history_builder{}.push(0, 1, 0, 1).pop(1, 42, 2, 3).build(), stack, "A1");
}

TEST(LincheckStack, ValuePoppedTwice) {
  EXPECT_ASPECTS_CATCH(history_builder{}.push(0, 1, 0, 1).pop(1, 1, 2, 3).pop(2, 1, 4, 5).build(),
                       stack, "A4");
}

TEST(LincheckStack, LifoViolation) {
  EXPECT_ASPECTS_CATCH(
      history_builder{}.push(0, 1, 0, 1).push(0, 2, 2, 3).pop(1, 1, 4, 5).pop(1, 2, 6, 7).build(),
      stack, "A6");
}

TEST(LincheckStack, LifoViolationUpperValueNeverPopped) {
  EXPECT_ASPECTS_CATCH(history_builder{}.push(0, 1, 0, 1).push(0, 2, 2, 3).pop(1, 1, 4, 5).build(),
                       stack, "A6");
}

TEST(LincheckStack, EmptyWhileAValueWasCertainlyPresent) {
  EXPECT_ASPECTS_CATCH(history_builder{}.push(0, 1, 0, 1).pop_empty(1, 2, 3).build(), stack, "A7");
}

TEST(LincheckStack, EmptyCoveredByTwoValuesInRelay) {
  // a is certainly present on (1, 10), b on (4, 25): together they cover the EMPTY's
  // whole interval [2, 20], though neither does alone.
  EXPECT_ASPECTS_CATCH(history_builder{}
                           .push(0, 1, 0, 1)  // a
                           .pop_empty(1, 2, 20)
                           .push(2, 2, 3, 4)   // b
                           .pop(3, 1, 10, 12)  // pop a
                           .pop(3, 2, 25, 26)  // pop b
                           .build(),
                       stack, "A7");
}

TEST(LincheckStack, EmptyWithAGapBetweenTheValues) {
  // pop(a) may take effect at 3.2, push(b) at 3.8: empty at 3.5.
  expect_linearizable(history_builder{}
                          .push(0, 1, 0, 1)
                          .pop_empty(1, 2, 20)
                          .push(2, 2, 3, 4)
                          .pop(3, 1, 3, 5)
                          .pop(3, 2, 25, 26)
                          .build(),
                      stack);
}

TEST(LincheckStack, LostValueOnlyInADrainedHistory) {
  const history h = history_builder{}.push(0, 1, 0, 1).push(0, 2, 2, 3).pop(1, 2, 4, 5).build();
  expect_linearizable(h, stack);
  EXPECT_ASPECTS_CATCH(h, stack.drained(), "A5");
}

TEST(LincheckStack, TransitiveLifoViolationAspectsMiss) {
  // push(b) -> push(c), and pop(b) overlaps push(c). If c went in before pop(b), c sat on
  // b and had to be popped first, but pop(c) starts long after pop(b) returned; so c went
  // in after pop(b). push(a) returned before pop(b) was called, so c is above a, and
  // pop(a) would need pop(c) first: impossible. No pair of values shows it through
  // real-time order alone (the chain goes through a forced order), so the pairwise LIFO
  // aspect misses it; the exact and reference tiers do not.
  EXPECT_ASPECTS_MISS(history_builder{}
                          .push(1, 3, 17, 42)  // a
                          .pop(1, 2, 43, 53)   // pop b
                          .pop(1, 3, 58, 63)   // pop a
                          .push(2, 2, 19, 30)  // b
                          .push(2, 4, 34, 55)  // c
                          .pop(3, 4, 96, 124)  // pop c
                          .build(),
                      stack);
}

TEST(LincheckStack, BoundedStackFull) {
  const lc::spec s = lc::spec::bounded_stack(1);
  expect_linearizable(
      history_builder{}.push(0, 1, 0, 1).push_full(0, 2, 2, 3).pop(1, 1, 4, 5).build(), s);
  EXPECT_ASPECTS_CATCH(history_builder{}.push_full(0, 2, 2, 3).build(), s, "A8");
  EXPECT_ASPECTS_CATCH(history_builder{}.push_full(0, 2, 2, 3).build(), stack, "A8");
}

// ---------------------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------------------
TEST(LincheckQueue, SequentialFifo) {
  expect_linearizable(history_builder{}
                          .enq(0, 1, 0, 1)
                          .enq(0, 2, 2, 3)
                          .deq(1, 1, 4, 5)
                          .deq(1, 2, 6, 7)
                          .deq_empty(1, 8, 9)
                          .build(),
                      queue);
}

TEST(LincheckQueue, OverlappingEnqueuesMayGoEitherWay) {
  expect_linearizable(
      history_builder{}.enq(0, 1, 0, 5).enq(1, 2, 1, 6).deq(2, 2, 7, 8).deq(2, 1, 9, 10).build(),
      queue);
}

TEST(LincheckQueue, OverlappingDequeueMayMissTheEnqueue) {
  expect_linearizable(history_builder{}.enq(0, 1, 0, 10).deq_empty(1, 2, 5).build(), queue);
}

TEST(LincheckQueue, OverlappingDequeuesMayGoEitherWay) {
  expect_linearizable(
      history_builder{}.enq(0, 1, 0, 1).enq(0, 2, 2, 3).deq(1, 2, 4, 10).deq(2, 1, 5, 11).build(),
      queue);
}

TEST(LincheckQueue, FifoViolationBetweenNonOverlappingEnqueues) {
  EXPECT_ASPECTS_CATCH(
      history_builder{}.enq(0, 1, 0, 1).enq(0, 2, 2, 3).deq(1, 2, 4, 5).deq(1, 1, 6, 7).build(),
      queue, "A6");
}

TEST(LincheckQueue, LaterValueDequeuedEarlierOneNever) {
  // Holds without a drain: when 2 left, 1 was ahead of it.
  EXPECT_ASPECTS_CATCH(history_builder{}.enq(0, 1, 0, 1).enq(0, 2, 2, 3).deq(1, 2, 4, 5).build(),
                       queue, "A6");
}

TEST(LincheckQueue, DequeueBeforeTheEnqueueStarted) {
  EXPECT_ASPECTS_CATCH(history_builder{}.deq(1, 1, 0, 1).enq(0, 1, 2, 3).build(), queue, "A3");
}

TEST(LincheckQueue, ValueDequeuedTwice) {
  EXPECT_ASPECTS_CATCH(history_builder{}.enq(0, 1, 0, 1).deq(1, 1, 2, 3).deq(2, 1, 2, 5).build(),
                       queue, "A4");
}

TEST(LincheckQueue, EmptyWhileAValueWasCertainlyPresent) {
  EXPECT_ASPECTS_CATCH(history_builder{}.enq(0, 1, 0, 1).deq_empty(1, 2, 3).build(), queue, "A7");
}

TEST(LincheckQueue, LostValueInADrainedHistory) {
  const history h = history_builder{}.enq(0, 1, 0, 1).enq(0, 2, 2, 3).deq(1, 1, 4, 5).build();
  expect_linearizable(h, queue);
  EXPECT_ASPECTS_CATCH(h, queue.drained(), "A5");
}

TEST(LincheckQueue, CloseThenDrain) {
  expect_linearizable(history_builder{}
                          .enq(0, 1, 0, 1)
                          .close(0, 2, 3)
                          .enq_closed(1, 2, 4, 5)
                          .deq(1, 1, 6, 7)
                          .deq_closed(1, 8, 9)
                          .build(),
                      queue);
}

TEST(LincheckQueue, EnqueueOverlappingCloseMayGetIn) {
  expect_linearizable(history_builder{}
                          .close(0, 0, 10)
                          .enq(1, 1, 2, 3)
                          .deq(1, 1, 11, 12)
                          .deq_closed(1, 13, 14)
                          .build(),
                      queue);
}

TEST(LincheckQueue, ReturnAndCallWithTheSameStampDoNotOrder) {
  // ret == call is overlap (precedence is ret < call): the close may take effect first.
  expect_linearizable(history_builder{}.deq_closed(1, 8, 29).close(2, 29, 30).build(), queue);
}

TEST(LincheckQueue, DequeueSaysClosedWhileAValueIsPresent) {
  EXPECT_ASPECTS_CATCH(history_builder{}.enq(0, 1, 0, 1).close(0, 2, 3).deq_closed(1, 4, 5).build(),
                       queue, "A7");
}

TEST(LincheckQueue, DequeueSaysEmptyAfterClose) {
  EXPECT_ASPECTS_CATCH(history_builder{}.close(0, 0, 1).deq_empty(1, 2, 3).build(), queue, "A7");
}

TEST(LincheckQueue, EnqueueSucceedsAfterClose) {
  EXPECT_ASPECTS_CATCH(history_builder{}.close(0, 0, 1).enq(1, 1, 2, 3).build(), queue, "A9");
}

TEST(LincheckQueue, EnqueueSaysClosedWithoutAClose) {
  EXPECT_ASPECTS_CATCH(history_builder{}.enq_closed(0, 1, 0, 1).build(), queue, "A10");
}

TEST(LincheckQueue, DequeueSaysClosedWithoutAClose) {
  EXPECT_ASPECTS_CATCH(history_builder{}.deq_closed(0, 0, 1).build(), queue, "A7");
}

// ---------------------------------------------------------------------------------------
// Bounded queue
// ---------------------------------------------------------------------------------------
const lc::spec bounded2 = lc::spec::bounded_queue(2);

TEST(LincheckBoundedQueue, FullAtCapacity) {
  expect_linearizable(history_builder{}
                          .enq(0, 1, 0, 1)
                          .enq(0, 2, 2, 3)
                          .enq_full(0, 3, 4, 5)
                          .deq(1, 1, 6, 7)
                          .deq(1, 2, 8, 9)
                          .enq(0, 4, 10, 11)
                          .build(),
                      bounded2);
}

TEST(LincheckBoundedQueue, FullWithFewerThanCapacityPresent) {
  EXPECT_ASPECTS_CATCH(history_builder{}.enq(0, 1, 0, 1).enq_full(0, 2, 2, 3).build(), bounded2,
                       "A8");
}

TEST(LincheckBoundedQueue, FullWhileAnOverlappingEnqueueMayHaveFilledIt) {
  expect_linearizable(history_builder{}
                          .enq(0, 1, 0, 1)
                          .enq(1, 2, 2, 10)
                          .enq_full(2, 3, 3, 4)
                          .deq(2, 1, 11, 12)
                          .deq(2, 2, 13, 14)
                          .build(),
                      bounded2);
}

TEST(LincheckBoundedQueue, FullWhileAnOverlappingDequeueMayHaveMadeRoomTooLate) {
  // [1 2] full; the dequeue overlaps the FULL, so FULL may come first.
  expect_linearizable(history_builder{}
                          .enq(0, 1, 0, 1)
                          .enq(0, 2, 2, 3)
                          .deq(1, 1, 4, 10)
                          .enq_full(2, 3, 5, 6)
                          .build(),
                      bounded2);
}

TEST(LincheckBoundedQueue, EnqueueSucceedsWhileCertainlyFull) {
  EXPECT_ASPECTS_CATCH(history_builder{}.enq(0, 1, 0, 1).enq(0, 2, 2, 3).enq(0, 3, 4, 5).build(),
                       bounded2, "A9");
}

TEST(LincheckBoundedQueue, TwoInsertsThatCannotBothFitAspectsMiss) {
  // Capacity 1, 1 is never dequeued: if 1 went in first, 3 could not; if 3 went in first,
  // 1 could not (3 leaves only at 48, after enqueue(1) returned). Each insert alone has a
  // moment with nothing certainly present, so the per-operation witness aspect misses it.
  EXPECT_ASPECTS_MISS(history_builder{}.enq(0, 1, 1, 17).enq(2, 3, 8, 46).deq(2, 3, 48, 98).build(),
                      lc::spec::bounded_queue(1));
}

// ---------------------------------------------------------------------------------------
// Verdict plumbing
// ---------------------------------------------------------------------------------------
TEST(LincheckVerdicts, ExactTierGivesUpExplicitly) {
  std::mt19937_64 rng(7);
  lc::random_history_options o;
  o.s = lc::spec::stack();
  o.threads = 8;
  o.ops = 400;
  o.span = 400;
  const history h = lc::random_linearizable_history(o, rng);
  lc::exact_options eo;
  eo.max_states = 10;
  const lc::result r = lc::check_exact(h, o.s, eo);
  EXPECT_TRUE(r.undecided()) << r.report();
  EXPECT_FALSE(r.linearizable());
  EXPECT_NE(r.reason.find("gave up"), std::string::npos) << r.report();
  lc::options co;
  co.exact_opts = eo;
  const lc::result c = lc::check(h, o.s, co);
  EXPECT_TRUE(c.undecided()) << c.report();
  // with its default budget it decides
  EXPECT_TRUE(lc::check(h, o.s).linearizable());
}

TEST(LincheckVerdicts, DuplicateValuesNeedTheReferenceTier) {
  const history h =
      history_builder{}.push(0, 1, 0, 1).push(0, 1, 2, 3).pop(1, 1, 4, 5).pop(1, 1, 6, 7).build();
  EXPECT_TRUE(lc::check_exact(h, stack).undecided());
  EXPECT_TRUE(lc::check_aspects(h, stack).undecided());
  EXPECT_TRUE(lc::check(h, stack).undecided());
  EXPECT_TRUE(lc::check_reference(h, stack).linearizable());
}

TEST(LincheckVerdicts, MalformedHistoryIsUndecided) {
  history h = history_builder{}.push(0, 1, 0, 1).pop(0, 1, 2, 3).build();
  h.ops[1].call = 1;  // overlaps the thread's previous operation
  for (const lc::result& r : {lc::check(h, stack), lc::check_exact(h, stack),
                              lc::check_aspects(h, stack), lc::check_reference(h, stack)}) {
    EXPECT_TRUE(r.undecided()) << r.report();
    EXPECT_NE(r.reason.find("malformed"), std::string::npos) << r.report();
  }
}

TEST(LincheckVerdicts, EmptyHistory) {
  const history h;
  EXPECT_TRUE(lc::check(h, stack, with_reference()).linearizable());
  EXPECT_TRUE(lc::check_exact(h, queue.drained()).linearizable());
}

TEST(LincheckVerdicts, AspectsAreCompleteForValueOnlyQueues) {
  const history h =
      history_builder{}.enq(0, 1, 0, 5).enq(1, 2, 1, 6).deq(2, 2, 7, 8).deq(2, 1, 9, 10).build();
  EXPECT_TRUE(lc::check_aspects(h, queue).linearizable());
  EXPECT_TRUE(lc::check_aspects(h, lc::spec::bounded_queue(4)).undecided());
  EXPECT_TRUE(lc::check_aspects(h, stack).undecided());
}

// A violation buried in a long history is reported as a tiny sub-history.
TEST(LincheckVerdicts, LongHistoryViolationShrinksToAFewOperations) {
  std::mt19937_64 rng(11);
  for (const lc::spec s : {lc::spec::stack(), lc::spec::queue(), lc::spec::bounded_queue(3)}) {
    lc::random_history_options o;
    o.s = s;
    o.threads = 8;
    o.ops = lockless_test::scaled(3000);
    o.span = 300;
    o.drain = true;
    history h = lc::random_linearizable_history(o, rng);
    const lc::spec sd = s.drained();
    ASSERT_TRUE(lc::check(h, sd).linearizable());
    // swap what two removes far apart returned
    std::size_t a = 0, b = 0;
    for (std::size_t i = h.size() / 4; i < h.size(); ++i) {
      if (h.ops[i].removed_value()) {
        a = i;
        break;
      }
    }
    for (std::size_t i = a + h.size() / 4; i < h.size(); ++i) {
      if (h.ops[i].removed_value()) {
        b = i;
        break;
      }
    }
    ASSERT_NE(b, 0u);
    std::swap(h.ops[a].result, h.ops[b].result);
    const lc::result r = lc::check(h, sd);
    ASSERT_TRUE(r.violated()) << r.report();
    EXPECT_TRUE(r.window_confirmed) << r.report();
    EXPECT_LE(r.window.size(), 8u) << r.report();
    history w;
    w.threads = h.threads;
    w.ops = r.window;
    EXPECT_TRUE(lc::check_reference(w, sd).violated()) << r.report();
    EXPECT_NE(r.report().find("sub-history that is not linearizable"), std::string::npos);
  }
}

}  // namespace
