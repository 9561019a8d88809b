// lockless/detail/schedule_hooks.hpp: what the deterministic-schedule build calls.
//
// In the LOCKLESS_DSCHED build (see atomic.hpp) every atomic operation, plain shared-
// variable access, fence, wait, notify and mutex operation of the library first calls
// point(), at which a scheduler decides which thread runs next. The library only declares
// these functions; a test scheduler defines them (tests/support/dsched.hpp does), so the
// shipped headers name no test code. Nothing here is used outside that build.
//
// The functions are declared inline: the scheduler defines them in a header, and every
// LOCKLESS_DSCHED translation unit must include that header (in any order relative to the
// library's). One that forgets gets "inline function ... used but never defined" instead
// of a silent ODR violation.
#pragma once

#include <cstdint>

#include "config.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail::schedule_hooks {

// What a thread is about to do at a yield point.
// spin: detail::yield_point(), waiting for another thread (backoff, cpu_relax); wait and
// notify: atomic waiting; start and finish: a thread's first and last step (the
// scheduler's own, never passed by the library).
enum class event : std::uint8_t {
  load,
  store,
  rmw,
  fence,
  plain_read,
  plain_write,
  spin,
  wait,
  notify,
  mutex_lock,
  mutex_unlock,
  start,
  finish,
};

// Where in the source the library was called from (the caller of the shim's operation).
struct site {
  const char* function = "";
  const char* file = "";
  unsigned line = 0;
};

// A yield point of the calling thread, which is about to do `e` on the object at `addr`
// (nullptr for fences and spins). A no-op on a thread that no scheduler runs.
inline void point(event e, const void* addr, site where) noexcept;

// Parks the calling thread until wake(addr); the caller re-checks its condition after.
// Returns false, doing nothing, on a thread that no scheduler runs (the caller then
// really waits). The caller's check of its condition and the park are one step: no other
// scheduled thread runs in between.
inline bool park(event e, const void* addr, site where) noexcept;

// Makes up to n threads parked on addr runnable again (~0U: all of them).
inline void wake(const void* addr, unsigned n) noexcept;

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail::schedule_hooks
