#!/usr/bin/env bash
# Builds the cairn container image from the repository's Dockerfile, then checks it.
#
#   scripts/build-image.sh [build|check|all]     (default: all)
#
# With a running Docker engine (`docker info` answers) it runs `docker build` / `docker run`.
# Without one it builds daemonless with buildah (Debian package `buildah`), in "chroot"
# isolation, which needs no runc, no user namespaces and no daemon. When the Debian base
# images of the Dockerfile's FROM lines (debian:bookworm, debian:bookworm-slim) are neither in
# local storage nor pullable from a registry, it makes them from Debian's apt mirror with
# mmdebstrap (Debian package `mmdebstrap`; needs root) and imports them under those names.
#
# Environment:
#   CAIRN_IMAGE          image name (default cairn:<version from CMakeLists.txt>; also tagged
#                        cairn:latest, the image `cairn pipeline compile` names by default)
#   CAIRN_BUILD_JOBS     compile jobs inside the build (default 2)
#   CAIRN_IMAGE_ENGINE   docker | buildah (default: docker when its engine answers, else buildah)
#   CAIRN_DEBIAN_MIRROR  apt mirror for the made base images (default http://deb.debian.org)
#   CAIRN_IMAGE_CCACHE   buildah only: a host ccache folder (e.g. ~/.cache/ccache) lent to
#                        the compile step, so that a rebuild compiles only what changed since
#                        the last image build. Nothing of it ends up in the image.
#   STORAGE_DRIVER       buildah's storage driver: the default (overlay) needs overlay mounts;
#                        set vfs where they are refused.
#
# `check` runs the image as a user would, in a pipeline image made from it (the example
# pipeline examples/car_loan and its data from ../shared/data added on top): --version, the
# non-root user, every shared library resolved (ldd), `cairn server` answering /health with
# its database in /work/cairn-data; the Argo Workflow the image compiles for the example, run
# task by task as Argo would (scripts/argo_sim.py) against that server; the example pipeline
# run locally in the image (ingest ... register, promote to `test`); `cairn serve
# runs:/<that run>/model` answering a scoring request; both servers exiting cleanly on
# SIGTERM. It prints the image size.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

action="${1:-all}"
version="$(sed -n 's/^project(cairn VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
image="${CAIRN_IMAGE:-cairn:${version}}"
jobs="${CAIRN_BUILD_JOBS:-2}"
mirror="${CAIRN_DEBIAN_MIRROR:-http://deb.debian.org}"

engine="${CAIRN_IMAGE_ENGINE:-}"
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v buildah >/dev/null 2>&1; then
    engine=buildah
  else
    echo "build-image: no Docker engine answers and buildah is not installed" \
         "(apt-get install buildah mmdebstrap)" >&2
    exit 1
  fi
fi
echo "build-image: engine $engine, image $image" >&2

# The names the Dockerfile's FROM lines use, as they resolve in local storage.
bases=(debian:bookworm debian:bookworm-slim)

have_image() {
  buildah inspect --type image "docker.io/library/$1" >/dev/null 2>&1
}

# Makes debian:<tag> from the apt mirror: the official images are minbase bootstraps with
# merged /usr; the -slim one also keeps no documentation, man pages or translations (the same
# dpkg path excludes as the official slim image, so later apt installs skip them too).
make_base() {
  local tag="$1" tar opts=()
  command -v mmdebstrap >/dev/null 2>&1 || {
    echo "build-image: $tag is not available; install mmdebstrap to make it" >&2; exit 1; }
  if [ "$tag" = "bookworm-slim" ]; then
    local p
    for p in /usr/share/doc/'*' /usr/share/man/'*' /usr/share/info/'*' /usr/share/locale/'*' \
             /usr/share/groff/'*' /usr/share/lintian/'*' /usr/share/linda/'*'; do
      opts+=(--dpkgopt="path-exclude=$p")
    done
    opts+=(--dpkgopt='path-include=/usr/share/doc/*/copyright')
  fi
  tar="$(mktemp --tmpdir "cairn-$tag.XXXXXX.tar")"
  echo "build-image: making debian:$tag with mmdebstrap from $mirror" >&2
  nice mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
    --setup-hook=/usr/share/mmdebstrap/hooks/merged-usr/setup00.sh \
    --aptopt='Acquire::Retries "3"' "${opts[@]}" bookworm "$tar" \
    "deb $mirror/debian bookworm main" \
    "deb $mirror/debian bookworm-updates main" \
    "deb $mirror/debian-security bookworm-security main"
  local ctr
  ctr="$(buildah from scratch)"
  buildah add --quiet "$ctr" "$tar" / >/dev/null
  buildah config --cmd '["bash"]' \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  buildah commit --quiet --rm "$ctr" "docker.io/library/debian:$tag" >/dev/null
  rm -f "$tar"
}

build() {
  if [ "$engine" = docker ]; then
    docker build --build-arg CAIRN_BUILD_JOBS="$jobs" -t "$image" -t cairn:latest .
    return
  fi
  local b
  for b in "${bases[@]}"; do
    have_image "$b" && continue
    buildah pull --quiet "docker.io/library/$b" >/dev/null 2>&1 || make_base "${b#debian:}"
  done
  local volumes=()
  if [ -n "${CAIRN_IMAGE_CCACHE:-}" ]; then
    volumes+=(--volume "$(cd "$CAIRN_IMAGE_CCACHE" && pwd):/root/.cache/ccache")
  fi
  nice buildah bud --isolation chroot --pull-never --layers "${volumes[@]}" \
    --build-arg CAIRN_BUILD_JOBS="$jobs" -t "$image" -t cairn:latest -f Dockerfile .
}

fail() { echo "build-image check FAILED: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# What runs inside the check image, as the image's user in /work: the binary, the user, the
# libraries, then the whole lifecycle on the example pipeline: `cairn server`, the pipeline
# (every step in this image, registered and promoted on that server), `cairn serve` of the
# promoted model, one scoring request. Plain bash: the image has no curl.
smoke_script() {
  cat <<'SMOKE'
set -euo pipefail
server_port="$1" serve_port="$2" version="$3"
say() { echo "smoke: $*" >&2; }
# chroot isolation has no PID namespace: a failing check must not leave its servers running.
server="" serve=""
trap 'kill $server $serve 2>/dev/null || true' EXIT
http() {  # http PORT METHOD PATH [JSON BODY]: prints the response (HTTP/1.0, one request)
  local body="${4:-}"
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf '%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$2" "$3" "${#body}" "$body" >&3
  cat <&3
  exec 3<&-
}
wait_ok() {  # wait_ok PORT PATH PID
  local i
  for i in $(seq 1 300); do
    kill -0 "$3" 2>/dev/null || { say "process $3 exited"; return 1; }
    http "$1" GET "$2" 2>/dev/null | head -1 | grep -q ' 200 ' && return 0
    sleep 0.2
  done
  return 1
}
[ "$(cairn --version)" = "$version" ] || { say "cairn --version: $(cairn --version)"; exit 1; }
say "cairn --version: $version"
[ "$(id -u)" != 0 ] || { say "runs as root"; exit 1; }
say "user: $(id)"
if ldd /usr/local/bin/cairn | grep 'not found'; then say "missing libraries"; exit 1; fi
say "ldd: every library resolved"
[ "$(pwd)" = /work ] && [ -w /work/cairn-data ] || { say "/work/cairn-data not writable"; exit 1; }
cairn pipeline step --help >/dev/null

cairn server --host 127.0.0.1 --port "$server_port" >/tmp/server.log 2>&1 &
server=$!
wait_ok "$server_port" /health "$server" || { cat /tmp/server.log >&2; exit 1; }
say "cairn server: /health 200 on port $server_port"
[ -f /work/cairn-data/cairn.db ] || { say "no /work/cairn-data/cairn.db"; exit 1; }

export MLFLOW_TRACKING_URI="http://127.0.0.1:$server_port"
# First, while /pipeline is as the image holds it: the compiled Argo Workflow, task by task.
bash /argo-sim.sh
say "argo: the compiled workflow's tasks ran in this image, artifacts passed by path"
cairn pipeline validate /pipeline/pipeline.yaml --param data=/data/car_loan.csv.gz >&2
cairn pipeline run /pipeline/pipeline.yaml --param data=/data/car_loan.csv.gz -j 2 >&2
resolved="$(cairn model resolve models:/car-loan@test)"
echo "$resolved" >&2
run_id="$(echo "$resolved" | sed -n 's/^run_id: //p')"
say "pipeline: ingest, validate, train, evaluate, register, promote to test (run $run_id)"

# The model through the server's artifact proxy, by the run the registered version points to
# (`cairn serve models:/car-loan@test` itself fails: the version the register step creates has
# source runs:/... and no storage location, and get-download-uri hands that runs:/ back).
model_uri="runs:/$run_id/model"
cairn serve "$model_uri" --host 127.0.0.1 --port "$serve_port" >/tmp/serve.log 2>&1 &
serve=$!
wait_ok "$serve_port" /ping "$serve" || { cat /tmp/serve.log >&2; exit 1; }
out="$(http "$serve_port" POST /invocations \
  '{"dataframe_split": {"columns": ["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure"], "data": [[40000, 0.3, 5, 4.2], [12000, 0.9, 8, 0.5]]}}')"
echo "$out" | head -1 | grep -q ' 200 ' || { say "invocations: $out"; cat /tmp/serve.log >&2; exit 1; }
say "cairn serve $model_uri: /invocations -> ${out##*$'\r\n\r\n'}"
kill -TERM "$serve" "$server"
wait "$serve" || { say "cairn serve did not exit cleanly on SIGTERM"; exit 1; }
wait "$server" || { say "cairn server did not exit cleanly on SIGTERM"; exit 1; }
server="" serve=""
say "SIGTERM: both servers exited cleanly"
SMOKE
}

build_in() {  # build_in TAG CONTEXT_DIR
  if [ "$engine" = docker ]; then
    docker build -q -t "$1" "$2" >/dev/null
  else
    buildah bud --isolation chroot --pull-never -q -t "$1" "$2" >/dev/null
  fi
}

run_in() {  # run_in TAG COMMAND...: a fresh container of TAG on the host's network
  local tag="$1"
  shift
  if [ "$engine" = docker ]; then
    docker run --rm --network host --entrypoint "$1" "$tag" "${@:2}"
  else
    # chroot isolation shares the host's network (and has no PID namespace).
    local ctr rc=0
    ctr="$(buildah from --pull-never "$tag")"
    buildah run --isolation chroot "$ctr" -- "$@" || rc=$?
    buildah rm "$ctr" >/dev/null
    return "$rc"
  fi
}

remove_image() {
  if [ "$engine" = docker ]; then docker image rm "$1" >/dev/null; else buildah rmi "$1" >/dev/null; fi
}

check() {
  local ctx base_image="localhost/cairn-image-check-base:latest"
  local test_image="localhost/cairn-image-check:latest" data rc=0
  echo "build-image: checking $image" >&2
  data="$here/../shared/data/nannyml_car_loan_reference.csv.gz"
  [ -f "$data" ] || fail "the check needs $data (the example pipeline's data)"
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' RETURN
  # The check image is what the Dockerfile's header says a pipeline image is: the example
  # pipeline in /pipeline (owned by the image's user: steps write next to the spec) on top.
  mkdir "$ctx/base" "$ctx/check"
  cp -r examples/car_loan "$ctx/base/car_loan"
  cp "$data" "$ctx/base/car_loan.csv.gz"
  smoke_script >"$ctx/base/smoke.sh"
  printf '%s\n' "FROM $image" "COPY --chown=10001:10001 car_loan /pipeline" \
    "COPY car_loan.csv.gz /data/car_loan.csv.gz" "COPY smoke.sh /smoke.sh" >"$ctx/base/Dockerfile"
  build_in "$base_image" "$ctx/base"
  # The Argo Workflow the image compiles for itself, run task by task as Argo would
  # (scripts/argo_sim.py): each task in a reset spec folder, artifacts passed by path.
  run_in "$base_image" cairn pipeline compile /pipeline/pipeline.yaml --target argo \
    --format json --param data=/data/car_loan.csv.gz >"$ctx/check/workflow.json" \
    || { remove_image "$base_image"; fail "cairn pipeline compile"; }
  python3 "$here/scripts/argo_sim.py" "$ctx/check/workflow.json" >"$ctx/check/argo-sim.sh"
  printf '%s\n' "FROM $base_image" "COPY argo-sim.sh /argo-sim.sh" >"$ctx/check/Dockerfile"
  build_in "$test_image" "$ctx/check"
  run_in "$test_image" bash /smoke.sh "$(free_port)" "$(free_port)" "$version" || rc=$?
  remove_image "$test_image"
  remove_image "$base_image"
  [ "$rc" = 0 ] || fail "see the smoke lines above"
  if [ "$engine" = docker ]; then docker image ls "$image"; else buildah images "$image"; fi
  echo "build-image: $image passed its checks" >&2
}

case "$action" in
  build) build ;;
  check) check ;;
  all) build; check ;;
  *) echo "usage: $0 [build|check|all]" >&2; exit 2 ;;
esac
