# Driver of the package tests (cmake -P), registered by tests/CMakeLists.txt.
#
# Inputs (-D): KIND (find_package | add_subdirectory), LOCKLESS_SOURCE_DIR,
# LOCKLESS_BINARY_DIR (the outer build, installed from for find_package), CONSUMER_SOURCE_DIR,
# WORK_DIR (scratch dir, wiped first), GENERATOR, MAKE_PROGRAM, CXX_COMPILER, BUILD_TYPE.
#
#   find_package:      cmake --install <outer build> --prefix <WORK_DIR>/prefix, then
#                      configure the consumer with CMAKE_PREFIX_PATH=<prefix>, build, run.
#   add_subdirectory:  configure the consumer with -DLOCKLESS_SOURCE_DIR=<src>, build, run.
cmake_minimum_required(VERSION 3.21)

foreach(var IN ITEMS KIND LOCKLESS_SOURCE_DIR LOCKLESS_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR
                     GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run-package-test.cmake: -D${var}=... is required")
  endif()
endforeach()

# Runs a command, echoing it; any failure fails the test.
function(run_checked)
  string(REPLACE ";" " " pretty "${ARGV}")
  message(STATUS "package test: ${pretty}")
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test (${KIND}) failed (${rc}): ${pretty}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

set(configure_args
  -S "${CONSUMER_SOURCE_DIR}" -B "${build}"
  -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(BUILD_TYPE)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()

if(KIND STREQUAL "find_package")
  run_checked("${CMAKE_COMMAND}" --install "${LOCKLESS_BINARY_DIR}" --prefix "${prefix}")

  # The install tree must not point back into the source or build tree.
  file(GLOB_RECURSE targets_files "${prefix}/*/lockless-targets.cmake")
  if(NOT targets_files)
    message(FATAL_ERROR "no lockless-targets.cmake under ${prefix}")
  endif()
  foreach(f IN LISTS targets_files)
    file(READ "${f}" text)
    foreach(dir IN ITEMS "${LOCKLESS_SOURCE_DIR}" "${LOCKLESS_BINARY_DIR}")
      string(FIND "${text}" "${dir}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "${f} refers to ${dir}: the installed package is not relocatable")
      endif()
    endforeach()
  endforeach()

  list(APPEND configure_args
    "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    "-DLOCKLESS_EXPECTED_PREFIX=${prefix}")
elseif(KIND STREQUAL "add_subdirectory")
  list(APPEND configure_args "-DLOCKLESS_SOURCE_DIR=${LOCKLESS_SOURCE_DIR}")
else()
  message(FATAL_ERROR "unknown KIND '${KIND}'")
endif()

run_checked("${CMAKE_COMMAND}" ${configure_args})
run_checked("${CMAKE_COMMAND}" --build "${build}")
run_checked("${build}/app")
message(STATUS "package test (${KIND}): OK")
