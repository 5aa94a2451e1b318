#!/usr/bin/env bash
# Installs everything cairn needs to build, test and benchmark on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped by apt/pip.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libboost-math-dev nlohmann-json3-dev libsimdjson-dev
  libsqlite3-dev sqlite3 libpq-dev libssl-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libeigen3-dev libxgboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl zlib1g-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${CAIRN_SKIP_PIP:-0}" != "1" ]; then
  python3 -m pip install -q --disable-pip-version-check -r "$here/tests/requirements.txt"
  # The Argo schema check of compiled pipelines (tests/pipeline/argo_schema) runs on node with
  # the npm packages pinned in its package-lock.json.
  if ! command -v npm >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  (cd "$here/tests/pipeline/argo_schema" && npm ci --no-audit --no-fund --loglevel=error)
fi
