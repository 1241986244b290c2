#!/usr/bin/env bash
# Installs dependencies, builds, and runs the main job: a story from the shared stories260K model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installers/install-deps.sh
bash installers/build.sh
model=${1:-../shared/models/stories260K.gguf}
"${FOLIO_BUILD_DIR:-build}"/app/folio run -m "$model" -p "Once upon a time" -n 128
