// lockless/detail/platform.hpp: cache-line size, cache_padded<T>, cpu_relax(), backoff.
//
// Platform facts live here and nowhere else.
//
// cache_line_size
//   The unit of false-sharing avoidance. 128 bytes on x86-64 and AArch64: Intel's L2
//   "spatial prefetcher" pulls cache lines in adjacent pairs, so two variables 64 bytes
//   apart still ping-pong between cores (the same reason folly and crossbeam pad to 128);
//   Apple M-series and several Arm server cores have 128-byte lines outright, as do
//   POWER processors. 64 elsewhere.
//   Override with -DLOCKLESS_CACHE_LINE_SIZE=N (a power of two, as a decimal literal).
//   The value is part of the library's inline ABI namespace (config.hpp): translation
//   units built with different values do not link together.
//
// cpu_relax()
//   The spin-wait hint (x86 PAUSE, Arm YIELD). Under the model checker and the
//   deterministic scheduler it is a scheduling point instead: only one thread runs at a
//   time there, so a spin loop that never yields would spin forever.
//
// count_less16(b, v)
//   How many of the 16 doubles b[0..15] (16-byte aligned) are < v, without a branch: SSE2
//   compares two at a time where x86 has it (8 compares, about 2 ns), a loop of scalar
//   compares elsewhere. NaN compares false. The histogram's bucket search for up to 16
//   bounds (the rest padded with +Inf, which nothing is below).
//
// backoff
//   Bounded exponential backoff for CAS retry loops: 1 (or `first`), 2, 4, ... up to
//   max_spins PAUSEs, after which every further round yields the CPU to the OS scheduler.
//   The yield matters when threads outnumber cores: a preempted thread may be the one that
//   must run for the others to succeed, and spinning only burns its time slice.
//   pause_pinned() is the same without the yield, for a loop that holds a reclamation
//   guard: yielding would keep the epoch back for as long as the thread is off the CPU.
#pragma once

#include <cstddef>
#include <new>
#include <thread>
#include <type_traits>
#include <utility>

#include "atomic.hpp"
#include "config.hpp"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

// The value is chosen in config.hpp, which also puts it into the ABI namespace's name.
inline constexpr std::size_t cache_line_size = LOCKLESS_DETAIL_CACHE_LINE_SIZE;

static_assert(cache_line_size >= alignof(std::max_align_t) &&
                  (cache_line_size & (cache_line_size - 1)) == 0,
              "LOCKLESS_CACHE_LINE_SIZE must be a power of two of at least max_align_t");

// A T alone on its cache line(s): aligned to cache_line_size and padded to a multiple of
// it, so neither its neighbours before nor after can share a line with it.
template <class T>
struct alignas(cache_line_size) cache_padded {
  template <class... Args>
  constexpr explicit cache_padded(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args...>)
      : value(std::forward<Args>(args)...) {}

  T value;

  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }
  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }
};

static_assert(sizeof(cache_padded<char>) == cache_line_size);
static_assert(alignof(cache_padded<char>) == cache_line_size);
static_assert(sizeof(cache_padded<char[cache_line_size + 1]>) == 2 * cache_line_size);

inline void cpu_relax() noexcept {
  if constexpr (scheduler_controlled) {
    yield_point();
  } else {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
    _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
  }
}

inline std::size_t count_less16(const double* b, double v) noexcept {
#if defined(__x86_64__) || defined(_M_X64)
  const __m128d x = _mm_set1_pd(v);
  // Each compare gives all-ones (-1) per double below v; subtracting counts them. Two
  // accumulators keep the dependency chains short.
  __m128i a0 = _mm_setzero_si128();
  __m128i a1 = _mm_setzero_si128();
  for (std::size_t i = 0; i < 16; i += 4) {
    a0 = _mm_sub_epi64(a0, _mm_castpd_si128(_mm_cmplt_pd(_mm_load_pd(b + i), x)));
    a1 = _mm_sub_epi64(a1, _mm_castpd_si128(_mm_cmplt_pd(_mm_load_pd(b + i + 2), x)));
  }
  a0 = _mm_add_epi64(a0, a1);
  a0 = _mm_add_epi64(a0, _mm_unpackhi_epi64(a0, a0));
  return static_cast<std::size_t>(_mm_cvtsi128_si64(a0));
#else
  std::size_t below = 0;
  for (std::size_t i = 0; i < 16; ++i) below += b[i] < v ? 1 : 0;
  return below;
#endif
}

class backoff {
 public:
  static constexpr unsigned max_spins = 64;

  backoff() = default;
  // Starts at `first` PAUSEs instead of 1 (a loop whose retries are known to collide).
  constexpr explicit backoff(unsigned first) noexcept : spins_(first) {}

  // One round of waiting; call after each failed attempt.
  void pause() noexcept {
    if constexpr (scheduler_controlled) {
      yield_point();
      return;
    }
    if (spins_ <= max_spins) {
      for (unsigned i = 0; i < spins_; ++i) cpu_relax();
      spins_ *= 2;
    } else {
      std::this_thread::yield();
    }
  }

  // As pause(), but never yields: for a retry loop that holds a reclamation guard (a pop
  // pinned to an epoch). Yielding there hands the CPU away while the guard holds the epoch
  // back, and on an oversubscribed machine the OS may keep the thread off the CPU for a
  // whole time slice, during which no retired node is freed anywhere. Past max_spins every
  // round is max_spins PAUSEs.
  void pause_pinned() noexcept {
    if constexpr (scheduler_controlled) {
      yield_point();
      return;
    }
    const unsigned n = spins_ <= max_spins ? spins_ : max_spins;
    for (unsigned i = 0; i < n; ++i) cpu_relax();
    if (spins_ <= max_spins) spins_ *= 2;
  }

  void reset() noexcept { spins_ = 1; }

 private:
  unsigned spins_ = 1;
};

// The pause of an operation that lost a race on a hot word (its CAS failed: another
// operation's succeeded) and will try again at once: first, 2 first, 4 first, ... PAUSEs,
// at most `cap` a round, never a yield. Contention management, not waiting: it waits for
// no other thread's step, and the thread that won the race is the one making progress;
// retrying at once would only take the line back from it. With two threads of the same
// role on two CPUs, a retry without it lost most of its races again (docs/benchmarks.md,
// "A pause after a lost race"). Nothing under the checkers: a delay changes no
// interleaving they can explore, so it adds no yield point.
class contention_backoff {
 public:
  constexpr contention_backoff(unsigned first, unsigned cap) noexcept : spins_(first), cap_(cap) {}

  void pause() noexcept {
    if constexpr (!scheduler_controlled) {
      for (unsigned i = 0; i < spins_; ++i) cpu_relax();
      if (spins_ < cap_) spins_ *= 2;
    }
  }

 private:
  unsigned spins_;
  unsigned cap_;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
