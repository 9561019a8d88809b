// tests/support/lincheck_expect.hpp: GoogleTest assertions that run a history through every
// tier of the linearizability checker (support/lincheck.hpp) and demand that they agree.
// For the checker's own self-tests (tests/selftest/lincheck_*.cpp).
//
//   expect_linearizable(h, s)        the reference and exact tiers find a linearization
//                                    (each replayed by verify_linearization), the aspects
//                                    report no violation, check() answers linearizable
//   expect_violation(h, s, a, tag)   every tier rejects h; the aspects catch it with `tag`
//                                    in their reason (catch_it), or must not (miss_it:
//                                    undecided), or may either way (either); check()'s
//                                    window is confirmed and rejected by the reference tier
//   expect_violation(h, s, tag)      the same; tag "" means the aspects may miss it
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "history.hpp"
#include "lincheck.hpp"

namespace lockless::test::lincheck {

// check() with the reference tier also run (and demanded to agree) up to 20 operations.
inline options with_reference() {
  options o;
  o.reference_max_ops = 20;
  return o;
}

inline void expect_linearizable(const history& h, const spec& s) {
  SCOPED_TRACE(s.name() + "\n" + h.to_string());
  const result ref = check_reference(h, s);
  EXPECT_TRUE(ref.linearizable()) << ref.report();
  EXPECT_EQ(verify_linearization(h, s, ref.linearization), "");
  const result ex = check_exact(h, s);
  EXPECT_TRUE(ex.linearizable()) << ex.report();
  EXPECT_EQ(verify_linearization(h, s, ex.linearization), "");
  const result as = check_aspects(h, s);
  EXPECT_FALSE(as.violated()) << as.report();
  const result all = check(h, s, with_reference());
  EXPECT_TRUE(all.linearizable()) << all.report();
}

enum class aspects { catch_it, miss_it, either };

inline void expect_violation(const history& h, const spec& s, aspects a, const std::string& tag) {
  SCOPED_TRACE(s.name() + "\n" + h.to_string());
  const result ref = check_reference(h, s);
  EXPECT_TRUE(ref.violated()) << ref.report();
  const result ex = check_exact(h, s);
  EXPECT_TRUE(ex.violated()) << ex.report();
  EXPECT_FALSE(ex.window.empty());
  const result as = check_aspects(h, s);
  if (a == aspects::catch_it) {
    EXPECT_TRUE(as.violated()) << as.report();
    EXPECT_NE(as.reason.find(tag), std::string::npos) << as.report();
  } else if (a == aspects::miss_it) {
    EXPECT_FALSE(as.violated()) << "aspects now catch this: update the test and the docs\n"
                                << as.report();
    EXPECT_TRUE(as.undecided()) << as.report();
  }
  const result all = check(h, s, with_reference());
  EXPECT_TRUE(all.violated()) << all.report();
  EXPECT_TRUE(all.window_confirmed) << all.report();
  // The window is a sub-history that the reference tier rejects on its own.
  history w;
  w.threads = h.threads;
  w.ops = all.window;
  EXPECT_TRUE(check_reference(w, s).violated()) << all.report();
}

inline void expect_violation(const history& h, const spec& s, const std::string& tag) {
  expect_violation(h, s, tag.empty() ? aspects::either : aspects::catch_it, tag);
}

}  // namespace lockless::test::lincheck
