// examples/epoch_custom_domain.cpp: a treiber_stack whose nodes are reclaimed in its own
// epoch_domain instead of the process-wide default one.
//
// Why: a domain's garbage and its stalls are its own. A reader that stays pinned in the
// default domain (somewhere else in the program) does not hold back the reclamation of
// this stack's nodes, and this stack's popped nodes do not show up in the default
// domain's statistics. The price: the domain must outlive every container that uses it,
// and each thread registers once per domain it uses.
#include <lockless/epoch.hpp>
#include <lockless/treiber_stack.hpp>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

int main() {
  lockless::epoch_domain domain;  // declared first, so destroyed after the stack
  lockless::treiber_stack<std::string> stack{lockless::epoch_reclaimer(domain)};

  // A reader pinned in the DEFAULT domain for the whole run: it would stall reclamation
  // there, but it does not concern our domain.
  lockless::epoch_guard unrelated_guard;

  constexpr int threads = 4;
  constexpr int per_thread = 5000;
  std::atomic<long> popped{0};
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        long mine = 0;
        for (int i = 0; i < per_thread; ++i) {
          stack.push("item " + std::to_string(t) + "/" + std::to_string(i));
          if (std::optional<std::string> s = stack.try_pop()) ++mine;
        }
        popped.fetch_add(mine, std::memory_order_relaxed);
      });  // a worker that exits hands its unfreed nodes to the domain
    }
  }
  long rest = 0;
  while (stack.try_pop()) ++rest;

  // Free every popped node now. The main thread is pinned in the default domain, not in
  // ours, so this is allowed (the default domain's barrier() would throw
  // std::logic_error: it would wait for our own guard forever).
  domain.barrier();
  const lockless::epoch_stats mine = domain.stats();
  const lockless::epoch_stats def = lockless::default_epoch_domain().stats();

  std::printf("popped %ld + %ld of %d values\n", popped.load(), rest, threads * per_thread);
  std::printf("own domain:     epoch %llu, %zu nodes waiting, %zu threads registered\n",
              static_cast<unsigned long long>(mine.global_epoch), mine.retired_pending,
              mine.registered_threads);
  std::printf("default domain: %zu pinned thread(s), %zu objects waiting\n", def.pinned_threads,
              def.retired_pending);

  const bool ok = popped.load() + rest == threads * per_thread && mine.retired_pending == 0;
  return ok ? 0 : 1;
}
