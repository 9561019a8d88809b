// tests/support/gtest_pch_host.cpp: the one source of tests_pch (tests/CMakeLists.txt), which
// compiles GoogleTest's header and the standard headers most tests include once per build;
// every unit, stress, dsched and selftest program reuses it. Nothing of lockless is in it:
// the tests compile the headers themselves, with their own macros (LOCKLESS_DSCHED).
#include <gtest/gtest.h>
