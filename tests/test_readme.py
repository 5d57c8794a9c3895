"""The README's two commands are the ones CI and users actually run."""

from __future__ import annotations

import re
import textwrap

from bake_support import TEMPLATE


def quick_start_commands() -> list[str]:
    text = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_quick_start_has_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    generate, test = commands
    assert "cookiecutter --no-input" in generate and "plugin_tools.serve" in generate
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (TEMPLATE / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == quick_start_commands()[1]


def test_every_operation_option_is_in_the_generated_readme():
    """Each keyword of @plugin.operation has a row, with its default, in the options table."""
    import ast

    project = TEMPLATE / "{{cookiecutter.__plugin_slug}}"
    tree = ast.parse((project / "plugin_runtime" / "plugin.py").read_text(encoding="utf-8"))
    (operation,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "operation"]
    options = [a.arg for a in operation.args.kwonlyargs]
    assert len(options) >= 11
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Operations: options, types and errors", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in section.splitlines() if line.startswith("| `")}
    missing = [o for o in options if o not in rows]
    assert not missing, f"README.md documents no row for {missing}"
    for option in options:
        assert len(rows[option].split("|")) == 7, rows[option]  # option, default, REST, OpenAPI, MCP


def test_every_error_status_is_in_the_generated_readme():
    import re as _re

    project = TEMPLATE / "{{cookiecutter.__plugin_slug}}"
    source = (project / "plugin_runtime" / "model_operation.py").read_text(encoding="utf-8")
    table = source.split("ERROR_STATUSES = {", 1)[1].split("}", 1)[0]
    statuses = dict(_re.findall(r'(\d{3}): "(\w+)"', table))
    assert len(statuses) == 10
    readme = (project / "README.md").read_text(encoding="utf-8")
    for status, code in statuses.items():
        assert _re.search(rf"^\| {status}( \(default\))? \| `{code}` \|", readme, flags=_re.M), status


# -- the generated README, per auth mode (issue 16, section 7) --------------------------------------
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402
from bake_support import bake, with_operation  # noqa: E402


@pytest.fixture(scope="module", params=["none", "api_key", "oauth"])
def baked(request, tmp_path_factory):
    return request.param, bake(tmp_path_factory.mktemp(f"readme-{request.param}"), auth=request.param)


def section(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def test_the_readme_says_only_what_its_auth_mode_does(baked):
    auth, project = baked
    text = (project / "README.md").read_text(encoding="utf-8")
    assert "{%" not in text and "{{" not in text
    assert ("### Who may call: API keys" in text) == (auth == "api_key")
    assert ("### Who may call: OAuth sign-in" in text) == (auth == "oauth")
    assert ("#### Signing in locally" in text) == (auth == "oauth")
    connect = section(text, "## 4. Connect an AI client")
    chatgpt = next(line for line in connect.splitlines() if "server URL = the `mcp_url`, Authentication" in line)
    assert ("No authentication" in chatgpt) == (auth == "none") or auth == "api_key"
    assert ("OAuth" in chatgpt) == (auth == "oauth")
    assert not re.search(r"creates \d+ resources", text)  # a count that drifts from what apply creates
    assert "Python 3.10+" in text and "PLUGIN_AUTH=none make serve" in text


def test_your_first_own_operation_works_as_written(baked):
    """The README's operation and its test, pasted where it says, pass after `make build`."""
    _, project = baked
    steps = section((project / "README.md").read_text(encoding="utf-8"), "## Your first own operation")
    operation, test = (textwrap.dedent(block) for block in re.findall(r"```python\n(.+?)```", steps, flags=re.S))
    handler = project / "handler.py"
    handler.write_text(with_operation(handler.read_text(encoding="utf-8"), "\n\n" + operation), encoding="utf-8")
    (project / "tests" / "test_restar.py").write_text(test, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    build = subprocess.run([sys.executable, "-m", "plugin_tools.build"], cwd=project, capture_output=True,
                           text=True, timeout=300, env=env)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests/test_restar.py",
                          "tests/test_callers.py"], cwd=project, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0 and "test_restar.py ." in run.stdout and "3 passed" in run.stdout, run.stdout[-2000:]
