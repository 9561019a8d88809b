// treiber_stack (and its epoch reclamation) under deterministic schedules.
//
// Each scenario is a set of per-thread scripts for treiber_schedule_run()
// (structures/treiber_stack_scenarios.hpp), spelled in the stack's alphabet
// (structures/treiber_stack_ops.hpp: 'i' push, 'r' try_pop, 'f' flush of the stack's own
// epoch domain, 'g' a flush from inside a guard). explore() runs it under PCT and
// random-walk schedules; every run must finish, its history must be a linearizable LIFO
// history, and once the stack and its domain are gone every payload must have been
// destroyed exactly once. Thread exit hands each thread's open batch to the domain under
// the scheduler too. Scenarios that flush must really free nodes during the runs.
//
// A checker that never fails proves nothing: two broken stacks built on the same shim
// must be caught by the same scenarios, with a schedule that replays.
//   racy_pop_stack  pop unlinks with a plain store instead of a CAS (two pops can
//                   return the same node).
//   aba_stack       a correct Treiber CAS, but popped nodes go straight to a free list
//                   that the next push reuses (no reclamation): the classic ABA.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/dsched_history.hpp"
#include "structures/treiber_stack_ops.hpp"
#include "structures/treiber_stack_scenarios.hpp"

namespace {

namespace ds = lockless::dsched;
namespace lc = lockless::test::lincheck;
using lockless::detail::atomic;
using lockless::detail::var;

const lc::spec lifo = lc::spec::stack().drained();

using lockless::test::schedule_scenario;

const std::vector<schedule_scenario>& scenarios() {
  static const std::vector<schedule_scenario> all = {
      {"two threads, push/pop pairs", {"irir", "irir"}, 1500},
      {"three threads, pops race pushes", {"iir", "rri", "irr"}, 1500},
      {"reclaiming: pop, flush, push again (ABA bait)", {"irffirf", "irffirf"}, 1500},
      {"four threads, pinned flushes", {"iirg", "rrif", "igr", "rfi"}, 800},
  };
  return all;
}

TEST(DschedTreiber, EveryScheduleIsLinearizableAndFreesEverythingOnce) {
  for (const schedule_scenario& sc : scenarios()) {
    const lockless::test::scenario_outcome out =
        lockless::test::explore_scenario(sc, [&](ds::strategy& strat) {
          lockless::test::treiber_outcome r =
              lockless::test::treiber_schedule_run(strat, sc.scripts);
          return lockless::test::scenario_run{std::move(r.failure), r.freed_nodes != 0};
        });
    const ds::explore_summary& s = out.summary;
    const std::uint64_t freeing_runs = out.reclaiming_runs;
    EXPECT_TRUE(s.ok()) << sc.name << ": " << s.describe();
    const bool flushes = std::any_of(sc.scripts.begin(), sc.scripts.end(), [](const auto& t) {
      return std::any_of(t.begin(), t.end(), [](char c) {
        return lockless::test::treiber_stack_ops::reclaims(lockless::test::treiber_stack_op{c});
      });
    });
    if (flushes) {
      EXPECT_GT(freeing_runs, s.schedules / 4) << sc.name;  // not vacuous
    }
    std::printf("treiber_stack [%s]: %s; %llu runs freed nodes while running\n", sc.name,
                s.describe().c_str(), static_cast<unsigned long long>(freeing_runs));
  }
}

// ---- broken stacks -----------------------------------------------------------------

// Popped nodes are leaked to a test-owned list (no reclamation at all), so neither
// broken stack ever touches freed memory: the bugs are purely in the interleavings.
struct node {
  explicit node(std::uint64_t v) : value(std::in_place, v), next(std::in_place, nullptr) {}
  var<std::uint64_t> value;
  var<node*> next;
};

// What both broken stacks share: nodes owned by the stack until it dies, and a correct
// Treiber push.
class leaky_stack {
 public:
  leaky_stack() = default;
  leaky_stack(const leaky_stack&) = delete;
  leaky_stack& operator=(const leaky_stack&) = delete;
  ~leaky_stack() {
    for (node* n : owned_) delete n;
  }

 protected:
  node* make(std::uint64_t v) {
    owned_.push_back(new node(v));  // one thread runs at a time: no race on the vector
    return owned_.back();
  }
  void link(node* n) {
    node* h = head_.load(std::memory_order_relaxed);
    do {
      n->next.get_mut() = h;
    } while (
        !head_.compare_exchange_weak(h, n, std::memory_order_release, std::memory_order_relaxed));
  }

  atomic<node*> head_{nullptr};

 private:
  std::vector<node*> owned_;
};

class racy_pop_stack : public leaky_stack {
 public:
  void push(std::uint64_t v) { link(make(v)); }
  std::optional<std::uint64_t> try_pop() {
    node* h = head_.load(std::memory_order_acquire);
    if (h == nullptr) return std::nullopt;
    node* next = h->next.get();
    head_.store(next, std::memory_order_release);  // BUG: not a CAS
    return h->value.get();
  }
};

class aba_stack : public leaky_stack {
 public:
  void push(std::uint64_t v) {
    node* n = nullptr;
    if (!free_.empty()) {  // BUG: immediate reuse of a popped node
      n = free_.back();
      free_.pop_back();
      n->value.get_mut() = v;
    } else {
      n = make(v);
    }
    link(n);
  }
  std::optional<std::uint64_t> try_pop() {
    node* h = head_.load(std::memory_order_acquire);
    while (h != nullptr) {
      node* next = h->next.get();
      const std::uint64_t v = h->value.get();
      if (head_.compare_exchange_weak(h, next, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        free_.push_back(h);
        return v;
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<node*> free_;
};

template <class Stack>
std::string broken_run(ds::strategy& strat, const std::vector<std::string>& scripts) {
  Stack s;
  return lockless::test::scripted_run(
      strat, scripts, lifo, [&](std::uint64_t v) { s.push(v); }, [&] { return s.try_pop(); },
      [](char, unsigned) {});
}

template <class Stack>
void expect_caught(const char* name, const std::vector<std::string>& scripts,
                   std::uint64_t budget) {
  ds::explore_options o;
  o.schedules = budget;
  const ds::explore_summary s =
      ds::explore(o, [&](ds::strategy& strat) { return broken_run<Stack>(strat, scripts); });
  ASSERT_FALSE(s.ok()) << name << " was never caught: " << s.describe();
  EXPECT_NE(s.failure.find("NOT linearizable"), std::string::npos) << s.failure;
  std::printf("%s caught after %llu schedules under %s\n", name,
              static_cast<unsigned long long>(s.schedules), s.replay.c_str());
  // The failing schedule replays exactly: the same history (the report's timings vary).
  auto history_of = [](const std::string& f) { return f.substr(f.find("\nhistory:\n")); };
  const std::unique_ptr<ds::strategy> again = ds::make_strategy(s.replay);
  EXPECT_EQ(history_of(broken_run<Stack>(*again, scripts)), history_of(s.failure));
}

TEST(DschedTreiber, RacyPopIsCaught) {
  expect_caught<racy_pop_stack>("racy_pop_stack", {"iir", "rr"}, 500);
}

TEST(DschedTreiber, AbaWithImmediateReuseIsCaught) {
  // T0 reads head A and its next B, then is preempted; T1 pops A and B and pushes C,
  // which reuses A's node: T0's CAS succeeds and installs the popped B again.
  expect_caught<aba_stack>("aba_stack", {"iiir", "rri"}, 3000);
}

}  // namespace
