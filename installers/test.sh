#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installers/install-deps.sh
bash installers/build.sh -DFOLIO_WERROR=ON
ctest --test-dir "${FOLIO_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
