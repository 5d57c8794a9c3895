"""The transport: after each request, one JSON log line and one CloudWatch metrics record.

The log line (``"type": "request"``) says what was asked and how it ended: the request ids
(Lambda's ``requestId``, API Gateway's ``apiRequestId``), the X-Ray ``traceId``, the surface,
method and path (or the MCP method and tool), the status, the duration, who called (the caller's
name and kind, never a key or a token), and whether this was the container's first request
(``coldStart``). Its level is ERROR for a server error, WARN for a client error, INFO otherwise.
Neither headers nor bodies are logged.

The metrics record is CloudWatch's Embedded Metric Format (EMF): CloudWatch Logs turns it into
metrics, with no API call and no library. Namespace: ``PLUGIN_METRICS_NAMESPACE`` (Terraform sets
the plugin's name), else the manifest's ``name_for_model``. Metrics: ``Requests``,
``ClientErrors``, ``ServerErrors``, ``Throttled`` (calls a quota refused; counts) and ``Duration``
(milliseconds), by ``Service`` for the whole API, and also by ``Service``, ``Surface`` and
``Operation`` when an operation ran (only registered operation names become dimension values,
so a caller cannot create metrics). The record always carries a level at or above the function's
log level: filtering logs never drops metrics.

Standard library only; nothing beyond what the cold start already loaded.
"""

from __future__ import annotations

import os
import time
from json.encoder import encode_basestring_ascii as _quote

from .model_log import LEVELS, bind, encode_line, threshold, timestamp, write_lines

NAMESPACE_ENV = "PLUGIN_METRICS_NAMESPACE"
MAX_FIELD = 256  # paths and method names are cut to this length in a log line
METRICS = [{"Name": "Requests", "Unit": "Count"}, {"Name": "ClientErrors", "Unit": "Count"},
           {"Name": "ServerErrors", "Unit": "Count"}, {"Name": "Throttled", "Unit": "Count"},
           {"Name": "Duration", "Unit": "Milliseconds"}]
SERVICE_DIMENSIONS = [["Service"]]
OPERATION_DIMENSIONS = [["Service"], ["Service", "Surface", "Operation"]]
_NAMES = {value: name for name, value in LEVELS.items()}
_state = {"cold": True}


def metrics_namespace(registry: object) -> str:
    """PLUGIN_METRICS_NAMESPACE, else the manifest's name_for_model, else "plugin"."""
    namespace = os.environ.get(NAMESPACE_ENV)
    if not namespace:
        try:
            namespace = str(registry.manifest.get("name_for_model") or "")  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            namespace = ""
    return namespace[:255] or "plugin"


def _json(value: object) -> str:
    """A string (cut to MAX_FIELD) as JSON with ASCII escapes, or null for anything else."""
    return _quote(value[:MAX_FIELD]) if isinstance(value, str) else "null"


def _from_event(event: object) -> tuple[str | None, str | None, str | None]:
    """(method, path, API Gateway request id) of an event the runtime could not read as a request."""
    if not isinstance(event, dict):
        return None, None, None
    rc = event.get("requestContext")
    http = rc.get("http") if isinstance(rc, dict) else None
    method = http.get("method") if isinstance(http, dict) else None
    path = event.get("rawPath") or (http.get("path") if isinstance(http, dict) else None)
    api_id = rc.get("requestId") if isinstance(rc, dict) else None
    return (method if isinstance(method, str) else None, path if isinstance(path, str) else None,
            api_id if isinstance(api_id, str) else None)


def _jsonrpc_error(body: object) -> bool:
    """Whether an MCP answer is a JSON-RPC error: its first member after the id is "error" (the
    runtime encodes replies compactly, and inside a string those quotes would be escaped)."""
    if not isinstance(body, str) or not body.startswith('{"jsonrpc":"2.0","id":'):
        return False
    error, result = body.find(',"error":'), body.find(',"result":')
    return error != -1 and (result == -1 or error < result)


def finish(ctx: object, event: object, lambda_context: object, response: object, started: float,
           namespace: str) -> None:
    """Write the request's log line and metrics record. Never raises: logging never breaks an answer."""
    try:
        _finish(ctx, event, lambda_context, response, started, namespace)
    except Exception:  # noqa: S110  (a failed log line must not turn an answer into an error)
        pass
    finally:
        bind(None)


def _finish(ctx: object, event: object, lambda_context: object, response: object, started: float,
            namespace: str) -> None:
    now = time.time()
    duration = round((time.perf_counter() - started) * 1000, 3)
    cold, _state["cold"] = _state["cold"], False
    status = response.get("statusCode") if isinstance(response, dict) else None
    status = status if isinstance(status, int) else 200
    if ctx is not None:
        surface, outcome, operation = ctx.surface, ctx.error, ctx.operation  # type: ignore[attr-defined]
    else:
        surface, outcome, operation = "rest", None, None
    server = status >= 500 or outcome == "server"
    client = not server and (400 <= status < 500 or outcome == "client" or (
        surface == "mcp" and _jsonrpc_error(response.get("body") if isinstance(response, dict) else None)))
    level = "ERROR" if server else "WARN" if client else "INFO"
    if ctx is not None:
        method, path, api_id = ctx.method, ctx.path, ctx.api_request_id  # type: ignore[attr-defined]
        request_id = ctx.request_id  # type: ignore[attr-defined]
    else:
        method, path, api_id = _from_event(event)
        request_id = str(getattr(lambda_context, "aws_request_id", "") or api_id or "local")
    stamp, floor, rid = timestamp(now), threshold(), _json(request_id)
    # Both lines are assembled by hand (this runs on every request); every value that does not come
    # from the runtime itself goes through the JSON string encoder.
    lines = ""
    if LEVELS[level] >= floor:
        mcp_method = getattr(ctx, "mcp_method", None)
        message = f"{method} {path} {mcp_method} {status}" if mcp_method else f"{method} {path} {status}"
        lines = ('{"timestamp":"' + stamp + '","level":"' + level + '","message":' + _json(message)
                 + ',"logger":"plugin","requestId":' + rid + ',"type":"request","apiRequestId":' + _json(api_id or None)
                 + ',"traceId":' + _json(getattr(ctx, "trace_id", None)) + ',"surface":"' + surface + '","method":'
                 + _json(method) + ',"path":' + _json(path) + ',"mcpMethod":' + _json(mcp_method)
                 + ',"operation":' + _json(operation) + ',"status":' + str(status) + ',"outcome":"'
                 + ("server_error" if server else "client_error" if client else "ok") + '","durationMs":'
                 + repr(duration) + _caller(getattr(ctx, "caller", None)) + ',"coldStart":'
                 + ("true" if cold else "false") + "}\n")
    write_lines(lines + _metrics_head(stamp, floor, rid, now) + _emf_tail(namespace, surface, operation)
                + ',"ClientErrors":' + str(int(client))
                + ',"ServerErrors":' + str(int(server)) + ',"Throttled":'
                + ("1" if getattr(ctx, "throttled", False) else "0") + ',"Duration":' + repr(duration) + "}\n")


def _metrics_head(stamp: str, floor: int, rid: str, now: float) -> str:
    """A metrics record up to its EMF timestamp, at a level the function's log level never drops."""
    return ('{"timestamp":"' + stamp + '","level":"' + _NAMES.get(max(floor, 20), "INFO")
            + '","type":"metrics","requestId":' + rid + ',"_aws":{"Timestamp":' + str(int(now * 1000)))


def _caller(caller: object) -> str:
    """Who called, never how: a Caller holds a name and a kind, no key and no token."""
    if caller is None:
        return ',"caller":null,"callerKind":null'
    return ',"caller":' + _json(getattr(caller, "name", None)) + ',"callerKind":' + _json(getattr(caller, "kind", None))


_tails: dict[tuple[str, str, str | None], str] = {}


def _emf_tail(namespace: str, surface: str, operation: str | None) -> str:
    """The constant part of a metrics record after its timestamp (the directive, the dimensions
    and Requests), encoded once per namespace, surface and operation."""
    key = (namespace, surface, operation)
    tail = _tails.get(key)
    if tail is None:
        if len(_tails) > 256:
            _tails.clear()
        directive = [{"Namespace": namespace, "Dimensions": OPERATION_DIMENSIONS if operation else SERVICE_DIMENSIONS,
                      "Metrics": METRICS}]
        fields: dict = {"Service": namespace, "Surface": surface}
        if operation:
            fields["Operation"] = operation
        fields["Requests"] = 1
        tail = _tails[key] = ',"CloudWatchMetrics":' + encode_line(directive) + "}," + encode_line(fields)[1:-1]
    return tail


# -- tasks --------------------------------------------------------------------------------------
TASK_METRICS = {"created": "TasksCreated", "completed": "TasksCompleted", "failed": "TasksFailed",
                "cancelled": "TasksCancelled"}
TASK_DIMENSIONS = [["Service"], ["Service", "Operation"]]


def task_event(ctx: object, event: str, task_id: str, namespace: str, duration_ms: float | None = None) -> None:
    """One log line and one metrics record for a task created or ended (``TasksCreated``,
    ``TasksCompleted``, ``TasksFailed``, ``TasksCancelled``, and ``TaskDuration`` for the
    worker's run). The task id is logged as a fingerprint: with auth = "none" it is a bearer
    secret. Never raises."""
    try:
        import hashlib

        metric = TASK_METRICS.get(event, "TasksFailed")
        level = "ERROR" if event == "failed" else "WARN" if event not in TASK_METRICS else "INFO"
        now = time.time()
        stamp, floor = timestamp(now), threshold()
        operation = getattr(ctx, "operation", None)
        rid = _json(getattr(ctx, "request_id", None))
        fingerprint = hashlib.sha256(task_id.encode()).hexdigest()[:16]
        lines = ""
        if LEVELS[level] >= floor:
            fields: dict = {"timestamp": stamp, "level": level, "message": f"task {event}: {operation}",
                            "logger": "plugin", "type": "task", "event": event, "operation": operation,
                            "task": fingerprint, "durationMs": duration_ms}
            lines = encode_line(fields)[:-1] + ',"requestId":' + rid + _caller(getattr(ctx, "caller", None)) + "}\n"
        metrics = [{"Name": metric, "Unit": "Count"}]
        values: dict = {"Service": namespace, metric: 1}
        if operation:
            values["Operation"] = operation
        if duration_ms is not None:
            metrics.append({"Name": "TaskDuration", "Unit": "Milliseconds"})
            values["TaskDuration"] = duration_ms
        directive = [{"Namespace": namespace, "Dimensions": TASK_DIMENSIONS if operation else SERVICE_DIMENSIONS,
                      "Metrics": metrics}]
        write_lines(lines + _metrics_head(stamp, floor, rid, now) + ',"CloudWatchMetrics":' + encode_line(directive)
                    + "}," + encode_line(values)[1:] + "\n")
    except Exception:  # noqa: S110  (a failed log line must not fail a task)
        pass
