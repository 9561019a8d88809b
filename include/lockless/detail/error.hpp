// lockless/detail/error.hpp: the one place where the library reports misuse.
//
// Every throw of the library goes through throw_logic_error() or throw_invalid_argument(),
// so the headers compile
// with -fno-exceptions: without exceptions the message is written to stderr and the
// process aborts. fatal() is for misuse detected where nothing can be thrown (a
// destructor, a noexcept path): the message, then std::abort(), in every build.
#pragma once

#include <cstdio>
#include <cstdlib>
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

// std::invalid_argument for a bad argument (a layout, a name), the same way.
[[noreturn]] inline void throw_invalid_argument(const char* what) {
#if defined(__cpp_exceptions)
  throw std::invalid_argument(what);
#else
  fatal(what);
#endif
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
