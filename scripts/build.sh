#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds relufit in
# build/ (Release). Used by scripts/serve and scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build.configure.log 2>&1 || { cat build.configure.log; exit 1; }
rm -f build.configure.log
cmake --build build -j "$(nproc)"
