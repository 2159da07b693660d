# loopvisord container: built with the same install script as README and CI, run under tini.
FROM debian:12 AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN ./deploy/install-deps.sh
COPY . .
RUN cmake --preset release -DLOOPVISOR_BUILD_TESTS=OFF -DLOOPVISOR_BUILD_EXAMPLES=OFF \
 && cmake --build --preset release --target loopvisord

FROM debian:12-slim
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
