#!/usr/bin/env bash
# Installs Folio's build and test dependencies from Debian 12's packages (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
  qt6-base-dev qt6-declarative-dev qml6-module-qtquick qml6-module-qtquick-controls
  qml6-module-qtquick-layouts qml6-module-qtquick-window qml6-module-qtqml-workerscript
  qml6-module-qtquick-templates qml6-module-qtquick-dialogs qml6-module-qt-labs-folderlistmodel
  qml6-module-qtcore qml6-module-qttest libpoppler-qt6-dev
  libdnnl-dev ocl-icd-opencl-dev
  libcpp-httplib-dev libsqlite3-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev
  libcurl4-openssl-dev libssl-dev libxxhash-dev libcli11-dev libtomlplusplus-dev libsystemd-dev
  libvulkan-dev glslc mesa-vulkan-drivers xvfb libsimde-dev
)
# Tests: systemd-analyze (checks packaging/systemd/folio.service); node and npm (tests/e2e, the
# official openai client). Only when the command is missing: a node from elsewhere (NodeSource)
# ships npm itself and conflicts with Debian's npm package.
command -v systemd-analyze >/dev/null || packages+=(systemd)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The e2e tests' npm packages, exactly as locked in tests/e2e/package-lock.json.
e2e_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/e2e"
if [ -f "$e2e_dir/package-lock.json" ] && [ ! -d "$e2e_dir/node_modules" ]; then
  (cd "$e2e_dir" && npm ci --no-audit --no-fund)
fi
echo "dependencies: all installed"
