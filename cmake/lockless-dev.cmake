# Development-only machinery, included by the top-level CMakeLists.txt when tests,
# benchmarks or examples are built. Nothing here is installed or exported.
#
#   lockless_dev_flags   INTERFACE target: warnings (+ -Werror with LOCKLESS_WERROR) and the
#                        LOCKLESS_SANITIZE flags. Tests, benchmarks and examples link it;
#                        Relacy targets never do (they get their own flags).
#   lockless_add_test()  add_test() + labels, timeout and the sanitizer runtime options;
#                        target tests_<label> builds every test executable with that label.

add_library(lockless_dev_flags INTERFACE)
target_compile_options(lockless_dev_flags INTERFACE
  -Wall -Wextra -Wpedantic
  $<$<BOOL:${LOCKLESS_WERROR}>:-Werror>)

# ---------------------------------------------------------------------------------------
# Sanitizers
# ---------------------------------------------------------------------------------------
set(LOCKLESS_SANITIZER_ENV "")
if(LOCKLESS_SANITIZE)
  string(REPLACE ";" "," _lockless_san "${LOCKLESS_SANITIZE}")  # accept a list too
  string(REPLACE " " "" _lockless_san "${_lockless_san}")
  if(_lockless_san MATCHES "(^|,)thread(,|$)" AND _lockless_san MATCHES "(^|,)(address|leak|memory)(,|$)")
    message(FATAL_ERROR "LOCKLESS_SANITIZE='${LOCKLESS_SANITIZE}': ThreadSanitizer cannot be "
                        "combined with AddressSanitizer/LeakSanitizer/MemorySanitizer")
  endif()
  set(_lockless_san_flags
    -fsanitize=${_lockless_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_compile_options(lockless_dev_flags INTERFACE ${_lockless_san_flags})
  target_link_options(lockless_dev_flags INTERFACE ${_lockless_san_flags})
  message(STATUS "lockless: sanitizers for tests/benchmarks/examples: ${_lockless_san}")

  # Runtime options handed to every test (ctest ENVIRONMENT). Any report is fatal.
  if(_lockless_san MATCHES "(^|,)address(,|$)")
    list(APPEND LOCKLESS_SANITIZER_ENV "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1")
  endif()
  if(_lockless_san MATCHES "(^|,)undefined(,|$)")
    list(APPEND LOCKLESS_SANITIZER_ENV "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endif()
  if(_lockless_san MATCHES "(^|,)thread(,|$)")
    list(APPEND LOCKLESS_SANITIZER_ENV "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
  endif()
endif()

# lockless_add_test(<target> LABEL <label> TIMEOUT <seconds> [RUN_SERIAL] [NO_SANITIZER_ENV]
#                   [NAME <test name>] [ARGS <arg>...])
# Registers the executable <target> as a ctest test of the same name (or NAME: a second
# test of the same executable, with other ARGS).
#   RUN_SERIAL        never run it next to another test (stress tests oversubscribe on purpose)
#   NO_SANITIZER_ENV  leave ASAN_OPTIONS & co. alone (targets built without sanitizers)
function(lockless_add_test target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "RUN_SERIAL;NO_SANITIZER_ENV" "LABEL;TIMEOUT;NAME" "ARGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "lockless_add_test(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(CMAKE_CROSSCOMPILING_EMULATOR)  # qemu-user (preset aarch64) runs code several times slower
    math(EXPR ARG_TIMEOUT "${ARG_TIMEOUT} * 3")
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME ${target})
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${target} ${ARG_ARGS})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABEL}" TIMEOUT ${ARG_TIMEOUT})
  # tests_<label>: builds the executables of every test with that label (the aarch64 build
  # preset builds only tests_unit and tests_example).
  foreach(label IN LISTS ARG_LABEL)
    if(NOT TARGET tests_${label})
      add_custom_target(tests_${label})
    endif()
    add_dependencies(tests_${label} ${target})
  endforeach()
  if(ARG_RUN_SERIAL)
    set_tests_properties(${ARG_NAME} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(LOCKLESS_SANITIZER_ENV AND NOT ARG_NO_SANITIZER_ENV)
    set_tests_properties(${ARG_NAME} PROPERTIES ENVIRONMENT "${LOCKLESS_SANITIZER_ENV}")
  endif()
endfunction()
