// Epoch-based reclamation under deterministic schedules: an RCU-style pointer that
// writers replace and readers follow, with flushes, barriers, synchronize(), nested
// guards, unregistration and thread exit (the orphan hand-over) interleaved at every
// atomic operation of the real epoch.hpp.
//
// Script letters (one thread each):
//   r  reader: guard, load the pointer, yield while holding it, verify the object
//   n  the same inside a nested guard
//   w  writer: install a new object, retire the old one
//   s  writer that waits: install, synchronize(), then free the old one itself
//   f  flush()        b  barrier()        u  unregister_current_thread()
// Checks: no reader ever sees a freed object (checked_object's canary and checksum; a
// freed object is poisoned and quarantined, not returned to malloc, so a too-early free is
// seen deterministically, and ASan builds report any real use after free); every object
// is freed exactly once once the domain is gone (or, for the default domain, after a
// barrier()); nothing left pinned after the run.
//
// A checker that never fails proves nothing: the same scenarios with retire replaced by
// an immediate free must be caught.
#include "support/dsched.hpp"  // first: the shim's deterministic build needs it

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <lockless/epoch.hpp>

#include "support/counting.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::detail::atomic;
using lockless_test::checked_object;

constexpr std::size_t max_objects = 64;

// Objects are freed by poisoning them into a quarantine; the memory goes back at the end.
struct arena {
  std::vector<std::unique_ptr<checked_object>> all;  // owner of every object ever made
  lockless_test::id_free_tracker frees{max_objects};
  std::uint64_t next_id = 0;

  checked_object* make() {
    all.push_back(std::make_unique<checked_object>(next_id++));
    return all.back().get();
  }
  void free(checked_object* p) noexcept {
    frees.on_free(static_cast<std::size_t>(p->id));
    p->poison();
  }
};

enum class disposal { retire, immediate };

struct run_outcome {
  std::string failure;
  bool freed_during_run = false;
};

run_outcome rcu_run(ds::strategy& strat, const std::vector<std::string>& scripts,
                    lockless::epoch_domain& domain, disposal how) {
  arena objects;
  atomic<checked_object*> shared{objects.make()};
  atomic<int> noise{0};  // readers touch it while holding the pointer: a yield point
  atomic<int> bad_reads{0};
  auto dispose = [&](checked_object* old) {
    if (how == disposal::retire) {
      domain.retire(old, [&objects](checked_object* p) { objects.free(p); });
    } else {
      objects.free(old);  // the bug: a reader may still hold it
    }
  };
  auto read = [&](bool nested) {
    lockless::epoch_guard outer(domain);
    std::unique_ptr<lockless::epoch_guard> inner;
    if (nested) inner = std::make_unique<lockless::epoch_guard>(domain);
    checked_object* p = shared.load(std::memory_order_acquire);
    (void)noise.load(std::memory_order_relaxed);
    (void)noise.fetch_add(1, std::memory_order_relaxed);
    if (!p->valid()) (void)bad_reads.fetch_add(1, std::memory_order_relaxed);
  };
  std::vector<std::function<void(unsigned)>> bodies;
  for (const std::string& script : scripts) {
    bodies.push_back([&, script](unsigned) {
      for (char c : script) {
        switch (c) {
          case 'r': read(false); break;
          case 'n': read(true); break;
          case 'w': dispose(shared.exchange(objects.make(), std::memory_order_acq_rel)); break;
          case 's': {
            checked_object* old = shared.exchange(objects.make(), std::memory_order_acq_rel);
            domain.synchronize();
            objects.free(old);
            break;
          }
          case 'f': domain.flush(); break;
          case 'b': domain.barrier(); break;
          case 'u': domain.unregister_current_thread(); break;
          default: ADD_FAILURE() << "unknown script letter " << c;
        }
      }
    });
  }
  // One thread at a time runs, so make() from several threads needs no lock; reserve
  // so that no vector growth happens mid-run (pointer stability is all that matters).
  objects.all.reserve(max_objects);
  const ds::result r = ds::run(strat, std::move(bodies));
  run_outcome out;
  if (!r.ok()) {
    out.failure = r.report;
    return out;
  }
  out.freed_during_run = objects.frees.total_frees() != 0;
  if (bad_reads.load(std::memory_order_relaxed) != 0) {
    out.failure = "a reader saw a freed object";
    return out;
  }
  const lockless::epoch_stats st = domain.stats();
  if (st.pinned_threads != 0) {
    out.failure = "a thread is still pinned after the run";
    return out;
  }
  // The last object is still installed: free it like the rest, then drain the domain.
  objects.free(shared.exchange(nullptr, std::memory_order_acq_rel));
  domain.barrier();  // the calling thread is not pinned; exited threads' bags are sealed
  const std::vector<std::size_t> bad =
      objects.frees.not_freed_exactly_once(static_cast<std::size_t>(objects.next_id));
  if (!bad.empty()) {
    out.failure = "object " + std::to_string(bad.front()) + " freed " +
                  std::to_string(objects.frees.free_count(bad.front())) + " times";
  }
  return out;
}

struct scenario {
  const char* name;
  std::vector<std::string> scripts;
  std::uint64_t schedules;
};

const std::vector<scenario>& scenarios() {
  static const std::vector<scenario> all = {
      {"reader vs retiring writer", {"rr", "wfwff"}, 1500},
      {"two readers, writer, advancer", {"rn", "wwff", "rffr"}, 1500},
      {"barrier and synchronize writers", {"rrr", "wb", "sr"}, 1500},
      {"unregister, exit with open batches", {"rur", "wuwf", "wfb"}, 1500},
  };
  return all;
}

TEST(DschedEpoch, ReadersNeverSeeFreedObjectsAndEachIsFreedOnce) {
  for (const scenario& sc : scenarios()) {
    std::uint64_t freeing_runs = 0;
    ds::explore_options o;
    o.schedules = sc.schedules;
    const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
      lockless::epoch_domain domain;
      run_outcome r = rcu_run(strat, sc.scripts, domain, disposal::retire);
      freeing_runs += r.freed_during_run ? 1 : 0;
      return r.failure;
    });
    EXPECT_TRUE(s.ok()) << sc.name << ": " << s.describe();
    // Not vacuous: objects really were freed while the threads ran.
    EXPECT_GT(freeing_runs, s.schedules / 4) << sc.name;
    std::printf("epoch [%s]: %s; %llu runs freed objects while running\n", sc.name,
                s.describe().c_str(), static_cast<unsigned long long>(freeing_runs));
  }
}

TEST(DschedEpoch, TheDefaultDomainAcrossManyThreadGenerations) {
  // Threads register in the process-wide domain, exit, and their records are reused by
  // the next run's threads: registration and hand-over under the scheduler.
  ds::explore_options o;
  o.schedules = 600;
  const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
    return rcu_run(strat, {"rw", "wr", "fr"}, lockless::default_epoch_domain(),
                   disposal::retire)
        .failure;
  });
  EXPECT_TRUE(s.ok()) << s.describe();
  EXPECT_LE(lockless::default_epoch_domain().stats().registered_threads, 1U);  // only us
}

TEST(DschedEpoch, ImmediateFreeIsCaught) {
  for (const scenario& sc : scenarios()) {
    ds::explore_options o;
    o.schedules = 2000;
    const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
      lockless::epoch_domain domain;
      return rcu_run(strat, sc.scripts, domain, disposal::immediate).failure;
    });
    // Scenarios whose only writer waits in synchronize() have nothing to break.
    const bool has_retiring_writer = [&] {
      for (const auto& t : sc.scripts) {
        if (t.find('w') != std::string::npos) return true;
      }
      return false;
    }();
    if (!has_retiring_writer) continue;
    ASSERT_FALSE(s.ok()) << sc.name << ": immediate free never caught";
    EXPECT_EQ(s.failure, "a reader saw a freed object");
    std::printf("epoch [%s], immediate free: caught after %llu schedules under %s\n", sc.name,
                static_cast<unsigned long long>(s.schedules), s.replay.c_str());
  }
}

}  // namespace
