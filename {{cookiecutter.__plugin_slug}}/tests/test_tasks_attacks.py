"""MCP Tasks under attack: what another caller, a forged or replayed worker event, a failing
store and hostile input can and cannot do. Each test pins one property the design promises
(model_task's docstring); the helpers are test_tasks'."""

from __future__ import annotations

import base64
import datetime
import enum
import json

import pytest
import test_tasks
from conftest import PROJECT, caller, make_event
from test_mcp import mcp_event, rpc
from test_tasks import (
    LEGACY,
    SEPARATE,
    Lambda,
    legacy,
    modern,
    run_workers,
    start_legacy,
    start_modern,
)

from plugin_runtime import Context, Plugin, model_store, model_task
from plugin_runtime.model_context import Caller
from plugin_runtime.model_store_errors import StoreError

clock, events, plugin, call = test_tasks.clock, test_tasks.events, test_tasks.plugin, test_tasks.call  # fixtures
ALICE = Caller("alice", "api_key")
BOB = Caller("bob", "api_key")
SECRET = "sk_live_do_not_log_me"


def echo_plugin(hooks: dict | None = None) -> Plugin:
    """A task tool that takes text (the tasks_plugin's tools take numbers only)."""
    plugin = Plugin(version="1.0.0", root=str(PROJECT))
    hooks = hooks if hooks is not None else {}

    @plugin.operation(task="optional", quota=hooks.get("quota"))
    def eco(texto: str, ctx: Context) -> dict[str, str]:
        """Devuelve el texto."""
        return {"texto": texto[:10]}

    return plugin


def started(plugin, operation: str, who: Caller | None, arguments: dict | None = None) -> model_task.Task:
    """A task created at the model level for ``who`` (any auth mode: the caller is given, not signed in)."""
    return model_task.create(operation, {"pasos": 2} if arguments is None else arguments, who,
                             origin="https://example.com", ttl_ms=600_000)


def status_of(task: model_task.Task, who: Caller | None) -> str:
    return model_task.get(who, task.id).status


# -- the worker event: only this function, only once ------------------------------------------
def test_a_worker_event_inside_an_http_request_runs_nothing(plugin, call, clock, events):
    task = start_legacy(call)
    real = events[0]
    # as a JSON-RPC body, as a REST body, as a query parameter: an HTTP request like any other
    status, _, body = call(mcp_event({"jsonrpc": "2.0", "id": 1, "method": "tools/call", **real}, LEGACY))
    assert status in (200, 400) and "error" in body
    status, _, body = call(mcp_event(real, LEGACY))
    assert status == 400 and body["error"]["code"] == -32600
    assert call(make_event("POST", "/contar", real))[0] == 400
    # beside a requestContext (what API Gateway always sends) the key is ignored: routed as HTTP
    call({**make_event("POST", "/contar", {"pasos": 1}), **real})
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "working"
    assert model_task.get(_owner_of(call, task), task["taskId"]).record["claimed"] is False
    assert run_workers(plugin, events) == [{"status": "completed"}]  # the real one still works


def _owner_of(call, task: dict) -> Caller | None:
    """The test session's caller, as the runtime verified it (the one tasks/get answered)."""
    seen: list = []
    original = model_task.get

    def spy(who, task_id, remaining_ms=None):
        seen.append(who)
        return original(who, task_id, remaining_ms)

    model_task.get = spy  # type: ignore[assignment]
    try:
        legacy(call, "tasks/get", {"taskId": task["taskId"]})
    finally:
        model_task.get = original  # type: ignore[assignment]
    return seen[0]


@pytest.mark.parametrize("ending", ["completed", "cancelled", "failed"])
def test_a_replayed_worker_event_runs_nothing_once_the_task_ended(plugin, call, clock, events, ending):
    task = start_legacy(call, ttl=600_000)
    event = dict(events[0])
    if ending == "completed":
        assert run_workers(plugin, events) == [{"status": "completed"}]
    elif ending == "cancelled":
        legacy(call, "tasks/cancel", {"taskId": task["taskId"]})
    else:
        clock[0] += model_task.START_WITHIN_S + 1  # never claimed in time: a reader fails it
        assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "failed"
    before = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    for _ in range(2):
        assert plugin.lambda_handler(json.loads(json.dumps(event)), Lambda()) == {"status": "ignored"}
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"] == before


def test_another_callers_partition_or_token_forged_into_a_worker_event_runs_nothing(plugin, clock, events):
    mine, theirs = started(plugin, "contar", ALICE), started(plugin, "contar", BOB)
    real_mine, real_theirs = (e[model_task.EVENT_KEY] for e in events)
    forged = [
        {**real_mine, "p": real_theirs["p"]},  # my id and token, in the other caller's partition
        {**real_mine, "t": real_theirs["t"]},  # my id with the other task's token
        {**real_theirs, "id": real_mine["id"]},  # my id in their partition with their token
        {**real_mine, "p": model_task.task_partition(None)},  # the anonymous partition
        {**real_mine, "p": "c#" + real_mine["p"][2:]},  # the caller's own store, not its tasks
        {**real_mine, "p": "app"},
        {**real_mine, "t": real_mine["t"][:-1]},
        {**real_mine, "t": real_mine["t"] + "A"},
        {**real_mine, "t": ""},
        {**real_mine, "t": "\ud800" * 32},
    ]
    for ref in forged:
        assert plugin.lambda_handler({model_task.EVENT_KEY: ref}, Lambda()) == {"status": "ignored"}, ref
    assert status_of(mine, ALICE) == status_of(theirs, BOB) == "working"
    assert not model_task.get(ALICE, mine.id).record["claimed"]
    assert run_workers(plugin, events) == [{"status": "completed"}, {"status": "completed"}]


# -- another caller ----------------------------------------------------------------------------
def test_another_caller_can_neither_cancel_nor_tell_a_task_from_a_random_id(plugin, call, clock, events,
                                                                           signed_in):
    bob = signed_in("bob")
    task, created = start_legacy(call), start_modern(call)
    unknown = "Q" * model_task.ID_LENGTH
    if not SEPARATE:  # with auth = none there is one caller: the id is the only secret, and a wrong one finds nothing
        assert legacy(call, "tasks/get", {"taskId": unknown})["error"]["code"] == -32602
        assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "working"
        return
    for method in ("tasks/cancel", "tasks/get", "tasks/result"):
        theirs = legacy(call, method, {"taskId": task["taskId"]}, headers=bob)
        nobody = legacy(call, method, {"taskId": unknown}, headers=bob)
        assert theirs == nobody and theirs["error"]["code"] == -32602
    for method in ("tasks/cancel", "tasks/update", "tasks/get"):
        theirs = modern(call, method, {"taskId": created["taskId"]}, headers=bob)
        nobody = modern(call, method, {"taskId": unknown}, headers=bob)
        assert theirs == nobody and theirs[0] == 400
    assert legacy(call, "tasks/list", headers=bob)["result"] == {"tasks": []}
    assert run_workers(plugin, events) == [{"status": "completed"}, {"status": "completed"}]


def test_the_same_subject_from_another_issuer_is_another_caller(plugin, clock, events):
    here = Caller("u1", "oauth", frozenset({"invoke"}), {"iss": "https://idp.example.com", "sub": "u1"})
    there = Caller("u1", "oauth", frozenset({"invoke"}), {"iss": "https://evil.example.net", "sub": "u1"})
    key = Caller("u1", "api_key")
    task = started(plugin, "contar", here)
    for other in (there, key, None):
        with pytest.raises(model_task.TaskNotFound):
            model_task.get(other, task.id)
        with pytest.raises(model_task.TaskNotFound):
            model_task.cancel(other, task.id)
        assert model_task.list_tasks(other)[0] == []
    assert status_of(task, here) == "working"


# -- what answers and logs never carry ----------------------------------------------------------
def test_no_answer_carries_the_token_the_partition_or_the_arguments(clock, events):
    plugin = echo_plugin()
    call = caller(plugin.lambda_handler)
    task = legacy(call, "tools/call", {"name": "eco", "arguments": {"texto": SECRET}, "task": {}})["result"]["task"]
    created = modern(call, "tools/call", {"name": "eco", "arguments": {"texto": SECRET}})[1]["result"]
    ref = events[0][model_task.EVENT_KEY]
    run_workers(plugin, events)
    answers = [task, created, legacy(call, "tasks/get", {"taskId": task["taskId"]}),
               legacy(call, "tasks/result", {"taskId": task["taskId"]}), legacy(call, "tasks/list"),
               modern(call, "tasks/get", {"taskId": created["taskId"]})]
    text = json.dumps(answers)
    for secret in (ref["t"], ref["p"], ref["p"][2:], SECRET):
        assert secret not in text


def test_logs_carry_no_task_id_token_or_arguments(clock, events, capfd):
    plugin = echo_plugin()
    call = caller(plugin.lambda_handler)
    task = legacy(call, "tools/call", {"name": "eco", "arguments": {"texto": SECRET}, "task": {}})["result"]["task"]
    created = modern(call, "tools/call", {"name": "eco", "arguments": {"texto": SECRET}})[1]["result"]
    tokens = [e[model_task.EVENT_KEY]["t"] for e in events]
    run_workers(plugin, events)
    plugin.lambda_handler({model_task.EVENT_KEY: {"p": "t#x", "id": task["taskId"], "t": tokens[0]}}, Lambda())
    modern(call, "tasks/get", {"taskId": created["taskId"]})  # its id also travels in the Mcp-Name header
    legacy(call, "tasks/get", {"taskId": task["taskId"]})
    logs = capfd.readouterr().err
    for secret in (task["taskId"], created["taskId"], *tokens, SECRET):
        assert secret not in logs


# -- hostile input --------------------------------------------------------------------------------
CURSORS = [{}, 1, True, [], "", "\ud800", "A" * 5000, base64.urlsafe_b64encode(b'{"after":"\\ud800"}').decode(),
           base64.urlsafe_b64encode(b'{"after":1}').decode(), base64.urlsafe_b64encode(b"[1]").decode(),
           base64.urlsafe_b64encode(b"\xff\xfe").decode()]


@pytest.mark.parametrize("cursor", CURSORS, ids=range(len(CURSORS)))
def test_a_forged_cursor_is_invalid_params(call, cursor):
    # tasks/list is only offered where callers are told apart; elsewhere any cursor meets "not offered"
    assert legacy(call, "tasks/list", {"cursor": cursor})["error"]["code"] == (-32602 if SEPARATE else -32601)


@pytest.mark.parametrize("task", [{"ttl": "\ud800"}, {"ttl": 1e308}, {"ttl": -1e308}, {"ttl": -1}, {"ttl": [[[1]]]},
                                  {"ttl": {"a": None}}, {"ttl": True}, {"ttl": 0.5}, {"ttl": 10**300},
                                  {"extra": "\ud800"}], ids=range(10))
def test_any_json_as_the_ttl_gets_a_clamped_ttl(call, clock, events, task):
    body = legacy(call, "tools/call", {"name": "contar", "arguments": {"pasos": 1}, "task": task})
    ttl = body["result"]["task"]["ttl"]
    assert model_task.MIN_TTL_MS <= ttl <= model_task.MAX_TTL_MS


@pytest.mark.parametrize("task_id", ["\ud800" * 32, "\x00" * 32, "A" * 31 + "\u0301", 1e308, -0, [], {}, True])
def test_any_json_as_the_task_id_is_invalid_params(call, clock, events, task_id):
    start_legacy(call)
    for method in ("tasks/get", "tasks/result", "tasks/cancel"):
        assert legacy(call, method, {"taskId": task_id})["error"]["code"] == -32602


def test_input_responses_of_any_shape_are_acknowledged_and_ignored(call, clock, events):
    created = start_modern(call)
    for responses in (None, [], "x", {"k": {"deep": [[[[]]]]}}, {"\ud800": 1}, {"k": "x" * 100_000}):
        status, body = modern(call, "tasks/update", {"taskId": created["taskId"], "inputResponses": responses})
        assert status == 200 and body["result"]["resultType"] == "complete", body


# -- a failing store ---------------------------------------------------------------------------
def test_a_store_failure_in_a_task_method_is_a_jsonrpc_error_not_a_500(plugin, call, clock, events, store,
                                                                       monkeypatch, capfd):
    task, created = start_legacy(call), start_modern(call)
    detail = "store table plugin-prod-store: ProvisionedThroughputExceededException"

    def unavailable(*args, **kwargs):
        raise StoreError(detail)

    monkeypatch.setattr(type(store), "get", unavailable)
    monkeypatch.setattr(type(store), "list", unavailable)
    asked = [(m, task["taskId"]) for m in ("tasks/get", "tasks/result", "tasks/cancel")]
    if SEPARATE:
        asked.append(("tasks/list", None))
    for method, task_id in asked:
        status, _, body = call(mcp_event(rpc(method, {"taskId": task_id} if task_id else {}), LEGACY))
        assert status == 200 and body["error"]["code"] == -32603, (method, body)
        assert detail not in json.dumps(body)
    for method in ("tasks/get", "tasks/update", "tasks/cancel"):
        status, body = modern(call, method, {"taskId": created["taskId"]})
        assert status == 200 and body["error"]["code"] == -32603, (method, body)
        assert detail not in json.dumps(body)
    assert detail in capfd.readouterr().err  # the owner reads why


# -- arguments a task cannot keep ----------------------------------------------------------------
@pytest.mark.parametrize("texto", ["\ud800", "x" * (model_store.MAX_VALUE_BYTES + 1)], ids=["surrogate", "huge"])
def test_arguments_a_task_cannot_keep_are_the_callers_error_and_not_counted(clock, events, capfd, texto):
    plugin = echo_plugin({"quota": "1/hour"})
    call = caller(plugin.lambda_handler)
    body = legacy(call, "tools/call", {"name": "eco", "arguments": {"texto": texto}, "task": {}})
    assert body["error"]["code"] == -32602 and "arguments" in body["error"]["message"], body
    status, reply = modern(call, "tools/call", {"name": "eco", "arguments": {"texto": texto}})
    assert status == 200 and reply["result"]["isError"] is True, reply
    assert "arguments" in reply["result"]["content"][0]["text"]
    assert events == []
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert all(line.get("level") != "ERROR" for line in lines)  # the caller's mistake, not the server's
    body = legacy(call, "tools/call", {"name": "eco", "arguments": {"texto": "hola"}, "task": {}})
    assert "task" in body["result"], body  # the refused calls did not use the quota


# -- terminal states and dead workers --------------------------------------------------------------
def test_a_completed_task_survives_late_cancels_sweeps_and_stale_workers(plugin, call, clock, events):
    task = start_legacy(call, ttl=3_600_000)
    stale = model_task.claim(events[0][model_task.EVENT_KEY], Lambda(30).get_remaining_time_in_millis)
    assert stale is not None
    assert stale.finish("completed", result={"content": [], "isError": False}) == "completed"
    clock[0] += 30 + model_task.DEADLINE_GRACE_S + model_task.START_WITHIN_S + 60  # past every sweep
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "completed"
    assert legacy(call, "tasks/cancel", {"taskId": task["taskId"]})["error"]["code"] == -32602
    stale.progress("late")
    assert stale.finish("failed", error={"code": -32603, "message": "late"}) == "completed"
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "completed" and "statusMessage" not in got


# -- defaults that are not JSON --------------------------------------------------------------------
class Color(enum.Enum):
    RED = "red"


def test_a_task_tool_with_defaults_that_are_not_json_runs_as_a_task(clock, events):
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(task="optional")
    def pinta(color: Color = Color.RED, dia: datetime.date = datetime.date(2020, 1, 2)) -> dict[str, str]:
        """Pinta."""
        return {"color": color.value, "dia": dia.isoformat()}

    call = caller(plugin.lambda_handler)
    task = legacy(call, "tools/call", {"name": "pinta", "arguments": {}, "task": {}})["result"]["task"]
    assert run_workers(plugin, events) == [{"status": "completed"}]
    result = legacy(call, "tasks/result", {"taskId": task["taskId"]})["result"]
    assert result["structuredContent"] == {"color": "red", "dia": "2020-01-02"}


# -- a worker that exits -------------------------------------------------------------------------
@pytest.mark.parametrize("exit_with", [SystemExit(3), KeyboardInterrupt()], ids=["exit", "interrupt"])
def test_an_operation_that_exits_the_process_fails_its_task_at_once(clock, events, exit_with):
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(task="optional")
    def sale() -> dict[str, str]:
        """Sale del proceso."""
        raise exit_with

    call = caller(plugin.lambda_handler)
    task = legacy(call, "tools/call", {"name": "sale", "arguments": {}, "task": {}})["result"]["task"]
    with pytest.raises(type(exit_with)):  # the process still exits as it asked
        plugin.lambda_handler(events.pop(), Lambda(900))
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]  # not 15 minutes of "working"
    assert got["status"] == "failed" and "stopped" in got["statusMessage"]
