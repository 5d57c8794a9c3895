"""Widgets, resources and prompts over POST /mcp (MCP Apps), in both eras of the protocol.

The protocol tests talk to ``tests/probe.py`` (a widget of its own in tests/widgets/, a JSON
resource, a URI template, a file and two prompts); the tests of handler.py's own widgets work over
whatever operations it defines, and those of the example widget are named test_sumar_*.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import zlib
from typing import TypedDict

import pytest
from conftest import PROJECT, caller, example, project_plugin
from test_mcp import MODERN, error_of, mcp_event, modern_event, result_of, rpc

from plugin_runtime import Plugin, Widget
from plugin_runtime.model_schema import SchemaError
from plugin_tools.lint_apps import check_widget_file

WIDGET_MIME = "text/html;profile=mcp-app"
WIDGET_URI = re.compile(r"ui://widget/sumar-[0-9a-f]{8}\.html")
HANDSHAKE = "2025-11-25"


@pytest.fixture
def call():
    """The protocol probe (tests/probe.py)."""
    import probe

    return caller(probe.plugin.lambda_handler)


@pytest.fixture
def probe():
    import probe

    return probe.plugin


def ask(call, method: str, params: dict | None = None, version: str = HANDSHAKE) -> tuple[int, dict]:
    """One request in the handshake era (``version``) or at 2026-07-28 (``MODERN``)."""
    if version == MODERN:
        name = (params or {}).get("uri" if method == "resources/read" else "name")
        headers = {"mcp-name": name} if isinstance(name, str) else None
        status, _, body = call(modern_event(method, params, headers=headers))
    else:
        status, _, body = call(mcp_event(rpc(method, params), version))
    return status, body


def widget_uri(call) -> str:
    status, body = ask(call, "tools/list")
    return result_of(status, body)["tools"][0]["_meta"]["ui"]["resourceUri"]



@pytest.fixture(autouse=True)
def _open_plugins(request, monkeypatch):
    """The plugins these tests build themselves are open (auth = none), whatever terraform.tfvars
    says: their _meta is about widgets; tests/test_auth.py and the template's OAuth tests cover auth."""
    if "call" not in request.fixturenames:
        monkeypatch.setenv("PLUGIN_AUTH", "none")

# -- the tool points at its widget ----------------------------------------------------------------
def test_the_tool_names_its_widget_with_both_sets_of_keys(call):
    status, body = ask(call, "tools/list")
    (tool,) = result_of(status, body)["tools"]
    meta = {k: v for k, v in tool["_meta"].items() if k != "securitySchemes"}  # auth = oauth adds the scopes
    uri = meta["ui"]["resourceUri"]
    assert WIDGET_URI.fullmatch(uri)
    assert meta == {"ui": {"resourceUri": uri, "visibility": ["model", "app"]}, "ui/resourceUri": uri,
                    "openai/outputTemplate": uri, "openai/widgetAccessible": True,
                    "openai/toolInvocation/invoking": "Sumando…", "openai/toolInvocation/invoked": "Suma lista"}


def test_2025_03_26_tools_carry_no_meta(call):
    status, body = ask(call, "tools/list", version="2025-03-26")
    assert "_meta" not in result_of(status, body)["tools"][0]


def test_the_widget_uri_is_a_hash_of_what_is_served(call):
    uri = widget_uri(call)
    status, body = ask(call, "resources/read", {"uri": uri})
    html = result_of(status, body)["contents"][0]["text"]
    assert uri == f"ui://widget/sumar-{zlib.crc32(html.encode('utf-8')):08x}.html"


def test_an_edited_widget_gets_a_new_uri(tmp_path):
    def served_uri(text: str) -> str:
        folder = tmp_path / text
        folder.mkdir(exist_ok=True)
        (folder / "card.html").write_text(f"<!doctype html><html><head></head><body>{text}</body></html>")
        plugin = Plugin(root=str(PROJECT))
        plugin.widgets_dir = str(folder)

        @plugin.operation(widget="card")
        def mostrar(x: int) -> int:
            return x

        return plugin.widget_for(plugin.operations["mostrar"]).uri

    first, second = served_uri("uno"), served_uri("dos")
    assert first != second and first.startswith("ui://widget/card-") and served_uri("uno") == first


def test_tool_results_keep_text_and_structured_content(call):
    status, body = ask(call, "tools/call", {"name": "sumar", "arguments": {"numero1": 2, "numero2": 3}})
    result = result_of(status, body)
    assert result["structuredContent"] == {"resultado": 5}
    assert json.loads(result["content"][0]["text"]) == {"resultado": 5}


def test_default_status_texts_and_opting_out():
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(PROJECT / "tests" / "widgets")

    @plugin.operation(widget=False)
    def sumar(a: int) -> int:  # widgets/sumar.html exists, but widget=False
        return a

    @plugin.operation(invoked="x" * 80)
    def contar(a: int) -> int:
        return a

    status, _, body = caller(plugin.lambda_handler)(mcp_event(rpc("tools/list"), HANDSHAKE))
    tools = {t["name"]: t for t in result_of(status, body)["tools"]}
    assert "_meta" not in tools["sumar"]
    assert tools["contar"]["_meta"] == {"openai/toolInvocation/invoking": "Running contar…",
                                        "openai/toolInvocation/invoked": "x" * 63 + "…"}


# -- resources/list, resources/templates/list ---------------------------------------------------------
@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18", HANDSHAKE, MODERN])
def test_resources_list(call, version):
    status, body = ask(call, "resources/list", version=version)
    result = result_of(status, body)
    widget, ejemplos, logo = result["resources"]
    assert WIDGET_URI.fullmatch(widget["uri"]) and widget["mimeType"] == WIDGET_MIME and widget["name"] == "sumar"
    assert ejemplos == {"uri": "data://probe/ejemplos", "name": "ejemplos", "mimeType": "application/json",
                        "description": "Sumas de ejemplo.\n\nThree sums and their results, as JSON.",
                        **({"title": "Sumas de ejemplo"} if version != "2025-03-26" else {})}
    assert logo["uri"] == "file://probe/logo.png" and logo["mimeType"] == "image/png"
    assert ("_meta" in widget) == ("title" in logo) == (version != "2025-03-26")
    if version == MODERN:
        assert result["resultType"] == "complete" and result["cacheScope"] == "public" and result["ttlMs"] > 0
    else:
        assert "ttlMs" not in result and "resultType" not in result


@pytest.mark.parametrize("version", [HANDSHAKE, MODERN])
def test_resource_templates_list(call, version):
    status, body = ask(call, "resources/templates/list", version=version)
    result = result_of(status, body)
    assert result["resourceTemplates"] == [{"uriTemplate": "data://probe/notas/{numero}", "name": "nota",
                                            "title": "Una nota sobre un número entero",
                                            "description": "Una nota sobre un número entero.",
                                            "mimeType": "text/markdown"}]
    assert (version == MODERN) == ("ttlMs" in result and "cacheScope" in result)


def test_a_list_cursor_it_never_issued_is_invalid_params(call):
    status, body = ask(call, "resources/list", {"cursor": "abc"})
    assert status == 200 and error_of(body)["code"] == -32602


# -- resources/read ------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2025-06-18", HANDSHAKE, MODERN])
def test_the_widget_is_read_as_an_mcp_app(call, version):
    uri = widget_uri(call)
    status, body = ask(call, "resources/read", {"uri": uri}, version)
    result = result_of(status, body)
    (content,) = result["contents"]
    assert content["uri"] == uri and content["mimeType"] == WIDGET_MIME
    assert content["text"].startswith("<!doctype html>") and 'id="resultado"' in content["text"]
    origin = "https://abc123defg.execute-api.us-east-1.amazonaws.com"  # the events' host: ChatGPT's widgetDomain
    assert content["_meta"] == {
        "ui": {"csp": {"connectDomains": [], "resourceDomains": []}, "prefersBorder": True, "domain": origin},
        "openai/widgetCSP": {"connect_domains": [], "resource_domains": []},
        "openai/widgetPrefersBorder": True, "openai/widgetDescription": "Suma dos números y devuelve el resultado.",
        "openai/widgetDomain": origin}
    if version == MODERN:
        assert result["resultType"] == "complete" and result["ttlMs"] > 0 and result["cacheScope"] == "public"


def test_an_earlier_version_of_the_widget_still_reads(call):
    current = widget_uri(call)
    stale = "ui://widget/sumar-0badc0de.html"
    status, body = ask(call, "resources/read", {"uri": stale})
    (content,) = result_of(status, body)["contents"]
    assert content["uri"] == stale
    status, body = ask(call, "resources/read", {"uri": current})
    assert content["text"] == result_of(status, body)["contents"][0]["text"]


@pytest.mark.parametrize("version", ["2025-03-26", HANDSHAKE, MODERN])
def test_a_widget_shared_by_several_tools_is_listed_once(tmp_path, version):
    (tmp_path / "tabla.html").write_text("<!doctype html><html><head></head><body></body></html>")
    (tmp_path / "otra.html").write_text("<!doctype html><html><head></head><body>2</body></html>")
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(tmp_path)
    for name, widget in (("listar", "tabla"), ("buscar", "tabla"), ("ver", "otra")):
        plugin.operation(widget=widget)(_named_identity(name))
    call = caller(plugin.lambda_handler)
    tools = result_of(*ask(call, "tools/list", version=MODERN))["tools"]
    uris = {t["name"]: t["_meta"]["ui"]["resourceUri"] for t in tools}
    assert uris["listar"] == uris["buscar"] != uris["ver"]
    listed = [r["uri"] for r in result_of(*ask(call, "resources/list", version=version))["resources"]]
    assert listed == [uris["listar"], uris["ver"]]
    for uri in listed:
        (content,) = result_of(*ask(call, "resources/read", {"uri": uri}, version=version))["contents"]
        assert content["uri"] == uri


def _named_identity(name: str):
    def identity(a: int) -> int:
        return a

    identity.__name__ = identity.__qualname__ = name
    return identity


def test_widget_options_reach_the_metadata(tmp_path):
    (tmp_path / "mapa.html").write_text("<!doctype html><html><head></head><body></body></html>")
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(tmp_path)

    @plugin.operation(widget=Widget("mapa", description="Un mapa.", connect_domains=["https://api.example"],
                                    resource_domains=["https://cdn.example"], frame_domains=["https://maps.example"],
                                    domain="https://mapa.example", prefers_border=False))
    def ubicar(lugar: str) -> str:
        return lugar

    uri = plugin.widget_for(plugin.operations["ubicar"]).uri
    status, body = ask(caller(plugin.lambda_handler), "resources/read", {"uri": uri})
    meta = result_of(status, body)["contents"][0]["_meta"]
    assert meta == {"ui": {"csp": {"connectDomains": ["https://api.example"], "resourceDomains": ["https://cdn.example"],
                                   "frameDomains": ["https://maps.example"]},
                           "prefersBorder": False, "domain": "https://mapa.example"},
                    "openai/widgetCSP": {"connect_domains": ["https://api.example"],
                                         "resource_domains": ["https://cdn.example"],
                                         "frame_domains": ["https://maps.example"]},
                    "openai/widgetPrefersBorder": False, "openai/widgetDescription": "Un mapa.",
                    "openai/widgetDomain": "https://mapa.example"}


@pytest.mark.parametrize("version", [HANDSHAKE, MODERN])
def test_a_json_resource_from_a_typed_function(call, version):
    status, body = ask(call, "resources/read", {"uri": "data://probe/ejemplos"}, version)
    result = result_of(status, body)
    (content,) = result["contents"]
    assert content["mimeType"] == "application/json"
    assert json.loads(content["text"])[0] == {"numero1": 2, "numero2": 3, "resultado": 5}
    if version == MODERN:
        assert result["ttlMs"] == 0 and result["cacheScope"] == "public"  # computed on every read


def test_a_template_fills_the_function_s_parameters(call):
    status, body = ask(call, "resources/read", {"uri": "data://probe/notas/21"})
    (content,) = result_of(status, body)["contents"]
    assert content == {"uri": "data://probe/notas/21", "mimeType": "text/markdown",
                       "text": "# 21\n\nEl doble de 21 es 42."}


def test_a_file_resource_is_a_blob(call):
    status, body = ask(call, "resources/read", {"uri": "file://probe/logo.png"}, MODERN)
    result = result_of(status, body)
    (content,) = result["contents"]
    assert content["mimeType"] == "image/png"
    assert base64.b64decode(content["blob"]) == (PROJECT / "logo.png").read_bytes()
    assert result["ttlMs"] > 0


@pytest.mark.parametrize(("version", "status", "code"), [
    ("2025-03-26", 200, -32002), ("2025-06-18", 200, -32002), (HANDSHAKE, 200, -32002), (MODERN, 400, -32602)])
@pytest.mark.parametrize(("uri", "why"), [
    ("data://probe/nada", "resources/list"),
    ("ui://widget/otro-12345678.html", "resources/list"),
    ("ui://widget/sumar-xyz.html", "resources/list"),
    ("data://probe/notas/dos", "numero must be an integer"),
    ("data://probe/notas/-1", "no hay notas de números negativos"),
])
def test_an_unknown_resource_is_the_error_of_its_era(call, version, status, code, uri, why):
    got, body = ask(call, "resources/read", {"uri": uri}, version)
    error = error_of(body)
    assert (got, error["code"], error["data"]) == (status, code, {"uri": uri})
    assert why in error["message"]


@pytest.mark.parametrize("params", [{}, {"uri": 7}, {"uri": ""}])
def test_resources_read_needs_a_uri(call, params):
    status, body = ask(call, "resources/read", params)
    assert status == 200 and error_of(body)["code"] == -32602


@pytest.mark.parametrize(("label", "headers"), [
    ("Mcp-Name missing", {"mcp-name": ""}),
    ("Mcp-Name names another resource", {"mcp-name": "data://probe/nada"}),
    ("Mcp-Method says another method", {"mcp-method": "resources/list"}),
])
def test_a_2026_read_must_name_its_uri_in_the_headers(call, label, headers):
    event = modern_event("resources/read", {"uri": "data://probe/ejemplos"},
                         headers={"mcp-name": "data://probe/ejemplos", **headers})
    if headers.get("mcp-name") == "":
        del event["headers"]["mcp-name"]
    status, _, body = call(event)
    assert status == 400 and error_of(body)["code"] == -32020, label


def test_a_2026_read_accepts_whitespace_around_the_mcp_name(call):
    status, _, body = call(modern_event("resources/read", {"uri": "data://probe/ejemplos"},
                                        headers={"mcp-name": "  data://probe/ejemplos \t"}))
    assert result_of(status, body)["contents"][0]["uri"] == "data://probe/ejemplos"


def test_a_2026_read_of_a_non_ascii_uri_takes_a_base64_name(call):
    uri = "data://probe/notas/٣"  # not ASCII, so it travels base64-wrapped; and not an int for `numero`
    wrapped = "=?base64?" + base64.b64encode(uri.encode()).decode() + "?="
    status, _, body = call(modern_event("resources/read", {"uri": uri}, headers={"mcp-name": wrapped}))
    assert status == 400 and error_of(body)["code"] == -32602 and error_of(body)["data"] == {"uri": uri}


def test_a_resource_read_in_the_2026_shape_under_a_handshake_header_is_a_mismatch(call):
    event = modern_event("resources/read", {"uri": "data://probe/ejemplos"},
                         headers={"mcp-name": "data://probe/ejemplos", "mcp-protocol-version": HANDSHAKE})
    status, _, body = call(event)
    assert status == 200 and "result" in body  # a handshake-era request: the _meta envelope is ignored
    event["headers"]["mcp-protocol-version"] = "2025-13-01"
    status, _, body = call(event)
    assert status == 400 and error_of(body)["code"] == -32022


# -- prompts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2025-03-26", HANDSHAKE, MODERN])
def test_prompts_list(call, version):
    status, body = ask(call, "prompts/list", version=version)
    result = result_of(status, body)
    explicar, revisar = result["prompts"]
    assert explicar == {"name": "explicar_suma", "description": "Pide que se explique una suma.",
                        **({"title": "Pide que se explique una suma"} if version != "2025-03-26" else {}),
                        "arguments": [{"name": "numero1", "description": "El primer sumando.", "required": True},
                                      {"name": "numero2", "description": "El segundo sumando.", "required": False},
                                      {"name": "detalle", "description": "Cuánto detalle dar.", "required": False}]}
    assert revisar["name"] == "revisar" and revisar["arguments"] == [{"name": "resultado", "required": True}]
    assert revisar.get("title", "Revisar una suma") == "Revisar una suma"
    assert (version == MODERN) == ("ttlMs" in result and result.get("resultType") == "complete")


@pytest.mark.parametrize("version", [HANDSHAKE, MODERN])
@pytest.mark.parametrize(("arguments", "text"), [
    ({"numero1": "2", "numero2": "3"}, "Explica de forma breve cuánto es 2 + 3"),
    ({"numero1": "2.5"}, "cuánto es 2.5 + 0"),
    ({"numero1": 7, "numero2": -1, "detalle": "completo"}, "Explica de forma completo cuánto es 7 + -1"),
])
def test_prompts_get_fills_the_typed_arguments(call, version, arguments, text):
    status, body = ask(call, "prompts/get", {"name": "explicar_suma", "arguments": arguments}, version)
    result = result_of(status, body)
    assert result["description"] == "Pide que se explique una suma."
    (message,) = result["messages"]
    assert message["role"] == "user" and message["content"]["type"] == "text"
    assert text in message["content"]["text"]
    assert (version == MODERN) == (result.get("resultType") == "complete")


def test_a_prompt_may_return_several_messages(call):
    status, body = ask(call, "prompts/get", {"name": "revisar", "arguments": {"resultado": "5"}})
    assert result_of(status, body)["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "¿Es 5 correcto?"}},
        {"role": "assistant", "content": {"type": "text", "text": "Lo compruebo."}}]


@pytest.mark.parametrize(("version", "status"), [(HANDSHAKE, 200), (MODERN, 400)])
@pytest.mark.parametrize(("params", "fragment"), [
    ({"name": "explicar"}, "Unknown prompt: 'explicar'"),
    ({"name": 5}, "params.name"),
    ({}, "params.name"),
    ({"name": "explicar_suma", "arguments": {}}, "numero1 is required"),
    ({"name": "explicar_suma", "arguments": {"numero1": "dos"}}, "numero1 must be a number, not 'dos'"),
    ({"name": "explicar_suma", "arguments": {"numero1": True}}, "numero1 must be a number"),
    ({"name": "explicar_suma", "arguments": {"numero1": "1", "detalle": "largo"}}, 'detalle must be one of'),
    ({"name": "explicar_suma", "arguments": {"numero1": "1", "numero3": "2"}}, "unexpected argument numero3"),
    ({"name": "explicar_suma", "arguments": ["1"]}, "params.arguments must be an object"),
])
def test_bad_prompt_requests_are_invalid_params(call, version, status, params, fragment):
    got, body = ask(call, "prompts/get", params, version)
    error = error_of(body)
    if version == MODERN and "name" in params and not isinstance(params["name"], str):
        assert (got, error["code"]) == (400, -32020)  # no Mcp-Name header can carry a number: a mismatch
        return
    assert (got, error["code"]) == (status, -32602)
    assert fragment in error["message"]


# -- what goes wrong inside a resource or a prompt, and servers without them -----------------------
class Answer(TypedDict):
    value: int


@pytest.fixture
def broken(tmp_path):
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(tmp_path)  # no widgets

    @plugin.resource("data://broken/crash")
    def crash() -> str:
        raise RuntimeError("secret internal detail")

    @plugin.resource("data://broken/lie")
    def lie() -> Answer:
        return {"value": "not a number"}  # type: ignore[typeddict-item]

    plugin.resource("data://broken/missing", file="no-such-file.txt")

    @plugin.prompt
    def romper() -> str:
        """Always fails."""
        raise RuntimeError("secret internal detail")

    @plugin.prompt
    def raro() -> list:
        """Returns something that is not a message."""
        return [42]

    return caller(plugin.lambda_handler)


@pytest.mark.parametrize(("method", "params"), [
    ("resources/read", {"uri": "data://broken/crash"}), ("resources/read", {"uri": "data://broken/lie"}),
    ("resources/read", {"uri": "data://broken/missing"}), ("prompts/get", {"name": "romper"}),
    ("prompts/get", {"name": "raro"})])
def test_a_failing_resource_or_prompt_is_an_internal_error_without_details(broken, capsys, method, params):
    status, body = ask(broken, method, params)
    error = error_of(body)
    assert status == 200 and error["code"] == -32603 and "logs" in error["message"]
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert "Traceback" in capsys.readouterr().err  # the owner still gets it


def test_an_unreadable_widget_leaves_its_tool_working_without_one(tmp_path, capsys):
    (tmp_path / "roto.html").write_bytes(b"<!doctype html><html><body>\xff</body></html>")  # not UTF-8
    (tmp_path / "sano.html").write_text("<!doctype html><html><head></head><body>ok</body></html>")
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(tmp_path)

    @plugin.operation
    def roto(x: int) -> int:
        return x

    @plugin.operation
    def sano(x: int) -> int:
        return x

    call = caller(plugin.lambda_handler)
    status, body = ask(call, "tools/list")
    tools = {t["name"]: t for t in result_of(status, body)["tools"]}
    assert "_meta" not in tools["roto"] and tools["sano"]["_meta"]["ui"]["resourceUri"].startswith("ui://")
    logged = capsys.readouterr()
    assert "roto.html of roto cannot be served" in logged.out + logged.err
    status, body = ask(call, "resources/list")
    assert [r["name"] for r in result_of(status, body)["resources"]] == ["sano"]
    status, body = ask(call, "resources/read", {"uri": tools["sano"]["_meta"]["ui"]["resourceUri"]})
    assert result_of(status, body)["contents"][0]["text"].endswith("ok</body></html>")
    status, body = ask(call, "resources/read", {"uri": "ui://widget/roto-12345678.html"})
    assert error_of(body)["code"] == -32002
    status, body = ask(call, "tools/call", {"name": "roto", "arguments": {"x": 1}})
    assert result_of(status, body)["structuredContent"] == {"result": 1}


@pytest.mark.parametrize("method", ["resources/list", "resources/read", "resources/templates/list", "prompts/list",
                                    "prompts/get"])
def test_a_server_without_resources_or_prompts_does_not_offer_them(tmp_path, method):
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(tmp_path)

    @plugin.operation
    def doblar(x: int) -> int:
        return 2 * x

    bare = caller(plugin.lambda_handler)
    status, body = ask(bare, method, {"uri": "data://x", "name": "x"})
    assert status == 200 and error_of(body)["code"] == -32601
    status, body = ask(bare, "initialize", {"protocolVersion": HANDSHAKE, "capabilities": {}})
    assert result_of(status, body)["capabilities"] == {"tools": {"listChanged": False}}


# -- declaration mistakes fail at import, with a reason ------------------------------------------------
def _declare(source: str, tmp_path) -> None:
    plugin = Plugin(root=str(PROJECT))
    plugin.widgets_dir = str(tmp_path)
    exec(source, {"plugin": plugin, "Answer": Answer})


@pytest.mark.parametrize(("source", "fragment"), [
    ("plugin.resource('no scheme', file='logo.png')", "must be an absolute URI"),
    ("plugin.resource('data://x')(lambda: 'x')", "return type hint"),
    ("plugin.resource('data://x', file='logo.png')\nplugin.resource('data://x', file='logo.png')", "defined twice"),
    ("plugin.resource('data://x/{a}', file='logo.png')", "needs a function"),
    ("def f(b: str) -> str: ...\nplugin.resource('data://x/{a}')(f)", "must be the function's parameters"),
    ("def f(a: list[int]) -> str: ...\nplugin.resource('data://x/{a}')(f)", "arrives as text"),
    ("def f(a: dict[str, int]) -> str: ...\nplugin.prompt(f)", "arrives as text"),
    ("def f(a: dict) -> str: ...\nplugin.prompt(f)", "prompt f: parameter 'a': a bare dict"),
    ("def f(a) -> str: ...\nplugin.prompt(f)", "needs a type hint"),
    ("def f(*a: str) -> str: ...\nplugin.prompt(f)", "*args"),
    ("def f(a: str | None) -> str: ...\nplugin.prompt(f)", "needs a default"),
    ("def f() -> str: ...\nplugin.prompt(f)\nplugin.prompt(f)", "defined twice"),
    ("def f(x: int) -> Answer: ...\nplugin.operation(widget='nope')(f)", "widgets/nope.html, which does not exist"),
    ("def f(x: int) -> Answer: ...\nplugin.operation(widget='../x')(f)", "must be 1-64 letters"),
    ("def f(x: int) -> Answer: ...\nplugin.operation(widget=3)(f)", "widget= takes"),
])
def test_declaration_mistakes_fail_at_import(tmp_path, source, fragment):
    with pytest.raises(SchemaError) as info:
        _declare(source, tmp_path)
    assert fragment in str(info.value)


# -- handler.py's own widgets ---------------------------------------------------------------------
def project_widgets() -> list:
    plugin = project_plugin()
    return [(op.name, plugin.widget_for(op)) for op in plugin.operations.values() if plugin.widget_for(op)]


@pytest.mark.parametrize(("name", "widget"), project_widgets() or [pytest.param(None, None, marks=pytest.mark.skip(
    reason="handler.py shows no widget"))])
def test_each_widget_of_handler_py_is_served_complete(handler, name, widget):
    status, body = ask(caller(handler), "resources/read", {"uri": widget.uri})
    (content,) = result_of(status, body)["contents"]
    assert content["mimeType"] == WIDGET_MIME and content["text"] == widget.html
    assert check_widget_file(PROJECT / "widgets" / f"{widget.name}.html", widget) == []
    assert not re.search(r"<script[^>]*\bsrc=[\"'](?!https?:)", content["text"]), "a local script was not inlined"


has_sumar_widget = pytest.mark.skipif(not (PROJECT / "widgets" / "sumar.html").is_file(),
                                      reason="widgets/sumar.html is gone")


@example
@has_sumar_widget
def test_sumar_widget_is_the_tool_s_output_template(handler):
    status, body = ask(caller(handler), "tools/list")
    (tool,) = [t for t in result_of(status, body)["tools"] if t["name"] == "sumar"]
    assert WIDGET_URI.fullmatch(tool["_meta"]["openai/outputTemplate"])
    status, body = ask(caller(handler), "resources/read", {"uri": tool["_meta"]["ui"]["resourceUri"]})
    html = result_of(status, body)["contents"][0]["text"]
    assert "McpApp" in html and 'id="resultado"' in html and len(html.encode()) < 32 * 1024


@example
@has_sumar_widget
def test_sumar_widget_changes_its_uri_when_its_script_is_edited(tmp_path):
    copy = tmp_path / "widgets"
    shutil.copytree(PROJECT / "widgets", copy)

    def uri() -> str:
        plugin = Plugin(root=str(PROJECT))
        plugin.widgets_dir = str(copy)

        @plugin.operation(read_only=True)
        def sumar(numero1: float, numero2: float) -> Answer:
            return {"value": 0}

        return plugin.widget_for(plugin.operations["sumar"]).uri

    before = uri()
    (copy / "mcp-app.js").write_text((copy / "mcp-app.js").read_text(encoding="utf-8") + "\n// edited\n")
    assert uri() != before  # the script is inlined, so an edited script is a new widget too
