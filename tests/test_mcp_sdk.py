"""The official MCP Python SDK against the baked project's local server, over real HTTP.

Both client generations talk to the same /mcp endpoint that the Lambda serves: the high-level
``mcp.Client`` (which probes ``server/discover`` and speaks the stateless 2026-07-28 revision) and
the lower-level ``ClientSession`` over ``streamable_http_client`` (which runs the ``initialize``
handshake at 2025-11-25). The SDK validates every result against the negotiated revision's
schema, so a shape mistake in the server fails here.
"""

from __future__ import annotations

import json

import anyio
import pytest
from bake_support import bake
from server_support import LocalServer

mcp = pytest.importorskip("mcp", reason="the official MCP SDK (pip install mcp) is needed for these tests")
from mcp import ClientSession, MCPError  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

SUM = {"numero1": 2, "numero2": 3}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    project = bake(tmp_path_factory.mktemp("sdk"))
    with LocalServer(project) as running:
        yield running


def run(coro_fn, *args):
    return anyio.run(coro_fn, *args)


def check_tools(listed) -> None:
    (tool,) = listed.tools
    assert tool.name == "sumar"
    assert tool.input_schema["type"] == "object"
    assert set(tool.input_schema["properties"]) == {"numero1", "numero2"}
    assert tool.output_schema["properties"]["resultado"]["type"] == "number"
    assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
    assert "Suma" in tool.description


def check_sum(result, expected: float = 5) -> None:
    assert result.is_error is False
    assert result.structured_content == {"resultado": expected}
    (block,) = result.content
    assert block.type == "text" and json.loads(block.text) == {"resultado": expected}


def check_tool_error(result, field: str) -> None:
    assert result.is_error is True
    assert not result.structured_content
    assert field in result.content[0].text


# -- the high-level Client: 2026-07-28 (server/discover, no initialize) --------------------------------
def test_client_speaks_2026_07_28(server):
    async def go():
        async with mcp.Client(server.url) as client:
            assert client.protocol_version == "2026-07-28"
            assert client.server_info.name == "sumarplugin"
            check_tools(await client.list_tools())
            check_sum(await client.call_tool("sumar", SUM))
            check_sum(await client.call_tool("sumar", {"numero1": 2.5, "numero2": -0.25}), 2.25)
            check_tool_error(await client.call_tool("sumar", {"numero1": "dos", "numero2": 3}), "numero1")
            check_tool_error(await client.call_tool("sumar", {"numero1": 2}), "numero2")
            with pytest.raises(MCPError) as info:
                await client.call_tool("restar", SUM)
            assert info.value.code == -32602

    run(go)


def test_client_in_legacy_mode_speaks_the_handshake(server):
    async def go():
        async with mcp.Client(server.url, mode="legacy") as client:
            assert client.protocol_version == "2025-11-25"
            check_tools(await client.list_tools())
            check_sum(await client.call_tool("sumar", SUM))
            check_tool_error(await client.call_tool("sumar", {"numero1": 1, "numero2": 2, "x": 0}), "x")

    run(go)


# -- ClientSession over streamable_http_client: the 2025-11-25 handshake ---------------------------------
def test_client_session_over_streamable_http(server):
    async def go():
        async with streamable_http_client(server.url) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                init = await session.initialize()
                assert init.protocol_version == "2025-11-25"
                assert init.server_info.name == "sumarplugin" and init.capabilities.tools is not None
                await session.send_ping()
                check_tools(await session.list_tools())
                check_sum(await session.call_tool("sumar", SUM))
                check_tool_error(await session.call_tool("sumar", {"numero1": 1e16, "numero2": 0}), "numero1")
                with pytest.raises(MCPError) as info:
                    await session.call_tool("restar", SUM)
                assert info.value.code == -32602

    run(go)


def test_the_server_never_hands_out_a_session(server):
    status, headers, _ = server.request(
        "POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "t", "version": "1"}}},
        {"accept": "application/json, text/event-stream"})
    assert status == 200 and "mcp-session-id" not in headers
    assert headers["content-type"] == "application/json"


# -- auth = api_key: the key travels in the Authorization header ------------------------------------------
@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """A bake with auth=api_key and one key made by the project's own tool (its output read back)."""
    import subprocess
    import sys

    project = bake(tmp_path_factory.mktemp("sdk-key"), auth="api_key")
    made = subprocess.run([sys.executable, "-m", "plugin_tools.keys", "new", "sdk-test"], cwd=project,
                          capture_output=True, text=True, timeout=60, check=True)
    key = made.stdout.splitlines()[1]
    with LocalServer(project) as running:
        yield running, key


def with_key(url: str, key: str | None):
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {key}"} if key else None
    return streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))


def test_client_with_a_key_calls_sumar_in_both_eras(keyed):
    server, key = keyed

    async def go():
        async with mcp.Client(with_key(server.url, key)) as client:
            assert client.protocol_version == "2026-07-28"
            check_sum(await client.call_tool("sumar", SUM))
        async with with_key(server.url, key) as streams, ClientSession(streams[0], streams[1]) as session:
            assert (await session.initialize()).protocol_version == "2025-11-25"
            check_tools(await session.list_tools())
            check_sum(await session.call_tool("sumar", SUM))

    run(go)


@pytest.mark.parametrize("key", [None, "pk_not-the-key"])
def test_clients_without_the_key_are_refused(keyed, key):
    server, _ = keyed

    async def client_go():
        async with mcp.Client(with_key(server.url, key)) as client:
            await client.call_tool("sumar", SUM)

    async def session_go():
        async with with_key(server.url, key) as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()

    def leaves(exc: BaseException) -> list[BaseException]:
        return [x for e in exc.exceptions for x in leaves(e)] if isinstance(exc, BaseExceptionGroup) else [exc]

    for go in (client_go, session_go):
        with pytest.raises(BaseException) as info:  # the SDK raises the refusal inside task groups
            run(go)
        refused = [e for e in leaves(info.value) if isinstance(e, MCPError)]
        assert refused and refused[0].code == -32001, repr(info.value)
        assert ("needs a key" if key is None else "invalid") in str(refused[0])
    status, headers, _ = server.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                           headers={"accept": "application/json", "content-type": "application/json"})
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
