// lockless/detail/config.hpp: the build configuration that changes the library's layouts,
// and the inline namespace that records it in every mangled name.
//
// Some settings change the size or layout of the library's types:
//   LOCKLESS_CACHE_LINE_SIZE   padding and alignment (cache_padded, epoch_record, ...)
//   AddressSanitizer and LOCKLESS_DSCHED   the epoch's batch capacity (tiny batches)
//   LOCKLESS_DSCHED, LOCKLESS_RELACY       the atomics shim's storage (test builds)
// Two translation units built with different settings would otherwise define the same
// names with different layouts (an ODR violation no tool reports). So every entity of the
// library lives in an inline namespace named after the settings,
//
//   namespace lockless::inline LOCKLESS_ABI_NAMESPACE { ... }   e.g. lockless::abi_cl128
//
// which user code never names (lockless::epoch_domain still finds it). A function that
// takes a lockless type, compiled under two settings, is two different functions: the
// program fails to link instead of silently disagreeing (tests/abi/ checks this).
//
// Only macros: anything may include it first.
#pragma once

#include "sanitizers.hpp"

// The cache-line size as a preprocessor number (platform.hpp turns it into
// detail::cache_line_size). -DLOCKLESS_CACHE_LINE_SIZE=N overrides it; N must be a plain
// decimal literal (it becomes part of the namespace name).
#if defined(LOCKLESS_CACHE_LINE_SIZE)
#define LOCKLESS_DETAIL_CACHE_LINE_SIZE LOCKLESS_CACHE_LINE_SIZE
#elif defined(__x86_64__) || defined(_M_X64) || defined(__aarch64__) || defined(_M_ARM64) || \
    defined(__powerpc64__)
#define LOCKLESS_DETAIL_CACHE_LINE_SIZE 128
#else
#define LOCKLESS_DETAIL_CACHE_LINE_SIZE 64
#endif

#if defined(LOCKLESS_RELACY)
#define LOCKLESS_DETAIL_ABI_BUILD _relacy
#elif defined(LOCKLESS_DSCHED) && defined(LOCKLESS_DETAIL_ASAN)
#define LOCKLESS_DETAIL_ABI_BUILD _dsched_asan
#elif defined(LOCKLESS_DSCHED)
#define LOCKLESS_DETAIL_ABI_BUILD _dsched
#elif defined(LOCKLESS_DETAIL_ASAN)
#define LOCKLESS_DETAIL_ABI_BUILD _asan
#else
#define LOCKLESS_DETAIL_ABI_BUILD
#endif

#define LOCKLESS_DETAIL_CAT3_(a, b, c) a##b##c
#define LOCKLESS_DETAIL_CAT3(a, b, c) LOCKLESS_DETAIL_CAT3_(a, b, c)

// abi_cl<line size>[_asan|_dsched|_dsched_asan|_relacy]
#define LOCKLESS_ABI_NAMESPACE \
  LOCKLESS_DETAIL_CAT3(abi_cl, LOCKLESS_DETAIL_CACHE_LINE_SIZE, LOCKLESS_DETAIL_ABI_BUILD)
