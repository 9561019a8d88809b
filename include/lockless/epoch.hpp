// lockless/epoch.hpp: epoch-based memory reclamation (EBR).
//
// WHAT
//   Lock-free structures unlink a node while other threads may still be reading it. EBR
//   defers the node's destruction until no thread can hold a reference: threads announce
//   when they are inside a read-side critical section ("pinned", an epoch_guard), unlinked
//   objects are "retired" instead of deleted, and a retired object is freed only after
//   every critical section that could have seen it has ended.
//
//     epoch_domain            the reclamation domain: global epoch, thread records,
//                             retired batches. default_epoch_domain() is process-wide;
//                             create your own for isolation (its garbage, its stalls).
//     epoch_guard             RAII pin. Nests. Pointers loaded while it lives stay valid.
//     retire(p[, deleter])    schedule p for destruction once no guard can reach it.
//     epoch_reclaimer         the policy node-based containers take as `Reclaimer`.
//
//   The domain is also shaped after WG21 P2545 (C++26 <rcu>): it is BasicLockable
//   (lock() pins the calling thread, unlock() unpins, so std::scoped_lock works), and has
//   synchronize() (rcu_synchronize) and barrier() (rcu_barrier).
//
// THE SCHEME (Fraser 2004; the shape of crossbeam-epoch and ck_epoch)
//   A global epoch E. Each thread has a record: "not pinned", or "pinned, having seen
//   epoch e". Retired objects gather in a thread-local bag; a full bag is sealed with the
//   global epoch t read after a full fence and pushed on the domain's list of sealed
//   bags. E may advance from g to g+1 only when a scan finds every pinned record at g. A
//   bag sealed with t is freed once E >= t + 2.
//
// GUARANTEES
//   Safety: an object retired after it was unlinked is destroyed exactly once, and never
//   while a guard that was created before its unlink is alive (any thread, any domain
//   it was retired to). Deleters run on whichever thread frees the bag.
//   Progress: pin and unpin are wait-free (a few plain stores and one fenced store; no
//   lock, no allocation once the thread is registered). retire is wait-free except every
//   `bag::capacity`-th call, which seals the bag and makes one lock-free attempt to
//   advance the epoch and free expired bags (bounded by the number of thread records and
//   bags; the deleters it runs are user code), and except when it needs a new bag and
//   has no spare (a 2 KB allocation). A refused advance may also give up the CPU (a
//   sched_yield, at once or at the caller's last unpin: see THE WEAKNESS); nothing waits
//   for anything. synchronize()/barrier() block. Registration (a
//   thread's first use of a domain: O(1) amortised) and the release of a registration
//   (thread exit, unregister_current_thread()) take the domain's own mutex; nothing on a
//   hot path takes a lock, and no lock is process-wide.
//   Memory: see GARBAGE BOUND.
//
// THREAD LIFECYCLE
//   A thread's records are found through a per-thread table keyed by the domain's
//   address (O(1) whatever the number of domains; the last domain used is one compare).
//   A record whose domain has died says so itself (owner state "orphaned"), so a new
//   domain at a reused address is never mistaken for the dead one, and a thread that
//   outlives a domain frees its record instead of touching the domain. The destructor
//   marks a live thread's record "settling" while it takes the record's garbage and
//   publishes "orphaned" as its last access to it; an owner releasing the record
//   meanwhile (exit, unregister_current_thread()) waits for "orphaned", then frees it. Each copy of the
//   library (a shared library built with hidden visibility has its own) has its own
//   table, so a guard taken in one library on another's domain pins in that domain.
//   The table is a detail::per_thread slot (detail/per_thread.hpp): thread_local, and
//   under the model checker one per model thread; there model threads never exit, and
//   the domain's destructor (run after every model thread has finished) takes its
//   entries out of every model thread's table, so no table outlives an execution holding
//   a dead domain's entry. One code path serves every build.
//   Thread exit releases the records through detail/thread_exit.hpp: after every C++
//   thread_local destructor of the thread, also when the thread's first use was inside a
//   thread_local or pthread-key destructor. A record still pinned then (a guard owned by
//   an object destroyed later) is released by its last unpin; a domain first used after
//   the release gets a temporary record, released when the call or the last unpin ends.
//   Releasing a record seals its open batch, tries once to advance E and collects, so
//   exiting threads drive reclamation. The main thread's records are not released at
//   process exit (no key destructor runs there); they stay reachable.
//   Misuse is reported in every build, never ignored: unregister_current_thread() while
//   pinned and unlock() without a matching lock() throw std::logic_error (abort without
//   exceptions); an unpin of a record that is not pinned (which would wrap the nesting
//   count), or a domain destroyed while pinned, aborts with a message (detail/error.hpp).
//   Nothing releases or hands over a pinned record, so a guard's record stays its own.
//
// GARBAGE BOUND
//   Every seal (a full bag, flush(), a thread's exit or unregister_current_thread()) is
//   followed by one attempt to advance E and a collection. So while no thread stays
//   pinned, the objects retired but not yet freed are at most: each live thread's open
//   bag (< bag::capacity each) plus the bags sealed in the current and the previous
//   epoch. Threads that each retire a few objects and exit one after another leave at
//   most two exits' worth of garbage, however many there were (tests/unit/
//   epoch_lifecycle.cpp: 4,000 threads retiring 10 objects each). A stalled pinned
//   thread suspends the bound (see THE WEAKNESS).
//
// THE WEAKNESS, AND HOW TO SEE IT
//   A thread that stays pinned (blocked in I/O, preempted for long, or simply holding a
//   guard too long) prevents E from advancing, so nothing retired anywhere in the domain
//   can be freed: garbage grows without bound. stats() makes this visible:
//   `retired_pending` rises, `stalled_advances` counts the advance attempts refused since
//   E last moved (each one is a batch of retirements that could not be reclaimed), and
//   `oldest_pinned_epoch` names the epoch the laggard is stuck at. Keep guards short;
//   never block while holding one. Schemes that bound garbage despite stalled threads
//   (hazard pointers, DEBRA+, hazard eras, IBR, Hyaline) pay for it on every read.
//   One common case is softened: with more runnable threads than CPUs, a thread the OS
//   preempted inside a guard is not running, and stays off the CPU until the running
//   threads' time slices end. So once `stall_yield_refusals` (16) advances in a row were
//   refused, every refused attempt also yields the retiring thread's CPU
//   (yield_to_stalled_reader()): at once if it holds no guard, else at its last unpin (a
//   yield while pinned would make it the next laggard). The preempted reader runs sooner,
//   unpins, and E moves. Measured on 2 vCPUs, 4 threads pushing 64 nodes then popping
//   64 on a treiber_stack: E stood still in 74 % of 0.5 ms samples and 583,000 objects
//   were pending at worst; with the yield, 0.2 % and 11,400, and 13.2 -> 25.2 M pairs/s.
//   The cost, while a pinned thread really is running (a long guard on a machine with
//   enough CPUs): one sched_yield per bag::capacity retirements of each retiring thread.
//
// NOT ASYNC-SIGNAL-SAFE
//   Do not take a guard, lock(), retire or flush in a signal handler. A thread's first use
//   of a domain allocates and takes a mutex; retire may allocate a bag and runs deleters;
//   and the owner-only fields of a record (nesting count, open bag) are plain variables
//   that a handler interrupting the same thread's pin, unpin or retire would corrupt.
//
// WHAT CALLS std::terminate
//   retire() runs after an unlink, where there is no way back, so it is noexcept, and
//   std::terminate is called if: the thread's first use of the domain cannot allocate
//   its registration (a record, a larger per-thread table); a new 2 KB batch cannot be
//   allocated (no spare); a deleter that is not stored inline (larger than two pointers,
//   over-aligned, or with a throwing move) cannot be boxed (an allocation); constructing
//   the stored deleter from the argument throws (a copy of an lvalue deleter); or the
//   deleter itself throws when it runs (deleters must not throw). A guard, lock(),
//   flush(), synchronize() and barrier() report a failed registration as bad_alloc.
//
// MEMORY-ORDERING CONTRACT
//   [EG1] pin: release store of "pinned at e" to the own record, then a full fence
//         (seq_cst), before any load of the protected structure. Pairs with [EA1], [ES1],
//         [EY0]. (The store's release is not model-checked: Relacy implements the C++11
//         release sequence, in which a relaxed pin store would continue [EG3]'s; see
//         store_then_full_fence().)
//   [EG3] unpin: release store of "not pinned": everything the critical section read
//         happens-before a scanner's acquire load [EA2] that sees it.
//   [ES1] seal: full fence, then read E as the bag's tag: the tag is at least the epoch of
//         any thread that could still reach an object in the bag.
//   [ES2] release push of the sealed bag; pairs with [ER1].
//   [EA1]/[EA2]/[EA3] advance: full fence, acquire-load every record, CAS of E. Only the
//         CAS's release half is relied on (checked by a mutant): E is written only by
//         this CAS, so its writes form one release sequence and every later acquire load
//         of E synchronizes with every earlier advance; the acquire half is harmless to
//         drop and claims nothing.
//   [ER1] collect: acquire exchange that takes the whole sealed list (pairs with [ES2]).
//   [ER2] collect: acquire load of E (pairs with [EA3]) before running deleters.
//   [ER3] collect: after putting kept bags back, full fence and re-read E (pairs with [EB1]).
//   [EY0]/[EY1] synchronize: full fence, read E, then acquire loads of E [EY1] until it is
//         two ahead. The first read's order is not relied on (its value is ordered by
//         [EY0]); the loop's acquire loads do the synchronizing.
//   [EB1] barrier: full fence between synchronize and its forced collect (pairs with [ER3]).
//   [EO1]/[EO2] record ownership: acquire/release hand-over of a record between owners and
//         between an exiting owner and the domain's destructor (INV4): the destructor's
//         acq_rel CAS owned -> settling, its release store of "orphaned" after its last
//         access, and the owner's acquire load that sees "orphaned" before it frees. Not model-checked:
//         under Relacy the domain is destroyed only after every model thread has finished,
//         so the hand-over never races there; the unit, stress and TSan runs cover it.
//
// INVARIANTS
//   INV1 (the scan): E moves from g to g+1 only by a CAS [EA3] that follows a scan [EA2],
//         begun after a full fence [EA1], that found every record unpinned or pinned at g.
//         A pin is either seen by that scan, or its fence [EG1] comes after [EA1] in the
//         single order of seq_cst fences, and then the pinned thread's later loads see
//         every write that preceded [EA1]. NOTE: this does NOT make "pinned at e implies
//         E <= e + 1" true: a thread may read E = e, be preempted while E advances twice
//         or more (no scan sees a pin not yet stored), then store "pinned at e". Its
//         loads are then ordered after those scans, which is what safety needs.
//   INV2: a bag's tag t >= the epoch of every thread that can still reach an object in it.
//         (An object is reachable only by a thread whose pin fence precedes the seal's
//         [ES1] fence; such a thread announced an epoch no newer than the E that [ES1] read.)
//   INV3: hence, once E >= t + 2, no pinned thread can reach the bag's objects: the
//         advance from t+1 to t+2 scanned after [ES1] (it read an E newer than [ES1]'s), and
//         by INV1 it saw every such thread unpinned or at t+1 > t, i.e. finished with its
//         critical section that could reach the bag (INV2), the later one starting after
//         the unlink was visible.
//   INV4: a record is owned by at most one thread at a time (owner state, [EO1]/[EO2]);
//         its owner-only fields pass between owners through the registration mutex and
//         the owner state, and a new owner starts unpinned with a nesting count of zero.
//         A record is freed by one party, once no other can touch it: by the domain's
//         destructor if free, by its owner once "orphaned" (never while "settling").
//
// WHEN NOT TO USE IT
//   When a reader may block while pinned, or garbage must stay bounded under stalls:
//   use hazard pointers. When objects are huge and must be freed promptly: call
//   synchronize() or use reference counting.
//
// REFERENCES
//   K. Fraser, "Practical lock-freedom", PhD thesis, Cambridge, 2004 (section 5.2.3).
//   T. Hart, P. McKenney, A. Demke Brown, J. Walpole, "Performance of memory reclamation
//     for lockless synchronization", JPDC 2007.
//   crossbeam-epoch (Rust); Concurrency Kit ck_epoch; WG21 P2545 "Read-Copy Update".
//   docs/algorithms/epoch.md: the teaching page for this header.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "detail/atomic.hpp"
#include "detail/error.hpp"
#include "detail/per_thread.hpp"
#include "detail/platform.hpp"
#include "detail/sanitizers.hpp"
#include "detail/thread_exit.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

class epoch_domain;
class epoch_guard;

// A snapshot of a domain's reclamation state; every field is read without stopping the
// world, so under concurrency each is approximate (but never wildly off).
struct epoch_stats {
  std::uint64_t global_epoch = 0;      // E
  std::size_t retired_pending = 0;     // retired, not yet freed
  std::size_t registered_threads = 0;  // records currently owned by a thread
  std::size_t pinned_threads = 0;      // records pinned at the time of the scan
  // The smallest epoch announced by a record pinned at the time of the scan, or
  // no_pinned_thread. A pinned record whose epoch is below global_epoch holds every
  // further advance back until it unpins. The gap can be more than one epoch without
  // any stall: a thread announces the E it read before storing its pin, and may have
  // been preempted in between while E moved on (INV1). A gap that persists across
  // samples, with stalled_advances rising, is a stalled reader.
  std::uint64_t oldest_pinned_epoch = no_pinned_thread;
  // Advance attempts refused since E last moved (by a seal, flush() or a synchronize()
  // retry): small and often reset in a healthy domain, where brief refusals are normal;
  // rising without bound while a pinned thread stalls.
  std::uint64_t stalled_advances = 0;

  static constexpr std::uint64_t no_pinned_thread = std::numeric_limits<std::uint64_t>::max();
};

namespace detail {

// One retired object with its type-erased deleter. Deleters that are small and nothrow-
// movable (empty deleters, function pointers, lambdas capturing a pointer or two) are
// stored inline; larger ones are boxed on the heap together with the pointer.
struct retired {
  static constexpr std::size_t inline_size = 2 * sizeof(void*);
  void* ptr;
  void (*reclaim)(retired&) noexcept;
  alignas(void*) unsigned char storage[inline_size];

  template <class T, class Deleter>
  static constexpr bool fits_inline =
      sizeof(Deleter) <= inline_size && alignof(Deleter) <= alignof(void*) &&
      std::is_nothrow_move_constructible_v<Deleter>;

  template <class T, class Deleter>
  void set(T* p, Deleter&& d) {
    using D = std::decay_t<Deleter>;
    if constexpr (fits_inline<T, D>) {
      ptr = p;
      ::new (static_cast<void*>(storage)) D(std::forward<Deleter>(d));
      reclaim = [](retired& r) noexcept {
        D* del = std::launder(reinterpret_cast<D*>(r.storage));
        D local(std::move(*del));
        del->~D();
        local(static_cast<T*>(r.ptr));
      };
    } else {
      struct box {
        T* p;
        D d;
      };
      ptr = new box{p, std::forward<Deleter>(d)};
      reclaim = [](retired& r) noexcept {
        box* b = static_cast<box*>(r.ptr);
        b->d(b->p);
        delete b;
      };
    }
  }
};

// Sanitizer and deterministic-schedule builds use tiny batches, so that sealing,
// advancing and collecting run in every test, not only in those that fill a batch.
#if defined(LOCKLESS_DETAIL_ASAN) || defined(LOCKLESS_DSCHED)
inline constexpr std::size_t epoch_bag_capacity = 4;
#else
inline constexpr std::size_t epoch_bag_capacity = 62;
#endif

// A batch of retired objects. Open (owned by one thread, untagged) until full or
// flushed; then sealed (tagged with an epoch, on the domain's list, immutable). Every
// field is a detail::var: the bag passes between threads, and the model checker must
// see each access ([ES2]/[ER1] are what order them).
struct epoch_bag {
  static constexpr std::size_t capacity = epoch_bag_capacity;
  var<std::uint64_t> epoch{std::in_place, 0};  // the tag, valid once sealed
  var<epoch_bag*> next{std::in_place, nullptr};
  var<std::size_t> count{std::in_place, 0};
  var<std::array<retired, capacity>> items{std::in_place};
};
#if !defined(LOCKLESS_RELACY)
static_assert(sizeof(epoch_bag) <= 2048, "a batch is one 2 KB allocation");
#endif

// Who owns a record (epoch_record::owner).
// A live thread's record passes to its dying domain's destructor as owned -> settling
// (the destructor's CAS) -> orphaned (the destructor's last access to it), or back to its
// domain as owned -> releasing (the owner's CAS) -> free.
enum : unsigned {
  record_free = 0,       // on its domain's free list, for the next thread to register
  record_owned = 1,      // registered: one thread's (INV4)
  record_releasing = 2,  // its owner is handing it back; the domain's destructor waits
  record_orphaned = 3,   // its domain died while a thread owned it: that thread frees it
  record_settling = 4,   // the domain's destructor is taking its garbage: an owner that
                         // releases it meanwhile waits for "orphaned", then frees it
};

// A thread's registration in a domain. Records are freed with their domain, except an
// orphaned one, which its owner frees (the destructor no longer touches it).
struct alignas(cache_line_size) epoch_record {
  // Shared: written by the owner, read by scanners.
  atomic<std::uint64_t> state{0};  // 0: not pinned; (e << 1) | 1: pinned, saw epoch e
  // Objects retired through this record into bags it sealed (or that were taken from it).
  atomic<std::size_t> retired_total{0};
  // Objects in the open bag: written by the owner only (INV4), read by others only as
  // telemetry; also the open bag's fill index, so a retire updates one counter.
  atomic<std::size_t> open_count{0};
  atomic<unsigned> owner{record_owned};
  var<epoch_record*> next{std::in_place, nullptr};  // immutable once published on the list

  // Owner-only (INV4).
  // Guards + lock()s held (pins()), and release_bit: thread exit has begun, release the
  // record when the count drops to 0. One word, so that the common unpin (a count of 1,
  // no release due) is one compare.
  unsigned nest = 0;
  unsigned locks = 0;  // of which lock()s: unlock() without one is an error
  epoch_bag* open = nullptr;
  epoch_bag* spare = nullptr;
  epoch_record* next_free = nullptr;  // the domain's free list (its registration mutex)

  static constexpr unsigned release_bit = 1u << 31;
  // A retire found the epoch stalled while this thread was pinned: yield the CPU at the
  // last unpin (epoch_domain::yield_to_stalled_reader()).
  static constexpr unsigned yield_bit = 1u << 30;
  static constexpr unsigned flag_bits = release_bit | yield_bit;
  [[nodiscard]] unsigned pins() const noexcept { return nest & ~flag_bits; }

  static constexpr std::uint64_t pinned_at(std::uint64_t e) noexcept { return (e << 1) | 1; }
  static constexpr bool is_pinned(std::uint64_t s) noexcept { return (s & 1) != 0; }
  static constexpr std::uint64_t epoch_of(std::uint64_t s) noexcept { return s >> 1; }
};

// ---- the per-thread table: domain address -> this thread's record ----------------------
// Open addressing with linear probing; `last` caches the slot used last. Trivially
// constructible and destructible, so it can be used at any point of a thread's exit;
// the slot array is freed once the thread has exited and released every record. It is
// a detail::per_thread slot (detail/per_thread.hpp): thread_local, or under Relacy one
// per model thread, which ~epoch_domain cleans up (see take_thread_record()).
struct epoch_slot {
  epoch_domain* domain;  // nullptr: empty
  epoch_record* record;
};

struct epoch_thread_table {
  epoch_slot last;
  epoch_slot* slots;
  std::size_t capacity;  // a power of two, or 0
  std::size_t size;
  bool exited;  // the exit hook has run: a record registered now is temporary

  [[nodiscard]] std::size_t home(const epoch_domain* d) const noexcept {
    std::uint64_t h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(d));
    h *= 0x9E3779B97F4A7C15ULL;  // Fibonacci hashing: the high bits mix all of the address
    return static_cast<std::size_t>(h >> 32) & (capacity - 1);
  }

  [[nodiscard]] epoch_slot* find(const epoch_domain* d) noexcept {
    if (capacity == 0) return nullptr;
    for (std::size_t i = home(d);; i = (i + 1) & (capacity - 1)) {
      if (slots[i].domain == d) return &slots[i];
      if (slots[i].domain == nullptr) return nullptr;
    }
  }

  // Makes room for one more slot (may throw bad_alloc; then nothing changed).
  void reserve_one() {
    if ((size + 1) * 2 <= capacity) return;
    const std::size_t n = capacity == 0 ? 8 : capacity * 2;
    epoch_slot* fresh = allocate_per_thread<epoch_slot>(n);
    epoch_slot* old = std::exchange(slots, fresh);
    const std::size_t old_capacity = std::exchange(capacity, n);
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i].domain != nullptr) place(old[i]);
    }
    deallocate_per_thread(old);
  }

  // After reserve_one().
  void insert(epoch_domain* d, epoch_record* r) noexcept {
    place({d, r});
    ++size;
  }

  void erase(epoch_slot* s) noexcept {
    if (last.domain == s->domain) last = {nullptr, nullptr};
    // Backward-shift deletion: move later members of the probe run into the hole.
    const std::size_t mask = capacity - 1;
    std::size_t hole = static_cast<std::size_t>(s - slots);
    slots[hole] = {nullptr, nullptr};
    for (std::size_t j = (hole + 1) & mask; slots[j].domain != nullptr; j = (j + 1) & mask) {
      const std::size_t h = home(slots[j].domain);
      // slots[j] may move into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        slots[hole] = slots[j];
        slots[j] = {nullptr, nullptr};
        hole = j;
      }
    }
    --size;
  }

  void free_if_empty() noexcept {
    if (size != 0 || capacity == 0) return;
    deallocate_per_thread(std::exchange(slots, nullptr));
    capacity = 0;
  }

 private:
  void place(epoch_slot s) noexcept {
    std::size_t i = home(s.domain);
    while (slots[i].domain != nullptr) i = (i + 1) & (capacity - 1);
    slots[i] = s;
  }
};

using epoch_tables = per_thread<epoch_thread_table>;

void epoch_thread_exit() noexcept;
inline thread_local constinit thread_exit_hook tls_epoch_exit_hook{&epoch_thread_exit, nullptr,
                                                                   false};

union default_domain_storage;

}  // namespace detail

class epoch_domain {
 public:
  using record = detail::epoch_record;
  using bag = detail::epoch_bag;

  LOCKLESS_DETAIL_CONSTEXPR_ATOMICS epoch_domain() noexcept = default;
  epoch_domain(const epoch_domain&) = delete;
  epoch_domain& operator=(const epoch_domain&) = delete;

  // Frees every object still retired to the domain and its thread records. Deleters
  // that retire into this same domain (a node whose deleter retires its child) are
  // fine: their objects are freed too, before the destructor returns.
  // Precondition: no thread is pinned in the domain (checked: abort with a message) and
  // none uses it concurrently, except by exiting or unregistering; threads that used it
  // may still be alive: each frees its (orphaned) record at its next use of an epoch
  // domain at this address, its unregister_current_thread() or its exit (one that
  // exits or unregisters while the destructor runs waits for it to orphan the record).
  ~epoch_domain() {
    for (;;) {
      bag* garbage = nullptr;
      detail::epoch_tables::for_each_quiescent([&](detail::epoch_thread_table& t) {
        if (record* mine = take_thread_record(t)) settle(mine, true, garbage);
        // A finished model thread's table: the next execution starts from an empty one.
        if constexpr (detail::model_checked) t.free_if_empty();
      });
      // acquire: pairs with the release publication of records in acquire_record().
      for (record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next.get()) {
        settle(r, false, garbage);
      }
      // Quiescent but for releasing threads, which settle() has waited for; acquire as
      // [ER1], pairing with their [ES2].
      bag* sealed = sealed_.exchange(nullptr, std::memory_order_acquire);
      if (garbage == nullptr && sealed == nullptr) break;
      while (garbage != nullptr) free_bag(std::exchange(garbage, garbage->next.get()), nullptr);
      while (sealed != nullptr) free_bag(std::exchange(sealed, sealed->next.get()), nullptr);
      // The deleters may have retired into this domain: go round again.
    }
    // A thread that released its record last may still be inside unlock(): wait for it.
    {
      std::lock_guard lock(reg_mutex_);
    }
    record* r = records_.load(std::memory_order_acquire);  // as above
    while (r != nullptr) {
      record* next = r->next.get();  // before r may be its owner's to free
      // Acquire: pairs with release_record()'s [EO1] (a record freed before it is deleted).
      // Every record is free or settling now (settle() waited for the releasing ones).
      if (r->owner.load(std::memory_order_acquire) == detail::record_settling) {
        // [EO2] release: our accesses to r happen-before its owner's acquire load that
        // sees "orphaned" and frees r. The last access to r: from here on it is the owner's.
        r->owner.store(detail::record_orphaned, std::memory_order_release);
      } else {
        delete r;
      }
      r = next;
    }
  }

  // ---- retirement -------------------------------------------------------------------
  // Schedules `p` for destruction by `delete p` (or `deleter(p)`) once no epoch_guard of
  // this domain created before this call can still reach it. `p` must already be
  // unreachable for new readers (unlinked) and must not be retired twice. The deleter
  // must not throw. Wait-free except every bag::capacity-th call (see header block).
  // noexcept: see "WHAT CALLS std::terminate" in the header block.
  template <class T>
  void retire(T* p) noexcept {
    retire(p, std::default_delete<T>());
  }
  template <class T, class Deleter>
  void retire(T* p, Deleter&& deleter) noexcept {
    record* r = current_record();
    retire_with(*r, p, std::forward<Deleter>(deleter));
    release_if_temporary(*r);
  }

  // Seals this thread's open batch, tries once to advance the epoch and frees whatever
  // has expired. Never blocks. Garbage is freed "as soon as safe": two more flush()
  // calls from quiescent points (or flush(), synchronize(), flush(); or barrier()) see
  // it go. synchronize() alone waits but runs no deleters.
  void flush() {
    record* r = current_record();
    seal(*r);
    try_advance();
    collect(r);
    release_if_temporary(*r);
  }

  // ---- P2545-shaped facade ----------------------------------------------------------
  // BasicLockable: lock() pins the calling thread (nests, also with guards), unlock()
  // unpins. unlock() without a matching lock() of this thread throws std::logic_error and
  // changes nothing: it never takes a guard's pin away.
  void lock() {
    record* r = current_record();
    pin(*r);
    ++r->locks;
  }
  void unlock() {
    record* r = find_current_record();
    if (r == nullptr || r->locks == 0) [[unlikely]]
      throw_unbalanced_unlock();
    --r->locks;
    unpin(*r);
  }

  // Blocks until every read-side critical section of this domain that began before the
  // call has ended (rcu_synchronize). Throws std::logic_error if the calling thread is
  // itself pinned in this domain: that would wait for itself forever.
  void synchronize() {
    record* r = current_record();
    synchronize_on(*r);
    release_if_temporary(*r);
  }

  // Blocks until the objects retired by the calling thread before the call, and those
  // in batches sealed by any thread (full batches, flushes, exited threads) before the
  // call, have been destroyed (rcu_barrier) -- except batches that a concurrent
  // collector has already taken, which that collector is destroying. Objects in another
  // live thread's still-open batch wait for that thread's next seal, flush or exit.
  // Throws std::logic_error like synchronize().
  void barrier() {
    record* r = current_record();
    throw_if_pinned(*r);
    seal(*r);
    synchronize_on(*r);
    // [EB1] full fence between seeing E two ahead and taking the sealed list: pairs with
    // [ER3]. Either our take sees the batches a concurrent collector put back, or that
    // collector's re-check sees the epoch we reached and judges them again.
    detail::full_fence();
    collect(r, /*force=*/true);
    release_if_temporary(*r);
  }

  // ---- telemetry --------------------------------------------------------------------
  [[nodiscard]] std::uint64_t epoch() const noexcept {
    return epoch_.value.load(std::memory_order_relaxed);  // telemetry: no ordering needed
  }
  [[nodiscard]] std::size_t retired_pending() const noexcept { return stats().retired_pending; }
  // One pass over the records, so the fields describe (nearly) the same moment.
  [[nodiscard]] epoch_stats stats() const noexcept {
    epoch_stats s;
    s.global_epoch = epoch();
    s.stalled_advances = stalled_.load(std::memory_order_relaxed);  // telemetry only
    std::size_t retired = 0;
    // acquire: pairs with the release publication of records in acquire_record().
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next.get()) {
      retired += r->retired_total.load(std::memory_order_relaxed);             // telemetry
      retired += r->open_count.load(std::memory_order_relaxed);                // telemetry
      if (r->owner.load(std::memory_order_relaxed) == detail::record_owned) {  // telemetry
        ++s.registered_threads;
      }
      const std::uint64_t st = r->state.load(std::memory_order_relaxed);  // telemetry
      if (record::is_pinned(st)) {
        ++s.pinned_threads;
        s.oldest_pinned_epoch = std::min(s.oldest_pinned_epoch, record::epoch_of(st));
      }
    }
    const std::size_t freed = freed_total_.load(std::memory_order_relaxed);  // telemetry
    s.retired_pending = retired > freed ? retired - freed : 0;
    return s;
  }

  // Releases the calling thread's registration now, as thread exit does: its open batch
  // is sealed and handed to the domain, one advance and a collection are tried, and the
  // record goes back for reuse. For thread pools that park threads for long, and for the
  // model checker (whose threads never exit). A no-op if the thread is not registered.
  // Throws std::logic_error, changing nothing, if the thread holds a guard or lock() of
  // this domain (the release would silently unpin it).
  void unregister_current_thread() {
    detail::epoch_thread_table& t = detail::epoch_tables::local();
    if (detail::epoch_slot* s = find_own_slot(t)) {
      record* r = s->record;
      throw_if_pinned_at_unregister(*r);
      t.erase(s);
      release_owned(this, r);
    }
    if (t.exited) t.free_if_empty();
  }

 private:
  friend class epoch_guard;
  friend void detail::epoch_thread_exit() noexcept;
  friend union detail::default_domain_storage;

  static void throw_if_pinned(const record& r) {
    if (r.pins() != 0) {
      detail::throw_logic_error(
          "lockless::epoch_domain::synchronize/barrier called while the calling thread "
          "holds a guard of the same domain (it would wait for itself)");
    }
  }
#if defined(__GNUC__)
  [[gnu::noinline, gnu::cold]]
#endif
  [[noreturn]] static void
  throw_unbalanced_unlock() {
    detail::throw_logic_error(
        "lockless::epoch_domain::unlock() without a matching lock() on this thread");
  }
  static void throw_if_pinned_at_unregister(const record& r) {
    if (r.pins() != 0) {
      detail::throw_logic_error(
          "lockless::epoch_domain::unregister_current_thread called while the calling "
          "thread holds a guard or lock() of the same domain (it would unpin it)");
    }
  }

  // synchronize() on the caller's record, which it does not release (barrier() goes on
  // using it).
  void synchronize_on(record& r) {
    throw_if_pinned(r);
    // [EY0] full fence before reading E, as in [ES1]: every unlink the caller made before
    // the call precedes it, so the E read below is at least the epoch of any reader that
    // can still reach an unlinked object (pairs with [EG1]). Without it the read may be
    // one epoch stale and the wait one epoch short (found by Relacy).
    // [EY1] acquire: pairs with [EA3]; an epoch two ahead of the one read here means every
    // reader that could reach an object unlinked before the call has unpinned (INV3),
    // and its critical section happens-before our return.
    detail::full_fence();
    const std::uint64_t target = epoch_.value.load(std::memory_order_acquire) + 2;
    detail::backoff wait;
    while (epoch_.value.load(std::memory_order_acquire) < target) {  // [EY1] again
      if (!try_advance()) wait.pause();
    }
  }

  // ---- pin / unpin --------------------------------------------------------------------
  void pin(record& r) noexcept {
    if ((r.nest++ & ~record::flag_bits) != 0) return;  // nested: already pinned
    // Relaxed: the value is only a hint of the epoch to announce; INV2 does not depend
    // on it being the latest, only on [EG1] ordering the announcement before our loads.
    const std::uint64_t e = epoch_.value.load(std::memory_order_relaxed);
    // [EG1] announce "pinned at e" (release), then a full fence before any load of the
    // protected structure (store->load order). Pairs with the fences of [EA1], [ES1] and
    // [EY0]: either a scanner sees this pin, or our later loads see every unlink before
    // its fence.
    store_then_full_fence(r.state, record::pinned_at(e));
  }

  void unpin(record& r) noexcept {
    const unsigned n = r.nest;
    if (n == 1) [[likely]] {  // the last pin, no release due: the common case
      r.nest = 0;
      store_unpinned(r);
      return;
    }
    // Nested, the record's release is due (thread exit), a yield is due, or (never, but
    // checked in every build) not pinned at all.
    const unsigned pins = n & ~record::flag_bits;
    if (pins == 0) detail::fatal("lockless::epoch_guard / unlock(): unpin of an unpinned record");
    r.nest = n - 1;
    if (pins != 1) return;  // nested (a due yield waits for the last unpin)
    r.nest &= ~record::yield_bit;
    store_unpinned(r);
    if ((n & record::yield_bit) != 0) yield_cpu();             // unpinned now: nobody waits for us
    if ((n & record::release_bit) != 0) release_temporary(r);  // the thread has exited
  }

  // Gives the CPU to another thread (the OS scheduler's yield).
  static void yield_cpu() noexcept { std::this_thread::yield(); }

  // An advance was refused (a pinned thread has not seen the current epoch). If refusals
  // keep coming, the pinned thread is likely off the CPU (more runnable threads than
  // CPUs): the OS will not run it again before the running threads' time slices end, and
  // until then nothing retired is freed anywhere. Giving up the CPU lets it run, leave its
  // critical section and unpin. Never while pinned (that would make this thread the next
  // staller): a pinned caller yields at its last unpin instead. Not under the checkers:
  // there an OS yield means nothing (the schedule is theirs), and the load of the hint
  // would only add interleavings to explore (relacy_epoch: 93 -> 119 s). The nest bit is
  // owner-only state, covered by the unit tests.
  void yield_to_stalled_reader(record& r) noexcept {
    if constexpr (detail::scheduler_controlled) return;
    if (stalled_.load(std::memory_order_relaxed) < stall_yield_refusals) return;  // a hint
    if (r.pins() == 0) {
      yield_cpu();
    } else {
      r.nest |= record::yield_bit;
    }
  }

  // [EG3] release: the critical section's reads happen-before a scanner's [EA2] acquire
  // load that sees "not pinned", hence before any deletion that follows.
  static void store_unpinned(record& r) noexcept { r.state.store(0, std::memory_order_release); }

  // Release store of v, then a full fence.
  // Release, not relaxed: a scanner that reads this pin ([EA2], acquire) must be ordered
  // after the thread's previous critical section too, which ended with [EG3]'s release
  // store; since C++20 (P0982) a later relaxed store no longer continues [EG3]'s release
  // sequence, so the pin's own store must be a release.
  // On x86-64 a locked RMW is a full barrier in hardware and costs a third of MFENCE
  // (which clang emits for a seq_cst fence), so the pair is one XCHG. That step rests on
  // the x86 memory model, not on the C++ fence rules; the portable store + fence below
  // is what other targets run and what the model checker verifies.
  static void store_then_full_fence(detail::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(LOCKLESS_RELACY)
    (void)a.exchange(v, std::memory_order_seq_cst);
#else
    // Release store, ordered before later loads by the fence that follows.
    a.store(v, std::memory_order_release);
    detail::full_fence();
#endif
  }

  // ---- retire / seal / advance / collect ------------------------------------------------
  template <class T, class Deleter>
  void retire_with(record& r, T* p, Deleter&& deleter) noexcept {
    if (r.open == nullptr) r.open = new_bag(r);
    // Owner-only counter (INV4): the bag's fill index; relaxed because others read it only
    // as telemetry. The bag's own count is written when it is taken (take_open()).
    const std::size_t n = r.open_count.load(std::memory_order_relaxed) + 1;
    r.open->items.get_mut()[n - 1].set(p, std::forward<Deleter>(deleter));
    r.open_count.store(n, std::memory_order_relaxed);
    if (n == bag::capacity) {
      seal(r);
      if (!try_advance()) yield_to_stalled_reader(r);
      collect(&r);
    }
  }

  static bag* new_bag(record& r) noexcept {
    if (r.spare != nullptr) return std::exchange(r.spare, nullptr);
    return new bag;  // bad_alloc here terminates (noexcept): documented at retire()
  }

  // Takes r's open bag (or nullptr) with its count; the owner's, or the destructor's once
  // the owner is gone (settle()). Owner-only counters (INV4), relaxed: telemetry.
  static bag* take_open(record& r) noexcept {
    bag* b = std::exchange(r.open, nullptr);
    if (b == nullptr) return nullptr;
    const std::size_t n = r.open_count.load(std::memory_order_relaxed);
    b->count.get_mut() = n;
    r.retired_total.store(r.retired_total.load(std::memory_order_relaxed) + n,
                          std::memory_order_relaxed);
    r.open_count.store(0, std::memory_order_relaxed);
    return b;
  }

  void seal(record& r) noexcept {
    bag* b = take_open(r);
    if (b == nullptr) return;
    // [ES1] full fence, then read E: every unlink of an object in the bag precedes the
    // fence, so the tag is at least the epoch of any thread still able to reach one of
    // them (INV2). Pairs with [EG1].
    detail::full_fence();
    b->epoch.get_mut() = epoch_.value.load(std::memory_order_relaxed);  // ordered by [ES1]
    push_sealed(b, b);
  }

  // Pushes the chain first..last onto the sealed list.
  void push_sealed(bag* first, bag* last) noexcept {
    bag* head = sealed_.load(std::memory_order_relaxed);  // only a first guess for the CAS
    detail::backoff bo;
    do {
      last->next.get_mut() = head;
      // [ES2] release: publishes the bags' contents and tags; pairs with [ER1].
    } while (!sealed_.compare_exchange_weak(head, first, std::memory_order_release,
                                            std::memory_order_relaxed) &&
             (bo.pause(), true));
  }

  // One attempt to move E from g to g + 1. Lock-free: it fails only because a pinned
  // thread has not seen g yet, or because another thread advanced E meanwhile.
  bool try_advance() noexcept {
    // Read before [EA1] on purpose: the records scanned after the fence are compared with
    // an epoch no newer than the fence, which INV1 needs. Relaxed: E only moves forward
    // and [EA3]'s CAS fails if g is no longer current.
    std::uint64_t g = epoch_.value.load(std::memory_order_relaxed);
    // [EA1] full fence: pairs with [EG1]; a pin we do not see below is one whose later
    // loads see everything before this point. The list walk's acquire pairs with the
    // release publication of records in acquire_record().
    detail::full_fence();
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next.get()) {
      // [EA2] acquire: pairs with [EG3]; a finished critical section happens-before us.
      const std::uint64_t s = r->state.load(std::memory_order_acquire);
      if (record::is_pinned(s) && record::epoch_of(s) != g) {
        stalled_.fetch_add(1, std::memory_order_relaxed);  // telemetry, and a hint
        return false;
      }
    }
    // [EA3] acq_rel CAS: release hands what [EA2] acquired on to collectors that
    // acquire-load E ([ER2], [EY1]); acquire orders us after a previous advance.
    if (epoch_.value.compare_exchange_strong(g, g + 1, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      stalled_.store(0, std::memory_order_relaxed);  // telemetry, and a hint
      return true;
    }
    return false;
  }

  // Frees every sealed bag whose tag is two epochs behind E; puts the rest back.
  // `r` (may be null) receives one freed bag as its spare, so steady-state retiring
  // does not allocate.
  void collect(record* r, bool force = false) noexcept {
    if (sealed_.load(std::memory_order_relaxed) == nullptr) return;  // a hint; [ER1] decides
    // A bag becomes freeable only when E moves, so while E stands still (a stalled
    // reader) a pass would walk an ever longer list to free nothing: skip it. Relaxed:
    // a stale value only costs one redundant or one postponed pass.
    const std::uint64_t now = epoch_.value.load(std::memory_order_relaxed);
    if (collected_at_.exchange(now, std::memory_order_relaxed) == now && !force) return;
    // [ER1] acquire: take the whole list; pairs with [ES2]. Taking all at once (instead of
    // popping one bag) leaves no ABA window on the list.
    for (;;) {
      bag* list = sealed_.exchange(nullptr, std::memory_order_acquire);
      // [ER2] acquire: pairs with [EA3]; the critical sections that let E reach this value
      // happen-before the deleters we run.
      const std::uint64_t e = epoch_.value.load(std::memory_order_acquire);
      bag* keep_first = nullptr;
      bag* keep_last = nullptr;
      while (list != nullptr) {
        bag* b = std::exchange(list, list->next.get());
        if (b->epoch.get() + 2 <= e) {  // INV3
          free_bag(b, r);
        } else {
          b->next.get_mut() = keep_first;
          keep_first = b;
          if (keep_last == nullptr) keep_last = b;
        }
      }
      if (keep_first == nullptr) return;
      push_sealed(keep_first, keep_last);
      // [ER3] If E moved while we held the batches, a barrier() may have found the list
      // empty and be relying on us: judge the kept ones again against the newer epoch.
      // The full fence pairs with [EB1] (store-buffering: our push, then our read of E).
      detail::full_fence();
      if (epoch_.value.load(std::memory_order_acquire) == e) return;
    }
  }

  void free_bag(bag* b, record* r) noexcept {
    const std::size_t n = b->count.get();
    detail::retired* const items = b->items.get_mut().data();
    for (detail::retired* it = items; it != items + n; ++it) it->reclaim(*it);
    freed_total_.fetch_add(n, std::memory_order_relaxed);  // telemetry only
    b->count.get_mut() = 0;
    b->next.get_mut() = nullptr;
    if (r != nullptr && r->spare == nullptr) {
      r->spare = b;
    } else {
      delete b;
    }
  }

  // ---- thread records ---------------------------------------------------------------------
  // The calling thread's record, registering it on first use (may throw bad_alloc).
  record* current_record() {
    const detail::epoch_slot& last = detail::epoch_tables::local().last;
    // The owner test tells a dead domain's record at this address from ours; relaxed:
    // the domain that died there was destroyed before this one was constructed.
    if (last.domain == this &&
        (!stale_entries ||
         last.record->owner.load(std::memory_order_relaxed) == detail::record_owned)) [[likely]] {
      return last.record;
    }
    return current_record_slow();
  }

  // Out of line on purpose: inlined, it made the guard's constructor too big to inline
  // into its caller (56 instead of 20 instructions per pin+unpin, measured).
#if defined(__GNUC__)
  [[gnu::noinline, gnu::cold]]
#endif
  record* current_record_slow() {
    detail::epoch_thread_table& t = detail::epoch_tables::local();
    if (detail::epoch_slot* s = find_own_slot(t)) {
      t.last = *s;
      return s->record;
    }
    const bool exiting = t.exited;
    if (!exiting) detail::epoch_tables::at_thread_exit(detail::tls_epoch_exit_hook);
    t.reserve_one();               // may throw before we own anything
    record* r = acquire_record();  // may throw; then the table only grew
    if (exiting)
      r->nest = record::release_bit;  // released again at the end of this call
                                      // (or at its last unpin)
    t.insert(this, r);
    t.last = {this, r};
    return r;
  }

  // The calling thread's record, or nullptr: never registers.
  record* find_current_record() noexcept {
    const detail::epoch_slot& last = detail::epoch_tables::local().last;
    if (last.domain == this &&
        (!stale_entries || last.record->owner.load(std::memory_order_relaxed) ==
                               detail::record_owned)) [[likely]] {  // as in current_record()
      return last.record;
    }
    return find_current_record_slow();
  }

#if defined(__GNUC__)
  [[gnu::noinline, gnu::cold]]
#endif
  record* find_current_record_slow() noexcept {
    if (detail::epoch_slot* s = find_own_slot(detail::epoch_tables::local())) return s->record;
    return nullptr;
  }

  // Whether a table entry may be a dead domain's (an orphaned record at a reused
  // address, see THREAD LIFECYCLE). Never under the model checker: there the domain's
  // destructor erases its entries from every model thread's table (take_thread_record()),
  // and the owner test, an atomic load, would add a scheduling point to every pin that
  // the Relacy programs' search budgets do not include.
  static constexpr bool stale_entries = !detail::model_checked;

  // The slot of table `t` (this thread's, or under Relacy a finished model thread's) for
  // this domain, or nullptr. A dead domain's record found at this address (orphaned) is
  // freed on the way: it is ours, and its domain is gone.
  detail::epoch_slot* find_own_slot(detail::epoch_thread_table& t) noexcept {
    detail::epoch_slot* s = t.find(this);
    if (s == nullptr || !stale_entries) return s;
    // [EO2] acquire: pairs with the destructor's release store of "orphaned" (its accesses
    // to the record are done before we free it). "Settling" (a destructor running now) is
    // returned like "owned": only exit and unregistering may race with it, and they wait
    // in release_owned().
    if (s->record->owner.load(std::memory_order_acquire) != detail::record_orphaned) return s;
    record* r = s->record;
    t.erase(s);
    delete r;
    return nullptr;
  }

  // Takes a free record, or allocates a new one (may throw bad_alloc: nothing changed).
  record* acquire_record() {
    record* r;
    {
      std::lock_guard lock(reg_mutex_);
      r = free_records_;
      if (r != nullptr) {
        free_records_ = r->next_free;
      } else {
        r = new record;
        r->next.get_mut() = records_.load(std::memory_order_relaxed);  // writers: under lock
        // release: publishes the record's initialisation to list walkers (acquire loads).
        records_.store(r, std::memory_order_release);
      }
      // [EO1] relaxed: under the mutex, which orders us after the previous owner's
      // release (release_record()); the destructor runs with no registration concurrent.
      r->owner.store(detail::record_owned, std::memory_order_relaxed);
    }
    r->nest = 0;  // no pin, no release due
    r->locks = 0;
    return r;
  }

  // The owner hands `r` back. If `d` is dying or died (settling or orphaned), `d` is not
  // touched and the record is freed once the destructor is done with it; otherwise the
  // domain's destructor waits until we are done.
  static void release_owned(epoch_domain* d, record* r) noexcept {
    unsigned expected = detail::record_owned;
    // [EO2] acq_rel: release orders our writes to r before the destructor's view of it;
    // the failure's order is not relied on (the loads below synchronize).
    if (!r->owner.compare_exchange_strong(expected, detail::record_releasing,
                                          std::memory_order_acq_rel, std::memory_order_acquire)) {
      // Settling: the destructor is still taking r's garbage; it stores "orphaned" after
      // its last access to r. [EO2] acquire: pairs with that release store.
      detail::backoff wait;
      while (expected != detail::record_orphaned) {
        wait.pause();
        expected = r->owner.load(std::memory_order_acquire);
      }
      delete r;
      return;
    }
    d->release_record(r);
  }

  // Hands a record back: its open batch is sealed onto the domain's list (the orphan
  // hand-over), one advance and a collection are tried (so exiting threads reclaim, see
  // GARBAGE BOUND), its spare freed, and the record marked free for reuse.
  void release_record(record* r) noexcept {
    r->nest = 0;  // no pin, no release due
    r->locks = 0;
    r->state.store(0, std::memory_order_release);  // as [EG3] (not pinned already)
    seal(*r);
    delete std::exchange(r->spare, nullptr);
    try_advance();
    collect(nullptr);  // deleters may use this domain: r is no longer this thread's
    std::lock_guard lock(reg_mutex_);
    r->next_free = free_records_;
    free_records_ = r;
    // [EO1] release: the next owner, and the destructor's [EO2] acquire, see our writes.
    r->owner.store(detail::record_free, std::memory_order_release);
  }

  void release_if_temporary(record& r) noexcept {
    if (r.nest == record::release_bit) [[unlikely]]  // release due, no pin left
      release_temporary(r);
  }

  void release_temporary(record& r) noexcept {
    detail::epoch_thread_table& t = detail::epoch_tables::local();
    if (detail::epoch_slot* s = t.find(this); s != nullptr && s->record == &r) t.erase(s);
    release_owned(this, &r);
    t.free_if_empty();  // only temporary records are left once the thread has exited
  }

  // The destructor's view of a table it may take over (per_thread::for_each_quiescent:
  // the calling thread's; under Relacy every model thread's, all finished): the record
  // it holds for this domain, removed from the table and returned (the destructor
  // settles it as its own), or nullptr. Under Relacy this is what leaves no entry of a
  // dead domain behind for a later execution, whose domain may have the same address.
  record* take_thread_record(detail::epoch_thread_table& t) noexcept {
    detail::epoch_slot* s = find_own_slot(t);
    if (s == nullptr) return nullptr;
    record* r = s->record;
    t.erase(s);
    return r;
  }

  // Destructor: takes r's garbage into `garbage` and leaves r free (or, if a live thread
  // owns it, settling: the destructor's last walk orphans it, and that thread frees it).
  void settle(record* r, bool mine, bag*& garbage) noexcept {
    if (mine) {
      if (r->pins() != 0) detail::fatal("lockless::epoch_domain destroyed while pinned in it");
      r->owner.store(detail::record_free, std::memory_order_relaxed);  // our own
    } else {
      detail::backoff wait;
      for (;;) {
        unsigned s = r->owner.load(std::memory_order_acquire);  // [EO2]
        if (s == detail::record_releasing) {  // its owner is handing it back: wait
          wait.pause();
          continue;
        }
        if (s != detail::record_owned) break;  // free, or settling since an earlier round
        if (record::is_pinned(r->state.load(std::memory_order_acquire))) {
          detail::fatal("lockless::epoch_domain destroyed while a thread is pinned in it");
        }
        // [EO2] acq_rel: against the owner's CAS exactly one wins. Ours: the owner's
        // release_owned() then waits for "orphaned" (stored by our last access to r), so
        // r stays valid through every round; acquire orders the owner's writes before ours.
        if (r->owner.compare_exchange_strong(s, detail::record_settling, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
          break;
        }
      }
    }
    if (bag* b = take_open(*r)) {
      b->next.get_mut() = garbage;
      garbage = b;
    }
    delete std::exchange(r->spare, nullptr);
  }

  detail::cache_padded<detail::atomic<std::uint64_t>> epoch_{0};  // E
  detail::atomic<record*> records_{nullptr};  // push-only list; pushed under reg_mutex_
  detail::atomic<bag*> sealed_{nullptr};
  detail::atomic<std::size_t> freed_total_{0};
  detail::atomic<std::uint64_t> stalled_{0};
  // Refused advances since E last moved before a retiring thread yields its CPU to the
  // stalled reader (yield_to_stalled_reader()).
  static constexpr std::uint64_t stall_yield_refusals = 16;
  detail::atomic<std::uint64_t> collected_at_{std::numeric_limits<std::uint64_t>::max()};
  detail::mutex reg_mutex_;  // registration and release: the free list below
  record* free_records_ = nullptr;
};

namespace detail {

// The calling thread is exiting (thread_exit.hpp): release every record that is not
// pinned; a pinned one is released by its last unpin. Deleters run by a release may use
// epoch domains again (temporary records, see current_record_slow()).
inline void epoch_thread_exit() noexcept {
  epoch_thread_table& t = epoch_tables::local();
  t.exited = true;
  t.last = {nullptr, nullptr};
  std::size_t i = 0;
  while (i < t.capacity) {
    const epoch_slot s = t.slots[i];
    if (s.domain == nullptr) {
      ++i;
      continue;
    }
    // Acquire as [EO2] in find_own_slot(); "settling" goes on like "owned" (release_owned()
    // waits for the destructor to orphan the record).
    const bool orphaned = s.record->owner.load(std::memory_order_acquire) == record_orphaned;
    if (!orphaned && s.record->pins() != 0) {
      s.record->nest |= epoch_record::release_bit;
      ++i;
      continue;
    }
    const epoch_slot* before = t.slots;
    t.erase(&t.slots[i]);  // a later slot may move into i: look at i again
    epoch_domain::release_owned(s.domain, s.record);
    if (t.slots != before) i = 0;  // a deleter's temporary record rebuilt the table
  }
  t.free_if_empty();
}

#if !defined(LOCKLESS_RELACY)
// The default domain lives in constant-initialized storage and is never destroyed, so
// it can be used from any static constructor or destructor and from threads that
// outlive main(). Garbage left in it at exit stays reachable (not reported as a leak).
union default_domain_storage {
  epoch_domain domain;
  constexpr default_domain_storage() noexcept : domain() {}
  ~default_domain_storage() {}
};
#endif

}  // namespace detail

// The process-wide default domain (used by epoch_guard{}, lockless::retire and
// epoch_reclaimer{}). Under the model checker each test creates its own domain instead.
inline epoch_domain& default_epoch_domain() noexcept {
#if !defined(LOCKLESS_RELACY)
  static constinit detail::default_domain_storage storage;
  return storage.domain;
#else
  static epoch_domain* d = new epoch_domain;
  return *d;
#endif
}

// RAII read-side critical section: while a guard of domain D lives, no object retired to
// D after the guard was created is freed. Guards nest (inner ones cost two plain
// increments). Not copyable or movable: it belongs to the thread that created it, and
// must be destroyed by that thread. Its record stays its own while it lives: nothing
// releases a pinned record (unregister_current_thread() refuses, thread exit defers the
// release to the last unpin, ~epoch_domain aborts), and an unpin of an unpinned record
// aborts with a message.
class epoch_guard {
 public:
  // A thread's first guard in a domain registers it (allocates; may throw bad_alloc).
  epoch_guard() : epoch_guard(default_epoch_domain()) {}
  explicit epoch_guard(epoch_domain& d) : d_(&d), r_(d.current_record()) { d_->pin(*r_); }
  ~epoch_guard() { d_->unpin(*r_); }
  epoch_guard(const epoch_guard&) = delete;
  epoch_guard& operator=(const epoch_guard&) = delete;

  // As epoch_domain::retire, without looking the thread's record up again.
  template <class T>
  void retire(T* p) noexcept {
    d_->retire_with(*r_, p, std::default_delete<T>());
  }
  template <class T, class Deleter>
  void retire(T* p, Deleter&& deleter) noexcept {
    d_->retire_with(*r_, p, std::forward<Deleter>(deleter));
  }

  // The reclaimer concept's loads (detail/reclaimer.hpp). A pin protects every node that
  // was reachable after it began, so protect() is the plain load with the caller's order
  // (which pairs with whatever published the node: the pin orders nothing about the
  // node's fields), and re-protecting a pointer read otherwise costs nothing.
  template <class T>
  [[nodiscard]] T* protect(const detail::atomic<T*>& src, std::memory_order order) const noexcept {
    return src.load(order);  // the caller's order, for the caller's reasons
  }
  template <class T>
  [[nodiscard]] T* protect(const detail::atomic<T*>& /*src*/, T* loaded,
                           std::memory_order /*order*/) const noexcept {
    return loaded;
  }

  [[nodiscard]] epoch_domain& domain() const noexcept { return *d_; }

 private:
  epoch_domain* d_;
  detail::epoch_record* r_;
};

// Free functions on the default domain.
template <class T>
void retire(T* p) noexcept {
  default_epoch_domain().retire(p);
}
template <class T, class Deleter>
void retire(T* p, Deleter&& deleter) noexcept {
  default_epoch_domain().retire(p, std::forward<Deleter>(deleter));
}

// The reclamation policy of node-based containers (their `Reclaimer` parameter), a
// detail::reclaimer (detail/reclaimer.hpp, checked below). A container calls `pin()`
// around every access that dereferences shared nodes, loads the pointers it dereferences
// through `guard.protect(source, order)` and calls `guard.retire(node)` after unlinking
// one. Holds a reference to its domain: the domain must outlive every container that
// uses it.
class epoch_reclaimer {
 public:
  using guard_type = epoch_guard;

  epoch_reclaimer() noexcept : d_(&default_epoch_domain()) {}
  explicit epoch_reclaimer(epoch_domain& d) noexcept : d_(&d) {}

  [[nodiscard]] epoch_guard pin() const { return epoch_guard(*d_); }
  [[nodiscard]] epoch_domain& domain() const noexcept { return *d_; }

 private:
  epoch_domain* d_;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE

// Only the check below needs the concept: included here, after the code, not above it.
#include "detail/reclaimer.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {
static_assert(detail::reclaimer<epoch_reclaimer>,
              "epoch_reclaimer must model detail::reclaimer (detail/reclaimer.hpp)");
}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
