// tests/relacy/epoch_scenarios.hpp: Relacy scenarios of lockless::epoch_domain alone (the
// RCU pattern), shared by epoch.cpp (the real header) and the epoch_mutants.cpp program
// (broken copies of it, see epoch_mutants.cmake).
//
// A shared pointer `current` to an object whose payload is a detail::var (so Relacy checks
// every read of it for races and for use after free). Thread 0 is the writer: twice (by
// default), it swaps in a new object (release) and disposes of the old one, either
//   retire:      domain.retire(old), then flush() three times by default (seal, advance,
//                collect: enough to free it during the execution when no reader holds it
//                back),
//   barrier:     domain.retire(old), then domain.barrier(), after which old must be gone,
//   synchronize: domain.synchronize() (waits for pre-existing readers, spinning through
//                detail::backoff, which yields under Relacy), then delete old.
// Then come the readers: per round, pin (epoch_guard), acquire-load `current`, read the
// payload, optionally dwell (scheduling points while pinned), read it again, unpin;
// optionally flush() afterwards, so that readers advance the epoch and run deleters too.
// Last come the advancers, which only call flush() (three times by default; never pinned,
// nothing retired): threads that move the epoch on behalf of others.
//
// Two ways an EBR bug becomes visible:
//   - a reader reads the payload after the object was freed: ACCESS TO FREED MEMORY;
//   - with `poison`, the object's destructor writes its payload (as many destructors
//     do): a reader's read that does not happen-before the destruction is a DATA RACE
//     even when the free comes later in Relacy's interleaving. This is what catches a
//     missing release on unpin ([EG3]) or a missing acquire in the scan ([EA2]), which
//     never let a read run after the free. (Relacy does not treat freeing memory as an
//     access, so without a write in the destructor such bugs are invisible.)
#pragma once

#include <lockless/epoch.hpp>

namespace lockless_relacy {

// Objects alive in the current execution (reset by before(); Relacy's threads are fibers
// of one OS thread, so a plain counter is exact).
inline int& ebr_live_objects() {
  static int n = 0;
  return n;
}

template <bool Poison>
struct ebr_object {
  lockless::detail::var<int> value;
  explicit ebr_object(int v) : value(std::in_place, v) { ++ebr_live_objects(); }
  ~ebr_object() {
    if constexpr (Poison) value.get_mut() = -1;  // a write: must come after every reader
    --ebr_live_objects();
  }
  ebr_object(const ebr_object&) = delete;
  ebr_object& operator=(const ebr_object&) = delete;
};

enum class dispose { retire, barrier, synchronize };

// The shape of one scenario.
struct ebr_config {
  int readers = 1;
  bool poison = false;            // the object's destructor writes its payload
  dispose how = dispose::retire;  // what the writer does with the old object
  int versions = 2;               // objects the writer swaps in
  int writer_flushes = 3;         // dispose::retire: flush() calls after each retire
  int rounds = 2;                 // critical sections per reader
  // Scheduling points a reader spends pinned between its two reads (a slow reader).
  // Without it the random scheduler almost never lets the writer run a whole
  // exchange/retire/flush/flush (about 40 scheduling points) inside one critical section.
  int dwell = 0;
  bool readers_flush = false;  // readers flush() after each critical section
  int advancers = 0;           // threads that only flush() (advancer_flushes times)
  int advancer_flushes = 3;
  // Every thread registers (an empty guard) before anything else. Registration takes the
  // domain's mutex, which synchronizes: a reader that registers only at its first guard,
  // after the writer's registration (the writer's first retire, after its first unlink),
  // is ordered after that unlink and can never load the old object. Registering first
  // keeps the schedules in which a reader runs late and still loads a stale `current`.
  bool register_first = true;
  // Readers and advancers end with unregister_current_thread(). Releasing a record seals,
  // advances the epoch (a CAS) and collects: a later advance by the writer reads that
  // CAS and is ordered after the whole thread, which hides a missing release on unpin
  // ([EG3]) or a missing acquire in the scan ([EA2]) unless the writer frees inside a
  // window of a few steps. false: they stay registered (the destructor settles them).
  bool others_unregister = true;
};

template <class Derived, ebr_config C>
struct ebr_suite : rl::test_suite<Derived, 1 + C.readers + C.advancers> {
  using object = ebr_object<C.poison>;
  static constexpr int versions = C.versions;

  static constexpr int others = C.readers + C.advancers;

  lockless::epoch_domain* domain = nullptr;
  lockless::detail::atomic<object*>* current = nullptr;
  // Threads other than the writer that have finished (unregistered included). Relaxed
  // only: a test oracle that must not add happens-before edges.
  lockless::detail::atomic<int>* finished = nullptr;

  void before() {
    ebr_live_objects() = 0;
    domain = new lockless::epoch_domain;
    current = new lockless::detail::atomic<object*>(new object(0));
    finished = new lockless::detail::atomic<int>(0);
  }

  void thread(unsigned index) {
    if constexpr (C.register_first) {
      lockless::epoch_guard registers(*domain);
    }
    if (index == 0) {
      writer();
    } else if (index <= static_cast<unsigned>(C.readers)) {
      reader();
    } else {
      for (int i = 0; i < C.advancer_flushes; ++i) domain->flush();
    }
    if (index == 0 || C.others_unregister) domain->unregister_current_thread();
    if (index != 0) finished->fetch_add(1, std::memory_order_relaxed);
  }

  void writer() {
    for (int v = 1; v <= versions; ++v) {
      object* fresh = new object(v);
      // Release publishes the payload; the old object's payload was published before
      // (by us, or by before()), so no acquire is needed.
      object* old = current->exchange(fresh, std::memory_order_release);
      if constexpr (C.how == dispose::retire) {
        domain->retire(old);
        for (int i = 0; i < C.writer_flushes; ++i) domain->flush();
      } else if constexpr (C.how == dispose::barrier) {
        domain->retire(old);
        domain->barrier();
        // barrier() returns once old is destroyed, unless another thread's collect()
        // took its batch and is destroying it right now (readers_flush, advancers, and
        // every thread's unregister_current_thread(), which collects). Once every other
        // thread has finished, no such collector is left.
        if (finished->load(std::memory_order_relaxed) == others) RL_ASSERT(ebr_live_objects() == 1);
      } else {
        domain->synchronize();
        delete old;
      }
    }
    if constexpr (C.how == dispose::barrier) {
      // Wait for the others (their collections), then: everything retired before the
      // last barrier() is gone (readers retire nothing). A batch a concurrent collector
      // put back without re-checking the epoch ([ER3]/[EB1]) would still be alive here.
      while (finished->load(std::memory_order_relaxed) != others) lockless::detail::yield_point();
      RL_ASSERT(ebr_live_objects() == 1);
    }
  }

  void reader() {
    int last = -1;
    for (int round = 0; round < C.rounds; ++round) {
      {
        lockless::epoch_guard guard(*domain);
        object* p = current->load(std::memory_order_acquire);
        const int a = p->value.get();
        RL_ASSERT(a >= 0 && a <= versions);
        RL_ASSERT(a >= last);  // versions only move forward (coherence + acquire)
        last = a;
        for (int k = 0; k < C.dwell; ++k) lockless::detail::yield_point();
        const int b = p->value.get();  // later in the same critical section
        RL_ASSERT(a == b);
      }
      if constexpr (C.readers_flush) domain->flush();
    }
  }

  void after() {
    delete current->load(std::memory_order_relaxed);  // quiescent
    delete current;
    delete finished;
    delete domain;  // frees what is still retired
    RL_ASSERT(ebr_live_objects() == 0);
  }
};

// ---- scenarios ------------------------------------------------------------------------

// One reader, two critical sections; the writer retires and flushes.
struct ebr_retire : ebr_suite<ebr_retire, ebr_config{}> {};

// The same with a destructor that writes the payload.
struct ebr_retire_poison : ebr_suite<ebr_retire_poison, ebr_config{.poison = true}> {};

// The same with a reader that stays registered (its release would advance the epoch
// and order it before the writer's frees: see others_unregister).
struct ebr_retire_poison_registered
    : ebr_suite<ebr_retire_poison_registered,
                ebr_config{.poison = true, .others_unregister = false}> {};

// A slow reader: 32 scheduling points pinned between its two reads.
struct ebr_slow_reader : ebr_suite<ebr_slow_reader, ebr_config{.rounds = 1, .dwell = 32}> {};

// The writer retires and calls barrier(); the destructor writes.
struct ebr_barrier : ebr_suite<ebr_barrier, ebr_config{.poison = true, .how = dispose::barrier}> {};

// Two readers that also flush (so the epoch advances and deleters run on any thread);
// the destructor writes. Three threads.
struct ebr_two_readers
    : ebr_suite<ebr_two_readers, ebr_config{.readers = 2, .poison = true, .readers_flush = true}> {
};

// A slow reader and a third thread that advances the epoch: the advance that lets the
// writer free an object may come from a thread that retired nothing (so the fence of
// seal() [ES1] is not on its path). Three threads.
struct ebr_advancer
    : ebr_suite<ebr_advancer, ebr_config{.rounds = 1, .dwell = 16, .advancers = 1}> {};

// The writer waits in synchronize() and deletes; the destructor writes.
struct ebr_synchronize
    : ebr_suite<ebr_synchronize, ebr_config{.poison = true, .how = dispose::synchronize}> {};

// synchronize() against a slow reader.
struct ebr_synchronize_slow_reader
    : ebr_suite<ebr_synchronize_slow_reader,
                ebr_config{.how = dispose::synchronize, .rounds = 1, .dwell = 32}> {};

// synchronize() against a reader that flushes between its critical sections, so the
// epoch moves while the writer is between its unlink and synchronize()'s first read of
// the epoch. The reader's second critical section may pin at the new epoch and still
// load the unlinked object; synchronize() must wait for it all the same.
struct ebr_synchronize_flushing_reader
    : ebr_suite<ebr_synchronize_flushing_reader,
                ebr_config{.poison = true, .how = dispose::synchronize, .readers_flush = true}> {};

// The same with a slow reader (the failure shows as a read of freed memory).
struct ebr_synchronize_flushing_slow_reader
    : ebr_suite<ebr_synchronize_flushing_slow_reader,
                ebr_config{
                    .how = dispose::synchronize, .rounds = 3, .dwell = 16, .readers_flush = true}> {
};

// ---- scenarios for the tags of seal, collect and barrier ------------------------------

// A retired object passes from one thread to another inside a sealed batch. Thread 0
// retires an object and flushes once (seal, one advance attempt, a collection that keeps
// the batch: its tag is too recent); thread 1 only flushes, three times, so it may be the
// one that frees thread 0's batch, reading the bag's fields (next, epoch, count, items)
// that thread 0 wrote and running the deleter, whose write to the payload (poison) must
// come after the constructor's. Only the sealed list orders these: [ES2] with [ER1]. (When
// thread 0's own advance succeeds, thread 1's later reads of E synchronize with it, so
// the failing schedules are those in which thread 1 advances first and thread 0's CAS
// fails.)
template <class Derived, int Sealers>
struct ebr_handover_suite : rl::test_suite<Derived, Sealers + 1> {
  using object = ebr_object<true>;
  lockless::epoch_domain* domain = nullptr;

  void before() {
    ebr_live_objects() = 0;
    domain = new lockless::epoch_domain;
  }

  void thread(unsigned index) {
    if (index < static_cast<unsigned>(Sealers)) {
      domain->retire(new object(static_cast<int>(index)));
      domain->flush();
    } else {
      for (int i = 0; i < 3; ++i) domain->flush();
    }
    domain->unregister_current_thread();
  }

  void after() {
    delete domain;  // frees what is still retired
    RL_ASSERT(ebr_live_objects() == 0);
  }
};

struct ebr_handover : ebr_handover_suite<ebr_handover, 1> {};

// One reader that flushes between its critical sections (so the epoch moves while the
// writer is between its unlink and its seal); the destructor writes. The tag that [ES1]
// reads must be at least the epoch the reader pinned at when it still loads the unlinked
// object: a stale tag lets the writer free it one epoch early.
struct ebr_flushing_reader
    : ebr_suite<ebr_flushing_reader, ebr_config{.poison = true, .readers_flush = true}> {};

// barrier() against a thread that collects concurrently (an advancer: three flushes,
// then its unregister, which collects too). The collector may take the sealed list while
// the batch is still too young, and put it back after barrier() advanced the epoch and
// found the list empty: then [ER3] (the collector judges the batch again) and [EB1]
// (barrier's fence, which pairs with [ER3]'s) are what get it freed. Checked by the
// writer once the collector has finished: everything retired before barrier() is gone.
struct ebr_barrier_collector
    : ebr_suite<ebr_barrier_collector,
                ebr_config{.readers = 0, .poison = true, .how = dispose::barrier, .advancers = 1}> {
};

// synchronize() while a third thread advances the epoch: the advance that lets
// synchronize() return may be the other thread's, which scanned the reader's unpin; the
// caller is ordered after the reader's critical section only through its acquire load
// of E ([EY1]) reading that advance. The destructor writes.
struct ebr_synchronize_advancer
    : ebr_suite<ebr_synchronize_advancer, ebr_config{.poison = true,
                                                     .how = dispose::synchronize,
                                                     .rounds = 1,
                                                     .advancers = 1,
                                                     .others_unregister = false}> {};

// ---- a scenario for try_advance's program order ---------------------------------------

// try_advance reads E before its fence [EA1] (epoch.hpp INV1): a program order, not a
// memory order, and load-bearing all the same. Three threads that each do as little as
// they can: the writer unlinks one object, retires it and flushes once (the seal tags the
// batch 0; the advance 0 -> 1 sees the reader pinned at 0, which is allowed); the reader
// pins, reads the object, dwells and reads it again; the advancer flushes once. With the
// read after the fence, the advancer's fence may come before the reader's pin [EG1] (so
// its scan need not see the pin) while its read of E returns the writer's advance, which
// came after that fence: it advances 1 -> 2 and frees the batch tagged 0 under the
// reader. The reader must stay pinned across the writer's advance (had the writer's scan
// read the reader's unpin, the chain [EA2] -> [EA3] -> the advancer's CAS would order the
// reads before the free), so it dwells: a yield is a free switch for the bounded search,
// and one preemption (the advancer's, between its fence and its read of E) finds the bug.
// Four yields rather than one: a smaller bounded search (625 K executions instead of
// 847 K, measured).
struct ebr_advance_order : ebr_suite<ebr_advance_order, ebr_config{.versions = 1,
                                                                   .writer_flushes = 1,
                                                                   .rounds = 1,
                                                                   .dwell = 4,
                                                                   .advancers = 1,
                                                                   .advancer_flushes = 1,
                                                                   .others_unregister = false}> {};

}  // namespace lockless_relacy
