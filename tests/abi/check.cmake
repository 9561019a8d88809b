# Driven by tests/abi/CMakeLists.txt (ctest abi_cache_line_mismatch); see there.
foreach(var PROJECT_DIR WORK_DIR LOCKLESS_INCLUDE_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
set(configure_args -S "${PROJECT_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DLOCKLESS_INCLUDE_DIR=${LOCKLESS_INCLUDE_DIR}")
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(TOOLCHAIN_FILE)
  list(APPEND configure_args "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" ${configure_args}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the ABI project failed:\n${out}")
endif()

function(build target expect)
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}" --target ${target}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(expect STREQUAL "ok" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${target} should build but did not:\n${out}")
  elseif(expect STREQUAL "fail" AND rc EQUAL 0)
    message(FATAL_ERROR "${target} linked: translation units with different cache-line "
                        "sizes agree on the library's names (ODR violation undetected)")
  endif()
  set(build_output "${out}" PARENT_SCOPE)
endfunction()

# The control, then the objects of the mismatched program (they must compile: the failure
# we want is the link's), then its link.
build(abi_same ok)
build(abi_main_256 ok)
build(abi_lib_64 ok)
build(abi_mismatch fail)
if(NOT build_output MATCHES "abi_cl256")
  message(FATAL_ERROR "abi_mismatch failed, but not on the missing abi_cl256 symbol:\n"
                      "${build_output}")
endif()
message(STATUS "abi_mismatch does not link, as it must: use(lockless::abi_cl256::...) "
               "is not use(lockless::abi_cl64::...)")
