// examples/treiber_stack_basic.cpp: four threads push onto one lock-free stack, then the
// main thread pops everything. The README quotes the part between the markers.
#include <lockless/treiber_stack.hpp>

#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

int main() {
  // [readme-begin]
  lockless::treiber_stack<int> stack;  // nodes are reclaimed through epochs by default
  {
    std::vector<std::jthread> producers;
    for (int t = 0; t < 4; ++t) {
      producers.emplace_back([&stack, t] {
        for (int i = 0; i < 1000; ++i) stack.push(t * 1000 + i);
      });
    }
  }  // the jthreads join here

  long sum = 0;
  while (std::optional<int> v = stack.try_pop()) sum += *v;  // nullopt once empty
  std::printf("popped 0..3999, sum = %ld\n", sum);           // 7998000
  // [readme-end]
  return sum == 3999L * 4000 / 2 ? 0 : 1;
}
