# interop_histogram_formats: the histogram exposition formats (detail/histogram_exposition.hpp)
# read by real clients. interop_histogram_formats_writer (histogram_formats.cpp) writes text
# 0.0.4, OpenMetrics 1.0 and delimited protobuf for a few histograms with a fixed set of
# observations (NaN, +-Inf, negatives, zero, values on the bounds) plus the expected values
# as JSON; histogram_formats.py checks them with `promtool check metrics`, the Python
# prometheus_client text and OpenMetrics parsers, and python3-protobuf decoding with
# metrics.proto compiled by protoc. A few seconds.
# The driver runs under LOCKLESS_SYSTEM_PYTHON3 (Debian's, see CMakeLists.txt).

find_program(LOCKLESS_PROTOC protoc PATHS /usr/bin DOC "protoc (Debian package protobuf-compiler)")
find_program(LOCKLESS_PROMTOOL promtool PATHS /usr/bin DOC "promtool (Debian package prometheus)")

add_executable(interop_histogram_formats_writer histogram_formats.cpp)
target_link_libraries(interop_histogram_formats_writer PRIVATE lockless::lockless lockless_dev_flags)
add_test(NAME interop_histogram_formats
         COMMAND "${LOCKLESS_SYSTEM_PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/histogram_formats.py"
                 --program $<TARGET_FILE:interop_histogram_formats_writer>
                 --proto "${LOCKLESS_METRICS_PROTO}"
                 --protoc "${LOCKLESS_PROTOC}"
                 --promtool "${LOCKLESS_PROMTOOL}")
set_tests_properties(interop_histogram_formats PROPERTIES LABELS interop TIMEOUT 60)
if(LOCKLESS_SANITIZER_ENV)
  set_tests_properties(interop_histogram_formats PROPERTIES ENVIRONMENT "${LOCKLESS_SANITIZER_ENV}")
endif()
if(NOT TARGET tests_interop)
  add_custom_target(tests_interop)
endif()
add_dependencies(tests_interop interop_histogram_formats_writer)
