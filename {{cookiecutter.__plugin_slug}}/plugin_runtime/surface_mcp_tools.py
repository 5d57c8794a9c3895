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
from .surface_mcp_wire import _Forbidden, _Open, _tool_error
from .transport import encode_json

if typing.TYPE_CHECKING:
    from .model_context import Context
    from .model_operation import Operation


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
        retry = "" if exc.retry_after is None else f" (retry after {exc.retry_after} seconds)"
        return _tool_error((exc.message or f"{name} refused this input") + retry)
    except Exception as exc:  # a bug in the operation: the owner reads the log, the model gets a sentence
        ctx.error = "server"
        ctx.log.exception(f"{name} failed: {type(exc).__name__}: {exc}")
        if bugs:
            raise Bug(f"{name} failed unexpectedly; the details are in the server's logs") from None
        return _tool_error(f"{name} failed unexpectedly; the details are in the server's logs")
    return tool_result(op, value, structured, ctx)


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
