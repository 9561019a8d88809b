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
//   bags. E may advance from g to g+1 only when every pinned record has seen g. A bag
//   sealed with t is freed once E >= t + 2.
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
//   has no spare (a 2 KB allocation). synchronize()/barrier() block. Registration (a
//   thread's first use of a domain) and thread exit take a process-wide mutex; they are
//   not on any hot path. A guard or retire used by a thread whose exit has begun (from
//   another thread_local's destructor) runs on a temporary record: its unpin also seals
//   and hands over that record's batch.
//   Memory: bounded while no pinned thread stalls, roughly (threads x capacity) objects in
//   open bags plus two epochs' worth of sealed bags.
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
//
// MEMORY-ORDERING CONTRACT
//   [G1] pin: release store of "pinned at e" to the own record, then a full fence
//        (seq_cst), before any load of the protected structure. Pairs with [A1], [S1], [Y0].
//   [G3] unpin: release store of "not pinned": everything the critical section read
//        happens-before a scanner's acquire load [A2] that sees it.
//   [S1] seal: full fence, then read E as the bag's tag: the tag is at least the epoch of
//        any thread that could still reach an object in the bag.
//   [S2] release push of the sealed bag; pairs with [R1].
//   [A1]/[A2]/[A3] advance: full fence, acquire-load every record, acq_rel CAS of E.
//   [R1] collect: acquire exchange that takes the whole sealed list (pairs with [S2]).
//   [R2] collect: acquire load of E (pairs with [A3]) before running deleters.
//   [R3] collect: after putting kept bags back, full fence and re-read E (pairs with [B1]).
//   [Y0]/[Y1] synchronize: full fence, then acquire loads of E until it is two ahead.
//   [B1] barrier: full fence between synchronize and its forced collect (pairs with [R3]).
//
// INVARIANTS
//   INV1: while a thread is pinned at e (and its pin is visible), E <= e + 1.
//   INV2: a bag's tag t >= the epoch of every thread that can still reach an object in it.
//   INV3: hence, once E >= t + 2, no pinned thread can reach the bag's objects
//         (INV1 + INV2: such a thread would have e <= t, so E <= t + 1).
//   INV4: a record is owned by at most one thread at a time (in_use); its owner-only
//         fields pass between owners through in_use's release/acquire.
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
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/atomic.hpp"
#include "detail/platform.hpp"

namespace lockless {

class epoch_domain;
class epoch_guard;

// A snapshot of a domain's reclamation state; every field is read without stopping the
// world, so under concurrency each is approximate (but never wildly off).
struct epoch_stats {
  std::uint64_t global_epoch = 0;       // E
  std::size_t retired_pending = 0;      // retired, not yet freed
  std::size_t registered_threads = 0;   // records currently owned by a thread
  std::size_t pinned_threads = 0;       // records pinned at the time of the scan
  // The smallest epoch a pinned thread has seen, or no_pinned_thread. A pinned thread
  // whose epoch is below global_epoch is the one holding reclamation back.
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
  static constexpr bool fits_inline = sizeof(Deleter) <= inline_size &&
                                      alignof(Deleter) <= alignof(void*) &&
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

// A batch of retired objects. Open (owned by one thread, untagged) until full or
// flushed; then sealed (tagged with an epoch, on the domain's list, immutable).
struct epoch_bag {
  static constexpr std::size_t capacity = 62;
  std::uint64_t epoch = 0;  // the tag, valid once sealed
  epoch_bag* next = nullptr;
  std::size_t count = 0;
  retired items[capacity];
};

// A thread's registration in a domain. Records are never freed before their domain; a
// thread that exits releases its record (in_use = false) for the next thread to reuse.
struct alignas(cache_line_size) epoch_record {
  // Shared: written by the owner, read by scanners.
  atomic<std::uint64_t> state{0};  // 0: not pinned; (e << 1) | 1: pinned, saw epoch e
  atomic<std::size_t> retired_total{0};  // objects ever retired through this record
  atomic<bool> in_use{true};
  epoch_record* next = nullptr;  // immutable once the record is published on the list

  // Owner-only (INV4).
  unsigned nest = 0;
  bool temporary = false;  // registered after this thread's exit began: release at unpin
  epoch_bag* open = nullptr;
  epoch_bag* spare = nullptr;

  static constexpr std::uint64_t pinned_at(std::uint64_t e) noexcept { return (e << 1) | 1; }
  static constexpr bool is_pinned(std::uint64_t s) noexcept { return (s & 1) != 0; }
  static constexpr std::uint64_t epoch_of(std::uint64_t s) noexcept { return s >> 1; }
};

// Process-wide list of live domain ids. Touched only when a domain is created or
// destroyed and when a thread exits; it makes "thread exits after its domain died" safe.
// Immortal on purpose: threads may exit after static destructors have run.
struct epoch_registry {
  detail::mutex mutex;  // std::mutex; the scheduler's own in the deterministic build
  std::vector<std::uint64_t> live;
  std::uint64_t next_id = 2;  // 1 is the default domain's

  static epoch_registry& instance() {
    static epoch_registry* r = new epoch_registry;
    return *r;
  }
  bool alive(std::uint64_t id) const { return std::find(live.begin(), live.end(), id) != live.end(); }
};

// Fast path of "this thread's record in domain D": the last domain this thread used.
// Trivially constructible and destructible, so reading it is a plain TLS load.
struct epoch_tls_cache {
  std::uint64_t domain_id;
  epoch_record* record;
};
inline thread_local constinit epoch_tls_cache tls_epoch_cache{0, nullptr};
inline thread_local constinit bool tls_epoch_exiting = false;

union default_domain_storage;

// Owns this thread's registrations; its destructor (at thread exit) hands each record,
// with its unfreed garbage, back to its domain if the domain still lives.
class epoch_thread_state {
 public:
  struct entry {
    std::uint64_t domain_id;
    epoch_domain* domain;
    epoch_record* record;
  };
  std::vector<entry> entries;
  ~epoch_thread_state();

  static epoch_thread_state& instance() {
    static thread_local epoch_thread_state s;
    return s;
  }
};

}  // namespace detail

class epoch_domain {
 public:
  using record = detail::epoch_record;
  using bag = detail::epoch_bag;

  epoch_domain() {
    if constexpr (detail::model_checked) {
      id_ = default_id + 1;  // model-checked threads never exit: no registry needed
    } else {
      auto& reg = detail::epoch_registry::instance();
      std::lock_guard lock(reg.mutex);
      id_ = reg.next_id++;
      reg.live.push_back(id_);
    }
  }

  epoch_domain(const epoch_domain&) = delete;
  epoch_domain& operator=(const epoch_domain&) = delete;

  // Frees every object still retired to the domain and all its thread records.
  // Precondition: no thread is pinned in the domain or uses it concurrently; threads
  // that used it may still be alive (their registration is dropped quietly).
  ~epoch_domain() {
    if (!detail::model_checked && id_ != default_id) {
      auto& reg = detail::epoch_registry::instance();
      std::lock_guard lock(reg.mutex);
      reg.live.erase(std::find(reg.live.begin(), reg.live.end(), id_));
    }
    bag* sealed = sealed_.exchange(nullptr, std::memory_order_acquire);  // quiescent
    while (sealed != nullptr) free_bag(std::exchange(sealed, sealed->next), nullptr);
    record* r = records_.load(std::memory_order_acquire);  // quiescent
    while (r != nullptr) {
      record* next = r->next;
      if (r->open != nullptr) free_bag(r->open, nullptr);
      delete r->spare;
      delete r;
      r = next;
    }
  }

  // ---- retirement -------------------------------------------------------------------
  // Schedules `p` for destruction by `delete p` (or `deleter(p)`) once no epoch_guard of
  // this domain created before this call can still reach it. `p` must already be
  // unreachable for new readers (unlinked) and must not be retired twice. The deleter
  // must not throw. Wait-free except every bag::capacity-th call (see header block).
  // retire runs after an unlink, where there is no way back: if memory cannot be
  // allocated for a new batch, or for the thread's registration on its first use of
  // the domain, std::terminate is called.
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
  // BasicLockable: lock() pins the calling thread (nests), unlock() unpins.
  void lock() { pin(*current_record()); }
  void unlock() { unpin(*current_record()); }

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
    // [B1] full fence between seeing E two ahead and taking the sealed list: pairs with
    // [R3]. Either our take sees the batches a concurrent collector put back, or that
    // collector's re-check sees the epoch we reached and judges them again.
    detail::fence(std::memory_order_seq_cst);
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
    // acquire: pairs with the release push of new records in acquire_record().
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
      retired += r->retired_total.load(std::memory_order_relaxed);            // telemetry
      if (r->in_use.load(std::memory_order_relaxed)) ++s.registered_threads;  // telemetry
      const std::uint64_t st = r->state.load(std::memory_order_relaxed);      // telemetry
      if (record::is_pinned(st)) {
        ++s.pinned_threads;
        s.oldest_pinned_epoch = std::min(s.oldest_pinned_epoch, record::epoch_of(st));
      }
    }
    const std::size_t freed = freed_total_.load(std::memory_order_relaxed);  // telemetry
    s.retired_pending = retired > freed ? retired - freed : 0;
    return s;
  }

  // Releases the calling thread's registration now, handing its unfreed garbage to the
  // domain, as thread exit does. For thread pools that park threads for long, and for
  // the model checker (whose threads never exit). The thread must not be pinned.
  void unregister_current_thread() {
    if constexpr (detail::model_checked) {
#if defined(LOCKLESS_RELACY)
      const unsigned t = detail::thread_index();
      if (t < max_model_threads && relacy_records_[t] != nullptr) {
        release_record(relacy_records_[t]);
        relacy_records_[t] = nullptr;
      }
#endif
    } else {
      auto& st = detail::epoch_thread_state::instance();
      for (auto it = st.entries.begin(); it != st.entries.end(); ++it) {
        if (it->domain_id == id_) {
          release_record(it->record);
          st.entries.erase(it);
          break;
        }
      }
      if (detail::tls_epoch_cache.domain_id == id_) detail::tls_epoch_cache = {0, nullptr};
    }
  }

 private:
  friend class epoch_guard;
  friend class detail::epoch_thread_state;
  friend epoch_domain& default_epoch_domain() noexcept;
  friend union detail::default_domain_storage;

  static constexpr std::uint64_t default_id = 1;
  static constexpr std::size_t max_model_threads = 16;

  struct default_tag {};
  // The default domain: constant-initialized (no registration, no guard variable on
  // access) and never destroyed.
  LOCKLESS_DETAIL_CONSTEXPR_ATOMICS explicit epoch_domain(default_tag) noexcept
      : id_(default_id) {}

  static void throw_if_pinned(const record& r) {
    if (r.nest != 0) {
      throw std::logic_error(
          "lockless::epoch_domain::synchronize/barrier called while the calling thread "
          "holds a guard of the same domain (it would wait for itself)");
    }
  }

  // synchronize() on the caller's record, which it does not release (barrier() goes on
  // using it).
  void synchronize_on(record& r) {
    throw_if_pinned(r);
    // [Y0] full fence before reading E, as in [S1]: every unlink the caller made before
    // the call precedes it, so the E read below is at least the epoch of any reader that
    // can still reach an unlinked object (pairs with [G1]). Without it the read may be
    // one epoch stale and the wait one epoch short (found by Relacy).
    detail::fence(std::memory_order_seq_cst);
    // [Y1] acquire: pairs with [A3]; an epoch two ahead of the one read here means every
    // thread pinned at or before it has since unpinned (INV1).
    const std::uint64_t target = epoch_.value.load(std::memory_order_acquire) + 2;
    detail::backoff wait;
    while (epoch_.value.load(std::memory_order_acquire) < target) {  // [Y1] again
      if (!try_advance()) wait.pause();
    }
  }

  // ---- pin / unpin --------------------------------------------------------------------
  void pin(record& r) noexcept {
    if (r.nest++ != 0) return;  // nested: already pinned
    // Relaxed: the value is only a hint of the epoch to announce; INV2 does not depend
    // on it being the latest, only on [G1] ordering the announcement before our loads.
    const std::uint64_t e = epoch_.value.load(std::memory_order_relaxed);
    // [G1] announce "pinned at e" (release), then a full fence before any load of the
    // protected structure (store->load order). Pairs with the fences of [A1], [S1] and
    // [Y0]: either a scanner sees this pin, or our later loads see every unlink before
    // its fence.
    store_then_full_fence(r.state, record::pinned_at(e));
  }

  void unpin(record& r) noexcept {
    if (--r.nest != 0) return;
    // [G3] release: the critical section's reads happen-before a scanner's [A2] acquire
    // load that sees "not pinned", hence before any deletion that follows.
    r.state.store(0, std::memory_order_release);
    release_if_temporary(r);
  }

  // Release store of v, then a full fence.
  // Release, not relaxed: a scanner that reads this pin ([A2], acquire) must be ordered
  // after the thread's previous critical section too, which ended with [G3]'s release
  // store; since C++20 (P0982) a later relaxed store no longer continues [G3]'s release
  // sequence, so the pin's own store must be a release.
  // On x86-64 a locked RMW is a full barrier in hardware and costs a third of MFENCE
  // (which clang emits for a seq_cst fence), so the pair is one XCHG. That step rests on
  // the x86 memory model, not on the C++ fence rules; the portable store + fence below
  // is what other targets run and what the model checker verifies.
  static void store_then_full_fence(detail::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(LOCKLESS_RELACY)
    (void)a.exchange(v, std::memory_order_seq_cst);
#else
    a.store(v, std::memory_order_release);  // ordered by the fence that follows
    detail::fence(std::memory_order_seq_cst);
#endif
  }

  // ---- retire / seal / advance / collect ------------------------------------------------
  template <class T, class Deleter>
  void retire_with(record& r, T* p, Deleter&& deleter) noexcept {
    if (r.open == nullptr) r.open = new_bag(r);
    bag* b = r.open;
    b->items[b->count++].set(p, std::forward<Deleter>(deleter));
    // Owner-only counter (INV4); relaxed because it is telemetry.
    r.retired_total.store(r.retired_total.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
    if (b->count == bag::capacity) {
      seal(r);
      try_advance();
      collect(&r);
    }
  }

  bag* new_bag(record& r) noexcept {
    if (r.spare != nullptr) return std::exchange(r.spare, nullptr);
    return new bag;  // bad_alloc here terminates (noexcept): documented at retire()
  }

  void seal(record& r) noexcept {
    bag* b = r.open;
    if (b == nullptr || b->count == 0) return;
    r.open = nullptr;
    // [S1] full fence, then read E: every unlink of an object in the bag precedes the
    // fence, so the tag is at least the epoch of any thread still able to reach one of
    // them (INV2). Pairs with [G1].
    detail::fence(std::memory_order_seq_cst);
    b->epoch = epoch_.value.load(std::memory_order_relaxed);  // ordered by [S1]
    push_sealed(b, b);
  }

  // Pushes the chain first..last onto the sealed list.
  void push_sealed(bag* first, bag* last) noexcept {
    bag* head = sealed_.load(std::memory_order_relaxed);  // only a first guess for the CAS
    detail::backoff bo;
    do {
      last->next = head;
      // [S2] release: publishes the bags' contents and tags; pairs with [R1].
    } while (!sealed_.compare_exchange_weak(head, first, std::memory_order_release,
                                            std::memory_order_relaxed) &&
             (bo.pause(), true));
  }

  // One attempt to move E from g to g + 1. Lock-free: it fails only because a pinned
  // thread has not seen g yet, or because another thread advanced E meanwhile.
  bool try_advance() noexcept {
    // Read before [A1] on purpose: the records scanned after the fence are compared with
    // an epoch no newer than the fence, which the proof of INV1 needs. Relaxed: E only
    // moves forward and [A3]'s CAS fails if g is no longer current.
    std::uint64_t g = epoch_.value.load(std::memory_order_relaxed);
    // [A1] full fence: pairs with [G1]; a pin we do not see below is one whose later
    // loads see everything before this point.
    detail::fence(std::memory_order_seq_cst);
    // acquire: pairs with the release push of records in acquire_record().
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
      // [A2] acquire: pairs with [G3]; a finished critical section happens-before us.
      const std::uint64_t s = r->state.load(std::memory_order_acquire);
      if (record::is_pinned(s) && record::epoch_of(s) != g) {
        stalled_.fetch_add(1, std::memory_order_relaxed);  // telemetry only
        return false;
      }
    }
    // [A3] acq_rel CAS: release hands what [A2] acquired on to collectors that
    // acquire-load E ([R2], [Y1]); acquire orders us after a previous advance.
    if (epoch_.value.compare_exchange_strong(g, g + 1, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      stalled_.store(0, std::memory_order_relaxed);  // telemetry only
      return true;
    }
    return false;
  }

  // Frees every sealed bag whose tag is two epochs behind E; puts the rest back.
  // `r` (may be null) receives one freed bag as its spare, so steady-state retiring
  // does not allocate.
  void collect(record* r, bool force = false) noexcept {
    if (sealed_.load(std::memory_order_relaxed) == nullptr) return;  // a hint; [R1] decides
    // A bag becomes freeable only when E moves, so while E stands still (a stalled
    // reader) a pass would walk an ever longer list to free nothing: skip it. Relaxed:
    // a stale value only costs one redundant or one postponed pass.
    const std::uint64_t now = epoch_.value.load(std::memory_order_relaxed);
    if (collected_at_.exchange(now, std::memory_order_relaxed) == now && !force) return;
    // [R1] acquire: take the whole list; pairs with [S2]. Taking all at once (instead of
    // popping one bag) leaves no ABA window on the list.
    for (;;) {
      bag* list = sealed_.exchange(nullptr, std::memory_order_acquire);
      // [R2] acquire: pairs with [A3]; the critical sections that let E reach this value
      // happen-before the deleters we run.
      const std::uint64_t e = epoch_.value.load(std::memory_order_acquire);
      bag* keep_first = nullptr;
      bag* keep_last = nullptr;
      while (list != nullptr) {
        bag* b = std::exchange(list, list->next);
        if (b->epoch + 2 <= e) {  // INV3
          free_bag(b, r);
        } else {
          b->next = keep_first;
          keep_first = b;
          if (keep_last == nullptr) keep_last = b;
        }
      }
      if (keep_first == nullptr) return;
      push_sealed(keep_first, keep_last);
      // [R3] If E moved while we held the batches, a barrier() may have found the list
      // empty and be relying on us: judge the kept ones again against the newer epoch.
      // The full fence pairs with [B1] (store-buffering: our push, then our read of E).
      detail::fence(std::memory_order_seq_cst);
      if (epoch_.value.load(std::memory_order_acquire) == e) return;
    }
  }

  void free_bag(bag* b, record* r) noexcept {
    const std::size_t n = b->count;
    for (std::size_t i = 0; i < n; ++i) b->items[i].reclaim(b->items[i]);
    freed_total_.fetch_add(n, std::memory_order_relaxed);  // telemetry only
    b->count = 0;
    b->next = nullptr;
    if (r != nullptr && r->spare == nullptr) {
      r->spare = b;
    } else {
      delete b;
    }
  }

  // ---- thread records ---------------------------------------------------------------------
  record* current_record() {
    if constexpr (detail::model_checked) {
#if defined(LOCKLESS_RELACY)
      const unsigned t = detail::thread_index();
      if (t >= max_model_threads) std::terminate();
      if (relacy_records_[t] == nullptr) relacy_records_[t] = acquire_record();
      return relacy_records_[t];
#endif
    } else {
      const detail::epoch_tls_cache& c = detail::tls_epoch_cache;
      if (c.domain_id == id_) [[likely]] return c.record;
    }
    return current_record_slow();
  }

  record* current_record_slow() {
    if (detail::tls_epoch_exiting) {
      // This thread's registrations are gone (thread exit under way: another
      // thread_local's destructor is using the domain). Serve it with a temporary record.
      record* r = acquire_record();
      r->temporary = true;
      detail::tls_epoch_cache = {id_, r};  // unlock() / nested calls must find it again
      return r;
    }
    auto& st = detail::epoch_thread_state::instance();
    record* r = nullptr;
    for (const auto& e : st.entries) {
      if (e.domain_id == id_) r = e.record;
    }
    if (r == nullptr) {
      {  // Registration is rare: drop entries of domains that have died meanwhile.
        auto& reg = detail::epoch_registry::instance();
        std::lock_guard lock(reg.mutex);
        std::erase_if(st.entries, [&](const auto& e) {
          return e.domain_id != default_id && !reg.alive(e.domain_id);
        });
      }
      st.entries.reserve(st.entries.size() + 1);  // may throw before we own anything
      r = acquire_record();
      st.entries.push_back({id_, this, r});
    }
    detail::tls_epoch_cache = {id_, r};
    return r;
  }

  record* acquire_record() {
    // Reuse a record a finished thread released.
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
      bool expected = false;
      // Relaxed pre-check avoids a CAS on every busy record. The CAS is acquire: pairs
      // with release_record()'s release store, so the previous owner's writes to the
      // owner-only fields happen-before ours (INV4).
      if (!r->in_use.load(std::memory_order_relaxed) &&
          r->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
        return r;
      }
    }
    auto* r = new record;  // in_use starts true
    record* head = records_.load(std::memory_order_relaxed);  // first guess for the CAS
    do {
      r->next = head;
      // release: publishes the record's initialisation to list walkers (acquire loads).
    } while (!records_.compare_exchange_weak(head, r, std::memory_order_release,
                                             std::memory_order_relaxed));
    return r;
  }

  // Hands a record back: its open batch is sealed onto the domain's list (the orphan
  // hand-over), its spare freed, and the record marked free for reuse.
  void release_record(record* r) noexcept {
    r->nest = 0;
    r->temporary = false;
    r->state.store(0, std::memory_order_release);  // as [G3]
    seal(*r);
    delete std::exchange(r->spare, nullptr);
    // release: pairs with acquire_record()'s CAS (INV4).
    r->in_use.store(false, std::memory_order_release);
  }

  void release_if_temporary(record& r) noexcept {
    if (r.temporary && r.nest == 0) {
      if (detail::tls_epoch_cache.record == &r) detail::tls_epoch_cache = {0, nullptr};
      release_record(&r);
    }
  }

  std::uint64_t id_;
  detail::cache_padded<detail::atomic<std::uint64_t>> epoch_{0};  // E
  detail::atomic<record*> records_{nullptr};
  detail::atomic<bag*> sealed_{nullptr};
  detail::atomic<std::size_t> freed_total_{0};
  detail::atomic<std::uint64_t> stalled_{0};
  detail::atomic<std::uint64_t> collected_at_{std::numeric_limits<std::uint64_t>::max()};
#if defined(LOCKLESS_RELACY)
  record* relacy_records_[max_model_threads] = {};
#endif
};

namespace detail {

inline epoch_thread_state::~epoch_thread_state() {
  tls_epoch_exiting = true;
  tls_epoch_cache = {0, nullptr};
  auto& reg = epoch_registry::instance();
  std::lock_guard lock(reg.mutex);
  for (const entry& e : entries) {
    // The default domain never dies; any other may already have been destroyed.
    if (e.domain_id == epoch_domain::default_id || reg.alive(e.domain_id)) {
      e.domain->release_record(e.record);
    }
  }
}

#if !defined(LOCKLESS_RELACY)
// The default domain lives in constant-initialized storage and is never destroyed, so
// it can be used from any static constructor or destructor and from threads that
// outlive main(). Garbage left in it at exit stays reachable (not reported as a leak).
union default_domain_storage {
  epoch_domain domain;
  constexpr default_domain_storage() noexcept : domain(epoch_domain::default_tag{}) {}
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
  static epoch_domain* d = new epoch_domain(epoch_domain::default_tag{});
  return *d;
#endif
}

// RAII read-side critical section: while a guard of domain D lives, no object retired to
// D after the guard was created is freed. Guards nest (inner ones cost two plain
// increments). Not copyable or movable: it belongs to the thread that created it.
class epoch_guard {
 public:
  // A thread's first guard in a domain registers it (allocates; may throw bad_alloc).
  epoch_guard() : epoch_guard(default_epoch_domain()) {}
  explicit epoch_guard(epoch_domain& d) : d_(&d), r_(d.current_record()) {
    d_->pin(*r_);
  }
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

// The reclamation policy of node-based containers (their `Reclaimer` parameter).
// A container calls `pin()` around every access that dereferences shared nodes and
// `guard.retire(node)` after unlinking one. Holds a reference to its domain: the domain
// must outlive every container that uses it.
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

}  // namespace lockless
