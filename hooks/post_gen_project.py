"""Build lambda.zip and openapi.json with the generated project's own build code.

Standard library only. It runs exactly the command the user reruns later
(`python3 -m plugin_tools.build`), so the first build and every later one agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def build_command() -> list[str]:
    """The project's build, run with the interpreter that runs cookiecutter."""
    return [sys.executable, "-m", "plugin_tools.build"]


def main(project: Path) -> int:
    result = subprocess.run(build_command(), cwd=project, check=False)
    if result.returncode != 0:
        print("ERROR: the project was generated but its first build failed; "
              "see the message above, then run `make build` in the project", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
