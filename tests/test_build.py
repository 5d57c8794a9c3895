"""The generated project's build, driven as a user would drive it: edits, requirements, mistakes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bake_support import bake, project_modules


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("build"))


@pytest.fixture
def project(pristine, tmp_path) -> Path:
    copy = tmp_path / pristine.name
    shutil.copytree(pristine, copy)
    return copy


def run(project: Path, *args: str, module: str = "plugin_tools.build") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=project, capture_output=True, text=True,
                          timeout=300, check=False)


def test_a_broken_handler_fails_the_build_with_one_clear_line(project):
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\ndef oops(:\n", encoding="utf-8")
    result = run(project)
    assert result.returncode == 1
    assert result.stderr.startswith("build failed: cannot import handler.py: SyntaxError")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_untyped_operation_fails_the_build_naming_the_parameter(project):
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace(
        "lambda_handler = plugin.lambda_handler",
        "@plugin.operation\ndef restar(a, b: float) -> Suma:\n    return {'resultado': a - b}\n\n"
        "lambda_handler = plugin.lambda_handler"), encoding="utf-8")
    result = run(project)
    assert result.returncode == 1
    assert "restar: parameter 'a' needs a type hint" in result.stderr


def test_editing_the_handler_makes_openapi_stale_until_rebuilt(project):
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace(
        "Suma dos números y devuelve el resultado.", "Adds two numbers."), encoding="utf-8")
    fresh = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/test_contract.py::test_openapi_json_is_fresh"]
    stale = subprocess.run(fresh, cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert stale.returncode == 1 and "openapi.json is stale: run `make build`" in stale.stdout
    assert run(project).returncode == 0
    doc = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    assert doc["paths"]["/sumar"]["post"]["summary"] == "Adds two numbers."
    again = subprocess.run(fresh, cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stdout


def test_the_deployed_origin_is_kept_by_later_builds(project):
    origin = "https://abc123defg.execute-api.us-east-1.amazonaws.com"
    assert run(project, "--origin", origin, "--quiet").returncode == 0
    assert run(project, "--quiet").returncode == 0
    doc = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    assert doc["servers"] == [{"url": origin}]


def test_two_builds_give_the_same_zip(project):
    first = (project / "lambda.zip").read_bytes()
    (project / "lambda.zip").unlink()
    assert run(project, "--quiet").returncode == 0
    assert (project / "lambda.zip").read_bytes() == first


def test_requirements_are_installed_for_the_lambda_platform(project):
    (project / "requirements.txt").write_text("# a pure-Python wheel\nsix==1.16.0\n", encoding="utf-8")
    result = run(project)
    if result.returncode != 0 and "Could not find" in result.stderr + result.stdout:
        pytest.skip("PyPI is not reachable from this machine")
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(project / "lambda.zip") as zf:
        names = zf.namelist()
    assert "six.py" in names and any(n.startswith("six-1.16.0.dist-info/") for n in names)
    assert not any("__pycache__" in n for n in names)
    first = (project / "lambda.zip").read_bytes()
    assert run(project, "--quiet").returncode == 0  # cached: no second install
    assert (project / "lambda.zip").read_bytes() == first


def test_invoke_prints_the_answer(project):
    result = run(project, "events/post_sumar.json", module="plugin_tools.invoke")
    assert result.returncode == 0
    assert json.loads(result.stdout)["body"] == {"resultado": 5}
    missing = run(project, "events/nope.json", module="plugin_tools.invoke")
    assert missing.returncode == 1 and missing.stderr.startswith("invoke failed: cannot read events/nope.json")


def test_a_fresh_bake_is_lint_clean(project):
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=project, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout


@pytest.fixture
def builder(project):
    """The copied project's plugin_tools.build module."""
    with project_modules(project):
        import plugin_tools.build as module

        yield module


def test_bytecode_is_shipped_when_a_python_matches_the_runtime(project, builder, tmp_path):
    """With a matching interpreter the zip carries unchecked-hash pycs that Python loads as is.

    Lambda runtimes are 3.12+; this machine's Python stands in for one by naming its own version.
    """
    here = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    builder.write_zip(project, first, None, here)
    builder.write_zip(project, second, None, here)
    assert first.read_bytes() == second.read_bytes()
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(first) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "task")
    assert {f"__pycache__/handler.{tag}.pyc", f"plugin_runtime/__pycache__/plugin.{tag}.pyc"} <= names
    assert not any("__pycache__/build." in n or "__pycache__/serve." in n for n in names)
    task = tmp_path / "task"
    # Break the source: the import still works, so the bytecode is what runs.
    (task / "handler.py").write_text("raise SystemExit('the source was compiled, not the pyc')\n")
    (task / "events").mkdir()
    shutil.copy(project / "events" / "post_sumar.json", task / "events")
    script = ("import json, handler; e = json.load(open('events/post_sumar.json'));"
              "print(handler.lambda_handler(e, None)['body'])")
    run = subprocess.run([sys.executable, "-I", "-B", "-c", f"import sys; sys.path.insert(0, '.'); {script}"],
                         cwd=task, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"resultado": 5}


def test_sources_only_when_no_python_matches_the_runtime(project, builder, tmp_path):
    target = tmp_path / "lambda.zip"
    builder.write_zip(project, target, None, "python3.99")
    with zipfile.ZipFile(target) as zf:
        assert not any("__pycache__" in n for n in zf.namelist())
