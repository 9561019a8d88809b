// The deterministic scheduler itself (support/dsched.hpp): a scheduler that never finds
// anything, or that cannot replay what it found, proves nothing.
//
//   - the same strategy gives the same interleaving (trace and observable order), and a
//     recorded trace replays it;
//   - it finds a lost update, a lock-order inversion (deadlock), a lost wake-up
//     (deadlock), a livelock (step limit), and reports where each thread stands;
//   - correct counterparts pass every schedule;
//   - strategies: PCT depth 1 never preempts, describe() round-trips through
//     make_strategy(), fuzz bytes steer decisions and always terminate;
//   - thread exit (thread_local destructors) runs under the scheduler;
//   - pooled threads (options::reuse_threads) give the same interleavings, are reused,
//     run the library's thread-exit hooks under the scheduler at the end of each body,
//     rethrow exceptions, and outlive an abandoned run.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <lockless/detail/atomic.hpp>
#include <lockless/detail/platform.hpp>
#include <lockless/detail/thread_exit.hpp>

namespace {

namespace ds = lockless::dsched;
using lockless::detail::atomic;

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

// Each thread appends (thread, i) around its atomic operations: the order of the log is
// the interleaving.
struct interleaving_probe {
  atomic<int> x{0};
  std::vector<int> order;

  std::vector<std::function<void(unsigned)>> bodies(unsigned threads, int steps) {
    std::vector<std::function<void(unsigned)>> b;
    for (unsigned t = 0; t < threads; ++t) {
      b.push_back([this, steps](unsigned me) {
        for (int i = 0; i < steps; ++i) {
          order.push_back(static_cast<int>(me) * 1000 + i);  // one thread at a time: no race
          (void)x.fetch_add(1, relaxed);
        }
      });
    }
    return b;
  }
};

TEST(Dsched, SameStrategySameInterleaving) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    interleaving_probe a, b;
    ds::pct p1(seed, 3, 40), p2(seed, 3, 40);
    const ds::result ra = ds::run(p1, a.bodies(3, 10));
    const ds::result rb = ds::run(p2, b.bodies(3, 10));
    ASSERT_TRUE(ra.ok() && rb.ok());
    EXPECT_EQ(ra.trace, rb.trace);
    EXPECT_EQ(a.order, b.order);
    EXPECT_EQ(a.x.load(relaxed), 30);

    interleaving_probe c, d;
    ds::random_walk w1(seed, 30), w2(seed, 30);
    const ds::result rc = ds::run(w1, c.bodies(3, 10));
    const ds::result rd = ds::run(w2, d.bodies(3, 10));
    EXPECT_EQ(rc.trace, rd.trace);
    EXPECT_EQ(c.order, d.order);

    // A recorded trace replays the same interleaving.
    interleaving_probe e;
    ds::replay rp(rc.trace);
    const ds::result re = ds::run(rp, e.bodies(3, 10));
    EXPECT_FALSE(rp.diverged());
    EXPECT_EQ(c.order, e.order);
    EXPECT_EQ(re.trace, rc.trace);
  }
}

TEST(Dsched, DifferentSeedsGiveDifferentInterleavings) {
  std::vector<std::vector<int>> seen;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    interleaving_probe p;
    ds::random_walk w(seed, 50);
    ASSERT_TRUE(ds::run(w, p.bodies(2, 8)).ok());
    if (std::find(seen.begin(), seen.end(), p.order) == seen.end()) seen.push_back(p.order);
  }
  EXPECT_GE(seen.size(), 20U);  // 30 walks over C(16, 8) = 12,870 interleavings
}

TEST(Dsched, PctDepthOneNeverPreempts) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    interleaving_probe p;
    ds::pct strat(seed, 1, 100);
    const ds::result r = ds::run(strat, p.bodies(4, 25));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.switches, 3U);  // each thread runs to its end, then the next one
  }
}

// A yield point in a function of its own (site_walk tells functions apart by name).
void probe_step(atomic<int>& x) {
  (void)x.fetch_add(1, relaxed);
}

TEST(Dsched, SiteWalkPreemptsOnlyInsideItsFunctions) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    // Cold everywhere: each thread runs to its end, as run_to_block.
    ds::site_walk cold(seed, "elsewhere|nowhere", 100, 0);
    atomic<int> x1{0};
    std::vector<std::function<void(unsigned)>> b1(4, [&](unsigned) {
      for (int i = 0; i < 25; ++i) probe_step(x1);
    });
    const ds::result r1 = ds::run(cold, b1);
    ASSERT_TRUE(r1.ok());
    EXPECT_EQ(r1.switches, 3U);
    // Hot at probe_step, always: every decision there moves to another thread.
    ds::site_walk hot(seed, "elsewhere|probe_step", 100, 0);
    atomic<int> x2{0};
    std::vector<std::function<void(unsigned)>> b2(4, [&](unsigned) {
      for (int i = 0; i < 25; ++i) probe_step(x2);
    });
    const ds::result r2 = ds::run(hot, b2);
    ASSERT_TRUE(r2.ok());
    EXPECT_GE(r2.switches, 90U);  // 100 yield points in probe_step, a few at thread ends
    EXPECT_EQ(x2.load(relaxed), 100);
  }
}

// A function template's yield points carry its arguments in their name ("probe_tmpl<3>");
// the template's bare name makes them hot, and a name that is only a prefix does not.
template <int N>
void probe_tmpl(atomic<int>& x) {
  (void)x.fetch_add(N, relaxed);
}

TEST(Dsched, SiteWalkNamesAFunctionTemplateOnceForAllItsInstances) {
  EXPECT_TRUE(ds::detail::names_function("push_loop<int, (lambda)>", "push_loop"));
  EXPECT_TRUE(ds::detail::names_function("push_loop", "push_loop"));
  EXPECT_FALSE(ds::detail::names_function("push_loop_x", "push_loop"));
  EXPECT_FALSE(ds::detail::names_function("push", "push_loop"));
  EXPECT_FALSE(ds::detail::names_function("push_loop<int>", "push"));
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    ds::site_walk hot(seed, "probe_tmpl", 100, 0);
    atomic<int> x{0};
    std::vector<std::function<void(unsigned)>> b(4, [&](unsigned) {
      for (int i = 0; i < 25; ++i) probe_tmpl<3>(x);
    });
    const ds::result r = ds::run(hot, b);
    ASSERT_TRUE(r.ok());
    EXPECT_GE(r.switches, 90U);  // as probe_step above: hot at every yield point in it
    EXPECT_EQ(x.load(relaxed), 300);
  }
}

TEST(Dsched, FunctionProbeNamesTheFunctionsNoRunReached) {
  ds::function_probe probe("probe_step|probe_tmpl|nowhere");
  ds::options o;
  probe.attach(o);
  unsigned runs = 0;
  const std::string why = probe.walk("probe_step", 50, 0, [&](ds::strategy& walk) {
    ++runs;
    atomic<int> x{0};
    std::vector<std::function<void(unsigned)>> b(2, [&](unsigned) {
      probe_step(x);
      probe_tmpl<1>(x);
    });
    return ds::run(walk, b, o).ok() && x.load(relaxed) == 4 ? "" : "lost an increment";
  });
  EXPECT_EQ(why, "");
  EXPECT_EQ(runs, 40U);
  EXPECT_EQ(probe.unreached(), "nowhere");  // a template reached under its bare name too
}

TEST(Dsched, DescribeRoundTrips) {
  ds::pct p(17, 3, 812);
  ds::random_walk w(5, 25);
  ds::site_walk sw(9, "operator()|probe_step", 40, 5);
  for (ds::strategy* s : std::vector<ds::strategy*>{&p, &w, &sw}) {
    const std::unique_ptr<ds::strategy> back = ds::make_strategy(s->describe());
    EXPECT_EQ(back->describe(), s->describe());
    interleaving_probe a, b;
    const ds::result ra = ds::run(*s, a.bodies(3, 6));
    const ds::result rb = ds::run(*back, b.bodies(3, 6));
    EXPECT_EQ(ra.trace, rb.trace);
  }
  EXPECT_THROW((void)ds::make_strategy("bogus(seed=1)"), std::invalid_argument);
  EXPECT_THROW((void)ds::make_strategy("pct(seed=1)"), std::invalid_argument);
  EXPECT_THROW((void)ds::make_strategy("site_walk(seed=1,hot=2,cold=3)"), std::invalid_argument);
}

// Two threads increment with a load and a store: some schedule loses an update.
std::string lost_update_scenario(ds::strategy& s, bool atomic_rmw) {
  atomic<int> x{0};
  auto inc = [&](unsigned) {
    if (atomic_rmw) {
      (void)x.fetch_add(1, relaxed);
    } else {
      x.store(x.load(relaxed) + 1, relaxed);
    }
  };
  const ds::result r = ds::run(s, {inc, inc});
  if (!r.ok()) return r.report;
  const int got = x.load(relaxed);
  return got == 2 ? "" : "lost update: x == " + std::to_string(got);
}

TEST(Dsched, FindsALostUpdateAndReplaysIt) {
  ds::explore_options o;
  o.schedules = 200;
  const ds::explore_summary bad =
      ds::explore(o, [](ds::strategy& s) { return lost_update_scenario(s, false); });
  ASSERT_FALSE(bad.ok()) << bad.describe();
  EXPECT_NE(bad.failure.find("lost update"), std::string::npos);
  EXPECT_LE(bad.schedules, 20U) << bad.describe();
  // The printed strategy reproduces it exactly, every time.
  for (int i = 0; i < 3; ++i) {
    const std::unique_ptr<ds::strategy> again = ds::make_strategy(bad.replay);
    EXPECT_EQ(lost_update_scenario(*again, false), bad.failure);
  }
  const ds::explore_summary good =
      ds::explore(o, [](ds::strategy& s) { return lost_update_scenario(s, true); });
  EXPECT_TRUE(good.ok()) << good.describe();
  EXPECT_EQ(good.schedules, 201U);  // the calibration run and 200 schedules
}

TEST(Dsched, LockOrderInversionIsADeadlock) {
  ds::explore_options o;
  o.schedules = 300;
  const ds::explore_summary s = ds::explore(o, [](ds::strategy& strat) -> std::string {
    lockless::detail::mutex a, b;
    int shared = 0;
    const ds::result r = ds::run(strat, {[&](unsigned) {
                                           std::lock_guard la(a);
                                           std::lock_guard lb(b);
                                           ++shared;
                                         },
                                         [&](unsigned) {
                                           std::lock_guard lb(b);
                                           std::lock_guard la(a);
                                           ++shared;
                                         }});
    if (r.kind == ds::outcome::deadlock) return r.report;
    return shared == 2 ? "" : "mutual exclusion broken";
  });
  ASSERT_FALSE(s.ok()) << s.describe();
  EXPECT_NE(s.failure.find("deadlock"), std::string::npos) << s.failure;
  EXPECT_NE(s.failure.find("parked (lock)"), std::string::npos) << s.failure;
}

TEST(Dsched, MutexGivesMutualExclusionUnderEverySchedule) {
  ds::explore_options o;
  o.schedules = 300;
  const ds::explore_summary s = ds::explore(o, [](ds::strategy& strat) -> std::string {
    lockless::detail::mutex m;
    atomic<int> inside{0};
    int counter = 0;
    bool overlap = false;
    auto body = [&](unsigned) {
      for (int i = 0; i < 3; ++i) {
        std::lock_guard g(m);
        if (inside.fetch_add(1, relaxed) != 0) overlap = true;
        const int c = counter;
        inside.store(inside.load(relaxed), relaxed);  // a yield point inside the section
        counter = c + 1;
        (void)inside.fetch_sub(1, relaxed);
      }
    };
    const ds::result r = ds::run(strat, {body, body, body});
    if (!r.ok()) return r.report;
    if (overlap) return "two threads inside the critical section";
    return counter == 9 ? "" : "counter " + std::to_string(counter);
  });
  EXPECT_TRUE(s.ok()) << s.describe();
}

// A consumer that reads the wake-up word after checking the condition can miss the
// producer's notify: the classic lost wake-up, which must show as a deadlock.
std::string wakeup_scenario(ds::strategy& strat, bool read_word_first) {
  atomic<int> ready{0};
  atomic<unsigned> word{0};
  const ds::result r = ds::run(strat, {[&](unsigned) {
                                         ready.store(1, release);
                                         (void)word.fetch_add(1, release);
                                         word.notify_all();
                                       },
                                       [&](unsigned) {
                                         for (;;) {
                                           unsigned w = 0;
                                           if (read_word_first) w = word.load(acquire);
                                           if (ready.load(acquire) == 1) return;
                                           if (!read_word_first) w = word.load(acquire);
                                           word.wait(w, acquire);
                                         }
                                       }});
  return r.ok() ? "" : r.report;
}

TEST(Dsched, LostWakeUpIsADeadlock) {
  ds::explore_options o;
  o.schedules = 300;
  const ds::explore_summary bad =
      ds::explore(o, [](ds::strategy& s) { return wakeup_scenario(s, false); });
  ASSERT_FALSE(bad.ok()) << bad.describe();
  EXPECT_NE(bad.failure.find("deadlock"), std::string::npos);
  EXPECT_NE(bad.failure.find("parked (wait)"), std::string::npos) << bad.failure;
  const ds::explore_summary good =
      ds::explore(o, [](ds::strategy& s) { return wakeup_scenario(s, true); });
  EXPECT_TRUE(good.ok()) << good.describe();
}

TEST(Dsched, SpinningOnAFlagNobodySetsHitsTheStepLimit) {
  atomic<int> flag{0};
  ds::random_walk w(1);
  ds::options o;
  o.max_steps = 5000;
  const ds::result r = ds::run(w,
                               {[&](unsigned) {
                                  while (flag.load(acquire) == 0) {
                                    lockless::detail::yield_point();
                                  }
                                },
                                [&](unsigned) {}},
                               o);
  EXPECT_EQ(r.kind, ds::outcome::step_limit);
  EXPECT_NE(r.report.find("spin"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("T1: finished"), std::string::npos) << r.report;
}

TEST(Dsched, SpinWaitEndsUnderEveryStrategy) {
  // A spinning thread must let the thread it waits for run: PCT demotes it, the walk and
  // run_to_block switch away from it.
  auto scenario = [](ds::strategy& s) -> std::string {
    atomic<int> flag{0};
    const ds::result r = ds::run(s, {[&](unsigned) {
                                       lockless::detail::backoff bo;
                                       while (flag.load(acquire) == 0) bo.pause();
                                     },
                                     [&](unsigned) { flag.store(1, release); }});
    return r.ok() ? "" : r.report;
  };
  ds::explore_options o;
  o.schedules = 100;
  const ds::explore_summary s = ds::explore(o, scenario);
  EXPECT_TRUE(s.ok()) << s.describe();
  ds::run_to_block rb;
  EXPECT_EQ(scenario(rb), "");
}

TEST(Dsched, ExceptionsFromABodyAreRethrown) {
  ds::random_walk w(3);
  atomic<int> x{0};
  EXPECT_THROW((void)ds::run(w, {[&](unsigned) { (void)x.fetch_add(1, relaxed); },
                                 [&](unsigned) {
                                   (void)x.fetch_add(1, relaxed);
                                   throw std::runtime_error("boom");
                                 }}),
               std::runtime_error);
  EXPECT_EQ(x.load(relaxed), 2);  // the other thread still ran to its end
}

TEST(Dsched, FuzzBytesSteerDecisionsAndAlwaysEnd) {
  std::vector<std::vector<int>> seen;
  for (std::uint64_t v = 0; v < 64; ++v) {
    std::uint8_t bytes[8];
    std::uint64_t h = (v + 1) * 0x9E3779B97F4A7C15ULL;
    for (auto& b : bytes) {
      b = static_cast<std::uint8_t>((h >> 56) & 0xC3);  // a target, and short holds (0-3)
      h *= 0xBF58476D1CE4E5B9ULL;
    }
    interleaving_probe p;
    ds::byte_schedule b(bytes, sizeof bytes);
    const ds::result r = ds::run(b, p.bodies(3, 6));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(p.x.load(relaxed), 18);
    if (std::find(seen.begin(), seen.end(), p.order) == seen.end()) seen.push_back(p.order);
    // The same bytes, the same interleaving.
    interleaving_probe q;
    ds::byte_schedule again(bytes, sizeof bytes);
    (void)ds::run(again, q.bodies(3, 6));
    EXPECT_EQ(p.order, q.order);
  }
  EXPECT_GE(seen.size(), 20U);
  interleaving_probe empty;
  ds::byte_schedule none(nullptr, 0);
  EXPECT_TRUE(ds::run(none, empty.bodies(3, 6)).ok());
}

// A thread_local whose destructor does atomic operations: thread exit runs under the
// scheduler, so those operations are yield points of a scheduled thread.
struct exit_worker {
  atomic<int>* target = nullptr;
  ~exit_worker() {
    if (target != nullptr) {
      const bool scheduled = ds::scheduled();
      (void)target->fetch_add(scheduled ? 1 : 1000, relaxed);
    }
  }
};

TEST(Dsched, ThreadExitRunsUnderTheScheduler) {
  atomic<int> exits{0};
  ds::random_walk w(9, 50);
  const ds::result r = ds::run(w, {[&](unsigned) {
                                     static thread_local exit_worker e;
                                     e.target = &exits;
                                   },
                                   [&](unsigned) {
                                     static thread_local exit_worker e;
                                     e.target = &exits;
                                   }});
  ASSERT_TRUE(r.ok()) << r.report;
  EXPECT_EQ(exits.load(relaxed), 2);
}

// The library's thread-exit hook, armed by a pooled body: it must run at the end of the
// body, still scheduled (as a new thread's does at its exit).
std::atomic<int> pooled_exit_runs{0};
std::atomic<int> pooled_exit_unscheduled{0};
thread_local lockless::detail::thread_exit_hook pooled_exit_hook{
    []() noexcept {
      pooled_exit_runs.fetch_add(1, std::memory_order_relaxed);
      if (!ds::scheduled()) pooled_exit_unscheduled.fetch_add(1, std::memory_order_relaxed);
    },
    nullptr, false};

TEST(Dsched, PooledThreadsGiveTheSameRunsAndAreReused) {
  std::vector<std::thread::id> first_ids(3), ids(3);
  const int exit_runs_before = pooled_exit_runs.load();
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    interleaving_probe fresh, pooled;
    ds::pct p1(seed, 3, 40), p2(seed, 3, 40);
    const ds::result rf = ds::run(p1, fresh.bodies(3, 10));
    auto bodies = pooled.bodies(3, 10);
    for (unsigned t = 0; t < 3; ++t) {
      bodies[t] = [&, inner = bodies[t]](unsigned me) {
        ids[me] = std::this_thread::get_id();
        lockless::detail::arm_thread_exit_hook(pooled_exit_hook);
        inner(me);
      };
    }
    const ds::result rp = ds::run(p2, std::move(bodies), ds::pooled_threads());
    ASSERT_TRUE(rf.ok() && rp.ok()) << rp.report;
    EXPECT_EQ(rf.trace, rp.trace);
    EXPECT_EQ(fresh.order, pooled.order);
    std::vector<std::thread::id> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    if (seed == 1) {
      first_ids = sorted;
    } else {
      EXPECT_EQ(sorted, first_ids) << "seed " << seed << ": not the same pooled threads";
    }
  }
  EXPECT_EQ(pooled_exit_runs.load() - exit_runs_before, 60);
  EXPECT_EQ(pooled_exit_unscheduled.load(), 0);
}

TEST(Dsched, PooledThreadsRethrowAndOutliveAnAbandonedRun) {
  atomic<int> x{0};
  ds::random_walk w(3);
  EXPECT_THROW((void)ds::run(w,
                             {[&](unsigned) { (void)x.fetch_add(1, relaxed); },
                              [&](unsigned) {
                                (void)x.fetch_add(1, relaxed);
                                throw std::runtime_error("boom");
                              }},
                             ds::pooled_threads()),
               std::runtime_error);
  EXPECT_EQ(x.load(relaxed), 2);
  // A lost wake-up: thread 0 stays parked for good, and its pooled thread with it.
  static atomic<int> never{0};
  ds::random_walk d(5);
  const ds::result dead = ds::run(d, {[&](unsigned) { never.wait(0, acquire); }, [&](unsigned) {}},
                                  ds::pooled_threads());
  EXPECT_EQ(dead.kind, ds::outcome::deadlock) << dead.report;
  // The pool goes on with the threads that came back (and new ones).
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    interleaving_probe p;
    ds::random_walk r(seed, 50);
    const ds::result ok = ds::run(r, p.bodies(4, 5), ds::pooled_threads());
    ASSERT_TRUE(ok.ok()) << ok.report;
    EXPECT_EQ(p.x.load(relaxed), 20);
  }
}

TEST(Dsched, UnscheduledThreadsRunNormally) {
  // Outside a run every yield point is a no-op and wait/mutex fall back to the real ones.
  atomic<int> x{0};
  lockless::detail::mutex m;
  {
    std::lock_guard g(m);
    x.store(1, relaxed);
  }
  x.wait(0, relaxed);  // returns at once: the value is 1
  EXPECT_FALSE(ds::scheduled());
  ds::random_walk w(1);
  EXPECT_THROW((void)ds::run(w, {[&](unsigned) {
                               ds::random_walk inner(2);
                               (void)ds::run(inner, {[](unsigned) {}});
                             }}),
               std::logic_error);
}

}  // namespace
