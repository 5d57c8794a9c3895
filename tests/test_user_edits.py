"""The baked project's own checks belong to the user: its tests (``make test``), its lint
(``make lint``: ruff and ``terraform fmt -check``, as the generated CI runs them) keep passing as the
app grows: adding, renaming or removing operations (tests of the example skip, saying why), adding
a package to requirements.txt and importing it, importing the standard library at the top of
handler.py, making API keys, removing the example and its sample event."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bake_support import RESTAR, bake, with_operation


@pytest.fixture(scope="module")
def baked(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("edits"))


def _rebuild(project) -> None:
    run = subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr


def _project_tests(project, env: dict | None = None) -> subprocess.CompletedProcess:
    """The project's tests with the reasons for skips shown (its pyproject already says -q)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider"], cwd=project,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})})


def _assert_green(project, env: dict | None = None, skips: bool = False) -> subprocess.CompletedProcess:
    """make test and make lint (ruff, terraform fmt -check -recursive as the CI runs it) pass."""
    run = _project_tests(project, env)
    assert run.returncode == 0, run.stdout[-3000:]
    summary = [line for line in run.stdout.splitlines() if " passed" in line][-1]
    assert "failed" not in summary and "error" not in summary, summary
    if not skips:
        assert "skipped" not in summary, summary
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=project, capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, **(env or {})})
    assert ruff.returncode == 0, ruff.stdout[-3000:]
    terraform = shutil.which("terraform")
    if terraform is not None:  # the template's own terraform tests run it everywhere else
        fmt = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff"], cwd=project, capture_output=True,
                             text=True, timeout=120, check=False)
        assert fmt.returncode == 0, fmt.stdout[-3000:] + fmt.stderr[-1000:]
    return run


@pytest.fixture
def project(baked, tmp_path):
    """A copy of the baked project for one edit."""
    return Path(shutil.copytree(baked, tmp_path / baked.name))


def test_adding_an_operation_keeps_the_projects_tests_green(baked):
    handler = baked / "handler.py"
    original = handler.read_text(encoding="utf-8")
    try:
        handler.write_text(with_operation(original), encoding="utf-8")
        _rebuild(baked)
        run = _project_tests(baked)
        assert run.returncode == 0, run.stdout[-3000:]
        summary = [line for line in run.stdout.splitlines() if " passed" in line][-1]
        assert "skipped" not in summary and "failed" not in summary, summary
    finally:
        handler.write_text(original, encoding="utf-8")
        _rebuild(baked)


def test_removing_the_example_skips_its_tests_and_keeps_the_rest(baked):
    handler = baked / "handler.py"
    original = handler.read_text(encoding="utf-8")
    try:
        renamed = original.replace("def sumar(", "def multiplicar(").replace("numero1 + numero2", "numero1 * numero2")
        handler.write_text(renamed, encoding="utf-8")
        _rebuild(baked)
        run = _project_tests(baked)
        assert run.returncode == 0, run.stdout[-3000:]
        summary = [line for line in run.stdout.splitlines() if " passed" in line][-1]
        assert " skipped" in summary and "failed" not in summary, summary
        assert "the example operation sumar is no longer in handler.py" in run.stdout
    finally:
        handler.write_text(original, encoding="utf-8")
        _rebuild(baked)


def test_renaming_an_operation_keeps_the_checks_green(project):
    handler = project / "handler.py"
    text = handler.read_text(encoding="utf-8")
    handler.write_text(with_operation(text.replace("def sumar(", "def sumar_dos("), RESTAR.replace(
        "def restar(", "def restar_dos(")), encoding="utf-8")
    _rebuild(project)
    _assert_green(project, skips=True)


def test_removing_the_example_and_its_event_keeps_the_checks_green(project):
    handler = project / "handler.py"
    text = handler.read_text(encoding="utf-8")
    start = text.index("@plugin.operation(read_only=True, invoking=")
    end = text.index("\n\nlambda_handler = plugin.lambda_handler")
    handler.write_text(text[:start].rstrip("\n") + "\n" + RESTAR + text[end:], encoding="utf-8")
    (project / "events" / "post_sumar.json").unlink()
    _rebuild(project)
    run = _assert_green(project, skips=True)
    assert "the example operation sumar is no longer in handler.py" in run.stdout


def test_making_api_keys_twice_keeps_the_checks_green(project):
    for name in ("ci-bot", "a-much-longer-laptop-name"):
        made = subprocess.run([sys.executable, "-m", "plugin_tools.keys", "new", name], cwd=project,
                              capture_output=True, text=True, timeout=60, check=False)
        assert made.returncode == 0, made.stderr
    text = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert text.count("  \"") == 2, text
    _assert_green(project)


def _tiny_wheel(folder: Path) -> Path:
    """A pure-Python wheel built here (no network): saludo_util 1.0, which imports logging."""
    files = {
        "saludo_util/__init__.py": 'import logging\n\nLOG = logging.getLogger(__name__)\n\n\n'
                                   'def saludo(nombre: str) -> str:\n    return f"Hola, {nombre}"\n',
        "saludo_util-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: saludo-util\nVersion: 1.0\n",
        "saludo_util-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                           "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files["saludo_util-1.0.dist-info/RECORD"] = "\n".join([*record, "saludo_util-1.0.dist-info/RECORD,,"]) + "\n"
    wheel = folder / "saludo_util-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return wheel


PACKAGE_OPERATION = '''

class Saludo(TypedDict):
    texto: str


@plugin.operation(read_only=True)
def saludar(nombre: str) -> Saludo:
    """Saluda por su nombre.

    Args:
        nombre: A quién saludar.
    """
    LOG.info("saludando")
    return {"texto": saludo_util.saludo(nombre)}
'''


def test_a_package_and_top_level_imports_keep_the_checks_green(project, tmp_path):
    """A package in requirements.txt (a local wheel: no network), imported at the top of handler.py
    with the standard library's logging: the zip ships it, the local tests import it (installed as
    `pip install -r requirements-dev.txt` would), and the cold-start budget counts only what the
    runtime adds, not what handler.py declared."""
    wheel = _tiny_wheel(tmp_path)
    (project / "requirements.txt").write_text(
        (project / "requirements.txt").read_text(encoding="utf-8") + f"{wheel}\n", encoding="utf-8")
    assert "-r requirements.txt" in (project / "requirements-dev.txt").read_text(encoding="utf-8")
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                              "--disable-pip-version-check", "--target", str(site), "-r", "requirements.txt"],
                             cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert install.returncode == 0, install.stderr
    handler = project / "handler.py"
    text = handler.read_text(encoding="utf-8")
    imports = "from typing import Annotated, TypedDict\n\nfrom plugin_runtime import Field, Plugin\n"
    assert imports in text
    text = text.replace(imports, "import logging\nfrom typing import Annotated, TypedDict\n\nimport saludo_util\n\n"
                                 "from plugin_runtime import Field, Plugin\n\nLOG = logging.getLogger(__name__)\n")
    handler.write_text(with_operation(text, PACKAGE_OPERATION), encoding="utf-8")
    env = {"PYTHONPATH": str(site)}
    build = subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project, capture_output=True,
                           text=True, timeout=300, check=False, env={**os.environ, **env})
    assert build.returncode == 0, build.stderr
    with zipfile.ZipFile(project / "lambda.zip") as zf:
        assert "saludo_util/__init__.py" in zf.namelist()
    _assert_green(project, env)
