"""The MCP surface's tasks, in both eras' shapes (the records and their rules are model_task's).

- 2025-11-25 (experimental ``tasks`` utility): initialize announces ``capabilities.tasks``, a
  tool lists ``execution.taskSupport``, the client asks with ``params.task`` and gets
  ``{"task": {...}}``; then tasks/get, tasks/result (waits for the end, as long as API Gateway's
  30 s allow), tasks/list (the caller's own) and tasks/cancel. A tool error ends ``failed``.
- 2026-07-28 (the ``io.modelcontextprotocol/tasks`` extension): server/discover announces the
  extension; a request that declares it in its client capabilities gets a flat
  ``resultType: "task"`` result for a task tool; tasks/get inlines the result or the error,
  tasks/update and tasks/cancel acknowledge. A tool error ends ``completed`` with ``isError``.

A client that does not speak tasks gets the synchronous call for ``task="optional"`` and a clear
error for ``task="required"``. ``work`` is the worker: the asynchronous invocation that runs the
operation and records its outcome.
"""

from __future__ import annotations

import contextlib
import json
import time
import typing

from .model_context import Context
from .model_log import bind, log
from .model_operation import OperationError
from .model_store import StoreError, StoreInputError
from .model_task import (
    EVENT_KEY,
    TERMINAL,
    Task,
    TaskError,
    TaskInputError,
    TaskTerminal,
    caller_from,
    check_arguments,
    claim,
    clamp_ttl,
)
from .surface_mcp_tools import REQUIRED_TASKS, Bug, arguments_of, declares_tasks, refusal, run_tool
from .surface_mcp_wire import (
    CLIENT_CAPABILITIES_KEY,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MISSING_CLIENT_CAPABILITY,
    MODERN_VERSIONS,
    RELATED_TASK_KEY,
    TASKS_EXTENSION,
    _Fail,
    _Open,
    _tool_error,
)
from .transport import MCP_PATH
from .transport_log import metrics_namespace, task_event

if typing.TYPE_CHECKING:
    from .model_operation import Operation
    from .model_registry import Registry

RESULT_WAIT_S = 20.0  # tasks/result waits this long at most: API Gateway ends a request at 30 s
IMMEDIATE_KEY = "io.modelcontextprotocol/model-immediate-response"
LEGACY_METHODS = frozenset({"tasks/get", "tasks/result", "tasks/list", "tasks/cancel"})
MODERN_METHODS = frozenset({"tasks/get", "tasks/update", "tasks/cancel"})


def create(plugin: Registry, op: Operation, arguments: dict, version: str, asked: dict,
           ctx: Context) -> dict | _Open:
    """Check the call as a synchronous one would be checked, count it against the quota, store
    the task and start its worker; the era's CreateTaskResult."""
    from .model_task import create as create_task

    modern = version in MODERN_VERSIONS
    args, problem = arguments_of(op, arguments, ctx)
    if args is None:  # 2026-07-28 may answer a task tool synchronously; 2025-11-25 expects a task
        if modern:
            return problem  # type: ignore[return-value]
        raise _Fail(INVALID_PARAMS, problem["content"][0]["text"])  # type: ignore[index]
    try:
        check_arguments(arguments)  # kept as the client sent them: defaults may be no JSON (an Enum, a date)
    except TaskInputError as exc:
        return _refuse(op, exc, modern, ctx)
    try:
        op.charge(ctx)
    except OperationError as exc:
        ctx.error = "client"
        if modern:
            return _tool_error(refusal(op.name, exc))
        raise _Fail(INVALID_REQUEST, refusal(op.name, exc)) from None
    try:
        task = create_task(op.name, arguments, ctx.caller, origin=ctx.origin, ttl_ms=clamp_ttl(asked.get("ttl")),
                           remaining_ms=ctx.remaining_ms)
    except TaskInputError as exc:
        return _refuse(op, exc, modern, ctx)
    except (TaskError, StoreError) as exc:
        ctx.error = "server"
        ctx.log.error(f"the task for {op.name} was not started: {getattr(exc, 'message', exc)}")
        raise _Fail(INTERNAL_ERROR, f"the task for {op.name} could not be started; the details are in the "
                                    "server's logs") from None
    task_event(ctx, "created", task.id, metrics_namespace(plugin))
    if modern:
        return {"resultType": "task", **fields(task, version)}  # its own resultType, not "complete"
    return {"task": fields(task, version),
            "_meta": {IMMEDIATE_KEY: f"{op.name} is running as a background task; its result will follow."}}


def _refuse(op: Operation, exc: TaskInputError, modern: bool, ctx: Context) -> dict:
    """Arguments the task cannot keep: the caller's error, answered as bad arguments are."""
    ctx.error = "client"
    text = f"Invalid arguments for {op.name}: {exc.message}"
    if modern:
        return _tool_error(text)
    raise _Fail(INVALID_PARAMS, text)


# -- tasks/* --------------------------------------------------------------------------------------
def answer(plugin: Registry, method: str, params: dict, version: str, ctx: Context) -> dict:
    """One tasks/* request of the caller in ``ctx``; another caller's task is "not found"."""
    modern = version in MODERN_VERSIONS
    methods = MODERN_METHODS if modern else LEGACY_METHODS
    if method not in methods:
        raise _Fail(METHOD_NOT_FOUND, f"Method not found: {method[:100]}; at protocol {version} the task methods "
                                      f"are {', '.join(sorted(methods))}")
    if modern and not declares_tasks(params):
        raise _Fail(MISSING_CLIENT_CAPABILITY, f"{method} needs the {TASKS_EXTENSION} extension declared in "
                                               f"params._meta[{CLIENT_CAPABILITIES_KEY!r}].extensions", REQUIRED_TASKS)
    from .model_task import cancel, get

    try:
        if method == "tasks/list":
            return _list(params, version, ctx)
        task_id = params.get("taskId")
        if not isinstance(task_id, str):
            raise _Fail(INVALID_PARAMS, f"{method} needs params.taskId, the id tools/call returned")
        if method == "tasks/get":
            task = get(ctx.caller, task_id, ctx.remaining_ms)
            return fields(task, version, inline=modern)
        if method == "tasks/update":  # nothing here ever waits for input: acknowledged, ignored
            get(ctx.caller, task_id, ctx.remaining_ms)
            return {}
        if method == "tasks/cancel":
            try:
                task = cancel(ctx.caller, task_id, ctx.remaining_ms)
            except TaskTerminal:
                if modern:  # 2026-07-28: cancelling an ended task is acknowledged like any other
                    return {}
                raise
            task_event(ctx, "cancelled", task.id, metrics_namespace(plugin))
            return {} if modern else fields(task, version)
        return _result(task_id, version, ctx)  # tasks/result
    except TaskError as exc:
        raise _Fail(INVALID_PARAMS, exc.message) from None
    except StoreInputError as exc:
        raise _Fail(INVALID_PARAMS, str(exc)) from None
    except StoreError as exc:  # the store is out of reach (or the caller has no identity): the owner's to fix
        ctx.error = "server"
        ctx.log.error(f"{method} could not use the store: {exc}")
        raise _Fail(INTERNAL_ERROR, f"{method} could not be answered: the task store failed; the details are in "
                                    "the server's logs") from None


def _list(params: dict, version: str, ctx: Context) -> dict:
    from .model_task import list_tasks

    if ctx.caller is None:  # with auth = "none" callers are not told apart: nothing to list safely
        raise _Fail(METHOD_NOT_FOUND, "tasks/list is not offered: this server cannot tell its callers apart "
                                      "(auth = none), so it could only list everybody's tasks")
    tasks, cursor = list_tasks(ctx.caller, params.get("cursor"), remaining_ms=ctx.remaining_ms)
    result: dict = {"tasks": [fields(t, version) for t in tasks]}
    if cursor is not None:
        result["nextCursor"] = cursor
    return result


def _result(task_id: str, version: str, ctx: Context) -> dict:
    """2025-11-25 tasks/result: the call's own answer once the task ended (waiting for it first)."""
    from .model_task import wait

    left = ctx.remaining_ms()
    seconds = RESULT_WAIT_S if left is None else max(0.0, min(RESULT_WAIT_S, left / 1000 - 3))
    task = wait(ctx.caller, task_id, seconds, ctx.remaining_ms)
    record = task.record
    if task.status not in TERMINAL:
        raise _Fail(INTERNAL_ERROR, f"the task is still working after {seconds:.0f} s, as long as one request may "
                                    "wait; poll tasks/get and ask again once it has ended")
    related = {RELATED_TASK_KEY: {"taskId": task.id}}
    if record.get("result") is not None:
        return {**record["result"], "_meta": related}
    if task.status == "cancelled":
        raise _Fail(INVALID_PARAMS, "the task was cancelled, so it has no result")
    error = record.get("error") or {"code": INTERNAL_ERROR, "message": "the task failed"}
    raise _Fail(int(error.get("code", INTERNAL_ERROR)), str(error.get("message", "the task failed")), error.get("data"))


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def fields(task: Task, version: str, inline: bool = False) -> dict:
    """The task as the era shows it; ``inline`` (2026-07-28 tasks/get): with its result or error."""
    record = task.record
    modern = version in MODERN_VERSIONS
    status = record["status"]
    result = record.get("result")
    tool_error = isinstance(result, dict) and result.get("isError") is True
    if tool_error and not modern and status == "completed":
        status = "failed"  # 2025-11-25: a tool result with isError fails the task
    out: dict = {"taskId": task.id, "status": status}
    message = record.get("message")
    if not message and tool_error and status == "failed":
        message = str(result["content"][0].get("text", ""))[:500]  # type: ignore[index]
    if message:
        out["statusMessage"] = message
    out["createdAt"], out["lastUpdatedAt"] = _iso(record["created"]), _iso(record["updated"])
    if modern:
        out["ttlMs"], out["pollIntervalMs"] = record["ttl"], record["poll"]
    else:
        out["ttl"], out["pollInterval"] = record["ttl"], record["poll"]
    if inline:
        if record["status"] == "completed" and result is not None:
            out["result"] = result
        elif record["status"] == "failed":
            out["error"] = record.get("error") or {"code": INTERNAL_ERROR, "message": message or "the task failed"}
    return out


# -- the worker -----------------------------------------------------------------------------------
def work(plugin: Registry, event: dict, lambda_context: object) -> dict:
    """Run the task a worker event names and record its outcome. Never raises: Lambda would retry."""
    started = time.perf_counter()
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    remaining = remaining if callable(remaining) else None
    try:
        running = claim(event.get(EVENT_KEY), remaining)
    except Exception as exc:  # the store could not be read: the task fails itself at its start_by
        log.exception(f"a task event could not be claimed: {type(exc).__name__}: {exc}")
        return {"status": "unclaimed"}
    if running is None:
        log.warning("a task event named no task waiting for a worker (repeated, cancelled, or not sent by this "
                    "function); ignored")
        return {"status": "ignored"}
    record = running.task.record
    ctx = Context(lambda_context=lambda_context, surface="mcp", caller=caller_from(record["caller"]),
                  method="TASK", path=MCP_PATH)
    ctx._origin = record["origin"]
    ctx.operation, ctx.mcp_method, ctx.task = record["op"], "tools/call", running
    bind(ctx)
    status = "failed"
    try:
        status = _run(plugin, running, record, ctx)
    except Exception as exc:  # the store failed while recording: the record fails itself at its deadline
        ctx.log.exception(f"task of {record['op']} could not record its outcome: {type(exc).__name__}: {exc}")
    except BaseException as exc:  # SystemExit, KeyboardInterrupt: the process ends, the task fails now
        message = (f"the worker stopped before it finished ({type(exc).__name__}); the details are in the "
                   "function's logs")
        with contextlib.suppress(Exception):  # else the record fails itself at its deadline
            running.fail(message)
        raise
    finally:
        task_event(ctx, status, running.task.id, metrics_namespace(plugin),
                   round((time.perf_counter() - started) * 1000, 3))
        bind(None)
    return {"status": status}


def _run(plugin: Registry, running: typing.Any, record: dict, ctx: Context) -> str:
    op = plugin.operations.get(record["op"])
    if op is None:
        message = f"the tool {record['op']} no longer exists (the plugin was deployed again meanwhile)"
        return running.fail(message, INVALID_PARAMS)
    args, problem = arguments_of(op, record["args"], ctx)  # the defaults, filled in again
    if args is None:  # the tool's schema changed since (a deploy): the call's own answer
        return running.finish("completed", result=problem)
    try:
        out = run_tool(op, args, True, ctx, charge=False, bugs=True)  # tasks exist from 2025-11-25 on: structured
    except Bug as exc:
        return running.fail(str(exc))
    result = json.loads(out + "}") if isinstance(out, _Open) else out
    try:
        return running.finish("completed", result=result)
    except StoreInputError as exc:
        message = f"{op.name}'s result is too large to keep with a task: {exc}"
        ctx.log.error(message)
        return running.fail(message)
