// tests/no_exceptions/main.cpp: the library builds and works with -fno-exceptions
// -fno-rtti (many services build that way; docs/design.md, "Error reporting"). Every
// public header is included and its main operations are instantiated; misuse would abort
// through detail/error.hpp instead of throwing. A plain program (no GoogleTest, which
// needs exceptions): it exits 0 when every check holds.
#include <cstdio>
#include <optional>

#include <lockless/lockless.hpp>

#if defined(__cpp_exceptions) || defined(__GXX_RTTI)
#error "tests/no_exceptions must be compiled with -fno-exceptions -fno-rtti"
#endif

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "no_exceptions: FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  lockless::epoch_domain domain;
  {
    lockless::treiber_stack<int, lockless::epoch_reclaimer> s{lockless::epoch_reclaimer(domain)};
    for (int i = 0; i < 100; ++i) s.push(i);
    int sum = 0;
    while (std::optional<int> v = s.try_pop()) sum += *v;
    check(sum == 99 * 100 / 2, "every pushed value popped once");
    check(s.was_empty(), "empty after draining");
  }
  {
    lockless::epoch_guard g(domain);
    g.retire(new int(7));
  }
  domain.lock();
  domain.unlock();
  domain.barrier();
  check(domain.retired_pending() == 0, "barrier frees what was retired");
  if (failures == 0) std::puts("no_exceptions: all checks passed");
  return failures == 0 ? 0 : 1;
}
