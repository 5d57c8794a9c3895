"""The default project's widget in a real browser (headless Chromium driven by Playwright).

Host pages built here load widgets/sumar.html the way a host does: tools/list names the widget,
resources/read fetches it, and it runs in a sandboxed iframe (an opaque origin) under the CSP its
metadata asks for, with a real result from the project's local server.

- the MCP Apps host side is the official ``@modelcontextprotocol/ext-apps`` package's AppBridge
  (npm, loaded unbundled through an import map): the widget must complete ui/initialize, render the
  tool input and result, report its size, and call a tool and post a message through the bridge;
- a ChatGPT-style host that offers only ``window.openai`` (toolInput, toolOutput via the
  openai:set_globals event, callTool): the widget must fall back to it;
- the local preview page (``/_preview``) renders the widget from its form;
- opened on its own (file://) the widget shows a note and raises no error.

Screenshots are kept under the test's tmp folder; the light one is also copied to /tmp/widget.png.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

import pytest
from bake_support import TEMPLATE, bake
from server_support import LocalServer

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright (pip install playwright) drives Chromium")
CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)", allow_module_level=True)

NODE_MODULES = Path(os.environ.get("SCAFFOLD_NODE_MODULES") or TEMPLATE / ".ci" / ".npm" / "node_modules")
EXT_APPS = NODE_MODULES / "@modelcontextprotocol" / "ext-apps" / "dist" / "src" / "app-bridge.js"
# The bare imports of ext-apps' app-bridge.js and of what it imports, mapped for the browser.
BARE_IMPORTS = ("@modelcontextprotocol/ext-apps/app-bridge", "@modelcontextprotocol/client",
                "@modelcontextprotocol/client/_shims", "@modelcontextprotocol/core",
                "@modelcontextprotocol/core/internal", "zod", "zod/v4", "zod/compile", "eventsource",
                "eventsource-parser", "eventsource-parser/stream", "jose", "pkce-challenge")
SUM = {"numero1": 2, "numero2": 3}
LIGHT, DARK = "rgb(255, 255, 255)", "rgb(33, 33, 33)"  # the card's background in each theme

# Shared by both host pages: JSON-RPC to the local server, and the CSP a host derives from the
# widget's _meta.ui.csp, put in front of the widget's own <head>.
HOST_COMMON = """
const query = new URLSearchParams(location.search);
const server = query.get("server");
const theme = query.get("theme") || "light";
const args = JSON.parse(query.get("args"));
window.hostLog = [];
let nextId = 0;
async function rpc(method, params) {
  const response = await fetch(server + "/mcp", { method: "POST", body: JSON.stringify(
      { jsonrpc: "2.0", id: ++nextId, method: method, params: params || {} }),
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream",
               "mcp-protocol-version": "2025-11-25" } });
  const answer = await response.json();
  if (answer.error) throw new Error(answer.error.message);
  return answer.result;
}
function sandboxed(content, prefix) {
  const csp = (content._meta.ui || {}).csp || {};
  const sources = (csp.resourceDomains || []).join(" ");
  const policy = ["default-src 'none'", "script-src 'unsafe-inline' " + sources, "style-src 'unsafe-inline' " + sources,
                  "img-src data: " + sources, "font-src " + (sources || "'none'"),
                  "connect-src " + ((csp.connectDomains || []).join(" ") || "'none'")].join("; ");
  const head = '<meta http-equiv="Content-Security-Policy" content="' + policy + '">' + (prefix || "");
  const frame = document.createElement("iframe");
  frame.sandbox = "allow-scripts";
  frame.style.cssText = "width: 440px; height: 140px; border: 0; display: block";
  document.getElementById("chat").append(frame);
  return [frame, content.text.replace(/<head>/i, "<head>" + head)];
}
async function widget() {
  const tool = (await rpc("tools/list")).tools.find((t) => t.name === "sumar");
  window.hostLog.push(["tool meta", tool._meta]);
  return (await rpc("resources/read", { uri: tool._meta.ui.resourceUri })).contents[0];
}
"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,">{head}
<style>:root {{ color-scheme: {theme}; }}
  body {{ margin: 0; padding: 16px 20px; font: 13px system-ui, sans-serif; background: {background}; color: {color}; }}
  h1 {{ font-size: 13px; font-weight: 500; margin: 0 0 10px; opacity: .7; }}</style>
</head><body><h1>{title}</h1><div id="chat"></div>
<script type="module">{common}{script}</script></body></html>
"""

MCP_APPS_HOST = """
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
const content = await widget();
const [frame, html] = sandboxed(content);
const context = { theme: theme, displayMode: "inline", locale: "es-ES", platform: "web" };
const bridge = new AppBridge(null, { name: "scaffold-test-host", version: "1.0.0" },
                             { serverTools: {}, openLinks: {}, message: { text: {} } }, { hostContext: context });
bridge.oncalltool = (params) => rpc("tools/call", params);
bridge.onmessage = async (params) => { window.hostLog.push(["ui/message", params]); return {}; };
bridge.onsizechange = (params) => {
  window.hostLog.push(["size", params]);
  if (params.height) frame.style.height = params.height + "px";
};
bridge.oninitialized = async () => {
  window.hostLog.push(["initialized", bridge.getAppVersion(), bridge.getAppCapabilities()]);
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(await rpc("tools/call", { name: "sumar", arguments: args }));
  window.hostLog.push(["result sent"]);
};
await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
frame.srcdoc = html;
"""

OPENAI_HOST = """
// A host with ChatGPT's window.openai and no MCP Apps bridge: it ignores ui/initialize.
const content = await widget();
const globals = JSON.stringify({ toolInput: args, toolOutput: null, theme: theme, locale: "es-ES" });
const shim = "<script>(function () {" +
  "const calls = {}; let next = 0;" +
  "window.openai = Object.assign(" + globals + ", {" +
  "  callTool(name, args) { const id = ++next; parent.postMessage({ openaiCall: { id, name, args } }, '*');" +
  "    return new Promise((resolve) => { calls[id] = resolve; }); }," +
  "  sendFollowUpMessage(message) { parent.postMessage({ openaiFollowUp: message }, '*');" +
  "    return Promise.resolve(); } });" +
  "addEventListener('message', (event) => { const data = event.data || {};" +
  "  if (data.openaiReturn) calls[data.openaiReturn.id](data.openaiReturn.result);" +
  "  if (data.setGlobals) { Object.assign(window.openai, data.setGlobals);" +
  "    dispatchEvent(new CustomEvent('openai:set_globals', { detail: { globals: data.setGlobals } })); } });" +
  "})();</scr" + "ipt>";
const [frame, html] = sandboxed(content, shim);
addEventListener("message", async (event) => {
  if (event.source !== frame.contentWindow) return;
  const data = event.data || {};
  if (data.jsonrpc) { window.hostLog.push(["ignored", data.method]); return; }
  if (data.openaiFollowUp) window.hostLog.push(["follow-up", data.openaiFollowUp]);
  if (data.openaiCall) {
    const result = await rpc("tools/call", { name: data.openaiCall.name, arguments: data.openaiCall.args });
    frame.contentWindow.postMessage({ openaiReturn: { id: data.openaiCall.id, result: result } }, "*");
  }
});
frame.addEventListener("load", async () => {
  const result = await rpc("tools/call", { name: "sumar", arguments: args });  // the model's call, answered later
  frame.contentWindow.postMessage({ setGlobals: { toolOutput: result.structuredContent } }, "*");
  window.hostLog.push(["set_globals sent"]);
});
frame.srcdoc = html;
"""


def resolve(specifier: str) -> Path:
    """Where a bare import lives in node_modules, by its package.json exports (browser, import)."""
    parts = specifier.split("/")
    size = 2 if specifier.startswith("@") else 1
    package, sub = NODE_MODULES.joinpath(*parts[:size]), "/".join(parts[size:])
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    exports = meta.get("exports")
    if isinstance(exports, (str, list)) or (isinstance(exports, dict) and not any(k.startswith(".") for k in exports)):
        exports = {".": exports}
    target = (exports or {}).get(f"./{sub}" if sub else ".")
    while isinstance(target, dict):
        target = next((target[c] for c in ("browser", "import", "default") if c in target), None)
    if isinstance(target, str):
        return package / target
    return package / (sub or meta.get("module") or meta.get("main") or "index.js")


def import_map(root: Path) -> str:
    imports = {spec: "/" + resolve(spec).relative_to(root).as_posix() for spec in BARE_IMPORTS}
    return json.dumps({"imports": imports}, indent=1)


class StaticFiles(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                                                ".mjs": "text/javascript"}

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def server(project):
    with LocalServer(project) as running:
        yield running


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    """A static server for the host pages (and node_modules, for the official bridge)."""
    root = tmp_path_factory.mktemp("hosts")
    if NODE_MODULES.is_dir():
        (root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    for name, title, script, head in (
            ("mcp-apps-host.html", "MCP Apps host: @modelcontextprotocol/ext-apps AppBridge", MCP_APPS_HOST,
             f'<script type="importmap">{import_map(NODE_MODULES.parent) if EXT_APPS.is_file() else "{}"}</script>'),
            ("openai-host.html", "ChatGPT-style host: window.openai only", OPENAI_HOST, "")):
        for theme, background, color in (("light", "#f4f4f4", "#222"), ("dark", "#0f0f0f", "#ddd")):
            (root / f"{theme}-{name}").write_text(PAGE.format(title=title, head=head, common=HOST_COMMON,
                                                              script=script, theme=theme, background=background,
                                                              color=color), encoding="utf-8")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticFiles, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page that records its own errors and those of its frames."""
    context = browser.new_context(viewport={"width": 520, "height": 260}, device_scale_factor=2)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    yield page
    context.close()


def open_host(page, hosts: str, server, name: str, theme: str = "light", args: dict = SUM):
    query = urlencode({"server": server.base, "theme": theme, "args": json.dumps(args)})
    page.goto(f"{hosts}/{theme}-{name}?{query}")
    frame = page.frame_locator("iframe")
    sync_api.expect(frame.locator("#resultado")).to_have_text("5", timeout=10_000)
    return frame, page.main_frame.child_frames[0]


def card_background(frame) -> str:
    return frame.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")


def keep(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    return shot


@pytest.mark.skipif(not EXT_APPS.is_file(), reason=f"@modelcontextprotocol/ext-apps is not installed in {NODE_MODULES} "
                    "(.ci/run installs it)")
def test_the_widget_renders_through_the_official_mcp_apps_bridge(page, hosts, server, tmp_path):
    frame, inner = open_host(page, hosts, server, "mcp-apps-host.html")
    assert (frame.locator("#numero1").text_content(), frame.locator("#numero2").text_content()) == ("2", "3")
    assert frame.locator("#nota").text_content() == ""
    shutil.copy(keep(page, tmp_path, "widget-mcp-apps-light.png"), "/tmp/widget.png")
    assert inner.evaluate("document.documentElement.dataset.theme") == "light" and card_background(inner) == LIGHT
    # The widget calls a tool and posts a message through the bridge; the host reports its size.
    called = inner.evaluate("McpApp.connect().callTool('sumar', {numero1: 40, numero2: 2})")
    assert called["structuredContent"] == {"resultado": 42} and called["isError"] is False
    inner.evaluate("McpApp.connect().sendMessage('¿Y 40 + 2?')")
    page.wait_for_function("window.hostLog.some((entry) => entry[0] === 'ui/message')")
    log = page.evaluate("window.hostLog")
    assert ["initialized", {"name": "sumar-widget", "version": "1.0.0"}, {}] in log
    assert ["ui/message", {"role": "user", "content": [{"type": "text", "text": "¿Y 40 + 2?"}]}] in log
    sizes = [entry[1]["height"] for entry in log if entry[0] == "size"]
    assert sizes and 60 < sizes[-1] < 200
    assert inner.evaluate("McpApp.connect().host") == "mcp-apps"
    assert not page.errors, page.errors


@pytest.mark.skipif(not EXT_APPS.is_file(), reason=f"@modelcontextprotocol/ext-apps is not installed in {NODE_MODULES}")
def test_the_widget_follows_the_host_s_dark_theme(page, hosts, server, tmp_path):
    _, inner = open_host(page, hosts, server, "mcp-apps-host.html", theme="dark")
    assert inner.evaluate("document.documentElement.dataset.theme") == "dark" and card_background(inner) == DARK
    keep(page, tmp_path, "widget-mcp-apps-dark.png")
    assert not page.errors, page.errors


def test_the_widget_falls_back_to_window_openai(page, hosts, server, tmp_path):
    frame, inner = open_host(page, hosts, server, "openai-host.html")
    assert frame.locator("#numero1").text_content() == "2"  # from window.openai.toolInput at load
    keep(page, tmp_path, "widget-openai.png")
    log = page.evaluate("window.hostLog")
    assert ["set_globals sent"] in log and ["ignored", "ui/initialize"] in log
    called = inner.evaluate("McpApp.connect().callTool('sumar', {numero1: 0.5, numero2: 0.25})")
    assert called["structuredContent"] == {"resultado": 0.75}
    assert inner.evaluate("McpApp.connect().host") == "openai"
    assert card_background(inner) == LIGHT
    assert not page.errors, page.errors


def test_the_widget_takes_the_dark_theme_from_window_openai(page, hosts, server):
    _, inner = open_host(page, hosts, server, "openai-host.html", theme="dark")
    assert card_background(inner) == DARK
    assert not page.errors, page.errors


def test_the_local_preview_renders_the_widget_from_its_form(page, server, tmp_path):
    page.set_viewport_size({"width": 1100, "height": 760})
    page.goto(f"{server.base}/_preview")
    page.fill("#arg-numero1", "2")
    page.fill("#arg-numero2", "3")
    page.click("form button")
    frame = page.frame_locator("iframe")
    sync_api.expect(frame.locator("#resultado")).to_have_text("5", timeout=10_000)
    sync_api.expect(page.locator("#log")).to_contain_text("ui/notifications/size-changed")
    keep(page, tmp_path, "preview.png")
    page.select_option("#theme", "dark")
    inner = page.main_frame.child_frames[0]
    page.wait_for_function("document.documentElement.dataset.theme === 'dark'")
    sync_api.expect(frame.locator(".card")).to_have_css("background-color", DARK)
    assert inner.evaluate("McpApp.connect().context.theme") == "dark"
    assert not page.errors, page.errors


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_opened_on_its_own_the_widget_waits_harmlessly_and_follows_the_system_theme(browser, project, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((project / "widgets" / "sumar.html").as_uri())
    sync_api.expect(page.locator("#nota")).to_contain_text("ChatGPT")
    assert page.locator("#resultado").text_content() == "–"
    assert page.evaluate("McpApp.connect().host") == "none"
    assert card_background(page) == (DARK if scheme == "dark" else LIGHT)
    assert not errors, errors
    context.close()


# -- the preview page under auth (issue 16, section 2) ---------------------------------------------
@pytest.fixture(scope="module")
def oauth_server(tmp_path_factory):
    with LocalServer(bake(tmp_path_factory.mktemp("browser-oauth"), auth="oauth")) as running:
        yield running


@pytest.fixture(scope="module")
def api_key_project(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("browser-api-key"), auth="api_key")


def call_sumar_in_the_preview(page) -> None:
    page.fill("#arg-numero1", "2")
    page.fill("#arg-numero2", "3")
    page.click("#form button")
    sync_api.expect(page.frame_locator("iframe").locator("#resultado")).to_have_text("5", timeout=10_000)


def script_errors(page) -> list[str]:
    """The page's errors but the console's notes of refused requests (the 401 that asks to sign in)."""
    return [e for e in page.errors if not e.startswith("Failed to load resource")]


def test_the_preview_signs_in_locally_and_calls_as_that_user(page, oauth_server, tmp_path):
    missing = []
    page.on("response", lambda r: r.status == 404 and missing.append(r.url))
    page.set_viewport_size({"width": 1100, "height": 760})
    page.goto(f"{oauth_server.base}/_preview?tool=sumar")
    sync_api.expect(page.locator("#status")).to_have_text("Sign in to call the tools.")
    page.click("#signin-oauth")
    page.wait_for_url("**/oauth/authorize?**")  # the facade's consent page, as deployed
    page.click("button:has-text('Allow')")
    page.wait_for_url("**/_oidc/authorize**")  # the development provider's sign-in form
    page.fill("input[name=username]", "alice")
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/_preview?tool=sumar")
    sync_api.expect(page.locator("#who")).to_have_text("Calling as alice.")
    call_sumar_in_the_preview(page)
    keep(page, tmp_path, "preview-oauth.png")
    assert "code=" not in page.url
    page.click("#signout")
    sync_api.expect(page.locator("#signin-oauth")).to_be_visible()
    assert not script_errors(page), page.errors
    assert all(url.endswith("/favicon.ico") for url in missing), missing


def test_the_preview_takes_an_api_key(page, api_key_project):
    made = subprocess.run([sys.executable, "-m", "plugin_tools.keys", "new", "preview"], cwd=api_key_project,
                          capture_output=True, text=True, timeout=30)
    key = re.search(r"pk_[A-Za-z0-9_-]+", made.stdout + made.stderr).group()
    with LocalServer(api_key_project) as server:
        page.set_viewport_size({"width": 1100, "height": 760})
        page.goto(f"{server.base}/_preview")
        page.fill("#api-key", "pk_wrong")
        page.click("#use-key")
        sync_api.expect(page.locator("#status")).to_have_text("Enter an API key to call the tools.")  # refused
        page.fill("#api-key", key)
        page.click("#use-key")
        sync_api.expect(page.locator("#who")).to_have_text("Calling with an API key.")
        call_sumar_in_the_preview(page)
    assert not script_errors(page), page.errors
