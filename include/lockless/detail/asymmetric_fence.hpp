// lockless/detail/asymmetric_fence.hpp: a pair of store -> load fences whose cost sits on
// one side only (an "asymmetric Dekker"): light_fence() on the frequent path costs a
// compiler barrier, heavy_fence() on the rare path costs a system call.
//
// WHAT
//   Store buffering is the one reordering that acquire/release cannot forbid:
//       thread A:  X = 1;  light_fence();  r1 = Y;
//       thread B:  Y = 1;  heavy_fence();  r2 = X;
//   Guarantee: r1 == 1 or r2 == 1 (never both 0), with X and Y atomics of any order.
//   The usual way is a full fence on both sides (detail::full_fence(): MFENCE or a locked
//   instruction on x86-64, DMB ISH on AArch64), 20-40 cycles on each. When one side runs
//   on every operation and the other almost never, the pair can instead be
//     light_fence()   a compiler barrier (std::atomic_signal_fence): the store and the
//                     load stay in program order in the instruction stream, and the CPU
//                     may still reorder them;
//     heavy_fence()   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (Linux 4.14+): every
//                     CPU currently running a thread of this process executes a full
//                     memory barrier before the call returns, and a thread that is not
//                     running has passed through a context switch, itself a full barrier.
//   Why that suffices: the light side's barrier point is somewhere in A's instruction
//   stream. If it falls after A's store, that store is globally visible before B's load
//   (r2 == 1). If it falls before A's store, A's load comes after it, hence after B's
//   store, which the system call made visible before it sent its interrupts (r1 == 1).
//   The same argument is the basis of Linux's membarrier(2), liburcu's urcu-memb flavour
//   and folly's asymmetricLightBarrier() / asymmetricHeavyBarrier().
//   Nothing in the C++ memory model expresses this; the model checker (Relacy) and the
//   deterministic scheduler therefore see both functions as full fences (below), and
//   check the protocol the pair stands for, a store-buffering pair of seq_cst fences.
//
// WHEN THE CHEAP FORM IS USED ("armed")
//   The expedited command needs a registration, once per process. arm() performs it (and
//   is called by heavy_fence() on first use); a structure calls arm() in its constructor
//   so that its light fences are cheap from the first operation. Until registration has
//   succeeded, light_fence() is a full fence (correct with either form of heavy_fence()).
//   The flag is only ever set after the registration succeeded, and heavy_fence() waits
//   for the registration (a function-local static) before it looks, so a light fence that
//   saw the flag set always pairs with a heavy fence that issued the system call.
//   Not armed (full fences on both sides): not Linux; a kernel without the command
//   (ENOSYS, EINVAL); a seccomp filter that refuses it; ThreadSanitizer builds (TSan does
//   not model the system call, nor fences, and the pair only orders atomics it already
//   sees); the model checker and the deterministic scheduler (see above).
//
// COST (2-vCPU AMD EPYC VM, Linux 6.18; docs/benchmarks.md, "Where the gap to Vyukov's
// ring comes from", rows bounded_queue/heavy_fence)
//   light_fence(): no instruction. heavy_fence(): one system call that interrupts every
//   other CPU running this process's threads: about 1 us here (0.6-2.4 us over
//   repetitions). Worth it only where the heavy side runs orders of magnitude less often
//   than the light one.
//
// LIMITS
//   Threads of this process only (PRIVATE): memory shared with another process is not
//   covered. Signal handlers: nothing special (the pair orders the interrupted code).
#pragma once

#include "atomic.hpp"  // detail::atomic, full_fence(); std::atomic_signal_fence
#include "config.hpp"
#include "sanitizers.hpp"

#if defined(__linux__) && !defined(LOCKLESS_RELACY) && !defined(LOCKLESS_DSCHED) && \
    !defined(LOCKLESS_DETAIL_TSAN)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(SYS_membarrier)
#define LOCKLESS_DETAIL_MEMBARRIER 1
#endif
#endif

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail::asymmetric_fence {

#if defined(LOCKLESS_DETAIL_MEMBARRIER)

// Set once the registration succeeded; never cleared.
inline atomic<bool> armed_flag{false};

inline bool register_once() noexcept {
  static const bool ok = [] {
    const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0 ||
        (cmds & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
      return false;
    }
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
      return false;
    }
    // Not yet relied upon by anybody: a light fence that reads false is a full fence.
    armed_flag.store(true, std::memory_order_release);
    return true;
  }();
  return ok;
}

// Registers this process for the cheap form if the system allows it; idempotent and
// thread-safe. Returns whether light fences are (from now on) compiler barriers.
inline bool arm() noexcept {
  return register_once();
}

// Whether arm() succeeded (a hint for tests and benchmarks).
[[nodiscard]] inline bool armed() noexcept {
  return armed_flag.load(std::memory_order_relaxed);
}

// The frequent side: between its store and its load.
inline void light_fence() noexcept {
  if (armed_flag.load(std::memory_order_relaxed)) [[likely]] {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    full_fence();
  }
}

// The rare side: between its store and its load. A system call when armed.
inline void heavy_fence() noexcept {
  if (register_once()) {
    // Cannot fail once registered (the kernel returns EPERM only without registration).
    (void)syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  } else {
    full_fence();
  }
}

#else  // full fences on both sides

inline bool arm() noexcept {
  return false;
}
[[nodiscard]] inline bool armed() noexcept {
  return false;
}
inline void light_fence() noexcept {
  full_fence();
}
inline void heavy_fence() noexcept {
  full_fence();
}

#endif

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail::asymmetric_fence
