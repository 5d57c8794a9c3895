"""Who may call: API keys on every protected route (the operations and /mcp), public documents,
the caller's identity in the operation, and the refusals for every malformed credential.

These tests switch the runtime to ``api_key`` themselves (as Terraform does through the Lambda's
environment), whatever terraform.tfvars says, and run against the protocol probe (tests/probe.py)
so they hold whatever operations handler.py defines.
"""

from __future__ import annotations

import hashlib
import json
from typing import TypedDict

import pytest
from conftest import PROJECT, make_event

from plugin_runtime import Context, Plugin
from plugin_runtime.model_auth import current, parse

GOOD = "pk_" + "a" * 43
OTHER = "pk_" + "b" * 43
REVOKED = "pk_" + "c" * 43
SUM = {"numero1": 2, "numero2": 3}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
               "io.modelcontextprotocol/clientCapabilities": {}}


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture
def keys(monkeypatch):
    """api_key mode with two keys, "laptop" and "ci-bot" (REVOKED was removed from the map)."""
    monkeypatch.setenv("PLUGIN_AUTH", "api_key")
    monkeypatch.setenv("PLUGIN_API_KEYS", json.dumps({"laptop": sha(GOOD), "ci-bot": sha(OTHER)}))
    monkeypatch.setenv("PLUGIN_OPENAI_VERIFICATION_TOKEN", "tok_123")


@pytest.fixture
def probe():
    import probe

    return probe.plugin


def send(plugin, event: dict, authorization: str | None) -> tuple[int, dict, dict]:
    event["headers"].pop("authorization", None)
    if authorization is not None:
        event["headers"]["authorization"] = authorization
    response = plugin.lambda_handler(event, None)
    body = response.get("body") or ""
    assert "Traceback" not in body
    for secret in (GOOD, OTHER, REVOKED):
        assert secret not in body and secret not in json.dumps(response["headers"])
    return response["statusCode"], response["headers"], json.loads(body) if body else {}


def rest(plugin, authorization):
    return send(plugin, make_event("POST", "/sumar", SUM), authorization)


def mcp_call(plugin, authorization, version="2025-06-18"):
    if version == "2026-07-28":
        message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "sumar", "arguments": SUM, "_meta": MODERN_META}}
        headers = {**MCP_HEADERS, "mcp-protocol-version": version, "mcp-method": "tools/call", "mcp-name": "sumar"}
    else:
        message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "sumar", "arguments": SUM}}
        headers = {**MCP_HEADERS, "mcp-protocol-version": version}
    return send(plugin, make_event("POST", "/mcp", message, headers=headers), authorization)


# -- a good key ----------------------------------------------------------------------------------
@pytest.mark.parametrize("authorization", [f"Bearer {GOOD}", f"bearer {GOOD}", f"BEARER  {GOOD} ", f"Bearer {OTHER}"])
def test_a_good_key_reaches_the_operation(keys, probe, authorization):
    status, _, body = rest(probe, authorization)
    assert (status, body) == (200, {"resultado": 5})


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"])
def test_a_good_key_reaches_the_mcp_tool_in_every_era(keys, probe, version):
    status, _, body = mcp_call(probe, f"Bearer {GOOD}", version)
    assert status == 200 and "error" not in body
    assert json.loads(body["result"]["content"][0]["text"]) == {"resultado": 5}


# -- refusals --------------------------------------------------------------------------------------
MISSING = [None, "", "   "]
INVALID = [
    pytest.param(f"Bearer {REVOKED}", id="revoked"),
    pytest.param("Bearer pk_" + "z" * 43, id="wrong key"),
    pytest.param(f"Bearer {GOOD[:-1]}", id="truncated"),
    pytest.param(f"Bearer {GOOD}x", id="extended"),
    pytest.param(f"Basic {GOOD}", id="wrong scheme"),
    pytest.param(GOOD, id="no scheme"),
    pytest.param("Bearer", id="scheme only"),
    pytest.param("Bearer ", id="empty token"),
    pytest.param(f"Bearer {GOOD},Bearer {GOOD}", id="repeated header joined by API Gateway"),
    pytest.param(f"Bearer {GOOD} {GOOD}", id="two tokens"),
    pytest.param("Bearer " + "A" * 5000, id="huge"),
    pytest.param("Bearer clé-secrète", id="non-ascii"),
    pytest.param("Bearer \x00\x01", id="control characters"),
    pytest.param(f"Bearer {sha(GOOD)}", id="the hash itself"),
    pytest.param("Bearer " + "😀" * 10, id="emoji"),
]


@pytest.mark.parametrize("authorization", MISSING)
def test_no_key_is_401_missing(keys, probe, authorization):
    status, headers, body = rest(probe, authorization)
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert body == {"error": "unauthorized", "message": "this API needs a key: send Authorization: Bearer <key>"}


@pytest.mark.parametrize("authorization", INVALID)
def test_a_bad_key_is_401_invalid_without_saying_why(keys, probe, authorization):
    status, headers, body = rest(probe, authorization)
    assert status == 401 and headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert body == {"error": "invalid_token", "message": "the API key is invalid"}


@pytest.mark.parametrize("version", ["2025-06-18", "2026-07-28"])
@pytest.mark.parametrize("authorization", [None, f"Bearer {REVOKED}", "Basic x"])
def test_mcp_refusals_are_json_rpc_errors(keys, probe, authorization, version):
    status, headers, body = mcp_call(probe, authorization, version)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert body["jsonrpc"] == "2.0" and body["id"] is None
    assert body["error"]["code"] == -32001 and body["error"]["message"]


def test_a_key_for_another_deployment_is_invalid(monkeypatch, probe):
    monkeypatch.setenv("PLUGIN_AUTH", "api_key")
    monkeypatch.setenv("PLUGIN_API_KEYS", json.dumps({"laptop": sha(OTHER)}))
    assert rest(probe, f"Bearer {GOOD}")[0] == 401


def test_api_key_mode_without_keys_refuses_everyone(monkeypatch, probe):
    monkeypatch.setenv("PLUGIN_AUTH", "api_key")
    monkeypatch.setenv("PLUGIN_API_KEYS", "{}")
    assert rest(probe, f"Bearer {GOOD}")[0] == 401


@pytest.mark.parametrize(("mode", "keys_env"), [("apikey", "{}"), ("api_key", "not json"), ("api_key", '{"a": "x"}'),
                                                ("api_key", "[1]")])
def test_a_misconfigured_deployment_refuses_with_a_safe_500(monkeypatch, probe, capsys, mode, keys_env):
    monkeypatch.setenv("PLUGIN_AUTH", mode)
    monkeypatch.setenv("PLUGIN_API_KEYS", keys_env)
    status, _, body = rest(probe, f"Bearer {GOOD}")
    assert status == 500 and body["error"] == "auth_misconfigured"
    assert "PLUGIN_" not in body["message"]
    logged = capsys.readouterr()
    assert "PLUGIN_" in logged.out + logged.err  # the owner reads why in the logs


# -- public routes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/.well-known/ai-plugin.json", "/openapi.json", "/logo.png"])
def test_documents_stay_public(keys, probe, path):
    event = make_event("GET", path)
    event["headers"].pop("authorization", None)
    assert probe.lambda_handler(event, None)["statusCode"] == 200


def test_the_documents_describe_the_key(keys, probe):
    _, _, manifest = send(probe, make_event("GET", "/.well-known/ai-plugin.json"), None)
    assert manifest["auth"] == {"type": "service_http", "authorization_type": "bearer",
                                "verification_tokens": {"openai": "tok_123"}}
    _, _, doc = send(probe, make_event("GET", "/openapi.json"), None)
    assert doc["security"] == [{"apiKey": []}]
    assert doc["components"]["securitySchemes"]["apiKey"] == {**doc["components"]["securitySchemes"]["apiKey"],
                                                               "type": "http", "scheme": "bearer"}
    assert set(doc["paths"]["/sumar"]["post"]["responses"]) >= {"200", "400", "401", "429", "500"}


def test_open_documents_declare_no_security(monkeypatch, probe):
    monkeypatch.setenv("PLUGIN_AUTH", "none")
    _, _, doc = send(probe, make_event("GET", "/openapi.json"), None)
    assert doc["security"] == [] and "components" not in doc
    assert "401" not in doc["paths"]["/sumar"]["post"]["responses"]
    _, _, manifest = send(probe, make_event("GET", "/.well-known/ai-plugin.json"), None)
    assert manifest["auth"] == {"type": "none"}


def test_auth_none_needs_no_key(monkeypatch, probe):
    monkeypatch.setenv("PLUGIN_AUTH", "none")
    assert rest(probe, None)[:1] == (200,)
    assert rest(probe, "Bearer anything")[:1] == (200,)


# -- the caller in the operation -------------------------------------------------------------------
class Hola(TypedDict):
    saludo: str
    surface: str
    request_id: str


@pytest.fixture
def greeter() -> Plugin:
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(read_only=True)
    def saludar(nombre: str, ctx: Context) -> Hola:
        """Greets the caller by the name of their API key."""
        who = ctx.caller.name if ctx.caller else "anonymous"
        return {"saludo": f"Hola {nombre}, te llama {who}", "surface": ctx.surface, "request_id": ctx.request_id}

    return plugin


def test_the_context_never_appears_in_a_schema(greeter):
    op = greeter.operations["saludar"]
    assert list(op.input_schema["properties"]) == ["nombre"] and op.context_param == "ctx"
    assert "ctx" not in json.dumps(greeter.openapi_for("https://x.example.com"))


def test_an_operation_sees_the_key_name_on_rest_and_mcp(keys, greeter):
    event = make_event("POST", "/saludar", {"nombre": "Ana"})
    event["requestContext"]["requestId"] = "api-req-1"
    status, _, body = send(greeter, event, f"Bearer {OTHER}")
    assert status == 200 and body["saludo"] == "Hola Ana, te llama ci-bot" and body["surface"] == "rest"
    assert body["request_id"] == "api-req-1"
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "saludar",
                                                                           "arguments": {"nombre": "Ana"}}}
    status, _, body = send(greeter, make_event("POST", "/mcp", message, headers=MCP_HEADERS), f"Bearer {GOOD}")
    result = body["result"]["structuredContent"]
    assert result["saludo"] == "Hola Ana, te llama laptop" and result["surface"] == "mcp"


def test_an_open_plugin_has_an_anonymous_caller(monkeypatch, greeter):
    monkeypatch.setenv("PLUGIN_AUTH", "none")
    status, _, body = send(greeter, make_event("POST", "/saludar", {"nombre": "Ana"}), None)
    assert status == 200 and body["saludo"] == "Hola Ana, te llama anonymous"


def test_the_lambda_context_gives_the_request_id_and_remaining_time(keys, greeter):
    class LambdaContext:
        aws_request_id = "lambda-req-9"

        def get_remaining_time_in_millis(self) -> int:
            return 1234

    seen = {}

    @greeter.operation(read_only=True)
    def espiar(ctx: Context) -> Hola:
        """Reports what the context says."""
        seen.update(remaining=ctx.remaining_ms(), origin=ctx.origin, method=ctx.method, operation=ctx.operation)
        return {"saludo": "", "surface": ctx.surface, "request_id": ctx.request_id}

    event = make_event("POST", "/espiar", {}, headers={"authorization": f"Bearer {GOOD}"})
    response = greeter.lambda_handler(event, LambdaContext())
    assert json.loads(response["body"])["request_id"] == "lambda-req-9"
    assert seen == {"remaining": 1234, "origin": "https://" + event["requestContext"]["domainName"],
                    "method": "POST", "operation": "espiar"}


def test_the_config_is_parsed_once_per_environment_value(keys):
    assert current() is current()
    assert parse("api_key", json.dumps({"a": sha(GOOD)})).key_hashes == {"a": sha(GOOD)}
