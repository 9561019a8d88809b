// Unit tests of lockless::treiber_stack: sequential semantics, move-only and throwing
// types, allocation failure, and that every value is destroyed exactly once (popped
// nodes through the reclaimer, remaining ones by the destructor).
//
// The tests are structures/treiber_stack_unit.hpp's, written once for treiber_stack and
// elimination_stack (tests/unit/elimination_stack.cpp), instantiated here for
// treiber_stack (its contention policy: backoff):
//   TreiberStack/Semantics/Backoff_<reclaimer>.*   over every reclaimer env: the default
//       epoch_reclaimer, an epoch_reclaimer on a user epoch_domain owned by the fixture,
//       and the test-only quarantine_reclaimer (support/test_reclaimers.hpp), so the
//       detail::reclaimer seam is exercised with a non-epoch policy;
//   TreiberStack/Reclamation/Backoff.*             what is specific to epochs and the
//       quarantine.
// What is here besides: the reclaimer concept, what models it and what does not.
#include <lockless/treiber_stack.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>

#include "structures/treiber_stack_unit.hpp"
#include "support/test_reclaimers.hpp"

namespace {

using lockless::epoch_reclaimer;
using lockless_test::quarantine_reclaimer;

// treiber_stack as a stack family of treiber_stack_unit.hpp.
struct backoff_family {
  template <class T, class R>
  using stack = lockless::treiber_stack<T, R>;
  static constexpr const char* name = "Backoff";
  template <class S>
  static std::optional<std::size_t> handed_over(const S&) {
    return 0;  // no elimination: every successful pop unlinks a node and retires it
  }
};

static_assert(lockless::test::stack_interface_ok<backoff_family>());
static_assert(std::is_same_v<lockless::treiber_stack<int>::reclaimer_type, epoch_reclaimer>,
              "epoch_reclaimer by default");

// ---- the reclaimer concept: what models it and what does not ------------------------------

static_assert(lockless::detail::reclaimer<epoch_reclaimer>);
static_assert(lockless::detail::reclaimer<quarantine_reclaimer>);
static_assert(!lockless::detail::reclaimer<int>);
static_assert(!lockless::detail::reclaimer<lockless::epoch_guard>);
struct guard_without_protect {
  template <class T>
  void retire(T*) noexcept {}
  template <class T, class D>
  void retire(T*, D) noexcept {}
};
struct reclaimer_without_protect {
  using guard_type = guard_without_protect;
  guard_without_protect pin() const { return {}; }
};
static_assert(!lockless::detail::reclaimer<reclaimer_without_protect>,
              "a guard must have protect(source, order)");
struct guard_with_throwing_retire {
  template <class T>
  T* protect(const lockless::detail::atomic<T*>& src, std::memory_order mo) noexcept {
    return src.load(mo);
  }
  template <class T>
  T* protect(const lockless::detail::atomic<T*>&, T* loaded, std::memory_order) noexcept {
    return loaded;
  }
  template <class T>
  void retire(T*) {}
  template <class T, class D>
  void retire(T*, D) {}
};
struct reclaimer_with_throwing_retire {
  using guard_type = guard_with_throwing_retire;
  guard_with_throwing_retire pin() const { return {}; }
};
static_assert(!lockless::detail::reclaimer<reclaimer_with_throwing_retire>,
              "retire must be noexcept: an unlinked node has no way back");

}  // namespace

namespace lockless::test {
INSTANTIATE_TYPED_TEST_SUITE_P(TreiberStack, Semantics, over_every_env<backoff_family>, type_names);
INSTANTIATE_TYPED_TEST_SUITE_P(TreiberStack, Reclamation, ::testing::Types<backoff_family>,
                               type_names);
}  // namespace lockless::test
