// lockless/detail/sanitizers.hpp: which sanitizer the including translation unit is
// built with, detected once for the library and its tests.
//
//   LOCKLESS_DETAIL_ASAN   defined under AddressSanitizer (GCC: __SANITIZE_ADDRESS__,
//                          Clang: __has_feature(address_sanitizer))
//   LOCKLESS_DETAIL_TSAN   defined under ThreadSanitizer (likewise)
//
// Only macros: no atomics, no sanitizer interface headers (the users that call the
// sanitizer runtime include those themselves), so anything may include it first, the
// deterministic scheduler's support header included.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define LOCKLESS_DETAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCKLESS_DETAIL_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define LOCKLESS_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCKLESS_DETAIL_TSAN 1
#endif
#endif
