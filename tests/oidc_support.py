"""A real OAuth 2.0 / OpenID Connect server for the tests: npm ``oidc-provider`` (tests/oidc/).

Amazon Cognito cannot be reached from the tests, so ``tests/oidc/provider.mjs`` runs a certified
authorization server on 127.0.0.1 in its place: confidential clients from a configuration dict,
RS256 JWT access tokens for one (or more) resource indicators, refresh tokens, PKCE (S256), and
oidc-provider's development login and consent pages, which accept any login name as the subject.

- ``OidcProvider(config, tmp_path)``: a context manager running it as a subprocess;
- ``oidc_or_skip()``: skip, saying why, without node or ``tests/oidc/node_modules``
  (install with ``npm ci --prefix tests/oidc``; ``.ci/run`` does);
- ``complete_login(url, stop_at=...)``: the browser part of an authorization-code flow, headless.

The configuration dict (written as JSON for provider.mjs; every key but ``clients`` optional)::

    {
        "clients": [{"client_id": "facade", "client_secret": "s3cret",
                     "redirect_uris": ["http://127.0.0.1:8123/oauth/callback"],
                     "token_endpoint_auth_method": "client_secret_basic",   # or client_secret_post
                     "grant_types": ["authorization_code", "refresh_token"],  # the default
                     "scope": "openid offline_access sumar-plugin/invoke"}],
        "scopes": ["openid", "offline_access", "sumar-plugin/invoke", "sumar-plugin/write"],
        "resource": {"indicator": "http://127.0.0.1:8123/mcp",   # default resource, token audience
                     "scope": "sumar-plugin/invoke sumar-plugin/write",  # default: scopes minus OIDC ones
                     "accessTokenTTL": 60},                        # seconds, default 3600
        "resources": [{"indicator": "https://other.example/api"}],  # more audiences, never the default
        "extraTokenClaims": {"token_use": "access"},   # added to every access token
        "claims": {"openid": ["sub"]},                 # the default
        "ttl": {"AuthorizationCode": 60},              # oidc-provider ttl values, seconds
    }
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import httpx2
import pytest

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
NODE_MODULES = OIDC_DIR / "node_modules"
REDIRECTS = {301, 302, 303, 307, 308}


def oidc_or_skip() -> str:
    """The node binary; skips the test, saying why, when node or oidc-provider is not installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH (install Node.js >= 20 to run the OAuth tests against oidc-provider)")
    if not (NODE_MODULES / "oidc-provider" / "package.json").is_file():
        pytest.skip(f"oidc-provider is not installed in {NODE_MODULES} "
                    "(run `npm ci --prefix tests/oidc`; .ci/run does)")
    return node


class OidcProvider:
    """``tests/oidc/provider.mjs`` as a subprocess, for one ``with`` block.

    ``issuer`` (``http://127.0.0.1:PORT``), ``port``, ``discovery`` (the OpenID discovery document),
    ``authorization_endpoint``, ``token_endpoint``, ``jwks_uri``; ``startup_seconds`` (from spawn to
    the discovery document fetched); ``stderr`` (what it logged so far); ``returncode`` after exit.
    """

    def __init__(self, config: dict, tmp_path: Path, *, port: int = 0, timeout: float = 20) -> None:
        self.config = config
        self.config_path = Path(tmp_path) / "oidc-provider.json"
        self.port_requested = port
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None
        self.returncode: int | None = None
        self._stderr: list[str] = []

    # --- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> OidcProvider:
        node = oidc_or_skip()
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self.config, indent=2), encoding="utf-8")
        started = time.monotonic()
        env = {**os.environ, "NODE_NO_WARNINGS": "1"}
        self.proc = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), str(self.config_path), str(self.port_requested)],
            cwd=OIDC_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            started_line = self._wait_for_start_line()
            self.issuer: str = started_line["issuer"]
            self.port: int = int(started_line["port"])
            response = httpx2.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
            assert response.status_code == 200, f"discovery answered {response.status_code}: {response.text[:300]}"
            self.discovery: dict = response.json()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        assert self.discovery["issuer"] == self.issuer, self.discovery
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` s; returns the exit code."""
        proc = self.proc
        if proc is None:
            return self.returncode
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self.returncode = proc.returncode
        return self.returncode

    def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def _wait_for_start_line(self) -> dict:
        """The one JSON line provider.mjs prints once it listens (other lines are skipped)."""
        assert self.proc is not None and self.proc.stdout is not None
        box: list[dict] = []
        skipped: list[str] = []

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                try:
                    data = json.loads(line)
                except ValueError:
                    skipped.append(line)
                    continue
                if isinstance(data, dict) and "issuer" in data:
                    box.append(data)
                    return
                skipped.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.timeout)
        if not box:
            time.sleep(0.2)  # let stderr arrive
            if self.proc.poll() is None:
                state = f"printed no start line within {self.timeout} s"
            else:
                state = f"exited with {self.proc.returncode} before its start line"
            raise AssertionError(
                f"oidc-provider {state}; "
                f"stdout: {''.join(skipped)[-500:]!r}; stderr: {self.stderr[-2000:]}")
        return box[0]

    # --- what the tests read -----------------------------------------------------------------
    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    @property
    def authorization_endpoint(self) -> str:
        return self.discovery["authorization_endpoint"]

    @property
    def token_endpoint(self) -> str:
        return self.discovery["token_endpoint"]

    @property
    def jwks_uri(self) -> str:
        return self.discovery["jwks_uri"]

    def jwks(self) -> dict:
        response = httpx2.get(self.jwks_uri, timeout=10)
        response.raise_for_status()
        return response.json()


# --- the browser part ----------------------------------------------------------------------------
class _Forms(HTMLParser):
    """Every <form> of a page: its action, method and inputs (name, type, value)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""),
                               "method": attributes.get("method", "get").lower(), "inputs": []})
        elif tag in ("input", "button") and self.forms and attributes.get("name"):
            kind = attributes.get("type", "text" if tag == "input" else "submit").lower()
            self.forms[-1]["inputs"].append((attributes["name"], kind, attributes.get("value", "")))


def _fill(form: dict, login: str) -> dict[str, str]:
    """The form's fields as a browser submits them: hidden values kept, the login name typed into
    the text field named like a user name, any password into password fields."""
    data: dict[str, str] = {}
    for name, kind, value in form["inputs"]:
        if kind in ("submit", "button", "image", "reset"):
            continue
        if kind == "password":
            data[name] = value or "any-password"
        elif kind in ("text", "email") and name.lower() in ("login", "username", "user", "email", "name"):
            data[name] = login
        else:
            data[name] = value
    return data


def _snippet(response: httpx2.Response) -> str:
    text = " ".join(response.text.split())
    return text[:600]


def complete_login(authorize_url: str, *, login: str = "alice", client: httpx2.Client | None = None,
                   stop_at: Callable[[str], bool], max_steps: int = 30) -> str:
    """Drive the browser part of an authorization-code flow without a browser.

    Starts at ``authorize_url`` (the provider's authorization endpoint, or anything that redirects
    there, such as a facade's ``/oauth/authorize``), follows redirects one by one with the cookies
    kept, submits every HTML form it lands on (oidc-provider's login page with ``login`` as the
    name, then its consent page; action and hidden fields read from the page), and returns the
    first redirect target for which ``stop_at(url)`` is true, without requesting it. Raises
    AssertionError, with the last status and a snippet of the body, when the chain breaks.
    """
    own = client is None
    http = client if client is not None else httpx2.Client(timeout=15)
    try:
        method, url, data = "GET", authorize_url, None
        trail: list[str] = []
        for _ in range(max_steps):
            trail.append(f"{method} {url}")
            response = http.request(method, url, data=data, follow_redirects=False)
            if response.status_code in REDIRECTS:
                location = response.headers.get("location")
                assert location, f"{response.status_code} without Location from {url}"
                target = urljoin(str(response.url), location)
                if stop_at(target):
                    return target
                if response.status_code in (307, 308):
                    url = target  # same method and body
                else:
                    method, url, data = "GET", target, None
                continue
            forms = _Forms()
            forms.feed(response.text if "html" in response.headers.get("content-type", "") else "")
            if response.status_code != 200 or not forms.forms:
                raise AssertionError(
                    f"the login chain broke at {method} {url}: {response.status_code}, "
                    f"{response.headers.get('content-type', 'no content-type')}: {_snippet(response)}\n"
                    f"steps: {' -> '.join(trail)}")
            form = forms.forms[0]
            action = urljoin(str(response.url), form["action"] or str(response.url))
            fields = _fill(form, login)
            if form["method"] == "post":
                method, url, data = "POST", action, fields
            else:
                method, url, data = "GET", str(httpx2.URL(action, params=fields)), None
        raise AssertionError(f"no redirect satisfied stop_at within {max_steps} steps: {' -> '.join(trail)}")
    finally:
        if own:
            http.close()
