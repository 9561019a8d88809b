// The consumer program of both package tests (tests/package/find_package and
// tests/package/add_subdirectory): it only uses what an outside project would, the public
// umbrella header and the lockless::lockless target.
#include <lockless/lockless.hpp>

#include <cstdio>
#include <optional>
#include <string>

int main() {
  lockless::treiber_stack<int> stack;
  stack.push(1);
  stack.push(2);
  stack.push(3);
  for (int expected : {3, 2, 1}) {  // LIFO
    std::optional<int> got = stack.try_pop();
    if (!got || *got != expected) {
      std::fprintf(stderr, "treiber_stack: expected %d, got %s\n", expected,
                   got ? std::to_string(*got).c_str() : "nothing");
      return 1;
    }
  }
  if (stack.try_pop()) {
    std::fprintf(stderr, "treiber_stack: not empty after three pops\n");
    return 1;
  }

  {
    lockless::epoch_guard guard;  // RAII: enters and leaves an epoch critical section
    (void)guard;
  }

  std::puts("lockless package test: OK");
  return 0;
}
