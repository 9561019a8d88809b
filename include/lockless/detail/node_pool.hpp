// lockless/detail/node_pool.hpp: per-thread caches of node-sized memory blocks, and a
// shared depot of full batches between them.
//
// Why: a node-based container allocates a node per push and frees it once the reclaimer
// says no thread can hold it. With the general-purpose allocator that round trip costs
// more than the whole lock-free algorithm (measured: ~190 of ~270 instructions per
// Treiber push+pop pair with glibc; bench/treiber_stack_callgrind.cpp), and the reclaimer frees
// in batches of epoch_bag::capacity, which overflows glibc's small per-thread cache.
// Across threads the flow is one-way as often as not: a node pushed by one thread is
// popped, retired and freed by another (or by whichever thread collects the expired
// bags), so one thread's cache overflows while another's runs dry; without a shared
// layer both sides go back to the allocator (measured before the depot: 0.06-0.87
// allocator calls per push+pop pair at 2-8 threads, docs/benchmarks.md).
//
// What: node types give themselves class-specific operator new/delete that call
// node_pool<sizeof(node), alignof(node)>. Two layers (the "magazine" and "depot" layers of
// Bonwick and Adams, USENIX 2001):
//   - the calling thread's cache: at most `capacity` blocks in an array in thread-local
//     storage, LIFO (the most recently freed, cache-warm block is reused first). Frees and
//     allocations that find room (or a block) there touch nothing shared.
//   - the depot, one per (Size, Align) and process: at most `depot_batches` full batches
//     of exactly `batch` blocks each (256 KiB worth of blocks, clamped to 8..256 batches
//     of 64). A free that finds its cache full
//     hands the older half of the cache, one batch, to the depot; an allocation that finds
//     its cache empty takes a whole batch from it. Only when the depot is full (or empty)
//     does a block go back to (or come from) the allocator. So the pool holds at most
//     `capacity` blocks per thread plus depot_batches * batch blocks per (Size, Align);
//     every block beyond that is returned to the allocator.
// Blocks reach the pool only through operator delete, i.e. only after the reclaimer has
// decided that no thread can reach the node: reuse never reintroduces ABA. Memory is raw:
// a block freed by one thread may be reused by another thread's container of the same
// node size.
//
// The depot is a fixed array of slots. Each slot is a batch's storage (an array of `batch`
// block pointers, in static storage) and a state word, empty -> busy -> full -> busy ->
// empty; the state words sit together, apart from the arrays, so a scan reads a few cache
// lines. A put claims an empty slot (CAS empty -> busy), copies the batch's pointers in and
// marks it full; a take claims a full slot (CAS full -> busy), copies them out and marks it
// empty. A batch is an array, not a list threaded through its blocks: a list made the
// taker chase 64 links, one cache miss each in blocks freed on another core, in a
// dependent chain (97% of allocate_slow's time and 27% of the whole Treiber pair at 8
// threads on 2 vCPUs, perf, before this layout); copying 64 pointers is 8 adjacent lines
// that the hardware fetches in parallel, and a cached block is not touched until it is
// used. Lock-free, single-width atomics only, and no ABA: a state word holds no pointer.
// A thread suspended between its claim and its store keeps that one slot busy, and
// nobody waits for it: puts and takes skip busy slots (to another slot, or to the
// allocator). There is also a relaxed count of the full slots (a hint: exact whenever no
// put or take is under way). Per batch of 64 blocks: one relaxed load of the count, relaxed
// loads of the state words up to the slot used, one CAS, a 512-byte copy, one store, one
// relaxed add to the count (the deterministic-schedule build pays a scheduling point for
// each atomic access). An allocation that finds both its cache and the depot empty pays
// one relaxed load.
//   [NH1] relaxed loads and updates of full_, the count of full slots: a hint only, it
//         orders nothing. A put skips the depot when it reads depot_batches, a take when
//         it reads 0 or less (it may dip below 0 while a take overtakes the put it
//         empties), and either then merely goes to the allocator.
//   [ND1] put: relaxed looks at the state words for an empty one, then its CAS empty ->
//         busy, acquire (failure relaxed: another thread claimed it, try the next one):
//         the last take's reads of the slot's array happen-before our writes to it. Pairs
//         with [ND4].
//   [ND2] put: release store of full once the array is written: publishes the array, and
//         every write the freeing threads made to the blocks, to the thread that takes the
//         batch. Pairs with [ND3].
//   [ND3] take: relaxed looks for a full one, then its CAS full -> busy, acquire: the
//         array and the blocks' earlier contents are visible before the taker reads the
//         array or reuses a block. Pairs with [ND2].
//   [ND4] take: release store of empty once the array is read: our reads happen-before
//         the next put's writes. Pairs with [ND1].
//
// Thread exit hands the cache's full batches to the depot (while it has room) and the
// rest to the allocator (through thread_exit.hpp, so also for a thread whose first use was
// in a thread_local or pthread-key destructor); blocks freed by the thread after that go
// straight to the allocator. The main thread's cache stays until the process ends. The
// depot is never destroyed: constant-initialized, trivially destructible static storage,
// so a thread that exits (or frees a node) during or after static destruction still finds
// it, and the batches it holds at process exit stay reachable from it (neither a leak for
// LeakSanitizer nor a use after destruction).
//
// Under AddressSanitizer cached blocks are poisoned, whole, in the caches and in the depot,
// so a use after the reclaimer freed the node is still reported. Caches and depot hold
// arrays of pointers (in thread-local and static storage), not lists threaded through the
// blocks: LeakSanitizer ignores pointers stored in poisoned memory, so a list would make
// every pooled block but the first look leaked.
// In the model-checked build the pool (cache and depot) is bypassed: Relacy must see every
// free.
#pragma once

#include <cstddef>
#include <cstring>
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
  // What a full cache hands to the depot, and an empty one takes from it.
  static constexpr std::size_t batch = capacity / 2;
  // The depot's bound: at most this many batches per (Size, Align): 256 KiB of blocks, but
  // at least 8 and at most 256 batches (16-byte nodes: 256 batches, 16,384 blocks; 1 KiB
  // nodes: 8 batches). Sized for reclamation stalls: while a thread is preempted inside a
  // guard nothing is freed, the others allocate thousands of fresh nodes, and when it runs
  // again they are all freed at once; a depot of 8 batches sent almost all of them back to
  // the allocator (0.6-0.9 allocator calls per pair at 4-16 threads on 2 vCPUs), 256 KiB
  // keeps most of them (docs/benchmarks.md). The slots' arrays are static storage,
  // depot_batches * 512 bytes (at most 128 KiB per block size), zero pages until used.
  static constexpr std::size_t depot_bytes = std::size_t{256} << 10;
  static constexpr std::size_t depot_batches = [] {
    constexpr std::size_t n = depot_bytes / (batch * Size);
    if (scheduler_controlled) return std::size_t{8};  // each slot a scan visits is a yield point
    return n < 8 ? 8 : n > 256 ? 256 : n;
  }();

  [[nodiscard]] static void* allocate() {
    if constexpr (!model_checked) {
      cache& c = tls_cache;
      if (c.count != 0) [[likely]] {
        void* b = c.blocks[--c.count];
        unpoison(b);
        return b;
      }
      return allocate_slow();
    }
    return raw_allocate();
  }

  static void deallocate(void* p) noexcept {
    if constexpr (!model_checked) {
      cache& c = tls_cache;
      // One test: `limit` is capacity while the cache is in use, 0 before the thread's
      // first free (registration) and after its exit.
      if (c.count < c.limit) [[likely]] {
        c.blocks[c.count++] = p;
        poison(p);
        return;
      }
      deallocate_slow(p);
      return;
    }
    raw_deallocate(p);
  }

  // Blocks cached by the calling thread (for tests and telemetry).
  [[nodiscard]] static std::size_t cached() noexcept { return tls_cache.count; }
  // Batches held in the depot now (for tests and telemetry: exact when no thread is
  // putting or taking one).
  [[nodiscard]] static std::size_t depot_size() noexcept {
    std::size_t n = 0;
    for (atomic<unsigned>& s : depot_state) {
      n += s.load(std::memory_order_relaxed) == slot_full;  // [NH1]-like: telemetry only
    }
    return n;
  }

 private:
  enum : unsigned char { state_unregistered, state_registered, state_exited };
  // Trivially constructible and destructible: access is a plain TLS load.
  struct cache {
    std::size_t count;
    std::size_t limit;  // capacity while registered, else 0 (see deallocate())
    unsigned char state;
    void* blocks[capacity];
  };
  static inline thread_local constinit cache tls_cache{0, 0, state_unregistered, {}};

  // The depot (see the header block). Trivially destructible: never destroyed. The state
  // words are dense (a scan reads few lines); each slot's array starts a cache line.
  enum : unsigned { slot_empty = 0, slot_busy = 1, slot_full = 2 };
  static inline constinit atomic<unsigned> depot_state[depot_batches]{};
  struct alignas(64) depot_batch {
    void* blocks[batch];
  };
  static inline constinit depot_batch depot_slots[depot_batches]{};
  static inline constinit atomic<std::ptrdiff_t> depot_full{0};

  // The cache is empty: a batch from the depot, else the allocator.
#if defined(__GNUC__)
  [[gnu::noinline]]
#endif
  static void* allocate_slow() {
    cache& c = tls_cache;
    if (c.state != state_exited) {  // an exited thread's cache would never be handed back
      if (depot_take(c.blocks)) {   // the cache is empty: the batch fills its bottom half
        if (c.state == state_unregistered) register_owner(c);
        c.count = batch;  // poisoned already: depot blocks are, as cached ones
        void* b = c.blocks[--c.count];
        unpoison(b);
        return b;
      }
    }
    return raw_allocate();
  }

  // The cache is full, or not in use (before registration, after exit).
#if defined(__GNUC__)
  [[gnu::noinline]]
#endif
  static void deallocate_slow(void* p) noexcept {
    cache& c = tls_cache;
    if (c.state == state_exited) {
      raw_deallocate(p);
      return;
    }
    if (c.state == state_unregistered) register_owner(c);
    if (c.count == capacity) {
      // The older half goes, as one batch; the newer (warmer) half moves down.
      spill(c.blocks);
      std::memmove(c.blocks, c.blocks + batch, (capacity - batch) * sizeof(void*));
      c.count = capacity - batch;
    }
    c.blocks[c.count++] = p;
    poison(p);
  }

  // Hands blocks[0, batch) to the depot, or, if it is full, to the allocator.
  static void spill(void* const* blocks) noexcept {
    if (depot_full.load(std::memory_order_relaxed) < std::ptrdiff_t{depot_batches}) {  // [NH1]
      if (depot_put(blocks)) return;
    }
    for (std::size_t i = 0; i < batch; ++i) {
      unpoison(blocks[i]);
      raw_deallocate(blocks[i]);
    }
  }

  // Copies blocks[0, batch) into an empty slot; false if it found none.
  static bool depot_put(void* const* blocks) noexcept {
    if (!depot_move(slot_empty, slot_full, [blocks](void** slot) noexcept {
          std::memcpy(slot, blocks, batch * sizeof(void*));
        })) {
      return false;
    }
    depot_full.fetch_add(1, std::memory_order_relaxed);  // [NH1]
    return true;
  }

  // Copies a full slot's batch to out[0, batch); false if it found none.
  static bool depot_take(void** out) noexcept {
    if (depot_full.load(std::memory_order_relaxed) <= 0) return false;  // [NH1]
    if (!depot_move(slot_full, slot_empty, [out](void** slot) noexcept {
          std::memcpy(out, slot, batch * sizeof(void*));
        })) {
      return false;
    }
    depot_full.fetch_sub(1, std::memory_order_relaxed);  // [NH1]
    return true;
  }

  // Claims the first slot in state `from` (CAS from -> busy), runs copy on its array, then
  // leaves it in state `to`; false if no slot was in state `from`. A put moves empty ->
  // full, a take full -> empty.
  template <class Copy>
  static bool depot_move(unsigned from, unsigned to, Copy&& copy) noexcept {
    for (std::size_t i = 0; i < depot_batches; ++i) {
      atomic<unsigned>& s = depot_state[i];
      // [ND1] (put) / [ND3] (take): a relaxed look, then the acquire CAS from -> busy; pairs
      // with the release store [ND4] / [ND2] that left the slot in state `from`.
      unsigned expected = s.load(std::memory_order_relaxed);
      if (expected == from &&
          s.compare_exchange_strong(expected, slot_busy, std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
        copy(depot_slots[i].blocks);
        // [ND2] (put) / [ND4] (take): release; pairs with the next claim [ND3] / [ND1].
        s.store(to, std::memory_order_release);
        return true;
      }
    }
    return false;
  }

  // Run at thread exit: full batches to the depot while it has room, the rest to the
  // allocator; later frees bypass the cache.
  static void on_thread_exit() noexcept {
    cache& c = tls_cache;
    c.state = state_exited;
    c.limit = 0;
    while (c.count >= batch) {
      c.count -= batch;
      spill(c.blocks + c.count);
    }
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
    c.limit = capacity;
  }

  // Every block comes from raw_allocate().
  static constexpr std::size_t block_size = Size;
  static constexpr bool over_aligned = Align > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static void* raw_allocate() {
    if constexpr (over_aligned) return ::operator new(block_size, std::align_val_t{Align});
    return ::operator new(block_size);
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
    ASAN_POISON_MEMORY_REGION(b, block_size);
#endif
  }
  static void unpoison([[maybe_unused]] void* b) noexcept {
#if defined(LOCKLESS_DETAIL_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(b, block_size);
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
