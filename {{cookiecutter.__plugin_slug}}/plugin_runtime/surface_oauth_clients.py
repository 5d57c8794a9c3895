"""The OAuth facade's clients: who may sign in, and how a client proves who it is. Three kinds:
the predefined client (GPT Actions: the provider client's own id, confidential), DCR clients
(RFC 7591: the client id is a signed description, its secret an HMAC of the id) and CIMD clients
(the client id is the https URL of a metadata document, fetched and cached).

``ClientFacade`` is the base of the flow and token endpoints: one request's configuration, origin
and signer.
"""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import urlsplit

from .model_auth import BASE_SCOPE, AuthConfig
from .model_log import log
from .model_registry import Registry
from .surface_oauth_discovery import scopes_supported
from .surface_oauth_seal import (
    CALLBACK_PATH,
    COOKIE_PATH,
    MAX_FIELD,
    NO_STORE,
    OAuthError,
    Signer,
    b64,
    provider_secret,
    signing_keys,
)
from .transport import HTTPError, Request, json_response, parse_json

# GPT Actions' callback: ChatGPT's host and the GPT's id (the predefined client is confidential,
# so a code sent here is useless to anyone without its secret).
GPT_CALLBACK = re.compile(r"https://(?:chatgpt\.com|chat\.openai\.com)/aip/g-[A-Za-z0-9-]{1,64}/oauth/callback")


# -- clients ------------------------------------------------------------------------------------
MAX_CLIENT_ID = 4000  # a DCR client id carries its metadata; longer ones do not fit into a request line


def _unique_pairs(pairs: list) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("a key appears twice")
    return value


class Client:
    __slots__ = ("auth_method", "client_id", "grants", "jwks", "name", "redirect_uris", "secret")

    def __init__(self, client_id: str, redirect_uris: list[str], auth_method: str, secret: str | None,
                 name: str = "", grants: tuple[str, ...] = ("authorization_code", "refresh_token"),
                 jwks: object = None) -> None:
        self.client_id, self.redirect_uris = client_id, redirect_uris
        self.auth_method, self.secret, self.name, self.grants = auth_method, secret, name, grants
        self.jwks = jwks  # private_key_jwt: the document's jwks (a dict) or jwks_uri (a URL)

    def allows(self, redirect_uri: str) -> bool:
        if self.auth_method == "predefined":  # ChatGPT's GPT-Action callback, matched on the raw string
            return GPT_CALLBACK.fullmatch(redirect_uri) is not None
        if redirect_uri in self.redirect_uris:
            return True
        # RFC 8252 7.3: a native app's loopback redirect may come back on any port (scheme, host,
        # path and query still match exactly).
        asked = loopback_parts(redirect_uri)
        return asked is not None and any(loopback_parts(u) == asked for u in self.redirect_uris)


def loopback_parts(uri: str) -> tuple[str, str, str] | None:
    """(host, path, query) of an http loopback-IP redirect URI, or None for any other URI."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1") or parts.username is not None:
        return None
    return parts.hostname, parts.path, parts.query


def redirect_uri_problem(uri: object) -> str | None:
    """Why a redirect URI cannot be registered (None when it can): https, loopback http for native
    apps, or a private-use scheme with a reverse-domain name; only printable ASCII (RFC 3986), never
    userinfo, a backslash or a fragment."""
    if not isinstance(uri, str) or not uri or len(uri) > 2000 or any(not 33 <= ord(c) <= 126 for c in uri):
        return "must be a URL of printable ASCII without spaces (RFC 3986; percent-encode the rest)"
    if "\\" in uri:
        return f"{uri[:80]!r} must not contain a backslash"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return f"{uri[:80]!r} is not a valid URL"
    if parts.fragment or "#" in uri:
        return f"{uri[:80]!r} must not have a fragment"
    if "@" in parts.netloc:
        return f"{uri[:80]!r} must not carry userinfo (user@host)"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    if parts.scheme not in ("http", "https", "javascript", "data", "file", "vbscript", "blob") and "." in parts.scheme:
        return None
    return f"{uri[:80]!r} must be https, http on a loopback address, or an app's own scheme (e.g. com.example.app:/cb)"



class ClientFacade:
    """One request's configuration, origin and signer; the client endpoints."""

    def __init__(self, registry: Registry, config: AuthConfig, req: Request) -> None:
        self.registry, self.config, self.settings, self.req = registry, config, config.oauth, req
        self.origin = req.origin
        self._signer: Signer | None = None

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            try:
                self._signer = Signer(signing_keys())
            except Exception as exc:  # SSM throttled, missing or unreadable: say so in the logs only
                log.error(f"oauth: cannot read the facade's signing key: {type(exc).__name__}: {exc}")
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
        assertion = form.get("client_assertion")
        if client_id is None and isinstance(assertion, str):  # RFC 7523 2.2: the assertion names the client
            client_id = unverified_subject(assertion)
        client = self.client(client_id)
        if client is None:
            raise OAuthError(401, "invalid_client", "unknown client", {"www-authenticate": "Basic"})
        if client.auth_method == "none":
            return client
        if client.auth_method == "private_key_jwt":
            from .surface_oauth_assertion import ASSERTION_TYPE, AssertionError_, verify_assertion
            from .surface_oauth_seal import TOKEN_PATH

            try:
                if form.get("client_assertion_type") != ASSERTION_TYPE:
                    raise AssertionError_("client_assertion_type must be " + ASSERTION_TYPE)
                verify_assertion(assertion, client.client_id, client.jwks, (self.origin + TOKEN_PATH, self.origin))
            except AssertionError_ as exc:
                log.warning(f"oauth: refused a client assertion of {client.client_id[:200]}: {exc}")
                raise OAuthError(401, "invalid_client", "client authentication failed (private_key_jwt)") from None
            return client
        if client.auth_method == "predefined":
            ok = isinstance(secret, str) and self.signer.equal(secret, provider_secret(self.settings))
        else:  # a DCR client's secret is the MAC of its id, under the current or the previous key
            ok = self.signer.mac_ok("secret", client.client_id, secret)
        if not ok:
            raise OAuthError(401, "invalid_client", "client authentication failed", {"www-authenticate": "Basic"})
        return client

    # -- endpoints --
    def register(self) -> dict:
        """RFC 7591 dynamic registration, stateless: the client id is a signed description."""
        ctype = self.req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise OAuthError(400, "invalid_client_metadata", "send the client metadata as application/json")
        try:
            doc = parse_json(self.req.body, "client metadata") if len(self.req.body) <= 16_384 else None
            if isinstance(doc, dict):  # the same document again, refusing a key given twice
                json.loads(self.req.body, object_pairs_hook=_unique_pairs)
        except (HTTPError, ValueError):  # not UTF-8, not JSON, NaN, too deep, a key twice
            doc = None
        if not isinstance(doc, dict):
            raise OAuthError(400, "invalid_client_metadata", "send the client metadata as a JSON object (<= 16 KB)")
        try:  # a "\ud800" escape decodes to a lone surrogate, which no page or seal can carry
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise OAuthError(400, "invalid_client_metadata", "the client metadata must be UTF-8 text") from None
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
        nonce = b64(os.urandom(9))  # two identical registrations still get two clients
        client_id = "dyn." + self.signer.seal("client", {"r": uris, "m": method, "n": name, "t": issued, "j": nonce,
                                                          "g": grants})
        if len(client_id) > MAX_CLIENT_ID:
            raise OAuthError(400, "invalid_client_metadata", "the metadata is too long for a client id of 4 KB: "
                                                             "fewer or shorter redirect_uris, a shorter client_name")
        answer = {"client_id": client_id, "client_id_issued_at": issued, "redirect_uris": uris,
                  "token_endpoint_auth_method": method, "grant_types": grants, "response_types": ["code"]}
        if name:
            answer["client_name"] = name
        if method != "none":
            answer["client_secret"] = self.signer.mac("secret", client_id)
            answer["client_secret_expires_at"] = 0
        return json_response(201, answer, NO_STORE)

    def cookie(self, name: str, value: str, max_age: int) -> str:
        secure = "; Secure" if self.origin.startswith("https://") else ""
        return f"{name}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"

    def resource_ok(self, resource: object) -> bool:
        return resource is None or str(resource).rstrip("/") in (self.origin + "/mcp", self.origin)

    def upstream_scope(self, requested: object) -> str:
        """openid plus the requested scopes this API knows (unknown ones are dropped; none asked
        means the base scope)."""
        known = set(scopes_supported(self.registry, self.settings))
        asked = [s for s in str(requested or "").split() if s in known]
        return " ".join(["openid", *(asked or [self.settings.scope(BASE_SCOPE)])])


def unverified_subject(assertion: str) -> str | None:
    """The ``sub`` a client assertion claims (only to find its client; the signature is checked next)."""
    from .model_jwt import b64url_decode

    try:
        claims = json.loads(b64url_decode(assertion.split(".")[1])) if assertion.count(".") == 2 else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def metadata_document_client(url: str) -> Client | None:
    """A CIMD client: its id is the https URL of its metadata document (surface_oauth_cimd fetches
    it safely); the document's redirect URIs and auth method are checked on every use."""
    from .surface_oauth_cimd import document, refuse

    doc = document(url)
    if doc is None:
        return None
    uris = doc.get("redirect_uris")
    method = doc.get("token_endpoint_auth_method", "none")
    jwks = doc.get("jwks") if isinstance(doc.get("jwks"), dict) else doc.get("jwks_uri")
    if method == "private_key_jwt" and isinstance(jwks, str):
        from .surface_oauth_cimd import document_url_problem

        jwks = None if document_url_problem(jwks) else jwks
    if (not isinstance(uris, list) or not uris or len(uris) > 10 or any(redirect_uri_problem(u) for u in uris)
            or method not in ("none", "private_key_jwt") or (method == "private_key_jwt" and jwks is None)):
        refuse(url)
        return None
    name = doc.get("client_name")
    return Client(url, [str(u) for u in uris], method, None, name[:200] if isinstance(name, str) else "",
                  jwks=jwks if method == "private_key_jwt" else None)
