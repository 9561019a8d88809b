// lockless/detail/atomic.hpp: the atomics shim.
//
// THE ONLY header of the library that includes <atomic> or Relacy. Every other header
// spells shared memory through the names defined here:
//
//   detail::atomic<T>       an atomic variable. Every operation takes its memory order(s)
//                           explicitly: there is no defaulted seq_cst, so an order is a
//                           decision visible at the call site, never an accident.
//                           wait(old, mo) / notify_one() / notify_all() are C++20 atomic
//                           waiting, the only way library code blocks.
//   detail::var<T>          a plain (non-atomic) shared variable, e.g. a node's payload.
//                           In the normal build it is a thin box around a T. Under the
//                           model checker every access is reported, so Relacy sees data
//                           races on payloads and accesses to freed nodes.
//   detail::full_fence()    std::atomic_thread_fence(seq_cst).
//   detail::mutex           std::mutex (the scheduler's own mutex in the deterministic
//                           build). Only for cold paths (registration, thread exit).
//   detail::yield_point()   "this thread waits for another one": a scheduling point for
//                           the model checker and the deterministic scheduler (no-op
//                           normally); every spin loop passes through one (platform.hpp).
//   detail::thread_index()  the model checker's thread number (Relacy build only).
//   detail::model_checked   true in the Relacy build (threads are fibers of one OS thread).
//   detail::deterministic_schedule   true in the deterministic-schedule build.
//   detail::scheduler_controlled     either of the two: a scheduler, not the OS, decides
//                           who runs, so nothing may spin or sleep in real time.
//
// Builds
//   normal                  std::atomic, zero overhead (everything is inline forwarding).
//   LOCKLESS_RELACY         Relacy's rl::atomic / rl::var / rl::atomic_thread_fence. The
//                           caller's function, file and line reach Relacy's reports through
//                           default arguments (__builtin_FUNCTION() etc.), so the very
//                           headers users include are the ones that are model-checked.
//                           Include <relacy/relacy.hpp> (and every system header) before
//                           any lockless header; see tests/relacy/.
//   LOCKLESS_DSCHED         deterministic schedules: std::atomic as in the normal build, but
//                           every atomic operation, plain-variable access, fence, wait,
//                           notify and mutex operation is first a yield point at which the
//                           scheduler of tests/support/dsched.hpp decides which thread runs
//                           next. Threads are real OS threads (so thread_local, the node
//                           pool, thread exit and the x86 pin path are the production ones)
//                           but run one at a time, so a seed or a fuzz input replays an
//                           interleaving exactly. Include "support/dsched.hpp" before any
//                           lockless header. Interleavings only: every execution is
//                           sequentially consistent; weak-memory reorderings are Relacy's job.
//
// Why a wrapper class instead of an alias of std::atomic: an alias would accept
// `x.load()` with its silent seq_cst default. The wrapper has no such overloads.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include <atomic>  // std::memory_order in every build; std::atomic in the non-Relacy ones
#include <mutex>
#include <thread>

#include "config.hpp"
#include "sanitizers.hpp"

#if defined(LOCKLESS_RELACY) && !defined(RL_RELACY_HPP)
#error "LOCKLESS_RELACY: include <relacy/relacy.hpp> before any lockless header"
#endif
#if defined(LOCKLESS_DSCHED) && !defined(LOCKLESS_DSCHED_HPP)
#error "LOCKLESS_DSCHED: include \"support/dsched.hpp\" (tests/) before any lockless header"
#endif
#if defined(LOCKLESS_DSCHED) && defined(LOCKLESS_RELACY)
#error "LOCKLESS_DSCHED and LOCKLESS_RELACY are two different builds"
#endif
#define LOCKLESS_DETAIL_ATOMIC_HPP 1

// `constexpr` where the normal build can constant-initialize atomics (the default epoch
// domain does); Relacy's atomics must be constructed inside the simulation.
#if defined(LOCKLESS_RELACY)
#define LOCKLESS_DETAIL_CONSTEXPR_ATOMICS
#else
#define LOCKLESS_DETAIL_CONSTEXPR_ATOMICS constexpr
#endif

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

using memory_order = std::memory_order;

#if !defined(LOCKLESS_RELACY)

inline constexpr bool model_checked = false;

// In the deterministic build every operation first calls the scheduler, passing the
// caller's site (for its reports); in the normal build both macros vanish.
// SITE_FIRST is the parameter list on its own, SITE the same after other parameters.
#if defined(LOCKLESS_DSCHED)
inline constexpr bool deterministic_schedule = true;
#define LOCKLESS_DETAIL_SITE_FIRST                                               \
  const char *fn_ = __builtin_FUNCTION(), const char *file_ = __builtin_FILE(), \
             unsigned line_ = __builtin_LINE()
#define LOCKLESS_DETAIL_SITE , LOCKLESS_DETAIL_SITE_FIRST
#define LOCKLESS_DETAIL_POINT(ev, addr) \
  ::lockless::dsched::point(::lockless::dsched::event::ev, addr, {fn_, file_, line_})
#define LOCKLESS_DETAIL_WAKE(n) ::lockless::dsched::wake(this, n)
#else
inline constexpr bool deterministic_schedule = false;
#define LOCKLESS_DETAIL_SITE_FIRST
#define LOCKLESS_DETAIL_SITE
#define LOCKLESS_DETAIL_POINT(ev, addr) (void)0
#define LOCKLESS_DETAIL_WAKE(n) (void)0
#endif

template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T>, "atomic<T> needs a trivially copyable T");

 public:
  constexpr atomic() noexcept : a_() {}
  constexpr explicit atomic(T v) noexcept : a_(v) {}
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  [[nodiscard]] T load(memory_order mo LOCKLESS_DETAIL_SITE) const noexcept {
    LOCKLESS_DETAIL_POINT(load, this);
    return a_.load(mo);
  }
  void store(T v, memory_order mo LOCKLESS_DETAIL_SITE) noexcept {
    LOCKLESS_DETAIL_POINT(store, this);
    a_.store(v, mo);
  }
  T exchange(T v, memory_order mo LOCKLESS_DETAIL_SITE) noexcept {
    LOCKLESS_DETAIL_POINT(rmw, this);
    return a_.exchange(v, mo);
  }
  bool compare_exchange_weak(T& expected, T desired, memory_order success,
                             memory_order failure LOCKLESS_DETAIL_SITE) noexcept {
    LOCKLESS_DETAIL_POINT(rmw, this);
    return a_.compare_exchange_weak(expected, desired, success, failure);
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order success,
                               memory_order failure LOCKLESS_DETAIL_SITE) noexcept {
    LOCKLESS_DETAIL_POINT(rmw, this);
    return a_.compare_exchange_strong(expected, desired, success, failure);
  }
  T fetch_add(T v, memory_order mo LOCKLESS_DETAIL_SITE) noexcept
    requires std::is_integral_v<T>
  {
    LOCKLESS_DETAIL_POINT(rmw, this);
    return a_.fetch_add(v, mo);
  }
  T fetch_sub(T v, memory_order mo LOCKLESS_DETAIL_SITE) noexcept
    requires std::is_integral_v<T>
  {
    LOCKLESS_DETAIL_POINT(rmw, this);
    return a_.fetch_sub(v, mo);
  }

  // Blocks while the value equals `old` (C++20 atomic waiting: returns only once a load
  // with order `mo` reads something else; wake-ups come from notify_*). In the
  // deterministic build a waiting thread is parked in the scheduler until a notify on
  // this object, so a lost wake-up shows as a deadlock instead of a hang.
  void wait(T old, memory_order mo LOCKLESS_DETAIL_SITE) const noexcept {
#if defined(LOCKLESS_DSCHED)
    for (;;) {
      LOCKLESS_DETAIL_POINT(wait, this);
      if (a_.load(mo) != old) return;
      // Load and park are one step: no other thread runs in between.
      if (!::lockless::dsched::park(::lockless::dsched::event::wait, this,
                                    {fn_, file_, line_})) {
        a_.wait(old, mo);  // a thread the scheduler does not run: really wait
      }
    }
#else
    a_.wait(old, mo);
#endif
  }
  void notify_one(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
    LOCKLESS_DETAIL_POINT(notify, this);
    a_.notify_one();
    LOCKLESS_DETAIL_WAKE(1);
  }
  void notify_all(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
    LOCKLESS_DETAIL_POINT(notify, this);
    a_.notify_all();
    LOCKLESS_DETAIL_WAKE(~0U);
  }

  static constexpr bool is_always_lock_free = std::atomic<T>::is_always_lock_free;

 private:
  std::atomic<T> a_;
};

// A plain shared variable. get() is a read access, get_mut() a write access; the
// distinction matters only to the checkers: the model checker reports a race when a
// write is not ordered with another access, the deterministic scheduler may switch
// threads before either.
template <class T>
class var {
 public:
  template <class... Args>
  explicit var(std::in_place_t, Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args...>)
      : v_(std::forward<Args>(args)...) {}

  [[nodiscard]] const T& get(LOCKLESS_DETAIL_SITE_FIRST) const noexcept {
    LOCKLESS_DETAIL_POINT(plain_read, this);
    return v_;
  }
  [[nodiscard]] T& get_mut(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
    LOCKLESS_DETAIL_POINT(plain_write, this);
    return v_;
  }

 private:
  T v_;
};

// The only fence the library has: seq_cst, ordering a store before a later load (the
// store-buffering pattern). There is deliberately no fence(order): ThreadSanitizer does
// not model std::atomic_thread_fence (GCC warns with -Wtsan), so an acquire or release
// fence would be silently ignored there; happens-before edges always come from
// release/acquire operations, which TSan sees. In TSan builds the full fence is a relaxed
// locked RMW on a thread-private word: on x86-64 a full barrier for the hardware, and no
// synchronisation for TSan, so it cannot hide a race.
#if defined(LOCKLESS_DETAIL_TSAN) && (defined(__x86_64__) || defined(_M_X64))
inline void full_fence() noexcept {
  static thread_local std::atomic<unsigned> word{0};
  word.fetch_add(0, std::memory_order_relaxed);
}
#else
inline void full_fence(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
  LOCKLESS_DETAIL_POINT(fence, nullptr);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
#endif

#if defined(LOCKLESS_DSCHED)
inline void yield_point(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
  LOCKLESS_DETAIL_POINT(spin, nullptr);
}

// A mutex the scheduler knows: a thread that finds it locked is parked until unlock(),
// so a thread holding it can be preempted (its holder is then the only one that can
// make progress on it) and a lock-order inversion shows as a deadlock.
class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
    for (;;) {
      LOCKLESS_DETAIL_POINT(mutex_lock, this);
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      if (!::lockless::dsched::park(::lockless::dsched::event::mutex_lock, this,
                                    {fn_, file_, line_})) {
        std::this_thread::yield();  // a thread the scheduler does not run
      }
    }
  }
  [[nodiscard]] bool try_lock(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
    LOCKLESS_DETAIL_POINT(mutex_lock, this);
    return !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock(LOCKLESS_DETAIL_SITE_FIRST) noexcept {
    LOCKLESS_DETAIL_POINT(mutex_unlock, this);
    locked_.store(false, std::memory_order_release);
    ::lockless::dsched::wake(this, ~0U);
  }

 private:
  std::atomic<bool> locked_{false};
};
#else
inline void yield_point() noexcept {}
using mutex = std::mutex;
#endif

#undef LOCKLESS_DETAIL_SITE
#undef LOCKLESS_DETAIL_SITE_FIRST
#undef LOCKLESS_DETAIL_POINT
#undef LOCKLESS_DETAIL_WAKE

#else  // LOCKLESS_RELACY ------------------------------------------------------------

inline constexpr bool model_checked = true;
inline constexpr bool deterministic_schedule = false;

inline rl::memory_order to_rl(memory_order mo) noexcept {
  switch (mo) {
    case memory_order::relaxed: return rl::mo_relaxed;
    case memory_order::consume: return rl::mo_consume;
    case memory_order::acquire: return rl::mo_acquire;
    case memory_order::release: return rl::mo_release;
    case memory_order::acq_rel: return rl::mo_acq_rel;
    case memory_order::seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

#define LOCKLESS_DETAIL_CALLER                                                    \
  const char *fn_ = __builtin_FUNCTION(), const char *file_ = __builtin_FILE(), \
             unsigned line_ = __builtin_LINE()
#define LOCKLESS_DETAIL_INFO rl::debug_info(fn_, file_, line_)

template <class T>
class atomic {
 public:
  atomic() : a_() {}
  explicit atomic(T v) : a_() { a_.store(v, rl::mo_relaxed, rl::debug_info("ctor", __FILE__, __LINE__)); }
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  [[nodiscard]] T load(memory_order mo, LOCKLESS_DETAIL_CALLER) const {
    return a_.load(to_rl(mo), LOCKLESS_DETAIL_INFO);
  }
  void store(T v, memory_order mo, LOCKLESS_DETAIL_CALLER) {
    a_.store(v, to_rl(mo), LOCKLESS_DETAIL_INFO);
  }
  T exchange(T v, memory_order mo, LOCKLESS_DETAIL_CALLER) {
    return a_.exchange(v, to_rl(mo), LOCKLESS_DETAIL_INFO);
  }
  bool compare_exchange_weak(T& expected, T desired, memory_order success,
                             memory_order failure, LOCKLESS_DETAIL_CALLER) {
    return a_(LOCKLESS_DETAIL_INFO)
        .compare_exchange_weak(expected, desired, to_rl(success), to_rl(failure));
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order success,
                               memory_order failure, LOCKLESS_DETAIL_CALLER) {
    return a_(LOCKLESS_DETAIL_INFO)
        .compare_exchange_strong(expected, desired, to_rl(success), to_rl(failure));
  }
  T fetch_add(T v, memory_order mo, LOCKLESS_DETAIL_CALLER)
    requires std::is_integral_v<T>
  {
    return a_.fetch_add(v, to_rl(mo), LOCKLESS_DETAIL_INFO);
  }
  T fetch_sub(T v, memory_order mo, LOCKLESS_DETAIL_CALLER)
    requires std::is_integral_v<T>
  {
    return a_.fetch_add(static_cast<T>(0 - v), to_rl(mo), LOCKLESS_DETAIL_INFO);
  }

  // Modelled on Relacy's futex (rl_int_futex_impl): a scheduling point and a seq_cst
  // fence, then the value check and the park with preemption disabled in between, so
  // no notify can slip between them. Relacy reports a DEADLOCK when every thread is
  // parked: a lost wake-up is found, not hung on. Spurious wake-ups are allowed (the
  // loop re-checks), as the standard allows them.
  void wait(T old, memory_order mo, LOCKLESS_DETAIL_CALLER) const {
    rl::context& c = rl::ctx();
    for (;;) {
      c.sched();
      c.atomic_thread_fence_seq_cst();
      T now;
      {
        rl::preemption_disabler pd(c);
        now = a_.load(to_rl(mo), LOCKLESS_DETAIL_INFO);
      }
      if (now != old) return;
      (void)a_.wait(c, false, true, LOCKLESS_DETAIL_INFO);
    }
  }
  void notify_one(LOCKLESS_DETAIL_CALLER) { wake(1, LOCKLESS_DETAIL_INFO); }
  void notify_all(LOCKLESS_DETAIL_CALLER) { wake(1 << 20, LOCKLESS_DETAIL_INFO); }

  static constexpr bool is_always_lock_free = true;

 private:
  void wake(rl::thread_id_t n, rl::debug_info_param info) {
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    (void)a_.wake(c, n, info);
  }

  mutable rl::atomic<T> a_;
};

// The payload lives in a plain member so that any T (move-only, non-default-constructible)
// works; a companion rl::var<int> is touched on every access so Relacy checks the
// accesses for races and for use after free exactly as it would check the payload.
template <class T>
class var {
 public:
  template <class... Args>
  explicit var(std::in_place_t, Args&&... args)
      : v_(std::forward<Args>(args)...), shadow_(0) {}

  [[nodiscard]] const T& get(LOCKLESS_DETAIL_CALLER) const {
    (void)static_cast<int>(shadow_(LOCKLESS_DETAIL_INFO));
    return v_;
  }
  [[nodiscard]] T& get_mut(LOCKLESS_DETAIL_CALLER) {
    shadow_(LOCKLESS_DETAIL_INFO) = 1;
    return v_;
  }

 private:
  T v_;
  mutable rl::var<int> shadow_;
};

inline void full_fence(LOCKLESS_DETAIL_CALLER) {
  rl::atomic_thread_fence(rl::mo_seq_cst, LOCKLESS_DETAIL_INFO);
}
inline void yield_point(LOCKLESS_DETAIL_CALLER) { rl::yield(1, LOCKLESS_DETAIL_INFO); }
inline unsigned thread_index() { return rl::thread_index(); }
// A spin lock on a model-checked atomic, so Relacy sees the cold paths that take it
// (registration) and switches fibers inside them safely (a std::mutex held across a fiber
// switch would deadlock the one OS thread).
class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;
  void lock(LOCKLESS_DETAIL_CALLER) {
    while (locked_.exchange(true, std::memory_order_acquire, fn_, file_, line_)) {
      rl::yield(1, LOCKLESS_DETAIL_INFO);
    }
  }
  void unlock(LOCKLESS_DETAIL_CALLER) { locked_.store(false, std::memory_order_release, fn_, file_, line_); }

 private:
  atomic<bool> locked_{false};
};

#undef LOCKLESS_DETAIL_CALLER
#undef LOCKLESS_DETAIL_INFO

#endif  // LOCKLESS_RELACY

inline constexpr bool scheduler_controlled = model_checked || deterministic_schedule;

}  // namespace lockless::LOCKLESS_ABI_NAMESPACE::detail
