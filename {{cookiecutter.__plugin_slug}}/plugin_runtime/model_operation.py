"""The model: an operation is a typed Python function plus everything derived from it.

Its signature gives the parameters and their JSON Schema, its docstring the descriptions the
model reads; where each parameter travels in an HTTP request (path, query or body) follows from
the method and path. Nothing here knows about HTTP responses, MCP or any other surface: the
surfaces read what this layer derives.
"""

from __future__ import annotations

import os
import typing

from .model_context import Context
from .model_schema import SchemaError, converter_for, schema_for, strip_optional, to_json, validate

if typing.TYPE_CHECKING:
    from collections.abc import Callable

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
QUERY_METHODS = frozenset({"GET", "DELETE"})
_DOC_SECTIONS = {"args:", "arguments:", "parameters:", "params:", "returns:", "return:",
                 "raises:", "yields:", "examples:", "example:", "notes:", "note:"}


# The statuses an operation may answer with ``OperationError``, and the stable code REST sends
# with each. 4xx: the caller's request (ClientErrors); 5xx: an upstream the operation depends on
# failed (ServerErrors, so an outage pages the owner).
ERROR_STATUSES = {400: "operation_refused", 403: "forbidden", 404: "not_found", 409: "conflict", 410: "gone",
                  422: "unprocessable", 429: "rate_limited", 502: "bad_gateway", 503: "unavailable",
                  504: "gateway_timeout"}
RETRY_STATUSES = frozenset({429, 503})  # the ones that may say when to retry (Retry-After)


def check_status(status: object, where: str) -> int:
    """``status`` if OperationError may carry it, else SchemaError naming the allowed ones."""
    if isinstance(status, bool) or not isinstance(status, int) or status not in ERROR_STATUSES:
        raise SchemaError(f"{where}: status {status!r} is not one an operation may answer; use one of "
                          f"{', '.join(map(str, ERROR_STATUSES))} (an unexpected failure is a 500 by itself)")
    return status


class OperationError(Exception):
    """Raise from an operation to refuse a request, with a message the caller reads:
    ``OperationError("no such order", status=404)``; ``status=429, retry_after=30`` (seconds)
    also sends Retry-After. REST answers that status with a JSON error, MCP a tool result with
    ``isError``. Statuses: 400 (default), 403, 404, 409, 410, 422, 429, 502, 503, 504."""

    def __init__(self, message: str = "", status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.status = check_status(status, "OperationError")
        if retry_after is not None:
            if status not in RETRY_STATUSES:
                raise SchemaError(f"OperationError: retry_after goes with status 429 or 503, not {status}")
            if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
                raise SchemaError(f"OperationError: retry_after must be whole seconds >= 0, not {retry_after!r}")
        self.retry_after = retry_after


DEFAULT_ENV = "PLUGIN_DEFAULT_QUOTA"  # set by Terraform's default_quota ("" = none)
WINDOWS = {"minute": 60, "hour": 3600, "day": 86400}
MAX_LIMIT = 10**9


# task= of @plugin.operation, and the MCP execution.taskSupport it becomes (model_task runs them).
TASK_SUPPORT = {None: "forbidden", "optional": "optional", "required": "required"}


class Quota(typing.NamedTuple):
    limit: int
    window: str
    seconds: int


def parse_quota(spec: object, where: str) -> Quota | None:
    """``"N/minute|hour|day"`` as a Quota (None for None or ""); SchemaError naming ``where`` else."""
    if spec is None or spec == "":
        return None
    count, _, window = spec.partition("/") if isinstance(spec, str) else ("", "", "")
    count, window = count.strip(), window.strip().lower()
    if not count.isdigit() or not 1 <= int(count) <= MAX_LIMIT or window not in WINDOWS:
        raise SchemaError(f"{where}: quota {spec!r} is not CALLS/WINDOW, e.g. \"100/day\" (windows: minute, hour, "
                          f"day; calls: 1 to {MAX_LIMIT})")
    return Quota(int(count), window, WINDOWS[window])


_default: dict[str, Quota | None] = {}


def default_quota() -> Quota | None:
    """Terraform's default_quota, parsed once per value (a bad one is refused naming the variable)."""
    spec = os.environ.get(DEFAULT_ENV, "")
    if spec not in _default:
        _default.clear()
        _default[spec] = parse_quota(spec, f"default_quota ({DEFAULT_ENV})")
    return _default[spec]


_charger: list[Callable[[str, Quota, Context], None]] = []


def use_quota_charger(charge: Callable[[str, Quota, Context], None]) -> None:
    """Install what counts a call against a quota (plugin.py: model_quota, loaded on first use)."""
    _charger[:] = [charge]


class ArgumentsError(ValueError):
    """Arguments that do not fit an operation's schema; each surface answers it its own way."""


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

    __slots__ = ("convert", "default", "location", "name", "required", "schema")

    def __init__(self, name: str, schema: dict, required: bool, default: object, location: str,
                 convert: Callable | None = None):
        self.name, self.schema, self.required = name, schema, required
        self.default, self.location = default, location
        self.convert = convert  # JSON value -> date, Enum, dataclass, ... (None: the JSON value is it)


class Operation:
    """A typed Python function plus everything derived from it."""

    def __init__(self, func: Callable, *, method: str, path: str | None, read_only: bool,
                 destructive: bool | None, idempotent: bool | None, open_world: bool,
                 scopes: tuple[str, ...] = (), widget: object = None, invoking: str | None = None,
                 invoked: str | None = None, errors: tuple[int, ...] = (),
                 quota: str | None = None, task: str | None = None) -> None:
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
        for scope in scopes:
            if not isinstance(scope, str) or not scope or not all(c.isalnum() or c in "._-:" for c in scope):
                raise SchemaError(f"{func.__name__}: scope {scope!r} must be a word of letters, digits, '.', '_', '-'")
        if isinstance(errors, (int, str)) or not all(check_status(e, f"{func.__name__}: errors=") for e in errors):
            raise SchemaError(f"{func.__name__}: errors= takes a list of statuses, e.g. errors=[404, 409]")
        self.quota = parse_quota(quota, f"{func.__name__}: quota=")  # None: default_quota, if any
        if task is not None and task not in ("optional", "required"):
            raise SchemaError(f"{func.__name__}: task= is \"optional\" (an MCP client may run it as a task) or "
                              f"\"required\" (only as a task), not {task!r}")
        self.task = TASK_SUPPORT[task]  # MCP execution.taskSupport: "forbidden", "optional" or "required"
        self.errors = tuple(sorted(set(errors)))  # the OperationError statuses it documents (400 always)
        self.scopes = tuple(scopes)  # OAuth scopes a caller needs beyond the base one (auth = oauth)
        # MCP Apps: the widget (None: widgets/<name>.html if it exists, False: none) and the
        # status texts a host shows while the tool runs and once it is done.
        self.widget, self.invoking, self.invoked = widget, invoking, invoked
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
        self.context_param: str | None = None
        for name in names:
            if name not in hints:
                raise SchemaError(f"{self.name}: parameter {name!r} needs a type hint")
            if strip_optional(hints[name])[0] is Context:  # filled in by the runtime, never in a schema
                if name in in_path:
                    raise SchemaError(f"{self.name}: {name!r} is the Context and cannot be a path parameter")
                self.context_param = name
                continue
            try:
                schema = schema_for(hints[name])
            except SchemaError as exc:
                raise SchemaError(f"{self.name}: parameter {name!r}: {exc}") from None
            if docs.get(name) and "description" not in schema:
                schema["description"] = docs[name]
            _, optional = strip_optional(_unannotated(hints[name]))
            required = name not in defaults
            if optional and required:
                raise SchemaError(f"{self.name}: optional parameter {name!r} needs a default (e.g. = None)")
            location = ("path" if name in in_path else "query" if self.method in QUERY_METHODS else "body")
            if location != "body" and schema.get("type") not in ("string", "integer", "number", "boolean"):
                raise SchemaError(f"{self.name}: parameter {name!r} travels in the URL, so it must be a scalar")
            self.params.append(Param(name, schema, required or location == "path", defaults.get(name), location,
                                     converter_for(hints[name])))
        self._converted = [p for p in self.params if p.convert is not None]
        self.input_schema = _object_schema(self.params)
        self.body_schema = _object_schema([p for p in self.params if p.location == "body"])
        self.has_body = self.method in BODY_METHODS
        returned = hints.get("return")
        if returned is None:
            raise SchemaError(f"{self.name}: add a return type hint (a TypedDict describes the answer best)")
        try:
            out = schema_for(returned)
        except SchemaError as exc:
            raise SchemaError(f"{self.name}: return type: {exc}") from None
        self._dumps = converter_for(returned) is not None  # results holding dates, Enums, dataclasses, ...
        self.wraps_result = out.get("type") != "object"
        self.output_schema = (
            {"type": "object", "properties": {"result": out}, "required": ["result"]} if self.wraps_result else out
        )

    def charge(self, context: Context | None) -> None:
        """Count this call against the operation's quota (OperationError 429 over it)."""
        quota = self.quota or default_quota()
        if quota is not None and context is not None:
            _charger[0](self.name, quota, context)

    def call(self, arguments: dict, context: Context | None = None, charge: bool = True) -> dict:
        """Run the function with validated arguments (and the Context, when it asks for one);
        the answer is always a JSON object. ``charge=False``: the quota was counted already (a
        task's worker runs a call its request counted)."""
        if charge:
            self.charge(context)
        if self._converted:
            arguments = dict(arguments)
            for p in self._converted:
                if p.name in arguments:
                    arguments[p.name] = p.convert(arguments[p.name])  # type: ignore[misc]
        if self.context_param is not None:
            arguments = {**arguments, self.context_param: context if context is not None else Context()}
        result = self.func(**arguments)
        if self._dumps:
            result = to_json(result)
        return {"result": result} if self.wraps_result else result

    def arguments_from_json(self, data: object) -> dict:
        """Validate a JSON object of arguments (an MCP call or a request body) and fill defaults."""
        error = validate(self.input_schema, data)
        if error:
            raise ArgumentsError(error)
        args = dict(data)  # type: ignore[call-overload]
        for p in self.params:
            if p.name not in args and not p.required:
                args[p.name] = p.default
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
