// The shared-library case: two libraries, each with its own hidden copy of the epoch code
// (see epoch_dso.hpp), use each other's domains on the same threads.
//
// Nothing in the library's contract limits a domain to the copy of the code that created
// it, and with -fvisibility=hidden (the common default for plugins and for libraries that
// export a narrow C interface) every shared library that includes lockless/epoch.hpp
// gets such a copy. The header these tests were written against identified a domain by
// an id drawn from a per-copy counter (1 for the default domain, then 2, 3, ...) and
// looked the per-thread record cache and the thread's registrations up by that id: A's
// first domain and B's first domain both had id 2, so B's code, asked to pin A's domain,
// found its record of B's own domain and pinned that instead. Every test below creates
// its domains in pairs, one in A and one in B, so that with such a scheme their ids
// collide whatever the test order.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <latch>
#include <thread>

#include "epoch_dso.hpp"

namespace {

using lockless::epoch_domain;

epoch_dso_stats a_stats(epoch_domain* d) {
  epoch_dso_stats s{};
  epoch_dso_a_stats(d, &s);
  return s;
}
epoch_dso_stats b_stats(epoch_domain* d) {
  epoch_dso_stats s{};
  epoch_dso_b_stats(d, &s);
  return s;
}

// One domain made by A's code and one by B's, destroyed by the library that made it.
struct domain_pair {
  epoch_domain* a = epoch_dso_a_make_domain();
  epoch_domain* b = epoch_dso_b_make_domain();
  domain_pair() = default;
  domain_pair(const domain_pair&) = delete;
  domain_pair& operator=(const domain_pair&) = delete;
  ~domain_pair() {
    epoch_dso_b_destroy_domain(b);
    epoch_dso_a_destroy_domain(a);
  }
};

// A guard taken by B's code on A's domain pins A's domain, and not B's own; and the
// mirror image. Each on a fresh thread, whose caches start empty.
TEST(EpochDso, GuardTakenInOneLibraryOnTheOthersDomainPinsThatDomain) {
  domain_pair p;
  std::size_t foreign_pinned = 99;
  std::size_t own_pinned = 99;
  std::thread([&] { epoch_dso_b_pin_and_report(p.a, p.b, &foreign_pinned, &own_pinned); }).join();
  EXPECT_EQ(foreign_pinned, 1u) << "B's guard on A's domain did not pin A's domain";
  EXPECT_EQ(own_pinned, 0u) << "B's guard on A's domain pinned B's own domain";

  foreign_pinned = own_pinned = 99;
  std::thread([&] { epoch_dso_a_pin_and_report(p.b, p.a, &foreign_pinned, &own_pinned); }).join();
  EXPECT_EQ(foreign_pinned, 1u) << "A's guard on B's domain did not pin B's domain";
  EXPECT_EQ(own_pinned, 0u) << "A's guard on B's domain pinned A's own domain";

  // Both threads have exited: nobody is pinned, every registration was released.
  EXPECT_EQ(a_stats(p.a).pinned, 0u);
  EXPECT_EQ(b_stats(p.b).pinned, 0u);
  EXPECT_EQ(a_stats(p.a).registered, 0u);
  EXPECT_EQ(b_stats(p.b).registered, 0u);

  // The same on the main thread, and with both libraries interleaved on one thread.
  foreign_pinned = own_pinned = 99;
  epoch_dso_b_pin_and_report(p.a, p.b, &foreign_pinned, &own_pinned);
  EXPECT_EQ(foreign_pinned, 1u);
  EXPECT_EQ(own_pinned, 0u);
  std::size_t pinned = 99;
  epoch_dso_a_guard(p.a, &pinned);
  EXPECT_EQ(pinned, 1u);
  epoch_dso_b_guard(p.b, &pinned);
  EXPECT_EQ(pinned, 1u);
  EXPECT_EQ(a_stats(p.a).pinned, 0u);
  EXPECT_EQ(b_stats(p.b).pinned, 0u);
}

// Objects retired into A's domain by B's code belong to A's domain: once the retiring
// thread has exited (handing its batch over), a barrier() from A frees them. They used
// to go to B's own domain (the colliding id), where A's barrier could not see them. And the
// mirror image, A's code retiring into B's domain.
TEST(EpochDso, RetireFromOneLibraryIntoTheOthersDomainIsFreedByItsBarrier) {
  domain_pair p;
  std::atomic<std::size_t> freed_into_a{0};
  std::atomic<std::size_t> freed_into_b{0};
  std::thread([&] {
    epoch_dso_b_retire_counted(p.a, p.b, 5, &freed_into_a);
    epoch_dso_a_retire_counted(p.b, p.a, 7, &freed_into_b);
  }).join();
  EXPECT_EQ(a_stats(p.a).registered, 0u);
  EXPECT_EQ(b_stats(p.b).registered, 0u);
  // Each object retired into a domain is that domain's: freed or still pending there.
  EXPECT_EQ(a_stats(p.a).pending + freed_into_a.load(), 5u)
      << "B's retirements into A's domain went elsewhere";
  EXPECT_EQ(b_stats(p.b).pending + freed_into_b.load(), 7u)
      << "A's retirements into B's domain went elsewhere";
  epoch_dso_a_barrier(p.a);
  EXPECT_EQ(freed_into_a.load(), 5u) << "A's barrier did not free what B retired into A's domain";
  epoch_dso_b_barrier(p.b);
  EXPECT_EQ(freed_into_b.load(), 7u) << "B's barrier did not free what A retired into B's domain";
  EXPECT_EQ(a_stats(p.a).pending, 0u);
  EXPECT_EQ(b_stats(p.b).pending, 0u);
}

// A thread that used A's domain through B's code outlives that domain, then keeps using
// B's own domain and exits. Neither must touch the dead domain. B's copy used to file the
// registration under the colliding id, which B's registry still reported alive (B's own
// domain had it): B's next guard on its own domain pinned the dead domain's freed record
// (heap-use-after-free under ASan), and the thread's exit released that record into the
// dead domain.
TEST(EpochDso, ThreadOutlivesTheOtherLibrarysDomainItUsed) {
  epoch_domain* a = epoch_dso_a_make_domain();
  epoch_domain* b = epoch_dso_b_make_domain();
  std::latch used_a(1);
  std::latch a_destroyed(1);
  std::size_t pinned_a = 99;
  std::size_t pinned_b = 99;
  std::thread th([&] {
    epoch_dso_b_guard(a, &pinned_a);  // B's first use on this thread: A's domain
    used_a.count_down();
    a_destroyed.wait();
    epoch_dso_b_guard(b, &pinned_b);
  });
  used_a.wait();
  epoch_dso_a_destroy_domain(a);
  a_destroyed.count_down();
  th.join();
  EXPECT_EQ(pinned_a, 1u);
  EXPECT_EQ(pinned_b, 1u) << "B's guard on its own domain did not pin it";
  EXPECT_EQ(b_stats(b).pinned, 0u);
  EXPECT_EQ(b_stats(b).registered, 0u);
  epoch_dso_b_destroy_domain(b);
}

}  // namespace
