// bench/support/alloc_counter.hpp: counts the calls of the global allocation functions
// (operator new / operator delete of every form) made by the benchmark's threads, and
// reports them per item as Google Benchmark user counters.
//
// INCLUDE IN EXACTLY ONE TRANSLATION UNIT of a benchmark executable: it defines the
// replacement allocation functions (which may not be inline). They forward to
// malloc / aligned_alloc / free after one increment of a plain thread-local counter (a
// TLS add, no atomic, no shared cache line), so what they add to a measured allocator
// call is a few instructions of the several dozen malloc and free take themselves.
//
//   alloc_probe probe;                     // at the start of a thread's timed loop
//   probe.report(state, items_per_iteration);   // after it: sets
//       allocs/pair   operator new calls per item (a push+pop pair: one item)
//       frees/pair    operator delete calls per item
//   over all threads: each thread reports its own calls divided by the items of all
//   threads, and Google Benchmark sums a counter over the threads of a run, so the
//   result is (calls of all threads) / (items of all threads). Calls made outside the
//   benchmark's threads (setup, teardown) are not counted.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace lockless_bench {

namespace alloc_detail {
inline constinit thread_local std::uint64_t news = 0;
inline constinit thread_local std::uint64_t deletes = 0;

[[gnu::noinline]] inline void* allocate(std::size_t size, std::size_t alignment) {
  ++news;
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else {
    p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
inline void* allocate_nothrow(std::size_t size, std::size_t alignment) noexcept {
  try {
    return allocate(size, alignment);
  } catch (...) {
    return nullptr;
  }
}
// Not inlined into operator delete: GCC's -Wmismatched-new-delete would otherwise see
// free() applied to the result of an (inlined) operator new.
[[gnu::noinline]] inline void deallocate(void* p) noexcept {
  if (p == nullptr) return;
  ++deletes;
  std::free(p);
}
}  // namespace alloc_detail

class alloc_probe {
 public:
  alloc_probe() noexcept : news_(alloc_detail::news), deletes_(alloc_detail::deletes) {}

  void report(benchmark::State& state, std::int64_t items_per_iteration = 1) const {
    const double items = static_cast<double>(state.iterations()) *
                         static_cast<double>(items_per_iteration) * state.threads();
    if (items <= 0) return;
    state.counters["allocs/pair"] = static_cast<double>(alloc_detail::news - news_) / items;
    state.counters["frees/pair"] = static_cast<double>(alloc_detail::deletes - deletes_) / items;
  }

 private:
  std::uint64_t news_;
  std::uint64_t deletes_;
};

}  // namespace lockless_bench

// ---- the replacements -----------------------------------------------------------------
void* operator new(std::size_t n) {
  return lockless_bench::alloc_detail::allocate(n, 0);
}
void* operator new[](std::size_t n) {
  return lockless_bench::alloc_detail::allocate(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return lockless_bench::alloc_detail::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return lockless_bench::alloc_detail::allocate(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return lockless_bench::alloc_detail::allocate_nothrow(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return lockless_bench::alloc_detail::allocate_nothrow(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return lockless_bench::alloc_detail::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return lockless_bench::alloc_detail::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete[](void* p) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::size_t) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  lockless_bench::alloc_detail::deallocate(p);
}
