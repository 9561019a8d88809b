# interop_histogram_server: a real Prometheus server (Debian's prometheus 2.42, started by
# the test with --enable-feature=native-histograms on 127.0.0.1) scrapes histograms served
# in the library's exposition formats by interop_histogram_server_endpoint
# (histogram_server.cpp, cpp-httplib); histogram_server.py then checks, through
# Prometheus' HTTP API, that histogram_quantile() equals histogram_snapshot::quantile() and
# native_quantile(), and that the stored series (classic buckets, _sum, _count, native
# buckets with their boundaries) equal the snapshot's. About 7 s, most of it waiting.
#
# cpp-httplib (libcpp-httplib-dev) is Debian's compiled build: the header with
# libcpp-httplib.so, whose pkg-config file carries the defines the library was built with
# (they change its classes), so it is found with pkg-config. Without it or without the
# prometheus binary the test is still registered, and fails saying what is missing
# (scripts/install-deps.sh --tests installs both).

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LOCKLESS_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()
find_program(LOCKLESS_PROMETHEUS prometheus DOC "the Prometheus server (Debian package prometheus)")

set(_lockless_hist_server_missing "")
if(NOT TARGET PkgConfig::LOCKLESS_HTTPLIB)
  list(APPEND _lockless_hist_server_missing "cpp-httplib (libcpp-httplib-dev, found with pkg-config)")
endif()
if(NOT LOCKLESS_PROMETHEUS)
  list(APPEND _lockless_hist_server_missing "the prometheus binary (package prometheus)")
endif()

if(_lockless_hist_server_missing)
  string(REPLACE ";" " and " _lockless_hist_server_missing "${_lockless_hist_server_missing}")
  message(WARNING "interop_histogram_server: ${_lockless_hist_server_missing} not found; the "
                  "test will fail (run scripts/install-deps.sh --tests)")
  add_test(NAME interop_histogram_server
           COMMAND "${CMAKE_COMMAND}" -E echo
                   "interop_histogram_server: ${_lockless_hist_server_missing} not found at configure time (run scripts/install-deps.sh --tests, then reconfigure)")
  # echo succeeds: make the missing components a failure, loudly.
  set_tests_properties(interop_histogram_server PROPERTIES
    LABELS interop WILL_FAIL TRUE)
else()
  add_executable(interop_histogram_server_endpoint histogram_server.cpp)
  target_link_libraries(interop_histogram_server_endpoint
    PRIVATE lockless::lockless lockless_dev_flags PkgConfig::LOCKLESS_HTTPLIB Threads::Threads)
  add_test(NAME interop_histogram_server
           COMMAND "${LOCKLESS_SYSTEM_PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/histogram_server.py"
                   --endpoint $<TARGET_FILE:interop_histogram_server_endpoint>
                   --prometheus "${LOCKLESS_PROMETHEUS}")
  # Mostly waiting (Prometheus' discovery hands new targets to the scrapers every 5 s), so
  # not RUN_SERIAL: a failed scrape on a busy machine is retried, within 45 s.
  set_tests_properties(interop_histogram_server PROPERTIES LABELS interop TIMEOUT 120)
  if(NOT TARGET tests_interop)
    add_custom_target(tests_interop)
  endif()
  add_dependencies(tests_interop interop_histogram_server_endpoint)
endif()
