"""OAuth end to end, with real parts: an auth=oauth bake served by its local server, oidc-provider
(a certified OIDC server) standing in for Cognito, and the official MCP SDK's OAuth client.

The SDK discovers everything from the first 401 (protected-resource metadata, then the facade's
authorization-server metadata), registers by DCR, signs in with PKCE through the provider's real
login and consent pages (driven headlessly), exchanges the code, calls `sumar`, and refreshes.
GPT Actions' flow (a predefined confidential client, client id and secret at the token URL) is
run the way ChatGPT runs it. A replayed code is refused by the provider itself.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import pytest
from bake_support import bake
from oidc_support import OidcProvider, complete_login, oidc_or_skip
from server_support import LocalServer

mcp = pytest.importorskip("mcp", reason="the official MCP SDK (pip install mcp) is needed for these tests")
from mcp.client.auth import OAuthClientProvider  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata  # noqa: E402

SECRET = "facade-secret-for-tests-0123456789"
CLIENT_REDIRECT = "http://127.0.0.1:9/sdk-callback"  # never requested: the login stops at it
GPT_REDIRECT = "https://chatgpt.com/aip/g-test123/oauth/callback"
TIMINGS: dict[str, float] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(local server, provider): the bake's local server with auth = oauth against oidc-provider."""
    oidc_or_skip()
    tmp = tmp_path_factory.mktemp("oauth-flow")
    project = bake(tmp / "bake", auth="oauth")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    config = {
        "clients": [{"client_id": "facade", "client_secret": SECRET,
                     "redirect_uris": [f"{origin}/oauth/callback"],
                     "token_endpoint_auth_method": "client_secret_basic",
                     "grant_types": ["authorization_code", "refresh_token"],
                     "scope": "openid offline_access sumar-plugin/invoke"}],
        "scopes": ["openid", "offline_access", "sumar-plugin/invoke"],
        "resource": {"indicator": f"{origin}/mcp", "scope": "sumar-plugin/invoke", "accessTokenTTL": 300},
    }
    started = time.perf_counter()
    with OidcProvider(config, tmp) as provider:
        env = {"PLUGIN_OAUTH_ISSUER": provider.issuer, "PLUGIN_OAUTH_CLIENT_ID": "facade",
               "PLUGIN_OAUTH_CLIENT_SECRET": SECRET, "PLUGIN_OAUTH_AUDIENCE": f"{origin}/mcp",
               "PLUGIN_OAUTH_CALLBACK_URL": f"{origin}/oauth/callback"}
        with LocalServer(project, "--port", str(port), env=env) as server:
            TIMINGS["start"] = time.perf_counter() - started
            yield server, provider


class Memory:
    """The SDK's token storage, in memory."""

    def __init__(self) -> None:
        self.tokens = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info) -> None:
        self.client = client_info


def sdk_provider(url: str, storage: Memory, logins: list[str]) -> OAuthClientProvider:
    landed: list[str] = []

    async def redirect_handler(authorization_url: str) -> None:
        assert authorization_url.startswith(url.rsplit("/mcp", 1)[0] + "/oauth/authorize?")
        logins.append(authorization_url)
        landed.append(await anyio.to_thread.run_sync(
            lambda: complete_login(authorization_url, stop_at=lambda u: u.startswith(CLIENT_REDIRECT))))

    async def callback_handler() -> AuthorizationCodeResult:
        q = {k: v[0] for k, v in parse_qs(urlsplit(landed.pop()).query).items()}
        return AuthorizationCodeResult(code=q["code"], state=q.get("state"), iss=q.get("iss"))

    metadata = OAuthClientMetadata(redirect_uris=[CLIENT_REDIRECT], client_name="pytest MCP client",
                                   grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                                   token_endpoint_auth_method="none")
    return OAuthClientProvider(server_url=url, client_metadata=metadata, storage=storage,
                               redirect_handler=redirect_handler, callback_handler=callback_handler)


def test_the_mcp_sdk_signs_in_calls_sumar_and_refreshes(stack):
    server, _ = stack
    url = server.url
    storage, logins = Memory(), []
    auth = sdk_provider(url, storage, logins)

    async def go():
        started = time.perf_counter()
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with mcp.Client(streamable_http_client(url, http_client=http)) as client:
                result = await client.call_tool("sumar", {"numero1": 2, "numero2": 3})
                assert result.structured_content == {"resultado": 5}
                TIMINGS["first call with sign-in"] = time.perf_counter() - started
                first = storage.tokens.access_token
                # The stored expiry passes: the next call refreshes through the facade.
                auth.context.token_expiry_time = time.time() - 1
                started = time.perf_counter()
                result = await client.call_tool("sumar", {"numero1": 40, "numero2": 2})
                assert result.structured_content == {"resultado": 42}
                TIMINGS["call with refresh"] = time.perf_counter() - started
                assert storage.tokens.access_token != first
        assert len(logins) == 1  # one sign-in; the refresh needed no browser
        assert storage.client.client_id.startswith("dyn.")  # registered by DCR at the facade

    anyio.run(go)
    print(f"\noauth flow timings (s): {json.dumps({k: round(v, 3) for k, v in TIMINGS.items()})}")


def test_the_handshake_era_client_signs_in_too(stack):
    server, _ = stack
    storage = Memory()
    auth = sdk_provider(server.url, storage, [])

    async def go():
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with streamable_http_client(server.url, http_client=http) as streams:
                async with mcp.ClientSession(streams[0], streams[1]) as session:
                    assert (await session.initialize()).protocol_version == "2025-11-25"
                    result = await session.call_tool("sumar", {"numero1": 1, "numero2": 1})
                    assert result.structured_content == {"resultado": 2}

    anyio.run(go)


def test_gpt_actions_flow_and_a_replayed_code(stack):
    """As ChatGPT runs a GPT Action's OAuth: authorize with the predefined client, the user signs
    in, ChatGPT posts the code with the client id and secret to the token URL, then calls."""
    server, _ = stack
    base = server.url.rsplit("/mcp", 1)[0]
    query = {"response_type": "code", "client_id": "facade", "redirect_uri": GPT_REDIRECT, "state": "gpt-state-1",
             "scope": "sumar-plugin/invoke"}
    started = time.perf_counter()
    landed = complete_login(f"{base}/oauth/authorize?{urlencode(query)}",
                            stop_at=lambda u: u.startswith(GPT_REDIRECT))
    q = {k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()}
    assert q["state"] == "gpt-state-1" and q["iss"] == base
    form = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": GPT_REDIRECT,
            "client_id": "facade", "client_secret": SECRET}
    answer = httpx2.post(f"{base}/oauth/token", data=form, timeout=30)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    TIMINGS["gpt actions sign-in"] = time.perf_counter() - started
    called = httpx2.post(f"{base}/sumar", json={"numero1": 2, "numero2": 3}, timeout=30,
                         headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert called.status_code == 200 and called.json() == {"resultado": 5}
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "facade",
               "client_secret": SECRET}
    refreshed = httpx2.post(f"{base}/oauth/token", timeout=30, data=refresh)
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != tokens["access_token"]
    stolen = httpx2.post(f"{base}/oauth/token", timeout=30, data={**refresh, "client_secret": "wrong"})
    assert stolen.status_code == 401
    replay = httpx2.post(f"{base}/oauth/token", data=form, timeout=30)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"  # codes are single-use
    # ... and the provider revokes what that code gave (RFC 6749 4.1.2): the refresh token is dead.
    after = httpx2.post(f"{base}/oauth/token", timeout=30, data=refresh)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_tokens_the_api_did_not_ask_for_are_refused(stack):
    server, _ = stack
    base = server.url.rsplit("/mcp", 1)[0]
    for token in ("not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        r = httpx2.post(f"{base}/sumar", json={"numero1": 1, "numero2": 1}, timeout=30,
                        headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
