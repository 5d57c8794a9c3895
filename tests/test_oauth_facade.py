"""The OAuth facade of an auth=oauth bake, through lambda_handler with full API Gateway events:
the discovery documents, the refusals of every malformed or hostile request (unregistered
redirect URIs, open redirects, missing or wrong PKCE, tampered or expired state and codes, codes
of another client), and the challenges on protected routes. No provider is needed for these: the
full flow with a real OIDC provider and the MCP SDK's OAuth client is in test_oauth_flow.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from bake_support import bake, project_modules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
ORIGIN = f"https://{HOST}"
UPSTREAM = "https://login.example.test"
VERIFIER = "v" * 43 + "-._~0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
REDIRECT = "http://127.0.0.1:33418/callback"
STATS: dict[str, int] = {"refused": 0}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    project = bake(tmp_path_factory.mktemp("oauth"), auth="oauth")
    with project_modules(project):
        import handler

        yield handler.plugin


@pytest.fixture(autouse=True)
def oauth_env(monkeypatch):
    for key, value in {
        "PLUGIN_AUTH": "oauth", "PLUGIN_OAUTH_ISSUER": UPSTREAM, "PLUGIN_OAUTH_CLIENT_ID": "upstream-client",
        "PLUGIN_OAUTH_CLIENT_SECRET": "upstream-secret", "PLUGIN_OAUTH_AUTHORIZE_URL": UPSTREAM + "/authorize",
        "PLUGIN_OAUTH_TOKEN_URL": UPSTREAM + "/token", "PLUGIN_OAUTH_JWKS_URL": UPSTREAM + "/jwks",
        "PLUGIN_OAUTH_SCOPE_PREFIX": "sumar-plugin/", "OAUTH_SIGNING_KEY": "test-signing-key-" + "k" * 32,
    }.items():
        monkeypatch.setenv(key, value)


LAST: dict = {}  # the last raw response (its cookies)


def call(plugin, method: str, path: str, *, query: dict | None = None, body: str | None = None,
         headers: dict | None = None, cookies: list[str] | None = None) -> tuple[int, dict, object]:
    event = {"version": "2.0", "routeKey": "$default", "rawPath": path,
             "rawQueryString": urlencode(query or {}, errors="surrogatepass"),
             "queryStringParameters": dict(query or {}),
             "headers": {"host": HOST, "x-forwarded-proto": "https", **(headers or {})},
             "requestContext": {"domainName": HOST, "requestId": "r1",
                                "http": {"method": method, "path": path, "sourceIp": "203.0.113.9"}},
             "body": body, "isBase64Encoded": False}
    if cookies:
        event["cookies"] = cookies
    response = plugin.lambda_handler(event, None)
    LAST.clear()
    LAST.update(response)
    text = response.get("body") or ""
    assert "Traceback" not in text and "upstream-secret" not in text
    assert response["statusCode"] < 500 or response["statusCode"] == 503, response
    is_json = "json" in response.get("headers", {}).get("content-type", "")
    return response["statusCode"], response.get("headers", {}), json.loads(text) if is_json and text else text


def register(plugin, **metadata) -> dict:
    doc = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "pytest",
           "grant_types": ["authorization_code", "refresh_token"], **metadata}
    status, _, body = call(plugin, "POST", "/oauth/register", body=json.dumps(doc),
                           headers={"content-type": "application/json"})
    assert status == 201, body
    return body


def consent_form(page: str) -> dict:
    """The txn of the consent page's Allow form."""
    return {"txn": re.search(r'name="txn" value="([^"]+)"', page).group(1).replace("&amp;", "&"),
            "decision": "allow"}


def consented(plugin, query: dict, decision: str = "allow") -> tuple[int, dict, object]:
    """/oauth/authorize as a user who clicks Allow (or Deny) on the consent page."""
    status, headers, page = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 200 and headers["content-type"].startswith("text/html"), (status, page)
    cookie = LAST["cookies"][0].split(";", 1)[0]
    return call(plugin, "POST", "/oauth/authorize", body=urlencode({**consent_form(page), "decision": decision}),
                headers={"content-type": "application/x-www-form-urlencoded"}, cookies=[cookie])


def authorize_query(client_id: str, **extra) -> dict:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "code_challenge": CHALLENGE,
            "code_challenge_method": "S256", "state": "st-1", "scope": "sumar-plugin/invoke",
            "resource": ORIGIN + "/mcp", **extra}


def query_of(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def refused(status: int, body: object, error: str) -> None:
    STATS["refused"] += 1
    assert status in (400, 401), (status, body)
    assert isinstance(body, dict) and body["error"] == error, body


# -- discovery -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"])
def test_protected_resource_metadata(plugin, path):
    status, _, doc = call(plugin, "GET", path)
    assert status == 200
    assert doc["resource"] == ORIGIN + "/mcp" and doc["authorization_servers"] == [ORIGIN]
    assert doc["scopes_supported"] == ["sumar-plugin/invoke"] and doc["bearer_methods_supported"] == ["header"]


def test_authorization_server_metadata_announces_s256_and_registration(plugin):
    status, _, doc = call(plugin, "GET", "/.well-known/oauth-authorization-server")
    assert status == 200 and doc["issuer"] == ORIGIN
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["registration_endpoint"] == ORIGIN + "/oauth/register"
    assert doc["authorization_endpoint"] == ORIGIN + "/oauth/authorize"
    assert doc["token_endpoint"] == ORIGIN + "/oauth/token"
    assert doc["client_id_metadata_document_supported"] is True
    assert "none" in doc["token_endpoint_auth_methods_supported"]


def test_without_oauth_the_endpoints_do_not_exist(plugin, monkeypatch):
    monkeypatch.setenv("PLUGIN_AUTH", "none")
    assert call(plugin, "GET", "/.well-known/oauth-authorization-server")[0] == 404
    assert call(plugin, "POST", "/oauth/token", body="x")[0] == 404


@pytest.mark.parametrize("path", ["/mcp", "/sumar"])
def test_protected_routes_challenge_with_the_metadata(plugin, path):
    status, headers, _ = call(plugin, "POST", path, body="{}", headers={"content-type": "application/json"})
    assert status == 401
    challenge = headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{ORIGIN}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert 'scope="sumar-plugin/invoke"' in challenge


def test_the_documents_describe_oauth(plugin):
    _, _, manifest = call(plugin, "GET", "/.well-known/ai-plugin.json")
    assert manifest["auth"]["type"] == "oauth" and manifest["auth"]["client_url"] == ORIGIN + "/oauth/authorize"
    assert manifest["auth"]["authorization_url"] == ORIGIN + "/oauth/token"
    _, _, doc = call(plugin, "GET", "/openapi.json")
    flow = doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == ORIGIN + "/oauth/authorize" and flow["tokenUrl"] == ORIGIN + "/oauth/token"
    assert list(flow["scopes"]) == ["sumar-plugin/invoke"]
    assert doc["security"] == [{"oauth2": ["sumar-plugin/invoke"]}]
    assert {"401", "403"} <= set(doc["paths"]["/sumar"]["post"]["responses"])


# -- registration ----------------------------------------------------------------------------------
def test_registration_is_stateless_and_signed(plugin):
    public = register(plugin)
    assert public["client_id"].startswith("dyn.") and "client_secret" not in public
    confidential = register(plugin, token_endpoint_auth_method="client_secret_post")
    assert confidential["client_secret"] and confidential["client_secret_expires_at"] == 0
    status, headers, _ = consented(plugin, authorize_query(public["client_id"]))
    assert status == 302 and headers["location"].startswith(UPSTREAM + "/authorize?")


BAD_REGISTRATIONS = [
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"redirect_uris": "http://127.0.0.1/cb"}, "invalid_redirect_uri"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["data:text/html,x"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://a.example/cb"] * 11}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://app.example/ cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": [7]}, "invalid_redirect_uri"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
    ({"response_types": ["token"]}, "invalid_client_metadata"),
    ({"grant_types": [{}]}, "invalid_client_metadata"),
]


@pytest.mark.parametrize(("override", "error"), BAD_REGISTRATIONS)
def test_bad_registrations_are_refused(plugin, override, error):
    doc = {"redirect_uris": [REDIRECT], **override}
    status, _, body = call(plugin, "POST", "/oauth/register", body=json.dumps(doc),
                           headers={"content-type": "application/json"})
    refused(status, body, error)


@pytest.mark.parametrize("raw", ["", "nope", "[1]", "{" * 5000, "x" * 20000, '{"redirect_uris": NaN}'])
def test_malformed_registration_bodies(plugin, raw):
    status, _, body = call(plugin, "POST", "/oauth/register", body=raw, headers={"content-type": "application/json"})
    refused(status, body, "invalid_client_metadata")


# -- authorize ---------------------------------------------------------------------------------------
def test_authorize_sends_the_user_to_the_provider_with_a_sealed_state(plugin):
    client = register(plugin)["client_id"]
    status, headers, _ = consented(plugin, authorize_query(client))
    assert status == 302
    q = query_of(headers["location"])
    assert q["client_id"] == "upstream-client" and q["redirect_uri"] == ORIGIN + "/oauth/callback"
    assert q["scope"] == "openid sumar-plugin/invoke" and q["response_type"] == "code"
    assert CHALLENGE not in headers["location"] or "." in q["state"]  # the client's request rides in the state


@pytest.mark.parametrize("client_id", ["", "nobody", "dyn.forged.mac", "dyn." + "A" * 5000, "https://127.0.0.1/x"])
def test_unknown_clients_get_an_error_page_not_a_redirect(plugin, client_id):
    status, headers, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client_id))
    refused(status, body, "invalid_client")
    assert "location" not in headers


@pytest.mark.parametrize("redirect", ["https://evil.example/cb", REDIRECT + "/x", REDIRECT + "?next=https://evil",
                                      "http://localhost:33418/callback", "//evil.example", ""])
def test_unregistered_redirect_uris_are_never_followed(plugin, redirect):
    client = register(plugin)["client_id"]
    query = authorize_query(client, redirect_uri=redirect)
    status, headers, body = call(plugin, "GET", "/oauth/authorize", query=query)
    refused(status, body, "invalid_request")
    assert "location" not in headers


@pytest.mark.parametrize(("change", "error"), [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"resource": "https://other.example/mcp"}, "invalid_target"),
    ({"state": "s" * 2000}, "invalid_request"),
])
def test_bad_authorize_requests_go_back_to_the_client_with_an_error(plugin, change, error):
    client = register(plugin)["client_id"]
    query = {k: v for k, v in {**authorize_query(client), **change}.items() if v is not None}
    status, headers, _ = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 302 and headers["location"].startswith(REDIRECT + "?")
    q = query_of(headers["location"])
    assert q["error"] == error and q["iss"] == ORIGIN
    STATS["refused"] += 1


@pytest.mark.parametrize(("redirect", "ok"), [
    ("https://chatgpt.com/aip/g-abc123/oauth/callback", True),
    ("https://chat.openai.com/aip/g-XYZ-9/oauth/callback", True),
    ("https://chatgpt.com.evil.example/aip/g-abc/oauth/callback", False),
    ("https://chatgpt.com/aip/g-abc/oauth/callback?x=1", False),
    ("https://chatgpt.com/other/g-abc/oauth/callback", False),
    ("http://chatgpt.com/aip/g-abc/oauth/callback", False),
    ("https://chatgpt.com:444/aip/g-abc/oauth/callback", False),
    ("https://chatgpt.com:abc/aip/g-abc/oauth/callback", False),
    ("https://[::1/aip/g-abc/oauth/callback", False),
    ("https://evil.example\\@chatgpt.com/aip/g-1/oauth/callback", False),  # a browser reads \\ as /
    ("https://evil.example@chatgpt.com/aip/g-1/oauth/callback", False),
    ("https://chatgpt.com/aip/g-%2e%2e/oauth/callback", False),
])
def test_the_gpt_actions_client_accepts_only_chatgpt_callbacks(plugin, redirect, ok):
    query = {"response_type": "code", "client_id": "upstream-client", "redirect_uri": redirect, "state": "gpt"}
    status, headers, _ = call(plugin, "GET", "/oauth/authorize", query=query)
    assert (status == 302 and headers["location"].startswith(UPSTREAM)) is ok, (status, headers)


# -- callback and token --------------------------------------------------------------------------
def _code_for(plugin, client: str, upstream_code: str = "up-code-1") -> str:
    _, headers, _ = consented(plugin, authorize_query(client))
    state = query_of(headers["location"])["state"]
    status, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": upstream_code, "state": state},
                              cookies=[c.split(";", 1)[0] for c in LAST["cookies"]])
    assert status == 302 and headers["location"].startswith(REDIRECT + "?")
    q = query_of(headers["location"])
    assert q["state"] == "st-1" and q["iss"] == ORIGIN
    return q["code"]


def test_the_consent_page_names_the_client_and_is_bound_to_the_browser(plugin):
    client = register(plugin, client_name="<script>alert(1)</script> Evil")["client_id"]
    status, headers, page = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    assert status == 200 and "<script>alert" not in page and "&lt;script&gt;" in page and "127.0.0.1:33418" in page
    assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
    cookie = LAST["cookies"][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    form = urlencode(consent_form(page))
    ctype = {"content-type": "application/x-www-form-urlencoded"}
    for cookies in (None, ["plugin_oauth_consent=forged"], [cookie.split(";", 1)[0] + "x"]):
        status, headers, body = call(plugin, "POST", "/oauth/authorize", body=form, headers=ctype, cookies=cookies)
        refused(status, body, "invalid_request")  # an attacker's auto-submitted form carries no such cookie
        assert "location" not in headers
    other = register(plugin)["client_id"]
    call(plugin, "GET", "/oauth/authorize", query=authorize_query(other))
    status, _, body = call(plugin, "POST", "/oauth/authorize", body=form, headers=ctype,
                           cookies=[LAST["cookies"][0].split(";", 1)[0]])  # another page's cookie
    refused(status, body, "invalid_request")


def test_deny_goes_back_with_access_denied(plugin):
    client = register(plugin)["client_id"]
    status, headers, _ = consented(plugin, authorize_query(client), decision="deny")
    assert status == 302 and headers["location"].startswith(REDIRECT + "?")
    q = query_of(headers["location"])
    assert q["error"] == "access_denied" and q["state"] == "st-1" and q["iss"] == ORIGIN


def test_a_client_without_the_refresh_grant_cannot_refresh(plugin):
    client = register(plugin, grant_types=["authorization_code"])["client_id"]
    status, _, body = token(plugin, {"grant_type": "refresh_token", "refresh_token": "x.y", "client_id": client})
    refused(status, body, "unauthorized_client")


def test_the_callback_hands_the_client_a_signed_code(plugin):
    client = register(plugin)["client_id"]
    assert _code_for(plugin, client).count(".") == 1


@pytest.mark.parametrize("mutate", [
    lambda s: s[:-2] + ("AA" if s[-2:] != "AA" else "BB"), lambda s: "x" + s, lambda s: s.replace(".", ".."),
    lambda s: "", lambda s: s.split(".")[0], lambda s: s[: len(s) // 2],
], ids=["mac", "prefix", "dots", "empty", "no mac", "half"])
def test_a_tampered_state_is_refused(plugin, mutate):
    client = register(plugin)["client_id"]
    _, headers, _ = consented(plugin, authorize_query(client))
    state, jar = query_of(headers["location"])["state"], [c.split(";", 1)[0] for c in LAST["cookies"]]
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "c", "state": mutate(state)},
                                 cookies=jar)  # in the right browser: the state itself is refused
    refused(status, body, "invalid_request")
    assert "location" not in headers


@pytest.mark.parametrize(("method", "path", "fields"), [
    ("GET", "/oauth/callback", {"state": "a.é", "code": "x"}),
    ("GET", "/oauth/authorize", {"client_id": "dyn.a.é"}),
    ("POST", "/oauth/token", {"grant_type": "authorization_code", "code": "a.é", "client_id": "dyn.a.é"}),
])
def test_non_ascii_seals_are_refused_not_a_500(plugin, method, path, fields):
    if method == "GET":
        status, _, _ = call(plugin, method, path, query=fields)
    else:
        status, _, _ = call(plugin, method, path, body=urlencode(fields),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert status in (400, 401)


def test_an_expired_state_is_refused(plugin, monkeypatch):
    client = register(plugin)["client_id"]
    _, headers, _ = consented(plugin, authorize_query(client))
    state, jar = query_of(headers["location"])["state"], [c.split(";", 1)[0] for c in LAST["cookies"]]
    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda: later)
    refused(*call(plugin, "GET", "/oauth/callback", query={"code": "c", "state": state}, cookies=jar)[::2],
            "invalid_request")


def token(plugin, form: dict, headers: dict | None = None) -> tuple[int, dict, object]:
    return call(plugin, "POST", "/oauth/token", body=urlencode(form),
                headers={"content-type": "application/x-www-form-urlencoded", **(headers or {})})


def test_token_requests_that_cannot_reach_the_provider(plugin, monkeypatch):
    client = register(plugin)["client_id"]
    other = register(plugin)["client_id"]
    code = _code_for(plugin, client)
    good = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client,
            "code_verifier": VERIFIER}
    cases = {
        "wrong verifier": ({**good, "code_verifier": "w" * 43}, "invalid_grant"),
        "short verifier": ({**good, "code_verifier": "abc"}, "invalid_grant"),
        "no verifier": ({k: v for k, v in good.items() if k != "code_verifier"}, "invalid_grant"),
        "another client": ({**good, "client_id": other}, "invalid_grant"),
        "other redirect": ({**good, "redirect_uri": REDIRECT + "x"}, "invalid_grant"),
        "tampered code": ({**good, "code": code[:-3] + "abc"}, "invalid_grant"),
        "state as code": ({**good, "code": code.split(".")[0] + ".x"}, "invalid_grant"),
        "unknown client": ({**good, "client_id": "dyn.x.y"}, "invalid_client"),
        "unsupported grant": ({**good, "grant_type": "password"}, "unsupported_grant_type"),
        "foreign resource": ({**good, "resource": "https://other.example/mcp"}, "invalid_target"),
        "refresh garbage": ({"grant_type": "refresh_token", "refresh_token": "x.y", "client_id": client},
                            "invalid_grant"),
    }
    for name, (form, error) in cases.items():
        status, headers, body = token(plugin, form)
        assert status != 503, name
        refused(status, body, error)
        assert headers["cache-control"] == "no-store", name
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    refused(*token(plugin, good)[::2], "invalid_grant")  # expired


def test_token_request_shape(plugin):
    client = register(plugin)["client_id"]
    status, _, body = call(plugin, "POST", "/oauth/token", body=json.dumps({"grant_type": "authorization_code"}),
                           headers={"content-type": "application/json"})
    refused(status, body, "invalid_request")
    form = "grant_type=authorization_code&grant_type=refresh_token&client_id=" + client
    status, _, body = call(plugin, "POST", "/oauth/token", body=form,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    refused(status, body, "invalid_request")


def test_confidential_clients_must_authenticate(plugin):
    client = register(plugin, token_endpoint_auth_method="client_secret_basic")
    form = {"grant_type": "authorization_code", "code": "x.y", "redirect_uri": REDIRECT}
    for auth in (None, "Basic !!!", "Basic " + base64.b64encode(f"{client['client_id']}:wrong".encode()).decode()):
        status, headers, body = token(plugin, form | ({} if auth else {"client_id": client["client_id"]}),
                                      {"authorization": auth} if auth else None)
        refused(status, body, "invalid_client")
        assert headers.get("www-authenticate") == "Basic"
    gpt = {"grant_type": "authorization_code", "code": "x.y", "client_id": "upstream-client", "client_secret": "no"}
    refused(*token(plugin, gpt)[::2], "invalid_client")


TEXT = st.text(max_size=60) | st.sampled_from(["https://[::1", "https://x:abc/", "dyn.a.b", "upstream-client",
                                               "S256", "plain", "code", "https://chatgpt.com/aip/g-1/oauth/callback",
                                               REDIRECT, "", "\x00", "é" * 5])


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(["authorize", "callback", "token", "register"]),
       fields=st.dictionaries(st.sampled_from(["client_id", "redirect_uri", "response_type", "code_challenge",
                                                "code_challenge_method", "state", "scope", "resource", "code",
                                                "grant_type", "code_verifier", "refresh_token", "client_secret",
                                                "redirect_uris", "token_endpoint_auth_method"]) | st.text(max_size=8),
                              TEXT, max_size=8))
def test_fuzzed_facade_requests_never_fail_the_server(plugin, endpoint, fields):
    if endpoint in ("authorize", "callback"):
        status, _, _ = call(plugin, "GET", f"/oauth/{endpoint}", query=fields)
    elif endpoint == "token":
        status, _, _ = call(plugin, "POST", "/oauth/token", body=urlencode(fields),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    else:
        status, _, _ = call(plugin, "POST", "/oauth/register", body=json.dumps(fields))
    assert status < 500 or status == 503, status


def test_refusal_count(plugin):
    """Keeps the number of refused attack cases visible (pytest -s)."""
    print(f"\noauth facade: {STATS['refused']} hostile or malformed requests refused")


# -- CIMD: the client id is the URL of its metadata document -------------------------------------------
@pytest.fixture
def documents(monkeypatch):
    """A loopback server of client metadata documents (allowed only with PLUGIN_OAUTH_LOOPBACK_CLIENTS=1,
    as on a developer's machine; deployed, a document must be https on a public address)."""
    import http.server
    import threading

    monkeypatch.setenv("PLUGIN_OAUTH_LOOPBACK_CLIENTS", "1")

    class Docs(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("location", base + "/client.json")
                self.end_headers()
                return
            doc = {"client_id": base + self.path, "client_name": "CIMD app", "redirect_uris": [REDIRECT]}
            if self.path == "/wrong-id":
                doc["client_id"] = "https://other.example/client.json"
            data = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Docs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_metadata_document_client_signs_in_after_consent(plugin, documents):
    client = documents + "/client.json"
    status, headers, _ = consented(plugin, authorize_query(client))
    assert status == 302 and headers["location"].startswith(UPSTREAM + "/authorize?")


@pytest.mark.parametrize("path", ["/redirect", "/wrong-id"])
def test_bad_metadata_documents_are_refused(plugin, documents, path):
    status, headers, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(documents + path))
    refused(status, body, "invalid_client")
    assert "location" not in headers


def test_metadata_documents_must_be_https_on_a_public_address(plugin):
    for client in ("http://example.com/c.json", "https://127.0.0.1/c.json", "https://[::ffff:a9fe:a9fe]/c.json",
                   "https://localhost/c.json", "https://10.0.0.1/c.json"):
        status, _, body = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
        refused(status, body, "invalid_client")
