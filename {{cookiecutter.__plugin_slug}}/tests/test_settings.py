"""Settings (ctx.setting, from Terraform's settings map) and secrets (ctx.secret, from SSM when
deployed, from the environment or .secrets.env locally): typed reads, clear failures that break
only the operation that needs the value, and the SSM cache. SSM is replaced by a fake client, so
these tests need no AWS and no boto3.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TypedDict

import pytest
from conftest import PROJECT, make_event, project_plugin

from plugin_runtime import Context, Plugin, SecretError, SettingError
from plugin_runtime import model_secrets as secrets
from plugin_runtime import model_settings as settings
from plugin_tools.project import read_env_file, read_tfvars_secrets, read_tfvars_settings

PREFIX = "/sumar-plugin/secrets/"


class Text(TypedDict):
    text: str


@pytest.fixture
def plugin() -> Plugin:
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation(read_only=True)
    def limite(ctx: Context) -> Text:
        return {"text": f"{ctx.setting('LIMIT', int) * 2}"}

    @plugin.operation(read_only=True)
    def clave(ctx: Context) -> Text:
        return {"text": str(len(ctx.secret("API_TOKEN")))}

    @plugin.operation(read_only=True)
    def eco(texto: str) -> Text:
        return {"text": texto}

    return plugin


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in ("LIMIT", "API_TOKEN", "FLAG", secrets.SECRETS_PREFIX_ENV, secrets.SECRETS_NAMES_ENV,
                 secrets.SECRETS_TTL_ENV):
        monkeypatch.delenv(name, raising=False)
    secrets.clear_secrets()
    yield
    secrets.clear_secrets()


class FakeSSM:
    """get_parameter as boto3's SSM client answers it, or raises what botocore would."""

    def __init__(self, values: dict[str, str] | None = None, error: str | None = None):
        self.values, self.error, self.calls = values or {}, error, []

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict:  # boto3's argument names
        self.calls.append((Name, WithDecryption))
        if self.error:
            exc = Exception(f"An error occurred ({self.error})")
            exc.response = {"Error": {"Code": self.error}}  # type: ignore[attr-defined]
            raise exc
        if Name not in self.values:
            exc = Exception("ParameterNotFound")
            exc.response = {"Error": {"Code": "ParameterNotFound"}}  # type: ignore[attr-defined]
            raise exc
        return {"Parameter": {"Name": Name, "Type": "SecureString", "Value": self.values[Name]}}


@pytest.fixture
def deployed(monkeypatch):
    """The environment Terraform gives the Lambda when secrets = ["API_TOKEN"], and a fake SSM."""
    monkeypatch.setenv(secrets.SECRETS_PREFIX_ENV, PREFIX)
    monkeypatch.setenv(secrets.SECRETS_NAMES_ENV, "API_TOKEN")
    fake = FakeSSM({PREFIX + "API_TOKEN": "s3cr3t-value"})
    secrets._cache.client = fake
    return fake


def answer(plugin: Plugin, name: str, body: dict | None = None) -> tuple[int, dict]:
    response = plugin.lambda_handler(make_event("POST", f"/{name}", body or {}), None)
    return response["statusCode"], json.loads(response["body"])


def failure_lines(capsys) -> list[dict]:
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    return [r for r in records if r.get("errorType")]


# -- settings -------------------------------------------------------------------------------------
def test_a_setting_is_read_and_typed(plugin, monkeypatch):
    monkeypatch.setenv("LIMIT", "21")
    assert answer(plugin, "limite") == (200, {"text": "42"})


@pytest.mark.parametrize(("raw", "kind", "expected"), [
    ("7", int, 7), (" 2.5 ", float, 2.5), ("hola", str, "hola"), ("yes", bool, True), ("0", bool, False),
    ("OFF", bool, False), ('["a", "b"]', json.loads, ["a", "b"]),
])
def test_setting_kinds(monkeypatch, raw, kind, expected):
    monkeypatch.setenv("FLAG", raw)
    assert settings.setting("FLAG", kind) == expected


def test_a_missing_setting_has_a_default_or_fails_clearly(monkeypatch):
    assert settings.setting("FLAG", int, default=3) == 3
    with pytest.raises(SettingError, match="setting FLAG is not set: add FLAG to the settings map"):
        settings.setting("FLAG")
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(SettingError, match="setting FLAG is not a valid bool"):
        settings.setting("FLAG", bool)


def test_a_missing_setting_breaks_only_its_operation(plugin, capsys):
    status, body = answer(plugin, "limite")
    assert status == 500 and body["error"] == "internal_error" and "LIMIT" not in json.dumps(body)
    failure = failure_lines(capsys)
    assert failure[0]["errorType"] == "SettingError" and "setting LIMIT is not set" in failure[0]["message"]
    assert answer(plugin, "eco", {"texto": "sigue"}) == (200, {"text": "sigue"})


def test_an_invalid_setting_breaks_only_its_operation(plugin, monkeypatch, capsys):
    monkeypatch.setenv("LIMIT", "ten")
    assert answer(plugin, "limite")[0] == 500
    assert "setting LIMIT is not a valid int" in failure_lines(capsys)[0]["message"]
    assert answer(plugin, "eco", {"texto": "sigue"})[0] == 200


def test_the_plugin_reads_settings_and_secrets_outside_operations(plugin, monkeypatch):
    monkeypatch.setenv("LIMIT", "5")
    monkeypatch.setenv("API_TOKEN", "local-value")
    assert plugin.setting("LIMIT", int) == 5 and plugin.secret("API_TOKEN") == "local-value"


# -- secrets, locally -------------------------------------------------------------------------------
def test_a_local_secret_comes_from_the_environment(plugin, monkeypatch):
    monkeypatch.setenv("API_TOKEN", "local-value")
    assert answer(plugin, "clave") == (200, {"text": "11"})


def test_a_missing_local_secret_breaks_only_its_operation(plugin, capsys):
    assert answer(plugin, "clave")[0] == 500
    assert "put API_TOKEN=... in .secrets.env" in failure_lines(capsys)[0]["message"]
    assert answer(plugin, "eco", {"texto": "sigue"})[0] == 200


# -- secrets, deployed (SSM) ------------------------------------------------------------------------
def test_a_secret_is_fetched_once_and_cached(plugin, deployed, capsys):
    assert answer(plugin, "clave") == (200, {"text": "12"})
    assert answer(plugin, "clave") == (200, {"text": "12"})
    assert deployed.calls == [(PREFIX + "API_TOKEN", True)]
    assert "s3cr3t-value" not in capsys.readouterr().err


def test_the_cache_expires(plugin, deployed, monkeypatch):
    monkeypatch.setenv(secrets.SECRETS_TTL_ENV, "0")
    answer(plugin, "clave")
    deployed.values[PREFIX + "API_TOKEN"] = "rotated"
    assert answer(plugin, "clave") == (200, {"text": "7"})
    assert len(deployed.calls) == 2


def test_a_failed_refresh_keeps_the_last_value(plugin, deployed, monkeypatch, capsys):
    monkeypatch.setenv(secrets.SECRETS_TTL_ENV, "0")
    assert answer(plugin, "clave")[0] == 200
    deployed.error = "ThrottlingException"
    assert answer(plugin, "clave") == (200, {"text": "12"})
    warnings = [json.loads(line) for line in capsys.readouterr().err.splitlines() if '"WARN"' in line]
    assert any("refresh failed, using the cached value" in w["message"] for w in warnings)


@pytest.mark.parametrize(("error", "message"), [
    ("ParameterNotFound", "does not exist: run terraform apply, then aws ssm put-parameter"),
    ("AccessDeniedException", "may not read /sumar-plugin/secrets/API_TOKEN (AccessDeniedException)"),
    ("ThrottlingException", "SSM throttled reading /sumar-plugin/secrets/API_TOKEN"),
    ("InternalServerError", "could not read /sumar-plugin/secrets/API_TOKEN from SSM: InternalServerError"),
])
def test_ssm_failures_break_only_the_operation(plugin, deployed, capsys, error, message):
    deployed.error = error
    status, body = answer(plugin, "clave")
    assert status == 500 and body["error"] == "internal_error"
    failure = failure_lines(capsys)[0]
    assert failure["errorType"] == "SecretError" and message in failure["message"]
    assert answer(plugin, "eco", {"texto": "sigue"})[0] == 200


def test_the_placeholder_is_never_returned(deployed):
    deployed.values[PREFIX + "API_TOKEN"] = secrets.PLACEHOLDER
    with pytest.raises(SecretError, match="still holds the placeholder"):
        secrets.secret("API_TOKEN")


def test_an_undeclared_secret_is_not_asked_for(deployed):
    with pytest.raises(SecretError, match="secret OTHER is not declared"):
        secrets.secret("OTHER")
    assert deployed.calls == []


def test_the_mcp_surface_answers_a_tool_error(plugin, deployed):
    deployed.error = "AccessDeniedException"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "clave", "arguments": {}}}
    response = plugin.lambda_handler(make_event("POST", "/mcp", body, headers={"mcp-protocol-version": "2025-06-18"}))
    result = json.loads(response["body"])["result"]
    assert result["isError"] is True and "SSM" not in result["content"][0]["text"]


# What the runtime must never load on a cold start that reads no secret. The handler's own imports
# are the user's to choose: they are imported first, and only what the runtime adds is counted.
COLD_START_WATCH = ("boto3", "botocore", "logging")
_COLD_START = """
import ast, importlib, json, sys
tree = ast.parse(open("handler.py", encoding="utf-8").read())
declared = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
declared += [n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module and not n.level]
for name in declared:
    if name.split(".")[0] != "plugin_runtime":
        importlib.import_module(name)
before = set(sys.modules)
import handler
handler.lambda_handler(json.loads(sys.argv[1]), None)
print(json.dumps({"declared": declared, "added": sorted(set(sys.modules) - before)}))
"""


def test_boto3_is_imported_only_when_a_secret_is_read():
    """A request that reads no secret keeps the cold start of a plugin without secrets: the runtime
    adds neither boto3 nor the logging module (handler.py may import them itself)."""
    plugin = project_plugin()
    op = next(iter(plugin.operations.values()), None)
    event = make_event("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"mcp-protocol-version": "2025-06-18"}) if op is None else \
        make_event(op.method, op.path.replace("{", "").replace("}", ""), {} if op.has_body else None)
    event["headers"].pop("authorization", None)  # no credential: the answer does not matter, the imports do
    run = subprocess.run([sys.executable, "-c", _COLD_START, json.dumps(event)], cwd=PROJECT, capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.splitlines()[-1])
    added = [m for m in COLD_START_WATCH if m in found["added"]]
    assert added == [], (f"the runtime imported {', '.join(added)} on a cold start that reads no secret "
                         f"(handler.py's own imports, loaded first, are not counted: {found['declared']}); "
                         "a runtime module imports it too early: import it inside the function that needs it")


# -- the local tools' readers -----------------------------------------------------------------------
def test_local_values_come_from_tfvars_and_the_secrets_file(tmp_path):
    (tmp_path / "terraform.tfvars").write_text(
        'name = "x"\n# settings = { NOT = "this" }\nsettings = {\n  GREETING = "Hola \\"mundo\\""\n'
        '  "MAX_LEN" = "20"\n}\nsecrets = ["API_TOKEN", "OTHER"]\n', encoding="utf-8")
    (tmp_path / ".secrets.env").write_text("# local only\nAPI_TOKEN='abc def'\nexport OTHER=x=y\n\n",
                                           encoding="utf-8")
    assert read_tfvars_settings(tmp_path) == {"GREETING": 'Hola "mundo"', "MAX_LEN": "20"}
    assert read_tfvars_secrets(tmp_path) == ["API_TOKEN", "OTHER"]
    assert read_env_file(tmp_path / ".secrets.env") == {"API_TOKEN": "abc def", "OTHER": "x=y"}
    assert isinstance(read_tfvars_settings(PROJECT), dict)  # the project's own file parses
