"""The README's two commands are the ones CI and users actually run."""

from __future__ import annotations

import re

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
