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
# One entry of an HCL map written one per line: "name" = "value" (or name = "value").
_MAP_ENTRY = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*,?\s*(?:#.*)?$')


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


def map_block(text: str, name: str) -> tuple[int, int] | None:
    """(first, last) line index of ``name = { ... }`` in tfvars text, or None when absent."""
    lines = text.splitlines()
    start = re.compile(r"^\s*" + re.escape(name) + r"\s*=\s*\{")
    for i, line in enumerate(lines):
        if start.match(line):
            if line.rstrip().endswith("}"):
                return i, i
            for j in range(i + 1, len(lines)):
                if lines[j].strip().startswith("}"):
                    return i, j
            raise BuildError(f"terraform.tfvars: the {name} map opened on line {i + 1} is never closed")
    return None


def read_tfvars_map(project: Path, name: str) -> dict[str, str]:
    """A map of strings in terraform.tfvars written one entry per line (as plugin_tools.keys writes it)."""
    path = project / "terraform.tfvars"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = map_block(text, name)
    if found is None:
        return {}
    lines = text.splitlines()[found[0]:found[1] + 1]
    inner = [lines[0].split("{", 1)[1].rsplit("}", 1)[0]] if found[0] == found[1] else lines[1:-1]
    values: dict[str, str] = {}
    for number, line in enumerate(inner, start=found[0] + (1 if found[0] == found[1] else 2)):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _MAP_ENTRY.match(line)
        if not match:
            raise BuildError(f"terraform.tfvars, line {number}: write {name} entries one per line as "
                             '"name" = "value"')
        key = match.group(1)
        values[json.loads(key) if key.startswith('"') else key] = json.loads(match.group(2))
    return values


def auth_environment(project: Path = PROJECT) -> dict[str, str]:
    """The runtime's auth settings as Terraform hands them to the Lambda (main.tf), from
    terraform.tfvars: so the local server and invoke behave like the deployed API."""
    tfvars = read_tfvars(project)
    env = {"PLUGIN_AUTH": tfvars.get("auth", "none"),
           "PLUGIN_API_KEYS": json.dumps(read_tfvars_map(project, "api_keys"), sort_keys=True),
           "PLUGIN_OPENAI_VERIFICATION_TOKEN": tfvars.get("openai_verification_token", "")}
    if env["PLUGIN_AUTH"] == "oauth":
        env["PLUGIN_OAUTH_SCOPE_PREFIX"] = oauth_scope_prefix(tfvars)
    return env


def oauth_scope_prefix(tfvars: dict[str, str]) -> str:
    """What the provider puts before this API's scope names, as main.tf computes it: Cognito's
    resource server is named after the plugin; another provider's prefix is a setting."""
    if tfvars.get("oauth_issuer"):
        return tfvars.get("oauth_scope_prefix", "")
    return tfvars.get("name", "plugin") + "/"


def apply_auth_environment(project: Path = PROJECT) -> dict[str, str]:
    """Put auth_environment() into os.environ, except what the environment already sets."""
    import os

    applied = {}
    for key, value in auth_environment(project).items():
        applied[key] = os.environ.setdefault(key, value)
    return applied

