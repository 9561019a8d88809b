// lockless/drr_scheduler.hpp: deficit round robin across flows (Shreedhar & Varghese 1995),
// fed by any number of producers without locks, every flow bounded.
//
// WHAT
//   A scheduler holds flows. add_flow(quantum, capacity) makes one: a bounded FIFO of at
//   most `capacity` items and a weight, its quantum. Producers push items into flows from
//   any thread; consumers pop the next item in deficit-round-robin (DRR) order, together
//   with the flow it came from. Each item has a cost, Cost()(item) (unit_cost: 1; a
//   byte-size functor makes the scheduler packet-like). DRR, as in the paper:
//     - the backlogged (non-empty) flows form a round-robin list, the active list;
//     - the flow at the front starts a turn: its deficit grows by its quantum; it is served
//       while its first item costs no more than its deficit (the cost is deducted);
//     - then the turn ends: a flow that still has items goes to the back of the list and
//       keeps its deficit (an item larger than the quantum is served once the deficit has
//       grown over enough turns); a flow that has drained has its deficit reset to 0, so
//       an idle flow earns no credit, and leaves the list;
//     - a flow that receives an item while not on the list joins at the back.
//   One departure from the paper, lazy unlisting: a flow that drains goes to the back
//   with its deficit reset and an idle mark instead of leaving at once; if its next turn
//   finds it still empty, it leaves then. A producer that refills it within that round
//   finds it listed, and neither side pays the activation handshake below (a consumer
//   faster than its producers drains a flow with most pops; before this rule,
//   single_consumer with 2 producers ran at about half its present rate). What it
//   changes: such a flow keeps the place it took when it drained, instead of joining
//   behind the flows activated in between (FQ-CoDel, RFC 8290 4.2,
//   likewise keeps an emptied new flow listed for one more round, there so that it cannot
//   win the new flows' priority back by emptying at once). The fairness bound and
//   "no credit for idle time" are unchanged: the deficit is reset at the drain, and a
//   flow gets at most one turn per round either way.
//   Only listed flows are ever visited: the work per item does not depend on the number
//   of flows. It is O(1) amortised when quanta are at least the largest cost (the usual
//   configuration: every turn serves something), O(1 + Max/quantum) otherwise (a turn
//   that serves nothing only adds a quantum: an item of cost c waits at most
//   ceil(c / quantum) turns of its flow). A drain adds one visit, the empty turn.
//
//   The pieces:
//   - A flow's items live in a ring of `capacity` slots (exactly: no rounding), one
//     sequence word per slot, after Vyukov's bounded queue: a producer claims the next
//     position with a CAS on the flow's tail word, builds the item in the slot and
//     publishes it by storing the slot's sequence word; the consumer serving the flow
//     reads slots in order. Only one consumer serves a flow at a time (it owns the flow
//     while it is at the front), so the consumer side needs no atomic read-modify-write.
//   - A flow's `active` word says "this flow is on the active list, or being served".
//     The producer whose item makes a flow backlogged flips it false -> true and puts the
//     flow on the active list; the consumer that finds a flow still drained a round
//     after it drained flips it back.
//     The race between those two is the crux of the structure ([DA1]-[DA4] below): it is
//     the store-buffering pattern, and all four accesses are seq_cst, so either the
//     consumer sees the new item or the producer sees the flow inactive. Never neither
//     (a stranded item), never both (a flow listed twice).
//   - The active list is private to the consumer side: an intrusive singly linked FIFO,
//     plus an inbox through which producers hand over newly activated flows: a stack of
//     flows that producers push with one CAS and the consumer empties with one exchange,
//     reversing the batch so flows join in the order they were activated. Nobody ever
//     pops one entry from that stack, so it has no ABA problem.
//   - Flows are found from their handles through a table of slots that only grows
//     (chunks of doubling size, never moved). A handle carries the flow's slot index and a
//     generation, unique in the process, so a handle of a removed flow, or of another
//     scheduler, matches nothing and every call with it reports `closed`.
//
// GUARANTEES
//   Per flow: FIFO in the order in which producers claimed positions ([DP3]); nothing is
//   lost or duplicated; once close() or remove_flow() has returned, pushes into the flow
//   report closed, and everything that was pushed before is still delivered.
//   Across flows: the DRR order above. With one consumer and every flow backlogged, at
//   every prefix of the output the service of flows i and j (in cost units divided by
//   their quanta) differs by less than 1 + Max/Q_i + Max/Q_j, Max being the largest item
//   cost (Shreedhar & Varghese 1995, Lemma 2 and Theorem 1; the tests assert it).
//   Several consumers (the default, drr_options::single_consumer = false): the consumers
//   take turns through a gate ([DG1], [DG2]) around the same code, so the sequence of
//   items popped, in the order of the pops, is exactly the sequence one consumer would
//   have produced, and the bound above holds for it. With single_consumer = true there is
//   no gate: the caller promises that pops never overlap (they may come from different
//   threads, ordered by the caller's own synchronization); overlapping pops are caught on
//   a best-effort basis (a fatal error), not reliably.
//   What "empty" means: try_pop() answers empty when no flow is on the active list, i.e.
//   every flow looked drained when the consumer side last saw it (a try_pop walks the
//   listed flows that drained and takes each off the list before it answers so).
//   One documented weakness, the price of a push with one CAS: a producer suspended
//   between claiming a position and publishing its item ([DP3]-[DP4]) holds back the
//   items claimed after it in the same flow (never those of other flows) until it
//   resumes: the consumer sees the gap, takes the flow off the active list (deficit
//   reset, as for a drained flow, after its empty turn), and the producer puts it back
//   when it publishes. pop() never sleeps through that: the activation wakes it. The
//   same holds, more briefly, for the activation window: the thread that wins [DA2] (a
//   producer, close(), remove_flow()) and is suspended before its inbox CAS [DI1] holds
//   the flow's items back, including those whose pushes have returned (their [DA1] saw
//   the flow listed). So an empty answer is exact only when no
//   push into a flow, close() or remove_flow() is between [DP3] and [DI1]; in those
//   windows LP(try_pop, empty) is not a linearization point. The tests' checker allows
//   exactly these windows and nothing else (tests/structures/drr_scheduler_scenarios.hpp;
//   dsched_drr_scheduler's CloserMidActivationHoldsBackItems forces one).
//
// PROGRESS
//   try_push, try_emplace: lock-free (a CAS retry loop on the flow's tail; a failed CAS
//   means another producer claimed a position), allocation-free, and wait-free but for
//   that loop. They take an epoch guard (the flow may be removed concurrently).
//   try_pop: single_consumer: lock-free with respect to producers (it never waits for
//   one; see the gap above) and wait-free in its own steps but for skipping turns whose
//   first item costs more than the deficit (bounded by Max/Q per item) and empty turns
//   (one per drain: a try_pop may walk every flow that drained since the last pop that
//   did, so one call is O(flows) at worst, O(1) amortised per item). Several
//   consumers: the gate is a try-lock: try_pop returns queue_status::busy (P0260's "would
//   have to wait for another thread") while another consumer is inside; a consumer
//   suspended inside delays the other consumers, never the producers.
//   push, emplace, pop and their timed forms: blocking. They retry a few times, then sleep
//   on an event_count (detail/parking.hpp): pop while no flow is backlogged (or another
//   consumer is inside), push while its flow is full. No CPU is burnt while waiting.
//   add_flow, remove_flow, close: take the scheduler's table mutex (cold paths); they
//   never wait for producers or consumers. remove_flow and close are O(1) per flow.
//
// TYPES, COSTS AND ERRORS
//   T: an object type with a noexcept move constructor and destructor (a pop cannot give
//   an element back). Move-only T works. try_push(flow, const T&) and try_emplace build
//   the element first (a throwing constructor leaves the scheduler unchanged), then move
//   it into a claimed slot; try_push(flow, T&&) moves only after a slot is claimed, so a
//   refused push leaves its argument untouched.
//   Cost: a callable std::uint32_t(const T&), called once per push call by the producer
//   (concurrently, on a const Cost; a blocking push calls it once, not per retry),
//   noexcept. The result is stored with the item.
//   Bad input: add_flow with quantum 0 or capacity 0 throws std::invalid_argument, a
//   capacity above max_flow_capacity() throws std::length_error. A handle of a removed
//   flow, of another scheduler, or a default-constructed one: every call reports closed
//   (remove_flow returns false). After close(), add_flow returns a flow that is closed
//   from the start.
//
// MEMORY-ORDERING CONTRACT
//   Positions: a flow's tail word packs {closed:1, lap:31, index:32}; slot `index` of
//   lap L is free when its sequence word is 2L (mod 2^32) and holds an item when it is
//   2L + 1. The consumer's head is the same {lap, index} pair in a plain field.
//   Push:
//   [DP1] relaxed load of the tail word (and its reloads): which position to try. Orders
//         nothing; [DP2] and [DP3] decide.
//   [DP2] acquire load of the slot's sequence word. Pairs with [DC3]: the previous item's
//         move-out (the consumer's last access to the slot) happens-before this push
//         builds in it.
//   [DP3] relaxed CAS of the tail word to the next position (failure relaxed): claims the
//         slot. The claim needs atomicity, not ordering; the closed bit lives in the same
//         word, so a push either claims before a close or fails on it (no ordering
//         argument needed: RMWs read the latest value).
//   [DP4] seq_cst store of 2L + 1 into the slot's sequence word: publishes the item.
//         Release pairs with [DC1]. seq_cst for the activation handshake: the store must
//         not be ordered after the load [DA1] (store -> load, which only seq_cst, or a
//         fence, gives).
//   Activation (the producer after [DP4]; remove_flow and close after [DX1]):
//   [DA1] seq_cst load of the flow's active word: "is the flow listed?". With [DP4] it
//         is one side of the store-buffering pair; [DA3] + [DA4] are the other. In the
//         single total order of seq_cst operations, either [DA3] comes first and [DA1]
//         reads false (the producer activates), or [DP4] comes first and [DA4] sees the
//         item (the consumer keeps the flow).
//   [DA2] acq_rel exchange of the active word with true: exactly one of the contenders
//         (producers, a closer, the deactivating consumer taking the flow back) reads
//         false and owns the flow's listing. Acquire pairs with [DA3]'s release: the
//         last holder's accesses to the flow (its reads of inbox_next when it drained the
//         inbox, its writes of deficit and head) happen-before the new owner writes
//         inbox_next, and through [DI1]/[DI2] before the next holder reads the consumer
//         fields. (Usually [DA1] already read the unlisting; the acquire covers an [DA1]
//         that read an older one.)
//   [DA3] seq_cst store of false into the active word: the consumer unlists a flow that
//         looked drained. Release for [DA2]; seq_cst against [DA1].
//   [DA4] seq_cst loads, after [DA3], of the head slot's sequence word and of the tail
//         word: "did an item or a close arrive meanwhile?". If so the consumer takes the
//         flow back with [DA2] (unless a producer already did).
//   [DI1] release CAS pushing a flow onto the inbox (failure relaxed); its inbox link is
//         written before. Pairs with [DI2]: the consumer sees the link and, transitively,
//         everything the activating thread saw.
//   [DI2] acquire exchange of the inbox with null: the consumer takes every flow handed
//         over so far. [DI3] relaxed load of the inbox first: a non-null value only sends
//         the consumer on to [DI2].
//   Pop (the consumer that holds the flow):
//   [DC1] acquire load of the head slot's sequence word: ready (2L + 1) or not. Pairs
//         with [DP4]: the item and its cost are visible.
//   [DC2] relaxed load of the next slot's sequence word after a pop: "drained now?". Only
//         a hint to end the turn early (the paper's "if the queue is empty, reset the
//         deficit"; the flow stays listed, idle, for one more turn); a stale answer is
//         corrected by [DC1] at that turn, and by [DA3]/[DA4] when the flow leaves.
//   [DC3] release store of 2(L + 1) into the slot's sequence word: frees the slot after
//         the item was moved out. Pairs with [DP2]. With may_block a release exchange, so
//         that the producers' wake-up after it needs no fence on x86-64 (a locked
//         instruction is a full barrier: event_count::notify_all_after_rmw, [KN1]).
//   [DC4] relaxed load of the tail word when the head slot is not ready: closed and every
//         claimed position consumed means the flow is finished (no push can ever claim a
//         position again: the closed bit is in the word every claim CASes). Atomicity,
//         not ordering: the positions below head were consumed by this consumer side. A
//         close it does not see yet is handled by [DA4]. (The same relaxed load before
//         [DX3]: "is the bit set already?")
//   Closing a flow (remove_flow, close):
//   [DX1] seq_cst fetch-or of the closed bit into the tail word: LP of the close for
//         pushes into this flow. Then the closer activates the flow ([DA1]/[DA2]) so that
//         the consumer side visits it, delivers what is left and finishes it.
//   [DX2] acq_rel fetch-or into the flow's flags (removed by remove_flow, finished by the
//         consumer): whoever sets the second bit retires the flow to the epoch domain.
//         acq_rel: neither remove_flow nor the consumer side holds a guard while it
//         touches the flow, so this edge, not the epochs, orders the other side's last
//         accesses before the retire (producers are covered by their guards).
//   Consumers:
//   [DG1] acquire CAS of the gate word 0 -> 1 (failure relaxed; several consumers only):
//         pairs with [DG2], so the consumer state (current flow, deficits, the private
//         list) written by the previous consumer is visible. A blocking pop that finds
//         the gate held sets the word's "contended" bit (a relaxed CAS 1 -> 3) before it
//         sleeps. single_consumer: relaxed load and store of the same word, a misuse check
//         that orders nothing.
//   [DG2] release exchange of the gate word with 0: an RMW, so a contended bit set by a
//         waiter is never overwritten unseen; if it was set, the leaving consumer wakes
//         every sleeping consumer (the waiter got busy after its prepare_wait, so the
//         wake-up reaches it). Without that, a consumer could sleep with items listed: it
//         got busy, the holder left with empty, and the next push found its flow listed
//         and notified nobody.
//   The table and the scheduler:
//   [DT1] release stores of a table chunk pointer and of a flow pointer into its slot
//         (add_flow, under the table mutex); relaxed store of null (remove_flow).
//   [DT2] acquire loads of the chunk pointer and of the slot (a push's lookup): pair with
//         [DT1], so the flow's constant fields (generation, quantum, capacity, the slot
//         array) are visible. The generation comparison is a plain read of a field that
//         never changes; the guard keeps the flow alive while it is used.
//   [DK1] release store of the scheduler's closed word (close(), under the mutex), before
//         any flow is closed ([DX1]) and listed: LP(close). [DK2] acquire loads of it: by a
//         push before it claims (closed: it refuses, in every flow), and by a consumer that
//         found nothing listed: it then also sees every add_flow before the close in the
//         count of unfinished flows ([DK3], relaxed: written under the mutex or by the gate
//         holder, read by the gate holder). A flow's closed bit [DX1] alone would not do
//         for close(): the flows are closed one after another, and a producer refused by
//         the first could still push into one not yet reached.
//   [DK4] acquire load of the scheduler's closed word by a pop, after its [DC1] and before
//         its [DC3]. Closed: the pop first closes the flow itself ([DX3]), unless the bit
//         is set already. Why: a push that read the scheduler open ([DK2]) before [DK1]
//         and claims after it is linearized just before the close, so the position it
//         claims must have been free at [DK1]. A pop linearized after [DK1] (its [DK4] sees
//         it) must therefore not free a position that such a push can claim; one whose
//         [DK4] reads open is linearized ([DC1]) before [DK1]. Acquire pairs with [DK1]
//         and passes it on to [DX3].
//   [DX3] release fetch-or of the closed bit into the tail word by that pop: its [DC3]
//         comes after it, and a claim of the freed slot after [DC3] (through [DP2]), so
//         that claim reads the bit and fails. Release pairs with [DP5]. A relaxed load of
//         the tail word first ([DC4]) skips it when the bit is already set.
//   [DP5] acquire re-load of the tail word after a push saw its closed bit: pairs with
//         [DX1] and [DX3] (release RMWs), so the [DK1] that close() stored before them
//         happens-before this thread's later calls, which read closed in [DK2] (a refusal
//         is final in every flow, not only in this one).
//   Blocking: a producer sleeps on the event_count of its flow's bucket (flow index mod
//   64); the consumer notifies that bucket after every pop (a load while nobody sleeps,
//   plus a fence except on x86-64); remove_flow and close notify too. A consumer sleeps
//   on not_empty_; every activation notifies one consumer; with several consumers, a
//   consumer that pops while more is listed notifies one more. The protocol is
//   detail/parking.hpp's ([KW1]-[KW5], [KN1]-[KN3]).
//   Model-checked by tests/relacy/drr_scheduler.cpp; the mutants of
//   tests/relacy/drr_scheduler_mutants.cmake weaken [DP4] and [DA3] to release and [DA1]
//   to acquire (each a stranded item), [DC1] and [DC3] to relaxed (a data race on the
//   slot), [DI1] to relaxed (a data race on the inbox link), and drop the re-check [DA4]
//   (a stranded item), the close's activation (a close that never completes; a removed
//   flow never freed, a leak) and the pop's check [DK4] (a push that began while its flow
//   was full succeeds after the close: drr_close_full_flow), and drop the two wake-ups:
//   [DG2]'s wake-up of the consumers that set the contended bit (DEADLOCK,
//   drr_two_waiting_consumers) and the producers' wake-up after each pop (DEADLOCK,
//   drr_blocking). Caught by the
//   scenarios too, with no mutant of their own: [DP2] relaxed (the other end of [DC3]'s
//   edge, the same data race), [DG1] or [DG2] relaxed (a data race on the consumer state,
//   drr_two_consumers). Not model-checked:
//   [DA2]'s acquire (made relaxed in activate(), every scenario passes 20,000 executions:
//   in the executions reached, [DA1], [DI1]/[DI2] or the gate make the same edges), [DX2]
//   (made relaxed on either side, drr_remove passes 50,000: Relacy reports accesses after
//   a free, not a free that no happens-before edge orders after earlier accesses), [DC2]
//   and [DI3] (hints), [DT1]/[DT2] and [DK1]-[DK3] (under the table mutex in every
//   scenario that could separate them), [DP5] and the acquire of [DK4] / release of [DX3]
//   that feed it (a refusal final across flows needs two flows, a closer and a producer
//   pushing twice; stress_drr_scheduler's CloseWhileRunning checks it on real threads:
//   without [DK1] before the flows' bits, a producer refused by one flow pushed into
//   another, seen under TSan).
//
// INVARIANTS
//   INV1: a flow's active word is true exactly while the flow is in the inbox, on the
//         private list, or held by the consumer side as the current flow (or finished,
//         after which it stays true for good). So a flow is listed at most once, and only
//         the consumer side that holds it touches its head and deficit.
//   INV2: the claimed positions of a flow (tail - head) never exceed its capacity: a
//         producer claims lap L's slot only when its sequence word says free (2L), which
//         the consumer writes only after moving lap L-1's item out.
//   INV3: a flow's deficit is 0 whenever it is not listed or is marked idle (listed for
//         one more turn after it drained), and smaller than the cost of its first item
//         whenever its turn ends with items left (so it never reaches Max + Q).
//   INV4: a flow is finished (unlisted for good, retired once removed) only when its
//         closed bit is set and every claimed position has been consumed; after that no
//         push can claim a position in it.
//
// LINEARIZATION POINTS
//   LP(try_push, success): the CAS [DP3] (the item's place in its flow's FIFO order);
//     consumers see it from [DP4] on.
//   LP(try_push, full): the load [DP2] that read lap L-1's item, confirmed by a reload of
//     the tail word [DP1] that did not move.
//   LP(try_push, closed): the load [DK2] that read the scheduler closed, the load [DP1] or
//     the failed CAS [DP3] that read the flow's closed bit;
//     or the generation check of a stale handle.
//   LP(try_pop, item): the load [DC1] that found the head slot ready (the item is the
//     consumer's from then on).
//   LP(try_pop, empty): the moment the consumer side found its list and inbox empty
//     ([DI3]/[DI2]), when no push, close() or remove_flow() is between [DP3] and [DI1]
//     (see "What empty means" above: otherwise there is none).
//   LP(try_pop, closed): the load [DK2] that read closed, with no unfinished flow left.
//   LP(remove_flow): the fetch-or [DX1]. LP(close): the store [DK1]; a push that read the
//     scheduler open before it and claims after it is linearized just before it (its
//     claim [DX1] cannot precede: the bit fails the claim), in the order of the claims.
//     The position it claims was free at [DK1]: a pop that frees a position after [DK1]
//     closes the flow first ([DK4], [DX3]). (Without that, found 2026-12-07 by
//     fuzz_drr_scheduler_sched: a push that began while its flow was full took a slot
//     that a pop freed after the close, and succeeded; dsched_drr_scheduler's
//     PushRacingCloseCannotTakeASlotFreedAfterTheClose pins the order.)
//
// COST
//   A push: an epoch pin, two acquire loads (table), a load and a CAS on the flow's tail
//   line, the element's construction, a seq_cst store (x86-64: XCHG), a load of the
//   active word; activating a drained flow adds an exchange, a CAS on the inbox and a
//   notify (a load, plus a fence except on x86-64: notify_one_after_rmw). A pop: with
//   several consumers, a CAS and an exchange (the gate); two loads and an exchange
//   (may_block; else a store) on the slot line, and the notify of the producers' bucket
//   (a load, plus a fence except on x86-64); a load of the scheduler's closed word ([DK4],
//   a line only close() writes); nothing else unless the flow drains (then it goes to the
//   back, idle, at no extra cost; if still empty at its next turn: [DA3], two loads).
//   After close() has begun, a pop also loads its flow's tail word, and the first one
//   from a flow that close() has not reached yet sets the closed bit there ([DX3]).
//   Memory: per flow, two cache lines of state plus capacity x (8 + sizeof(T)) bytes,
//   allocated by add_flow and freed (through the epoch domain) after remove_flow once the
//   flow is drained; the table grows in chunks of 64, 128, ... slot pointers and keeps
//   its size; 64 cache lines of event counts.
//   Limits: a flow's capacity is at most 2^31 (max_flow_capacity()), the number of flows
//   alive at once at most 2^32 - 64; laps wrap after 2^31 turns of a ring, harmless
//   unless a producer sleeps between [DP1] and [DP3] for 2^31 whole laps of its flow.
//
// REFERENCES
//   M. Shreedhar, George Varghese, "Efficient Fair Queuing using Deficit Round Robin",
//   SIGCOMM 1995 (and IEEE/ACM ToN 4(3), 1996): the algorithm, Lemma 2, Theorem 1.
//   Dmitry Vyukov, "Bounded MPMC queue" (1024cores.net): the per-slot sequence words.
//   WG21 P0260R20, "C++ Concurrent Queues": the statuses, the result type, close.
//   Linux net/sched/sch_drr.c: the same algorithm behind the qdisc lock.
//   T. Hoeiland-Joergensen et al., RFC 8290, "The Flow Queue CoDel Packet Scheduler and
//   Active Queue Management Algorithm" (2018), section 4.2: an emptied flow kept listed
//   for one more round.
//   Teaching page: docs/algorithms/drr_scheduler.md.
#pragma once

#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/atomic.hpp"
#include "detail/config.hpp"
#include "detail/error.hpp"
#include "detail/options.hpp"
#include "detail/parking.hpp"
#include "detail/platform.hpp"
#include "detail/queue_wait.hpp"
#include "epoch.hpp"
#include "queue_status.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// The default cost: every item costs 1, so quanta count items.
struct unit_cost {
  template <class T>
  [[nodiscard]] constexpr std::uint32_t operator()(const T&) const noexcept {
    return 1;
  }
};

// The value knobs of drr_scheduler (docs/design.md, "Policies by name").
struct drr_options {
  // true: the caller promises that pops never overlap (one consumer at a time), and pops
  // skip the consumer gate (a CAS and a store each). false: any number of consumers.
  bool single_consumer = false;
  // true: the blocking and timed forms exist (push, emplace, pop, push_for, ...), and the
  // consumer notifies producers when a turn that popped something ends (a fence and a
  // load when nobody sleeps). false: only the try_ forms, and no notification cost.
  bool may_block = true;
};

// A handle of a flow: small, copyable, comparable. A default-constructed handle, a
// removed flow's handle and another scheduler's handles match no flow: every call with
// them reports closed.
class drr_flow {
 public:
  constexpr drr_flow() noexcept = default;
  // The flow's slot in its scheduler's table (reused after the flow is removed).
  [[nodiscard]] constexpr std::uint32_t index() const noexcept { return index_; }
  // Unique in the process among the flows of every scheduler; 0 for no flow.
  [[nodiscard]] constexpr std::uint64_t generation() const noexcept { return generation_; }
  friend constexpr bool operator==(drr_flow, drr_flow) noexcept = default;

 private:
  template <class, class, class, drr_options>
  friend class drr_scheduler;
  constexpr drr_flow(std::uint64_t generation, std::uint32_t index) noexcept
      : generation_(generation), index_(index) {}
  std::uint64_t generation_ = 0;
  std::uint32_t index_ = 0;
};

// What a pop returns: the item and the flow it came from.
template <class T>
struct drr_item {
  drr_flow flow;
  T value;
};

namespace detail {

// Generations of flows, unique in the process (a handle from another scheduler or of a
// removed flow never matches). Cold: add_flow only.
inline std::uint64_t next_drr_generation() noexcept {
  if constexpr (model_checked) {
    static std::uint64_t n = 0;  // the model checker runs every thread on one OS thread
    return ++n;
  } else {
    static atomic<std::uint64_t> n{0};
    return n.fetch_add(1, std::memory_order_relaxed) + 1;
  }
}

// Position words: {closed:1, lap:31, index:32}.
struct drr_position {
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t lap_mask = (std::uint64_t{1} << 31) - 1;
  static constexpr std::uint32_t lap(std::uint64_t p) noexcept {
    return static_cast<std::uint32_t>((p >> 32) & lap_mask);
  }
  static constexpr std::uint32_t index(std::uint64_t p) noexcept {
    return static_cast<std::uint32_t>(p);
  }
  // The position after p (closed bit dropped) in a ring of `capacity` slots.
  static constexpr std::uint64_t next(std::uint64_t p, std::uint32_t capacity) noexcept {
    const std::uint32_t i = index(p) + 1;
    if (i == capacity) return static_cast<std::uint64_t>((lap(p) + 1) & lap_mask) << 32;
    return (p & ~closed_bit & ~std::uint64_t{0xFFFFFFFFu}) | i;
  }
  static constexpr std::uint64_t without_closed(std::uint64_t p) noexcept {
    return p & ~closed_bit;
  }
  // Sequence words: a slot of lap L is free at 2L and full at 2L + 1 (mod 2^32).
  static constexpr std::uint32_t free_seq(std::uint32_t lap) noexcept { return lap * 2u; }
  static constexpr std::uint32_t full_seq(std::uint32_t lap) noexcept { return lap * 2u + 1u; }
};

// One flow: its ring, its activation word, the consumer side's fields. Allocated by
// add_flow, freed after remove_flow once drained (through the epoch domain).
template <class T>
struct drr_flow_state {
  struct slot {
    atomic<std::uint32_t> seq;
    var<std::uint32_t> cost;
    alignas(T) unsigned char raw[sizeof(T)];
    [[no_unique_address]] access_marker marker;

    LOCKLESS_DETAIL_CONSTEXPR_ATOMICS slot() noexcept : seq(0), cost(std::in_place, 0u) {}
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(raw)); }
  };

  static constexpr std::uint32_t flag_removed = 1;
  static constexpr std::uint32_t flag_finished = 2;

  // What both sides read and nobody writes after construction. Each side has its own
  // copy on its own cache line, so a push touches the producers' line and a slot, a pop
  // the consumer side's line and a slot, and nothing else of the flow (with 65,536 flows
  // every extra line is a cache miss per item).
  struct constants {
    std::uint64_t generation;
    slot* slots;
    std::uint32_t capacity;
    std::uint32_t quantum;
    std::uint32_t index;
  };

  drr_flow_state(std::uint64_t gen, std::uint32_t idx, std::uint32_t q, std::uint32_t cap)
      : drr_flow_state(constants{gen, new slot[cap], cap, q, idx}) {}

  drr_flow_state(const drr_flow_state&) = delete;
  drr_flow_state& operator=(const drr_flow_state&) = delete;

  // Destroys the items still held (no other thread uses the flow any more).
  ~drr_flow_state() {
    std::uint64_t h = head.get();
    for (;;) {
      slot& s = cons.slots[drr_position::index(h)];
      if (s.seq.load(std::memory_order_acquire) != drr_position::full_seq(drr_position::lap(h))) {
        break;
      }
      std::destroy_at(s.get());
      s.seq.store(drr_position::free_seq(drr_position::lap(h) + 1), std::memory_order_relaxed);
      h = drr_position::next(h, cons.capacity);
    }
    delete[] cons.slots;
  }

  // The two halves of a flow's state: a half is 64 bytes, the hardware's line, so the
  // producers and the consumer side never write the same line; where cache_line_size is
  // 128 (x86-64: the spatial prefetcher fetches 64-byte lines in pairs) both halves share
  // one 128-byte block, and one miss brings in the whole state of a flow (with 65,536
  // backlogged flows every line is a miss per item).
  static constexpr std::size_t half_line = cache_line_size >= 128 ? 64 : cache_line_size;

  // Producers' half: the tail word, the activation word, the inbox link, their constants.
  alignas(cache_line_size) atomic<std::uint64_t> tail;
  atomic<std::uint32_t> active;
  var<drr_flow_state*> inbox_next;
  const constants prod;
  // The consumer side's half (only the holder touches it: INV1), its constants, the flags
  // (remove_flow and the consumer side, once each).
  alignas(half_line) var<std::uint64_t> head;
  var<std::uint64_t> deficit;
  var<drr_flow_state*> rr_next;
  const constants cons;
  atomic<std::uint32_t> flags;
  // 1 while the flow is listed for one more turn after it looked drained (see
  // end_turn_idle); 0 once that turn finds an item. Last, in the 4 bytes after flags: the
  // consumer's half stays one 64-byte line (the scheduler asserts the size).
  var<std::uint32_t> idle;

 private:
  explicit drr_flow_state(const constants& k)
      : tail(0),
        active(0),
        inbox_next(std::in_place, nullptr),
        prod(k),
        head(std::in_place, 0u),
        deficit(std::in_place, 0u),
        rr_next(std::in_place, nullptr),
        cons(k),
        flags(0),
        idle(std::in_place, 0u) {}
};

// The flow table: slot i holds the flow with index i, or null. Chunk k holds 64 << k slot
// pointers; chunks are allocated under the owner's mutex, published once ([DT1]), and
// freed by the destructor only, so a lookup never races with a move.
template <class Flow>
class drr_flow_table {
 public:
  static constexpr unsigned base_shift = 6;
  static constexpr unsigned chunks = 26;  // 64 * (2^26 - 1) slots: more than 2^32
  using cell = atomic<Flow*>;

  drr_flow_table() noexcept {
    for (auto& d : dir_) d.store(nullptr, std::memory_order_relaxed);  // before any sharing
  }
  drr_flow_table(const drr_flow_table&) = delete;
  drr_flow_table& operator=(const drr_flow_table&) = delete;
  ~drr_flow_table() {
    for (unsigned k = 0; k < chunks; ++k) {
      cell* c = dir_[k].load(std::memory_order_relaxed);
      if (c == nullptr) break;
      const std::size_t n = std::size_t{1} << (base_shift + k);
      for (std::size_t j = 0; j < n; ++j) std::destroy_at(&c[j]);
      ::operator delete(static_cast<void*>(c));
    }
  }

  // The flow in slot i, or null ([DT2]).
  [[nodiscard]] Flow* load(std::uint32_t i) const noexcept {
    const auto [k, off] = locate(i);
    const cell* c = dir_[k].load(std::memory_order_acquire);  // [DT2] pairs with [DT1]
    if (c == nullptr) return nullptr;
    return c[off].load(std::memory_order_acquire);  // [DT2] pairs with [DT1]
  }

  // Under the owner's mutex: stores f into slot i, allocating its chunk if needed (may
  // throw bad_alloc; then nothing changed).
  void store(std::uint32_t i, Flow* f) {
    const auto [k, off] = locate(i);
    cell* c = dir_[k].load(std::memory_order_relaxed);
    if (c == nullptr) {
      const std::size_t n = std::size_t{1} << (base_shift + k);
      c = static_cast<cell*>(::operator new(n * sizeof(cell)));
      for (std::size_t j = 0; j < n; ++j) ::new (static_cast<void*>(&c[j])) cell(nullptr);
      dir_[k].store(c, std::memory_order_release);  // [DT1]
    }
    if (f != nullptr) {
      c[off].store(f, std::memory_order_release);  // [DT1] publishes the flow's fields
    } else {
      c[off].store(nullptr, std::memory_order_relaxed);  // [DT1] unpublish: nothing to order
    }
  }

  // Under the owner's mutex (or with no other thread): every flow in the table.
  template <class F>
  void for_each(F&& f) const {
    for (unsigned k = 0; k < chunks; ++k) {
      const cell* c = dir_[k].load(std::memory_order_relaxed);
      if (c == nullptr) break;
      const std::size_t n = std::size_t{1} << (base_shift + k);
      for (std::size_t j = 0; j < n; ++j) {
        if (Flow* p = c[j].load(std::memory_order_relaxed)) f(p);
      }
    }
  }

 private:
  struct where {
    unsigned chunk;
    std::size_t offset;
  };
  static where locate(std::uint32_t i) noexcept {
    const std::uint64_t b = (std::uint64_t{i} >> base_shift) + 1;  // 1-based block number
    const unsigned k = static_cast<unsigned>(std::bit_width(b)) - 1;
    const std::uint64_t first = ((std::uint64_t{1} << k) - 1) << base_shift;
    return {k, static_cast<std::size_t>(std::uint64_t{i} - first)};
  }

  atomic<cell*> dir_[chunks];
};

}  // namespace detail

template <class T, class Cost = unit_cost, class Reclaimer = epoch_reclaimer,
          drr_options Options = drr_options{}>
class drr_scheduler {
  static_assert(detail::valid_options<Options>);
  static_assert(detail::reclaimer<Reclaimer>,
                "drr_scheduler<T, Cost, Reclaimer>: Reclaimer must model "
                "lockless::detail::reclaimer (detail/reclaimer.hpp)");
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "drr_scheduler<T>: T must be a non-const, non-array object type");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "drr_scheduler<T> needs a noexcept move constructor: a pop moves the item out "
                "after it has taken it, and there is no way to put it back if that throws");
  static_assert(std::is_nothrow_destructible_v<T>, "drr_scheduler<T> needs a noexcept destructor");
  static_assert(std::is_nothrow_invocable_r_v<std::uint32_t, const Cost&, const T&>,
                "drr_scheduler<T, Cost>: Cost must be callable as std::uint32_t(const T&) on a "
                "const Cost, noexcept");

  using flow_state = detail::drr_flow_state<T>;
  using slot = typename flow_state::slot;
  using pos = detail::drr_position;
  // Two halves of 64 bytes (or two lines), nothing more: with 65,536 backlogged flows a
  // third line per flow is a third cache miss per item (a 4-byte field added in the wrong
  // place cost half the throughput of all_backlogged/65536).
  static_assert(detail::model_checked ||
                    sizeof(flow_state) == (2 * flow_state::half_line > detail::cache_line_size
                                               ? 2 * flow_state::half_line
                                               : detail::cache_line_size),
                "drr_flow_state outgrew its two halves");

  static constexpr bool may_block = Options.may_block;
  static constexpr bool single_consumer = Options.single_consumer;
  static constexpr std::size_t bucket_count = 64;
  static constexpr const std::chrono::steady_clock::time_point* forever = detail::no_deadline;

 public:
  using value_type = T;
  using cost_type = Cost;
  using reclaimer_type = Reclaimer;
  using flow = drr_flow;
  using item = drr_item<T>;

  // The largest capacity of one flow.
  [[nodiscard]] static constexpr std::size_t max_flow_capacity() noexcept {
    constexpr std::size_t by_index = std::size_t{1} << 31;
    constexpr std::size_t by_bytes = std::numeric_limits<std::size_t>::max() / sizeof(slot);
    return by_index < by_bytes ? by_index : by_bytes;
  }

  explicit drr_scheduler(Cost cost = Cost(), Reclaimer reclaimer = Reclaimer())
      : cost_(std::move(cost)), reclaimer_(std::move(reclaimer)) {}

  drr_scheduler(const drr_scheduler&) = delete;
  drr_scheduler& operator=(const drr_scheduler&) = delete;

  // Destroys the items still held and frees every flow. No other thread may use the
  // scheduler any more (flows retired earlier belong to the reclaimer).
  ~drr_scheduler() {
    // Flows still in the table, and removed ones not yet finished (those are listed:
    // remove_flow activates them).
    std::vector<flow_state*> all;
    table_.for_each([&](flow_state* f) { all.push_back(f); });
    auto removed_unfinished = [](flow_state* f) {
      return (f->flags.load(std::memory_order_relaxed) & flow_state::flag_removed) != 0;
    };
    flow_state* cur = current_.get();
    if (cur != nullptr && removed_unfinished(cur)) all.push_back(cur);
    for (flow_state* f = list_head_.get(); f != nullptr; f = f->rr_next.get()) {
      if (removed_unfinished(f)) all.push_back(f);
    }
    for (flow_state* f = inbox_.load(std::memory_order_acquire); f != nullptr;
         f = f->inbox_next.get()) {
      if (removed_unfinished(f)) all.push_back(f);
    }
    for (flow_state* f : all) delete f;
  }

  // ---- flows --------------------------------------------------------------------------
  // A new flow of weight `quantum` (cost units per turn) holding at most `capacity` items.
  // Throws std::invalid_argument (quantum or capacity 0), std::length_error (capacity
  // above max_flow_capacity(), or 2^32 - 64 flows alive) or std::bad_alloc; then nothing
  // changed. Safe while producers and consumers run. After close(): a closed flow.
  [[nodiscard]] flow add_flow(std::uint32_t quantum, std::size_t capacity) {
    if (quantum == 0) detail::throw_invalid_argument("lockless::drr_scheduler: quantum 0");
    if (capacity == 0) detail::throw_invalid_argument("lockless::drr_scheduler: capacity 0");
    if (capacity > max_flow_capacity()) {
      throw_length_error("lockless::drr_scheduler: capacity above max_flow_capacity()");
    }
    std::lock_guard<detail::mutex> lock(mutex_);
    std::uint32_t idx = 0;
    if (!free_indices_.empty()) {
      idx = free_indices_.back();
    } else {
      if (next_index_ == std::numeric_limits<std::uint32_t>::max() - 63) {
        throw_length_error("lockless::drr_scheduler: too many flows");
      }
      idx = next_index_;
    }
    const std::uint64_t gen = detail::next_drr_generation();
    auto* f = new flow_state(gen, idx, quantum, static_cast<std::uint32_t>(capacity));
    if (closed_flag_) {
      // Born closed and finished: listed for good (INV1), never visited.
      f->tail.store(pos::closed_bit, std::memory_order_relaxed);
      f->active.store(1, std::memory_order_relaxed);
      f->flags.store(flow_state::flag_finished, std::memory_order_relaxed);
    }
#if defined(__cpp_exceptions)
    try {
      table_.store(idx, f);  // [DT1]
    } catch (...) {
      delete f;
      throw;
    }
#else
    table_.store(idx, f);  // [DT1]
#endif
    if (!free_indices_.empty()) {
      free_indices_.pop_back();
    } else {
      ++next_index_;
    }
    if (!closed_flag_) {
      (void)live_flows_.fetch_add(1, std::memory_order_relaxed);  // [DK3]
    }
    ++table_size_;
    return flow(gen, idx);
  }

  // Closes the flow to pushes (they report closed from now on); what it holds is still
  // delivered; then its memory is reclaimed through the Reclaimer. Returns false (and
  // does nothing) for a handle that matches no flow. Never waits for producers or
  // consumers.
  bool remove_flow(flow h) {
    flow_state* f = nullptr;
    {
      std::lock_guard<detail::mutex> lock(mutex_);
      f = table_.load(h.index_);
      if (f == nullptr || f->prod.generation != h.generation_ || h.generation_ == 0) return false;
      table_.store(h.index_, nullptr);  // [DT1]: new lookups miss it
      free_indices_.push_back(h.index_);
      --table_size_;
      close_flow(f);  // [DX1], then listed ([DA1]/[DA2]) so that it is drained and finished
      notify_bucket(h.index_);
      // [DX2] the second of {removed, finished} retires; after this line f may be gone.
      const std::uint32_t old =
          f->flags.fetch_or(flow_state::flag_removed, std::memory_order_acq_rel);
      if ((old & flow_state::flag_finished) != 0) retire(f);
    }
    return true;
  }

  // Whether the handle matches a flow of this scheduler that has not been removed.
  [[nodiscard]] bool contains(flow h) const {
    auto guard = reclaimer_.pin();
    return find(h) != nullptr;
  }
  // How many flows exist (added and not removed).
  [[nodiscard]] std::size_t flow_count() const {
    std::lock_guard<detail::mutex> lock(mutex_);
    return table_size_;
  }

  // ---- non-waiting --------------------------------------------------------------------
  // success, full or closed. Never waits. On full or closed the argument is untouched.
  [[nodiscard]] queue_status try_push(flow h, const T& v) { return try_emplace(h, v); }
  [[nodiscard]] queue_status try_push(flow h, T&& v) {
    const std::uint32_t c = cost_of(v);
    return push_attempt(h, c, v);
  }
  template <class... A>
  [[nodiscard]] queue_status try_emplace(flow h, A&&... a) {
    static_assert(std::is_constructible_v<T, A...>,
                  "try_emplace: T is not constructible from these");
    T v(std::forward<A>(a)...);  // may throw: nothing changed yet
    const std::uint32_t c = cost_of(v);
    return push_attempt(h, c, v);
  }

  // The next item in DRR order with its flow; or empty; or closed (closed, and every flow
  // drained); or, with several consumers, busy while another consumer is inside. Never
  // waits.
  [[nodiscard]] queue_result<item> try_pop() noexcept { return pop_attempt(false); }

  // ---- blocking -----------------------------------------------------------------------
  // Waits while the flow is full; false once it is closed (argument untouched) or the
  // handle matches no flow.
  bool push(flow h, const T& v)
    requires(may_block)
  {
    T copy(v);  // may throw: nothing changed yet
    return wait_push(h, copy, forever) == queue_status::success;
  }
  bool push(flow h, T&& v)
    requires(may_block)
  {
    return wait_push(h, v, forever) == queue_status::success;
  }
  template <class... A>
  bool emplace(flow h, A&&... a)
    requires(may_block)
  {
    static_assert(std::is_constructible_v<T, A...>, "emplace: T is not constructible from these");
    T v(std::forward<A>(a)...);
    return wait_push(h, v, forever) == queue_status::success;
  }
  // Waits while no flow is backlogged; nullopt once closed and drained.
  [[nodiscard]] std::optional<item> pop()
    requires(may_block)
  {
    queue_result<item> r = wait_pop(forever);
    if (!r) return std::nullopt;
    return std::optional<item>(std::move(*r));
  }

  // ---- timed: a timeout is reported as full / empty -------------------------------------
  // The _for forms' deadline is detail::deadline_in(d): a duration longer than the steady
  // clock can count from now (nanoseconds::max(), hours::max()) waits as the untimed form;
  // the _until forms' is detail::deadline_at(t), which saturates a coarse time point beyond
  // the clock's range (time_point<steady_clock, hours>::max()).
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(flow h, const T& v, std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return push_until(h, v, detail::deadline_in(d));
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_status push_for(flow h, T&& v, std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return push_until(h, std::move(v), detail::deadline_in(d));
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(flow h, const T& v,
                                        const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    T copy(v);  // may throw: nothing changed yet
    const auto at = detail::deadline_at(deadline);
    return wait_push(h, copy, &at);
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_status push_until(flow h, T&& v,
                                        const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    const auto at = detail::deadline_at(deadline);
    return wait_push(h, v, &at);
  }
  template <class Rep, class Period>
  [[nodiscard]] queue_result<item> pop_for(std::chrono::duration<Rep, Period> d)
    requires(may_block)
  {
    return pop_until(detail::deadline_in(d));
  }
  template <class Clock, class Duration>
  [[nodiscard]] queue_result<item> pop_until(
      const std::chrono::time_point<Clock, Duration>& deadline)
    requires(may_block)
  {
    const auto at = detail::deadline_at(deadline);
    return wait_pop(&at);
  }

  // ---- close --------------------------------------------------------------------------
  // Every flow is closed to pushes; pops deliver what is left, then report closed. Wakes
  // every waiter. Idempotent. O(number of flows).
  void close() noexcept {
    {
      std::lock_guard<detail::mutex> lock(mutex_);
      if (closed_flag_) return;
      closed_flag_ = true;
      // [DK1] release, before any flow is closed: LP(close). A push that reads it ([DK2])
      // refuses, in every flow, so a refusal by close() is final across flows.
      closed_.store(1, std::memory_order_release);
      table_.for_each([&](flow_state* f) { close_flow(f); });
    }
    if constexpr (may_block) {
      not_empty_->notify_all();
      for (auto& b : buckets_) b->notify_all();
    }
  }
  [[nodiscard]] bool is_closed() const noexcept {
    return closed_.load(std::memory_order_acquire) != 0;  // [DK2]
  }

  [[nodiscard]] const Cost& cost_function() const noexcept { return cost_; }
  [[nodiscard]] const Reclaimer& reclaimer() const noexcept { return reclaimer_; }

 private:
  [[noreturn]] static void throw_length_error(const char* what) {
#if defined(__cpp_exceptions)
    throw std::length_error(what);
#else
    detail::fatal(what);
#endif
  }

  std::uint32_t cost_of(const T& v) const noexcept { return cost_(v); }

  // Under a guard: the flow the handle names, or null.
  flow_state* find(flow h) const noexcept {
    if (h.generation_ == 0) return nullptr;
    flow_state* f = table_.load(h.index_);  // [DT2]
    if (f == nullptr || f->prod.generation != h.generation_) return nullptr;
    return f;
  }

  // The push protocol: claim a position, build, publish, activate.
  queue_status push_attempt(flow h, std::uint32_t c, T& v) {
    auto guard = reclaimer_.pin();
    flow_state* f = find(h);
    if (f == nullptr) return queue_status::closed;  // LP(try_push, closed): stale handle
    // [DK2] acquire: pairs with [DK1]; a closed scheduler refuses every push.
    if (closed_.load(std::memory_order_acquire) != 0) return queue_status::closed;
    std::uint64_t t = f->tail.load(std::memory_order_relaxed);  // [DP1]
    for (;;) {
      if ((t & pos::closed_bit) != 0) {
        // [DP5] acquire re-load: pairs with [DX1], so a close's [DK1] (stored before its
        // [DX1]s) is visible to this thread's later calls: refused once, refused everywhere.
        (void)f->tail.load(std::memory_order_acquire);
        return queue_status::closed;  // LP(try_push, closed)
      }
      const std::uint32_t lap = pos::lap(t);
      slot& s = f->prod.slots[pos::index(t)];
      // [DP2] acquire: pairs with [DC3] (the previous item was moved out).
      const std::uint32_t seq = s.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int32_t>(seq - pos::free_seq(lap));
      if (diff == 0) {
        // [DP3] relaxed CAS: claims the slot (the closed bit makes it fail after a close).
        if (f->tail.compare_exchange_weak(t, pos::next(t, f->prod.capacity),
                                          std::memory_order_relaxed, std::memory_order_relaxed)) {
          break;  // LP(try_push, success)
        }
      } else if (diff < 0) {
        // The slot still holds lap L-1's item: full, unless the tail moved meanwhile.
        const std::uint64_t again = f->tail.load(std::memory_order_relaxed);  // [DP1]
        if (again == t) return queue_status::full;                            // LP(try_push, full)
        t = again;
      } else {
        t = f->tail.load(std::memory_order_relaxed);  // [DP1] stale position
      }
    }
    slot& s = f->prod.slots[pos::index(t)];
    s.marker.write();
    std::construct_at(s.get(), std::move(v));  // noexcept
    s.cost.get_mut() = c;
    // [DP4] seq_cst: publishes the item (release pairs with [DC1]); seq_cst so that the
    // load [DA1] below is not performed before it (store-buffering pair with [DA3]/[DA4]).
    s.seq.store(pos::full_seq(pos::lap(t)), std::memory_order_seq_cst);
    activate(f);
    return queue_status::success;
  }

  // Lists the flow unless it is listed already (INV1); the winner of [DA2] pushes it onto
  // the inbox and wakes a consumer.
  void activate(flow_state* f) noexcept {
    // [DA1] seq_cst: "is it listed?" after [DP4] / [DX1] (store-buffering pair with
    // [DA3] + [DA4]).
    if (f->active.load(std::memory_order_seq_cst) != 0) return;
    // [DA2] acq_rel: one contender lists it; acquire pairs with [DA3].
    if (f->active.exchange(1, std::memory_order_acq_rel) != 0) return;
    inbox_push(f);
    // The inbox push is a CAS ([DI1]): [KN1] may be full_fence_after_rmw().
    if constexpr (may_block) not_empty_->notify_one_after_rmw();
  }

  void inbox_push(flow_state* f) noexcept {
    flow_state* top = inbox_.load(std::memory_order_relaxed);
    for (;;) {
      f->inbox_next.get_mut() = top;
      // [DI1] release: the link (and what this thread saw) reaches the consumer's [DI2].
      if (inbox_.compare_exchange_weak(top, f, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
  }

  // Closes a flow to pushes and lists it so that the consumer side drains and finishes it.
  void close_flow(flow_state* f) noexcept {
    // [DX1] seq_cst fetch-or: LP(remove_flow)/LP(close) for this flow's pushes.
    (void)f->tail.fetch_or(pos::closed_bit, std::memory_order_seq_cst);
    activate(f);
  }

  // ---- the consumer side (the gate holder) ----------------------------------------------
  static constexpr std::uint32_t gate_held = 1;
  static constexpr std::uint32_t gate_contended = 2;

  // One pop: through the gate, one DRR step, out. `waiting`: the caller will sleep on
  // not_empty_ if the answer is busy (it has announced itself with prepare_wait), so the
  // holder must wake it when it leaves.
  queue_result<item> pop_attempt(bool waiting) noexcept {
    if (!gate_try_enter(waiting)) return queue_status::busy;
    queue_result<item> r = pop_step();
    gate_leave(r);
    return r;
  }

  bool gate_try_enter(bool waiting) noexcept {
    if constexpr (single_consumer) {
      // [DG1] relaxed: a best-effort misuse check, ordering nothing.
      (void)waiting;
      if (gate_.load(std::memory_order_relaxed) != 0) {
        detail::fatal("lockless::drr_scheduler: overlapping pops with single_consumer = true");
      }
      gate_.store(1, std::memory_order_relaxed);
      return true;
    } else {
      std::uint32_t g = gate_.load(std::memory_order_relaxed);
      for (;;) {
        if (g == 0) {
          // [DG1] acquire: pairs with [DG2]; the consumer state is the previous holder's.
          if (gate_.compare_exchange_strong(g, gate_held, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
            return true;
          }
          continue;  // g reloaded
        }
        if (!waiting || (g & gate_contended) != 0) return false;
        // [DG1] relaxed CAS: a sleeping pop asks the holder to wake it ([DG2] reads it).
        if (gate_.compare_exchange_strong(g, g | gate_contended, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
          return false;
        }
      }
    }
  }
  void gate_leave(const queue_result<item>& r) noexcept {
    if constexpr (single_consumer) {
      gate_.store(0, std::memory_order_relaxed);  // [DG2] (misuse check only)
      (void)r;
    } else {
      const bool more = r.has_value() && has_listed();
      // [DG2] release exchange: pairs with [DG1]; an RMW, so a contended bit is seen.
      const std::uint32_t g = gate_.exchange(0, std::memory_order_release);
      if constexpr (may_block) {
        if ((g & gate_contended) != 0) {
          not_empty_->notify_all();  // consumers that got busy and went to sleep
        } else if (more) {
          // Another sleeping consumer may take the next item while this one works on its own.
          not_empty_->notify_one();
        }
      }
    }
  }

  bool has_listed() const noexcept {
    return current_.get() != nullptr || list_head_.get() != nullptr ||
           inbox_.load(std::memory_order_relaxed) != nullptr;  // [DI3]
  }

  // Moves every flow handed over by producers to the back of the private list, in the
  // order of their activation.
  void drain_inbox() noexcept {
    if (inbox_.load(std::memory_order_relaxed) == nullptr) return;  // [DI3] a hint
    // [DI2] acquire: pairs with [DI1].
    flow_state* f = inbox_.exchange(nullptr, std::memory_order_acquire);
    flow_state* reversed = nullptr;
    while (f != nullptr) {
      flow_state* next = f->inbox_next.get();
      f->rr_next.get_mut() = reversed;
      reversed = f;
      f = next;
    }
    while (reversed != nullptr) {
      flow_state* next = reversed->rr_next.get();
      list_push_back(reversed);
      reversed = next;
    }
  }
  void list_push_back(flow_state* f) noexcept {
    f->rr_next.get_mut() = nullptr;
    if (list_tail_.get() == nullptr) {
      list_head_.get_mut() = f;
    } else {
      list_tail_.get()->rr_next.get_mut() = f;
    }
    list_tail_.get_mut() = f;
  }
  flow_state* list_pop_front() noexcept {
    flow_state* f = list_head_.get();
    if (f == nullptr) return nullptr;
    list_head_.get_mut() = f->rr_next.get();
    if (list_head_.get() == nullptr) list_tail_.get_mut() = nullptr;
    return f;
  }

  // One pop, holding the gate.
  queue_result<item> pop_step() noexcept {
    for (;;) {
      flow_state* f = current_.get();
      if (f == nullptr) {
        drain_inbox();
        f = list_pop_front();
        if (f == nullptr) return empty_or_closed();  // LP(try_pop, empty/closed)
        current_.get_mut() = f;
        f->deficit.get_mut() += f->cons.quantum;  // a new turn
      }
      const std::uint64_t h = f->head.get();
      slot& s = f->cons.slots[pos::index(h)];
      // [DC1] acquire: pairs with [DP4].
      if (s.seq.load(std::memory_order_acquire) != pos::full_seq(pos::lap(h))) {
        // Drained (or a producer's gap), or finished. The first time: one more turn on
        // the list; still empty a round later: it leaves.
        if (f->idle.get() == 0) {
          end_turn_idle(f);
        } else {
          end_turn_drained(f);
        }
        continue;
      }
      f->idle.get_mut() = 0;
      const std::uint32_t c = s.cost.get();
      if (c > f->deficit.get()) {
        end_turn_backlogged(f);  // keeps its deficit (INV3) and waits for its next turn
        continue;
      }
      f->deficit.get_mut() -= c;
      s.marker.write();
      queue_result<item> r(std::in_place,
                           item{flow(f->cons.generation, f->cons.index), std::move(*s.get())});
      std::destroy_at(s.get());
      // [DK4] acquire, after [DC1], before [DC3]: has close() begun? Then this pop is
      // linearized after LP(close) [DK1], and the slot it frees must not go to a push that
      // read the scheduler open before [DK1] (that push is linearized before the close,
      // when this position was still taken): the flow is closed first ([DX3]).
      if (closed_.load(std::memory_order_acquire) != 0) close_flow_before_free(f);
      // [DC3] release: frees the slot for lap L+1; pairs with [DP2]. An exchange when
      // producers may sleep: the wake-up below then needs no fence of its own on x86-64
      // (one XCHG instead of a store and an MFENCE; detail::full_fence_after_rmw()).
      // One order for both forms (and one line for the [DC3] mutant to weaken).
      constexpr std::memory_order dc3_order = std::memory_order_release;
      const std::uint64_t nh = pos::next(h, f->cons.capacity);
      f->head.get_mut() = nh;
      if constexpr (may_block) {
        (void)s.seq.exchange(pos::free_seq(pos::lap(h) + 1), dc3_order);
        // A producer may sleep on this flow being full: wake its bucket after every pop (a
        // load when nobody sleeps). Per turn would not do: a consumer may stop after one
        // pop, leaving a producer asleep with room in its flow.
        notify_bucket_after_rmw(f->cons.index);
      } else {
        s.seq.store(pos::free_seq(pos::lap(h) + 1), dc3_order);
      }
      // [DC2] relaxed: drained now? Then the turn ends here, as in the paper (the flow
      // stays listed, idle, for one more turn: end_turn_idle).
      const slot& ns = f->cons.slots[pos::index(nh)];
      if (ns.seq.load(std::memory_order_relaxed) != pos::full_seq(pos::lap(nh))) {
        end_turn_idle(f);
      }
      return r;  // LP(try_pop, item) was [DC1]
    }
  }

  // The turn ends with items left: back of the list, deficit kept.
  void end_turn_backlogged(flow_state* f) noexcept {
    current_.get_mut() = nullptr;
    drain_inbox();  // flows activated during the turn go first, as in the paper
    list_push_back(f);
  }

  // The turn ends with the flow looking drained: its deficit is reset (an idle flow earns
  // no credit, INV3), but it stays listed, at the back, for one more turn (the lazy
  // unlisting of the header's WHAT). No handshake, no access to the producers' line: a
  // flow that a producer refills within a round costs nothing more than a backlogged one.
  void end_turn_idle(flow_state* f) noexcept {
    f->deficit.get_mut() = 0;
    f->idle.get_mut() = 1;
    end_turn_backlogged(f);
  }

  // The head slot is still not ready a round after the flow looked drained: it is
  // drained, or a producer is between [DP3] and [DP4], or the flow is closed and finished.
  void end_turn_drained(flow_state* f) noexcept {
    current_.get_mut() = nullptr;
    f->deficit.get_mut() = 0;  // an idle flow earns no credit (INV3)
    if (finished(f)) {
      finish(f);
      return;
    }
    // [DA3] seq_cst store: unlisted (release pairs with [DA2]).
    f->active.store(0, std::memory_order_seq_cst);
    // [DA4] seq_cst loads: did an item or a close arrive before a producer or closer
    // could see the flow unlisted?
    const std::uint64_t h = f->head.get();
    const slot& s = f->cons.slots[pos::index(h)];
    const bool item_arrived =
        s.seq.load(std::memory_order_seq_cst) == pos::full_seq(pos::lap(h));  // [DA4]
    const std::uint64_t t = f->tail.load(std::memory_order_seq_cst);          // [DA4]
    const bool finished_now = (t & pos::closed_bit) != 0 && pos::without_closed(t) == h;
    // Neither: drained (a later push lists it again), or a producer is between [DP3] and
    // [DP4] (its [DA1] comes after [DA3]: it lists the flow when it publishes).
    if (!item_arrived && !finished_now) return;
    // Take it back unless a producer or the closer listed it already ([DA2]).
    if (f->active.exchange(1, std::memory_order_acq_rel) != 0) return;
    if (item_arrived) {
      drain_inbox();
      list_push_back(f);
    } else {
      finish(f);  // closed while held: nobody else will list it again
    }
  }

  // A pop after close() has begun closes its flow before it frees a slot, unless close()
  // (or an earlier pop) did: once the bit is set, no claim can succeed ([DP3] fails).
  void close_flow_before_free(flow_state* f) noexcept {
    // [DC4] relaxed: a bit seen set is never cleared; the claim it must stop comes after
    // [DC3] (through [DP2]), so it reads this value or a later one.
    if ((f->tail.load(std::memory_order_relaxed) & pos::closed_bit) != 0) return;
    // [DX3] release fetch-or: the producer's [DP3] that takes the freed slot comes after
    // [DC3], which comes after this, so its CAS reads the bit and fails. Release pairs with
    // [DP5]: a producer refused by this bit also sees the [DK1] that [DK4] read.
    (void)f->tail.fetch_or(pos::closed_bit, std::memory_order_release);
  }

  // [DC4] relaxed: closed, and every claimed position consumed (INV4).
  bool finished(flow_state* f) noexcept {
    const std::uint64_t t = f->tail.load(std::memory_order_relaxed);  // [DC4]
    return (t & pos::closed_bit) != 0 && pos::without_closed(t) == f->head.get();
  }

  // The flow is closed and drained: it stays listed for good (INV1: no producer lists it
  // again), and is retired once remove_flow has also let go of it ([DX2]).
  void finish(flow_state* f) noexcept {
    (void)live_flows_.fetch_sub(1, std::memory_order_relaxed);  // [DK3]
    // [DX2] acq_rel: the second of {removed, finished} retires.
    const std::uint32_t old =
        f->flags.fetch_or(flow_state::flag_finished, std::memory_order_acq_rel);
    if ((old & flow_state::flag_removed) != 0) retire(f);
  }

  queue_result<item> empty_or_closed() noexcept {
    // [DK2] acquire: pairs with [DK1]; then [DK3] counts every flow added before the close.
    if (closed_.load(std::memory_order_acquire) != 0 &&
        live_flows_.load(std::memory_order_relaxed) == 0) {
      return queue_status::closed;  // LP(try_pop, closed)
    }
    return queue_status::empty;
  }

  void retire(flow_state* f) noexcept {
    auto guard = reclaimer_.pin();
    guard.retire(f, [](flow_state* p) noexcept { delete p; });
  }

  // Wakes the producers sleeping on the bucket of flow index `index` (several producers
  // of one flow, or of flows sharing the bucket, may sleep there: all of them re-check).
  void notify_bucket(std::uint32_t index) noexcept {
    if constexpr (may_block) buckets_[index % bucket_count]->notify_all();
    (void)index;
  }
  // The same right after an RMW that freed the room (detail/parking.hpp).
  void notify_bucket_after_rmw(std::uint32_t index) noexcept {
    buckets_[index % bucket_count]->notify_all_after_rmw();
  }

  // Pushes v (moved from only on success) while the flow is full, sleeping between tries;
  // the cost is computed once.
  template <class Deadline>
  queue_status wait_push(flow h, T& v, const Deadline* deadline) {
    const std::uint32_t c = cost_of(v);
    return detail::await_attempt(
        *buckets_[h.index_ % bucket_count], [&] { return push_attempt(h, c, v); },
        [](queue_status st) { return st == queue_status::full; }, deadline);
  }
  // Pops while nothing is listed or another consumer is inside. A timeout is empty, also
  // when the last try found the gate held.
  template <class Deadline>
  queue_result<item> wait_pop(const Deadline* deadline) {
    queue_result<item> r = detail::await_attempt(
        *not_empty_, [&] { return pop_attempt(true); },
        [](const queue_result<item>& x) {
          return !x && (x.error() == queue_status::empty || x.error() == queue_status::busy);
        },
        deadline);
    if (!r && r.error() == queue_status::busy) return queue_status::empty;
    return r;
  }

  [[no_unique_address]] Cost cost_;
  Reclaimer reclaimer_;

  // Producers' shared words.
  alignas(detail::cache_line_size) detail::atomic<flow_state*> inbox_{nullptr};
  alignas(detail::cache_line_size) detail::atomic<std::uint32_t> closed_{0};
  // The consumer side (the gate holder).
  alignas(detail::cache_line_size) detail::atomic<std::uint32_t> gate_{0};
  detail::var<flow_state*> current_{std::in_place, nullptr};
  detail::var<flow_state*> list_head_{std::in_place, nullptr};
  detail::var<flow_state*> list_tail_{std::in_place, nullptr};
  detail::atomic<std::uint64_t> live_flows_{0};  // [DK3]
  // Cold: the table and its bookkeeping, under mutex_.
  mutable detail::mutex mutex_;
  detail::drr_flow_table<flow_state> table_;
  std::vector<std::uint32_t> free_indices_;
  std::uint32_t next_index_ = 0;
  std::size_t table_size_ = 0;
  bool closed_flag_ = false;
  // Sleeping consumers, and sleeping producers by bucket of their flow's index.
  detail::cache_padded<detail::event_count> not_empty_;
  detail::cache_padded<detail::event_count> buckets_[bucket_count];
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
