// bench/treiber_stack_impls.hpp: the stacks compared by bench_treiber_stack and callgrind_treiber_stack,
// behind one tiny interface:
//
//   static constexpr const char* name;     the <impl> part of the benchmark name
//   static void prepare_thread();          per-thread registration, outside timing
//   void push(std::uint64_t);
//   bool pop(std::uint64_t& out);          false if the stack was empty
//   static lockless::epoch_domain& epoch_domain();   only where an epoch domain is used
//
// Peers are compiled in when bench/CMakeLists.txt found them (LOCKLESS_HAVE_<PEER>).
// Nothing here depends on Google Benchmark, so the callgrind driver can use it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stack>

#include <lockless/treiber_stack.hpp>

#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
#include <boost/lockfree/stack.hpp>
#endif

#if defined(LOCKLESS_HAVE_LIBCDS)
#include <cds/container/treiber_stack.h>

#include "support/libcds_runtime.hpp"
#endif

namespace lockless_bench {

// Nodes kept in reserve by the peers that preallocate (Boost). More than the most items
// any workload has in flight (8 threads x 64 items in stack/push_then_pop/64).
inline constexpr std::size_t stack_reserve = 1024;

// Ours: a node allocated by push from the calling thread's node cache
// (detail/node_pool.hpp; operator new when the cache is empty), retired to the default
// epoch domain by pop and freed by the domain in batches of epoch_bag_capacity (62) into
// the freeing thread's cache (at most 128 blocks; a full cache hands 64 to the pool's
// shared depot, which holds 8 such batches, and only beyond that to operator delete; an
// empty cache takes a batch from the depot before it calls operator new).
struct lockless_treiber {
  static constexpr const char* name = "lockless_treiber";
  static void prepare_thread() {}
  static lockless::epoch_domain& epoch_domain() { return lockless::default_epoch_domain(); }
  void push(std::uint64_t v) { s.push(v); }
  bool pop(std::uint64_t& out) { return s.try_pop(out); }
  lockless::treiber_stack<std::uint64_t> s;
};

// The baseline to beat: std::mutex + std::stack (a std::deque, which allocates only when
// it grows past a 512-byte block, so the steady state does not allocate at all).
struct std_mutex_stack {
  static constexpr const char* name = "std_mutex_stack";
  static void prepare_thread() {}
  void push(std::uint64_t v) {
    std::lock_guard lock(m);
    s.push(v);
  }
  bool pop(std::uint64_t& out) {
    std::lock_guard lock(m);
    if (s.empty()) return false;
    out = s.top();
    s.pop();
    return true;
  }
  std::mutex m;
  std::stack<std::uint64_t> s;
};

#if defined(LOCKLESS_HAVE_BOOST_LOCKFREE)
// boost::lockfree::stack (Boost 1.74): a Treiber stack whose nodes come from its own
// lock-free freelist, ABA-protected by a tag in the freelist's and the head's pointer.
// Unlike ours it
//   - only supports trivially copyable T (and trivially destructible, assignable T),
//   - never returns node memory to the OS or to malloc: popped nodes go back to the
//     freelist and are freed only by the stack's destructor,
//   - therefore needs no memory reclamation scheme at all, and its steady state does not
//     call malloc/free: push takes a node from the freelist, pop gives it back.
// The constructor reserves `stack_reserve` nodes; plain push() may still allocate more
// (the stack is not fixed_sized), bounded_push() would fail instead.
struct boost_lockfree_stack {
  static constexpr const char* name = "boost_lockfree_stack";
  static void prepare_thread() {}
  void push(std::uint64_t v) { (void)s.push(v); }
  bool pop(std::uint64_t& out) { return s.pop(out); }
  boost::lockfree::stack<std::uint64_t> s{stack_reserve};
};
#endif

#if defined(LOCKLESS_HAVE_LIBCDS)
// libcds 2.3.3 cds::container::TreiberStack, default traits (no elimination, default
// back-off), nodes from std::allocator, unlinked nodes retired to the GC:
//   HP  Michael's hazard pointers: a fixed number of threads and of retired pointers per
//       thread; a scan of all hazard pointers every time the retired array fills up.
//   DHP the dynamic variant (Pass-the-Buck): guards allocated on demand.
// Every thread must be attached to libcds first (prepare_thread, outside timing).
template <class GC>
struct libcds_treiber_base {
  static void prepare_thread() { libcds_attach_this_thread(); }
  void push(std::uint64_t v) { (void)s.push(v); }
  bool pop(std::uint64_t& out) { return s.pop(out); }
  cds::container::TreiberStack<GC, std::uint64_t> s;
};
struct libcds_treiber_hp : libcds_treiber_base<cds::gc::HP> {
  static constexpr const char* name = "libcds_treiber_hp";
};
struct libcds_treiber_dhp : libcds_treiber_base<cds::gc::DHP> {
  static constexpr const char* name = "libcds_treiber_dhp";
};
#endif

// xenium 0.0.2 has no stack (queues, hash maps, a deque and reclaimers only).

}  // namespace lockless_bench
