#!/usr/bin/python3
"""The admin API's OpenAPI document against the real daemon.

The document (service/admin/openapi.json) must be a well-formed OpenAPI 3.1 document whose
schemas are valid JSON Schema 2020-12 with every $ref resolving; GET /openapi.json must serve
it unchanged; its operations must be exactly the routes GET /help lists; and every operation is
called live, its answers (successes and errors) checked against the schema documented for that
status. An answer whose status the document does not list fails the test.

usage: openapi_test.py DAEMON SOURCE_DIR PROJECT_VERSION
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import jsonschema

daemon, source_dir, project_version = sys.argv[1:4]
doc_path = os.path.join(source_dir, "service", "admin", "openapi.json")
failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


# --- the document itself ---------------------------------------------------------------
with open(doc_path, encoding="utf-8") as f:
    doc = json.load(f)
Validator = jsonschema.Draft202012Validator
resolver = jsonschema.RefResolver.from_schema(doc)

if doc.get("openapi") != "3.1.0":
    fail(f"openapi is {doc.get('openapi')!r}, not 3.1.0")
for key in ("title", "version", "description"):
    if not doc.get("info", {}).get(key):
        fail(f"info.{key} is missing")
if doc["info"]["version"] != project_version:
    fail(f"info.version {doc['info']['version']} is not the project's version {project_version}")

schemas = doc.get("components", {}).get("schemas", {})
for name, schema in schemas.items():
    try:
        Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        fail(f"components.schemas.{name} is not valid JSON Schema 2020-12: {e.message}")


def refs(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v, where
            else:
                yield from refs(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from refs(v, f"{where}[{i}]")


for ref, where in refs(doc, "$"):
    try:
        resolver.resolve(ref)
    except jsonschema.RefResolutionError:
        fail(f"{where}: $ref {ref} does not resolve")

methods = {"get", "put", "post", "delete", "patch", "head", "options"}
security_schemes = set(doc["components"].get("securitySchemes", {}))
operations = {}  # (METHOD, path) -> operation
operation_ids = set()
for path, item in doc["paths"].items():
    declared = {p["name"] for p in item.get("parameters", []) if p.get("in") == "path"}
    for method, op in item.items():
        if method not in methods:
            continue
        operations[(method.upper(), path)] = op
        opid = op.get("operationId")
        if not opid or opid in operation_ids:
            fail(f"{method.upper()} {path}: operationId {opid!r} missing or not unique")
        operation_ids.add(opid)
        if not op.get("summary") or not op.get("responses"):
            fail(f"{method.upper()} {path}: summary or responses missing")
        names = declared | {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
        if set(re.findall(r"{(\w+)}", path)) != names:
            fail(f"{method.upper()} {path}: path parameters {names} do not match the template")
        for requirement in op.get("security", []):
            for scheme in requirement:
                if scheme not in security_schemes:
                    fail(f"{method.upper()} {path}: security scheme {scheme} is not defined")
        for status, response in op["responses"].items():
            if not re.fullmatch(r"[1-5][0-9][0-9]", status) or not response.get("description"):
                fail(f"{method.upper()} {path}: response {status} is malformed")
            for media in response.get("content", {}).values():
                try:
                    Validator.check_schema(media["schema"])
                except jsonschema.SchemaError as e:
                    fail(f"{method.upper()} {path} {status}: schema invalid: {e.message}")

# --- the daemon --------------------------------------------------------------------------
work = tempfile.mkdtemp()
token = f"openapi-{os.getpid()}"
with open(os.path.join(work, "token"), "w") as f:
    f.write(token + "\n")
config_path = os.path.join(work, "loopvisor.toml")


def write_config(max_active):
    with open(config_path, "w") as f:
        f.write(f"""[runtime]
loops = 2
[admin]
listen = "127.0.0.1:0"
auth_token_file = "{work}/token"
[jobs]
max_active = {max_active}
[shutdown]
grace_ms = 300
""")


write_config(1)
log_path = os.path.join(work, "daemon.log")
log = open(log_path, "w")
proc = subprocess.Popen([daemon, "--config", config_path], stdout=log, stderr=subprocess.STDOUT)


def cleanup_and_exit(code):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    if code != 0:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            sys.stdout.write("--- daemon log ---\n" + f.read()[-4000:])
    sys.exit(code)


port = None
deadline = time.monotonic() + 30
while port is None and time.monotonic() < deadline:
    with open(log_path, encoding="utf-8", errors="replace") as f:
        m = re.search(r"admin: listening on 127\.0\.0\.1:(\d+)", f.read())
    if m:
        port = int(m.group(1))
    elif proc.poll() is not None:
        break
    else:
        time.sleep(0.05)
if port is None:
    print("FAIL: the daemon did not listen within 30 s")
    cleanup_and_exit(1)

called = set()


def request(method, path, *, body=None, auth=True, content_type="application/json"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {}
    if auth:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = content_type
        body = body if isinstance(body, str) else json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, res.getheader("Content-Type", ""), data


def route_of(method, path):
    bare = path.split("?")[0]
    for (m, p) in operations:
        pattern = "^" + re.sub(r"{\w+}", "[^/]+", p) + "$"
        if m == method and re.match(pattern, bare):
            return (m, p)
    return None


def check(method, path, expect, **kw):
    """Calls the route, requires status `expect` and a body valid against the document."""
    status, ctype, data = request(method, path, **kw)
    key = route_of(method, path)
    what = f"{method} {path}"
    if status != expect:
        fail(f"{what}: status {status}, expected {expect}: {data[:300]!r}")
    if key is None:
        fail(f"{what}: no operation in the document")
        return None
    called.add(key)
    documented = operations[key]["responses"].get(str(status))
    if documented is None:
        fail(f"{what}: status {status} is not documented for {key[0]} {key[1]}")
        return None
    content = documented.get("content", {})
    media = ctype.split(";")[0].strip()
    if media not in content:
        fail(f"{what}: Content-Type {ctype!r} is not documented for {status} (has {sorted(content)})")
        return None
    if media != "application/json":
        return data
    try:
        value = json.loads(data)
    except ValueError as e:
        fail(f"{what}: the body is not JSON: {e}")
        return None
    errors = sorted(Validator(content[media]["schema"], resolver=resolver).iter_errors(value), key=str)
    for e in errors[:3]:
        fail(f"{what} {status}: {'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}")
    return value


# Served unchanged.
served = check("GET", "/openapi.json", 200, auth=False)
if served != doc:
    fail("GET /openapi.json differs from service/admin/openapi.json")
# Exactly the routes GET /help lists.
help_ = check("GET", "/help", 200, auth=False)
listed = {(r["method"], r["path"]) for r in (help_ or {}).get("routes", [])}
if listed != set(operations):
    fail(f"routes in /help but not in the document: {sorted(listed - set(operations))}; "
         f"in the document but not served: {sorted(set(operations) - listed)}")
for r in (help_ or {}).get("routes", []):
    op = operations.get((r["method"], r["path"]))
    if op is not None and r["needs_token"] != (op.get("security") != [{}]):
        fail(f"{r['method']} {r['path']}: needs_token {r['needs_token']} but the document says otherwise")

version = check("GET", "/version", 200, auth=False)
if version and version["version"] != doc["info"]["version"]:
    fail(f"/version says {version['version']}, the document {doc['info']['version']}")
check("GET", "/metrics", 200, auth=False)
check("GET", "/healthz", 200, auth=False)
check("GET", "/livez", 200, auth=False)
ready_deadline = time.monotonic() + 30
while request("GET", "/readyz", auth=False)[0] != 200 and time.monotonic() < ready_deadline:
    time.sleep(0.05)
check("GET", "/readyz", 200, auth=False)
check("GET", "/debug/loops", 200)
check("GET", "/debug/loops", 401, auth=False)
check("GET", "/debug/tasks?limit=5", 200)
check("GET", "/debug/tasks?limit=0", 400)
check("GET", "/debug/tasks?loop=99", 400)

job = check("POST", "/v1/jobs", 202, body={"kind": "sleep", "args": {"duration_ms": 600000}, "name": "nap"})
check("POST", "/v1/jobs", 429, body={"kind": "sleep", "args": {"duration_ms": 1}})
check("POST", "/v1/jobs", 400, body={"kind": "no-such-kind"})
check("POST", "/v1/jobs", 400, body="{not json")
check("POST", "/v1/jobs", 400, body={"kind": "sleep", "loop": 0, "key": "k"})
check("POST", "/v1/jobs", 415, body="kind=sleep", content_type="text/plain")
check("POST", "/v1/jobs", 403, body={"kind": "exec", "args": {"argv": ["/bin/true"]}})
check("POST", "/v1/jobs", 401, body={"kind": "sleep"}, auth=False)
check("GET", "/v1/jobs", 200)
check("GET", "/v1/jobs?state=running&limit=1", 200)
check("GET", "/v1/jobs?state=sleepy", 400)
job_id = (job or {}).get("id", "00000000-1")
check("GET", f"/v1/jobs/{job_id}", 200)
check("GET", f"/v1/jobs/{job_id}?wait_ms=nope", 400)
check("GET", "/v1/jobs/00000000-1", 404)
check("GET", "/v1/jobs/not-an-id", 404)
check("DELETE", f"/v1/jobs/{job_id}", 202)
ended = check("GET", f"/v1/jobs/{job_id}?wait_ms=10000", 200)
if ended and ended["state"] != "cancelled":
    fail(f"the cancelled job is {ended['state']}")
check("DELETE", f"/v1/jobs/{job_id}", 200)
check("DELETE", f"/v1/jobs/{job_id}", 404)
done = check("POST", "/v1/jobs", 202, body={"kind": "sleep", "args": {"duration_ms": 1}})
if done:
    check("GET", f"/v1/jobs/{done['id']}?wait_ms=10000", 200)
    check("GET", "/v1/jobs?state=succeeded", 200)

check("GET", "/admin/log-level", 200)
check("PUT", "/admin/log-level", 200, body={"level": "debug"})
check("PUT", "/admin/log-level", 422, body={"level": "loud"})
check("PUT", "/admin/log-level", 400, body={"lvl": "debug"})
write_config(4)
check("POST", "/admin/reload", 200)
with open(config_path, "a") as f:
    f.write("[nonsense\n")
check("POST", "/admin/reload", 422)
write_config(4)
check("POST", "/admin/reload", 401, auth=False)

# Answers every route may give are Errors too.
for method, path, expect in (("GET", "/no/such/route", 404), ("POST", "/healthz", 405), ("GET", "/v1/jobs/a/b", 404)):
    status, ctype, data = request(method, path)
    if status != expect:
        fail(f"{method} {path}: {status}, expected {expect}")
    try:
        Validator(doc["components"]["schemas"]["Error"], resolver=resolver).validate(json.loads(data))
    except (ValueError, jsonschema.ValidationError) as e:
        fail(f"{method} {path}: not an Error: {e}")

missed = set(operations) - called
if missed:
    fail(f"operations never called by this test: {sorted(missed)}")
if proc.poll() is not None:
    fail(f"the daemon exited with {proc.returncode}")
if failures:
    print(f"{len(failures)} failure(s)")
    cleanup_and_exit(1)
print(f"openapi test passed ({len(operations)} operations, {len(called)} called)")
cleanup_and_exit(0)
