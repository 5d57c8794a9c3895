"""A second operation, added to a baked handler.py the way a user would: GET with a path parameter
and query parameters (an integer, a bounded integer with a default, a Literal enum, an optional
string). It proves what the default template cannot show with sumar alone: derivation of
path/query parameters, their validation, a valid OpenAPI document, a clean check, the MCP tool
and a clean schemathesis run over both operations."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from bake_support import bake, project_modules
from openapi_spec_validator import validate as validate_openapi
from test_schemathesis import (
    DEEP,
    DEEP_EXAMPLES,
    DEEP_MIN_CASES,
    DEFAULT_EXAMPLES,
    assert_clean,
    run_schemathesis,
    serve,
)

GET_ITEM = '''

from typing import Literal  # noqa: E402


class ItemPage(TypedDict):
    item_id: int
    limit: int
    order: str
    tag: str
    items: list[int]


@plugin.operation(method="GET", path="/items/{item_id}", read_only=True)
def get_item(item_id: int, limit: Annotated[int, Field(ge=1, le=100)] = 10,
             order: Literal["asc", "desc"] = "asc", tag: str | None = None) -> ItemPage:
    """Lists the items that follow an item.

    Pages through the catalogue starting at one item.

    Args:
        item_id: The item to start from.
        limit: How many items to return.
        order: Sort order of the page.
        tag: Only items with this tag.
    """
    items = list(range(item_id, item_id + limit))
    return {"item_id": item_id, "limit": limit, "order": order, "tag": tag or "",
            "items": items if order == "asc" else items[::-1]}


lambda_handler = plugin.lambda_handler
'''
MCP_VERSION = "2025-06-18"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A baked project with get_item appended to handler.py and rebuilt with the real build."""
    project = bake(tmp_path_factory.mktemp("params"))
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + GET_ITEM, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "plugin_tools.build"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "operations: sumar, get_item" in result.stdout
    return project


@pytest.fixture(scope="module")
def plugin(project) -> Iterator:
    """The project's Plugin, imported from the bake (and forgotten afterwards)."""
    with project_modules(project):
        from plugin_tools.build import load_plugin

        yield load_plugin(project)


@pytest.fixture(scope="module")
def openapi(project) -> dict:
    return json.loads((project / "openapi.json").read_text(encoding="utf-8"))


def event(method: str, path: str, query: dict | None = None, body: object = None,
          headers: dict | None = None) -> dict:
    """An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it (path decoded)."""
    head = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https", **(headers or {})}
    ev: dict = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": urlencode(query or {}),
                "headers": head, "isBase64Encoded": False,
                "requestContext": {"domainName": head["host"], "stage": "$default",
                                   "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                            "sourceIp": "203.0.113.10", "userAgent": "pytest"}}}
    if query:
        ev["queryStringParameters"] = dict(query)
    if body is not None:
        ev["body"] = json.dumps(body)
        head["content-type"] = "application/json"
    return ev


def call(plugin, ev: dict) -> tuple[int, object]:
    response = plugin.lambda_handler(ev, None)
    body = response.get("body", "")
    assert "Traceback" not in body
    ctype = response["headers"].get("content-type", "")
    if "text/event-stream" in ctype:
        data = [line[5:].strip() for line in body.splitlines() if line.startswith("data:")]
        return response["statusCode"], json.loads(data[-1])
    return response["statusCode"], (json.loads(body) if body and "json" in ctype else body)


# -- derivation --------------------------------------------------------------------------------

def test_parameters_are_derived_in_path_and_query(openapi):
    op = openapi["paths"]["/items/{item_id}"]["get"]
    assert op["operationId"] == "get_item"
    assert op["summary"] == "Lists the items that follow an item."
    assert op["description"] == "Pages through the catalogue starting at one item."
    assert op["x-openai-isConsequential"] is False
    assert "requestBody" not in op
    assert op["parameters"] == [
        {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"},
         "description": "The item to start from."},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
         "description": "How many items to return."},
        {"name": "order", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
         "description": "Sort order of the page."},
        {"name": "tag", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "Only items with this tag."},
    ]
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["required"] == ["item_id", "limit", "order", "tag", "items"]
    assert answer["properties"]["items"] == {"type": "array", "items": {"type": "integer"}}
    assert set(openapi["paths"]) == {"/sumar", "/items/{item_id}"}


def test_the_document_is_valid_openapi(openapi):
    validate_openapi(openapi)


def test_the_check_command_is_clean(project):
    result = subprocess.run([sys.executable, "-m", "plugin_tools.check"], cwd=project, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok: no errors, 0 warning(s)"


# -- validation over HTTP ------------------------------------------------------------------------

def test_a_good_request_gets_200_with_defaults_filled(plugin):
    status, body = call(plugin, event("GET", "/items/7"))
    assert (status, body) == (200, {"item_id": 7, "limit": 10, "order": "asc", "tag": "",
                                    "items": list(range(7, 17))})
    status, body = call(plugin, event("GET", "/items/-3", {"limit": "3", "order": "desc", "tag": "rojo"}))
    assert (status, body) == (200, {"item_id": -3, "limit": 3, "order": "desc", "tag": "rojo", "items": [-1, -2, -3]})
    status, body = call(plugin, event("GET", "/items/0", {"limit": "100"}))
    assert status == 200 and len(body["items"]) == 100


@pytest.mark.parametrize(("path", "query", "message"), [
    ("/items/abc", None, "item_id must be an integer, not 'abc'"),
    ("/items/1.5", None, "item_id must be an integer, not '1.5'"),
    ("/items/1_0", None, "item_id must be an integer, not '1_0'"),
    ("/items/+5", None, "item_id must be an integer, not '+5'"),
    ("/items/ 5", None, "item_id must be an integer, not ' 5'"),
    ("/items/\u0665", None, "item_id must be an integer, not '\u0665'"),
    ("/items/5", {"limit": "ten"}, "limit must be an integer, not 'ten'"),
    ("/items/5", {"limit": ""}, "limit must be an integer, not ''"),
    ("/items/5", {"limit": "0"}, "limit must be >= 1"),
    ("/items/5", {"limit": "101"}, "limit must be <= 100"),
    ("/items/5", {"order": "up"}, 'order must be one of "asc", "desc"'),
    ("/items/5", {"order": "ASC"}, 'order must be one of "asc", "desc"'),
])
def test_bad_parameters_get_a_readable_400(plugin, path, query, message):
    status, body = call(plugin, event("GET", path, query))
    assert status == 400
    assert body == {"error": "invalid_arguments", "message": message}


def test_a_missing_path_parameter_is_a_readable_404(plugin):
    """Without an id the URL names no resource: no route, said in words (not a 500, not a trace)."""
    for path in ("/items", "/items/"):
        status, body = call(plugin, event("GET", path))
        assert status == 404
        assert body == {"error": "not_found", "message": f"no route for {path}; the API is described at /openapi.json"}


def test_other_methods_on_the_path_get_405_with_allow(plugin):
    response = plugin.lambda_handler(event("POST", "/items/5", body={}), None)
    assert response["statusCode"] == 405 and response["headers"]["allow"] == "GET"


# -- the MCP tool ----------------------------------------------------------------------------------

def mcp(plugin, method: str, params: dict | None = None, rpc_id: int = 1) -> tuple[int, dict]:
    message: dict = {"jsonrpc": "2.0", "id": rpc_id, "method": method}
    if params is not None:
        message["params"] = params
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": MCP_VERSION}
    return call(plugin, event("POST", "/mcp", body=message, headers=headers))


@pytest.fixture(scope="module")
def tools(project, plugin) -> dict:
    assert (project / "plugin_runtime" / "surface_mcp.py").exists(), "surface_mcp.py is missing from the bake"
    status, hello = mcp(plugin, "initialize", {"protocolVersion": MCP_VERSION, "capabilities": {},
                                               "clientInfo": {"name": "pytest", "version": "1"}})
    assert status == 200 and hello["result"]["protocolVersion"] == MCP_VERSION, hello
    status, listing = mcp(plugin, "tools/list", {}, rpc_id=2)
    assert status == 200, listing
    return {tool["name"]: tool for tool in listing["result"]["tools"]}


def test_the_mcp_tool_lists_the_parameters(tools):
    assert set(tools) == {"sumar", "get_item"}
    tool = tools["get_item"]
    schema = tool["inputSchema"]
    assert schema["type"] == "object" and schema["required"] == ["item_id"]
    assert schema["properties"]["item_id"]["type"] == "integer"
    assert schema["properties"]["limit"]["minimum"] == 1 and schema["properties"]["limit"]["maximum"] == 100
    assert schema["properties"]["order"]["enum"] == ["asc", "desc"]
    assert schema["properties"]["tag"]["type"] == "string"
    assert "description" in tool and tool["description"].startswith("Lists the items that follow an item.")
    assert tool["annotations"]["readOnlyHint"] is True


def test_the_mcp_tool_call_works(plugin, tools):
    status, answer = mcp(plugin, "tools/call", {"name": "get_item",
                                                "arguments": {"item_id": 2, "limit": 2, "order": "desc"}}, 3)
    assert status == 200, answer
    result = answer["result"]
    expected = {"item_id": 2, "limit": 2, "order": "desc", "tag": "", "items": [3, 2]}
    assert result.get("isError") is not True
    assert result["structuredContent"] == expected
    assert json.loads(result["content"][0]["text"]) == expected


@pytest.mark.parametrize(("arguments", "fragment"), [
    ({}, "item_id is required"),
    ({"item_id": "7"}, "item_id must be an integer"),
    ({"item_id": 7, "limit": 0}, "limit must be >= 1"),
    ({"item_id": 7, "order": "up"}, 'order must be one of "asc", "desc"'),
])
def test_bad_mcp_arguments_are_a_tool_error_the_model_can_read(plugin, tools, arguments, fragment):
    status, answer = mcp(plugin, "tools/call", {"name": "get_item", "arguments": arguments}, 4)
    assert status == 200, answer
    result = answer["result"]
    assert result["isError"] is True
    assert fragment in result["content"][0]["text"]


# -- schemathesis over both operations -------------------------------------------------------------

@pytest.fixture(scope="module")
def origin(project) -> Iterator[str]:
    yield from serve(project)


def test_schemathesis_over_both_operations(origin, tmp_path):
    data = run_schemathesis(origin, tmp_path, DEFAULT_EXAMPLES)
    assert_clean(data, operations=2, min_cases=100)
    assert data["elapsed"] < 60


def test_the_check_of_what_the_local_server_serves_is_clean(project, origin):
    """--origin fetches the manifest, the OpenAPI document and MCP tools/list (after the handshake)."""
    result = subprocess.run([sys.executable, "-m", "plugin_tools.check", "--origin", origin], cwd=project,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok: no errors, 0 warning(s)"


@pytest.mark.skipif(not DEEP, reason="deep run: set SCHEMATHESIS_DEEP=1 (>= 1,000 cases)")
def test_schemathesis_deep_over_both_operations(origin, tmp_path):
    data = run_schemathesis(origin, tmp_path, DEEP_EXAMPLES, seed=None)
    assert_clean(data, operations=2, min_cases=DEEP_MIN_CASES)
