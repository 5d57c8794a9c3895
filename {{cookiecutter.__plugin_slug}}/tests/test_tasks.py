"""MCP Tasks (``@plugin.operation(task="optional"|"required")``), in this project's auth mode, in
both eras: 2025-11-25's ``tasks`` utility (params.task, tasks/get, tasks/result, tasks/list,
tasks/cancel) and 2026-07-28's ``io.modelcontextprotocol/tasks`` extension (resultType "task",
tasks/get with the result inline, tasks/update, tasks/cancel). Tasks are kept in the store
(SQLite here); the worker events the runtime would send to Lambda are queued and run by hand,
so every step is observable."""

from __future__ import annotations

import json
import secrets

import pytest
from conftest import AUTH_MODE, PROJECT, caller, make_event
from test_mcp import META, mcp_event, modern_event, rpc

from plugin_runtime import Context, OperationError, Plugin, model_store, model_task
from plugin_runtime.model_schema import SchemaError

START = 1_800_000_000.0
LEGACY = "2025-11-25"
TASKS_META = {**META, "io.modelcontextprotocol/clientCapabilities":
              {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
SEPARATE = AUTH_MODE != "none"  # callers are told apart (and tasks/list offered)


class Lambda:
    """A Lambda context with ``seconds`` left (the worker's time budget)."""

    aws_request_id = "worker"

    def __init__(self, seconds: int = 60) -> None:
        self.left = seconds * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self.left


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(model_store._state, "clock", lambda: now[0])
    monkeypatch.setattr(model_task, "CHECK_EVERY_S", 0.0)
    return now


@pytest.fixture
def events():
    """The worker events the runtime starts, instead of Lambda's asynchronous invoke."""
    queued: list[dict] = []
    model_task.use_runner(queued.append)
    yield queued
    model_task.use_runner(None)


def tasks_plugin(hooks: dict | None = None) -> Plugin:
    plugin = Plugin(version="1.0.0", root=str(PROJECT))
    hooks = hooks if hooks is not None else {}

    @plugin.operation(task="optional", quota=hooks.get("quota"))
    def contar(pasos: int, ctx: Context) -> dict[str, int]:
        """Cuenta hasta pasos, despacio."""
        hecho = 0
        for paso in range(pasos):
            if ctx.cancelled():
                raise OperationError("cancelado")
            ctx.progress(f"paso {paso + 1} de {pasos}")
            if "during" in hooks:
                hooks["during"](paso)
            hecho += 1
        return {"hecho": hecho}

    @plugin.operation(task="required")
    def informe() -> dict[str, str]:
        """Solo como tarea."""
        return {"informe": "listo"}

    @plugin.operation(task="optional")
    def falla() -> dict[str, str]:
        """Falla con un error de la herramienta."""
        raise OperationError("no hay datos", status=404)

    @plugin.operation(task="optional")
    def rompe() -> dict[str, str]:
        """Falla por un error de programación."""
        raise RuntimeError("a bug with a secret: s3cr3t")

    @plugin.operation()
    def normal() -> dict[str, str]:
        """Sin tareas."""
        return {"ok": "si"}

    return plugin


@pytest.fixture
def plugin():
    return tasks_plugin()


@pytest.fixture
def call(plugin):
    return caller(plugin.lambda_handler)


def legacy(call, method: str, params: dict | None = None, headers: dict | None = None) -> dict:
    status, _, body = call(mcp_event(rpc(method, params), LEGACY, headers=headers))
    assert status == 200, body
    return body


def modern(call, method: str, params: dict | None = None, *, meta: dict | None = TASKS_META,
           headers: dict | None = None) -> tuple[int, dict]:
    head = dict(headers or {})
    if method.startswith("tasks/") and isinstance((params or {}).get("taskId"), str):
        head.setdefault("mcp-name", params["taskId"])  # type: ignore[index]
    status, _, body = call(modern_event(method, params, meta=meta, headers=head))
    return status, body


def start_legacy(call, name: str = "contar", arguments: dict | None = None, ttl: int | None = 60_000,
                 headers: dict | None = None) -> dict:
    params: dict = {"name": name, "arguments": {"pasos": 3} if arguments is None else arguments,
                    "task": {} if ttl is None else {"ttl": ttl}}
    body = legacy(call, "tools/call", params, headers)
    assert "error" not in body, body
    return body["result"]["task"]


def start_modern(call, name: str = "contar", arguments: dict | None = None, headers: dict | None = None) -> dict:
    status, body = modern(call, "tools/call", {"name": name, "arguments": {"pasos": 3} if arguments is None
                                              else arguments}, headers=headers)
    assert status == 200 and "error" not in body, body
    return body["result"]


def run_workers(plugin, events: list[dict], context: object = None) -> list[dict]:
    ran = [plugin.lambda_handler(event, context or Lambda()) for event in events]
    events.clear()
    return ran


# -- declaration ---------------------------------------------------------------------------------
def test_task_takes_optional_or_required_only():
    plugin = Plugin(version="1.0.0", root=str(PROJECT))
    for wrong in ("always", True, "", ["optional"]):
        with pytest.raises(SchemaError, match="task= is"):
            plugin.operation(task=wrong)(lambda: {"a": 1})  # type: ignore[arg-type]


def test_each_era_announces_tasks_its_own_way(call):
    init = legacy(call, "initialize", {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo":
                                       {"name": "t", "version": "1"}})["result"]
    tasks = init["capabilities"]["tasks"]
    assert tasks["requests"] == {"tools": {"call": {}}} and tasks["cancel"] == {}
    assert ("list" in tasks) is SEPARATE  # without callers told apart, a list would show everybody's
    tools = {t["name"]: t for t in legacy(call, "tools/list")["result"]["tools"]}
    assert tools["contar"]["execution"] == {"taskSupport": "optional"}
    assert tools["informe"]["execution"] == {"taskSupport": "required"}
    assert "execution" not in tools["normal"]
    _, _, old = call(mcp_event(rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                                       "clientInfo": {"name": "t", "version": "1"}}), "2025-06-18"))
    assert "tasks" not in old["result"]["capabilities"]
    _, _, listed = call(mcp_event(rpc("tools/list"), "2025-06-18"))
    assert all("execution" not in t for t in listed["result"]["tools"])
    _, body = modern(call, "server/discover")
    capabilities = body["result"]["capabilities"]
    assert capabilities["extensions"]["io.modelcontextprotocol/tasks"] == {}
    assert "tasks" not in capabilities  # 2026-07-28 has no v1 slot


def test_a_plugin_without_task_tools_announces_no_tasks():
    plugin = Plugin(version="1.0.0", root=str(PROJECT))
    plugin.operation()(_plain)
    call = caller(plugin.lambda_handler)
    init = legacy(call, "initialize", {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo":
                                       {"name": "t", "version": "1"}})["result"]
    assert "tasks" not in init["capabilities"]
    body = legacy(call, "tasks/get", {"taskId": "x"})
    assert body["error"]["code"] == -32601


def _plain() -> dict[str, int]:
    """Plain."""
    return {"a": 1}


# -- 2025-11-25 ----------------------------------------------------------------------------------
def test_legacy_create_poll_result_list(plugin, call, clock, events):
    task = start_legacy(call)
    assert task["status"] == "working" and task["ttl"] == 60_000 and task["pollInterval"] == 2_000
    assert task["createdAt"].endswith("Z") and len(task["taskId"]) == 32
    assert len(events) == 1  # stored first, then the worker started
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "working" and got["taskId"] == task["taskId"]
    clock[0] += 1.5
    assert run_workers(plugin, events) == [{"status": "completed"}]
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "completed" and got["lastUpdatedAt"] > got["createdAt"]
    result = legacy(call, "tasks/result", {"taskId": task["taskId"]})["result"]
    assert result["structuredContent"] == {"hecho": 3} and result["isError"] is False
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
    listed = legacy(call, "tasks/list")
    if SEPARATE:
        assert [t["taskId"] for t in listed["result"]["tasks"]] == [task["taskId"]]
    else:
        assert listed["error"]["code"] == -32601
    refused = legacy(call, "tasks/cancel", {"taskId": task["taskId"]})
    assert refused["error"]["code"] == -32602 and "terminal status 'completed'" in refused["error"]["message"]


def test_legacy_ttl_is_clamped_and_defaulted(call, clock, events):
    assert start_legacy(call, ttl=1)["ttl"] == model_task.MIN_TTL_MS
    assert start_legacy(call, ttl=10**12)["ttl"] == model_task.MAX_TTL_MS
    assert start_legacy(call, ttl=None)["ttl"] == model_task.DEFAULT_TTL_MS


def test_legacy_tool_error_fails_the_task_and_result_is_the_tool_result(plugin, call, clock, events):
    task = start_legacy(call, "falla", {})
    run_workers(plugin, events)
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "failed" and "no hay datos" in got["statusMessage"]
    result = legacy(call, "tasks/result", {"taskId": task["taskId"]})["result"]
    assert result["isError"] is True and "no hay datos" in result["content"][0]["text"]


def test_a_bug_fails_the_task_with_a_protocol_error_and_no_detail(plugin, call, clock, events, capfd):
    task = start_legacy(call, "rompe", {})
    run_workers(plugin, events)
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "failed"
    error = legacy(call, "tasks/result", {"taskId": task["taskId"]})["error"]
    assert error["code"] == -32603 and "s3cr3t" not in json.dumps(error)
    assert "s3cr3t" in capfd.readouterr().err  # the owner reads it in the logs


def test_legacy_cancel_while_working_stays_cancelled(plugin, call, clock, events):
    task = start_legacy(call)
    cancelled = legacy(call, "tasks/cancel", {"taskId": task["taskId"]})["result"]
    assert cancelled["status"] == "cancelled"
    assert run_workers(plugin, events) == [{"status": "ignored"}]  # its worker never runs it
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "cancelled"
    error = legacy(call, "tasks/result", {"taskId": task["taskId"]})["error"]
    assert error["code"] == -32602 and "cancelled" in error["message"]


def test_cancel_during_the_run_stops_the_worker_and_terminal_states_never_change(clock, events):
    seen: list[int] = []
    hooks: dict = {}
    plugin = tasks_plugin(hooks)
    call = caller(plugin.lambda_handler)
    task = start_legacy(call, arguments={"pasos": 5})

    def during(paso: int) -> None:
        seen.append(paso)
        if paso == 1:
            got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
            assert got["statusMessage"] == "paso 2 de 5"  # ctx.progress, seen while it works
            assert legacy(call, "tasks/cancel", {"taskId": task["taskId"]})["result"]["status"] == "cancelled"

    hooks["during"] = during
    assert run_workers(plugin, events) == [{"status": "cancelled"}]
    assert seen == [0, 1]  # stopped at its next ctx.cancelled()
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "cancelled"


def test_legacy_result_waits_for_the_end_within_the_request(plugin, call, clock, events, monkeypatch):
    monkeypatch.setattr("plugin_runtime.surface_mcp_tasks.RESULT_WAIT_S", 0.2)
    task = start_legacy(call)
    error = legacy(call, "tasks/result", {"taskId": task["taskId"]})["error"]
    assert error["code"] == -32603 and "poll tasks/get" in error["message"]


def test_a_required_tool_refuses_clients_without_tasks(call):
    for version in ("2025-03-26", "2025-06-18", LEGACY):
        status, _, body = call(mcp_event(rpc("tools/call", {"name": "informe", "arguments": {}}), version))
        assert body["error"]["code"] == -32601 and "runs only as a task" in body["error"]["message"], body
    status, body = modern(call, "tools/call", {"name": "informe", "arguments": {}}, meta=META)
    assert status == 400 and body["error"]["code"] == -32021
    assert body["error"]["data"] == {"requiredCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}


def test_an_optional_tool_runs_synchronously_for_clients_without_tasks(call, events):
    for version in ("2025-03-26", "2025-06-18", LEGACY):
        _, _, body = call(mcp_event(rpc("tools/call", {"name": "contar", "arguments": {"pasos": 2}}), version))
        assert json.loads(body["result"]["content"][0]["text"]) == {"hecho": 2}, body
    _, body = modern(call, "tools/call", {"name": "contar", "arguments": {"pasos": 2}}, meta=META)
    assert body["result"]["resultType"] == "complete" and body["result"]["structuredContent"] == {"hecho": 2}
    assert events == []


def test_rest_and_openapi_leave_required_tools_to_mcp(plugin, call):
    status, _, body = call(make_event("POST", "/informe", {}))
    assert status == 400 and body["error"] == "task_required"
    assert call(make_event("POST", "/contar", {"pasos": 2}))[2] == {"hecho": 2}
    paths = plugin.openapi_for("https://example.com")["paths"]
    assert "/informe" not in paths and "/contar" in paths


def test_legacy_bad_arguments_are_refused_before_a_task_exists(call, events):
    body = legacy(call, "tools/call", {"name": "contar", "arguments": {"pasos": "tres"}, "task": {"ttl": 60000}})
    assert body["error"]["code"] == -32602 and "Invalid arguments for contar" in body["error"]["message"]
    body = legacy(call, "tools/call", {"name": "contar", "arguments": {"pasos": 1}, "task": "yes"})
    assert body["error"]["code"] == -32602
    assert events == []


# -- 2026-07-28 ----------------------------------------------------------------------------------
def test_modern_create_poll_and_inline_result(plugin, call, clock, events):
    created = start_modern(call)
    assert created["resultType"] == "task" and created["status"] == "working" and "task" not in created
    assert created["ttlMs"] == model_task.DEFAULT_TTL_MS and created["pollIntervalMs"] == 2_000
    assert "ttl" not in created and "pollInterval" not in created
    _, body = modern(call, "tasks/get", {"taskId": created["taskId"]})
    got = body["result"]
    assert got["resultType"] == "complete" and got["status"] == "working" and "result" not in got
    run_workers(plugin, events)
    got = modern(call, "tasks/get", {"taskId": created["taskId"]})[1]["result"]
    assert got["status"] == "completed" and got["result"]["structuredContent"] == {"hecho": 3}
    assert "_meta" not in got["result"]
    status, body = modern(call, "tasks/cancel", {"taskId": created["taskId"]})
    assert status == 200 and body["result"]["resultType"] == "complete"  # an ended task: acknowledged
    for removed in ("tasks/result", "tasks/list"):
        status, body = modern(call, removed, {"taskId": created["taskId"]})
        assert status == 404 and body["error"]["code"] == -32601


def test_modern_tool_error_completes_and_a_bug_fails(plugin, call, clock, events):
    tool_error, bug = start_modern(call, "falla", {}), start_modern(call, "rompe", {})
    run_workers(plugin, events)
    got = modern(call, "tasks/get", {"taskId": tool_error["taskId"]})[1]["result"]
    assert got["status"] == "completed" and got["result"]["isError"] is True
    got = modern(call, "tasks/get", {"taskId": bug["taskId"]})[1]["result"]
    assert got["status"] == "failed" and got["error"]["code"] == -32603 and "result" not in got


def test_modern_cancel_and_update(plugin, call, clock, events):
    created = start_modern(call)
    status, body = modern(call, "tasks/update", {"taskId": created["taskId"], "inputResponses": {}})
    assert status == 200 and body["result"]["resultType"] == "complete"
    status, body = modern(call, "tasks/cancel", {"taskId": created["taskId"]})
    assert status == 200 and set(body["result"]) <= {"resultType", "_meta"}
    run_workers(plugin, events)
    assert modern(call, "tasks/get", {"taskId": created["taskId"]})[1]["result"]["status"] == "cancelled"


def test_modern_task_methods_need_the_extension_and_the_name_header(call, clock, events):
    created = start_modern(call)
    for method in ("tasks/get", "tasks/update", "tasks/cancel"):
        status, body = modern(call, method, {"taskId": created["taskId"]}, meta=META)
        assert status == 400 and body["error"]["code"] == -32021, body
    status, body = modern(call, "tasks/get", {"taskId": created["taskId"]}, headers={"mcp-name": "other"})
    assert status == 400 and body["error"]["code"] == -32020


def test_modern_bad_arguments_answer_synchronously(call, events):
    _, body = modern(call, "tools/call", {"name": "contar", "arguments": {"pasos": "tres"}})
    assert body["result"]["isError"] is True and body["result"]["resultType"] == "complete"
    assert events == []


def test_a_sync_only_tool_ignores_a_legacy_task_hint(call, events):
    _, body = modern(call, "tools/call", {"name": "normal", "arguments": {}, "task": {"ttl": 1000}})
    assert body["result"]["resultType"] == "complete" and events == []
    body = legacy(call, "tools/call", {"name": "normal", "arguments": {}, "task": {"ttl": 1000}})
    assert body["result"]["structuredContent"] == {"ok": "si"} and events == []


# -- isolation and ids ---------------------------------------------------------------------------
GUESSES = ["", "x", "a" * 32, "A" * 31 + "!", "../" * 11, "a" * 10_000, "tarea-" + "0" * 26, "\u00e9" * 32]


@pytest.mark.parametrize("guess", [*GUESSES, 7, None, {"id": 1}, ["a"]])
def test_guessed_and_malformed_ids_are_not_found(call, clock, events, guess):
    start_legacy(call)
    methods = ["tasks/get", "tasks/result", "tasks/cancel"]
    for method in methods:
        body = legacy(call, method, {"taskId": guess})
        assert body["error"]["code"] == -32602, body
    if isinstance(guess, str) and guess.isascii() and guess.isprintable():
        status, body = modern(call, "tasks/get", {"taskId": guess})
        assert status == 400 and body["error"]["code"] == -32602


def test_task_ids_are_random_and_unique(call, clock, events):
    ids = {start_legacy(call)["taskId"] for _ in range(40)}
    assert len(ids) == 40
    assert all(model_task.valid_id(i) for i in ids)


def test_another_callers_task_is_not_found(plugin, call, clock, events, signed_in):
    bob = signed_in("bob")
    task = start_legacy(call)
    created = start_modern(call)
    run_workers(plugin, events)
    if not SEPARATE:  # with auth = none every caller is the same caller: the id is the only secret
        assert events == [] and legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "completed"
        assert legacy(call, "tasks/list")["error"]["code"] == -32601
        return
    unknown = "A" * 32
    for method in ("tasks/get", "tasks/result", "tasks/cancel"):
        theirs = legacy(call, method, {"taskId": task["taskId"]}, headers=bob)["error"]
        nobody = legacy(call, method, {"taskId": unknown}, headers=bob)["error"]
        assert theirs == nobody  # the same answer as an id that names nothing: "not found"
    assert legacy(call, "tasks/list", headers=bob)["result"]["tasks"] == []
    for method in ("tasks/get", "tasks/cancel", "tasks/update"):
        status, body = modern(call, method, {"taskId": created["taskId"]}, headers=bob)
        assert status == 400 and body["error"]["code"] == -32602
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "completed"


def test_legacy_list_pages_with_a_cursor(call, clock, events):
    made = {start_legacy(call)["taskId"] for _ in range(55)}
    if not SEPARATE:  # only offered where callers are told apart
        assert legacy(call, "tasks/list", {"cursor": "x"})["error"]["code"] == -32601
        return
    first = legacy(call, "tasks/list")["result"]
    assert len(first["tasks"]) == 50 and first["nextCursor"]
    second = legacy(call, "tasks/list", {"cursor": first["nextCursor"]})["result"]
    assert "nextCursor" not in second
    assert {t["taskId"] for t in first["tasks"] + second["tasks"]} == made
    assert legacy(call, "tasks/list", {"cursor": "bogus"})["error"]["code"] == -32602


# -- lifetime: TTL, dead workers, forged events -----------------------------------------------
def test_results_are_kept_for_the_ttl_then_gone(plugin, call, clock, events):
    task = start_legacy(call, ttl=120_000)
    run_workers(plugin, events)
    clock[0] += 119
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "completed"
    clock[0] += 2
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["error"]["code"] == -32602
    assert legacy(call, "tasks/result", {"taskId": task["taskId"]})["error"]["code"] == -32602


def test_a_worker_that_dies_leaves_a_failed_task(plugin, call, clock, events):
    task = start_legacy(call, ttl=600_000)
    running = model_task.claim(events[0][model_task.EVENT_KEY], Lambda(30).get_remaining_time_in_millis)
    assert running is not None  # claimed, then the process died: nothing more is written
    clock[0] += 30 + model_task.DEADLINE_GRACE_S
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "working"
    clock[0] += 1
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "failed" and "ran out of time (30 s) or crashed" in got["statusMessage"]
    assert running.finish("completed", result={"content": [], "isError": False}) == "failed"  # too late: stays failed
    assert run_workers(plugin, events) == [{"status": "ignored"}]  # a second delivery runs nothing


def test_progress_keeps_any_text_the_store_can_hold(call, clock, events):
    task = start_legacy(call, arguments={"pasos": 1})
    running = model_task.claim(events[0][model_task.EVENT_KEY], Lambda().get_remaining_time_in_millis)
    running.progress("mitad \ud800 " + "x" * 1000)  # a lone surrogate and too long: kept as far as it can be
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["statusMessage"].startswith("mitad ? x") and len(got["statusMessage"]) == 500


def test_a_worker_past_its_time_cannot_complete_the_task(clock, events):
    hooks: dict = {}
    plugin = tasks_plugin(hooks)
    call = caller(plugin.lambda_handler)
    task = start_legacy(call, arguments={"pasos": 2})

    def slow(paso: int) -> None:  # the operation overruns its 5 s; a reader sees the deadline pass
        if paso == 0:
            clock[0] += 5 + model_task.DEADLINE_GRACE_S + 1
            assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "failed"

    hooks["during"] = slow
    assert run_workers(plugin, events, Lambda(5)) == [{"status": "failed"}]
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "failed" and "ran out of time (5 s)" in got["statusMessage"]


def test_a_task_no_worker_claims_fails_after_the_event_age(call, clock, events):
    task = start_legacy(call, ttl=600_000)
    events.clear()  # Lambda dropped the event
    clock[0] += model_task.START_WITHIN_S + 1
    got = legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "failed" and "never started" in got["statusMessage"]


def test_a_worker_that_cannot_be_started_fails_the_call_and_the_task(call, clock):
    def broken(event: dict) -> None:
        raise OSError("connection refused")

    model_task.use_runner(broken)
    try:
        body = legacy(call, "tools/call", {"name": "contar", "arguments": {"pasos": 1}, "task": {}})
    finally:
        model_task.use_runner(None)
    assert body["error"]["code"] == -32603 and "could not be started" in body["error"]["message"]


def test_without_a_runner_or_function_the_error_names_the_fix(call, clock, monkeypatch, capfd):
    monkeypatch.delenv(model_task.FUNCTION_ENV, raising=False)
    body = legacy(call, "tools/call", {"name": "contar", "arguments": {"pasos": 1}, "task": {}})
    assert body["error"]["code"] == -32603
    assert "make serve runs them in a thread" in capfd.readouterr().err


def test_forged_and_repeated_worker_events_run_nothing(plugin, call, clock, events):
    task = start_legacy(call)
    real = events[0][model_task.EVENT_KEY]
    forged = [{"plugin_task": {**real, "t": secrets.token_urlsafe(24)}},
              {"plugin_task": {**real, "p": "t#" + "0" * 40}},
              {"plugin_task": {**real, "id": "B" * 32}},
              {"plugin_task": "nothing"}, {"plugin_task": {"p": 1, "id": [], "t": None}}]
    for event in forged:
        assert plugin.lambda_handler(event, Lambda()) == {"status": "ignored"}, event
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "working"
    # through API Gateway a worker event is only ever a body: an HTTP request like any other
    assert call(make_event("POST", "/contar", {"plugin_task": real}))[0] == 400
    assert run_workers(plugin, [events[0], dict(events[0])]) == [{"status": "completed"}, {"status": "ignored"}]


def test_quota_is_counted_once_when_the_task_is_created(clock, events):
    plugin = tasks_plugin({"quota": "2/hour"})
    call = caller(plugin.lambda_handler)
    first, second = start_legacy(call), start_legacy(call)
    run_workers(plugin, events)  # the workers do not count again
    body = legacy(call, "tools/call", {"name": "contar", "arguments": {"pasos": 1}, "task": {}})
    if SEPARATE:
        assert body["error"]["code"] == -32600 and "retry after" in body["error"]["message"]
        _, reply = modern(call, "tools/call", {"name": "contar", "arguments": {"pasos": 1}})
        assert reply["result"]["isError"] is True and "retry after" in reply["result"]["content"][0]["text"]
    else:
        assert "task" in body["result"]
    for task in (first, second):
        assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "completed"


def test_task_lines_and_metrics_never_carry_the_id(plugin, call, clock, events, capfd):
    task = start_legacy(call)
    run_workers(plugin, events)
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    tasks = [line for line in lines if line.get("type") == "task"]
    assert [line["event"] for line in tasks] == ["created", "completed"]
    assert tasks[1]["operation"] == "contar" and tasks[1]["durationMs"] >= 0
    metrics = [line for line in lines if line.get("type") == "metrics" and ("TasksCreated" in line
                                                                           or "TasksCompleted" in line)]
    assert [("TasksCreated" in m, "TaskDuration" in m) for m in metrics] == [(True, False), (False, True)]
    assert metrics[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"], ["Service", "Operation"]]
    assert task["taskId"] not in json.dumps(lines)


def test_a_callers_tasks_are_exported_and_deleted_with_their_data(plugin, call, clock, events, store):
    import io

    from plugin_tools import data

    task = start_legacy(call)
    if not SEPARATE:  # plugin_tools.data names callers, and auth = none has none: its tasks share one partition
        assert events[0][model_task.EVENT_KEY]["p"] == "t#anonymous"
        return
    partition = "c#" + events[0][model_task.EVENT_KEY]["p"].partition("#")[2]
    run_workers(plugin, events)
    out = io.StringIO()
    assert data.export(store, partition, out, now=int(clock[0])) == 1
    line = json.loads(out.getvalue())
    assert line["task"] == task["taskId"] and line["value"]["result"]["structuredContent"] == {"hecho": 3}
    assert "token" not in line["value"]
    assert data.delete(store, partition) == 1
    assert legacy(call, "tasks/get", {"taskId": task["taskId"]})["error"]["code"] == -32602


def test_a_request_never_plans_past_api_gateways_30_s_but_a_worker_has_the_timeout():
    request = Context(request=object(), lambda_context=Lambda(300))
    assert 25_000 < request.remaining_ms() <= 29_500  # API Gateway's 30 s less a margin, not the 300 s
    worker = Context(lambda_context=Lambda(300))
    assert worker.remaining_ms() == 300_000


def test_the_directory_check_warns_that_chatgpt_cannot_reach_a_required_task(plugin):
    from plugin_tools.lint_common import WARNING
    from plugin_tools.lint_directory import check_directory

    found = [f for f in check_directory(plugin) if "runs only as a task" in f.message]
    assert [(f.level, f.message.split()[0]) for f in found] == [(WARNING, "'informe'")]



COLD = '''
import json, sys
sys.path.insert(0, ".")
import handler
from plugin_runtime import Context

def despacio(n: int, ctx: Context) -> dict[str, int]:
    """Slow."""
    return {"n": n}

handler.plugin.operation(task="optional")(despacio)
body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "despacio", "arguments": {"n": 1}}}
calls = [("/despacio", {"n": 1}, None), ("/mcp", body, "2025-06-18"), ("/mcp", body, "2025-11-25")]
for path, payload, version in calls:
    headers = {"content-type": "application/json", "host": "x", "accept": "application/json"}
    if version:
        headers["mcp-protocol-version"] = version
    event = {"version": "2.0", "rawPath": path, "headers": headers, "body": json.dumps(payload),
             "requestContext": {"requestId": "r", "domainName": "x", "http": {"method": "POST", "path": path}},
             "isBase64Encoded": False}
    response = handler.lambda_handler(event, None)
    assert response["statusCode"] == 200 and "task" not in json.loads(response["body"]).get("result", {}), response
loaded = ("plugin_runtime.model_task", "plugin_runtime.model_aws", "plugin_runtime.surface_mcp_tasks",
          "plugin_runtime.model_store")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(loaded))))
'''


def test_calls_that_start_no_task_load_no_task_code(tmp_path):
    """Cold start: a plugin with a task tool, called without a task (REST, and MCP clients that ask
    for none), never imports the tasks surface, model_task, the store or the AWS client."""
    import os
    import subprocess
    import sys

    script = tmp_path / "cold.py"
    script.write_text(COLD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PLUGIN_STORE_TABLE"}
    env.update(PLUGIN_AUTH="none")  # who calls is not the point here
    out = subprocess.run([sys.executable, str(script)], cwd=PROJECT, capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.splitlines()[-1]) == []


def test_the_build_warns_when_tasks_or_quotas_have_no_store_to_deploy(plugin):
    from plugin_tools.build import store_warnings

    assert store_warnings(plugin, {"storage": "dynamodb"}) == []
    found = store_warnings(plugin, {"storage": "none"})
    assert [line.split()[1] for line in found] == ["contar", "informe", "falla", "rompe"]
    assert all('storage = "dynamodb"' in line for line in found)
    assert store_warnings(tasks_plugin({"quota": "5/day"}), {})[0].startswith("warning: contar uses task= and quota=")
