// lockless/detail/queue_wait.hpp: what the queues' blocking and timed forms share.
//
// await_attempt(ec, attempt, not_yet, ready, deadline) runs a non-waiting operation until
// it gives an answer other than "not yet" (full for a push, empty for a pop): a few tries (a
// yield after the first, detail::backoff after the others), then sleeps on the
// event_count `ec`, re-trying after every wake-up. With a deadline it gives up once the
// deadline has passed and returns the last "not yet" answer (a timed form reports a timeout
// as full / empty). The protocol is detail/parking.hpp's ([KW1]-[KW5] here, [KN1]-[KN3] on
// the notifying side): announce, re-try, then sleep; the operation that makes progress
// possible notifies after it.
// `ready` is a hint, a cheap "could a try succeed now?": between the spinning tries, a try
// is made only once ready() says yes. The first try and every try of the sleeping loop are
// made regardless, so the hint decides only when the spin retries, never an answer, and a
// wrong "no" costs at most the rest of the spin (about 20 us) before the sleeping loop's
// exact try. What it is for: a failed try may read the other side's hot line to make its
// answer exact (bounded_queue's full and empty), and a waiter that retries such a try takes
// that line from the thread that is about to make room; ready() reads only lines the waiter
// needs anyway (its own counter, the cell it waits for). The form without `ready` retries
// every time.
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
#include <thread>
#include <type_traits>
#include <utility>

#include "atomic.hpp"
#include "parking.hpp"
#include "platform.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

// Tries before a blocking queue operation announces itself and sleeps. After the first
// failed try the thread yields once (sched_yield()); after the next ones detail::backoff
// spaces them: 1, 2, 4, ... 64 PAUSEs (about 3 us in all), then yields, about 20 us
// together.
// - Why back off at all: polling a queue's line every few nanoseconds steals it from the
//   thread that is about to fill (or drain) the queue. Measured on a 2-vCPU VM, blocking
//   1P1C bounded_queue at capacity 1024: 32 tight tries gave 0.4 M items/s.
// - Why yield first: a consumer that keeps pace with its producer (or a producer with its
//   consumer) finds the queue empty once per element, and with only PAUSEs between its
//   tries it catches every element as soon as it appears. The two threads then hand each
//   element over on its own, every cache line of the queue crossing between the cores
//   once per element ("lock-step"). One yield (about 1 us) lets the other side run a
//   batch ahead, and the lines then cross once per batch. Measured on the same VM
//   (2026-12-05; three builds, each run twice, alternating; 5 interleaved repetitions per
//   run, medians; the range is over the two runs; M items/s; 2P2C and up put 4 or more
//   threads on 2 CPUs and move between runs):
//   | blocking rows            | 1P1C      | 2P2C     | 4P4C    | 8P8C    | RTT p50 / p99 us |
//   | PAUSEs first (until now) | 3.8-4.8   | 3.9-4.4  | 4.0-4.3 | 3.9-4.4 | 1.8 / 3.4-3.6    |
//   | one yield, then PAUSEs   | 10.7-12.5 | 4.0-11.7 | 5.4-5.5 | 3.7-4.1 | 2.1-2.3 / 3.3-3.5 |
//   | yields only              | 11.5-13.4 | 3.1-12.4 | 2.6-3.7 | 4.2-4.4 | 2.2 / 5.0-5.5    |
//   The yield adds about 0.2 us to a handoff that finds the queue empty (0.3-0.5 us per
//   ping-pong round trip); the PAUSEs after it still catch an element that comes within a
//   few microseconds without sleeping.
//   (Under the checkers there is one try, and its wait is a yield point.)
inline constexpr unsigned queue_spin_tries = scheduler_controlled ? 1 : 20;

// The deadline of the untimed blocking forms.
inline constexpr const std::chrono::steady_clock::time_point* no_deadline = nullptr;

// The deadline of a timed form given a duration (push_for, pop_for): d from now, on the
// steady clock. A duration beyond what the clock can count from now (nanoseconds::max(),
// hours::max(), a caller's "for ever") gives the clock's last time point: now + d would
// overflow (undefined behaviour; in practice a deadline in the past, and a wait that timed
// out at once). A duration that is not positive (or NaN) gives now: one try, then the
// timeout.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_in(std::chrono::duration<Rep, Period> d) noexcept {
  using clock = std::chrono::steady_clock;
  const clock::time_point now = clock::now();
  if (!(d > d.zero())) return now;
  // Compared in long double (exact for 64-bit counts): converting either side to the
  // other's units could overflow.
  using wide = std::chrono::duration<long double, std::nano>;
  if (wide(d) >= wide(clock::time_point::max() - now)) return clock::time_point::max();
  return now + std::chrono::duration_cast<clock::duration>(d);
}

// The deadline of a timed form given a time point (push_until, pop_until), in its clock's
// own duration, which every later comparison with Clock::now() uses. A time point of a
// coarser duration beyond that range (time_point<steady_clock, hours>::max(), a caller's
// "for ever") gives the clock's last (or first) time point instead of overflowing when it
// is converted (undefined behaviour; in practice a deadline in the past). A NaN time point
// has passed.
template <class Clock, class Duration>
typename Clock::time_point deadline_at(const std::chrono::time_point<Clock, Duration>& t) noexcept {
  using point = typename Clock::time_point;
  if constexpr (std::is_same_v<Duration, typename Clock::duration>) {
    return t;
  } else {
    using wide = std::chrono::duration<long double, std::nano>;
    const wide w(t.time_since_epoch());
    if (!(w > wide(point::min().time_since_epoch()))) return point::min();  // or NaN
    if (w >= wide(point::max().time_since_epoch())) return point::max();
    return std::chrono::time_point_cast<typename Clock::duration>(t);
  }
}

// `tried`: the caller has made the first try itself and it said "not yet" (a blocking form
// whose common case, a try that succeeds, is inline in the caller; this function is then
// its out-of-line rest). The loop goes on as after its own first try.
template <class Attempt, class NotYet, class Ready, class Deadline>
auto await_attempt(event_count& ec, Attempt&& attempt, NotYet&& not_yet, Ready&& ready,
                   const Deadline* deadline, bool tried = false) -> decltype(attempt()) {
  backoff bo;
  for (unsigned i = 0; i < queue_spin_tries; ++i) {
    if (i == 0 ? !tried : ready()) {
      auto r = attempt();
      if (!not_yet(r)) return r;
      if (deadline != nullptr && Deadline::clock::now() >= *deadline) return r;  // timed out
    } else if (deadline != nullptr && Deadline::clock::now() >= *deadline) {
      return attempt();  // timed out: the last answer is an exact one
    }
    if (i == 0 && !scheduler_controlled) {
      std::this_thread::yield();  // break the lock-step (above)
    } else {
      bo.pause();
    }
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

template <class Attempt, class NotYet, class Deadline>
auto await_attempt(event_count& ec, Attempt&& attempt, NotYet&& not_yet, const Deadline* deadline)
    -> decltype(attempt()) {
  return await_attempt(
      ec, std::forward<Attempt>(attempt), std::forward<NotYet>(not_yet), [] { return true; },
      deadline);
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
