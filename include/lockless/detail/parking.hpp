// lockless/detail/parking.hpp: event_count, how every blocking operation of the library
// waits (spin a little, then detail::atomic<uint32_t>::wait).
//
// WHAT
//   A blocking operation ("pop, or wait until there is something to pop") needs to sleep
//   until another thread makes its condition true, without a lock around the condition and
//   without missing the wake-up. An event count separates the two: the condition is the
//   caller's (any lock-free state: a queue's indices, a flag), the event count only says
//   "something may have changed since you looked". This one follows the classic design
//   (Vyukov's eventcount; folly::EventCount has the same interface), written for this
//   library's atomics shim:
//
//     epoch_     a 32-bit word, bumped by a notify that finds waiters; the word that
//                blocked threads sleep on (atomic::wait, a futex on Linux).
//     waiters_   how many threads are between prepare_wait() and the end of their
//                wait()/cancel_wait(). A notify that reads 0 here neither writes nor
//                calls the kernel: an uncontended notify is a fence and one load (on
//                x86-64 only the load, right after a read-modify-write: notify_*_after_rmw).
//
// PROTOCOL (what prevents the lost wake-up)
//   waiter                                    notifier
//     k = ec.prepare_wait();   [KW1][KW2][KW3]  make the condition true (any order);
//     if (condition) { ec.cancel_wait(); }     ec.notify_one() / notify_all();  [KN1][KN2][KN3]
//     else           { ec.wait(k); }  [KW4]
//     (and loop: after wait() returns, check again; wake-ups can be spurious)
//   await(ready) runs exactly this loop; prefer it. wait_until(k, deadline) is wait() with a
//   deadline (a futex wait with a timeout on Linux, detail/futex.hpp).
//
//   The lost wake-up is a store-buffering race: the waiter stores "I wait" and then loads
//   the condition, the notifier stores the condition and then loads "anyone waiting?". If
//   both loads could read the old values, the waiter would sleep on a condition already
//   true while the notifier skipped the wake-up. A store followed by a load of ANOTHER
//   object is ordered only by a full fence (or by both accesses being seq_cst, and the
//   condition's accesses belong to the caller, who may use acquire/release or a lock). So
//   BOTH sides use detail::full_fence(): [KW2] after the waiter's increment, [KN1] before the
//   notifier's load. The two fences are ordered in the single total order of seq_cst
//   fences: if [KW2] comes first, [KN2] reads the increment (or later) and the notifier
//   wakes; if [KN1] comes first, the waiter's condition check reads the condition's new
//   value and the waiter does not sleep. A seq_cst RMW in place of a fence would not do:
//   it orders nothing against the caller's non-seq_cst accesses to other objects.
//
//   The key closes the remaining gap, a notify between the waiter's check and its block:
//   the notifier that saw the waiter bumps epoch_ [KN3] before waking, so wait(k) finds
//   epoch_ != k and returns at once instead of sleeping (atomic::wait itself re-checks the
//   value after registering with the kernel, so the bump cannot fall between the check and
//   the sleep either). And a key that already contains that bump comes with its news:
//   [KW3] acquires what [KN3] released, so the waiter's check then sees the condition true.
//
// MEMORY-ORDERING CONTRACT
//   [KW1] prepare_wait: relaxed increment of waiters_. Ordered by [KW2], not by its own order.
//   [KW2] prepare_wait: full fence after [KW1], before the key's load and the caller's check
//         of its condition. Pairs with [KN1] (store buffering, see PROTOCOL). An event
//         count constructed `asymmetric` uses asymmetric_fence::heavy_fence() here, so that
//         notifiers may use the light fence (notify_one_after_light_fence()).
//   [KW3] prepare_wait: acquire load of epoch_ (the key). Pairs with [KN3]: a key that read a
//         bump orders the notifier's condition store before the caller's check.
//   [KW4] wait: acquire loads of epoch_ (spin, then atomic::wait) until it differs from the
//         key. Pair with [KN3], so a wake-up also brings the notifier's writes; not needed
//         for correctness (the caller re-checks after a new prepare_wait), but cheap.
//   [KW5] wait/cancel_wait: relaxed decrement of waiters_. A stale count only costs a
//         notifier a needless bump and wake-up; a too-low count cannot happen, because a
//         waiter decrements only after it stopped waiting.
//   [KN1] notify: full fence after the caller made its condition true, before [KN2]. Pairs
//         with [KW2]. notify_*_after_rmw(): the caller's last condition store is, or
//         precedes, an atomic RMW; on x86-64 that locked instruction is the full barrier
//         and [KN1] is a compiler barrier only (detail::full_fence_after_rmw(): a hardware
//         argument, as epoch.hpp's XCHG pin; the checkers verify the portable fence).
//         notify_one_after_light_fence(), on an `asymmetric` event count: the caller's
//         asymmetric_fence::light_fence() after its condition store is [KN1], paired with
//         the waiters' heavy fence [KW2] (bounded_queue's publish and free).
//   [KN2] notify: relaxed load of waiters_; 0 means no thread can be asleep or about to
//         sleep on an old key, so return (no write, no system call).
//   [KN3] notify: release increment of epoch_, then atomic::notify_one/notify_all. Pairs
//         with [KW3] and [KW4]. Under the C++ model its release is redundant: the fence [KN1]
//         sequenced before it already makes it a release for an acquire load that reads it,
//         so weakening it is harmless there (Relacy agrees: not a mutant). It stays release
//         because the library's happens-before edges come from release/acquire operations,
//         never from fences alone, which ThreadSanitizer does not see (detail/atomic.hpp).
//   Model-checked by tests/relacy/detail_parking.cpp. Each of [KW2], [KW3] and [KN1] weakened,
//   and [KN3]'s bump removed, is a mutant (tests/relacy/detail_parking_mutants.cmake) that
//   Relacy reports as a DEADLOCK (a consumer asleep with nobody left to wake it).
//
// LIMITS
//   epoch_ wraps after 2^32 bumps; a waiter that sleeps through exactly a multiple of 2^32
//   bumps between prepare_wait() and its wait's load would keep sleeping (ABA, the same
//   limit as folly's 32-bit epoch). Every prepare_wait() must be followed by exactly one
//   wait() or cancel_wait() on the same thread (await() does it). notify_one() wakes at
//   least one thread blocked in the kernel, and every waiter whose key is older returns
//   from wait(), so more than one may run: callers re-check and wait again.
//
// CHECKER BUILDS
//   Under LOCKLESS_RELACY and LOCKLESS_DSCHED nothing spins in real time: wait() makes
//   one round of its spin phase (an atomic load, a scheduling point there) and then blocks
//   in the shim's atomic::wait, which parks the thread in the checker, so a lost wake-up
//   is reported as a deadlock instead of hanging.
#pragma once

#include <chrono>
#include <cstdint>

#include "asymmetric_fence.hpp"
#include "atomic.hpp"
#include "config.hpp"
#include "platform.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

class event_count {
 public:
  // What prepare_wait() saw; pass it to wait(). Comparable, for tests.
  struct key {
    std::uint32_t epoch;
    friend bool operator==(key, key) = default;
  };

  // Rounds of the spin phase before blocking: each a load of epoch_ and a cpu_relax()
  // (a PAUSE, roughly 10-150 cycles depending on the CPU). A hand-over between running
  // threads usually completes within them, without a system call on either side.
  static constexpr unsigned spin_rounds = scheduler_controlled ? 1 : 128;

  LOCKLESS_DETAIL_CONSTEXPR_ATOMICS event_count() noexcept : epoch_(0), waiters_(0) {}
  // An event count whose notifiers order their condition store before [KN2] with
  // asymmetric_fence::light_fence() (notify_*_after_light_fence()); its waiters then pay
  // asymmetric_fence::heavy_fence() as [KW2]. Every notify that is not after a light
  // fence keeps its full fence, so the other forms stay correct too.
  struct asymmetric_t {};
  static constexpr asymmetric_t asymmetric{};
  explicit LOCKLESS_DETAIL_CONSTEXPR_ATOMICS event_count(asymmetric_t) noexcept
      : epoch_(0), waiters_(0), asymmetric_(true) {}
  event_count(const event_count&) = delete;
  event_count& operator=(const event_count&) = delete;

  // Announces the calling thread as a waiter and returns the key; then check the condition
  // and call wait(key) if it is still false, cancel_wait() if it is true.
  [[nodiscard]] key prepare_wait() noexcept {
    // [KW1] relaxed: the fence [KW2] orders it before the condition check.
    // [KW2] full fence: the increment before the key's load and the caller's check
    //       (store -> load; pairs with [KN1]).
    // [KW3] acquire: pairs with [KN3]; a key that includes a bump makes the notifier's
    //       condition store visible to the caller's check.
    (void)waiters_.fetch_add(1, std::memory_order_relaxed);
    if (asymmetric_) {
      asymmetric_fence::heavy_fence();
    } else {
      full_fence();
    }
    return key{epoch_.load(std::memory_order_acquire)};
  }

  // Withdraws a prepare_wait() whose condition turned out true.
  void cancel_wait() noexcept {
    (void)waiters_.fetch_sub(1, std::memory_order_relaxed);  // [KW5] a hint only
  }

  // Blocks until a notify that followed prepare_wait() (returns at once if there was one
  // already). Spurious returns are possible: check the condition again.
  void wait(key k) noexcept {
    for (unsigned i = 0; i < spin_rounds; ++i) {
      // [KW4] acquire: pairs with [KN3].
      if (epoch_.load(std::memory_order_acquire) != k.epoch) {
        done_waiting();
        return;
      }
      cpu_relax();
    }
    // [KW4] atomic::wait: returns only once an acquire load reads another epoch.
    epoch_.wait(k.epoch, std::memory_order_acquire);
    done_waiting();
  }

  // As wait(), but gives up at `deadline`: returns false if it passed without a notify
  // (the caller checks its condition once more either way). The checker builds do not
  // model time: there it waits like wait() and returns true.
  template <class Clock, class Duration>
  bool wait_until(key k, const std::chrono::time_point<Clock, Duration>& deadline) noexcept {
    for (unsigned i = 0; i < spin_rounds; ++i) {
      // [KW4] acquire: pairs with [KN3].
      if (epoch_.load(std::memory_order_acquire) != k.epoch) {
        done_waiting();
        return true;
      }
      cpu_relax();
    }
    for (;;) {
      const auto now = Clock::now();
      if (now >= deadline) {
        done_waiting();
        return false;
      }
      // At most a day per system call, so that no conversion overflows; the loop goes on.
      const auto diff = deadline - now;
      const std::chrono::nanoseconds left = diff > std::chrono::hours(24)
                                                ? std::chrono::nanoseconds(std::chrono::hours(24))
                                                : std::chrono::ceil<std::chrono::nanoseconds>(diff);
      // [KW4] timed atomic wait: returns true once an acquire load reads another epoch.
      if (epoch_.wait_for(k.epoch, std::memory_order_acquire, left)) {
        done_waiting();
        return true;
      }
    }
  }

  // Wakes at least one thread waiting on a key older than this call, if there is any.
  void notify_one() noexcept { notify<false, false>(); }
  // Wakes every thread waiting on a key older than this call.
  void notify_all() noexcept { notify<true, false>(); }

  // The same, for a caller whose last store that made the condition true is, or precedes,
  // an atomic read-modify-write of the calling thread (a publishing CAS, an exchange) with
  // no other such store after it: [KN1] is then detail::full_fence_after_rmw(), on x86-64
  // no instruction at all, since the locked RMW already drained the store buffer.
  [[gnu::always_inline]] void notify_one_after_rmw() noexcept { notify<false, true>(); }
  void notify_all_after_rmw() noexcept { notify<true, true>(); }
  // The same, for a caller that made its condition true with a store followed by
  // asymmetric_fence::light_fence(), on an event count constructed `asymmetric`: [KN1] is
  // that light fence (paired with the waiters' heavy fence [KW2]).
  [[gnu::always_inline]] void notify_one_after_light_fence() noexcept { notify<false, 2>(); }

  // Returns once ready() returned true (ready() is called again after every wake-up, and
  // first without announcing anything, so a ready condition costs one call).
  template <class Ready>
  void await(Ready&& ready) {
    if (ready()) return;
    for (;;) {
      const key k = prepare_wait();
      if (ready()) {
        cancel_wait();
        return;
      }
      wait(k);
    }
  }

  // The number of announced waiters, for tests and diagnostics: a snapshot, stale at once.
  [[nodiscard]] std::uint32_t waiter_count() const noexcept {
    return waiters_.load(std::memory_order_relaxed);  // a hint only, orders nothing
  }

 private:
  void done_waiting() noexcept {
    (void)waiters_.fetch_sub(1, std::memory_order_relaxed);  // [KW5] a hint only
  }

  // [KN1]'s three forms: full_fence(), after an RMW full_fence_after_rmw(), after the
  // caller's light fence nothing more (Kind 0, 1, 2).
  template <int Kind>
  static void notify_fence() noexcept {
    if constexpr (Kind == 2) {
      // the caller's asymmetric_fence::light_fence() is [KN1]
    } else if constexpr (Kind == 1) {
      full_fence_after_rmw();
    } else {
      full_fence();
    }
  }

  // Inline up to the load of waiters_ (a caller's common path: nobody waits); the wake-up
  // itself is a call, so that it does not grow the caller's inline path.
  template <bool All, int AfterRmw>
  [[gnu::always_inline]] void notify() noexcept {
    // [KN1] full fence: the caller's condition store before the load below (store -> load;
    //       pairs with [KW2]).
    // [KN2] relaxed: [KN1] orders it; 0 means nobody can sleep on an old key.
    notify_fence<AfterRmw>();
    if (waiters_.load(std::memory_order_relaxed) == 0) [[likely]]
      return;
    wake<All>();
  }

  template <bool All>
  [[gnu::noinline]] void wake() noexcept {
    // [KN3] release: pairs with [KW3] and [KW4]; the bump precedes the wake-up, so a waiter
    // woken (or about to block) finds epoch_ != its key.
    (void)epoch_.fetch_add(1, std::memory_order_release);
    if constexpr (All) {
      epoch_.notify_all();
    } else {
      epoch_.notify_one();
    }
  }

  atomic<std::uint32_t> epoch_;
  atomic<std::uint32_t> waiters_;
  bool asymmetric_ = false;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
