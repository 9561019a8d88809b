// The relaxed "full" of spec::full_when_in_flight() (tests/support/lincheck/common.hpp):
// an insert that returned full is legal where size + k >= capacity, k = the other
// inserts/removes overlapping it. Hand-written histories on every tier, the shrinker's
// closure (a window keeps what a FULL's k counts), and random histories cross-checked
// (exact == reference, aspects sound, windows confirmed) under the flag.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck_expect.hpp"
#include "support/lincheck/random_history.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::test::history;
using lockless::test::history_builder;
using lockless::test::op_status;
using lockless::test::operation;
namespace lc = lockless::test::lincheck;

using lc::expect_linearizable;
using lc::expect_violation;
using lc::with_reference;

// Every FULL result in the window keeps every insert/remove of h overlapping it (so its k
// in the window is its k in h: the shrinker's closure under the flag).
std::string window_keeps_in_flight(const history& h, const std::vector<operation>& window) {
  auto same = [](const operation& a, const operation& b) {
    return a.thread == b.thread && a.seq == b.seq;
  };
  for (const operation& f : window) {
    if (!f.inserts() || f.result.status != op_status::full) continue;
    for (const operation& o : h.ops) {
      if (same(o, f) || (!o.inserts() && !o.removes())) continue;
      if (lockless::test::precedes(o, f) || lockless::test::precedes(f, o)) continue;
      bool kept = false;
      for (const operation& x : window) kept = kept || same(x, o);
      if (!kept) {
        return "window dropped " + lockless::test::format_operation(o) + ", in flight during " +
               lockless::test::format_operation(f);
      }
    }
  }
  return {};
}

const lc::spec bounded2 = lc::spec::bounded_queue(2);
const lc::spec relaxed2 = lc::spec::bounded_queue(2).full_when_in_flight();

TEST(LincheckRelaxedFull, SpecBuilderAndName) {
  EXPECT_FALSE(bounded2.relaxed_full);
  EXPECT_TRUE(relaxed2.relaxed_full);
  EXPECT_EQ(relaxed2.capacity, 2u);
  EXPECT_TRUE(relaxed2.drained().relaxed_full);
  EXPECT_TRUE(bounded2.drained().full_when_in_flight().complete);
  EXPECT_NE(relaxed2.name().find("full_when_in_flight"), std::string::npos) << relaxed2.name();
  EXPECT_EQ(bounded2.name().find("full_when_in_flight"), std::string::npos) << bounded2.name();
}

TEST(LincheckRelaxedFull, InFlightCounts) {
  const history h = history_builder{}
                        .enq(0, 1, 0, 1)
                        .enq(1, 2, 2, 20)
                        .enq_full(2, 3, 5, 6)
                        .close(3, 4, 30)  // closes do not count
                        .deq(0, 1, 6, 7)  // ret == call stamp: overlap
                        .build();
  const auto k = lc::detail::in_flight_counts(h.ops);
  const auto ref = lc::detail::overlapping_ops(h);
  ASSERT_EQ(k.size(), h.ops.size());
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const operation& op = h.ops[i];
    if (op.kind == lockless::test::op_kind::close) continue;
    EXPECT_EQ(k[i], ref[i]) << lockless::test::format_operation(op);
    if (op.result.status == op_status::full) {
      EXPECT_EQ(k[i], 2u);  // enqueue 2, dequeue
    }
  }
}

// (1) Capacity 2, one element in, a FULL overlapping a pending enqueue that must take effect
// after it (the dequeue that finds the queue empty at [9, 10] shows 2 was not in yet).
TEST(LincheckRelaxedFull, FullWhileAnEnqueueIsInFlight) {
  const history h = history_builder{}
                        .enq(0, 1, 0, 1)
                        .enq(1, 2, 2, 20)  // in flight, holding a slot
                        .enq_full(2, 3, 5, 6)
                        .deq(2, 1, 7, 8)
                        .deq_empty(2, 9, 10)
                        .deq(2, 2, 21, 22)
                        .build();
  expect_linearizable(h, relaxed2);
  expect_linearizable(h, relaxed2.drained());
  expect_violation(h, bounded2, "");  // exact FULL: 2 cannot be in by 6
}

// (1b) The slot is held by a dequeue in flight: never more than one value present.
TEST(LincheckRelaxedFull, FullWhileADequeueIsInFlight) {
  const history h = history_builder{}.enq(0, 1, 0, 1).deq(1, 1, 2, 20).enq_full(2, 3, 5, 6).build();
  expect_linearizable(h, relaxed2);
  expect_violation(h, bounded2, "A8");
}

// Two slots held: capacity 3, one value, two operations in flight.
TEST(LincheckRelaxedFull, TwoOperationsInFlight) {
  const lc::spec relaxed3 = lc::spec::bounded_queue(3).full_when_in_flight();
  const history two = history_builder{}
                          .enq(0, 1, 0, 1)
                          .enq(1, 2, 2, 20)
                          .deq(3, 1, 3, 21)
                          .enq_full(2, 3, 5, 6)
                          .build();
  expect_linearizable(two, relaxed3);
  // one operation in flight is not enough
  const history one =
      history_builder{}.enq(0, 1, 0, 1).deq(3, 1, 3, 21).enq_full(2, 3, 5, 6).build();
  expect_violation(one, relaxed3, "A8");
}

// (2) FULL with nothing in flight while size < capacity.
TEST(LincheckRelaxedFull, FullWithNothingInFlight) {
  expect_violation(history_builder{}.enq(0, 1, 0, 1).enq_full(0, 2, 2, 3).build(), relaxed2, "A8");
  // operations that returned before it was called do not count
  expect_violation(
      history_builder{}.enq(0, 1, 0, 1).deq_empty(1, 0, 1).enq_full(0, 2, 2, 3).build(), relaxed2,
      "A8");
  // on an unbounded queue FULL stays wrong
  expect_violation(history_builder{}.enq(0, 1, 0, 10).enq_full(1, 2, 2, 3).build(),
                   lc::spec::queue().full_when_in_flight(), "A8");
}

TEST(LincheckRelaxedFull, CloseDoesNotHoldASlot) {
  expect_violation(history_builder{}.enq(0, 1, 0, 1).close(1, 2, 20).enq_full(2, 3, 5, 6).build(),
                   relaxed2, "A8");
  // and a FULL after the close returned is wrong whatever is in flight
  expect_violation(history_builder{}
                       .enq(0, 1, 0, 1)
                       .close(1, 2, 3)
                       .enq(3, 4, 2, 20)
                       .enq_full(2, 3, 5, 6)
                       .build(),
                   relaxed2, "A8");
}

// (3) The other rules stay exact under the flag.
TEST(LincheckRelaxedFull, FifoViolationStillCaught) {
  expect_violation(history_builder{}
                       .enq(0, 1, 0, 1)
                       .enq(0, 2, 2, 3)
                       .deq(1, 2, 4, 5)
                       .deq(1, 1, 6, 7)
                       .enq_full(2, 3, 4, 5)  // a legal relaxed FULL alongside
                       .build(),
                   relaxed2, "A6");
}

TEST(LincheckRelaxedFull, OkInsertAtCapacityStillCaught) {
  // an operation in flight makes a FULL legal early, never an ok insert late
  expect_violation(history_builder{}
                       .enq(0, 1, 0, 1)
                       .enq(0, 2, 2, 3)
                       .enq(1, 3, 4, 5)
                       .enq_full(2, 4, 4, 20)
                       .build(),
                   relaxed2, "A9");
}

TEST(LincheckRelaxedFull, EmptyAndClosedStayExact) {
  expect_violation(
      history_builder{}.enq(0, 1, 0, 1).deq_empty(1, 2, 3).enq_full(2, 5, 2, 3).build(), relaxed2,
      "A7");
  expect_violation(history_builder{}
                       .enq(0, 1, 0, 1)
                       .close(0, 2, 3)
                       .deq_closed(1, 4, 5)
                       .enq_full(2, 3, 4, 5)
                       .build(),
                   relaxed2, "A7");
}

// The shrinker must keep what a FULL's k counts: in a history linearizable only thanks to
// an operation in flight, a window around the FULL must not be "confirmed"
// non-linearizable by dropping that operation (without it, the FULL's k is 0). This is
// what check() relies on when it confirms a violation on a window where the exact search
// gave up. (An in-flight enqueue that succeeded is kept anyway, as a value possibly
// present; a failed insert or a remove in flight is kept only by the relaxed closure.)
TEST(LincheckRelaxedFull, WindowConfirmationKeepsTheOperationsInFlight) {
  const history histories[] = {
      history_builder{}
          .enq(0, 1, 0, 1)
          .enq(1, 2, 2, 20)
          .enq_full(2, 3, 5, 6)
          .deq(2, 1, 7, 8)
          .deq_empty(2, 9, 10)
          .deq(2, 2, 21, 22)
          .build(),
      // two FULLs in flight together, each counting the other (any result counts)
      history_builder{}.enq(0, 1, 0, 1).enq_full(1, 5, 2, 20).enq_full(2, 3, 5, 6).build(),
  };
  for (const history& h : histories) {
    SCOPED_TRACE(h.to_string());
    ASSERT_TRUE(lc::check(h, relaxed2).linearizable());
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      lc::result r;
      r.v = lc::verdict::not_linearizable;
      r.window_index = {i};
      r.window = {h.ops[i]};
      lc::shrink_window(h, relaxed2, r);
      EXPECT_FALSE(r.window_confirmed) << "a window of a linearizable history confirmed\n"
                                       << r.report();
    }
    lc::options o;
    o.aspects = false;
    o.exact_opts.max_states = 1;
    const lc::result r = lc::check(h, relaxed2, o);
    EXPECT_FALSE(r.violated()) << r.report();
  }
  // and a real violation next to it comes with a window that keeps them
  const history bad = history_builder{}
                          .enq(0, 1, 0, 1)
                          .enq(1, 2, 2, 20)
                          .enq_full(2, 3, 5, 6)
                          .deq(2, 1, 7, 8)
                          .deq_empty(2, 9, 10)
                          .deq_empty(2, 30, 31)  // 2 is certainly present
                          .deq(2, 2, 32, 33)
                          .build();
  const lc::result b = lc::check(bad, relaxed2, with_reference());
  ASSERT_TRUE(b.violated()) << b.report();
  EXPECT_TRUE(b.window_confirmed) << b.report();
  EXPECT_EQ(window_keeps_in_flight(bad, b.window), "") << b.report();
}

// (4) Random histories under the flag.
struct config {
  const char* name;
  lc::spec s;  // with full_when_in_flight()
  unsigned close_percent;
  bool drain;
  unsigned insert_percent;
};

TEST(LincheckRelaxedFull, TiersAgreeOnRandomHistories) {
  const config configs[] = {
      {"relaxed bounded queue (1)", lc::spec::bounded_queue(1).full_when_in_flight(), 0, false, 60},
      {"relaxed bounded queue (2)", relaxed2, 0, false, 65},
      {"relaxed bounded queue (2), drained", relaxed2, 0, true, 65},
      {"relaxed bounded closable queue (3)", lc::spec::bounded_queue(3).full_when_in_flight(), 5,
       false, 70},
      {"relaxed bounded stack (2)", lc::spec::bounded_stack(2).full_when_in_flight(), 0, false, 65},
  };
  const std::uint64_t spans[] = {5, 15, 40, 100};
  lc::reference_options ro;
  ro.max_ops = 28;
  lc::options co;
  co.reference_max_ops = 28;
  std::uint64_t seed = 20250101;
  std::printf("%-38s %9s %9s %9s %13s %14s\n", "spec", "histories", "lin.", "violating",
              "aspects miss", "exact-full lin");
  for (const config& c : configs) {
    std::mt19937_64 rng(seed++);
    std::size_t histories = 0, lin = 0, viol = 0, aspect_catch = 0, exact_lin = 0, relaxed_only = 0;
    for (std::size_t n = 0; n < lockless_test::scaled(1200); ++n) {
      lc::random_history_options o;
      o.s = c.s;
      o.threads = 2 + rng() % 3;
      o.ops = 3 + rng() % 10;
      o.span = spans[rng() % 4];
      o.skewed = rng() % 4 == 0;
      o.close_percent = c.close_percent;
      o.drain = c.drain;
      o.insert_percent = c.insert_percent;
      o.relaxed_full_percent = 70;
      history h = lc::random_linearizable_history(o, rng);
      const lc::spec s = c.drain ? c.s.drained() : c.s;
      lc::spec exact_full = s;
      exact_full.relaxed_full = false;
      std::string what;
      const bool corrupted = rng() % 2 == 0;
      if (corrupted) {
        const int k = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < k; ++i) what += lc::corrupt(h, rng) + "; ";
      }
      ASSERT_EQ(h.validate(), "");
      const std::string trace =
          std::string(c.name) + " #" + std::to_string(n) + " (" + what + ")\n" + h.to_string();
      const lc::result ref = lc::check_reference(h, s, ro);
      const lc::result ex = lc::check_exact(h, s);
      const lc::result as = lc::check_aspects(h, s);
      ASSERT_FALSE(ref.undecided()) << trace << ref.report();
      ASSERT_FALSE(ex.undecided()) << trace << ex.report();
      ASSERT_EQ(ex.v, ref.v) << trace << "exact: " << ex.report()
                             << "\nreference: " << ref.report();
      if (!corrupted) {
        ASSERT_TRUE(ref.linearizable()) << "generator: not linearizable by construction\n"
                                        << trace << ref.report();
      }
      if (ref.linearizable()) {
        ASSERT_EQ(lc::verify_linearization(h, s, ref.linearization), "") << trace;
        ASSERT_EQ(lc::verify_linearization(h, s, ex.linearization), "") << trace;
        ASSERT_FALSE(as.violated()) << "aspect tier unsound\n" << trace << as.report();
      } else {
        ASSERT_FALSE(as.linearizable()) << trace << as.report();
      }
      // The relaxed spec accepts everything the exact one does.
      const lc::result ref_exact = lc::check_reference(h, exact_full, ro);
      ASSERT_FALSE(ref_exact.undecided()) << trace;
      if (ref_exact.linearizable()) {
        ASSERT_TRUE(ref.linearizable()) << trace;
        ++exact_lin;
      }
      if (ref.linearizable() && ref_exact.violated()) ++relaxed_only;
      const lc::result all = lc::check(h, s, co);
      ASSERT_EQ(all.v, ref.v) << trace << all.report();
      if (all.violated()) {
        ASSERT_TRUE(all.window_confirmed) << trace << all.report();
        history w;
        w.threads = h.threads;
        w.ops = all.window;
        ASSERT_TRUE(lc::check_reference(w, s, ro).violated()) << trace << all.report();
        ASSERT_EQ(window_keeps_in_flight(h, all.window), "") << trace << all.report();
      }
      ++histories;
      if (ref.linearizable()) ++lin;
      if (ref.violated()) ++viol;
      if (as.violated()) ++aspect_catch;
    }
    std::printf("%-38s %9zu %9zu %9zu %13zu %14zu\n", c.name, histories, lin, viol,
                viol - aspect_catch, exact_lin);
    EXPECT_GT(lin, histories / 5) << c.name;
    EXPECT_GT(viol, histories / 5) << c.name;
    // The generator makes relaxed FULL results that the exact spec rejects.
    EXPECT_GT(relaxed_only, histories / 20) << c.name;
  }
}

// Long relaxed histories, where only the exact tier decides: accepted with a witness that
// replays; rejected under the exact-full spec when they hold a relaxed FULL; corrupted ones
// refuted with a window that keeps its FULLs' operations in flight.
TEST(LincheckRelaxedFull, LongHistories) {
  std::mt19937_64 rng(99);
  std::size_t refuted = 0, corrupted_count = 0, exact_rejects = 0;
  for (std::size_t n = 0; n < lockless_test::scaled(24); ++n) {
    lc::random_history_options o;
    o.s = lc::spec::bounded_queue(2 + rng() % 4).full_when_in_flight();
    o.threads = 8;
    o.ops = 500 + rng() % 1500;
    o.span = 50 + rng() % 400;
    o.skewed = rng() % 2 == 0;
    o.drain = rng() % 2 == 0;
    o.insert_percent = 60;
    history h = lc::random_linearizable_history(o, rng);
    const lc::spec s = o.drain ? o.s.drained() : o.s;
    lc::spec exact_full = s;
    exact_full.relaxed_full = false;
    const bool corrupted = n % 2 == 1;
    std::string what;
    if (corrupted) {
      what = lc::corrupt(h, rng);
      ++corrupted_count;
    }
    const lc::result r = lc::check(h, s);
    const std::string trace = s.name() + " (" + what + ")\n" + r.report();
    if (!corrupted) {
      ASSERT_TRUE(r.linearizable()) << trace;
      lc::options eo;  // refuting can be costly: a bounded look
      eo.shrink = false;
      eo.exact_opts.max_states = std::uint64_t{1} << 16;
      if (lc::check(h, exact_full, eo).violated()) ++exact_rejects;
    }
    if (r.linearizable()) {
      ASSERT_EQ(lc::verify_linearization(h, s, r.linearization), "") << trace;
      ASSERT_FALSE(lc::check_aspects(h, s).violated()) << trace;
    } else if (r.violated()) {
      ++refuted;
      ASSERT_TRUE(r.window_confirmed) << trace;
      ASSERT_EQ(window_keeps_in_flight(h, r.window), "") << trace;
      if (r.window.size() <= 24) {
        history w;
        w.threads = h.threads;
        w.ops = r.window;
        lc::reference_options ro;
        ro.max_ops = 24;
        ASSERT_TRUE(lc::check_reference(w, s, ro).violated()) << trace;
      }
    }
  }
  std::printf(
      "%zu long relaxed histories: %zu of %zu corrupted refuted; %zu uncorrupted "
      "rejected under the exact-full spec\n",
      lockless_test::scaled(24), refuted, corrupted_count, exact_rejects);
  EXPECT_GT(refuted, 0u);
  EXPECT_GT(exact_rejects, 0u);
}

}  // namespace
