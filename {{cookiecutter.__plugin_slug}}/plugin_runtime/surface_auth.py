"""The auth surface: whether a request to a protected route (an operation or /mcp) may go on,
and who sent it.

With ``api_key`` the request carries ``Authorization: Bearer <key>``; the key's SHA-256 is
compared in constant time with every configured hash, so neither the answer's content nor its
timing says which key came close. A refusal is a 401 that says only "missing" or "invalid",
with ``WWW-Authenticate: Bearer``; on /mcp its body is a JSON-RPC error. The key is never kept,
logged or echoed.
"""

from __future__ import annotations

import re

from .model_auth import AuthConfig
from .model_context import Caller
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


def missing() -> AuthError:
    return AuthError(401, "unauthorized", "this API needs a key: send Authorization: Bearer <key>", "Bearer")


def invalid() -> AuthError:
    return AuthError(401, "invalid_token", "the API key is invalid", 'Bearer error="invalid_token"')


def bearer_token(req: Request) -> str:
    """The token of ``Authorization: Bearer <token>``; raises missing() or invalid()."""
    header = req.headers.get("authorization")
    if header is None or not header.strip():
        raise missing()
    if len(header) > MAX_AUTHORIZATION:
        raise invalid()
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN.fullmatch(token):
        raise invalid()
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
        print(f"auth refused every protected request: {config.problem}")
        raise AuthError(500, "auth_misconfigured",
                        "the server's authentication is misconfigured; the details are in the function's logs")
    if config.mode == "none":
        return None
    if config.mode == "api_key":
        name = key_name(bearer_token(req), config.key_hashes)
        if name is None:
            raise invalid()
        return Caller(name, "api_key")
    print(f"auth mode {config.mode!r} has no verifier in this runtime")
    raise AuthError(500, "auth_misconfigured",
                    "the server's authentication is misconfigured; the details are in the function's logs")
