"""Regression tests of the OAuth facade's security review (issue 15), one section per finding,
with the attack classes as parametrised corpora. They drive the facade through lambda_handler
(helpers shared with test_oauth_facade.py); no provider is needed.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import test_oauth_facade as facade
from test_oauth_facade import (
    LAST,
    ORIGIN,
    REDIRECT,
    UPSTREAM,
    authorize_query,
    call,
    consent_form,
    query_of,
    refused,
    register,
)

plugin, oauth_env = facade.plugin, facade.oauth_env  # the same fixtures: a baked auth=oauth plugin, its environment

FORM = {"content-type": "application/x-www-form-urlencoded"}
GPT = "https://chatgpt.com/aip/g-attacker/oauth/callback"


def cookie_pairs(response: dict) -> list[str]:
    return [c.split(";", 1)[0] for c in response.get("cookies") or ()]


def approve(plugin, query: dict) -> tuple[dict, list[str]]:
    """An attacker's (or user's) own browser: consent page, Allow; (provider redirect query, cookies)."""
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 200, page
    jar = cookie_pairs(LAST)
    status, headers, _ = call(plugin, "POST", "/oauth/authorize", body=urlencode(consent_form(page)), headers=FORM,
                              cookies=jar)
    assert status == 302 and headers["location"].startswith(UPSTREAM), headers
    return query_of(headers["location"]), cookie_pairs(LAST)


# -- 1. consent bypass (confused deputy) ------------------------------------------------------------
def test_a_txn_read_from_the_consent_page_is_worthless_in_another_browser(plugin):
    client = register(plugin)["client_id"]
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    txn = consent_form(page)["txn"]
    # the victim signs in at the provider with the attacker's txn as state; no cookie of ours
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "victim", "state": txn})
    refused(status, body, "invalid_request")
    assert "location" not in headers


def test_a_state_approved_in_the_attackers_browser_is_refused_in_the_victims(plugin):
    client = register(plugin)["client_id"]
    upstream, attacker_jar = approve(plugin, authorize_query(client))
    assert attacker_jar, "Allow must bind the flow to this browser with a cookie"
    for jar in (None, ["plugin_oauth_consent=x"], [attacker_jar[0].split("=", 1)[0] + "=forged"]):
        status, headers, body = call(plugin, "GET", "/oauth/callback",
                                     query={"code": "victim", "state": upstream["state"]}, cookies=jar)
        refused(status, body, "invalid_request")
        assert "location" not in headers


def test_the_approving_browser_completes_once_and_the_cookie_is_cleared(plugin):
    client = register(plugin)["client_id"]
    upstream, jar = approve(plugin, authorize_query(client))
    assert any(c for c in LAST["cookies"] if "HttpOnly" in c and "SameSite=Lax" in c and "Secure" in c
               and "Path=/oauth" in c)
    status, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": "mine", "state": upstream["state"]},
                              cookies=jar)
    assert status == 302 and query_of(headers["location"])["code"]
    cleared = LAST.get("cookies") or []
    assert cleared and all("Max-Age=0" in c for c in cleared), cleared
    # the browser forgot the cookie: the same state again is refused
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "again", "state": upstream["state"]})
    refused(status, body, "invalid_request")


def test_two_flows_in_one_browser_do_not_cross(plugin):
    a, b = register(plugin)["client_id"], register(plugin)["client_id"]
    up_a, jar_a = approve(plugin, authorize_query(a))
    _, jar_b = approve(plugin, authorize_query(b))
    status, _, body = call(plugin, "GET", "/oauth/callback", query={"code": "x", "state": up_a["state"]},
                           cookies=jar_b)
    refused(status, body, "invalid_request")
    status, _, _ = call(plugin, "GET", "/oauth/callback", query={"code": "x", "state": up_a["state"]},
                        cookies=jar_a + jar_b)
    assert status == 302


def test_the_predefined_client_path_is_bound_to_the_browser_too(plugin):
    """GPT Actions' client skips the consent page: its flow must be bound to the browser as well."""
    query = {"response_type": "code", "client_id": "upstream-client", "redirect_uri": GPT, "state": "gpt"}
    status, headers, _ = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 302 and headers["location"].startswith(UPSTREAM)
    state, jar = query_of(headers["location"])["state"], cookie_pairs(LAST)
    assert jar
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "victim", "state": state})
    refused(status, body, "invalid_request")
    status, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": "victim", "state": state}, cookies=jar)
    assert status == 302 and headers["location"].startswith(GPT)


@pytest.mark.parametrize("decision", ["deny", "", "ALLOW"])
def test_only_allow_binds_a_flow(plugin, decision):
    client = register(plugin)["client_id"]
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    jar = cookie_pairs(LAST)
    form = {**consent_form(page), "decision": decision}
    status, headers, _ = call(plugin, "POST", "/oauth/authorize", body=urlencode(form), headers=FORM, cookies=jar)
    assert status == 302 and headers["location"].startswith(REDIRECT) and "error=access_denied" in headers["location"]
    assert not any("Path=/oauth;" in c and "Max-Age=0" not in c for c in LAST.get("cookies") or [])
    assert ORIGIN in query_of(headers["location"])["iss"]


# -- 2. refresh tokens: rotated, expiring, revocable ----------------------------------------------------
@pytest.fixture
def provider(monkeypatch):
    """A provider's token and revocation endpoints on 127.0.0.1 that rotate refresh tokens as Cognito
    does with refresh_token_rotation: each refresh answers a new one and kills the old."""
    import http.server
    import json
    import threading
    from urllib.parse import parse_qsl

    live: set[str] = set()
    seen: dict[str, list] = {"token": [], "revoke": []}

    class Provider(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = dict(parse_qsl(self.rfile.read(int(self.headers["content-length"])).decode()))
            endpoint = self.path.strip("/")
            seen.setdefault(endpoint, []).append(form)
            status, answer = 200, {}
            if endpoint == "revoke":
                live.discard(form.get("token"))
            elif form.get("grant_type") == "authorization_code":
                answer = {"access_token": "at-" + form["code"], "expires_in": 300, "refresh_token": f"rt-{len(live)}-0"}
                live.add(answer["refresh_token"])
            elif form.get("refresh_token") in live:
                live.discard(form["refresh_token"])
                answer = {"access_token": "at-r", "expires_in": 300, "refresh_token": form["refresh_token"] + "'"}
                live.add(answer["refresh_token"])
            else:
                status, answer = 400, {"error": "invalid_grant"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PLUGIN_OAUTH_TOKEN_URL", base + "/token")
    monkeypatch.setenv("PLUGIN_OAUTH_REVOKE_URL", base + "/revoke")
    yield seen
    server.shutdown()


def signed_in(plugin, client: str) -> dict:
    from test_oauth_facade import VERIFIER

    upstream, jar = approve(plugin, authorize_query(client))
    _, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": "c1", "state": upstream["state"]},
                         cookies=jar)
    code = query_of(headers["location"])["code"]
    status, _, tokens = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client,
        "code_verifier": VERIFIER}))
    assert status == 200, tokens
    return tokens


def refresh(plugin, client: str, token: str) -> tuple[int, object]:
    status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(
        {"grant_type": "refresh_token", "refresh_token": token, "client_id": client}))
    return status, body


def test_refresh_tokens_rotate_and_an_old_one_is_refused(plugin, provider):
    client = register(plugin)["client_id"]
    first = signed_in(plugin, client)["refresh_token"]
    status, second = refresh(plugin, client, first)
    assert status == 200 and second["refresh_token"] != first
    refused(*refresh(plugin, client, first), "invalid_grant")  # the old one: the provider killed it
    status, third = refresh(plugin, client, second["refresh_token"])
    assert status == 200 and third["refresh_token"] not in (first, second["refresh_token"])


def test_a_refresh_token_expires_at_the_facade_and_rotation_does_not_extend_it(plugin, provider, monkeypatch):
    import time

    client = register(plugin)["client_id"]
    first = signed_in(plugin, client)["refresh_token"]
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start + 20 * 86400)
    status, second = refresh(plugin, client, first)
    assert status == 200
    calls = len(provider["token"])
    monkeypatch.setattr(time, "time", lambda: start + 31 * 86400)
    refused(*refresh(plugin, client, second["refresh_token"]), "invalid_grant")
    assert len(provider["token"]) == calls  # refused at the facade, the provider never asked


def test_revocation_endpoint_revokes_upstream(plugin, provider):
    _, _, doc = call(plugin, "GET", "/.well-known/oauth-authorization-server")
    assert doc["revocation_endpoint"] == ORIGIN + "/oauth/revoke"
    client, other = register(plugin)["client_id"], register(plugin)["client_id"]
    token = signed_in(plugin, client)["refresh_token"]
    status, _, _ = call(plugin, "POST", "/oauth/revoke", headers=FORM,
                        body=urlencode({"token": token, "client_id": other}))  # not its token: nothing happens
    assert status == 200 and provider["revoke"] == []
    status, headers, _ = call(plugin, "POST", "/oauth/revoke", headers=FORM,
                              body=urlencode({"token": token, "token_type_hint": "refresh_token", "client_id": client}))
    assert status == 200 and headers["cache-control"] == "no-store"
    assert [f["token"] for f in provider["revoke"]] == ["rt-0-0"]
    refused(*refresh(plugin, client, token), "invalid_grant")
    for junk in ("", "x.y", "a" * 5000):  # RFC 7009 2.2: an invalid token is no error
        assert call(plugin, "POST", "/oauth/revoke", headers=FORM, body=urlencode({"token": junk,
                                                                                    "client_id": client}))[0] == 200
    status, _, body = call(plugin, "POST", "/oauth/revoke", headers=FORM, body=urlencode({"token": token}))
    refused(status, body, "invalid_client")


# -- 3. audience and issuer confusion ------------------------------------------------------------------
@pytest.fixture(scope="module")
def signing_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def keys(plugin, signing_key, monkeypatch):
    """The provider's JWKS (one RSA key) installed for UPSTREAM/jwks; returns a token minter (PyJWT)."""
    import base64
    import importlib
    import json
    import time

    import jwt

    surface_auth = importlib.import_module("plugin_runtime.surface_auth")  # the bake's, on its sys.path
    jwks_type = importlib.import_module("plugin_runtime.model_jwt").JWKS
    numbers = signing_key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    jwk = {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64(numbers.n), "e": b64(numbers.e)}
    url = UPSTREAM + "/jwks"
    monkeypatch.setitem(surface_auth._jwks, url, jwks_type(url, fetch=lambda _: json.dumps({"keys": [jwk]})))

    def mint(**claims) -> str:
        base = {"iss": UPSTREAM, "sub": "alice", "client_id": "upstream-client", "scope": "sumar-plugin/invoke",
                "exp": int(time.time()) + 300, "iat": int(time.time())}
        return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not None}, signing_key,
                          algorithm="RS256", headers={"kid": "k1"})
    return mint


AUDIENCE_CORPUS = [  # (claims, configured audience, accepted)
    ({}, "", True),  # Cognito's shape: no aud, the client id binds it
    ({"aud": ORIGIN + "/mcp"}, "", True),  # RFC 8707: the resource we sent upstream
    ({"aud": [ORIGIN + "/mcp", "https://other.example"]}, "", True),
    ({"aud": "https://other-api.example"}, "", False),  # the finding: another API's token
    ({"aud": ["https://other-api.example"]}, "", False),
    ({"aud": ""}, "", False),
    ({"aud": ORIGIN}, "", False),
    ({"aud": 7}, "", False),
    ({"aud": "api://sumar"}, "api://sumar", True),
    ({"aud": ORIGIN + "/mcp"}, "api://sumar", False),
    ({}, "api://sumar", False),
    ({"iss": "https://login.evil.test"}, "", False),
    ({"iss": UPSTREAM + "/"}, "", False),
    ({"client_id": "another-client"}, "", False),
    ({"client_id": "another-client", "aud": ORIGIN + "/mcp"}, "", False),
    ({"client_id": None, "azp": "upstream-client", "aud": "https://other-api.example"}, "", False),
]


@pytest.mark.parametrize(("claims", "audience", "accepted"), AUDIENCE_CORPUS)
@pytest.mark.parametrize("path", ["/sumar", "/mcp"])
def test_only_tokens_for_this_api_are_accepted(plugin, keys, monkeypatch, claims, audience, accepted, path):
    import json

    monkeypatch.setenv("PLUGIN_OAUTH_AUDIENCE", audience)
    body = {"numero1": 1, "numero2": 2} if path == "/sumar" else {
        "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "sumar",
                                                                        "arguments": {"numero1": 1, "numero2": 2}}}
    headers = {"content-type": "application/json", "authorization": "Bearer " + keys(**claims),
               "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
    status, _, _ = call(plugin, "POST", path, body=json.dumps(body), headers=headers)
    assert (status == 200) is accepted, (status, claims, audience)
    if not accepted:
        assert status == 401


@pytest.mark.parametrize(("setting", "on_authorize", "on_token"), [
    ("", {"resource": ORIGIN + "/mcp"}, {"resource": ORIGIN + "/mcp"}),
    ("resource", {"resource": ORIGIN + "/mcp"}, {"resource": ORIGIN + "/mcp"}),
    ("audience", {"audience": "api://sumar"}, {}),  # Auth0 takes audience on authorize only
    ("none", {}, {}),  # Entra ID refuses resource with v2 scopes (AADSTS9010010)
])
def test_the_resource_indicator_goes_upstream(plugin, provider, monkeypatch, setting, on_authorize, on_token):
    monkeypatch.setenv("PLUGIN_OAUTH_RESOURCE_PARAMETER", setting)
    monkeypatch.setenv("PLUGIN_OAUTH_AUDIENCE", "api://sumar")
    client = register(plugin)["client_id"]
    upstream, _ = approve(plugin, authorize_query(client))
    assert {k: upstream[k] for k in ("resource", "audience") if k in upstream} == on_authorize
    signed_in(plugin, client)
    form = provider["token"][-1]
    assert {k: form[k] for k in ("resource", "audience") if k in form} == on_token


def test_a_bad_resource_parameter_setting_is_a_refusal(plugin, monkeypatch):
    monkeypatch.setenv("PLUGIN_OAUTH_RESOURCE_PARAMETER", "both")
    # The configuration is refused as a whole (its problem is logged), and said to be broken, not
    # absent: auth_misconfigured, as the protected routes answer (issue 16: never "no OAuth").
    event = {"version": "2.0", "rawPath": "/.well-known/oauth-authorization-server", "headers": {"host": "x.example"},
             "requestContext": {"http": {"method": "GET", "path": "/.well-known/oauth-authorization-server"}}}
    response = plugin.lambda_handler(event, None)
    assert response["statusCode"] == 500 and "auth_misconfigured" in response["body"], response
    assert "RESOURCE_PARAMETER" not in response["body"] and "Traceback" not in response["body"]


# -- 4. CIMD fetches: pinned address, one deadline, bounded, expiring ------------------------------------
def cimd():
    import importlib

    return importlib.import_module("plugin_runtime.surface_oauth_cimd")


@pytest.fixture
def docs(monkeypatch):
    """A loopback document server whose answers the test changes (path -> (document, drip seconds))."""
    import http.server
    import json
    import threading
    import time

    monkeypatch.setenv("PLUGIN_OAUTH_LOOPBACK_CLIENTS", "1")
    served: dict[str, tuple[dict | None, float]] = {}
    raw: dict[str, dict] = {}  # documents served as they are (a JWKS)
    hits: list[str] = []

    class Docs(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            doc, drip = (raw[self.path], 0.0) if self.path in raw else served.get(self.path, (None, 0.0))
            if doc is None:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            for i in range(len(data)) if drip else ():
                try:
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(drip)
            if not drip:
                self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Docs)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def serve(path: str, redirect_uris: list[str] | None = None, drip: float = 0.0, **extra) -> str:
        served[path] = ({"client_id": base + path, "client_name": "CIMD app",
                         "redirect_uris": redirect_uris or [REDIRECT], **extra}, drip)
        return base + path
    serve.hits, serve.raw = hits, raw
    cimd()._documents.clear()
    cimd()._refused.clear()
    cimd()._budget.clear()
    cimd()._key_sets.clear()
    yield serve
    server.shutdown()


def test_a_slow_drip_document_is_cut_at_one_deadline(plugin, docs):
    import time

    client = docs("/slow.json", drip=1.5)
    started = time.monotonic()
    status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    elapsed = time.monotonic() - started
    refused(status, body, "invalid_client")
    assert elapsed < cimd().FETCH_SECONDS + 1.5, elapsed


def test_the_cache_expires_and_a_dropped_redirect_uri_stops_working(plugin, docs, monkeypatch):
    import time

    client = docs("/app.json")
    status, _, _ = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    assert status == 200
    docs("/app.json", redirect_uris=["http://127.0.0.1:1/other"])
    assert call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))[0] == 200  # cached
    later = time.monotonic() + cimd().CACHE_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    refused(status, body, "invalid_request")  # the redirect URI is no longer the client's


def test_failing_urls_cannot_cause_unbounded_fetches(plugin, docs):
    for i in range(3 * cimd().FETCHES_PER_MINUTE):
        status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(docs("/x") + f"{i}.json"))
        refused(status, body, "invalid_client")
    assert len(docs.hits) == cimd().FETCHES_PER_MINUTE


EMBEDDED_V4 = ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:7f00:1::", "2002:a9fe:a9fe::1",
               "::127.0.0.1", "::169.254.169.254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2001:0:4136:e378::1",
               "2001::1", "::1", "fe80::1", "fc00::1", "127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1",
               "0.0.0.0", "224.0.0.1", "192.168.1.1", "::"]


@pytest.mark.parametrize("address", EMBEDDED_V4)
def test_addresses_a_document_may_not_live_at(plugin, address):
    assert cimd().address_allowed(address) is False


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"])
def test_public_addresses_are_allowed(plugin, address):
    assert cimd().address_allowed(address) is True


def test_the_fetch_connects_to_the_address_it_checked_with_tls_for_the_name(plugin, monkeypatch):
    """DNS rebinding: the name is resolved once; the connection goes to that address, and TLS is
    verified for the name (a second lookup that answers 127.0.0.1 is never made)."""
    import socket
    import ssl

    module = cimd()
    lookups, connected, wrapped = [], [], []
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))],
                    [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))]])

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return next(answers)

    class Context:
        def wrap_socket(self, sock, server_hostname=None):
            wrapped.append(server_hostname)
            raise ssl.SSLCertVerificationError("stop here")

    def create_connection(address, timeout=None):
        connected.append(address)
        return socket.socket()  # never used: the TLS handshake is refused first

    monkeypatch.setattr(module.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(module.socket, "create_connection", create_connection)
    monkeypatch.setattr(module, "tls_context", Context)
    assert module.fetch("https://client.example/app.json") is None
    assert lookups == ["client.example"] and connected == [("93.184.215.14", 443)] and wrapped == ["client.example"]
    monkeypatch.undo()
    context = module.tls_context()
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


# -- 5. redirect URIs --------------------------------------------------------------------------------
REDIRECT_TRICKS = [
    "https://exämple.com/cb", "https://example.com/cb\u200b", "https://xn--exmple-cua.com/cb?q=é",
    "https://user@example.com/cb", "https://user:pw@example.com/cb", "https://example.com@evil.example/cb",
    "https://example.com\\@evil.example/cb", "https://example.com/cb\\..\\x", "https://example.com/\x7f",
    "https://example.com/\x01", "https://example.com/a b", "https://example.com/cb#frag", "javascript:alert(1)",
    "data:text/html,x", "http://example.com/cb", "http://127.0.0.1.evil.example/cb", "https://[::1/cb",
    "https://example.com:99999/cb", "file:///etc/passwd", "https:///cb", "//evil.example/cb",
]


@pytest.mark.parametrize("uri", REDIRECT_TRICKS)
def test_tricky_redirect_uris_cannot_be_registered(plugin, uri):
    import json

    status, _, body = call(plugin, "POST", "/oauth/register", body=json.dumps({"redirect_uris": [uri]}),
                           headers={"content-type": "application/json"})
    refused(status, body, "invalid_redirect_uri")


@pytest.mark.parametrize(("asked", "ok"), [
    ("http://127.0.0.1:51234/callback", True), ("http://127.0.0.1/callback", True),
    ("http://127.0.0.1:51234/callback/x", False), ("http://localhost:51234/callback", False),
    ("https://127.0.0.1:51234/callback", False), ("http://127.0.0.1:51234/callback?x=1", False),
])
def test_loopback_redirects_accept_any_port(plugin, asked, ok):
    """RFC 8252 7.3: a native app's loopback redirect may come back on any port; nothing else varies."""
    client = register(plugin)["client_id"]
    status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client, redirect_uri=asked))
    if ok:
        assert status == 200, body
    else:
        refused(status, body, "invalid_request")


def test_https_redirects_match_exactly_even_the_port(plugin):
    client = register(plugin, redirect_uris=["https://app.example/cb"])["client_id"]
    for asked in ("https://app.example:8443/cb", "https://app.example:443/cb", "https://APP.example/cb"):
        status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client, redirect_uri=asked))
        refused(status, body, "invalid_request")


def test_the_consent_page_shows_name_host_and_scopes(plugin):
    client = register(plugin, client_name="Sneaky <b>App</b>",
                      redirect_uris=["https://app.example:8443/very/long/path?x=1"])["client_id"]
    query = authorize_query(client, redirect_uri="https://app.example:8443/very/long/path?x=1")
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 200
    assert "Sneaky &lt;b&gt;App&lt;/b&gt;" in page and "<code>app.example:8443</code>" in page
    assert "/very/long/path" not in page and "sumar-plugin/invoke" in page


# -- 6. the token request repeats the redirect_uri the authorization request carried -----------------
def _code(plugin, client: str, query: dict) -> str:
    upstream, jar = approve(plugin, query)
    _, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": "c", "state": upstream["state"]},
                         cookies=jar)
    return query_of(headers["location"])["code"]


def test_redirect_uri_is_required_when_the_authorization_request_carried_it(plugin, provider):
    from test_oauth_facade import VERIFIER

    client = register(plugin)["client_id"]
    form = {"grant_type": "authorization_code", "client_id": client, "code_verifier": VERIFIER}
    code = _code(plugin, client, authorize_query(client))
    status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode({**form, "code": code}))
    refused(status, body, "invalid_request")
    assert provider["token"] == []  # refused before the provider is asked
    # without redirect_uri on authorize (one registered URI), none is needed on the token request
    query = {k: v for k, v in authorize_query(client).items() if k != "redirect_uri"}
    code = _code(plugin, client, query)
    status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode({**form, "code": code}))
    assert status == 200, body


# -- 7. encoding: lone surrogates and invalid UTF-8 are a 400 ---------------------------------------------
AUTHORIZE_PARAMS = ["client_id", "redirect_uri", "state", "scope", "code_challenge", "resource", "response_type"]


@pytest.mark.parametrize("param", AUTHORIZE_PARAMS)
@pytest.mark.parametrize("bad", ["\ud800", "ok\udfff", "\udc80\udc81"])
def test_lone_surrogates_in_authorize_parameters_are_a_400(plugin, param, bad):
    client = register(plugin)["client_id"]
    query = authorize_query(client)
    query[param] = query[param] + bad
    status, headers, body = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 400 and "location" not in headers, (status, body)


@pytest.mark.parametrize("endpoint", ["/oauth/callback", "/oauth/authorize"])
def test_lone_surrogates_in_the_callback_are_a_400(plugin, endpoint):
    status, _, _ = call(plugin, "GET", endpoint, query={"state": "a\ud800", "code": "\udfff"})
    assert status == 400


@pytest.mark.parametrize("field", ["client_name", "token_endpoint_auth_method", "logo_uri", "client_uri",
                                   "software_id", "scope"])
def test_lone_surrogates_in_registration_fields_are_a_400(plugin, field):
    body = '{"redirect_uris": ["http://127.0.0.1:1/cb"], "token_endpoint_auth_method": "none", "%s": "x\\ud800"}'
    status, _, answer = call(plugin, "POST", "/oauth/register", body=body % field,
                             headers={"content-type": "application/json"})
    refused(status, answer, "invalid_client_metadata")


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"grant_type=\xed\xa0\x80", b"txn=\xc3(", b"client_id=%ED%A0%80"])
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/authorize", "/oauth/revoke", "/oauth/register"])
def test_invalid_utf8_bodies_are_a_400(plugin, raw, path):
    import base64

    event_body = base64.b64encode(raw).decode()
    from test_oauth_facade import HOST

    event = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
             "headers": {"host": HOST, "x-forwarded-proto": "https", **FORM},
             "requestContext": {"domainName": HOST, "requestId": "r1",
                                "http": {"method": "POST", "path": path, "sourceIp": "203.0.113.9"}},
             "body": event_body, "isBase64Encoded": True}
    response = plugin.lambda_handler(event, None)
    assert response["statusCode"] in (400, 401), response


# -- 7 and 8 on the local server (plugin_tools/serve.py) -----------------------------------------------
@pytest.fixture(scope="module")
def local(tmp_path_factory):
    from bake_support import bake
    from server_support import LocalServer

    project = bake(tmp_path_factory.mktemp("oauth-local"), auth="oauth")
    env = {"PLUGIN_OAUTH_ISSUER": UPSTREAM, "PLUGIN_OAUTH_CLIENT_ID": "upstream-client",
           "PLUGIN_OAUTH_CLIENT_SECRET": "upstream-secret", "PLUGIN_OAUTH_AUTHORIZE_URL": UPSTREAM + "/authorize",
           "PLUGIN_OAUTH_TOKEN_URL": UPSTREAM + "/token", "PLUGIN_OAUTH_JWKS_URL": UPSTREAM + "/jwks"}
    with LocalServer(project, "--no-reload", env=env) as server:
        yield server


def test_the_local_server_answers_bad_encodings_with_a_400(local):
    body = b'{"redirect_uris": ["http://127.0.0.1:1/cb"], "client_name": "\\ud800"}'
    status, _, data = local.request("POST", "/oauth/register", body, {"content-type": "application/json"})
    assert status == 400, data
    status, _, data = local.request("POST", "/oauth/token", b"grant_type=\xed\xa0\x80", FORM)
    assert status == 400, data
    status, _, data = local.request("GET", "/oauth/authorize?client_id=%ED%A0%80&state=%FF")
    assert status == 400, data
    status, _, data = local.request("GET", "/oauth/callback?state=%ED%A0%80&code=%C3%28")
    assert status == 400, data


def test_the_local_access_log_prints_no_query_values(local):
    local.request("GET", "/oauth/callback?code=SECRET-CODE-1&state=SECRET-STATE-1")
    local.request("GET", "/sumar?api_key=SECRET-KEY-1")
    local.request("GET", "/nothing?" + "x" * 20 + "=SECRET-VALUE-1")
    assert local.wait_until(lambda: sum("/sumar" in line for line in local.stderr_lines) >= 1)
    log = "".join(local.stderr_lines)
    assert "/oauth/callback" in log and "SECRET-" not in log, log[-2000:]


# -- 9. the facade's own signing key (current and previous), not the provider's client secret --------------
KEY_A, KEY_B = "a" * 22 + "-signing-key-A-0123456789", "b" * 22 + "-signing-key-B-0123456789"


def forge(secret: str, kind: str, payload: dict) -> str:
    """A seal made the way a key derived from ``secret`` makes it (the facade's own format)."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    key = hmac.new(secret.encode(), b"plugin-oauth-facade/v1", hashlib.sha256).digest()
    body = b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return body + "." + b64(hmac.new(key, f"{kind}.{body}".encode(), hashlib.sha256).digest())


def test_seals_are_not_keyed_by_the_provider_client_secret(plugin):
    """Whoever holds the provider's client secret (the GPT Action's owner, with Cognito) cannot
    mint client ids, states or codes."""
    client_id = "dyn." + forge("upstream-secret", "client", {"r": [REDIRECT], "m": "none", "n": "forged"})
    status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client_id))
    refused(status, body, "invalid_client")


def test_a_rotated_key_keeps_working_as_previous_then_stops(plugin, monkeypatch):
    monkeypatch.setenv("OAUTH_SIGNING_KEY", KEY_A)
    client = register(plugin)["client_id"]
    assert call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))[0] == 200
    monkeypatch.setenv("OAUTH_SIGNING_KEY", f"{KEY_B} {KEY_A}")  # rotation: new current, old as previous
    assert call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))[0] == 200
    fresh = register(plugin)["client_id"]
    monkeypatch.setenv("OAUTH_SIGNING_KEY", KEY_B)  # the old key retired
    refused(*call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))[::2], "invalid_client")
    assert call(plugin, "GET", "/oauth/authorize", query=authorize_query(fresh))[0] == 200


def test_a_confidential_client_registered_under_the_previous_key_still_authenticates(plugin, monkeypatch):
    import base64

    monkeypatch.setenv("OAUTH_SIGNING_KEY", KEY_A)
    client = register(plugin, token_endpoint_auth_method="client_secret_basic")
    monkeypatch.setenv("OAUTH_SIGNING_KEY", f"{KEY_B} {KEY_A}")
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    status, _, body = call(plugin, "POST", "/oauth/token", headers={**FORM, "authorization": "Basic " + basic},
                           body=urlencode({"grant_type": "authorization_code", "code": "x.y"}))
    refused(status, body, "invalid_grant")  # authenticated; only the code is bad


@pytest.mark.parametrize("value", ["", "short", "   ", f"{KEY_A} {KEY_B} {KEY_A}x"])
def test_a_missing_or_weak_signing_key_is_a_503_not_a_guess(plugin, monkeypatch, value):
    monkeypatch.setenv("OAUTH_SIGNING_KEY", value)
    status, _, body = call(plugin, "POST", "/oauth/register", body='{"redirect_uris": ["http://127.0.0.1:1/cb"]}',
                           headers={"content-type": "application/json"})
    assert status == 503 and body["error"] == "temporarily_unavailable", body


# -- 10. the 2026-07-28 rules: CIMD with private_key_jwt (RFC 7523), DCR with limits ----------------------
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def client_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid: str = "c1") -> dict:
    import base64

    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(numbers.n), "e": b64(numbers.e)}


def assertion(key, client_id: str, **overrides) -> str:
    import time
    import uuid

    import jwt

    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": ORIGIN + "/oauth/token", "exp": now + 60, "iat": now,
              "jti": uuid.uuid4().hex}
    headers = overrides.pop("_headers", {"kid": "c1"})
    algorithm = overrides.pop("_alg", "RS256")
    claims = {k: v for k, v in {**claims, **overrides}.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def jwt_client_code(plugin, docs, client_key, provider, *, jwks_uri: bool = False) -> tuple[str, dict]:
    """A ChatGPT-like CIMD client (private_key_jwt) through consent and callback; (client id, form)."""
    from test_oauth_facade import VERIFIER

    if jwks_uri:
        keys_url = docs("/jwks.json")
        docs.raw["/jwks.json"] = {"keys": [public_jwk(client_key)]}
        client = docs("/chatgpt.json", token_endpoint_auth_method="private_key_jwt", jwks_uri=keys_url)
    else:
        client = docs("/chatgpt.json", token_endpoint_auth_method="private_key_jwt",
                      jwks={"keys": [public_jwk(client_key)]})
    code = _code(plugin, client, authorize_query(client))
    return client, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                    "code_verifier": VERIFIER, "client_id": client, "client_assertion_type": ASSERTION_TYPE}


@pytest.mark.parametrize("jwks_uri", [False, True], ids=["jwks", "jwks_uri"])
def test_a_private_key_jwt_cimd_client_signs_in(plugin, docs, client_key, provider, jwks_uri):
    client, form = jwt_client_code(plugin, docs, client_key, provider, jwks_uri=jwks_uri)
    form["client_assertion"] = assertion(client_key, client)
    status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(form))
    assert status == 200 and body["access_token"], body


def _other_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


BAD_ASSERTIONS = {
    "another key": lambda key, c: assertion(_other_key(), c),
    "iss differs": lambda key, c: assertion(key, c, iss="https://evil.example/client.json"),
    "sub differs": lambda key, c: assertion(key, c, sub="someone"),
    "aud elsewhere": lambda key, c: assertion(key, c, aud="https://other.example/oauth/token"),
    "no aud": lambda key, c: assertion(key, c, aud=None),
    "expired": lambda key, c: assertion(key, c, exp=1_000_000),
    "lives too long": lambda key, c: assertion(key, c, exp=4_000_000_000),
    "no exp": lambda key, c: assertion(key, c, exp=None),
    "no jti": lambda key, c: assertion(key, c, jti=None),
    "unknown kid": lambda key, c: assertion(key, c, _headers={"kid": "nope"}),
    "alg none": lambda key, c: assertion(None, c, _alg="none"),
    "HS256 with the public key": lambda key, c: hs256(json_of(public_jwk(key)), c),
    "not a JWT": lambda key, c: "abc",
    "empty": lambda key, c: "",
}


def hs256(secret: str, client_id: str) -> str:
    """An HS256 assertion keyed with the client's public JWK text (the classic alg confusion)."""
    import base64
    import hashlib
    import hmac
    import time

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json_of({"alg": "HS256", "kid": "c1"}).encode())
    body = b64(json_of({"iss": client_id, "sub": client_id, "aud": ORIGIN + "/oauth/token", "jti": "hs",
                        "exp": int(time.time()) + 60}).encode())
    return f"{head}.{body}." + b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())


def json_of(doc: dict) -> str:
    import json

    return json.dumps(doc)


@pytest.mark.parametrize("case", list(BAD_ASSERTIONS))
def test_hostile_client_assertions_are_refused(plugin, docs, client_key, provider, case):
    client, form = jwt_client_code(plugin, docs, client_key, provider)
    form["client_assertion"] = BAD_ASSERTIONS[case](client_key, client)
    status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(form))
    refused(status, body, "invalid_client")
    assert provider["token"] == [], case  # refused before the provider is asked


def test_a_client_assertion_is_single_use_and_required(plugin, docs, client_key, provider):
    client, form = jwt_client_code(plugin, docs, client_key, provider)
    refused(*call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(
        {k: v for k, v in form.items() if k != "client_assertion_type"}))[::2], "invalid_client")
    form["client_assertion"] = assertion(client_key, client)
    assert call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(form))[0] == 200
    _, again = jwt_client_code(plugin, docs, client_key, provider)
    again["client_assertion"] = form["client_assertion"]  # the same jti, replayed
    refused(*call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(again))[::2], "invalid_client")


def test_one_client_filling_the_replay_store_never_locks_out_another(plugin, docs, client_key, provider):
    """A client that spends thousands of valid assertions (its own CIMD document and keys) fills
    only its own share of the replay store: ChatGPT's client still signs in, and the flooding
    client is the one refused."""
    import importlib
    import time

    module = importlib.import_module("plugin_runtime.surface_oauth_assertion")
    seen = module._seen
    attacker = "https://evil.example/client.json"
    until = float(time.time() + 300)
    seen.update({(attacker, f"jti-{i}"): until for i in range(10_001)})  # what 10,001 accepted assertions leave
    try:
        client, form = jwt_client_code(plugin, docs, client_key, provider)
        form["client_assertion"] = assertion(client_key, client)
        status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(form))
        assert status == 200 and body["access_token"], body
        with pytest.raises(module.AssertionError_, match="too many"):
            module.remember(attacker, "one-more", until, time.time())
    finally:
        seen.clear()


def test_the_metadata_announces_private_key_jwt(plugin):
    _, _, doc = call(plugin, "GET", "/.well-known/oauth-authorization-server")
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert doc["client_id_metadata_document_supported"] is True
    assert doc["authorization_response_iss_parameter_supported"] is True


DCR_ABUSE = {
    "not JSON content type": ("text/plain", '{"redirect_uris": ["http://127.0.0.1:1/cb"]}'),
    "form body": ("application/x-www-form-urlencoded", "redirect_uris=http://127.0.0.1:1/cb"),
    "duplicate keys": ("application/json",
                       '{"redirect_uris": ["http://127.0.0.1:1/cb"], "redirect_uris": ["https://evil.example/cb"]}'),
    "too large": ("application/json", '{"redirect_uris": ["http://127.0.0.1:1/cb"], "x": "' + "a" * 20000 + '"}'),
    "client id over 4 KB": ("application/json", json_of({"redirect_uris": [
        f"https://app{i}.example/" + "p" * 1900 for i in range(3)]})),
    "an array": ("application/json", '[{"redirect_uris": ["http://127.0.0.1:1/cb"]}]'),
}


@pytest.mark.parametrize("case", list(DCR_ABUSE))
def test_dcr_abuse_is_refused(plugin, case):
    ctype, body = DCR_ABUSE[case]
    status, _, answer = call(plugin, "POST", "/oauth/register", body=body, headers={"content-type": ctype})
    assert status == 400 and answer["error"] in ("invalid_client_metadata", "invalid_redirect_uri"), (case, answer)


# -- 11. X-Content-Type-Options: nosniff on every response ---------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/.well-known/ai-plugin.json"), ("GET", "/openapi.json"), ("GET", "/logo.png"), ("POST", "/mcp"),
    ("GET", "/mcp"), ("POST", "/sumar"), ("GET", "/no-such-route"), ("GET", "/.well-known/oauth-protected-resource"),
    ("GET", "/.well-known/oauth-authorization-server"), ("GET", "/oauth/authorize"), ("POST", "/oauth/authorize"),
    ("GET", "/oauth/callback"), ("POST", "/oauth/token"), ("POST", "/oauth/register"), ("POST", "/oauth/revoke"),
    ("DELETE", "/sumar"),
])
def test_every_response_says_nosniff(plugin, method, path):
    call(plugin, method, path, body="{}" if method == "POST" else None, headers={"content-type": "application/json"})
    assert LAST["headers"]["x-content-type-options"] == "nosniff", (path, LAST["headers"])


def test_an_unreadable_event_says_nosniff_too(plugin):
    response = plugin.lambda_handler({"version": "2.0"}, None)
    assert response["statusCode"] == 400 and response["headers"]["x-content-type-options"] == "nosniff"


# -- corpus: PKCE and code replay ---------------------------------------------------------------------------
def _pkce_cases():
    from test_oauth_facade import CHALLENGE, VERIFIER

    return {
        "the challenge as verifier": CHALLENGE, "one character off": VERIFIER[:-1] + "x",
        "42 characters": VERIFIER[:42], "129 characters": VERIFIER + "a" * (129 - len(VERIFIER)),
        "outside the alphabet": VERIFIER[:-1] + "+", "non-ASCII": VERIFIER[:-1] + "é", "empty": "",
        "upper-cased": VERIFIER.upper(), "with a space": VERIFIER[:-1] + " ",
    }


@pytest.mark.parametrize("case", list(_pkce_cases()))
def test_pkce_corpus(plugin, provider, case):
    client = register(plugin)["client_id"]
    code = _code(plugin, client, authorize_query(client))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client,
            "code_verifier": _pkce_cases()[case]}
    refused(*call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(form))[::2], "invalid_grant")
    assert provider["token"] == []


def test_a_code_is_bound_to_its_client_and_redirect(plugin, provider):
    from test_oauth_facade import VERIFIER

    client, other = register(plugin)["client_id"], register(plugin)["client_id"]
    code = _code(plugin, client, authorize_query(client))
    good = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client,
            "code_verifier": VERIFIER}
    for change in ({"client_id": other}, {"redirect_uri": "http://127.0.0.1:33418/callback/"},
                   {"code": code + "x"}, {"grant_type": "refresh_token", "refresh_token": code}):
        status, _, body = call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode({**good, **change}))
        assert status == 400 and body["error"] in ("invalid_grant", "invalid_request"), (change, body)
    assert provider["token"] == []
    assert call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(good))[0] == 200


def test_a_jwks_uri_is_fetched_once_per_cache_lifetime(plugin, docs, client_key, provider):
    """The key set of a private_key_jwt client is cached like its document and counts against the
    same fetch budget: token requests cannot make the facade fetch a URL on every call."""
    for _ in range(3):
        client, form = jwt_client_code(plugin, docs, client_key, provider, jwks_uri=True)
        form["client_assertion"] = assertion(client_key, client)
        assert call(plugin, "POST", "/oauth/token", headers=FORM, body=urlencode(form))[0] == 200
    assert docs.hits.count("/jwks.json") == 1, docs.hits
