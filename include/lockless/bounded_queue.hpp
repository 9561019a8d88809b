// lockless/bounded_queue.hpp: a bounded MPMC FIFO queue, lock-free in the strict sense,
// with the interface of WG21 P0260R20 (C++ Concurrent Queues): blocking, non-waiting and
// timed push/pop, and close.
//
// WHAT
//   Vyukov's bounded ring, made lock-free. `capacity` cells, each the storage of one
//   element and a word `seq`; two counters, tail_ and head_, hand out tickets
//   t = (lap << k) | pos (pos < capacity <= 2^k), one per push and one per pop, in order.
//   The common path is the fast ring's: a push reads tail_ = u, finds u's cell vacant for
//   u (seq == vac(u)), claims u with a CAS on tail_ [QP3], builds the element and
//   publishes it with a plain store seq = ful(u) [QP4]; a pop reads head_ = h, finds h's
//   cell published (seq == ful(h)), takes h with a CAS on head_ [QT3], moves the element
//   out and frees the cell for the same position's ticket of the next lap with a plain
//   store seq = vac(h + 2^k) [QT4]. seq holds a ticket as the counters do (vac(t) = t << 2,
//   ful(t) = vac(t) | 2), so each check is one comparison with the counter word just read.
//   One read-modify-write per operation, on a counter; the cell is reached by a load and a
//   store.
//   Why the fast ring is not lock-free: a pop whose ticket is claimed but not yet published
//   can only wait for that producer (or answer "empty" while later elements are there, the
//   empty-while-non-empty bug of docs/testing.md), and a push whose cell is still held by
//   the previous lap's pop can only wait for that consumer (or answer "full" with room
//   left). Here neither waits; each side can give up on a ticket instead:
//   - A pop gives up on h (claimed, unpublished, and a later ticket is published, or
//     the queue is closed): it sets give_up_flag in head_ (no pop takes h or beyond while
//     it is set), announces the intent in h's record (a second word per cell, kept in a
//     separate, read-mostly array), calls asymmetric_fence::heavy_fence() and reads seq
//     again. Still unpublished: the verdict "abandoned" is settled by a CAS on the record
//     and head_ moves past h; the producer, whose publish is a store, a light fence and a
//     load of the record [QP5], finds the verdict, takes its element back, frees the cell
//     and pushes again at a later ticket. Published meanwhile: the verdict is "kept"
//     (settled by the same CAS, by whoever comes first: the producer or a pop) and the
//     flag is cleared; h is taken as usual.
//   - A push gives up on u (u's cell still held by an earlier lap, and the queue not
//     full): it sets skip_flag in tail_ (no push claims u or beyond while it is set),
//     announces the intent in the cell's record, calls heavy_fence() and reads seq again.
//     Still held: the record's `dead` count is raised (u is dead) and tail_ moves past u;
//     the holder, whose free is a store, a light fence and a load of the record [QT5],
//     finds the count and moves the cell past the dead tickets (vac(t + (1 + dead) 2^k)
//     for its own ticket t). Freed
//     meanwhile: u is alive, the flag is cleared, and u is claimed as usual.
//   Anybody who finds a flag set finishes the give-up (the steps are idempotent, settled
//   by CASes on the record and on the counter), so a thread suspended in the middle of one
//   delays nobody. The fences are the asymmetric pair (detail/asymmetric_fence.hpp): the
//   light one, on every publish and free, is a compiler barrier; the heavy one, a
//   membarrier system call (about 1 us alone; 50-60 us on average, up to 4.7 ms, measured
//   with 16 threads on 2 vCPUs), is paid only by a give-up.
//   close() sets closed_flag in tail_ with one fetch-or.
//   An exact "empty" from the cell, most of the time (queue_options{.fast_empty = true};
//   off by default, and then every pop whose ticket is unpublished reads tail_): a pop
//   whose ticket's cell is vacant must know that no later ticket is published, which in
//   general takes a read of tail_, the producers' hot line. But if a ticket after h is
//   published, the first such one was published while the ticket just before it was not.
//   So a push about to publish looks at the cell before its own; if that ticket is
//   unpublished it marks a word order_ (once: a marked word is left alone) [QO1]/[QO2]. The
//   first ticket of a lap reads an extra cell before cells_[0], which always marks. A pop
//   that finds the queue empty the long way (head_ == tail_, nothing claimed) clears
//   order_ [QO3]; while it stays clear, a pop whose cell is vacant answers empty from the
//   cell and order_, which nobody writes in a steady single-producer stream (but once a
//   lap). Holes, dead tickets and close() mark it too [QO4]. With several producers
//   publishing out of order it is marked most of the time, and pops take the long way.
//
// GUARANTEES
//   Linearizable bounded FIFO queue with close (P0260 semantics): every pushed value is
//   popped at most once and, once the queue is closed and drained, exactly once; values
//   come out in the order of their pushes' linearization points.
//   capacity() is exactly the constructor's argument (there are that many cells): the
//   queue never holds more elements. "full" is relaxed in one documented way: an
//   operation in progress holds its cell (a push from its claim to its publish, a pop from
//   its take to its free), so try_push may report full while fewer than capacity()
//   elements are queued, at most one cell short per push or pop in flight; with no other
//   operation in progress, full means exactly capacity() elements. (The tests check
//   histories against exactly this: tests/support/lincheck,
//   spec::bounded_queue(c).full_when_in_flight().) A cell's dead count saturates at
//   65,535: if a thread stays suspended holding a cell while the others go round the ring
//   that many times, a push that would have to give up on that cell once more answers
//   full instead, until the thread resumes. empty and closed are exact.
//   Progress: try_push, try_pop, try_emplace and the bulk forms are lock-free in the
//   strict sense, with single-width atomics only (64-bit CAS, fetch-and-add, fetch-or; no
//   cmpxchg16b, nothing from libatomic). A thread suspended at any instruction delays
//   nobody's completion. What it can still cost the others: inside a push, the one ticket
//   it claimed (a pop gives up on it, at the price of a heavy fence, once a later ticket is
//   published); inside a pop, the one cell it took (a push gives up on that cell's next
//   ticket, each lap, at the same price); inside a give-up, nothing (others finish it).
//   The dsched progress test (tests/dsched/bounded_queue_progress.cpp) suspends each
//   thread at each of its yield points in turn and checks that the others finish.
//   A try whose CAS on a counter fails (another push claimed the ticket, or another pop
//   took it: that operation succeeded) pauses before it reads the counter again: 16 PAUSEs,
//   doubling with each failure of the same call to at most 128 (detail::contention_backoff;
//   COST). A bounded delay that waits for no thread's step, so the progress above holds.
//   The blocking forms (push, emplace, pop, the timed ones) first try a few times (the
//   first try inline, as try_push / try_pop; between the others they watch their own
//   counter and the cell their next ticket needs, and try again once it is ready: [QW1],
//   not the other side's counter that a failed try reads), then sleep on
//   detail::event_count (detail/parking.hpp), constructed `asymmetric`: the
//   sleeper pays heavy_fence() before it checks again, and a push or pop with nobody
//   waiting pays one load after the light fence it already has, no system call and no
//   fence. queue_options{.may_block = false} removes them and that load.
//   No allocation after construction (P0260): the cells and the records come from the
//   allocator in the constructor and go back in the destructor.
//   Limits: tickets are 62-bit counters: 2^62 operations (at 10^9 a second, 146 years);
//   a record keeps its lap modulo 2^44, so a thread must not stay suspended between
//   reading a record and writing it while its cell goes round 2^43 laps.
//
// TYPES AND EXCEPTIONS
//   T: any object type whose move constructor is noexcept (checked at compile time: after
//   a pop has taken its element there is no way to give it back, and a push given up on
//   must take its element back). Move-only T works.
//   push(const T&), push(T&&), emplace(...) and their try_/timed forms give the strong
//   guarantee: if T's constructor throws, the claimed ticket becomes a hole (as if pops
//   had given up on it) and its cell is freed, the queue is unchanged, and the exception
//   propagates. An argument passed by reference is left intact whenever the push does not
//   succeed (full, closed, timeout).
//   emplace's arguments are forwarded to T's constructor once a ticket is claimed. In the
//   rare race where pops give up on that push, the built element is kept (in a local
//   std::optional<T>) and pushed again at a later ticket; if try_emplace then finds the
//   queue full or closed, the element is destroyed and the arguments stay moved from
//   (emplace and the timed forms keep it and go on waiting).
//   Elements still in the queue are destroyed by the destructor. The destructor, like
//   every destructor, must not run concurrently with other operations.
//
// MEMORY-ORDERING CONTRACT (every atomic access)
//   Data flow: an element's construction is published by [QP4] and acquired by [QT2]; its
//   move-out (or, after a give-up, its take-back) is published by [QT4] and acquired by
//   the next push's [QP2]. seq has one writer at a time (the cell's holder), so these
//   pairs are plain release/acquire.
//   [QP1] push: acquire load of tail_; the claiming CAS [QP3] reads it again. Acquire, as
//         [QT1]: a push that sees tail_ past tickets other pushes claimed also sees what
//         those threads did before their claims (not minimised: no scenario needs it on
//         this side, it is there for the symmetry of the full answer's argument). A
//         closed flag read here needs only coherence (close is one RMW on tail_).
//   [QP2] push: acquire load of the cell's seq. Pairs with [QT4]: the previous element's
//         move-out happens-before this push builds over it.
//   [QP3] push: the claim, CAS on tail_, seq_cst (failure: acquire). The cell itself is
//         handed over by [QP2]/[QT4]; the counter carries the order of the threads' other
//         operations, and seq_cst makes the claim the first half of the store-buffering
//         pair of [QO2] against [QO3] (on x86-64 and AArch64 the same instructions as
//         acq_rel).
//   [QP4] push: the publish, release store of seq = ful(t). Pairs with [QT2].
//   [QP5] push: light fence, then relaxed load of the record: the store-buffering pair of
//         [QG2] (a pop's give-up). Either the pop's re-read sees the publish, or this load
//         sees the intent.
//   [QT1] pop: acquire load of head_; the taking CAS [QT3] reads it again. Pairs with the
//         release half of [QT3]: a pop that sees head_ past a ticket another pop took sees
//         what that thread did before the take (its claims and publishes of later tickets),
//         which the empty answer's argument ([QE1]) relies on.
//   [QT2] pop: acquire load of the cell's seq. Pairs with [QP4].
//   [QT3] pop: the take, CAS on head_, acq_rel (failure: acquire). Pairs with [QT1] and
//         with the failed CASes of other pops (see [QT1]).
//   [QT4] pop (and a push taking its element back): the free, release store of
//         seq = vac(t + 2^k). Pairs with [QP2].
//   [QT5] pop: light fence, then relaxed load of the record: the store-buffering pair of
//         [QS2] (a push's give-up), as [QP5].
//   [QG1] give-up of a pop: seq_cst CAS setting give_up_flag in head_, seq_cst loads of
//         head_, the record and seq, seq_cst CASes on the record (intent, then "abandoned"
//         or "kept") and on head_ (past h, or the flag cleared).
//   [QG2] give-up of a pop: heavy_fence() between announcing the intent and reading seq
//         again. Pairs with [QP5].
//   [QS1] give-up of a push: seq_cst CAS setting skip_flag in tail_, seq_cst loads of
//         tail_, the record and seq, seq_cst CASes on the record (intent, then a dead
//         count raised) and on tail_ (past u, or the flag cleared). A helper that reads
//         the cell vacant for u reads the record again after it (in the single total
//         order: an intent CASed in after that load has its heavy fence and its read of
//         seq after the free, and finds u alive). Every one of these CASes is from a word
//         read earlier; a record never takes the same word twice (it is cleared to
//         no_record(lap), not 0), so a CAS that succeeds saw no change in between.
//   [QS2] give-up of a push: heavy_fence() between announcing the intent and reading seq
//         again. Pairs with [QT5].
//   [QR1] the holders' side of a give-up: after [QP5] or [QT5] found a record about their
//         lap, seq_cst CASes on it (the verdict "kept"; the record cleared, to
//         no_record(L) for the lap L the cell is vacant for, once it is vacant for its next
//         live ticket) and seq_cst stores of seq moving a cell past its dead tickets.
//   [QE1] pop, ticket unpublished: seq_cst loads of tail_, the record, seq, the cells up
//         to tail_ and head_ (the empty answer and the lookahead; argued over one total
//         order of these loads).
//   [QF1] push, cell held: seq_cst loads of head_, holes_ and the cells of the previous
//         lap (the full answer).
//   [QH1] holes_: seq_cst fetch-and-add when a hole is made ([QG1], [QS1], a push whose
//         constructor threw), fetch-sub when head_ passes one.
//   [QC1] close: seq_cst fetch-or of closed_flag into tail_: LP(close).
//   [QC2] is_closed(): seq_cst load of tail_.
//   [QZ1] size_approx(): relaxed loads of the counters.
//   [QW1] the blocking forms' spin: relaxed loads of the waiter's own counter and of its
//         next cell's seq, a hint of when to try again (push_may_succeed,
//         pop_may_succeed); the try then decides with its own loads.
//   [QO1] push, before its publish: relaxed load of the seq of the ticket before its own
//         (a value at or past that ticket's ful() is one it had: published or passed;
//         anything else marks, the safe side). Pop, its cell vacant for h: seq_cst load
//         of order_; quiet: LP(try_pop, empty).
//   [QO2] push, the ticket before its own unpublished: seq_cst load of order_, seq_cst CAS
//         marking it. The load comes after the claim ([QP3], seq_cst): store-buffering
//         pair of [QO3]. Either it reads the clearing and marks over it, or the clearing's
//         second load of tail_ sees the claim and stops.
//   [QO3] pop, head_ == tail_: seq_cst load of order_ before its load of tail_ [QE1];
//         seq_cst CAS to "clearing" (fails if order_ changed since), seq_cst load of tail_
//         again, seq_cst CAS to quiet if tail_ is unchanged.
//   [QO4] close(), and a ticket about to become a hole or dead ([QG1], [QS1], a push
//         whose constructor threw): seq_cst CAS marking order_ with a new version, so a
//         clearing in progress fails; close() also sets order_'s closed bit, for good,
//         before [QC1].
//   Blocking: after a publish, not_empty_->notify_one_after_light_fence(); after a free,
//   not_full_->notify_one_after_light_fence(): [KN1] is the light fence of [QP5] / [QT5],
//   and the waiters' [KW2] is heavy_fence() (an asymmetric event count); close() notifies
//   both, all. The protocol is detail/parking.hpp's, with "try the operation again" as the
//   condition.
//   Model-checked by tests/relacy/bounded_queue.cpp (which sees both fences as seq_cst
//   fences); the mutants of tests/relacy/bounded_queue_mutants.cmake weaken the tags and
//   remove the fences.
//
// INVARIANTS
//   INV1: head_ <= tail_ (as tickets). Every ticket below tail_ was claimed by a push or
//         declared dead [QS1]; every ticket below head_ was taken, given up on [QG1], or
//         is a hole.
//   INV2: seq has one writer at a time: the push that claimed the cell's current ticket
//         (until it publishes), the pop that took it (until it frees), or the push whose
//         ticket was given up on (until it frees). Nobody else stores to seq, so a cell
//         moves vac(t) -> ful(t) -> vac(t + (1 + dead) 2^k) and never back.
//   INV3: a record is about one holder's lap L (or is empty, or stale: its cell has moved
//         past L + dead). Its words never repeat (an empty record is no_record(L') for
//         the lap L' the cell was vacant for when it was cleared), so no CAS from a word
//         read earlier succeeds after the record went round (ABA). Every verdict on a
//         ticket is one CAS on the record from a value that holds the intent: "abandoned"
//         or "kept" for a pop's give-up, "dead" (the count raised) or "alive" (the record
//         cleared) for a push's. "abandoned" and "dead" are written only by a thread that
//         read seq unchanged after its heavy fence, so the holder's light-fenced load
//         reads the intent and its own answer ("kept", the record cleared) races that
//         commit; a helper that finds the cell already vacant for the ticket answers
//         "alive" by the holder's CAS. Once written, a verdict does not change until the
//         holder clears the record.
//   INV4: while a flag is set in head_ (tail_), no ticket at or after the flagged one is
//         taken (claimed): the give-up's decision and the counter's move are the only
//         steps, and any thread can make them.
//   INV5: order_ reads quiet only if, since a clearing found head_ == tail_ with nothing
//         claimed (twice, around its CAS), every ticket published had its predecessor
//         published (or passed) before it, no ticket became a hole or dead, and close()
//         did not run. Then a ticket at or after head_ whose cell is vacant for it has no
//         published ticket after it: the first such would have marked order_ first [QO1].
//
// LINEARIZATION POINTS
//   LP(try_push, success): the publish [QP4]; but if a later ticket was published (or the
//     queue closed) before it, the push is ordered just before the first such event
//     (retrospectively, as in LCRQ and SCQ): that event comes after this push's claim, and
//     no pop took the later ticket while this one was unpublished without first giving up
//     on this one (which would have made the publish fail).
//   LP(try_push, full): the load of head_ [QF1] (or the last load of the walk, when holes
//     are counted): every cell of the previous lap from the push's ticket up to head_ is
//     still held, each by an element or an operation in progress. (The O(1) rule looks at
//     most 8 cells back; past that, the push gives up on its ticket instead.)
//   LP(try_push, closed): the load of tail_ that saw closed_flag.
//   LP(try_pop, value): the taking CAS [QT3].
//   LP(try_pop, empty): the load of tail_ [QE1] (tail_ <= h, or every ticket in [h, tail_)
//     read unpublished after it with head_ unchanged: a ticket once published stays
//     published until taken, and none was taken); or, h's cell read vacant for h, the
//     load of order_ that read it quiet [QO1] (INV5).
//   LP(try_pop, closed): the same load, once every ticket before it was taken or given up.
//   LP(close): the fetch-or [QC1].
//
// COST
//   Memory: capacity() + 1 cells of sizeof(T) plus 8 bytes (rounded up to T's alignment;
//   the extra one, before the first, only ever holds seq 0), capacity() records of 8
//   bytes, and four cache lines of counters, one of order_ and two of event
//   counts. An uncontended push+pop pair is two CASes (one on each counter), two plain
//   stores to the cell, and two loads of records (plus, with may_block, two loads of the
//   waiter counts). The common paths (claim_once and fill, take_once and take) are inline
//   and make no call that returns to them: everything else (full, empty, closed, the last
//   ticket of a lap, a give-up, a record to settle) is a call whose result is the
//   operation's. So they keep nothing in callee-saved registers, and a try_push or try_pop
//   that its caller does not inline pays no register saves: about 30 instructions each on
//   x86-64 (docs/benchmarks.md, "Call-free common paths"; 65 per try_push + try_pop pair
//   with may_block = false, 71 with it, counted by callgrind). The blocking and timed
//   forms (all but emplace) make the same try inline first and call out only to wait
//   (push_waiting, pop_waiting; the timed forms read the clock only then): a blocking push +
//   pop pair that does not wait costs what the try pair costs (72 instructions, against
//   104 when the whole wait was a call; docs/benchmarks.md, "The blocking forms' first try
//   inline"). They index the cell with the counter word as read (its position bits,
//   pos << 2, scaled), not with the ticket.
//   Cells are laid out in ticket order, unpadded, so a consumer following a producer takes
//   whole cache lines of cells at a time (as xenium's Vyukov ring).
//   A pause after a lost race: two pushes (or two pops) on two CPUs that retry a failed
//   claim at once take turns with the counter's line and the cell lines around it, and the
//   loser of one race is likely to lose the next. Measured on a 2-vCPU VM, two producers
//   filling a queue and then two consumers draining it took 29-34 and 37-38 ns an item
//   (atomic_queue B, whose claim does not read the cell: 22-28); with the pause the winner
//   runs on alone, 4-5 ns an item. Every throughput row from 2P2C up spends its time in
//   such phases (a failed try yields to the other role's thread on the CPU): in alternating
//   runs the try and blocking rows from 2P2C to 8P8C went from 12.8-62.7 to 91.7-231.1 M
//   items/s (docs/benchmarks.md, "A pause after a lost race"). It costs the uncontended
//   pair 3 instructions (the pause's state), 71 per pair.
//   Failed tries: a try_pop whose ticket is not published reads tail_ [QE1], and a
//   try_push whose cell is still held reads head_ and holes_ [QF1]. That is what makes
//   empty and full exact (a Vyukov ring answers from the cell alone, so it can say empty
//   while a later element waits, or full with cells free), and it is the other side's
//   counter: a caller that retries at once, on a CPU of its own, takes that cache line on
//   every failure, and the other side's next claim or take waits for it. Poll with a yield
//   or a backoff between tries, or use the blocking forms, which do (docs/benchmarks.md,
//   "Polling callers": in the poll_1p1c row, one PAUSE between tries, ours moved 0.45-0.73x
//   of xenium's items, and a copy answering from the cell alone, without the two reads,
//   about 4.7x ours). Or set queue_options{.fast_empty = true}: a try_pop whose cell is
//   vacant then reads order_, a line nobody writes while producers publish in order, and
//   not tail_ (in the poll_1p1c row, 1.9-5x the default's items in alternating runs); each
//   publish pays a load of the cell before its own (69.1 instructions per try_push +
//   try_pop pair with may_block = false, against 65.1), and one push in four (16-byte
//   cells) reads a line its consumer may just have written (docs/benchmarks.md,
//   "fast_empty"). The full answer is unchanged.
//
// REFERENCES
//   Dmitry Vyukov, "Bounded MPMC queue" (1024cores.net, 2010): the ring this one makes
//   lock-free.
//   Adam Morrison, Yehuda Afek, "Fast concurrent queues for x86 processors", PPoPP 2013
//   (LCRQ: tickets a late thread gives up on, linearization points known in retrospect).
//   Ruslan Nikolaev, "A Scalable, Portable, and Memory-Efficient Lock-Free FIFO Queue",
//   DISC 2019 (arXiv:1908.04511): SCQ, an earlier design of this header.
//   Dave Dice, Hui Huang, Mingyao Yang, "Asymmetric Dekker Synchronization" (Sun
//   Microsystems, 2001); Linux membarrier(2); folly's asymmetricLightBarrier(): the fence
//   pair of the give-ups.
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

#include "detail/asymmetric_fence.hpp"
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
  // true: a pop whose cell is vacant answers empty from the cell and the word order_,
  // without reading tail_ (the producers' counter), while producers publish in ticket
  // order (WHAT, "An exact empty from the cell"): for consumers that poll an empty queue.
  // Each publish then also reads the seq of the cell before its own (a failed try costs
  // the producers less, a push costs them a load: docs/benchmarks.md, "fast_empty").
  // false: a pop whose ticket is unpublished always reads tail_.
  bool fast_empty = false;
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
  static constexpr bool fast_empty = Options.fast_empty;
  // try_push copies a small trivially copyable argument into its build step, so that the
  // common path keeps it in a register (the out-of-line steps get the copy by value, not
  // the argument's address). Such a T is left as it was by a move, so T&& needs no undo.
  static constexpr bool by_value =
      std::is_trivially_copyable_v<T> && sizeof(T) <= 2 * sizeof(void*);
  static constexpr const std::chrono::steady_clock::time_point* forever = detail::no_deadline;
  // The pause after a lost race on a counter (detail::contention_backoff): 16 PAUSEs after
  // the first failed CAS of a try_push or try_pop, doubling to at most 128 (COST). Of the
  // settings tried (a fixed 32 or 128; 8 or 16 doubling to 64, 128 or 256), 16 to 128
  // moved the most items at 2P2C and 8P8C in a driver outside the repository.
  static constexpr unsigned lost_race_first = 16;
  static constexpr unsigned lost_race_cap = 128;

  // ---- head_ and tail_: (ticket << 2) | flags -------------------------------------------
  static constexpr std::uint64_t skip_flag = 1;     // tail_: a push gives up on its ticket
  static constexpr std::uint64_t closed_flag = 2;   // tail_: closed
  static constexpr std::uint64_t give_up_flag = 1;  // head_: a pop gives up on its ticket

  // ---- seq: the fast word of a cell, written by its holder only ---------------------------
  //   The cell's current ticket t = (L << k) | pos, shifted as head_ and tail_ hold it, and
  //   the cell's state in bit 1:
  //   vac(t) = t << 2: vacant for ticket t, or claimed by its producer (tail_ is past it)
  //   ful(t) = (t << 2) | 2: holds the element of t, or its consumer moves it out
  //   So the common paths compare seq with the counter word they read (a push: seq ==
  //   tail_; a pop: seq == head_ | 2) and compute no lap; and the seqs one cell takes are
  //   ordered as their laps are (vac(t) < ful(t) < vac(t + 2^k)).
  static constexpr std::uint64_t vac(std::uint64_t t) noexcept { return t << 2; }
  static constexpr std::uint64_t ful(std::uint64_t t) noexcept { return (t << 2) | 2; }
  static constexpr bool holds_element(std::uint64_t s) noexcept { return (s & 2) != 0; }

  // ---- ctl: the slow word of a cell (the give-ups), in a separate, read-mostly array -------
  //   [lap:44][dead:16][verdict:2][intent:1][valid:1]. valid clear: no record, and the lap
  //   field says for which lap the cell was vacant when the last record was cleared
  //   (no_record(L); 0 = no_record(0) at construction). A cleared record never returns to
  //   a word read before, so a helper's CAS from a stale read fails: if clearing wrote 0,
  //   a helper that read 0 before an intent was announced and answered could announce
  //   the same word again, and the first helper's commit CAS (expecting that word) would
  //   succeed over an answered intent (docs/testing.md, "Found so far", 2026-12-07).
  //   A record is about the operation holding the cell at lap `lap` (its push, from claim to
  //   publish; its pop, from take to free; or a push taking its element back): the verdict
  //   of the consumers on ticket (lap, pos) (none, intent, abandoned, kept), and `dead`
  //   tickets after it that producers gave up on (the holder frees the cell for ticket
  //   (lap + 1 + dead, pos)); `intent`: a producer wants ticket (lap + 1 + dead, pos) dead.
  static constexpr std::uint64_t c_valid = 1;
  static constexpr std::uint64_t c_intent = 2;
  static constexpr unsigned verdict_shift = 2;
  static constexpr std::uint64_t v_none = 0, v_intent = 1, v_abandoned = 2, v_kept = 3;
  static constexpr unsigned dead_shift = 4;
  static constexpr std::uint64_t dead_max = (std::uint64_t{1} << 16) - 1;
  static constexpr unsigned clap_shift = 20;
  static constexpr std::uint64_t clap_mask = (std::uint64_t{1} << 44) - 1;

  static constexpr std::uint64_t make_ctl(std::uint64_t lap, std::uint64_t verdict,
                                          std::uint64_t dead, bool intent) noexcept {
    return ((lap & clap_mask) << clap_shift) | (dead << dead_shift) | (verdict << verdict_shift) |
           (intent ? c_intent : 0) | c_valid;
  }
  static constexpr std::uint64_t no_record(std::uint64_t lap) noexcept {
    return (lap & clap_mask) << clap_shift;
  }
  static constexpr bool has_record(std::uint64_t x) noexcept { return (x & c_valid) != 0; }
  static constexpr std::uint64_t c_lap(std::uint64_t x) noexcept { return x >> clap_shift; }
  static constexpr std::uint64_t c_dead(std::uint64_t x) noexcept {
    return (x >> dead_shift) & dead_max;
  }
  static constexpr std::uint64_t c_verdict(std::uint64_t x) noexcept {
    return (x >> verdict_shift) & 3;
  }
  static constexpr std::uint64_t with_verdict(std::uint64_t x, std::uint64_t v) noexcept {
    return (x & ~(std::uint64_t{3} << verdict_shift)) | (v << verdict_shift);
  }
  // a - b for two laps as kept in a record (44 bits), signed.
  static constexpr std::int64_t clap_diff(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::int64_t>((a - b) << 20) >> 20;
  }
  // x is a record about the operation at lap `lap`.
  static constexpr bool about(std::uint64_t x, std::uint64_t lap) noexcept {
    return (x & c_valid) != 0 && c_lap(x) == (lap & clap_mask);
  }
  // x is the record of the cell whose seq shows lap m: its holder's lap <= m <= the last
  // dead lap (a record whose cell has moved past it is stale, and may be overwritten).
  static constexpr bool live(std::uint64_t x, std::uint64_t m) noexcept {
    if ((x & c_valid) == 0) return false;
    const std::int64_t d = clap_diff(m & clap_mask, c_lap(x));
    return d >= 0 && d <= static_cast<std::int64_t>(c_dead(x));
  }
  // x (live) declares ticket lap L dead.
  static constexpr bool declares_dead(std::uint64_t x, std::uint64_t lap) noexcept {
    const std::int64_t d = clap_diff(lap & clap_mask, c_lap(x));
    return d >= 1 && d <= static_cast<std::int64_t>(c_dead(x));
  }

  struct cell {
    detail::atomic<std::uint64_t> seq{0};
    alignas(T) unsigned char raw[sizeof(T)];
    [[no_unique_address]] detail::access_marker marker;
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(raw)); }
  };
  using ctl_word = detail::atomic<std::uint64_t>;
  using traits = std::allocator_traits<Allocator>;
  using cell_alloc = typename traits::template rebind_alloc<cell>;
  using ctl_alloc = typename traits::template rebind_alloc<ctl_word>;

 public:
  using value_type = T;
  using allocator_type = Allocator;
  using size_type = std::size_t;

  [[nodiscard]] static constexpr std::size_t max_capacity() noexcept {
    constexpr std::size_t by_index = std::size_t{1} << 31 << 1;  // 2^32, and fits size_t
    constexpr std::size_t by_bytes = std::numeric_limits<std::size_t>::max() / sizeof(cell) - 1;
    return by_index < by_bytes ? by_index : by_bytes;
  }

  explicit bounded_queue(std::size_t capacity, const Allocator& alloc = Allocator())
      : alloc_(alloc), n_(checked_capacity(capacity)) {
    while ((std::uint64_t{1} << k_) < n_) ++k_;
    pos_mask_ = (std::uint64_t{1} << k_) - 1;
    lap_step_ = std::uint64_t{1} << k_;
    word_mask_ = pos_mask_ << 2;
    n_word_ = std::uint64_t{n_} << 2;
    cell_alloc ca(alloc_);
    // One cell more, before the first: the predecessor check of a lap's first ticket
    // (check_order) reads its seq, 0 for ever, and marks.
    cells_ = std::allocator_traits<cell_alloc>::allocate(ca, n_ + 1) + 1;
    ::new (static_cast<void*>(cells_ - 1)) cell;
    for (std::size_t i = 0; i < n_; ++i) {
      ::new (static_cast<void*>(&cells_[i])) cell;
      cells_[i].seq.store(vac(i), std::memory_order_relaxed);  // ticket (0, i)
    }
    ctl_alloc ka(alloc_);
#if defined(__cpp_exceptions)
    try {
      ctl_ = std::allocator_traits<ctl_alloc>::allocate(ka, n_);
    } catch (...) {
      for (std::size_t i = 0; i < n_; ++i) std::destroy_at(&cells_[i]);
      std::destroy_at(cells_ - 1);
      std::allocator_traits<cell_alloc>::deallocate(ca, cells_ - 1, n_ + 1);
      throw;
    }
#else
    ctl_ = std::allocator_traits<ctl_alloc>::allocate(ka, n_);
#endif
    for (std::size_t i = 0; i < n_; ++i) ::new (static_cast<void*>(&ctl_[i])) ctl_word(0);
#ifdef LOCKLESS_BOUNDED_QUEUE_LAP_BASE
    // Test hook (tests/stress/bounded_queue_lap_wrap.cpp): the queue starts at a high lap.
    // Where tickets have more than 44 bits of lap, LOCKLESS_BOUNDED_QUEUE_LAP_BASE + 1 laps
    // below the wrap of a record's 44-bit lap, so that records compare laps across that
    // wrap within the test's first operations; otherwise 64 laps below the top of the
    // ticket range (the limit in GUARANTEES).
    const unsigned ticket_lap_bits = 62 - k_;
    const std::uint64_t base = ticket_lap_bits > 44 ? clap_mask - (LOCKLESS_BOUNDED_QUEUE_LAP_BASE)
                                                    : (std::uint64_t{1} << ticket_lap_bits) - 64;
    for (std::size_t i = 0; i < n_; ++i) {
      cells_[i].seq.store(vac((base << k_) | i), std::memory_order_relaxed);
      ctl_[i].store(no_record(base), std::memory_order_relaxed);  // as a cleared record
    }
    head_.store((base << k_) << 2, std::memory_order_relaxed);
    tail_.store((base << k_) << 2, std::memory_order_relaxed);
#endif
    (void)detail::asymmetric_fence::arm();
  }

  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;

  ~bounded_queue() {
    for (std::size_t i = 0; i < n_; ++i) {
      if (holds_element(cells_[i].seq.load(std::memory_order_relaxed)))
        std::destroy_at(cells_[i].get());
      std::destroy_at(&cells_[i]);
      std::destroy_at(&ctl_[i]);
    }
    std::destroy_at(cells_ - 1);
    cell_alloc ca(alloc_);
    std::allocator_traits<cell_alloc>::deallocate(ca, cells_ - 1, n_ + 1);
    ctl_alloc ka(alloc_);
    std::allocator_traits<ctl_alloc>::deallocate(ka, ctl_, n_);
  }

  // ---- observers ----------------------------------------------------------------------
  [[nodiscard]] std::size_t capacity() const noexcept { return n_; }
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // [QZ1] relaxed loads of the counters.
    const std::uint64_t t = tail_.load(std::memory_order_relaxed) >> 2;
    const std::uint64_t h = head_.load(std::memory_order_relaxed) >> 2;
    if (t <= h) return 0;
    const std::uint64_t d = (lap(t) - lap(h)) * n_ + pos(t) - pos(h);
    return d < n_ ? static_cast<std::size_t>(d) : n_;
  }
  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }
  [[nodiscard]] bool is_closed() const noexcept {
    return (tail_.load(std::memory_order_seq_cst) & closed_flag) != 0;  // [QC2]
  }

  // ---- non-waiting --------------------------------------------------------------------
  [[nodiscard, gnu::always_inline]] queue_status try_push(const T& v) {
    if constexpr (by_value) {
      return push_attempt([x = v](T* p) noexcept { std::construct_at(p, x); }, [](T*) noexcept {});
    } else {
      return push_attempt([&](T* p) { std::construct_at(p, v); }, [](T*) noexcept {});
    }
  }
  [[nodiscard, gnu::always_inline]] queue_status try_push(T&& v) {
    if constexpr (by_value) {
      return try_push(std::as_const(v));  // moving it would copy it and leave v as it is
    } else {
      return push_attempt([&](T* p) { std::construct_at(p, std::move(v)); },
                          [&](T* p) noexcept { detail::restore_argument(v, p); });
    }
  }
  template <class... A>
  [[nodiscard]] queue_status try_emplace(A&&... a) {
    static_assert(std::is_constructible_v<T, A...>,
                  "try_emplace: T is not constructible from these");
    std::optional<T> spill;
    return emplace_attempt(spill, std::forward<A>(a)...);
  }

  [[nodiscard, gnu::always_inline]] queue_result<T> try_pop() noexcept {
    // The common case inline (take_once until it is done or meets another case), with no
    // call that comes back here: everything else is pop_loop's.
    std::uint64_t hw = head_.load(std::memory_order_acquire);  // [QT1]
    detail::contention_backoff lost{lost_race_first, lost_race_cap};
    for (;;) {
      cell* c = nullptr;
      ctl_word* k = nullptr;
      std::uint64_t h = 0;
      const attempt a = take_once<false>(hw, c, k, h);
      if (a == attempt::done) [[likely]]
        return take(*c, *k, h);
      if (a == attempt::other) return pop_loop(hw);
      // Another pop took hw's ticket: a pause after a lost race (COST), then head_ again
      // (hw, from the failed CAS, is stale after the pause). Under the checkers there is no
      // pause, and the retry takes hw as the CAS left it, as it did before the pause was
      // added: the reload would only add a step to every schedule they explore.
      lost.pause();
      if constexpr (!detail::scheduler_controlled) hw = head_.load(std::memory_order_acquire);
    }
  }

  template <std::input_iterator It, std::sentinel_for<It> S>
  [[nodiscard]] std::size_t try_push_bulk(It first, S last) {
    return detail::push_each(
        [&](auto&& v) { return try_push(std::move(v)) == queue_status::success; }, first, last);
  }
  template <class Out>
  [[nodiscard]] std::size_t try_pop_bulk(Out out, std::size_t max) {
    return detail::pop_each([&] { return try_pop(); }, out, max);
  }

  // ---- blocking -------------------------------------------------------------------------
  // Each blocking and timed form but emplace first makes the try inline, as try_push /
  // try_pop are (its common case, a try that succeeds or finds the queue closed, costs what
  // the try costs: no call, and no clock read in the timed forms); waiting is out of line
  // (push_waiting, pop_waiting), and goes on as after a first try of its own.
  // The _for forms' deadline is detail::deadline_in(d): a duration longer than the steady
  // clock can count from now (nanoseconds::max(), hours::max(): "for ever") waits as the
  // untimed form, and one that is not positive (or NaN) is a single try. The _until forms'
  // is detail::deadline_at(t): a time point of a coarser duration beyond its clock's range
  // (time_point<steady_clock, hours>::max()) saturates the same way.
  [[gnu::always_inline]] bool push(const T& v)
    requires(may_block)
  {
    const queue_status st = try_push(v);
    if (st != queue_status::full) [[likely]]
      return st == queue_status::success;
    return push_waiting(v, forever) == queue_status::success;
  }
  [[gnu::always_inline]] bool push(T&& v)
    requires(may_block)
  {
    const queue_status st = try_push(std::move(v));  // v is intact unless it succeeded
    if (st != queue_status::full) [[likely]]
      return st == queue_status::success;
    return push_waiting(std::move(v), forever) == queue_status::success;
  }
  template <class... A>
  bool emplace(A&&... a)
    requires(may_block)
  {
    static_assert(std::is_constructible_v<T, A...>, "emplace: T is not constructible from these");
    std::optional<T> spill;
    return wait_push([&] { return emplace_attempt(spill, std::forward<A>(a)...); }, forever) ==
           queue_status::success;
  }
  [[nodiscard, gnu::always_inline]] std::optional<T> pop()
    requires(may_block)
  {
    queue_result<T> r = try_pop();
    if (r) [[likely]]
      return std::optional<T>(std::move(*r));
    if (r.error() != queue_status::empty) return std::nullopt;  // closed and drained
    return pop_waiting();
  }

  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(const T& v, std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    const queue_status st = try_push(v);
    if (st != queue_status::full) [[likely]]
      return st;
    const auto deadline = detail::deadline_in(d);
    return push_waiting(v, &deadline);
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(T&& v, std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    const queue_status st = try_push(std::move(v));
    if (st != queue_status::full) [[likely]]
      return st;
    const auto deadline = detail::deadline_in(d);
    return push_waiting(std::move(v), &deadline);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(const T& v,
                                        const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    const queue_status st = try_push(v);
    if (st != queue_status::full) [[likely]]
      return st;
    const auto at = detail::deadline_at(deadline);
    return push_waiting(v, &at);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(T&& v,
                                        const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    const queue_status st = try_push(std::move(v));
    if (st != queue_status::full) [[likely]]
      return st;
    const auto at = detail::deadline_at(deadline);
    return push_waiting(std::move(v), &at);
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_result<T> pop_for(std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    queue_result<T> r = try_pop();
    if (r || r.error() != queue_status::empty) [[likely]]
      return r;
    const auto deadline = detail::deadline_in(d);
    return wait_pop(&deadline, true);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_result<T> pop_until(const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    queue_result<T> r = try_pop();
    if (r || r.error() != queue_status::empty) [[likely]]
      return r;
    const auto at = detail::deadline_at(deadline);
    return wait_pop(&at, true);
  }

  // ---- close --------------------------------------------------------------------------
  void close() noexcept {
    // [QO4] order_ marked closed first (for good), so that no pop answers empty from its
    // cell once the queue is closed: it goes on to tail_, and says closed.
    if constexpr (fast_empty) remark(order_closed);
    (void)tail_.fetch_or(closed_flag, std::memory_order_seq_cst);  // [QC1] LP(close)
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

  // ---- tickets: (lap << k_) | pos, pos < n_ <= 2^k_; plain increasing numbers ------------
  [[nodiscard]] std::uint64_t pos(std::uint64_t t) const noexcept { return t & pos_mask_; }
  [[nodiscard]] std::uint64_t lap(std::uint64_t t) const noexcept { return t >> k_; }
  // The lap of the ticket a seq value is about.
  [[nodiscard]] std::uint64_t seq_lap(std::uint64_t s) const noexcept { return lap(s >> 2); }
  [[nodiscard]] std::uint64_t next(std::uint64_t t) const noexcept {
    if (pos(t) + 1 < n_) [[likely]]
      return t + 1;
    return next_lap(t);
  }
  // The first ticket of the lap after t's.
  [[nodiscard]] std::uint64_t next_lap(std::uint64_t t) const noexcept {
    return (t | pos_mask_) + 1;
  }
  [[nodiscard]] cell& cell_at(std::uint64_t t) const noexcept { return cells_[pos(t)]; }
  [[nodiscard]] ctl_word& ctl_at(std::uint64_t t) const noexcept { return ctl_[pos(t)]; }
  // The same from a counter word w (ticket << 2, flags in the low two bits): wp = w &
  // word_mask_ is pos << 2, so a cell's byte offset is wp * (sizeof(cell) / 4), one
  // scaled index on x86-64 (sizeof(cell) is a multiple of 8: seq), with no shift of w.
  template <class E>
  [[nodiscard]] static E& at_word(E* base, std::uint64_t wp) noexcept {
    static_assert(sizeof(E) % 4 == 0);
    return *std::launder(
        reinterpret_cast<E*>(reinterpret_cast<std::byte*>(base) + wp * (sizeof(E) / 4)));
  }
  [[nodiscard]] cell& cell_at_word(std::uint64_t wp) const noexcept { return at_word(cells_, wp); }
  [[nodiscard]] ctl_word& ctl_at_word(std::uint64_t wp) const noexcept { return at_word(ctl_, wp); }
  // next_lap(w >> 2) << 2 for a counter word w without flags.
  [[nodiscard]] std::uint64_t next_lap_word(std::uint64_t w) const noexcept {
    return (w | word_mask_ | 3) + 1;
  }

  // ---- push ---------------------------------------------------------------------------
  // A ticket claimed for a push: the ticket, its cell and its record.
  struct claimed {
    queue_status status = queue_status::busy;  // success (the rest is set), full or closed
    std::uint64_t t = 0;
    cell* c = nullptr;
    ctl_word* k = nullptr;
  };

  enum class attempt { done, retry, other };

  // One try at claiming ticket u = tw >> 2 (no flag, its cell vacant for it): done (cl
  // set), retry (the CAS failed: tw holds tail_ again) or other (a flag, the cell not
  // vacant for u, or, with Wrap false, u the last ticket of its lap: claim_step's cases and
  // the loop's). The ring's fields are read from *this, not kept in registers across the
  // CAS, so that the common path needs no callee-saved register. It works on the counter
  // word as read, not on u: the cell from tw's position bits (wp, cell_at_word), the next
  // word tw + 4 (u + 1, shifted), and u itself only once the claim is done.
  template <bool Wrap>
  [[gnu::always_inline]] attempt claim_once(std::uint64_t& tw, claimed& cl) noexcept {
    const std::uint64_t wp = tw & word_mask_;
    cell& cu = cell_at_word(wp);
    // [QP2] acquire: pairs with [QT4]: the previous element's move-out happens-before this
    // push builds over it.
    const std::uint64_t s = cu.seq.load(std::memory_order_acquire);
    // s == tw also says that tw has no flag, so no separate test: seq never has bit 0
    // (skip_flag), and it is never vac(u) | closed_flag == ful(u) while tail_ reads
    // u | closed_flag (ful(u) needs a claim of u, which moves tail_ from vac(u) past u, and
    // closed_flag is never cleared).
    if (s != tw) return attempt::other;
    std::uint64_t nw = tw + 4;  // next(u) << 2, but at the end of a lap
    if (wp + 4 >= n_word_) [[unlikely]] {
      if constexpr (!Wrap) return attempt::other;
      nw = next_lap_word(tw);
    }
    // [QP3] seq_cst/acquire: the claim.
    if (!tail_.compare_exchange_weak(tw, nw, std::memory_order_seq_cst,
                                     std::memory_order_acquire)) {
      return attempt::retry;
    }
    cl = {queue_status::success, tw >> 2, &cu, &ctl_at_word(wp)};
    return attempt::done;
  }

  // The common case inline (claim_once until it is done or meets another case, then fill)
  // with no call that comes back here: everything else is push_loop's or push_settle's.
  template <class Build, class Undo>
  [[gnu::always_inline]] queue_status push_attempt(Build&& build, Undo&& undo) {
    std::uint64_t tw = tail_.load(std::memory_order_acquire);  // [QP1]
    detail::contention_backoff lost{lost_race_first, lost_race_cap};
    for (;;) {
      claimed cl;
      const attempt a = claim_once<false>(tw, cl);
      if (a == attempt::done) [[likely]] {
        const std::uint64_t x = fill(cl, build);
        if (!has_record(x)) [[likely]]
          return queue_status::success;
        return push_settle(cl.t, x, build, undo);
      }
      if (a == attempt::other) return push_loop(tw, build, undo);
      // Another push claimed tw's ticket: a pause after a lost race (COST), then tail_
      // again (as in try_pop: not under the checkers).
      lost.pause();
      if constexpr (!detail::scheduler_controlled) tw = tail_.load(std::memory_order_acquire);
    }
  }

  // Everything but push_attempt's common case: claims from tail_ == tw until a ticket is
  // filled, or the queue is full or closed.
  template <class Build, class Undo>
  [[gnu::noinline]] queue_status push_loop(std::uint64_t tw, Build build, Undo undo) {
    for (;;) {
      const claimed cl = claim(tw);
      if (cl.status != queue_status::success) return cl.status;
      const std::uint64_t x = fill(cl, build);
      if (!has_record(x)) return queue_status::success;
      if (settle_publish(*cl.k, lap(cl.t), x)) return filled();
      undo_fill(cl, undo);
      tw = tail_.load(std::memory_order_acquire);  // [QP1]
    }
  }

  // fill() found a record about ticket t (x): settle it; if consumers gave up on t, take
  // the element back and push again.
  template <class Build, class Undo>
  [[gnu::noinline]] queue_status push_settle(std::uint64_t t, std::uint64_t x, Build build,
                                             Undo undo) {
    const claimed cl{queue_status::success, t, &cell_at(t), &ctl_at(t)};
    if (settle_publish(*cl.k, lap(t), x)) return filled();
    undo_fill(cl, undo);
    return push_loop(tail_.load(std::memory_order_acquire), build, undo);  // [QP1]
  }

  // Builds the element in the claimed cell and publishes it: 0, or the record about the
  // ticket that publish() found (settle_publish decides).
  template <class Build>
  [[gnu::always_inline]] std::uint64_t fill(const claimed& cl, Build& build) {
    cell& c = *cl.c;
    c.marker.write();
#if defined(__cpp_exceptions)
    try {
      build(c.get());
    } catch (...) {
      give_up_own(cl.t);
      throw;
    }
#else
    build(c.get());
#endif
    const std::uint64_t x = publish(c, *cl.k, cl.t);
    if (!has_record(x)) [[likely]] {
      (void)filled();
    }
    return x;
  }

  // A push succeeded: wake a sleeping pop.
  [[gnu::always_inline]] queue_status filled() noexcept {
    if constexpr (may_block) not_empty_->notify_one_after_light_fence();
    return queue_status::success;
  }

  // Consumers gave up on the ticket: take the element back and free the cell.
  template <class Undo>
  void undo_fill(const claimed& cl, Undo& undo) noexcept {
    cell& c = *cl.c;
    c.marker.write();
    undo(c.get());
    std::destroy_at(c.get());
    free_cell_settled(c, *cl.k, cl.t);
    if constexpr (may_block) not_full_->notify_one_after_light_fence();
  }

  template <class... A>
  queue_status emplace_attempt(std::optional<T>& spill, A&&... a) {
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

  // Takes the next ticket whose cell is vacant for it, from tail_ == tw.
  claimed claim(std::uint64_t tw) noexcept {
    for (;;) {
      claimed cl;
      const attempt a = claim_once<true>(tw, cl);
      if (a == attempt::done) return cl;
      if (a == attempt::retry) continue;
      std::optional<queue_status> st;
      tw = claim_step(tw, st);
      if (st) return {*st, 0, nullptr, nullptr};
    }
  }

  // claim()'s other cases (claim() is push_loop's, off the common path), from tail_ == tw:
  // closed, a give-up to help, a ticket taken meanwhile, or a cell still held by an earlier
  // lap (full, or give up on the ticket). Returns tail_ to try again from, or sets st (full
  // or closed).
  [[gnu::noinline]] std::uint64_t claim_step(std::uint64_t tw,
                                             std::optional<queue_status>& st) noexcept {
    if ((tw & closed_flag) != 0) {
      st = queue_status::closed;
      return tw;
    }
    if ((tw & skip_flag) != 0) {
      (void)help_skip(tw);
      return tail_.load(std::memory_order_seq_cst);
    }
    const std::uint64_t u = tw >> 2;
    const std::uint64_t s = cell_at(u).seq.load(std::memory_order_acquire);  // [QP2]
    if (s == vac(u)) return tw;
    if (s > vac(u)) {                                // u was taken by another push
      return tail_.load(std::memory_order_acquire);  // [QP1]
    }
    // u's cell is still held by an earlier lap. [QF1] seq_cst loads.
    const std::uint64_t hw = head_.load(std::memory_order_seq_cst);
    // No hole between head_ and tail_: the O(1) rule; otherwise a walk over one lap.
    if (holes_.load(std::memory_order_seq_cst) == 0 ? full_at(u, hw >> 2) : !vacant_ahead(u)) {
      st = queue_status::full;
      return tw;
    }
    std::uint64_t e = tw;
    // [QS1] seq_cst CAS: the push gives up on u (set the flag; help_skip decides).
    if (tail_.compare_exchange_strong(e, tw | skip_flag, std::memory_order_seq_cst,
                                      std::memory_order_seq_cst)) {
      if (help_skip(tw | skip_flag) == skipped::saturated) {
        st = queue_status::full;
        return tw;
      }
    }
    return tail_.load(std::memory_order_seq_cst);
  }

  // u's cell is held by an earlier lap and head_ was at h: is "full" a legal answer? Yes
  // when every ticket of the previous lap from u's on, up to h, still holds its cell: each
  // such cell holds an element or an operation in progress (a pop still moving its element
  // out, or a push whose ticket consumers gave up on).
  bool full_at(std::uint64_t u, std::uint64_t h) const noexcept {
    std::uint64_t z = u - lap_step_;
    for (unsigned i = 0; z < h; z = next(z), ++i) {
      if (i == 8) return false;
      const std::uint64_t s = cell_at(z).seq.load(std::memory_order_seq_cst);  // [QF1]
      if (s >= vac(z + lap_step_)) return false;
    }
    return true;
  }

  // A walk over the lap from u (tickets u .. u + capacity - 1, none claimed yet): is one of
  // their cells vacant for its ticket? If not, every cell holds an element or an operation
  // in progress at the moment it was read: "full" is legal at the last load (each holder is
  // still queued then, or its operation overlaps this push).
  bool vacant_ahead(std::uint64_t u) const noexcept {
    std::uint64_t v = u;
    for (std::size_t i = 0; i < n_; ++i, v = next(v)) {
      // [QF1] seq_cst loads of the lap's cells.
      if (cell_at(v).seq.load(std::memory_order_seq_cst) == vac(v)) return true;
    }
    return false;
  }

  enum class skipped { done, saturated };

  // tail_ == tw (with skip_flag): decide whether ticket u = tw >> 2 is dead (its cell is
  // still held by an earlier lap when this thread looks after announcing the intent) or
  // alive (the holder freed it first), and move tail_ on accordingly.
  skipped help_skip(const std::uint64_t tw) noexcept {
    const std::uint64_t u = tw >> 2;
    cell& c = cell_at(u);
    ctl_word& k = ctl_at(u);
    const std::uint64_t lu = lap(u);
    for (;;) {
      // [QS1] seq_cst loads of tail_, the record and seq; seq_cst CASes below.
      if ((tail_.load(std::memory_order_seq_cst) | closed_flag) != (tw | closed_flag)) {
        return skipped::done;
      }
      std::uint64_t x = k.load(std::memory_order_seq_cst);
      const std::uint64_t s = c.seq.load(std::memory_order_seq_cst);
      const std::uint64_t m = seq_lap(s);
      std::uint64_t xi = 0;
      if (live(x, m)) {
        if (declares_dead(x, lu)) {
          finish_skip(tw, next(u));
          return skipped::done;
        }
        if (clap_diff(lu & clap_mask, c_lap(x)) != static_cast<std::int64_t>(c_dead(x)) + 1) {
          continue;  // a view from before a change: look again
        }
        if (c_dead(x) == dead_max) {
          finish_skip(tw, u);
          return skipped::saturated;
        }
        xi = x | c_intent;
        if (xi != x && !k.compare_exchange_strong(x, xi, std::memory_order_seq_cst,
                                                  std::memory_order_seq_cst)) {
          continue;
        }
      } else {
        // Nobody claims u while the flag is set: a cell vacant for u means alive, a cell
        // past u means dead (its holder freed it past u and cleared the record already).
        // But "alive" is a verdict like "dead": while an intent on u is still in the
        // record, another helper that saw the cell held after its heavy fence may commit
        // it. So an intent on u is answered first, by the CAS the holder would make.
        // x was read before s: an intent announced in between (by a helper that then read
        // the cell still held, before the free) is not in it. So the record is read again
        // after the cell, and a change sends this thread round again.
        // [QS1] seq_cst load: after the load of seq above.
        if (s == vac(u) && k.load(std::memory_order_seq_cst) != x) continue;
        if (s >= vac(u)) {
          if (s == vac(u) && has_record(x) && (x & c_intent) != 0 &&
              clap_diff(lu & clap_mask, c_lap(x)) == static_cast<std::int64_t>(c_dead(x)) + 1 &&
              !k.compare_exchange_strong(x, no_record(lu), std::memory_order_seq_cst,
                                         std::memory_order_seq_cst)) {
            continue;
          }
          finish_skip(tw, s == vac(u) ? u : next(u));
          return skipped::done;
        }
        if (m + 1 != lu) continue;  // a view from before a change: look again
        xi = make_ctl(m, v_none, 0, true);
        if (!k.compare_exchange_strong(x, xi, std::memory_order_seq_cst,
                                       std::memory_order_seq_cst)) {
          continue;
        }
      }
      // [QS2] heavy fence: the intent is announced; the holder's free (a store, a light
      // fence, a load of the record: [QT4]/[QT5]) either comes before this load or sees
      // the intent.
      detail::asymmetric_fence::heavy_fence();
      const std::uint64_t s2 = c.seq.load(std::memory_order_seq_cst);
      if (s2 == vac(u)) {
        // Freed first: u is alive, once the intent is answered (as above: a helper that
        // read the cell held may still commit it).
        std::uint64_t e = xi;
        if (!k.compare_exchange_strong(e, no_record(lu), std::memory_order_seq_cst,
                                       std::memory_order_seq_cst)) {
          continue;
        }
        finish_skip(tw, u);
        return skipped::done;
      }
      if (s2 > vac(u)) continue;           // freed past u: another helper committed; look again
      if constexpr (fast_empty) remark();  // [QO4] u may become dead: never published
      std::uint64_t e = xi;
      const std::uint64_t dead = c_dead(xi) + 1;
      const std::uint64_t committed =
          (xi & ~(c_intent | (dead_max << dead_shift))) | (dead << dead_shift);
      if (k.compare_exchange_strong(e, committed, std::memory_order_seq_cst,
                                    std::memory_order_seq_cst)) {
        (void)holes_.fetch_add(1, std::memory_order_seq_cst);  // [QH1]
        finish_skip(tw, next(u));  // u is dead: its cell's holder will free past it
        return skipped::done;
      }
      // The record changed (the holder answered, or another helper committed): look again.
    }
  }

  void finish_skip(std::uint64_t tw, std::uint64_t nt) noexcept {
    std::uint64_t cur = tw;
    for (;;) {
      // [QS1] seq_cst CAS: tail_ past u (dead) or back to u without the flag (alive).
      if (tail_.compare_exchange_strong(cur, (nt << 2) | (cur & closed_flag),
                                        std::memory_order_seq_cst, std::memory_order_seq_cst)) {
        return;
      }
      if ((cur | closed_flag) != (tw | closed_flag)) return;  // someone else did it
    }
  }

  // Publishes the element built for ticket t and returns the cell's record word: without
  // c_valid (no record, the common case: has_record() is false) or a record for
  // settle_publish to read (false: consumers gave up on t first).
  [[gnu::always_inline]] std::uint64_t publish(cell& c, ctl_word& k, std::uint64_t t) noexcept {
    if constexpr (fast_empty) check_order(c, t);
    // [QP4] release: the publish. Pairs with [QT2].
    c.seq.store(ful(t), std::memory_order_release);
    // [QP5] light fence, relaxed load: the store-buffering pair of [QG2]. Either the give-up
    // of a pop reads this publish after its heavy fence, or this load reads its intent.
    detail::asymmetric_fence::light_fence();
    return k.load(std::memory_order_relaxed);
  }

  [[gnu::noinline]] bool settle_publish(ctl_word& k, std::uint64_t lt, std::uint64_t x) noexcept {
    for (;;) {
      if (!about(x, lt)) return true;
      const std::uint64_t v = c_verdict(x);
      if (v == v_abandoned) return false;
      if (v != v_intent) return true;
      // [QR1] seq_cst CAS: the verdict "kept", against the give-up's "abandoned".
      if (k.compare_exchange_strong(x, with_verdict(x, v_kept), std::memory_order_seq_cst,
                                    std::memory_order_seq_cst)) {
        return true;
      }
    }
  }

  // T's constructor threw for ticket t: the ticket becomes a hole (as if abandoned).
  void give_up_own(std::uint64_t t) noexcept {
    if constexpr (fast_empty) remark();  // [QO4] t will never be published: a hole
    ctl_word& k = ctl_at(t);
    const std::uint64_t lt = lap(t);
    std::uint64_t x = k.load(std::memory_order_seq_cst);  // [QR1]
    for (;;) {
      const std::uint64_t nx =
          about(x, lt) ? with_verdict(x, v_abandoned) : make_ctl(lt, v_abandoned, 0, false);
      if (nx == x) break;  // consumers abandoned it already (and counted the hole)
      // [QR1] seq_cst CAS: the verdict "abandoned", made by the producer itself.
      if (k.compare_exchange_strong(x, nx, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
        (void)holes_.fetch_add(1, std::memory_order_seq_cst);  // [QH1]
        break;
      }
    }
    free_cell_settled(cell_at(t), k, t);
    if constexpr (may_block) not_full_->notify_one_after_light_fence();
  }

  // The holder of ticket t's cell (its pop after the move-out, or its push after taking the
  // element back) frees the cell for the next lap, or past the tickets declared dead.
  // Returns 0, or the record when it is about t's lap: the caller then passes it to
  // settle_free (free_cell_settled does both).
  [[nodiscard, gnu::always_inline]] std::uint64_t free_cell(cell& c, ctl_word& k,
                                                            std::uint64_t t) noexcept {
    // [QT4] release: the free. Pairs with [QP2].
    c.seq.store(vac(t + lap_step_), std::memory_order_release);
    // [QT5] light fence, relaxed load: the store-buffering pair of [QS2]. Either the give-up
    // of a push reads this free after its heavy fence, or this load reads its intent.
    detail::asymmetric_fence::light_fence();
    const std::uint64_t x = k.load(std::memory_order_relaxed);
    if (!has_record(x) || !about(x, lap(t))) [[likely]]
      return 0;
    return x;
  }
  void free_cell_settled(cell& c, ctl_word& k, std::uint64_t t) noexcept {
    const std::uint64_t x = free_cell(c, k, t);
    if (x != 0) settle_free(c, k, t, x);
  }

  [[gnu::noinline]] void settle_free(cell& c, ctl_word& k, std::uint64_t t,
                                     std::uint64_t x) noexcept {
    const std::uint64_t lt = lap(t);
    std::uint64_t at = lt + 1;  // the lap the cell is vacant for
    for (;;) {
      if (!about(x, lt)) return;
      const std::uint64_t target = lt + 1 + c_dead(x);
      if (at != target) {
        // [QR1] seq_cst store: past the dead tickets (this thread is seq's only writer).
        c.seq.store(vac(t + (target - lt) * lap_step_), std::memory_order_seq_cst);
        at = target;
        x = k.load(std::memory_order_seq_cst);
        continue;
      }
      // The cell is vacant for its next live ticket: the record is done (an intent in it is
      // answered "alive": the ticket it names finds its cell vacant).
      // [QR1] seq_cst CAS: the record cleared.
      if (k.compare_exchange_strong(x, no_record(target), std::memory_order_seq_cst,
                                    std::memory_order_seq_cst)) {
        return;
      }
    }
  }

  // ---- order_: may a pop answer empty from its cell? ------------------------------------
  //   [version:61][closed:1][state:2]. State quiet (0): since a moment when head_ ==
  //   tail_, no ticket was published while the ticket before it was not, and none became
  //   a hole or dead; marked (1): not known; clearing (2): a pop that found the queue
  //   quiet is checking that no push claimed meanwhile. closed: set by close() before
  //   closed_flag in tail_, never cleared. A pop may answer empty from its cell only when
  //   the low three bits are 0. Every change raises the version, so a CAS from a value
  //   read earlier fails after any other change.
  static constexpr std::uint64_t order_state = 3;
  static constexpr std::uint64_t order_quiet = 0;
  static constexpr std::uint64_t order_marked = 1;
  static constexpr std::uint64_t order_clearing = 2;
  static constexpr std::uint64_t order_closed = 4;
  static constexpr std::uint64_t order_low = 7;
  // o with a new version, its closed bit, and state `state` (plus `extra`).
  static constexpr std::uint64_t order_next(std::uint64_t o, std::uint64_t state,
                                            std::uint64_t extra = 0) noexcept {
    return ((o | order_low) + 1) | (o & order_closed) | state | extra;
  }

  // A push about to publish ticket t in cell c: if the ticket before t is not published
  // (nor past it: taken, or a hole whose cell moved on), mark order_ (unless it is marked
  // already). In a lap, the ticket before t is t - 1, in the cell before c, and ful(t - 1)
  // is vac(t) - 2. The first ticket of a lap reads the extra cell before cells_[0], whose
  // seq is 0: it always marks (once a lap, the safe side, and no branch for it here).
  [[gnu::always_inline]] void check_order(const cell& c, std::uint64_t t) noexcept {
    // [QO1] relaxed load of the predecessor's seq: a value at or past ful(t - 1) says
    // t - 1 was published (or passed) before this publish; any older value marks, the safe
    // side.
    if ((&c - 1)->seq.load(std::memory_order_relaxed) < vac(t) - 2) [[unlikely]]
      mark();
  }

  // [QO2] seq_cst load, seq_cst CAS: order_ marked unless it is already. The load comes
  // after this push's claim ([QP3], seq_cst): the store-buffering pair of quieten()'s CAS
  // and its second load of tail_. Either this load sees the clearing (and marks over it),
  // or quieten() sees this claim (and does not finish).
  [[gnu::noinline]] void mark() noexcept {
    std::uint64_t o = order_.load(std::memory_order_seq_cst);
    while ((o & order_state) != order_marked &&
           !order_.compare_exchange_weak(o, order_next(o, order_marked), std::memory_order_seq_cst,
                                         std::memory_order_seq_cst)) {
    }
  }

  // [QO4] seq_cst CAS: order_ marked with a new version, whatever it was (and, from
  // close(), closed): before a ticket becomes a hole or dead (a clearing in progress then
  // fails), and before close() sets closed_flag.
  void remark(std::uint64_t extra = 0) noexcept {
    std::uint64_t o = order_.load(std::memory_order_seq_cst);
    while (!order_.compare_exchange_weak(o, order_next(o, order_marked, extra),
                                         std::memory_order_seq_cst, std::memory_order_seq_cst)) {
    }
  }

  // A pop read order_ == o (not quiet), then tail_ == tw with nothing claimed at or after
  // head_ (head_ == tail_ at that load): the queue is quiet. [QO3] seq_cst CASes and load:
  // order_ to clearing (fails if anything changed it since o), tail_ read again (the
  // store-buffering pair of [QO2]: a push that claimed since the first load either sees
  // clearing and marks, or is seen here), then quiet if nothing was claimed.
  [[gnu::noinline]] void quieten(std::uint64_t o, std::uint64_t tw) noexcept {
    if ((o & order_closed) != 0) return;  // closing: never quiet again
    std::uint64_t c = order_next(o, order_clearing);
    if (!order_.compare_exchange_strong(o, c, std::memory_order_seq_cst,
                                        std::memory_order_seq_cst)) {
      return;
    }
    if (tail_.load(std::memory_order_seq_cst) != tw) return;  // left clearing: not quiet
    (void)order_.compare_exchange_strong(c, order_next(c, order_quiet), std::memory_order_seq_cst,
                                         std::memory_order_seq_cst);
  }

  // ---- pop ----------------------------------------------------------------------------
  // head_ from e (ticket h, flag or not) past the hole at h, and the hole's count down.
  // false: head_ was not e; e holds what it was.
  bool pass_hole(std::uint64_t& e, std::uint64_t h) noexcept {
    // [QG1] seq_cst CAS: head_ past the hole; [QH1] its count.
    if (!head_.compare_exchange_strong(e, next(h) << 2, std::memory_order_seq_cst,
                                       std::memory_order_seq_cst)) {
      return false;
    }
    (void)holes_.fetch_sub(1, std::memory_order_seq_cst);  // a hole passed
    return true;
  }

  // One try at taking ticket h = hw >> 2 (no flag, its cell published): done (c, k and th
  // set: the cell, its record and h), retry (the CAS failed: hw holds head_ again) or
  // other (a flag, the cell not published for h, or, with Wrap false, h the last ticket of
  // its lap: pop_step's cases). As claim_once, it reads the ring's fields from *this rather
  // than keeping them in registers across the CAS.
  template <bool Wrap>
  [[gnu::always_inline]] attempt take_once(std::uint64_t& hw, cell*& c, ctl_word*& k,
                                           std::uint64_t& th) noexcept {
    const std::uint64_t wp = hw & word_mask_;
    cell& ch = cell_at_word(wp);
    // [QT2] acquire: pairs with [QP4]: the element's construction happens-before its
    // move-out.
    const std::uint64_t s = ch.seq.load(std::memory_order_acquire);
    // s == (hw | 2) also says that head_'s only flag, give_up_flag (bit 0), is clear (seq
    // never has bit 0), so hw == h << 2 and s == ful(h).
    if (s != (hw | 2)) return attempt::other;
    std::uint64_t nw = hw + 4;  // next(h) << 2, but at the end of a lap
    if (wp + 4 >= n_word_) [[unlikely]] {
      if constexpr (!Wrap) return attempt::other;
      nw = next_lap_word(hw);
    }
    // [QT3] acq_rel/acquire: the take. LP(try_pop, value).
    if (!head_.compare_exchange_weak(hw, nw, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return attempt::retry;
    }
    c = &ch;
    k = &ctl_at_word(wp);
    th = hw >> 2;
    return attempt::done;
  }

  // Everything but try_pop's common case, from head_ == hw.
  [[gnu::noinline]] queue_result<T> pop_loop(std::uint64_t hw) noexcept {
    for (;;) {
      cell* c = nullptr;
      ctl_word* k = nullptr;
      std::uint64_t h = 0;
      const attempt a = take_once<true>(hw, c, k, h);
      if (a == attempt::done) return take(*c, *k, h);
      if (a == attempt::retry) continue;
      std::optional<queue_result<T>> r;
      hw = pop_step(hw, r);
      if (r) return std::move(*r);
    }
  }

  // Moves the element out of its cell (taken at lap lh) and frees the cell.
  [[gnu::always_inline]] queue_result<T> take(cell& c, ctl_word& k, std::uint64_t h) noexcept {
    c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());
    const std::uint64_t x = free_cell(c, k, h);
    if (x != 0) [[unlikely]]
      return taken_settle(c, k, h, x, std::move(r));
    return taken(std::move(r));
  }
  [[gnu::noinline]] queue_result<T> taken_settle(cell& c, ctl_word& k, std::uint64_t h,
                                                 std::uint64_t x, queue_result<T> r) noexcept {
    settle_free(c, k, h, x);
    return taken(std::move(r));
  }
  // A pop succeeded: wake a sleeping push.
  [[gnu::always_inline]] queue_result<T> taken(queue_result<T>&& r) noexcept {
    if constexpr (may_block) not_full_->notify_one_after_light_fence();
    return std::move(r);
  }

  // pop_loop's other cases (off the common path), from head_ == hw: a give-up to help, a
  // ticket passed, or a ticket not published. Returns head_ to try again from, or sets r
  // (the value, empty or closed).
  [[gnu::noinline]] std::uint64_t pop_step(std::uint64_t hw,
                                           std::optional<queue_result<T>>& r) noexcept {
    if ((hw & give_up_flag) != 0) {
      help_give_up(hw);
      return head_.load(std::memory_order_seq_cst);
    }
    const std::uint64_t h = hw >> 2;
    const std::uint64_t s = cell_at(h).seq.load(std::memory_order_acquire);  // [QT2]
    if (fast_empty && s == vac(h) && (order_.load(std::memory_order_seq_cst) & order_low) == 0) {
      // [QO1] h is not published, and no ticket was published while the one before it was
      // not since the queue was last quiet: no ticket after h is published either (the
      // first such would have found its predecessor unpublished and marked order_ first).
      // LP(try_pop, empty): the load of order_. (Closed marks order_ before tail_.)
      r.emplace(queue_status::empty);
      return hw;
    }
    if (s == ful(h)) return hw;
    if (s > ful(h)) {
      // The cell is past h: h was taken (head_ moved already), or is a hole whose cell
      // moved on. Help head_ past it.
      std::uint64_t e = hw;
      return pass_hole(e, h) ? next(h) << 2 : e;
    }
    std::optional<queue_result<T>> v = pop_slow(hw);
    if (!v) return head_.load(std::memory_order_seq_cst);
    r.emplace(std::move(*v));
    return hw;
  }

  // head_ == hw (no flag), and h = hw >> 2 is not published. The value, empty or closed;
  // nullopt: look again.
  std::optional<queue_result<T>> pop_slow(const std::uint64_t hw) noexcept {
    const std::uint64_t h = hw >> 2;
    const std::uint64_t lh = lap(h);
    // [QO3] seq_cst load of order_ before tail_: the value a clear below may replace.
    const std::uint64_t o = fast_empty ? order_.load(std::memory_order_seq_cst) : 0;
    // [QE1] seq_cst loads: tail_, then the record, seq, the cells up to tail_ and head_.
    const std::uint64_t tw = tail_.load(std::memory_order_seq_cst);
    const std::uint64_t t = tw >> 2;
    if (t <= h) {
      // Nothing was claimed at h or after (a push giving up on h has not taken it yet), and
      // head_ was h before: the queue is empty at this load. LP(try_pop, empty / closed).
      if ((tw & closed_flag) != 0) return queue_result<T>(queue_status::closed);
      if (fast_empty && (o & order_low) != 0) quieten(o, tw);
      return queue_result<T>(queue_status::empty);
    }
    ctl_word& k = ctl_at(h);
    const std::uint64_t x = k.load(std::memory_order_seq_cst);
    const std::uint64_t s = cell_at(h).seq.load(std::memory_order_seq_cst);
    if (s >= ful(h)) return std::nullopt;  // published meanwhile, or passed
    const bool hole = (live(x, seq_lap(s)) && declares_dead(x, lh)) ||
                      (about(x, lh) && c_verdict(x) == v_abandoned);
    if (hole || s < vac(h)) {
      if (hole) {
        std::uint64_t e = hw;
        (void)pass_hole(e, h);
      }
      return std::nullopt;
    }
    // h is claimed and its push is in progress. A published ticket after it?
    bool found = false;
    for (std::uint64_t z = next(h); z < t; z = next(z)) {
      if (cell_at(z).seq.load(std::memory_order_seq_cst) == ful(z)) {
        found = true;
        break;
      }
    }
    if (!found) {
      // Every ticket in [h, t) read unpublished after the load of tail_, and head_ has not
      // moved (so none of them was published and taken meanwhile).
      if (head_.load(std::memory_order_seq_cst) != hw) return std::nullopt;
      if ((tw & closed_flag) == 0) return queue_result<T>(queue_status::empty);  // LP: tail_
    }
    // Give up on h (a later ticket is published, or the queue is closed).
    std::uint64_t e = hw;
    // [QG1] seq_cst CAS: the pop gives up on h (set the flag; help_give_up decides).
    if (head_.compare_exchange_strong(e, hw | give_up_flag, std::memory_order_seq_cst,
                                      std::memory_order_seq_cst)) {
      help_give_up(hw | give_up_flag);
    }
    return std::nullopt;
  }

  // head_ == hw (with give_up_flag): decide whether ticket h = hw >> 2 is abandoned (still
  // unpublished when this thread looks after announcing the intent) or kept (published
  // first), and move head_ on accordingly.
  void help_give_up(const std::uint64_t hw) noexcept {
    const std::uint64_t h = hw >> 2;
    cell& c = cell_at(h);
    ctl_word& k = ctl_at(h);
    const std::uint64_t lh = lap(h);
    // head_ past h (a hole) or, nt == h, back to h without the flag (kept).
    const auto advance = [&](std::uint64_t nt) noexcept {
      std::uint64_t e = hw;
      if (nt != h) {
        (void)pass_hole(e, h);
      } else {
        // [QG1] seq_cst CAS: head_ back to h without the flag (kept).
        (void)head_.compare_exchange_strong(e, h << 2, std::memory_order_seq_cst,
                                            std::memory_order_seq_cst);
      }
    };
    for (;;) {
      // [QG1] seq_cst loads of head_, the record and seq; seq_cst CASes below.
      if (head_.load(std::memory_order_seq_cst) != hw) return;
      std::uint64_t x = k.load(std::memory_order_seq_cst);
      const std::uint64_t s = c.seq.load(std::memory_order_seq_cst);
      if ((about(x, lh) && c_verdict(x) == v_abandoned) ||
          (live(x, seq_lap(s)) && declares_dead(x, lh)) || s > ful(h)) {
        advance(next(h));  // a hole: pass it
        return;
      }
      if (s == ful(h)) {
        // Published: keep it, recorded first so that no helper can abandon it later.
        if (about(x, lh) && c_verdict(x) == v_kept) {
          advance(h);
          return;
        }
        const std::uint64_t nx =
            about(x, lh) ? with_verdict(x, v_kept) : make_ctl(lh, v_kept, 0, false);
        if (k.compare_exchange_strong(x, nx, std::memory_order_seq_cst,
                                      std::memory_order_seq_cst)) {
          advance(h);
          return;
        }
        continue;
      }
      if (s != vac(h)) continue;  // a view from before a change: look again
      std::uint64_t xi = 0;
      if (about(x, lh)) {
        if (c_verdict(x) == v_kept) continue;
        xi = with_verdict(x, v_intent);
        if (xi != x && !k.compare_exchange_strong(x, xi, std::memory_order_seq_cst,
                                                  std::memory_order_seq_cst)) {
          continue;
        }
      } else {
        xi = make_ctl(lh, v_intent, 0, false);
        if (!k.compare_exchange_strong(x, xi, std::memory_order_seq_cst,
                                       std::memory_order_seq_cst)) {
          continue;
        }
      }
      // [QG2] heavy fence: the intent is announced; the producer's publish (a store, a light
      // fence, a load of the record: [QP4]/[QP5]) either comes before this load or sees
      // the intent.
      detail::asymmetric_fence::heavy_fence();
      if (c.seq.load(std::memory_order_seq_cst) != vac(h)) continue;  // published: keep
      if constexpr (fast_empty) remark();  // [QO4] h may become a hole: never published
      std::uint64_t e = xi;
      if (k.compare_exchange_strong(e, with_verdict(xi, v_abandoned), std::memory_order_seq_cst,
                                    std::memory_order_seq_cst)) {
        (void)holes_.fetch_add(1, std::memory_order_seq_cst);  // [QH1]
        advance(next(h));
        return;
      }
    }
  }

  // ---- blocking forms -----------------------------------------------------------------
  // `tried`: the caller's own try just said full (empty); see detail::await_attempt.
  template <class Try, class Deadline>
  queue_status wait_push(Try&& attempt, const Deadline* deadline, bool tried = false) {
    return detail::await_attempt(
        *not_full_, attempt, [](queue_status st) { return st == queue_status::full; },
        [this] { return push_may_succeed(); }, deadline, tried);
  }
  template <class Deadline>
  [[gnu::noinline]] queue_result<T> wait_pop(const Deadline* deadline, bool tried = false) {
    return detail::await_attempt(
        *not_empty_, [&] { return try_pop(); },
        [](const queue_result<T>& r) { return !r && r.error() == queue_status::empty; },
        [this] { return pop_may_succeed(); }, deadline, tried);
  }
  // The rest of a blocking or timed push whose inline try found the queue full. V is
  // const T& or T (the argument, intact: a push that did not succeed leaves it as it was).
  template <class V, class Deadline>
  [[gnu::noinline]] queue_status push_waiting(V&& v, const Deadline* deadline) {
    return wait_push([&] { return try_push(std::forward<V>(v)); }, deadline, true);
  }
  // The rest of pop() when its inline try found the queue empty.
  [[gnu::noinline]] std::optional<T> pop_waiting() {
    queue_result<T> r = wait_pop(forever, true);
    if (!r) return std::nullopt;
    return std::optional<T>(std::move(*r));
  }

  // The spinning waiters' hints (detail::await_attempt's `ready`): could a try succeed now?
  // A failed try_push reads head_ and holes_, a failed try_pop tail_ (the exact answers,
  // [QF1] / [QE1]): the other side's hot lines. A waiter that retried such a try every few
  // hundred nanoseconds would take them from the very thread that is about to make room.
  // These read only the waiter's own counter and the cell its next ticket needs, a line the
  // other side hands over anyway, and say yes when that cell is ready for the ticket (or
  // past it, or a flag is set: the try will sort it out). A "no" is only a hint: the
  // sleeping loop tries regardless (a cell held by a suspended thread, a hole, or close()
  // is then seen by its exact try).
  // [QW1] relaxed loads of tail_ (head_) and the cell's seq: nothing is read or written on
  //       the strength of them; the try that follows makes its own ordered loads.
  bool push_may_succeed() const noexcept {
    const std::uint64_t tw = tail_.load(std::memory_order_relaxed);  // [QW1]
    if ((tw & (skip_flag | closed_flag)) != 0) return true;
    // vac(u) == tw: vacant for u; above it: u was claimed meanwhile.
    return cell_at_word(tw & word_mask_).seq.load(std::memory_order_relaxed) >= tw;  // [QW1]
  }
  bool pop_may_succeed() const noexcept {
    const std::uint64_t hw = head_.load(std::memory_order_relaxed);  // [QW1]
    if ((hw & give_up_flag) != 0) return true;
    // ful(h) == (hw | 2): published; above it: h was taken meanwhile.
    return cell_at_word(hw & word_mask_).seq.load(std::memory_order_relaxed) > hw;  // [QW1]
  }

  [[no_unique_address]] Allocator alloc_;
  std::size_t n_;
  unsigned k_ = 0;
  std::uint64_t pos_mask_ = 0;
  std::uint64_t lap_step_ = 1;
  std::uint64_t word_mask_ = 0;  // pos_mask_ << 2: a counter word's position bits
  std::uint64_t n_word_ = 0;     // n_ << 2
  cell* cells_ = nullptr;
  ctl_word* ctl_ = nullptr;
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> head_{0};
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> tail_{0};
  // Holes between head_ and tail_: tickets no element will fill (dead, or given up on),
  // counted when made and uncounted when head_ passes them (which can come first: a count
  // wrapped below zero reads as "not zero", the slow and safe side).
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> holes_{0};
  // order_ (see check_order): starts marked; the first pop that finds the queue empty with
  // nothing claimed makes it quiet.
  alignas(detail::cache_line_size) detail::atomic<std::uint64_t> order_{order_marked};
  detail::cache_padded<detail::event_count> not_empty_{detail::event_count::asymmetric};
  detail::cache_padded<detail::event_count> not_full_{detail::event_count::asymmetric};
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
