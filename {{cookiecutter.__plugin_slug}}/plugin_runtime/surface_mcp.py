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

Only the standard library is imported here: this module is on the cold-start path of an MCP call.
"""

from __future__ import annotations

import os
import typing

from .model_auth import BASE_SCOPE, AuthConfig, scope_challenge
from .model_auth import current as auth_config
from .model_log import log
from .model_operation import ArgumentsError, OperationError
from .model_schema import validate
from .transport import HTTPError, encode_json, json_response, parse_json

if typing.TYPE_CHECKING:
    from .model_context import Context
    from .model_operation import Operation
    from .model_registry import Registry
    from .model_resource import Prompt, Resource, Widget
    from .transport import Request

HANDSHAKE_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
SUPPORTED_VERSIONS = HANDSHAKE_VERSIONS + MODERN_VERSIONS
LATEST_HANDSHAKE_VERSION = HANDSHAKE_VERSIONS[-1]
DEFAULT_HEADER_VERSION = "2025-03-26"  # what a missing MCP-Protocol-Version header means
BATCH_VERSIONS = ("2025-03-26",)  # JSON-RPC batches were removed in 2025-06-18

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022
FORBIDDEN = -32001  # the same code the auth surface uses for a refused credential
# 2026-07-28 names an HTTP status per error code; the handshake era answers a request it
# accepted with 200 and the JSON-RPC error in the body (only unreadable input is a 400).
MODERN_STATUS = {PARSE_ERROR: 400, INVALID_REQUEST: 400, INVALID_PARAMS: 400, HEADER_MISMATCH: 400,
                 UNSUPPORTED_PROTOCOL_VERSION: 400, METHOD_NOT_FOUND: 404}

# tools/list and server/discover may be cached by clients this long: the tools only change
# with a deploy. "public": the answer is the same for every user.
LIST_TTL_MS = 60_000
CACHE_SCOPE = "public"

# Browser origins allowed to call /mcp (server-side connectors send no Origin at all). Add more
# with the MCP_ALLOWED_ORIGINS environment variable (comma-separated, "*" allows any) or with
# ``plugin.allowed_origins = [...]`` in handler.py. The API's own origin and localhost origins
# (e.g. the MCP Inspector) are always allowed.
DEFAULT_ALLOWED_ORIGINS = frozenset({"https://chatgpt.com", "https://chat.openai.com", "https://claude.ai"})
ORIGINS_ENV = "MCP_ALLOWED_ORIGINS"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
# Methods whose target the 2026-07-28 client mirrors in the Mcp-Name header.
NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}

_JSON_HEADERS = {"content-type": "application/json"}


# The hand-assembled reply around a pre-encoded result (also keeps this file free of double braces,
# which the project template would read as placeholders).
_HEAD = '{"jsonrpc":"2.0","id":'
_RESULT = ',"result":'


class _Open(str):
    """A tool result already encoded as JSON but without its closing brace, so that each era can
    append its own members; the hot path (tools/call) then encodes each value only once."""


class _Forbidden(Exception):
    """The caller's token lacks a tool's scopes: an HTTP 403 whose challenge names them."""

    def __init__(self, message: str, challenge: str) -> None:
        super().__init__(message)
        self.message, self.challenge = message, challenge


class _Fail(Exception):
    """A JSON-RPC error for the request being answered."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def error(self) -> dict:
        err: dict = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


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
            result = _call_tool(plugin, params, version != "2025-03-26", ctx)
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
    result: dict = {
        "protocolVersion": proposed if proposed in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE_VERSION,
        "capabilities": catalog.capabilities(modern=False),
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
            result = _call_tool(plugin, params, True, ctx)
        elif method == "tools/list":
            _check_cursor(params)
            result = {"tools": _catalog(plugin).tools(MODERN_VERSIONS[-1]),
                      "ttlMs": LIST_TTL_MS, "cacheScope": CACHE_SCOPE}
        elif method == "server/discover":
            result = _discover(plugin)
        elif method in APP_METHODS:
            result = _apps(plugin, method, params, MODERN_VERSIONS[-1])
        else:
            raise _Fail(METHOD_NOT_FOUND, f"Method not found: {method[:100]}; at protocol 2026-07-28 this "
                                          "server offers server/discover, tools/list, tools/call and what "
                                          "server/discover announces of resources/* and prompts/*")
    except _Fail as fail:
        return _error_response(MODERN_STATUS.get(fail.code, 200), rid, fail.code, fail.message, fail.data)
    tail = _catalog(plugin).modern_tail  # resultType and the serverInfo stamp, encoded once
    if isinstance(result, _Open):
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
                    "capabilities": catalog.capabilities(modern=True),
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


# -- tools (both eras) ------------------------------------------------------------------------
def _call_tool(plugin: Registry, params: dict, structured: bool, ctx: Context) -> dict | _Open:
    name, op, arguments = _named(params, plugin.operations, "tool", "tools/call")
    ctx.operation = name
    caller = ctx.caller
    if op.scopes and caller is not None and caller.kind == "oauth" and not caller.has_scopes(op.scopes):
        raise _Forbidden(f"{op.name} needs the scope(s) {', '.join(op.scopes)}",
                         scope_challenge(ctx.origin, auth_config(), op.scopes))
    try:
        args = op.arguments_from_json(arguments)
    except ArgumentsError as exc:
        ctx.error = "client"
        return _tool_error(f"Invalid arguments for {name}: {exc}. The input schema is in tools/list.")
    try:
        value = op.call(args, ctx)
    except OperationError as exc:
        ctx.error = "client"
        return _tool_error(str(exc) or f"{name} refused this input")
    except Exception as exc:  # a bug in the operation: the owner reads the log, the model gets a sentence
        ctx.error = "server"
        ctx.log.exception(f"{name} failed: {type(exc).__name__}: {exc}")
        return _tool_error(f"{name} failed unexpectedly; the details are in the server's logs")
    return _tool_result(op, value, structured, ctx)


def _tool_result(op: Operation, value: dict, structured: bool, ctx: Context) -> dict | _Open:
    try:
        text = encode_json(value)
    except ValueError:
        ctx.error = "client"
        return _tool_error("the result is not a finite number; use smaller inputs")
    except TypeError:
        ctx.error = "server"
        ctx.log.error(f"MCP tool {op.name} returned a value that is not JSON: {type(value).__name__}")
        return _tool_error(f"{op.name} returned a result that cannot be sent as JSON; see the server's logs")
    problem = validate(op.output_schema, value)
    if problem:
        ctx.error = "server"
        ctx.log.error(f"MCP tool {op.name} returned a result that does not match its return type: {problem}")
        return _tool_error(f"{op.name} returned a result that does not match its declared output: {problem}")
    content = '{"content":[{"type":"text","text":' + encode_json(text) + "}]"
    if structured:
        return _Open(f'{content},"structuredContent":{text},"isError":false')
    return _Open(f'{content},"isError":false')


def _named(params: dict, table: dict, kind: str, method: str) -> tuple[str, typing.Any, dict]:
    """(params.name, the tool or prompt it names in ``table``, params.arguments), or the error."""
    name = params.get("name")
    if not isinstance(name, str):
        raise _Fail(INVALID_PARAMS, f"{method} needs params.name, the name of a {kind} from {kind}s/list")
    found = table.get(name)
    if found is None:
        raise _Fail(INVALID_PARAMS, f"Unknown {kind}: {name[:100]!r}; {kind}s/list names the {kind}s "
                                    f"({', '.join(table) or 'none'})")
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    elif not isinstance(arguments, dict):
        raise _Fail(INVALID_PARAMS, "params.arguments must be an object of argument names and values")
    return name, found, arguments


def _tool_error(message: str) -> dict:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _check_cursor(params: dict) -> None:
    if params.get("cursor") is not None:
        raise _Fail(INVALID_PARAMS, "invalid cursor: every tool fits on one page (this server sends no nextCursor)")


class _Catalog:
    """What tools/list, initialize and server/discover say, built once per plugin."""

    def __init__(self, plugin: Registry, auth: AuthConfig) -> None:
        self.size = _size(plugin)
        self.auth = auth
        try:
            manifest = plugin.manifest
        except (OSError, ValueError):
            manifest = {}
        name = manifest.get("name_for_model") or "plugin"
        self.server_info = {"name": str(name), "title": str(manifest.get("name_for_human") or name),
                            "version": str(plugin.version)}
        self.instructions = str(manifest.get("description_for_model") or "")
        self.modern_tail = ',"resultType":"complete","_meta":' + encode_json({SERVER_INFO_KEY: self.server_info})
        self._plugin = plugin
        # Built on first use: a widget's URI carries a hash of its file, which is read only then.
        self._modern: list[dict] | None = None
        self._oldest: list[dict] | None = None
        self._widgets: list[tuple[Operation, Widget]] | None = None

    def tools(self, version: str) -> list[dict]:
        if self._modern is None or self._oldest is None:
            operations = self._plugin.operations.values()
            widgets = {op.name: widget for op, widget in self.widgets()}
            self._modern = [_tool(op, True, _tool_meta(op, widgets.get(op.name)), self.auth) for op in operations]
            self._oldest = [_tool(op, False) for op in operations]  # 2025-03-26 tools carry no _meta
        return self._oldest if version == "2025-03-26" else self._modern

    def widgets(self) -> list[tuple[Operation, Widget]]:
        """The operations' widgets that can be served; one whose file cannot be read is logged and
        left out, so its tool still works for every host (without a widget)."""
        if self._widgets is None:
            self._widgets = []
            for op in self._plugin.operations.values():
                widget = self._plugin.widget_for(op)
                try:
                    served = widget is not None and bool(widget.uri)  # reads the file, once
                except (OSError, ValueError) as exc:
                    log.error(f"MCP widget {widget.path} of {op.name} cannot be served: {exc}")  # type: ignore[union-attr]
                    served = False
                if served:
                    self._widgets.append((op, widget))
        return self._widgets

    def has_resources(self) -> bool:
        """Whether there is anything to list (without reading a widget: initialize stays light)."""
        plugin = self._plugin
        return bool(plugin.resources) or any(plugin.widget_for(op) for op in plugin.operations.values())

    def capabilities(self, modern: bool) -> dict:
        """What initialize and server/discover announce. Resources without ``subscribe``: a
        stateless server has no stream to send updates on."""
        capabilities: dict = {"tools": {"listChanged": False}}
        if self.has_resources():
            capabilities["resources"] = {"listChanged": False}
        if self._plugin.prompts:
            capabilities["prompts"] = {"listChanged": False}
        if modern and self.widgets():
            capabilities["extensions"] = {UI_EXTENSION: {}}
        return capabilities


def _size(plugin: Registry) -> tuple[int, int, int]:
    return len(plugin.operations), len(plugin.resources), len(plugin.prompts)


def _catalog(plugin: Registry) -> _Catalog:
    catalog = plugin.__dict__.get("_mcp_catalog")
    auth = auth_config()
    if catalog is None or catalog.size != _size(plugin) or catalog.auth is not auth:
        catalog = plugin.__dict__["_mcp_catalog"] = _Catalog(plugin, auth)
    return catalog


def _tool(op: Operation, titled: bool, meta: dict | None = None, auth: AuthConfig | None = None) -> dict:
    """One tool. 2025-03-26 has neither ``title`` nor ``outputSchema`` (only annotations.title).
    With OAuth, ``securitySchemes`` (read by OpenAI, mirrored in ``_meta``) names the scopes."""
    title = op.summary.rstrip(".") or op.name
    description = "\n\n".join(part for part in (op.summary, op.description) if part) or op.name
    tool: dict = {"name": op.name}
    if titled:
        tool["title"] = title
    tool["description"] = description
    tool["inputSchema"] = op.input_schema
    if titled:
        tool["outputSchema"] = op.output_schema
    tool["annotations"] = {"title": title, "readOnlyHint": op.read_only, "destructiveHint": op.destructive,
                           "idempotentHint": op.idempotent, "openWorldHint": op.open_world}
    if auth is not None and auth.mode == "oauth" and auth.oauth is not None:
        schemes = [{"type": "oauth2", "scopes": [auth.oauth.scope(n) for n in (BASE_SCOPE, *op.scopes)]}]
        tool["securitySchemes"] = schemes
        meta = {**(meta or {}), "securitySchemes": schemes}
    if meta:
        tool["_meta"] = meta
    return tool


# -- resources, prompts and widgets (both eras) ------------------------------------------------
APP_METHODS = frozenset({"resources/list", "resources/templates/list", "resources/read", "prompts/list",
                         "prompts/get"})
RESOURCE_NOT_FOUND = -32002  # before 2026-07-28; from then on an unknown resource is INVALID_PARAMS
INTERNAL_ERROR = -32603
UI_EXTENSION = "io.modelcontextprotocol/ui"
WIDGET_MIME_TYPE = "text/html;profile=mcp-app"
STATUS_TEXT_LIMIT = 64  # characters of openai/toolInvocation/invoking and /invoked that ChatGPT shows


def _apps(plugin: Registry, method: str, params: dict, version: str) -> dict:
    """resources/list, resources/templates/list, resources/read, prompts/list and prompts/get."""
    catalog = _catalog(plugin)
    modern = version in MODERN_VERSIONS
    titled = version != "2025-03-26"
    kind = method.split("/", 1)[0]
    if not (plugin.prompts if kind == "prompts" else catalog.has_resources()):
        raise _Fail(METHOD_NOT_FOUND, f"Method not found: {method}; this server has no {kind}")
    if method == "resources/read":
        result, ttl_ms = _read_resource(plugin, params, modern)
        if modern:
            result.update(ttlMs=ttl_ms, cacheScope=CACHE_SCOPE)
        return result
    if method == "prompts/get":
        return _get_prompt(plugin, params)
    _check_cursor(params)
    if method == "prompts/list":
        result: dict = {"prompts": [_prompt_entry(p, titled) for p in plugin.prompts.values()]}
    elif method == "resources/templates/list":
        result = {"resourceTemplates": [_resource_entry(r, titled, "uriTemplate")
                                        for r in plugin.resources.values() if r.is_template]}
    else:
        result = {"resources": [*(_widget_entry(w, titled) for _, w in catalog.widgets()),
                                *(_resource_entry(r, titled, "uri") for r in plugin.resources.values()
                                  if not r.is_template)]}
    if modern:
        result.update(ttlMs=LIST_TTL_MS, cacheScope=CACHE_SCOPE)
    return result


def _resource_entry(resource: Resource, titled: bool, key: str) -> dict:
    entry = {key: resource.uri, "name": resource.name}
    if titled and resource.title:
        entry["title"] = resource.title
    if resource.description:
        entry["description"] = resource.description
    entry["mimeType"] = resource.mime_type
    return entry


def _widget_entry(widget: Widget, titled: bool) -> dict:
    entry = {"uri": widget.uri, "name": widget.name, "description": widget.description,
             "mimeType": WIDGET_MIME_TYPE}
    if titled:
        entry["_meta"] = _widget_meta(widget)
    return entry


def _widget_meta(widget: Widget) -> dict:
    """The host's instructions for showing a widget: the standard ``ui`` keys (MCP Apps) and
    OpenAI's ``openai/*`` keys. Without a CSP entry a host blocks every outbound connection."""
    connect, resources = list(widget.connect_domains), list(widget.resource_domains)
    csp: dict = {"connectDomains": connect, "resourceDomains": resources}
    openai_csp: dict = {"connect_domains": connect, "resource_domains": resources}
    if widget.frame_domains:
        csp["frameDomains"] = openai_csp["frame_domains"] = list(widget.frame_domains)
    ui: dict = {"csp": csp, "prefersBorder": widget.prefers_border}
    meta: dict = {"ui": ui, "openai/widgetCSP": openai_csp, "openai/widgetPrefersBorder": widget.prefers_border,
                  "openai/widgetDescription": widget.description}
    if widget.domain:
        ui["domain"] = meta["openai/widgetDomain"] = widget.domain
    return meta


def _tool_meta(op: Operation, widget: Widget | None) -> dict | None:
    """A tool's ``_meta``: the widget it shows its result in, and the status texts."""
    if widget is None and op.invoking is None and op.invoked is None:
        return None
    meta: dict = {}
    if widget is not None:
        uri = widget.uri
        meta = {"ui": {"resourceUri": uri, "visibility": ["model", "app"]}, "ui/resourceUri": uri,
                "openai/outputTemplate": uri, "openai/widgetAccessible": True}
    meta["openai/toolInvocation/invoking"] = _status_text(op.invoking or f"Running {op.name}…")
    meta["openai/toolInvocation/invoked"] = _status_text(op.invoked or f"Ran {op.name}")
    return meta


def _status_text(text: str) -> str:
    return text if len(text) <= STATUS_TEXT_LIMIT else text[:STATUS_TEXT_LIMIT - 1] + "…"


def _read_resource(plugin: Registry, params: dict, modern: bool) -> tuple[dict, int]:
    """({"contents": [...]}, how long a client may cache it in ms)."""
    uri = params.get("uri")
    if not isinstance(uri, str) or not uri:
        raise _Fail(INVALID_PARAMS, "resources/read needs params.uri, a URI from resources/list")
    from .model_resource import Widget

    try:
        found = plugin.find_resource(uri)
        if found is None:
            raise _unknown_resource(uri, modern, "")
        target, values = found
        if isinstance(target, Widget):
            content = {"uri": uri, "mimeType": WIDGET_MIME_TYPE, "text": target.html, "_meta": _widget_meta(target)}
            return {"contents": [content]}, LIST_TTL_MS
        data = target.read(values)
    except _Fail:
        raise
    except (ArgumentsError, OperationError) as exc:  # template values that do not fit, or refused
        raise _unknown_resource(uri, modern, str(exc)) from None
    except Exception:  # an unreadable file or a bug in the resource: the owner reads the log
        import traceback

        traceback.print_exc()
        raise _Fail(INTERNAL_ERROR, f"reading {uri[:200]} failed unexpectedly; the details are in the server's "
                                    "logs") from None
    content = {"uri": uri, "mimeType": target.mime_type}
    if isinstance(data, bytes):
        import base64

        content["blob"] = base64.b64encode(data).decode("ascii")
    else:
        content["text"] = data
    return {"contents": [content]}, (LIST_TTL_MS if target.file is not None else 0)


def _unknown_resource(uri: str, modern: bool, why: str) -> _Fail:
    message = f"Resource not found: {uri[:200]}" + (f" ({why})" if why else
                                                    "; resources/list and resources/templates/list name them")
    return _Fail(INVALID_PARAMS if modern else RESOURCE_NOT_FOUND, message, {"uri": uri})


def _prompt_entry(prompt: Prompt, titled: bool) -> dict:
    entry: dict = {"name": prompt.name}
    if titled and prompt.title:
        entry["title"] = prompt.title
    entry["description"] = prompt.description
    arguments = []
    for p in prompt.params:
        argument = {"name": p.name}
        if p.schema.get("description"):
            argument["description"] = p.schema["description"]
        argument["required"] = p.required
        arguments.append(argument)
    entry["arguments"] = arguments
    return entry


def _get_prompt(plugin: Registry, params: dict) -> dict:
    name, prompt, arguments = _named(params, plugin.prompts, "prompt", "prompts/get")
    try:
        messages = prompt.messages(arguments)
    except ArgumentsError as exc:
        raise _Fail(INVALID_PARAMS, f"Invalid arguments for prompt {name}: {exc}. prompts/list describes "
                                    "them.") from None
    except OperationError as exc:
        raise _Fail(INVALID_PARAMS, str(exc) or f"prompt {name} refused these arguments") from None
    except Exception:  # a bug in the prompt: the owner reads the log, the client gets a sentence
        import traceback

        traceback.print_exc()
        raise _Fail(INTERNAL_ERROR, f"prompt {name} failed unexpectedly; the details are in the server's "
                                    "logs") from None
    return {"description": prompt.description, "messages": messages}


# -- JSON-RPC plumbing ------------------------------------------------------------------------
class _NoId:
    __slots__ = ()


_NO_ID = _NoId()


def _envelope(msg: object) -> tuple[str | None, object, dict]:
    """(method or None for a response, id or _NO_ID for a notification, params) of a message."""
    if not isinstance(msg, dict):
        raise _Fail(INVALID_REQUEST, "Invalid Request: a JSON-RPC message must be a JSON object")
    if msg.get("jsonrpc") != "2.0":
        raise _Fail(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
    method = msg.get("method")
    if method is None:
        if "id" in msg and ("result" in msg) != ("error" in msg):
            return None, msg["id"], {}
        raise _Fail(INVALID_REQUEST, 'Invalid Request: a request needs a "method" string')
    if not isinstance(method, str) or not method:
        raise _Fail(INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string')
    rid = msg.get("id", _NO_ID)
    if rid is not _NO_ID and (isinstance(rid, bool) or not isinstance(rid, (str, int))):
        raise _Fail(INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer')
    params = msg.get("params")
    if params is None:
        params = {}
    elif not isinstance(params, dict):
        raise _Fail(INVALID_REQUEST, 'Invalid Request: "params" must be an object')
    return method, rid, params


def _is_initialize(msg: object) -> bool:
    return isinstance(msg, dict) and msg.get("method") == "initialize"


def _carries_modern_envelope(msg: object) -> bool:
    if not isinstance(msg, dict):
        return False
    params = msg.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and PROTOCOL_VERSION_KEY in meta


def _accepts_json(accept: str) -> bool:
    for item in accept.lower().split(","):
        kind = item.split(";", 1)[0].strip()
        if kind in ("application/json", "application/*", "*/*") or kind.endswith("+json"):
            return True
    return False


def _id_of(msg: object) -> object:
    """The id of a request, for an error that rejects it before it is read (None if unusable)."""
    rid = msg.get("id") if isinstance(msg, dict) else None
    return rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def _unsupported_version(requested: str, rid: object) -> dict:
    return _error_response(400, rid, UNSUPPORTED_PROTOCOL_VERSION,
                           f"Unsupported protocol version {requested[:40]!r}; supported: "
                           f"{', '.join(SUPPORTED_VERSIONS)}",
                           {"supported": list(SUPPORTED_VERSIONS), "requested": requested[:100]})


def _error_response(status: int, rid: object, code: int, message: str, data: object = None,
                    headers: dict | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return json_response(status, {"jsonrpc": "2.0", "id": rid, "error": error}, headers)


# -- Origin policy ------------------------------------------------------------------------------
def is_local_origin(origin: str) -> bool:
    """http(s)://localhost, 127.0.0.1 or [::1], on any port."""
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme not in ("http", "https"):
        return False
    if rest.startswith("["):
        end = rest.find("]") + 1
        host, port = rest[:end], rest[end:]
    else:
        host, _, port = rest.partition(":")
        port = ":" + port if port else ""
    return host in LOCAL_HOSTS and (port == "" or (port[:1] == ":" and port[1:].isdigit()))


def extra_allowed_origins(plugin: object = None) -> set[str]:
    """Origins added by the MCP_ALLOWED_ORIGINS variable and ``plugin.allowed_origins``."""
    extra = {o.strip().rstrip("/").lower() for o in os.environ.get(ORIGINS_ENV, "").split(",") if o.strip()}
    extra.update(str(o).strip().rstrip("/").lower() for o in getattr(plugin, "allowed_origins", ()) or ())
    return extra


def origin_allowed(plugin: object, req: Request | None, origin: str) -> bool:
    """Whether a browser page at ``origin`` may call /mcp (DNS-rebinding and CSRF protection)."""
    seen = origin.strip().rstrip("/").lower()
    if seen in DEFAULT_ALLOWED_ORIGINS or is_local_origin(seen):
        return True
    extra = extra_allowed_origins(plugin)
    if "*" in extra or seen in extra:
        return True
    if req is None:
        return False
    try:
        return seen == req.origin.lower()
    except HTTPError:
        return False
