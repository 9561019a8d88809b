// lockless/bounded_queue.hpp: a bounded MPMC FIFO queue, lock-free in the strict sense,
// with the interface of WG21 P0260R20 (C++ Concurrent Queues): blocking, non-waiting and
// timed push/pop, and close.
//
// WHAT
//   A ring of `capacity` cells ("the cell ring"). Each cell holds the storage of one
//   element and a 64-bit word {lap:44, dead:16, closed_after:1, state:3}. A ticket names
//   one use of one cell: (lap, pos), pos < capacity. The states of a cell at its lap L:
//     vacant(L)     waits for ticket (L, pos);
//     claimed(L)    the producer of (L, pos) builds its element in the cell;
//     full(L)       holds the element of (L, pos);
//     busy(L)       the consumer of (L, pos) moves the element out;
//     abandoned(L)  consumers gave up on (L, pos); its producer takes the element back;
//     closed(L)     the close marker, at ticket (L, pos).
//   The common path is four CASes per element, one per transition: a push claims the
//   first cell vacant for its ticket (vacant -> claimed, [QP3]), constructs the element in
//   it, and publishes it (claimed -> full, [QP4]); a pop takes it (full -> busy, [QT3]),
//   moves it out, and releases the cell for the next lap (busy -> vacant(L+1), [QT4]).
//   head_ and tail_ are hints (where the last pop and push ended), not counters.
//
//   Why not the usual fast ring (Vyukov's, as in atomic_queue, rigtorp/MPMCQueue,
//   xenium's vyukov_bounded_queue)? There every ticket must be served in turn: a consumer
//   that reaches a cell whose producer is preempted between claiming and filling it waits
//   for that producer, and so does a producer that reaches a cell whose consumer is
//   preempted. Here nobody waits for anybody:
//   - A producer whose cell is still held by an earlier lap (full, or an operation in
//     progress there) walks on to the next cell vacant for its ticket ([QW1]) and declares
//     the tickets it passes dead ([QW2]): it raises the held cell's `dead` count, and the
//     holder's release later jumps the cell past them (vacant(L + dead + 1)). Only when a
//     whole lap has no vacant cell is the queue full. A count of the dead tickets not yet
//     retired (dead_out_, [QW4]) lets a push that finds the previous lap's element in its
//     cell answer full at once when there is no hole anywhere.
//   - A consumer that finds its ticket claimed (or not produced yet) looks ahead for a
//     published ticket. If there is one, it abandons the claimed tickets before it
//     (claimed -> abandoned, [QW3]; their producers' publish fails, they take their
//     elements back and push again at a later ticket), declares the unproduced ones dead,
//     and takes the published one. If there is none, it reads the tickets before the
//     frontier once more and answers empty.
//   - close() places a marker at the first ticket nobody has passed ([QC1]): a closed
//     cell, or, when that cell is still held by an earlier lap, a closed_after flag that
//     the holder's release turns into the marker.
//   (Design history, measurements and the SCQ ring this replaced: the teaching page.)
//
// GUARANTEES
//   Linearizable bounded FIFO queue with close (P0260 semantics): every pushed value is
//   popped at most once and, once the queue is closed and drained, exactly once; values
//   come out in the order of their pushes' linearization points.
//   capacity() is exactly the constructor's argument (there are that many cells): the
//   queue never holds more elements. "full" is relaxed in two documented ways:
//   - an operation in progress holds its cell (a push from its claim to its publish, a
//     pop from its take to its release), so try_push may report full while fewer than
//     capacity() elements are queued, at most one cell short per push or pop in flight;
//     with no other operation in progress, full means exactly capacity() elements. (The
//     tests check histories against exactly this: tests/support/lincheck,
//     spec::bounded_queue(c).full_when_in_flight().)
//   - a cell's dead count saturates at 65,534: if a thread stays suspended inside an
//     operation while the others go round the ring 65,534 more times, a push that would
//     have to pass its cell once more answers full (instead of waiting for it) until the
//     thread resumes. At capacity 2 that is about 130,000 operations by the others.
//   empty and closed are exact.
//   Progress: try_push, try_pop, try_emplace and the bulk forms are lock-free in the
//   strict sense, with single-width atomics only (64-bit CAS, fetch-and-add; no
//   cmpxchg16b, nothing from libatomic). A thread suspended at any instruction delays
//   nobody's completion. What it can still cost the others: inside a push, the one cell
//   it claimed (pushes walk past it; pops abandon it once a later ticket is published);
//   inside a pop, the one cell it took (pushes walk past it). Every retry loop restarts
//   only because another thread changed a word it read: some operation made progress.
//   The dsched progress test (tests/dsched/bounded_queue_progress.cpp) suspends each
//   thread at each of its yield points in turn and checks that the others finish.
//   The blocking forms (push, emplace, pop, the timed ones) first try a few times, then
//   sleep on detail::event_count (detail/parking.hpp): no CPU burnt while waiting, no lost
//   wake-up, and a push or pop with nobody waiting pays one load (and a fence except on
//   x86-64: notify_one_after_rmw), no system call. queue_options{.may_block = false}
//   removes them and that cost.
//   No allocation after construction (P0260): the cells come from the allocator in the
//   constructor and go back in the destructor.
//   Limits: laps are compared modulo 2^min(44, 64 - ceil(log2 capacity)); a thread must
//   not stay suspended, between reading a hint or a word and using it, while one cell goes
//   round 2^43 laps (at capacity 1, 100 days at 10^6 operations per second).
//
// TYPES AND EXCEPTIONS
//   T: any object type whose move constructor is noexcept (checked at compile time: after
//   a pop has taken its element there is no way to give it back, and an abandoned push
//   must take its element back). Move-only T works.
//   push(const T&), push(T&&), emplace(...) and their try_/timed forms give the strong
//   guarantee: if T's constructor throws, the claimed cell becomes a hole and is released,
//   the queue is unchanged, and the exception propagates. An argument passed by reference
//   is left intact whenever the push does not succeed (full, closed, timeout).
//   emplace's arguments are forwarded to T's constructor once a cell is claimed. In the
//   rare race where consumers abandon that push, the built element is kept (in a local
//   std::optional<T>) and pushed again at a later ticket; if try_emplace then finds the
//   queue full or closed, the element is destroyed and the arguments stay moved from
//   (emplace and the timed forms keep it and go on waiting).
//   Elements still in the queue are destroyed by the destructor. The destructor, like
//   every destructor, must not run concurrently with other operations.
//
// MEMORY-ORDERING CONTRACT (every atomic access)
//   Data flow: an element's construction is published by [QP4] and acquired by [QT3]; its
//   move-out (or, after an abandon, its take-back) is published by [QT4] and acquired by
//   the next claim [QP3]. Every other RMW on a cell word (a dead count raised [QW2], an
//   abandon [QW3], a closed_after flag [QC1]) continues the release sequence of the
//   release before it, so these pairs hold across them.
//   [QP1] push: acquire load of closed_, the early exit. Pairs with [QC2]: a push refused
//         here synchronises with the close, so the marker and everything the closing
//         thread did before is visible to this thread afterwards (a thread told "closed"
//         by a push never hears "empty" from a later pop of its own).
//   [QP2] push: relaxed loads of the cell word before the claiming CAS [QP3] and before
//         the publishing CAS [QP4]; the CAS reads the word again, so the look only picks
//         the case.
//   [QP3] push: the claim, CAS vacant -> claimed, acquire/acquire. Pairs with [QT4]: the
//         previous element's move-out happens-before this push builds in the cell. No
//         release half: nothing the producer wrote before is read through it.
//   [QP4] push: the publish, CAS claimed -> full, release/relaxed. Pairs with [QT3]: the
//         element's construction happens-before its move-out. Fails (and is retried)
//         when a walker raised the dead count or a close set closed_after; fails for good
//         when consumers abandoned the ticket.
//   [QP5] tail_, the push's hint: seq_cst loads, release store after a claim. Any value
//         is safe (a stale hint only makes a walk longer); a hint is never ahead of the
//         ticket its store names. Not minimised (on x86-64 these are plain MOVs).
//   [QT1] head_, the pop's hint: seq_cst load, release store after a take (and after an
//         answer without a value that passed holes); as [QP5].
//   [QT2] pop: relaxed loads of the cell word before the taking CAS [QT3]. An empty or
//         closed answer read here (a vacant or closed word at the pop's ticket) needs only
//         coherence: a push or close that happens-before the pop is seen.
//   [QT3] pop: the take, CAS full -> busy, acquire/acquire. Pairs with [QP4]. No release
//         half: the cell goes back with [QT4].
//   [QT4] pop: the release, CAS busy (or abandoned) -> vacant(L + dead + 1), or the close
//         marker when closed_after is set, release/relaxed. Pairs with [QP3]. Its first
//         load is relaxed (the CAS reads the word again).
//   [QW1] the rare paths (the push's walk, declare_dead, the pop's lookahead and its
//         re-read, give_up_range, give_up_own): seq_cst loads of cell words. Not
//         minimised: the empty answer after a lookahead and the full answer after a walk
//         are argued over one total order of these loads and the CASes [QW2]-[QW4].
//   [QW2] declare_dead: seq_cst CAS raising a held cell's dead count.
//   [QW3] abandon: seq_cst CAS claimed -> abandoned (by a pop's give_up_range, or by the
//         producer itself when T's constructor threw).
//   [QW4] dead_out_: seq_cst fetch-and-add after [QW2]/[QW3], fetch-sub when a claim or
//         a close retires a cell's holes, seq_cst load in the push's fast full check.
//   [QC1] close: seq_cst CAS placing the marker (vacant -> closed, or closed_after on a
//         held cell): LP(close).
//   [QC2] close: seq_cst store of closed_ after the marker. Pairs with [QP1].
//   [QC3] close and is_closed(): seq_cst loads of closed_ and of the words at the
//         frontier (is_closed() looks for the marker, which is placed before the flag).
//   [QS1] size_approx(): relaxed loads of the hints.
//   Blocking: after a publish, not_empty_->notify_one_after_rmw(); after a release (a pop,
//   or a push that gives its cell back), not_full_->notify_one_after_rmw() (both follow a
//   CAS, so on x86-64 [KN1] is a compiler barrier: detail::full_fence_after_rmw());
//   close() notifies both, all. The protocol is detail/parking.hpp's ([KW1]-[KW5],
//   [KN1]-[KN3]), with "try the operation again" as the condition.
//   Model-checked by tests/relacy/bounded_queue.cpp; the mutants of
//   tests/relacy/bounded_queue_mutants.cmake weaken [QP1], [QP3], [QP4], [QT3], [QT4] and
//   [QC2] (each to relaxed) and break the protocol (a release before the move-out,
//   is_closed() reading only the flag, close() or a push that does not notify); all are
//   caught. [QP2], [QT2] and [QS1] are relaxed already; [QP5], [QT1], [QW1]-[QW4], [QC1]
//   and [QC3] are not minimised and claim no more than seq_cst gives. Not caught: the
//   lookahead without its re-read (the scenarios check each thread's own order, not real
//   time; see the mutants file).
//
// INVARIANTS
//   INV1: every ticket (L, p) is, at cell p, exactly one of: not reached yet (the cell is
//         at an earlier lap), current (the cell is at lap L), dead (L is within the
//         `dead` tickets after the holder's lap), the close marker, or passed (the cell is
//         at a later lap). A cell moves to a later lap only by [QT4] (L -> L + dead + 1),
//         so a ticket is claimed at most once and each element is taken at most once.
//   INV2: a vacant ticket has no claimed or published ticket after it that was reached by
//         a walk past it: a walker declares every ticket it passes dead before it claims
//         (so pops never skip a vacant ticket to take a later element).
//   INV3: dead_out_ counts the holes (dead or abandoned tickets) whose cell has not yet
//         retired them; it is zero only if every cell is either vacant at the frontier or
//         holds its own ticket's element or operation (modulo the moment between a hole's
//         CAS and its count, which only makes pushes walk).
//   INV4: once the marker is placed, no ticket after it is claimed; pop answers closed
//         only after every claimed ticket before the marker was published (and is
//         taken) or abandoned.
//
// LINEARIZATION POINTS
//   LP(try_push, success): the publishing CAS [QP4]; but if a later ticket was published
//     (or the close marker placed after this ticket) before that CAS, the push is ordered
//     just before the first such event instead (retrospectively, as in LCRQ and SCQ). That
//     event comes after this push's claim (a later ticket is claimed only once this one
//     is claimed or dead), so the point lies inside the push; and no pop took the later
//     ticket before this one was published (a pop abandons a claimed ticket first).
//   LP(try_push, full): the load that saw the previous lap's element with dead_out_ = 0
//     ([QW4]), or the last load of a walk that found no vacant cell ([QW1]).
//   LP(try_push, closed): the load [QP1] of the flag, or the load that saw the marker.
//   LP(try_pop, value): the taking CAS [QT3].
//   LP(try_pop, empty): the load [QT2] that read its ticket vacant (the frontier), or the
//     lookahead's load of the frontier: its re-read afterwards finds the tickets between
//     still unpublished, and a ticket once published stays published or taken, so they
//     were unpublished at the frontier's load too.
//   LP(try_pop, closed): the load that read the marker at the frontier (after the
//     lookahead gave up on the pushes in progress before it).
//   LP(close): the CAS [QC1].
//
// COST
//   Memory: capacity() cells of sizeof(T) plus 8 bytes (rounded up to T's alignment), plus
//   three cache lines of hints and the hole count and two of event counts. An
//   uncontended push+pop pair is four CASes and two plain stores (the hints) and, with
//   may_block, two loads of the waiter counts.
//   Cells are laid out in ticket order, unpadded, so a consumer following a producer takes
//   whole cache lines of cells at a time (the same choice as xenium's Vyukov ring; see the
//   teaching page for the measurements).
//
// REFERENCES
//   Dmitry Vyukov, "Bounded MPMC queue" (1024cores.net, 2010): the cell with a sequence
//   word, tickets as (lap, pos); the ring this one makes lock-free.
//   Ruslan Nikolaev, "A Scalable, Portable, and Memory-Efficient Lock-Free FIFO Queue",
//   DISC 2019 (arXiv:1908.04511): SCQ, the previous design of this header.
//   Adam Morrison, Yehuda Afek, "Fast concurrent queues for x86 processors", PPoPP 2013
//   (LCRQ: cells a late thread burns, linearization points known in retrospect).
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

  static constexpr bool may_block = Options.may_block;
  // The deadline of the untimed blocking forms.
  static constexpr const std::chrono::steady_clock::time_point* forever = detail::no_deadline;

  // ---- the cell word: [lap:44][dead:16][closed_after:1][state:3] ------------------------
  enum : std::uint64_t {
    vacant = 0,     // waits for the ticket (lap, pos); `dead` = holes it retires when claimed
    claimed = 1,    // the producer of (lap, pos) builds its element
    full = 2,       // holds the element of (lap, pos)
    busy = 3,       // the consumer of (lap, pos) moves the element out
    abandoned = 4,  // consumers gave up on (lap, pos); its producer takes the element back
    closed_st = 5,  // the close marker, at ticket (lap, pos)
  };
  static constexpr std::uint64_t state_mask = 7;
  static constexpr std::uint64_t closed_after_bit = 8;
  static constexpr unsigned dead_shift = 4;
  static constexpr std::uint64_t dead_field = (std::uint64_t{1} << 16) - 1;
  // declare_dead() stops one below the field's maximum, so that release()'s
  // dead + 1 (an abandoned ticket) always fits.
  static constexpr std::uint64_t dead_max = dead_field - 1;
  static constexpr unsigned lap_shift = 20;
  static constexpr unsigned word_lap_bits = 64 - lap_shift;  // 44

  struct word {
    std::uint64_t lap;
    std::uint64_t dead;
    bool closed_after;
    std::uint64_t state;
  };
  [[nodiscard]] static word decode(std::uint64_t w) noexcept {
    return {w >> lap_shift, (w >> dead_shift) & dead_field, (w & closed_after_bit) != 0,
            w & state_mask};
  }
  [[nodiscard]] std::uint64_t encode(std::uint64_t lap, std::uint64_t dead, bool closed_after,
                                     std::uint64_t state) const noexcept {
    return ((lap & lap_mask_) << lap_shift) | (dead << dead_shift) |
           (closed_after ? closed_after_bit : 0) | state;
  }

  // A cell: the word and the element's storage, plus what the checkers need to see
  // accesses to the element.
  struct cell {
    detail::atomic<std::uint64_t> w{0};
    alignas(T) unsigned char raw[sizeof(T)];
    [[no_unique_address]] detail::access_marker marker;
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(raw)); }
  };
  using traits = std::allocator_traits<Allocator>;
  using cell_alloc = typename traits::template rebind_alloc<cell>;

  // Where ticket x stands at its cell, read from the cell's word (not vacant, not closed).
  enum class rel { past, current, dead, marker, future };

  // declare_dead()'s answers.
  enum class declared { yes, usable, passed, closed, saturated };

 public:
  using value_type = T;
  using allocator_type = Allocator;
  using size_type = std::size_t;

  // The largest capacity (2^32 elements, so that a ticket keeps at least 32 bits of lap);
  // allocation may fail sooner.
  [[nodiscard]] static constexpr std::size_t max_capacity() noexcept {
    constexpr std::size_t by_index = std::size_t{1} << 31 << 1;  // 2^32, and fits size_t
    constexpr std::size_t by_bytes = std::numeric_limits<std::size_t>::max() / sizeof(cell);
    return by_index < by_bytes ? by_index : by_bytes;
  }

  // Throws std::invalid_argument for capacity 0, std::length_error for a capacity above
  // max_capacity(), and whatever the allocator throws.
  explicit bounded_queue(std::size_t capacity, const Allocator& alloc = Allocator())
      : alloc_(alloc), n_(checked_capacity(capacity)) {
    while ((std::uint64_t{1} << k_) < n_) ++k_;
    const unsigned ticket_lap_bits = 64 - k_;
    lap_bits_ = ticket_lap_bits < word_lap_bits ? ticket_lap_bits : word_lap_bits;
    lap_mask_ = (std::uint64_t{1} << lap_bits_) - 1;
    cell_alloc ca(alloc_);
    cells_ = std::allocator_traits<cell_alloc>::allocate(ca, n_);
    for (std::size_t i = 0; i < n_; ++i) ::new (static_cast<void*>(&cells_[i])) cell;
#ifdef LOCKLESS_BOUNDED_QUEUE_LAP_BASE
    // Test hook (tests/stress/bounded_queue_lap_wrap.cpp): every lap starts
    // LOCKLESS_BOUNDED_QUEUE_LAP_BASE + 1 below the wrap of the lap field, so that the
    // laps wrap within the test's first operations.
    const std::uint64_t base = lap_mask_ - (LOCKLESS_BOUNDED_QUEUE_LAP_BASE);
    for (std::size_t i = 0; i < n_; ++i) {
      cells_[i].w.store(encode(base, 0, false, vacant), std::memory_order_relaxed);
    }
    head_.store(base << k_, std::memory_order_relaxed);
    tail_.store(base << k_, std::memory_order_relaxed);
#endif
  }

  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;

  // Destroys the elements still queued. No other thread may use the queue any more (so no
  // cell is claimed, busy or abandoned: those belong to operations in progress).
  ~bounded_queue() {
    for (std::size_t i = 0; i < n_; ++i) {
      if (decode(cells_[i].w.load(std::memory_order_relaxed)).state == full) {
        std::destroy_at(cells_[i].get());
      }
      std::destroy_at(&cells_[i]);
    }
    cell_alloc ca(alloc_);
    std::allocator_traits<cell_alloc>::deallocate(ca, cells_, n_);
  }

  // ---- observers ----------------------------------------------------------------------
  // Exactly the constructor's argument: the queue never holds more elements.
  [[nodiscard]] std::size_t capacity() const noexcept { return n_; }
  // How many elements the queue holds, approximately: the distance between the two hints
  // (the ticket after the last claim and the one after the last take or, after an answer
  // without a value, the ticket that pop stopped at), within [0, capacity()], stale at once.
  // With no operation in progress it is never below the number of elements, and exact
  // unless the tickets between the hints include holes: tickets no element will fill (a
  // push whose constructor threw; with concurrent operations also a push that pops
  // abandoned, or tickets a push declared dead while walking past a held cell). A hole
  // counts until a pop passes it: any pop that answers empty or closed has passed every
  // hole before the frontier.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // [QS1] relaxed loads of the hints.
    const std::uint64_t t = tail_.load(std::memory_order_relaxed);
    const std::uint64_t h = head_.load(std::memory_order_relaxed);
    const std::int64_t laps = lap_diff(lap(t), lap(h));
    const std::int64_t d = laps * static_cast<std::int64_t>(n_) +
                           static_cast<std::int64_t>(pos(t)) - static_cast<std::int64_t>(pos(h));
    if (d <= 0) return 0;
    return static_cast<std::uint64_t>(d) < n_ ? static_cast<std::size_t>(d) : n_;
  }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }
  // True once close() has placed its marker.
  [[nodiscard]] bool is_closed() const noexcept {
    // [QC3] seq_cst loads: the flag, then (it is set just after the marker) the marker.
    if (closed_.load(std::memory_order_seq_cst)) return true;
    std::uint64_t t = tail_.load(std::memory_order_seq_cst);  // [QP5]
    for (;;) {
      const word x = decode(cell_at(t).w.load(std::memory_order_seq_cst));  // [QC3]
      const std::uint64_t lt = lap(t);
      if (x.state == vacant || x.state == closed_st) {
        if (lap_diff(lt, x.lap) < 0) {
          t = next(t);
          continue;
        }
        return x.state == closed_st;
      }
      const rel r = classify(lt, x);
      if (r == rel::marker) return true;
      if (r == rel::future) return false;
      t = next(t);
    }
  }

  // ---- non-waiting --------------------------------------------------------------------
  // success, full or closed. Never waits, not even for another thread's half-finished
  // operation. On full or closed the argument is untouched.
  [[nodiscard]] queue_status try_push(const T& v) {
    return push_attempt([&](T* p) { std::construct_at(p, v); }, [](T*) noexcept {});
  }
  [[nodiscard]] queue_status try_push(T&& v) {
    return push_attempt([&](T* p) { std::construct_at(p, std::move(v)); },
                        [&](T* p) noexcept { detail::restore_argument(v, p); });
  }
  // Constructs the element in its cell from `a...`. See TYPES AND EXCEPTIONS for the rare
  // case in which the arguments are consumed and the push still reports full or closed.
  template <class... A>
  [[nodiscard]] queue_status try_emplace(A&&... a) {
    static_assert(std::is_constructible_v<T, A...>,
                  "try_emplace: T is not constructible from these");
    std::optional<T> spill;
    return emplace_attempt(spill, std::forward<A>(a)...);
  }

  // The first element, or empty, or closed (closed and drained). Never waits.
  [[nodiscard]] queue_result<T> try_pop() noexcept {
    const std::uint64_t start = head_.load(std::memory_order_seq_cst);  // [QT1]
    std::uint64_t h = start;
    // An answer without a value after passing tickets nobody will fill (holes: see
    // size_approx()) moves the hint past them, so that size_approx() stops counting them.
    const auto nothing = [&](queue_status s) noexcept {
      if (h != start) head_.store(h, std::memory_order_release);  // [QT1]
      return queue_result<T>(s);
    };
    for (;;) {
      cell& c = cell_at(h);
      // [QT2] relaxed look; the taking CAS [QT3] reads the word again.
      const std::uint64_t w = c.w.load(std::memory_order_relaxed);
      const word x = decode(w);
      const std::uint64_t lh = lap(h);
      if (x.state == vacant || x.state == closed_st) {
        if (lap_diff(lh, x.lap) < 0) {  // the cell is at a later lap: h was consumed
          h = next(h);
          continue;
        }
        // The frontier: nobody has claimed h.
        if (x.state == closed_st) return nothing(queue_status::closed);  // LP(try_pop, closed)
        return nothing(queue_status::empty);                             // LP(try_pop, empty)
      }
      const rel r = classify(lh, x);
      if (r == rel::past || r == rel::dead) {
        h = next(h);
        continue;
      }
      if (r == rel::marker) return nothing(queue_status::closed);  // LP(try_pop, closed)
      if (r == rel::current) {
        if (x.state == full) {
          std::uint64_t e = w;
          // [QT3] acquire/acquire: the take. Pairs with [QP4]: the element's construction
          // happens-before its move-out here. (The cell goes back with [QT4]'s release.)
          if (c.w.compare_exchange_strong(e, encode(x.lap, x.dead, x.closed_after, busy),
                                          std::memory_order_acquire, std::memory_order_acquire)) {
            return take(c, h);  // LP(try_pop, value): the CAS above
          }
          continue;
        }
        if (x.state == busy || x.state == abandoned) {
          h = next(h);
          continue;
        }
        // claimed: h's push is in progress.
      }
      // h is claimed, or its cell is still held by an earlier lap (h not produced yet):
      // look for a published ticket after it instead of waiting.
      std::optional<queue_result<T>> looked = lookahead(h);
      if (looked) {  // empty, closed or a value; LPs in lookahead()
        if (!looked->has_value()) return nothing(looked->error());
        return std::move(*looked);
      }
      // nullopt: something changed under the lookahead; look at h again.
    }
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
    static_assert(std::is_constructible_v<T, A...>, "emplace: T is not constructible from these");
    // The arguments are forwarded to T's constructor at most once: if an attempt had to
    // give its built element back (see TYPES AND EXCEPTIONS), the next ones push that
    // element (from `spill`).
    std::optional<T> spill;
    return wait_push([&] { return emplace_attempt(spill, std::forward<A>(a)...); }, forever) ==
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
    std::uint64_t t = tail_.load(std::memory_order_seq_cst);  // [QP5]
    for (;;) {
      cell& c = cell_at(t);
      std::uint64_t w = c.w.load(std::memory_order_seq_cst);  // [QC3]
      const word x = decode(w);
      const std::uint64_t lt = lap(t);
      if (x.state == vacant || x.state == closed_st) {
        const std::int64_t d = lap_diff(lt, x.lap);
        if (d < 0) {
          t = next(t);
          continue;
        }
        if (x.state == closed_st) break;  // closed already
        if (d > 0) continue;              // a stale word: read it again
        // [QC1] seq_cst CAS vacant -> closed: LP(close). The holes this cell would have
        // retired on its claim are retired now (a closed cell is never claimed).
        if (c.w.compare_exchange_strong(w, encode(x.lap, 0, false, closed_st),
                                        std::memory_order_seq_cst, std::memory_order_seq_cst)) {
          if (x.dead != 0) dead_out_.fetch_sub(x.dead, std::memory_order_seq_cst);  // [QW4]
          break;
        }
        continue;
      }
      const rel r = classify(lt, x);
      if (r == rel::marker) break;  // closed already
      if (r != rel::future) {
        t = next(t);
        continue;
      }
      if (lap_diff(lt, x.lap) != static_cast<std::int64_t>(x.dead) + 1) continue;  // stale
      // [QC1] seq_cst CAS setting closed_after on a cell an earlier lap still holds: the
      // marker is t, placed when its holder releases the cell. LP(close).
      if (c.w.compare_exchange_strong(w, encode(x.lap, x.dead, true, x.state),
                                      std::memory_order_seq_cst, std::memory_order_seq_cst)) {
        break;
      }
    }
    // [QC2] seq_cst store: the flag a push checks first ([QP1]) and is_closed() reads.
    closed_.store(true, std::memory_order_seq_cst);
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

  // ---- tickets: (lap << k_) | pos, pos < n_ <= 2^k_ -----------------------------------
  [[nodiscard]] std::uint64_t pos(std::uint64_t t) const noexcept {
    return t & ((std::uint64_t{1} << k_) - 1);
  }
  [[nodiscard]] std::uint64_t lap(std::uint64_t t) const noexcept { return (t >> k_) & lap_mask_; }
  [[nodiscard]] std::uint64_t next(std::uint64_t t) const noexcept {
    return pos(t) + 1 < n_ ? t + 1 : ((lap(t) + 1) & lap_mask_) << k_;
  }
  [[nodiscard]] cell& cell_at(std::uint64_t t) const noexcept { return cells_[pos(t)]; }
  // a - b for two laps, as a signed number: laps compare modulo 2^lap_bits_ (a word's lap
  // and a ticket's are never 2^(lap_bits_ - 1) laps apart; see GUARANTEES, "Limits").
  [[nodiscard]] std::int64_t lap_diff(std::uint64_t a, std::uint64_t b) const noexcept {
    const unsigned s = 64 - lap_bits_;
    return static_cast<std::int64_t>((a - b) << s) >> s;
  }
  // Where ticket lap lx stands at a cell whose word x is held (not vacant, not closed).
  [[nodiscard]] rel classify(std::uint64_t lx, const word& x) const noexcept {
    const std::int64_t d = lap_diff(lx, x.lap);
    if (d < 0) return rel::past;
    if (d == 0) return rel::current;
    if (d <= static_cast<std::int64_t>(x.dead)) return rel::dead;
    if (x.closed_after && d == static_cast<std::int64_t>(x.dead) + 1) return rel::marker;
    return rel::future;
  }

  // ---- push ---------------------------------------------------------------------------
  // The push protocol: claim a cell, build the element in it, publish it. If consumers
  // abandoned the ticket meanwhile, undo() takes the element back and the push tries a
  // later ticket.
  template <class Build, class Undo>
  queue_status push_attempt(Build&& build, Undo&& undo) {
    for (;;) {
      std::uint64_t t = 0;
      const queue_status s = claim(t);
      if (s != queue_status::success) return s;
      cell& c = cell_at(t);
      c.marker.write();
#if defined(__cpp_exceptions)
      try {
        build(c.get());
      } catch (...) {
        give_up_own(c);
        throw;
      }
#else
      build(c.get());
#endif
      if (publish(c)) {
        // The publish is an RMW ([QP4]): [KN1] may be full_fence_after_rmw().
        if constexpr (may_block) not_empty_->notify_one_after_rmw();
        return queue_status::success;  // LP(try_push, success): see LINEARIZATION POINTS
      }
      c.marker.write();
      undo(c.get());
      std::destroy_at(c.get());
      release(c);
      if constexpr (may_block) not_full_->notify_one_after_rmw();  // a cell came free
    }
  }

  // try_emplace's and emplace's attempt: builds from `a...` the first time; once an attempt
  // had to take its element back, it lives in `spill` and later attempts push it.
  template <class... A>
  queue_status emplace_attempt(std::optional<T>& spill, A&&... a) {
    // Both lambdas look at `spill` on every call: it may fill between two tries of this
    // attempt (an abandon) or between two attempts (emplace's wait).
    return push_attempt(
        [&](T* p) {
          if (spill) {
            std::construct_at(p, std::move(*spill));
          } else {
            std::construct_at(p, std::forward<A>(a)...);
          }
        },
        [&](T* p) noexcept {
          if (spill) {
            detail::restore_argument(*spill, p);
          } else {
            spill.emplace(std::move(*p));
          }
        });
  }

  // Claims the first ticket whose cell is vacant for it. success (out = the ticket), full
  // or closed.
  queue_status claim(std::uint64_t& out) noexcept {
    // [QP1] acquire: pairs with [QC2]. A push refused here synchronises with the close, so
    // everything the closing thread did before (its close marker too) is visible to what
    // this thread does next.
    if (closed_.load(std::memory_order_acquire)) return queue_status::closed;  // LP(closed)
    std::uint64_t t = tail_.load(std::memory_order_seq_cst);                   // [QP5]
    for (;;) {
      cell& c = cell_at(t);
      // [QP2] relaxed look; the claiming CAS [QP3] reads the word again.
      std::uint64_t w = c.w.load(std::memory_order_relaxed);
      const word x = decode(w);
      const std::uint64_t lt = lap(t);
      if (x.state == vacant || x.state == closed_st) {
        const std::int64_t d = lap_diff(lt, x.lap);
        if (d < 0) {  // the cell is at a later lap: t was passed
          t = next(t);
          continue;
        }
        if (x.state == closed_st) return queue_status::closed;  // LP(try_push, closed)
        if (d > 0) {  // a stale word, or a hint behind us: start again from the hint
          t = tail_.load(std::memory_order_seq_cst);  // [QP5]
          continue;
        }
        // [QP3] acquire/acquire: the claim. Pairs with [QT4]: the previous element's
        // move-out (or take-back) happens-before this push builds over it. Nothing
        // written before the claim is read by others through it: no release half.
        if (c.w.compare_exchange_strong(w, encode(x.lap, 0, false, claimed),
                                        std::memory_order_acquire, std::memory_order_acquire)) {
          if (x.dead != 0) dead_out_.fetch_sub(x.dead, std::memory_order_seq_cst);  // [QW4]
          tail_.store(next(t), std::memory_order_release);                          // [QP5]
          out = t;
          return queue_status::success;
        }
        continue;
      }
      const rel r = classify(lt, x);
      if (r == rel::marker) return queue_status::closed;  // LP(try_push, closed)
      if (r != rel::future) {
        t = next(t);
        continue;
      }
      if (lap_diff(lt, x.lap) != static_cast<std::int64_t>(x.dead) + 1) continue;  // stale
      // t's cell is still held by an earlier lap.
      // [QW4] seq_cst load of dead_out_: no hole anywhere, and t's cell holds an element:
      // every cell holds an element or an operation in progress. LP(try_push, full).
      if (x.state == full && dead_out_.load(std::memory_order_seq_cst) == 0) {
        return queue_status::full;
      }
      switch (walk(t)) {
        case walked::full:
          return queue_status::full;  // LP(try_push, full): the walk's last load
        case walked::closed:
          return queue_status::closed;  // LP(try_push, closed)
        case walked::again:
          t = tail_.load(std::memory_order_seq_cst);  // [QP5]
          continue;
        case walked::found:
          continue;  // t is the vacant ticket found: claim it at the top of the loop
      }
    }
  }

  enum class walked { found, full, closed, again };

  // From a ticket t whose cell an earlier lap still holds: walks at most one lap for a
  // ticket v whose cell is vacant for it, declares t .. v-1 dead, and sets t = v.
  walked walk(std::uint64_t& t) noexcept {
    std::uint64_t v = t;
    std::size_t steps = 0;
    for (; steps < n_; ++steps, v = next(v)) {
      // [QW1] seq_cst loads of the cell words ahead.
      const word y = decode(cell_at(v).w.load(std::memory_order_seq_cst));
      const std::uint64_t lv = lap(v);
      if (y.state == vacant) {
        if (lv == y.lap) break;  // usable
        return walked::again;    // someone moved on
      }
      if (y.state == closed_st) {
        return lap_diff(lv, y.lap) >= 0 ? walked::closed : walked::again;
      }
      const rel ry = classify(lv, y);
      if (ry == rel::marker) return walked::closed;
      if (ry != rel::future) return walked::again;
    }
    if (steps == n_) return walked::full;  // a whole lap without a vacant cell
    for (std::uint64_t z = t; z != v; z = next(z)) {
      switch (declare_dead(z)) {
        case declared::yes:
          continue;
        case declared::usable:  // vacant for z by now: claim z instead
          t = z;
          return walked::found;
        case declared::closed:
          return walked::closed;
        case declared::saturated:
          // z's cell has been held for dead_max laps: see GUARANTEES ("full").
          return walked::full;
        case declared::passed:
          return walked::again;
      }
    }
    t = v;
    return walked::found;
  }

  // Declares ticket z dead on its cell if the cell shows it as its next live ticket.
  declared declare_dead(std::uint64_t z) noexcept {
    cell& c = cell_at(z);
    std::uint64_t w = c.w.load(std::memory_order_seq_cst);  // [QW1]
    for (;;) {
      const word y = decode(w);
      const std::uint64_t lz = lap(z);
      if (y.state == vacant) return lz == y.lap ? declared::usable : declared::passed;
      if (y.state == closed_st) {
        return lap_diff(lz, y.lap) >= 0 ? declared::closed : declared::passed;
      }
      const rel r = classify(lz, y);
      if (r == rel::marker) return declared::closed;
      if (r != rel::future) return declared::passed;
      if (lap_diff(lz, y.lap) != static_cast<std::int64_t>(y.dead) + 1) {
        return declared::passed;  // a stale view of the cell
      }
      if (y.dead >= dead_max) return declared::saturated;
      // [QW2] seq_cst CAS raising the cell's dead count: z is a hole, retired when the
      // holder releases the cell (the cell then jumps past it).
      if (c.w.compare_exchange_weak(w, encode(y.lap, y.dead + 1, y.closed_after, y.state),
                                    std::memory_order_seq_cst, std::memory_order_seq_cst)) {
        dead_out_.fetch_add(1, std::memory_order_seq_cst);  // [QW4]
        return declared::yes;
      }
    }
  }

  // Publishes the element built in c. false: consumers abandoned the ticket.
  bool publish(cell& c) noexcept {
    std::uint64_t w = c.w.load(std::memory_order_relaxed);  // [QP2]
    for (;;) {
      const word x = decode(w);
      if (x.state != claimed) return false;
      // [QP4] release/relaxed: the publish; pairs with [QT3] (and with the lookahead's
      // take, also [QT3]). Fails only when a walker raised the dead count or a close set
      // closed_after (retry) or a consumer abandoned the ticket (give up).
      if (c.w.compare_exchange_weak(w, encode(x.lap, x.dead, x.closed_after, full),
                                    std::memory_order_release, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // A claimed cell whose element could not be built (T's constructor threw): a hole, as
  // if abandoned, then released.
  void give_up_own(cell& c) noexcept {
    std::uint64_t w = c.w.load(std::memory_order_seq_cst);  // [QW1]
    for (;;) {
      const word x = decode(w);
      if (x.state == abandoned) break;  // consumers made it a hole already
      // [QW3] seq_cst CAS claimed -> abandoned.
      if (c.w.compare_exchange_weak(w, encode(x.lap, x.dead, x.closed_after, abandoned),
                                    std::memory_order_seq_cst, std::memory_order_seq_cst)) {
        dead_out_.fetch_add(1, std::memory_order_seq_cst);  // [QW4]
        break;
      }
    }
    release(c);
    if constexpr (may_block) not_full_->notify_one_after_rmw();  // a cell came free
  }

  // ---- pop ----------------------------------------------------------------------------
  // Releases a cell held (busy or abandoned) at its lap L: vacant for L + dead + 1, or the
  // close marker there.
  void release(cell& c) noexcept {
    std::uint64_t w = c.w.load(std::memory_order_relaxed);
    for (;;) {
      const word x = decode(w);
      const std::uint64_t holes = x.dead + (x.state == abandoned ? 1 : 0);
      const std::uint64_t nw = x.closed_after ? encode(x.lap + x.dead + 1, 0, false, closed_st)
                                              : encode(x.lap + x.dead + 1, holes, false, vacant);
      // [QT4] release/relaxed: pairs with [QP3]: the move-out (or take-back)
      // happens-before the next push builds in the cell. Retried when a walker raises
      // the dead count or a close sets closed_after meanwhile.
      if (c.w.compare_exchange_weak(w, nw, std::memory_order_release, std::memory_order_relaxed)) {
        // A closed cell is never claimed: its holes are retired now.
        if (x.closed_after && holes != 0) {
          dead_out_.fetch_sub(holes, std::memory_order_seq_cst);  // [QW4]
        }
        return;
      }
    }
  }

  // Moves the element out of a cell this pop took ([QT3]) at ticket h, then frees it.
  queue_result<T> take(cell& c, std::uint64_t h) noexcept {
    c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());
    release(c);
    head_.store(next(h), std::memory_order_release);  // [QT1]
    // The release is an RMW ([QT4]): [KN1] may be full_fence_after_rmw().
    if constexpr (may_block) not_full_->notify_one_after_rmw();
    return r;
  }

  // From a ticket h0 that is claimed (its push in progress) or not produced yet: find the
  // first published ticket f after it. If there is one, give up on h0 .. f-1 and take f;
  // if there is none, answer empty (or closed) once h0 .. f-1 read unpublished again.
  // nullopt: something changed meanwhile (look at h0 again).
  std::optional<queue_result<T>> lookahead(std::uint64_t h0) noexcept {
    std::uint64_t f = next(h0);
    bool found = false;
    bool frontier_closed = false;
    for (;;) {
      // [QW1] seq_cst loads of the words ahead.
      const word x = decode(cell_at(f).w.load(std::memory_order_seq_cst));
      const std::uint64_t lf = lap(f);
      if (x.state == vacant || x.state == closed_st) {
        if (lap_diff(lf, x.lap) < 0) return std::nullopt;  // consumed: others moved on
        frontier_closed = x.state == closed_st;
        break;
      }
      const rel r = classify(lf, x);
      if (r == rel::past) return std::nullopt;
      if (r == rel::marker) {
        frontier_closed = true;
        break;
      }
      if (r == rel::future) break;
      if (r == rel::current && x.state == full) {
        found = true;
        break;
      }
      f = next(f);  // dead, claimed, busy, abandoned
    }
    if (!found) {
      // Read h0 .. f-1 again: still none of them published?
      for (std::uint64_t z = h0; z != f; z = next(z)) {
        const word x = decode(cell_at(z).w.load(std::memory_order_seq_cst));  // [QW1]
        const std::uint64_t lz = lap(z);
        if (x.state == vacant || x.state == closed_st) return std::nullopt;
        const rel r = classify(lz, x);
        if (r == rel::past) return std::nullopt;
        if (r == rel::current && (x.state == full || x.state == busy)) return std::nullopt;
      }
      // LP(try_pop, empty): the frontier's load (the re-read shows h0 .. f-1 unpublished
      // then).
      if (!frontier_closed) return queue_result<T>(queue_status::empty);
      // Closed: every push still in progress before the marker must fail.
      if (!give_up_range(h0, f)) return std::nullopt;
      return queue_result<T>(queue_status::closed);  // LP(try_pop, closed)
    }
    if (!give_up_range(h0, f)) return std::nullopt;
    cell& c = cell_at(f);
    std::uint64_t w = c.w.load(std::memory_order_relaxed);  // [QT2]
    const word x = decode(w);
    if (!(x.state == full && x.lap == lap(f))) return std::nullopt;
    // [QT3] acquire/acquire: the take, as in try_pop.
    if (!c.w.compare_exchange_strong(w, encode(x.lap, x.dead, x.closed_after, busy),
                                     std::memory_order_acquire, std::memory_order_acquire)) {
      return std::nullopt;
    }
    return take(c, f);  // LP(try_pop, value): the CAS above
  }

  // Abandons every claimed ticket and declares dead every ticket not yet produced in
  // [a, b). false if one of them was published, passed or closed meanwhile (look again).
  bool give_up_range(std::uint64_t a, std::uint64_t b) noexcept {
    for (std::uint64_t z = a; z != b; z = next(z)) {
      cell& c = cell_at(z);
      std::uint64_t w = c.w.load(std::memory_order_seq_cst);  // [QW1]
      for (;;) {
        const word x = decode(w);
        const std::uint64_t lz = lap(z);
        if (x.state == vacant) {
          if (lap_diff(lz, x.lap) < 0) break;  // passed
          return false;  // z's cell was released meanwhile and waits for z: look again
        }
        if (x.state == closed_st) return false;
        const rel r = classify(lz, x);
        if (r == rel::past || r == rel::dead) break;
        if (r == rel::marker) return false;
        if (r == rel::current) {
          if (x.state == claimed) {
            // [QW3] seq_cst CAS claimed -> abandoned: z's producer will find its publish
            // refused, take its element back and try a later ticket.
            if (c.w.compare_exchange_weak(w, encode(x.lap, x.dead, x.closed_after, abandoned),
                                          std::memory_order_seq_cst, std::memory_order_seq_cst)) {
              dead_out_.fetch_add(1, std::memory_order_seq_cst);  // [QW4]
              break;
            }
            continue;
          }
          if (x.state == full) return false;  // published meanwhile: take that one
          break;                              // busy or abandoned
        }
        // future: not produced yet
        if (declare_dead(z) == declared::yes) break;
        return false;
      }
    }
    return true;
  }

  // ---- blocking forms -----------------------------------------------------------------
  // Try, spin a little, then sleep on not_full_ / not_empty_ until an attempt succeeds,
  // the queue closes, or the deadline passes (then full / empty).
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
  std::size_t n_;
  unsigned k_ = 0;
  unsigned lap_bits_ = word_lap_bits;
  std::uint64_t lap_mask_ = 0;
  cell* cells_ = nullptr;
  // Hints: the ticket after the last claimed one, and after the last taken one.
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> head_{0};
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> tail_{0};
  // Holes (dead or abandoned tickets) not yet retired by their cell: 0 lets a push answer
  // full without walking. A hole is counted just after the CAS that makes it, so its
  // retirement can come first and wrap the count below zero for a moment: that reads as
  // "not zero" (a walk), never as a false "full".
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> dead_out_{0};
  detail::atomic<bool> closed_{false};
  // Present with may_block = false too (two cache lines), but never touched then.
  detail::cache_padded<detail::event_count> not_empty_;
  detail::cache_padded<detail::event_count> not_full_;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
