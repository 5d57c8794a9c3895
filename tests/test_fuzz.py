"""Robustness of the generated Lambda: whatever API Gateway (or a confused caller) hands it, the
answer is a well-formed response, never a 5xx, never a traceback, always a JSON error body.

The default project is baked once for the module and its handler imported in-process. The
hypothesis run is bounded for CI (FUZZ_EVENTS, default 300 events, a few seconds); set
FUZZ_EVENTS=10000 for the deep run, and FUZZ_REPORT=<file> to get its figures as JSON (the
benchmark script records them in BENCHMARKS.md); FUZZ_PROJECT=<folder> fuzzes a project you
already generated instead of a fresh bake.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from bake_support import bake, project_modules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_EVENTS = int(os.environ.get("FUZZ_EVENTS", "300"))
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
PATHS = ["/sumar", "/mcp", "/.well-known/ai-plugin.json", "/openapi.json", "/logo.png", "/", "", "/sumar/",
         "//sumar", "/SUMAR", "/sumar?x=1", "/mcp/", "/%00", "/" + "a" * 5000]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "post", "", "P0ST", "\u00e9"]
STATS: Counter = Counter()
# A recognizable fake credential in every event's Authorization header: it must never be logged.
TOKEN = "fuzz-FAKE-TOKEN-3f9a1c7e5b2d"


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    """The baked project's lambda_handler, imported from its own folder (and forgotten after).
    FUZZ_PROJECT=<folder> fuzzes an already generated (perhaps edited) project instead."""
    given_project = os.environ.get("FUZZ_PROJECT")
    project = Path(given_project).resolve() if given_project else bake(tmp_path_factory.mktemp("fuzz"))
    with project_modules(project):
        import handler as module
        import plugin_runtime.surface_mcp  # noqa: F401  (the runtime imports it lazily: load it while on sys.path)

        yield module.lambda_handler


def event(path: str = "/sumar", method: str = "POST", body: object = None, headers: dict | None = None,
          b64: object = False) -> dict:
    """A full API Gateway HTTP API (payload 2.0) event, carrying a credential no log may show."""
    head = {"content-type": "application/json", "host": HOST, "x-forwarded-proto": "https",
            "authorization": f"Bearer {TOKEN}"}
    head.update(headers or {})
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": head,
        "requestContext": {"domainName": HOST, "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                                        "sourceIp": "203.0.113.10"}, "stage": "$default"},
        "body": body, "isBase64Encoded": b64,
    }


def check(handler, ev: object) -> dict:
    """Call the handler and assert the response invariants and those of what it logged (one JSON
    request line and one metrics record, no traceback, no credential); returns the response."""
    STATS["events"] += 1
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            response = handler(ev, None)
    except Exception as exc:  # the assertion below reports it; counted for the figures
        STATS["uncaught"] += 1
        raise AssertionError(f"uncaught {type(exc).__name__}: {exc!s:.300} for event {ev!r:.300}") from exc
    logged = out.getvalue() + err.getvalue()
    assert TOKEN not in logged, logged[:1000]
    assert "Traceback" not in logged, logged[-1000:]
    records = [json.loads(line) for line in logged.splitlines()]  # every line is JSON
    kinds = Counter(r.get("type") for r in records)
    assert (kinds["request"], kinds["metrics"]) == (1, 1), logged[:1000]
    # Anything else is an ordinary log record of this request (e.g. why a token was refused).
    assert all(r.get("type") in ("request", "metrics") or ("level" in r and "message" in r) for r in records)
    assert isinstance(response, dict), response
    status = response.get("statusCode")
    assert isinstance(status, int), response
    STATS[f"status_{status // 100}xx"] += 1
    assert 200 <= status < 500, f"{status} for event {ev!r:.400}: {response!r:.400}"
    headers = response.get("headers", {})
    assert isinstance(headers, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    body = response.get("body", "")
    assert isinstance(body, str)
    assert "Traceback" not in body and 'File "' not in body, body[:400]
    if response.get("isBase64Encoded"):
        base64.b64decode(body, validate=True)
        return response
    if status in (202, 204) and not body:
        return response
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert ctype.startswith("application/json"), response
    data = json.loads(body)
    if status >= 400:
        assert isinstance(data, dict), body[:400]
        if "jsonrpc" in data:  # an MCP answer: a JSON-RPC error object
            assert isinstance(data.get("error"), dict) and isinstance(data["error"].get("code"), int), body[:400]
            assert isinstance(data["error"].get("message"), str)
        else:
            assert isinstance(data.get("error"), str) and isinstance(data.get("message"), str), body[:400]
    return response


# -- strategies -------------------------------------------------------------------------------
def json_values(max_leaves: int = 12):
    scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=max_leaves)


numbers = (st.integers(-(10**15), 10**15) | st.floats(-1e15, 1e15) | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from(["1e400", "-1e400", "1" + "0" * 5000, "NaN", "Infinity", "-Infinity", "1e-400",
                              "0.1e999999999", "-0", "1.0000000000000000000000001", "2", "1e15", "1000000000000001"]))


@st.composite
def sumar_bodies(draw) -> str:
    """Text that is nearly a sumar request: valid JSON, or JSON with odd number literals."""
    keys = draw(st.just(["numero1", "numero2"])
                | st.lists(st.sampled_from(["numero1", "numero2", "numero3", "", "resultado", "NUMERO1"]),
                           max_size=4, unique=True))
    parts = []
    for key in keys:
        value = draw(numbers | json_values(4))
        literal = value if isinstance(value, str) and value[:1] in "-0123456789NI" else json.dumps(value)
        parts.append(f"{json.dumps(key)}: {literal}")
    return "{" + ", ".join(parts) + "}"


@st.composite
def rpc_bodies(draw) -> str:
    """JSON-RPC-shaped bodies for /mcp, mostly wrong in one place or another."""
    msg: dict = {}
    if draw(st.integers(0, 4)):
        msg["jsonrpc"] = draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2, None]))
    if draw(st.integers(0, 3)):
        msg["id"] = draw(st.one_of(st.integers(0, 100), st.integers(), st.text(max_size=8), st.none(),
                                   st.floats(allow_nan=False), st.lists(st.integers(), max_size=2), st.booleans()))
    if draw(st.integers(0, 9)):
        msg["method"] = draw(st.sampled_from(["initialize", "tools/list", "tools/call", "ping", "server/discover",
                                              "notifications/initialized", "resources/list", "resources/read",
                                              "prompts/get", "nope", ""])
                             | st.text(max_size=12) | st.integers())
    if draw(st.integers(0, 3)):
        msg["params"] = draw(st.one_of(
            st.fixed_dictionaries({}, optional={
                "name": st.sampled_from(["sumar", "nope", ""]) | st.integers() | st.none(),
                "uri": st.sampled_from(["ui://widget/sumar-00000000.html", "ui://widget/x", "data://x", ""])
                | json_values(2),
                "arguments": st.fixed_dictionaries({}, optional={"numero1": numbers, "numero2": numbers})
                | json_values(4),
                "protocolVersion": st.sampled_from(["2025-06-18", "2025-11-25", "2026-07-28", "1.0"]) | st.integers(),
                "_meta": json_values(4),
                "cursor": json_values(2),
            }),
            json_values(4)))
    text = json.dumps(msg, allow_nan=True)
    if draw(st.integers(0, 9)) == 0:
        text = f"[{text}]"
    return text


def raw_bodies():
    return (st.none() | st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
            | sumar_bodies() | rpc_bodies() | json_values().map(json.dumps)
            | st.integers() | st.lists(st.integers(), max_size=3)
            | st.sampled_from(["", "[" * 1000, "{" * 1000, '{"a":' * 1000, "\ud800", "\x00", "NaN", "[NaN]",
                               "1" * 10000, '{"numero1": 1e309, "numero2": 1}', "\ufeff{}"]))


headers_strategy = st.one_of(
    st.none(), st.integers(), st.lists(st.text(max_size=5), max_size=2),
    st.dictionaries(
        st.sampled_from(["content-type", "Content-Type", "host", "Host", "x-forwarded-proto", "mcp-protocol-version",
                         "MCP-Protocol-Version", "mcp-method", "mcp-name", "accept", "origin", "mcp-session-id"])
        | st.text(max_size=10),
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "",
                         "application/vnd.api+json", "2025-06-18", "2026-07-28", "2025-03-26", "1999-01-01",
                         "tools/call", "sumar", "https", "http,https", "localhost:8080", "a b", "\u00e9", "x" * 300,
                         "application/json, text/event-stream", "https://evil.example"])
        | st.text(max_size=20) | st.integers() | st.none(),
        max_size=6))


@st.composite
def near_valid_events(draw) -> dict:
    """Well-formed events whose body alone is fuzzed, so the deeper paths (validation, the
    operation, JSON-RPC dispatch, the documents) are exercised too."""
    path = draw(st.sampled_from(["/sumar", "/mcp", "/mcp", "/.well-known/ai-plugin.json", "/openapi.json"]))
    if path == "/sumar":
        return event(path, "POST", draw(sumar_bodies()))
    if path != "/mcp":
        return event(path, "GET", draw(st.none() | st.text(max_size=10)))
    body = draw(rpc_bodies())
    version = draw(st.sampled_from([None, "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "2027-01-01"]))
    headers = {"accept": "application/json, text/event-stream"}
    if version:
        headers["mcp-protocol-version"] = version
    if version == "2026-07-28":
        msg = json.loads(body)
        if isinstance(msg, dict):
            headers["mcp-method"] = str(msg.get("method"))
            params = msg.get("params")
            if isinstance(params, dict) and draw(st.booleans()):
                params["_meta"] = {"io.modelcontextprotocol/protocolVersion": version,
                                   "io.modelcontextprotocol/clientCapabilities": {}}
                headers["mcp-name"] = str(params.get("name"))
                body = json.dumps(msg)
    return event(path, "POST", body, headers)


@st.composite
def events(draw) -> object:
    """Mostly event-shaped dicts with something odd somewhere; sometimes not a dict at all."""
    if draw(st.integers(0, 2)) == 0:
        return draw(near_valid_events())
    if draw(st.integers(0, 19)) == 0:
        return draw(st.none() | st.integers() | st.text(max_size=20) | st.lists(st.integers(), max_size=3)
                    | st.binary(max_size=10) | st.just({}))
    path = draw(st.sampled_from(["/sumar", "/mcp", "/.well-known/ai-plugin.json", "/openapi.json"])
                | st.sampled_from(PATHS) | st.text(max_size=30) | st.none() | st.integers())
    method = draw(st.sampled_from(["POST", "POST", "GET"]) | st.sampled_from(METHODS) | st.text(max_size=8)
                  | st.none() | st.integers())
    body = draw(raw_bodies())
    b64 = draw(st.sampled_from([False, False, True, "true", 1, None]))
    if b64 is True and isinstance(body, str) and draw(st.booleans()):
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    ev = event(path if isinstance(path, str) else "/sumar", "POST", body, None, b64)
    if not isinstance(path, str):
        ev["rawPath"] = path
    ev["requestContext"]["http"]["method"] = method
    heads = draw(headers_strategy)
    if draw(st.booleans()):
        ev["headers"] = heads if not isinstance(heads, dict) else {**ev["headers"], **heads}
    mutation = draw(st.integers(0, 9))
    if mutation == 0:
        ev.pop("requestContext")
    elif mutation == 1:
        ev["requestContext"] = draw(st.none() | st.text(max_size=5) | st.just({}) | st.just({"http": None}))
    elif mutation == 2:
        ev["requestContext"].pop("domainName")
    elif mutation == 3:
        ev["requestContext"]["domainName"] = draw(st.text(max_size=40) | st.integers() | st.none())
    elif mutation == 4:
        ev.pop(draw(st.sampled_from(["rawPath", "headers", "body", "isBase64Encoded", "version"])))
    elif mutation == 5:
        ev["queryStringParameters"] = draw(st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=8)
                                                                       | st.integers(), max_size=3) | st.integers())
    return ev


# -- the fuzz run -----------------------------------------------------------------------------
@settings(max_examples=FUZZ_EVENTS, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(ev=events())
def _fuzz(handler, ev):
    check(handler, ev)


def test_fuzz_raw_events(handler):
    """FUZZ_EVENTS generated events: never an uncaught exception, never a 5xx, always JSON errors."""
    STATS.clear()
    started = time.perf_counter()
    _fuzz(handler)
    seconds = time.perf_counter() - started
    assert STATS["events"] >= FUZZ_EVENTS * 0.9
    assert STATS["status_5xx"] == 0 and STATS["uncaught"] == 0
    report = os.environ.get("FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps({"events": STATS["events"], "fuzz_seconds": round(seconds, 2),
                                            "status_5xx": STATS["status_5xx"], "uncaught": STATS["uncaught"],
                                            "statuses": {k: v for k, v in STATS.items() if k.startswith("status")}}))
    print(f"\nfuzz: {STATS['events']} events in {seconds:.1f} s; "
          + ", ".join(f"{k}={v}" for k, v in sorted(STATS.items()) if k.startswith("status")))


# -- hand-picked extremes ---------------------------------------------------------------------
HUGE = "[" * 100_000
EXTREMES = {
    "deep_list": HUGE,
    "deep_list_closed": "[" * 100_000 + "]" * 100_000,
    "deep_object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "deep_in_argument": '{"numero1": ' + "[" * 100_000 + ', "numero2": 1}',
    "huge_int": '{"numero1": ' + "9" * 100_000 + ', "numero2": 1}',
    "int_over_bound": '{"numero1": 1000000000000001, "numero2": 1}',
    "float_overflow": '{"numero1": 1e400, "numero2": 1}',
    "nan_literal": '{"numero1": NaN, "numero2": 1}',
    "infinity_literal": '{"numero1": Infinity, "numero2": 1}',
    "minus_infinity": '{"numero1": -Infinity, "numero2": 1}',
    "string_number": '{"numero1": "2", "numero2": 3}',
    "bool_number": '{"numero1": true, "numero2": 3}',
    "null_number": '{"numero1": null, "numero2": 3}',
    "extra_field": '{"numero1": 1, "numero2": 3, "x": 1}',
    "top_level_array": "[1, 2]",
    "top_level_string": '"hola"',
    "bom": "\ufeff" + '{"numero1": 1, "numero2": 3}',
    "lone_surrogate": '{"numero1": "\ud800", "numero2": 3}',
    "escaped_surrogate": '{"numero1": "\\ud800", "numero2": 3}',
    "nul_bytes": "\x00" * 100,
    "truncated": '{"numero1": 1, "numero2": ',
    "trailing_garbage": '{"numero1": 1, "numero2": 3} xyz',
    "empty": "",
    "whitespace": "   \n\t ",
}


@pytest.mark.parametrize("body", list(EXTREMES.values()), ids=list(EXTREMES))
@pytest.mark.parametrize("path", ["/sumar", "/mcp"])
def test_extreme_bodies(handler, body, path):
    response = check(handler, event(path, "POST", body))
    if path == "/mcp" and response["statusCode"] == 200:  # a 2025-03-26 batch: one error per invalid member
        replies = json.loads(response["body"])
        assert isinstance(replies, list) and replies and all(r["error"]["code"] == -32600 for r in replies)
    else:  # none is a valid sumar request nor a JSON-RPC message
        assert response["statusCode"] >= 400, response


def test_huge_body_is_refused_with_413(handler):
    body = '{"numero1": 1, "numero2": 2, "pad": "' + "x" * 2_000_000 + '"}'
    response = check(handler, event("/sumar", "POST", body))
    assert response["statusCode"] == 413


def test_huge_base64_body(handler):
    raw = b"\xff" * 1_500_000
    response = check(handler, event("/sumar", "POST", base64.b64encode(raw).decode(), b64=True))
    assert response["statusCode"] == 413


@pytest.mark.parametrize(("body", "flag"), [
    ("eyJudW1lcm8xIjogMSwgIm51bWVybzIiOiAyfQ==", True),  # valid base64 of a valid body
    ('{"numero1": 1, "numero2": 2}', True),  # not base64 at all
    ("////", True),  # base64 of non-UTF-8 bytes
    ("eyJudW1lcm8xIjogMSwgIm51bWVybzIiOiAyfQ==", False),  # base64 text, not flagged
    ('{"numero1": 1, "numero2": 2}', "true"),  # flag of the wrong type
], ids=["valid", "not_base64", "not_utf8", "unflagged", "string_flag"])
def test_base64_flags(handler, body, flag):
    response = check(handler, event("/sumar", "POST", body, b64=flag))
    if body.startswith("eyJ") and flag is True:
        assert json.loads(response["body"]) == {"resultado": 3}
    elif flag is True:
        assert response["statusCode"] == 400


@pytest.mark.parametrize("ev", [None, 0, "event", [], [{}], b"bytes", {}, {"rawPath": "/sumar"},
                                {"requestContext": None}, {"requestContext": {"http": "POST"}},
                                {"requestContext": {"http": {"method": "POST"}}},
                                {"rawPath": 5, "requestContext": {"http": {"method": "POST", "path": 7}}},
                                {"httpMethod": "POST", "path": "/sumar", "body": "{}"}],  # REST API (v1) shape
                         ids=lambda v: repr(v)[:40])
def test_non_events(handler, ev):
    response = check(handler, ev)
    assert response["statusCode"] == 400


@pytest.mark.parametrize("headers", [None, [], "x", {"content-type": None}, {"Content-Type": "text/plain"},
                                     {"host": None}, {1: "x"}, {"content-type": "application/json; charset=latin-1"}],
                         ids=lambda v: repr(v)[:40])
def test_odd_headers(handler, headers):
    ev = event("/sumar", "POST", '{"numero1": 1, "numero2": 2}')
    ev["headers"] = headers if not isinstance(headers, dict) else {"host": HOST, **headers}
    response = check(handler, ev)
    assert response["statusCode"] in (200, 415)


@pytest.mark.parametrize("path", ["/.well-known/ai-plugin.json", "/openapi.json"])
@pytest.mark.parametrize("host", [None, "", "a b", "evil.example/x", "x" * 300, "h\u00e9st", "[::1]:8080"])
def test_documents_with_odd_hosts(handler, path, host):
    ev = event(path, "GET")
    ev["requestContext"].pop("domainName")
    ev["headers"].pop("host")
    if host is not None:
        ev["headers"]["host"] = host
    response = check(handler, ev)
    if response["statusCode"] == 200:
        assert host == "[::1]:8080"
        assert f"https://{host}" in response["body"]  # the event says x-forwarded-proto: https
    else:
        assert response["statusCode"] == 400


# -- malformed JSON-RPC for /mcp (spec-facts section 3) ----------------------------------------
MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "fuzz", "version": "1"}}


def rpc(method: object = "tools/call", params: object = None, rid: object = 1, **extra: object) -> str:
    msg: dict = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    msg.update(extra)
    return json.dumps(msg)


def call(arguments: object, name: object = "sumar", meta: dict | None = None) -> dict:
    params: dict = {"name": name, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return params


def modern_headers(method: str, name: str | None = None) -> dict:
    heads = {"mcp-protocol-version": MODERN, "mcp-method": method, "accept": "application/json, text/event-stream"}
    if name is not None:
        heads["mcp-name"] = name
    return heads


OLD = {"mcp-protocol-version": "2025-06-18", "accept": "application/json, text/event-stream"}
TOOL_ERROR = "isError"  # a normal tools/call result with isError: true (the model can correct itself)
ACCEPTED = "accepted"  # 202 with an empty body (a notification or a response)
# (body, headers, HTTP status, JSON-RPC error code or TOOL_ERROR / ACCEPTED)
RPC_CORPUS = {
    # handshake era (2025-06-18)
    "not_json": ("hola", OLD, 400, -32700),
    "empty": ("", OLD, 400, -32700),
    "truncated": ('{"jsonrpc": "2.0", "id": 1, "method": "ping"', OLD, 400, -32700),
    "deep": ("[" * 100_000, OLD, 400, -32700),
    "nan_argument": (rpc(params=call({"numero1": 1, "numero2": 2})).replace("2}", "NaN}"), OLD, 400, -32700),
    "overflow_argument": (rpc(params=call({"numero1": 1, "numero2": 2})).replace("2}", "1e400}"), OLD, 400, -32700),
    "empty_batch": ("[]", OLD, 400, -32600),
    "batch_after_2025_03_26": (f"[{rpc('ping')}]", OLD, 400, -32600),
    "number": ("42", OLD, 400, -32600),
    "null": ("null", OLD, 400, -32600),
    "string": ('"tools/call"', OLD, 400, -32600),
    "no_jsonrpc": ('{"id": 1, "method": "ping"}', OLD, 400, -32600),
    "jsonrpc_1": ('{"jsonrpc": "1.0", "id": 1, "method": "ping"}', OLD, 400, -32600),
    "no_method": ('{"jsonrpc": "2.0", "id": 1}', OLD, 400, -32600),
    "method_number": (rpc(5), OLD, 400, -32600),
    "method_empty": (rpc(""), OLD, 400, -32600),
    "id_object": (rpc("ping", rid={"a": 1}), OLD, 400, -32600),
    "id_bool": (rpc("ping", rid=True), OLD, 400, -32600),
    "params_array": (rpc("ping", [1]), OLD, 400, -32600),
    "unknown_method": (rpc("resources/subscribe"), OLD, 200, -32601),
    "call_without_name": (rpc(params={"arguments": {}}), OLD, 200, -32602),
    "call_unknown_tool": (rpc(params=call({"numero1": 1, "numero2": 2}, name="restar")), OLD, 200, -32602),
    "call_name_number": (rpc(params=call({}, name=7)), OLD, 200, -32602),
    "arguments_not_object": (rpc(params=call([1, 2])), OLD, 200, -32602),
    "argument_wrong_type": (rpc(params=call({"numero1": "2", "numero2": 3})), OLD, 200, TOOL_ERROR),
    "argument_missing": (rpc(params=call({"numero1": 2})), OLD, 200, TOOL_ERROR),
    "argument_extra": (rpc(params=call({"numero1": 2, "numero2": 3, "numero3": 4})), OLD, 200, TOOL_ERROR),
    "argument_out_of_bounds": (rpc(params=call({"numero1": 1e300, "numero2": 3})), OLD, 200, TOOL_ERROR),
    "argument_bool": (rpc(params=call({"numero1": True, "numero2": 3})), OLD, 200, TOOL_ERROR),
    "initialize_without_version": (rpc("initialize", {}), OLD, 200, -32602),
    "list_with_cursor": (rpc("tools/list", {"cursor": "next"}), OLD, 200, -32602),
    "notification": ('{"jsonrpc": "2.0", "method": "notifications/initialized"}', OLD, 202, ACCEPTED),
    "response_message": ('{"jsonrpc": "2.0", "id": 1, "result": {}}', OLD, 202, ACCEPTED),
    "unsupported_version": (rpc("ping"), {**OLD, "mcp-protocol-version": "1999-01-01"}, 400, -32022),
    "text_plain": (rpc("ping"), {**OLD, "content-type": "text/plain"}, 415, -32600),
    "accept_html_only": (rpc("ping"), {**OLD, "accept": "text/html"}, 406, -32600),
    "foreign_origin": (rpc("ping"), {**OLD, "origin": "https://evil.example"}, 403, -32600),
    # stateless era (2026-07-28)
    "modern_parse_error": ("{", modern_headers("tools/call", "sumar"), 400, -32700),
    "modern_unknown_method": (rpc("nope/nope", {"_meta": META}), modern_headers("nope/nope"), 404, -32601),
    "modern_without_meta": (rpc(params=call({"numero1": 1, "numero2": 2})), modern_headers("tools/call", "sumar"),
                            400, -32602),
    "modern_meta_not_object": (rpc(params=call({"numero1": 1, "numero2": 2}, meta="x")),  # type: ignore[arg-type]
                               modern_headers("tools/call", "sumar"), 400, -32602),
    "modern_meta_missing_capabilities": (
        rpc(params=call({"numero1": 1, "numero2": 2},
                        meta={"io.modelcontextprotocol/protocolVersion": MODERN})),
        modern_headers("tools/call", "sumar"), 400, -32602),
    "modern_method_header_mismatch": (rpc(params=call({"numero1": 1, "numero2": 2}, meta=META)),
                                      modern_headers("tools/list", "sumar"), 400, -32020),
    "modern_method_header_missing": (rpc(params=call({"numero1": 1, "numero2": 2}, meta=META)),
                                     {"mcp-protocol-version": MODERN, "mcp-name": "sumar"}, 400, -32020),
    "modern_name_header_mismatch": (rpc(params=call({"numero1": 1, "numero2": 2}, meta=META)),
                                    modern_headers("tools/call", "restar"), 400, -32020),
    "modern_version_mismatch": (
        rpc(params=call({"numero1": 1, "numero2": 2},
                        meta={**META, "io.modelcontextprotocol/protocolVersion": "2025-06-18"})),
        modern_headers("tools/call", "sumar"), 400, -32020),
    "modern_batch": (f"[{rpc('tools/list', {'_meta': META})}]", modern_headers("tools/list"), 400, -32600),
    "modern_unknown_tool": (rpc(params=call({"numero1": 1, "numero2": 2}, name="restar", meta=META)),
                            modern_headers("tools/call", "restar"), 400, -32602),
    "modern_bad_arguments": (rpc(params=call({"numero1": "uno", "numero2": 2}, meta=META)),
                             modern_headers("tools/call", "sumar"), 200, TOOL_ERROR),
    "modern_notification": ('{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {}}',
                            modern_headers("notifications/cancelled"), 202, ACCEPTED),
    "modern_response_posted": ('{"jsonrpc": "2.0", "id": 1, "result": {}}', modern_headers("x"), 400, -32600),
    "modern_envelope_without_header": (rpc(params=call({"numero1": 1, "numero2": 2}, meta=META)),
                                       {"accept": "application/json"}, 400, -32020),
}


@pytest.mark.parametrize(("body", "headers", "status", "expect"), list(RPC_CORPUS.values()), ids=list(RPC_CORPUS))
def test_malformed_jsonrpc(handler, body, headers, status, expect):
    response = check(handler, event("/mcp", "POST", body, headers))
    assert response["statusCode"] == status, response
    if expect == ACCEPTED:
        assert response["body"] == ""
        return
    data = json.loads(response["body"])
    assert data["jsonrpc"] == "2.0"
    if expect == TOOL_ERROR:
        assert data["id"] == 1 and "error" not in data
        result = data["result"]
        assert result["isError"] is True and "structuredContent" not in result
        assert result["content"][0]["type"] == "text" and result["content"][0]["text"]
    else:
        assert "result" not in data
        assert data["error"]["code"] == expect, data
        assert data["error"]["message"] and "Traceback" not in data["error"]["message"]
        if status == 400 and expect in (-32700, -32600):
            assert data["id"] is None


@pytest.mark.parametrize("version", ["2025-06-18", MODERN])
def test_valid_call_still_answers(handler, version):
    """The corpus is only meaningful if the same endpoint answers a well-formed call."""
    args = {"numero1": 2, "numero2": 3}
    if version == MODERN:
        response = check(handler, event("/mcp", "POST", rpc(params=call(args, meta=META)),
                                        modern_headers("tools/call", "sumar")))
    else:
        response = check(handler, event("/mcp", "POST", rpc(params=call(args)), OLD))
    result = json.loads(response["body"])["result"]
    assert result["isError"] is False and result["structuredContent"] == {"resultado": 5}


# -- auth = api_key: fuzzed and hand-picked Authorization headers ---------------------------------
FUZZ_KEY = "pk_" + "K" * 43
AUTHORIZATION_CORPUS = [
    "", " ", "Bearer", "Bearer ", "bearer", f"Basic {FUZZ_KEY}", FUZZ_KEY, f"Bearer {FUZZ_KEY[:-1]}",
    f"Bearer {FUZZ_KEY}x", f"Bearer {FUZZ_KEY},Bearer {FUZZ_KEY}", f"Bearer {FUZZ_KEY} {FUZZ_KEY}",
    "Bearer " + "A" * 100_000, "Bearer clé", "Bearer \x00", "Bearer \ud800", "Bearer 😀", "Bearer ===",
    "Bearer a=b", "Digest username=x", "Bearer\t" + FUZZ_KEY, "Bearer  " + "x" * 4096, "Bearer " + "/" * 64,
]


@pytest.fixture
def keyed(monkeypatch, handler):
    """The same handler with auth = api_key and one key (as Terraform configures the Lambda)."""
    import hashlib

    monkeypatch.setenv("PLUGIN_AUTH", "api_key")
    monkeypatch.setenv("PLUGIN_API_KEYS", json.dumps({"fuzz": hashlib.sha256(FUZZ_KEY.encode()).hexdigest()}))
    return handler


def _authorized(handler, authorization: object, path: str, capsys) -> int:
    body = rpc(params=call({"numero1": 1, "numero2": 2})) if path == "/mcp" else '{"numero1": 1, "numero2": 2}'
    ev = event(path, "POST" if path != "/openapi.json" else "GET", body, OLD if path == "/mcp" else None)
    ev["headers"]["authorization"] = authorization
    response = check(handler, ev)
    out = capsys.readouterr()
    for where in (response.get("body", ""), json.dumps(response.get("headers", {})), out.out, out.err):
        assert FUZZ_KEY not in where
    return response["statusCode"]


@pytest.mark.parametrize("path", ["/sumar", "/mcp"])
@pytest.mark.parametrize("authorization", AUTHORIZATION_CORPUS, ids=range(len(AUTHORIZATION_CORPUS)))
def test_malformed_authorization_is_401_never_5xx(keyed, capsys, authorization, path):
    assert _authorized(keyed, authorization, path, capsys) == 401


def test_the_key_itself_passes_and_documents_need_none(keyed, capsys):
    assert _authorized(keyed, f"Bearer {FUZZ_KEY}", "/sumar", capsys) == 200
    assert _authorized(keyed, f"Bearer {FUZZ_KEY}", "/mcp", capsys) == 200
    assert _authorized(keyed, "garbage", "/openapi.json", capsys) == 200


@settings(max_examples=max(FUZZ_EVENTS // 2, 50), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(authorization=st.text(max_size=300) | st.binary(max_size=64).map(lambda b: "Bearer " + b.hex())
       | st.sampled_from(AUTHORIZATION_CORPUS) | st.builds(lambda s: "Bearer " + s, st.text(max_size=80)),
       path=st.sampled_from(["/sumar", "/mcp"]))
def test_fuzzed_authorization_headers(keyed, capsys, authorization, path):
    assert _authorized(keyed, authorization, path, capsys) in (401, 200)


# -- auth = oauth: fuzzed bearer tokens against the verifier (no provider needed: every one fails)
@pytest.fixture
def oauth(monkeypatch, handler):
    """The same handler with auth = oauth; the provider's keys come from a JWKS that holds one RSA
    key, so tokens reach the signature check."""
    import plugin_runtime.surface_auth as surface_auth
    from plugin_runtime.model_jwt import JWKS

    n = int("c" * 512, 16) | 1  # a 2048-bit odd modulus: nothing the fuzzer sends verifies against it
    jwk = {"kty": "RSA", "kid": "k1", "use": "sig", "n": _b64(n.to_bytes(256, "big")), "e": "AQAB"}
    url = "https://issuer.fuzz.invalid/jwks"
    monkeypatch.setitem(surface_auth._jwks, url, JWKS(url, fetch=lambda _: json.dumps({"keys": [jwk]})))
    for key, value in {"PLUGIN_AUTH": "oauth", "PLUGIN_OAUTH_ISSUER": "https://issuer.fuzz.invalid",
                       "PLUGIN_OAUTH_CLIENT_ID": "fuzz", "PLUGIN_OAUTH_CLIENT_SECRET": "fuzz-secret",
                       "PLUGIN_OAUTH_JWKS_URL": "https://issuer.fuzz.invalid/jwks",
                       "PLUGIN_OAUTH_AUTHORIZE_URL": "https://issuer.fuzz.invalid/a",
                       "PLUGIN_OAUTH_TOKEN_URL": "https://issuer.fuzz.invalid/t"}.items():
        monkeypatch.setenv(key, value)
    return handler


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


jwt_shaped = st.builds(
    lambda h, p, s: ".".join((_b64(h), _b64(p), _b64(s))),
    st.sampled_from([b'{"alg":"RS256","kid":"k1"}', b'{"alg":"none"}', b'{"alg":"HS256","kid":"k1"}', b"[]",
                     b'{"alg":"RS256","kid":"k1","crit":["x"]}', b"{", b'{"alg":"RS256","kid":7}'])
    | st.binary(max_size=60),
    st.binary(max_size=120) | st.sampled_from([b'{"iss":"https://issuer.fuzz.invalid","exp":1e400}', b"{}",
                                               b'{"exp":"soon"}', b'{"iss":"x","client_id":"fuzz","exp":9e9}']),
    st.binary(max_size=300))


@settings(max_examples=max(FUZZ_EVENTS // 2, 50), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(token=jwt_shaped | st.text(alphabet="ABCDEFabcdef0123456789-_.", max_size=400),
       path=st.sampled_from(["/sumar", "/mcp"]))
def test_fuzzed_access_tokens_are_401(oauth, capsys, token, path):
    assert _authorized(oauth, f"Bearer {token}", path, capsys) == 401
