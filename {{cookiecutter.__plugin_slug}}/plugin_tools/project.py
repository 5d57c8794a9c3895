"""The project as the development tools see it: its folder, its settings in terraform.tfvars and
its Plugin, imported from the handler module those settings name.

Every tool (build, check, serve, invoke) starts here; nothing here imports another tool.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import traceback
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
_TFVAR = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*(?:#.*)?$')


class BuildError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def read_tfvars(project: Path = PROJECT) -> dict[str, str]:
    """The string settings in terraform.tfvars, so names and paths are written only there."""
    path = project / "terraform.tfvars"
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _TFVAR.match(line)
            if match:
                values[match.group(1)] = json.loads(match.group(2))
    return values


def load_plugin(project: Path = PROJECT, handler: str | None = None):
    """Import the handler module named in terraform.tfvars and return its Plugin."""
    handler = handler or read_tfvars(project).get("lambda_handler", "handler.lambda_handler")
    module_name, _, attr = handler.rpartition(".")
    sys.dont_write_bytecode = True  # keep a fresh bake free of __pycache__ folders
    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        where = f"{Path(exc.filename or module_name).name}, line {exc.lineno}"
        raise BuildError(f"cannot import {module_name}.py: SyntaxError: {exc.msg} ({where})") from None
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        detail = " ".join(str(exc).split())
        raise BuildError(f"cannot import {module_name}.py: {type(exc).__name__}: {detail} "
                         f"({Path(frame.filename).name}, line {frame.lineno})") from None
    entry = getattr(module, attr, None)
    plugin = getattr(entry, "__self__", None)
    if plugin is None or not hasattr(plugin, "operations"):
        raise BuildError(f"{handler} must be a Plugin's lambda_handler (lambda_handler = plugin.lambda_handler)")
    return plugin
