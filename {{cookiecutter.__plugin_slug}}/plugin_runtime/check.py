"""Lint manifest.json, openapi.json and the MCP tool names against the rules of each surface.

    python3 -m plugin_runtime.check                          # the committed files
    python3 -m plugin_runtime.check --origin https://...     # also what that origin serves

The rules are the ones ChatGPT plugins, GPT Actions and MCP clients apply when they read these
documents; breaking one usually shows up far from its cause (an action silently skipped, a
"CORS" error), so the build runs this check and refuses to produce a zip that breaks them.
Limits only observed by the community are warnings. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .openapi import DESCRIPTION_LIMIT, PARAM_DESCRIPTION_LIMIT, SUMMARY_LIMIT

ERROR = "ERROR"
WARNING = "WARNING"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 (a name, not a bind)
AUTH_TYPES = ("none", "service_http", "user_http", "oauth")
AUTH_KINDS = ("bearer", "basic")
OAUTH_FIELDS = ("client_url", "scope", "authorization_url", "authorization_content_type", "verification_tokens")
MANIFEST_FIELDS = ("schema_version", "name_for_human", "name_for_model", "description_for_human",
                   "description_for_model", "auth", "api", "logo_url", "contact_email", "legal_info_url")
MAX_OPERATIONS = 30
MAX_SPEC_BYTES = 1_000_000
FETCH_TIMEOUT = 15  # seconds: what ChatGPT allowed for fetching the manifest
_NAME_FOR_MODEL = re.compile(r"[A-Za-z0-9]+")
_OPERATION_ID = re.compile(r"[A-Za-z0-9_-]+")
_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
               "unevaluatedProperties", "unevaluatedItems")


@dataclass(frozen=True)
class Finding:
    """One broken rule: where it is (file and JSON path) and what to do about it."""

    level: str
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.file} {self.path}: {self.message}"


def json_path(*parts: str | int) -> str:
    """``$.paths["/sumar"].post``: the address of a value, readable and unambiguous."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.fullmatch(part):
            out += f".{part}"
        else:
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return out


class _Report:
    """Collects findings for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.findings: list[Finding] = []

    def error(self, path: tuple, message: str) -> None:
        self.findings.append(Finding(ERROR, self.file, json_path(*path), message))

    def warn(self, path: tuple, message: str) -> None:
        self.findings.append(Finding(WARNING, self.file, json_path(*path), message))

    def text(self, doc: dict, key: str, lo: int, hi: int, path: tuple = ()) -> str | None:
        """A required string field of ``lo``..``hi`` characters; returns it when it is a string."""
        value = doc.get(key)
        where = (*path, key)
        if key not in doc:
            self.error(where, "is missing")
        elif not isinstance(value, str):
            self.error(where, f"must be a string, not {_kind(value)}")
        elif not lo <= len(value) <= hi:
            self.error(where, f"is {len(value)} characters; the limit is {lo} to {hi}")
        return value if isinstance(value, str) else None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def is_local(host: str | None) -> bool:
    """Hosts only a developer's own machine reaches; plain HTTP is allowed only for them."""
    host = (host or "").lower().strip("[]")
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def _url(report: _Report, path: tuple, value: object, what: str) -> tuple[str, str, int | None] | None:
    """An absolute http(s) URL; returns (scheme, host, port) or None after reporting."""
    if not isinstance(value, str):
        report.error(path, f"{what} must be a string, not {_kind(value)}")
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        report.error(path, f"{value[:80]!r} is not a valid URL ({exc})")
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        report.error(path, f"{value[:80]!r} must be an absolute http(s) URL ({what})")
        return None
    return parts.scheme, parts.hostname.lower(), port


def _secure(report: _Report, path: tuple, value: str, scheme: str, host: str, port: int | None) -> None:
    """Remote hosts must be HTTPS on 443; only localhost may use plain HTTP."""
    if is_local(host):
        return
    if scheme != "https":
        report.error(path, f"{value[:80]!r} must use https:// (plain http is only allowed for localhost)")
    elif port not in (None, 443):
        report.error(path, f"{value[:80]!r} must use port 443, not {port}")


def _same_site(host: str, other: str) -> bool:
    """The same host, or one a subdomain of the other (api.url may live on a subdomain)."""
    return host == other or host.endswith("." + other) or other.endswith("." + host)


def check_manifest(doc: object, origin: str | None = None, file: str = "manifest.json") -> list[Finding]:
    """The ChatGPT plugin manifest rules. With ``origin`` (the document as served from there),
    every URL must also be on that origin's host."""
    report = _Report(file)
    if not isinstance(doc, dict):
        report.error((), f"the manifest must be a JSON object, not {_kind(doc)}")
        return report.findings
    if doc.get("schema_version") != "v1":
        report.error(("schema_version",), f"must be \"v1\", not {json.dumps(doc.get('schema_version'))}")
    report.text(doc, "name_for_human", 1, 20)
    name = report.text(doc, "name_for_model", 1, 50)
    if name and not _NAME_FOR_MODEL.fullmatch(name):
        bad = "".join(sorted({c for c in name if not (c.isascii() and c.isalnum())}))
        report.error(("name_for_model",), f"{name!r} may use only letters and digits (found {bad!r})")
    report.text(doc, "description_for_human", 1, 100)
    report.text(doc, "description_for_model", 1, 8000)
    _check_auth(report, doc.get("auth"), "auth" in doc)
    hosts: dict[tuple, str] = {}
    api = doc.get("api")
    if not isinstance(api, dict):
        report.error(("api",), "must be an object: {\"type\": \"openapi\", \"url\": \"https://.../openapi.json\"}"
                     if "api" in doc else "is missing")
    else:
        if api.get("type") != "openapi":
            report.error(("api", "type"), f"must be \"openapi\", not {json.dumps(api.get('type'))}")
        found = _url(report, ("api", "url"), api.get("url"), "the OpenAPI document's URL")
        if found:
            _secure(report, ("api", "url"), api["url"], *found)
            hosts[("api", "url")] = found[1]
    if "logo_url" not in doc:
        report.error(("logo_url",), "is missing")
    else:
        found = _url(report, ("logo_url",), doc["logo_url"], "the logo's URL")
        if found:
            _secure(report, ("logo_url",), doc["logo_url"], *found)
            hosts[("logo_url",)] = found[1]
            logo = urlsplit(doc["logo_url"]).path.lower()
            if logo.endswith(".gif"):
                report.error(("logo_url",), "GIF logos are not accepted; use a PNG (512x512)")
            elif not logo.endswith(".png"):
                report.warn(("logo_url",), "should point at a PNG image (512x512)")
    email = doc.get("contact_email")
    if "contact_email" not in doc:
        report.error(("contact_email",), "is missing")
    elif not isinstance(email, str) or not _EMAIL.fullmatch(email):
        report.error(("contact_email",), f"{json.dumps(email)[:80]} is not an email address")
    if "legal_info_url" not in doc:
        report.error(("legal_info_url",), "is missing")
    else:
        _url(report, ("legal_info_url",), doc["legal_info_url"], "the legal information page")
    if len(set(hosts.values())) > 1:
        (api_host, logo_host) = hosts.get(("api", "url")), hosts.get(("logo_url",))
        if api_host and logo_host and not _same_site(api_host, logo_host):
            report.error(("logo_url",), f"is on {logo_host} but api.url is on {api_host}; "
                         "serve both from the API's own host")
    if origin:
        origin_host = (urlsplit(origin).hostname or "").lower()
        for path, host in hosts.items():
            if not _same_site(host, origin_host):
                report.error(path, f"is on {host}, not on {origin_host} where the manifest is served")
    for key in doc:
        if key not in MANIFEST_FIELDS:
            report.warn((key,), "is not a manifest field; consumers ignore it")
    return report.findings


def _check_auth(report: _Report, auth: object, present: bool) -> None:
    if not present:
        report.error(("auth",), "is missing; an open plugin says {\"type\": \"none\"}")
        return
    if not isinstance(auth, dict):
        report.error(("auth",), "must be an object such as {\"type\": \"none\"}, not " + _kind(auth))
        return
    kind = auth.get("type")
    if kind not in AUTH_TYPES:
        report.error(("auth", "type"), f"must be one of {', '.join(AUTH_TYPES)}, not {json.dumps(kind)}")
        return
    if kind in ("service_http", "user_http") and auth.get("authorization_type") not in AUTH_KINDS:
        report.error(("auth", "authorization_type"),
                     f"{kind} auth needs authorization_type \"bearer\" or \"basic\", "
                     f"not {json.dumps(auth.get('authorization_type'))}")
    needed = {"service_http": ("verification_tokens",), "oauth": OAUTH_FIELDS}.get(kind, ())
    for field in needed:
        if field not in auth:
            report.error(("auth", field), f"is required for {kind} auth")
    tokens = auth.get("verification_tokens")
    if "verification_tokens" in needed and "verification_tokens" in auth and not (
            isinstance(tokens, dict) and isinstance(tokens.get("openai"), str)):
        report.error(("auth", "verification_tokens"), "must be an object such as {\"openai\": \"<token>\"}")


def _walk_schema(report: _Report, schema: object, path: tuple) -> None:
    """Refuse the nullable forms GPT Actions do not understand, anywhere in a schema."""
    if not isinstance(schema, dict):
        return
    if "nullable" in schema:
        report.error((*path, "nullable"), "nullable is not understood by GPT Actions; make the value "
                     "optional (leave it out of required) instead")
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        report.error((*path, "type"), f"type {json.dumps(kind)} allows null, which GPT Actions do not "
                     "understand; make the value optional instead")
    for key in _SCHEMA_MAPS:
        sub = schema.get(key)
        if isinstance(sub, dict):
            for name, value in sub.items():
                _walk_schema(report, value, (*path, key, name))
    for key in _SCHEMA_LISTS:
        sub = schema.get(key)
        if isinstance(sub, list):
            for i, value in enumerate(sub):
                _walk_schema(report, value, (*path, key, i))
    for key in _SCHEMA_ONE:
        _walk_schema(report, schema.get(key), (*path, key))


def _walk_content(report: _Report, holder: object, path: tuple) -> None:
    """The schemas of a requestBody or response: content -> media type -> schema."""
    if isinstance(holder, dict) and isinstance(holder.get("content"), dict):
        for media, entry in holder["content"].items():
            if isinstance(entry, dict):
                _walk_schema(report, entry.get("schema"), (*path, "content", media, "schema"))


def _check_parameters(report: _Report, params: object, path: tuple) -> None:
    if params is None:
        return
    if not isinstance(params, list):
        report.error(path, f"must be an array, not {_kind(params)}")
        return
    for i, param in enumerate(params):
        where = (*path, i)
        if not isinstance(param, dict):
            report.error(where, f"must be an object, not {_kind(param)}")
            continue
        if "$ref" in param:
            report.error(where, "write the parameter inline: GPT Actions reject $ref parameters")
            continue
        if param.get("in") in ("header", "cookie"):
            report.error((*where, "in"), f"GPT Actions send no custom {param['in']}s (only the auth header); "
                         "use a query or path parameter")
        if param.get("in") == "path" and param.get("required") is not True:
            report.error((*where, "required"), "a path parameter must say \"required\": true")
        desc = param.get("description")
        if isinstance(desc, str) and len(desc) > PARAM_DESCRIPTION_LIMIT:
            report.error((*where, "description"),
                         f"is {len(desc)} characters; GPT Actions allow {PARAM_DESCRIPTION_LIMIT}")
        _walk_schema(report, param.get("schema"), (*where, "schema"))


def check_openapi(doc: object, deployed: bool, file: str = "openapi.json", origin: str | None = None) -> list[Finding]:
    """The GPT Actions rules for an OpenAPI document. ``deployed``: it is served from a remote
    host, so servers[0].url must be HTTPS on 443 (and on ``origin``'s host when given)."""
    report = _Report(file)
    if not isinstance(doc, dict):
        report.error((), f"the document must be a JSON object, not {_kind(doc)}")
        return report.findings
    version = doc.get("openapi")
    if not isinstance(version, str) or not (version == "3.1.0" or re.fullmatch(r"3\.0\.\d+", version)):
        report.error(("openapi",), f"must be \"3.1.0\" or \"3.0.x\" for GPT Actions, not {json.dumps(version)}")
    info = doc.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        report.error(("info",), "needs a title and a version (strings)")
    _check_servers(report, doc.get("servers"), deployed, origin)
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        report.error(("paths",), f"must be an object, not {_kind(paths)}")
        paths = {}
    seen: dict[str, tuple] = {}
    count = 0
    for route, item in paths.items():
        if not isinstance(item, dict):
            report.error(("paths", route), f"must be an object, not {_kind(item)}")
            continue
        _check_parameters(report, item.get("parameters"), ("paths", route, "parameters"))
        for method in HTTP_METHODS:
            if method in item:
                count += 1
                _check_operation(report, item[method], ("paths", route, method), seen)
    if count > MAX_OPERATIONS:
        report.warn(("paths",), f"{count} operations; GPT Actions were seen to accept at most {MAX_OPERATIONS}")
    components = doc.get("components")
    if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
        for name, schema in components["schemas"].items():
            _walk_schema(report, schema, ("components", "schemas", name))
    size = len(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    if size > MAX_SPEC_BYTES:
        report.warn((), f"the document is {size:,} bytes; GPT Actions were seen to accept at most 1 MB")
    return report.findings


def _check_servers(report: _Report, servers: object, deployed: bool, origin: str | None) -> None:
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        report.error(("servers",), "needs at least one server: [{\"url\": \"https://<api host>\"}]")
        return
    url = servers[0].get("url")
    found = _url(report, ("servers", 0, "url"), url, "the API's base URL")
    if not found:
        return
    scheme, host, port = found
    if deployed:
        if is_local(host):
            report.error(("servers", 0, "url"), f"{url!r} is a local address; build with --origin <API URL>")
        elif scheme != "https":
            report.error(("servers", 0, "url"), f"{url!r} must use https:// for GPT Actions")
        elif port not in (None, 443):
            report.error(("servers", 0, "url"), f"{url!r} must use port 443, not {port}")
    if origin:
        origin_host = (urlsplit(origin).hostname or "").lower()
        if host != origin_host:
            report.error(("servers", 0, "url"), f"{url!r} is not on {origin_host}, where the API is called")


def _check_operation(report: _Report, op: object, path: tuple, seen: dict[str, tuple]) -> None:
    if not isinstance(op, dict):
        report.error(path, f"must be an object, not {_kind(op)}")
        return
    op_id = op.get("operationId")
    if op_id is None:
        report.error(path, "has no operationId; GPT Actions skip operations without one")
    elif not isinstance(op_id, str) or not op_id:
        report.error((*path, "operationId"), f"must be a non-empty string, not {json.dumps(op_id)}")
    else:
        if not _OPERATION_ID.fullmatch(op_id):
            report.error((*path, "operationId"), f"{op_id!r} may use only letters, digits, _ and -")
        if len(op_id) > 64:
            report.error((*path, "operationId"), f"is {len(op_id)} characters; the limit is 64")
        if op_id in seen:
            report.error((*path, "operationId"), f"{op_id!r} is already used at {json_path(*seen[op_id])}")
        else:
            seen[op_id] = path
    for key, limit in (("summary", SUMMARY_LIMIT), ("description", DESCRIPTION_LIMIT)):
        text = op.get(key)
        if text is not None and not isinstance(text, str):
            report.error((*path, key), f"must be a string, not {_kind(text)}")
        elif text and len(text) > limit:
            report.error((*path, key), f"is {len(text)} characters; GPT Actions allow {limit}")
    _check_parameters(report, op.get("parameters"), (*path, "parameters"))
    body = op.get("requestBody")
    if isinstance(body, dict) and "$ref" in body:
        report.error((*path, "requestBody"), "write the request body inline instead of a $ref")
    _walk_content(report, body, (*path, "requestBody"))
    responses = op.get("responses")
    if isinstance(responses, dict):
        for status, response in responses.items():
            _walk_content(report, response, (*path, "responses", str(status)))
    if "x-openai-isConsequential" not in op:
        report.error(path, "add x-openai-isConsequential (false lets the user \"always allow\" a safe operation)")
    elif not isinstance(op["x-openai-isConsequential"], bool):
        report.error((*path, "x-openai-isConsequential"), "must be true or false")


def check_tools(tools: object, file: str = "MCP tools/list") -> list[Finding]:
    """MCP tool names (1-128 of [A-Za-z0-9_.-], unique) and object input schemas."""
    report = _Report(file)
    if not isinstance(tools, list):
        report.error(("tools",), f"must be an array, not {_kind(tools)}")
        return report.findings
    names: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            report.error(("tools", i), f"must be an object, not {_kind(tool)}")
            continue
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            report.error(("tools", i, "name"), f"{json.dumps(name)[:140]} must be 1-128 characters of "
                         "letters, digits, _, - and .")
        elif name in names:
            report.error(("tools", i, "name"), f"{name!r} is listed twice")
        else:
            names.add(name)
        schema = tool.get("inputSchema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            report.error(("tools", i, "inputSchema"), "must be a JSON Schema with \"type\": \"object\" at the root")
        out = tool.get("outputSchema")
        if out is not None and (not isinstance(out, dict) or out.get("type") != "object"):
            report.error(("tools", i, "outputSchema"), "must describe an object (structuredContent is one)")
    if not tools:
        report.warn(("tools",), "no tools: decorate a function in handler.py with @plugin.operation")
    return report.findings


def tools_of(plugin) -> list[dict]:
    """The MCP tools a plugin lists: one per operation, named after it."""
    return [{"name": op.name, "inputSchema": op.input_schema} for op in plugin.operations.values()]


def check_manifest_file(path: Path) -> list[Finding]:
    """manifest.json as committed (its JSON first: a broken file must not reach the build)."""
    manifest, findings = _load(path)
    return findings if manifest is None else check_manifest(manifest, file=path.name)


def check_built(plugin, openapi: dict, origin: str) -> list[Finding]:
    """What the build checks after writing openapi.json for ``origin``: that document and the
    tool names, so a zip that breaks a rule is never produced."""
    deployed = not is_local(urlsplit(origin).hostname)
    return [*check_openapi(openapi, deployed=deployed), *check_tools(tools_of(plugin), file="handler.py (MCP tools)")]


def gate(findings: list[Finding], out=sys.stderr) -> list[str]:
    """Print the warnings; return the errors as lines (the build stops when there are any)."""
    for finding in findings:
        if finding.level != ERROR:
            print(finding, file=out)
    return [str(f) for f in findings if f.level == ERROR]


def _load(path: Path) -> tuple[object, list[Finding]]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), []
    except OSError as exc:
        return None, [Finding(ERROR, path.name, "$", f"cannot read the file: {exc.strerror or exc}")]
    except ValueError as exc:
        return None, [Finding(ERROR, path.name, "$", f"is not valid JSON: {exc}")]


def check_project(project: Path) -> list[Finding]:
    """The committed manifest.json and openapi.json, and the tool names handler.py defines."""
    from .build import BuildError, load_plugin, read_tfvars

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
                        "clientInfo": {"name": "plugin_runtime.check", "version": "1"}}}
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
    return findings


def report(findings: list[Finding], out=sys.stdout) -> int:
    """Print one line per finding, errors first, and a summary; returns the exit status."""
    errors = [f for f in findings if f.level == ERROR]
    warnings = [f for f in findings if f.level == WARNING]
    for finding in [*errors, *warnings]:
        print(finding, file=out)
    if errors:
        print(f"{len(errors)} error(s), {len(warnings)} warning(s)", file=out)
    else:
        print(f"ok: no errors, {len(warnings)} warning(s)", file=out)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_runtime.check", description=__doc__.split("\n")[0])
    parser.add_argument("--origin", help="also check what this deployed origin serves, e.g. the api_url output")
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    findings = check_project(args.project)
    if args.origin:
        from .build import read_tfvars

        committed, _ = _load(args.project / read_tfvars(args.project).get("path_to_openapi", "openapi.json"))
        findings += check_origin(args.origin, committed)
    return report(findings)


if __name__ == "__main__":
    sys.exit(main())
