"""Check a running plugin from outside, the way ChatGPT, Claude, MCP clients and GPT Actions will.

    python3 -m plugin_tools.doctor https://abc.execute-api.us-east-1.amazonaws.com
    python3 -m plugin_tools.doctor                       # the URL from `terraform output base_url`
    python3 -m plugin_tools.doctor URL --key KEY         # also list and call tools (auth = api_key)
    python3 -m plugin_tools.doctor URL --token TOKEN     # the same with an OAuth access token
    python3 -m plugin_tools.doctor URL --json            # the checklist as JSON

It prints one line per check (PASS, WARN, FAIL or SKIP) with the fix for each failure, and exits 1
when a check fails. Standard library only (urllib), so it runs from a fresh project venv; plain
http is accepted for 127.0.0.1 and localhost only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .lint_common import ERROR, is_local
from .lint_manifest import check_manifest
from .lint_openapi import check_openapi

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
HANDSHAKE, MODERN = "2025-06-18", "2026-07-28"  # what ChatGPT speaks; the stateless era
WIDGET_MIME = "text/html;profile=mcp-app"
PROTOCOL_KEY = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
HEADER_MISMATCH = -32020
BROWSER_ORIGIN = "https://chatgpt.com"
PREFLIGHT_HEADERS = ("content-type", "authorization", "mcp-protocol-version", "mcp-method", "mcp-name")
DCR_REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect"
ID_KEYS = ("request_id", "requestid", "trace_id", "traceid", "session_id", "sessionid", "timestamp")
MAX_CALLS = 20
PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: urllib would resend the Authorization header to wherever a 30x points
    (another host, or plain http). A redirect comes back as its own answer, which fails its check."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes
    ms: float

    def json(self) -> object:
        text = self.body.decode("utf-8", "replace")
        if "text/event-stream" in self.headers.get("content-type", ""):
            data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
            text = data[-1] if data else ""
        return json.loads(text)


class Doctor:
    """Runs the checks against one deployment; ``run()`` returns the checklist."""

    def __init__(self, url: str, credential: str | None = None, challenge: str | None = None, calls: int = 5,
                 timeout: float = 15, slow_ms: float = 2000) -> None:
        parts = urlsplit(url.rstrip("/"))
        path = parts.path[:-4] if parts.path.endswith("/mcp") else parts.path
        self.origin = f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")
        self.mcp_url = self.origin + "/mcp"
        self.host = parts.hostname or ""
        self.local = is_local(self.host)
        self.credential, self.expected_challenge = credential, challenge
        self.calls, self.timeout, self.slow_ms = max(1, min(calls, MAX_CALLS)), timeout, slow_ms
        self.checks: list[Check] = []
        self.protected = False
        self.oauth_metadata: dict | None = None
        self.tools: list[dict] = []
        self.default_fix: dict[str, str] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        """One line of the checklist; a failure or warning without its own fix gets its check's."""
        fix = fix or self.default_fix.get(name, "")
        self.checks.append(Check(name, status, detail, fix if status in (FAIL, WARN) else ""))

    def http(self, method: str, url: str, body: object = None, headers: dict | None = None) -> Answer:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        head = {"user-agent": "plugin_tools.doctor", **({"content-type": "application/json"} if data else {}),
                **(headers or {})}
        request = urllib.request.Request(url, data=data, headers=head, method=method)  # noqa: S310 (http(s) only)
        started = time.perf_counter()
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                raw = response.read()
                status, found = response.status, response.headers
        except urllib.error.HTTPError as exc:
            raw, status, found = exc.read(), exc.code, exc.headers
        return Answer(status, {k.lower(): v for k, v in found.items()}, raw, (time.perf_counter() - started) * 1000)

    def rpc(self, method: str, params: dict | None = None, era: str = HANDSHAKE, headers: dict | None = None,
            auth: bool = True, name: str | None = None) -> Answer:
        params = dict(params or {})
        head = {"accept": "application/json, text/event-stream", **(headers or {})}
        if era == MODERN:
            params["_meta"] = {PROTOCOL_KEY: MODERN, CAPABILITIES_KEY: {"extensions": {
                "io.modelcontextprotocol/ui": {"mimeTypes": [WIDGET_MIME]}}},
                CLIENT_INFO_KEY: {"name": "plugin_tools.doctor", "version": "1"}}
            head = {"mcp-protocol-version": MODERN, "mcp-method": method, **({"mcp-name": name} if name else {}),
                    **head}
        elif method != "initialize":
            head = {"mcp-protocol-version": era, **head}
        if auth and self.credential:
            head["authorization"] = f"Bearer {self.credential}"
        return self.http("POST", self.mcp_url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, head)

    def result(self, answer: Answer) -> dict:
        message = answer.json()
        if answer.status != 200 or not isinstance(message, dict) or not isinstance(message.get("result"), dict):
            error = message.get("error") if isinstance(message, dict) else None
            raise ValueError(f"HTTP {answer.status}{': ' + json.dumps(error)[:160] if error else ''}")
        return message["result"]

    def guarded(self, name: str, fix: str, step) -> None:
        """Run one check; a transport or decoding failure is that check's FAIL, never a traceback."""
        self.default_fix[name] = fix
        try:
            step()
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.add(name, FAIL, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:300], fix)

    # -- the checklist ----------------------------------------------------------------------
    def run(self) -> list[Check]:
        self.check_tls()
        if not self.check_reachable():
            return self.checks
        steps = [
            ("mcp_challenge", "make /mcp answer 401 with WWW-Authenticate: Bearer resource_metadata=\"...\"",
             self.check_challenge),
            ("protected_resource_metadata", "serve RFC 9728 metadata at both paths with resource = the MCP URL "
             "(auth = oauth does; check the custom domain reaches the Lambda)", self.check_resource_metadata),
            ("authorization_server", "publish RFC 8414 metadata with code_challenge_methods_supported [\"S256\"] and "
             "the issuer it is served for", self.check_authorization_server),
            ("dcr_round_trip", "let POST registration_endpoint register a public client (RFC 7591)", self.check_dcr),
            ("server_discover", "answer server/discover (MCP 2026-07-28)", self.check_discover),
            ("tools_list", "answer tools/list in both eras (2025-06-18 after initialize; 2026-07-28 with ttlMs "
             "and cacheScope)", self.check_tools_list),
            ("tools_call", "make each read-only tool answer structuredContent matching its outputSchema",
             self.check_tools_call),
            ("widgets", "serve each ui:// widget as text/html;profile=mcp-app with _meta.ui.csp and "
             "openai/widgetCSP", self.check_widgets),
            ("openapi", "rebuild and deploy (make build && terraform apply); make check lists the rules",
             self.check_openapi),
            ("manifest", "fix manifest.json (make check), then terraform apply", self.check_manifest),
            ("challenge_token", "set openai_apps_challenge in terraform.tfvars to the token OpenAI shows, then "
             "terraform apply", self.check_challenge_token),
            ("cors_preflight", "allow https://chatgpt.com and the MCP headers in main.tf's cors_configuration",
             self.check_cors),
            ("latency", "look at the Lambda's duration in the dashboard; more memory or fewer imports at start",
             self.check_latency),
            ("mcp_method_header", "refuse a 2026-07-28 request whose Mcp-Method header differs from its method "
             "(400, -32020)", self.check_method_header),
        ]
        for name, fix, step in steps:
            self.guarded(name, fix, step)
        return self.checks

    def check_tls(self) -> None:
        parts = urlsplit(self.origin)
        if parts.scheme == "http":
            if self.local:
                self.add("tls", PASS, "plain http on a local address (only for development)")
            else:
                self.add("tls", FAIL, f"{self.origin} is plain http", "serve the API over https on port 443 "
                         "(API Gateway's URL or a custom domain)")
            return
        if parts.scheme != "https" or parts.port not in (None, 443):
            self.add("tls", FAIL, f"{self.origin} is not https on port 443", "use the https URL on port 443")
            return
        try:
            context = ssl.create_default_context()
            with socket.create_connection((self.host, 443), timeout=self.timeout) as raw, \
                    context.wrap_socket(raw, server_hostname=self.host) as tls:
                version = tls.version() or "?"
        except (OSError, ssl.SSLError) as exc:
            self.add("tls", FAIL, f"TLS handshake failed: {exc}"[:300], "fix the certificate (ACM) or the domain's "
                     "DNS record")
            return
        ok = version in ("TLSv1.2", "TLSv1.3")
        self.add("tls", PASS if ok else FAIL, f"{version}, certificate valid for {self.host}",
                 "allow TLS 1.2 or newer only (API Gateway's TLS_1_2 security policy)")

    def check_reachable(self) -> bool:
        try:
            answer = self.http("GET", self.origin + "/.well-known/ai-plugin.json")
        except (OSError, ValueError) as exc:
            self.add("reachable", FAIL, f"cannot reach {self.origin}: {getattr(exc, 'reason', exc)}"[:300],
                     "check the URL (terraform output base_url) and that the stack is deployed")
            return False
        self.add("reachable", PASS if answer.status < 500 else FAIL, f"{self.origin} answered HTTP {answer.status}",
                 "look at the Lambda's logs (make logs)")
        return answer.status < 500

    def check_challenge(self) -> None:
        answer = self.rpc("initialize", {"protocolVersion": HANDSHAKE, "capabilities": {},
                                         "clientInfo": {"name": "plugin_tools.doctor", "version": "1"}}, auth=False)
        if answer.status == 200:
            self.add("mcp_challenge", PASS, "open server (auth = none): /mcp answers without a credential")
            return
        self.protected = True
        challenge = answer.headers.get("www-authenticate", "")
        if answer.status != 401 or not challenge.lower().startswith("bearer"):
            self.add("mcp_challenge", FAIL, f"/mcp without a credential answered HTTP {answer.status} "
                     f"{('with WWW-Authenticate ' + challenge[:80]) if challenge else 'without WWW-Authenticate'}",
                     "answer 401 with WWW-Authenticate: Bearer (the runtime does in every protected mode)")
            return
        self.challenge_header = challenge
        metadata = _param(challenge, "resource_metadata")
        prm = self.http("GET", self.origin + "/.well-known/oauth-protected-resource")
        if prm.status == 200 and not metadata:
            self.add("mcp_challenge", FAIL, "the 401 names no resource_metadata, so MCP clients cannot find the "
                     "authorization server", "add resource_metadata=\"<origin>/.well-known/oauth-protected-resource"
                     "/mcp\" to WWW-Authenticate")
        elif prm.status != 200:
            self.add("mcp_challenge", WARN, "401 with a Bearer challenge and no OAuth metadata (auth = api_key): "
                     "ChatGPT apps and Claude connectors cannot send a static key",
                     "use auth = oauth for ChatGPT and Claude, or auth = none")
        else:
            self.add("mcp_challenge", PASS, f"401 with Bearer resource_metadata=\"{metadata}\"")

    def check_resource_metadata(self) -> None:
        documents = {}
        for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
            answer = self.http("GET", self.origin + path)
            documents[path] = answer.json() if answer.status == 200 else None
        if all(doc is None for doc in documents.values()):
            self.add("protected_resource_metadata", SKIP if not self.protected or self.oauth_absent_ok() else FAIL,
                     "no protected-resource metadata (no OAuth)", "serve RFC 9728 metadata (auth = oauth)")
            return
        problems = []
        for path, doc in documents.items():
            if not isinstance(doc, dict):
                problems.append(f"{path} is missing")
            elif doc.get("resource") != self.mcp_url:
                problems.append(f"{path} says resource {json.dumps(doc.get('resource'))[:80]}, not {self.mcp_url}")
            elif not doc.get("authorization_servers"):
                problems.append(f"{path} names no authorization_servers")
        good = next((d for d in documents.values() if isinstance(d, dict) and d.get("authorization_servers")), None)
        if good:
            self.oauth_metadata = {"issuer": good["authorization_servers"][0]}
        if problems:
            self.add("protected_resource_metadata", FAIL, "; ".join(problems),
                     "serve both documents with resource equal to the MCP URL clients are given (ChatGPT echoes "
                     "it and expects it in the token's aud)")
        else:
            self.add("protected_resource_metadata", PASS, f"both paths, resource = {self.mcp_url}")

    def oauth_absent_ok(self) -> bool:
        return "resource_metadata" not in getattr(self, "challenge_header", "")

    def check_authorization_server(self) -> None:
        if self.oauth_metadata is None:
            self.add("authorization_server", SKIP, "no OAuth authorization server is named")
            return
        issuer = self.oauth_metadata["issuer"]
        parts = urlsplit(issuer)
        url = f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path.rstrip('/')}"
        answer = self.http("GET", url)
        if answer.status != 200:
            url = issuer.rstrip("/") + "/.well-known/openid-configuration"
            answer = self.http("GET", url)
        doc = answer.json() if answer.status == 200 else None
        if not isinstance(doc, dict):
            self.add("authorization_server", FAIL, f"no RFC 8414 or OIDC metadata for {issuer}",
                     "serve /.well-known/oauth-authorization-server (the facade does with auth = oauth)")
            return
        self.oauth_metadata.update(doc)
        failures, warnings = [], []
        if "S256" not in (doc.get("code_challenge_methods_supported") or []):
            failures.append("code_challenge_methods_supported lacks S256 (MCP clients must refuse the server)")
        if doc.get("issuer") != issuer:
            failures.append(f"issuer is {json.dumps(doc.get('issuer'))[:80]}, not {issuer}")
        if not doc.get("authorization_response_iss_parameter_supported"):
            warnings.append("no RFC 9207 iss on the authorization response (ChatGPT's stable redirect needs it)")
        if not doc.get("client_id_metadata_document_supported"):
            warnings.append("no CIMD (ChatGPT prefers it)")
        if not doc.get("registration_endpoint"):
            warnings.append("no DCR registration_endpoint (Claude and many clients use it)")
        if not doc.get("client_id_metadata_document_supported") and not doc.get("registration_endpoint"):
            failures.append("neither CIMD nor DCR: clients can only use a predefined client")
        if not doc.get("revocation_endpoint"):
            warnings.append("no revocation_endpoint (RFC 7009): signing out cannot revoke tokens")
        if failures:
            self.add("authorization_server", FAIL, "; ".join(failures + warnings),
                     "publish S256, the exact issuer and CIMD or DCR in the authorization-server metadata")
        elif warnings:
            self.add("authorization_server", WARN, "; ".join(warnings),
                     "add the missing endpoints to the OAuth facade (plugin_runtime/surface_oauth.py)")
        else:
            self.add("authorization_server", PASS, f"{url}: S256, issuer, iss, CIMD, DCR, revocation")

    def check_dcr(self) -> None:
        endpoint = (self.oauth_metadata or {}).get("registration_endpoint")
        if not endpoint:
            self.add("dcr_round_trip", SKIP, "no registration_endpoint")
            return
        answer = self.http("POST", endpoint, {"redirect_uris": [DCR_REDIRECT], "client_name": "plugin_tools.doctor",
                                              "token_endpoint_auth_method": "none", "response_types": ["code"],
                                              "grant_types": ["authorization_code", "refresh_token"]})
        doc = answer.json() if answer.body else None
        if answer.status in (200, 201) and isinstance(doc, dict) and doc.get("client_id"):
            self.add("dcr_round_trip", PASS, f"registered a public client (HTTP {answer.status})")
        else:
            self.add("dcr_round_trip", FAIL, f"registration answered HTTP {answer.status}: {answer.body[:160]!r}",
                     "accept RFC 7591 registrations of public clients with ChatGPT's and Claude's redirect URIs")

    def _needs_credential(self, name: str) -> bool:
        if self.protected and not self.credential:
            self.add(name, SKIP, "the server needs a credential: pass --key KEY or --token TOKEN", "")
            return True
        return False

    def check_discover(self) -> None:
        if self._needs_credential("server_discover"):
            return
        result = self.result(self.rpc("server/discover", era=MODERN))
        versions = result.get("supportedVersions") or []
        if MODERN in versions and HANDSHAKE in versions and isinstance(result.get("capabilities"), dict):
            self.add("server_discover", PASS, f"versions {', '.join(versions)}")
        else:
            self.add("server_discover", FAIL, f"supportedVersions {versions}", "list 2026-07-28 and 2025-06-18 and "
                     "the capabilities in server/discover")

    def check_tools_list(self) -> None:
        if self._needs_credential("tools_list"):
            return
        self.result(self.rpc("initialize", {"protocolVersion": HANDSHAKE, "capabilities": {},
                                            "clientInfo": {"name": "plugin_tools.doctor", "version": "1"}}))
        old = self.result(self.rpc("tools/list"))
        new = self.result(self.rpc("tools/list", era=MODERN))
        problems = []
        if not isinstance(old.get("tools"), list) or not old["tools"]:
            problems.append("2025-06-18 tools/list lists no tools")
        if not isinstance(new.get("tools"), list) or not new["tools"]:
            problems.append("2026-07-28 tools/list lists no tools")
        if "ttlMs" not in new or "cacheScope" not in new:
            problems.append("2026-07-28 tools/list lacks ttlMs/cacheScope (the official client rejects it)")
        if problems:
            self.add("tools_list", FAIL, "; ".join(problems), "")
            return
        self.tools = old["tools"]
        self.add("tools_list", PASS, f"{len(old['tools'])} tool(s) in both eras: "
                 + ", ".join(t.get("name", "?") for t in old["tools"])[:200])

    def check_tools_call(self) -> None:
        if self._needs_credential("tools_call"):
            return
        called, problems, warnings = [], [], []
        for tool in self.tools:
            if not (tool.get("annotations") or {}).get("readOnlyHint"):
                continue  # never run a tool that may change something
            arguments = sample_arguments(tool.get("inputSchema") or {})
            if arguments is None:
                continue
            result = self.result(self.rpc("tools/call", {"name": tool["name"], "arguments": arguments}))
            called.append(tool["name"])
            if result.get("isError"):
                problems.append(f"{tool['name']} answered isError: {json.dumps(result.get('content'))[:120]}")
                continue
            schema = tool.get("outputSchema")
            data = result.get("structuredContent")
            if schema is not None:
                mismatch = shape_mismatch(data, schema)
                if mismatch:
                    problems.append(f"{tool['name']}: structuredContent {mismatch}")
            if isinstance(data, dict):
                noisy = [k for k in data if k.lower().replace("-", "_") in ID_KEYS
                         and k not in ((schema or {}).get("properties") or {})]
                if noisy:
                    warnings.append(f"{tool['name']} returns {', '.join(noisy)} (the review refuses ids and "
                                    "timestamps the operation does not need)")
        if problems:
            self.add("tools_call", FAIL, "; ".join(problems), "")
        elif not called:
            self.add("tools_call", SKIP, "no read-only tool with simple arguments to call")
        elif warnings:
            self.add("tools_call", WARN, "; ".join(warnings), "return only what the operation computes")
        else:
            self.add("tools_call", PASS, f"called {', '.join(called)}: results match their outputSchema")

    def check_widgets(self) -> None:
        if self._needs_credential("widgets"):
            return
        listed = self.result(self.rpc("resources/list")).get("resources") or []
        widgets = [r for r in listed if str(r.get("uri", "")).startswith("ui://")]
        if not widgets:
            self.add("widgets", SKIP, "no ui:// widget resources")
            return
        problems, warnings = [], []
        for entry in widgets:
            (content, *_) = self.result(self.rpc("resources/read", {"uri": entry["uri"]})).get("contents") or [{}]
            meta = content.get("_meta") or {}
            name = entry["uri"]
            if content.get("mimeType") != WIDGET_MIME:
                problems.append(f"{name} is {content.get('mimeType')!r}, not {WIDGET_MIME}")
            if not isinstance((meta.get("ui") or {}).get("csp"), dict):
                problems.append(f"{name} has no _meta.ui.csp (hosts block every connection)")
            if not isinstance(meta.get("openai/widgetCSP"), dict):
                problems.append(f"{name} has no _meta[\"openai/widgetCSP\"] (ChatGPT reads the extended CSP there)")
            if not ((meta.get("ui") or {}).get("domain") or meta.get("openai/widgetDomain")):
                warnings.append(f"{name} names no domain (ChatGPT before its per-server origins uses it)")
        if problems:
            self.add("widgets", FAIL, "; ".join(problems), "")
        elif warnings and not self.local:
            self.add("widgets", WARN, "; ".join(warnings), "leave Widget(domain=...) unset: the runtime sets the "
                     "plugin's origin")
        else:
            self.add("widgets", PASS, f"{len(widgets)} widget(s): MIME type, both CSP forms"
                     + ("" if warnings else ", domain"))

    def check_openapi(self) -> None:
        answer = self.http("GET", self.origin + "/openapi.json")
        if answer.status != 200:
            self.add("openapi", FAIL, f"/openapi.json answered HTTP {answer.status}", "")
            return
        errors = [f for f in check_openapi(answer.json(), deployed=not self.local, origin=self.origin)
                  if f.level == ERROR]
        self.add("openapi", FAIL if errors else PASS, "; ".join(f"{f.path}: {f.message}" for f in errors[:3])
                 or "valid for GPT Actions, servers[0].url on this origin", "")

    def check_manifest(self) -> None:
        answer = self.http("GET", self.origin + "/.well-known/ai-plugin.json")
        if answer.status != 200:
            self.add("manifest", FAIL, f"/.well-known/ai-plugin.json answered HTTP {answer.status}", "")
            return
        errors = [f for f in check_manifest(answer.json(), origin=self.origin) if f.level == ERROR]
        self.add("manifest", FAIL if errors else PASS, "; ".join(f"{f.path}: {f.message}" for f in errors[:3])
                 or "valid, every URL on this origin", "")

    def check_challenge_token(self) -> None:
        answer = self.http("GET", self.origin + "/.well-known/openai-apps-challenge")
        served = answer.body.decode("utf-8", "replace").strip() if answer.status == 200 else None
        expected = self.expected_challenge
        if served is not None and not answer.headers.get("content-type", "").startswith("text/plain"):
            self.add("challenge_token", FAIL, f"served as {answer.headers.get('content-type')!r}, not text/plain", "")
        elif expected and served != expected:
            what = f"is not served (HTTP {answer.status})" if served is None else "is stale: another token is served"
            self.add("challenge_token", FAIL, f"the domain-verification token {what}", "")
        elif served is None:
            self.add("challenge_token", WARN, "no domain-verification token yet (404)", "")
        else:
            self.add("challenge_token", PASS, "the token is served as text/plain"
                     + (" and matches" if expected else ""))

    def check_cors(self) -> None:
        answer = self.http("OPTIONS", self.mcp_url, headers={
            "origin": BROWSER_ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": ", ".join(PREFLIGHT_HEADERS)})
        allowed_origin = answer.headers.get("access-control-allow-origin")
        allowed = {h.strip().lower() for h in answer.headers.get("access-control-allow-headers", "").split(",")}
        missing = [h for h in PREFLIGHT_HEADERS if h not in allowed and "*" not in allowed]
        if answer.status >= 300 or allowed_origin not in (BROWSER_ORIGIN, "*") or missing:
            self.add("cors_preflight", FAIL, f"OPTIONS /mcp from {BROWSER_ORIGIN}: HTTP {answer.status}, allow-origin "
                     f"{allowed_origin!r}{', missing headers ' + ', '.join(missing) if missing else ''}", "")
        else:
            self.add("cors_preflight", PASS, f"{BROWSER_ORIGIN} may POST with the MCP headers")

    def check_latency(self) -> None:
        times = []
        for _ in range(self.calls):
            answer = self.http("GET", self.origin + "/.well-known/ai-plugin.json")
            if answer.status != 200:
                self.add("latency", FAIL, f"a call answered HTTP {answer.status}", "")
                return
            times.append(answer.ms)
        median = statistics.median(times)
        detail = f"first {times[0]:.0f} ms, median {median:.0f} ms over {len(times)} calls"
        if median > self.slow_ms:
            self.add("latency", FAIL, detail + f" (over {self.slow_ms:.0f} ms)", "")
        elif times[0] > 10_000:
            self.add("latency", WARN, detail + " (a slow cold start)", "")
        else:
            self.add("latency", PASS, detail)

    def check_method_header(self) -> None:
        if self._needs_credential("mcp_method_header"):
            return
        answer = self.rpc("tools/list", era=MODERN, headers={"mcp-method": "server/discover"})
        message = answer.json() if answer.body else {}
        code = (message.get("error") or {}).get("code") if isinstance(message, dict) else None
        if answer.status == 400 and code == HEADER_MISMATCH:
            self.add("mcp_method_header", PASS, "a mismatched Mcp-Method is refused (400, -32020)")
        else:
            self.add("mcp_method_header", FAIL, f"a mismatched Mcp-Method answered HTTP {answer.status}, code {code}",
                     "")


def _param(challenge: str, name: str) -> str | None:
    marker = f'{name}="'
    start = challenge.find(marker)
    if start < 0:
        return None
    end = challenge.find('"', start + len(marker))
    return challenge[start + len(marker):end] if end > 0 else None


def sample_arguments(schema: dict) -> dict | None:
    """Arguments for a read-only tool from its inputSchema's required scalars (None: too complex)."""
    arguments = {}
    props = schema.get("properties") or {}
    for name in schema.get("required") or []:
        spec = props.get(name) or {}
        kind = spec.get("type")
        if spec.get("enum"):
            arguments[name] = spec["enum"][0]
        elif kind in ("number", "integer"):
            low = spec.get("minimum", spec.get("exclusiveMinimum", 0))
            arguments[name] = max(1, low + 1) if kind == "integer" else max(1.0, low + 1)
            if "maximum" in spec and arguments[name] > spec["maximum"]:
                arguments[name] = spec["maximum"]
        elif kind == "string":
            arguments[name] = "a" * max(1, spec.get("minLength", 1))
        elif kind == "boolean":
            arguments[name] = False
        else:
            return None
    return arguments


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float), "integer": int}


def shape_mismatch(data: object, schema: dict, path: str = "$") -> str | None:
    """Where ``data`` breaks ``schema``'s types and required keys (a shallow check), else None."""
    kind = schema.get("type")
    expected = _TYPES.get(kind) if isinstance(kind, str) else None
    if expected and (not isinstance(data, expected) or (kind in ("number", "integer") and isinstance(data, bool))):
        return f"{path} is {type(data).__name__}, not {kind}"
    if isinstance(data, dict):
        for key in schema.get("required") or []:
            if key not in data:
                return f"{path}.{key} is missing"
        for key, sub in (schema.get("properties") or {}).items():
            if key in data and isinstance(sub, dict):
                found = shape_mismatch(data[key], sub, f"{path}.{key}")
                if found:
                    return found
    return None


def terraform_url(project: Path = PROJECT) -> str | None:
    """``terraform output -raw base_url`` of the project's state (None before a deploy)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        return None
    try:
        done = subprocess.run([terraform, "output", "-raw", "base_url"], cwd=project, capture_output=True,  # noqa: S603
                              text=True, timeout=60, check=False)
    except OSError:
        return None
    url = done.stdout.strip()
    return url if done.returncode == 0 and url.startswith(("https://", "http://")) else None


def tfvars_challenge(project: Path = PROJECT) -> str | None:
    from .project import read_tfvars

    try:
        return read_tfvars(project).get("openai_apps_challenge") or None
    except (OSError, ValueError):
        return None


def print_checklist(checks: list[Check]) -> None:
    for check in checks:
        print(f"{check.status:4} {check.name}: {check.detail}")
        if check.fix:
            print(f"     fix: {check.fix}")
    counts = {s: sum(c.status == s for c in checks) for s in (PASS, WARN, FAIL, SKIP)}
    print(", ".join(f"{n} {s.lower()}" for s, n in counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.doctor", description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", help="the deployment's base URL or MCP URL (default: terraform output)")
    parser.add_argument("--token", help="an OAuth access token: also list and call the tools")
    parser.add_argument("--key", help="an API key: also list and call the tools")
    parser.add_argument("--challenge", help="the domain-verification token expected (default: terraform.tfvars)")
    parser.add_argument("--calls", type=int, default=5, help=f"calls for the latency check (1-{MAX_CALLS})")
    parser.add_argument("--timeout", type=float, default=15, help="seconds per request")
    parser.add_argument("--slow-ms", type=float, default=2000, help="median latency that fails the check")
    parser.add_argument("--json", action="store_true", help="print the checklist as JSON")
    args = parser.parse_args(argv)
    url = args.url or terraform_url()
    if not url:
        print("doctor: give the URL (python3 -m plugin_tools.doctor https://...) or deploy first: "
              "terraform output base_url is empty", file=sys.stderr)
        return 2
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        print(f"doctor: {url!r} is not an http(s) URL", file=sys.stderr)
        return 2
    doctor = Doctor(url, credential=args.token or args.key, challenge=args.challenge or tfvars_challenge(),
                    calls=args.calls, timeout=args.timeout, slow_ms=args.slow_ms)
    checks = doctor.run()
    if args.json:
        print(json.dumps({"url": doctor.origin, "checks": [asdict(c) for c in checks],
                          "ok": not any(c.status == FAIL for c in checks)}, indent=2))
    else:
        print_checklist(checks)
    return 1 if any(c.status == FAIL for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
