"""The OAuth stand-in alone (tests/oidc_support.py + tests/oidc/provider.mjs), before any facade:
oidc-provider as Cognito's stand-in must hand a confidential client RS256 JWT access tokens for
our resource, with or without `resource` on either request, refresh tokens, single-use codes and
PKCE, through a headless login. Skips, saying why, without node or tests/oidc/node_modules."""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import oidc_support
import pytest
from oidc_support import OidcProvider, complete_login, oidc_or_skip

RESOURCE = "http://127.0.0.1:9/mcp"  # port 9 (discard): never requested
OTHER_RESOURCE = "https://other-api.example/"
REDIRECT_URI = "http://127.0.0.1:9/callback"
SCOPE = "openid sumar-plugin/invoke offline_access"
BASIC = {"client_id": "upstream-basic", "client_secret": "basic-secret-0123456789"}
POST = {"client_id": "upstream-post", "client_secret": "post-secret-0123456789"}
CONFIG = {
    "clients": [
        {**BASIC, "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "client_secret_basic",
         "grant_types": ["authorization_code", "refresh_token"],
         "scope": "openid offline_access sumar-plugin/invoke sumar-plugin/write"},
        {**POST, "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "client_secret_post"},
    ],
    "scopes": ["openid", "offline_access", "sumar-plugin/invoke", "sumar-plugin/write"],
    "resource": {"indicator": RESOURCE, "scope": "sumar-plugin/invoke sumar-plugin/write", "accessTokenTTL": 60},
    "resources": [{"indicator": OTHER_RESOURCE, "scope": "sumar-plugin/invoke"}],
    "extraTokenClaims": {"token_use": "access"},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    oidc_or_skip()
    with OidcProvider(CONFIG, tmp_path_factory.mktemp("oidc")) as running:
        yield running


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(provider: OidcProvider, client: dict, *, state: str, challenge: str | None = None,
                  scope: str = SCOPE, resource: str | None = None) -> str:
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT_URI,
              "scope": scope, "state": state}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if resource:
        params["resource"] = resource
    return str(httpx2.URL(provider.authorization_endpoint, params=params))


def login_for_code(provider: OidcProvider, client: dict = BASIC, *, login: str = "alice",
                   resource: str | None = None, scope: str = SCOPE, pkce: bool = True) -> tuple[str, str | None]:
    """One headless login; (code, code_verifier). Checks state and iss on the way back."""
    state = secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair() if pkce else (None, None)
    final = complete_login(authorize_url(provider, client, state=state, challenge=challenge, scope=scope,
                                         resource=resource),
                           login=login, stop_at=lambda url: url.startswith(REDIRECT_URI))
    query = parse_qs(urlsplit(final).query)
    assert "error" not in query, query
    assert query["state"] == [state]
    assert query["iss"] == [provider.issuer]  # RFC 9207
    return query["code"][0], verifier


def token_request(provider: OidcProvider, client: dict, form: dict) -> httpx2.Response:
    if client is POST:
        return httpx2.post(provider.token_endpoint, data={**form, **client}, timeout=10)
    return httpx2.post(provider.token_endpoint, data=form, auth=(client["client_id"], client["client_secret"]),
                       timeout=10)


def exchange(provider: OidcProvider, code: str, verifier: str | None, *, client: dict = BASIC,
             resource: str | None = None) -> httpx2.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier:
        form["code_verifier"] = verifier
    if resource:
        form["resource"] = resource
    return token_request(provider, client, form)


def verify_access_token(provider: OidcProvider, token: str, *, audience: str = RESOURCE,
                        client: dict = BASIC) -> dict:
    """The access token is an RS256 JWT (typ at+jwt, a kid from the JWKS) with our claims."""
    assert token.count(".") == 2, f"not a JWT: {token[:40]}..."
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "at+jwt" and header.get("kid"), header
    key = jwt.PyJWKSet.from_dict(provider.jwks())[header["kid"]].key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=provider.issuer,
                        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"]})
    assert claims["client_id"] == client["client_id"], claims
    assert "sumar-plugin/invoke" in claims["scope"].split(), claims
    return claims


def test_discovery_names_the_endpoints_and_s256(provider: OidcProvider):
    d = provider.discovery
    assert provider.issuer == f"http://127.0.0.1:{provider.port}"
    assert provider.authorization_endpoint == f"{provider.issuer}/auth"
    assert provider.token_endpoint == f"{provider.issuer}/token"
    assert provider.jwks_uri == f"{provider.issuer}/jwks"
    assert d["userinfo_endpoint"] == f"{provider.issuer}/me"
    assert d["revocation_endpoint"] == f"{provider.issuer}/token/revocation"
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert d["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "offline_access", "sumar-plugin/invoke"} <= set(d["scopes_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(d["token_endpoint_auth_methods_supported"])
    (key,) = provider.jwks()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"] and "d" not in key


@pytest.mark.parametrize(("on_authorize", "on_token"), [(True, True), (False, False), (True, False), (False, True)],
                         ids=["resource-both", "resource-neither", "resource-authorize-only", "resource-token-only"])
def test_code_flow_gives_a_jwt_for_the_resource(provider: OidcProvider, on_authorize: bool, on_token: bool):
    code, verifier = login_for_code(provider, login="bob", resource=RESOURCE if on_authorize else None)
    response = exchange(provider, code, verifier, resource=RESOURCE if on_token else None)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"].lower() == "bearer" and body["expires_in"] == 60, body
    assert body["refresh_token"] and body["id_token"], body
    claims = verify_access_token(provider, body["access_token"])
    assert claims["sub"] == "bob" and claims["aud"] == RESOURCE
    assert claims["token_use"] == "access"  # extraTokenClaims, Cognito's marker
    assert claims["exp"] - claims["iat"] == 60
    assert set(claims["scope"].split()) <= {"sumar-plugin/invoke", "sumar-plugin/write"}
    assert body["scope"] == claims["scope"]  # the resource's scopes only: no openid, no offline_access


def test_refresh_token_without_offline_access(provider: OidcProvider):
    code, verifier = login_for_code(provider, scope="openid sumar-plugin/invoke")
    first = exchange(provider, code, verifier).json()
    assert first.get("refresh_token"), first
    for resource in (RESOURCE, None):
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        if resource:
            form["resource"] = resource
        refreshed = token_request(provider, BASIC, form)
        assert refreshed.status_code == 200, refreshed.text
        body = refreshed.json()
        assert body["access_token"] != first["access_token"]
        claims = verify_access_token(provider, body["access_token"])
        assert claims["sub"] == "alice"
        first = {**first, "refresh_token": body.get("refresh_token", first["refresh_token"])}


def test_a_code_is_single_use(provider: OidcProvider):
    code, verifier = login_for_code(provider)
    assert exchange(provider, code, verifier).status_code == 200
    again = exchange(provider, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text


def test_pkce_is_optional_but_checked(provider: OidcProvider):
    code, _ = login_for_code(provider, pkce=False)
    assert exchange(provider, code, None).status_code == 200  # confidential client, no PKCE: fine
    code, _ = login_for_code(provider)
    wrong = exchange(provider, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text


def test_secret_clients_take_basic_or_post_but_never_no_secret(provider: OidcProvider):
    """oidc-provider treats client_secret_basic and client_secret_post as one family: a client
    registered with either authenticates with both. A request without the secret is refused."""
    code, verifier = login_for_code(provider, POST)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    no_secret = httpx2.post(provider.token_endpoint, data={**form, "client_id": POST["client_id"]}, timeout=10)
    assert no_secret.status_code == 401 and no_secret.json()["error"] == "invalid_client", no_secret.text
    wrong = httpx2.post(provider.token_endpoint, data={**form, "client_id": POST["client_id"],
                                                       "client_secret": "wrong"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client", wrong.text
    body = exchange(provider, code, verifier, client=POST).json()
    verify_access_token(provider, body["access_token"], client=POST)
    code, verifier = login_for_code(provider, POST)
    basic = httpx2.post(provider.token_endpoint, auth=(POST["client_id"], POST["client_secret"]), data=form | {
        "code": code, "code_verifier": verifier}, timeout=10)
    assert basic.status_code == 200, basic.text
    verify_access_token(provider, basic.json()["access_token"], client=POST)


def test_another_resource_gets_its_own_audience(provider: OidcProvider):
    code, verifier = login_for_code(provider, resource=OTHER_RESOURCE)
    body = exchange(provider, code, verifier, resource=OTHER_RESOURCE).json()
    claims = verify_access_token(provider, body["access_token"], audience=OTHER_RESOURCE)
    assert claims["aud"] == OTHER_RESOURCE and claims["exp"] - claims["iat"] == 3600
    code, verifier = login_for_code(provider)
    unknown = exchange(provider, code, verifier, resource="https://unknown.example/")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_target", unknown.text


class _Front(http.server.BaseHTTPRequestHandler):
    """A stand-in for the facade's /oauth/authorize: 302 to the provider."""

    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_complete_login_starts_anywhere_and_keeps_cookies(provider: OidcProvider):
    state = secrets.token_urlsafe(16)
    handler = type("Front", (_Front,), {"target": authorize_url(provider, BASIC, state=state)})
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    try:
        with httpx2.Client(timeout=10) as client:
            final = complete_login(f"http://127.0.0.1:{front.server_port}/oauth/authorize", client=client,
                                   login="carol", stop_at=lambda url: url.startswith(REDIRECT_URI))
            assert any(cookie.name == "_session" for cookie in client.cookies.jar)
            # Same browser, same session: the second authorization needs no login and no consent.
            again = complete_login(authorize_url(provider, BASIC, state="s2"), client=client, login="ignored",
                                   stop_at=lambda url: url.startswith(REDIRECT_URI))
    finally:
        front.shutdown()
        front.server_close()
    code = parse_qs(urlsplit(final).query)["code"][0]
    body = exchange(provider, code, None).json()
    assert verify_access_token(provider, body["access_token"])["sub"] == "carol"
    code = parse_qs(urlsplit(again).query)["code"][0]
    assert verify_access_token(provider, exchange(provider, code, None).json()["access_token"])["sub"] == "carol"


def test_complete_login_reports_a_broken_chain(provider: OidcProvider):
    url = authorize_url(provider, {"client_id": "no-such-client"}, state="x")
    with pytest.raises(AssertionError, match=r"400.*invalid_client"):
        complete_login(url, stop_at=lambda u: u.startswith(REDIRECT_URI))


def test_start_login_exchange_timings_and_clean_stop(tmp_path, capsys: pytest.CaptureFixture[str]):
    oidc_or_skip()
    with OidcProvider(CONFIG, tmp_path) as fresh:
        started = time.monotonic()
        code, verifier = login_for_code(fresh)
        response = exchange(fresh, code, verifier)
        flow = time.monotonic() - started
        assert response.status_code == 200, response.text
        verify_access_token(fresh, response.json()["access_token"])
    assert fresh.returncode == 0, fresh.stderr
    assert "Error" not in fresh.stderr and "server_error" not in fresh.stderr, fresh.stderr
    with capsys.disabled():
        print(f"\n[oidc-provider] start {fresh.startup_seconds * 1000:.0f} ms; "
              f"login + consent + token exchange {flow * 1000:.0f} ms")


def test_a_bad_client_fails_the_start_with_its_reason(tmp_path):
    oidc_or_skip()
    bad = {**CONFIG, "clients": [{**BASIC, "redirect_uris": [REDIRECT_URI], "scope": "openid admin"}]}
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"(?s)exited with 2 .*client upstream-basic: scope must only contain"):
        with OidcProvider(bad, tmp_path):
            pass
    assert time.monotonic() - started < 10


def test_oidc_or_skip_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setattr(oidc_support.shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="node is not on PATH"):
        oidc_or_skip()
    monkeypatch.undo()
    monkeypatch.setattr(oidc_support, "NODE_MODULES", oidc_support.OIDC_DIR / "no-node-modules-here")
    if oidc_support.shutil.which("node"):
        with pytest.raises(pytest.skip.Exception, match=r"npm ci --prefix tests/oidc"):
            oidc_or_skip()
