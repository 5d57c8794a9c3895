"""The MCP surface's wire: protocol versions, JSON-RPC error codes, the envelope checks shared
by both eras, and the browser-origin policy. The bottom of the ``surface_mcp*`` family: it
imports nothing from its siblings.
"""

from __future__ import annotations

import os
import typing

from .transport import HTTPError, json_response

if typing.TYPE_CHECKING:
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
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"  # 2026-07-28; 2025-11-25 has capabilities.tasks
TASKS_VERSION = "2025-11-25"  # the one handshake-era version with tasks (experimental)
RELATED_TASK_KEY = "io.modelcontextprotocol/related-task"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022
FORBIDDEN = -32001  # the same code the auth surface uses for a refused credential
# 2026-07-28 names an HTTP status per error code; the handshake era answers a request it
# accepted with 200 and the JSON-RPC error in the body (only unreadable input is a 400).
MODERN_STATUS = {PARSE_ERROR: 400, INVALID_REQUEST: 400, INVALID_PARAMS: 400, HEADER_MISMATCH: 400,
                 UNSUPPORTED_PROTOCOL_VERSION: 400, MISSING_CLIENT_CAPABILITY: 400, METHOD_NOT_FOUND: 404}

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
NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri", "tasks/get": "taskId",
               "tasks/update": "taskId", "tasks/cancel": "taskId"}

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
