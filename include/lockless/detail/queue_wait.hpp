// lockless/detail/queue_wait.hpp: what the queues' blocking and timed forms share.
//
// await_attempt(ec, attempt, not_yet, deadline) runs a non-waiting operation until it
// gives an answer other than "not yet" (full for a push, empty for a pop): a few tries with
// detail::backoff between them, then sleeps on the event_count `ec`, re-trying after
// every wake-up. With a deadline it gives up once the deadline has passed and returns the
// last "not yet" answer (a timed form reports a timeout as full / empty). The protocol is
// detail/parking.hpp's ([KW1]-[KW5] here, [KN1]-[KN3] on the notifying side): announce,
// re-try, then sleep; the operation that makes progress possible notifies after it.
//
// restore_argument(v, p) puts the value *p back into a push's argument `v` that was moved
// from before the push found out it could not complete (closed).
//
// push_each / pop_each are the bulk forms: one operation per element, stopping at the
// first that does not succeed.
#pragma once

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

#include "atomic.hpp"
#include "parking.hpp"
#include "platform.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

// Tries before a blocking queue operation announces itself and sleeps, with
// detail::backoff between them: 1, 2, 4, ... 64 PAUSEs (about 3 us in all), then
// sched_yield()s, about 20 us together. Polling a queue's line every few nanoseconds
// steals it from the thread that is about to fill (or drain) the queue; backing off lets
// it work in bursts. Measured on a 2-vCPU VM, blocking 1P1C bounded_queue at capacity
// 1024: 32 tight tries gave 0.4 M items/s, this schedule 12-14 M/s (std::mutex +
// condition_variable: 11-13 M/s).
inline constexpr unsigned queue_spin_tries = scheduler_controlled ? 1 : 20;

// The deadline of the untimed blocking forms.
inline constexpr const std::chrono::steady_clock::time_point* no_deadline = nullptr;

template <class Attempt, class NotYet, class Deadline>
auto await_attempt(event_count& ec, Attempt&& attempt, NotYet&& not_yet, const Deadline* deadline)
    -> decltype(attempt()) {
  backoff bo;
  for (unsigned i = 0; i < queue_spin_tries; ++i) {
    auto r = attempt();
    if (!not_yet(r)) return r;
    if (deadline != nullptr && Deadline::clock::now() >= *deadline) return r;  // timed out
    bo.pause();
  }
  for (;;) {
    const event_count::key k = ec.prepare_wait();
    auto r = attempt();
    if (!not_yet(r)) {
      ec.cancel_wait();
      return r;
    }
    if (deadline == nullptr) {
      ec.wait(k);
    } else if (!ec.wait_until(k, *deadline)) {
      return attempt();  // the deadline passed: one last try
    }
  }
}

// Puts a moved-from push argument back (a push refused after its element was built).
template <class T>
void restore_argument(T& v, T* p) noexcept {
  if constexpr (std::is_nothrow_move_assignable_v<T>) {
    v = std::move(*p);
  } else {
    std::destroy_at(&v);
    std::construct_at(&v, std::move(*p));
  }
}

// Calls push(std::move(*it)) for each element of [first, last) until one returns false
// (not pushed); returns how many were pushed.
template <class Push, std::input_iterator It, std::sentinel_for<It> S>
std::size_t push_each(Push&& push, It first, S last) {
  std::size_t n = 0;
  for (; first != last; ++first, ++n) {
    if (!push(std::move(*first))) break;
  }
  return n;
}

// Calls pop() up to `max` times, moving each value into *out++, until one returns no
// value; returns how many values were moved.
template <class Pop, class Out>
std::size_t pop_each(Pop&& pop, Out out, std::size_t max) {
  std::size_t n = 0;
  for (; n < max; ++n) {
    auto r = pop();
    if (!r) break;
    *out = std::move(*r);
    ++out;
  }
  return n;
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
