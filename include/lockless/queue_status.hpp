// lockless/queue_status.hpp: the status codes of the queues, and the value-or-status result.
//
// WG21 P0260R20 ("C++ Concurrent Queues") reports the outcome of a non-blocking operation
// as a `conqueue_status` and returns a popped value as `std::expected<T, conqueue_status>`.
// This header gives the same shapes in C++20:
//
//   queue_status      P0260's conqueue_status without busy_async (which belongs to the
//                     sender-based operations). Convertible to std::error_code through
//                     queue_category(), so a status can travel where error codes do.
//   queue_result<T>   a value or a queue_status, with std::expected's members: has_value(),
//                     explicit operator bool, operator*, operator->, value(), error(),
//                     value_or(). One type in every language mode: std::expected exists
//                     only from C++23 (GCC 12 ships it only in -std=c++23), and a type that
//                     were std::expected in C++23 translation units and this class in C++20
//                     ones would give one inline function two return types across the
//                     program, an ODR violation no tool reports. C++23 code can turn
//                     one into a std::expected with to_expected() (below).
//
// WHICH STATUSES THE LIBRARY RETURNS
//   success   the operation took effect.
//   empty     a pop found no element (for a timed pop: none arrived before the deadline).
//   full      a push found no free slot (for a timed push: none freed before the deadline).
//             bounded_queue, and drr_scheduler for the flow pushed into; see their headers
//             for what "no free slot" means while other operations are in flight.
//   closed    the queue was closed: a push did nothing; a pop found it closed and drained.
//             drr_scheduler: also a push into a removed flow, or with a stale handle.
//   busy      P0260 allows try_* to fail with busy when they would have to wait for another
//             thread. The queues never return it: they are lock-free (a half-finished
//             operation of another thread is skipped, never waited for). drr_scheduler's
//             try_pop returns it with several consumers (drr_options::single_consumer =
//             false, the default) while another consumer is inside the scheduler's consumer
//             gate (or was a moment before: the first look at the gate is a relaxed load);
//             its pushes never do, and neither does any call with single_consumer = true.
//             The blocking pop waits through busy instead of returning it.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#if __has_include(<expected>)
#include <expected>
#endif

#include "detail/config.hpp"
#include "detail/error.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

enum class queue_status : std::uint8_t { success, empty, full, closed, busy };

[[nodiscard]] constexpr const char* to_string(queue_status s) noexcept {
  switch (s) {
    case queue_status::success:
      return "success";
    case queue_status::empty:
      return "empty";
    case queue_status::full:
      return "full";
    case queue_status::closed:
      return "closed";
    case queue_status::busy:
      return "busy";
  }
  return "unknown queue_status";
}

namespace detail {
class queue_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "lockless.queue"; }
  [[nodiscard]] std::string message(int v) const override {
    return to_string(static_cast<queue_status>(v));
  }
};
}  // namespace detail

// The error category of queue_status. One object per program (an inline variable of
// static storage), so error_code comparisons work across translation units.
[[nodiscard]] inline const std::error_category& queue_category() noexcept {
  static const detail::queue_category_impl category;
  return category;
}

[[nodiscard]] inline std::error_code make_error_code(queue_status s) noexcept {
  return {static_cast<int>(s), queue_category()};
}

namespace detail {
[[noreturn]] inline void throw_bad_queue_result(queue_status s) {
#if defined(__cpp_exceptions)
  throw std::system_error(make_error_code(s), "lockless::queue_result::value() without a value");
#else
  (void)s;
  fatal("lockless::queue_result::value() without a value");
#endif
}
}  // namespace detail

// A value of type T or a queue_status other than success (std::expected's shape).
// value() on a status throws std::system_error carrying make_error_code(error()) (without
// exceptions: a message and std::abort()); operator* and operator-> on a status are a
// precondition violation, as for std::expected.
template <class T>
class [[nodiscard]] queue_result {
  static_assert(!std::is_reference_v<T> && std::is_object_v<T>, "queue_result holds objects");

 public:
  using value_type = T;
  using error_type = queue_status;

  // A status. `s` must not be success (a success carries a value).
  constexpr queue_result(queue_status s) noexcept : has_(false), status_(s), none_() {}  // NOLINT
  // A value, constructed in place.
  template <class... A>
  constexpr explicit queue_result(std::in_place_t,
                                  A&&... a) noexcept(std::is_nothrow_constructible_v<T, A...>)
      : has_(true), status_(queue_status::success) {
    ::new (static_cast<void*>(&value_)) T(std::forward<A>(a)...);
  }

  queue_result(const queue_result& o) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires std::is_copy_constructible_v<T>
      : has_(o.has_), status_(o.status_) {
    if (has_) ::new (static_cast<void*>(&value_)) T(o.value_);
  }
  queue_result(queue_result&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
      : has_(o.has_), status_(o.status_) {
    if (has_) ::new (static_cast<void*>(&value_)) T(std::move(o.value_));
  }
  queue_result& operator=(const queue_result&) = delete;
  queue_result& operator=(queue_result&&) = delete;
  ~queue_result() {
    if (has_) value_.~T();
  }

  [[nodiscard]] constexpr bool has_value() const noexcept { return has_; }
  constexpr explicit operator bool() const noexcept { return has_; }

  [[nodiscard]] T& operator*() & noexcept { return value_; }
  [[nodiscard]] const T& operator*() const& noexcept { return value_; }
  [[nodiscard]] T&& operator*() && noexcept { return std::move(value_); }
  [[nodiscard]] T* operator->() noexcept { return &value_; }
  [[nodiscard]] const T* operator->() const noexcept { return &value_; }

  [[nodiscard]] T& value() & {
    if (!has_) detail::throw_bad_queue_result(status_);
    return value_;
  }
  [[nodiscard]] const T& value() const& {
    if (!has_) detail::throw_bad_queue_result(status_);
    return value_;
  }
  [[nodiscard]] T&& value() && {
    if (!has_) detail::throw_bad_queue_result(status_);
    return std::move(value_);
  }
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    return has_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) && {
    return has_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
  }

  // The status: success when there is a value (std::expected leaves error() undefined
  // then; this one answers).
  [[nodiscard]] constexpr queue_status error() const noexcept { return status_; }

 private:
  bool has_;
  queue_status status_;
  union {
    unsigned char none_;  // the active member without a value (as std::optional does, so
                          // no compiler reads value_ as maybe-uninitialized)
    T value_;
  };
};

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
// For C++23 callers that prefer the standard type: moves the value (or the status) into a
// std::expected. A free function, present only in C++23 translation units, so that
// queue_result's definition is the same token sequence in every mode (the ODR).
template <class T>
[[nodiscard]] std::expected<T, queue_status> to_expected(queue_result<T>&& r) {
  if (r.has_value()) return std::expected<T, queue_status>(std::in_place, *std::move(r));
  return std::expected<T, queue_status>(std::unexpect, r.error());
}
#endif

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE

template <>
struct std::is_error_code_enum<lockless::queue_status> : std::true_type {};
