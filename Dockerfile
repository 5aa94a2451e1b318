# cairn in a container: the image compiled pipelines run their steps in
# (`cairn pipeline step ...`, see src/pipeline/compile.h) and serving runs (`cairn serve`,
# `cairn server`). Multi-stage: build on Debian bookworm with the same apt packages as
# scripts/install-deps.sh, run on bookworm-slim with only the shared libraries cairn links,
# as a non-root user.
#   docker build -t cairn:0.1.0 .
#   docker run --rm -p 5000:5000 cairn:0.1.0 server --host 0.0.0.0 --port 5000
# A pipeline's image adds its spec and step files on top, where `cairn pipeline compile`
# expects them (--spec-path-in-image, default /pipeline/pipeline.yaml). Compiled steps work in
# that folder and write their outputs and step cache there, so it belongs to the image's user:
#   FROM cairn:0.1.0
#   COPY --chown=10001:10001 examples/car_loan /pipeline

FROM debian:bookworm AS build
WORKDIR /src
# The apt package list lives in one place: scripts/install-deps.sh (pip is skipped: the
# Python packages are for tests and benchmarks only).
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN CAIRN_SKIP_PIP=1 ./scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake cmake
COPY src src
# Parallel compile jobs (empty: ninja's default, cores + 2); set --build-arg CAIRN_BUILD_JOBS=2
# on a shared machine.
ARG CAIRN_BUILD_JOBS=
# ccache (installed by install-deps.sh) hashes paths relative to /src, so a ccache folder lent
# to this step (scripts/build-image.sh, CAIRN_IMAGE_CCACHE) serves later image builds and
# checkouts built the same way (<checkout>/build, CCACHE_BASEDIR above the checkout).
ENV CCACHE_BASEDIR=/src
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_BUILD_TESTS=OFF \
      -DCAIRN_BUILD_BENCH=OFF -DCAIRN_ONLY="" \
 && ninja -C build ${CAIRN_BUILD_JOBS:+-j"$CAIRN_BUILD_JOBS"} cairn \
 && strip build/cairn

FROM debian:bookworm-slim AS runtime
# The runtime halves of the -dev packages cairn links (ldd build/cairn), tzdata for
# schedules in time zones, ca-certificates for outbound HTTPS proxies.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libxgboost0 libdmlc0 libgomp1 libsqlite3-0 libfmt9 libyaml-cpp0.7 libssl3 \
      libspdlog1.10 libsimdjson14 zlib1g tzdata ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 cairn \
 && useradd --system --uid 10001 --gid cairn --home-dir /work --no-create-home \
      --shell /usr/sbin/nologin cairn \
 && install -d -o cairn -g cairn -m 0755 /work /work/cairn-data
COPY --from=build /src/build/cairn /usr/local/bin/cairn
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# `cairn server` keeps its default data folder (cairn-data/: metadata database and artifacts)
# in the working directory. Mount a
# volume on /work/cairn-data to keep them: the folder exists, owned by the image's user, so a
# new named volume starts with that owner.
ENV HOME=/work
WORKDIR /work
EXPOSE 5000 8080
ENTRYPOINT ["/usr/local/bin/cairn"]
CMD ["--help"]
