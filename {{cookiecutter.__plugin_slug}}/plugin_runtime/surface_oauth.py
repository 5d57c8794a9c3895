"""The OAuth surface: the discovery documents MCP clients read, and a small authorization-server
facade in front of the upstream provider (Cognito, or any OIDC provider) for what it cannot do.

MCP clients (ChatGPT, Claude, the SDKs) need, on the API's own origin: RFC 9728 protected-resource
metadata, RFC 8414 authorization-server metadata announcing S256, and a way to register (DCR or
CIMD). Cognito has none of these, and its app clients only accept exact, pre-registered callback
URLs. So this API is the authorization server the clients see, and the provider is where users
sign in:

    client --authorize--> /oauth/authorize --302--> provider login --302--> /oauth/callback
           <--302 code---                                                    (our signed code)
    client --code + PKCE verifier--> /oauth/token --provider code + our secret--> provider
           <--the provider's access token (and a refresh token bound to the client)--

Nothing is stored server-side, so it works on Lambda across cold starts and instances. Every
artefact the facade hands out is a small JSON document signed with HMAC-SHA-256 under a key
derived from the provider client's secret (which never leaves the Lambda):

- a registered client id (DCR) carries its redirect URIs and auth method, its secret is an HMAC
  of the id (nothing to store); a CIMD client id is an https URL whose document is fetched;
- the ``state`` sent to the provider carries the client's request (redirect URI, PKCE challenge,
  state, scope) and expires in 10 minutes;
- our code carries the provider's code, the client, its redirect URI and PKCE challenge, and
  expires in 5 minutes. The provider's code is single-use and redeemable only with our secret,
  so a replayed or stolen code is refused upstream even inside those minutes; the PKCE verifier
  and the redirect URI must match before we even try;
- a refresh token wraps the provider's refresh token with the client it was issued to.

Redirect URIs are compared exactly; errors about the client or its redirect URI are shown, never
redirected (no open redirect). Access tokens are the provider's own RS256 JWTs, which the auth
surface verifies on every request.
"""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from .model_auth import BASE_SCOPE, AuthConfig, OAuthSettings, provider_endpoints
from .model_log import log
from .model_registry import Registry
from .transport import OAUTH_ROUTES, HTTPError, Request, json_response, parse_json

PATHS = {endpoint: path for _, path, endpoint in OAUTH_ROUTES}
AUTHORIZE_PATH, CALLBACK_PATH, TOKEN_PATH = PATHS["authorize"], PATHS["callback"], PATHS["token"]
REGISTER_PATH, AS_METADATA_PATH = PATHS["register"], PATHS["server"]
TXN_SECONDS = 600
CONSENT_COOKIE = "plugin_oauth_consent"
CODE_SECONDS = 300
SECRET_TTL = 900  # re-read the provider secret after this long (rotation)
MAX_FIELD = 4096
# GPT Actions' callback: ChatGPT's host and the GPT's id (the predefined client is confidential,
# so a code sent here is useless to anyone without its secret).
GPT_CALLBACK = re.compile(r"https://(?:chatgpt\.com|chat\.openai\.com)/aip/g-[A-Za-z0-9-]{1,64}/oauth/callback")
_PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class OAuthError(HTTPError):
    """An OAuth error answered as JSON (RFC 6749 section 5.2): ``error`` and ``error_description``."""

    def response(self) -> dict:
        return json_response(self.status, {"error": self.code, "error_description": self.message},
                             {**_NO_STORE, **(self.headers or {})})


# -- discovery documents ------------------------------------------------------------------------
def scopes_supported(registry: Registry, settings: OAuthSettings) -> list[str]:
    return [settings.scope(n) for n in registry.scope_names()]


def resource_metadata(registry: Registry, config: AuthConfig, origin: str) -> dict:
    """RFC 9728: what /mcp is and who issues tokens for it (this origin: the facade)."""
    manifest = registry.manifest
    return {"resource": origin + "/mcp", "authorization_servers": [origin],
            "scopes_supported": scopes_supported(registry, config.oauth), "bearer_methods_supported": ["header"],
            "resource_name": str(manifest.get("name_for_human", "")),
            "resource_documentation": origin + "/openapi.json"}


def server_metadata(registry: Registry, config: AuthConfig, origin: str) -> dict:
    """RFC 8414 with what MCP clients require: S256, a registration endpoint, CIMD."""
    return {
        "issuer": origin,
        "authorization_endpoint": origin + AUTHORIZE_PATH,
        "token_endpoint": origin + TOKEN_PATH,
        "registration_endpoint": origin + REGISTER_PATH,
        "scopes_supported": scopes_supported(registry, config.oauth),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }


# -- signing ------------------------------------------------------------------------------------
_secret: tuple[float, str, str] | None = None  # (read at, where from, value)


def provider_secret(settings: OAuthSettings) -> str:
    """The provider client's secret: from the environment (local runs) or SSM Parameter Store,
    read on the first sign-in (boto3 is imported only then) and kept for SECRET_TTL."""
    global _secret
    if settings.client_secret:
        return settings.client_secret
    source = settings.client_secret_parameter
    if _secret is not None and _secret[1] == source and time.monotonic() - _secret[0] < SECRET_TTL:
        return _secret[2]
    import boto3  # only the sign-in endpoints need it; the Lambda runtime provides it

    value = boto3.client("ssm").get_parameter(Name=source, WithDecryption=True)["Parameter"]["Value"]
    _secret = (time.monotonic(), source, value)
    return value


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Signer:
    """HMAC-SHA-256 seals for the facade's stateless artefacts, one purpose per ``kind``."""

    def __init__(self, secret: str) -> None:
        import hashlib
        import hmac

        self._hmac, self._sha256 = hmac, hashlib.sha256
        self._key = hmac.new(secret.encode("utf-8"), b"plugin-oauth-facade/v1", hashlib.sha256).digest()

    def mac(self, kind: str, text: str) -> str:
        return _b64(self._hmac.new(self._key, f"{kind}.{text}".encode(), self._sha256).digest())

    def seal(self, kind: str, payload: dict) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{body}.{self.mac(kind, body)}"

    def open(self, kind: str, sealed: object, now: float | None = None) -> dict | None:
        """The payload of a seal made for ``kind``, or None (forged, altered, expired, malformed)."""
        if not isinstance(sealed, str) or len(sealed) > MAX_FIELD or sealed.count(".") != 1:
            return None
        body, mac = sealed.split(".")
        if not self.equal(mac, self.mac(kind, body)):  # bytes: compare_digest refuses non-ASCII str
            return None
        try:
            from .model_jwt import b64url_decode  # strict and canonical: only our own spelling opens

            payload = json.loads(b64url_decode(body))
        except (ValueError, RecursionError):
            return None
        if not isinstance(payload, dict):
            return None
        expires = payload.get("exp")
        if expires is not None and (not isinstance(expires, int) or expires < (now or time.time())):
            return None
        return payload

    def equal(self, a: str, b: str) -> bool:
        return self._hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))

    def pkce_ok(self, verifier: object, challenge: str) -> bool:
        if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128 or not _PKCE_CHARS.issuperset(verifier):
            return False
        return self.equal(_b64(self._sha256(verifier.encode("ascii")).digest()), challenge)


# -- clients ------------------------------------------------------------------------------------
class Client:
    __slots__ = ("auth_method", "client_id", "grants", "name", "redirect_uris", "secret")

    def __init__(self, client_id: str, redirect_uris: list[str], auth_method: str, secret: str | None,
                 name: str = "", grants: tuple[str, ...] = ("authorization_code", "refresh_token")) -> None:
        self.client_id, self.redirect_uris = client_id, redirect_uris
        self.auth_method, self.secret, self.name, self.grants = auth_method, secret, name, grants

    def allows(self, redirect_uri: str) -> bool:
        if self.auth_method == "predefined":  # ChatGPT's GPT-Action callback, matched on the raw string
            return GPT_CALLBACK.fullmatch(redirect_uri) is not None
        return redirect_uri in self.redirect_uris


def redirect_uri_problem(uri: object) -> str | None:
    """Why a redirect URI cannot be registered (None when it can): https, loopback http for native
    apps, or a private-use scheme with a reverse-domain name; never a fragment."""
    if not isinstance(uri, str) or not uri or len(uri) > 2000 or any(ord(c) < 33 for c in uri):
        return "must be a URL without spaces"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return f"{uri[:80]!r} is not a valid URL"
    if parts.fragment or "#" in uri:
        return f"{uri[:80]!r} must not have a fragment"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    if parts.scheme not in ("http", "https", "javascript", "data", "file", "vbscript", "blob") and "." in parts.scheme:
        return None
    return f"{uri[:80]!r} must be https, http on a loopback address, or an app's own scheme (e.g. com.example.app:/cb)"


class Facade:
    """The endpoints, for one request's configuration and origin."""

    def __init__(self, registry: Registry, config: AuthConfig, req: Request) -> None:
        self.registry, self.config, self.settings, self.req = registry, config, config.oauth, req
        self.origin = req.origin
        self._signer: Signer | None = None

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            try:
                self._signer = Signer(provider_secret(self.settings))
            except Exception as exc:  # SSM throttled, missing or unreadable: say so in the logs only
                log.error(f"oauth: cannot read the provider client secret: {type(exc).__name__}: {exc}")
                raise OAuthError(503, "temporarily_unavailable", "sign-in is unavailable; retry shortly") from None
        return self._signer

    @property
    def callback_url(self) -> str:
        return self.settings.callback_url or self.origin + CALLBACK_PATH

    # -- clients --
    def client(self, client_id: object) -> Client | None:
        if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_FIELD:
            return None
        if client_id == self.settings.client_id:
            return Client(client_id, [], "predefined", None)
        if client_id.startswith("https://") or client_id.startswith("http://127.0.0.1"):
            return metadata_document_client(client_id)
        sealed = client_id.removeprefix("dyn.")
        payload = self.signer.open("client", sealed) if sealed != client_id else None
        if payload is None or not isinstance(payload.get("r"), list):
            return None
        method = str(payload.get("m", "none"))
        secret = None if method == "none" else self.signer.mac("secret", client_id)
        grants = payload.get("g") or ["authorization_code", "refresh_token"]
        return Client(client_id, [str(u) for u in payload["r"]], method, secret, str(payload.get("n", "")),
                      tuple(str(g) for g in grants))

    def authenticate_client(self, form: dict[str, str]) -> Client:
        """The client of a token request, authenticated as it registered (RFC 6749 2.3)."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = self.req.headers.get("authorization", "")
        if basic[:6].lower() == "basic ":
            import base64
            import binascii
            from urllib.parse import unquote

            try:
                pair = base64.b64decode(basic[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", "malformed Basic credentials",
                                 {"www-authenticate": "Basic"}) from None
            user, _, password = pair.partition(":")
            client_id, secret = unquote(user), unquote(password)
        client = self.client(client_id)
        if client is None:
            raise OAuthError(401, "invalid_client", "unknown client", {"www-authenticate": "Basic"})
        if client.auth_method == "predefined":
            expected = provider_secret(self.settings)
        elif client.auth_method == "none":
            return client
        else:
            expected = client.secret or ""
        if not isinstance(secret, str) or not self.signer.equal(secret, expected):
            raise OAuthError(401, "invalid_client", "client authentication failed", {"www-authenticate": "Basic"})
        return client

    # -- endpoints --
    def register(self) -> dict:
        """RFC 7591 dynamic registration, stateless: the client id is a signed description."""
        try:
            doc = parse_json(self.req.body, "client metadata") if len(self.req.body) <= 16_384 else None
        except HTTPError:  # not UTF-8, not JSON, NaN, too deep
            doc = None
        if not isinstance(doc, dict):
            raise OAuthError(400, "invalid_client_metadata", "send the client metadata as a JSON object (<= 16 KB)")
        uris = doc.get("redirect_uris")
        if not isinstance(uris, list) or not 1 <= len(uris) <= 10:
            raise OAuthError(400, "invalid_redirect_uri", "redirect_uris must list 1 to 10 URIs")
        for uri in uris:
            problem = redirect_uri_problem(uri)
            if problem:
                raise OAuthError(400, "invalid_redirect_uri", f"redirect_uris: {problem}")
        method = doc.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in ("none", "client_secret_post", "client_secret_basic"):
            raise OAuthError(400, "invalid_client_metadata",
                             "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic")
        grants = doc.get("grant_types", ["authorization_code"])
        if (not isinstance(grants, list) or not all(isinstance(g, str) for g in grants)
                or not set(grants) <= {"authorization_code", "refresh_token"}):
            raise OAuthError(400, "invalid_client_metadata", "grant_types may be authorization_code and refresh_token")
        responses = doc.get("response_types", ["code"])
        if responses != ["code"]:
            raise OAuthError(400, "invalid_client_metadata", 'response_types must be ["code"]')
        name = doc.get("client_name", "")
        name = name[:200] if isinstance(name, str) else ""
        issued = int(time.time())
        nonce = _b64(os.urandom(9))  # two identical registrations still get two clients
        client_id = "dyn." + self.signer.seal("client", {"r": uris, "m": method, "n": name, "t": issued, "j": nonce,
                                                          "g": grants})
        answer = {"client_id": client_id, "client_id_issued_at": issued, "redirect_uris": uris,
                  "token_endpoint_auth_method": method, "grant_types": grants, "response_types": ["code"]}
        if name:
            answer["client_name"] = name
        if method != "none":
            answer["client_secret"] = self.signer.mac("secret", client_id)
            answer["client_secret_expires_at"] = 0
        return json_response(201, answer, _NO_STORE)

    def authorize(self) -> dict:
        q = self.req.query
        client = self.client(q.get("client_id"))
        if client is None:
            raise OAuthError(400, "invalid_client", "unknown client_id; register first")
        redirect_uri = q.get("redirect_uri")
        if redirect_uri is None and len(client.redirect_uris) == 1:
            redirect_uri = client.redirect_uris[0]
        if not isinstance(redirect_uri, str) or not client.allows(redirect_uri):
            raise OAuthError(400, "invalid_request", "redirect_uri is not registered for this client")

        def refuse(error: str, description: str) -> dict:
            return _redirect(redirect_uri, {"error": error, "error_description": description,
                                            **({"state": q["state"]} if "state" in q else {}), "iss": self.origin})

        if q.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be code")
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
        if (challenge is None and client.auth_method != "predefined") or (challenge is not None and method != "S256"):
            return refuse("invalid_request", "PKCE with code_challenge_method=S256 is required")
        if challenge is not None and not (43 <= len(challenge) <= 128 and _PKCE_CHARS.issuperset(challenge)):
            return refuse("invalid_request", "code_challenge is malformed")
        if not self.resource_ok(q.get("resource")):
            return refuse("invalid_target", "resource must be this API's MCP endpoint")
        state = q.get("state", "")
        if len(state) > 1024:
            return refuse("invalid_request", "state is longer than 1024 characters")
        scope = self.upstream_scope(q.get("scope"))
        txn = self.signer.seal("txn", {"c": client.client_id, "r": redirect_uri, "p": challenge, "s": state,
                                       "o": scope, "i": self.origin, "exp": int(time.time()) + TXN_SECONDS})
        if client.auth_method == "predefined":  # the owner's own GPT Action: configured, not registered
            return self.to_provider(txn, scope)
        return self.consent_page(client, redirect_uri, txn)

    def to_provider(self, txn: str, scope: str) -> dict:
        upstream = provider_endpoints(self.settings)["authorize"]
        return _redirect(upstream, {"response_type": "code", "client_id": self.settings.client_id,
                                    "redirect_uri": self.callback_url, "scope": scope, "state": txn})

    def consent_page(self, client: Client, redirect_uri: str, txn: str) -> dict:
        """Anyone can register a client, and the provider's login shows only this API's name: so the
        user is asked, here, whether this client may act for them (the confused-deputy defence).
        The answer is bound to this browser: a cookie only this page sets, never sent cross-site."""
        from html import escape

        who = escape(client.name or "An application")
        where = escape(urlsplit(redirect_uri).netloc or redirect_uri)
        plugin = escape(str(self.registry.manifest.get("name_for_human", "this plugin")))
        page = (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Allow access?</title>"
            "<meta name=\"viewport\" content=\"width=device-width\"><style>body{font:16px system-ui;max-width:32rem;"
            "margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin-right:.5rem}</style>"
            f"</head><body><h1>Allow access to {plugin}?</h1><p><strong>{who}</strong> wants to use {plugin} "
            f"as you. After you sign in, it will be sent to <code>{where}</code>.</p>"
            "<p>Only continue if you started this from that application.</p>"
            + "".join(f"<form method=\"post\" action=\"{AUTHORIZE_PATH}\"><input type=\"hidden\" name=\"txn\" "
                      f"value=\"{escape(txn)}\"><input type=\"hidden\" name=\"decision\" value=\"{value}\">"
                      f"<button type=\"submit\">{label}</button></form>"
                      for value, label in (("allow", "Allow"), ("deny", "Deny")))
            + "</body></html>")
        secure = "; Secure" if self.origin.startswith("https://") else ""
        cookie = f"{CONSENT_COOKIE}={self.signer.mac('consent', txn)}; Path={AUTHORIZE_PATH}; HttpOnly; SameSite=Lax" \
                 f"; Max-Age={TXN_SECONDS}{secure}"
        return {"statusCode": 200, "cookies": [cookie], "body": page,
                "headers": {"content-type": "text/html; charset=utf-8", **_NO_STORE, "x-frame-options": "DENY",
                            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                       "frame-ancestors 'none'"}}

    def consent(self) -> dict:
        """The user's answer on the consent page: on to the provider, or back with access_denied."""
        try:
            form = dict(parse_qsl(self.req.body.decode("utf-8"), max_num_fields=8))
        except (UnicodeDecodeError, ValueError):
            form = {}
        txn = self.signer.open("txn", form.get("txn"))
        cookie = self.req.cookies.get(CONSENT_COOKIE, "")
        if txn is None or not self.signer.equal(cookie, self.signer.mac("consent", form.get("txn", ""))):
            raise OAuthError(400, "invalid_request", "this consent was not given on this browser's consent page, "
                                                     "or it expired; start again from the application")
        if form.get("decision") != "allow":
            back = {"state": txn["s"]} if txn.get("s") else {}
            return _redirect(txn["r"], {"error": "access_denied", **back, "iss": txn["i"]})
        return self.to_provider(form["txn"], txn["o"])

    def callback(self) -> dict:
        q = self.req.query
        txn = self.signer.open("txn", q.get("state"))
        if txn is None:
            raise OAuthError(400, "invalid_request", "the sign-in expired or was altered; start again from the app")
        back = {"state": txn["s"]} if txn.get("s") else {}
        if "code" not in q:
            reason = q.get("error", "server_error")
            if reason not in ("access_denied", "invalid_scope", "temporarily_unavailable"):
                reason = "access_denied"
            return _redirect(txn["r"], {"error": reason, **back, "iss": txn["i"]})
        code = self.signer.seal("code", {"u": q["code"][:MAX_FIELD], "c": txn["c"], "r": txn["r"], "p": txn["p"],
                                         "o": txn["o"], "exp": int(time.time()) + CODE_SECONDS})
        return _redirect(txn["r"], {"code": code, **back, "iss": txn["i"]})

    def token(self) -> dict:
        ctype = self.req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "send the token request as application/x-www-form-urlencoded")
        try:
            pairs = parse_qsl(self.req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=32)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "the form is malformed") from None
        form: dict[str, str] = {}
        for key, value in pairs:
            if key in form:
                raise OAuthError(400, "invalid_request", f"{key[:40]} appears more than once")
            form[key] = value
        client = self.authenticate_client(form)
        grant = form.get("grant_type")
        if not self.resource_ok(form.get("resource")):
            raise OAuthError(400, "invalid_target", "resource must be this API's MCP endpoint")
        if grant == "authorization_code":
            code = self.signer.open("code", form.get("code"))
            if code is None or code["c"] != client.client_id:
                raise OAuthError(400, "invalid_grant", "the code is invalid, expired or for another client")
            if form.get("redirect_uri", code["r"]) != code["r"]:
                raise OAuthError(400, "invalid_grant", "redirect_uri differs from the authorization request")
            if code["p"] is not None and not self.signer.pkce_ok(form.get("code_verifier"), code["p"]):
                raise OAuthError(400, "invalid_grant", "the PKCE code_verifier does not match")
            answer = self.upstream({"grant_type": "authorization_code", "code": code["u"],
                                    "redirect_uri": self.callback_url})
        elif grant == "refresh_token":
            if "refresh_token" not in client.grants:
                raise OAuthError(400, "unauthorized_client", "this client did not register the refresh_token grant")
            wrapped = self.signer.open("refresh", form.get("refresh_token"))
            if wrapped is None or wrapped["c"] != client.client_id:
                raise OAuthError(400, "invalid_grant", "the refresh token is invalid or for another client")
            answer = self.upstream({"grant_type": "refresh_token", "refresh_token": wrapped["t"]})
            answer.setdefault("refresh_token", wrapped["t"])
        else:
            raise OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        result = {"access_token": answer["access_token"], "token_type": "Bearer",
                  "expires_in": int(answer.get("expires_in") or 3600)}
        if answer.get("refresh_token"):
            result["refresh_token"] = self.signer.seal("refresh", {"t": answer["refresh_token"], "c": client.client_id})
        if answer.get("scope"):
            result["scope"] = answer["scope"]
        return json_response(200, result, _NO_STORE)

    # -- helpers --
    def resource_ok(self, resource: object) -> bool:
        return resource is None or str(resource).rstrip("/") in (self.origin + "/mcp", self.origin)

    def upstream_scope(self, requested: object) -> str:
        """openid plus the requested scopes this API knows (unknown ones are dropped; none asked
        means the base scope)."""
        known = set(scopes_supported(self.registry, self.settings))
        asked = [s for s in str(requested or "").split() if s in known]
        return " ".join(["openid", *(asked or [self.settings.scope(BASE_SCOPE)])])

    def upstream(self, fields: dict[str, str]) -> dict:
        """A token request to the provider, authenticated with our client secret."""
        import base64
        import urllib.error
        import urllib.request
        from urllib.parse import quote

        settings = self.settings
        pair = f"{quote(settings.client_id, safe='')}:{quote(provider_secret(settings), safe='')}"
        request = urllib.request.Request(  # noqa: S310 (the configured provider's token endpoint)
            provider_endpoints(settings)["token"], data=urlencode(fields).encode("ascii"), method="POST",
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json",
                     "authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answer = json.loads(response.read(65_536))
        except urllib.error.HTTPError as exc:
            detail = exc.read(2048).decode("utf-8", "replace")
            log.error(f"oauth: the provider refused a {fields['grant_type']} request: "
                      f"HTTP {exc.code} {detail[:300]}")
            raise OAuthError(400, "invalid_grant",
                             "the provider refused the grant (used, expired or revoked)") from None
        except (OSError, ValueError) as exc:
            log.error(f"oauth: the provider's token endpoint failed: {type(exc).__name__}: {exc}")
            raise OAuthError(503, "temporarily_unavailable", "the sign-in provider is unreachable") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise OAuthError(502, "server_error", "the provider answered without an access token")
        return answer


_documents: dict[str, Client] = {}
_refused: dict[str, float] = {}  # CIMD URLs that failed, not fetched again for a minute


def public_host(host: str) -> bool:
    """Whether every address ``host`` resolves to is a public one (no loopback, private, link-local
    or reserved address: a client metadata document lives on a client's own public site)."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None) or address
        if not mapped.is_global or mapped.is_multicast:
            return False
    return bool(infos)


def metadata_document_client(url: str) -> Client | None:
    """A CIMD client: its id is the https URL of its metadata document (fetched without following
    redirects, only from a public address, cached; a failure is not retried for a minute)."""
    found = _documents.get(url)
    if found is not None:
        return found
    if time.monotonic() - _refused.get(url, -3600.0) < 60:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return None
    loopback = parts.hostname in ("127.0.0.1", "localhost") and os.environ.get("PLUGIN_OAUTH_LOOPBACK_CLIENTS") == "1"
    if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.fragment or "\\" in url:
        return None
    if not loopback and not public_host(parts.hostname):
        if len(_refused) > 1024:
            _refused.clear()
        _refused[url] = time.monotonic()
        return None
    from .model_jwt import http_get  # no redirects, size-capped

    try:
        doc = json.loads(http_get(url, timeout=5, max_bytes=16_384))
    except (OSError, ValueError, RecursionError) as exc:
        log.error(f"oauth: cannot read the client metadata document {url[:200]}: {type(exc).__name__}")
        doc = None
    uris = doc.get("redirect_uris") if isinstance(doc, dict) else None
    if (not isinstance(doc, dict) or doc.get("client_id") != url or not isinstance(uris, list)
            or not uris or any(redirect_uri_problem(u) for u in uris)
            or doc.get("token_endpoint_auth_method", "none") != "none"):
        if len(_refused) > 1024:
            _refused.clear()
        _refused[url] = time.monotonic()
        return None
    name = doc.get("client_name")
    client = _documents[url] = Client(url, [str(u) for u in uris], "none", None,
                                      name if isinstance(name, str) else "")
    if len(_documents) > 256:
        _documents.clear()
    return client


def _redirect(url: str, params: dict[str, str]) -> dict:
    joiner = "&" if urlsplit(url).query else "?"
    return {"statusCode": 302, "headers": {"location": url + joiner + urlencode(params), **_NO_STORE}, "body": ""}


def handle(registry: Registry, config: AuthConfig, req: Request, endpoint: str) -> dict:
    """One request to a discovery document or a facade endpoint."""
    if config.mode == "oauth" and config.problem:  # it does use OAuth: say it is broken, not absent
        log.error(f"oauth: refused a discovery or sign-in request: {config.problem}")
        raise HTTPError(500, "auth_misconfigured",
                        "the server's authentication is misconfigured; the details are in the function's logs")
    if config.mode != "oauth" or config.oauth is None:
        raise HTTPError(404, "not_found", "this API does not use OAuth (auth is not \"oauth\")")
    origin = req.origin
    if endpoint == "resource":
        return json_response(200, resource_metadata(registry, config, origin), {"cache-control": "max-age=300"})
    if endpoint == "server":
        return json_response(200, server_metadata(registry, config, origin), {"cache-control": "max-age=300"})
    facade = Facade(registry, config, req)
    return {"register": facade.register, "authorize": facade.authorize, "consent": facade.consent,
            "callback": facade.callback, "token": facade.token}[endpoint]()


__all__ = ["AS_METADATA_PATH", "AUTHORIZE_PATH", "CALLBACK_PATH", "REGISTER_PATH", "TOKEN_PATH", "handle"]
