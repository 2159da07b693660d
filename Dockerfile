# loopvisord container: built with the same install script as README and CI, run under tini.
# Build arguments: REVISION (the git commit, for loopvisor_build_info, GET /version and the
# image's labels; the build context has no .git) and SOURCE (the repository's URL), e.g.
#   docker build --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg SOURCE=$(git remote get-url origin) -t loopvisord .
FROM debian:12 AS build
WORKDIR /src
# The install script alone first: a source change reuses this layer.
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN ./deploy/install-deps.sh --build
COPY . .
ARG REVISION=unknown
RUN cmake --preset release -DLOOPVISOR_BUILD_TESTS=OFF -DLOOPVISOR_BUILD_EXAMPLES=OFF \
      -DLOOPVISOR_BUILD_BENCH=OFF -DLOOPVISOR_REVISION="$REVISION" \
 && cmake --build --preset release --target loopvisord

FROM debian:12-slim
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="loopvisord" \
      org.opencontainers.image.description="asyncio-style loop-per-thread runtime daemon with a job API and Prometheus metrics" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.source="$SOURCE"
COPY deploy/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
COPY --from=build /src/build/release/service/loopvisord /usr/local/bin/loopvisord
COPY config/loopvisor.toml /etc/loopvisor/loopvisor.toml
# A numeric user and group, so that a pod with runAsNonRoot can verify them; the Kubernetes
# manifests (deploy/k8s) use the same numbers for runAsUser, runAsGroup and fsGroup.
RUN groupadd --system --gid 10001 loopvisor \
 && useradd --system --no-create-home --uid 10001 --gid 10001 loopvisor
USER 10001:10001
# Only what the image itself must set: where its config is, and the admin server reachable
# from outside the container. Everything else (the shutdown grace among it, 8 s to end inside
# `docker stop`'s 10 s) is in the shipped config file, which a mounted file replaces whole:
# an ENV here would silently beat the operator's file (environment > file).
ENV LOOPVISOR_CONFIG=/etc/loopvisor/loopvisor.toml LOOPVISOR_ADMIN_LISTEN=0.0.0.0:9470
EXPOSE 9470
# Docker-only; asks /healthz with the binary itself (no curl in a slim image).
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/loopvisord", "healthcheck"]
# Exec form: tini is PID 1, reaps zombies and forwards SIGTERM to loopvisord.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/loopvisord"]
STOPSIGNAL SIGTERM
