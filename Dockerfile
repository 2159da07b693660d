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
RUN useradd --system --no-create-home loopvisor
USER loopvisor
# Exec form: tini is PID 1, reaps zombies and forwards SIGTERM to loopvisord.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/loopvisord"]
STOPSIGNAL SIGTERM
