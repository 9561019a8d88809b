// Unit tests of lockless/epoch.hpp: the lifecycle of a thread's registration in a domain
// and of the domain itself, at the edges where the simple "register on first use, release
// at thread exit" story stops being simple:
//
//   * misuse that must be refused without corrupting the record (unregister while pinned,
//     unlock() with nothing locked);
//   * a record handed to its next owner, which must start unpinned;
//   * thread exit: guards and lock()/unlock() in other thread_locals' destructors that run
//     after the epoch's own per-thread state is gone, and a thread whose FIRST use of the
//     library happens in a pthread key destructor (after every thread_local destructor);
//   * domain destruction while a deleter retires into the same domain;
//   * garbage left by many short-lived threads, with nobody calling flush()/barrier();
//   * one thread registered in thousands of domains.
//
// All assertions are about behaviour (pins, frees, counts), none about timing. Tests that
// need a thread_local destroyed after the epoch state use the construction-order trick
// described at late_exit_hook below.
#include <lockless/epoch.hpp>
#include <lockless/treiber_stack.hpp>

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "support/counting.hpp"

namespace {

using lockless::epoch_domain;
using lockless::epoch_guard;
using lockless_test::counted;
using lockless_test::deletion_tracker;
using lockless_test::id_free_tracker;
using lockless_test::tracking_deleter;

constexpr std::size_t bag_capacity = epoch_domain::bag::capacity;

std::size_t pinned(const epoch_domain& d) {
  return d.stats().pinned_threads;
}
std::size_t registered(const epoch_domain& d) {
  return d.stats().registered_threads;
}

template <class T>
void retire_tracked(epoch_domain& d, deletion_tracker& t, T* p) {
  d.retire(p, tracking_deleter<T>{&t});
}

// ---- a thread_local destroyed after the epoch's per-thread state -------------------------
//
// The epoch keeps its per-thread state (the thread's registrations) in a thread_local that
// is created at the thread's first use of any domain. thread_local destructors run in
// reverse order of construction, so a thread_local constructed BEFORE that first use is
// destroyed AFTER the epoch state: its destructor runs "late". run_with_late_hook() starts
// a thread whose very first action is to construct such an object, then calls body(hook)
// (which may use domains, emplace a guard into hook.guard and set hook.at_exit). At thread
// exit the hook's destructor runs at_exit() while hook.guard is still alive, then ends the
// guard. The thread is joined before run_with_late_hook() returns, so at_exit may capture
// the caller's locals by reference.
struct late_exit_hook {
  std::optional<epoch_guard> guard;
  std::function<void()> at_exit;
  ~late_exit_hook() {
    if (at_exit) at_exit();
    guard.reset();
  }
};

void run_with_late_hook(const std::function<void(late_exit_hook&)>& body) {
  std::thread([&body] {
    static thread_local late_exit_hook hook;  // constructed first, so destroyed last
    body(hook);
  }).join();
}

// ---- misuse is refused, and refusing it changes nothing -----------------------------------

// unregister_current_thread() requires that the thread is not pinned in the domain. The header
// these tests were written against released the record anyway: the guard's pin silently
// disappeared (the record was marked unpinned and free while the guard still protected
// pointers with it), and the guard's destructor later decremented the released record's
// nest count below zero.
TEST(EpochLifecycle, UnregisterWhilePinnedThrows) {
  deletion_tracker t;
  {
    epoch_domain d;
    {
      epoch_guard g(d);
      EXPECT_THROW(d.unregister_current_thread(), std::logic_error);
      EXPECT_EQ(pinned(d), 1u) << "a refused unregister must leave the guard's pin in place";
      EXPECT_EQ(registered(d), 1u) << "a refused unregister must keep the registration";
      {
        epoch_guard nested(d);
        EXPECT_THROW(d.unregister_current_thread(), std::logic_error);
      }
      EXPECT_EQ(pinned(d), 1u);
      EXPECT_EQ(registered(d), 1u);
    }
    EXPECT_EQ(pinned(d), 0u);
    EXPECT_EQ(registered(d), 1u);
    // The record is intact: guards pin again, retire + barrier free.
    {
      epoch_guard g(d);
      EXPECT_EQ(pinned(d), 1u);
    }
    for (int i = 0; i < 5; ++i) retire_tracked(d, t, t.make<int>(i));
    EXPECT_NO_THROW(d.barrier()) << "the thread must not look pinned after its guard ended";
    EXPECT_EQ(t.freed(), 5u);
    EXPECT_EQ(d.stats().retired_pending, 0u);
    // Unpinned, unregistering works.
    EXPECT_NO_THROW(d.unregister_current_thread());
    EXPECT_EQ(registered(d), 0u);
  }
  {
    epoch_domain d;  // the same through the BasicLockable facade
    d.lock();
    EXPECT_THROW(d.unregister_current_thread(), std::logic_error);
    EXPECT_EQ(pinned(d), 1u);
    EXPECT_EQ(registered(d), 1u);
    d.unlock();
    EXPECT_EQ(pinned(d), 0u);
    {
      epoch_guard g(d);
      EXPECT_EQ(pinned(d), 1u);
    }
    EXPECT_EQ(pinned(d), 0u);
  }
  {
    // Pinned in ANOTHER domain is no obstacle: the registrations are independent.
    epoch_domain d;
    epoch_domain other;
    d.flush();  // registers
    epoch_guard g(other);
    EXPECT_NO_THROW(d.unregister_current_thread());
    EXPECT_EQ(registered(d), 0u);
    EXPECT_EQ(pinned(other), 1u);
  }
  EXPECT_EQ(t.errors(), 0u);
}

// unlock() without a matching lock() is refused with std::logic_error, and must not wrap
// the record's nesting count: it used to decrement an unsigned 0 to UINT_MAX, after which
// the next guard's pin was taken for a nested one and pinned nothing.
TEST(EpochLifecycle, UnbalancedUnlockThrows) {
  {
    epoch_domain d;  // a domain this thread has never used
    EXPECT_THROW(d.unlock(), std::logic_error);
    {
      epoch_guard g(d);
      EXPECT_EQ(pinned(d), 1u) << "the nesting count wrapped: a guard no longer pins";
    }
    EXPECT_EQ(pinned(d), 0u);
  }
  {
    epoch_domain d;  // a domain this thread used, balanced, before
    d.lock();
    d.unlock();
    {
      epoch_guard g(d);
    }
    EXPECT_THROW(d.unlock(), std::logic_error);
    EXPECT_THROW(d.unlock(), std::logic_error);
    {
      epoch_guard g(d);
      EXPECT_EQ(pinned(d), 1u);
    }
    EXPECT_EQ(pinned(d), 0u);
    EXPECT_NO_THROW(d.barrier());
  }
  {
    // A guard is not a lock(): unlock() while only a guard pins is unbalanced too, and must
    // not end the guard's pin (it used to, and the guard's destructor then wrapped).
    epoch_domain d;
    {
      epoch_guard g(d);
      EXPECT_THROW(d.unlock(), std::logic_error);
      EXPECT_EQ(pinned(d), 1u) << "unlock() ended a guard's pin";
    }
    EXPECT_EQ(pinned(d), 0u);
    {
      epoch_guard g(d);
      EXPECT_EQ(pinned(d), 1u);
    }
    EXPECT_EQ(pinned(d), 0u);
  }
  {
    // Interleaving lock() and guards is legal: lock(); guard; unlock(); ~guard.
    epoch_domain d;
    d.lock();
    {
      epoch_guard g(d);
      d.unlock();
      EXPECT_EQ(pinned(d), 1u) << "the guard still pins";
    }
    EXPECT_EQ(pinned(d), 0u);
    {
      epoch_guard g(d);
      EXPECT_EQ(pinned(d), 1u);
    }
    EXPECT_EQ(pinned(d), 0u);
    EXPECT_NO_THROW(d.barrier());
  }
}

// ---- a released record is handed to the next thread clean ----------------------------------

// Records are reused: a thread that exits releases its record and the next thread that
// registers takes it. Whatever the first owner did with lock()/unlock() and nested guards,
// the new owner starts unpinned: its first guard pins. (The header these tests were
// written against passed this one; it pins down what a rewrite of the nesting and lock
// bookkeeping must keep.)
TEST(EpochLifecycle, RecordHandedToNewOwnerStartsUnpinned) {
  deletion_tracker t;
  epoch_domain d;
  std::thread([&] {
    for (int i = 0; i < 3; ++i) {
      d.lock();
      d.unlock();
    }
    {
      epoch_guard g(d);
      {
        epoch_guard nested(d);
        d.lock();
        {
          epoch_guard innermost(d);
        }
        d.unlock();
      }
      retire_tracked(d, t, t.make<int>(1));
    }
    d.lock();
    {
      epoch_guard g(d);
    }
    d.unlock();
  }).join();
  EXPECT_EQ(registered(d), 0u);
  EXPECT_EQ(pinned(d), 0u);

  std::size_t pinned_in_guard = 0;
  std::size_t pinned_in_nested = 0;
  std::size_t pinned_after = 99;
  std::thread([&] {
    {
      epoch_guard g(d);
      pinned_in_guard = pinned(d);
      {
        epoch_guard nested(d);
      }
      pinned_in_nested = pinned(d);
    }
    pinned_after = pinned(d);
  }).join();
  EXPECT_EQ(pinned_in_guard, 1u) << "the reused record's pin was taken for a nested one";
  EXPECT_EQ(pinned_in_nested, 1u);
  EXPECT_EQ(pinned_after, 0u);
  EXPECT_EQ(pinned(d), 0u);
  d.barrier();
  EXPECT_EQ(t.freed(), 1u);
  EXPECT_EQ(t.errors(), 0u);
}

// The same hand-over after a refused unregister_current_thread() under a guard (see
// UnregisterWhilePinnedThrows). It used to release the record, the guard's destructor then
// wrapped the FREE record's nest count, and the next thread that took the record was
// never pinned by its guards.
TEST(EpochLifecycle, RecordHandedToNewOwnerAfterUnregisterUnderAGuardStartsUnpinned) {
  epoch_domain d;
  bool threw = false;
  std::thread([&] {
    epoch_guard g(d);
    try {
      d.unregister_current_thread();
    } catch (const std::logic_error&) {
      threw = true;
    }
  }).join();
  EXPECT_TRUE(threw);
  EXPECT_EQ(registered(d), 0u);
  EXPECT_EQ(pinned(d), 0u);
  std::size_t pinned_in_guard = 0;
  std::thread([&] {
    epoch_guard g(d);
    pinned_in_guard = pinned(d);
  }).join();
  EXPECT_EQ(pinned_in_guard, 1u) << "the record was handed over with a corrupted nest count";
  EXPECT_EQ(pinned(d), 0u);
}

// ---- guards and locks in thread_local destructors at thread exit --------------------------

// A guard owned by a thread_local that outlives the epoch's per-thread state must keep
// protecting until it ends. It used to be that the epoch state's destructor released the
// guard's record (unpinned, free for reuse) while the guard lived: reclamation ran past it
// (an object retired after the guard began was freed under it), and when the guard finally
// ended it decremented the free record's nest count below zero, so the record's next owner
// was never pinned by its guards.
TEST(EpochLifecycle, ThreadLocalGuardOutlivingEpochStateStillProtects) {
  deletion_tracker t;
  epoch_domain d;
  std::size_t pinned_at_exit = 99;
  std::size_t freed_under_guard = 99;
  int* late = nullptr;
  run_with_late_hook([&](late_exit_hook& hook) {
    {
      epoch_guard first(d);  // the epoch state is created now, after the hook
      retire_tracked(d, t, t.make<int>(1));
    }
    hook.guard.emplace(d);
    hook.at_exit = [&] {
      // Runs after the epoch state is gone, while hook.guard still lives.
      pinned_at_exit = pinned(d);
      late = t.make<int>(2);
      retire_tracked(d, t, late);  // retired after the guard began: must survive it
      // Every reclamation attempt this thread can make (flush never blocks, so it is
      // allowed while pinned; it may advance the epoch at most once past the guard).
      d.flush();
      d.flush();
      d.flush();
      freed_under_guard = t.is_outstanding(late) ? 0 : 1;
    };
  });
  EXPECT_EQ(pinned_at_exit, 1u) << "the epoch state's destructor dropped a live guard's pin";
  EXPECT_EQ(freed_under_guard, 0u) << "an object retired under a live guard was freed under it";

  // The record (released when the guard finally ended) goes to the next thread.
  std::size_t pinned_in_guard = 0;
  std::thread([&] {
    epoch_guard g(d);
    pinned_in_guard = pinned(d);
  }).join();
  EXPECT_EQ(pinned_in_guard, 1u) << "the reused record's nest count had wrapped";

  EXPECT_EQ(pinned(d), 0u);
  EXPECT_EQ(registered(d), 0u);
  d.barrier();
  EXPECT_EQ(t.freed(), 2u);
  EXPECT_EQ(t.outstanding(), 0u);
  EXPECT_EQ(d.stats().retired_pending, 0u);
  EXPECT_EQ(t.errors(), 0u);
}

// In a late thread_local destructor: a.lock(); { guard on b; } a.unlock(). It used to
// be that every exit-time lookup handed out a fresh temporary record, and the thread's
// one-entry cache was cleared when b's temporary record was released, so unlock() found a
// NEW record of a (and wrapped its count) instead of the one lock() pinned. a stayed
// pinned forever by a thread that had exited: its epoch could never advance twice again,
// nothing retired to it was ever freed, and synchronize()/barrier() on it hung (which is
// why they are not called here).
TEST(EpochLifecycle, LockOnOneDomainUseAnotherThenUnlockAtThreadExit) {
  deletion_tracker t;
  epoch_domain a;
  epoch_domain b;
  run_with_late_hook([&](late_exit_hook& hook) {
    {
      epoch_guard ga(a);
    }  // the epoch state is created now, after the hook
    {
      epoch_guard gb(b);
    }
    hook.at_exit = [&] {
      a.lock();
      {
        epoch_guard gb(b);
      }
      a.unlock();
    };
  });
  EXPECT_EQ(pinned(a), 0u) << "the exited thread left a pinned";
  EXPECT_EQ(pinned(b), 0u);
  EXPECT_EQ(registered(a), 0u) << "exit-time records are leaked as in use";
  EXPECT_EQ(registered(b), 0u);

  for (int i = 0; i < 10; ++i) retire_tracked(a, t, t.make<int>(i));
  const std::uint64_t e = a.epoch();
  a.flush();
  a.flush();
  a.flush();
  EXPECT_GE(a.epoch(), e + 3) << "the epoch is stuck behind the exited thread's pin";
  EXPECT_EQ(t.freed(), 10u) << "nothing retired to a can be freed any more";
  EXPECT_EQ(t.errors(), 0u);
}

// unregister_current_thread() from a late thread_local destructor, after the epoch state
// was destroyed. It used to walk the destroyed state's entry vector: a use after
// free (heap-use-after-free under ASan; silent in a plain build). It must be harmless: the
// thread holds no registration there any more (exit-time records are released when their
// use ends), or it releases the one it holds.
TEST(EpochLifecycle, UnregisterFromThreadLocalDestructorAfterStateIsGoneAfterUsingDomain) {
  deletion_tracker t;
  epoch_domain d;
  run_with_late_hook([&](late_exit_hook& hook) {
    retire_tracked(d, t, t.make<int>(1));  // the epoch state is created now, after the hook
    {
      epoch_guard g(d);
    }
    hook.at_exit = [&] {
      {
        epoch_guard g(d);
        g.retire(t.make<int>(2), tracking_deleter<int>{&t});
      }
      retire_tracked(d, t, t.make<int>(3));
      d.unregister_current_thread();
      d.unregister_current_thread();  // twice: a no-op
    };
  });
  EXPECT_EQ(registered(d), 0u);
  EXPECT_EQ(pinned(d), 0u);
  d.barrier();
  EXPECT_EQ(t.freed(), 3u);
  EXPECT_EQ(t.errors(), 0u);
}

TEST(EpochLifecycle, UnregisterFromThreadLocalDestructorAfterStateIsGoneWithoutUsingDomain) {
  deletion_tracker t;
  epoch_domain d;
  epoch_domain never_used_at_exit;
  run_with_late_hook([&](late_exit_hook& hook) {
    retire_tracked(d, t, t.make<int>(1));  // the epoch state is created now, after the hook
    {
      epoch_guard g(d);
    }
    hook.at_exit = [&] {
      d.unregister_current_thread();
      never_used_at_exit.unregister_current_thread();  // never registered at all
    };
  });
  EXPECT_EQ(registered(d), 0u);
  EXPECT_EQ(pinned(d), 0u);
  EXPECT_EQ(registered(never_used_at_exit), 0u);
  d.barrier();
  EXPECT_EQ(t.freed(), 1u);
  EXPECT_EQ(t.errors(), 0u);
}

// ---- domain destruction runs deleters that retire into the same domain --------------------

// A node whose deleter retires the next node of its chain into the same domain (think of
// a structure whose node destructor unlinks and retires its children).
struct chain_node {
  std::size_t id;
  chain_node* next;
};
struct chain_deleter {
  epoch_domain* d;
  id_free_tracker* t;
  void operator()(chain_node* n) const noexcept {
    t->on_free(n->id);
    if (n->next != nullptr) d->retire(n->next, *this);
    delete n;
  }
};
static_assert(lockless::detail::retired::fits_inline<chain_node, chain_deleter>);

enum class chain_head { open_bag, sealed_bag, exited_thread };

// ~epoch_domain() frees what is left, running deleters; a deleter that retires into the
// dying domain must see its object freed too, exactly once, before the destructor returns.
// N = 200 is more than a bag holds, so the destructor's retirements fill bags. The
// destructor used to free a bag while it was still the thread's open bag: the node retired
// by its deleter was appended to the bag being freed, past the count already read, and
// lost with it (the rest of the chain was never retired: a leak, and 1 or 2 frees instead
// of 200).
void destroy_domain_with_retiring_deleter(chain_head where) {
  constexpr std::size_t n = 200;
  static_assert(n > bag_capacity);
  id_free_tracker t(n);
  chain_node* head = nullptr;
  for (std::size_t i = n; i-- > 0;) head = new chain_node{i, head};

  auto d = std::make_unique<epoch_domain>();
  const chain_deleter del{d.get(), &t};
  switch (where) {
    case chain_head::open_bag:
      d->retire(head, del);  // stays in this thread's open bag
      break;
    case chain_head::sealed_bag:
      d->retire(head, del);
      d->flush();  // sealed; not expired (the epoch advanced once)
      break;
    case chain_head::exited_thread:
      std::thread([&] { d->retire(head, del); }).join();  // handed over at exit
      break;
  }
  ASSERT_EQ(t.total_frees(), 0u);
  d.reset();
  EXPECT_EQ(t.total_frees(), n) << "every node of the chain is freed by the destructor";
  EXPECT_TRUE(t.not_freed_exactly_once(n).empty()) << "a node was freed twice or never";

  // A new domain on this thread (often at the same address): this thread's cached record
  // of the dead domain must not be taken for a record of the new one.
  auto fresh = std::make_unique<epoch_domain>();
  {
    epoch_guard g(*fresh);
    EXPECT_EQ(pinned(*fresh), 1u);
    EXPECT_EQ(registered(*fresh), 1u);
  }
  EXPECT_EQ(pinned(*fresh), 0u);
  deletion_tracker dt;
  for (int i = 0; i < 5; ++i) retire_tracked(*fresh, dt, dt.make<int>(i));
  fresh->barrier();
  EXPECT_EQ(dt.freed(), 5u);
  EXPECT_EQ(fresh->stats().retired_pending, 0u);
  EXPECT_EQ(dt.errors(), 0u);
}

TEST(EpochLifecycle, DomainDestructorToleratesDeleterThatRetiresIntoSameDomain) {
  {
    SCOPED_TRACE("chain head in the destroying thread's open bag");
    destroy_domain_with_retiring_deleter(chain_head::open_bag);
  }
  {
    SCOPED_TRACE("chain head in a sealed bag");
    destroy_domain_with_retiring_deleter(chain_head::sealed_bag);
  }
  {
    SCOPED_TRACE("chain head handed over by an exited thread");
    destroy_domain_with_retiring_deleter(chain_head::exited_thread);
  }
}

// ---- garbage of short-lived threads stays bounded -------------------------------------------

// Threads that retire a little and exit hand their open batch to the domain. With nobody
// calling flush()/barrier()/synchronize(), and no thread ever filling a bag, nothing but
// the exits themselves can reclaim it. Nothing used to: retired_pending grew with the
// number of threads (40,000 after 4,000 threads of 10). It must stay bounded by a constant
// (a few exits' worth), not by the thread count.
struct short_lived_tag {};
using short_lived_object = counted<short_lived_tag>;

TEST(EpochLifecycle, ShortLivedThreadsKeepGarbageBounded) {
  constexpr std::size_t per_thread = 10;
  constexpr std::size_t bound = 100;  // independent of the number of threads
  short_lived_object::counters().reset();
  epoch_domain d;
  std::size_t retired = 0;
  auto run_one = [&] {
    std::thread([&] {
      for (std::size_t i = 0; i < per_thread; ++i) d.retire(new short_lived_object(i));
    }).join();
    retired += per_thread;
  };
  for (int i = 0; i < 1000; ++i) run_one();
  const std::size_t pending_1000 = d.retired_pending();
  for (int i = 1000; i < 4000; ++i) run_one();
  const std::size_t pending_4000 = d.retired_pending();
  EXPECT_LE(pending_1000, bound) << "after 1,000 threads";
  EXPECT_LE(pending_4000, bound) << "after 4,000 threads: garbage grows with the thread count";
  EXPECT_EQ(registered(d), 0u);
  EXPECT_EQ(static_cast<std::size_t>(short_lived_object::counters().live()), pending_4000);

  d.barrier();
  EXPECT_EQ(d.retired_pending(), 0u);
  EXPECT_EQ(short_lived_object::counters().live(), 0);
  EXPECT_EQ(static_cast<std::size_t>(short_lived_object::counters().destructions.load()), retired);
  EXPECT_EQ(short_lived_object::counters().errors.load(), 0);
}

TEST(EpochLifecycle, ShortLivedThreadsInWavesKeepGarbageBounded) {
  constexpr std::size_t per_thread = 10;
  constexpr std::size_t wave_size = 8;
  constexpr std::size_t bound = wave_size * per_thread * 4;  // a few waves' worth
  short_lived_object::counters().reset();
  epoch_domain d;
  std::size_t retired = 0;
  std::size_t max_pending = 0;
  for (int wave = 0; wave < 500; ++wave) {
    std::vector<std::thread> ts;
    ts.reserve(wave_size);
    for (std::size_t i = 0; i < wave_size; ++i) {
      ts.emplace_back([&] {
        for (std::size_t j = 0; j < per_thread; ++j) d.retire(new short_lived_object(j));
      });
    }
    for (auto& th : ts) th.join();
    retired += wave_size * per_thread;
    if (wave == 124 || wave == 499) max_pending = std::max(max_pending, d.retired_pending());
  }
  EXPECT_LE(max_pending, bound) << "garbage grows with the number of waves";
  EXPECT_EQ(registered(d), 0u);
  d.barrier();
  EXPECT_EQ(d.retired_pending(), 0u);
  EXPECT_EQ(short_lived_object::counters().live(), 0);
  EXPECT_EQ(static_cast<std::size_t>(short_lived_object::counters().destructions.load()), retired);
  EXPECT_EQ(short_lived_object::counters().errors.load(), 0);
}

// ---- first use of the library from a pthread key destructor --------------------------------

// glibc runs pthread key destructors after the C++ thread_local destructors. A thread whose
// first use of the library happens there creates the epoch state (and the node pool's
// owner) as thread_locals whose destructors are never run: its registration used to stay
// in use forever with its garbage in an open batch nobody could seal (barrier() from
// another thread could not free it), and LeakSanitizer reported the thread_local
// bookkeeping and the node pool's cached blocks as leaked. Exit-time cleanup must happen anyway.
struct key_destructor_tag {};
using key_destructor_object = counted<key_destructor_tag>;

struct key_destructor_context {
  epoch_domain* d;
  std::atomic<bool> ran{false};
};

void key_destructor_uses_lockless(void* arg) {
  auto* ctx = static_cast<key_destructor_context*>(arg);
  epoch_domain& d = *ctx->d;
  {
    epoch_guard g(d);
    for (std::uint64_t i = 0; i < 5; ++i) g.retire(new key_destructor_object(i));
  }
  for (std::uint64_t i = 5; i < 10; ++i) d.retire(new key_destructor_object(i));
  {
    // Node-based containers: nodes come from the per-thread node pool. One popped node is
    // retired (to d, and to the default domain); the stacks' destructors free the rest
    // into this thread's node-pool cache.
    lockless::treiber_stack<int> s{lockless::epoch_reclaimer(d)};
    lockless::treiber_stack<int> on_default;
    for (int i = 0; i < 3; ++i) {
      s.push(i);
      on_default.push(i);
    }
    (void)s.try_pop();
    (void)on_default.try_pop();
  }
  ctx->ran.store(true, std::memory_order_release);
}

TEST(EpochLifecycle, FirstUseFromPthreadKeyDestructor) {
  key_destructor_object::counters().reset();
  pthread_key_t key;
  ASSERT_EQ(pthread_key_create(&key, key_destructor_uses_lockless), 0);
  epoch_domain d;
  key_destructor_context ctx{&d};
  auto& dd = lockless::default_epoch_domain();
  const std::size_t default_registered_before = registered(dd);
  std::thread([&] {
    // Nothing else of lockless on this thread: its first use is in the key destructor.
    ASSERT_EQ(pthread_setspecific(key, &ctx), 0);
  }).join();
  ASSERT_TRUE(ctx.ran.load(std::memory_order_acquire));

  EXPECT_EQ(registered(d), 0u) << "the key destructor's registration was never released";
  EXPECT_EQ(pinned(d), 0u);
  EXPECT_EQ(registered(dd), default_registered_before)
      << "the key destructor's registration in the default domain was never released";
  EXPECT_LE(d.retired_pending(), 11u);  // 10 objects and one stack node, handed over
  d.barrier();
  EXPECT_EQ(d.retired_pending(), 0u) << "garbage stuck in an exited thread's open batch";
  EXPECT_EQ(key_destructor_object::counters().live(), 0);
  EXPECT_EQ(key_destructor_object::counters().destructions.load(), 10);
  EXPECT_EQ(key_destructor_object::counters().errors.load(), 0);
  dd.barrier();
  EXPECT_EQ(pthread_key_delete(key), 0);
}

// ---- one thread in many domains --------------------------------------------------------------

// A thread registered in thousands of domains at once: every guard must pin the domain it
// was taken on and no other, through any sequence of switching between domains, nested
// guards across domains, unregistering, and domains dying in the middle (with new ones
// created afterwards, possibly at the same addresses). Correctness only, no timing (the
// header these tests were written against passed it, slowly: each registration scanned
// the thread's registrations against the list of live domains, cubic in total, ~3 s here
// and ~30 s under ASan).
TEST(EpochLifecycle, ManyDomainsGuardPinsTheRightOne) {
  constexpr std::size_t n = 4000;
  std::vector<std::unique_ptr<epoch_domain>> ds;
  ds.reserve(n);
  for (std::size_t i = 0; i < n; ++i) ds.push_back(std::make_unique<epoch_domain>());

  std::size_t wrong = 0;
  std::size_t first_wrong_domain = n;
  int first_wrong_line = 0;
  // EXPECT_EQ(pinned(*ds[i]), expected), counted instead of reported one by one.
  auto expect_pinned = [&](std::size_t i, std::size_t expected, int line) {
    if (pinned(*ds[i]) != expected) {
      if (wrong++ == 0) {
        first_wrong_domain = i;
        first_wrong_line = line;
      }
    }
  };
  auto expect_registered = [&](std::size_t i, std::size_t expected, int line) {
    if (registered(*ds[i]) != expected) {
      if (wrong++ == 0) {
        first_wrong_domain = i;
        first_wrong_line = line;
      }
    }
  };
  deletion_tracker t;
  const std::vector<std::size_t> few = {0, 1, 2, n / 2, n - 2, n - 1};

  std::thread([&] {
    // Register in every domain, one after another.
    for (std::size_t i = 0; i < n; ++i) {
      epoch_guard g(*ds[i]);
      expect_pinned(i, 1, __LINE__);
      if (i > 0) expect_pinned(i - 1, 0, __LINE__);
      if (i + 1 < n) expect_pinned(i + 1, 0, __LINE__);
    }
    for (std::size_t i = 0; i < n; ++i) expect_registered(i, 1, __LINE__);

    // Alternate between the first and the last domain (and a few others), nesting across
    // domains and mixing in lock()/unlock().
    for (int round = 0; round < 100; ++round) {
      {
        epoch_guard g0(*ds[0]);
        expect_pinned(0, 1, __LINE__);
        expect_pinned(1, 0, __LINE__);
        expect_pinned(n - 1, 0, __LINE__);
        {
          epoch_guard g1(*ds[n - 1]);
          expect_pinned(n - 1, 1, __LINE__);
          expect_pinned(n - 2, 0, __LINE__);
          expect_pinned(0, 1, __LINE__);
        }
        expect_pinned(n - 1, 0, __LINE__);
        expect_pinned(0, 1, __LINE__);
      }
      expect_pinned(0, 0, __LINE__);
      for (std::size_t k : few) {
        epoch_guard g(*ds[k]);
        expect_pinned(k, 1, __LINE__);
        expect_pinned(k == 0 ? 1 : k - 1, 0, __LINE__);
      }
      ds[0]->lock();
      ds[n - 1]->lock();
      ds[0]->unlock();
      expect_pinned(0, 0, __LINE__);
      expect_pinned(n - 1, 1, __LINE__);
      ds[n - 1]->unlock();
      expect_pinned(n - 1, 0, __LINE__);
    }

    // Unregister from every 10th domain; the others stay registered.
    for (std::size_t i = 5; i < n; i += 10) {
      ds[i]->unregister_current_thread();
      expect_registered(i, 0, __LINE__);
      expect_registered(i - 1, 1, __LINE__);
    }

    // Destroy a block in the middle, the last one used among them included, while this
    // thread is registered in them; then create as many new ones (often at the same
    // addresses).
    {
      epoch_guard g(*ds[n / 4 + 50]);
    }
    for (std::size_t i = n / 4; i < n / 4 + 100; ++i) ds[i].reset();
    for (std::size_t i = n / 4; i < n / 4 + 100; ++i) {
      ds[i] = std::make_unique<epoch_domain>();
      expect_registered(i, 0, __LINE__);
      expect_pinned(i, 0, __LINE__);
    }

    // Keep using all of them: old, unregistered (registering again) and new.
    for (std::size_t i = 0; i < n; ++i) {
      epoch_guard g(*ds[i]);
      expect_pinned(i, 1, __LINE__);
      expect_registered(i, 1, __LINE__);
      if (i > 0) expect_pinned(i - 1, 0, __LINE__);
      if (i % 100 == 0) g.retire(t.make<std::size_t>(i), tracking_deleter<std::size_t>{&t});
    }
    for (std::size_t i = 0; i < n; i += 100) ds[i]->barrier();
  }).join();

  EXPECT_EQ(wrong, 0u) << "first wrong: domain " << first_wrong_domain << ", line "
                       << first_wrong_line;
  EXPECT_EQ(t.freed(), n / 100);
  EXPECT_EQ(t.outstanding(), 0u);
  for (std::size_t i = 0; i < n; ++i) {
    expect_registered(i, 0, __LINE__);
    expect_pinned(i, 0, __LINE__);
  }
  EXPECT_EQ(wrong, 0u) << "after the thread exited, first wrong: domain " << first_wrong_domain
                       << ", line " << first_wrong_line;
  EXPECT_EQ(t.errors(), 0u);
}

}  // namespace
