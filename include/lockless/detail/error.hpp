// lockless/detail/error.hpp: the one place where the library reports misuse.
//
// Every throw of the library in a header that the epoch and the structures share goes
// through throw_logic_error(), throw_invalid_argument() or throw_bad_alloc(),
// so the headers compile
// with -fno-exceptions: without exceptions the message is written to stderr and the
// process aborts. fatal() is for misuse detected where nothing can be thrown (a
// destructor, a noexcept path): the message, then std::abort(), in every build.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>

#include "config.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

[[noreturn]] inline void fatal(const char* what) noexcept {
  std::fputs("lockless: fatal: ", stderr);
  std::fputs(what, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

[[noreturn]] inline void throw_logic_error(const char* what) {
#if defined(__cpp_exceptions)
  throw std::logic_error(what);
#else
  fatal(what);
#endif
}

// std::bad_alloc for memory the library could not get, the same way (a `throw` written
// in a header, even in a discarded if-constexpr branch, does not compile under clang's
// -fno-exceptions).
[[noreturn]] inline void throw_bad_alloc() {
#if defined(__cpp_exceptions)
  throw std::bad_alloc();
#else
  fatal("out of memory");
#endif
}

// std::invalid_argument for a bad argument (a layout, a name), the same way.
[[noreturn]] inline void throw_invalid_argument(const char* what) {
#if defined(__cpp_exceptions)
  throw std::invalid_argument(what);
#else
  fatal(what);
#endif
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
