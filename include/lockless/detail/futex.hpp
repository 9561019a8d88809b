// lockless/detail/futex.hpp: the operating system's wait-on-address, with a timeout.
//
// C++20's atomic::wait has no timed form, and the queues' pop_for/push_until need one. On
// Linux the futex system calls provide both the timed wait and the wake-up on the address
// of a 32-bit atomic word (FUTEX_WAIT_PRIVATE with a relative timeout, FUTEX_WAKE_PRIVATE);
// detail/atomic.hpp then uses them for every wait and wake of such a word, so a timed and
// an untimed waiter on the same word are woken alike. Everywhere else the timed wait polls
// (poll_wait_for: short sleeps growing to a millisecond), a documented fallback.
//
// The kernel compares the word with the expected value and sleeps atomically with respect
// to a FUTEX_WAKE on the same address, so a wake between the caller's check and the sleep
// is not lost (the sleep does not start). Spurious returns happen (signals, EAGAIN when
// the word already differs, EINTR): callers loop on their condition.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <thread>

#include "config.hpp"

#if defined(__linux__) && !defined(LOCKLESS_RELACY)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#define LOCKLESS_DETAIL_FUTEX 1
#endif

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

#if defined(LOCKLESS_DETAIL_FUTEX)
inline constexpr bool futex_available = true;

// Sleeps while *word == expected, at most `timeout` (nullptr: no limit).
inline void futex_wait(const void* word, std::uint32_t expected,
                       const std::chrono::nanoseconds* timeout) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout != nullptr) {
    const auto ns = timeout->count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  (void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, tsp, nullptr, 0);
}

// Wakes one (or every) thread sleeping in futex_wait on `word`.
inline void futex_wake(const void* word, bool all) noexcept {
  (void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, all ? INT_MAX : 1, nullptr, nullptr, 0);
}
#else
inline constexpr bool futex_available = false;
inline void futex_wait(const void*, std::uint32_t, const std::chrono::nanoseconds*) noexcept {}
inline void futex_wake(const void*, bool) noexcept {}
#endif

// The portable timed wait: true once changed() holds, false when `timeout` passed first.
template <class Changed>
bool poll_wait_for(Changed&& changed, std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::chrono::microseconds nap(1);
  while (!changed()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(nap);
    if (nap < std::chrono::milliseconds(1)) nap *= 2;
  }
  return true;
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
