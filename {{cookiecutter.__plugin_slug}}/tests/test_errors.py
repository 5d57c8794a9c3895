"""Errors that say what happened: ``OperationError(message, status=..., retry_after=...)`` answers
its status on REST (a JSON error, Retry-After for 429), a tool result with ``isError`` on MCP in
both eras, is documented in OpenAPI when declared with ``errors=[...]``, and counts as a client
error (4xx) or a server error (5xx: an upstream failed) in the metrics. An unexpected exception
stays a bare 500.

The operations belong to a small plugin of this file's own, so the tests hold whatever handler.py
defines.
"""

from __future__ import annotations

import json
from typing import TypedDict

import pytest
from conftest import PROJECT, make_event

from plugin_runtime import OperationError, Plugin
from plugin_runtime.model_operation import ERROR_STATUSES
from plugin_runtime.model_schema import SchemaError

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
STATUSES = sorted(ERROR_STATUSES)


class Answer(TypedDict):
    value: int


@pytest.fixture(scope="module")
def plugin() -> Plugin:
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(errors=[s for s in STATUSES if s != 400])
    def fallar(status: int, retry: int | None = None) -> Answer:
        """Fail with the status asked for."""
        raise OperationError(f"failed with {status}", status=status, retry_after=retry)

    @plugin.operation
    def romper(x: int) -> Answer:
        raise RuntimeError("secret internal detail")

    return plugin


def rest(plugin: Plugin, name: str, body: dict) -> tuple[int, dict, dict]:
    response = plugin.lambda_handler(make_event("POST", f"/{name}", body), None)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def mcp(plugin: Plugin, version: str, name: str, arguments: dict) -> tuple[int, dict]:
    params: dict = {"name": name, "arguments": arguments}
    headers = {"mcp-protocol-version": version, "accept": "application/json"}
    if version == MODERN:
        params["_meta"] = META
        headers.update({"mcp-method": "tools/call", "mcp-name": name})
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    response = plugin.lambda_handler(make_event("POST", "/mcp", message, headers=headers), None)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("status", STATUSES)
def test_rest_answers_the_status_with_a_json_error(plugin, status):
    code, headers, body = rest(plugin, "fallar", {"status": status})
    assert code == status
    assert body == {"error": ERROR_STATUSES[status], "message": f"failed with {status}"}
    assert "retry-after" not in headers


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_becomes_the_header(plugin, status):
    code, headers, body = rest(plugin, "fallar", {"status": status, "retry": 30})
    assert (code, headers["retry-after"]) == (status, "30")
    assert body["message"] == f"failed with {status}"


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18", "2025-11-25", MODERN])
@pytest.mark.parametrize("status", STATUSES)
def test_mcp_answers_a_tool_error_with_the_message(plugin, version, status):
    code, body = mcp(plugin, version, "fallar", {"status": status})
    assert code == 200 and "error" not in body, body
    assert body["result"]["isError"] is True
    assert body["result"]["content"] == [{"type": "text", "text": f"failed with {status}"}]


@pytest.mark.parametrize("version", ["2025-03-26", MODERN])
def test_mcp_says_when_to_retry(plugin, version):
    _, body = mcp(plugin, version, "fallar", {"status": 429, "retry": 30})
    assert body["result"]["isError"] is True
    assert body["result"]["content"][0]["text"] == "failed with 429 (retry after 30 seconds)"


@pytest.mark.parametrize(("status", "kwargs", "words"), [
    (418, {}, "status 418 is not one an operation may answer"),
    (500, {}, "status 500"),
    ("404", {}, "status '404'"),
    (True, {}, "status True"),
    (404, {"retry_after": 5}, "retry_after goes with status 429 or 503"),
    (429, {"retry_after": -1}, "whole seconds"),
    (429, {"retry_after": 1.5}, "whole seconds"),
])
def test_other_statuses_are_refused_when_raised(status, kwargs, words):
    with pytest.raises(SchemaError, match=words):
        OperationError("x", status=status, **kwargs)


@pytest.mark.parametrize("errors", [[418], [500], ["404"], 404, [True]])
def test_other_statuses_are_refused_when_declared(errors):
    plugin = Plugin(root=str(PROJECT))
    with pytest.raises(SchemaError, match="errors="):
        plugin.operation(errors=errors)(lambda x: {"value": x})


def test_openapi_documents_the_declared_statuses(plugin):
    from plugin_runtime.model_auth import AuthConfig

    doc = plugin.openapi_for("https://example.test", AuthConfig("none"))
    responses = doc["paths"]["/fallar"]["post"]["responses"]
    assert {str(s) for s in STATUSES} <= set(responses)
    assert list(responses) == sorted(responses)
    assert set(responses["429"]["headers"]) == set(responses["503"]["headers"]) == {"Retry-After"}
    plain = doc["paths"]["/romper"]["post"]["responses"]
    assert not {"404", "409", "502"} & set(plain)


def test_an_unexpected_exception_stays_a_bare_500(plugin):
    code, _, body = rest(plugin, "romper", {"x": 1})
    assert code == 500 and "secret" not in json.dumps(body) and body["error"] == "internal_error"


def _metrics(capsys) -> dict:
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    (metrics,) = [r for r in records if r.get("type") == "metrics"]
    return metrics


@pytest.mark.parametrize("surface", ["rest", "mcp"])
@pytest.mark.parametrize(("status", "client", "server"), [(404, 1, 0), (429, 1, 0), (502, 0, 1), (503, 0, 1),
                                                        (504, 0, 1)])
def test_5xx_count_as_server_errors_and_4xx_as_client_errors(plugin, capsys, surface, status, client, server):
    capsys.readouterr()
    if surface == "rest":
        rest(plugin, "fallar", {"status": status})
    else:
        mcp(plugin, "2025-06-18", "fallar", {"status": status})
    metrics = _metrics(capsys)
    assert (metrics["ClientErrors"], metrics["ServerErrors"]) == (client, server)
    assert metrics["level"] in ("INFO", "WARN", "ERROR")


def test_an_undeclared_status_is_answered_and_logged_for_the_owner(capsys):
    plugin = Plugin(root=str(PROJECT))

    @plugin.operation
    def buscar(x: int) -> Answer:
        raise OperationError("no such thing", status=404)

    capsys.readouterr()
    code, _, body = rest(plugin, "buscar", {"x": 1})
    assert (code, body["error"]) == (404, "not_found")
    assert "buscar answered 404, which its errors= does not declare" in capsys.readouterr().err
