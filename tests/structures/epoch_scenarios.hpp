// tests/structures/epoch_scenarios.hpp: scripted runs of the epoch domain under the
// deterministic scheduler, shared by tests/dsched/epoch.cpp and the schedule fuzz target
// tests/fuzz/epoch_sched.cpp.
//
//   epoch_schedule_run(strat, scripts, domain, disposal)   an RCU-style pointer that
//       writers replace and readers follow. Scripts are spelled in the epoch operation
//       alphabet (epoch_ops.hpp): read, read_nested, write, write_sync, flush, barrier,
//       unregister. Freed objects are poisoned into a quarantine (never
//       returned to malloc), so a reader that gets a freed object sees it
//       deterministically, in any build. Checks: no bad read, nothing pinned after the
//       run, every object freed exactly once after a final barrier().
//       disposal::immediate frees at once instead of retiring: the bug the checks must
//       catch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <lockless/epoch.hpp>

#include "support/counting.hpp"
#include "support/dsched.hpp"
#include "structures/epoch_ops.hpp"

namespace lockless::test {

// Objects are freed by poisoning them into a quarantine (support/counting.hpp); the
// memory goes back at the end. Ids are dense: object i is the i-th made.
struct epoch_schedule_arena {
  using object = lockless_test::checked_object;

  explicit epoch_schedule_arena(std::size_t capacity) : frees(capacity) {}

  object* make() { return kept.make(kept.size()); }
  void free(object* p) noexcept {
    frees.on_free(static_cast<std::size_t>(p->id));
    kept.free(p);
  }

  lockless_test::quarantine<object> kept;  // every object ever made
  lockless_test::id_free_tracker frees;
};

enum class disposal { retire, immediate };

struct epoch_outcome {
  std::string failure;
  bool freed_during_run = false;
};

inline epoch_outcome epoch_schedule_run(dsched::strategy& strat,
                                        const std::vector<std::string>& scripts,
                                        lockless::epoch_domain& domain, disposal how,
                                        const dsched::options& opt = {}) {
  using object = epoch_schedule_arena::object;
  std::size_t writes = 1;  // the first object
  for (const std::string& t : scripts) {
    for (char c : t) writes += epoch_ops::writes(epoch_op{c}) ? 1 : 0;
  }
  epoch_schedule_arena objects(writes);
  detail::atomic<object*> shared{objects.make()};
  detail::atomic<int> noise{0};  // readers touch it while holding the pointer: a yield point
  detail::atomic<int> bad_reads{0};
  auto dispose = [&](object* old) {
    if (how == disposal::retire) {
      domain.retire(old, [&objects](object* p) { objects.free(p); });
    } else {
      objects.free(old);  // the bug: a reader may still hold it
    }
  };
  auto read = [&](bool nested) {
    lockless::epoch_guard outer(domain);
    std::unique_ptr<lockless::epoch_guard> inner;
    if (nested) inner = std::make_unique<lockless::epoch_guard>(domain);
    object* p = shared.load(std::memory_order_acquire);
    (void)noise.load(std::memory_order_relaxed);
    (void)noise.fetch_add(1, std::memory_order_relaxed);
    if (!p->valid()) (void)bad_reads.fetch_add(1, std::memory_order_relaxed);
  };
  std::vector<std::function<void(unsigned)>> bodies;
  for (const std::string& script : scripts) {
    bodies.push_back([&, script](unsigned) {
      for (char c : script) {
        switch (epoch_op{c}) {
          case epoch_op::read:
            read(false);
            break;
          case epoch_op::read_nested:
            read(true);
            break;
          case epoch_op::write:
            dispose(shared.exchange(objects.make(), std::memory_order_acq_rel));
            break;
          case epoch_op::write_sync: {
            object* old = shared.exchange(objects.make(), std::memory_order_acq_rel);
            domain.synchronize();
            objects.free(old);
            break;
          }
          case epoch_op::flush:
            domain.flush();
            break;
          case epoch_op::barrier:
            domain.barrier();
            break;
          case epoch_op::unregister:
            domain.unregister_current_thread();
            break;
          default:
            break;  // script_mix (what decoders produce) holds only the ops above
        }
      }
    });
  }
  const dsched::result r = dsched::run(strat, std::move(bodies), opt);
  epoch_outcome out;
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
  const std::vector<std::size_t> bad = objects.frees.not_freed_exactly_once(objects.kept.size());
  if (!bad.empty()) {
    out.failure = "object " + std::to_string(bad.front()) + " freed " +
                  std::to_string(objects.frees.free_count(bad.front())) + " times";
  }
  return out;
}

}  // namespace lockless::test
