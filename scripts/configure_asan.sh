#!/usr/bin/env bash
# Configures the AddressSanitizer + UBSan tree (default build-asan) that both `make sanitize`
# and scripts/fuzz.sh build in: clang-16, every library with libFuzzer's coverage, the tests
# and the fuzz targets. One tree, so CI compiles the instrumented libraries once.
#   scripts/configure_asan.sh [BUILD]   extra CMake options in CMAKE_FLAGS
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}

# Debian 12's default clang (14) rejects lambdas capturing structured bindings in C++20; 16 has
# libFuzzer in libclang-rt-16-dev and OpenMP in libomp-16-dev.
scripts/setup.sh clang-16 libclang-rt-16-dev libomp-16-dev
# A tree an older checkout configured with gcc cannot switch compilers in place.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++-16$' "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
# -O1 -g1 (line tables, which is what ASan's reports print) compiles in about half the time of
# -O2 -g, and this tree is most of CI's time.
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DTAPEGRAD_FUZZ=ON -DTAPEGRAD_NATIVE=OFF \
  -DTAPEGRAD_BUILD_EXAMPLES=OFF ${CMAKE_FLAGS:-} >/dev/null
