// Unit tests of lockless/queue_status.hpp: queue_status's names, its std::error_category
// and the conversion to std::error_code, and queue_result<T> (std::expected's shape:
// has_value, operator bool, *, ->, value() throwing std::system_error, error(), value_or).
#include <lockless/queue_status.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "support/counting.hpp"

namespace {

using lockless::make_error_code;
using lockless::queue_category;
using lockless::queue_result;
using lockless::queue_status;
using lockless::to_string;
using lockless_test::counted;

// ---- compile-time properties ----------------------------------------------------------

static_assert(std::is_same_v<std::underlying_type_t<queue_status>, std::uint8_t>);
static_assert(std::is_error_code_enum_v<queue_status>);
static_assert(std::string_view(to_string(queue_status::success)) == "success",
              "to_string is constexpr");
static_assert(noexcept(to_string(queue_status::full)));
static_assert(noexcept(make_error_code(queue_status::full)));
static_assert(noexcept(queue_category()));
// An implicit conversion, as for every error-code enum.
static_assert(std::is_convertible_v<queue_status, std::error_code>);

using int_result = queue_result<int>;
static_assert(std::is_same_v<int_result::value_type, int>);
static_assert(std::is_same_v<int_result::error_type, queue_status>);
static_assert(std::is_convertible_v<queue_status, int_result>, "a status converts implicitly");
static_assert(!std::is_convertible_v<int, int_result>, "a value only through in_place");
static_assert(std::is_constructible_v<int_result, std::in_place_t, int>);
static_assert(!std::is_convertible_v<int_result, bool>, "operator bool is explicit");
static_assert(std::is_constructible_v<bool, int_result>);
static_assert(std::is_copy_constructible_v<int_result> && std::is_move_constructible_v<int_result>);
static_assert(!std::is_copy_constructible_v<queue_result<std::unique_ptr<int>>>);
static_assert(std::is_nothrow_move_constructible_v<queue_result<std::unique_ptr<int>>>);
static_assert(std::is_same_v<decltype(*std::declval<int_result&>()), int&>);
static_assert(std::is_same_v<decltype(*std::declval<const int_result&>()), const int&>);
static_assert(std::is_same_v<decltype(*std::declval<int_result&&>()), int&&>);
static_assert(std::is_same_v<decltype(std::declval<int_result&>().value()), int&>);
static_assert(std::is_same_v<decltype(std::declval<int_result&&>().value()), int&&>);
static_assert(noexcept(std::declval<int_result&>().error()));
static_assert(noexcept(std::declval<int_result&>().has_value()));
static_assert(!noexcept(std::declval<int_result&>().value()), "value() may throw");

// ---- queue_status ---------------------------------------------------------------------

TEST(QueueStatus, ToStringNamesEveryEnumerator) {
  EXPECT_STREQ(to_string(queue_status::success), "success");
  EXPECT_STREQ(to_string(queue_status::empty), "empty");
  EXPECT_STREQ(to_string(queue_status::full), "full");
  EXPECT_STREQ(to_string(queue_status::closed), "closed");
  EXPECT_STREQ(to_string(queue_status::busy), "busy");
  EXPECT_STREQ(to_string(static_cast<queue_status>(200)), "unknown queue_status");
}

TEST(QueueStatus, EnumeratorsHaveP0260Order) {
  EXPECT_EQ(static_cast<int>(queue_status::success), 0);
  EXPECT_EQ(static_cast<int>(queue_status::empty), 1);
  EXPECT_EQ(static_cast<int>(queue_status::full), 2);
  EXPECT_EQ(static_cast<int>(queue_status::closed), 3);
  EXPECT_EQ(static_cast<int>(queue_status::busy), 4);
}

TEST(QueueStatus, CategoryIsOneObjectWithNameAndMessages) {
  const std::error_category& c = queue_category();
  EXPECT_EQ(&c, &queue_category());
  EXPECT_STREQ(c.name(), "lockless.queue");
  for (queue_status s : {queue_status::success, queue_status::empty, queue_status::full,
                         queue_status::closed, queue_status::busy}) {
    EXPECT_EQ(c.message(static_cast<int>(s)), to_string(s));
  }
  EXPECT_EQ(c.message(99), "unknown queue_status");
  EXPECT_NE(c, std::generic_category());
  EXPECT_NE(c, std::system_category());
}

TEST(QueueStatus, ConvertsToErrorCode) {
  const std::error_code full = make_error_code(queue_status::full);
  EXPECT_EQ(full.value(), static_cast<int>(queue_status::full));
  EXPECT_EQ(full.category(), queue_category());
  EXPECT_EQ(full.message(), "full");
  EXPECT_TRUE(static_cast<bool>(full));

  // The implicit conversion (is_error_code_enum) finds make_error_code by ADL.
  std::error_code ec = queue_status::closed;
  EXPECT_EQ(ec, make_error_code(queue_status::closed));
  EXPECT_EQ(ec, queue_status::closed);
  EXPECT_NE(ec, queue_status::empty);
  ec = queue_status::empty;
  EXPECT_EQ(ec.message(), "empty");

  // success is value 0: "no error", as an error_code should say.
  const std::error_code ok = queue_status::success;
  EXPECT_FALSE(static_cast<bool>(ok));
  EXPECT_EQ(ok.category(), queue_category());

  // Same value, other category: different codes.
  EXPECT_NE(std::error_code(static_cast<int>(queue_status::full), std::generic_category()), full);
}

// ---- queue_result -----------------------------------------------------------------------

TEST(QueueResult, StatusResultHasNoValue) {
  for (queue_status s :
       {queue_status::empty, queue_status::full, queue_status::closed, queue_status::busy}) {
    const int_result r(s);
    EXPECT_FALSE(r.has_value());
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error(), s);
    EXPECT_EQ(r.value_or(7), 7);
  }
}

TEST(QueueResult, ValueResult) {
  int_result r(std::in_place, 42);
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(r);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(r.error(), queue_status::success) << "error() answers success when there is a value";
  EXPECT_EQ(r.value_or(7), 42);
  *r = 43;  // operator* gives the stored object
  EXPECT_EQ(r.value(), 43);
  r.value() = 44;
  EXPECT_EQ(*r, 44);
  const int_result& cr = r;
  EXPECT_EQ(*cr, 44);
  EXPECT_EQ(cr.value(), 44);
  EXPECT_EQ(std::move(r).value(), 44);
}

TEST(QueueResult, ArrowReachesMembers) {
  struct point {
    int x;
    int y;
  };
  queue_result<point> r(std::in_place, point{3, 4});
  EXPECT_EQ(r->x, 3);
  r->y = 5;
  const queue_result<point>& cr = r;
  EXPECT_EQ(cr->y, 5);

  queue_result<std::string> s(std::in_place, 5, 'x');  // in_place forwards several args
  EXPECT_EQ(s->size(), 5u);
  EXPECT_EQ(*s, "xxxxx");
}

TEST(QueueResult, ValueWithoutValueThrowsSystemErrorWithTheStatusCode) {
  for (queue_status s :
       {queue_status::empty, queue_status::full, queue_status::closed, queue_status::busy}) {
    int_result r(s);
    try {
      (void)r.value();
      ADD_FAILURE() << "value() on " << to_string(s) << " did not throw";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), make_error_code(s));
      EXPECT_EQ(e.code(), s);
      EXPECT_EQ(&e.code().category(), &queue_category());
      EXPECT_NE(std::string(e.what()).find(to_string(s)), std::string::npos)
          << "what() carries the status name: " << e.what();
    }
    const int_result& cr = r;
    EXPECT_THROW((void)cr.value(), std::system_error);
    EXPECT_THROW((void)std::move(r).value(), std::system_error);
  }
}

TEST(QueueResult, MoveOnlyValue) {
  queue_result<std::unique_ptr<int>> r(std::in_place, std::make_unique<int>(9));
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 9);
  queue_result<std::unique_ptr<int>> moved(std::move(r));
  ASSERT_TRUE(moved);
  EXPECT_EQ(**moved, 9);
  std::unique_ptr<int> out = std::move(moved).value();
  EXPECT_EQ(*out, 9);
  EXPECT_EQ(*moved, nullptr) << "value() && moves the value out";

  queue_result<std::unique_ptr<int>> st(queue_status::empty);
  std::unique_ptr<int> fallback = std::move(st).value_or(std::make_unique<int>(1));
  EXPECT_EQ(*fallback, 1);
  queue_result<std::unique_ptr<int>> val(std::in_place, std::make_unique<int>(2));
  std::unique_ptr<int> got = std::move(val).value_or(nullptr);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, 2);
}

TEST(QueueResult, ValueOrConvertsTheFallback) {
  queue_result<std::string> none(queue_status::closed);
  EXPECT_EQ(none.value_or("fallback"), "fallback");
  queue_result<std::string> some(std::in_place, "value");
  EXPECT_EQ(some.value_or("fallback"), "value");
  EXPECT_EQ(*some, "value") << "value_or on an lvalue copies";
  queue_result<long> l(queue_status::empty);
  EXPECT_EQ(l.value_or(3), 3L);
}

TEST(QueueResult, CopyAndMoveKeepValueOrStatus) {
  const queue_result<std::string> a(std::in_place, "a string long enough to leave the SSO buffer");
  const queue_result<std::string> b(a);  // NOLINT(performance-unnecessary-copy-initialization)
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, *a);
  EXPECT_EQ(*a, "a string long enough to leave the SSO buffer");
  const queue_result<std::string> st(queue_status::full);
  const queue_result<std::string> st2(st);
  EXPECT_FALSE(st2);
  EXPECT_EQ(st2.error(), queue_status::full);
  queue_result<std::string> st3(std::move(const_cast<queue_result<std::string>&>(st)));
  EXPECT_EQ(st3.error(), queue_status::full);
}

struct result_tag {};
TEST(QueueResult, DestroysItsValueExactlyOnce) {
  using V = counted<result_tag>;
  V::counters().reset();
  {
    queue_result<V> r(std::in_place, 5);
    queue_result<V> copy(r);
    queue_result<V> moved(std::move(r));
    queue_result<V> none(queue_status::empty);
    queue_result<V> none_copy(none);
    EXPECT_EQ(copy->value(), 5u);
    EXPECT_EQ(moved->value(), 5u);
    EXPECT_EQ(V::counters().live(), 3) << "a status result holds no object";
  }
  EXPECT_EQ(V::counters().live(), 0);
  EXPECT_EQ(V::counters().errors.load(), 0);
}

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
TEST(QueueResult, ToExpectedInCxx23) {
  auto e = lockless::to_expected(int_result(std::in_place, 3));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, 3);
  auto f = lockless::to_expected(int_result(queue_status::closed));
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error(), queue_status::closed);
}
#endif

}  // namespace
