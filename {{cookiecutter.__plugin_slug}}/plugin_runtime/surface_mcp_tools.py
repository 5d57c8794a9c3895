"""The MCP surface's tool calls: arguments checked against the tool's schema, the operation run,
its answer shaped as a CallToolResult. Shared by tools/call (surface_mcp) and a task's worker
(surface_mcp_tasks); imports only the wire below it.
"""

from __future__ import annotations

import typing

from .model_auth import current as auth_config
from .model_auth import scope_challenge
from .model_operation import ArgumentsError, OperationError
from .model_schema import validate
from .surface_mcp_wire import (
    CLIENT_CAPABILITIES_KEY,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    MISSING_CLIENT_CAPABILITY,
    MODERN_VERSIONS,
    TASKS_EXTENSION,
    TASKS_VERSION,
    _Fail,
    _Forbidden,
    _Open,
    _tool_error,
)
from .transport import encode_json

if typing.TYPE_CHECKING:
    from .model_context import Context
    from .model_operation import Operation


REQUIRED_TASKS = {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}


class Bug(Exception):
    """An operation raised something other than OperationError (a task records it as failed)."""


def check_scopes(op: Operation, ctx: Context) -> None:
    """A signed-in caller whose token lacks the tool's scopes: a 403 whose challenge names them."""
    caller = ctx.caller
    if op.scopes and caller is not None and caller.kind == "oauth" and not caller.has_scopes(op.scopes):
        raise _Forbidden(f"{op.name} needs the scope(s) {', '.join(op.scopes)}",
                         scope_challenge(ctx.origin, auth_config(), op.scopes))


def arguments_of(op: Operation, arguments: dict, ctx: Context) -> tuple[dict | None, dict | None]:
    """(the validated arguments with their defaults, None), or (None, the tool error naming the
    problem) when they do not fit the schema."""
    try:
        return op.arguments_from_json(arguments), None
    except ArgumentsError as exc:
        ctx.error = "client"
        return None, _tool_error(f"Invalid arguments for {op.name}: {exc}. The input schema is in tools/list.")


def run_tool(op: Operation, args: dict, structured: bool, ctx: Context, *, charge: bool = True,
             bugs: bool = False) -> dict | _Open:
    """The CallToolResult of running ``op`` on validated ``args``. An OperationError is a tool
    error the model reads; an unexpected exception too, unless ``bugs`` (then it raises Bug)."""
    name = op.name
    try:
        value = op.call(args, ctx, charge=charge)
    except OperationError as exc:  # 5xx: an upstream failed, which the owner's metrics count as a server error
        ctx.error = "server" if exc.status >= 500 else "client"
        return _tool_error(refusal(name, exc))
    except Exception as exc:  # a bug in the operation: the owner reads the log, the model gets a sentence
        ctx.error = "server"
        ctx.log.exception(f"{name} failed: {type(exc).__name__}: {exc}")
        if bugs:
            raise Bug(f"{name} failed unexpectedly; the details are in the server's logs") from None
        return _tool_error(f"{name} failed unexpectedly; the details are in the server's logs")
    return tool_result(op, value, structured, ctx)


def refusal(name: str, exc: OperationError) -> str:
    """What the model reads of an OperationError (a quota's says when to retry)."""
    retry = "" if exc.retry_after is None else f" (retry after {exc.retry_after} seconds)"
    return (exc.message or f"{name} refused this input") + retry


def tool_result(op: Operation, value: dict, structured: bool, ctx: Context) -> dict | _Open:
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


# -- whether a call becomes a task (surface_mcp_tasks creates it) ----------------------------
def declares_tasks(params: dict) -> bool:
    """Whether a 2026-07-28 request declares the tasks extension in its client capabilities."""
    meta = params.get("_meta")
    caps = meta.get(CLIENT_CAPABILITIES_KEY) if isinstance(meta, dict) else None
    extensions = caps.get("extensions") if isinstance(caps, dict) else None
    return isinstance(extensions, dict) and TASKS_EXTENSION in extensions


def requested(op: Operation, params: dict, version: str) -> dict | None:
    """What the client asks of the task this tools/call gets (``{"ttl": ...}`` or ``{}``), or
    None for the synchronous call; the error for a ``required`` tool called by a client that
    does not ask for a task. Light on purpose: a call that starts no task loads no task code."""
    if version in MODERN_VERSIONS:  # the server decides, for clients that declare the extension
        if declares_tasks(params):
            return {}
        if op.task == "required":
            raise _Fail(MISSING_CLIENT_CAPABILITY,
                        f"{op.name} runs only as a task: declare the {TASKS_EXTENSION} extension in "
                        f"params._meta[{CLIENT_CAPABILITIES_KEY!r}].extensions", REQUIRED_TASKS)
        return None
    task = params.get("task") if version == TASKS_VERSION else None
    if task is not None:
        if not isinstance(task, dict):
            raise _Fail(INVALID_PARAMS, 'params.task must be an object, e.g. {"ttl": 60000}')
        return task
    if op.task == "required":
        raise _Fail(METHOD_NOT_FOUND, f"{op.name} runs only as a task: call it with params.task (protocol "
                                      f"{TASKS_VERSION}) or with the {TASKS_EXTENSION} extension (2026-07-28)")
    return None
