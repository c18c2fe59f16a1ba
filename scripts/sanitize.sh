#!/usr/bin/env bash
# Builds the unit and golden tiers with AddressSanitizer and
# UndefinedBehaviorSanitizer (CMake option RELUFIT_SANITIZE) in build-asan/
# and runs them; any sanitizer report fails. Leak checking is off by default:
# FLINT keeps per-thread caches that nothing frees (no flint_cleanup() at the
# end of the search's threads), which LeakSanitizer reports at exit;
# RELUFIT_DETECT_LEAKS=1 turns it on. About 10 min of building on 2 cores,
# then 2 min of tests: not part of scripts/test unless RELUFIT_SANITIZE_TESTS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELUFIT_SANITIZE=ON > build-asan.configure.log 2>&1 \
  || { cat build-asan.configure.log; exit 1; }
rm -f build-asan.configure.log
cmake --build build-asan -j "$(nproc)" --target relufit_unit_tests relufit_golden_tests > build-asan/build.log 2>&1 \
  || { tail -50 build-asan/build.log; exit 1; }
export ASAN_OPTIONS="detect_leaks=${RELUFIT_DETECT_LEAKS:-0}:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in relufit_unit_tests relufit_golden_tests; do
  if "build-asan/bin/$t" > "build-asan/$t.log" 2>&1; then
    echo "sanitize: $t: $(grep -E '^\[  PASSED  \]' "build-asan/$t.log"), no sanitizer report"
  else
    echo "sanitize: $t FAILED:"; grep -E "runtime error|ERROR: |FAILED|SUMMARY" "build-asan/$t.log" | head -20
    status=1
  fi
done
exit $status
