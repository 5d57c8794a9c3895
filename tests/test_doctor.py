"""`python3 -m plugin_tools.doctor URL` (issue 18, section 3) against the local server of a bake in
every auth mode, and against broken variants: a proxy in front of the local server rewrites one
answer (or one request) per case, so that every check of the checklist is seen to fail at least
once (missing S256, a wrong resource, a missing CSP, a stale challenge token, ...).
"""

from __future__ import annotations

import http.client
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bake_support import bake
from server_support import LocalServer

UPSTREAM = "https://login.example.test"
OAUTH_ENV = {"PLUGIN_OAUTH_ISSUER": UPSTREAM, "PLUGIN_OAUTH_CLIENT_ID": "upstream-client",
             "PLUGIN_OAUTH_CLIENT_SECRET": "upstream-secret", "PLUGIN_OAUTH_AUTHORIZE_URL": UPSTREAM + "/authorize",
             "PLUGIN_OAUTH_TOKEN_URL": UPSTREAM + "/token", "PLUGIN_OAUTH_JWKS_URL": UPSTREAM + "/jwks"}
TOKEN = "challenge-token-0123456789"
EVERY_CHECK = {"tls", "reachable", "mcp_challenge", "protected_resource_metadata", "authorization_server",
               "dcr_round_trip", "server_discover", "tools_list", "tools_call", "widgets", "openapi", "manifest",
               "challenge_token", "cors_preflight", "latency", "mcp_method_header"}


def doctor(project: Path, url: str, *args: str) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "plugin_tools.doctor", url, "--json", "--calls", "3", *args],
                          cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    return done.returncode, {c["name"]: c for c in report["checks"]}


def statuses(checks: dict) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


@pytest.fixture(scope="module")
def open_project(tmp_path_factory) -> Path:
    project = bake(tmp_path_factory.mktemp("doctor-none"))
    tfvars = project / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text(encoding="utf-8") + f'openai_apps_challenge = "{TOKEN}"\n', encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def open_server(open_project) -> Iterator[LocalServer]:
    with LocalServer(open_project, "--no-reload") as server:
        yield server


# -- every auth mode --------------------------------------------------------------------------------
def test_the_default_bake_passes_every_check(open_project, open_server):
    code, checks = doctor(open_project, open_server.base)
    assert code == 0, checks
    assert set(checks) == EVERY_CHECK
    assert statuses(checks) == {**dict.fromkeys(EVERY_CHECK, "PASS"), "protected_resource_metadata": "SKIP",
                                "authorization_server": "SKIP", "dcr_round_trip": "SKIP"}
    assert checks["tools_call"]["detail"] == "called sumar: results match their outputSchema"
    assert checks["challenge_token"]["detail"] == "the token is served as text/plain and matches"
    assert re.fullmatch(r"first \d+ ms, median \d+ ms over 3 calls", checks["latency"]["detail"])


def test_the_doctor_prints_a_checklist_and_takes_the_mcp_url(open_project, open_server):
    done = subprocess.run([sys.executable, "-m", "plugin_tools.doctor", open_server.url, "--calls", "1"],
                          cwd=open_project, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert lines[0] == "PASS tls: plain http on a local address (only for development)"
    assert lines[-1] == "13 pass, 0 warn, 0 fail, 3 skip"


def test_an_api_key_server_without_and_with_its_key(tmp_path):
    project = bake(tmp_path, auth="api_key")
    made = subprocess.run([sys.executable, "-m", "plugin_tools.keys", "new", "doctor"], cwd=project,
                          capture_output=True, text=True, timeout=60, check=True)
    key = made.stdout.strip().splitlines()[1]
    with LocalServer(project, "--no-reload") as server:
        code, checks = doctor(project, server.base)
        assert code == 0, checks
        assert checks["mcp_challenge"]["status"] == "WARN" and "cannot send a static key" in \
            checks["mcp_challenge"]["detail"]
        assert {n for n, c in checks.items() if c["status"] == "SKIP"} >= {"tools_list", "tools_call", "widgets"}
        code, checks = doctor(project, server.base, "--key", key)
        assert code == 0, checks
        assert {n: checks[n]["status"] for n in ("server_discover", "tools_list", "tools_call", "widgets",
                                                  "mcp_method_header")} == dict.fromkeys(
            ("server_discover", "tools_list", "tools_call", "widgets", "mcp_method_header"), "PASS")
        code, checks = doctor(project, server.base, "--key", "wrong-key")
        assert code == 1 and checks["server_discover"]["status"] == "FAIL"


@pytest.fixture(scope="module")
def oauth_project(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("doctor-oauth"), auth="oauth")


@pytest.fixture(scope="module")
def oauth_server(oauth_project) -> Iterator[LocalServer]:
    with LocalServer(oauth_project, "--no-reload", env=OAUTH_ENV) as server:
        yield server


def test_an_oauth_server_s_discovery_and_registration(oauth_project, oauth_server):
    code, checks = doctor(oauth_project, oauth_server.base)
    assert checks["mcp_challenge"]["status"] == "PASS", checks["mcp_challenge"]
    assert checks["protected_resource_metadata"]["status"] == "PASS", checks["protected_resource_metadata"]
    assert checks["dcr_round_trip"]["status"] == "PASS", checks["dcr_round_trip"]
    server_check = checks["authorization_server"]
    # The facade in this branch has no RFC 7009 revocation endpoint yet: a warning with its fix.
    if "revocation_endpoint" in server_check["detail"]:
        assert server_check["status"] == "WARN" and server_check["fix"]
    else:
        assert server_check["status"] == "PASS"
    assert code == 0, checks


# -- broken variants: a proxy that rewrites one thing ------------------------------------------------
Mutation = Callable[[str, str, dict, bytes, int, dict, bytes], tuple[int, dict, bytes]]


def _json_edit(match: Callable[[str, dict], bool], edit: Callable[[dict], None]) -> Mutation:
    def mutate(method, path, req_headers, req_body, status, headers, body):
        try:
            request = json.loads(req_body) if req_body else {}
        except ValueError:
            request = {}
        if match(path, request) and body:
            text = body.decode()
            sse = text.startswith("event:") or text.startswith("data:")
            doc = json.loads(text.split("data:", 1)[1] if sse else text)
            edit(doc)
            body = json.dumps(doc).encode()
            headers = {**headers, "content-type": "application/json"}
        return status, headers, body
    return mutate


def _rpc(method: str) -> Callable[[str, dict], bool]:
    return lambda path, request: path == "/mcp" and request.get("method") == method


def _status(path_: str, new_status: int, method: str = "GET") -> Mutation:
    def mutate(m, path, req_headers, req_body, status, headers, body):
        return (new_status, headers, body) if (m, path) == (method, path_) else (status, headers, body)
    return mutate


class _Proxy(http.server.BaseHTTPRequestHandler):
    upstream: int = 0
    mutate: Mutation | None = None
    rewrite_request: Callable[[str, dict, bytes], tuple[dict, bytes]] | None = None

    def _any(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
        if self.rewrite_request:
            headers, body = self.rewrite_request(self.path, headers, body)
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        conn.request(self.command, self.path, body=body or None, headers=headers)
        answer = conn.getresponse()
        status, out_headers, out = answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        conn.close()
        if self.mutate:
            status, out_headers, out = self.mutate(self.command, self.path, headers, body, status, out_headers, out)
        self.send_response(status)
        for key, value in out_headers.items():
            if key not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(key, value)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_OPTIONS = do_DELETE = _any

    def log_message(self, *args) -> None:
        pass


def proxied(server: LocalServer, mutate: Mutation | None = None, rewrite_request=None) -> Iterator[str]:
    handler = type("Proxy", (_Proxy,), {"upstream": server.port, "mutate": staticmethod(mutate) if mutate else None,
                                        "rewrite_request": staticmethod(rewrite_request) if rewrite_request else None})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        proxy.shutdown()
        proxy.server_close()


def _mismatched_method_accepted(path: str, headers: dict, body: bytes) -> tuple[dict, bytes]:
    if path == "/mcp" and body:
        method = json.loads(body).get("method")
        if headers.get("mcp-method") and headers["mcp-method"] != method:
            headers = {**headers, "mcp-method": method}
    return headers, body


def _drop_csp(doc: dict) -> None:
    for content in doc["result"]["contents"]:
        content["_meta"]["ui"].pop("csp")


def _structured_as_text(doc: dict) -> None:
    doc["result"]["structuredContent"] = {"resultado": "dos"}


OPEN_BREAKS: dict[str, tuple[str, dict]] = {
    "a stale challenge token": ("challenge_token", {"mutate": lambda m, p, rh, rb, s, h, b: (
        (200, h, b"an-old-token") if p == "/.well-known/openai-apps-challenge" else (s, h, b))}),
    "a missing CSP": ("widgets", {"mutate": _json_edit(_rpc("resources/read"), _drop_csp)}),
    "a result that breaks its outputSchema": ("tools_call", {"mutate": _json_edit(_rpc("tools/call"),
                                                                                  _structured_as_text)}),
    "server/discover unknown": ("server_discover", {"mutate": _json_edit(
        _rpc("server/discover"), lambda d: d.update(result={"supportedVersions": ["2025-06-18"]}))}),
    "tools/list without ttlMs": ("tools_list", {"mutate": _json_edit(
        lambda p, r: _rpc("tools/list")(p, r) and "_meta" in r.get("params", {}),
        lambda d: d.get("result", {}).pop("ttlMs", None))}),
    "a broken OpenAPI document": ("openapi", {"mutate": _json_edit(
        lambda p, r: p == "/openapi.json", lambda d: d.update(servers=[{"url": "http://elsewhere.example"}]))}),
    "a broken manifest": ("manifest", {"mutate": _json_edit(
        lambda p, r: p == "/.well-known/ai-plugin.json", lambda d: d.update(schema_version="v2"))}),
    "no CORS preflight": ("cors_preflight", {"mutate": _status("/mcp", 403, "OPTIONS")}),
    "a mismatched Mcp-Method accepted": ("mcp_method_header", {"rewrite_request": _mismatched_method_accepted}),
    "an open server that answers 500 to /mcp": ("mcp_challenge", {"mutate": _status("/mcp", 500, "POST")}),
    "the manifest failing every latency call": ("latency", {"mutate": lambda m, p, rh, rb, s, h, b: (
        (503, h, b) if p == "/.well-known/ai-plugin.json" and _Counter.next() > 2 else (s, h, b))}),
}


class _Counter:
    calls = 0

    @classmethod
    def next(cls) -> int:
        cls.calls += 1
        return cls.calls


@pytest.mark.parametrize("case", list(OPEN_BREAKS))
def test_each_broken_variant_fails_its_check(open_project, open_server, case):
    name, kwargs = OPEN_BREAKS[case]
    _Counter.calls = 0
    for url in proxied(open_server, **kwargs):
        code, checks = doctor(open_project, url)
    assert code == 1
    assert checks[name]["status"] == "FAIL", checks[name]
    assert checks[name]["fix"], checks[name]
    others = [n for n, c in checks.items() if c["status"] == "FAIL" and n != name]
    assert others == [], others


def _drop_s256(doc: dict) -> None:
    doc["code_challenge_methods_supported"] = ["plain"]


OAUTH_BREAKS: dict[str, tuple[str, dict]] = {
    "missing S256": ("authorization_server", {"mutate": _json_edit(
        lambda p, r: p == "/.well-known/oauth-authorization-server", _drop_s256)}),
    "a wrong resource": ("protected_resource_metadata", {"mutate": _json_edit(
        lambda p, r: p.startswith("/.well-known/oauth-protected-resource"),
        lambda d: d.update(resource="https://other.example/mcp"))}),
    "no resource_metadata in the 401": ("mcp_challenge", {"mutate": lambda m, p, rh, rb, s, h, b: (
        (s, {**h, "www-authenticate": "Bearer"}, b) if p == "/mcp" else (s, h, b))}),
    "registration refused": ("dcr_round_trip", {"mutate": _status("/oauth/register", 400, "POST")}),
}


@pytest.mark.parametrize("case", list(OAUTH_BREAKS))
def test_each_broken_oauth_variant_fails_its_check(oauth_project, oauth_server, case):
    name, kwargs = OAUTH_BREAKS[case]
    for url in proxied(oauth_server, **kwargs):
        code, checks = doctor(oauth_project, url)
    assert code == 1
    assert checks[name]["status"] == "FAIL", checks[name]
    assert checks[name]["fix"]


def test_a_revocation_endpoint_turns_the_warning_into_a_pass(oauth_project, oauth_server):
    edit = _json_edit(lambda p, r: p == "/.well-known/oauth-authorization-server",
                      lambda d: d.setdefault("revocation_endpoint", "http://127.0.0.1/oauth/revoke"))
    for url in proxied(oauth_server, mutate=edit):
        _, checks = doctor(oauth_project, url)
    assert checks["authorization_server"]["status"] == "PASS", checks["authorization_server"]


def test_plain_http_elsewhere_and_an_unreachable_url_fail(open_project):
    code, checks = doctor(open_project, "http://doctor.invalid", "--timeout", "3")
    assert code == 1
    assert statuses(checks) == {"tls": "FAIL", "reachable": "FAIL"}
    assert "https" in checks["tls"]["fix"] and checks["reachable"]["fix"]


def test_no_url_and_no_deployment_is_a_clear_error(open_project, tmp_path):
    done = subprocess.run([sys.executable, "-m", "plugin_tools.doctor"], cwd=open_project, capture_output=True,
                          text=True, timeout=120, check=False, env={"PATH": str(tmp_path)})  # no terraform
    assert done.returncode == 2 and "terraform output base_url" in done.stderr


def test_the_doctor_stays_out_of_the_zip(open_project):
    import zipfile

    with zipfile.ZipFile(open_project / "lambda.zip") as zf:
        assert not [n for n in zf.namelist() if "doctor" in n]
    time.sleep(0)


def test_a_redirect_never_carries_the_credential_elsewhere(open_project):
    """A mistyped URL, an open redirect or a proxy that answers 302/307 to another origin gets the
    owner's key from no request: the doctor follows no redirect and reports it."""
    seen: list[str | None] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("authorization"))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        do_POST = do_OPTIONS = do_GET

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    target = f"http://127.0.0.1:{other.server_address[1]}"

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("location", target + self.path)
            self.send_header("content-length", "0")
            self.end_headers()

        do_POST = do_OPTIONS = do_GET

        def log_message(self, *args):
            pass

    first = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (other, first):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code, checks = doctor(open_project, f"http://127.0.0.1:{first.server_address[1]}", "--key", "SECRET-KEY")
    finally:
        for server in (other, first):
            server.shutdown()
            server.server_close()
    assert seen == [], seen  # nothing reached the other origin, with or without the key
    assert code == 1 and any(c["status"] == "FAIL" for c in checks.values())
