"""Baking helpers shared by the template tests: bake a project, and check what every bake must be."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import hcl2
from cookiecutter.main import cookiecutter
from openapi_spec_validator import validate as validate_openapi

TEMPLATE = Path(__file__).resolve().parent.parent
BINARY = {".png", ".zip"}
LEFTOVER = re.compile(r"\{\{\s*cookiecutter\.|\{%|\{\{-?\s*\w")
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")  # ${{ github.ref }}: GitHub's syntax, copied raw


# A second operation as a user would add it to handler.py (after sumar, before lambda_handler).
RESTAR = '''

@plugin.operation(read_only=True)
def restar(numero1: Numero, numero2: Numero) -> Suma:
    """Resta dos números y devuelve el resultado.

    Args:
        numero1: El minuendo.
        numero2: El sustraendo.
    """
    return {"resultado": numero1 - numero2}
'''


def with_operation(handler_source: str, operation: str = RESTAR) -> str:
    """handler.py's text with ``operation`` added where a user would write it."""
    marker = "\n\nlambda_handler = plugin.lambda_handler"
    assert marker in handler_source, "handler.py no longer ends with lambda_handler = plugin.lambda_handler"
    return handler_source.replace(marker, operation + marker)


def bake(output_dir: Path, **context: str) -> Path:
    """Bake the template without prompts; returns the project folder."""
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=context))


def text_files(project: Path) -> list[Path]:
    return [p for p in sorted(project.rglob("*")) if p.is_file() and p.suffix not in BINARY]


def assert_sound_bake(project: Path) -> dict:
    """What every bake must be: no Jinja left, valid JSON, parseable HCL, a valid manifest and
    OpenAPI document, a built zip, no stray caches. Returns the manifest."""
    for path in text_files(project):
        text = path.read_text(encoding="utf-8")
        scanned = GITHUB_EXPRESSION.sub("", text) if ".github" in path.parts else text
        match = LEFTOVER.search(scanned)
        where = path.relative_to(project)
        assert match is None, f"leftover Jinja in {where}: {scanned[match.start():match.start() + 40]!r}"
        if path.suffix == ".json":
            json.loads(text)
        if path.suffix in (".tf", ".tfvars"):
            hcl2.loads(text)
    assert not list(project.rglob("__pycache__")), "the bake left __pycache__ folders"
    assert (project / "lambda.zip").stat().st_size > 0
    manifest = json.loads((project / "manifest.json").read_text(encoding="utf-8"))
    assert_manifest_rules(manifest)
    openapi = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    validate_openapi(openapi)
    assert openapi["info"]["title"] == manifest["name_for_human"]
    return manifest


def assert_manifest_rules(doc: dict) -> None:
    """The ChatGPT plugin manifest rules (spec-facts section 1)."""
    assert doc["schema_version"] == "v1"
    assert 1 <= len(doc["name_for_human"]) <= 20
    assert re.fullmatch(r"[A-Za-z0-9]{1,50}", doc["name_for_model"])
    assert 1 <= len(doc["description_for_human"]) <= 100
    assert 1 <= len(doc["description_for_model"]) <= 8000
    assert doc["auth"] == {"type": "none"}
    assert doc["api"]["type"] == "openapi" and doc["api"]["url"].endswith("/openapi.json")
    assert doc["logo_url"].endswith(".png")
    assert "@" in doc["contact_email"]
    assert doc["legal_info_url"].startswith(("http://", "https://"))


def run_project_tests(project: Path) -> subprocess.CompletedProcess:
    """The baked project's own test suite, as its README runs it."""
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                          capture_output=True, text=True, timeout=300, check=False)


def _project_module(name: str) -> bool:
    return name.split(".")[0] in ("handler", "plugin_runtime", "plugin_tools")


@contextlib.contextmanager
def project_modules(project: Path) -> Iterator[None]:
    """Import a baked project's modules (handler, plugin_runtime) inside the block, fresh, and
    forget them afterwards, so tests of different bakes never see each other's code."""
    saved = {m: sys.modules.pop(m) for m in list(sys.modules) if _project_module(m)}
    sys.path.insert(0, str(project))
    try:
        yield
    finally:
        sys.path.remove(str(project))
        for name in [m for m in sys.modules if _project_module(m)]:
            del sys.modules[name]
        sys.modules.update(saved)


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a server to stop, and make sure it has."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
