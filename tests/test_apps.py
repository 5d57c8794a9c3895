"""ChatGPT apps on a baked project: the widget, resources and prompts, checked with real parts.

- the official MCP SDK: ``mcp.Client`` (2026-07-28) and ``ClientSession`` (2025-11-25) list and
  read the resources, list and get the prompts, and see the tool's ``_meta``;
- the official MCP conformance suite (npm ``@modelcontextprotocol/conformance``): its resources
  and prompts scenarios in both eras, against the fixtures they name, added to the bake's
  handler.py the way a user adds code (resources/subscribe does not apply: a stateless server
  announces no ``subscribe``, so those two scenarios are left out);
- the build: an oversized or malformed widget file stops it with one line and writes no zip;
- cold start: a REST call and a tools/call neither import the widget code nor read a widget;
- the preview page belongs to the local server, never to the Lambda.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from bake_support import TEMPLATE, bake, project_modules
from server_support import LocalServer

mcp = pytest.importorskip("mcp", reason="the official MCP SDK (pip install mcp) is needed for these tests")
from mcp import ClientSession, MCPError  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

WIDGET_MIME = "text/html;profile=mcp-app"
NODE = shutil.which("node")
NODE_MODULES = Path(os.environ.get("SCAFFOLD_NODE_MODULES") or TEMPLATE / ".ci" / ".npm" / "node_modules")
CONFORMANCE = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
NODE20_SHIM = Path(__file__).with_name("node20_fs_glob.mjs")
# The suite's resources and prompts scenarios, by the protocol revision they run at.
SCENARIOS = ["resources-list", "resources-read-text", "resources-read-binary", "resources-templates-read",
             "prompts-list", "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource",
             "prompts-get-with-image"]
MODERN_ONLY = ["sep-2164-resource-not-found", "caching"]

# The fixtures the conformance scenarios name, written as a user would write them in handler.py.
FIXTURES = '''

import base64  # noqa: E402
import os  # noqa: E402


class TemplateData(TypedDict):
    id: str
    templateTest: bool
    data: str


@plugin.resource("test://static-text", mime_type="text/plain")
def static_text() -> str:
    """A static text resource (MCP conformance)."""
    return "This is the content of the static text resource."


plugin.resource("test://static-binary", file="logo.png", description="A binary resource (MCP conformance).")


@plugin.resource("test://template/{id}/data")
def template_data(id: str) -> TemplateData:
    """Data for one id (MCP conformance)."""
    return {"id": id, "templateTest": True, "data": f"Data for ID: {id}"}


@plugin.prompt
def test_simple_prompt() -> str:
    """A simple prompt without arguments."""
    return "This is a simple prompt for testing."


@plugin.prompt
def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
    """A prompt with two required arguments.

    Args:
        arg1: First test argument.
        arg2: Second test argument.
    """
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@plugin.prompt
def test_prompt_with_embedded_resource(resourceUri: str) -> list:
    """A prompt that embeds a resource.

    Args:
        resourceUri: URI of the resource to embed.
    """
    return [{"type": "resource", "resource": {"uri": resourceUri, "mimeType": "text/plain",
                                              "text": "Embedded resource content for testing."}},
            "Please process the embedded resource above."]


@plugin.prompt
def test_prompt_with_image() -> list:
    """A prompt with an image."""
    with open(os.path.join(plugin.root, "logo.png"), "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return [{"type": "image", "data": data, "mimeType": "image/png"}, "Please analyze the image above."]


lambda_handler = plugin.lambda_handler
'''


def build(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plugin_tools.build"], cwd=project, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """The default bake: sumar and its widget, nothing else."""
    return bake(tmp_path_factory.mktemp("apps"))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A bake with the conformance fixtures appended to handler.py and rebuilt."""
    project = bake(tmp_path_factory.mktemp("apps-fixtures"))
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + FIXTURES, encoding="utf-8")
    result = build(project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture(scope="module")
def server(project):
    with LocalServer(project) as running:
        yield running


def run(coro_fn, *args):
    return anyio.run(coro_fn, *args)


def check_widget_tool(tool) -> str:
    """The tool names its widget with the standard and OpenAI's keys; returns the URI."""
    uri = tool.meta["ui"]["resourceUri"]
    assert uri.startswith("ui://widget/sumar-") and tool.meta["openai/outputTemplate"] == uri
    assert tool.meta["ui"]["visibility"] == ["model", "app"]
    assert tool.meta["openai/toolInvocation/invoking"] == "Sumando…"
    return uri


async def check_resources_and_prompts(client, uri: str) -> None:
    """What both client generations must see; ``client`` is a Client or a ClientSession."""
    listed = await client.list_resources()
    assert [str(r.uri) for r in listed.resources] == [uri, "test://static-text", "test://static-binary"]
    assert listed.resources[0].mime_type == WIDGET_MIME
    (widget,) = (await client.read_resource(uri)).contents
    assert widget.mime_type == WIDGET_MIME and "McpApp" in widget.text and widget.text.startswith("<!doctype html>")
    assert widget.meta["ui"]["csp"] == {"connectDomains": [], "resourceDomains": []}
    assert widget.meta["openai/widgetCSP"] == {"connect_domains": [], "resource_domains": []}
    (blob,) = (await client.read_resource("test://static-binary")).contents
    assert base64.b64decode(blob.blob)[:8] == b"\x89PNG\r\n\x1a\n"
    (template,) = (await client.list_resource_templates()).resource_templates
    assert template.uri_template == "test://template/{id}/data" and template.mime_type == "application/json"
    (data,) = (await client.read_resource("test://template/42/data")).contents
    assert json.loads(data.text) == {"id": "42", "templateTest": True, "data": "Data for ID: 42"}
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert [a.name for a in prompts["test_prompt_with_arguments"].arguments] == ["arg1", "arg2"]
    got = await client.get_prompt("test_prompt_with_arguments", {"arg1": "uno", "arg2": "dos"})
    assert got.messages[0].content.text == "Prompt with arguments: arg1='uno', arg2='dos'"
    image = await client.get_prompt("test_prompt_with_image")
    assert image.messages[0].content.type == "image" and image.messages[1].content.type == "text"


def test_client_2026_07_28_reads_the_widget_resources_and_prompts(server):
    async def go():
        async with mcp.Client(server.url) as client:
            assert client.protocol_version == "2026-07-28"
            capabilities = client.server_capabilities
            assert capabilities.resources is not None and capabilities.prompts is not None
            assert capabilities.extensions == {"io.modelcontextprotocol/ui": {}}
            (tool,) = (await client.list_tools()).tools
            await check_resources_and_prompts(client, check_widget_tool(tool))
            with pytest.raises(MCPError) as info:
                await client.read_resource("test://no-such-resource")
            assert info.value.code == -32602
            with pytest.raises(MCPError) as info:
                await client.get_prompt("no_such_prompt")
            assert info.value.code == -32602
            with pytest.raises(MCPError) as info:
                await client.get_prompt("test_prompt_with_arguments", {"arg1": "solo"})
            assert info.value.code == -32602 and "arg2 is required" in str(info.value)

    run(go)


def test_client_session_2025_11_25_reads_the_widget_resources_and_prompts(server):
    async def go():
        async with streamable_http_client(server.url) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                init = await session.initialize()
                assert init.protocol_version == "2025-11-25"
                assert init.capabilities.resources is not None and init.capabilities.prompts is not None
                (tool,) = (await session.list_tools()).tools
                await check_resources_and_prompts(session, check_widget_tool(tool))
                with pytest.raises(MCPError) as info:
                    await session.read_resource("test://no-such-resource")
                assert info.value.code == -32002  # before 2026-07-28 an unknown resource has its own code
                with pytest.raises(MCPError) as info:
                    await session.get_prompt("no_such_prompt")
                assert info.value.code == -32602

    run(go)


# -- the official conformance suite ----------------------------------------------------------------
def node_command() -> list[str]:
    """node, with the fs.globSync shim the suite's CLI needs on Node < 22."""
    version = subprocess.run([NODE or "node", "--version"], capture_output=True, text=True, check=True).stdout
    major = int(version.strip().lstrip("v").split(".")[0])
    return [NODE or "node", *(["--import", str(NODE20_SHIM)] if major < 22 else [])]


def run_scenario(url: str, scenario: str, version: str, out: Path) -> list[dict]:
    folder = out / f"{version}-{scenario}"
    cmd = [*node_command(), str(CONFORMANCE), "server", "--url", url, "--scenario", scenario,
           "--spec-version", version, "-o", str(folder)]
    result = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=120, check=False)
    found = sorted(folder.rglob("checks.json"))
    assert found, f"{scenario} at {version} wrote no checks.json: {result.stdout[-800:]} {result.stderr[-800:]}"
    return [{**check, "scenario": scenario} for check in json.loads(found[0].read_text(encoding="utf-8"))]


@pytest.mark.skipif(NODE is None, reason="node is not installed (CI installs node 20+)")
@pytest.mark.skipif(not CONFORMANCE.is_file(),
                    reason=f"the MCP conformance suite is not installed in {NODE_MODULES} (.ci/run installs it)")
def test_conformance_suite_resources_and_prompts_scenarios_pass_in_both_eras(server, tmp_path):
    runs = [(s, "2025-11-25") for s in SCENARIOS] + [(s, "2026-07-28") for s in SCENARIOS + MODERN_ONLY]
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda run: run_scenario(server.url, *run, tmp_path), runs))
    for (scenario, version), checks in zip(runs, found, strict=True):
        bad = [f"{c['id']} {c['status']}: {c.get('errorMessage')}" for c in checks
               if c["status"] not in ("SUCCESS", "INFO")]
        assert not bad, f"{scenario} at {version}: " + "; ".join(bad)
        assert sum(c["status"] == "SUCCESS" for c in checks) >= 2, (scenario, version)  # its check + wire schema


# -- the build refuses a bad widget with one line ------------------------------------------------
@pytest.fixture
def copy(pristine, tmp_path) -> Path:
    target = tmp_path / pristine.name
    shutil.copytree(pristine, target)
    (target / "lambda.zip").unlink()
    return target


def _oversized(html: str) -> str:
    return html.replace("</body>", f"<!-- {'x' * 600_000} -->\n</body>")


BAD_WIDGETS = {
    "oversized": (_oversized, "bytes with its scripts inlined; a widget may be at most 524,288"),
    "no doctype": (lambda html: html.replace("<!doctype html>", ""), "start it with <!doctype html>"),
    "a fragment": (lambda html: "<p>5</p>", "start it with <!doctype html>"),
    "cut short": (lambda html: html[: len(html) - 40], "it ends before </html> (cut short?)"),
    "no body": (lambda html: html.replace("<body>", "").replace("</body>", ""), "it has no <body> element"),
    "external script": (lambda html: html.replace("</head>", '<script src="https://cdn.example/lib.js"></script>'
                                                  "</head>"), "loads a script from https://cdn.example"),
    "missing script": (lambda html: html.replace("mcp-app.js", "app.js"), "widgets/app.js is not one"),
}


@pytest.mark.parametrize("label", BAD_WIDGETS)
def test_a_bad_widget_file_stops_the_build_with_one_line_and_no_zip(copy, label):
    edit, fragment = BAD_WIDGETS[label]
    widget = copy / "widgets" / "sumar.html"
    widget.write_text(edit(widget.read_text(encoding="utf-8")), encoding="utf-8")
    result = build(copy)
    assert result.returncode == 1
    assert result.stderr.startswith("build failed: widgets/sumar.html")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment in result.stderr
    assert not (copy / "lambda.zip").exists(), "a bad widget must not leave a zip behind"
    check = subprocess.run([sys.executable, "-m", "plugin_tools.check"], cwd=copy, capture_output=True, text=True,
                           timeout=60, check=False)
    assert check.returncode == 1 and fragment in check.stdout


def test_a_widget_that_is_not_utf8_stops_the_build(copy):
    (copy / "widgets" / "sumar.html").write_bytes(b"<!doctype html><html><body>\xff\xfe</body></html>")
    result = build(copy)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "build failed: widgets/sumar.html: is not UTF-8 text" in result.stderr
    assert not (copy / "lambda.zip").exists()


def test_an_unused_widget_is_a_warning_and_ships(copy):
    shutil.copy(copy / "widgets" / "sumar.html", copy / "widgets" / "tarjeta.html")
    result = build(copy)
    assert result.returncode == 0, result.stderr
    assert "WARNING widgets/tarjeta.html $: no operation shows it" in result.stderr
    import zipfile

    with zipfile.ZipFile(copy / "lambda.zip") as zf:
        assert {"widgets/sumar.html", "widgets/tarjeta.html", "widgets/mcp-app.js"} <= set(zf.namelist())


def test_a_resource_file_outside_the_zip_stops_the_build(copy):
    (copy / "notas.txt").write_text("hola", encoding="utf-8")
    handler = copy / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + '\nplugin.resource("data://notas", file="notas.txt")\n',
                       encoding="utf-8")
    result = build(copy)
    assert result.returncode == 1
    assert "file 'notas.txt' is not in lambda.zip: add its pattern to SOURCE_GLOBS" in result.stderr


# -- cold start: only what asks for a widget pays for it ------------------------------------------
PROBE = r"""
import builtins, json, sys
sys.path.insert(0, ".")
opened = []
real_open = builtins.open
def tracking_open(file, *args, **kwargs):
    opened.append(str(file))
    return real_open(file, *args, **kwargs)
builtins.open = tracking_open
import handler
from tests.conftest import make_event
def mcp(method, params, version):
    headers = {"accept": "application/json", "mcp-protocol-version": version}
    if version == "2026-07-28":
        params = {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": version,
                                      "io.modelcontextprotocol/clientCapabilities": {}}}
        headers.update({"mcp-method": method, "mcp-name": params.get("name", "")})
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return handler.lambda_handler(make_event("POST", "/mcp", body, headers=headers), None)["statusCode"]
statuses = [handler.lambda_handler(make_event("POST", "/sumar", {"numero1": 2, "numero2": 3}), None)["statusCode"]]
for version in ("2025-06-18", "2026-07-28"):
    statuses.append(mcp("tools/call", {"name": "sumar", "arguments": {"numero1": 2, "numero2": 3}}, version))
before = {"modules": "plugin_runtime.model_resource" in sys.modules, "widgets": [f for f in opened if "widgets" in f]}
statuses.append(mcp("tools/list", {}, "2025-06-18"))
after = {"modules": "plugin_runtime.model_resource" in sys.modules, "widgets": [f for f in opened if "widgets" in f]}
print(json.dumps({"statuses": statuses, "before": before, "after": after}))
"""


def test_rest_and_tool_calls_never_load_or_read_a_widget(pristine):
    result = subprocess.run([sys.executable, "-I", "-c", PROBE], cwd=pristine, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["statuses"] == [200, 200, 200, 200]
    assert seen["before"] == {"modules": False, "widgets": []}
    assert seen["after"]["modules"] is True and any(f.endswith("sumar.html") for f in seen["after"]["widgets"])


# -- the preview page is the local server's, never the Lambda's ------------------------------------
def test_the_preview_page_is_served_locally_only(server, project):
    status, headers, body = server.request("GET", "/_preview?tool=sumar")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"Widget preview" in body and b'sandbox = "allow-scripts"' in body
    assert f"{server.base}/_preview" in server.start_line
    status, _, _ = server.request("POST", "/_preview", b"{}", {"content-type": "application/json"})
    assert status == 404  # only GET is the page; anything else goes to the Lambda, which has no such route
    with project_modules(project):
        from plugin_tools.project import load_plugin

        event = {"version": "2.0", "rawPath": "/_preview", "headers": {"host": "abc.example"},
                 "requestContext": {"http": {"method": "GET", "path": "/_preview"}, "domainName": "abc.example"}}
        assert load_plugin(project).lambda_handler(event, None)["statusCode"] == 404
