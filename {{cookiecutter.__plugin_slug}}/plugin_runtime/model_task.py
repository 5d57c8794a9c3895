"""The model: tasks, operations an MCP client starts now and collects later::

    @plugin.operation(task="optional")     # or "required": only ever as a task
    def informe(mes: str, ctx: Context) -> Informe:
        for paso in pasos:
            if ctx.cancelled():            # the client cancelled: stop at the next step
                raise OperationError("cancelled")
            ctx.progress(f"paso {paso} de {len(pasos)}")
            ...

A task is one record in the store (so tasks need ``storage = "dynamodb"``; locally the SQLite
file), written before the client hears of it. A worker claims it, runs the operation and writes
the outcome; on Lambda the worker is an asynchronous invocation of this same function
(``InvocationType=Event``, no retries), under ``make serve`` a thread. Isolation is the store's:
a task lives in a partition derived from the verified caller that created it, so another
caller's task id names nothing in theirs ("not found", never "forbidden"). Ids come from the
operating system's CSPRNG (192 bits). The worker's event carries a random token that only the
record holds, so only an invocation made by the function itself can claim a task.

A worker that crashes or runs out of time cannot say so; the record can: the worker writes the
moment it must be done by, and any read after that moment (plus a margin) turns a ``working``
task into ``failed``, as does a task no worker claimed within Lambda's event age. Terminal states
(completed, failed, cancelled) never change: every write is conditional on the version read.
Records expire with the task's TTL (1 hour unless the client asks, from 1 minute to 1 day).
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
import typing

from .model_context import TASK_EVENT, Caller
from .model_store import (
    MAX_VALUE_BYTES,
    ConflictError,
    Store,
    StoreError,
    StoreInputError,
    _state,
    caller_partition,
    encode_value,
)

if typing.TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_TTL_MS = 3_600_000
MIN_TTL_MS = 60_000
MAX_TTL_MS = 86_400_000
POLL_INTERVAL_MS = 2_000
START_WITHIN_S = 90  # Lambda drops an event older than 60 s (tasks.tf), plus a margin
DEADLINE_GRACE_S = 10  # after the worker's deadline, before a reader calls it dead
LOCAL_RUN_S = 900  # a worker with no Lambda deadline (make serve): Lambda's longest
ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
ID_LENGTH = 32  # secrets.token_urlsafe(24)
TERMINAL = frozenset({"completed", "failed", "cancelled"})
FUNCTION_ENV = "AWS_LAMBDA_FUNCTION_NAME"  # set by Lambda: the worker is this same name
EVENT_KEY = TASK_EVENT  # the worker's event: {"plugin_task": {"p": ..., "id": ..., "t": ...}}
CHECK_EVERY_S = 1.0  # ctx.cancelled() reads the record at most this often
RECORD_MARGIN = 4_096  # what a record keeps besides the arguments: caller, origin, times, token
FAILED_CODE = -32603  # the JSON-RPC error a failed task shows (internal error): the details are in the logs


class TaskError(Exception):
    """A task request that cannot be served; ``message`` is for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TaskNotFound(TaskError):
    """No such task for this caller: wrong id, another caller's, or expired."""


class TaskInputError(TaskError):
    """Arguments a task cannot keep (too large, lone surrogates): the caller's to fix."""


class TaskTerminal(TaskError):
    """The task already ended (cancel of a completed task)."""


def now_ms() -> int:
    return int(_state.clock() * 1000)


def task_partition(caller: Caller | None) -> str:
    """Tasks live beside the caller's items, never among them; with auth = "none" every caller
    shares one partition and the unguessable id is all that protects a task."""
    return "t#anonymous" if caller is None else tasks_partition(caller_partition(caller))


def tasks_partition(partition: str) -> str:
    """The tasks of the caller whose items are in ``partition`` (as model_quota's quota_partition)."""
    return "t#" + partition.partition("#")[2]


def failure(message: str, code: int = FAILED_CODE) -> dict:
    """The changes that fail a task: its status message, and the JSON-RPC error tasks/get shows."""
    return {"status": "failed", "message": message, "error": {"code": code, "message": message}}


def valid_id(task_id: object) -> bool:
    return isinstance(task_id, str) and len(task_id) == ID_LENGTH and ID_CHARS.issuperset(task_id)


def clamp_ttl(requested: object) -> int:
    """The TTL a task gets: the client's (milliseconds) within [MIN_TTL_MS, MAX_TTL_MS], else the default."""
    if isinstance(requested, bool) or not isinstance(requested, (int, float)) or requested != requested:
        return DEFAULT_TTL_MS
    return int(min(max(requested, MIN_TTL_MS), MAX_TTL_MS))


class Task:
    """One task record as read (or written) at ``version``."""

    __slots__ = ("id", "partition", "record", "version")

    def __init__(self, partition: str, task_id: str, record: dict, version: int) -> None:
        self.partition, self.id, self.record, self.version = partition, task_id, record, version

    @property
    def status(self) -> str:
        return self.record["status"]

    @property
    def expires_ms(self) -> int:
        return self.record["created"] + self.record["ttl"]

    def store(self, remaining_ms: Callable[[], int | None] | None = None) -> Store:
        return Store(self.partition, remaining_ms)

    def reread(self, remaining_ms: Callable[[], int | None] | None = None) -> Task | None:
        """The record as it is now (after somebody else wrote it), or None once it is gone."""
        return read(self.partition, self.id, remaining_ms)

    def write(self, remaining_ms: Callable[[], int | None] | None = None, **changes: object) -> Task:
        """The record with ``changes``, written only if nobody wrote since it was read (else
        ConflictError); TaskNotFound when the TTL already ran out. A record that ended is never
        written again, whoever holds it (a worker that wrote its own outcome, then wrote more)."""
        if self.record["status"] in TERMINAL:
            raise ConflictError(f"the task already ended ({self.record['status']})")
        record = {**self.record, **changes, "updated": now_ms()}
        left = (self.expires_ms - record["updated"] + 999) // 1000
        if left <= 0:
            raise TaskNotFound("Task not found: it has expired")
        version = self.store(remaining_ms).put(self.id, record, ttl_seconds=int(left), if_version=self.version)
        return Task(self.partition, self.id, record, version)


def read(partition: str, task_id: str, remaining_ms: Callable[[], int | None] | None = None) -> Task | None:
    """The task ``task_id`` of ``partition`` as stored, or None."""
    item = Store(partition, remaining_ms).get(task_id)
    if item is None or not isinstance(item.value, dict):
        return None
    return Task(partition, task_id, item.value, item.version)


def caller_record(caller: Caller | None) -> dict | None:
    """What a worker needs to be the same caller: name, kind, scopes, and the claims the store's
    partition is derived from (never a token)."""
    if caller is None:
        return None
    claims = {k: caller.claims[k] for k in ("iss", "sub", "client_id") if k in caller.claims}
    return {"name": caller.name, "kind": caller.kind, "scopes": sorted(caller.scopes), "claims": claims}


def caller_from(data: object) -> Caller | None:
    if not isinstance(data, dict):
        return None
    return Caller(str(data["name"]), str(data["kind"]), frozenset(data.get("scopes") or ()), data.get("claims") or {})


# -- the request side: create, read, list, cancel ----------------------------------------------
def check_arguments(arguments: dict) -> None:
    """TaskInputError when a task record could not keep ``arguments`` (checked before the quota counts)."""
    try:
        size = len(encode_value(arguments).encode("utf-8"))
    except StoreInputError as exc:
        raise TaskInputError(f"the arguments cannot be kept with a task: {exc}") from None
    if size > MAX_VALUE_BYTES - RECORD_MARGIN:
        raise TaskInputError(f"the arguments cannot be kept with a task: they are {size} bytes as JSON, and a "
                             f"task keeps at most {MAX_VALUE_BYTES - RECORD_MARGIN}")


def create(operation: str, arguments: dict, caller: Caller | None, *, origin: str, ttl_ms: int,
           remaining_ms: Callable[[], int | None] | None = None) -> Task:
    """Write a new ``working`` task (durably, before anyone hears of it) and start its worker."""
    created = now_ms()
    partition = task_partition(caller)
    record = {"op": operation, "args": arguments, "caller": caller_record(caller), "origin": origin,
              "status": "working", "message": None, "created": created,
              "updated": created, "ttl": ttl_ms, "poll": POLL_INTERVAL_MS, "token": secrets.token_urlsafe(24),
              "claimed": False, "deadline": None, "start_by": created // 1000 + START_WITHIN_S,
              "result": None, "error": None}
    store = Store(partition, remaining_ms)
    for _ in range(3):  # a collision of 192 random bits does not happen; a conflict would say so
        task_id = secrets.token_urlsafe(24)
        try:
            version = store.put(task_id, record, ttl_seconds=max(1, ttl_ms // 1000), if_version=0)
        except ConflictError:
            continue
        except StoreInputError as exc:
            raise TaskInputError(f"the arguments cannot be kept with a task: {exc}") from None
        task = Task(partition, task_id, record, version)
        _start(task, remaining_ms)
        return task
    raise StoreError("could not find a free task id")  # pragma: no cover


def get(caller: Caller | None, task_id: object, remaining_ms: Callable[[], int | None] | None = None) -> Task:
    """The caller's task ``task_id``, settled (a dead worker's task reads as failed); TaskNotFound else."""
    if not valid_id(task_id):
        raise TaskNotFound("Task not found")
    task = read(task_partition(caller), task_id, remaining_ms)  # type: ignore[arg-type]
    if task is None:
        raise TaskNotFound("Task not found (or it has expired)")
    return settle(task, remaining_ms)


def settle(task: Task, remaining_ms: Callable[[], int | None] | None = None) -> Task:
    """A ``working`` task whose worker is past its deadline, or never started, becomes ``failed``."""
    record = task.record
    if record["status"] != "working":
        return task
    now = _state.clock()
    if record["claimed"]:
        if now <= (record["deadline"] or 0) + DEADLINE_GRACE_S:
            return task
        message = (f"the worker stopped before it finished: it ran out of time ({record.get('budget', '?')} s) "
                   "or crashed; the details are in the function's logs")
    elif now <= record["start_by"]:
        return task
    else:
        message = "the task never started: its worker was not run in time; the details are in the function's logs"
    try:
        return task.write(remaining_ms, **failure(message))
    except ConflictError:  # the worker (or another reader) wrote first: read what it wrote
        now_read = task.reread(remaining_ms)
        if now_read is None:
            raise TaskNotFound("Task not found (or it has expired)") from None
        return now_read


def list_tasks(caller: Caller | None, cursor: object = None, limit: int = 50,
               remaining_ms: Callable[[], int | None] | None = None) -> tuple[list[Task], str | None]:
    """One page of the caller's own tasks, oldest id first."""
    if cursor is not None and not isinstance(cursor, str):
        raise StoreInputError("the cursor is not one tasks/list returned")
    partition = task_partition(caller)
    page = Store(partition, remaining_ms).list(limit=limit, cursor=cursor)
    tasks = [settle(Task(partition, item.key, item.value, item.version), remaining_ms)  # type: ignore[arg-type]
             for item in page.items if isinstance(item.value, dict)]
    return tasks, page.cursor


def cancel(caller: Caller | None, task_id: object, remaining_ms: Callable[[], int | None] | None = None) -> Task:
    """Move the caller's task to ``cancelled`` (its worker stops at its next ctx.cancelled());
    TaskTerminal if it had already ended."""
    for _ in range(5):
        task = get(caller, task_id, remaining_ms)
        if task.status in TERMINAL:
            raise TaskTerminal(f"Cannot cancel task: already in terminal status '{task.status}'")
        try:
            return task.write(remaining_ms, status="cancelled", message="The task was cancelled by request.")
        except ConflictError:  # the worker wrote progress or its outcome meanwhile: look again
            continue
    raise StoreError("the task kept changing while it was being cancelled")  # pragma: no cover


def wait(caller: Caller | None, task_id: object, seconds: float,
         remaining_ms: Callable[[], int | None] | None = None) -> Task:
    """The task once terminal, or as it is after ``seconds`` of polling the store."""
    end = time.monotonic() + seconds
    pause = 0.05
    while True:
        task = get(caller, task_id, remaining_ms)
        if task.status in TERMINAL or time.monotonic() + pause > end:
            return task
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


# -- starting the worker ---------------------------------------------------------------------
class _Runner:
    run: Callable[[dict], None] | None = None  # make serve and the tests install a thread


def use_runner(run: Callable[[dict], None] | None) -> None:
    """How a worker event is delivered: by default Lambda's asynchronous invoke of this function;
    the local server installs a thread that hands the event to the plugin's handler."""
    _Runner.run = run


def _start(task: Task, remaining_ms: Callable[[], int | None] | None) -> None:
    event = {EVENT_KEY: {"p": task.partition, "id": task.id, "t": task.record["token"]}}
    try:
        if _Runner.run is not None:
            _Runner.run(event)
        else:
            function = os.environ.get(FUNCTION_ENV)
            if not function:
                raise TaskError("tasks run in an asynchronous invocation of the deployed function, and there is "
                                "none here (locally, make serve runs them in a thread)")
            from .model_aws import deadline_from, invoke_async

            invoke_async(function, event, deadline=deadline_from(remaining_ms))
    except Exception as exc:
        message = "the task could not be started; the details are in the function's logs"
        try:
            task.write(remaining_ms, **failure(message))
        except Exception:  # noqa: S110  (the record then fails itself at start_by)
            pass
        cause = exc.message if isinstance(exc, TaskError) else f"{type(exc).__name__}: {exc}"
        raise TaskError(f"its worker could not be started: {cause}") from exc


# -- the worker side -----------------------------------------------------------------------------
class Running:
    """The task a worker runs: ``ctx.cancelled()`` and ``ctx.progress()`` end up here."""

    __slots__ = ("_checked", "_remaining", "ended", "task")

    def __init__(self, task: Task, remaining_ms: Callable[[], int | None] | None) -> None:
        self.task, self._remaining, self._checked, self.ended = task, remaining_ms, time.monotonic(), False

    def cancelled(self) -> bool:
        """True once the task is no longer ``working`` (cancelled, or failed by a reader)."""
        if self.ended:
            return True
        if time.monotonic() - self._checked >= CHECK_EVERY_S:
            self._checked = time.monotonic()
            now_read = self.task.reread(self._remaining)
            self.ended = now_read is None or now_read.status != "working"
        return self.ended

    def progress(self, message: str) -> None:
        """Set the task's status message (what tasks/get shows while it works)."""
        if self.ended:
            return
        try:
            text = str(message)[:500].encode("utf-8", "replace").decode("utf-8")  # a lone surrogate: "?"
            self.task = self.task.write(self._remaining, message=text)
        except (ConflictError, TaskNotFound):
            self.ended = True  # somebody else ended it: cancelled, expired, or failed by a reader

    def finish(self, status: str, *, result: dict | None = None, error: dict | None = None,
               message: str | None = None) -> str:
        """Write the outcome unless the task already ended; the status the task now has."""
        try:
            self.task = self.task.write(self._remaining, status=status, result=result, error=error, message=message)
            return status
        except ConflictError:
            now_read = self.task.reread(self._remaining)
            return now_read.status if now_read is not None else "gone"
        except TaskNotFound:
            return "gone"

    def fail(self, message: str, code: int = FAILED_CODE) -> str:
        """Record the task as failed with ``message`` (unless it already ended); its status now."""
        return self.finish(**failure(message, code))


def claim(ref: object, remaining_ms: Callable[[], int | None] | None) -> Running | None:
    """The task a worker event names, claimed for this worker; None when the event names no task
    that is waiting for a worker, or carries the wrong token (so it was not sent by this function)."""
    if not isinstance(ref, dict):
        return None
    partition, task_id, token = ref.get("p"), ref.get("id"), ref.get("t")
    if not (isinstance(partition, str) and partition.startswith("t#") and len(partition) <= 64
            and valid_id(task_id) and isinstance(token, str)):
        return None
    found = read(partition, task_id, remaining_ms)  # type: ignore[arg-type]
    if found is None:
        return None
    record = found.record
    if not hmac.compare_digest(str(record.get("token", "")).encode(), token.encode("utf-8", "surrogatepass")):
        return None
    if task_partition(caller_from(record.get("caller"))) != partition:
        return None
    task = settle(found, remaining_ms)
    if task.status != "working" or task.record["claimed"]:
        return None  # cancelled before it started, already failed, or a second delivery
    left = remaining_ms() if remaining_ms is not None else None
    budget = LOCAL_RUN_S if left is None else max(1, int(left // 1000))
    try:
        task = task.write(remaining_ms, claimed=True, deadline=int(_state.clock()) + budget, budget=budget)
    except (ConflictError, TaskNotFound):
        return None
    return Running(task, remaining_ms)
