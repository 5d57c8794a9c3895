"""Logs and metrics: one JSON log line and one CloudWatch EMF record per request, on every surface
and outcome; operations' own lines (ctx.log, the logging module) carry the same request id; the
log level filters lines but never metrics; no credential ever reaches a log line.

The operations here belong to a small plugin of this file's own, so the tests hold whatever
handler.py defines.
"""

from __future__ import annotations

import json
import logging
from typing import TypedDict

import pytest
from conftest import API_REQUEST_ID, AUTH_MODE, PROJECT, TEST_KEY, make_event

from plugin_runtime import Context, OperationError, Plugin

REQUEST_ID = "8f5e0c0a-0000-4000-8000-00000000abcd"
TOKEN = "tok-FAKE-7c1e9d2b-do-not-log"


class Answer(TypedDict):
    value: float


class LambdaContext:
    aws_request_id = REQUEST_ID

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 9_000


@pytest.fixture
def plugin() -> Plugin:
    from plugin_tools.project import json_log_handler

    logger = logging.getLogger("doblar")  # as the local tools (and Lambda's runtime) set up logging
    logger.handlers, logger.propagate = [json_log_handler()], False
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(read_only=True)
    def doblar(x: float, ctx: Context) -> Answer:
        ctx.log.info("doubling", x=x, note="line one\nline two")
        logging.getLogger("doblar").warning("through the logging module")
        return {"value": 2 * x}

    @plugin.operation
    def rechazar(x: float) -> Answer:
        raise OperationError("x is never acceptable")

    @plugin.operation
    def romper(x: float) -> Answer:
        raise RuntimeError("secret internal detail")

    return plugin


def lines(capsys) -> list[dict]:
    """Every line the runtime wrote, parsed: each one must be a JSON object."""
    captured = capsys.readouterr()
    assert captured.out == ""  # logs go to stderr: stdout stays free for tools such as invoke
    return [json.loads(line) for line in captured.err.splitlines() if line.strip()]


def by_type(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r.get("type") == kind]


def mcp_call(name: str, arguments: dict, headers: dict | None = None) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    return make_event("POST", "/mcp", body, headers={"mcp-protocol-version": "2025-06-18", **(headers or {})})


def call(plugin: Plugin, event: object, capsys) -> tuple[dict, dict, dict, list[dict]]:
    """(response, request line, metrics record, every line) for one request."""
    capsys.readouterr()
    response = plugin.lambda_handler(event, LambdaContext())
    records = lines(capsys)
    requests, metrics = by_type(records, "request"), by_type(records, "metrics")
    assert len(requests) == 1 and len(metrics) == 1, records
    return response, requests[0], metrics[0], records


def assert_emf(record: dict, operation: str | None, surface: str, client: int, server: int) -> None:
    """The record CloudWatch turns into metrics (Embedded Metric Format)."""
    directive = record["_aws"]["CloudWatchMetrics"]
    assert isinstance(record["_aws"]["Timestamp"], int)
    assert len(directive) == 1
    namespace = directive[0]["Namespace"]
    assert namespace == record["Service"] and namespace
    assert directive[0]["Metrics"] == [{"Name": "Requests", "Unit": "Count"}, {"Name": "ClientErrors", "Unit": "Count"},
                                       {"Name": "ServerErrors", "Unit": "Count"},
                                       {"Name": "Duration", "Unit": "Milliseconds"}]
    expected = [["Service"], ["Service", "Surface", "Operation"]] if operation else [["Service"]]
    assert directive[0]["Dimensions"] == expected
    for dimensions in directive[0]["Dimensions"]:  # every dimension and metric is a member of the record
        assert all(isinstance(record[d], str) for d in dimensions)
    assert (record.get("Operation"), record["Surface"]) == (operation, surface)
    assert (record["Requests"], record["ClientErrors"], record["ServerErrors"]) == (1, client, server)
    assert isinstance(record["Duration"], float) and record["Duration"] >= 0
    assert record["requestId"] == REQUEST_ID and record["timestamp"].endswith("Z")


def assert_request(line: dict, level: str, status: int, outcome: str, surface: str, operation: str | None) -> None:
    assert (line["level"], line["status"], line["outcome"], line["surface"]) == (level, status, outcome, surface)
    assert line.get("operation") == operation
    assert line["requestId"] == REQUEST_ID and line["apiRequestId"] == API_REQUEST_ID
    assert isinstance(line["durationMs"], float) and isinstance(line["coldStart"], bool)
    assert line["timestamp"].endswith("Z") and len(line["timestamp"]) == 24  # 2026-11-29T17:06:01.123Z
    # who called (the key's name, the signed-in user, or None when open), never the credential
    expected = {"none": None, "api_key": "pytest-session", "oauth": "pytest"}[AUTH_MODE]
    assert "caller" in line and line["caller"] == expected
    assert TEST_KEY not in json.dumps(line)


def test_rest_success(plugin, capsys):
    response, line, metrics, records = call(plugin, make_event("POST", "/doblar", {"x": 2}), capsys)
    assert response["statusCode"] == 200
    assert_request(line, "INFO", 200, "ok", "rest", "doblar")
    assert (line["method"], line["path"], line["message"]) == ("POST", "/doblar", "POST /doblar 200")
    assert_emf(metrics, "doblar", "rest", 0, 0)
    # The operation's own lines: ctx.log (fields kept, newlines escaped) and the logging module.
    own = [r for r in records if r.get("message") == "doubling"]
    assert own and own[0]["requestId"] == REQUEST_ID and own[0]["x"] == 2 and own[0]["level"] == "INFO"
    assert own[0]["note"] == "line one\nline two"
    stdlib = [r for r in records if r.get("logger") == "doblar"]
    assert stdlib == [{**stdlib[0], "level": "WARN", "message": "through the logging module", "requestId": REQUEST_ID}]


def test_rest_client_error(plugin, capsys):
    response, line, metrics, _ = call(plugin, make_event("POST", "/rechazar", {"x": 1}), capsys)
    assert response["statusCode"] == 400
    assert_request(line, "WARN", 400, "client_error", "rest", "rechazar")
    assert_emf(metrics, "rechazar", "rest", 1, 0)


def test_rest_server_error_logs_the_traceback_not_the_response(plugin, capsys):
    response, line, metrics, records = call(plugin, make_event("POST", "/romper", {"x": 1}), capsys)
    assert response["statusCode"] == 500
    assert "secret internal detail" not in response["body"] and "Traceback" not in response["body"]
    assert_request(line, "ERROR", 500, "server_error", "rest", "romper")
    assert_emf(metrics, "romper", "rest", 0, 1)
    failure = [r for r in records if r.get("errorType") == "RuntimeError"]
    assert failure and failure[0]["level"] == "ERROR" and failure[0]["requestId"] == REQUEST_ID
    assert "secret internal detail" in failure[0]["errorMessage"]
    assert any("Traceback" in frame for frame in failure[0]["stackTrace"])


def test_mcp_success(plugin, capsys):
    response, line, metrics, _ = call(plugin, mcp_call("doblar", {"x": 2}), capsys)
    assert json.loads(response["body"])["result"]["isError"] is False
    assert_request(line, "INFO", 200, "ok", "mcp", "doblar")
    assert line["mcpMethod"] == "tools/call" and line["message"] == "POST /mcp tools/call 200"
    assert_emf(metrics, "doblar", "mcp", 0, 0)


@pytest.mark.parametrize(("name", "arguments"), [("rechazar", {"x": 1}), ("doblar", {"x": "two"})],
                         ids=["refused", "bad_arguments"])
def test_mcp_tool_errors_are_client_errors(plugin, capsys, name, arguments):
    response, line, metrics, _ = call(plugin, mcp_call(name, arguments), capsys)
    assert response["statusCode"] == 200 and json.loads(response["body"])["result"]["isError"] is True
    assert_request(line, "WARN", 200, "client_error", "mcp", name)
    assert_emf(metrics, name, "mcp", 1, 0)


def test_mcp_server_error(plugin, capsys):
    response, line, metrics, records = call(plugin, mcp_call("romper", {"x": 1}), capsys)
    assert "secret internal detail" not in response["body"]
    assert_request(line, "ERROR", 200, "server_error", "mcp", "romper")
    assert_emf(metrics, "romper", "mcp", 0, 1)
    assert any(r.get("errorType") == "RuntimeError" for r in records)


@pytest.mark.parametrize("headers", [{}, {"mcp-protocol-version": "2026-07-28"}], ids=["handshake", "stateless"])
def test_mcp_protocol_errors_are_client_errors_without_an_operation(plugin, capsys, headers):
    event = make_event("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "nope/nope"},
                       headers={"mcp-protocol-version": "2025-06-18", **headers})
    _, line, metrics, _ = call(plugin, event, capsys)
    assert line["outcome"] == "client_error" and line["mcpMethod"] == "nope/nope" and line["operation"] is None
    assert_emf(metrics, None, "mcp", 1, 0)


def test_documents_and_unknown_paths_count_for_the_service_only(plugin, capsys):
    _, line, metrics, _ = call(plugin, make_event("GET", "/openapi.json"), capsys)
    assert line["outcome"] == "ok" and line["operation"] is None
    assert_emf(metrics, None, "rest", 0, 0)
    _, line, metrics, _ = call(plugin, make_event("GET", "/" + "x" * 5000), capsys)
    assert line["status"] == 404 and len(line["path"]) <= 256
    assert_emf(metrics, None, "rest", 1, 0)


def test_an_unreadable_event_is_logged_too(plugin, capsys):
    _, line, metrics, _ = call(plugin, {"not": "an event"}, capsys)
    assert line["status"] == 400 and line["method"] is None and line["requestId"] == REQUEST_ID
    assert_emf(metrics, None, "rest", 1, 0)


def test_only_the_first_request_is_a_cold_start(plugin, capsys):
    from plugin_runtime import transport_log

    transport_log._state["cold"] = True
    first = call(plugin, make_event("POST", "/doblar", {"x": 1}), capsys)[1]
    second = call(plugin, make_event("POST", "/doblar", {"x": 1}), capsys)[1]
    assert (first["coldStart"], second["coldStart"]) == (True, False)


def test_the_log_level_drops_lines_but_never_metrics(plugin, capsys, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARN")
    capsys.readouterr()
    plugin.lambda_handler(make_event("POST", "/doblar", {"x": 2}), LambdaContext())
    records = lines(capsys)
    assert not by_type(records, "request") and not [r for r in records if r.get("message") == "doubling"]
    metrics = by_type(records, "metrics")
    assert len(metrics) == 1 and metrics[0]["level"] == "WARN"  # Lambda keeps it at this log level
    plugin.lambda_handler(make_event("POST", "/rechazar", {"x": 2}), LambdaContext())
    assert [r["level"] for r in by_type(lines(capsys), "request")] == ["WARN"]


def test_the_metrics_namespace_comes_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("PLUGIN_METRICS_NAMESPACE", "sumar-plugin")
    plugin = Plugin(version="1.0.0", root=str(PROJECT))  # read once per plugin
    plugin.lambda_handler(make_event("GET", "/openapi.json"), LambdaContext())
    metrics = by_type(lines(capsys), "metrics")[0]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == metrics["Service"] == "sumar-plugin"


def test_no_credential_reaches_a_log_line(plugin, capsys):
    for header in ({"authorization": f"Bearer {TOKEN}"}, {"x-api-key": TOKEN}, {"cookie": f"session={TOKEN}"}):
        for event in (make_event("POST", "/doblar", {"x": 1}, headers=header),
                      make_event("POST", "/romper", {"x": 1}, headers=header),
                      mcp_call("doblar", {"x": 1}, headers=header)):
            capsys.readouterr()
            plugin.lambda_handler(event, LambdaContext())
            captured = capsys.readouterr()
            assert TOKEN not in captured.err and TOKEN not in captured.out


def test_a_caller_is_logged_by_name_and_kind(plugin, capsys):
    from plugin_runtime import Caller

    original = plugin._dispatch

    def dispatch(event, context):  # what an authenticating surface does: set ctx.caller
        response, ctx = original(event, context)
        ctx.caller = Caller("ci-bot", "api_key", frozenset({"read"}))
        return response, ctx

    plugin._dispatch = dispatch
    line = call(plugin, make_event("POST", "/doblar", {"x": 1}), capsys)[1]
    assert (line["caller"], line["callerKind"]) == ("ci-bot", "api_key")


def test_module_level_log_outside_a_request(capsys):
    from plugin_runtime import log

    log.warning("starting", version="1.0.0")
    record = lines(capsys)[0]
    assert (record["level"], record["message"], record["version"], record["requestId"]) == \
        ("WARN", "starting", "1.0.0", None)
