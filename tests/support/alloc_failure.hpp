// tests/support/alloc_failure.hpp: replaces the global operator new/delete of the test
// executable so that tests can make "the n-th allocation on this thread" throw
// std::bad_alloc, and can count allocations.
//
// INCLUDE IN EXACTLY ONE TRANSLATION UNIT of a test executable (replacement allocation
// functions may not be inline). Every test file here is its own executable, so: include
// it in the test's .cpp, nowhere else.
//
//   fail_nth_allocation guard(n);   // RAII: the n-th operator new on this thread throws
//                                   // std::bad_alloc (n = 1: the next one); disarmed at
//                                   // scope exit or once it fired. Arm it only around
//                                   // the call under test, never around gtest macros.
//   allocation_counter c;           // c.count(): operator new calls on this thread since c
//   set_allocation_observer(fn);    // fn(size, alignment) on every allocation, any thread
//
// The replacement forwards to malloc/aligned_alloc/free, so ASan and TSan (which
// intercept those) keep checking every heap access; only ASan's new/delete mismatch
// check is lost.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace lockless_test {

namespace alloc_detail {
inline constinit thread_local long fail_countdown = 0;  // 0: disarmed
inline constinit thread_local long thread_allocations = 0;
using observer_fn = void (*)(std::size_t size, std::size_t alignment) noexcept;
inline std::atomic<observer_fn> observer{nullptr};

[[gnu::noinline]] inline void* allocate(std::size_t size, std::size_t alignment) {
  if (fail_countdown > 0 && --fail_countdown == 0) throw std::bad_alloc();
  ++thread_allocations;
  if (observer_fn f = observer.load(std::memory_order_acquire)) f(size, alignment);
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else {
    const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
    p = std::aligned_alloc(alignment, rounded);
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

// Not inlined into the replacement operator delete: GCC's -Wmismatched-new-delete would
// otherwise see free() applied to the result of an (inlined) operator new.
[[gnu::noinline]] inline void deallocate(void* p) noexcept {
  std::free(p);
}

inline void* allocate_nothrow(std::size_t size, std::size_t alignment) noexcept {
  try {
    return allocate(size, alignment);
  } catch (...) {
    return nullptr;
  }
}
}  // namespace alloc_detail

// RAII: the n-th allocation (operator new of any form) on this thread from now throws
// std::bad_alloc. n must be >= 1.
class fail_nth_allocation {
 public:
  explicit fail_nth_allocation(long n) noexcept { alloc_detail::fail_countdown = n; }
  ~fail_nth_allocation() { alloc_detail::fail_countdown = 0; }
  fail_nth_allocation(const fail_nth_allocation&) = delete;
  fail_nth_allocation& operator=(const fail_nth_allocation&) = delete;

  // True once the armed allocation has thrown.
  [[nodiscard]] static bool fired() noexcept { return alloc_detail::fail_countdown == 0; }
};

// Counts the operator new calls made by the current thread since construction.
class allocation_counter {
 public:
  allocation_counter() noexcept : start_(alloc_detail::thread_allocations) {}
  [[nodiscard]] long count() const noexcept { return alloc_detail::thread_allocations - start_; }

 private:
  long start_;
};

// Called (from any thread) on every successful-to-be allocation; nullptr to remove.
inline void set_allocation_observer(alloc_detail::observer_fn f) noexcept {
  alloc_detail::observer.store(f, std::memory_order_release);
}

}  // namespace lockless_test

// ---- the replacements -----------------------------------------------------------------
void* operator new(std::size_t n) {
  return lockless_test::alloc_detail::allocate(n, 0);
}
void* operator new[](std::size_t n) {
  return lockless_test::alloc_detail::allocate(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return lockless_test::alloc_detail::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return lockless_test::alloc_detail::allocate(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return lockless_test::alloc_detail::allocate_nothrow(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return lockless_test::alloc_detail::allocate_nothrow(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return lockless_test::alloc_detail::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return lockless_test::alloc_detail::allocate_nothrow(n, static_cast<std::size_t>(a));
}

void operator delete(void* p) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete[](void* p) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::size_t) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  lockless_test::alloc_detail::deallocate(p);
}
