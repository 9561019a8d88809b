// tests/epoch_dso/epoch_dso.hpp: the C interface of the two shared libraries of the
// shared-library test (see CMakeLists.txt in this directory).
//
// Libraries A (epoch_dso_a) and B (epoch_dso_b) are built from the same code, each with
// -fvisibility=hidden -fvisibility-inlines-hidden, so each has its own private copy of
// everything lockless/epoch.hpp defines inline: the domain registry, the default domain,
// the thread-local record cache and the per-thread state. Only the functions below are
// exported. epoch_dso_<x>_<name> runs library x's copy of the epoch code; the domain
// pointers it takes may belong to either library ("own" ones were made by x, "foreign"
// ones by the other library), as when two plugins hand each other lock-free containers.
//
// The test executable includes no lockless header: it only passes the pointers around.
#pragma once

#include <lockless/detail/config.hpp>  // LOCKLESS_ABI_NAMESPACE only (macros)

#include <atomic>
#include <cstddef>

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {  // where the library's names live
class epoch_domain;
}

#define EPOCH_DSO_API extern "C" __attribute__((visibility("default")))

struct epoch_dso_stats {
  std::size_t pinned;
  std::size_t registered;
  std::size_t pending;
};

// ---- library A ---------------------------------------------------------------------------
// A new domain made (and later destroyed) by A's code.
EPOCH_DSO_API lockless::epoch_domain* epoch_dso_a_make_domain();
EPOCH_DSO_API void epoch_dso_a_destroy_domain(lockless::epoch_domain* d);
// d->stats(), reduced to the fields the tests look at.
EPOCH_DSO_API void epoch_dso_a_stats(lockless::epoch_domain* d, epoch_dso_stats* out);
EPOCH_DSO_API void epoch_dso_a_barrier(lockless::epoch_domain* d);
// Takes an epoch_guard on d and reports d's pinned_threads while it lives.
EPOCH_DSO_API void epoch_dso_a_guard(lockless::epoch_domain* d, std::size_t* pinned);
// First takes (and ends) a guard on `own`, so that this library's per-thread cache points
// at its own domain; then takes an epoch_guard on `foreign` and reports both domains'
// pinned_threads while that guard lives.
EPOCH_DSO_API void epoch_dso_a_pin_and_report(lockless::epoch_domain* foreign,
                                              lockless::epoch_domain* own,
                                              std::size_t* foreign_pinned, std::size_t* own_pinned);
// Takes (and ends) a guard on `own`, then retires n objects into `foreign`, each with a
// deleter that increments *freed.
EPOCH_DSO_API void epoch_dso_a_retire_counted(lockless::epoch_domain* foreign,
                                              lockless::epoch_domain* own, std::size_t n,
                                              std::atomic<std::size_t>* freed);

// ---- library B: the same functions, in B's copy of the code ---------------------------------
EPOCH_DSO_API lockless::epoch_domain* epoch_dso_b_make_domain();
EPOCH_DSO_API void epoch_dso_b_destroy_domain(lockless::epoch_domain* d);
EPOCH_DSO_API void epoch_dso_b_stats(lockless::epoch_domain* d, epoch_dso_stats* out);
EPOCH_DSO_API void epoch_dso_b_barrier(lockless::epoch_domain* d);
EPOCH_DSO_API void epoch_dso_b_guard(lockless::epoch_domain* d, std::size_t* pinned);
EPOCH_DSO_API void epoch_dso_b_pin_and_report(lockless::epoch_domain* foreign,
                                              lockless::epoch_domain* own,
                                              std::size_t* foreign_pinned, std::size_t* own_pinned);
EPOCH_DSO_API void epoch_dso_b_retire_counted(lockless::epoch_domain* foreign,
                                              lockless::epoch_domain* own, std::size_t n,
                                              std::atomic<std::size_t>* freed);
