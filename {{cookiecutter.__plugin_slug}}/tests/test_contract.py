"""openapi.json stays in step with handler.py, lambda.zip is reproducible, and operations are
derived from their signatures exactly as documented."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Annotated, Literal, TypedDict

import pytest
from conftest import PROJECT, example, make_event

from plugin_runtime import Field, OperationError, Plugin
from plugin_runtime.model_operation import parse_docstring
from plugin_runtime.model_schema import SchemaError
from plugin_tools import build as builder


def test_openapi_json_is_fresh():
    """Fails when handler.py changed but openapi.json was not rebuilt: run `make build`."""
    path = PROJECT / builder.read_tfvars(PROJECT).get("path_to_openapi", "openapi.json")
    plugin = builder.load_plugin(PROJECT)
    expected = builder.render_openapi(plugin, builder.current_origin(path))
    assert path.read_text(encoding="utf-8") == expected, "openapi.json is stale: run `make build`"


@example
def test_sumar_openapi_uses_the_docstring_and_the_bounds():
    doc = json.loads((PROJECT / "openapi.json").read_text(encoding="utf-8"))
    op = doc["paths"]["/sumar"]["post"]
    assert op["summary"] == "Suma dos números y devuelve el resultado."
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["numero1", "numero2"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["numero1"]["description"] == "El primer sumando."
    assert schema["properties"]["numero1"]["maximum"] == 10**15
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["properties"] == {"resultado": {"type": "number"}}


def _build_into(tmp_path: Path, name: str, umask: int, mtime: float) -> bytes:
    for path in builder.source_files(PROJECT):
        os.utime(path, (mtime, mtime))
    old = os.umask(umask)
    try:
        target = tmp_path / name
        builder.write_zip(PROJECT, target, None)
    finally:
        os.umask(old)
    return target.read_bytes()


def test_zip_is_byte_identical_whatever_the_times_and_umask(tmp_path):
    stats = {p: p.stat() for p in builder.source_files(PROJECT)}
    try:
        first = _build_into(tmp_path, "a.zip", 0o022, 1_000_000_000)
        second = _build_into(tmp_path, "b.zip", 0o077, 1_700_000_000)
    finally:
        for path, st in stats.items():
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert first == second


def test_zip_holds_exactly_the_sources(tmp_path):
    target = tmp_path / "lambda.zip"
    size = builder.write_zip(PROJECT, target, None)
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
    expected = [p.relative_to(PROJECT).as_posix() for p in builder.source_files(PROJECT)]
    assert names == sorted(expected)
    assert {"handler.py", "manifest.json", "logo.png", "plugin_runtime/plugin.py"} <= set(names)
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
    assert not any(n.startswith("plugin_tools/") for n in names)  # build, check, serve, invoke never run in Lambda
    # The budget is the runtime's: what you add (handler.py, widgets, the packages of requirements.txt,
    # which this zip leaves out) is yours, and only reported. The runtime with its auth, OAuth and
    # MCP Apps surfaces is a small fraction of Lambda's 50 MB.
    with zipfile.ZipFile(target) as zf:
        runtime = sum(i.compress_size for i in zf.infolist() if i.filename.startswith("plugin_runtime/"))
    assert runtime < 88 * 1024, (
        f"plugin_runtime/ takes {runtime:,} of lambda.zip's {size:,} bytes (your own files: {size - runtime:,}); "
        "the runtime grew past its budget: keep new runtime code lean, or raise the budget in this test on purpose")


def test_tfvars_name_the_handler_and_the_files():
    tfvars = builder.read_tfvars(PROJECT)
    for key in ("name", "bucket_name", "path_to_manifest", "path_to_openapi", "path_to_lambda",
                "lambda_runtime", "lambda_architecture", "lambda_handler"):
        assert tfvars.get(key), key
    for key in ("path_to_manifest", "path_to_openapi", "path_to_logo"):
        assert (PROJECT / tfvars[key]).is_file()


def test_requirements_txt_reads_as_pip_reads_it():
    """One requirement a line; comments and blank lines are not requirements."""
    lines = (PROJECT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    expected = [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
    assert builder.requirements(PROJECT) == expected


# -- derivation, on small plugins made here ------------------------------------------------

class Answer(TypedDict):
    value: float


def _plugin() -> Plugin:
    return Plugin(root=str(PROJECT))


def test_docstring_sections_are_parsed():
    summary, description, params = parse_docstring("""Do a thing.

        Longer words
        on two lines.

        Args:
            a: The first
                value, continued.
            b (int): The second.

        Returns:
            Something.
        """)
    assert summary == "Do a thing."
    assert description == "Longer words\non two lines."
    assert params == {"a": "The first value, continued.", "b": "The second."}


def test_optional_literal_and_list_parameters_are_derived():
    plugin = _plugin()

    @plugin.operation
    def pick(kind: Literal["a", "b"], tags: list[str], limit: Annotated[int, Field(ge=1, le=5)] = 2,
             note: str | None = None) -> Answer:
        """Pick."""
        return {"value": float(limit)}

    op = plugin.operations["pick"]
    assert op.input_schema == {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["a", "b"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "limit": {"type": "integer", "minimum": 1, "maximum": 5},
            "note": {"type": "string"},
        },
        "additionalProperties": False,
        "required": ["kind", "tags"],
    }
    event = make_event("POST", "/pick", {"kind": "a", "tags": []})
    response = plugin.lambda_handler(event)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"value": 2.0})


def test_non_object_returns_are_wrapped_in_result():
    plugin = _plugin()

    @plugin.operation
    def double(x: float) -> float:
        return x * 2

    assert plugin.operations["double"].output_schema["required"] == ["result"]
    response = plugin.lambda_handler(make_event("POST", "/double", {"x": 2}))
    assert json.loads(response["body"]) == {"result": 4}


@pytest.mark.parametrize("source", [
    "def f(x) -> Answer: ...",                          # no type hint
    "def f(x: float): ...",                             # no return hint
    "def f(x: set) -> Answer: ...",                     # no JSON Schema for set
    "def f(x: int | str) -> Answer: ...",               # real union
    "def f(x: float | None) -> Answer: ...",            # optional without default
    "def f(*xs: float) -> Answer: ...",                 # *args
])
def test_undescribable_signatures_fail_at_import_with_a_reason(source):
    namespace: dict = {"Answer": Answer}
    exec(source, namespace)
    with pytest.raises(SchemaError) as info:
        _plugin().operation(namespace["f"])
    assert str(info.value)


def test_operation_error_is_a_400_with_its_message():
    plugin = _plugin()

    @plugin.operation
    def dividir(a: float, b: float) -> Answer:
        if b == 0:
            raise OperationError("b must not be zero")
        return {"value": a / b}

    response = plugin.lambda_handler(make_event("POST", "/dividir", {"a": 1, "b": 0}))
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "operation_refused", "message": "b must not be zero"}


def test_a_bug_is_a_500_without_a_traceback(capsys):
    plugin = _plugin()

    @plugin.operation
    def broken(a: float) -> Answer:
        raise KeyError("secret detail")

    response = plugin.lambda_handler(make_event("POST", "/broken", {"a": 1}))
    assert response["statusCode"] == 500
    assert "secret detail" not in response["body"] and "Traceback" not in response["body"]
    assert "secret detail" in capsys.readouterr().err  # the owner still sees it in the logs


def test_a_non_finite_result_is_a_400_not_a_500():
    plugin = _plugin()

    @plugin.operation
    def square(x: float) -> Answer:
        return {"value": x * x}

    response = plugin.lambda_handler(make_event("POST", "/square", {"x": 1e200}))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "result_out_of_range"
