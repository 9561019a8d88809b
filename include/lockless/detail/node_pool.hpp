// lockless/detail/node_pool.hpp: a per-thread cache of node-sized memory blocks.
//
// Why: a node-based container allocates a node per push and frees it once the reclaimer
// says no thread can hold it. With the general-purpose allocator that round trip costs
// more than the whole lock-free algorithm (measured: ~190 of ~270 instructions per
// Treiber push+pop pair with glibc; bench/treiber_stack_callgrind.cpp), and the reclaimer frees
// in batches of epoch_bag::capacity, which overflows glibc's small per-thread cache.
//
// What: node types give themselves class-specific operator new/delete that call
// node_pool<sizeof(node), alignof(node)>. A freed block goes onto the calling thread's
// cache (at most `capacity` blocks, the rest go back to the allocator); an allocation
// takes from that cache first. Blocks reach the pool only through operator delete, i.e.
// only after the reclaimer has decided that no thread can reach the node: reuse never
// reintroduces ABA. Memory is raw: a block freed by one thread may be reused by another
// thread's container of the same node size.
//
// Thread exit returns the cached blocks to the allocator (through thread_exit.hpp, so also
// for a thread whose first use was in a thread_local or pthread-key destructor; the main
// thread's cache stays until the process ends). Under AddressSanitizer cached
// blocks are poisoned, so a use after the reclaimer freed the node is still reported.
// The cache is an array of pointers in thread-local storage, not a list threaded
// through the blocks: LeakSanitizer ignores pointers stored in poisoned memory, so a list
// would make every cached block but the first look leaked.
// In the model-checked build the pool is bypassed: Relacy must see every free.
#pragma once

#include <cstddef>
#include <new>

#include "atomic.hpp"
#include "config.hpp"
#include "sanitizers.hpp"
#include "thread_exit.hpp"

#if defined(LOCKLESS_DETAIL_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

template <std::size_t Size, std::size_t Align>
class node_pool {
  static_assert(Size > 0 && Align > 0);

 public:
  // At least epoch_bag::capacity, so a whole bag of freed nodes fits (static_assert in
  // treiber_stack.hpp, the first header that sees both).
  static constexpr std::size_t capacity = 128;

  [[nodiscard]] static void* allocate() {
    if constexpr (!model_checked) {
      cache& c = tls_cache;
      if (c.count != 0) [[likely]] {
        void* b = c.blocks[--c.count];
        unpoison(b);
        return b;
      }
    }
    return raw_allocate();
  }

  static void deallocate(void* p) noexcept {
    if constexpr (!model_checked) {
      cache& c = tls_cache;
      if (c.count < capacity && c.state != state_exited) [[likely]] {
        if (c.state == state_unregistered) register_owner(c);
        c.blocks[c.count++] = p;
        poison(p);
        return;
      }
    }
    raw_deallocate(p);
  }

  // Blocks cached by the calling thread (for tests and telemetry).
  [[nodiscard]] static std::size_t cached() noexcept { return tls_cache.count; }

 private:
  enum : unsigned char { state_unregistered, state_registered, state_exited };
  // Trivially constructible and destructible: access is a plain TLS load. LIFO, so the
  // most recently freed (cache-warm) block is reused first.
  struct cache {
    std::size_t count;
    unsigned char state;
    void* blocks[capacity];
  };
  static inline thread_local constinit cache tls_cache{0, state_unregistered, {}};

  // Run at thread exit: hands the cached blocks back; later frees bypass the cache.
  static void on_thread_exit() noexcept {
    cache& c = tls_cache;
    c.state = state_exited;
    while (c.count != 0) {
      void* b = c.blocks[--c.count];
      unpoison(b);
      raw_deallocate(b);
    }
  }
  static inline thread_local constinit thread_exit_hook tls_exit_hook{&on_thread_exit, nullptr,
                                                                      false};
  static void register_owner(cache& c) noexcept {
    arm_thread_exit_hook(tls_exit_hook);
    c.state = state_registered;
  }

  static constexpr bool over_aligned = Align > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static void* raw_allocate() {
    if constexpr (over_aligned) return ::operator new(Size, std::align_val_t{Align});
    return ::operator new(Size);
  }
  static void raw_deallocate(void* p) noexcept {
    if constexpr (over_aligned) {
      ::operator delete(p, std::align_val_t{Align});
    } else {
      ::operator delete(p);
    }
  }

  static void poison([[maybe_unused]] void* b) noexcept {
#if defined(LOCKLESS_DETAIL_ASAN)
    ASAN_POISON_MEMORY_REGION(b, Size);
#endif
  }
  static void unpoison([[maybe_unused]] void* b) noexcept {
#if defined(LOCKLESS_DETAIL_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(b, Size);
#endif
  }
};

// Gives a node type T pooled class-specific allocation functions:
//   struct node : detail::pooled<node> { ... };
template <class T>
struct pooled {
  static void* operator new(std::size_t n) {
    if (n != sizeof(T)) return ::operator new(n);  // a derived type: not ours to pool
    return node_pool<sizeof(T), alignof(T)>::allocate();
  }
  static void operator delete(void* p, std::size_t n) noexcept {
    if (n != sizeof(T)) return ::operator delete(p);
    node_pool<sizeof(T), alignof(T)>::deallocate(p);
  }
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
