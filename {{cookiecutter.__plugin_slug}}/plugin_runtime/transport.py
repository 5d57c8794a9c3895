"""The transport: an API Gateway HTTP API (payload 2.0) event as a request, JSON responses,
strict JSON parsing, errors as status codes, and the table of routes.

It knows nothing about operations or surfaces; every surface builds its answers with it.
Standard library only, and only what the first request needs: this is on the cold-start path.
"""

from __future__ import annotations

import json
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Callable

# The fixed paths of the API; operations add their own.
MANIFEST_PATH = "/.well-known/ai-plugin.json"
OPENAPI_PATH = "/openapi.json"
LOGO_PATH = "/logo.png"
MCP_PATH = "/mcp"
# Domain verification for the app directories: the bare token, as text (openai_apps_challenge).
CHALLENGE_PATH = "/.well-known/openai-apps-challenge"
# OAuth (auth = "oauth"): the discovery documents and the facade's endpoints, all public.
OAUTH_ROUTES = (
    ("GET", "/.well-known/oauth-protected-resource", "resource"),
    ("GET", "/.well-known/oauth-protected-resource/mcp", "resource"),
    ("GET", "/.well-known/oauth-authorization-server", "server"),
    ("POST", "/oauth/register", "register"),
    ("GET", "/oauth/authorize", "authorize"),
    ("POST", "/oauth/authorize", "consent"),
    ("GET", "/oauth/callback", "callback"),
    ("POST", "/oauth/token", "token"),
    ("POST", "/oauth/revoke", "revoke"),
)
MAX_BODY_BYTES = 1_048_576
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")


class HTTPError(Exception):
    """A request the client can fix: answered with ``status`` and a JSON error, never a trace."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def response(self) -> dict:
        return json_response(self.status, {"error": self.code, "message": self.message}, self.headers)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


# Built once, shared by every surface: json.dumps/json.loads with options build a new
# encoder/decoder on every call, which is measurable on the warm path.
encode_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_decode_json = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float).decode


def json_response(status: int, payload: object, headers: dict | None = None) -> dict:
    """An API Gateway (payload 2.0) response carrying JSON."""
    head = {"content-type": "application/json"}
    if headers:
        head.update(headers)
    return {"statusCode": status, "headers": head, "body": encode_json(payload)}


def parse_json(data: bytes, what: str = "request body") -> object:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no numbers that overflow a float."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "invalid_body", f"the {what} is not UTF-8 text") from None
    try:
        return _decode_json(text)
    except RecursionError:
        raise HTTPError(400, "invalid_json", f"the {what} is nested too deeply") from None
    except ValueError as exc:
        raise HTTPError(400, "invalid_json", f"the {what} is not valid JSON: {exc}") from None


class Request:
    """The parts of an API Gateway HTTP API (payload 2.0) event the runtime uses."""

    __slots__ = ("_ctx", "body", "cookies", "headers", "method", "path", "query", "request_id")

    def __init__(self, event: object) -> None:
        if not isinstance(event, dict):
            raise HTTPError(400, "invalid_event", "expected an API Gateway HTTP API (payload 2.0) event")
        ctx = event.get("requestContext")
        http = ctx.get("http") if isinstance(ctx, dict) else None
        method = http.get("method") if isinstance(http, dict) else None
        path = event.get("rawPath") or (http.get("path") if isinstance(http, dict) else None)
        if not isinstance(method, str) or not isinstance(path, str):
            raise HTTPError(400, "invalid_event",
                            "expected an API Gateway HTTP API (payload 2.0) event with a method and a path")
        self.method, self.path, self._ctx = method.upper(), path, ctx
        request_id = ctx.get("requestId")
        self.request_id = request_id if isinstance(request_id, str) else ""
        raw_headers = event.get("headers")
        self.headers = ({k.lower(): v for k, v in raw_headers.items() if isinstance(k, str) and isinstance(v, str)}
                        if isinstance(raw_headers, dict) else {})
        cookies = event.get("cookies")  # payload 2.0 moves Cookie headers here, one "name=value" each
        self.cookies = ({k.strip(): v.strip() for k, _, v in (c.partition("=") for c in cookies if isinstance(c, str))}
                        if isinstance(cookies, list) else {})
        query = event.get("queryStringParameters")
        self.query = ({k: v for k, v in query.items() if isinstance(k, str) and isinstance(v, str)}
                      if isinstance(query, dict) else {})
        body = event.get("body")
        if body is None:
            self.body = b""
        elif not isinstance(body, str):
            raise HTTPError(400, "invalid_event", "the event's body must be a string")
        elif event.get("isBase64Encoded") is True:
            import base64  # only here and for the logo: 0.8 ms of cold start saved on JSON requests

            try:
                self.body = base64.b64decode(body, validate=True)
            except ValueError:
                raise HTTPError(400, "invalid_body", "the body is flagged base64 but is not valid base64") from None
        else:
            try:
                self.body = body.encode("utf-8")
            except UnicodeEncodeError:
                raise HTTPError(400, "invalid_body", "the request body is not UTF-8 text") from None
        if len(self.body) > MAX_BODY_BYTES:
            raise HTTPError(413, "body_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes")

    @property
    def origin(self) -> str:
        """The scheme and host this request came to; every absolute URL we serve starts here."""
        host = self._ctx.get("domainName") if isinstance(self._ctx, dict) else None
        if not isinstance(host, str) or not host:
            host = self.headers.get("host", "")
        if not host or len(host) > 253 or not _HOST_CHARS.issuperset(host):
            raise HTTPError(400, "invalid_host", "the Host header is missing or not a valid host name")
        # Only a developer's own machine is reached over plain HTTP: API Gateway serves https only,
        # and a client-sent X-Forwarded-Proto must not turn an issuer or a document URL into http.
        local = host.split(":")[0] in ("localhost", "127.0.0.1") or host.startswith("[::1]")
        proto = self.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() if local else "https"
        if proto not in ("http", "https"):
            proto = "http" if local else "https"
        return f"{proto}://{host}"

    def json(self) -> object:
        if not self.body:
            raise HTTPError(400, "missing_body", "the request needs a JSON body")
        ctype = self.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise HTTPError(415, "unsupported_media_type", "send the body as application/json")
        return parse_json(self.body)


class RouteError(ValueError):
    """Two handlers for one method and path (a mistake in handler.py, found at import)."""


class Router:
    """Method and path to a handler. Static paths are a dict lookup; paths with ``{name}``
    segments are matched segment by segment and yield the named values."""

    def __init__(self) -> None:
        self._static: dict[str, dict[str, Callable]] = {}
        self._templated: list[tuple[list[str], dict[str, Callable]]] = []

    def add(self, method: str, path: str, handler: Callable) -> None:
        if "{" in path:
            segments = path.strip("/").split("/")
            found = [table for existing, table in self._templated if existing == segments]
            methods = found[0] if found else {}
            if not found:
                self._templated.append((segments, methods))
        else:
            methods = self._static.setdefault(path, {})
        if method in methods:
            raise RouteError(f"two handlers for {method} {path}")
        methods[method] = handler

    def match(self, path: str) -> tuple[dict[str, Callable] | None, dict[str, str]]:
        """(the handlers by method, or None for an unknown path; the path's named values)."""
        methods = self._static.get(path)
        if methods is None and len(path) > 1 and path.endswith("/"):
            methods = self._static.get(path[:-1])  # setup guides often paste /mcp/ for /mcp
        if methods is not None:
            return methods, {}
        parts = path.strip("/").split("/")
        for segments, methods in self._templated:
            if len(segments) != len(parts):
                continue
            params: dict[str, str] = {}
            for seg, part in zip(segments, parts, strict=True):
                if seg.startswith("{"):
                    if not part:
                        break
                    params[seg[1:-1]] = part
                elif seg != part:
                    break
            else:
                return methods, params
        return None, {}

    def resolve(self, method: str, path: str) -> tuple[Callable, dict[str, str]]:
        """The handler for a request, or the 404/405 a client can act on."""
        methods, params = self.match(path)
        if methods is None:
            raise HTTPError(404, "not_found", f"no route for {path[:200]}; the API is described at {OPENAPI_PATH}")
        handler = methods.get(method)
        if handler is None:
            allow = ", ".join(sorted(methods))
            raise HTTPError(405, "method_not_allowed", f"{path[:200]} accepts {allow}", {"allow": allow})
        return handler, params
