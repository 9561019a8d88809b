// lockless/detail/atomic.hpp: the atomics shim.
//
// THE ONLY header of the library that includes <atomic> or Relacy. Every other header
// spells shared memory through the names defined here:
//
//   detail::atomic<T>       an atomic variable. Every operation takes its memory order(s)
//                           explicitly: there is no defaulted seq_cst, so an order is a
//                           decision visible at the call site, never an accident.
//   detail::var<T>          a plain (non-atomic) shared variable, e.g. a node's payload.
//                           In the normal build it is a thin box around a T. Under the
//                           model checker every access is reported, so Relacy sees data
//                           races on payloads and accesses to freed nodes.
//   detail::fence(mo)       std::atomic_thread_fence.
//   detail::yield_point()   a scheduling point for the model checker (no-op normally);
//                           every spin loop passes through one (see detail/platform.hpp).
//   detail::thread_index()  the model checker's thread number (Relacy build only).
//   detail::model_checked   true in the Relacy build.
//
// Builds
//   normal                  std::atomic, zero overhead (everything is inline forwarding).
//   LOCKLESS_RELACY         Relacy's rl::atomic / rl::var / rl::atomic_thread_fence. The
//                           caller's function, file and line reach Relacy's reports through
//                           default arguments (__builtin_FUNCTION() etc.), so the very
//                           headers users include are the ones that are model-checked.
//                           Include <relacy/relacy.hpp> (and every system header) before
//                           any lockless header; see tests/relacy/.
//
// Why a wrapper class instead of an alias of std::atomic: an alias would accept
// `x.load()` with its silent seq_cst default. The wrapper has no such overloads.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include <atomic>  // std::memory_order in both builds; std::atomic in the normal one

#if defined(LOCKLESS_RELACY) && !defined(RL_RELACY_HPP)
#error "LOCKLESS_RELACY: include <relacy/relacy.hpp> before any lockless header"
#endif

// `constexpr` where the normal build can constant-initialize atomics (the default epoch
// domain does); Relacy's atomics must be constructed inside the simulation.
#if defined(LOCKLESS_RELACY)
#define LOCKLESS_DETAIL_CONSTEXPR_ATOMICS
#else
#define LOCKLESS_DETAIL_CONSTEXPR_ATOMICS constexpr
#endif

namespace lockless::detail {

using memory_order = std::memory_order;

#if !defined(LOCKLESS_RELACY)

inline constexpr bool model_checked = false;

template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T>, "atomic<T> needs a trivially copyable T");

 public:
  constexpr atomic() noexcept : a_() {}
  constexpr explicit atomic(T v) noexcept : a_(v) {}
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  [[nodiscard]] T load(memory_order mo) const noexcept { return a_.load(mo); }
  void store(T v, memory_order mo) noexcept { a_.store(v, mo); }
  T exchange(T v, memory_order mo) noexcept { return a_.exchange(v, mo); }
  bool compare_exchange_weak(T& expected, T desired, memory_order success,
                             memory_order failure) noexcept {
    return a_.compare_exchange_weak(expected, desired, success, failure);
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order success,
                               memory_order failure) noexcept {
    return a_.compare_exchange_strong(expected, desired, success, failure);
  }
  T fetch_add(T v, memory_order mo) noexcept
    requires std::is_integral_v<T>
  {
    return a_.fetch_add(v, mo);
  }
  T fetch_sub(T v, memory_order mo) noexcept
    requires std::is_integral_v<T>
  {
    return a_.fetch_sub(v, mo);
  }

  static constexpr bool is_always_lock_free = std::atomic<T>::is_always_lock_free;

 private:
  std::atomic<T> a_;
};

// A plain shared variable. get() is a read access, get_mut() a write access; the
// distinction matters only to the model checker, which reports a race when a write is
// not ordered with another access.
template <class T>
class var {
 public:
  template <class... Args>
  explicit var(std::in_place_t, Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args...>)
      : v_(std::forward<Args>(args)...) {}

  [[nodiscard]] const T& get() const noexcept { return v_; }
  [[nodiscard]] T& get_mut() noexcept { return v_; }

 private:
  T v_;
};

#if defined(__SANITIZE_THREAD__)
#define LOCKLESS_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCKLESS_DETAIL_TSAN 1
#endif
#endif

#if defined(LOCKLESS_DETAIL_TSAN) && (defined(__x86_64__) || defined(_M_X64))
// ThreadSanitizer does not model std::atomic_thread_fence (GCC warns with -Wtsan). Every
// fence in this library orders a store before a later load (the store-buffering pattern);
// happens-before edges always come from release/acquire operations, which TSan sees. So
// in TSan builds a fence is a relaxed locked RMW on a thread-private word: on x86-64 a
// full barrier for the hardware, and no synchronisation for TSan, so it cannot hide a race.
inline void fence(memory_order) noexcept {
  static thread_local std::atomic<unsigned> word{0};
  word.fetch_add(0, std::memory_order_relaxed);
}
#else
inline void fence(memory_order mo) noexcept { std::atomic_thread_fence(mo); }
#endif
inline void yield_point() noexcept {}

#else  // LOCKLESS_RELACY ------------------------------------------------------------

inline constexpr bool model_checked = true;

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

  static constexpr bool is_always_lock_free = true;

 private:
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

inline void fence(memory_order mo, LOCKLESS_DETAIL_CALLER) {
  rl::atomic_thread_fence(to_rl(mo), LOCKLESS_DETAIL_INFO);
}
inline void yield_point(LOCKLESS_DETAIL_CALLER) { rl::yield(1, LOCKLESS_DETAIL_INFO); }
inline unsigned thread_index() { return rl::thread_index(); }

#undef LOCKLESS_DETAIL_CALLER
#undef LOCKLESS_DETAIL_INFO

#endif  // LOCKLESS_RELACY

}  // namespace lockless::detail
