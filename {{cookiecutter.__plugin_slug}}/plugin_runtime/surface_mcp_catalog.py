"""What the MCP server lists: the tool catalog (built once per plugin), resources, prompts and
each operation's widget (MCP Apps), in both eras.
"""

from __future__ import annotations

import typing

from .model_auth import BASE_SCOPE, AuthConfig
from .model_auth import current as auth_config
from .model_log import current as current_request
from .model_log import log
from .model_operation import ArgumentsError, OperationError
from .surface_mcp_wire import (
    CACHE_SCOPE,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    LIST_TTL_MS,
    METHOD_NOT_FOUND,
    MODERN_VERSIONS,
    SERVER_INFO_KEY,
    TASKS_EXTENSION,
    TASKS_VERSION,
    _check_cursor,
    _Fail,
    _named,
)
from .transport import encode_json

if typing.TYPE_CHECKING:
    from .model_operation import Operation
    from .model_registry import Registry
    from .model_resource import Prompt, Resource, Widget


class _Catalog:
    """What tools/list, initialize and server/discover say, built once per plugin."""

    def __init__(self, plugin: Registry, auth: AuthConfig) -> None:
        self.size = _size(plugin)
        self.auth = auth
        try:
            manifest = plugin.manifest
        except (OSError, ValueError):
            manifest = {}
        name = manifest.get("name_for_model") or "plugin"
        self.server_info = {"name": str(name), "title": str(manifest.get("name_for_human") or name),
                            "version": str(plugin.version)}
        self.instructions = str(manifest.get("description_for_model") or "")
        self.modern_tail = ',"resultType":"complete","_meta":' + encode_json({SERVER_INFO_KEY: self.server_info})
        self._plugin = plugin
        # Built on first use: a widget's URI carries a hash of its file, which is read only then.
        self._modern: list[dict] | None = None
        self._oldest: list[dict] | None = None
        self._tasked: list[dict] | None = None  # 2025-11-25: the tools with execution.taskSupport
        self.has_tasks = any(op.task != "forbidden" for op in plugin.operations.values())
        self._widgets: list[tuple[Operation, Widget]] | None = None

    def tools(self, version: str) -> list[dict]:
        if self._modern is None or self._oldest is None:
            operations = self._plugin.operations.values()
            widgets = {op.name: widget for op, widget in self.widgets()}
            self._modern = [_tool(op, True, _tool_meta(op, widgets.get(op.name)), self.auth) for op in operations]
            self._oldest = [_tool(op, False) for op in operations]  # 2025-03-26 tools carry no _meta
        if version == "2025-03-26":
            return self._oldest
        if version == TASKS_VERSION and self.has_tasks:
            if self._tasked is None:
                self._tasked = [{**tool, "execution": {"taskSupport": op.task}} if op.task != "forbidden" else tool
                                for op, tool in zip(self._plugin.operations.values(), self._modern, strict=True)]
            return self._tasked
        return self._modern

    def widgets(self) -> list[tuple[Operation, Widget]]:
        """The operations' widgets that can be served; one whose file cannot be read is logged and
        left out, so its tool still works for every host (without a widget)."""
        if self._widgets is None:
            self._widgets = []
            for op in self._plugin.operations.values():
                widget = self._plugin.widget_for(op)
                try:
                    served = widget is not None and bool(widget.uri)  # reads the file, once
                except (OSError, ValueError) as exc:
                    log.error(f"MCP widget {widget.path} of {op.name} cannot be served: {exc}")  # type: ignore[union-attr]
                    served = False
                if served:
                    self._widgets.append((op, widget))
        return self._widgets

    def has_resources(self) -> bool:
        """Whether there is anything to list (without reading a widget: initialize stays light)."""
        plugin = self._plugin
        return bool(plugin.resources) or any(plugin.widget_for(op) for op in plugin.operations.values())

    def capabilities(self, version: str) -> dict:
        """What initialize (at ``version``) and server/discover announce. Resources without
        ``subscribe``: a stateless server has no stream to send updates on. Tasks: 2025-11-25's
        ``tasks`` capability (``list`` only where callers are told apart), 2026-07-28's extension."""
        capabilities: dict = {"tools": {"listChanged": False}}
        if self.has_resources():
            capabilities["resources"] = {"listChanged": False}
        if self._plugin.prompts:
            capabilities["prompts"] = {"listChanged": False}
        if self.has_tasks and version == TASKS_VERSION:
            tasks: dict = {"list": {}} if self.auth.mode != "none" else {}
            capabilities["tasks"] = {**tasks, "cancel": {}, "requests": {"tools": {"call": {}}}}
        if version in MODERN_VERSIONS:
            extensions = {UI_EXTENSION: {}} if self.widgets() else {}
            if self.has_tasks:
                extensions[TASKS_EXTENSION] = {}
            if extensions:
                capabilities["extensions"] = extensions
        return capabilities


def _size(plugin: Registry) -> tuple[int, int, int]:
    return len(plugin.operations), len(plugin.resources), len(plugin.prompts)


def _catalog(plugin: Registry) -> _Catalog:
    catalog = plugin.__dict__.get("_mcp_catalog")
    auth = auth_config()
    if catalog is None or catalog.size != _size(plugin) or catalog.auth is not auth:
        catalog = plugin.__dict__["_mcp_catalog"] = _Catalog(plugin, auth)
    return catalog


def _tool(op: Operation, titled: bool, meta: dict | None = None, auth: AuthConfig | None = None) -> dict:
    """One tool. 2025-03-26 has neither ``title`` nor ``outputSchema`` (only annotations.title).
    With OAuth, ``securitySchemes`` (read by OpenAI, mirrored in ``_meta``) names the scopes."""
    title = op.summary.rstrip(".") or op.name
    description = "\n\n".join(part for part in (op.summary, op.description) if part) or op.name
    tool: dict = {"name": op.name}
    if titled:
        tool["title"] = title
    tool["description"] = description
    tool["inputSchema"] = op.input_schema
    if titled:
        tool["outputSchema"] = op.output_schema
    tool["annotations"] = {"title": title, "readOnlyHint": op.read_only, "destructiveHint": op.destructive,
                           "idempotentHint": op.idempotent, "openWorldHint": op.open_world}
    if auth is not None and auth.mode == "oauth" and auth.oauth is not None:
        schemes = [{"type": "oauth2", "scopes": [auth.oauth.scope(n) for n in (BASE_SCOPE, *op.scopes)]}]
        tool["securitySchemes"] = schemes
        meta = {**(meta or {}), "securitySchemes": schemes}
    if meta:
        tool["_meta"] = meta
    return tool


# -- resources, prompts and widgets (both eras) ------------------------------------------------
APP_METHODS = frozenset({"resources/list", "resources/templates/list", "resources/read", "prompts/list",
                         "prompts/get"})
RESOURCE_NOT_FOUND = -32002  # before 2026-07-28; from then on an unknown resource is INVALID_PARAMS
UI_EXTENSION = "io.modelcontextprotocol/ui"
WIDGET_MIME_TYPE = "text/html;profile=mcp-app"
STATUS_TEXT_LIMIT = 64  # characters of openai/toolInvocation/invoking and /invoked that ChatGPT shows


def _apps(plugin: Registry, method: str, params: dict, version: str) -> dict:
    """resources/list, resources/templates/list, resources/read, prompts/list and prompts/get."""
    catalog = _catalog(plugin)
    modern = version in MODERN_VERSIONS
    titled = version != "2025-03-26"
    kind = method.split("/", 1)[0]
    if not (plugin.prompts if kind == "prompts" else catalog.has_resources()):
        raise _Fail(METHOD_NOT_FOUND, f"Method not found: {method}; this server has no {kind}")
    if method == "resources/read":
        result, ttl_ms = _read_resource(plugin, params, modern)
        if modern:
            result.update(ttlMs=ttl_ms, cacheScope=CACHE_SCOPE)
        return result
    if method == "prompts/get":
        return _get_prompt(plugin, params)
    _check_cursor(params)
    if method == "prompts/list":
        result: dict = {"prompts": [_prompt_entry(p, titled) for p in plugin.prompts.values()]}
    elif method == "resources/templates/list":
        result = {"resourceTemplates": [_resource_entry(r, titled, "uriTemplate")
                                        for r in plugin.resources.values() if r.is_template]}
    else:
        shared: dict = {}  # a widget several tools show is listed once
        for _, widget in catalog.widgets():
            shared.setdefault(widget.uri, widget)
        result = {"resources": [*(_widget_entry(w, titled) for w in shared.values()),
                                *(_resource_entry(r, titled, "uri") for r in plugin.resources.values()
                                  if not r.is_template)]}
    if modern:
        result.update(ttlMs=LIST_TTL_MS, cacheScope=CACHE_SCOPE)
    return result


def _resource_entry(resource: Resource, titled: bool, key: str) -> dict:
    entry = {key: resource.uri, "name": resource.name}
    if titled and resource.title:
        entry["title"] = resource.title
    if resource.description:
        entry["description"] = resource.description
    entry["mimeType"] = resource.mime_type
    return entry


def _widget_entry(widget: Widget, titled: bool) -> dict:
    entry = {"uri": widget.uri, "name": widget.name, "description": widget.description,
             "mimeType": WIDGET_MIME_TYPE}
    if titled:
        entry["_meta"] = _widget_meta(widget)
    return entry


def _widget_meta(widget: Widget) -> dict:
    """The host's instructions for showing a widget: the standard ``ui`` keys (MCP Apps) and
    OpenAI's ``openai/*`` keys. Without a CSP entry a host blocks every outbound connection."""
    connect, resources = list(widget.connect_domains), list(widget.resource_domains)
    origin = _own_origin()
    if widget.calls_api and origin and origin not in connect:
        connect.append(origin)
    csp: dict = {"connectDomains": connect, "resourceDomains": resources}
    openai_csp: dict = {"connect_domains": connect, "resource_domains": resources}
    if widget.frame_domains:
        csp["frameDomains"] = openai_csp["frame_domains"] = list(widget.frame_domains)
    ui: dict = {"csp": csp, "prefersBorder": widget.prefers_border}
    meta: dict = {"ui": ui, "openai/widgetCSP": openai_csp, "openai/widgetPrefersBorder": widget.prefers_border,
                  "openai/widgetDescription": widget.description}
    domain = widget.domain or (origin if origin.startswith("https://") else None)
    if domain:  # ChatGPT before its per-server origins derives the widget's origin from it
        ui["domain"] = meta["openai/widgetDomain"] = domain
    return meta


def _own_origin() -> str:
    """The plugin's origin as this request reached it ("" outside a request)."""
    ctx = current_request()
    try:
        return getattr(ctx, "origin", "") or ""
    except Exception:  # an unreadable Host: the request itself answers that error
        return ""


def _tool_meta(op: Operation, widget: Widget | None) -> dict | None:
    """A tool's ``_meta``: the widget it shows its result in, and the status texts."""
    if widget is None and op.invoking is None and op.invoked is None:
        return None
    meta: dict = {}
    if widget is not None:
        uri = widget.uri
        meta = {"ui": {"resourceUri": uri, "visibility": ["model", "app"]}, "ui/resourceUri": uri,
                "openai/outputTemplate": uri, "openai/widgetAccessible": True}
    meta["openai/toolInvocation/invoking"] = _status_text(op.invoking or f"Running {op.name}…")
    meta["openai/toolInvocation/invoked"] = _status_text(op.invoked or f"Ran {op.name}")
    return meta


def _status_text(text: str) -> str:
    return text if len(text) <= STATUS_TEXT_LIMIT else text[:STATUS_TEXT_LIMIT - 1] + "…"


def _read_resource(plugin: Registry, params: dict, modern: bool) -> tuple[dict, int]:
    """({"contents": [...]}, how long a client may cache it in ms)."""
    uri = params.get("uri")
    if not isinstance(uri, str) or not uri:
        raise _Fail(INVALID_PARAMS, "resources/read needs params.uri, a URI from resources/list")
    from .model_resource import Widget

    try:
        found = plugin.find_resource(uri)
        if found is None:
            raise _unknown_resource(uri, modern, "")
        target, values = found
        if isinstance(target, Widget):
            content = {"uri": uri, "mimeType": WIDGET_MIME_TYPE, "text": target.html, "_meta": _widget_meta(target)}
            return {"contents": [content]}, LIST_TTL_MS
        data = target.read(values)
    except _Fail:
        raise
    except (ArgumentsError, OperationError) as exc:  # template values that do not fit, or refused
        raise _unknown_resource(uri, modern, str(exc)) from None
    except Exception:  # an unreadable file or a bug in the resource: the owner reads the log
        import traceback

        traceback.print_exc()
        raise _Fail(INTERNAL_ERROR, f"reading {uri[:200]} failed unexpectedly; the details are in the server's "
                                    "logs") from None
    content = {"uri": uri, "mimeType": target.mime_type}
    if isinstance(data, bytes):
        import base64

        content["blob"] = base64.b64encode(data).decode("ascii")
    else:
        content["text"] = data
    return {"contents": [content]}, (LIST_TTL_MS if target.file is not None else 0)


def _unknown_resource(uri: str, modern: bool, why: str) -> _Fail:
    message = f"Resource not found: {uri[:200]}" + (f" ({why})" if why else
                                                    "; resources/list and resources/templates/list name them")
    return _Fail(INVALID_PARAMS if modern else RESOURCE_NOT_FOUND, message, {"uri": uri})


def _prompt_entry(prompt: Prompt, titled: bool) -> dict:
    entry: dict = {"name": prompt.name}
    if titled and prompt.title:
        entry["title"] = prompt.title
    entry["description"] = prompt.description
    arguments = []
    for p in prompt.params:
        argument = {"name": p.name}
        if p.schema.get("description"):
            argument["description"] = p.schema["description"]
        argument["required"] = p.required
        arguments.append(argument)
    entry["arguments"] = arguments
    return entry


def _get_prompt(plugin: Registry, params: dict) -> dict:
    name, prompt, arguments = _named(params, plugin.prompts, "prompt", "prompts/get")
    try:
        messages = prompt.messages(arguments)
    except ArgumentsError as exc:
        raise _Fail(INVALID_PARAMS, f"Invalid arguments for prompt {name}: {exc}. prompts/list describes "
                                    "them.") from None
    except OperationError as exc:
        raise _Fail(INVALID_PARAMS, str(exc) or f"prompt {name} refused these arguments") from None
    except Exception:  # a bug in the prompt: the owner reads the log, the client gets a sentence
        import traceback

        traceback.print_exc()
        raise _Fail(INTERNAL_ERROR, f"prompt {name} failed unexpectedly; the details are in the server's "
                                    "logs") from None
    return {"description": prompt.description, "messages": messages}

