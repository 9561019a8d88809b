# Cross toolchain: AArch64 Linux with Debian's cross compilers (g++-aarch64-linux-gnu,
# libc6-dev-arm64-cross), tests run under qemu-user (qemu-aarch64). Used by the aarch64
# preset: ctest runs every test executable through CMAKE_CROSSCOMPILING_EMULATOR.
#
# Why: on x86-64, epoch.hpp's store_then_full_fence() is one XCHG; the portable path (release
# store + seq_cst fence, i.e. stlr + dmb ish) is what every other target runs, and this build
# is where it gets compiled and executed.
#
# GoogleTest: Debian's libgtest-dev is built for the host only, so tests/CMakeLists.txt
# builds GoogleTest from the googletest source package (/usr/src/googletest) when
# CMAKE_CROSSCOMPILING.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(_lockless_cross_prefix /usr/aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Look for libraries, headers and CMake packages of the target only (never the host's
# amd64 ones, e.g. /usr/lib/x86_64-linux-gnu/libgtest.a); programs come from the host.
set(CMAKE_FIND_ROOT_PATH "${_lockless_cross_prefix}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# qemu-user runs the target's binaries; -L points it at the target's dynamic loader and
# shared libraries (libc, libstdc++, libgcc_s from the *-arm64-cross packages).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L "${_lockless_cross_prefix}")
