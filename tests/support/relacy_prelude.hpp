// tests/support/relacy_prelude.hpp: the one way to include Relacy in this project.
//
// Relacy rewrites ordinary code with macros (memory_order_*, new, delete, malloc, free,
// assert, ...), which breaks system headers included after it. So: every system header
// the library or the test needs comes first, then Relacy, then the macros that would
// rewrite library code are undefined. Relacy still sees every allocation, because it
// also replaces the global operator new/delete. Include this before any lockless header.
#pragma once

#if !defined(LOCKLESS_RELACY)
#error "relacy_prelude.hpp is for the LOCKLESS_RELACY build only"
#endif

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <relacy/relacy.hpp>

#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef free
#undef assert
#include <cassert>
