// lockless/bounded_queue.hpp: a bounded MPMC FIFO queue, lock-free in the strict sense,
// with the interface of WG21 P0260R20 (C++ Concurrent Queues): blocking, non-waiting and
// timed push/pop, and close.
//
// WHAT
//   A ring of `capacity` element slots and two rings of slot indices, after Nikolaev's
//   Scalable Circular Queue (SCQ, DISC 2019):
//     free_    the indices of the empty slots (initially all of them);
//     ready_   the indices of the filled slots, in FIFO order.
//   try_push takes an index from free_ (none: full), constructs the element in that slot,
//   and appends the index to ready_. try_pop takes the first index from ready_ (none:
//   empty, or closed), moves the element out, and gives the index back to free_. Both
//   index rings are the same algorithm (detail::index_ring below): an array of 2n 64-bit
//   entries (n = capacity rounded up to a power of two) indexed by two 64-bit
//   fetch-and-add counters, head and tail. An entry holds {cycle, safe bit, index}: the
//   cycle (counter / 2n) says which lap of the ring wrote it, so a late thread can tell a
//   stale entry from a current one without a double-width CAS.
//
//   Why not the usual fast ring (Vyukov's, as in atomic_queue, rigtorp/MPMCQueue,
//   xenium's vyukov_bounded_queue)? There a consumer that reaches a slot whose producer
//   claimed it but has not yet written it must wait for that producer: a producer
//   preempted at that instruction stalls every consumer behind it, and try_pop can only
//   spin or answer "empty" while a value sits after the gap. Here a dequeuer that finds
//   its entry not yet written marks the entry so the slow enqueuer cannot use it any more
//   ([QD4]) and moves on; the enqueuer notices and retries with a new ticket. Nobody waits
//   for anybody.
//
// GUARANTEES
//   Linearizable bounded FIFO queue with close (P0260 semantics): every pushed value is
//   popped at most once and, once the queue is closed and drained, exactly once; values
//   come out in the order of their pushes' linearization points.
//   capacity() is exactly the constructor's argument: the queue never holds more
//   elements. "full" is relaxed in one documented way: a push or pop in progress holds one
//   slot (a push from taking its free index until its element is published, a pop from
//   taking its element until its index is back in free_), so try_push may report `full`
//   while fewer than capacity() elements are in the queue, but only while other push/pop
//   operations are in flight, at most one slot short per such operation. With no other
//   operation in progress, full means exactly capacity() elements. empty and closed are
//   exact. (The tests check histories against exactly this specification:
//   tests/support/lincheck, spec::bounded_queue(c).full_when_in_flight().)
//   Progress: try_push, try_pop, try_emplace and the bulk forms are lock-free in the
//   strict sense, with single-width atomics only (64-bit fetch-and-add, fetch-or, CAS; no
//   cmpxchg16b, nothing from libatomic). A thread suspended at any instruction delays
//   nobody's completion; what it can still cost the others: if it is inside a push, one
//   slot of capacity (see "full" above) and, if it holds a ticket, one ring entry that
//   the next dequeuer there burns with a CAS; inside a pop, one slot of capacity, and
//   the element it took (linearized at its ticket) reaches only it. The retry loops
//   are bounded by other threads' progress (Nikolaev 2019, Theorem 4.2: the threshold
//   below bounds a dequeuer's futile rounds by 3n-1), not by waiting.
//   The blocking forms (push, emplace, pop, the timed ones) first try a few times, then
//   sleep on detail::event_count (detail/parking.hpp): no CPU burnt while waiting, no lost
//   wake-up, and a push or pop with nobody waiting pays one load (and a fence except on
//   x86-64: notify_one_after_rmw), no system call. queue_options{.may_block = false}
//   removes them and that cost.
//   No allocation after construction (P0260): the three arrays come from the allocator in
//   the constructor and go back in the destructor.
//   Limits: the tickets are 64-bit; a ring stops being correct after 2^63 operations
//   on it (about 290 years at 10^9 operations per second).
//
// TYPES AND EXCEPTIONS
//   T: any object type whose move constructor is noexcept (checked at compile time:
//   after a pop has taken its element there is no way to give it back). Move-only T works.
//   push(const T&), push(T&&), emplace(...) and their try_/timed forms give the strong
//   guarantee: if T's constructor throws, the slot is given back and the queue is
//   unchanged; the exception propagates. An argument passed by reference is left intact
//   whenever the push does not succeed (full, closed, timeout). emplace's arguments are
//   forwarded to T's constructor once a slot is secured; in the rare race where close()
//   lands between that construction and the publication, the element is destroyed and
//   emplace reports closed, so moved-from arguments stay moved from.
//   Elements still in the queue are destroyed by the destructor. The destructor, like
//   every destructor, must not run concurrently with other operations.
//
// MEMORY-ORDERING CONTRACT (every atomic access, in detail::index_ring and below)
//   Data flow: a slot's contents are published through ready_ and handed back through
//   free_. The writer of a slot (a pusher, or a popper that moved its element out)
//   appends the slot's index with the release CAS [QE4]; the next owner takes the index
//   with the acquire load [QD2]; so every access to a slot happens-after the accesses of
//   its previous owner.
//   [QE1] enqueue: relaxed fetch-and-add of tail_: a ticket. Orders nothing; on ready_ it
//         also reads the closed bit (atomicity of the RMW, not ordering, makes that exact).
//   [QE2] enqueue: acquire load of the ticket's entry. Pairs with [QD4]: if it reads an
//         entry a dequeuer marked unsafe (or anything later in that entry's release
//         sequence), the marking dequeuer's ticket [QD1] happens-before [QE3], so [QE3]
//         reads head_ past that dequeuer's ticket and the enqueuer does not fill an entry
//         its dequeuer already passed (a lost element).
//   [QE3] enqueue: relaxed load of head_, only for an unsafe entry: "has the dequeuer of
//         this ticket come by yet?". Coherence after the [QE2]/[QD4] edge is all it needs.
//   [QE4] enqueue: CAS of the entry to {cycle, safe, index}, seq_cst on success, acquire
//         on failure. Release: publishes the slot's contents (see "Data flow"); pairs
//         with [QD2]. seq_cst rather than acq_rel for [QE5]'s sake (below); the same
//         instructions on x86-64 and AArch64. The failure half is acquire because it
//         reloads the entry for the next round, which then decides as [QE2] does (and
//         needs [QE2]'s order).
//   [QE5] enqueue: reset of threshold_ to 3n-1 after a success: seq_cst load, release
//         exchange (an RMW, so that the wake-up after an enqueue can be
//         notify_one_after_rmw(): on x86-64 every write of an enqueue is then a locked
//         instruction and [KN1] needs no fence of its own). Pairs with [QD0]: a
//         dequeuer that reads the reset also sees the entry.
//         The load must not be performed before the CAS [QE4] is visible (a store ->
//         load order, which only seq_cst on both, or a fence, gives): read early, it
//         could see the old maximum, skip the reset, and let dequeuers that have not yet
//         seen the entry run the threshold below zero, after which pops answer empty with
//         this element queued (until the next push). On x86-64 the locked CAS orders it
//         anyway; on AArch64 it is LDAR after STLXR instead of LDR.
//   [QD0] dequeue: acquire load of threshold_; negative means "empty" without touching
//         head_ (Nikolaev's threshold). Pairs with [QE5] (and every decrement [QD6] after
//         it continues that release sequence).
//   [QD1] dequeue: relaxed fetch-and-add of head_: a ticket; orders nothing (the CAS
//         [QD4] after it carries it to enqueuers).
//   [QD2] dequeue: acquire load of the ticket's entry. Pairs with [QE4]: taking an index
//         makes the slot's contents (or its emptiness) visible.
//   [QD3] dequeue: relaxed fetch-or that marks the entry consumed (index := bottom). The
//         entry carries no data of its own; relaxed keeps it in the release sequence of
//         [QE4]/[QD4] as any RMW does.
//   [QD4] dequeue: CAS that burns an entry it cannot use (bumps an empty entry to its own
//         cycle, or clears the safe bit of an entry still holding an older lap's index),
//         acq_rel on success (release pairs with [QE2]), acquire on failure: the
//         reloaded entry may turn out to be this ticket's element, consumed and its slot
//         read at once, so the reload does [QD2]'s job and needs its order.
//   [QD5] dequeue: relaxed load of tail_: "is any enqueuer ahead of me?", and the
//         closed bit. Coherence suffices for what happened before this pop: an enqueue
//         or close that happens-before it is seen. Between concurrent operations, the
//         empty and closed answers ([QD5], [QD6], [QD9]) rest on Nikolaev's proof, which
//         assumes sequentially consistent counters. On x86-64 these relaxed accesses are
//         exactly that strong (locked RMWs, TSO loads); on weaker machines the argument
//         here is per-variable coherence plus the happens-before edges named above,
//         model-checked by Relacy in the scenarios of tests/relacy/bounded_queue.cpp, not
//         proved.
//   [QD6] dequeue: relaxed decrement of threshold_ after a futile round.
//   [QD7] dequeue: relaxed CAS that moves tail_ up to head_ (catch-up) so the next
//         enqueuers do not land on entries already burned; the closed bit is kept.
//   [QD8] dequeue, before taking a ticket: relaxed loads of head_ and of the entry at
//         head_. A ready entry (its cycle is head_'s) sends the dequeuer on to take a
//         ticket; the entry is read again, acquire, by [QD2]. Only a cycle comparison.
//   [QD9] same look, only when that entry is not ready: relaxed load of tail_. No
//         outstanding ticket (tail_ <= head_), or only the one at head_ whose entry is
//         unwritten (its enqueue is in progress, not linearized): the ring is empty now,
//         and the dequeuer leaves without burning anything. Coherence suffices: an
//         enqueue that happens-before this call is seen in tail_ and in its entry, and
//         every ticket below head_ belongs to a dequeuer that already took it.
//         Without [QD8]/[QD9] a consumer polling an empty queue burns the entry of every
//         enqueue in progress (each retries with a new ticket) until the threshold runs
//         out: measured, hundreds of burned tickets per element at 1P1C.
//   [QC1] close(): relaxed fetch-or of the closed bit into ready_'s tail_: the
//         linearization point of close. Relaxed: the bit carries no data; every later
//         [QE1] on ready_ reads it (RMWs read the latest value), and the wake-ups that
//         follow are ordered by event_count's fences (detail/parking.hpp [KN1]).
//   [QC2] relaxed loads of the closed bit (is_closed(), try_push's early exit); coherence
//         only.
//   [QS1] size_approx(): relaxed loads of tail_ and head_; a hint.
//   Blocking: after a successful push, not_empty_->notify_one_after_rmw(); after a
//   successful pop (and when a failed push gives its slot back),
//   not_full_->notify_one_after_rmw() (the enqueue's writes are RMWs, so on x86-64 [KN1]
//   is a compiler barrier: detail::full_fence_after_rmw()); close()
//   notifies both, all. The waiter and notifier protocol is detail/parking.hpp's
//   ([KW1]-[KW5], [KN1]-[KN3]), with "try the operation again" as the condition.
//   Model-checked by tests/relacy/bounded_queue.cpp. The mutants of
//   tests/relacy/bounded_queue_mutants.cmake weaken [QE4] (relaxed, or without its
//   release: a data race on the slot), [QD2] (relaxed: the same race) and [QD4] (without
//   its release: a free index is stranded), and break program order or the protocol
//   (the closed check after a futile round, [QD7] dropping the closed bit, a pop that
//   gives its slot back before moving the element out, close() or a push that does not
//   notify). Not model-checked: [QE2] relaxed (the lost element it allows needs capacity
//   2 or more, a pusher holding the other slot and a full lap of tickets: at 2-3 threads
//   every hand-over also passes through [QE4]/[QD2] on the other ring, which orders
//   head_ anyway; 2 M executions of two scenarios pass), [QD0] and [QE5] relaxed (no
//   scenario separates them: a stale threshold alone only makes a pop without a
//   happens-before edge from the push say empty, which is legal, or take one more
//   round; [QE5]'s load is the argued store -> load order above, which Relacy's
//   scenarios do not reach).
//
// INVARIANTS
//   INV1: each slot index is in exactly one place: in free_, in ready_, or held by one
//         operation in progress. So at most capacity() elements exist, and a slot is
//         written only by the thread holding its index.
//   INV2: a ring holds at most n indices and has 2n entries, so an enqueuer always finds
//         a usable entry within a bounded number of tickets while dequeuers make progress
//         (Nikolaev 2019, Lemma 4.1).
//   INV3: an entry's cycle only grows. A dequeuer with ticket h uses the entry only if
//         its cycle equals h's, an enqueuer with ticket t only if its cycle is older than
//         t's and it is empty and either safe or not yet passed by t's dequeuer (head_ <=
//         t). So an entry is filled at most once per cycle and read at most once.
//   INV4: once close() set the bit, every enqueue on ready_ fails at its next ticket;
//         pop says closed only when it saw the bit and head_ had passed tail_, so every
//         ticket an enqueuer took before the close has been met by a dequeuer (which
//         takes its element or burns its entry).
//
// LINEARIZATION POINTS
//   Successful operations are ordered by their tickets on ready_:
//   LP(try_push, success): the fetch-and-add [QE1] on ready_ of the attempt whose CAS
//     [QE4] then succeeds (a point known only in retrospect, as in LCRQ and SCQ); but if a
//     dequeuer's look [QD8] saw this ticket's entry unwritten and answered empty, the
//     push's point moves to just after the last such look (still inside the push, and
//     before the next ticket is handed out, since that dequeuer's [QD9] read tail_ =
//     ticket + 1).
//   LP(try_pop, value): the fetch-and-add [QD1] on ready_ whose entry yields the value.
//   LP(try_pop, empty): the load [QD0] that read a negative threshold; or the look
//     [QD8]/[QD9]: the load [QD9] when it saw no outstanding ticket, the entry load [QD8]
//     when the only outstanding ticket's entry was unwritten; or the load [QD5] that read
//     tail_ <= head_ + 1 without the closed bit, or the decrement [QD6] that
//     exhausted the threshold (Nikolaev 2019 §4 proves each is a moment the queue is
//     empty).
//   LP(try_pop, closed): the load [QD5] that read the closed bit with tail_ <= head_ + 1,
//     or the load [QD9] that read it with tail_ <= head_.
//   LP(try_push, full): the point at which free_'s dequeue answered empty (as above).
//   LP(try_push, closed): the load [QC2] or the fetch-and-add [QE1] that read the bit.
//   LP(close): the fetch-or [QC1].
//
// COST
//   Memory: capacity() slots of sizeof(T) plus 2 x 2n entries of 8 bytes (n = capacity
//   rounded up to a power of two) plus eight cache lines of ring counters and two of event
//   counts. An uncontended push+pop pair is four fetch-and-adds, two CASes, two
//   fetch-ors and, with may_block, two fences.
//   Ring entries and slots are laid out in ticket order, so a consumer following a
//   producer takes whole cache lines of entries and slots at a time. (SCQ's "cache
//   remap", which spreads neighbouring entries over lines to spare contending threads
//   false sharing, cost 10-50x at 1P1C on a 2-vCPU VM, where every line crossing cores is
//   expensive; xenium's unremapped Vyukov ring against atomic_queue's remapped one shows
//   the same. It is not used.)
//
// REFERENCES
//   Ruslan Nikolaev, "A Scalable, Portable, and Memory-Efficient Lock-Free FIFO Queue",
//   DISC 2019 (arXiv:1908.04511): SCQ, the threshold, the two-ring indirection.
//   Adam Morrison, Yehuda Afek, "Fast concurrent queues for x86 processors", PPoPP 2013
//   (LCRQ: fetch-and-add tickets on a ring, cells a late thread burns).
//   WG21 P0260R20, "C++ Concurrent Queues" (the interface).
//   Teaching page: docs/algorithms/bounded_queue.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "detail/atomic.hpp"
#include "detail/config.hpp"
#include "detail/error.hpp"
#include "detail/options.hpp"
#include "detail/parking.hpp"
#include "detail/platform.hpp"
#include "detail/queue_wait.hpp"
#include "queue_status.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// The value knobs of the queues (docs/design.md, "Policies by name").
struct queue_options {
  // true: the blocking and timed forms exist (push, emplace, pop, push_for, ...), and every
  // successful operation tells sleeping threads (a load when nobody sleeps, plus a fence
  // except on x86-64).
  // false: only the try_ forms, and no notification cost at all.
  bool may_block = true;
};

namespace detail {

// One SCQ ring of slot indices (Nikolaev 2019, Figure 8), holding at most n of them in 2n
// entries. Not a container of its own: bounded_queue owns the entry array and the
// counters live here. See the header comment for the tags.
class index_ring {
 public:
  using entry = atomic<std::uint64_t>;
  // What dequeue() returns besides an index.
  static constexpr std::uint64_t empty = ~std::uint64_t{0};
  static constexpr std::uint64_t closed = ~std::uint64_t{0} - 1;
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;

  // order: log2(n). The ring starts empty, or holding `count` indices taken in order
  // from first_indices[0..count).
  LOCKLESS_DETAIL_CONSTEXPR_ATOMICS index_ring() noexcept : head_(0), tail_(0), threshold_(-1) {}

  void init(entry* entries, unsigned order, const std::uint32_t* first_indices,
            std::size_t count) noexcept {
    entries_ = entries;
    idx_bits_ = order + 1;
    bottom_ = (std::uint64_t{1} << idx_bits_) - 1;
    safe_bit_ = std::uint64_t{1} << idx_bits_;
    cycle_shift_ = idx_bits_ + 1;
    size_ = std::uint64_t{2} << order;  // 2n entries
    const std::uint64_t start = size_;  // counters start at cycle 1
    for (std::uint64_t j = 0; j < size_; ++j) {
      // Position j of cycle 1 holds first_indices[j]; the rest are empty entries of
      // cycle 0 (safe, bottom).
      const std::uint64_t v = j < count ? (std::uint64_t{1} << cycle_shift_) | safe_bit_ |
                                              std::uint64_t{first_indices[j]}
                                        : safe_bit_ | bottom_;
      ::new (static_cast<void*>(&entries_[j])) entry(v);
    }
    head_.store(start, std::memory_order_relaxed);  // before any sharing
    tail_.store(start + count, std::memory_order_relaxed);
    threshold_.store(count != 0 ? threshold_max() : -1, std::memory_order_relaxed);
  }

  // Appends `index`. With Closable, fails (returns false) once close() set the bit.
  template <bool Closable>
  bool enqueue(std::uint64_t index) noexcept {
    for (;;) {
      // [QE1] relaxed: a ticket (and, on ready_, the closed bit).
      const std::uint64_t raw = tail_.fetch_add(1, std::memory_order_relaxed);
      if constexpr (Closable) {
        if ((raw & closed_bit) != 0) return false;  // LP(try_push, closed)
      }
      const std::uint64_t t = raw & ~closed_bit;
      const std::uint64_t t_cycle = t >> idx_bits_;
      entry& cell = entries_[t & (size_ - 1)];
      // [QE2] acquire: pairs with [QD4] (an unsafe mark orders its dequeuer's ticket
      // before [QE3]).
      std::uint64_t e = cell.load(std::memory_order_acquire);
      for (;;) {
        if ((e >> cycle_shift_) >= t_cycle || (e & bottom_) != bottom_) break;
        // [QE3] relaxed: only for an unsafe entry; coherence after [QE2].
        if ((e & safe_bit_) == 0 && head_.load(std::memory_order_relaxed) > t) break;
        const std::uint64_t desired = (t_cycle << cycle_shift_) | safe_bit_ | index;
        // [QE4] seq_cst/acquire: release publishes the slot; pairs with [QD2]. seq_cst
        // (not acq_rel) keeps the load [QE5] from being performed before the CAS.
        if (cell.compare_exchange_weak(e, desired, std::memory_order_seq_cst,
                                       std::memory_order_acquire)) {
          // [QE5] seq_cst load, release exchange: pairs with [QD0]. An exchange, not a
          // store, so that an enqueue's last write is an RMW and the wake-up after it
          // needs no fence on x86-64 (notify_one_after_rmw; a rare path: only after pops
          // ran the threshold down).
          if (threshold_.load(std::memory_order_seq_cst) != threshold_max()) {
            (void)threshold_.exchange(threshold_max(), std::memory_order_release);
          }
          return true;
        }
      }
    }
  }

  // Takes the first index; or `empty`; or, with Closable, `closed` once the bit is set
  // and every ticket taken before it has been met (INV4).
  template <bool Closable>
  std::uint64_t dequeue() noexcept {
    // [QD0] acquire: pairs with [QE5].
    if (threshold_.load(std::memory_order_acquire) < 0) {
      if (!Closable || !closed_seen()) return empty;  // LP(try_pop, empty)
    }
    {
      // A read-only look before taking a ticket: a dequeuer that takes a ticket on an
      // empty ring burns the entry an enqueuer is about to fill, and a consumer polling
      // an empty queue would burn every one of them and make the producer retry.
      // [QD8] relaxed loads of head_ and of the entry there; [QD9] relaxed load of tail_,
      // only if that entry is not ready.
      const std::uint64_t h = head_.load(std::memory_order_relaxed);
      const std::uint64_t e = entries_[h & (size_ - 1)].load(std::memory_order_relaxed);
      if ((e >> cycle_shift_) != (h >> idx_bits_)) {
        const std::uint64_t raw_tail = tail_.load(std::memory_order_relaxed);
        const bool is_closed = Closable && (raw_tail & closed_bit) != 0;
        const std::uint64_t t = raw_tail & ~closed_bit;
        // No ticket outstanding, or only the one at head_ whose entry is still unwritten
        // (its enqueue is in progress, not linearized): the ring is empty now.
        if (t <= h) return is_closed ? closed : empty;  // LP(try_pop, empty / closed)
        if (t == h + 1 && !is_closed) return empty;     // LP(try_pop, empty)
      }
    }
    for (;;) {
      // [QD1] relaxed: a ticket.
      const std::uint64_t h = head_.fetch_add(1, std::memory_order_relaxed);
      const std::uint64_t h_cycle = h >> idx_bits_;
      entry& cell = entries_[h & (size_ - 1)];
      // [QD2] acquire: pairs with [QE4]; the slot's contents come with the index.
      std::uint64_t e = cell.load(std::memory_order_acquire);
      for (;;) {
        const std::uint64_t e_cycle = e >> cycle_shift_;
        if (e_cycle == h_cycle) {
          // [QD3] relaxed: marks the entry consumed.
          (void)cell.fetch_or(bottom_, std::memory_order_relaxed);
          return e & bottom_;  // LP(try_pop, value) was [QD1]
        }
        if (e_cycle >= h_cycle) break;           // a later lap already: nothing to burn
        std::uint64_t desired = e & ~safe_bit_;  // an older lap's index: mark unsafe
        if ((e & bottom_) == bottom_) {
          desired = (h_cycle << cycle_shift_) | (e & safe_bit_) | bottom_;  // empty: burn
        }
        // [QD4] acq_rel/acquire: release pairs with [QE2].
        if (cell.compare_exchange_weak(e, desired, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
          break;
        }
      }
      // [QD5] relaxed: is an enqueuer ahead of us? (and the closed bit)
      const std::uint64_t raw_tail = tail_.load(std::memory_order_relaxed);
      if ((raw_tail & ~closed_bit) <= h + 1) {
        catch_up(raw_tail, h + 1);
        // [QD6] relaxed.
        (void)threshold_.fetch_sub(1, std::memory_order_relaxed);
        if (Closable && (raw_tail & closed_bit) != 0) return closed;  // LP(try_pop, closed)
        return empty;                                                 // LP(try_pop, empty)
      }
      // [QD6] relaxed: a futile round.
      if (threshold_.fetch_sub(1, std::memory_order_relaxed) <= 0) {
        if (!Closable || !closed_seen()) return empty;  // LP(try_pop, empty)
      }
    }
  }

  // [QC1] relaxed fetch-or: LP(close). Returns whether this call closed it.
  bool close() noexcept {
    return (tail_.fetch_or(closed_bit, std::memory_order_relaxed) & closed_bit) == 0;
  }
  [[nodiscard]] bool closed_seen() const noexcept {
    return (tail_.load(std::memory_order_relaxed) & closed_bit) != 0;  // [QC2] relaxed
  }
  [[nodiscard]] std::uint64_t size_hint() const noexcept {
    // [QS1] relaxed: a hint.
    const std::uint64_t t = tail_.load(std::memory_order_relaxed) & ~closed_bit;
    const std::uint64_t h = head_.load(std::memory_order_relaxed);
    return t > h ? t - h : 0;
  }

 private:
  [[nodiscard]] std::int64_t threshold_max() const noexcept {
    return static_cast<std::int64_t>(3 * (size_ / 2) - 1);  // 3n - 1
  }

  void catch_up(std::uint64_t raw_tail, std::uint64_t head) noexcept {
    // [QD7] relaxed CAS: moves tail_ up to head_, keeping the closed bit.
    while (!tail_.compare_exchange_weak(raw_tail, head | (raw_tail & closed_bit),
                                        std::memory_order_relaxed, std::memory_order_relaxed)) {
      head = head_.load(std::memory_order_relaxed);
      if ((raw_tail & ~closed_bit) >= head) break;
    }
  }

  alignas(cache_line_size) atomic<std::uint64_t> head_;
  alignas(cache_line_size) atomic<std::uint64_t> tail_;
  alignas(cache_line_size) atomic<std::int64_t> threshold_;
  alignas(cache_line_size) entry* entries_ = nullptr;
  unsigned idx_bits_ = 1;
  unsigned cycle_shift_ = 2;
  std::uint64_t bottom_ = 1;
  std::uint64_t safe_bit_ = 2;
  std::uint64_t size_ = 2;
};

}  // namespace detail

template <class T, class Allocator = std::allocator<T>, queue_options Options = queue_options{}>
class bounded_queue {
  static_assert(detail::valid_options<Options>);
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "bounded_queue<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "bounded_queue<T> needs a noexcept move constructor: a pop moves the element "
                "out after it has taken it from the queue, and there is no way to put it "
                "back if that move throws");
  static_assert(std::is_nothrow_destructible_v<T>, "bounded_queue<T> needs a noexcept destructor");

  // An element slot: raw storage, plus what the checkers need to see accesses to it.
  struct slot {
    alignas(T) unsigned char raw[sizeof(T)];
    [[no_unique_address]] detail::access_marker marker;
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(raw)); }
  };
  using traits = std::allocator_traits<Allocator>;
  using slot_alloc = typename traits::template rebind_alloc<slot>;
  using entry_alloc = typename traits::template rebind_alloc<detail::index_ring::entry>;
  using index_alloc = typename traits::template rebind_alloc<std::uint32_t>;

  static constexpr bool may_block = Options.may_block;
  // The deadline of the untimed blocking forms.
  static constexpr const std::chrono::steady_clock::time_point* forever = detail::no_deadline;

 public:
  using value_type = T;
  using allocator_type = Allocator;
  using size_type = std::size_t;

  // The largest capacity the rings can index (2^32 elements); allocation may fail sooner.
  [[nodiscard]] static constexpr std::size_t max_capacity() noexcept {
    constexpr std::size_t by_index = std::size_t{1} << 31 << 1;  // 2^32, and fits size_t
    constexpr std::size_t by_bytes =
        std::numeric_limits<std::size_t>::max() / (4 * sizeof(std::uint64_t) + sizeof(slot));
    return by_index < by_bytes ? by_index : by_bytes;
  }

  // Throws std::invalid_argument for capacity 0, std::length_error for a capacity above
  // max_capacity(), and whatever the allocator throws.
  explicit bounded_queue(std::size_t capacity, const Allocator& alloc = Allocator())
      : alloc_(alloc), capacity_(checked_capacity(capacity)) {
    unsigned order = 0;
    while ((std::size_t{1} << order) < capacity_) ++order;
    ring_entries_ = std::size_t{2} << order;
    slot_alloc sa(alloc_);
    entry_alloc ea(alloc_);
    slots_ = std::allocator_traits<slot_alloc>::allocate(sa, capacity_);
    detail::index_ring::entry* entries = nullptr;
    std::uint32_t* first = nullptr;
    index_alloc ia(alloc_);
#if defined(__cpp_exceptions)
    try {
#endif
      entries = std::allocator_traits<entry_alloc>::allocate(ea, 2 * ring_entries_);
#if defined(__cpp_exceptions)
      try {
#endif
        first = std::allocator_traits<index_alloc>::allocate(ia, capacity_);
#if defined(__cpp_exceptions)
      } catch (...) {
        std::allocator_traits<entry_alloc>::deallocate(ea, entries, 2 * ring_entries_);
        throw;
      }
    } catch (...) {
      std::allocator_traits<slot_alloc>::deallocate(sa, slots_, capacity_);
      throw;
    }
#endif
    for (std::size_t i = 0; i < capacity_; ++i) ::new (static_cast<void*>(&slots_[i])) slot;
    // free_ starts with every slot index in order, so consecutive pushes fill
    // neighbouring slots (a consumer that follows a producer takes whole cache lines).
    for (std::size_t k = 0; k < capacity_; ++k) first[k] = static_cast<std::uint32_t>(k);
    entries_base_ = entries;
    free_.init(entries, order, first, capacity_);
    ready_.init(entries + ring_entries_, order, nullptr, 0);
    std::allocator_traits<index_alloc>::deallocate(ia, first, capacity_);
  }

  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;

  // Destroys the elements still queued. No other thread may use the queue any more.
  ~bounded_queue() {
    for (;;) {
      const std::uint64_t i = ready_.template dequeue<true>();
      if (i == detail::index_ring::empty || i == detail::index_ring::closed) break;
      std::destroy_at(slots_[i].get());
    }
    slot_alloc sa(alloc_);
    entry_alloc ea(alloc_);
    for (std::size_t i = 0; i < capacity_; ++i) std::destroy_at(&slots_[i]);
    for (std::size_t i = 0; i < 2 * ring_entries_; ++i) std::destroy_at(&entries_base_[i]);
    std::allocator_traits<entry_alloc>::deallocate(ea, entries_base_, 2 * ring_entries_);
    std::allocator_traits<slot_alloc>::deallocate(sa, slots_, capacity_);
  }

  // ---- observers ----------------------------------------------------------------------
  // Exactly the constructor's argument: the queue never holds more elements.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // How many elements the queue holds, approximately (a snapshot of two counters, stale
  // at once; within [0, capacity()]).
  [[nodiscard]] std::size_t size_approx() const noexcept {
    const std::uint64_t s = ready_.size_hint();
    return s < capacity_ ? static_cast<std::size_t>(s) : capacity_;
  }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }
  [[nodiscard]] bool is_closed() const noexcept { return ready_.closed_seen(); }

  // ---- non-waiting --------------------------------------------------------------------
  // success, full or closed. Never waits, not even for another thread's half-finished
  // operation. On full or closed the argument is untouched.
  [[nodiscard]] queue_status try_push(const T& v) { return try_emplace(v); }
  [[nodiscard]] queue_status try_push(T&& v) {
    return push_attempt([&](T* p) { std::construct_at(p, std::move(v)); },
                        [&](T* p) noexcept { detail::restore_argument(v, p); });
  }
  template <class... A>
  [[nodiscard]] queue_status try_emplace(A&&... a) {
    static_assert(std::is_constructible_v<T, A...>,
                  "try_emplace: T is not constructible from these");
    return push_attempt([&](T* p) { std::construct_at(p, std::forward<A>(a)...); },
                        [](T*) noexcept {});
  }

  // The first element, or empty, or closed (closed and drained). Never waits.
  [[nodiscard]] queue_result<T> try_pop() noexcept {
    const std::uint64_t i = ready_.template dequeue<true>();
    if (i == detail::index_ring::empty) return queue_status::empty;
    if (i == detail::index_ring::closed) return queue_status::closed;
    return take(i);
  }

  // Pushes from [first, last) (moving from *it) until one is refused; returns how many
  // were pushed. Each element is its own operation (others may interleave).
  template <std::input_iterator It, std::sentinel_for<It> S>
  [[nodiscard]] std::size_t try_push_bulk(It first, S last) {
    return detail::push_each(
        [&](auto&& v) { return try_push(std::move(v)) == queue_status::success; }, first, last);
  }
  // Pops up to `max` elements into *out++; returns how many. Each its own operation.
  template <class Out>
  [[nodiscard]] std::size_t try_pop_bulk(Out out, std::size_t max) {
    return detail::pop_each([&] { return try_pop(); }, out, max);
  }

  // ---- blocking (P0260): wait while full / empty ----------------------------------------
  // Wait while full; false once closed (the argument is then untouched).
  bool push(const T& v)
    requires(may_block)
  {
    return wait_push([&] { return try_push(v); }, forever) == queue_status::success;
  }
  bool push(T&& v)
    requires(may_block)
  {
    return wait_push([&] { return try_push(std::move(v)); }, forever) == queue_status::success;
  }
  template <class... A>
  bool emplace(A&&... a)
    requires(may_block)
  {
    return wait_push([&] { return try_emplace(std::forward<A>(a)...); }, forever) ==
           queue_status::success;
  }
  // Waits while empty; nullopt once closed and drained.
  [[nodiscard]] std::optional<T> pop()
    requires(may_block)
  {
    queue_result<T> r = wait_pop(forever);
    if (!r) return std::nullopt;
    return std::optional<T>(std::move(*r));
  }

  // ---- timed (beyond P0260): a timeout is reported as full / empty -----------------------
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(const T& v, std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return push_until(v, std::chrono::steady_clock::now() + d);
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(T&& v, std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return push_until(std::move(v), std::chrono::steady_clock::now() + d);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(const T& v,
                                        const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    return wait_push([&] { return try_push(v); }, &deadline);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(T&& v,
                                        const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    return wait_push([&] { return try_push(std::move(v)); }, &deadline);
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_result<T> pop_for(std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return pop_until(std::chrono::steady_clock::now() + d);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_result<T> pop_until(const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    return wait_pop(&deadline);
  }

  // ---- close --------------------------------------------------------------------------
  // After close(), pushes report closed and pops drain what is left, then report closed.
  // Wakes every waiter on both sides. Idempotent.
  void close() noexcept {
    (void)ready_.close();  // [QC1] LP(close)
    if constexpr (may_block) {
      not_empty_->notify_all();
      not_full_->notify_all();
    }
  }

 private:
  static std::size_t checked_capacity(std::size_t c) {
    if (c == 0) {
#if defined(__cpp_exceptions)
      throw std::invalid_argument("lockless::bounded_queue: capacity 0");
#else
      detail::fatal("lockless::bounded_queue: capacity 0");
#endif
    }
    if (c > max_capacity()) {
#if defined(__cpp_exceptions)
      throw std::length_error("lockless::bounded_queue: capacity above max_capacity()");
#else
      detail::fatal("lockless::bounded_queue: capacity above max_capacity()");
#endif
    }
    return c;
  }

  // The push protocol: a free slot, the element built in it, its index published.
  template <class Build, class Undo>
  queue_status push_attempt(Build&& build, Undo&& undo) {
    if (ready_.closed_seen()) return queue_status::closed;  // [QC2] LP(try_push, closed)
    const std::uint64_t i = free_.template dequeue<false>();
    if (i == detail::index_ring::empty) {
      // LP(try_push, full) was free_'s empty answer; closed wins if it is set by now.
      return ready_.closed_seen() ? queue_status::closed : queue_status::full;
    }
    slot& s = slots_[i];
    s.marker.write();
#if defined(__cpp_exceptions)
    try {
      build(s.get());
    } catch (...) {
      give_back(i);
      throw;
    }
#else
    build(s.get());
#endif
    if (!ready_.template enqueue<true>(i)) {  // closed meanwhile: undo
      undo(s.get());
      std::destroy_at(s.get());
      give_back(i);
      return queue_status::closed;
    }
    // The enqueue's writes are RMWs ([QE4], [QE5]): [KN1] may be full_fence_after_rmw().
    if constexpr (may_block) not_empty_->notify_one_after_rmw();
    return queue_status::success;
  }

  void give_back(std::uint64_t i) noexcept {
    (void)free_.template enqueue<false>(i);
    if constexpr (may_block) not_full_->notify_one_after_rmw();  // as after a push
  }

  queue_result<T> take(std::uint64_t i) noexcept {
    slot& s = slots_[i];
    s.marker.write();
    queue_result<T> r(std::in_place, std::move(*s.get()));
    std::destroy_at(s.get());
    give_back(i);
    return r;
  }

  // Blocking forms: try, spin a little, then sleep on not_full_ / not_empty_ until an
  // attempt succeeds, the queue closes, or the deadline passes (then full / empty).
  template <class Try, class Deadline>
  queue_status wait_push(Try&& attempt, const Deadline* deadline) {
    return detail::await_attempt(
        *not_full_, attempt, [](queue_status st) { return st == queue_status::full; }, deadline);
  }
  template <class Deadline>
  queue_result<T> wait_pop(const Deadline* deadline) {
    return detail::await_attempt(
        *not_empty_, [&] { return try_pop(); },
        [](const queue_result<T>& r) { return !r && r.error() == queue_status::empty; }, deadline);
  }

  [[no_unique_address]] Allocator alloc_;
  std::size_t capacity_;
  std::size_t ring_entries_ = 0;
  slot* slots_ = nullptr;
  detail::index_ring::entry* entries_base_ = nullptr;
  detail::index_ring free_;
  detail::index_ring ready_;
  // Present with may_block = false too (two cache lines), but never touched then.
  detail::cache_padded<detail::event_count> not_empty_;
  detail::cache_padded<detail::event_count> not_full_;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
