"""Every auth mode runs locally with no provider, network or AWS (issue 16, section 1).

An auth = oauth bake's `plugin_tools.serve` runs the development identity provider
(plugin_tools.dev_oidc) and points the runtime's unchanged OAuth facade at it: the official MCP
SDK's OAuth client discovers, registers (DCR), passes the facade's consent page and the local
sign-in form (driven headlessly with httpx, as a browser submits them), exchanges the code with
PKCE, lists and calls a tool, and refreshes. `invoke --as NAME` runs an event as a signed-in
caller (oauth) or a key's holder (api_key). The development provider is local only.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import pytest
from bake_support import bake
from oidc_support import complete_login
from server_support import LocalServer

mcp = pytest.importorskip("mcp", reason="the official MCP SDK (pip install mcp) is needed for these tests")
from mcp.client.auth import OAuthClientProvider  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata  # noqa: E402

CLIENT_REDIRECT = "http://127.0.0.1:9/sdk-callback"  # never requested: the sign-in stops at it


@pytest.fixture(scope="module")
def oauth_project(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("local-oauth"), auth="oauth")


@pytest.fixture(scope="module")
def api_key_project(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("local-api-key"), auth="api_key")


@pytest.fixture(scope="module")
def oauth_server(oauth_project):
    with LocalServer(oauth_project) as server:
        yield server


def claims_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


class Memory:
    def __init__(self) -> None:
        self.tokens = self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info) -> None:
        self.client = client_info


def sdk_auth(url: str, storage: Memory, login: str, pages: list[str]) -> OAuthClientProvider:
    landed: list[str] = []

    async def redirect_handler(authorization_url: str) -> None:
        def sign_in() -> str:
            with httpx2.Client(timeout=15, event_hooks={"response": [lambda r: pages.append(
                    f"{r.request.method} {r.request.url.path} {r.status_code}")]}) as http:
                return complete_login(authorization_url, login=login, client=http,
                                      stop_at=lambda u: u.startswith(CLIENT_REDIRECT))

        landed.append(await anyio.to_thread.run_sync(sign_in))

    async def callback_handler() -> AuthorizationCodeResult:
        q = {k: v[0] for k, v in parse_qs(urlsplit(landed.pop()).query).items()}
        return AuthorizationCodeResult(code=q["code"], state=q.get("state"), iss=q.get("iss"))

    metadata = OAuthClientMetadata(redirect_uris=[CLIENT_REDIRECT], client_name="pytest MCP client",
                                   grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                                   token_endpoint_auth_method="none")
    return OAuthClientProvider(server_url=url, client_metadata=metadata, storage=storage,
                               redirect_handler=redirect_handler, callback_handler=callback_handler)


def test_serve_prints_one_line_on_how_to_sign_in(oauth_server):
    line = oauth_server.proc.stdout.readline()
    assert line.startswith("Sign in: ") and f"{oauth_server.base}/mcp" in line and "/_oidc" in line, line
    assert "secret" not in line.lower() and "local-dev-" not in line


def test_the_discovery_documents_say_oauth_and_point_at_the_facade(oauth_server):
    base = oauth_server.base
    status, doc = oauth_server.json("GET", "/.well-known/oauth-authorization-server")
    assert status == 200 and doc["issuer"] == base and doc["authorization_endpoint"] == base + "/oauth/authorize"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    status, doc = oauth_server.json("GET", "/.well-known/oauth-protected-resource/mcp")
    assert status == 200 and doc["authorization_servers"] == [base]
    status, head, _ = oauth_server.request("POST", "/sumar", {"numero1": 1, "numero2": 2})
    assert status == 401 and "resource_metadata=" in head["www-authenticate"]


def test_the_mcp_sdk_signs_in_locally_lists_and_calls_a_tool_and_refreshes(oauth_server):
    url = oauth_server.url
    storage, pages = Memory(), []
    auth = sdk_auth(url, storage, "alice", pages)

    async def go():
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with mcp.Client(streamable_http_client(url, http_client=http)) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                assert "sumar" in names
                result = await client.call_tool("sumar", {"numero1": 2, "numero2": 3})
                assert result.structured_content == {"resultado": 5}
                first = storage.tokens.access_token
                auth.context.token_expiry_time = time.time() - 1  # the next call refreshes through the facade
                result = await client.call_tool("sumar", {"numero1": 40, "numero2": 2})
                assert result.structured_content == {"resultado": 42}
                assert storage.tokens.access_token != first

    anyio.run(go)
    # The facade's consent page, then the development provider's sign-in form, then the callback.
    paths = [p.split()[1] for p in pages]
    assert paths[:4] == ["/oauth/authorize", "/oauth/authorize", "/_oidc/authorize", "/_oidc/authorize"], pages
    assert "/oauth/callback" in paths
    claims = claims_of(storage.tokens.access_token)
    assert claims["sub"] == "alice" and claims["iss"] == oauth_server.base + "/_oidc"
    assert claims["scope"] == "sumar-plugin/invoke" and claims["token_use"] == "access"
    assert storage.client.client_id.startswith("dyn.")  # registered by DCR at the facade
    # Saving a file restarts the server process: the provider's key and the facade's secret stay.
    token = storage.tokens.access_token
    seen = len(oauth_server.stderr_lines)
    handler = oauth_server.project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert oauth_server.wait_until(lambda: any("reloading" in line for line in oauth_server.stderr_lines[seen:]))
    time.sleep(1)  # the old process is stopped right after that line
    assert oauth_server.wait_until(lambda: oauth_server.request(
        "POST", "/sumar", {"numero1": 1, "numero2": 1}, {"authorization": f"Bearer {token}"})[0] == 200)


def test_the_sign_in_form_names_the_user_and_refuses_an_empty_name(oauth_server):
    base = oauth_server.base
    query = {"response_type": "code", "client_id": "local-dev-facade", "redirect_uri": base + "/oauth/callback",
             "state": "s", "scope": "openid sumar-plugin/invoke"}
    page = httpx2.get(f"{base}/_oidc/authorize?{urlencode(query)}", timeout=15)
    assert page.status_code == 200 and 'name="username"' in page.text and 'name="scope"' in page.text
    empty = httpx2.post(f"{base}/_oidc/authorize", data={**query, "username": "  "}, timeout=15)
    assert empty.status_code == 400 and "user name" in empty.text
    elsewhere = httpx2.get(f"{base}/_oidc/authorize", params={**query, "redirect_uri": "https://evil.example/cb"},
                           timeout=15)
    assert elsewhere.status_code == 400 and elsewhere.json()["error"] == "invalid_request"
    token = httpx2.post(f"{base}/_oidc/token", data={"grant_type": "authorization_code", "code": "x.y"},
                        timeout=15)
    assert token.status_code == 401  # only the facade, with its secret, redeems codes


def test_the_dev_provider_answers_local_hosts_only(oauth_server, oauth_project):
    status, _, _ = oauth_server.request("GET", "/_oidc/jwks.json", headers={"host": "tunnel.example"})
    assert status == 421  # serve names no other host while it runs the development sign-in
    status, _, body = oauth_server.request("GET", "/_oidc/jwks.json")
    assert status == 200 and json.loads(body)["keys"][0]["alg"] == "RS256"
    sys.path.insert(0, str(oauth_project))  # and the provider itself refuses another Host (defence in depth)
    try:
        from plugin_tools import dev_oidc
    finally:
        sys.path.remove(str(oauth_project))
    provider = dev_oidc.DevProvider.from_environment(dev_oidc.environment("http://127.0.0.1:1"))
    status, _, body = provider.handle("GET", "/_oidc/jwks.json", {"host": "tunnel.example"}, b"")
    assert status == 403 and json.loads(body)["error"] == "local_only"


def test_serve_refuses_the_dev_provider_behind_another_host_name(oauth_project):
    """It signs anyone in as anyone: never for a tunnel's name. A real provider works there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGIN_")}
    done = subprocess.run([sys.executable, "-m", "plugin_tools.serve", "--port", "0", "--allow-host",
                           "tunnel.example"], cwd=oauth_project, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 1 and "--allow-host" in done.stderr and "PLUGIN_OAUTH_ISSUER" in done.stderr
    assert "Serving" not in done.stdout


def raw_status(server, request: bytes) -> int:
    import socket

    with socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(request)
        return int(sock.recv(4096).split(b" ", 2)[1])


@pytest.mark.parametrize("hosts", [("tunnel.example", "localhost"), ("localhost", "tunnel.example"),
                                   ("localhost", "127.0.0.1")])
@pytest.mark.parametrize("path", ["/_oidc/jwks.json", "/_oidc/authorize?client_id=x", "/openapi.json"])
def test_a_request_with_two_host_headers_is_refused(oauth_server, hosts, path):
    """Every check must read the one Host there is: two (the first local, the last not, or the
    reverse) would let a request pass one check while another reads the other."""
    request = f"GET {path} HTTP/1.1\r\nHost: {hosts[0]}\r\nHost: {hosts[1]}\r\nConnection: close\r\n\r\n"
    assert raw_status(oauth_server, request.encode()) == 400


def test_serve_refuses_the_dev_provider_on_a_non_loopback_address(oauth_project):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGIN_")}
    done = subprocess.run([sys.executable, "-m", "plugin_tools.serve", "--host", "0.0.0.0", "--port", "0"],
                          cwd=oauth_project, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 1 and "127.0.0.1" in done.stderr and "PLUGIN_OAUTH_ISSUER" in done.stderr
    assert "Serving" not in done.stdout


def test_a_misconfigured_oauth_says_so_instead_of_no_oauth(oauth_project):
    with LocalServer(oauth_project, env={"PLUGIN_OAUTH_ISSUER": "ftp://not-a-provider"}) as server:
        status, doc = server.json("GET", "/.well-known/oauth-authorization-server")
        assert status == 500 and doc["error"] == "auth_misconfigured", doc
        status, doc = server.json("POST", "/sumar", {"numero1": 1, "numero2": 2})
        assert status == 500 and doc["error"] == "auth_misconfigured"


def invoke(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGIN_")}
    return subprocess.run([sys.executable, "-m", "plugin_tools.invoke", *args], cwd=project, capture_output=True,
                          text=True, timeout=60, env={**env, "PYTHONDONTWRITEBYTECODE": "1"})


def log_line(stderr: str) -> dict:
    return next(json.loads(line) for line in stderr.splitlines() if '"type":"request"' in line)


def test_invoke_as_a_signed_in_user(oauth_project):
    done = invoke(oauth_project, "--as", "alice", "--scopes", "extra", "events/post_sumar.json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statusCode"] == 200
    line = log_line(done.stderr)
    assert line["caller"] == "alice" and line["callerKind"] == "oauth"
    anonymous = invoke(oauth_project, "events/post_sumar.json")
    assert json.loads(anonymous.stdout)["statusCode"] == 401  # honest: a sign-in is needed, not a 500
    assert "Bearer" not in done.stderr and "eyJ" not in done.stderr  # no token in the logs


def test_invoke_as_a_key_holder(api_key_project):
    missing = invoke(api_key_project, "--as", "bob", "events/post_sumar.json")
    assert missing.returncode == 1 and "make api-key NAME=bob" in missing.stderr
    made = subprocess.run([sys.executable, "-m", "plugin_tools.keys", "new", "bob"], cwd=api_key_project,
                          capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    done = invoke(api_key_project, "--as", "bob", "events/post_sumar.json")
    assert done.returncode == 0 and json.loads(done.stdout)["statusCode"] == 200, done.stderr
    assert log_line(done.stderr)["caller"] == "bob"
    scoped = invoke(api_key_project, "--as", "bob", "--scopes", "x", "events/post_sumar.json")
    assert scoped.returncode == 1 and "oauth only" in scoped.stderr
