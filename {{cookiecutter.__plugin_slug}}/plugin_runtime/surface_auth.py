"""The auth surface: whether a request to a protected route (an operation or /mcp) may go on,
and who sent it.

With ``api_key`` the request carries ``Authorization: Bearer <key>``; the key's SHA-256 is
compared in constant time with every configured hash, so neither the answer's content nor its
timing says which key came close. A refusal is a 401 that says only "missing" or "invalid",
with ``WWW-Authenticate: Bearer``; on /mcp its body is a JSON-RPC error. The key is never kept,
logged or echoed.

With ``oauth`` the bearer token is an access token from the upstream provider (Cognito or any
OIDC provider, reached through the facade in ``surface_oauth``): an RS256 JWT checked by
``model_jwt`` against the provider's keys, issuer, expiry, token use and this API's client, and
for the base scope. Refusals name the protected-resource metadata in ``WWW-Authenticate``, so
MCP clients can start signing in from a 401.
"""

from __future__ import annotations

import re

from .model_auth import BASE_SCOPE, AuthConfig, challenge, provider_endpoints
from .model_context import Caller
from .model_log import log
from .transport import HTTPError, Request, json_response

MAX_AUTHORIZATION = 4096  # longer headers are refused before any hashing
UNAUTHORIZED = -32001  # JSON-RPC code for a refused MCP request (implementation-defined range)
_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 6750 b64token


class AuthError(HTTPError):
    """A request the caller must authenticate differently; never names what came close. On /mcp
    (``jsonrpc``) its body is a JSON-RPC error, elsewhere the usual JSON error."""

    def __init__(self, status: int, error: str, message: str, challenge: str | None = None,
                 jsonrpc: bool = False) -> None:
        super().__init__(status, error, message, {"www-authenticate": challenge} if challenge else None)
        self.error, self.challenge, self.jsonrpc = error, challenge, jsonrpc

    def for_jsonrpc(self) -> AuthError:
        return AuthError(self.status, self.error, self.message, self.challenge, jsonrpc=True)

    def response(self) -> dict:
        if self.jsonrpc:
            body = {"jsonrpc": "2.0", "id": None, "error": {"code": UNAUTHORIZED, "message": self.message}}
            return json_response(self.status, body, self.headers)
        return super().response()


def missing(what: str = "a key: send Authorization: Bearer <key>", header: str = "Bearer") -> AuthError:
    return AuthError(401, "unauthorized", f"this API needs {what}", header)


def invalid(what: str = "API key", header: str = 'Bearer error="invalid_token"') -> AuthError:
    return AuthError(401, "invalid_token", f"the {what} is invalid", header)


def bearer_token(req: Request, refuse_missing: AuthError | None = None,
                 refuse_invalid: AuthError | None = None) -> str:
    """The token of ``Authorization: Bearer <token>``; raises missing() or invalid()."""
    header = req.headers.get("authorization")
    if header is None or not header.strip():
        raise refuse_missing or missing()
    if len(header) > MAX_AUTHORIZATION:
        raise refuse_invalid or invalid()
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN.fullmatch(token):
        raise refuse_invalid or invalid()
    return token


def key_name(token: str, hashes: dict[str, str]) -> str | None:
    """The name of the key whose hash matches, comparing with every hash in constant time."""
    import hashlib  # api_key mode only: open projects never pay for it
    import hmac

    digest = hashlib.sha256(token.encode("ascii")).hexdigest()
    found = None
    for name, expected in hashes.items():
        if hmac.compare_digest(digest, expected):
            found = name
    return found


def authenticate(req: Request, config: AuthConfig, jsonrpc: bool = False) -> Caller | None:
    """The caller of a protected route (None when the plugin is open); raises AuthError, shaped
    as a JSON-RPC error when ``jsonrpc`` (the /mcp route)."""
    try:
        return _authenticate(req, config)
    except AuthError as exc:
        raise exc.for_jsonrpc() if jsonrpc else exc from None


def _authenticate(req: Request, config: AuthConfig) -> Caller | None:
    if config.problem is not None:
        log.error(f"auth refused every protected request: {config.problem}")
        raise AuthError(500, "auth_misconfigured",
                        "the server's authentication is misconfigured; the details are in the function's logs")
    if config.mode == "none":
        return None
    if config.mode == "api_key":
        name = key_name(bearer_token(req), config.key_hashes)
        if name is None:
            raise invalid()
        return Caller(name, "api_key")
    if config.mode == "oauth" and config.oauth is not None:
        return oauth_caller(req, config)
    log.error(f"auth mode {config.mode!r} has no verifier in this runtime")
    raise AuthError(500, "auth_misconfigured",
                    "the server's authentication is misconfigured; the details are in the function's logs")


_jwks: dict[str, object] = {}


def oauth_caller(req: Request, config: AuthConfig) -> Caller:
    """The signed-in user behind an access token, with its scopes (the provider's prefix removed)."""
    settings = config.oauth
    origin = req.origin
    token = bearer_token(req, missing("a sign-in: send Authorization: Bearer <access token>",
                                      challenge(origin, config)),
                         invalid("access token", challenge(origin, config, "invalid_token")))
    from .model_jwt import JWKS, TokenError, scopes_of, verify  # oauth only: loaded with the first token

    try:
        jwks_url = provider_endpoints(settings)["jwks"]
        jwks = _jwks.get(jwks_url)
        if jwks is None:
            jwks = _jwks[jwks_url] = JWKS(jwks_url)
        claims = verify(token, jwks, issuer=settings.issuer, client_id=settings.client_id,
                        audience=settings.audience or None, token_use=settings.token_use or None)
        if not settings.audience and "aud" in claims:  # a token for some API: it must be this one (RFC 8707)
            aud = claims["aud"]
            if origin + "/mcp" not in ([aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []):
                raise TokenError("wrong audience (not this API's resource; set oauth_audience if the provider "
                                 "names it otherwise)")
    except TokenError as exc:
        log.warning(f"auth refused an access token: {exc}")  # the reason, for the owner; never the token
        raise invalid("access token", challenge(origin, config, "invalid_token")) from None
    except (OSError, ValueError, KeyError) as exc:  # the provider's discovery document is out of reach
        log.error(f"auth could not reach the provider's keys: {type(exc).__name__}: {exc}")
        raise AuthError(503, "provider_unavailable", "the sign-in provider is unreachable; retry shortly") from None
    prefix = settings.scope_prefix
    granted = scopes_of(claims)
    scopes = frozenset(s[len(prefix):] if prefix and s.startswith(prefix) else s for s in granted)
    if BASE_SCOPE not in scopes:
        needed = settings.scope(BASE_SCOPE)
        raise AuthError(403, "insufficient_scope", f"the access token lacks the scope {needed}",
                        challenge(origin, config, "insufficient_scope", needed))
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else ""
    name = claims.get("username") or claims.get("email") or subject
    return Caller(str(name), "oauth", scopes, claims)
