"""`python3 -m plugin_tools.check` on a baked project: the clean default passes, and each rule
of spec-facts sections 1-3 fires on a copy of manifest.json / openapi.json broken on purpose,
naming the file and the JSON path. The build runs the same check and refuses to build on errors."""

from __future__ import annotations

import copy
import http.server
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from bake_support import bake, project_modules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("check"))


@pytest.fixture(scope="module")
def check(pristine) -> Iterator:
    """The baked project's plugin_tools.check module, imported from the bake."""
    with project_modules(pristine):
        import plugin_tools.check as module

        yield module


@pytest.fixture
def project(pristine, tmp_path) -> Path:
    copy_ = tmp_path / pristine.name
    shutil.copytree(pristine, copy_)
    return copy_


@pytest.fixture(scope="module")
def manifest(pristine) -> dict:
    return json.loads((pristine / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def openapi(pristine) -> dict:
    return json.loads((pristine / "openapi.json").read_text(encoding="utf-8"))


def run_check(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plugin_tools.check", *args], cwd=project,
                          capture_output=True, text=True, timeout=60, check=False)


def errors(findings) -> list[str]:
    return [f"{f.path}: {f.message}" for f in findings if f.level == "ERROR"]


def warnings(findings) -> list[str]:
    return [f"{f.path}: {f.message}" for f in findings if f.level == "WARNING"]


# -- the clean default -------------------------------------------------------------------------

def test_the_default_bake_is_clean(project):
    result = run_check(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok: no errors, 0 warning(s)"


def test_the_default_documents_are_clean_for_a_deployed_origin(check, manifest, openapi):
    deployed = copy.deepcopy(openapi)
    deployed["servers"][0]["url"] = "https://abc123.execute-api.us-east-1.amazonaws.com"
    served = {**manifest, "api": {"type": "openapi", "url": deployed["servers"][0]["url"] + "/openapi.json"},
              "logo_url": deployed["servers"][0]["url"] + "/logo.png"}
    origin = deployed["servers"][0]["url"]
    assert check.check_manifest(served, origin=origin) == []
    assert check.check_openapi(deployed, deployed=True, origin=origin) == []
    assert check.check_openapi(openapi, deployed=False) == []


# -- manifest rules (spec-facts section 1) -----------------------------------------------------

def _set(key: str, value: object) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        doc[key] = value
    return mutate


def _drop(key: str) -> Callable[[dict], None]:
    return lambda doc: doc.pop(key)


MANIFEST_CASES = {
    "schema_version": (_set("schema_version", "v2"), "$.schema_version", 'must be "v1"'),
    "name_for_human too long": (_set("name_for_human", "A" * 21), "$.name_for_human", "21 characters"),
    "name_for_human empty": (_set("name_for_human", ""), "$.name_for_human", "0 characters"),
    "name_for_model underscore": (_set("name_for_model", "sumar_plugin"), "$.name_for_model", "letters and digits"),
    "name_for_model space": (_set("name_for_model", "sumar plugin"), "$.name_for_model", "letters and digits"),
    "name_for_model too long": (_set("name_for_model", "a" * 51), "$.name_for_model", "51 characters"),
    "description_for_human too long": (_set("description_for_human", "x" * 101), "$.description_for_human",
                                       "101 characters"),
    "description_for_model too long": (_set("description_for_model", "x" * 8001), "$.description_for_model",
                                       "8001 characters"),
    "description_for_model missing": (_drop("description_for_model"), "$.description_for_model", "is missing"),
    "auth missing": (_drop("auth"), "$.auth", '{"type": "none"}'),
    "auth not an object": (_set("auth", "none"), "$.auth", "must be an object"),
    "auth unknown type": (_set("auth", {"type": "apikey"}), "$.auth.type", "must be one of"),
    "service_http without authorization_type": (
        _set("auth", {"type": "service_http", "verification_tokens": {"openai": "t"}}),
        "$.auth.authorization_type", '"bearer" or "basic"'),
    "service_http without tokens": (_set("auth", {"type": "service_http", "authorization_type": "bearer"}),
                                    "$.auth.verification_tokens", "is required"),
    "oauth without scope": (
        _set("auth", {"type": "oauth", "client_url": "https://a.example/c", "authorization_url": "https://a.example/t",
                      "authorization_content_type": "application/json", "verification_tokens": {"openai": "t"}}),
        "$.auth.scope", "is required for oauth"),
    "api type": (lambda d: d["api"].update(type="swagger"), "$.api.type", 'must be "openapi"'),
    "api url relative": (lambda d: d["api"].update(url="/openapi.json"), "$.api.url", "absolute"),
    "api url plain http on a remote host": (
        lambda d: (d["api"].update(url="http://api.example.com/openapi.json"),
                   d.update(logo_url="https://api.example.com/logo.png")),
        "$.api.url", "must use https://"),
    "logo on another host": (_set("logo_url", "https://cdn.example.org/logo.png"), "$.logo_url",
                             "serve both from the API's own host"),
    "logo is a GIF": (_set("logo_url", "http://localhost:8080/logo.gif"), "$.logo_url", "GIF"),
    "contact_email": (_set("contact_email", "support at example.com"), "$.contact_email", "not an email"),
    "legal_info_url": (_set("legal_info_url", "example.com/legal"), "$.legal_info_url", "absolute"),
    "not an object": (lambda d: d.clear() or d.update(x=1), None, None),
}


@pytest.mark.parametrize("case", [c for c in MANIFEST_CASES if c != "not an object"])
def test_each_manifest_rule_fires_alone(check, manifest, case):
    mutate, path, fragment = MANIFEST_CASES[case]
    doc = copy.deepcopy(manifest)
    mutate(doc)
    found = errors(check.check_manifest(doc))
    assert found, f"{case}: no error"
    assert all(line.startswith(path + ":") for line in found), found
    assert any(fragment in line for line in found), found


def test_a_manifest_that_is_not_an_object_is_one_error(check):
    found = check.check_manifest(["v1"])
    assert errors(found) == ["$: the manifest must be a JSON object, not an array"]


def test_unknown_manifest_fields_are_warnings(check, manifest):
    found = check.check_manifest({**manifest, "extra": 1})
    assert errors(found) == [] and warnings(found) == ["$.extra: is not a manifest field; consumers ignore it"]


def test_served_manifest_urls_must_be_on_the_origin(check, manifest):
    found = errors(check.check_manifest(manifest, origin="https://abc.execute-api.us-east-1.amazonaws.com"))
    assert any(line.startswith("$.api.url: is on localhost, not on abc.execute-api") for line in found), found
    assert any(line.startswith("$.logo_url: is on localhost") for line in found), found


# -- OpenAPI rules (spec-facts section 2) ------------------------------------------------------

OP = ("paths", "/sumar", "post")


def _op(doc: dict) -> dict:
    return doc["paths"]["/sumar"]["post"]


def _body(doc: dict) -> dict:
    return _op(doc)["requestBody"]["content"]["application/json"]["schema"]


def _add_param(param: dict) -> Callable[[dict], None]:
    return lambda doc: _op(doc).setdefault("parameters", []).append(param)


def _second_op(op_id: str) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        doc["paths"]["/restar"] = {"post": {**copy.deepcopy(_op(doc)), "operationId": op_id}}
    return mutate


def _secured(scheme: dict, drop_401: bool = False) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        doc["components"] = {"securitySchemes": {"apiKey": scheme}}
        doc["security"] = [{"apiKey": []}]
        responses = _op(doc)["responses"]
        if not drop_401:
            responses["401"] = copy.deepcopy(responses["400"])
    return mutate


OPENAPI_CASES = {
    "version 2.0": (lambda d: d.update(openapi="2.0"), "$.openapi", '"3.1.0" or "3.0.x"'),
    "version 3.2.0": (lambda d: d.update(openapi="3.2.0"), "$.openapi", '"3.1.0" or "3.0.x"'),
    "servers missing": (lambda d: d.pop("servers"), "$.servers", "at least one server"),
    "operationId missing": (lambda d: _op(d).pop("operationId"), '$.paths["/sumar"].post', "no operationId"),
    "operationId charset": (lambda d: _op(d).update(operationId="sumar dos"), '$.paths["/sumar"].post.operationId',
                            "only letters, digits, _ and -"),
    "operationId with a dot": (lambda d: _op(d).update(operationId="math.sumar"),
                               '$.paths["/sumar"].post.operationId', "only letters, digits, _ and -"),
    "operationId too long": (lambda d: _op(d).update(operationId="s" * 65), '$.paths["/sumar"].post.operationId',
                             "65 characters"),
    "operationId duplicated": (_second_op("sumar"), '$.paths["/restar"].post.operationId',
                               'already used at $.paths["/sumar"].post'),
    "summary too long": (lambda d: _op(d).update(summary="s" * 301), '$.paths["/sumar"].post.summary',
                         "301 characters"),
    "description too long": (lambda d: _op(d).update(description="d" * 301), '$.paths["/sumar"].post.description',
                             "301 characters"),
    "parameter description too long": (
        _add_param({"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
                    "description": "p" * 701}),
        '$.paths["/sumar"].post.parameters[0].description', "701 characters"),
    "parameter by $ref": (_add_param({"$ref": "#/components/parameters/q"}),
                          '$.paths["/sumar"].post.parameters[0]', "inline"),
    "header parameter": (_add_param({"name": "X-Key", "in": "header", "schema": {"type": "string"}}),
                         '$.paths["/sumar"].post.parameters[0].in', "no custom headers"),
    "path parameter not required": (
        _add_param({"name": "id", "in": "path", "required": False, "schema": {"type": "integer"}}),
        '$.paths["/sumar"].post.parameters[0].required', '"required": true'),
    "nullable": (lambda d: _body(d)["properties"]["numero1"].update(nullable=True),
                 '$.paths["/sumar"].post.requestBody.content["application/json"].schema.properties.numero1.nullable',
                 "nullable is not understood"),
    "type array with null": (
        lambda d: _op(d)["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["resultado"]
        .update(type=["number", "null"]),
        '$.paths["/sumar"].post.responses["200"].content["application/json"].schema.properties.resultado.type',
        "allows null"),
    "null in anyOf": (lambda d: _body(d)["properties"].update(extra={"anyOf": [{"type": "string"}, {"type": "null"}]}),
                      '$.paths["/sumar"].post.requestBody.content["application/json"].schema.properties.extra'
                      '.anyOf[1].type', "allows null"),
    "isConsequential missing": (lambda d: _op(d).pop("x-openai-isConsequential"), '$.paths["/sumar"].post',
                                "add x-openai-isConsequential"),
    "isConsequential not a boolean": (lambda d: _op(d).update({"x-openai-isConsequential": "no"}),
                                      '$.paths["/sumar"].post["x-openai-isConsequential"]', "true or false"),
    "security not an array": (lambda d: d.update(security={}), "$.security", "array of requirements"),
    "security names no scheme": (lambda d: d.update(security=[{"apiKey": []}]), "$.security[0].apiKey",
                                 "names no scheme"),
    "scheme type unknown": (_secured({"type": "mutualTLS"}), "$.components.securitySchemes.apiKey.type",
                            "not a security scheme type"),
    "http scheme digest": (_secured({"type": "http", "scheme": "digest"}),
                           "$.components.securitySchemes.apiKey.scheme", "bearer or basic"),
    "secured without 401": (_secured({"type": "http", "scheme": "bearer"}, drop_401=True),
                            '$.paths["/sumar"].post.responses', "documents no 401"),
}


@pytest.mark.parametrize("case", list(OPENAPI_CASES))
def test_each_openapi_rule_fires_alone(check, openapi, case):
    mutate, path, fragment = OPENAPI_CASES[case]
    doc = copy.deepcopy(openapi)
    mutate(doc)
    found = errors(check.check_openapi(doc, deployed=False))
    assert found, f"{case}: no error"
    assert all(line.startswith(path + ":") for line in found), found
    assert any(fragment in line for line in found), found


def test_a_document_without_security_is_a_warning(check, openapi):
    doc = copy.deepcopy(openapi)
    del doc["security"]
    assert not errors(check.check_openapi(doc, deployed=False))
    assert any("declares no security" in w for w in warnings(check.check_openapi(doc, deployed=False)))


def test_an_empty_verification_token_is_a_warning(check, manifest):
    doc = {**manifest, "auth": {"type": "service_http", "authorization_type": "bearer",
                                "verification_tokens": {"openai": ""}}}
    assert not errors(check.check_manifest(doc))
    assert any("openai_verification_token" in w for w in warnings(check.check_manifest(doc)))


@pytest.mark.parametrize(("url", "fragment"), [
    ("http://abc.execute-api.us-east-1.amazonaws.com", "must use https://"),
    ("https://abc.execute-api.us-east-1.amazonaws.com:8443", "must use port 443, not 8443"),
    ("http://localhost:8080", "is a local address"),
    ("https://127.0.0.1", "is a local address"),
    ("abc.execute-api.us-east-1.amazonaws.com", "absolute"),
])
def test_a_deployed_server_url_must_be_https_on_443(check, openapi, url, fragment):
    doc = copy.deepcopy(openapi)
    doc["servers"][0]["url"] = url
    found = errors(check.check_openapi(doc, deployed=True))
    assert len(found) == 1 and found[0].startswith("$.servers[0].url:") and fragment in found[0], found


def test_a_served_document_must_point_at_its_origin(check, openapi):
    doc = copy.deepcopy(openapi)
    doc["servers"][0]["url"] = "https://other.example.com"
    found = errors(check.check_openapi(doc, deployed=True, origin="https://abc.example.com"))
    assert found == ["$.servers[0].url: 'https://other.example.com' is not on abc.example.com, "
                     "where the API is called"]


def test_more_than_30_operations_is_a_warning(check, openapi):
    doc = copy.deepcopy(openapi)
    for i in range(30):
        doc["paths"][f"/op{i}"] = {"post": {**copy.deepcopy(_op(doc)), "operationId": f"op{i}"}}
    found = check.check_openapi(doc, deployed=False)
    assert errors(found) == []
    assert warnings(found) == ["$.paths: 31 operations; GPT Actions were seen to accept at most 30"]
    del doc["paths"]["/op29"]
    assert check.check_openapi(doc, deployed=False) == []


def test_a_spec_over_1_mb_is_a_warning(check, openapi):
    doc = copy.deepcopy(openapi)
    for i in range(400):
        _body(doc)["properties"][f"field{i}"] = {"type": "string", "enum": [f"{'v' * 40}{j}" for j in range(60)]}
    found = check.check_openapi(doc, deployed=False)
    assert errors(found) == []
    assert len(warnings(found)) == 1 and "GPT Actions were seen to accept at most 1 MB" in warnings(found)[0]


# -- MCP tool names (spec-facts section 3) ------------------------------------------------------

@pytest.mark.parametrize(("name", "ok"), [
    ("sumar", True), ("math.sumar-v2_b", True), ("a" * 128, True),
    ("", False), ("a" * 129, False), ("sumar dos", False), ("sumá", False), ("sumar/dos", False), (None, False),
])
def test_mcp_tool_names(check, name, ok):
    found = errors(check.check_tools([{"name": name, "inputSchema": {"type": "object"}}]))
    assert (found == []) is ok, found
    if not ok:
        assert found[0].startswith("$.tools[0].name:") and "1-128 characters" in found[0]


def test_mcp_tools_need_unique_names_and_object_schemas(check):
    found = errors(check.check_tools([{"name": "a", "inputSchema": {"type": "object"}},
                                      {"name": "a", "inputSchema": {"type": "array"},
                                       "outputSchema": {"type": "number"}}]))
    assert found == ["$.tools[1].name: 'a' is listed twice",
                     '$.tools[1].inputSchema: must be a JSON Schema with "type": "object" at the root',
                     "$.tools[1].outputSchema: must describe an object (structuredContent is one)"]
    assert warnings(check.check_tools([])) == ["$.tools: no tools: decorate a function in handler.py with "
                                               "@plugin.operation"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values, top=st.sampled_from(["openapi", "info", "servers", "paths", "components"]),
       field=st.sampled_from(["operationId", "parameters", "requestBody", "responses", "summary",
                              "x-openai-isConsequential"]),
       key=st.sampled_from(["schema_version", "name_for_model", "auth", "api", "logo_url", "contact_email"]))
def test_the_check_reports_and_never_crashes_on_any_json(check, manifest, openapi, value, top, field, key):
    """A linter that raises on a strange document would hide every other finding."""
    for findings in (check.check_manifest(value), check.check_openapi(value, deployed=True), check.check_tools(value),
                     check.check_manifest({**manifest, key: value}, origin="https://x.example.com"),
                     check.check_manifest({**manifest, "auth": {"type": "oauth", "verification_tokens": value}}),
                     check.check_openapi({**openapi, top: value}, deployed=True, origin="https://x.example.com")):
        assert all(f.level in ("ERROR", "WARNING") and f.path.startswith("$") for f in findings)
    doc = copy.deepcopy(openapi)
    _op(doc)[field] = value
    check.check_openapi(doc, deployed=False)


# -- the command line -----------------------------------------------------------------------------

def test_the_command_prints_one_line_per_finding_and_fails_on_errors(project):
    manifest = json.loads((project / "manifest.json").read_text(encoding="utf-8"))
    manifest["name_for_model"] = "sumar_plugin"
    (project / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    openapi = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    del _op(openapi)["x-openai-isConsequential"]
    openapi["servers"][0]["url"] = "http://api.example.com"
    (project / "openapi.json").write_text(json.dumps(openapi), encoding="utf-8")
    result = run_check(project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "ERROR manifest.json $.name_for_model: 'sumar_plugin' may use only letters and digits (found '_')",
        "ERROR openapi.json $.servers[0].url: 'http://api.example.com' must use https:// for GPT Actions",
        'ERROR openapi.json $.paths["/sumar"].post: add x-openai-isConsequential (false lets the user '
        '"always allow" a safe operation)',
        "3 error(s), 0 warning(s)",
    ]
    assert result.stderr == ""


def test_warnings_alone_exit_0(project):
    manifest = json.loads((project / "manifest.json").read_text(encoding="utf-8"))
    manifest["logo_url"] = "http://localhost:8080/logo"
    (project / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_check(project)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["WARNING manifest.json $.logo_url: should point at a PNG image (512x512)",
                                          "ok: no errors, 1 warning(s)"]


def test_invalid_json_is_reported_with_its_position(project):
    (project / "manifest.json").write_text('{"schema_version": "v1",}', encoding="utf-8")
    result = run_check(project)
    assert result.returncode == 1
    assert result.stdout.startswith("ERROR manifest.json $: is not valid JSON: Expecting property name enclosed "
                                    "in double quotes: line 1 column 25")
    assert "Traceback" not in result.stderr


def test_an_mcp_tool_name_from_the_handler_is_checked(project):
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace(
        "lambda_handler = plugin.lambda_handler",
        "@plugin.operation(read_only=True)\ndef sumá(numero1: Numero, numero2: Numero) -> Suma:\n"
        "    return {'resultado': numero1 + numero2}\n\nlambda_handler = plugin.lambda_handler"), encoding="utf-8")
    result = run_check(project)
    assert result.returncode == 1
    assert ("ERROR handler.py (MCP tools) $.tools[1].name: \"sum\\u00e1\" must be 1-128 characters of letters, "
            "digits, _, - and .") in result.stdout.splitlines()


# -- the build runs the check ---------------------------------------------------------------------

def test_the_build_refuses_an_operation_id_over_64_characters(project):
    name = "sumar_" + "x" * 59
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace("def sumar(", f"def {name}("), encoding="utf-8")
    before = (project / "lambda.zip").read_bytes()
    result = subprocess.run([sys.executable, "-m", "plugin_tools.build"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING")]  # widgets/sumar.html
    assert lines[0] == "build failed: 1 rule(s) broken (python3 -m plugin_tools.check lists them):"
    assert lines[1:] == [f'ERROR openapi.json $.paths["/{name}"].post.operationId: is 65 characters; the limit is 64']
    assert (project / "lambda.zip").read_bytes() == before, "a failed check must not write a new zip"


def test_the_build_refuses_a_plain_http_deployed_origin_and_accepts_https(project):
    def build(origin: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "plugin_tools.build", "--origin", origin], cwd=project,
                              capture_output=True, text=True, timeout=120, check=False)

    bad = build("http://abc.execute-api.us-east-1.amazonaws.com")
    assert bad.returncode == 1 and "ERROR openapi.json $.servers[0].url:" in bad.stderr
    good = build("https://abc.execute-api.us-east-1.amazonaws.com")
    assert good.returncode == 0, good.stderr
    assert run_check(project).returncode == 0


def test_the_build_stops_on_a_broken_manifest_without_a_traceback(project):
    (project / "manifest.json").write_text('{"schema_version": "v1",}', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "plugin_tools.build"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1].startswith("ERROR manifest.json $: is not valid JSON: Expecting property")


def test_the_build_prints_warnings_and_still_builds(project):
    manifest = json.loads((project / "manifest.json").read_text(encoding="utf-8"))
    manifest["logo_url"] = "http://localhost:8080/logo"
    (project / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0
    assert result.stderr == "WARNING manifest.json $.logo_url: should point at a PNG image (512x512)\n"


# -- --origin: the documents as a server serves them ----------------------------------------------

class _Canned(http.server.BaseHTTPRequestHandler):
    """Serves whatever the test put in ``routes``: {path: (status, content type, body)}."""

    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}

    def _answer(self) -> None:
        status, ctype, body = self.routes.get(self.path, (404, "application/json", b'{"error":"not_found"}'))
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        message = json.loads(self.rfile.read(length))
        if "id" not in message:
            self.send_response(202)
            self.end_headers()
            return
        result = ({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                   "serverInfo": {"name": "canned", "version": "1"}} if message["method"] == "initialize"
                  else {"tools": json.loads(self.routes["tools"][2])})
        body = f"event: message\ndata: {json.dumps({'jsonrpc': '2.0', 'id': message['id'], 'result': result})}\n\n"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[tuple[str, dict]]:
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}
    handler = type("Handler", (_Canned,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


# A tool as the runtime lists it: what the directory scan needs (hints, outputSchema, description).
SERVED_TOOL = {"name": "sumar", "description": "Suma dos números.", "inputSchema": {"type": "object"},
               "outputSchema": {"type": "object"},
               "annotations": {"readOnlyHint": True, "destructiveHint": False, "openWorldHint": False}}


def _serve_documents(routes: dict, origin: str, manifest: dict, openapi: dict, tools: list) -> None:
    served = {**manifest, "api": {"type": "openapi", "url": origin + "/openapi.json"}, "logo_url": origin + "/logo.png"}
    routes["/.well-known/ai-plugin.json"] = (200, "application/json", json.dumps(served).encode())
    routes["/openapi.json"] = (200, "application/json",
                               json.dumps({**openapi, "servers": [{"url": origin}]}).encode())
    routes["tools"] = (200, "", json.dumps(tools).encode())


def test_origin_checks_what_is_served(check, canned, manifest, openapi):
    origin, routes = canned
    _serve_documents(routes, origin, manifest, openapi, [SERVED_TOOL])
    assert check.check_origin(origin) == []
    routes["/.well-known/ai-plugin.json"] = (200, "application/json", b'{"schema_version": "v1",}')
    routes["/openapi.json"] = (200, "application/json",
                               json.dumps({**openapi, "servers": [{"url": "https://elsewhere.example.com"}]}).encode())
    routes["tools"] = (200, "", json.dumps([{**SERVED_TOOL, "name": "sumar dos"}]).encode())
    lines = [str(f) for f in check.check_origin(origin)]
    assert lines[0].startswith(f"ERROR {origin}/.well-known/ai-plugin.json $: is not valid JSON")
    assert lines[1] == (f"ERROR {origin}/openapi.json $.servers[0].url: 'https://elsewhere.example.com' is not on "
                        "127.0.0.1, where the API is called")
    assert lines[2].startswith(f'ERROR {origin}/mcp tools/list $.tools[0].name: "sumar dos" must be 1-128')
    assert len(lines) == 3


def test_origin_reports_missing_documents_and_a_wrong_content_type(check, canned, manifest, openapi):
    origin, routes = canned
    _serve_documents(routes, origin, manifest, openapi, [SERVED_TOOL])
    del routes["/.well-known/ai-plugin.json"]
    routes["/openapi.json"] = (200, "text/plain", routes["/openapi.json"][2])
    lines = [str(f) for f in check.check_origin(origin + "/")]
    assert lines == [f"ERROR {origin}/.well-known/ai-plugin.json $: answered HTTP 404, not 200",
                     f"WARNING {origin}/openapi.json $: is served as 'text/plain', not application/json"]


def test_origin_must_be_an_absolute_url(project):
    result = run_check(project, "--origin", "abc.example.com")
    assert result.returncode == 1
    assert "ERROR abc.example.com $: --origin must be an absolute URL" in result.stdout
