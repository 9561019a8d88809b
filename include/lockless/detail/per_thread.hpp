// lockless/detail/per_thread.hpp: a per-thread slot, striped padded slots, and lane numbers.
//
// per_thread<T, Tag>
//   One T per thread, for the library's per-thread state (the epoch domain's table of a
//   thread's records). local() is the calling thread's T. Tag tells apart two users that
//   keep the same T.
//     normal and LOCKLESS_DSCHED builds: a constinit thread_local (threads are real OS
//       threads there). T must be trivially destructible and constant-initializable, so
//       that local() costs one TLS access (no guard, no wrapper call) and works at any
//       point of a thread's life, also from a thread_local or pthread-key destructor at
//       exit. State that must be handed back at thread exit arms a hook
//       (at_thread_exit(), detail/thread_exit.hpp); nothing runs when T dies.
//     LOCKLESS_RELACY: Relacy's threads are fibers of one OS thread, so a thread_local
//       would be shared by every model thread. The slots are a static array indexed by
//       detail::thread_index(), for at most max_model_threads model threads (more is a
//       fatal() with a message). A slot lives across Relacy executions (and across the
//       checks of one program); it is reset to T{} when it is first touched in a new
//       Relacy context (one rl::simulate run, or the replay of a failing execution that
//       Relacy makes to print its history), so the state a failed execution left behind
//       is dropped (and what it owned leaked) rather than read. Within a context every
//       execution must leave the slots as it found them: that is the user's job (the
//       epoch domain's destructor empties and frees every model thread's table, through
//       for_each_quiescent()).
//   for_each_quiescent(f) calls f(T&) on every slot the caller may take over: in the
//   normal and deterministic builds only the caller's own (other threads' TLS is theirs);
//   under Relacy every model thread's, because its one use, an epoch domain's
//   destructor, runs (by the library's precondition) only where no model thread uses the
//   domain any more, i.e. after every model thread has finished (in a test's after()).
//   at_thread_exit(hook) arms `hook` for the calling thread (detail/thread_exit.hpp);
//   under Relacy it does nothing: model threads have no exit to hook (Relacy runs no
//   thread_local or pthread-key destructor for a fiber), their state is settled by its
//   owner's destructor through for_each_quiescent().
//
// allocate_per_thread<T>(n) / deallocate_per_thread(p)
//   Memory that per-thread state owns (a growable table in a slot). operator new[]
//   normally (value-initialized; throws bad_alloc; counted and failure-injected like any
//   registration allocation in the tests). Under Relacy plain std::malloc, outside
//   Relacy's accounting: a slot outlives the execution that filled it (so a Relacy-
//   tracked array in it would be a per-execution "memory leak"), and every Relacy-tracked
//   free is a branch of its exhaustive search (whether the free is deferred), so an
//   allocation the model does not need would multiply the number of executions.
//
// striped<T, N>
//   N cache-padded Ts (cache_padded<T>, detail/platform.hpp: no two stripes share a cache
//   line), for state that many threads update and someone aggregates now and then
//   (shards). local() is the calling thread's stripe,
//   thread_stripe() % N, where thread_stripe() is a number assigned to each thread once,
//   at its first call, round-robin from one process-wide counter: up to N threads that
//   first ask one after another get distinct stripes, and no thread ever changes stripe.
//   Under Relacy thread_stripe() is detail::thread_index(), so a model is deterministic.
//   for_each(f) visits every stripe (aggregation; a stripe's own synchronization is T's
//   business: striped adds none). The array lives wherever the striped object does.
//
// thread_lane()
//   A LANE NUMBER in 0..63 that one live thread holds at a time: taken at the thread's
//   first call (the lowest free bit of one process-wide word, per copy of the library, by
//   CAS), handed back by a thread-exit hook, then taken by the next thread that asks. A
//   structure can give each number a slot that only its holder writes, without a lock
//   (the histogram's owner lanes); the hand-over is a release ([PL3]) and acquire ([PL2])
//   on the word, so the next holder sees what the previous one wrote. With 64 numbers
//   held, a thread gets max_thread_lanes (none) and asks again at its next call. The main
//   thread never hands its number back (its exit hooks do not run); a forked child keeps
//   the parent's other threads' numbers taken. Under Relacy: the model thread's index.
//
// Guarantees: local() and thread_stripe() after a thread's first call are wait-free and
// allocation-free; the first thread_stripe() call is one relaxed fetch_add. Nothing here
// takes a lock or blocks.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "atomic.hpp"
#include "config.hpp"
#include "error.hpp"
#include "platform.hpp"
#include "thread_exit.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

// Under Relacy: the most model threads any test may have (checked in local()).
inline constexpr unsigned max_model_threads = 16;

// The only Relacy-specific lines of this header: the model thread's number and the
// number of the Relacy context (one rl::simulate run; Relacy's own thread-local emulation
// keys on it too, numbered from 1). Never called in the other builds.
#if defined(LOCKLESS_RELACY)
inline unsigned model_thread_index() noexcept {
  return thread_index();
}
inline unsigned model_context_number() noexcept {
  return rl::ctx().get_ctx_seq();
}
#else
inline unsigned model_thread_index() noexcept {
  return 0;
}
inline unsigned model_context_number() noexcept {
  return 0;
}
#endif

template <class T, class Tag = T>
class per_thread {
  static_assert(std::is_trivially_destructible_v<T>,
                "per_thread<T>: T must be trivially destructible (usable during thread exit)");

 public:
  // The calling thread's slot (a model thread's, under Relacy).
  [[nodiscard]] static T& local() noexcept {
    if constexpr (model_checked) {
      return model_slot(model_thread_index());
    } else {
      return slot_;
    }
  }

  // f(T&) on every slot the caller may take over (see the header block).
  template <class F>
  static void for_each_quiescent(F&& f) {
    if constexpr (model_checked) {
      for (unsigned i = 0; i < max_model_threads; ++i) f(model_slot(i));
    } else {
      f(slot_);
    }
  }

  // Arms `h` for the calling thread's exit (none under Relacy: see the header block).
  static void at_thread_exit(thread_exit_hook& h) noexcept {
    if constexpr (!model_checked) arm_thread_exit_hook(h);
  }

 private:
  // Not used under Relacy, where it would be one object for every model thread.
  static inline thread_local constinit T slot_{};

  struct model_entry {
    T value;
    unsigned context;  // Relacy's context number when the value was last reset; 0: never
  };
  static inline model_entry model_slots_[max_model_threads]{};

  static T& model_slot(unsigned i) noexcept {
    if (i >= max_model_threads) {
      fatal("lockless::detail::per_thread: more model threads than max_model_threads");
    }
    model_entry& e = model_slots_[i];
    const unsigned c = model_context_number();
    if (e.context != c) {  // first touched in this Relacy context: drop older state
      std::destroy_at(&e.value);
      std::construct_at(&e.value);
      e.context = c;
    }
    return e.value;
  }
};

template <class T>
[[nodiscard]] T* allocate_per_thread(std::size_t n) {
  static_assert(std::is_trivially_destructible_v<T> && std::is_nothrow_default_constructible_v<T>);
  if constexpr (model_checked) {
    T* p = static_cast<T*>(std::malloc(n * sizeof(T)));  // not Relacy's: see the header block
    if (p == nullptr) throw_bad_alloc();
    std::uninitialized_value_construct_n(p, n);
    return p;
  } else {
    return new T[n]();
  }
}

template <class T>
void deallocate_per_thread(T* p) noexcept {
  if constexpr (model_checked) {
    std::free(p);
  } else {
    delete[] p;
  }
}

// ---- striped ------------------------------------------------------------------------

struct thread_stripe_slot {
  std::size_t number_plus_one = 0;  // 0: not assigned yet
};

// The calling thread's stripe number (see the header block).
[[nodiscard]] inline std::size_t thread_stripe() noexcept {
  if constexpr (model_checked) {
    return model_thread_index();
  } else {
    // One counter per copy of the library; constant-initialized (no guard). Never
    // constructed under Relacy, whose atomics exist only inside a simulation.
    static atomic<std::size_t> next{0};
    thread_stripe_slot& s = per_thread<thread_stripe_slot>::local();
    if (s.number_plus_one == 0) [[unlikely]] {
      // Relaxed: the number only spreads threads over stripes; it publishes nothing.
      s.number_plus_one = next.fetch_add(1, std::memory_order_relaxed) + 1;
    }
    return s.number_plus_one - 1;
  }
}

// ---- lanes: a number that one live thread holds at a time ----------------------------

// How many lane numbers there are (one word of bits).
inline constexpr std::size_t max_thread_lanes = 64;

struct thread_lane_slot {
  std::uint32_t number_plus_one = 0;  // 0: none held
  thread_exit_hook hook{};            // hands the number back when the thread exits
};

// The lane numbers' word: bit i set while a live thread holds lane i. One per copy of the
// library; constant-initialized (no guard). Not used under Relacy.
inline atomic<std::uint64_t>& thread_lane_word() noexcept {
  static atomic<std::uint64_t> taken{0};
  return taken;
}

// Cold path of thread_lane(): take the lowest free number, or report none (all 64 held;
// the next call tries again).
[[gnu::noinline]] inline std::size_t acquire_thread_lane(thread_lane_slot& s) noexcept {
  atomic<std::uint64_t>& taken = thread_lane_word();
  // [PL1] relaxed look; the CAS below orders.
  std::uint64_t seen = taken.load(std::memory_order_relaxed);
  for (;;) {
    if (seen == ~std::uint64_t{0}) return max_thread_lanes;
    const int i = std::countr_one(seen);
    // [PL2] acquire: pairs with [PL3], the previous holder's release of this number:
    // everything it wrote under the number (a histogram lane's counters) happens-before
    // what this thread writes under it. Failure relaxed: `seen` is re-read.
    if (taken.compare_exchange_weak(seen, seen | (std::uint64_t{1} << i), std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
      s.number_plus_one = static_cast<std::uint32_t>(i) + 1;
      s.hook.run = []() noexcept {
        thread_lane_slot& mine = per_thread<thread_lane_slot>::local();
        const std::uint64_t bit = std::uint64_t{1} << (mine.number_plus_one - 1);
        mine.number_plus_one = 0;
        // [PL3] release: pairs with the next holder's [PL2]. (A subtraction clears the
        // bit: only its holder clears it, and it is set.)
        thread_lane_word().fetch_sub(bit, std::memory_order_release);
      };
      per_thread<thread_lane_slot>::at_thread_exit(s.hook);
      return static_cast<std::size_t>(i);
    }
  }
}

// The calling thread's lane number in 0..max_thread_lanes-1, held by this thread alone
// until it exits (its exit hook hands it back, and the next thread to ask takes the lowest
// free one), or max_thread_lanes when all are held. Numbers are process-wide (per copy of
// the library), taken at a thread's first call. Under Relacy: the model thread's index
// (model threads do not exit).
[[nodiscard]] inline std::size_t thread_lane() noexcept {
  if constexpr (model_checked) {
    return model_thread_index();
  } else {
    thread_lane_slot& s = per_thread<thread_lane_slot>::local();
    if (s.number_plus_one != 0) [[likely]]
      return s.number_plus_one - 1;
    return acquire_thread_lane(s);
  }
}

template <class T, std::size_t N>
class striped {
  static_assert(N > 0, "striped<T, N>: at least one stripe");
  static_assert(alignof(cache_padded<T>) == cache_line_size &&
                    sizeof(cache_padded<T>) % cache_line_size == 0,
                "a stripe starts a cache line and fills whole lines");

 public:
  static constexpr std::size_t stripes = N;

  striped() = default;
  striped(const striped&) = delete;
  striped& operator=(const striped&) = delete;

  // The calling thread's stripe.
  [[nodiscard]] T& local() noexcept { return stripes_[thread_stripe() % N].value; }
  [[nodiscard]] T& operator[](std::size_t i) noexcept { return stripes_[i].value; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return stripes_[i].value; }

  template <class F>
  void for_each(F&& f) {
    for (cache_padded<T>& s : stripes_) f(s.value);
  }
  template <class F>
  void for_each(F&& f) const {
    for (const cache_padded<T>& s : stripes_) f(s.value);
  }

 private:
  cache_padded<T> stripes_[N];
};

static_assert(sizeof(striped<char, 2>) == 2 * cache_line_size &&
                  alignof(striped<char, 2>) == cache_line_size,
              "stripes are adjacent whole cache lines, the first one aligned");

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
