#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz: number parser, request reading,
# checker, CSV requests) with clang in build-fuzz/, address and undefined-behaviour
# sanitizers on, and runs each for SECONDS (default 20) from its seed corpus
# in tests/fuzz/corpus/NAME (inputs it finds go to build-fuzz/corpus/NAME).
# Exit status 1 on any crash, sanitizer report, leak or timeout; the input
# that caused it is left in build-fuzz/ (crash-*, timeout-*, leak-*).
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
each=${1:-20}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELUFIT_FUZZ=ON \
  -DBUILD_TESTING=OFF > build-fuzz.configure.log 2>&1 || { cat build-fuzz.configure.log; exit 1; }
rm -f build-fuzz.configure.log
cmake --build build-fuzz -j "$(nproc)" --target fuzz_number fuzz_request fuzz_checker fuzz_csv > build-fuzz/build.log 2>&1 \
  || { tail -50 build-fuzz/build.log; exit 1; }
status=0
for name in fuzz_number fuzz_request fuzz_checker fuzz_csv; do
  mkdir -p "build-fuzz/corpus/$name"
  if (cd build-fuzz && "bin/$name" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "corpus/$name" "../tests/fuzz/corpus/$name" > "$name.log" 2>&1); then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$name.log")
    echo "fuzz: $name: ${execs:-?} inputs in ${each} s, no crash"
  else
    echo "fuzz: $name FAILED:"; grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "build-fuzz/$name.log" | head -20
    status=1
  fi
done
exit $status
