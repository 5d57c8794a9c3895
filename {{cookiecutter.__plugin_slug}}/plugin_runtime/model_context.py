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
import time
import typing

from .model_log import Log
from .model_settings import MISSING
from .model_settings import setting as _setting

if typing.TYPE_CHECKING:
    from collections.abc import Callable

SURFACES = ("rest", "mcp")
API_LIMIT_S = 29.5  # API Gateway stops waiting for an answer at 30 s, whatever the Lambda's timeout
TASK_EVENT = "plugin_task"  # the key of a task worker's event (model_task), which is no HTTP request


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


class _Stores:
    """How a Context opens its stores: installed by the plugin layer (model_store sits above this
    module, so it is reached through this hook, loaded on the first ``ctx.store``)."""

    opener: Callable[[Context, bool], object] | None = None


def use_store_opener(opener: Callable[[Context, bool], object]) -> None:
    _Stores.opener = opener


class Context:
    """The request an operation runs for.

    - ``request_id``: Lambda's request id (``aws_request_id``), the one in the function's logs;
    - ``api_request_id``: API Gateway's request id, the one in the access logs;
    - ``trace_id``: the X-Ray trace id when tracing is on, else None;
    - ``caller``: a ``Caller``, or None for an anonymous request (``auth = "none"``);
    - ``surface``: ``"rest"`` or ``"mcp"``; ``operation``: the operation's name once known;
    - ``method`` and ``path``: the HTTP request line; ``mcp_method``: e.g. ``"tools/call"``;
    - ``origin``: the scheme and host the request came to (read on first use);
    - ``remaining_ms()``: how long the Lambda may still run, or None outside Lambda;
    - ``log``: structured log lines tagged with this request (``ctx.log.info("msg", key=value)``);
    - ``setting(name, kind)`` and ``secret(name)``: the deployment's settings and secrets;
    - ``store`` and ``app_store``: the caller's own documents and the plugin-wide ones
      (``model_store``; ``storage = "dynamodb"`` when deployed, a SQLite file locally);
    - ``error``: ``"client"`` or ``"server"`` when a surface answered a failure its HTTP status
      does not show (an MCP tool error is a 200), for the request's log line and metrics;
    - ``throttled``: True when the operation's quota refused the call (model_quota);
    - ``cancelled()`` and ``progress(message)``: for an operation running as an MCP task
      (``task=``), whether the client cancelled it, and the status message tasks/get shows;
      outside a task, False and nothing.
    """

    __slots__ = ("_api_deadline", "_app_store", "_log", "_origin", "_request", "_store", "api_request_id",
                 "caller", "error", "lambda_context", "mcp_method", "method", "operation", "path", "request_id",
                 "surface", "task", "throttled", "trace_id")

    def __init__(self, *, request: object = None, lambda_context: object = None, surface: str = "rest",
                 caller: Caller | None = None, method: str = "", path: str = "", api_request_id: str = "") -> None:
        self._request = request
        self._api_deadline = time.monotonic() + API_LIMIT_S if request is not None else None
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
        self.error: str | None = None
        self.throttled = False  # a quota refused the call (the Throttled metric)
        self.task: typing.Any = None  # model_task.Running, when a task's worker runs the operation
        self._log: Log | None = None
        self._store: object = None
        self._app_store: object = None

    @property
    def origin(self) -> str:
        """``https://<host>``: where absolute URLs for this caller should point."""
        if self._origin is None:
            self._origin = str(getattr(self._request, "origin", "") or "")
        return self._origin

    def remaining_ms(self) -> int | None:
        """Milliseconds before Lambda stops this invocation (None when not run by Lambda); for an
        HTTP request, at most what is left of API Gateway's 30 s (a task's worker has the whole
        timeout)."""
        remaining = getattr(self.lambda_context, "get_remaining_time_in_millis", None)
        if not callable(remaining):
            return None
        left = int(remaining())
        if self._api_deadline is not None:
            left = max(0, min(left, int((self._api_deadline - time.monotonic()) * 1000)))
        return left

    @property
    def log(self) -> Log:
        """Structured logging tagged with this request's ids: ``ctx.log.info("message", key=value)``."""
        if self._log is None:
            self._log = Log(self)
        return self._log

    def setting(self, name: str, kind: Callable = str, default: object = MISSING) -> object:
        """The setting ``name`` (from Terraform's ``settings``), converted by ``kind``: str, int, float,
        bool or any callable. Missing without a ``default``, or not convertible: ``SettingError``."""
        return _setting(name, kind, default)

    def secret(self, name: str) -> str:
        """The secret ``name`` (from Terraform's ``secrets``, value set in SSM): ``SecretError`` when it
        is not declared, not set or not readable."""
        from .model_secrets import secret  # first secret read only: no cost for plugins without secrets

        return secret(name, self.remaining_ms)

    def cancelled(self) -> bool:
        """True once the client cancelled the task this operation runs as: stop at the next step
        (the task stays ``cancelled`` whatever the operation returns). Reads the task at most once a
        second; always False outside a task."""
        return self.task is not None and self.task.cancelled()

    def progress(self, message: str) -> None:
        """Tell the client how far the task has come (its status message in tasks/get); does
        nothing outside a task."""
        if self.task is not None:
            self.task.progress(message)

    @property
    def store(self) -> typing.Any:
        """The verified caller's own documents (a ``model_store.Store``): ``get``, ``put``, ``delete``,
        ``list``. ``StoreError`` with ``auth = "none"``, where there is no caller."""
        if self._store is None:
            self._store = self._open_store(shared=False)
        return self._store

    @property
    def app_store(self) -> typing.Any:
        """The plugin-wide documents, shared by every caller: same API as ``store``."""
        if self._app_store is None:
            self._app_store = self._open_store(shared=True)
        return self._app_store

    def _open_store(self, shared: bool) -> object:
        if _Stores.opener is None:
            raise RuntimeError("ctx.store is opened by plugin_runtime.plugin, which is not imported")
        return _Stores.opener(self, shared)
