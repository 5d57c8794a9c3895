"""The OpenAPI 3.1 document, derived from the operations and manifest.json.

It is written for GPT Actions: inline schemas only, an operationId on every operation,
summaries and descriptions cut to the limits, and ``x-openai-isConsequential`` per operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model_auth import BASE_SCOPE
from .model_operation import default_quota
from .model_schema import to_json

if TYPE_CHECKING:
    from .model_auth import AuthConfig
    from .model_operation import Operation
    from .model_registry import Registry

SUMMARY_LIMIT = 300
DESCRIPTION_LIMIT = 300
PARAM_DESCRIPTION_LIMIT = 700
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. invalid_arguments."},
        "message": {"type": "string", "description": "What was wrong, in words."},
    },
    "required": ["error", "message"],
}


# What each status an operation declares with ``errors=[...]`` means, in its OpenAPI responses.
DECLARED = {403: "The operation refused the caller.", 404: "Not found.", 409: "Conflicts with the current state.",
            410: "Gone: no longer available.", 422: "Understood, but cannot be processed.",
            429: "Too many requests (the operation's own limit or the API's); retry after Retry-After seconds.",
            502: "A service the operation depends on failed.", 503: "Temporarily unavailable; retry later.",
            504: "A service the operation depends on did not answer in time."}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


SECURITY_SCHEME = "apiKey"
OAUTH_SCHEME = "oauth2"


def operation_object(op: Operation, protected: bool = False, oauth: AuthConfig | None = None) -> dict:
    """One OpenAPI operation: parameters inline, body schema inline, errors documented."""
    doc: dict = {"operationId": op.name}
    if op.summary:
        doc["summary"] = _cut(op.summary, SUMMARY_LIMIT)
    if op.description:
        doc["description"] = _cut(op.description, DESCRIPTION_LIMIT)
    params = []
    for p in op.params:
        if p.location == "body":
            continue
        schema = {k: v for k, v in p.schema.items() if k != "description"}
        if not p.required and p.default is not None:
            schema["default"] = to_json(p.default)
        entry = {"name": p.name, "in": p.location, "required": p.required, "schema": schema}
        if p.schema.get("description"):
            entry["description"] = _cut(p.schema["description"], PARAM_DESCRIPTION_LIMIT)
        params.append(entry)
    if params:
        doc["parameters"] = params
    if op.has_body:
        doc["requestBody"] = {
            "required": bool(op.body_schema.get("required")),
            "content": {"application/json": {"schema": op.body_schema}},
        }
    doc["responses"] = {
        "200": {"description": "The operation's answer.",
                "content": {"application/json": {"schema": op.output_schema}}},
        "400": _error("The request does not fit the schema, or the operation refused it."),
    }
    if protected:
        doc["responses"]["401"] = _error("The Authorization header is missing or its credential is invalid.")
    if oauth is not None:
        doc["responses"]["403"] = _error("The access token lacks a scope this operation needs.")
        if op.scopes:
            doc["security"] = [{OAUTH_SCHEME: [oauth.oauth.scope(n) for n in (BASE_SCOPE, *op.scopes)]}]
    if op.has_body:
        doc["responses"]["413"] = _error("The request body is too large.")
        doc["responses"]["415"] = _error("The body is not application/json.")
    doc["responses"]["429"] = _error("Too many requests: the API's throttling limit was reached; retry later.")
    quota = op.quota or default_quota()
    if quota is not None and protected:  # counted per verified caller (model_quota); anonymous ones are not
        doc["responses"]["429"] = _error(f"Too many requests: at most {quota.limit} calls per {quota.window} per "
                                         "caller, or the API's throttling limit; retry after Retry-After seconds.")
        doc["responses"]["429"]["headers"] = RETRY_AFTER
    for status in op.errors:  # the OperationError statuses the operation declares (errors=[...])
        if status != 400 and (status != 403 or oauth is None):
            doc["responses"][str(status)] = _error(DECLARED[status])
        if status in (429, 503):
            doc["responses"][str(status)]["headers"] = RETRY_AFTER
    doc["responses"]["500"] = _error("The operation failed unexpectedly; its owner can read why in the logs.")
    doc["responses"] = dict(sorted(doc["responses"].items()))
    doc["x-openai-isConsequential"] = not op.read_only
    return doc


def build_openapi(plugin: Registry, origin: str, auth: AuthConfig) -> dict:
    """The whole document, with ``servers[0].url`` set to the origin it is served from and the
    security the deployment requires (``security: []`` says explicitly that it needs none)."""
    manifest = plugin.manifest
    protected = auth.mode in ("api_key", "oauth")
    oauth = auth if auth.mode == "oauth" and auth.oauth is not None else None
    paths: dict[str, dict] = {}
    for op in plugin.operations.values():
        if op.task == "required":  # only an MCP client that speaks tasks can call it
            continue
        paths.setdefault(op.path, {})[op.method.lower()] = operation_object(op, protected, oauth)
    doc: dict = {
        "openapi": "3.1.0",
        "info": {
            "title": manifest["name_for_human"],
            "description": manifest["description_for_human"],
            "version": plugin.version,
        },
        "servers": [{"url": origin}],
        "paths": paths,
    }
    if manifest.get("terms_url"):
        doc["info"]["termsOfService"] = manifest["terms_url"]
    if manifest.get("privacy_policy_url"):  # OpenAPI has no field for it; GPT editors ask for it
        doc["info"]["x-privacy-policy-url"] = manifest["privacy_policy_url"]
    if oauth is not None:
        scopes = {oauth.oauth.scope(n): ("Use the plugin's operations." if n == BASE_SCOPE else
                                         f"Operations that need {n}.") for n in plugin.scope_names()}
        doc["components"] = {"securitySchemes": {OAUTH_SCHEME: {
            "type": "oauth2", "description": "Sign in with the plugin's identity provider.",
            "flows": {"authorizationCode": {"authorizationUrl": origin + "/oauth/authorize",
                                            "tokenUrl": origin + "/oauth/token", "scopes": scopes}}}}}
        doc["security"] = [{OAUTH_SCHEME: [oauth.oauth.scope(BASE_SCOPE)]}]
    elif protected:
        doc["components"] = {"securitySchemes": {SECURITY_SCHEME: {
            "type": "http", "scheme": "bearer",
            "description": "An API key made with `python3 -m plugin_tools.keys new NAME`."}}}
        doc["security"] = [{SECURITY_SCHEME: []}]
    else:
        doc["security"] = []
    return doc
