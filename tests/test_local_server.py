"""The baked project's local server (``make serve``), over real HTTP.

It must answer every route as the Lambda does behind API Gateway (documents point at the local
URL), refuse foreign Host and Origin headers (DNS-rebinding protection), answer CORS preflights
for ChatGPT, pick up edits to handler.py without a restart, and stop on Ctrl-C without a traceback.
"""

from __future__ import annotations

import base64
import json
import shutil
import signal
import socket
import time

import pytest
from bake_support import bake, project_modules
from server_support import LocalServer

MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "sumar", "arguments": {"numero1": 2, "numero2": 3}}}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def server(project):
    with LocalServer(project) as running:
        yield running


@pytest.fixture
def fresh_copy(project, tmp_path):
    """A copy of the baked project that a test may edit."""
    copy = tmp_path / project.name
    shutil.copytree(project, copy)
    return copy


# -- routes -----------------------------------------------------------------------------------
def test_start_line_names_every_url(server):
    for path in ("/mcp", "/openapi.json", "/.well-known/ai-plugin.json"):
        assert f"{server.base}{path}" in server.start_line
    assert server.start_line.count("\n") == 1


def test_manifest_points_at_the_local_server(server):
    status, manifest = server.json("GET", "/.well-known/ai-plugin.json")
    assert status == 200
    assert manifest["api"]["url"] == f"http://127.0.0.1:{server.port}/openapi.json"
    assert manifest["logo_url"] == f"http://127.0.0.1:{server.port}/logo.png"


def test_openapi_points_at_the_local_server(server):
    status, doc = server.json("GET", "/openapi.json")
    assert status == 200
    assert doc["servers"][0]["url"] == f"http://127.0.0.1:{server.port}"
    assert "/sumar" in doc["paths"]


def test_logo_is_served_as_binary(server, project):
    status, headers, data = server.request("GET", "/logo.png")
    assert status == 200 and headers["content-type"] == "image/png"
    assert data == (project / "logo.png").read_bytes()


def test_sumar_and_mcp_answer(server):
    assert server.json("POST", "/sumar", {"numero1": 2, "numero2": 3}) == (200, {"resultado": 5})
    status, reply = server.json("POST", "/mcp", CALL, MCP_HEADERS)
    assert status == 200 and reply["result"]["structuredContent"] == {"resultado": 5}


def test_query_strings_and_errors_pass_through(server):
    status, body = server.json("GET", "/nope?a=1&a=2")
    assert status == 404 and body["error"] == "not_found"
    status, body = server.json("POST", "/sumar", {"numero1": "x", "numero2": 3})
    assert status == 400 and "numero1" in body["message"]
    status, headers, _ = server.request("GET", "/mcp", headers={"accept": "text/event-stream"})
    assert status == 405 and headers["allow"] == "POST"


def test_a_chunked_body_is_read(server):
    payload = json.dumps({"numero1": 20, "numero2": 22}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    status, _, data = server.request("POST", "/sumar", chunked,
                                     {"content-type": "application/json", "transfer-encoding": "chunked"})
    assert status == 200 and json.loads(data) == {"resultado": 42}


def test_an_oversized_body_is_413(server):
    status, _, data = server.request("POST", "/sumar", b"{" + b" " * (1_048_576 + 10) + b"}",
                                     {"content-type": "application/json"})
    assert status == 413 and b"body_too_large" in data


def test_binary_bodies_travel_base64_encoded(server):
    """A non-text body reaches the handler base64-encoded and decoded again: the JSON check sees it."""
    status, body = server.json("POST", "/sumar", b"\x89PNG\r\n", {"content-type": "application/octet-stream"})
    assert status == 415 and body["error"] == "unsupported_media_type"


# -- Host and Origin (DNS-rebinding protection) and CORS -------------------------------------------
@pytest.mark.parametrize("host", ["localhost", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST"])
def test_local_hosts_are_served(server, host):
    status, _, _ = server.request("GET", "/openapi.json", headers={"host": host.format(port=server.port)})
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example",
                                  "localhost.evil.example:{port}", ""])
def test_foreign_hosts_are_refused(server, host):
    status, _, data = server.request("GET", "/openapi.json", headers={"host": host.format(port=server.port)})
    assert status == 421 and b"--allow-host" in data


@pytest.mark.parametrize(("origin", "allowed"), [
    ("https://chatgpt.com", True), ("https://chat.openai.com", True), ("http://localhost:6274", True),
    ("http://127.0.0.1:{port}", True), ("https://evil.example", False), ("null", False),
    ("http://localhost.evil.example", False),
])
def test_origins(server, origin, allowed):
    origin = origin.format(port=server.port)
    status, headers, _ = server.request("POST", "/mcp", json.dumps(CALL),
                                        {**MCP_HEADERS, "content-type": "application/json", "origin": origin})
    if allowed:
        assert status == 200 and headers["access-control-allow-origin"] == origin
    else:
        assert status == 403 and "access-control-allow-origin" not in headers


@pytest.mark.parametrize("path", ["/mcp", "/sumar", "/.well-known/ai-plugin.json"])
def test_cors_preflight_is_answered_by_the_server(server, path):
    status, headers, data = server.request("OPTIONS", path, headers={
        "origin": "https://chatgpt.com", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, mcp-protocol-version"})
    assert status == 204 and data == b""
    assert headers["access-control-allow-origin"] == "https://chatgpt.com"
    assert "POST" in headers["access-control-allow-methods"]
    assert {"content-type", "mcp-protocol-version", "mcp-session-id"} <= {
        h.strip() for h in headers["access-control-allow-headers"].split(",")}


def test_a_preflight_from_a_foreign_origin_is_refused(server):
    status, headers, _ = server.request("OPTIONS", "/mcp", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert status == 403 and "access-control-allow-origin" not in headers


def test_allow_host_serves_a_tunnel(project):
    with LocalServer(project, "--allow-host", "abc.tunnel.example", "--no-reload") as server:
        head = {"host": "abc.tunnel.example", "x-forwarded-proto": "https", "origin": "https://abc.tunnel.example"}
        status, _, data = server.request("GET", "/.well-known/ai-plugin.json", headers=head)
        assert status == 200
        assert json.loads(data)["api"]["url"] == "https://abc.tunnel.example/openapi.json"
        status, _, _ = server.request("GET", "/openapi.json", headers={"host": "other.tunnel.example"})
        assert status == 421


# -- reload and shutdown -------------------------------------------------------------------------
NEW_OPERATION = '''

@plugin.operation(read_only=True)
def restar(numero1: float, numero2: float) -> Suma:
    """Resta numero2 de numero1."""
    return {"resultado": numero1 - numero2}


lambda_handler = plugin.lambda_handler
'''


def test_edits_to_handler_py_are_picked_up(fresh_copy):
    with LocalServer(fresh_copy) as server:
        assert "/restar" not in server.json("GET", "/openapi.json")[1]["paths"]
        handler = fresh_copy / "handler.py"
        source = handler.read_text(encoding="utf-8")
        handler.write_text(source + NEW_OPERATION, encoding="utf-8")
        assert server.wait_until(lambda: "/restar" in server.json("GET", "/openapi.json")[1]["paths"]), \
            "".join(server.stderr_lines)
        assert server.json("POST", "/restar", {"numero1": 5, "numero2": 3}) == (200, {"resultado": 2})
        reply = server.json("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, MCP_HEADERS)[1]
        assert {t["name"] for t in reply["result"]["tools"]} == {"sumar", "restar"}

        # A broken edit is reported on every route (no crash, no hang) until it is fixed.
        handler.write_text(source + "\ndef broken(:\n", encoding="utf-8")
        assert server.wait_until(lambda: server.request("GET", "/openapi.json")[0] == 500)
        body = server.json("GET", "/openapi.json")[1]
        assert body["error"] == "handler_not_loaded" and "SyntaxError" in body["message"]
        handler.write_text(source, encoding="utf-8")
        assert server.wait_until(lambda: server.request("GET", "/openapi.json")[0] == 200)
        assert "/restar" not in server.json("GET", "/openapi.json")[1]["paths"]
        code, _, stderr = server.stop()
    assert code == 0
    assert "handler.py changed; reloading" in stderr


def test_ctrl_c_stops_cleanly_and_frees_the_port(fresh_copy):
    server = LocalServer(fresh_copy)
    assert server.request("GET", "/openapi.json")[0] == 200
    started = time.monotonic()
    code, out, err = server.stop(signal.SIGINT)
    assert code == 0, err
    assert time.monotonic() - started < 5
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in err
    with socket.socket() as probe:  # the child process is gone too: nobody listens any more
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


def test_sigterm_stops_cleanly(fresh_copy):
    server = LocalServer(fresh_copy, "--no-reload")
    assert server.request("GET", "/openapi.json")[0] == 200
    code, _, err = server.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err


# -- the HTTP <-> API Gateway translation, directly ---------------------------------------------
@pytest.fixture
def serve_module(project, monkeypatch):
    """The baked project's plugin_tools.serve, imported here and forgotten afterwards."""
    with project_modules(project):
        from plugin_tools import serve

        yield serve


def test_build_event_is_an_api_gateway_v2_event(serve_module):
    event = serve_module.build_event(
        "POST", "/sumar%20x?a=1&b=&a=2",
        [("Host", "localhost:8080"), ("Content-Type", "application/json"), ("X-Dup", "1"), ("x-dup", "2"),
         ("Cookie", "s=1; t=2")],
        b'{"numero1": 1}', "127.0.0.1")
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/sumar%20x" and event["requestContext"]["http"]["path"] == "/sumar x"
    assert event["rawQueryString"] == "a=1&b=&a=2"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"] == {"host": "localhost:8080", "content-type": "application/json", "x-dup": "1,2"}
    assert event["cookies"] == ["s=1", "t=2"]
    ctx = event["requestContext"]
    assert ctx["domainName"] == "localhost:8080" and ctx["http"]["method"] == "POST"
    assert ctx["http"]["sourceIp"] == "127.0.0.1" and ctx["stage"] == "$default"
    assert event["body"] == '{"numero1": 1}' and event["isBase64Encoded"] is False


def test_build_event_base64_encodes_binary_bodies(serve_module):
    raw = bytes(range(256))
    event = serve_module.build_event("POST", "/x", [("content-type", "image/png")], raw, "::1")
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == raw
    event = serve_module.build_event("POST", "/x", [("content-type", "application/json")], b"\xff", "::1")
    assert event["isBase64Encoded"] is True


def test_decode_response(serve_module):
    status, headers, cookies, data = serve_module.decode_response(
        {"statusCode": 201, "headers": {"X-A": "b"}, "cookies": ["c=1"],
         "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True})
    assert (status, headers, cookies, data) == (201, {"x-a": "b"}, ["c=1"], b"\x00\x01")
    assert serve_module.decode_response({"ok": True})[3] == b'{"ok": true}'
