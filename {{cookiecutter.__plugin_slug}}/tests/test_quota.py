"""Quotas (``@plugin.operation(quota="N/minute|hour|day")``, Terraform's ``default_quota``), run in
this project's auth mode: a verified caller's calls are counted in the store (SQLite here) and the
call over the quota answers 429 with Retry-After on REST and a tool error on MCP, in both eras;
anonymous callers (auth = "none") are never counted."""

from __future__ import annotations

import json

import pytest
from conftest import AUTH_MODE, PROJECT, caller, make_event
from test_mcp import HANDSHAKE, mcp_event, modern_event, rpc

from plugin_runtime import Plugin, model_store
from plugin_runtime.model_schema import SchemaError

COUNTED = AUTH_MODE != "none"
START = 31_666_667 * 60 + 20  # 20 seconds into a minute


@pytest.fixture
def clock(monkeypatch):
    now = [float(START)]
    monkeypatch.setattr(model_store._state, "clock", lambda: now[0])
    return now


def quota_plugin(quota: str | None = "3/minute") -> Plugin:
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(read_only=True, quota=quota)
    def ping(n: int = 0) -> dict[str, int]:
        """Answers pong."""
        return {"pong": n}

    return plugin


def rest(call) -> tuple[int, dict, object]:
    return call(make_event("POST", "/ping", {"n": 1}))


def test_the_call_over_the_quota_is_a_429_with_retry_after(clock):
    call = caller(quota_plugin().lambda_handler)
    for _ in range(3):
        assert rest(call)[0] == 200
    status, headers, body = rest(call)
    if not COUNTED:
        assert status == 200  # API Gateway's throttling alone
        return
    assert status == 429, body
    assert body["error"] == "rate_limited" and "3 calls per minute" in body["message"]
    assert headers["retry-after"] == "40"  # the seconds to the window's end


def test_windows_roll_over(clock):
    call = caller(quota_plugin("2/minute").lambda_handler)
    assert [rest(call)[0] for _ in range(3)] == [200, 200, 429 if COUNTED else 200]
    clock[0] = START + 39
    assert rest(call)[0] == (429 if COUNTED else 200)
    clock[0] = START + 40  # the next minute
    assert [rest(call)[0] for _ in range(3)] == [200, 200, 429 if COUNTED else 200]


@pytest.mark.parametrize("version", [*HANDSHAKE, "2026-07-28"])
def test_the_mcp_tool_error_says_when_to_retry(clock, version):
    call = caller(quota_plugin("1/hour").lambda_handler)
    params = {"name": "ping", "arguments": {"n": 1}}
    for attempt in range(2):
        if version == "2026-07-28":
            status, _, body = call(modern_event("tools/call", params))
        else:
            status, _, body = call(mcp_event(rpc("tools/call", params), version))
        assert status == 200 and "error" not in body, body
        result = body["result"]
        if attempt == 0 or not COUNTED:
            assert result["isError"] is False, result
        else:
            assert result["isError"] is True
            assert f"(retry after {3600 - START % 3600} seconds)" in result["content"][0]["text"], result


def test_the_openapi_documents_the_429_with_retry_after():
    doc = quota_plugin().openapi_for("https://example.test")
    response = doc["paths"]["/ping"]["post"]["responses"]["429"]
    if not COUNTED:  # anonymous callers are not counted: only API Gateway's throttling answers 429
        assert "calls per" not in response["description"] and "headers" not in response
        return
    assert "3 calls per minute" in response["description"] and "Retry-After" in json.dumps(response["headers"])


def test_throttled_calls_are_counted_in_the_metrics(clock, capsys):
    call = caller(quota_plugin("1/day").lambda_handler)
    rest(call)
    rest(call)
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if '"type":"metrics"' in line]
    assert [r["Throttled"] for r in records[-2:]] == [0, 1 if COUNTED else 0]
    assert {"Name": "Throttled", "Unit": "Count"} in records[-1]["_aws"]["CloudWatchMetrics"][0]["Metrics"]


@pytest.mark.parametrize("spec", ["100/week", "0/day", "ten/day", "100", "-1/hour", 100, "1e3/day"])
def test_a_bad_quota_is_refused_naming_the_operation(spec):
    with pytest.raises(SchemaError, match=r"^ping: quota=: quota .* is not CALLS/WINDOW") as info:
        quota_plugin(spec)
    assert "\n" not in str(info.value)


def test_the_default_quota_applies_to_every_operation(clock, monkeypatch):
    monkeypatch.setenv("PLUGIN_DEFAULT_QUOTA", "2/day")
    call = caller(quota_plugin(None).lambda_handler)
    assert [rest(call)[0] for _ in range(3)] == [200, 200, 429 if COUNTED else 200]
    monkeypatch.setenv("PLUGIN_DEFAULT_QUOTA", "2/fortnight")
    with pytest.raises(SchemaError, match="default_quota"):
        quota_plugin(None).operations["ping"].call({"n": 1}, None)


def test_without_a_store_a_counted_call_is_a_500_naming_the_fix(clock, store, capsys):
    model_store.use_backend(None)
    try:
        status, _, body = rest(caller(quota_plugin().lambda_handler))
    finally:
        model_store.use_backend(store)
    if not COUNTED:
        assert status == 200
        return
    assert status == 500 and body["error"] == "internal_error", body
    assert 'storage = \\"dynamodb\\"' in capsys.readouterr().err
