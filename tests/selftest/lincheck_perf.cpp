// Speed of the exact tier on long histories: recorded runs of the mutex-protected
// reference containers (support/reference_containers.hpp; 8 threads, ~3,000 operations,
// both stamp sources) and synthetic histories with heavy overlap (8 threads, one slow
// "preempted" thread or several). Asserts only that
// the exact tier decides (linearizable); prints the time. Timing goals belong in
// benchmarks.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "support/history.hpp"
#include "support/lincheck.hpp"
#include "support/lincheck/harness.hpp"
#include "support/lincheck/random_history.hpp"
#include "support/reference_containers.hpp"
#include "support/sanitizers.hpp"

namespace {

using lockless::test::history;
using lockless::test::op_kind;
using lockless::test::stamp_source;
namespace lc = lockless::test::lincheck;

void report(const char* what, const history& h, const lc::result& r) {
  std::printf("%-52s %5zu ops, %2u threads: exact %s in %.4f s (%llu states)\n", what, h.size(),
              h.threads, lc::to_string(r.v), r.seconds, static_cast<unsigned long long>(r.states));
}

TEST(LincheckPerf, RecordedRunsOfLockedContainers) {
  struct kind {
    const char* name;
    bool fifo;
    std::size_t capacity;
    lc::spec s;
  };
  const kind kinds[] = {
      {"mutex stack", false, 0, lc::spec::stack().drained()},
      {"mutex queue", true, 0, lc::spec::queue().drained()},
      {"mutex bounded queue (8)", true, 8, lc::spec::bounded_queue(8).drained()},
  };
  for (const kind& k : kinds) {
    for (const stamp_source src : {stamp_source::counter, stamp_source::steady_clock}) {
      for (std::uint64_t seed = 1; seed <= lockless_test::scaled(3); ++seed) {
        lockless::test::mutex_container c(
            k.fifo ? lockless::test::removal_order::fifo : lockless::test::removal_order::lifo,
            k.capacity);
        lc::run_options o;
        o.threads = 8;
        o.ops_per_thread = 375;  // 3,000 operations + the drain
        o.stamps = src;
        o.seed = seed;
        if (k.fifo) {
          o.insert_kind = op_kind::enqueue;
          o.remove_kind = op_kind::dequeue;
        }
        const history h = lc::record_run(
            o, [&](std::uint64_t v) { return c.insert(v); }, [&] { return c.remove(); });
        const lc::result r = lc::check_exact(h, k.s);
        std::string what = std::string(k.name) +
                           (src == stamp_source::counter ? ", counter" : ", steady_clock") +
                           " stamps";
        report(what.c_str(), h, r);
        ASSERT_TRUE(r.linearizable()) << r.report();
        EXPECT_EQ(lc::verify_linearization(h, k.s, r.linearization), "");
      }
    }
  }
}

TEST(LincheckPerf, SyntheticHistoriesWithHeavyOverlap) {
  const lc::spec specs[] = {lc::spec::stack(), lc::spec::queue(), lc::spec::bounded_queue(4)};
  std::mt19937_64 rng(99);
  for (const lc::spec& s : specs) {
    for (const std::uint64_t span : {100, 1000, 100000}) {
      lc::random_history_options o;
      o.s = s;
      o.threads = 8;
      o.ops = 3000;
      o.span = span;
      o.skewed = true;
      o.drain = true;
      const history h = lc::random_linearizable_history(o, rng);
      const lc::spec sd = s.drained();
      const lc::result r = lc::check_exact(h, sd);
      std::string what = sd.name() + ", synthetic, span " + std::to_string(span);
      report(what.c_str(), h, r);
      ASSERT_TRUE(r.linearizable()) << r.report();
    }
  }
}

}  // namespace
