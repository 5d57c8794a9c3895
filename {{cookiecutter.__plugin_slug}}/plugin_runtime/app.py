"""The plugin object: it registers operations and turns API Gateway events into responses.

Everything a surface needs (HTTP route, OpenAPI operation, MCP tool) is derived from the
operation's Python signature and docstring, so an operation is written exactly once.
"""

from __future__ import annotations

import json
import os
import typing

from .schema import SchemaError, coerce_text, schema_for, strip_optional, validate

if typing.TYPE_CHECKING:
    from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST_PATH = "/.well-known/ai-plugin.json"
OPENAPI_PATH = "/openapi.json"
LOGO_PATH = "/logo.png"
MCP_PATH = "/mcp"
MAX_BODY_BYTES = 1_048_576
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_QUERY_METHODS = {"GET", "DELETE"}
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
_DOC_SECTIONS = {"args:", "arguments:", "parameters:", "params:", "returns:", "return:",
                 "raises:", "yields:", "examples:", "example:", "notes:", "note:"}


class HTTPError(Exception):
    """A request the client can fix: answered with ``status`` and a JSON error, never a trace."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def response(self) -> dict:
        return json_response(self.status, {"error": self.code, "message": self.message}, self.headers)


class OperationError(Exception):
    """Raise from an operation to refuse input it cannot handle (HTTP 400, MCP ``isError``)."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


# Built once, shared by every surface: json.dumps/json.loads with options build a new
# encoder/decoder on every call, which is measurable on the warm path.
encode_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_decode_json = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float).decode


def json_response(status: int, payload: object, headers: dict | None = None) -> dict:
    """An API Gateway (payload 2.0) response carrying JSON."""
    head = {"content-type": "application/json"}
    if headers:
        head.update(headers)
    return {"statusCode": status, "headers": head, "body": encode_json(payload)}


def parse_json(data: bytes, what: str = "request body") -> object:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no numbers that overflow a float."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "invalid_body", f"the {what} is not UTF-8 text") from None
    try:
        return _decode_json(text)
    except RecursionError:
        raise HTTPError(400, "invalid_json", f"the {what} is nested too deeply") from None
    except ValueError as exc:
        raise HTTPError(400, "invalid_json", f"the {what} is not valid JSON: {exc}") from None


class Request:
    """The parts of an API Gateway HTTP API (payload 2.0) event the runtime uses."""

    __slots__ = ("_ctx", "body", "headers", "method", "path", "query")

    def __init__(self, event: object) -> None:
        if not isinstance(event, dict):
            raise HTTPError(400, "invalid_event", "expected an API Gateway HTTP API (payload 2.0) event")
        ctx = event.get("requestContext")
        http = ctx.get("http") if isinstance(ctx, dict) else None
        method = http.get("method") if isinstance(http, dict) else None
        path = event.get("rawPath") or (http.get("path") if isinstance(http, dict) else None)
        if not isinstance(method, str) or not isinstance(path, str):
            raise HTTPError(400, "invalid_event",
                            "expected an API Gateway HTTP API (payload 2.0) event with a method and a path")
        self.method, self.path, self._ctx = method.upper(), path, ctx
        raw_headers = event.get("headers")
        self.headers = ({k.lower(): v for k, v in raw_headers.items() if isinstance(k, str) and isinstance(v, str)}
                        if isinstance(raw_headers, dict) else {})
        query = event.get("queryStringParameters")
        self.query = ({k: v for k, v in query.items() if isinstance(k, str) and isinstance(v, str)}
                      if isinstance(query, dict) else {})
        body = event.get("body")
        if body is None:
            self.body = b""
        elif not isinstance(body, str):
            raise HTTPError(400, "invalid_event", "the event's body must be a string")
        elif event.get("isBase64Encoded") is True:
            import base64  # only here and for the logo: 0.8 ms of cold start saved on JSON requests

            try:
                self.body = base64.b64decode(body, validate=True)
            except ValueError:
                raise HTTPError(400, "invalid_body", "the body is flagged base64 but is not valid base64") from None
        else:
            try:
                self.body = body.encode("utf-8")
            except UnicodeEncodeError:
                raise HTTPError(400, "invalid_body", "the request body is not UTF-8 text") from None
        if len(self.body) > MAX_BODY_BYTES:
            raise HTTPError(413, "body_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes")

    @property
    def origin(self) -> str:
        """The scheme and host this request came to; every absolute URL we serve starts here."""
        host = self._ctx.get("domainName") if isinstance(self._ctx, dict) else None
        if not isinstance(host, str) or not host:
            host = self.headers.get("host", "")
        if not host or len(host) > 253 or not _HOST_CHARS.issuperset(host):
            raise HTTPError(400, "invalid_host", "the Host header is missing or not a valid host name")
        proto = self.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto not in ("http", "https"):
            local = host.split(":")[0] in ("localhost", "127.0.0.1", "[") or host.startswith("[::1]")
            proto = "http" if local else "https"
        return f"{proto}://{host}"

    def json(self) -> object:
        if not self.body:
            raise HTTPError(400, "missing_body", "the request needs a JSON body")
        ctype = self.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise HTTPError(415, "unsupported_media_type", "send the body as application/json")
        return parse_json(self.body)


def _dedent(doc: str) -> list[str]:
    lines = doc.expandtabs().splitlines()
    indents = [len(s) - len(s.lstrip()) for s in lines[1:] if s.strip()]
    cut = min(indents, default=0)
    return [lines[0].strip()] + [s[cut:].rstrip() for s in lines[1:]]


def parse_docstring(doc: str | None) -> tuple[str, str, dict[str, str]]:
    """(summary, description, {param: text}) from a Google-style docstring."""
    if not doc or not doc.strip():
        return "", "", {}
    lines = _dedent(doc)
    while lines and not lines[0]:
        lines.pop(0)
    blank = lines.index("") if "" in lines else len(lines)
    summary = " ".join(s.strip() for s in lines[:blank])
    body: list[str] = []
    params: dict[str, str] = {}
    section, current = None, None
    for line in lines[blank:]:
        stripped = line.strip()
        if stripped.lower() in _DOC_SECTIONS and not line.startswith(" "):
            section, current = stripped.lower(), None
            continue
        if section is None:
            body.append(line)
        elif section in ("args:", "arguments:", "parameters:", "params:") and stripped:
            head, sep, text = stripped.partition(":")
            name = head.split("(")[0].strip()
            if sep and name.isidentifier() and len(line) - len(line.lstrip()) <= 4:
                current = name
                params[name] = text.strip()
            elif current:
                params[current] = f"{params[current]} {stripped}".strip()
    description = "\n".join(body).strip()
    return summary, description, params


class Param:
    """One argument of an operation and where it travels in an HTTP request."""

    __slots__ = ("default", "location", "name", "required", "schema")

    def __init__(self, name: str, schema: dict, required: bool, default: object, location: str):
        self.name, self.schema, self.required = name, schema, required
        self.default, self.location = default, location


class Operation:
    """A typed Python function plus everything derived from it."""

    def __init__(self, func: Callable, *, method: str, path: str | None, read_only: bool,
                 destructive: bool | None, idempotent: bool | None, open_world: bool) -> None:
        code = func.__code__
        if code.co_flags & 0x0C:
            raise SchemaError(f"{func.__name__}: *args and **kwargs cannot be described; name every parameter")
        self.func = func
        self.name = func.__name__
        self.method = method.upper()
        self.path = path or f"/{self.name}"
        self.summary, self.description, docs = parse_docstring(func.__doc__)
        self.read_only = read_only
        self.destructive = (not read_only) if destructive is None else destructive
        self.idempotent = read_only if idempotent is None else idempotent
        self.open_world = open_world
        hints = typing.get_type_hints(func, include_extras=True)
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        positional_defaults = func.__defaults__ or ()
        first_default = code.co_argcount - len(positional_defaults)
        defaults = dict(zip(names[first_default:code.co_argcount], positional_defaults, strict=True))
        defaults.update(func.__kwdefaults__ or {})
        in_path = {seg[1:-1] for seg in self.path.split("/") if seg.startswith("{") and seg.endswith("}")}
        unknown = in_path.difference(names)
        if unknown:
            raise SchemaError(f"{self.name}: path {self.path} names {sorted(unknown)}, "
                              "which the function has no parameter for")
        self.params: list[Param] = []
        for name in names:
            if name not in hints:
                raise SchemaError(f"{self.name}: parameter {name!r} needs a type hint")
            schema = schema_for(hints[name])
            if docs.get(name) and "description" not in schema:
                schema["description"] = docs[name]
            _, optional = strip_optional(_unannotated(hints[name]))
            required = name not in defaults
            if optional and required:
                raise SchemaError(f"{self.name}: optional parameter {name!r} needs a default (e.g. = None)")
            location = ("path" if name in in_path else "query" if self.method in _QUERY_METHODS else "body")
            if location != "body" and schema.get("type") not in ("string", "integer", "number", "boolean"):
                raise SchemaError(f"{self.name}: parameter {name!r} travels in the URL, so it must be a scalar")
            self.params.append(Param(name, schema, required or location == "path", defaults.get(name), location))
        self.input_schema = _object_schema(self.params)
        self.body_schema = _object_schema([p for p in self.params if p.location == "body"])
        self.has_body = self.method in _BODY_METHODS
        returned = hints.get("return")
        if returned is None:
            raise SchemaError(f"{self.name}: add a return type hint (a TypedDict describes the answer best)")
        out = schema_for(returned)
        self.wraps_result = out.get("type") != "object"
        self.output_schema = (
            {"type": "object", "properties": {"result": out}, "required": ["result"]} if self.wraps_result else out
        )

    def call(self, arguments: dict) -> dict:
        """Run the function with validated arguments; the answer is always a JSON object."""
        result = self.func(**arguments)
        return {"result": result} if self.wraps_result else result

    def arguments_from_json(self, data: object) -> dict:
        """Validate a JSON object of arguments (an MCP call or a request body) and fill defaults."""
        error = validate(self.input_schema, data)
        if error:
            raise HTTPError(400, "invalid_arguments", error)
        args = dict(data)  # type: ignore[call-overload]
        for p in self.params:
            if p.name not in args and not p.required:
                args[p.name] = p.default
        return args

    def arguments_from_request(self, req: Request, path_params: dict[str, str]) -> dict:
        args: dict = {}
        if self.has_body:
            data = req.json() if (self.body_schema["properties"] or req.body) else {}
            if not isinstance(data, dict):
                raise HTTPError(400, "invalid_arguments", "the request body must be a JSON object")
            error = validate(self.body_schema, data)
            if error:
                raise HTTPError(400, "invalid_arguments", error)
            args.update(data)
        for p in self.params:
            if p.location == "body":
                if p.name not in args and not p.required:
                    args[p.name] = p.default
                continue
            raw = path_params.get(p.name) if p.location == "path" else req.query.get(p.name)
            if raw is None:
                if p.required:
                    raise HTTPError(400, "invalid_arguments", f"query parameter {p.name} is required")
                args[p.name] = p.default
                continue
            value, error = coerce_text(p.schema, raw, p.name)
            error = error or validate(p.schema, value, p.name)
            if error:
                raise HTTPError(400, "invalid_arguments", error)
            args[p.name] = value
        return args


def _unannotated(tp: object) -> object:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is typing.Annotated else tp


def _object_schema(params: list[Param]) -> dict:
    schema: dict = {"type": "object", "properties": {p.name: p.schema for p in params},
                    "additionalProperties": False}
    required = [p.name for p in params if p.required]
    if required:
        schema["required"] = required
    return schema


class Plugin:
    """The registry of operations and the Lambda entry point (``lambda_handler``)."""

    def __init__(self, version: str = "1.0.0", root: str = ROOT) -> None:
        self.version = version
        self.root = root
        self.operations: dict[str, Operation] = {}
        self._static: dict[str, dict[str, Callable]] = {}
        self._templated: list[tuple[list[str], dict[str, Callable]]] = []
        self._cache: dict[tuple[str, str], dict] = {}
        self._manifest: dict | None = None
        self._route("GET", MANIFEST_PATH, self._serve_manifest)
        self._route("GET", OPENAPI_PATH, self._serve_openapi)
        self._route("GET", LOGO_PATH, self._serve_logo)
        self._route("POST", MCP_PATH, self._serve_mcp)

    # -- registration -------------------------------------------------------------------
    def operation(self, func: Callable | None = None, *, method: str = "POST", path: str | None = None,
                  read_only: bool = False, destructive: bool | None = None, idempotent: bool | None = None,
                  open_world: bool = False) -> Callable:
        """Register a typed function as an operation: an HTTP route, an OpenAPI operation and an
        MCP tool. ``read_only=True`` marks a pure function (safe to run without asking)."""

        def register(fn: Callable) -> Callable:
            op = Operation(fn, method=method, path=path, read_only=read_only, destructive=destructive,
                           idempotent=idempotent, open_world=open_world)
            if op.name in self.operations:
                raise SchemaError(f"operation {op.name!r} is defined twice")
            self.operations[op.name] = op
            self._route(op.method, op.path, lambda req, params, op=op: self._serve_operation(op, req, params))
            return fn

        return register(func) if func is not None else register

    def _route(self, method: str, path: str, handler: Callable) -> None:
        if "{" in path:
            segments = path.strip("/").split("/")
            found = [table for existing, table in self._templated if existing == segments]
            methods = found[0] if found else {}
            if not found:
                self._templated.append((segments, methods))
        else:
            methods = self._static.setdefault(path, {})
        if method in methods:
            raise SchemaError(f"two handlers for {method} {path}")
        methods[method] = handler

    def _match(self, path: str) -> tuple[dict[str, Callable] | None, dict[str, str]]:
        methods = self._static.get(path)
        if methods is None and len(path) > 1 and path.endswith("/"):
            methods = self._static.get(path[:-1])  # setup guides often paste /mcp/ for /mcp
        if methods is not None:
            return methods, {}
        parts = path.strip("/").split("/")
        for segments, methods in self._templated:
            if len(segments) != len(parts):
                continue
            params: dict[str, str] = {}
            for seg, part in zip(segments, parts, strict=True):
                if seg.startswith("{"):
                    if not part:
                        break
                    params[seg[1:-1]] = part
                elif seg != part:
                    break
            else:
                return methods, params
        return None, {}

    # -- the entry point ----------------------------------------------------------------
    def lambda_handler(self, event: dict, context: object = None) -> dict:
        """AWS Lambda entry point for API Gateway HTTP API (payload 2.0) events."""
        try:
            req = Request(event)
            methods, params = self._match(req.path)
            if methods is None:
                raise HTTPError(404, "not_found",
                                f"no route for {req.path[:200]}; the API is described at {OPENAPI_PATH}")
            handler = methods.get(req.method)
            if handler is None:
                allow = ", ".join(sorted(methods))
                raise HTTPError(405, "method_not_allowed", f"{req.path[:200]} accepts {allow}", {"allow": allow})
            return handler(req, params)
        except HTTPError as exc:
            return exc.response()
        except Exception:  # a bug in an operation: log it for the owner, hide it from the caller
            import traceback  # only on this path: it costs milliseconds of cold start

            traceback.print_exc()
            return json_response(500, {"error": "internal_error", "message": "the operation failed unexpectedly; "
                                       "the details are in the function's logs"})

    def _serve_operation(self, op: Operation, req: Request, path_params: dict[str, str]) -> dict:
        args = op.arguments_from_request(req, path_params)
        try:
            result = op.call(args)
        except OperationError as exc:
            raise HTTPError(400, "operation_refused", str(exc)) from None
        try:
            return json_response(200, result)
        except ValueError:
            raise HTTPError(400, "result_out_of_range",
                            "the result is not a finite number; use smaller inputs") from None

    # -- documents ----------------------------------------------------------------------
    @property
    def manifest(self) -> dict:
        """manifest.json as written in the project (URLs pointing at the local server)."""
        if self._manifest is None:
            with open(os.path.join(self.root, "manifest.json"), encoding="utf-8") as fh:
                self._manifest = json.load(fh)
        return self._manifest

    def manifest_for(self, origin: str) -> dict:
        """The manifest as served from ``origin``: every URL is absolute on that origin."""
        doc = dict(self.manifest)
        doc["api"] = {**doc.get("api", {}), "type": "openapi", "url": origin + OPENAPI_PATH}
        doc["logo_url"] = origin + LOGO_PATH
        return doc

    def openapi_for(self, origin: str) -> dict:
        from .openapi import build_openapi

        return build_openapi(self, origin)

    def _cached(self, kind: str, origin: str, make: Callable[[str], dict]) -> dict:
        key = (kind, origin)
        response = self._cache.get(key)
        if response is None:
            if len(self._cache) > 64:
                self._cache.clear()
            response = self._cache[key] = json_response(200, make(origin))
        return response

    def _serve_manifest(self, req: Request, _: dict) -> dict:
        return self._cached("manifest", req.origin, self.manifest_for)

    def _serve_openapi(self, req: Request, _: dict) -> dict:
        return self._cached("openapi", req.origin, self.openapi_for)

    def _serve_logo(self, req: Request, _: dict) -> dict:
        response = self._cache.get(("logo", ""))
        if response is None:  # read and encoded once per container, like the other documents
            import base64

            with open(os.path.join(self.root, "logo.png"), "rb") as fh:
                data = base64.b64encode(fh.read()).decode("ascii")
            response = self._cache[("logo", "")] = {
                "statusCode": 200, "headers": {"content-type": "image/png", "cache-control": "public, max-age=3600"},
                "body": data, "isBase64Encoded": True}
        return response

    def _serve_mcp(self, req: Request, _: dict) -> dict:
        from .mcp import handle

        return handle(self, req)
