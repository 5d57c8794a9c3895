"""The baked project's own tests belong to the user: they keep passing when the user adds,
renames or removes operations in handler.py (tests of the example skip, saying why)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bake_support import bake, with_operation


@pytest.fixture(scope="module")
def baked(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("edits"))


def _rebuild(project) -> None:
    run = subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr


def _project_tests(project) -> subprocess.CompletedProcess:
    """The project's tests with the reasons for skips shown (its pyproject already says -q)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider"], cwd=project,
                          capture_output=True, text=True, timeout=300, check=False)


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
