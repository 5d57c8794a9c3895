"""The plugin object at the top of the runtime: it registers operations, routes each request to
the surface that answers it, and is the Lambda entry point.

Everything a surface needs (HTTP route, OpenAPI operation, MCP tool) is derived from the
operation's Python signature and docstring, so an operation is written exactly once. The OpenAPI
and MCP surfaces are imported on their first request: a cold start serving a REST call loads
neither.
"""

from __future__ import annotations

import typing
from time import perf_counter

from .model_auth import AuthConfig
from .model_auth import current as auth_config
from .model_context import TASK_EVENT, Context, use_store_opener
from .model_log import bind, log
from .model_operation import Operation, use_quota_charger
from .model_registry import ROOT, Registry
from .model_schema import SchemaError
from .model_settings import MISSING, setting
from .surface_manifest import challenge_response, logo_response, manifest_for
from .surface_rest import serve_operation
from .transport import (
    CHALLENGE_PATH,
    LOGO_PATH,
    MANIFEST_PATH,
    MCP_PATH,
    OAUTH_ROUTES,
    OPENAPI_PATH,
    HTTPError,
    Request,
    RouteError,
    Router,
    json_response,
)
from .transport_log import finish, metrics_namespace

if typing.TYPE_CHECKING:
    from collections.abc import Callable

    from .model_resource import Resource, Widget

_INTERNAL_ERROR = {"error": "internal_error",
                   "message": "the operation failed unexpectedly; the details are in the function's logs"}


def _open_store(ctx: Context, shared: bool) -> object:
    """ctx.store and ctx.app_store: model_store is imported on the first store call only."""
    from .model_store import app_store, store_for

    return app_store(ctx.remaining_ms) if shared else store_for(ctx.caller, ctx.remaining_ms)


use_store_opener(_open_store)


def _charge(name: str, quota: object, ctx: Context) -> None:
    """Quotas: model_quota (and the store) load on the first call an operation's quota counts."""
    from .model_quota import charge

    charge(name, quota, ctx)  # type: ignore[arg-type]


use_quota_charger(_charge)


class Plugin(Registry):
    """The registry of operations and the Lambda entry point (``lambda_handler``)."""

    def __init__(self, version: str = "1.0.0", root: str = ROOT) -> None:
        super().__init__(version, root)
        self.router = Router()
        self._cache: dict[tuple[str, ...], dict] = {}
        self.router.add("GET", MANIFEST_PATH, self._serve_manifest)
        self.router.add("GET", OPENAPI_PATH, self._serve_openapi)
        self.router.add("GET", LOGO_PATH, self._serve_logo)
        self.router.add("POST", MCP_PATH, self._serve_mcp)
        self.router.add("GET", CHALLENGE_PATH, self._serve_challenge)
        # What anyone may read, whatever the auth mode: clients fetch these before they have
        # credentials. Every other route (the operations, /mcp) needs a caller.
        self.public = {self._serve_manifest, self._serve_openapi, self._serve_logo, self._serve_challenge}
        for method, path, endpoint in OAUTH_ROUTES:  # answered only with auth = "oauth"
            serve = self._oauth_endpoint(endpoint)
            self.router.add(method, path, serve)
            self.public.add(serve)

    # -- registration -------------------------------------------------------------------
    def operation(self, func: Callable | None = None, *, method: str = "POST", path: str | None = None,
                  read_only: bool = False, destructive: bool | None = None, idempotent: bool | None = None,
                  open_world: bool = False, scopes: list[str] | tuple[str, ...] = (),
                  widget: str | Widget | bool | None = None, invoking: str | None = None,
                  invoked: str | None = None, errors: list[int] | tuple[int, ...] = (),
                  quota: str | None = None, task: str | None = None) -> Callable:
        """Register a typed function as an operation: an HTTP route, an OpenAPI operation and an
        MCP tool. ``read_only=True`` marks a pure function (safe to run without asking);
        ``scopes`` are OAuth scopes a signed-in caller needs for it (``auth = "oauth"``).

        ``widget`` names the HTML file in widgets/ that MCP Apps hosts (ChatGPT, Claude, ...) show
        with the tool's result: by default widgets/<operation>.html if it exists; ``False`` for
        none; a ``Widget`` to set its CSP domains. ``invoking``/``invoked``: the status texts the
        host shows while the tool runs and once it is done (at most 64 characters each).
        ``errors``: the ``OperationError`` statuses it may answer besides 400, e.g. ``[404, 409]``,
        documented in openapi.json. ``quota``: calls per verified caller and window, e.g.
        ``"100/day"`` (minute, hour or day; needs storage = "dynamodb"): a call over it answers 429
        with Retry-After; Terraform's ``default_quota`` applies to operations that name none.
        ``task``: ``"optional"`` lets an MCP client run it as a task (the call answers at once,
        the work goes on in the background for up to the Lambda's timeout, the client polls);
        ``"required"`` allows nothing else, so REST and GPT Actions do not offer it. Needs
        storage = "dynamodb"; inside, ``ctx.progress(...)`` and ``ctx.cancelled()``."""

        def register(fn: Callable) -> Callable:
            op = Operation(fn, method=method, path=path, read_only=read_only, destructive=destructive,
                           idempotent=idempotent, open_world=open_world, scopes=tuple(scopes),
                           widget=self._widget_spec(fn, widget), invoking=invoking, invoked=invoked,
                           errors=errors, quota=quota, task=task)
            self.add(op)
            try:
                self.router.add(op.method, op.path,
                                lambda req, params, ctx, op=op: serve_operation(op, req, params, ctx))
            except RouteError as exc:
                del self.operations[op.name]
                raise SchemaError(str(exc)) from None
            return fn

        return register(func) if func is not None else register

    def _widget_spec(self, fn: Callable, widget: str | Widget | bool | None) -> Widget | bool | None:
        """None (look for widgets/<name>.html on first use), False, or a Widget whose file exists."""
        if widget is None or widget is False:
            return widget
        import os

        from .model_resource import Widget

        spec = Widget(fn.__name__ if widget is True else widget) if isinstance(widget, (str, bool)) else widget
        if not isinstance(spec, Widget):
            raise SchemaError(f"{fn.__name__}: widget= takes a name (widgets/<name>.html), a Widget, or False")
        name = spec.name or fn.__name__
        if not os.path.isfile(os.path.join(self.widgets_dir, f"{name}.html")):
            raise SchemaError(f"{fn.__name__}: widget {name!r} needs widgets/{name}.html, which does not exist")
        return spec

    def resource(self, uri: str, *, file: str | None = None, name: str | None = None, title: str | None = None,
                 description: str | None = None, mime_type: str | None = None) -> Callable | Resource:
        """Publish read-only data to MCP clients (resources/list, resources/read).

        As a decorator, the function's return value is the content (str: text, bytes: a blob,
        a TypedDict or list: JSON) and its docstring the description; ``{names}`` in ``uri`` make
        it a template whose values are the function's parameters. With ``file=`` (a path in the
        project that lambda.zip ships) it publishes that file and returns the Resource."""
        from .model_resource import Resource

        if file is not None:
            resource = Resource(uri, file=file, root=self.root, name=name, title=title, description=description,
                                mime_type=mime_type)
            self.add_resource(resource)
            return resource

        def register(fn: Callable) -> Callable:
            self.add_resource(Resource(uri, fn, root=self.root, name=name, title=title, description=description,
                                       mime_type=mime_type))
            return fn

        return register

    def prompt(self, func: Callable | None = None, *, name: str | None = None, title: str | None = None,
               description: str | None = None) -> Callable:
        """Publish a prompt to MCP clients (prompts/list, prompts/get): its typed parameters are
        the prompt's arguments, its docstring the description, its return value the text (or a
        list of messages)."""
        from .model_resource import Prompt

        def register(fn: Callable) -> Callable:
            self.add_prompt(Prompt(fn, name=name, title=title, description=description))
            return fn

        return register(func) if func is not None else register

    # -- the entry point ----------------------------------------------------------------
    def lambda_handler(self, event: dict, context: object = None) -> dict:
        """AWS Lambda entry point for API Gateway HTTP API (payload 2.0) events: the answer, plus
        one JSON log line and one metrics record per request (transport_log)."""
        if isinstance(event, dict) and TASK_EVENT in event and "requestContext" not in event:
            from .surface_mcp_tasks import work  # an asynchronous invocation this function made: a task

            return work(self, event, context)
        started = perf_counter()
        response, ctx = self._dispatch(event, context)
        if isinstance(response, dict):  # every answer, every route: browsers must not sniff a type
            headers = response.get("headers")
            if not isinstance(headers, dict):
                headers = response["headers"] = {}
            headers.setdefault("x-content-type-options", "nosniff")
        finish(ctx, event, context, response, started, self._metrics_namespace())
        return response

    def _dispatch(self, event: dict, context: object) -> tuple[dict, Context | None]:
        """The answer to one event, and the request's Context (None when the event is unreadable
        or no route matches)."""
        ctx = None
        try:
            req = Request(event)
            handler, params = self.router.resolve(req.method, req.path)
            ctx = Context(request=req, lambda_context=context, surface="mcp" if handler == self._serve_mcp else "rest",
                          method=req.method, path=req.path, api_request_id=req.request_id)
            bind(ctx)  # bound first, so even a refusal's log lines carry the request id
            if handler not in self.public:
                auth = auth_config()
                if auth.mode != "none" or auth.problem:
                    from .surface_auth import authenticate  # only deployments that check callers load it

                    ctx.caller = authenticate(req, auth, jsonrpc=handler == self._serve_mcp)
            return handler(req, params, ctx), ctx
        except HTTPError as exc:
            return exc.response(), ctx
        except Exception as exc:  # a bug in an operation: log it for the owner, hide it from the caller
            what = (ctx.operation if ctx is not None else None) or "the request"
            (ctx.log if ctx is not None else log).exception(f"{what} failed: {type(exc).__name__}: {exc}")
            return json_response(500, _INTERNAL_ERROR), ctx

    def _metrics_namespace(self) -> str:
        namespace = self.__dict__.get("_namespace")
        if namespace is None:
            namespace = self.__dict__["_namespace"] = metrics_namespace(self)
        return namespace

    # -- settings and secrets, for code outside an operation (operations use ctx.setting / ctx.secret)
    def setting(self, name: str, kind: Callable = str, default: object = MISSING) -> object:
        """The setting ``name`` from Terraform's ``settings`` (the Lambda's environment), converted by
        ``kind`` (str, int, float, bool or any callable); ``SettingError`` when missing or invalid."""
        return setting(name, kind, default)

    def secret(self, name: str) -> str:
        """The secret ``name`` from Terraform's ``secrets`` (SSM, cached a few minutes; locally the
        environment or .secrets.env); ``SecretError`` when it cannot be read."""
        from .model_secrets import secret

        return secret(name)

    # -- documents ----------------------------------------------------------------------
    def manifest_for(self, origin: str, auth: AuthConfig | None = None) -> dict:
        """The manifest as served from ``origin``: every URL is absolute on that origin."""
        return manifest_for(self, origin, auth or auth_config())

    def openapi_for(self, origin: str, auth: AuthConfig | None = None) -> dict:
        """The OpenAPI document as served from ``origin`` under ``auth`` (default: the deployment's)."""
        from .surface_openapi import build_openapi

        return build_openapi(self, origin, auth or auth_config())

    def _cached(self, kind: str, origin: str, make: Callable[[str], dict]) -> dict:
        key = (kind, origin, auth_config().mode)
        response = self._cache.get(key)
        if response is None:
            if len(self._cache) > 64:
                self._cache.clear()
            response = self._cache[key] = json_response(200, make(origin))
        return response

    def _serve_manifest(self, req: Request, _: dict, ctx: Context) -> dict:
        return self._cached("manifest", req.origin, self.manifest_for)

    def _serve_openapi(self, req: Request, _: dict, ctx: Context) -> dict:
        return self._cached("openapi", req.origin, self.openapi_for)

    def _serve_logo(self, req: Request, _: dict, ctx: Context) -> dict:
        response = self._cache.get(("logo", ""))
        if response is None:  # read and encoded once per container, like the other documents
            response = self._cache[("logo", "")] = logo_response(self)
        return response

    def _serve_challenge(self, req: Request, _: dict, ctx: Context) -> dict:
        return challenge_response()

    def _oauth_endpoint(self, endpoint: str) -> Callable:
        def serve(req: Request, _: dict, ctx: Context) -> dict:
            from .surface_oauth import handle

            return handle(self, auth_config(), req, endpoint)

        return serve

    def _serve_mcp(self, req: Request, _: dict, ctx: Context) -> dict:
        from .surface_mcp import handle

        return handle(self, req, ctx)
