"""The MCP server at POST /mcp: every operation is a tool, answered statelessly with JSON.

Streamable HTTP without sessions and without SSE (API Gateway HTTP APIs cannot stream), so one
Lambda invocation answers one POST. Two eras of the protocol share the endpoint:

- handshake era (2025-03-26, 2025-06-18, 2025-11-25): ``initialize`` negotiates a version, then
  the client sends ``MCP-Protocol-Version`` (absent means 2025-03-26). Nothing is remembered
  between requests, so a client that skips ``initialize`` is served too.
- stateless era (2026-07-28): every request carries its version and client facts in
  ``params._meta`` and mirrors them in the ``MCP-Protocol-Version``, ``Mcp-Method`` and
  ``Mcp-Name`` headers; ``server/discover`` replaces ``initialize``.

Besides tools, the server answers resources/* and prompts/* for what the plugin declares with
``@plugin.resource`` and ``@plugin.prompt``, and serves each operation's widget (MCP Apps) as a
``ui://`` resource that its tool points at.

The era is chosen by the ``MCP-Protocol-Version`` header (or, without one, by a body that carries
the 2026-07-28 ``_meta`` envelope). Errors a model can fix (bad arguments, a refused input, a
result out of range) come back as a normal tool result with ``isError: true``; protocol errors are
JSON-RPC errors, never a 500 and never a traceback.

The surface spans three files: ``surface_mcp_wire`` (versions, error codes, envelope checks,
origin policy), ``surface_mcp_catalog`` (what tools/list, resources/* and prompts/* say) and this
one (the entry point, both eras' dispatch and tools/call).

Only the standard library is imported here: this module is on the cold-start path of an MCP call.
"""

from __future__ import annotations

import typing

from .surface_mcp_catalog import APP_METHODS, _apps, _catalog
from .surface_mcp_tools import arguments_of, check_scopes, requested, run_tool
from .surface_mcp_wire import (
    _HEAD,
    _JSON_HEADERS,
    _NO_ID,
    _RESULT,
    BATCH_VERSIONS,
    CACHE_SCOPE,
    CLIENT_CAPABILITIES_KEY,
    DEFAULT_HEADER_VERSION,
    FORBIDDEN,
    HANDSHAKE_VERSIONS,
    HEADER_MISMATCH,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LATEST_HANDSHAKE_VERSION,
    LIST_TTL_MS,
    METHOD_NOT_FOUND,
    MODERN_STATUS,
    MODERN_VERSIONS,
    NAME_PARAMS,
    ORIGINS_ENV,
    PARSE_ERROR,
    PROTOCOL_VERSION_KEY,
    SUPPORTED_VERSIONS,
    TASKS_VERSION,
    UNSUPPORTED_PROTOCOL_VERSION,
    _accepts_json,
    _carries_modern_envelope,
    _check_cursor,
    _envelope,
    _error_response,
    _Fail,
    _Forbidden,
    _id_of,
    _is_initialize,
    _named,
    _Open,
    _unsupported_version,
    origin_allowed,
)
from .transport import HTTPError, encode_json, parse_json

if typing.TYPE_CHECKING:
    from .model_context import Context
    from .model_registry import Registry
    from .transport import Request
# -- the entry point ------------------------------------------------------------------------
def handle(plugin: Registry, req: Request, ctx: Context) -> dict:
    """Answer one POST /mcp (an API Gateway payload 2.0 response)."""
    headers = req.headers
    origin = headers.get("origin")
    if origin is not None and not origin_allowed(plugin, req, origin):
        return _error_response(403, None, INVALID_REQUEST,
                               f"Origin {origin[:100]!r} may not call this MCP server; set {ORIGINS_ENV} to allow it")
    accept = headers.get("accept")
    if accept and not _accepts_json(accept):
        return _error_response(406, None, INVALID_REQUEST,
                               "Not Acceptable: this server answers with application/json; include it in Accept")
    ctype = headers.get("content-type")
    if ctype:
        kind = ctype.split(";", 1)[0].strip().lower()
        if kind != "application/json" and not kind.endswith("+json"):
            return _error_response(415, None, INVALID_REQUEST,
                                   "Unsupported Media Type: send the JSON-RPC message as application/json")
    try:
        message = parse_json(req.body, "body")
    except HTTPError as exc:  # not UTF-8, not JSON, too deep, NaN or an overflowing number
        return _error_response(400, None, PARSE_ERROR, f"Parse error: {exc.message}")
    try:
        return _dispatch(plugin, req, message, ctx)
    except _Forbidden as exc:
        return _error_response(403, _id_of(message), FORBIDDEN, exc.message,
                               headers={"www-authenticate": exc.challenge})


def _dispatch(plugin: Registry, req: Request, message: object, ctx: Context) -> dict:
    """The era-specific answer to a parsed message."""
    headers = req.headers
    version = headers.get("mcp-protocol-version")
    if version is not None:
        version = version.strip()
        if "," in version:  # API Gateway joins a repeated header with commas
            return _error_response(400, _id_of(message), HEADER_MISMATCH,
                                   "the MCP-Protocol-Version header appears more than once")
        if version in MODERN_VERSIONS:
            return _modern(plugin, req, message, version, ctx)
        if version not in HANDSHAKE_VERSIONS and not _is_initialize(message):
            return _unsupported_version(version, _id_of(message))
    elif _carries_modern_envelope(message):
        return _modern(plugin, req, message, None, ctx)
    if version not in HANDSHAKE_VERSIONS:
        version = DEFAULT_HEADER_VERSION
    if isinstance(message, list):
        return _batch(plugin, message, version, ctx)
    status, reply = _handshake(plugin, message, version, False, ctx)
    if reply is None:
        return {"statusCode": status, "headers": {}, "body": ""}
    return {"statusCode": status, "headers": _JSON_HEADERS.copy(),
            "body": reply if isinstance(reply, str) else encode_json(reply)}


# -- handshake era (2025-03-26 .. 2025-11-25) -------------------------------------------------
def _handshake(plugin: Registry, msg: object, version: str, in_batch: bool,
               ctx: Context) -> tuple[int, dict | str | None]:
    """(HTTP status, JSON-RPC reply (a dict, or already encoded) or None for "202 Accepted")."""
    try:
        method, rid, params = _envelope(msg)
    except _Fail as fail:
        return 400, {"jsonrpc": "2.0", "id": None, "error": fail.error()}
    ctx.mcp_method = method
    if method is None or rid is _NO_ID:  # a response or a notification: nothing to answer
        return 202, None
    try:
        if method == "tools/call":
            result = _call_tool(plugin, params, version, ctx)
        elif method == "tools/list":
            _check_cursor(params)
            result = {"tools": _catalog(plugin).tools(version)}
        elif method == "initialize":
            if in_batch:
                raise _Fail(INVALID_REQUEST, "initialize must not be part of a JSON-RPC batch")
            result = _initialize(plugin, params)
        elif method == "ping":
            result = {}
        elif method in APP_METHODS:
            result = _apps(plugin, method, params, version)
        elif version == TASKS_VERSION and method.startswith("tasks/") and _catalog(plugin).has_tasks:
            result = _tasks(plugin, method, params, version, ctx)
        else:
            raise _Fail(METHOD_NOT_FOUND, f"Method not found: {method[:100]}; this server offers tools "
                                          "(initialize, ping, tools/list, tools/call) and what initialize "
                                          "announces of resources/* and prompts/*")
    except _Fail as fail:
        return 200, {"jsonrpc": "2.0", "id": rid, "error": fail.error()}
    if isinstance(result, _Open):
        return 200, _HEAD + encode_json(rid) + _RESULT + result + "}}"
    return 200, {"jsonrpc": "2.0", "id": rid, "result": result}


def _batch(plugin: Registry, batch: list, version: str, ctx: Context) -> dict:
    if version not in BATCH_VERSIONS:
        return _error_response(400, None, INVALID_REQUEST,
                               f"JSON-RPC batches are not supported at protocol version {version}; "
                               "send one message per POST")
    if not batch:
        return _error_response(400, None, INVALID_REQUEST, "an empty JSON-RPC batch is not a request")
    replies = [reply for _, reply in (_handshake(plugin, m, version, True, ctx) for m in batch) if reply]
    if not replies:
        return {"statusCode": 202, "headers": {}, "body": ""}
    body = ",".join(r if isinstance(r, str) else encode_json(r) for r in replies)
    return {"statusCode": 200, "headers": _JSON_HEADERS.copy(), "body": f"[{body}]"}


def _initialize(plugin: Registry, params: dict) -> dict:
    proposed = params.get("protocolVersion")
    if not isinstance(proposed, str):
        raise _Fail(INVALID_PARAMS, "initialize needs params.protocolVersion (a string such as "
                                    f"{LATEST_HANDSHAKE_VERSION!r})")
    catalog = _catalog(plugin)
    version = proposed if proposed in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE_VERSION
    result: dict = {
        "protocolVersion": version,
        "capabilities": catalog.capabilities(version),
        "serverInfo": catalog.server_info,
    }
    if catalog.instructions:
        result["instructions"] = catalog.instructions
    return result


# -- stateless era (2026-07-28) ----------------------------------------------------------------
def _modern(plugin: Registry, req: Request, msg: object, header_version: str | None, ctx: Context) -> dict:
    if isinstance(msg, list):
        return _error_response(400, None, INVALID_REQUEST,
                               "JSON-RPC batches are not supported; send one request per POST")
    try:
        method, rid, params = _envelope(msg)
    except _Fail as fail:
        return _error_response(400, None, fail.code, fail.message)
    if method is None:
        return _error_response(400, None, INVALID_REQUEST,
                               "a JSON-RPC response cannot be posted to this server at protocol 2026-07-28")
    ctx.mcp_method = method
    if rid is _NO_ID:  # notifications are acknowledged and dropped
        return {"statusCode": 202, "headers": {}, "body": ""}
    try:
        _check_envelope(req.headers, method, params, header_version)
        if method == "tools/call":
            result = _call_tool(plugin, params, MODERN_VERSIONS[-1], ctx)
        elif method == "tools/list":
            _check_cursor(params)
            result = {"tools": _catalog(plugin).tools(MODERN_VERSIONS[-1]),
                      "ttlMs": LIST_TTL_MS, "cacheScope": CACHE_SCOPE}
        elif method == "server/discover":
            result = _discover(plugin)
        elif method in APP_METHODS:
            result = _apps(plugin, method, params, MODERN_VERSIONS[-1])
        elif method.startswith("tasks/") and _catalog(plugin).has_tasks:
            result = _tasks(plugin, method, params, MODERN_VERSIONS[-1], ctx)
        else:
            raise _Fail(METHOD_NOT_FOUND, f"Method not found: {method[:100]}; at protocol 2026-07-28 this "
                                          "server offers server/discover, tools/list, tools/call and what "
                                          "server/discover announces of resources/* and prompts/*")
    except _Fail as fail:
        return _error_response(MODERN_STATUS.get(fail.code, 200), rid, fail.code, fail.message, fail.data)
    tail = _catalog(plugin).modern_tail  # resultType and the serverInfo stamp, encoded once
    if isinstance(result, dict) and result.get("resultType") == "task":  # a task's handle says so itself
        body = _HEAD + encode_json(rid) + _RESULT + encode_json(result) + "}"
    elif isinstance(result, _Open):
        body = _HEAD + encode_json(rid) + _RESULT + result + tail + "}}"
    else:
        encoded = encode_json(result)[:-1]
        body = _HEAD + encode_json(rid) + _RESULT + encoded + (tail if result else tail[1:]) + "}}"
    return {"statusCode": 200, "headers": _JSON_HEADERS.copy(), "body": body}


def _check_envelope(headers: dict, method: str, params: dict, header_version: str | None) -> None:
    """The 2026-07-28 request ladder: the _meta envelope, then the headers that mirror it."""
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        raise _Fail(INVALID_PARAMS, f"params._meta must be an object carrying {PROTOCOL_VERSION_KEY!r} and "
                                    f"{CLIENT_CAPABILITIES_KEY!r} (protocol 2026-07-28)")
    missing = [k for k in (PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY) if k not in meta]
    if missing:
        raise _Fail(INVALID_PARAMS, f"params._meta is missing {', '.join(missing)}")
    body_version = meta[PROTOCOL_VERSION_KEY]
    if header_version is None or header_version != body_version:
        raise _Fail(HEADER_MISMATCH, f"the MCP-Protocol-Version header ({header_version or 'missing'}) does not "
                                     f"match params._meta[{PROTOCOL_VERSION_KEY!r}]")
    if headers.get("mcp-method") != method:
        raise _Fail(HEADER_MISMATCH, "the Mcp-Method header does not match the request's method")
    name_key = NAME_PARAMS.get(method)
    if name_key is not None:
        named = params.get(name_key)
        if named is not None and decode_header_value(headers.get("mcp-name")) != named:
            raise _Fail(HEADER_MISMATCH, f"the Mcp-Name header does not match params.{name_key}")
    if body_version not in MODERN_VERSIONS:  # unreachable through HTTP: the header already matched
        raise _Fail(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version",
                    {"supported": list(SUPPORTED_VERSIONS), "requested": str(body_version)})


def _discover(plugin: Registry) -> dict:
    catalog = _catalog(plugin)
    result: dict = {"supportedVersions": list(SUPPORTED_VERSIONS),
                    "capabilities": catalog.capabilities(MODERN_VERSIONS[-1]),
                    "ttlMs": LIST_TTL_MS, "cacheScope": CACHE_SCOPE}
    if catalog.instructions:
        result["instructions"] = catalog.instructions
    return result


def decode_header_value(value: str | None) -> str | None:
    """Undo the ``=?base64?...?=`` wrapping clients use for header values that are not plain ASCII.
    Whitespace around a value is not part of it (RFC 9110 section 5.5)."""
    value = value.strip(" \t") if value is not None else None
    if value is None or not (value.startswith("=?base64?") and value.endswith("?=")):
        return value
    import base64
    import binascii

    try:
        return base64.b64decode(value[9:-2], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _tasks(plugin: Registry, method: str, params: dict, version: str, ctx: Context) -> dict:
    from .surface_mcp_tasks import answer  # loaded by task requests only

    return answer(plugin, method, params, version, ctx)


# -- tools (both eras) ------------------------------------------------------------------------
def _call_tool(plugin: Registry, params: dict, version: str, ctx: Context) -> dict | _Open:
    name, op, arguments = _named(params, plugin.operations, "tool", "tools/call")
    ctx.operation = name
    check_scopes(op, ctx)
    if op.task != "forbidden":
        task = requested(op, params, version)
        if task is not None:
            from .surface_mcp_tasks import create

            return create(plugin, op, arguments, version, task, ctx)
    args, problem = arguments_of(op, arguments, ctx)
    if args is None:
        return problem  # type: ignore[return-value]
    return run_tool(op, args, version != "2025-03-26", ctx)
