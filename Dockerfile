# relufit-server container image (see README.md, "Container").
#
#   docker build --network host -t relufit .
#   docker run -d --name relufit -p 50051:50051 -v relufit-data:/var/lib/relufit relufit
#
# Two stages: the build stage compiles a Release build (tests off) on
# debian:bookworm; the runtime stage holds only the three binaries and the
# shared libraries they load, on debian:bookworm-slim. Both FROM lines are
# plain so the build reaches no image registry once the base images exist
# locally (scripts/container-test.sh makes them with debootstrap).

FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libgmp-dev libflint-dev libflint-arb-dev libcalcium-dev libglpk-dev libtcmalloc-minimal4 \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto \
      libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev \
      libcairo2-dev libcgal-dev \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j "$(nproc)" \
 && strip /build/bin/relufit-server /build/bin/relufit /build/bin/relufit-health-probe /build/bin/relufit-shard

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (from ldd of the three binaries): gRPC C++ (pulls in
# libgrpc29, abseil, c-ares, re2, OpenSSL), protobuf, FLINT 2.9 (libflint17,
# with NTL, gf2x, MPFR), Arb and Calcium (with antic) for real algebraic
# numbers, cairo and a font (relufit plot), GLPK (lifted LPs of product certificates), GMP, spdlog with fmt, SQLite.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libflint17 libflint-arb2 libcalcium0 libantic0 libglpk40 libtcmalloc-minimal4 libmpfr6 libgmp10 libspdlog1.10 libfmt9 libsqlite3-0 \
      libcairo2 fonts-dejavu-core \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --system --gid 10001 relufit \
 && useradd --system --uid 10001 --gid relufit --home-dir /var/lib/relufit \
      --shell /usr/sbin/nologin relufit \
 && mkdir -p /var/lib/relufit \
 && chown relufit:relufit /var/lib/relufit
# relufit-shard runs the shards of a static plan (deploy/: Slurm, Kubernetes).
COPY --from=build /build/bin/relufit-server /build/bin/relufit /build/bin/relufit-health-probe \
     /build/bin/relufit-shard /usr/local/bin/

# The job store (SQLite: jobs, results, certificates) lives on this volume and
# survives container restarts and upgrades.
VOLUME /var/lib/relufit
WORKDIR /var/lib/relufit
USER relufit
EXPOSE 50051
# The probe asks the standard grpc.health.v1 service; set RELUFIT_HEALTH_ADDR
# when the server listens elsewhere (e.g. another port with --network host).
ENV RELUFIT_HEALTH_ADDR=127.0.0.1:50051
HEALTHCHECK --interval=10s --timeout=5s --retries=3 \
  CMD ["relufit-health-probe", "--timeout", "3"]
# relufit-server is PID 1 and stops gracefully on SIGTERM (docker stop):
# running jobs go back to the queue in the store and resume on the next start.
STOPSIGNAL SIGTERM
CMD ["relufit-server", "--listen", "0.0.0.0:50051", "--store", "/var/lib/relufit/jobs.sqlite3"]
