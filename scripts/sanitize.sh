#!/usr/bin/env bash
# Builds the unit and golden tiers with AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (CMake option RELUFIT_SANITIZE) in build-asan/
# and runs them; any sanitizer report fails. Part of scripts/test.
# Only the test targets are built, at -O1 with line tables only (-g1), which
# is what keeps it short: see README (Set up) for the measured time.
# Leaks: FLINT keeps per-thread caches; the search's pool threads and the job
# workers free them with flint_cleanup() when they end (task_pool.cpp,
# job_manager.cpp), so leak checking is on (RELUFIT_DETECT_LEAKS=0 turns it
# off). Tests left out, with the reason, are in SLOW below.
# Usage: scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELUFIT_SANITIZE=ON -DBUILD_TESTING=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  > build-asan.configure.log 2>&1 || { cat build-asan.configure.log; exit 1; }
rm -f build-asan.configure.log
cmake --build build-asan -j "$(nproc)" --target relufit_unit_tests relufit_golden_tests > build-asan/build.log 2>&1 \
  || { tail -50 build-asan/build.log; exit 1; }
export ASAN_OPTIONS="detect_leaks=${RELUFIT_DETECT_LEAKS:-1}:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Left out under the sanitizers (they run in the ordinary build): none yet.
SLOW=""
status=0
for t in relufit_unit_tests relufit_golden_tests; do
  filter="*"
  [ -n "$SLOW" ] && filter="*:-$SLOW"
  start=$(date +%s)
  if "build-asan/bin/$t" --gtest_filter="$filter" > "build-asan/$t.log" 2>&1; then
    echo "sanitize: $t: $(grep -E '^\[  PASSED  \]' "build-asan/$t.log") in $(( $(date +%s) - start )) s, no sanitizer report"
  else
    echo "sanitize: $t FAILED:"; grep -E "runtime error|ERROR: |FAILED|SUMMARY" "build-asan/$t.log" | head -20
    status=1
  fi
done
exit $status
