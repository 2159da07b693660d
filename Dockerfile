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
RUN useradd --system --no-create-home loopvisor
USER loopvisor
# The shipped config, with the admin server reachable from outside the container, and a
# shutdown grace that ends inside `docker stop`'s default 10 s (SIGKILL after that); with
# `docker stop -t N` or a longer grace period, raise LOOPVISOR_SHUTDOWN_GRACE_MS to match.
ENV LOOPVISOR_CONFIG=/etc/loopvisor/loopvisor.toml LOOPVISOR_ADMIN_LISTEN=0.0.0.0:9470 \
    LOOPVISOR_SHUTDOWN_GRACE_MS=8000
EXPOSE 9470
# Docker-only; asks /healthz with the binary itself (no curl in a slim image).
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/loopvisord", "healthcheck"]
# Exec form: tini is PID 1, reaps zombies and forwards SIGTERM to loopvisord.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/loopvisord"]
STOPSIGNAL SIGTERM
