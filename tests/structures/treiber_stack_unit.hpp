// tests/structures/treiber_stack_unit.hpp: treiber_stack's unit tests, written once for
// every stack with its interface: tests/unit/treiber_stack.cpp instantiates them for
// treiber_stack, tests/unit/elimination_stack.cpp for elimination_stack (treiber_stack's
// code with an elimination array as its contention policy, so the same semantics).
//
// Two type-parameterized GoogleTest suites (TYPED_TEST_SUITE_P); a unit file instantiates
// them under its structure's name as the prefix:
//   Semantics<over<Family, Env>>   sequential semantics, move-only and throwing types
//       (strong guarantee), allocation failure, every value destroyed exactly once, values
//       crossing threads, concurrent pushes and pops; over every reclaimer env below (the
//       default epoch_reclaimer, one on a user epoch_domain owned by the fixture, and the
//       test-only quarantine_reclaimer of support/test_reclaimers.hpp, so the
//       detail::reclaimer seam is exercised with a non-epoch policy).
//       Names: <Prefix>/Semantics/<Family>_<Env>.<Test>.
//   Reclamation<Family>            what is specific to a reclaimer: the destructor and the
//       user domain's retired count, the default domain, a pin that fails to register,
//       the quarantine's counts of pins, protects and retires.
//       Names: <Prefix>/Reclamation/<Family>.<Test>.
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(TreiberStack, Semantics,
//                                  over_every_env<backoff_family>, type_names);
//   INSTANTIATE_TYPED_TEST_SUITE_P(TreiberStack, Reclamation,
//                                  ::testing::Types<backoff_family>, type_names);
//
// A Family names one stack type per payload and reclaimer:
//   template <class T, class R> using stack = ...;   the stack type
//   static constexpr const char* name;               for test names
//   template <class S> static std::optional<std::size_t> handed_over(const S& s);
//       how many of s's successful pops took a node handed over by a push (not retired:
//       freed at once, elimination_stack.hpp), or nullopt when the stack cannot tell (an
//       elimination_stack without statistics). treiber_stack: always 0.
// stack_interface_ok<Family> checks the interface at compile time (static_assert it).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <lockless/epoch.hpp>

#include "support/alloc_failure.hpp"  // replaces operator new/delete in this executable
#include "support/counting.hpp"
#include "support/test_reclaimers.hpp"

namespace lockless::test {

// ---- compile-time properties --------------------------------------------------------------

template <class S, class... Args>
concept can_emplace = requires(S& s, Args&&... args) { s.emplace(std::forward<Args>(args)...); };
template <class S, class V>
concept can_push = requires(S& s, V&& v) { s.push(std::forward<V>(v)); };

template <class Family>
consteval bool stack_interface_ok() {
  using int_stack = typename Family::template stack<int, lockless::epoch_reclaimer>;
  using uptr_stack =
      typename Family::template stack<std::unique_ptr<int>, lockless::epoch_reclaimer>;
  using quarantine_stack =
      typename Family::template stack<int, lockless_test::quarantine_reclaimer>;
  static_assert(std::is_same_v<typename int_stack::value_type, int>);
  static_assert(std::is_same_v<typename int_stack::reclaimer_type, lockless::epoch_reclaimer>);
  static_assert(std::is_same_v<typename quarantine_stack::reclaimer_type,
                               lockless_test::quarantine_reclaimer>);
  static_assert(can_push<int_stack, const int&> && can_push<int_stack, int&&>);
  static_assert(!can_emplace<int_stack, std::string>, "emplace is constrained on is_constructible");
  static_assert(can_push<uptr_stack, std::unique_ptr<int>&&>);
  static_assert(!can_push<uptr_stack, const std::unique_ptr<int>&>,
                "push(const T&) requires a copyable T");
  static_assert(can_emplace<uptr_stack, int*>);
  static_assert(!std::is_copy_constructible_v<int_stack> && !std::is_copy_assignable_v<int_stack>);
  return true;
}

// ---- the reclaimers the Semantics tests run over ------------------------------------------
// Each env makes the reclaimers of one test's stacks and, once the stacks using it are
// gone (or quiescent), reclaim() frees what they retired.

struct default_epoch_env {
  using reclaimer = epoch_reclaimer;
  static constexpr const char* name = "DefaultEpoch";
  reclaimer make() { return epoch_reclaimer(); }
  void reclaim() { lockless::default_epoch_domain().barrier(); }
  template <class S>
  void expect_all_reclaimed(const S& s) {
    EXPECT_EQ(&s.reclaimer().domain(), &lockless::default_epoch_domain());
    EXPECT_EQ(lockless::default_epoch_domain().stats().retired_pending, 0u);
  }
};

struct user_epoch_env {
  using reclaimer = epoch_reclaimer;
  static constexpr const char* name = "UserEpochDomain";
  reclaimer make() { return epoch_reclaimer(domain); }
  void reclaim() { domain.barrier(); }
  template <class S>
  void expect_all_reclaimed(const S& s) {
    EXPECT_EQ(&s.reclaimer().domain(), &domain);
    EXPECT_EQ(domain.stats().retired_pending, 0u);
  }
  epoch_domain domain;
};

struct quarantine_env {
  using reclaimer = lockless_test::quarantine_reclaimer;
  static constexpr const char* name = "Quarantine";
  reclaimer make() { return lockless_test::quarantine_reclaimer(); }
  void reclaim() {}  // a quarantine frees everything when its stack is destroyed
  template <class S>
  void expect_all_reclaimed(const S&) {}  // nothing is freed before that
};

// One Semantics configuration: a stack family on a reclaimer env.
template <class Family, class Env>
struct over {
  using family = Family;
  using env = Env;
};

template <class Family>
using over_every_env = ::testing::Types<over<Family, default_epoch_env>,
                                        over<Family, user_epoch_env>, over<Family, quarantine_env>>;

// Test names: <Family>_<Env> for a configuration, <Family> for a family.
struct type_names {
  template <class C>
  static std::string GetName(int) {
    if constexpr (requires { typename C::env; }) {
      return std::string(C::family::name) + "_" + C::env::name;
    } else {
      return C::name;
    }
  }
};

template <class C>
class Semantics : public ::testing::Test {
 protected:
  using Family = typename C::family;
  using Env = typename C::env;
  template <class T>
  using stack = typename Family::template stack<T, typename Env::reclaimer>;

  template <class T>
  stack<T> make() {
    return stack<T>{env_.make()};
  }
  // Frees what the stacks destroyed so far retired (epochs: a barrier).
  void reclaim() { env_.reclaim(); }

  // The quarantine knows every retire: each popped node retired exactly once, except the
  // nodes handed over by a push (elimination_stack), which are freed at once; nothing
  // else retired, no guard left behind. Epochs cannot count per stack.
  // Every pin loads the head through protect(), except a pop that takes a handed node
  // before its first look at the head (elimination_stack's force_exchange): at most one
  // such pin per handed node. (Without statistics handed_over() cannot tell, and without
  // force_exchange the exchanger is visited only after a protect: count none.)
  template <class S>
  void expect_retired(const S& s, std::size_t pops) {
    if constexpr (std::is_same_v<typename Env::reclaimer, lockless_test::quarantine_reclaimer>) {
      const std::optional<std::size_t> handed = Family::handed_over(s);
      if (handed) {
        ASSERT_LE(*handed, pops);
        EXPECT_EQ(s.reclaimer().retires(), pops - *handed)
            << "every pop of the central stack retires its node, no handed node is retired";
      } else {
        EXPECT_LE(s.reclaimer().retires(), pops);
      }
      EXPECT_EQ(s.reclaimer().double_retires(), 0u);
      EXPECT_EQ(s.reclaimer().guards_alive(), 0u);
      EXPECT_GE(s.reclaimer().protects() + handed.value_or(0), s.reclaimer().pins())
          << "every pin loads the head through protect(), unless the pop took a handed node "
             "first";
    } else {
      (void)s;
      (void)pops;
    }
  }

  Env env_;
};

TYPED_TEST_SUITE_P(Semantics);

// Pops everything, top first.
template <class S, class Get>
auto drain(S& s, Get get) {
  using T = typename S::value_type;
  std::vector<decltype(get(std::declval<T&>()))> out;
  while (auto v = s.try_pop()) out.push_back(get(*v));
  return out;
}
template <class S>
std::vector<std::uint64_t> drain_values(S& s) {
  return drain(s, [](auto& v) { return v.value(); });
}

// ---- sequential semantics ---------------------------------------------------------------

TYPED_TEST_P(Semantics, NewStackIsEmpty) {
  auto s = this->template make<int>();
  EXPECT_TRUE(s.was_empty());
  EXPECT_FALSE(s.try_pop().has_value());
}

TYPED_TEST_P(Semantics, LifoOrder) {
  auto s = this->template make<int>();
  for (int i = 0; i < 1000; ++i) s.push(i);
  for (int i = 999; i >= 0; --i) {
    std::optional<int> v = s.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  EXPECT_FALSE(s.try_pop().has_value());
  EXPECT_TRUE(s.was_empty());
  this->expect_retired(s, 1000);
}

TYPED_TEST_P(Semantics, InterleavedPushPop) {
  auto s = this->template make<int>();
  s.push(1);
  s.push(2);
  EXPECT_EQ(s.try_pop(), 2);
  s.push(3);
  s.push(4);
  EXPECT_EQ(s.try_pop(), 4);
  EXPECT_EQ(s.try_pop(), 3);
  s.push(5);
  EXPECT_EQ(s.try_pop(), 5);
  EXPECT_EQ(s.try_pop(), 1);
  EXPECT_EQ(s.try_pop(), std::nullopt);
  this->expect_retired(s, 5);
}

TYPED_TEST_P(Semantics, PushConstRefCopiesPushRvalueMoves) {
  auto s = this->template make<std::string>();
  const std::string a = "a string long enough to live on the heap, not in the SSO buffer";
  s.push(a);
  EXPECT_EQ(a, "a string long enough to live on the heap, not in the SSO buffer");
  std::string b = "another string long enough to live on the heap, not in SSO";
  const char* b_data = b.data();
  s.push(std::move(b));
  std::optional<std::string> top = s.try_pop();
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(*top, "another string long enough to live on the heap, not in SSO");
  // The heap buffer travelled push -> node -> optional by moves only.
  EXPECT_EQ(top->data(), b_data);
  EXPECT_EQ(s.try_pop(), a);
}

struct multi {
  multi(int i_, std::string s_, double d_) : i(i_), s(std::move(s_)), d(d_) {}
  multi() : i(-1), s("default"), d(0.5) {}
  int i;
  std::string s;
  double d;
};

TYPED_TEST_P(Semantics, EmplaceWithSeveralArguments) {
  auto s = this->template make<multi>();
  s.emplace(7, "seven", 7.5);
  s.emplace();  // default construction
  std::string str = "eight";
  s.emplace(8, str, 8.25);  // lvalue argument is copied
  EXPECT_EQ(str, "eight");

  auto m = s.try_pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->i, 8);
  EXPECT_EQ(m->s, "eight");
  EXPECT_EQ(m->d, 8.25);
  m = s.try_pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->i, -1);
  EXPECT_EQ(m->s, "default");
  m = s.try_pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->i, 7);
  EXPECT_EQ(m->s, "seven");
  EXPECT_EQ(m->d, 7.5);
  EXPECT_FALSE(s.try_pop());
}

TYPED_TEST_P(Semantics, TryPopIntoOutArgument) {
  auto s = this->template make<int>();
  int out = 42;
  EXPECT_FALSE(s.try_pop(out));
  EXPECT_EQ(out, 42) << "try_pop(T&) must leave its argument untouched on failure";
  s.push(1);
  s.push(2);
  EXPECT_TRUE(s.try_pop(out));
  EXPECT_EQ(out, 2);
  EXPECT_TRUE(s.try_pop(out));
  EXPECT_EQ(out, 1);
  out = 43;
  EXPECT_FALSE(s.try_pop(out));
  EXPECT_EQ(out, 43);
  this->expect_retired(s, 2);
}

struct untouched_tag {};
TYPED_TEST_P(Semantics, FailedTryPopDoesNotTouchOutArgumentEvenByAssignment) {
  using V = lockless_test::counted<untouched_tag>;
  V::counters().reset();
  {
    auto s = this->template make<V>();
    V out(17);
    const long constructions = V::counters().constructions.load();
    EXPECT_FALSE(s.try_pop(out));
    EXPECT_EQ(out.value(), 17u);
    EXPECT_EQ(V::counters().constructions.load(), constructions);  // no temporary made
  }
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

TYPED_TEST_P(Semantics, WasEmpty) {
  auto s = this->template make<int>();
  EXPECT_TRUE(s.was_empty());
  s.push(1);
  EXPECT_FALSE(s.was_empty());
  s.push(2);
  EXPECT_FALSE(s.was_empty());
  (void)s.try_pop();
  EXPECT_FALSE(s.was_empty());
  (void)s.try_pop();
  EXPECT_TRUE(s.was_empty());
}

TYPED_TEST_P(Semantics, MoveOnlyUniquePtr) {
  auto s = this->template make<std::unique_ptr<int>>();
  s.push(std::make_unique<int>(1));
  auto two = std::make_unique<int>(2);
  int* two_raw = two.get();
  s.push(std::move(two));
  EXPECT_EQ(two, nullptr);
  s.emplace(new int(3));

  std::unique_ptr<int> out;
  ASSERT_TRUE(s.try_pop(out));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 3);
  std::optional<std::unique_ptr<int>> o = s.try_pop();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->get(), two_raw);
  EXPECT_EQ(**o, 2);
  ASSERT_TRUE(s.try_pop(out));
  EXPECT_EQ(*out, 1);
  EXPECT_FALSE(s.try_pop(out));
  EXPECT_EQ(*out, 1);
  this->expect_retired(s, 3);
}

struct move_only_tag {};
TYPED_TEST_P(Semantics, MoveOnlyCountedValuesDestroyedExactlyOnce) {
  using V = lockless_test::move_only<move_only_tag>;
  V::counters().reset();
  {
    auto s = this->template make<V>();
    for (std::uint64_t i = 0; i < 10; ++i) s.emplace(i);
    V v(10);
    s.push(std::move(v));
    EXPECT_EQ(v.value(), V::moved_from);
    auto got = drain_values(s);
    ASSERT_EQ(got.size(), 11u);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], 10 - i);
    this->expect_retired(s, 11);
  }
  this->reclaim();  // epochs: a barrier; a quarantine freed its nodes with the stack
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

// ---- exception safety -----------------------------------------------------------------

struct throwing_tag {};
TYPED_TEST_P(Semantics, ThrowingConstructorLeavesStackUnchanged) {
  using V = lockless_test::throwing<throwing_tag>;
  V::counters().reset();
  {
    auto s = this->template make<V>();
    for (std::uint64_t i = 0; i < 5; ++i) s.emplace(i);
    const long live_before = V::counters().live();
    EXPECT_EQ(live_before, 5);

    {  // emplace: the value constructor throws
      lockless_test::throw_on_nth_construction arm(1);
      EXPECT_THROW(s.emplace(std::uint64_t{100}), lockless_test::injected_error);
    }
    {  // emplace with two arguments
      lockless_test::throw_on_nth_construction arm(1);
      EXPECT_THROW(s.emplace(std::uint64_t{1}, std::uint64_t{2}), lockless_test::injected_error);
    }
    const V source(200);
    {  // push(const T&): the copy constructor throws
      lockless_test::throw_on_nth_construction arm(1);
      EXPECT_THROW(s.push(source), lockless_test::injected_error);
    }
    EXPECT_EQ(source.value(), 200u);
    EXPECT_EQ(V::counters().live(), live_before + 1);  // + source
    EXPECT_FALSE(s.was_empty());

    // After the failures the stack still works and holds exactly 0..4.
    s.push(source);
    auto got = drain_values(s);
    EXPECT_EQ(got, (std::vector<std::uint64_t>{200, 4, 3, 2, 1, 0}));
    this->expect_retired(s, 6);
  }
  this->reclaim();  // epochs: a barrier; a quarantine freed its nodes with the stack
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

// Allocation-failure tests arm the failing allocation on a fresh thread: node memory may
// come from a per-thread cache of freed nodes (detail/node_pool.hpp), which a fresh
// thread does not have, so there the node allocation reaches operator new.
template <class F>
void on_fresh_thread(F f) {
  std::thread(std::move(f)).join();
}

struct alloc_tag {};
TYPED_TEST_P(Semantics, AllocationFailureLeavesStackUnchanged) {
  using V = lockless_test::counted<alloc_tag>;
  V::counters().reset();
  {
    auto s = this->template make<V>();
    for (std::uint64_t i = 0; i < 5; ++i) s.emplace(i);
    const V source(100);
    V moved(101);
    const long live_before = V::counters().live();

    bool threw_emplace = false;
    bool threw_push_copy = false;
    bool threw_push_move = false;
    on_fresh_thread([&] {
      lockless_test::fail_nth_allocation fail(1);
      try {
        s.emplace(std::uint64_t{50});
      } catch (const std::bad_alloc&) {
        threw_emplace = true;
      }
    });
    on_fresh_thread([&] {
      lockless_test::fail_nth_allocation fail(1);
      try {
        s.push(source);
      } catch (const std::bad_alloc&) {
        threw_push_copy = true;
      }
    });
    on_fresh_thread([&] {
      lockless_test::fail_nth_allocation fail(1);
      try {
        s.push(std::move(moved));
      } catch (const std::bad_alloc&) {
        threw_push_move = true;
      }
    });
    EXPECT_TRUE(threw_emplace);
    EXPECT_TRUE(threw_push_copy);
    EXPECT_TRUE(threw_push_move);
    // No value was constructed for the failed pushes (the node allocation comes first),
    // and the one we tried to move from is intact.
    EXPECT_EQ(V::counters().live(), live_before);
    EXPECT_EQ(moved.value(), 101u);

    auto got = drain_values(s);
    EXPECT_EQ(got, (std::vector<std::uint64_t>{4, 3, 2, 1, 0}));
    this->expect_retired(s, 5);
  }
  this->reclaim();  // epochs: a barrier; a quarantine freed its nodes with the stack
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

TYPED_TEST_P(Semantics, AllocationFailureInsidePayloadConstructorLeavesStackUnchanged) {
  // The node allocation succeeds, the std::string copy's buffer allocation throws: the
  // node must be freed (ASan's leak check) and nothing published.
  auto s = this->template make<std::string>();
  s.push("bottom, a string long enough to live on the heap and not in SSO");
  const std::string big = "a string long enough to live on the heap and not in SSO, really";
  bool threw = false;
  on_fresh_thread([&] {
    lockless_test::fail_nth_allocation fail(2);
    try {
      s.push(big);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
  });
  EXPECT_TRUE(threw);
  EXPECT_EQ(s.try_pop(), "bottom, a string long enough to live on the heap and not in SSO");
  EXPECT_FALSE(s.try_pop().has_value());
  this->expect_retired(s, 1);
}

// ---- values crossing threads --------------------------------------------------------------

TYPED_TEST_P(Semantics, ValuesCrossThreadsSequentially) {
  // Pushed on one thread, popped on another (joined in between): LIFO still holds and
  // the popped nodes are reclaimed through the other thread's record (epochs).
  auto s = this->template make<std::unique_ptr<int>>();
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) s.push(std::make_unique<int>(i));
  });
  producer.join();
  std::vector<int> got;
  std::thread consumer([&] {
    while (auto v = s.try_pop()) got.push_back(**v);
  });
  consumer.join();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], 99 - i);
  this->expect_retired(s, 100);
  this->reclaim();
  this->env_.expect_all_reclaimed(s);
}

// Concurrent pushes and pops: every value comes out exactly once, and (quarantine) every
// popped node was retired exactly once, handed-over nodes never. Under contention CASes
// fail, so try_pop's re-protect after a failed CAS runs; the quarantine's re-validation
// hands back the current head instead of the reloaded one when they differ.
TYPED_TEST_P(Semantics, ConcurrentPushPopEveryValueOnce) {
  constexpr int threads = 4;
  constexpr int per_thread = 5000;
  auto s = this->template make<int>();
  std::vector<std::vector<int>> popped(threads);
  {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          s.push(t * per_thread + i);
          if (auto v = s.try_pop()) popped[static_cast<std::size_t>(t)].push_back(*v);
        }
      });
    }
    for (auto& th : ts) th.join();
  }
  std::vector<int> all;
  for (auto& p : popped) all.insert(all.end(), p.begin(), p.end());
  while (auto v = s.try_pop()) all.push_back(*v);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(threads * per_thread));
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int>(i));
  this->expect_retired(s, all.size());
  this->reclaim();
  this->env_.expect_all_reclaimed(s);
}

REGISTER_TYPED_TEST_SUITE_P(Semantics, NewStackIsEmpty, LifoOrder, InterleavedPushPop,
                            PushConstRefCopiesPushRvalueMoves, EmplaceWithSeveralArguments,
                            TryPopIntoOutArgument,
                            FailedTryPopDoesNotTouchOutArgumentEvenByAssignment, WasEmpty,
                            MoveOnlyUniquePtr, MoveOnlyCountedValuesDestroyedExactlyOnce,
                            ThrowingConstructorLeavesStackUnchanged,
                            AllocationFailureLeavesStackUnchanged,
                            AllocationFailureInsidePayloadConstructorLeavesStackUnchanged,
                            ValuesCrossThreadsSequentially, ConcurrentPushPopEveryValueOnce);

// ---- reclaimer-specific: epochs and the quarantine -------------------------------------------

template <class Family>
class Reclamation : public ::testing::Test {
 protected:
  template <class T, class R = epoch_reclaimer>
  using stack = typename Family::template stack<T, R>;
};

TYPED_TEST_SUITE_P(Reclamation);

TYPED_TEST_P(Reclamation, TryPopThatFailsToRegisterThrowsAndLeavesStackUnchanged) {
  // A thread's first guard in a domain registers it, which allocates: try_pop may throw
  // bad_alloc then, before it touches the stack. (Only the first allocation is failed:
  // a later one, the thread's first retire bag, would be std::terminate by design.)
  epoch_domain d;
  typename TestFixture::template stack<int> s{epoch_reclaimer(d)};
  s.push(1);
  s.push(2);
  bool threw = false;
  std::optional<int> got;
  std::thread t([&] {
    try {
      lockless_test::fail_nth_allocation fail(1);
      got = s.try_pop();
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    if (threw) got = s.try_pop();  // registration works on the next attempt
  });
  t.join();
  EXPECT_TRUE(threw) << "the first try_pop of a thread was expected to allocate";
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 2);  // the failed attempt popped nothing
  EXPECT_EQ(s.try_pop(), 1);
  EXPECT_FALSE(s.try_pop().has_value());
}

struct dtor_tag {};
TYPED_TEST_P(Reclamation, DestructorDestroysRemainingValuesExactlyOnce) {
  using V = lockless_test::counted<dtor_tag>;
  V::counters().reset();
  {
    epoch_domain d;
    {
      typename TestFixture::template stack<V> s{epoch_reclaimer(d)};
      for (std::uint64_t i = 0; i < 10; ++i) s.emplace(i);
      EXPECT_EQ(V::counters().live(), 10);
      for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.try_pop().has_value());
      // 7 in the stack + 3 moved-from payloads in popped nodes the domain still holds.
      EXPECT_EQ(V::counters().live(), 10);
    }
    // The destructor destroyed the 7; the 3 retired nodes are the domain's.
    EXPECT_EQ(V::counters().live(), 3);
    EXPECT_EQ(d.stats().retired_pending, 3u);
  }
  // ~epoch_domain freed the retired nodes.
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().constructions.load(), V::counters().destructions.load());
  EXPECT_EQ(V::counters().errors.load(), 0);
}

struct reclaim_tag {};
TYPED_TEST_P(Reclamation, UserDomainReclaimsPoppedNodesAfterBarrier) {
  using V = lockless_test::counted<reclaim_tag>;
  V::counters().reset();
  constexpr std::uint64_t n = 20 * lockless::epoch_domain::bag::capacity + 7;
  {
    epoch_domain d;
    {
      typename TestFixture::template stack<V> s{epoch_reclaimer(d)};
      EXPECT_EQ(&s.reclaimer().domain(), &d);
      for (std::uint64_t i = 0; i < n; ++i) s.emplace(i);
      for (std::uint64_t i = n; i-- > 0;) {
        auto v = s.try_pop();
        ASSERT_TRUE(v.has_value());
        ASSERT_EQ(v->value(), i);
      }
      EXPECT_TRUE(s.was_empty());
      EXPECT_LE(d.stats().retired_pending, n);
      // Nothing was popped twice or lost: every popped node is in the domain, retired.
      EXPECT_EQ(static_cast<std::uint64_t>(V::counters().live()), d.stats().retired_pending);
      d.barrier();
      EXPECT_EQ(d.stats().retired_pending, 0u);
      EXPECT_EQ(V::counters().live(), 0) << "every popped node's payload is destroyed";
    }
  }
  EXPECT_EQ(V::counters().constructions.load(), V::counters().destructions.load());
  EXPECT_EQ(V::counters().constructions.load(), static_cast<long>(2 * n));  // emplace + move out
  EXPECT_EQ(V::counters().errors.load(), 0);
}

struct default_domain_tag {};
TYPED_TEST_P(Reclamation, DefaultReclaimerUsesDefaultDomain) {
  using V = lockless_test::counted<default_domain_tag>;
  V::counters().reset();
  {
    typename TestFixture::template stack<V> s;
    EXPECT_EQ(&s.reclaimer().domain(), &lockless::default_epoch_domain());
    for (std::uint64_t i = 0; i < 100; ++i) s.emplace(i);
    for (std::uint64_t i = 100; i-- > 0;) EXPECT_EQ(s.try_pop()->value(), i);
  }
  lockless::default_epoch_domain().barrier();
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

struct quarantine_tag {};
TYPED_TEST_P(Reclamation, QuarantineSeesOnePinAndProtectPerPopAndFreesWithTheStack) {
  using V = lockless_test::counted<quarantine_tag>;
  V::counters().reset();
  {
    typename TestFixture::template stack<V, lockless_test::quarantine_reclaimer> s;
    for (std::uint64_t i = 0; i < 10; ++i) s.emplace(i);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(s.try_pop().has_value());
    // Single-threaded: no CAS fails, so no re-validation; one pin and one protect per pop.
    EXPECT_EQ(s.reclaimer().pins(), 4u);
    EXPECT_EQ(s.reclaimer().protects(), 4u);
    EXPECT_EQ(s.reclaimer().guards_alive(), 0u);
    EXPECT_EQ(s.reclaimer().retires(), 4u);
    EXPECT_EQ(s.reclaimer().double_retires(), 0u);
    // 6 in the stack + 4 moved-from payloads in popped nodes the quarantine still holds.
    EXPECT_EQ(V::counters().live(), 10);
  }
  // The destructor destroyed the 6, the quarantine (a member) the 4 popped nodes.
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().constructions.load(), V::counters().destructions.load());
  EXPECT_EQ(V::counters().errors.load(), 0);
}

REGISTER_TYPED_TEST_SUITE_P(Reclamation, TryPopThatFailsToRegisterThrowsAndLeavesStackUnchanged,
                            DestructorDestroysRemainingValuesExactlyOnce,
                            UserDomainReclaimsPoppedNodesAfterBarrier,
                            DefaultReclaimerUsesDefaultDomain,
                            QuarantineSeesOnePinAndProtectPerPopAndFreesWithTheStack);

}  // namespace lockless::test
