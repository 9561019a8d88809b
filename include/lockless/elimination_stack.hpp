// lockless/elimination_stack.hpp: the elimination back-off stack of Hendler, Shavit and
// Yerushalmi: a Treiber stack whose back-off is an elimination array.
//
// WHAT
//   An unbounded MPMC LIFO stack with the interface of treiber_stack (push, emplace,
//   try_pop, was_empty, reclaimer()), built on the very same code: treiber_stack.hpp's
//   detail::treiber_core, with this header's elimination array as its contention policy.
//   Every operation first tries the central stack (one CAS on its head, treiber_stack.hpp
//   [TP2]/[TC3]). Only when that CAS fails, i.e. only under contention, does the operation
//   visit one slot of the elimination array: a push offers its node there, a pop looks for
//   an offered node. A push and a pop that meet cancel out without touching the central
//   stack's head, so under a balanced load the stack scales past the single CAS point of
//   the Treiber stack. If no partner comes within a bounded wait, the operation withdraws
//   and tries the central stack again.
//   Reclaimer: any detail::reclaimer (detail/reclaimer.hpp); epoch_reclaimer by default.
//   Options (detail/options.hpp, the options form): elimination_options below.
//
// THE EXCHANGER (one slot; a word, changed by CAS only)
//     EMPTY ──push offers n [XP2]──▶ n ──pop takes [XC2]──▶ TAKEN ──push resets [XP6]──▶ EMPTY
//       │                            └──push withdraws [XP5]──▶ EMPTY
//       └──pop waits [XC3]──▶ WAITING ──push gives n [XP3]──▶ n|1 ──pop resets [XC6]──▶ EMPTY
//                                     └──pop withdraws [XC5]──▶ EMPTY
//   EMPTY = 0, WAITING = 1, TAKEN = 2; n is a node pointer (aligned to at least 8, so never
//   0..3 and its low bit is free for "given"). A visitor that finds the slot in a state it
//   cannot use (two pushes, two pops, or a reset not done yet) has collided: it leaves at
//   once. Only the party that installed a state (the offering push, the waiting pop) takes
//   the slot back to EMPTY, so a slot's word cannot return to a value a visitor read
//   earlier while that visitor's CAS is in flight for the wrong reason (no ABA): an offer
//   word n always means "node n, offered now", whoever offered it.
//
// ADAPTIVE RANGE AND WAIT
//   An operation picks a slot at random in [0, range), range in [1, width]. range is one
//   word per stack, a hint read and written relaxed ([XR1]): an offer that times out
//   without a partner shrinks it by one (the array is too wide for the load: partners miss
//   each other), a visit that collides grows it by one (too narrow: operations queue on a
//   slot). HSY 2004 keeps this factor per thread; one shared hint needs no per-thread state
//   per stack and converges as fast, and it is written only on the contended path. range
//   starts at 1, so a lightly contended stack uses one slot, where partners find each other.
//   The wait adapts the same way (a second hint word, [XR1]): an offer that times out
//   halves it (down to exchange_spins / 16), an offer that met a partner while waiting
//   doubles it (up to exchange_spins). Where CAS failures come without partners (two
//   threads, one pushing while the other pops, or few cores), a failed CAS soon costs only
//   a short wait, close to treiber_stack's backoff; where partners are plentiful the wait
//   grows to the full exchange_spins. Hints are written only when their value changes.
//
// GUARANTEES
//   Linearizable LIFO stack, as treiber_stack (treiber_stack.hpp GUARANTEES), including
//   the exception guarantees: push/emplace strong (nothing is published before the node is
//   built), try_pop needs T's noexcept move.
//   An eliminated pair linearizes at the exchange: the CAS that completes it ([XC2] take,
//   or [XP3] give) happens while both the push and the pop are pending (the push is inside
//   push() from its offer or give until it returns; the pop from its look or wait until it
//   returns), so both can be linearized at that instant, the push immediately followed by
//   the pop. Between the two the stack holds exactly one more value, the pushed one, on
//   top; the pop returns that value, which is what a LIFO pop right after that push
//   returns; before and after the pair the stack is unchanged, so every other operation's
//   linearization point (on the central stack, or another pair's exchange) stays valid.
//   A node handed over in the exchanger never was in the central stack: the pop frees it
//   at once (no reclamation), and eliminated pairs cost no retire.
//   Progress: lock-free, as treiber_stack. The exchange wait is bounded (at most
//   exchange_spins rounds of cpu_relax), then the operation withdraws; an operation that collides leaves
//   at once; the central stack's CAS is retried after every visit. A thread preempted
//   inside the exchanger holds at most one slot (its offer, its waiting mark, or a TAKEN /
//   given state it has not reset yet): other visitors of that slot collide and go back to
//   the central stack or another slot; nobody waits for it. No thread is parked.
//   Cost with no contention: none beyond treiber_stack's: the first attempt is the central
//   CAS, and the array is not touched unless it fails.
//
// MEMORY-ORDERING CONTRACT (the central stack's tags are treiber_stack.hpp's)
//   [XP1] push's look at its slot: relaxed. Only chooses which CAS to try; the CAS validates.
//   [XP2] push's offer CAS EMPTY -> n: release. Publishes n's payload; pairs with [XC2].
//         Failure relaxed (a collision: nothing is read).
//   [XP3] push's give CAS WAITING -> n|1: release. Publishes n's payload to the waiting pop;
//         pairs with [XC4]/[XC5]. LP(push) and LP(pop) of the pair on success.
//   [XP4] push's wait for a taker: relaxed loads. Seeing TAKEN tells it the node is gone;
//         it reads nothing the taker wrote.
//   [XP5] push's withdraw CAS n -> EMPTY: relaxed. Success: nobody took n (it was ours all
//         along); failure: TAKEN, as [XP4].
//   [XP6] push's reset TAKEN -> EMPTY: relaxed store. Publishes nothing; the next offer's
//         [XP2] publishes its own node.
//   [XC1] pop's look at its slot: relaxed, as [XP1].
//   [XC2] pop's take CAS n -> TAKEN: acquire. Reading n's payload afterwards sees [XP2]'s
//         writes. LP(push) and LP(pop) of the pair on success.
//   [XC3] pop's wait CAS EMPTY -> WAITING: relaxed. Publishes nothing.
//   [XC4] pop's wait for a giver: acquire loads; pairs with [XP3].
//   [XC5] pop's withdraw CAS WAITING -> EMPTY: failure acquire (a give came first: the
//         value read is n|1 and the payload is read next; pairs with [XP3]). The success
//         order claims nothing and is acquire only because Relacy (2019) cannot model a
//         failure order stronger than the success order.
//   [XC6] pop's reset n|1 -> EMPTY: relaxed store, as [XP6].
//   [XR1] the range and wait hints: relaxed loads and stores. Heuristics; any range in
//         [1, width] and any wait in [exchange_spins / 16, exchange_spins] is correct.
//   [XS1] the statistics counters: relaxed fetch-and-adds (only with
//         elimination_options::statistics).
//
// INVARIANTS
//   INV1: a slot holds an offer n only while the offering push is between [XP2] and its
//         [XP5] or the [XC2] that takes it; n is that push's private node, never in the
//         central stack.
//   INV2: TAKEN and n|1 are left only by their owners (the offering push, the waiting
//         pop) with [XP6]/[XC6]; WAITING only by its pop's [XC5] or a give [XP3].
//   INV3: each node handed over is handed exactly once: exactly one CAS ([XC2] or [XP3])
//         moves it to its pop, and only that pop reads its payload and frees it.
//
// LINEARIZATION POINTS
//   Central stack: as treiber_stack.hpp (LP(push) at [TP2], LP(try_pop) at [TC3] or its
//   empty read).
//   Eliminated pair: the successful [XC2] or [XP3], push immediately before pop.
//
// WHEN TO USE IT
//   Many threads pushing and popping at similar rates on a machine with enough cores: the
//   exchanges take load off the head. With few threads, or one-sided bursts (all pushes,
//   then all pops), it behaves like treiber_stack (same first attempt) plus a few bounded
//   waits. Measured figures: docs/benchmarks.md and docs/algorithms/elimination_stack.md.
//
// REFERENCES
//   D. Hendler, N. Shavit, L. Yerushalmi, "A Scalable Lock-free Stack Algorithm", SPAA 2004.
//   M. Herlihy, N. Shavit, "The Art of Multiprocessor Programming", 11.4 (the lock-free
//     exchanger, the elimination array, the range policy).
//   N. Shavit, D. Touitou, "Elimination Trees and the Construction of Pools and Stacks",
//     SPAA 1995 (elimination).
//   docs/algorithms/elimination_stack.md: the teaching page for this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "detail/atomic.hpp"
#include "detail/options.hpp"
#include "detail/per_thread.hpp"
#include "detail/platform.hpp"
#include "epoch.hpp"
#include "treiber_stack.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// The options of elimination_stack (the options form, detail/options.hpp).
struct elimination_options {
  // Slots in the elimination array: the largest range. Each slot has a cache line of its own.
  unsigned width = 8;
  // The longest an offer (a push's node, a pop's waiting mark) stays in its slot waiting
  // for a partner: this many cpu_relax() rounds (PAUSE on x86), then it is withdrawn. The
  // wait adapts between exchange_spins / 16 and this (see ADAPTIVE RANGE AND WAIT).
  unsigned exchange_spins = 64;
  // Count eliminated pairs and central CAS failures (stats()). Off: no counters, no code.
  bool statistics = false;
  // Test mode: every operation visits the exchanger before its first central CAS, and waits
  // there with std::this_thread::yield() instead of cpu_relax(), so that elimination happens
  // on a machine with few cores. Correct, but slow: for tests only.
  bool force_exchange = false;

  consteval void validate() const {
    detail::require_option(width >= 1 && width <= 64,
                           "elimination_options::width must be in [1, 64]");
    detail::require_option(exchange_spins >= 1 && exchange_spins <= (1u << 20),
                           "elimination_options::exchange_spins must be in [1, 2^20]");
  }
};

// What stats() reports (elimination_options::statistics only). Counters are relaxed: a
// snapshot while others run is approximate, exact once they have stopped.
struct elimination_stack_stats {
  std::uint64_t eliminated_pairs = 0;      // push/pop pairs that met in the exchanger
  std::uint64_t central_cas_failures = 0;  // failed CASes on the central head ([TP2]/[TC3])
  unsigned range = 1;                      // the current range of slots in use
  unsigned wait_spins = 0;                 // the current wait of an offer, in cpu_relax rounds
};

namespace detail {

// A thread's random state for choosing slots (one for every elimination_stack).
struct elimination_random_state {
  std::uint32_t value = 0;
};

// The elimination array: treiber_core's contention policy for elimination_stack.
template <elimination_options Options>
class elimination_array {
  static constexpr std::uintptr_t empty_word = 0;
  static constexpr std::uintptr_t waiting_word = 1;
  static constexpr std::uintptr_t taken_word = 2;
  static constexpr std::uintptr_t given_bit = 1;

  enum class visit { exchanged, timed_out, collided };

 public:
  class attempt {
   public:
    static constexpr bool exchange_first = Options.force_exchange;

    explicit attempt(elimination_array& a) noexcept : a_(a) {}

    // After a failed push CAS: offer n, or give it to a waiting pop. True when n went to
    // a pop. push_first: the same before any CAS (the test mode), not counted as a failure.
    bool push_first(void* n) noexcept { return push_visit(n); }
    bool push_conflict(void* n) noexcept {
      a_.count_failure();
      return push_visit(n);
    }
    // After a failed pop CAS: take an offered node, or wait for one (nullptr: none came).
    void* pop_first() noexcept { return pop_visit(); }
    void* pop_conflict() noexcept {
      a_.count_failure();
      return pop_visit();
    }

   private:
    bool push_visit(void* n) noexcept {
      const visit v = a_.push_visit(reinterpret_cast<std::uintptr_t>(n), next_slot());
      if (v == visit::exchanged) return true;
      bo_.pause();  // no partner (collided or timed out): back off before the next CAS
      return false;
    }
    void* pop_visit() noexcept {
      std::uintptr_t got = 0;
      const visit v = a_.pop_visit(got, next_slot());
      if (v == visit::exchanged) return reinterpret_cast<void*>(got);
      bo_.pause_pinned();  // no partner: back off, never yielding the pop's guard away
      return nullptr;
    }

    // A slot in [0, range): random, so that operations spread over the range.
    unsigned next_slot() noexcept {
      // [XR1] relaxed: a hint.
      const unsigned r = a_.hints_.range.load(std::memory_order_relaxed);
      if (r <= 1) return 0;
      return static_cast<unsigned>((static_cast<std::uint64_t>(random()) * r) >> 32);
    }
    // xorshift32, one state per thread (detail::per_thread), seeded from the thread's
    // stripe number; under a test scheduler one state per operation, seeded by a constant,
    // so that a schedule replays exactly whatever ran before it in the process.
    std::uint32_t random() noexcept {
      std::uint32_t* st = &state_;
      if constexpr (!scheduler_controlled)
        st = &per_thread<elimination_random_state>::local().value;
      if (*st == 0) *st = seed();
      *st ^= *st << 13;
      *st ^= *st >> 17;
      *st ^= *st << 5;
      return *st;
    }
    static std::uint32_t seed() noexcept {
      if constexpr (scheduler_controlled) {
        return 0x9e3779b9u;
      } else {
        return (static_cast<std::uint32_t>(thread_stripe()) + 1) * 0x9e3779b9u | 1u;
      }
    }

    elimination_array& a_;
    std::uint32_t state_ = 0;
    // Starts as treiber_stack's first backoff: an exchange that found no partner is
    // followed by the same wait before the next central CAS (measured on 2 vCPUs, where
    // partners are rare: 13.3 -> 36.8 M pairs/s at 2 threads, 13.8 -> 30.4 at 4).
    backoff bo_{32};
  };

  static constexpr bool exchange_first = Options.force_exchange;
  attempt begin() noexcept { return attempt(*this); }

  [[nodiscard]] elimination_stack_stats stats() const noexcept {
    elimination_stack_stats s;
    if constexpr (Options.statistics) {
      s.eliminated_pairs = stats_->eliminated.load(std::memory_order_relaxed);  // [XS1]
      s.central_cas_failures = stats_->failures.load(std::memory_order_relaxed);
    }
    s.range = hints_.range.load(std::memory_order_relaxed);  // [XR1]
    s.wait_spins = hints_.spins.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // One round of waiting in a slot.
  static void wait_round() noexcept {
    if constexpr (Options.force_exchange && !scheduler_controlled) {
      std::this_thread::yield();
    } else {
      cpu_relax();
    }
  }

  visit push_visit(std::uintptr_t n, unsigned i) noexcept {
    atomic<std::uintptr_t>& slot = slots_[i].word;
    // [XP1] relaxed: only chooses the CAS below, which validates it.
    std::uintptr_t seen = slot.load(std::memory_order_relaxed);
    if (seen == waiting_word) {
      // [XP3] release: publishes n's payload to the waiting pop; pairs with [XC4]/[XC5].
      // LP of the pair (push, then pop) on success.
      if (slot.compare_exchange_strong(seen, n | given_bit, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        count_elimination();
        return visit::exchanged;
      }
      return collided();
    }
    if (seen != empty_word) return collided();
    // [XP2] release: publishes n's payload to the pop that takes it; pairs with [XC2].
    if (!slot.compare_exchange_strong(seen, n, std::memory_order_release,
                                      std::memory_order_relaxed)) {
      return collided();
    }
    // INV1: n is offered. Wait a bounded time for a pop to take it.
    for (unsigned k = 0, spins = wait_spins(); k < spins; ++k) {
      wait_round();
      // [XP4] relaxed: TAKEN says n is gone; nothing the taker wrote is read.
      if (slot.load(std::memory_order_relaxed) == taken_word) {
        met_while_waiting();
        return push_taken(slot);
      }
    }
    std::uintptr_t mine = n;
    // [XP5] relaxed: success, nobody took n; failure, it is TAKEN (as [XP4]).
    if (slot.compare_exchange_strong(mine, empty_word, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      timed_out();
      return visit::timed_out;
    }
    return push_taken(slot);
  }

  visit push_taken(atomic<std::uintptr_t>& slot) noexcept {
    // [XP6] relaxed: the slot is ours to reset (INV2); publishes nothing.
    slot.store(empty_word, std::memory_order_relaxed);
    return visit::exchanged;
  }

  visit pop_visit(std::uintptr_t& got, unsigned i) noexcept {
    atomic<std::uintptr_t>& slot = slots_[i].word;
    // [XC1] relaxed: only chooses the CAS below, which validates it.
    std::uintptr_t seen = slot.load(std::memory_order_relaxed);
    if (seen > taken_word && (seen & given_bit) == 0) {  // an offered node
      // [XC2] acquire: the node's payload, published by [XP2], is read next. LP of the
      // pair (push, then pop) on success. INV3: only this CAS hands n over.
      if (slot.compare_exchange_strong(seen, taken_word, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        got = seen;
        count_elimination();
        return visit::exchanged;
      }
      return collided();
    }
    if (seen != empty_word) return collided();
    // [XC3] relaxed: a waiting mark publishes nothing.
    if (!slot.compare_exchange_strong(seen, waiting_word, std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
      return collided();
    }
    for (unsigned k = 0, spins = wait_spins(); k < spins; ++k) {
      wait_round();
      // [XC4] acquire: a given node's payload is read next; pairs with [XP3].
      const std::uintptr_t v = slot.load(std::memory_order_acquire);
      if (v != waiting_word) {
        met_while_waiting();
        return pop_given(slot, v, got);
      }
    }
    std::uintptr_t mine = waiting_word;
    // [XC5] failure acquire: a give came first, its payload is read next; pairs with [XP3].
    // The success order claims nothing (acquire only for Relacy, see the header).
    if (slot.compare_exchange_strong(mine, empty_word, std::memory_order_acquire,
                                     std::memory_order_acquire)) {
      timed_out();
      return visit::timed_out;
    }
    return pop_given(slot, mine, got);
  }

  visit pop_given(atomic<std::uintptr_t>& slot, std::uintptr_t v, std::uintptr_t& got) noexcept {
    got = v & ~given_bit;  // INV2: only a give [XP3] replaces WAITING
    // [XC6] relaxed: the slot is ours to reset (INV2); publishes nothing.
    slot.store(empty_word, std::memory_order_relaxed);
    return visit::exchanged;
  }

  // The range and wait policy: a collision widens the range; a wait with no partner
  // narrows the range and halves the wait; a partner met while waiting doubles the wait.
  visit collided() noexcept {
    if constexpr (Options.width > 1) {
      const unsigned r = hints_.range.load(std::memory_order_relaxed);  // [XR1]
      if (r < Options.width) hints_.range.store(r + 1, std::memory_order_relaxed);
    }
    return visit::collided;
  }
  void timed_out() noexcept {
    if constexpr (Options.width > 1) {
      const unsigned r = hints_.range.load(std::memory_order_relaxed);  // [XR1]
      if (r > 1) hints_.range.store(r - 1, std::memory_order_relaxed);
    }
    const unsigned w = hints_.spins.load(std::memory_order_relaxed);  // [XR1]
    if (w > min_spins)
      hints_.spins.store(w / 2 > min_spins ? w / 2 : min_spins, std::memory_order_relaxed);
  }
  void met_while_waiting() noexcept {
    const unsigned w = hints_.spins.load(std::memory_order_relaxed);  // [XR1]
    if (w < Options.exchange_spins) {
      hints_.spins.store(w < Options.exchange_spins / 2 ? w * 2 : Options.exchange_spins,
                         std::memory_order_relaxed);
    }
  }
  unsigned wait_spins() const noexcept {
    return hints_.spins.load(std::memory_order_relaxed);  // [XR1]
  }
  static constexpr unsigned min_spins =
      Options.exchange_spins / 16 > 0 ? Options.exchange_spins / 16 : 1;

  void count_failure() noexcept {
    if constexpr (Options.statistics) {
      stats_->failures.fetch_add(1, std::memory_order_relaxed);  // [XS1]
    }
  }
  void count_elimination() noexcept {
    if constexpr (Options.statistics) {
      stats_->eliminated.fetch_add(1, std::memory_order_relaxed);  // [XS1]
    }
  }

  struct counters {
    atomic<std::uint64_t> eliminated{0};
    atomic<std::uint64_t> failures{0};
  };
  struct no_counters {};

  // One exchanger per cache line (a slot's word is written by every visitor).
  struct alignas(cache_line_size) slot {
    atomic<std::uintptr_t> word{empty_word};
  };
  slot slots_[Options.width];
  // The two hints, read by every visit, written only when they change.
  struct alignas(cache_line_size) policy_hints {
    atomic<unsigned> range{1u};
    atomic<unsigned> spins{Options.exchange_spins};
  };
  policy_hints hints_;
  [[no_unique_address]] std::conditional_t<Options.statistics, cache_padded<counters>, no_counters>
      stats_{};
};

}  // namespace detail

template <class T, class Reclaimer = epoch_reclaimer, elimination_options Options = {}>
class elimination_stack
    : public detail::treiber_core<T, Reclaimer, detail::elimination_array<Options>> {
  static_assert(detail::valid_options<Options>);
  using core = detail::treiber_core<T, Reclaimer, detail::elimination_array<Options>>;
  static_assert(core::node_alignment >= 4,
                "the exchanger keeps two state bits below a node's address");

 public:
  static constexpr elimination_options options = Options;

  using core::core;

  // Eliminated pairs, central CAS failures (relaxed counters, exact once the threads that
  // used the stack have stopped) and the current range.
  [[nodiscard]] elimination_stack_stats stats() const noexcept
    requires(Options.statistics)
  {
    return this->contention_.stats();
  }

  // The current range of the elimination array, in [1, options.width] (a hint).
  [[nodiscard]] unsigned range() const noexcept { return this->contention_.stats().range; }
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
