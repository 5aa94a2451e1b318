#!/usr/bin/env bash
# Installs what is missing, builds cairn, seeds the demo (`cairn demo`: XGBoost runs and a
# production-monitoring run on car-loan data; skipped when already there) and starts
# `cairn server` on the embedded default (SQLite + a local artifacts folder under
# ./cairn-data) at http://127.0.0.1:5000.
# Point any mlflow client at it: MLFLOW_TRACKING_URI=http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN_SKIP_PIP=1 ./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_BUILD_TESTS=OFF -DCAIRN_ONLY="" > /dev/null
ninja -C build -j "$(nproc)" cairn
./build/cairn demo
exec ./build/cairn server --host "${CAIRN_HOST:-127.0.0.1}" --port "${CAIRN_PORT:-5000}" "$@"
