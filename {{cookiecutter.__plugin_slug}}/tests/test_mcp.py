"""The MCP endpoint (POST /mcp) through lambda_handler, with full API Gateway HTTP API events.

The protocol tests talk to ``tests/probe.py`` (this project's runtime with one fixed operation),
so they hold whatever operations handler.py defines; the tests of handler.py itself take
``project_call`` and work over all of its operations. Both eras of the protocol are covered: the
handshake era (2025-03-26, 2025-06-18, 2025-11-25) and the stateless 2026-07-28 revision, every
error path, and a corpus of malformed messages that must each get the JSON-RPC error the spec
names, never a 500.
"""

from __future__ import annotations

import base64
import json
import math
import os
from typing import TypedDict

import pytest
from conftest import AUTH_MODE, PROJECT, UNKNOWN_OPERATION, caller, example, load_event, make_event, project_plugin

from plugin_runtime import OperationError, Plugin
from plugin_runtime import surface_mcp_wire as server
from plugin_runtime.model_schema import validate

MODERN = "2026-07-28"
HANDSHAKE = ("2025-03-26", "2025-06-18", "2025-11-25")
ACCEPT = "application/json, text/event-stream"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "pytest", "version": "1.0.0"},
}
SUM = {"numero1": 2, "numero2": 3}


def rpc(method: str, params: dict | None = None, rid: object = 1) -> dict:
    message: dict = {"jsonrpc": "2.0", "method": method}
    if rid is not None:
        message["id"] = rid
    if params is not None:
        message["params"] = params
    return message


def mcp_event(message: object = None, version: str | None = None, *, headers: dict | None = None,
              raw: str | bytes | None = None) -> dict:
    """POST /mcp; ``version`` sets MCP-Protocol-Version (None sends no header)."""
    head = {"accept": ACCEPT}
    if version is not None:
        head["mcp-protocol-version"] = version
    head.update(headers or {})
    return make_event("POST", "/mcp", message, headers=head, raw=raw)


def modern_event(method: str, params: dict | None = None, *, headers: dict | None = None,
                 meta: dict | None = None, rid: object = 1) -> dict:
    """A well-formed 2026-07-28 request: the _meta envelope plus the headers that mirror it."""
    params = dict(params or {})
    params["_meta"] = dict(META if meta is None else meta)
    head = {"mcp-method": method}
    if method == "tools/call" and isinstance(params.get("name"), str):
        head["mcp-name"] = params["name"]
    head.update(headers or {})
    return mcp_event(rpc(method, params, rid), MODERN, headers=head)


def result_of(status: int, body: dict) -> dict:
    assert status == 200, body
    assert body["jsonrpc"] == "2.0" and "error" not in body, body
    return body["result"]


def error_of(body: dict) -> dict:
    assert body["jsonrpc"] == "2.0" and "result" not in body, body
    return body["error"]


def call_tool(call, arguments: object, version: str = "2025-11-25", name: str = "sumar") -> dict:
    status, _, body = call(mcp_event(rpc("tools/call", {"name": name, "arguments": arguments}), version))
    return result_of(status, body)


@pytest.fixture
def call():
    """In this file, ``call`` talks to the protocol probe (tests/probe.py), not to handler.py."""
    import probe

    return caller(probe.plugin.lambda_handler)


@pytest.fixture
def project_call(handler):
    """The project's own handler (handler.py)."""
    return caller(handler)


@pytest.fixture
def sumar():
    """The probe's operation."""
    import probe

    return probe.plugin.operations["sumar"]


def expected_tool(op, version: str | None, plugin=None) -> dict:
    """What tools/list must say of an operation at ``version`` (of ``plugin``: its widget)."""
    title = op.summary.rstrip(".") or op.name
    tool = {"name": op.name, "description": "\n\n".join(p for p in (op.summary, op.description) if p) or op.name,
            "inputSchema": op.input_schema,
            "annotations": {"title": title, "readOnlyHint": op.read_only, "destructiveHint": op.destructive,
                            "idempotentHint": op.idempotent, "openWorldHint": op.open_world}}
    if version not in (None, "2025-03-26"):  # title, outputSchema and _meta arrived in 2025-06-18
        tool.update(title=title, outputSchema=op.output_schema)
        meta = expected_tool_meta(op, plugin.widget_for(op) if plugin else None)
        if meta:
            tool["_meta"] = meta
    if AUTH_MODE == "oauth" and version not in (None, "2025-03-26"):  # OpenAI reads the scopes each tool needs
        prefix = os.environ.get("PLUGIN_OAUTH_SCOPE_PREFIX", "")
        schemes = [{"type": "oauth2", "scopes": [prefix + n for n in ("invoke", *op.scopes)]}]
        tool.update(securitySchemes=schemes, _meta={**tool.get("_meta", {}), "securitySchemes": schemes})
    return tool


def expected_tool_meta(op, widget) -> dict | None:
    """The MCP Apps keys and OpenAI's: the widget the result is shown in and the status texts."""
    if widget is None and op.invoking is None and op.invoked is None:
        return None
    meta: dict = {}
    if widget is not None:
        meta = {"ui": {"resourceUri": widget.uri, "visibility": ["model", "app"]}, "ui/resourceUri": widget.uri,
                "openai/outputTemplate": widget.uri, "openai/widgetAccessible": True}
    meta["openai/toolInvocation/invoking"] = (op.invoking or f"Running {op.name}…")[:64]
    meta["openai/toolInvocation/invoked"] = (op.invoked or f"Ran {op.name}")[:64]
    return meta


# -- handshake era ------------------------------------------------------------------------------
@pytest.mark.parametrize("version", HANDSHAKE)
def test_initialize_echoes_a_supported_version(call, version):
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    status, headers, body = call(mcp_event(rpc("initialize", params)))
    result = result_of(status, body)
    assert result["protocolVersion"] == version
    assert result["capabilities"] == {"tools": {"listChanged": False}, "resources": {"listChanged": False},
                                      "prompts": {"listChanged": False}}
    assert result["serverInfo"]["name"] and result["serverInfo"]["version"] == "1.0.0"
    assert isinstance(result.get("instructions", ""), str)
    assert headers["content-type"] == "application/json"
    assert "mcp-session-id" not in {k.lower() for k in headers}


@pytest.mark.parametrize("proposed", ["2024-11-05", "2099-01-01", MODERN, "banana"])
def test_initialize_counters_an_unsupported_version_with_the_latest_handshake_one(call, proposed):
    status, _, body = call(mcp_event(rpc("initialize", {"protocolVersion": proposed, "capabilities": {}})))
    assert result_of(status, body)["protocolVersion"] == "2025-11-25"


def test_initialize_ignores_a_stray_version_header(call):
    event = mcp_event(rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}}), "1999-01-01")
    status, _, body = call(event)
    assert result_of(status, body)["protocolVersion"] == "2025-06-18"


@pytest.mark.parametrize("params", [None, {}, {"protocolVersion": 20250618}])
def test_initialize_without_a_version_is_invalid_params(call, params):
    status, _, body = call(mcp_event(rpc("initialize", params)))
    assert status == 200
    assert error_of(body)["code"] == -32602
    assert body["id"] == 1


NOTIFICATIONS = [rpc("notifications/initialized", rid=None), rpc("notifications/cancelled", {"requestId": 1}, rid=None),
                 rpc("notifications/whatever", rid=None)]
RESPONSES = [{"jsonrpc": "2.0", "id": 7, "result": {}},
             {"jsonrpc": "2.0", "id": 7, "error": {"code": -1, "message": "no"}}]


@pytest.mark.parametrize(("version", "message"), [
    *((v, m) for v in (None, *HANDSHAKE) for m in NOTIFICATIONS + RESPONSES),
    *((MODERN, m) for m in NOTIFICATIONS),  # 2026-07-28 forbids posting responses: tested below
])
def test_notifications_and_responses_get_202_without_a_body(call, version, message):
    status, headers, body = call(mcp_event(message, version))
    assert (status, body) == (202, "")
    assert "mcp-session-id" not in headers


def test_a_posted_response_is_invalid_at_2026(call):
    status, _, body = call(mcp_event({"jsonrpc": "2.0", "id": 7, "result": {}}, MODERN))
    assert status == 400 and error_of(body)["code"] == -32600


@pytest.mark.parametrize("version", [None, *HANDSHAKE])
def test_ping_answers_an_empty_result(call, version):
    status, _, body = call(mcp_event(rpc("ping", rid="abc"), version))
    assert result_of(status, body) == {} and body["id"] == "abc"


@pytest.mark.parametrize("version", [None, *HANDSHAKE])
def test_tools_list_describes_each_operation(project_call, version):
    status, _, body = project_call(mcp_event(rpc("tools/list"), version))
    tools = result_of(status, body)["tools"]
    plugin = project_plugin()
    assert tools == [expected_tool(op, version, plugin) for op in plugin.operations.values()]
    assert all(tool["inputSchema"]["type"] == "object" for tool in tools)


def test_the_probe_tool_is_described_from_its_docstring_and_flags(call, sumar):
    status, _, body = call(mcp_event(rpc("tools/list"), "2025-11-25"))
    (tool,) = result_of(status, body)["tools"]
    assert tool["name"] == "sumar" and tool["title"] == "Suma dos números y devuelve el resultado"
    assert tool["description"] == sumar.summary
    assert tool["annotations"] == {"title": tool["title"], "readOnlyHint": True, "destructiveHint": False,
                                   "idempotentHint": True, "openWorldHint": False}


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_tools_call_returns_structured_content_and_the_same_json_as_text(call, sumar, version):
    result = call_tool(call, SUM, version)
    assert result["isError"] is False
    assert result["structuredContent"] == {"resultado": 5}
    assert validate(sumar.output_schema, result["structuredContent"]) is None
    (block,) = result["content"]
    assert block["type"] == "text" and json.loads(block["text"]) == result["structuredContent"]


@pytest.mark.parametrize("version", [None, "2025-03-26"])
def test_tools_call_at_2025_03_26_answers_text_only(call, version):
    result = call_tool(call, {"numero1": 2.5, "numero2": 0.25}, version)
    assert "structuredContent" not in result and result["isError"] is False
    assert json.loads(result["content"][0]["text"]) == {"resultado": 2.75}


@example
def test_sumar_sample_mcp_event_is_answered(project_call):
    status, _, body = project_call(load_event("post_mcp_tools_call"))
    assert result_of(status, body)["structuredContent"] == {"resultado": 5}


def test_no_initialize_is_needed_first(call):
    """The server is stateless: each POST stands alone, so every request can come first."""
    assert call_tool(call, {"numero1": -7, "numero2": 7}, "2025-06-18")["structuredContent"] == {"resultado": 0}


@pytest.mark.parametrize("header", ["2024-11-05", "2099-01-01", "latest", ""])
def test_an_unsupported_version_header_is_400(call, header):
    status, _, body = call(mcp_event(rpc("tools/list"), header))
    assert status == 400
    error = error_of(body)
    assert error["code"] == -32022
    assert set(error["data"]["supported"]) == {*HANDSHAKE, MODERN}
    assert body["id"] == 1


@pytest.mark.parametrize("version", [None, "2025-06-18"])
@pytest.mark.parametrize("method", ["resources/subscribe", "completion/complete", "server/discover", "tools/delete",
                                    "x"])
def test_unknown_methods_are_method_not_found(call, version, method):
    status, _, body = call(mcp_event(rpc(method), version))
    assert status == 200  # the handshake era answers an accepted request with 200
    assert error_of(body)["code"] == -32601 and body["id"] == 1


# -- tools/call errors (both eras) ----------------------------------------------------------------
BAD_ARGUMENTS = [
    pytest.param({"numero1": 2}, "numero2", id="missing"),
    pytest.param({}, "numero1", id="empty"),
    pytest.param(None, "numero1", id="absent"),
    pytest.param({"numero1": 2, "numero2": 3, "numero3": 4}, "numero3", id="extra"),
    pytest.param({"numero1": "2", "numero2": 3}, "numero1", id="string"),
    pytest.param({"numero1": True, "numero2": 3}, "numero1", id="boolean"),
    pytest.param({"numero1": None, "numero2": 3}, "numero1", id="null"),
    pytest.param({"numero1": [2], "numero2": 3}, "numero1", id="array"),
    pytest.param({"numero1": 1e16, "numero2": 3}, "numero1", id="above-maximum"),
    pytest.param({"numero1": 2, "numero2": -1e16}, "numero2", id="below-minimum"),
]


@pytest.mark.parametrize(("arguments", "field"), BAD_ARGUMENTS)
def test_bad_arguments_are_a_tool_error_the_model_can_read(call, arguments, field):
    result = call_tool(call, arguments)
    assert result["isError"] is True and "structuredContent" not in result
    text = result["content"][0]["text"]
    assert field in text and "sumar" in text and "Traceback" not in text


@pytest.mark.parametrize(("arguments", "field"), BAD_ARGUMENTS[:5])
def test_bad_arguments_at_2026_are_a_tool_error_too(call, arguments, field):
    params = {"name": "sumar"} if arguments is None else {"name": "sumar", "arguments": arguments}
    status, _, body = call(modern_event("tools/call", params))
    result = result_of(status, body)
    assert result["isError"] is True and result["resultType"] == "complete"
    assert field in result["content"][0]["text"]


@pytest.mark.parametrize(("params", "version", "status"), [
    ({"name": UNKNOWN_OPERATION, "arguments": SUM}, "2025-06-18", 200),
    ({"arguments": SUM}, "2025-06-18", 200),
    ({"name": 7, "arguments": SUM}, "2025-06-18", 200),
    ({"name": "sumar", "arguments": [2, 3]}, "2025-06-18", 200),
    ({"name": "sumar", "arguments": "2+3"}, "2025-06-18", 200),
    ({"name": UNKNOWN_OPERATION, "arguments": SUM}, MODERN, 400),
    ({"name": "sumar", "arguments": [2, 3]}, MODERN, 400),
])
def test_an_unknown_tool_or_unusable_params_are_invalid_params(call, params, version, status):
    event = modern_event("tools/call", params) if version == MODERN else mcp_event(rpc("tools/call", params), version)
    got, _, body = call(event)
    assert got == status
    error = error_of(body)
    assert error["code"] == -32602 and error["message"]


def test_tools_list_rejects_a_cursor_it_never_issued(call):
    status, _, body = call(mcp_event(rpc("tools/list", {"cursor": "abc"}), "2025-11-25"))
    assert status == 200 and error_of(body)["code"] == -32602


class Out(TypedDict):
    value: float


@pytest.fixture
def custom():
    """A plugin whose tools refuse, overflow, crash and break their own contract."""
    plugin = Plugin(version="2.0.0", root=str(PROJECT))

    @plugin.operation(read_only=True)
    def dividir(a: float, b: float) -> Out:
        """Divide a entre b."""
        if b == 0:
            raise OperationError("b must not be 0: division by zero has no answer")
        return {"value": a / b}

    @plugin.operation()
    def elevar(a: float) -> Out:
        """Raises 10 to a (overflows for large a)."""
        return {"value": 10.0 ** a if a < 308 else math.inf}

    @plugin.operation(destructive=False, idempotent=True, open_world=True)
    def romper(a: int) -> Out:
        """Always fails: a bug in the operation."""
        raise RuntimeError("secret internal detail")

    @plugin.operation()
    def mentir(a: int) -> Out:
        """Returns a value its type hint does not allow."""
        return {"value": "not a number"}  # type: ignore[typeddict-item]

    @plugin.operation()
    def contar(n: int) -> int:
        """Returns a bare integer, wrapped as {"result": n}."""
        return n

    def invoke(event: dict) -> tuple[int, dict, object]:
        response = plugin.lambda_handler(event, None)
        body = response["body"]
        assert "Traceback" not in body and "secret internal detail" not in body
        return response["statusCode"], response["headers"], json.loads(body) if body else ""

    invoke.plugin = plugin  # type: ignore[attr-defined]
    return invoke


def test_an_operation_error_is_a_readable_tool_error(custom):
    result = call_tool(custom, {"a": 1, "b": 0}, name="dividir")
    assert result["isError"] is True
    assert result["content"][0]["text"] == "b must not be 0: division by zero has no answer"
    assert call_tool(custom, {"a": 1, "b": 4}, name="dividir")["structuredContent"] == {"value": 0.25}


def test_a_non_finite_result_is_a_tool_error(custom):
    assert call_tool(custom, {"a": 2}, name="elevar")["structuredContent"] == {"value": 100.0}
    result = call_tool(custom, {"a": 400}, name="elevar")
    assert result["isError"] is True and "finite" in result["content"][0]["text"]


def test_a_crashing_operation_is_a_tool_error_without_details(custom, capsys):
    result = call_tool(custom, {"a": 1}, name="romper")
    assert result["isError"] is True and "logs" in result["content"][0]["text"]
    assert "secret internal detail" in capsys.readouterr().err  # the owner still gets the traceback


def test_a_result_that_breaks_the_output_schema_is_a_tool_error(custom):
    result = call_tool(custom, {"a": 1}, name="mentir")
    assert result["isError"] is True and "value" in result["content"][0]["text"]


def test_a_scalar_result_is_wrapped_to_match_the_output_schema(custom):
    status, _, body = custom(mcp_event(rpc("tools/list"), "2025-11-25"))
    tools = {t["name"]: t for t in result_of(status, body)["tools"]}
    assert tools["contar"]["outputSchema"]["properties"]["result"] == {"type": "integer"}
    result = call_tool(custom, {"n": 41}, name="contar")
    assert result["structuredContent"] == {"result": 41}
    assert validate(tools["contar"]["outputSchema"], result["structuredContent"]) is None


def test_annotations_follow_the_operation_flags(custom):
    status, _, body = custom(mcp_event(rpc("tools/list"), "2025-06-18"))
    tools = {t["name"]: t["annotations"] for t in result_of(status, body)["tools"]}
    assert tools["dividir"] | {"title": ""} == {"title": "", "readOnlyHint": True, "destructiveHint": False,
                                                  "idempotentHint": True, "openWorldHint": False}
    assert tools["elevar"]["readOnlyHint"] is False and tools["elevar"]["destructiveHint"] is True
    assert tools["elevar"]["idempotentHint"] is False
    assert tools["romper"]["destructiveHint"] is False and tools["romper"]["idempotentHint"] is True
    assert tools["romper"]["openWorldHint"] is True


# -- stateless era (2026-07-28) ---------------------------------------------------------------
def assert_modern_result(result: dict) -> None:
    assert result["resultType"] == "complete"
    info = result["_meta"]["io.modelcontextprotocol/serverInfo"]
    assert info["name"] and info["version"] == "1.0.0"


def test_server_discover(call):
    status, headers, body = call(modern_event("server/discover"))
    result = result_of(status, body)
    assert_modern_result(result)
    assert MODERN in result["supportedVersions"] and set(HANDSHAKE) <= set(result["supportedVersions"])
    assert result["capabilities"] == {"tools": {"listChanged": False}, "resources": {"listChanged": False},
                                      "prompts": {"listChanged": False},
                                      "extensions": {"io.modelcontextprotocol/ui": {}}}
    assert isinstance(result["ttlMs"], int) and result["ttlMs"] >= 0
    assert result["cacheScope"] in ("public", "private")
    assert "mcp-session-id" not in headers


def test_modern_tools_list_carries_cache_hints(project_call):
    status, _, body = project_call(modern_event("tools/list"))
    result = result_of(status, body)
    assert_modern_result(result)
    assert isinstance(result["ttlMs"], int) and result["ttlMs"] >= 0
    assert result["cacheScope"] in ("public", "private")
    plugin = project_plugin()
    assert result["tools"] == [expected_tool(op, MODERN, plugin) for op in plugin.operations.values()]


def test_modern_tools_call(call, sumar):
    status, _, body = call(modern_event("tools/call", {"name": "sumar", "arguments": SUM}, rid="req-9"))
    result = result_of(status, body)
    assert_modern_result(result)
    assert body["id"] == "req-9"
    assert result["structuredContent"] == {"resultado": 5} and result["isError"] is False
    assert validate(sumar.output_schema, result["structuredContent"]) is None
    assert json.loads(result["content"][0]["text"]) == {"resultado": 5}


def test_modern_accepts_a_base64_wrapped_mcp_name(call):
    wrapped = "=?base64?" + base64.b64encode(b"sumar").decode() + "?="
    status, _, body = call(modern_event("tools/call", {"name": "sumar", "arguments": SUM},
                                        headers={"mcp-name": wrapped}))
    assert result_of(status, body)["structuredContent"] == {"resultado": 5}


@pytest.mark.parametrize("method", ["ping", "initialize", "resources/subscribe", "logging/setLevel", "nope"])
def test_modern_unknown_method_is_404(call, method):
    status, _, body = call(modern_event(method, {"protocolVersion": MODERN}))
    assert status == 404 and error_of(body)["code"] == -32601 and body["id"] == 1


@pytest.mark.parametrize(("label", "kwargs"), [
    ("method header missing", {"headers": {"mcp-method": ""}}),
    ("method header wrong", {"headers": {"mcp-method": "tools/list"}}),
    ("name header missing", {"headers": {"mcp-name": ""}}),
    ("name header wrong", {"headers": {"mcp-name": UNKNOWN_OPERATION}}),
    ("name header broken base64", {"headers": {"mcp-name": "=?base64?%%%?="}}),
    ("body version differs", {"meta": {**META, "io.modelcontextprotocol/protocolVersion": "2025-06-18"}}),
    ("repeated version header", {"headers": {"mcp-protocol-version": f"{MODERN},{MODERN}"}}),
])
def test_modern_headers_must_match_the_body(call, label, kwargs):
    event = modern_event("tools/call", {"name": "sumar", "arguments": SUM}, **kwargs)
    if kwargs.get("headers", {}).get("mcp-method") == "" or kwargs.get("headers", {}).get("mcp-name") == "":
        for key in ("mcp-method", "mcp-name"):
            if event["headers"].get(key) == "":
                del event["headers"][key]
    status, _, body = call(event)
    assert status == 400, label
    assert error_of(body)["code"] == -32020 and body["id"] == 1


def test_a_modern_envelope_without_the_version_header_is_a_mismatch(call):
    event = modern_event("tools/list")
    del event["headers"]["mcp-protocol-version"]
    status, _, body = call(event)
    assert status == 400 and error_of(body)["code"] == -32020


@pytest.mark.parametrize("meta", [
    None,
    "not an object",
    {"io.modelcontextprotocol/clientCapabilities": {}},
    {"io.modelcontextprotocol/protocolVersion": MODERN},
])
def test_modern_request_without_the_envelope_is_invalid_params(call, meta):
    params: dict = {"name": "sumar", "arguments": SUM}
    if meta is not None:
        params["_meta"] = meta
    event = mcp_event(rpc("tools/call", params), MODERN, headers={"mcp-method": "tools/call", "mcp-name": "sumar"})
    status, _, body = call(event)
    assert status == 400 and error_of(body)["code"] == -32602


def test_modern_unsupported_version_lists_the_supported_ones(call):
    meta = {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    event = modern_event("server/discover", meta=meta, headers={"mcp-protocol-version": "2099-01-01"})
    status, _, body = call(event)
    assert status == 400
    error = error_of(body)
    assert error["code"] == -32022
    assert MODERN in error["data"]["supported"] and error["data"]["requested"] == "2099-01-01"


# -- batches ---------------------------------------------------------------------------------
def test_batches_work_at_2025_03_26(call):
    batch = [rpc("ping", rid=1), rpc("tools/call", {"name": "sumar", "arguments": SUM}, rid=2),
             rpc("notifications/initialized", rid=None), rpc("tools/call", {"name": "nope"}, rid=3)]
    status, _, body = call(mcp_event(batch))
    assert status == 200
    by_id = {reply["id"]: reply for reply in body}
    assert set(by_id) == {1, 2, 3}
    assert by_id[1]["result"] == {}
    assert json.loads(by_id[2]["result"]["content"][0]["text"]) == {"resultado": 5}
    assert by_id[3]["error"]["code"] == -32602


def test_a_batch_of_notifications_is_202(call):
    status, _, body = call(mcp_event([rpc("notifications/initialized", rid=None)], "2025-03-26"))
    assert (status, body) == (202, "")


def test_a_batch_of_invalid_messages_answers_each_with_invalid_request(call):
    status, _, body = call(mcp_event([1, "x", {"jsonrpc": "2.0"}]))
    assert status == 200 and [e["error"]["code"] for e in body] == [-32600] * 3


def test_initialize_may_not_be_batched(call):
    status, _, body = call(mcp_event([rpc("initialize", {"protocolVersion": "2025-03-26"})]))
    assert status == 200 and body[0]["error"]["code"] == -32600


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25", MODERN])
def test_batches_are_rejected_from_2025_06_18(call, version):
    status, _, body = call(mcp_event([rpc("ping")], version))
    assert status == 400 and error_of(body)["code"] == -32600


def test_an_empty_batch_is_invalid(call):
    status, _, body = call(mcp_event([]))
    assert status == 400 and error_of(body)["code"] == -32600


# -- HTTP layer: methods, Accept, Content-Type, Origin ----------------------------------------------
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_405(call, method):
    status, headers, _ = call(make_event(method, "/mcp", headers={"accept": "text/event-stream"}))
    assert status == 405 and headers["allow"] == "POST"


@pytest.mark.parametrize(("accept", "ok"), [
    (ACCEPT, True), ("application/json", True), ("*/*", True), ("application/*", True), (None, True),
    ("application/json;q=0.9, text/event-stream", True), ("text/event-stream", False), ("text/html", False),
])
def test_accept_must_allow_json(call, accept, ok):
    event = mcp_event(rpc("ping"), "2025-11-25")
    if accept is None:
        del event["headers"]["accept"]
    else:
        event["headers"]["accept"] = accept
    status, _, body = call(event)
    assert status == (200 if ok else 406), body


@pytest.mark.parametrize(("ctype", "status"), [
    ("application/json", 200), ("application/json; charset=utf-8", 200), (None, 200),
    ("text/plain", 415), ("application/x-www-form-urlencoded", 415),
])
def test_content_type_must_be_json(call, ctype, status):
    event = mcp_event(rpc("ping"), "2025-11-25")
    if ctype is None:
        del event["headers"]["content-type"]
    else:
        event["headers"]["content-type"] = ctype
    assert call(event)[0] == status


@pytest.mark.parametrize(("origin", "allowed"), [
    ("https://chatgpt.com", True), ("https://chat.openai.com", True), ("https://claude.ai", True),
    ("http://localhost:6274", True), ("http://127.0.0.1", True), ("http://[::1]:3000", True),
    ("https://abc123defg.execute-api.us-east-1.amazonaws.com", True),
    ("https://evil.example", False), ("null", False), ("http://localhost.evil.example", False),
    ("https://chatgpt.com.evil.example", False), ("http://localhost:abc", False),
])
def test_origin_is_validated(call, origin, allowed, monkeypatch):
    monkeypatch.delenv(server.ORIGINS_ENV, raising=False)
    status, _, body = call(mcp_event(rpc("ping"), "2025-11-25", headers={"origin": origin}))
    if allowed:
        assert status == 200, body
    else:
        assert status == 403 and error_of(body)["code"] == -32600


def test_more_origins_come_from_the_environment(call, monkeypatch):
    event = mcp_event(rpc("ping"), "2025-11-25", headers={"origin": "https://app.example"})
    monkeypatch.setenv(server.ORIGINS_ENV, "https://other.example, https://app.example/")
    assert call(event)[0] == 200
    monkeypatch.setenv(server.ORIGINS_ENV, "*")
    assert call(mcp_event(rpc("ping"), "2025-11-25", headers={"origin": "https://any.example"}))[0] == 200


def test_more_origins_come_from_the_plugin(custom, monkeypatch):
    monkeypatch.delenv(server.ORIGINS_ENV, raising=False)
    event = mcp_event(rpc("ping"), "2025-11-25", headers={"origin": "https://app.example"})
    assert custom(event)[0] == 403
    custom.plugin.allowed_origins = ["https://app.example"]
    assert custom(event)[0] == 200


# -- malformed messages: each gets the error the spec names, never a 500 -------------------------
DEEP = "[" * 100_000 + "]" * 100_000
MALFORMED = [
    pytest.param("", -32700, id="empty"),
    pytest.param("{", -32700, id="truncated"),
    pytest.param("not json", -32700, id="text"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":"ping",}', -32700, id="trailing-comma"),
    pytest.param("\ufeff" + json.dumps(rpc("ping")), -32700, id="bom"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sumar","arguments":'
                 '{"numero1":NaN,"numero2":1}}}', -32700, id="nan"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sumar","arguments":'
                 '{"numero1":-Infinity,"numero2":1}}}', -32700, id="infinity"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sumar","arguments":'
                 '{"numero1":1e999,"numero2":1}}}', -32700, id="overflowing-number"),
    pytest.param('{"jsonrpc":"2.0","id":' + "9" * 5000 + ',"method":"ping"}', -32700, id="huge-integer"),
    pytest.param(b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', -32700, id="not-utf8"),
    pytest.param(DEEP, -32700, id="deeply-nested"),
    pytest.param('"ping"', -32600, id="string"),
    pytest.param("42", -32600, id="number"),
    pytest.param("null", -32600, id="null"),
    pytest.param('{"id":1,"method":"ping"}', -32600, id="no-jsonrpc"),
    pytest.param('{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600, id="jsonrpc-1.0"),
    pytest.param('{"jsonrpc":2.0,"id":1,"method":"ping"}', -32600, id="jsonrpc-number"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":5}', -32600, id="method-number"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":""}', -32600, id="method-empty"),
    pytest.param('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600, id="id-object"),
    pytest.param('{"jsonrpc":"2.0","id":true,"method":"ping"}', -32600, id="id-boolean"),
    pytest.param('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, id="id-fraction"),
    pytest.param('{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, id="id-null"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', -32600, id="params-string"),
    pytest.param('{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', -32600, id="params-array"),
    pytest.param('{"jsonrpc":"2.0","id":1}', -32600, id="no-method"),
    pytest.param('{"jsonrpc":"2.0","id":1,"result":{},"error":{}}', -32600, id="result-and-error"),
    pytest.param("{}", -32600, id="empty-object"),
]


@pytest.mark.parametrize("era", ["handshake", "modern"])
@pytest.mark.parametrize(("raw", "code"), MALFORMED)
def test_malformed_messages(call, era, raw, code):
    headers = {"mcp-method": "ping"} if era == "modern" else None
    version = MODERN if era == "modern" else "2025-06-18"
    status, headers, body = call(mcp_event(version=version, headers=headers, raw=raw))
    assert status == 400, body
    error = error_of(body)
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]
    assert body["id"] is None
    assert headers["content-type"] == "application/json"


def test_malformed_corpus_is_large_enough():
    assert len(MALFORMED) >= 15
