"""The GPT Actions rules for an OpenAPI document."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from plugin_runtime.surface_openapi import DESCRIPTION_LIMIT, PARAM_DESCRIPTION_LIMIT, SUMMARY_LIMIT

from .lint_common import Finding, Report, check_url, is_local, json_path, kind_of

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_OPERATIONS = 30
SECURITY_TYPES = ("http", "apiKey", "oauth2", "openIdConnect")
MAX_SPEC_BYTES = 1_000_000
_OPERATION_ID = re.compile(r"[A-Za-z0-9_-]+")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
               "unevaluatedProperties", "unevaluatedItems")


def _walk_schema(report: Report, schema: object, path: tuple) -> None:
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


def _walk_content(report: Report, holder: object, path: tuple) -> None:
    """The schemas of a requestBody or response: content -> media type -> schema."""
    if isinstance(holder, dict) and isinstance(holder.get("content"), dict):
        for media, entry in holder["content"].items():
            if isinstance(entry, dict):
                _walk_schema(report, entry.get("schema"), (*path, "content", media, "schema"))


def _check_parameters(report: Report, params: object, path: tuple) -> None:
    if params is None:
        return
    if not isinstance(params, list):
        report.error(path, f"must be an array, not {kind_of(params)}")
        return
    for i, param in enumerate(params):
        where = (*path, i)
        if not isinstance(param, dict):
            report.error(where, f"must be an object, not {kind_of(param)}")
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
    report = Report(file)
    if not isinstance(doc, dict):
        report.error((), f"the document must be a JSON object, not {kind_of(doc)}")
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
        report.error(("paths",), f"must be an object, not {kind_of(paths)}")
        paths = {}
    seen: dict[str, tuple] = {}
    count = 0
    for route, item in paths.items():
        if not isinstance(item, dict):
            report.error(("paths", route), f"must be an object, not {kind_of(item)}")
            continue
        _check_parameters(report, item.get("parameters"), ("paths", route, "parameters"))
        for method in HTTP_METHODS:
            if method in item:
                count += 1
                _check_operation(report, item[method], ("paths", route, method), seen)
    if count > MAX_OPERATIONS:
        report.warn(("paths",), f"{count} operations; GPT Actions were seen to accept at most {MAX_OPERATIONS}")
    _check_security(report, doc)
    components = doc.get("components")
    if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
        for name, schema in components["schemas"].items():
            _walk_schema(report, schema, ("components", "schemas", name))
    size = len(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    if size > MAX_SPEC_BYTES:
        report.warn((), f"the document is {size:,} bytes; GPT Actions were seen to accept at most 1 MB")
    return report.findings


def _check_servers(report: Report, servers: object, deployed: bool, origin: str | None) -> None:
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        report.error(("servers",), "needs at least one server: [{\"url\": \"https://<api host>\"}]")
        return
    url = servers[0].get("url")
    found = check_url(report, ("servers", 0, "url"), url, "the API's base URL")
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


def _check_operation(report: Report, op: object, path: tuple, seen: dict[str, tuple]) -> None:
    if not isinstance(op, dict):
        report.error(path, f"must be an object, not {kind_of(op)}")
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
            report.error((*path, key), f"must be a string, not {kind_of(text)}")
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


def _check_security(report: Report, doc: dict) -> None:
    """Say what authentication the API needs (``security: []`` for none), name only schemes that
    exist, use the kinds GPT Actions can send, and document the 401 where a key is needed."""
    components = doc.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    schemes = schemes if isinstance(schemes, dict) else {}
    for name, scheme in schemes.items():
        kind = scheme.get("type") if isinstance(scheme, dict) else None
        if kind not in SECURITY_TYPES:
            report.error(("components", "securitySchemes", name, "type"), f"{json.dumps(kind)} is not a "
                         f"security scheme type GPT Actions use ({', '.join(SECURITY_TYPES)})")
        elif kind == "http" and str(scheme.get("scheme", "")).lower() not in ("bearer", "basic"):
            report.error(("components", "securitySchemes", name, "scheme"), "GPT Actions send bearer or basic")
    if "security" not in doc:
        report.warn((), "declares no security; say \"security\": [] when the API needs no authentication "
                    "(linters and importers otherwise cannot tell)")
        return
    security = doc["security"]
    if not isinstance(security, list):
        report.error(("security",), f"must be an array of requirements, not {kind_of(security)}")
        return
    sound = True
    for i, requirement in enumerate(security):
        if not isinstance(requirement, dict):
            report.error(("security", i), f"must be an object, not {kind_of(requirement)}")
            sound = False
            continue
        for name in requirement:
            if name not in schemes:
                report.error(("security", i, name), "names no scheme in components.securitySchemes")
                sound = False
    if sound and any(security):
        paths = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
        for route, item in paths.items():
            for method in HTTP_METHODS:
                op = item.get(method) if isinstance(item, dict) else None
                responses = op.get("responses") if isinstance(op, dict) else None
                if isinstance(responses, dict) and "401" not in responses and op.get("security") != []:
                    report.error(("paths", route, method, "responses"),
                                 "needs a key but documents no 401 response")

