"""ruff over the template's own Python (hooks, tests, benchmarks). The generated project is
linted inside each bake (tests/test_build.py), with the project's own settings; naming the
folders here keeps ruff from reading the template's unrendered pyproject.toml."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_template_code_is_ruff_clean():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "hooks", "tests", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
