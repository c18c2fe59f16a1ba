#!/usr/bin/env bash
# Installs the Debian 12 packages relufit needs to build, test and benchmark,
# with apt-get, only those that are missing. Run as root (or via sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libgmp-dev libflint-dev libflint-arb-dev libcalcium-dev libglpk-dev libtcmalloc-minimal4
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev libssl-dev
  libgtest-dev clang libclang-rt-14-dev
  openmpi-bin libopenmpi-dev
  z3 cvc5 gnuplot-nox openssl python3 python3-grpcio python3-protobuf
  # Pictures and model export (relufit plot / model): cairo, CGAL's
  # Arrangement_2 (header-only), a font for the text; the tests read ONNX
  # models back with python3-onnx and numpy, and run to_torch() with
  # Debian's PyTorch (about 50 MB to download, under a minute here).
  libcairo2-dev libcgal-dev fonts-dejavu-core python3-onnx python3-numpy python3-torch
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
