"""The project as the development tools see it: its folder, its settings in terraform.tfvars and
its Plugin, imported from the handler module those settings name.

Every tool (build, check, serve, invoke) starts here; nothing here imports another tool.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import traceback
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
_TFVAR = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*(?:#.*)?$')
_STRING = r'"(?:[^"\\]|\\.)*"'
# One entry of an HCL map of strings ("name" = "value" or name = "value"), with its separator.
_MAP_ENTRY = re.compile(r'\s*(' + _STRING + r'|[A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(' + _STRING + r')\s*,?')
SECRETS_FILE = ".secrets.env"  # local values of the secrets (git-ignored); deployed ones live in SSM


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


def _closing_brace(line: str) -> int | None:
    """Where the ``{`` that opens a map on ``line`` closes on the same line (None if it does not);
    braces and ``#`` inside quoted strings do not count, nor anything after a comment."""
    masked = re.sub(_STRING, lambda m: "x" * len(m.group()), line).split("#", 1)[0]
    close = masked.find("}", masked.find("{") + 1)
    return close if close != -1 else None


def map_block(text: str, name: str) -> tuple[int, int] | None:
    """(first, last) line index of ``name = { ... }`` in tfvars text, or None when absent."""
    lines = text.splitlines()
    start = re.compile(r"^\s*" + re.escape(name) + r"\s*=\s*\{")
    for i, line in enumerate(lines):
        if start.match(line):
            if _closing_brace(line) is not None:
                return i, i
            for j in range(i + 1, len(lines)):
                if lines[j].strip().startswith("}"):
                    return i, j
            raise BuildError(f"terraform.tfvars: the {name} map opened on line {i + 1} is never closed")
    return None


def read_tfvars_map(project: Path, name: str) -> dict[str, str]:
    """A map of strings in terraform.tfvars (``api_keys``, ``settings``): entries one per line, as
    plugin_tools.keys writes them, or several on a line (``{ A = "x", B = "y" }``)."""
    path = project / "terraform.tfvars"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = map_block(text, name)
    if found is None:
        return {}
    lines = text.splitlines()[found[0]:found[1] + 1]
    one = lines[0]
    inner = [one[one.index("{") + 1:_closing_brace(one)]] if found[0] == found[1] else lines[1:-1]
    values: dict[str, str] = {}
    for number, line in enumerate(inner, start=found[0] + (1 if found[0] == found[1] else 2)):
        if not line.strip() or line.strip().startswith("#"):
            continue
        position = 0
        while (entry := _MAP_ENTRY.match(line, position)) is not None:
            key, value = entry.groups()
            values[json.loads(key) if key.startswith('"') else key] = json.loads(value)
            position = entry.end()
        rest = line[position:].strip()
        if position == 0 or (rest and not rest.startswith("#")):
            raise BuildError(f"terraform.tfvars, line {number}: write {name} entries as "
                             '"name" = "value"')
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
    if tfvars.get("openai_apps_challenge"):  # main.tf sets it only when given, like this
        env["PLUGIN_APPS_CHALLENGE"] = tfvars["openai_apps_challenge"]
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


def read_tfvars_block(name: str, project: Path = PROJECT) -> str | None:
    """The text between the brackets of ``name = {...}`` or ``name = [...]`` in terraform.tfvars
    (the simple forms the README shows; comments and nested values are not supported)."""
    path = project / "terraform.tfvars"
    if not path.exists():
        return None
    text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith(("#", "//")))
    match = re.search(r"^\s*" + re.escape(name) + r"\s*=\s*([\[{])", text, re.M)
    if match is None:
        return None
    closing = "}" if match.group(1) == "{" else "]"
    end = text.find(closing, match.end())
    return text[match.end():end if end != -1 else len(text)]


def read_tfvars_settings(project: Path = PROJECT) -> dict[str, str]:
    """The ``settings`` map of terraform.tfvars: the Lambda's environment once deployed."""
    return read_tfvars_map(project, "settings")


def read_tfvars_secrets(project: Path = PROJECT) -> list[str]:
    """The names in the ``secrets`` list of terraform.tfvars."""
    return [json.loads(v) for v in re.findall(_STRING, read_tfvars_block("secrets", project) or "")]


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines (optionally quoted; # comments and blank lines skipped), as in .secrets.env."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_local_environment(project: Path = PROJECT) -> list[str]:
    """Run locally what the deployment configures: the ``settings`` of terraform.tfvars and the
    secrets of .secrets.env become environment variables (ones already set win), the metrics
    namespace is ``name`` (as main.tf sets it), and the standard
    ``logging`` module writes JSON lines tagged with the request id, as Lambda's runtime does.
    ctx.store and ctx.app_store use the SQLite file .data/store.sqlite3 (git-ignored) unless
    PLUGIN_STORE_TABLE names a DynamoDB table. Returns the declared secrets that have no local value."""
    for name, value in {**read_tfvars_settings(project), **read_env_file(project / SECRETS_FILE)}.items():
        os.environ.setdefault(name, value)
    # main.tf names the metrics namespace after the deployment: the same locally, not name_for_model
    os.environ.setdefault("PLUGIN_METRICS_NAMESPACE", read_tfvars(project).get("name", "plugin"))
    install_local_logging()
    if not os.environ.get("PLUGIN_STORE_TABLE"):
        from .store_sqlite import DEFAULT_PATH, install

        install(project / DEFAULT_PATH)
    return [name for name in read_tfvars_secrets(project) if not os.environ.get(name)]


def json_log_handler():
    """A logging handler writing JSON lines to stderr, tagged with the id of the request being
    served: what Lambda's Python runtime does for the logging module with log_format = JSON."""
    import logging

    from plugin_runtime.model_log import current, encode_line, exception_fields, level_name, timestamp

    class JsonLines(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            data = {"timestamp": timestamp(record.created), "level": level_name(record.levelname),
                    "message": record.getMessage(), "logger": record.name,
                    "requestId": getattr(current(), "request_id", None)}
            if record.exc_info and record.exc_info[1] is not None:
                data.update(exception_fields(record.exc_info[1]))
            return encode_line(data)

    class Stderr(logging.StreamHandler):
        """Writes to sys.stderr as it is at each line (tests and tools swap it), like the runtime."""

        @property
        def stream(self) -> object:
            return sys.stderr

        @stream.setter
        def stream(self, value: object) -> None:
            pass

    handler = Stderr()
    handler.setFormatter(JsonLines())
    return handler


def install_local_logging() -> None:
    """Give the root logger the JSON handler (unless it has a handler already), at the level
    AWS_LAMBDA_LOG_LEVEL names (INFO by default), as Lambda's runtime does."""
    import logging

    from plugin_runtime.model_log import LEVELS, level_name

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(json_log_handler())
        root.setLevel(LEVELS[level_name(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO"))])
