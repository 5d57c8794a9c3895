"""A local development identity provider for ``auth = "oauth"`` projects: what Cognito is once
deployed, on this machine only, with no network and no AWS.

``plugin_tools.serve`` runs it under ``/_oidc/`` on its own loopback address and points the
runtime's OAuth facade at it as its upstream OIDC provider (``PLUGIN_OAUTH_*``, see
``environment``): the facade, its discovery documents, DCR/CIMD, consent and PKCE then run
unchanged, exactly as deployed. The sign-in page asks only for a user name (and, optionally, the
scopes to grant): any name signs in as that user, whose subject (``sub``) is that name. Access
tokens are RS256 JWTs under an RSA key generated here at start, which ``model_jwt`` verifies
against ``/_oidc/jwks.json`` as it verifies Cognito's.

Local only, by construction: it lives in plugin_tools (never in lambda.zip), serve starts it
only on a loopback address, and it refuses every request whose Host is not local. Standard
library only (RSA key generation with Miller-Rabin and ``pow``: a development key, not a
production one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit

PREFIX = "/_oidc"
CLIENT_ID = "local-dev-facade"  # the facade's client at this provider
KEY_ENV = "PLUGIN_DEV_OIDC_KEY"  # the provider's RSA key, handed from serve's supervisor to its server process
SECRET_ENV = "PLUGIN_OAUTH_CLIENT_SECRET"  # noqa: S105 (a variable name); the one local secret: the facade's client secret here (and its seal key)
TOKEN_SECONDS = 3600
CODE_SECONDS = 300
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")  # DigestInfo of SHA-256 (RFC 8017)
_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]


# -- RSA ------------------------------------------------------------------------------------------
def _probably_prime(n: int, rounds: int = 24) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, e: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits: p * q has 2 * bits bits
        if _probably_prime(candidate) and (candidate - 1) % e:
            return candidate


def generate_key(bits: int = 2048) -> dict[str, int | str]:
    """A fresh RSA key: {"n", "e", "d", "kid"} (n of exactly ``bits`` bits, e = 65537)."""
    e = 65537
    while True:
        p, q = _prime(bits // 2, e), _prime(bits // 2, e)
        if p != q and (p * q).bit_length() == bits:
            break
    n, phi = p * q, (p - 1) * (q - 1)
    return {"n": n, "e": e, "d": pow(e, -1, phi), "kid": "dev-" + secrets.token_hex(6)}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def sign_rs256(signing_input: bytes, key: dict) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2.1), what RS256 means."""
    n, d = int(key["n"]), int(key["d"])
    k = (n.bit_length() + 7) // 8
    t = _SHA256_PREFIX + hashlib.sha256(signing_input).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")


def encode_key(key: dict) -> str:
    return json.dumps({k: (str(v) if isinstance(v, int) else v) for k, v in key.items()})


def decode_key(text: str) -> dict:
    raw = json.loads(text)
    return {"n": int(raw["n"]), "e": int(raw["e"]), "d": int(raw["d"]), "kid": str(raw["kid"])}


# -- configuration --------------------------------------------------------------------------------
def environment(origin: str, key: dict | None = None, secret: str | None = None) -> dict[str, str]:
    """The runtime's PLUGIN_OAUTH_* settings for a facade whose upstream provider is this one, served
    under ``origin`` (e.g. ``http://127.0.0.1:8080``), and the key it signs with."""
    issuer = origin + PREFIX
    return {"PLUGIN_OAUTH_ISSUER": issuer, "PLUGIN_OAUTH_CLIENT_ID": CLIENT_ID,
            SECRET_ENV: secret or "local-dev-" + secrets.token_urlsafe(32),
            "PLUGIN_OAUTH_AUTHORIZE_URL": issuer + "/authorize", "PLUGIN_OAUTH_TOKEN_URL": issuer + "/token",
            "PLUGIN_OAUTH_JWKS_URL": issuer + "/jwks.json", "PLUGIN_OAUTH_TOKEN_USE": "access",
            KEY_ENV: encode_key(key or generate_key())}


def host_is_local(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip().lower()
    name = host[:host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    return name in LOCAL_HOSTS


def loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1") and not parts.fragment


class DevProvider:
    """The provider's endpoints: discovery, JWKS, the sign-in page and the token endpoint."""

    def __init__(self, issuer: str, key: dict, client_secret: str, client_id: str = CLIENT_ID) -> None:
        self.issuer, self.key, self.client_id, self.client_secret = issuer.rstrip("/"), key, client_id, client_secret
        self._seal_key = hmac.new(client_secret.encode(), b"plugin-dev-oidc/v1", hashlib.sha256).digest()
        self._used: dict[str, float] = {}  # redeemed codes (single use, as a real provider's)
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None) -> DevProvider | None:
        env = os.environ if env is None else env
        if not env.get(KEY_ENV) or not env.get("PLUGIN_OAUTH_ISSUER", "").endswith(PREFIX):
            return None
        return cls(env["PLUGIN_OAUTH_ISSUER"], decode_key(env[KEY_ENV]), env.get(SECRET_ENV, ""),
                   env.get("PLUGIN_OAUTH_CLIENT_ID", CLIENT_ID))

    # -- tokens --
    def jwks(self) -> dict:
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.key["kid"],
                          "n": _int_b64(int(self.key["n"])), "e": _int_b64(int(self.key["e"]))}]}

    def access_token(self, subject: str, scopes: list[str] | tuple[str, ...], client_id: str | None = None,
                     seconds: int = TOKEN_SECONDS) -> str:
        """An RS256 access token for ``subject``, shaped like Cognito's (sub, username, client_id,
        token_use, scope)."""
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": self.key["kid"]}
        claims = {"iss": self.issuer, "sub": subject, "username": subject, "client_id": client_id or self.client_id,
                  "token_use": "access", "scope": " ".join(scopes), "iat": now, "auth_time": now,
                  "exp": now + seconds, "jti": secrets.token_hex(8)}
        signing_input = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
        return signing_input + "." + _b64(sign_rs256(signing_input.encode("ascii"), self.key))

    def _seal(self, kind: str, payload: dict) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return body + "." + _b64(hmac.new(self._seal_key, f"{kind}.{body}".encode(), hashlib.sha256).digest())

    def _open(self, kind: str, sealed: str | None) -> dict | None:
        if not sealed or sealed.count(".") != 1 or len(sealed) > 4096:
            return None
        body, mac = sealed.split(".")
        expected = _b64(hmac.new(self._seal_key, f"{kind}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return payload if payload.get("exp", 0) >= time.time() else None

    # -- HTTP --
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        """(status, headers, body) for one request under /_oidc/."""
        if not host_is_local(headers.get("host")):
            return _error(403, "local_only", "the development sign-in answers on this machine's loopback address only")
        path, _, query = target.partition("?")
        route = path[len(PREFIX):].rstrip("/")
        if route == "/.well-known/openid-configuration" and method == "GET":
            return _json(200, self.discovery())
        if route == "/jwks.json" and method == "GET":
            return _json(200, self.jwks())
        if route == "/authorize" and method in ("GET", "POST"):
            params = dict(parse_qsl(query if method == "GET" else body.decode("utf-8", "replace"), max_num_fields=16))
            return self.authorize(params, submitted=method == "POST")
        if route == "/token" and method == "POST":
            return self.token(headers, body)
        return _error(404, "not_found", f"the development provider has no {method} {path[:80]}")

    def discovery(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks.json",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"]}

    def authorize(self, params: dict[str, str], submitted: bool) -> tuple[int, dict, bytes]:
        if params.get("client_id") != self.client_id:
            return _error(400, "invalid_client", f"the development provider knows only the client {self.client_id}")
        redirect_uri = params.get("redirect_uri", "")
        if not loopback_url(redirect_uri):
            return _error(400, "invalid_request", "redirect_uri must be an http URL on this machine")
        if params.get("response_type", "code") != "code":
            return _error(400, "unsupported_response_type", "response_type must be code")
        username = " ".join(params.get("username", "").split())
        if not submitted or not username or len(username) > 64:
            problem = "Enter a user name of 1 to 64 characters." if submitted else ""
            return self.sign_in_page(params, problem)
        scopes = [s for s in params.get("scope", "").replace(",", " ").split() if len(s) <= 200][:32]
        code = self._seal("code", {"sub": username, "scope": scopes, "r": redirect_uri, "c": self.client_id,
                                   "n": secrets.token_hex(8), "exp": int(time.time()) + CODE_SECONDS})
        back = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {"location": redirect_uri + joiner + urlencode(back), "cache-control": "no-store"}, b""

    def sign_in_page(self, params: dict[str, str], problem: str = "") -> tuple[int, dict, bytes]:
        hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(params.get(k, ""))}">'
                         for k in ("client_id", "redirect_uri", "response_type", "state"))
        scope = " ".join(s for s in params.get("scope", "").split() if s != "openid") or params.get("scope", "")
        note = f'<p role="alert"><strong>{escape(problem)}</strong></p>' if problem else ""
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local sign-in</title>'
            '<meta name="viewport" content="width=device-width"><style>body{font:16px system-ui;max-width:32rem;'
            'margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{font:inherit;'
            'width:100%;padding:.4rem}button{font:inherit;padding:.5rem 1rem;margin-top:1rem}small{color:#666}</style>'
            '</head><body><h1>Local sign-in</h1><p>The development identity provider of <code>make serve</code>: '
            'any name signs in as that user (its subject is the name). Deployed, users sign in with the real '
            f'provider instead.</p>{note}<form method="post" action="{PREFIX}/authorize">{hidden}'
            '<label for="username">User name</label><input id="username" name="username" autofocus required '
            'maxlength="64" autocomplete="username">'
            f'<label for="scope">Scopes to grant</label><input id="scope" name="scope" value="{escape(scope)}">'
            '<small>space-separated, as the provider names them</small><br>'
            '<button type="submit">Sign in</button></form></body></html>')
        return (400 if problem else 200), {"content-type": "text/html; charset=utf-8", "cache-control": "no-store",
                                           "x-frame-options": "DENY"}, page.encode("utf-8")

    def token(self, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=16))
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("authorization", "")
        if basic[:6].lower() == "basic ":
            from urllib.parse import unquote

            try:
                user, _, password = base64.b64decode(basic[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user = password = ""
            client_id, secret = unquote(user), unquote(password)
        if client_id != self.client_id or not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            return _json(401, {"error": "invalid_client", "error_description": "client authentication failed"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self._open("code", form.get("code"))
            if code is None or code["r"] != form.get("redirect_uri"):
                return _json(400, {"error": "invalid_grant", "error_description": "the code is invalid or expired"})
            with self._lock:
                now = time.time()
                self._used = {k: v for k, v in self._used.items() if v > now}
                if code["n"] in self._used:
                    return _json(400, {"error": "invalid_grant", "error_description": "the code was used already"})
                self._used[code["n"]] = now + CODE_SECONDS
            subject, scopes = code["sub"], code["scope"]
        elif grant == "refresh_token":
            wrapped = self._open("refresh", form.get("refresh_token"))
            if wrapped is None:
                return _json(400, {"error": "invalid_grant", "error_description": "the refresh token is invalid"})
            subject, scopes = wrapped["sub"], wrapped["scope"]
        else:
            return _json(400, {"error": "unsupported_grant_type", "error_description": "authorization_code or "
                                                                                      "refresh_token"})
        granted = [s for s in scopes if s != "openid"]
        refresh = self._seal("refresh", {"sub": subject, "scope": scopes, "exp": int(time.time()) + 30 * 86400})
        return _json(200, {"access_token": self.access_token(subject, granted), "token_type": "Bearer",
                           "expires_in": TOKEN_SECONDS, "refresh_token": refresh, "scope": " ".join(scopes)})


def _json(status: int, doc: dict) -> tuple[int, dict, bytes]:
    return status, {"content-type": "application/json", "cache-control": "no-store"}, json.dumps(doc).encode()


def _error(status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    return _json(status, {"error": code, "error_description": message})


def start_in_thread() -> tuple[object, DevProvider, dict[str, str]]:
    """(HTTP server, provider, PLUGIN_OAUTH_* settings): the provider on a free loopback port, served
    from a daemon thread, for tools that verify tokens without plugin_tools.serve (invoke, tests).
    ``server.shutdown()`` stops it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    box: list[DevProvider] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if 0 < length <= 65_536 else b""
            status, headers, data = box[0].handle(self.command, self.path,
                                                  {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            for name, value in {**headers, "content-length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    env = environment(f"http://127.0.0.1:{server.server_address[1]}")
    box.append(DevProvider.from_environment(env))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server, box[0], env
