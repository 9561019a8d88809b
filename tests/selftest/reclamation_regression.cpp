// tests/selftest/reclamation_regression.cpp: regression tests for bug classes that published
// lock-free code has shipped with (ABA under immediate node reuse, use after free of a
// popped node, freeing while a pinned reader holds the object, advancing the epoch past
// a pinned thread).
//
// Each case has the same shape:
//   1. a tiny, deliberately naive local structure that has the bug;
//   2. a forced interleaving (per-step handshakes, no timing luck) that exposes it, and an
//      EXPECT that the detector FIRES on it: a detector that never fires proves nothing;
//   3. the same detector run against the real lockless structure, expected to stay quiet.
// The naive structures never really free memory (a "freed" node is poisoned and kept in a
// quarantine until the test ends: lockless_test::quarantine, support/counting.hpp), so the failing variant is defined behaviour and fails
// the same way in the plain, ASan and TSan builds.
//
// The real treiber_stack has no hook inside try_pop, so its side of the forced schedule
// is reproduced from outside: the paused popper is a thread holding an epoch guard of the
// stack's domain, which is exactly what try_pop holds between its load of head_ ([TC1])
// and its CAS ([TC3]).
//
// Queue bug classes (empty reported while non-empty, lost wake-up of a blocking pop) are
// covered under the deterministic scheduler in tests/selftest/dsched_queue_regression.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "lockless/epoch.hpp"
#include "lockless/treiber_stack.hpp"
#include "support/counting.hpp"

namespace {

using lockless_test::checked_object;
using lockless_test::deletion_tracker;
using lockless_test::tracking_deleter;

// ---- helpers ----------------------------------------------------------------------------

// A one-shot handshake between two threads: set() publishes everything before it to the
// thread whose wait() returns.
class step {
 public:
  void set() noexcept { latch_.count_down(); }
  void wait() const noexcept { latch_.wait(); }

 private:
  std::latch latch_{1};
};

// The detector of cases (a): every pushed value is popped exactly once.
struct value_audit {
  std::vector<std::uint64_t> duplicated;  // popped more often than pushed
  std::vector<std::uint64_t> lost;        // pushed, never popped
  std::vector<std::uint64_t> invented;    // popped, never pushed
  [[nodiscard]] bool ok() const { return duplicated.empty() && lost.empty() && invented.empty(); }
};

value_audit audit(const std::vector<std::uint64_t>& pushed,
                  const std::vector<std::uint64_t>& popped) {
  std::map<std::uint64_t, long> balance;
  for (auto v : pushed) ++balance[v];
  for (auto v : popped) --balance[v];
  value_audit a;
  for (const auto& [v, b] : balance) {
    const bool was_pushed = std::count(pushed.begin(), pushed.end(), v) != 0;
    if (!was_pushed) {
      a.invented.push_back(v);
    } else if (b < 0) {
      a.duplicated.push_back(v);
    } else if (b > 0) {
      a.lost.push_back(v);
    }
  }
  return a;
}

// A payload for the real stack that reports where it lives and when it dies. Only the
// object constructed in place by emplace() (the one inside the node) is tracked: its
// address identifies the node's memory, its destruction the node's free.
struct probe_log {
  std::mutex mutex;
  std::map<std::uint64_t, const void*> node_address;  // value -> address of its node's payload
  std::map<std::uint64_t, int> node_destroyed;        // value -> times its node was freed
};

probe_log& probes() {
  static probe_log l;
  return l;
}

class probe {
 public:
  explicit probe(std::uint64_t v) noexcept : value_(v), in_node_(true) {
    std::lock_guard lock(probes().mutex);
    probes().node_address[v] = this;
  }
  probe(probe&& o) noexcept : value_(o.value_), in_node_(false) {}
  probe& operator=(probe&& o) noexcept {
    value_ = o.value_;
    return *this;
  }
  probe(const probe&) = delete;
  probe& operator=(const probe&) = delete;
  ~probe() {
    if (!in_node_) return;
    std::lock_guard lock(probes().mutex);
    ++probes().node_destroyed[value_];
  }
  [[nodiscard]] std::uint64_t value() const noexcept { return value_; }

 private:
  std::uint64_t value_;
  bool in_node_;
};

void reset_log() {
  std::lock_guard lock(probes().mutex);
  probes().node_address.clear();
  probes().node_destroyed.clear();
}
const void* node_address_of(std::uint64_t v) {
  std::lock_guard lock(probes().mutex);
  return probes().node_address.at(v);
}
int times_freed(std::uint64_t v) {
  std::lock_guard lock(probes().mutex);
  auto it = probes().node_destroyed.find(v);
  return it == probes().node_destroyed.end() ? 0 : it->second;
}

using real_stack = lockless::treiber_stack<probe>;

// Runs `paused` on a thread that pins the domain and holds the guard until `resume` is set
// (the popper stopped between [TC1] and [TC3]); `body` runs on the calling thread meanwhile.
// `paused_work` runs on the pinned thread after the resume, still inside the guard.
template <class Body, class PausedWork>
void with_pinned_thread(lockless::epoch_domain& domain, Body&& body, PausedWork&& paused_work) {
  step pinned;
  step resume;
  std::thread a([&] {
    {
      lockless::epoch_guard guard(domain);
      pinned.set();
      resume.wait();
      paused_work();
    }
    domain.unregister_current_thread();
  });
  pinned.wait();
  body();
  resume.set();
  a.join();
}

// ---- (a) ABA on a Treiber stack with immediate node reuse ------------------------------

struct aba_node {
  std::uint64_t value = 0;
  aba_node* next = nullptr;
};

// Treiber's stack as published without reclamation: popped nodes go straight back to a
// free list that push reuses at once (FIFO, so the oldest freed node comes back first).
// The free list is mutex-protected: the bug is in the stack, not in the allocator.
class naive_reuse_stack {
 public:
  void push(std::uint64_t v) {
    aba_node* n = allocate();
    n->value = v;
    n->next = head_.load(std::memory_order_acquire);
    while (!head_.compare_exchange_weak(n->next, n, std::memory_order_release,
                                        std::memory_order_acquire)) {
    }
  }

  // pause() runs once, after head and head->next were read and before the CAS.
  template <class Pause>
  std::optional<std::uint64_t> pop(Pause&& pause) {
    aba_node* x = head_.load(std::memory_order_acquire);
    bool paused = false;
    while (x != nullptr) {
      aba_node* next = x->next;
      if (!std::exchange(paused, true)) pause();
      // The CAS compares addresses only: if x was popped and reused meanwhile, it
      // succeeds and installs a stale `next` (ABA).
      if (head_.compare_exchange_strong(x, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        const std::uint64_t v = x->value;
        release(x);
        return v;
      }
    }
    return std::nullopt;
  }
  std::optional<std::uint64_t> pop() {
    return pop([] {});
  }

 private:
  aba_node* allocate() {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      aba_node* n = free_.front();
      free_.pop_front();
      return n;
    }
    all_.push_back(std::make_unique<aba_node>());
    return all_.back().get();
  }
  void release(aba_node* n) {
    std::lock_guard lock(mutex_);
    free_.push_back(n);
  }

  std::atomic<aba_node*> head_{nullptr};
  std::mutex mutex_;
  std::deque<aba_node*> free_;
  std::vector<std::unique_ptr<aba_node>> all_;  // owns every node; nothing really freed
};

// Thread A reads head = X(1), next = Y(2) and pauses; B pops X, pops Y, pushes 4, which
// reuses X; A's CAS (head == X) succeeds and installs Y, a node on the free list.
TEST(RegressionAba, NaiveStackWithImmediateReuseLosesOrDuplicatesValues) {
  naive_reuse_stack s;
  const std::vector<std::uint64_t> pushed{3, 2, 1, 4};
  s.push(3);
  s.push(2);
  s.push(1);  // X(1) -> Y(2) -> Z(3)

  std::vector<std::uint64_t> popped;
  step a_paused;
  step b_done;
  std::optional<std::uint64_t> a_result;
  std::thread a([&] {
    a_result = s.pop([&] {
      a_paused.set();
      b_done.wait();
    });
  });
  a_paused.wait();
  popped.push_back(s.pop().value());  // X(1)
  popped.push_back(s.pop().value());  // Y(2)
  s.push(4);                          // reuses X: X(4) -> Z(3)
  b_done.set();
  a.join();
  ASSERT_TRUE(a_result.has_value());
  popped.push_back(*a_result);
  while (auto v = s.pop()) popped.push_back(*v);

  const value_audit r = audit(pushed, popped);
  EXPECT_FALSE(r.ok()) << "the detector must fire on the naive stack";
  EXPECT_EQ(r.duplicated, std::vector<std::uint64_t>{2});  // the freed Y came back
}

// The same schedule against the real stack: while A holds its guard (as try_pop does
// between [TC1] and [TC3]), the nodes B pops are retired, not freed, however often B
// flushes, so the push of 4 cannot get X's (or Y's) memory back.
TEST(RegressionAba, RealStackDoesNotReuseANodeWhileAGuardIsHeld) {
  reset_log();
  lockless::epoch_domain domain;
  std::vector<std::uint64_t> popped;
  std::optional<std::uint64_t> a_result;
  {
    real_stack s{lockless::epoch_reclaimer(domain)};
    s.emplace(3);
    s.emplace(2);
    s.emplace(1);  // X(1) -> Y(2) -> Z(3)
    const void* x = node_address_of(1);
    const void* y = node_address_of(2);

    with_pinned_thread(
        domain,
        [&] {
          popped.push_back(s.try_pop().value().value());  // X(1)
          popped.push_back(s.try_pop().value().value());  // Y(2)
          for (int i = 0; i < 3; ++i) domain.flush();     // would free X, Y if unguarded
          EXPECT_EQ(times_freed(1), 0);
          EXPECT_EQ(times_freed(2), 0);
          EXPECT_GE(domain.stats().retired_pending, 2U);
          s.emplace(4);
          EXPECT_NE(node_address_of(4), x) << "X was reused while a guard could hold it";
          EXPECT_NE(node_address_of(4), y) << "Y was reused while a guard could hold it";
        },
        [&] {
          if (auto v = s.try_pop()) a_result = v->value();  // A "resumes": pops 4
        });
    ASSERT_TRUE(a_result.has_value());
    popped.push_back(*a_result);
    while (auto v = s.try_pop()) popped.push_back(v->value());
  }
  domain.barrier();
  const value_audit r = audit({3, 2, 1, 4}, popped);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(popped, (std::vector<std::uint64_t>{1, 2, 4, 3}));
  for (std::uint64_t v : {1, 2, 3, 4}) EXPECT_EQ(times_freed(v), 1) << "value " << v;
  EXPECT_EQ(domain.stats().retired_pending, 0U);
}

// Control for the test above: without the guard the same steps do free X and Y and the
// push of 4 gets one of their blocks back (node_pool, LIFO per thread). So the address
// check above can tell reuse from no reuse.
TEST(RegressionAba, ControlWithoutAGuardTheSameStepsReuseTheNode) {
  reset_log();
  lockless::epoch_domain domain;
  {
    real_stack s{lockless::epoch_reclaimer(domain)};
    s.emplace(3);
    s.emplace(2);
    s.emplace(1);
    const void* x = node_address_of(1);
    const void* y = node_address_of(2);
    EXPECT_EQ(s.try_pop().value().value(), 1U);
    EXPECT_EQ(s.try_pop().value().value(), 2U);
    for (int i = 0; i < 3; ++i) domain.flush();
    EXPECT_EQ(times_freed(1), 1);
    EXPECT_EQ(times_freed(2), 1);
    s.emplace(4);
    const void* n4 = node_address_of(4);
    EXPECT_TRUE(n4 == x || n4 == y);
  }
  domain.barrier();
}

// ---- (b) use after free of a popped node -----------------------------------------------

struct uaf_node : checked_object {
  explicit uaf_node(std::uint64_t id) : checked_object(id) {}
  uaf_node* next = nullptr;
};

// Treiber's stack that frees a node as soon as it is popped. "Free" poisons the node and
// quarantines it (memory stays valid, so the reader's later look is defined behaviour and
// shows the poison in every build).
class naive_delete_stack {
 public:
  void push(std::uint64_t id) {
    uaf_node* n = nodes_.make(id);
    n->next = head_.load(std::memory_order_acquire);
    while (!head_.compare_exchange_weak(n->next, n, std::memory_order_release,
                                        std::memory_order_acquire)) {
    }
  }

  struct result {
    std::optional<std::uint64_t> id;
    bool saw_poison = false;
  };

  // pause() runs once, after head was loaded and before it is dereferenced.
  template <class Pause>
  result pop(Pause&& pause) {
    result out;
    uaf_node* x = head_.load(std::memory_order_acquire);
    bool paused = false;
    while (x != nullptr) {
      if (!std::exchange(paused, true)) pause();
      if (!x->valid()) out.saw_poison = true;  // the reader's use of x
      uaf_node* next = x->next;
      if (head_.compare_exchange_strong(x, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        out.id = x->id;
        nodes_.free(x);
        return out;
      }
    }
    return out;
  }
  result pop() {
    return pop([] {});
  }

 private:
  std::atomic<uaf_node*> head_{nullptr};
  lockless_test::quarantine<uaf_node> nodes_;  // owns every node; "free" poisons
};

// A loads head = X and pauses; B pops X, which frees it; A dereferences X: poison.
TEST(RegressionUseAfterFree, NaiveDeleteOnPopStackLetsAReaderSeeAFreedNode) {
  naive_delete_stack s;
  s.push(2);
  s.push(1);
  step a_paused;
  step b_done;
  naive_delete_stack::result a_result;
  std::thread a([&] {
    a_result = s.pop([&] {
      a_paused.set();
      b_done.wait();
    });
  });
  a_paused.wait();
  const auto b_result = s.pop();
  b_done.set();
  a.join();
  EXPECT_FALSE(b_result.saw_poison);
  EXPECT_EQ(b_result.id, 1U);
  EXPECT_TRUE(a_result.saw_poison) << "the detector must fire on the naive stack";
  EXPECT_EQ(a_result.id, 2U);
}

// The real stack: a node popped while another thread's guard lives is not freed (its
// payload not destroyed) however often the popper flushes; it is freed exactly once after
// the guard ends. Under ASan the node pool also poisons freed blocks.
TEST(RegressionUseAfterFree, RealStackKeepsAPoppedNodeWhileAGuardLives) {
  reset_log();
  lockless::epoch_domain domain;
  {
    real_stack s{lockless::epoch_reclaimer(domain)};
    s.emplace(2);
    s.emplace(1);
    with_pinned_thread(
        domain,
        [&] {
          EXPECT_EQ(s.try_pop().value().value(), 1U);
          for (int i = 0; i < 5; ++i) domain.flush();
          EXPECT_EQ(times_freed(1), 0) << "popped node freed under a live guard";
        },
        [] {});
    domain.barrier();
    EXPECT_EQ(times_freed(1), 1);
    EXPECT_EQ(times_freed(2), 0);  // still on the stack
  }
  EXPECT_EQ(times_freed(2), 1);
}

// ---- (c) an object freed while a pinned reader still holds it --------------------------

// A reader pins, loads the shared pointer and holds it; the writer swaps in a new object,
// retires the old one and flushes. `retire_old` is the reclamation under test.
template <class Retire, class Flush>
bool reader_sees_freed_object(deletion_tracker& tracker, std::atomic<checked_object*>& shared,
                              lockless::epoch_domain& domain, Retire&& retire_old, Flush&& flush) {
  step holding;
  step writer_done;
  step unpinned;
  step allowed;
  bool reader_ok = false;
  std::thread reader([&] {
    {
      lockless::epoch_guard guard(domain);
      checked_object* p = shared.load(std::memory_order_acquire);
      holding.set();
      writer_done.wait();
      reader_ok = p->valid();  // the use that must be safe
    }
    unpinned.set();
    // Releasing the registration tries to reclaim (a legitimate free, now that the
    // reader has unpinned): wait until the object is no longer forbidden.
    allowed.wait();
    domain.unregister_current_thread();
  });
  holding.wait();
  checked_object* old = shared.exchange(tracker.make<checked_object>(2),
                                        std::memory_order_acq_rel);  // unlink
  tracker.forbid(old);                                               // the reader holds it
  retire_old(old);
  flush();
  writer_done.set();
  unpinned.wait();
  tracker.allow(old);  // the reader no longer holds it
  allowed.set();
  reader.join();
  return !reader_ok;
}

TEST(RegressionPinnedReader, ImmediateReclamationFreesUnderThePinnedReader) {
  deletion_tracker tracker;
  lockless::epoch_domain domain;
  std::atomic<checked_object*> shared{tracker.make<checked_object>(1)};
  lockless_test::quarantine<checked_object> freed;
  // The bug: retire == delete (reclamation that ignores pins).
  const bool fired = reader_sees_freed_object(
      tracker, shared, domain,
      [&](checked_object* p) {
        tracker.on_free(p);
        freed.adopt(p);
        freed.free(p);
      },
      [] {});
  EXPECT_TRUE(fired) << "the detector must fire on immediate reclamation";
  EXPECT_EQ(tracker.early_frees(), 1U);
  delete shared.load(std::memory_order_relaxed);
}

TEST(RegressionPinnedReader, EpochRetireDoesNotFreeUntilTheReaderUnpins) {
  deletion_tracker tracker;
  lockless::epoch_domain domain;
  std::atomic<checked_object*> shared{tracker.make<checked_object>(1)};
  const bool fired = reader_sees_freed_object(
      tracker, shared, domain,
      [&](checked_object* p) { domain.retire(p, tracking_deleter<checked_object>{&tracker}); },
      [&] {
        for (int i = 0; i < 5; ++i) domain.flush();
        EXPECT_EQ(tracker.freed(), 0U);
      });
  EXPECT_FALSE(fired);
  EXPECT_EQ(tracker.early_frees(), 0U);
  domain.barrier();  // the reader has unpinned: now it goes
  EXPECT_EQ(tracker.freed(), 1U);
  EXPECT_EQ(tracker.errors(), 0U);
  checked_object* last = shared.load(std::memory_order_relaxed);
  tracker.on_free(last);
  delete last;
  EXPECT_EQ(tracker.outstanding(), 0U);
}

// ---- (d) the epoch advanced past a pinned thread (INV1) --------------------------------

// The detector: with a thread pinned at e, the global epoch must never exceed e + 1.
bool inv1_violated(std::uint64_t global, std::uint64_t pinned_at) {
  return global > pinned_at + 1;
}

// A toy domain with one reader record, whose advance uses the classic off-by-one: it lets
// E move while the pinned thread is at most one epoch behind ("it saw g - 1, close
// enough") instead of requiring that it saw g.
struct off_by_one_domain {
  std::uint64_t epoch = 0;
  std::optional<std::uint64_t> pinned_at;
  void pin() { pinned_at = epoch; }
  void try_advance() {
    if (!pinned_at || *pinned_at + 1 >= epoch) ++epoch;  // correct: *pinned_at == epoch
  }
};

TEST(RegressionEpochAdvance, OffByOneAdvanceOvertakesAPinnedThread) {
  off_by_one_domain d;
  d.try_advance();
  d.pin();
  const std::uint64_t e = *d.pinned_at;
  bool fired = false;
  for (int i = 0; i < 10; ++i) {
    d.try_advance();
    fired = fired || inv1_violated(d.epoch, e);
  }
  EXPECT_TRUE(fired) << "the detector must fire on the off-by-one advance";
}

TEST(RegressionEpochAdvance, RealDomainNeverMovesMoreThanOneEpochPastAPinnedThread) {
  lockless::epoch_domain domain;
  for (int i = 0; i < 3; ++i) domain.flush();  // start from a non-zero epoch
  std::uint64_t e = 0;
  with_pinned_thread(
      domain,
      [&] {
        const lockless::epoch_stats pinned = domain.stats();
        ASSERT_EQ(pinned.pinned_threads, 1U);
        e = pinned.oldest_pinned_epoch;
        for (int i = 0; i < 200; ++i) {
          domain.retire(new int(i));
          domain.flush();
          const lockless::epoch_stats s = domain.stats();
          ASSERT_FALSE(inv1_violated(s.global_epoch, e))
              << "E = " << s.global_epoch << " with a thread pinned at " << e;
          ASSERT_EQ(s.oldest_pinned_epoch, e);
        }
        const lockless::epoch_stats s = domain.stats();
        EXPECT_GT(s.stalled_advances, 0U);
        EXPECT_EQ(s.retired_pending, 200U);  // nothing retired under the pin can be freed
      },
      [] {});
  // Unpinned: the epoch moves on and everything goes.
  domain.barrier();
  EXPECT_GT(domain.epoch(), e + 1);
  EXPECT_EQ(domain.retired_pending(), 0U);
}

}  // namespace
