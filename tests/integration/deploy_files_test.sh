#!/usr/bin/env bash
# The deploy files check out with the tools that read them: promtool on the scrape config and
# the alert rules (whose metric names loopvisord really exports), systemd-analyze on the unit,
# and the Kubernetes manifests parse, probe the routes the daemon serves, and carry a config
# that loopvisord itself accepts.
set -euo pipefail
daemon=$1
src=$2
work=$(mktemp -d)
pid=""
trap 'rm -rf "$work"; [[ -n $pid ]] && kill "$pid" 2>/dev/null || true' EXIT
fail() { echo "FAIL: $*"; exit 1; }

promtool check config "$src/deploy/prometheus/prometheus.yml" > /dev/null || fail "promtool check config"
promtool check rules "$src/deploy/prometheus/loopvisor-alerts.yml" > /dev/null || fail "promtool check rules"

# Every loopvisor metric an alert uses is one loopvisord exports.
"$daemon" --loops 1 --admin-listen 127.0.0.1:0 > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "admin: listening" "$work/log" && break; sleep 0.05; done
port=$(grep -o "admin: listening on 127.0.0.1:[0-9]*" "$work/log" | sed 's/.*://')
[[ -n $port ]] || fail "loopvisord did not start: $(cat "$work/log")"
curl -fsS "http://127.0.0.1:$port/metrics" > "$work/metrics"
kill -TERM "$pid"
wait "$pid" || fail "loopvisord exit"
pid=""
for name in $(grep -o 'loopvisor_[a-z_]*' "$src/deploy/prometheus/loopvisor-alerts.yml" | sort -u); do
  grep -q "^$name" "$work/metrics" || fail "alert rule uses $name, which /metrics does not have"
done

# The unit, pointed at this build.
sed -e "s|/usr/local/bin/loopvisord|$daemon|g" -e "s|/etc/loopvisor/loopvisor.toml|$src/config/loopvisor.toml|g" \
  "$src/deploy/systemd/loopvisord.service" > "$work/loopvisord.service"
systemd-analyze verify "$work/loopvisord.service" || fail "systemd-analyze verify"

# Kubernetes: structure, probes and the ConfigMap's TOML.
python3 - "$src/deploy/k8s/loopvisord.yaml" "$src/deploy/k8s/servicemonitor.yaml" "$work/k8s.toml" <<'PY'
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1]))}
assert set(docs) == {"ConfigMap", "Deployment", "Service"}, docs.keys()
pod = docs["Deployment"]["spec"]["template"]["spec"]
c = pod["containers"][0]
assert c["livenessProbe"]["httpGet"]["path"] == "/livez"
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
assert c["ports"][0]["containerPort"] == 9470
assert pod["enableServiceLinks"] is False
# The token the ConfigMap names comes from the Secret volume.
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
volumes = {v["name"]: v for v in pod["volumes"]}
assert volumes["admin-token"]["secret"]["secretName"] == "loopvisord-admin-token"
assert 'auth_token_file = "%s/token"' % mounts["admin-token"] in docs["ConfigMap"]["data"]["loopvisor.toml"]
svc = docs["Service"]
assert svc["metadata"]["annotations"]["prometheus.io/port"] == "9470"
assert svc["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
mon = yaml.safe_load(open(sys.argv[2]))
assert mon["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"]
open(sys.argv[3], "w").write(docs["ConfigMap"]["data"]["loopvisor.toml"].replace(
    "/etc/loopvisor-token/token", sys.argv[3] + ".token"))
PY
echo "k8s-test-token" > "$work/k8s.toml.token"
"$daemon" --print-config --config "$work/k8s.toml" > "$work/k8s.printed" || fail "the ConfigMap's TOML: $(cat "$work/k8s.printed")"
grep -q '^listen = "0.0.0.0:9470"' "$work/k8s.printed" || fail "the ConfigMap does not listen on 0.0.0.0:9470"
# Dockerfile: its LOOPVISOR_* settings are valid, and the shutdown grace ends before
# `docker stop`'s default 10 s run out.
mapfile -t docker_env < <(python3 - "$src/Dockerfile" <<'PY'
import re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
for line in text.splitlines():
    if line.startswith("ENV "):
        for item in shlex.split(line[4:]):
            name, _, value = item.partition("=")
            if name.startswith("LOOPVISOR_") and name != "LOOPVISOR_CONFIG":
                print(f"{name}={value}")
PY
)
env "${docker_env[@]}" "$daemon" --print-config --config "$src/config/loopvisor.toml" > "$work/docker.printed" ||
  fail "the Dockerfile's settings: $(cat "$work/docker.printed")"
grace=$(sed -n 's/^grace_ms = \([0-9]*\).*/\1/p' "$work/docker.printed")
((grace < 10000)) || fail "the image's shutdown grace is ${grace} ms: docker stop kills after 10 s"
grep -q '^listen = "0.0.0.0:9470"' "$work/docker.printed" || fail "the image does not listen on 0.0.0.0:9470"

# The container's runtime stage installs a package for every shared library loopvisord links.
# The image ships a release build; sanitizer builds link more (their runtimes, and Boost's
# atomic and container libraries), so they are not the binary to check.
libraries=$(ldd "$daemon")
if grep -qE "lib(asan|tsan|ubsan)\.so" <<< "$libraries"; then
  echo "sanitizer build: the runtime-package check runs on the release build"
else
  runtime=$("$src/deploy/install-deps.sh" --list-runtime)
  while read -r lib path; do
    owner=$(dpkg -S "$(readlink -f "$path")" 2> /dev/null | head -n1 | cut -d: -f1) || true
    [[ -n $owner ]] || owner=$(dpkg -S "$path" 2> /dev/null | head -n1 | cut -d: -f1) || true
    case $owner in
      libc6 | libgcc-s1 | libstdc++6) ;;  # in every Debian image (apt needs them)
      *) grep -qx "$owner" <<< "$runtime" ||
        fail "loopvisord links $lib from package '$owner', which install-deps.sh --runtime does not install" ;;
    esac
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<< "$libraries")
fi
echo "deploy files test passed"
