// lockless/unbounded_queue.hpp: an unbounded MPMC FIFO queue, lock-free in the strict
// sense, with the interface of bounded_queue (WG21 P0260R20, adapted to C++20) minus
// "full": pushes never wait and are refused only once the queue is closed.
//
// WHAT
//   A linked list of segments, each an array of `segment_size` cells (elements stored
//   inline) with two fetch-and-add counters, enq and deq: the FAA-array family (LCRQ,
//   Morrison and Afek 2013; FAAArrayQueue, Ramalhete and Correia 2016; LPRQ, Romanov and
//   Koval 2023), with cells that are used once, so no cell ever needs a cycle number and
//   every atomic is single-width.
//     push:  take a ticket i = enq++ on the last segment (tail_); build the element in
//            cell i; publish it with a CAS of the cell's state EMPTY -> FULL. If a
//            consumer got there first and burned the cell (EMPTY -> BURNED), take the
//            element back and try again with a new ticket. A ticket past the end of the
//            segment means the segment is full: link a new segment whose cell 0 already
//            holds the element (enq = 1), so that attempt cannot be burned.
//     pop:   take a ticket i = deq++ on the first segment (head_); if cell i is FULL, move
//            the element out; if it is EMPTY (its producer is late, or there is none yet),
//            burn it and try again, unless no producer holds a later ticket (then the
//            queue is empty). A ticket past the end: move head_ to the next segment and
//            retire the old one through the Reclaimer.
//   A consumer never waits for a producer: the producer preempted between its ticket and
//   its CAS costs one burned cell and one retry for itself, nothing for anyone else.
//   Before it takes a ticket a consumer looks (read-only) whether anything is there
//   ([UD1]): a consumer polling an empty queue would otherwise burn the cell of every
//   push in progress.
//
// GUARANTEES
//   Linearizable unbounded FIFO queue with close (P0260 semantics, as bounded_queue):
//   every pushed value is popped at most once and, once the queue is closed and drained,
//   exactly once; values come out in the order of their pushes' linearization points.
//   Progress: try_push, try_emplace, try_pop and the bulk forms are lock-free in the
//   strict sense, apart from memory allocation (a segment every segment_size pushes, or
//   fewer when the cache below has one) and the Reclaimer (epochs: a thread's first guard
//   registers it). Single-width atomics only (64-bit fetch-and-add, CAS, loads, stores).
//   A thread suspended at any instruction delays nobody's completion. What it can still
//   cost: inside a push, one cell (its dequeuer burns it); inside a pop, the element it
//   took (linearized at its ticket) reaches only it; inside either, it holds a Reclaimer
//   guard, which with epochs delays the reclamation of every segment retired meanwhile
//   (epoch.hpp, THE WEAKNESS). Why the retries end: a push's attempts on one segment are
//   bounded by its segment_size tickets, and its attempt past the end links a segment
//   with the element already in it, which either succeeds or loses to another push that
//   succeeded; a pop's tickets are bounded by the pushes' tickets (it stops burning once
//   no later ticket exists) and by the segment's end.
//   Blocking: pop() waits while the queue is empty and open, first trying a few times,
//   then sleeping on detail::event_count (detail/queue_wait.hpp, detail/parking.hpp): no
//   CPU burnt while waiting, no lost wake-up; a push with nobody waiting pays one load,
//   and a fence except on x86-64, where its publishing CAS is that fence
//   (event_count::notify_one_after_rmw). push/emplace never wait (nothing can be full);
//   push_for/push_until exist so that code written for both queues compiles, and do not
//   wait either.
//   queue_options{.may_block = false} removes the blocking forms and that cost.
//   Limits: the counters are 64-bit and per segment, so they never wrap.
//
// TYPES AND EXCEPTIONS
//   T: any object type whose move constructor and destructor are noexcept (checked at
//   compile time: a pop that has taken its element cannot give it back, and a push whose
//   cell was burned moves its element on). Move-only T works.
//   push/emplace/try_push/try_emplace give the strong guarantee: if T's constructor
//   throws, or the allocator throws std::bad_alloc for a new segment, the queue is
//   unchanged, an argument passed by reference holds its value again and the exception
//   propagates. (A thrown constructor leaves its cell EMPTY: the consumer with that ticket
//   burns it, which is invisible.) An argument passed by reference is left intact when the
//   push reports closed (moved back if a burned cell had taken it, as bounded_queue does).
//   emplace's arguments are forwarded to T's constructor in the first cell tried; if the
//   push then reports closed, the element is destroyed and moved-from arguments stay moved
//   from. Every operation may throw what the Reclaimer's pin() throws (epochs: bad_alloc
//   on a thread's first use of the domain) before it touches the queue; try_pop is
//   therefore not noexcept, unlike bounded_queue's. close() and is_closed() never throw.
//   The destructor destroys the elements still queued; like every destructor it must not
//   run concurrently with other operations.
//
// MEMORY-ORDERING CONTRACT (every atomic access below)
//   Data flow: an element is published by its cell's state, a segment by the pointer that
//   links it. Cell states, segment links and the counters are the only shared words.
//   [UT1] push: tail_ loaded through the guard, acquire. Pairs with the release CAS that
//         stored it ([UE4], [UH0]): the segment's initialisation ([UE3]'s data) happens-
//         before, transitively through the thread that moved tail_.
//   [UE1] push: fetch-and-add of the segment's enq: the ticket. seq_cst, for [UC2]: the
//         ticket and the closed_ load after it must not be reordered with close()'s
//         store (a store -> load pattern).
//   [UC2] push: seq_cst load of closed_ after the ticket. With [UE1] and [UC1] in the
//         single order S: a push that reads false has its ticket before close() in S,
//         so a consumer that reads closed_ true ([UC3]) and then enq ([UD6]) counts it.
//         (A relaxed look at closed_ before the ticket, [UC4], spares a closed queue the
//         tickets; it decides nothing.)
//   [UE2] push: CAS of the cell's state EMPTY -> FULL, release: publishes the element
//         built in the cell; pairs with [UD3]/[UD4]. Failure relaxed: the only other
//         value is BURNED, which carries nothing to read.
//   [UN1] seg->next loaded acquire (push, pop, the seal): pairs with [UE3] (the
//         new segment's initialisation and the element in its cell 0) and with [UC5]
//         (the closed_ value and enq the sealer saw).
//   [UE3] push: CAS of seg->next null -> new segment, release: publishes the segment's
//         initialisation and its cell 0's element; pairs with [UN1]. Failure acquire:
//         the segment (or seal) it reloads is looked at like [UN1]'s. Written acq_rel on
//         success: the acquire half claims nothing, but Relacy (2019) follows C++11,
//         where a failure order may not be stronger than the success order, and runs
//         such a failure as relaxed (and g++ -Winvalid-memory-model rejects it under
//         the sanitizers); as treiber_stack's [TC3].
//   [UE4] push: CAS of tail_ from seg to its successor, release: pairs with [UT1]; only
//         a hint, every thread re-reads tail_ before it uses it. Failure relaxed.
//   [UD0] pop: head_ loaded through the guard, acquire: pairs with [UH1].
//   [UD1] pop, before taking a ticket: relaxed loads of deq, of the state of cell deq,
//         and, when that cell is not FULL, of enq. They decide only whether to take a
//         ticket or answer empty (coherence suffices: a push that happens-before this
//         pop is seen in enq and in its cell, and every ticket below deq belongs to a
//         consumer that took it); the element is read after [UD3].
//   [UD2] pop: relaxed fetch-and-add of deq: a ticket; orders nothing (the cell's state
//         carries the element).
//   [UD3] pop: acquire load of the ticket's cell state; pairs with [UE2] (FULL: the
//         element is visible).
//   [UD4] pop: CAS of an EMPTY cell to BURNED. Failure acquire: the cell became FULL,
//         and the element is read next (pairs with [UE2]). The success needs nothing (a
//         burn publishes nothing, the producer only learns to try elsewhere) and is
//         acquire only for the C++11 rule, as [UE3]'s.
//   [UC1] close(): seq_cst store of closed_: LP(close). Pairs with [UC2]/[UC3] in S.
//   [UC3] pop: seq_cst load of closed_, only when the queue looks drained; then
//   [UD6] seq_cst load of enq: counts every ticket of a push that read closed_ false.
//   [UC5] seal: CAS of the last segment's next null -> "sealed", acq_rel (release: the
//         seal follows the closed_ value it was made for; acquire on failure: a real
//         successor is then looked at as [UN1]). Once the last segment is sealed no
//         segment can be linked after it, so a push past its end reports closed.
//   [UH0] pop: CAS of tail_ from the exhausted head segment to its successor, release
//         (as [UE4]). Before head_ moves and the segment is retired, tail_ must not point
//         at it: a guard taken after the retire never reaches it through tail_.
//   [UH1] pop: CAS of head_ from the exhausted segment to its successor, release: pairs
//         with [UD0]; the successor's initialisation was acquired by [UN1] and travels
//         on. The winner retires the old segment.
//   [UC4] relaxed loads of closed_ (is_closed(), a push's early exit): coherence only;
//         closed_ is set only after close() linearized, so reading true is exact.
//   [US1] size_approx(): relaxed loads of the two segments' counters; a hint.
//   [UP1] the segment cache: a free segment is put in an empty slot with a release CAS
//         and taken with an acquire exchange (its reset state, written by the thread that
//         put it, happens-before the taker's use); [UP2] the cache's reference count,
//         relaxed increments and an acq_rel decrement (the last one frees it).
//   Reclamation: every operation holds one Reclaimer guard from its first load of
//   head_/tail_ to its return, dereferences only segments obtained through
//   guard.protect(head_/tail_) and never holds two at once (moving on means going back
//   to head_/tail_), so one guard suffices for pointer-based schemes too.
//   Model-checked by tests/relacy/unbounded_queue.cpp across segment boundaries with
//   segment_size 2; tests/relacy/unbounded_queue_mutants.cmake weakens [UE2], [UD3],
//   [UE3], [UN1], [UE1], [UC2], drops the look's closed_ check, the seal and the
//   notifications. Not model-checked: [UH0] (dropped, or moved after the head CAS).
//   tail_ points at a segment being retired only while the push that linked its
//   successor is between [UE3] and [UE4]; that push's own guard holds the second epoch
//   advance back, so a use after free needs a third thread pinned between the first and
//   second advance while the linker stays stalled across a whole pop and flush: three
//   preemptions at chosen points, which 10^6 random executions of the tail-lag scenario
//   did not reach. Argued above (INV2), not checked.
//
// INVARIANTS
//   INV1: a cell is written by at most one push (the holder of its enq ticket) and read
//         by at most one pop (the holder of its deq ticket); its state goes EMPTY -> FULL
//         or EMPTY -> BURNED, once. So an element is taken at most once, and a burned
//         cell's element (if its push built one) is the push's alone to move on.
//   INV2: segments only ever get appended at the end (a CAS on a null next) and removed
//         at the front (a CAS on head_); tail_ is head_ or after it; a segment is retired
//         once, by the pop whose CAS moved head_ past it, after tail_ moved past it.
//   INV3: a segment's cells past deq are untouched by consumers, so a FULL cell at or
//         past deq holds a live element; cells below deq were taken or burned.
//   INV4: once the last segment is sealed no push can succeed past its end, and once
//         closed_ is set every new ticket's push fails ([UC2]); a pop says closed only
//         when it read closed_ true and afterwards found deq past every ticket (and a
//         sealed successor if the segment is full), so every push linearized before the
//         close has been met by a consumer.
//
// LINEARIZATION POINTS
//   Successful operations are ordered by their tickets (segment by segment):
//   LP(try_push, success): the fetch-and-add [UE1] of the attempt whose CAS [UE2]
//     succeeds; but if a consumer's look [UD1] saw this ticket's cell unwritten and
//     answered empty, the point moves to just after the last such look (still inside the
//     push: that look read enq = ticket + 1). For the attempt that links a segment: the
//     CAS [UE3].
//   LP(try_pop, value): the fetch-and-add [UD2] whose cell yields the value, or, if the
//     push of that value linearized later (its ticket came after this one, or its point
//     moved), just after that push's point: the pop is in progress at both.
//   LP(try_pop, empty): the look [UD1]: the enq load that saw no ticket beyond deq, or
//     only the one at deq with its cell unwritten (and closed_ then false); or the load
//     [UN1] that found no successor of an exhausted segment.
//   LP(try_pop, closed): the load [UD6] (or [UN1]/[UC5] for a full last segment) that
//     completed the drained-and-closed check.
//   LP(try_push, closed): the load [UC2] or [UC4] that read true, or the [UE3] failure /
//     [UN1] load that found the seal.
//   LP(close): the store [UC1].
//
// COST AND MEMORY
//   An uncontended push+pop pair: two fetch-and-adds, one CAS, the guard's pin (epochs:
//   a store and a full fence each side) and, with may_block, a load (plus a fence except
//   on x86-64) for the notification. No allocation per element: one segment per
//   segment_size pushes.
//   A segment is sizeof(segment) = three cache lines of counters plus segment_size cells
//   of (4 bytes + padding + sizeof(T)), e.g. 1024 cells of 8 bytes for int: 8,576 bytes
//   (16,768 for a 64-bit T). A
//   burned cell costs its space until its segment is retired, and one retry.
//   Memory held: the segments from head_ to tail_ (ceil(size / segment_size) + 1 at
//   most, plus one per burned run), plus up to cached_segments free ones kept for reuse,
//   plus retired segments the Reclaimer has not freed yet (epochs: a retiring thread's
//   open bag, up to epoch_bag::capacity - 1 of them, is freed after its next seal, flush
//   or exit; see epoch.hpp GARBAGE BOUND). After a burst drains, an idle queue holds one
//   segment and its cache: tests/unit/unbounded_queue_memory.cpp measures it.
//
// REFERENCES
//   Adam Morrison, Yehuda Afek, "Fast concurrent queues for x86 processors", PPoPP 2013
//     (LCRQ: fetch-and-add tickets, cells a late thread burns, rings linked in a list).
//   Pedro Ramalhete, Andreia Correia, "FAAArrayQueue" (2016; in xenium as
//     ramalhete_queue): one-way arrays of cells, the element placed in a new node's
//     first cell.
//   Raed Romanov, Nikita Koval, "The State-of-the-Art LCRQ Concurrent Queue Algorithm
//     Does NOT Require CAS2", PPoPP 2023 (LPRQ).
//   WG21 P0260R20, "C++ Concurrent Queues" (the interface).
//   Teaching page: docs/algorithms/unbounded_queue.md.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "bounded_queue.hpp"  // queue_options
#include "detail/atomic.hpp"
#include "detail/config.hpp"
#include "detail/options.hpp"
#include "detail/parking.hpp"
#include "detail/platform.hpp"
#include "detail/queue_wait.hpp"
#include "detail/reclaimer.hpp"
#include "epoch.hpp"
#include "queue_status.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// The value knobs of unbounded_queue (docs/design.md, "Policies by name").
struct unbounded_queue_options {
  // As queue_options::may_block: false removes pop(), pop_for(), pop_until() and every
  // notification cost.
  bool may_block = true;
  // Cells per segment: the unit of allocation and of reclamation. Larger: fewer
  // allocations and retirements, more memory held by a near-empty queue.
  std::size_t segment_size = 1024;
  // Free segments kept for reuse instead of going back to the allocator (0: none).
  std::size_t cached_segments = 2;

  consteval void validate() const {
    detail::require_option(segment_size >= 2,
                           "unbounded_queue_options::segment_size must be at least 2");
    detail::require_option(segment_size <= (std::size_t{1} << 24),
                           "unbounded_queue_options::segment_size must be at most 2^24");
    detail::require_option(cached_segments <= 64,
                           "unbounded_queue_options::cached_segments must be at most 64");
  }
};

template <class T, class Reclaimer = epoch_reclaimer, class Allocator = std::allocator<T>,
          unbounded_queue_options Options = unbounded_queue_options{}>
class unbounded_queue {
  static_assert(detail::valid_options<Options>);
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "unbounded_queue<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "unbounded_queue<T> needs a noexcept move constructor: a pop moves the element "
                "out after it has taken it from the queue, and a push whose cell was burned "
                "moves its element on; neither can be undone if the move throws");
  static_assert(std::is_nothrow_destructible_v<T>,
                "unbounded_queue<T> needs a noexcept destructor");
  static_assert(detail::reclaimer<Reclaimer>,
                "unbounded_queue<T, Reclaimer>: Reclaimer must model lockless::detail::reclaimer "
                "(see lockless/detail/reclaimer.hpp)");

  static constexpr std::uint64_t N = Options.segment_size;
  static constexpr bool may_block = Options.may_block;

  enum : std::uint32_t { cell_empty = 0, cell_full = 1, cell_burned = 2 };

  struct cell {
    LOCKLESS_DETAIL_CONSTEXPR_ATOMICS cell() noexcept : state(cell_empty) {}
    detail::atomic<std::uint32_t> state;
    [[no_unique_address]] detail::access_marker marker;
    alignas(T) unsigned char raw[sizeof(T)];
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(raw)); }
  };

  struct segment {
    segment() noexcept : enq(0), deq(0), next(nullptr) {}
    alignas(detail::cache_line_size) detail::atomic<std::uint64_t> enq;
    alignas(detail::cache_line_size) detail::atomic<std::uint64_t> deq;
    alignas(detail::cache_line_size) detail::atomic<segment*> next;
    // The segment's position in the list (for size_approx()); written before the segment
    // is published, immutable while it is shared.
    std::uint64_t id = 0;
    alignas(detail::cache_line_size) std::array<cell, N> cells;

    // Back to the state of a new segment (only by a thread that owns it alone).
    void reset(std::uint64_t new_id) noexcept {
      enq.store(0, std::memory_order_relaxed);  // private: no ordering
      deq.store(0, std::memory_order_relaxed);
      next.store(nullptr, std::memory_order_relaxed);
      id = new_id;
      for (cell& c : cells) c.state.store(cell_empty, std::memory_order_relaxed);
    }
  };

  using traits = std::allocator_traits<Allocator>;
  using segment_alloc = typename traits::template rebind_alloc<segment>;
  using segment_traits = std::allocator_traits<segment_alloc>;

  // Free segments for reuse, shared by the queue and its retired segments' deleters (a
  // deleter may run after the queue is gone: the last of them frees the cache). [UP1],
  // [UP2] in the header.
  struct segment_cache {
    explicit segment_cache(const Allocator& a) : alloc(a), refs(1) {
      for (auto& slot : slots) slot.store(nullptr, std::memory_order_relaxed);  // unshared
    }
    segment_alloc alloc;
    detail::atomic<std::size_t> refs;
    std::array<detail::atomic<segment*>, Options.cached_segments == 0 ? 1 : Options.cached_segments>
        slots;

    segment* make() {
      segment* s = segment_traits::allocate(alloc, 1);  // may throw bad_alloc
      ::new (static_cast<void*>(s)) segment();
      return s;
    }
    void destroy(segment* s) noexcept {
      std::destroy_at(s);
      segment_traits::deallocate(alloc, s, 1);
    }
    // A free segment, reset to `id`: from the cache, else new. May throw bad_alloc.
    segment* take(std::uint64_t id) {
      for (std::size_t k = 0; k < Options.cached_segments; ++k) {
        // [UP1] relaxed look, then acquire exchange (pairs with put()'s release CAS).
        if (slots[k].load(std::memory_order_relaxed) == nullptr) continue;
        if (segment* s = slots[k].exchange(nullptr, std::memory_order_acquire)) {
          s->reset(id);
          return s;
        }
      }
      segment* s = make();
      s->id = id;
      return s;
    }
    // A segment nobody else can reach: into an empty slot, else back to the allocator.
    void put(segment* s) noexcept {
      for (std::size_t k = 0; k < Options.cached_segments; ++k) {
        segment* expected = nullptr;
        // [UP1] release: the segment's last uses happen-before its next owner's.
        if (slots[k].compare_exchange_strong(expected, s, std::memory_order_release,
                                             std::memory_order_relaxed)) {
          return;
        }
      }
      destroy(s);
    }
    void add_ref() noexcept { (void)refs.fetch_add(1, std::memory_order_relaxed); }  // [UP2]
    // [UP2] acq_rel: every holder's uses of the cache happen-before the last one frees it.
    static void release(segment_cache* c) noexcept {
      if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      for (auto& slot : c->slots) {
        if (segment* s = slot.load(std::memory_order_relaxed)) c->destroy(s);  // last owner
      }
      using cache_alloc = typename traits::template rebind_alloc<segment_cache>;
      cache_alloc ca(c->alloc);
      std::destroy_at(c);
      std::allocator_traits<cache_alloc>::deallocate(ca, c, 1);
    }
  };

  // The deleter the Reclaimer runs for a retired segment: into the cache (or freed).
  struct recycle {
    segment_cache* cache;
    void operator()(segment* s) const noexcept {
      cache->put(s);
      segment_cache::release(cache);
    }
  };

  // A push's element when it sits in no cell (taken back from a burned one).
  struct holding {
    alignas(T) unsigned char raw[sizeof(T)];
    bool full = false;
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(raw)); }
    void take_from(T* p) noexcept {
      std::construct_at(get(), std::move(*p));
      std::destroy_at(p);
      full = true;
    }
    void give_to(T* p) noexcept {
      std::construct_at(p, std::move(*get()));
      std::destroy_at(get());
      full = false;
    }
  };

  // The sealed successor of the last segment of a closed queue; never dereferenced.
  static segment* sealed() noexcept { return reinterpret_cast<segment*>(std::uintptr_t{1}); }

 public:
  using value_type = T;
  using allocator_type = Allocator;
  using reclaimer_type = Reclaimer;
  using size_type = std::size_t;
  static constexpr std::size_t segment_size = Options.segment_size;
  static constexpr std::size_t cached_segments = Options.cached_segments;

  // The empty queue holds one segment (allocated here: may throw bad_alloc).
  unbounded_queue() : unbounded_queue(Reclaimer(), Allocator()) {}
  explicit unbounded_queue(const Allocator& alloc) : unbounded_queue(Reclaimer(), alloc) {}
  explicit unbounded_queue(Reclaimer reclaimer, const Allocator& alloc = Allocator())
      : alloc_(alloc), reclaimer_(std::move(reclaimer)) {
    using cache_alloc = typename traits::template rebind_alloc<segment_cache>;
    cache_alloc ca(alloc_);
    cache_ = std::allocator_traits<cache_alloc>::allocate(ca, 1);
    ::new (static_cast<void*>(cache_)) segment_cache(alloc_);
    segment* first = nullptr;
#if defined(__cpp_exceptions)
    try {
#endif
      first = cache_->make();
#if defined(__cpp_exceptions)
    } catch (...) {
      segment_cache::release(cache_);
      throw;
    }
#endif
    head_->store(first, std::memory_order_relaxed);  // before any sharing
    tail_->store(first, std::memory_order_relaxed);
  }

  unbounded_queue(const unbounded_queue&) = delete;
  unbounded_queue& operator=(const unbounded_queue&) = delete;

  // Destroys the elements still queued and frees the segments. No other thread may use
  // the queue any more. Segments retired earlier belong to the Reclaimer, which frees
  // them (through the shared cache) whenever it runs their deleters.
  ~unbounded_queue() {
    // Quiescent: every operation has returned, so relaxed loads see the last values.
    segment* s = head_->load(std::memory_order_relaxed);
    while (s != nullptr && s != sealed()) {
      const std::uint64_t lo = std::min(s->deq.load(std::memory_order_relaxed), N);
      const std::uint64_t hi = std::min(s->enq.load(std::memory_order_relaxed), N);
      for (std::uint64_t i = lo; i < hi; ++i) {  // INV3
        cell& c = s->cells[i];
        if (c.state.load(std::memory_order_relaxed) == cell_full) std::destroy_at(c.get());
      }
      segment* next = s->next.load(std::memory_order_relaxed);
      cache_->destroy(s);
      s = next;
    }
    segment_cache::release(cache_);
  }

  // ---- observers ----------------------------------------------------------------------
  // How many elements the queue holds, approximately (counters read at slightly different
  // moments; cells burned but not yet passed may be counted). Takes a guard: may throw
  // what the Reclaimer's pin() throws.
  [[nodiscard]] std::size_t size_approx() const {
    auto guard = reclaimer_.pin();
    segment* h = guard.protect(head_.value, std::memory_order_acquire);  // [UD0]
    // [US1] relaxed: a hint.
    const std::uint64_t out = h->id * N + std::min(h->deq.load(std::memory_order_relaxed), N);
    segment* t = guard.protect(tail_.value, std::memory_order_acquire);  // [UT1]
    const std::uint64_t in = t->id * N + std::min(t->enq.load(std::memory_order_relaxed), N);
    return in > out ? static_cast<std::size_t>(in - out) : 0;
  }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }
  [[nodiscard]] const Reclaimer& reclaimer() const noexcept { return reclaimer_; }
  // True once close() has been called (exact: set only after close() linearized, and by
  // close() itself).
  [[nodiscard]] bool is_closed() const noexcept {
    return closed_->load(std::memory_order_relaxed);  // [UC4] coherence only
  }

  // ---- non-waiting --------------------------------------------------------------------
  // success or closed. Never waits, not even for another thread's half-finished
  // operation. On closed the argument is untouched.
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
  [[nodiscard]] queue_result<T> try_pop() {
    auto guard = reclaimer_.pin();
    return pop_attempt(guard);
  }

  // Pushes from [first, last) (moving from *it) until one is refused; returns how many
  // were pushed. Each element is its own operation (others may interleave).
  template <std::input_iterator It, std::sentinel_for<It> S>
  [[nodiscard]] std::size_t try_push_bulk(It first, S last) {
    return detail::push_each(
        [&](auto&& v) { return try_push(std::move(v)) == queue_status::success; }, first, last);
  }
  // Pops up to `max` elements into *out++; returns how many. Each its own operation, under
  // one guard.
  template <class Out>
  [[nodiscard]] std::size_t try_pop_bulk(Out out, std::size_t max) {
    if (max == 0) return 0;
    auto guard = reclaimer_.pin();
    return detail::pop_each([&] { return pop_attempt(guard); }, out, max);
  }

  // ---- pushes that would block on a bounded queue: never wait here ----------------------
  // false only once closed (the argument is then untouched).
  bool push(const T& v) { return try_push(v) == queue_status::success; }
  bool push(T&& v) { return try_push(std::move(v)) == queue_status::success; }
  template <class... A>
  bool emplace(A&&... a) {
    return try_emplace(std::forward<A>(a)...) == queue_status::success;
  }
  // bounded_queue's timed pushes, for code written for both: success or closed at once.
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(const T& v, std::chrono::duration<Rep, Period>) {
    return try_push(v);
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(T&& v, std::chrono::duration<Rep, Period>) {
    return try_push(std::move(v));
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(const T& v,
                                        const std::chrono::time_point<Clock, Duration>&) {
    return try_push(v);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(T&& v, const std::chrono::time_point<Clock, Duration>&) {
    return try_push(std::move(v));
  }

  // ---- blocking pop (P0260) and the timed forms: a timeout is reported as empty ---------
  // Waits while empty; nullopt once closed and drained. pop_for's deadline is
  // detail::deadline_in(d): a duration longer than the steady clock can count from now
  // (nanoseconds::max(), hours::max()) waits as pop() does; pop_until's is
  // detail::deadline_at(t), which saturates a coarse time point beyond the clock's range.
  [[nodiscard]] std::optional<T> pop()
    requires(may_block)
  {
    queue_result<T> r = wait_pop(detail::no_deadline);
    if (!r) return std::nullopt;
    return std::optional<T>(std::move(*r));
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_result<T> pop_for(std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return pop_until(detail::deadline_in(d));
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_result<T> pop_until(const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    const auto at = detail::deadline_at(deadline);
    return wait_pop(&at);
  }

  // ---- close --------------------------------------------------------------------------
  // After close(), pushes report closed and pops drain what is left, then report closed.
  // Wakes every waiting pop. Idempotent.
  void close() noexcept {
    closed_->store(true, std::memory_order_seq_cst);  // [UC1] LP(close)
    if constexpr (may_block) not_empty_->notify_all();
  }

 private:
  // The push protocol (see WHAT): a ticket, the element built in its cell, the cell
  // published; or a new segment with the element in cell 0.
  template <class Build, class Undo>
  queue_status push_attempt(Build&& build, Undo&& undo) {
    if (closed_->load(std::memory_order_relaxed)) {  // [UC4] LP(try_push, closed)
      return queue_status::closed;
    }
    auto guard = reclaimer_.pin();  // may throw: nothing touched yet
    holding held;                   // the element, when it is in no cell
    segment* spare = nullptr;       // a segment of ours, not linked (yet)
    // Back to the state before the call: the element to the argument (or destroyed).
    auto give_up = [&]() noexcept {
      if (held.full) {
        undo(held.get());
        std::destroy_at(held.get());
        held.full = false;
      }
      if (spare != nullptr) cache_->put(spare);
    };
    // Puts the element into `p`: from where it is held, else built from the arguments.
    auto place = [&](T* p) {
      if (held.full) {
        held.give_to(p);
      } else {
        build(p);  // may throw: then p holds nothing
      }
    };
    for (;;) {
      segment* seg = guard.protect(tail_.value, std::memory_order_acquire);  // [UT1]
      // [UE1] seq_cst: the ticket; ordered before [UC2].
      const std::uint64_t i = seg->enq.fetch_add(1, std::memory_order_seq_cst);
      // [UC2] seq_cst: see the header.
      if (closed_->load(std::memory_order_seq_cst)) {  // LP(try_push, closed)
        give_up();
        return queue_status::closed;
      }
      if (i < N) {
        cell& c = seg->cells[i];
        c.marker.write();
#if defined(__cpp_exceptions)
        try {
          place(c.get());
        } catch (...) {
          give_up();  // the cell stays EMPTY; its dequeuer burns it
          throw;
        }
#else
        place(c.get());
#endif
        std::uint32_t expected = cell_empty;
        // [UE2] release: publishes the element; pairs with [UD3]/[UD4].
        if (c.state.compare_exchange_strong(expected, cell_full, std::memory_order_release,
                                            std::memory_order_relaxed)) {
          if (spare != nullptr) cache_->put(spare);
          notify_pushed();
          return queue_status::success;  // LP: [UE1] (see LINEARIZATION POINTS)
        }
        // Burned: the consumer of this ticket has passed. Take the element back (INV1).
        held.take_from(c.get());
        continue;
      }
      // Past the end: the segment is full. Link the next one, with the element in it.
      segment* next = seg->next.load(std::memory_order_acquire);  // [UN1]
      if (next == nullptr) {
        if (spare == nullptr) {
#if defined(__cpp_exceptions)
          try {
            spare = cache_->take(seg->id + 1);
          } catch (...) {
            give_up();
            throw;
          }
#else
          spare = cache_->take(seg->id + 1);
#endif
        } else {
          spare->id = seg->id + 1;
        }
        cell& c0 = spare->cells[0];
        c0.marker.write();
#if defined(__cpp_exceptions)
        try {
          place(c0.get());
        } catch (...) {
          give_up();
          throw;
        }
#else
        place(c0.get());
#endif
        c0.state.store(cell_full, std::memory_order_relaxed);  // private until [UE3]
        spare->enq.store(1, std::memory_order_relaxed);
        // [UE3] release (acq_rel: the C++11 rule, see the header): publishes the segment
        // and its element; pairs with [UN1]. Failure acquire: the reloaded successor.
        if (seg->next.compare_exchange_strong(next, spare, std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
          segment* expected = seg;
          // [UE4] release: pairs with [UT1]; a hint (others move tail_ too).
          (void)tail_->compare_exchange_strong(expected, spare, std::memory_order_release,
                                               std::memory_order_relaxed);
          notify_pushed();
          return queue_status::success;  // LP: [UE3]
        }
        // Another push linked one first (or the queue was sealed): take the element back.
        held.take_from(c0.get());
        c0.state.store(cell_empty, std::memory_order_relaxed);
        spare->enq.store(0, std::memory_order_relaxed);
      }
      if (next == sealed()) {  // LP(try_push, closed): the seal is after close() ([UC5])
        give_up();
        return queue_status::closed;
      }
      segment* expected = seg;
      // [UE4] release: help tail_ on; pairs with [UT1].
      (void)tail_->compare_exchange_strong(expected, next, std::memory_order_release,
                                           std::memory_order_relaxed);
    }
  }

  // The pop protocol (see WHAT), under the caller's guard.
  template <class Guard>
  queue_result<T> pop_attempt(Guard& guard) {
    for (;;) {
      segment* seg = guard.protect(head_.value, std::memory_order_acquire);  // [UD0]
      // [UD1] the look: relaxed loads of deq, the cell there, enq.
      const std::uint64_t d = seg->deq.load(std::memory_order_relaxed);
      if (d >= N) {
        if (advance_head(seg, guard)) continue;
        if (const auto st = drained(seg, d)) return *st;
        continue;  // a successor was linked meanwhile
      }
      if (seg->cells[d].state.load(std::memory_order_relaxed) != cell_full) {
        const std::uint64_t e = seg->enq.load(std::memory_order_relaxed);
        // No ticket at or past deq: nothing here (e < N, so nothing after this segment),
        // unless a push that took its ticket before a close is still in flight.
        if (e <= d) {
          if (const auto st = drained(seg, d)) return *st;
        }
        // Only the ticket at deq, its element unwritten: its push has not linearized.
        if (e == d + 1 && !closed_->load(std::memory_order_seq_cst)) {  // [UC3]
          return queue_status::empty;                                   // LP(try_pop, empty)
        }
      }
      // [UD2] relaxed: a ticket.
      const std::uint64_t i = seg->deq.fetch_add(1, std::memory_order_relaxed);
      if (i >= N) continue;  // the segment ran out meanwhile: the look above moves on
      cell& c = seg->cells[i];
      // [UD3] acquire: pairs with [UE2].
      std::uint32_t st = c.state.load(std::memory_order_acquire);
      if (st == cell_empty) {
        // [UD4] acquire failure (FULL now: the element is read next; pairs with [UE2]);
        // the success claims nothing (acquire only for the C++11 rule, see the header).
        if (c.state.compare_exchange_strong(st, cell_burned, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
          continue;  // burned; the next look decides between empty and another ticket
        }
      }
      return take(c);  // FULL (INV1: nobody else reads it). LP(try_pop, value): [UD2]
    }
  }

  // Moves the element out of a FULL cell whose ticket the caller holds. One return, so
  // the result is built in place (a pop moves the element once).
  static queue_result<T> take(cell& c) noexcept {
    c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());
    return r;
  }

  // A pop found no ticket at or past d on seg (d >= enq, or d >= N and no successor):
  // empty; or closed if closed_ is set and every ticket has been met (INV4); or nothing
  // (nullopt) if closed_ is set but a push that took its ticket before the close is still
  // in flight (its element must come out first: take a ticket), or a successor has just
  // been linked.
  std::optional<queue_status> drained(segment* seg, std::uint64_t d) {
    // [UC3] seq_cst: pairs with [UC1]/[UC2] in S.
    if (!closed_->load(std::memory_order_seq_cst)) {
      return queue_status::empty;  // LP(try_pop, empty): the load that found no ticket
    }
    // [UD6] seq_cst: every push that read closed_ false has its ticket in enq.
    const std::uint64_t e = seg->enq.load(std::memory_order_seq_cst);
    if (d < std::min(e, N)) return std::nullopt;  // a push in flight: not drained
    if (e < N) return queue_status::closed;       // no ticket can link a successor: LP
    // Full segment: seal it, so no push can link a successor after the close.
    segment* next = nullptr;
    // [UC5] acq_rel/acquire: see the header.
    if (seg->next.compare_exchange_strong(next, sealed(), std::memory_order_acq_rel,
                                          std::memory_order_acquire) ||
        next == sealed()) {
      return queue_status::closed;  // LP(try_pop, closed)
    }
    return std::nullopt;  // a successor was linked just now: drain it
  }

  // Moves head_ (and tail_, if it lags) past the exhausted segment `seg`; false if seg
  // has no successor. The pop whose CAS moves head_ retires seg (INV2).
  template <class Guard>
  bool advance_head(segment* seg, Guard& guard) noexcept {
    segment* next = seg->next.load(std::memory_order_acquire);  // [UN1]
    if (next == nullptr || next == sealed()) return false;
    segment* expected = seg;
    // [UH0] release: tail_ off seg before seg can be retired; pairs with [UT1].
    (void)tail_->compare_exchange_strong(expected, next, std::memory_order_release,
                                         std::memory_order_relaxed);
    expected = seg;
    // [UH1] release: pairs with [UD0].
    if (head_->compare_exchange_strong(expected, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      cache_->add_ref();  // [UP2] the deleter holds the cache
      guard.retire(seg, recycle{cache_});
    }
    return true;
  }

  // Called right after the publishing CAS ([UE2], or [UE3]/[UE4] for a linking push): the
  // element is published by an RMW, so [KN1] is full_fence_after_rmw() (detail/parking.hpp).
  void notify_pushed() noexcept {
    if constexpr (may_block) not_empty_->notify_one_after_rmw();
  }

  template <class Deadline>
  queue_result<T> wait_pop(const Deadline* deadline) {
    return detail::await_attempt(
        *not_empty_, [&] { return try_pop(); },
        [](const queue_result<T>& r) { return !r && r.error() == queue_status::empty; }, deadline);
  }

  detail::cache_padded<detail::atomic<segment*>> head_{nullptr};
  detail::cache_padded<detail::atomic<segment*>> tail_{nullptr};
  detail::cache_padded<detail::atomic<bool>> closed_{false};
  [[no_unique_address]] Allocator alloc_;
  [[no_unique_address]] Reclaimer reclaimer_;
  segment_cache* cache_ = nullptr;
  // Present with may_block = false too (a cache line), but never touched then.
  detail::cache_padded<detail::event_count> not_empty_;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
