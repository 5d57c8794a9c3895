"""Lint manifest.json, openapi.json and the MCP tools against the rules of each surface.

    python3 -m plugin_tools.check                          # the committed files
    python3 -m plugin_tools.check --origin https://...     # also what that origin serves

The rules are the ones ChatGPT plugins, GPT Actions and MCP clients apply when they read these
documents; breaking one usually shows up far from its cause (an action silently skipped, a
"CORS" error), so the build runs this check and refuses to produce a zip that breaks them.
Limits only observed by the community are warnings. The rules of each surface live in
``lint_manifest``, ``lint_openapi``, ``lint_mcp`` and ``lint_apps`` (widgets, resources,
prompts); this module applies them to the project and to a deployed origin. Standard library
only.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from .lint_apps import check_apps, check_tool_meta, check_widget_files
from .lint_common import ERROR, WARNING, Finding, gate, is_local, report
from .lint_directory import check_directory, check_directory_tools
from .lint_manifest import check_manifest
from .lint_mcp import check_tools, tools_of
from .lint_openapi import check_openapi
from .project import BuildError, load_plugin, read_tfvars

__all__ = ["ERROR", "WARNING", "Finding", "check_apps", "check_built", "check_directory", "check_manifest",
           "check_manifest_file", "check_openapi", "check_origin", "check_project", "check_tools", "check_widget_files",
           "gate", "main", "report"]
FETCH_TIMEOUT = 15  # seconds: what ChatGPT allowed for fetching the manifest


def check_manifest_file(path: Path) -> list[Finding]:
    """manifest.json as committed (its JSON first: a broken file must not reach the build)."""
    manifest, findings = _load(path)
    return findings if manifest is None else check_manifest(manifest, file=path.name)


def check_built(plugin, openapi: dict, origin: str, shipped: set[str] | None = None) -> list[Finding]:
    """What the build checks after writing openapi.json for ``origin``: that document, the tool
    names, resources and prompts (``shipped``: the files lambda.zip will hold), so a zip that
    breaks a rule is never produced."""
    deployed = not is_local(urlsplit(origin).hostname)
    return [*check_openapi(openapi, deployed=deployed), *check_tools(tools_of(plugin), file="handler.py (MCP tools)"),
            *check_apps(plugin, shipped)]


def _load(path: Path) -> tuple[object, list[Finding]]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), []
    except OSError as exc:
        return None, [Finding(ERROR, path.name, "$", f"cannot read the file: {exc.strerror or exc}")]
    except ValueError as exc:
        return None, [Finding(ERROR, path.name, "$", f"is not valid JSON: {exc}")]


def check_project(project: Path) -> list[Finding]:
    """The committed manifest.json and openapi.json, and the tool names handler.py defines."""
    tfvars = read_tfvars(project)
    findings = check_manifest_file(project / tfvars.get("path_to_manifest", "manifest.json"))
    openapi, problems = _load(project / tfvars.get("path_to_openapi", "openapi.json"))
    findings += problems
    if openapi is not None:
        server = openapi.get("servers") if isinstance(openapi, dict) else None
        url = server[0].get("url") if isinstance(server, list) and server and isinstance(server[0], dict) else None
        host = urlsplit(url).hostname if isinstance(url, str) else None
        findings += check_openapi(openapi, deployed=host is not None and not is_local(host))
    try:
        plugin = load_plugin(project, tfvars.get("lambda_handler"))
    except BuildError as exc:
        findings.append(Finding(ERROR, "handler.py", "$", str(exc)))
    else:
        findings += check_tools(tools_of(plugin), file="handler.py (MCP tools)")
        findings += check_widget_files(plugin, project) + check_apps(plugin)
        findings += check_directory(plugin)
    return findings


def _fetch(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=data, headers=headers or {},  # noqa: S310 (scheme checked)
                                     method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (scheme checked)
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _served_json(url: str) -> tuple[object, list[Finding]]:
    try:
        status, headers, body = _fetch(url)
    except (OSError, ValueError) as exc:
        return None, [Finding(ERROR, url, "$", f"cannot fetch it: {getattr(exc, 'reason', exc)}")]
    if status != 200:
        return None, [Finding(ERROR, url, "$", f"answered HTTP {status}, not 200")]
    findings = []
    if "json" not in headers.get("content-type", ""):
        findings.append(Finding(WARNING, url, "$", f"is served as {headers.get('content-type')!r}, "
                                "not application/json"))
    try:
        return json.loads(body.decode("utf-8")), findings
    except ValueError as exc:
        return None, [*findings, Finding(ERROR, url, "$", f"is not valid JSON (clients report this as a CORS "
                                         f"or fetch error): {exc}")]


def _rpc_result(headers: dict, body: bytes) -> object:
    """The JSON-RPC message of an MCP answer, sent as plain JSON or as one SSE event."""
    text = body.decode("utf-8")
    if "text/event-stream" in headers.get("content-type", ""):
        data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        text = data[-1] if data else ""
    return json.loads(text)


def served_tools(origin: str, version: str = "2025-06-18") -> list:
    """tools/list from ``origin``/mcp, after the handshake a 2025-06-18 client (ChatGPT) makes."""
    url = origin.rstrip("/") + "/mcp"
    base = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": version, "capabilities": {},
                        "clientInfo": {"name": "plugin_tools.check", "version": "1"}}}
    status, headers, body = _fetch(url, json.dumps(hello).encode(), base)
    if status != 200:
        raise ValueError(f"initialize answered HTTP {status}")
    agreed = _rpc_result(headers, body).get("result", {}).get("protocolVersion", version)
    follow = {**base, "mcp-protocol-version": agreed}
    if headers.get("mcp-session-id"):
        follow["mcp-session-id"] = headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    _fetch(url, json.dumps(note).encode(), follow)
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    status, headers, body = _fetch(url, json.dumps(listing).encode(), follow)
    answer = _rpc_result(headers, body)
    if status != 200 or "result" not in answer:
        raise ValueError(f"tools/list answered HTTP {status}: {json.dumps(answer.get('error'))[:200]}")
    return answer["result"].get("tools")


def check_origin(origin: str, committed_openapi: object = None) -> list[Finding]:
    """The manifest, OpenAPI document and MCP tools as ``origin`` serves them."""
    origin = origin.rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Finding(ERROR, origin, "$", "--origin must be an absolute URL such as https://abc.execute-api."
                        "us-east-1.amazonaws.com")]
    deployed = not is_local(parts.hostname)
    findings: list[Finding] = []
    if deployed and (parts.scheme != "https" or parts.port not in (None, 443)):
        findings.append(Finding(ERROR, origin, "$", "a deployed API must be served over https on port 443"))
    manifest, problems = _served_json(origin + "/.well-known/ai-plugin.json")
    findings += problems
    if manifest is not None:
        findings += check_manifest(manifest, origin=origin, file=origin + "/.well-known/ai-plugin.json")
    openapi_url = origin + "/openapi.json"
    openapi, problems = _served_json(openapi_url)
    findings += problems
    if openapi is not None:
        findings += check_openapi(openapi, deployed=deployed, file=openapi_url, origin=origin)
        committed_url = None
        if isinstance(committed_openapi, dict) and isinstance(committed_openapi.get("servers"), list):
            committed_url = (committed_openapi["servers"] or [{}])[0].get("url")
        if committed_url == origin and openapi != committed_openapi:
            findings.append(Finding(WARNING, openapi_url, "$", "differs from the committed openapi.json; "
                                    "deploy the current build (terraform apply)"))
    try:
        tools = served_tools(origin)
    except (OSError, ValueError, AttributeError) as exc:
        findings.append(Finding(ERROR, origin + "/mcp", "$", f"tools/list failed: {getattr(exc, 'reason', exc)}"))
    else:
        findings += check_tools(tools, file=origin + "/mcp tools/list")
        findings += check_tool_meta(tools, file=origin + "/mcp tools/list")
        findings += check_directory_tools(tools, file=origin + "/mcp tools/list (directory scan)")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.check", description=__doc__.split("\n")[0])
    parser.add_argument("--origin", help="also check what this deployed origin serves, e.g. the api_url output")
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    findings = check_project(args.project)
    if args.origin:
        committed, _ = _load(args.project / read_tfvars(args.project).get("path_to_openapi", "openapi.json"))
        findings += check_origin(args.origin, committed)
    return report(findings)


if __name__ == "__main__":
    sys.exit(main())
