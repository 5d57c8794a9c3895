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
