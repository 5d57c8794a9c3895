"""storage = "dynamodb" bakes: with each auth mode the README's notes app (its code and its tests,
taken from the generated README) passes the baked project's own tests; ctx.store through REST and
MCP (409 and tool errors for conflicts, 400 for bad keys, never a 5xx or another caller's data,
also on hypothesis-generated keys and values); plugin_tools.data exports and deletes one caller's
data; a cold start with storage loads no store code until the first store call."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bake_support import bake, project_modules, with_operation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("STORE_FUZZ_EXAMPLES", "150"))


def readme_blocks(project: Path) -> list[str]:
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Keeping data per user", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.+?)\n```", section, flags=re.S)


def add_notes_app(project: Path) -> None:
    """The README's notes app into handler.py (its imports at the top) and its tests."""
    _, app, tests = readme_blocks(project)
    imports = [line for line in app.splitlines() if line.startswith(("import ", "from "))]
    body = "\n".join(line for line in app.splitlines() if line not in imports)
    handler = project / "handler.py"
    source = handler.read_text(encoding="utf-8")
    source = source.replace("from typing import Annotated, TypedDict\n",
                            "\n".join(imports[:1]) + "\nfrom typing import Annotated, TypedDict\n", 1)
    source = source.replace("from plugin_runtime import Field, Plugin\n",
                            "from plugin_runtime import Context, Field, Plugin\n", 1)
    handler.write_text(with_operation(source, "\n\n" + body.strip() + "\n"), encoding="utf-8")
    (project / "tests" / "test_notes.py").write_text(tests + "\n", encoding="utf-8")


@pytest.mark.parametrize("auth", ["api_key", "oauth", "none"])
def test_a_storage_bake_passes_its_tests_with_the_notes_app(tmp_path, auth):
    project = bake(tmp_path, storage="dynamodb", auth=auth)
    assert 'storage = "dynamodb"' in (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert ".data/" in (project / ".gitignore").read_text(encoding="utf-8")
    add_notes_app(project)
    subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project, check=True, timeout=120)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"], cwd=project,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    notes_skipped = "ctx.store needs a caller" in result.stdout
    assert notes_skipped == (auth == "none"), result.stdout[-2000:]
    assert "test_notes.py" in result.stdout or not notes_skipped
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "handler.py", "tests/test_notes.py"], cwd=project,
                          capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout


# -- ctx.store through the surfaces, in-process ---------------------------------------------------------
KEYS = {"ana": "pk_test_ana_" + "a" * 32, "bob": "pk_test_bob_" + "b" * 32}
STORE_OPS = '''

class Kept(TypedDict):
    version: int


class Found(TypedDict):
    found: bool
    value: str
    version: int


@plugin.operation()
def keep(key: str, value: str, ctx: Context, if_version: int = -1) -> Kept:
    """Keep a value under a key."""
    return {"version": ctx.store.put(key, value, if_version=None if if_version < 0 else if_version)}


@plugin.operation(read_only=True)
def fetch(key: str, ctx: Context) -> Found:
    """Read a value back."""
    item = ctx.store.get(key)
    return {"found": item is not None, "value": item.value if item else "", "version": item.version if item else 0}


@plugin.operation(read_only=True)
def keys(prefix: str, ctx: Context) -> list[str]:
    """The caller's keys under a prefix."""
    return [i.key for i in ctx.store.list(prefix=prefix, limit=1000).items]
'''


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory):
    project = bake(tmp_path_factory.mktemp("store-surfaces"), storage="dynamodb", auth="api_key")
    handler = project / "handler.py"
    source = handler.read_text(encoding="utf-8").replace("from plugin_runtime import Field, Plugin",
                                                         "from plugin_runtime import Context, Field, Plugin")
    handler.write_text(with_operation(source, STORE_OPS), encoding="utf-8")
    saved = {k: os.environ.get(k) for k in ("PLUGIN_AUTH", "PLUGIN_API_KEYS", "PLUGIN_STORE_TABLE")}
    os.environ.update(PLUGIN_AUTH="api_key", PLUGIN_API_KEYS=json.dumps(
        {name: hashlib.sha256(key.encode()).hexdigest() for name, key in KEYS.items()}))
    os.environ.pop("PLUGIN_STORE_TABLE", None)
    with project_modules(project):
        from plugin_tools.project import load_plugin
        from plugin_tools.store_sqlite import install

        backend = install(":memory:")
        yield load_plugin(project), backend, project
        backend.close()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def rest(plugin, who: str, op: str, body: dict) -> tuple[int, dict]:
    event = {"version": "2.0", "rawPath": f"/{op}", "rawQueryString": "",
             "headers": {"content-type": "application/json", "host": "x.example",
                         "authorization": f"Bearer {KEYS[who]}"},
             "requestContext": {"requestId": "r", "domainName": "x.example",
                                "http": {"method": "POST", "path": f"/{op}"}},
             "body": json.dumps(body), "isBase64Encoded": False}
    response = plugin.lambda_handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def mcp(plugin, who: str, op: str, arguments: dict) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": op, "arguments": arguments}}
    event = {"version": "2.0", "rawPath": "/mcp", "rawQueryString": "",
             "headers": {"content-type": "application/json", "accept": "application/json, text/event-stream",
                         "host": "x.example", "authorization": f"Bearer {KEYS[who]}",
                         "mcp-protocol-version": "2025-06-18"},
             "requestContext": {"requestId": "r", "domainName": "x.example",
                                "http": {"method": "POST", "path": "/mcp"}},
             "body": json.dumps(body), "isBase64Encoded": False}
    response = plugin.lambda_handler(event, None)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def test_conflicts_are_409_on_rest_and_tool_errors_on_mcp(surfaces):
    plugin, _, _ = surfaces
    status, kept = rest(plugin, "ana", "keep", {"key": "c/1", "value": "uno", "if_version": 0})
    assert status == 200
    status, body = rest(plugin, "ana", "keep", {"key": "c/1", "value": "dos", "if_version": kept["version"] + 1})
    assert status == 409 and body["error"] == "conflict", body
    answer = mcp(plugin, "ana", "keep", {"key": "c/1", "value": "dos", "if_version": 0})
    assert answer["result"]["isError"] is True and "changed" in json.dumps(answer["result"]["content"])
    assert rest(plugin, "ana", "fetch", {"key": "c/1"})[1]["value"] == "uno"


def test_a_bad_key_is_a_400_not_a_500(surfaces):
    plugin, _, _ = surfaces
    for key in ("", "a\u0000b", "x" * 600):
        status, body = rest(plugin, "ana", "keep", {"key": key, "value": "v"})
        assert status == 400 and body["error"] == "operation_refused", (key, body)
        assert mcp(plugin, "ana", "keep", {"key": key, "value": "v"})["result"]["isError"] is True


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(max_size=80) | st.sampled_from(["../bob", "a/../../b", "c#", "\x00", "app", "日本/😀"]),
       value=st.text(max_size=200), surface=st.sampled_from(["rest", "mcp"]))
def test_fuzzed_keys_and_values_never_fail_the_server_nor_cross_callers(surfaces, key, value, surface):
    plugin, _, _ = surfaces
    if surface == "rest":
        status, body = rest(plugin, "ana", "keep", {"key": key, "value": value})
        assert status in (200, 400), (status, body)
        stored = status == 200
    else:
        answer = mcp(plugin, "ana", "keep", {"key": key, "value": value})
        assert "error" not in answer, answer
        stored = not answer["result"].get("isError")
    status, found = rest(plugin, "ana", "fetch", {"key": key})
    assert status == (200 if stored else 400), found
    if stored:
        assert found["value"] == value
    status, other = rest(plugin, "bob", "fetch", {"key": key})
    assert status in (200, 400) and not (status == 200 and other["found"]), other
    assert rest(plugin, "bob", "keys", {"prefix": ""}) == (200, {"result": []})


def test_data_export_and_delete_one_caller(surfaces, capsys):
    plugin, backend, _ = surfaces
    rest(plugin, "ana", "keep", {"key": "export/1", "value": "ana's"})
    rest(plugin, "bob", "keep", {"key": "export/1", "value": "bob's"})
    from plugin_runtime.model_store import partition_of_id
    from plugin_tools import data

    ana = partition_of_id("api_key:ana")
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

    assert data.export(backend, ana, Out()) >= 1
    exported = [json.loads(line) for line in lines]
    assert {"key": "export/1", "value": "ana's"}.items() <= next(e for e in exported if e["key"] == "export/1").items()
    assert all(e["value"] != "bob's" for e in exported)
    assert data.delete(backend, ana) == len(exported)
    assert rest(plugin, "ana", "keys", {"prefix": ""}) == (200, {"result": []})
    assert rest(plugin, "bob", "fetch", {"key": "export/1"})[1]["value"] == "bob's"


def test_a_storage_cold_start_loads_no_store_code(surfaces):
    """storage = dynamodb, a request that makes no store call: no model_store, no AWS client, no boto3."""
    _, _, project = surfaces
    code = ("import json, sys; sys.path.insert(0, '.'); import handler; "
            "e = {'version': '2.0', 'rawPath': '/sumar', 'headers': {'content-type': 'application/json', "
            "'host': 'x', 'authorization': 'Bearer " + KEYS["ana"] + "'}, 'requestContext': {'requestId': 'r', "
            "'domainName': 'x', 'http': {'method': 'POST', 'path': '/sumar'}}, "
            "'body': json.dumps({'numero1': 1, 'numero2': 2}), 'isBase64Encoded': False}; "
            "r = handler.lambda_handler(e, None); assert r['statusCode'] == 200, r; "
            "print(sorted(m for m in sys.modules if m in ('boto3', 'botocore', 'sqlite3', 'http.client') or "
            "m.startswith('plugin_runtime.model_store') or m == 'plugin_runtime.model_aws'))")
    env = {**os.environ, "PLUGIN_STORE_TABLE": "t-store", "AWS_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=project, capture_output=True, text=True, env=env,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lambda_zip_ships_the_dynamodb_backend_and_never_sqlite(surfaces):
    import zipfile

    _, _, project = surfaces
    subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project, check=True, timeout=120)
    with zipfile.ZipFile(project / "lambda.zip") as zf:
        names = zf.namelist()
        sources = {n: zf.read(n).decode("utf-8", "replace") for n in names if n.endswith(".py")}
    assert {"plugin_runtime/model_store.py", "plugin_runtime/model_store_dynamodb.py",
            "plugin_runtime/model_aws.py"} <= set(names)
    assert not [n for n in names if n.startswith("plugin_tools/") or "sqlite" in n]
    assert not [n for n, text in sources.items() if "import sqlite3" in text or ("import boto3" in text
                and n != "plugin_runtime/surface_oauth.py")]
