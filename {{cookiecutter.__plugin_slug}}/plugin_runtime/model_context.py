"""The model: what an operation may know about the request that runs it.

An operation asks for it by declaring a parameter of type ``Context``; the runtime fills it in,
and it never appears in a schema, an OpenAPI document or a tool::

    @plugin.operation()
    def saludar(nombre: str, ctx: Context) -> Saludo:
        who = ctx.caller.name if ctx.caller else "anonymous"
        ...

Standard library only, nothing imported beyond it: this module is on every cold start.
"""

from __future__ import annotations

import os

SURFACES = ("rest", "mcp")


class Caller:
    """Who is calling: an API key's name, or an OAuth subject with its scopes and claims.

    ``kind`` is ``"api_key"`` or ``"oauth"``. The key or token itself is never kept here, so a
    Caller can be logged or returned without leaking a credential.
    """

    __slots__ = ("claims", "kind", "name", "scopes")

    def __init__(self, name: str, kind: str, scopes: frozenset[str] = frozenset(),
                 claims: dict | None = None) -> None:
        self.name, self.kind, self.scopes = name, kind, frozenset(scopes)
        self.claims = dict(claims or {})

    def has_scopes(self, needed: list[str] | tuple[str, ...] | frozenset[str]) -> bool:
        return self.scopes.issuperset(needed)

    def __repr__(self) -> str:
        return f"Caller(name={self.name!r}, kind={self.kind!r}, scopes={sorted(self.scopes)!r})"


class Context:
    """The request an operation runs for.

    - ``request_id``: Lambda's request id (``aws_request_id``), the one in the function's logs;
    - ``api_request_id``: API Gateway's request id, the one in the access logs;
    - ``trace_id``: the X-Ray trace id when tracing is on, else None;
    - ``caller``: a ``Caller``, or None for an anonymous request (``auth = "none"``);
    - ``surface``: ``"rest"`` or ``"mcp"``; ``operation``: the operation's name once known;
    - ``method`` and ``path``: the HTTP request line; ``mcp_method``: e.g. ``"tools/call"``;
    - ``origin``: the scheme and host the request came to (read on first use);
    - ``remaining_ms()``: how long the Lambda may still run, or None outside Lambda.
    """

    __slots__ = ("_origin", "_request", "api_request_id", "caller", "lambda_context", "mcp_method", "method",
                 "operation", "path", "request_id", "surface", "trace_id")

    def __init__(self, *, request: object = None, lambda_context: object = None, surface: str = "rest",
                 caller: Caller | None = None, method: str = "", path: str = "", api_request_id: str = "") -> None:
        self._request = request
        self._origin: str | None = None
        self.lambda_context = lambda_context
        self.request_id = str(getattr(lambda_context, "aws_request_id", "") or api_request_id or "local")
        self.api_request_id = api_request_id
        trace = os.environ.get("_X_AMZN_TRACE_ID", "")
        self.trace_id = trace.split(";", 1)[0].removeprefix("Root=") if trace.startswith("Root=") else None
        self.caller = caller
        self.surface = surface
        self.method, self.path = method, path
        self.operation: str | None = None
        self.mcp_method: str | None = None

    @property
    def origin(self) -> str:
        """``https://<host>``: where absolute URLs for this caller should point."""
        if self._origin is None:
            self._origin = str(getattr(self._request, "origin", "") or "")
        return self._origin

    def remaining_ms(self) -> int | None:
        """Milliseconds before Lambda stops this invocation (None when not run by Lambda)."""
        remaining = getattr(self.lambda_context, "get_remaining_time_in_millis", None)
        return int(remaining()) if callable(remaining) else None
