#!/usr/bin/env bash
# Configures and builds Folio (Release) into ${FOLIO_BUILD_DIR:-build}.
# Extra arguments go to CMake, e.g. -DFOLIO_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FOLIO_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$(nproc)"
