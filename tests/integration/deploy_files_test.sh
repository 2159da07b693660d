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
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

promtool check config "$src/deploy/prometheus/prometheus.yml" > /dev/null || fail "promtool check config"
promtool check rules "$src/deploy/prometheus/loopvisor-alerts.yml" > /dev/null || fail "promtool check rules"
promtool test rules "$src/tests/prometheus/alerts_test.yml" > "$work/promtool-test" 2>&1 ||
  fail "promtool test rules: $(cat "$work/promtool-test")"
# Every alert is tested by promtool, and links to a section of docs/runbook.md that exists.
python3 - "$src" <<'PY' || fail "the alert rules, their tests and the runbook disagree"
import re, sys, yaml
src = sys.argv[1]
rules = [r for g in yaml.safe_load(open(f"{src}/deploy/prometheus/loopvisor-alerts.yml"))["groups"] for r in g["rules"]]
tested = {t["alertname"] for case in yaml.safe_load(open(f"{src}/tests/prometheus/alerts_test.yml"))["tests"]
          for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
sections = {h.strip().lower() for h in re.findall(r"^## (.+)$", open(f"{src}/docs/runbook.md").read(), re.M)}
bad = []
for r in rules:
    name = r["alert"]
    if name not in tested:
        bad.append(f"{name}: no promtool test sees it fire")
    url = r.get("annotations", {}).get("runbook_url", "")
    anchor = url.rpartition("docs/runbook.md#")[2] if "docs/runbook.md#" in url else ""
    if anchor != name.lower() or anchor not in sections:
        bad.append(f"{name}: runbook_url '{url}' does not point to its section of docs/runbook.md")
for line in bad:
    print(line)
sys.exit(1 if bad else 0)
PY
grep -q "evaluation_interval: 5s" "$src/deploy/prometheus/prometheus.yml" ||
  fail "prometheus.yml must evaluate rules every 5 s (the 1 m default delays every alert by up to a minute)"

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
# The admin token arrives as a credential (never in the environment or a world-readable path),
# and both the check and the daemon read it from the credentials directory.
credential=$(sed -n 's/^LoadCredential=\([a-z-]*\):.*/\1/p' "$src/deploy/systemd/loopvisord.service")
[[ -n $credential ]] || fail "the unit loads no credential"
for line in ExecStart ExecStartPre; do
  grep -q "^$line=.* --admin-auth-token-file %d/$credential\$" "$src/deploy/systemd/loopvisord.service" ||
    fail "$line does not read the token from the credential '$credential'"
done
# Hardened: an exposure of at most 2.0 ("OK").
systemd-analyze security --offline=true "$work/loopvisord.service" > "$work/security" 2>&1 ||
  fail "systemd-analyze security: $(tail -3 "$work/security")"
exposure=$(sed -n 's/.*Overall exposure level for loopvisord.service: \([0-9.]*\).*/\1/p' "$work/security")
python3 -c "import sys; sys.exit(not float('${exposure:-99}') <= 2.0)" ||
  fail "the unit's exposure is ${exposure:-unknown}, above 2.0: $(grep '✗' "$work/security")"

# The unit's system call filter lets the daemon work: every call it makes (starting, serving,
# an exec job's child up to and past its execve, a reload, the shutdown) is in the unit's
# allowed set. Plain builds only (the sanitizers' runtimes make calls of their own).
expand_filter() {  # the system calls of a systemd syscall group, nested groups expanded
  systemd-analyze syscall-filter "$1" | sed -n '/^@/,$p' | tail -n +2 | sed 's/^ *//' | grep -v '^#' |
    while read -r entry; do
      [[ -z $entry ]] && continue
      if [[ $entry == @* ]]; then expand_filter "$entry"; else echo "$entry"; fi
    done
}
if ! command -v strace > /dev/null || grep -qE "lib(asan|tsan|ubsan)\.so" <<< "$(ldd "$daemon")"; then
  echo "no strace or a sanitizer build: the system call filter check is skipped"
else
  allowed=()
  denied=()
  while read -r line; do
    value=${line#SystemCallFilter=}
    if [[ $value == ~* ]]; then  # a deny list: every group on the line
      for group in ${value#\~}; do denied+=("$group"); done
    else
      for group in $value; do allowed+=("$group"); done
    fi
  done < <(grep '^SystemCallFilter=' "$src/deploy/systemd/loopvisord.service")
  for g in "${allowed[@]}"; do expand_filter "$g"; done | sort -u > "$work/allowed"
  for g in "${denied[@]}"; do expand_filter "$g"; done | sort -u > "$work/denied"
  printf '[admin]\nlisten = "127.0.0.1:0"\n[jobs]\nexec_allow = ["/bin/echo"]\n' > "$work/strace.toml"
  strace -f -qq -o "$work/trace" "$daemon" --config "$work/strace.toml" > "$work/strace.log" 2>&1 &
  pid=$!
  listening() { grep -q "admin: listening on 127.0.0.1:" "$work/strace.log"; }
  wait_until 60 "loopvisord under strace to listen" listening
  port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/strace.log" | sed 's/.*://')
  curl -fsS -o "$work/job" -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$port/v1/jobs" \
    -d '{"kind": "exec", "args": {"argv": ["/bin/echo", "hi"]}}' || fail "an exec job under strace"
  job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/job")
  curl -fsS -o "$work/job" "http://127.0.0.1:$port/v1/jobs/$job?wait_ms=20000" || fail "the exec job's end"
  grep -q '"state":"succeeded"' "$work/job" || fail "the exec job under strace: $(cat "$work/job")"
  curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics" || fail "/metrics under strace"
  traced=$(pgrep -P "$pid" | awk 'NR == 1')  # the daemon: strace's child
  [[ -n $traced ]] || fail "no daemon under strace"
  kill -s HUP "$traced"
  wait_until 30 "the reload under strace" grep -q "config reload (SIGHUP)" "$work/strace.log"
  kill -s TERM "$traced"
  wait "$pid" || fail "loopvisord under strace: exit $?"
  pid=""
  grep -q 'execve("/bin/echo"' "$work/trace" || fail "strace did not follow the exec job's child"
  for call in $(sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' "$work/trace" | sort -u); do
    grep -qx "$call" "$work/allowed" || fail "loopvisord calls $call, which the unit's SystemCallFilter does not allow"
    ! grep -qx "$call" "$work/denied" || fail "loopvisord calls $call, which the unit's SystemCallFilter denies"
  done
fi

# kustomize renders the whole set (kubectl's built-in kustomize: install-deps installs Debian's
# kubernetes-client where no kubectl is), and the checks below read what it rendered.
command -v kubectl > /dev/null || fail "kubectl is not installed (deploy/install-deps.sh installs it)"
kubectl kustomize "$src/deploy/k8s" > "$work/rendered.yaml" 2> "$work/kustomize.err" ||
  fail "kubectl kustomize deploy/k8s: $(cat "$work/kustomize.err")"

# Kubernetes: structure, probes and the ConfigMap's TOML.
python3 - "$work/rendered.yaml" "$src/deploy/k8s/servicemonitor.yaml" "$work/k8s.toml" <<'PY'
import sys, yaml
rendered = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
docs = {d["kind"]: d for d in rendered}
assert len(docs) == len(rendered), "two objects of one kind: " + str(sorted(d["kind"] for d in rendered))
assert set(docs) == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy",
                     "HorizontalPodAutoscaler"}, docs.keys()
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
# What operators expect of a production Deployment.
assert pod["automountServiceAccountToken"] is False, "loopvisord needs no service account token"
assert c["readinessProbe"]["failureThreshold"] >= 2, "one slow /readyz must not drop the endpoint"
spread = pod["topologySpreadConstraints"][0]
assert spread["topologyKey"] == "kubernetes.io/hostname"
assert spread["labelSelector"]["matchLabels"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
import tomllib
shutdown = tomllib.loads(docs["ConfigMap"]["data"]["loopvisor.toml"])["shutdown"]
needed_s = (shutdown["readiness_delay_ms"] + shutdown["grace_ms"]) / 1000
assert pod["terminationGracePeriodSeconds"] >= needed_s + 5, (
    f"terminationGracePeriodSeconds {pod['terminationGracePeriodSeconds']} must exceed the drain ({needed_s} s) with margin")
policy = docs
labels = docs["Deployment"]["spec"]["selector"]["matchLabels"]
pdb = policy["PodDisruptionBudget"]["spec"]
assert pdb["selector"]["matchLabels"] == labels and pdb["minAvailable"] >= 1
assert pdb["minAvailable"] < docs["Deployment"]["spec"]["replicas"], "the PDB would block every drain"
net = policy["NetworkPolicy"]["spec"]
assert net["podSelector"]["matchLabels"] == labels and net["policyTypes"] == ["Ingress"]
rule = net["ingress"][0]
assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
assert rule["ports"] == [{"port": 9470, "protocol": "TCP"}]
hpa = policy["HorizontalPodAutoscaler"]["spec"]
assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": docs["Deployment"]["metadata"]["name"]}
assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] >= hpa["minReplicas"]
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

# The pod's effective configuration: the image's ENV plus the ConfigMap's file. Every value
# the ConfigMap sets must win (an ENV in the image would silently beat it: env > file).
env "${docker_env[@]}" "$daemon" --print-config --config "$work/k8s.toml" > "$work/pod.printed" ||
  fail "the pod's configuration: $(cat "$work/pod.printed")"
python3 - "$work/k8s.toml" "$work/pod.printed" <<'PY' || fail "the image's ENV overrides the ConfigMap"
import sys, tomllib
wanted = tomllib.load(open(sys.argv[1], "rb"))
effective = tomllib.load(open(sys.argv[2], "rb"))
for section, values in wanted.items():
    for key, value in values.items():
        got = effective[section][key]
        assert got == value, f"[{section}] {key}: the ConfigMap says {value!r}, the pod runs with {got!r}"
PY

# The image says what it is (OCI labels, its version the project's), its build stage installs
# only what building needs and its final stage only what running needs.
project_version=$(sed -n 's/^project(loopvisor VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
grep -q "org.opencontainers.image.version=\"$project_version\"" "$src/Dockerfile" ||
  fail "the image's version label is not the project's $project_version"
for label in revision=\"\$REVISION\" source=\"\$SOURCE\" title=; do
  grep -qF "org.opencontainers.image.$label" "$src/Dockerfile" || fail "the Dockerfile has no label $label"
done
grep -q -- '-DLOOPVISOR_REVISION="$REVISION"' "$src/Dockerfile" || fail "the image's build does not pass REVISION"
grep -q '^RUN ./deploy/install-deps.sh --build$' "$src/Dockerfile" || fail "the build stage does not install with --build"
grep -q 'install-deps.sh --runtime' "$src/Dockerfile" || fail "the final stage does not install with --runtime"

# A ConfigMap edit rolls the pods: the pod template carries the config's sha256.
python3 - "$src/deploy/k8s/loopvisord.yaml" <<'PY' || fail "the Deployment's checksum/config annotation"
import hashlib, sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1]))}
want = hashlib.sha256(docs["ConfigMap"]["data"]["loopvisor.toml"].encode()).hexdigest()
got = docs["Deployment"]["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/config")
assert got == want, f"checksum/config is {got}; the ConfigMap's loopvisor.toml hashes to {want}"
PY

# Job records name the pod (LOOPVISOR_ADMIN_INSTANCE through the downward API).
python3 - "$src/deploy/k8s/loopvisord.yaml" <<'PY' || fail "the Deployment does not name job records after the pod"
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1]))}
env = {e["name"]: e for e in docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]}
assert env["LOOPVISOR_ADMIN_INSTANCE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", env
PY

# The image's user is numeric and the pod runs as the same user and group, with fsGroup so the
# mounted token is readable (the kubelet refuses runAsNonRoot with a non-numeric USER).
read -r image_uid image_gid < <(sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\1 \2/p' "$src/Dockerfile")
[[ -n ${image_uid:-} && -n ${image_gid:-} ]] || fail "the Dockerfile's USER is not numeric uid:gid"
read -r pod_uid pod_gid pod_fsgroup token_mode < <(python3 - "$src/deploy/k8s/loopvisord.yaml" <<'PY'
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1]))}
pod = docs["Deployment"]["spec"]["template"]["spec"]
sc = pod["securityContext"]
token = next(v for v in pod["volumes"] if v["name"] == "admin-token")
print(sc["runAsUser"], sc["runAsGroup"], sc["fsGroup"], format(token["secret"]["defaultMode"], "o"))
PY
)
[[ $pod_uid == "$image_uid" && $pod_gid == "$image_gid" && $pod_fsgroup == "$image_gid" ]] ||
  fail "pod runs as $pod_uid:$pod_gid (fsGroup $pod_fsgroup), the image as $image_uid:$image_gid"

# The pod's view without a cluster: the daemon as that uid/gid, with the ConfigMap's file and
# the token as the kubelet mounts it (owner root, group fsGroup, the Secret's mode). Needs
# root to switch users; CI runs as root.
if [[ $(id -u) -eq 0 ]] && command -v setpriv > /dev/null; then
  pod_dir=$(mktemp -d)
  chmod 755 "$pod_dir"
  cp "$daemon" "$pod_dir/loopvisord"
  sed -e 's|listen = "0.0.0.0:9470"|listen = "127.0.0.1:0"|' "$work/k8s.toml" > "$pod_dir/loopvisor.toml"
  sed -i "s|auth_token_file = .*|auth_token_file = \"$pod_dir/token\"|" "$pod_dir/loopvisor.toml"
  chmod 644 "$pod_dir/loopvisor.toml"
  echo "pod-test-token" > "$pod_dir/token"
  run_as_pod() {  # run_as_pod MODE: start as the pod's user on a token of MODE; prints the log
    chown "0:$pod_fsgroup" "$pod_dir/token"
    chmod "$1" "$pod_dir/token"
    setpriv --reuid "$pod_uid" --regid "$pod_gid" --groups "$pod_fsgroup" \
      "$pod_dir/loopvisord" --loops 1 --config "$pod_dir/loopvisor.toml" > "$pod_dir/log" 2>&1 &
    local p=$!
    for _ in $(seq 200); do
      grep -q "admin: listening" "$pod_dir/log" && break
      kill -0 "$p" 2> /dev/null || break
      sleep 0.05
    done
    kill -TERM "$p" 2> /dev/null || true
    wait "$p" || true
    cat "$pod_dir/log"
  }
  grep -q "admin: listening" <<< "$(run_as_pod "$token_mode")" ||
    fail "as uid $pod_uid with the token mode $token_mode the daemon does not start: $(cat "$pod_dir/log")"
  # The check can fail: the token mode the manifests used to have (0400, owner root only).
  grep -q "Permission denied" <<< "$(run_as_pod 400)" ||
    fail "a token the pod's user cannot read did not stop the daemon: $(cat "$pod_dir/log")"
  rm -rf "$pod_dir"
else
  echo "not root: the pod-identity run (setpriv) is skipped"
fi

# The container's runtime stage installs a package for every shared library loopvisord links.
# The image ships a release build; sanitizer builds link more (their runtimes, and Boost's
# atomic and container libraries), so they are not the binary to check.
libraries=$(ldd "$daemon")
if grep -qE "lib(asan|tsan|ubsan)\.so" <<< "$libraries"; then
  echo "sanitizer build: the runtime-package check runs on the release build"
else
  runtime=$("$src/deploy/install-deps.sh" --list-runtime)
  while read -r lib path; do
    owner=$(dpkg -S "$(readlink -f "$path")" 2> /dev/null | awk -F: 'NR == 1 {print $1}') || true
    [[ -n $owner ]] || owner=$(dpkg -S "$path" 2> /dev/null | awk -F: 'NR == 1 {print $1}') || true
    case $owner in
      libc6 | libgcc-s1 | libstdc++6) ;;  # in every Debian image (apt needs them)
      *) grep -qx "$owner" <<< "$runtime" ||
        fail "loopvisord links $lib from package '$owner', which install-deps.sh --runtime does not install" ;;
    esac
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<< "$libraries")
  # ... and nothing it never uses: each package but tini (PID 1) provides a library it links.
  owners=$(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<< "$libraries" | while read -r path; do
    { dpkg -S "$(readlink -f "$path")" || dpkg -S "$path" || true; } 2> /dev/null | awk -F: 'NR == 1 {print $1}'
  done)
  while read -r package; do
    [[ $package == tini ]] || grep -qx "$package" <<< "$owners" ||
      fail "install-deps.sh --runtime installs '$package', which loopvisord does not link"
  done <<< "$runtime"
fi
echo "deploy files test passed"
