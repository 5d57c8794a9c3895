"""The model: what an MCP client can read besides the tools.

- ``Resource``: read-only data from a typed function or a file, at a fixed URI or at every URI a
  template such as ``data://items/{item_id}`` matches (its ``{names}`` are the function's
  parameters);
- ``Prompt``: a function whose typed parameters are the prompt's arguments and whose docstring is
  its description; it returns the prompt's text (or a list of messages);
- ``Widget``: an operation's web view, ``widgets/<name>.html``, which MCP Apps hosts (ChatGPT,
  Claude, VS Code, ...) show in the conversation next to the tool's result.

Like the rest of the model, nothing here knows the MCP wire format. Nothing is read at import:
files, a widget's HTML and its content hash are loaded on first use, so a cold start that serves
no widget and no resource pays nothing for them.
"""

from __future__ import annotations

import os
import re
import typing

from .model_operation import ArgumentsError, Param, parse_docstring
from .model_schema import SchemaError, coerce_text, converter_for, schema_for, strip_optional, validate

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

TEXT_KINDS = frozenset({"string", "integer", "number", "boolean"})
# Patterns, compiled (and cached by re) on first use rather than at import.
_URI = r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+"  # an absolute URI (RFC 3986): a scheme, a colon, no whitespace
_PLACEHOLDER = r"\{([^{}]*)\}"
# <script src="mcp-app.js"></script>: a script next to the widget, inlined when it is served.
_LOCAL_SCRIPT = r"""<script\b([^>]*?)\s+src\s*=\s*["'](?:\./)?([\w.-]+\.js)["']([^>]*)>\s*</script\s*>"""
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
WIDGET_SCHEME = "ui://widget/"
_MIME_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv", ".html": "text/html",
               ".json": "application/json", ".xml": "application/xml", ".svg": "image/svg+xml",
               ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".pdf": "application/pdf"}


def mime_type_of(path: str) -> str:
    return _MIME_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")


def is_text_type(mime_type: str) -> bool:
    kind = mime_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or kind.endswith(("json", "xml")) or kind == "image/svg+xml"


def text_parameters(func: Callable, what: str) -> tuple[str, str, list[Param]]:
    """(summary, description, parameters) of a function whose arguments arrive as text: the
    values of a URI template or a prompt's arguments. Each must be a scalar type."""
    code = func.__code__
    if code.co_flags & 0x0C:
        raise SchemaError(f"{what}: *args and **kwargs cannot be described; name every parameter")
    summary, description, docs = parse_docstring(func.__doc__)
    hints = typing.get_type_hints(func, include_extras=True)
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    defaults = dict(zip(reversed(names[:code.co_argcount]), reversed(func.__defaults__ or ()), strict=False))
    defaults.update(func.__kwdefaults__ or {})
    params = []
    for name in names:
        hint = hints.get(name)
        if hint is None:
            raise SchemaError(f"{what}: parameter {name!r} needs a type hint")
        try:
            schema = schema_for(hint)
        except SchemaError as exc:
            raise SchemaError(f"{what}: parameter {name!r}: {exc}") from None
        if schema.get("type") not in TEXT_KINDS:
            raise SchemaError(f"{what}: parameter {name!r} arrives as text, so it must be str, int, float, bool "
                              "or a Literal")
        if docs.get(name) and "description" not in schema:
            schema["description"] = docs[name]
        bare = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
        if strip_optional(bare)[1] and name not in defaults:
            raise SchemaError(f"{what}: optional parameter {name!r} needs a default (e.g. = None)")
        params.append(Param(name, schema, name not in defaults, defaults.get(name), "text", converter_for(hint)))
    return summary, description, params


def arguments_from_text(params: list[Param], given: dict) -> dict:
    """Each value converted by its parameter's schema and checked; defaults filled in."""
    allowed = {p.name for p in params}
    extra = sorted(k for k in given if k not in allowed)
    if extra:
        raise ArgumentsError(f"unexpected argument {extra[0]!s} (allowed: {', '.join(sorted(allowed)) or 'none'})")
    args: dict = {}
    for p in params:
        if p.name not in given:
            if p.required:
                raise ArgumentsError(f"{p.name} is required")
            args[p.name] = p.default
            continue
        value, error = given[p.name], None
        if isinstance(value, str) and p.schema.get("type") != "string":
            value, error = coerce_text(p.schema, value, p.name)
        error = error or validate(p.schema, value, p.name)
        if error:
            raise ArgumentsError(error)
        args[p.name] = p.convert(value) if p.convert is not None else value  # a date, an Enum member, ...
    return args


class Resource:
    """Read-only data at a fixed URI, or at every URI its template matches.

    A function's return type sets what is sent: ``str`` is text (text/plain), ``bytes`` a blob
    (application/octet-stream), anything else JSON (application/json), checked against the type.
    A file is read from the project folder on every request; its extension gives the MIME type.
    """

    def __init__(self, uri: str, func: Callable | None = None, *, file: str | None = None, root: str = ".",
                 name: str | None = None, title: str | None = None, description: str | None = None,
                 mime_type: str | None = None) -> None:
        if not isinstance(uri, str) or not re.fullmatch(_URI, uri):
            raise SchemaError(f"resource URI {uri!r} must be an absolute URI such as 'data://sumar/ejemplos'")
        if (func is None) == (file is None):
            raise SchemaError(f"resource {uri}: give either a function (as a decorator) or file=...")
        self.uri, self.func, self.file, self.root = uri, func, file, root
        self.placeholders = re.findall(_PLACEHOLDER, uri)
        self.is_template = bool(self.placeholders)
        self._pattern: re.Pattern | None = None
        self.output_schema: dict | None = None
        summary, body = "", ""
        if file is not None:
            if self.is_template:
                raise SchemaError(f"resource {uri}: a file has one fixed URI; a URI template needs a function")
            self.params: list[Param] = []
            self.returns = "file"
            default_name, default_type = os.path.basename(file), mime_type_of(file)
        else:
            summary, body, self.params = text_parameters(func, f"resource {uri}")
            names = [p.name for p in self.params]
            if sorted(self.placeholders) != sorted(names):
                raise SchemaError(f"resource {uri}: the names in the URI ({', '.join(self.placeholders) or 'none'}) "
                                  f"must be the function's parameters ({', '.join(names) or 'none'})")
            returned = typing.get_type_hints(func, include_extras=True).get("return")
            if returned is None:
                raise SchemaError(f"resource {uri}: add a return type hint (str for text, bytes for a blob, "
                                  "a TypedDict for JSON)")
            if returned is str:
                self.returns, default_type = "text", "text/plain"
            elif returned is bytes:
                self.returns, default_type = "blob", "application/octet-stream"
            else:
                self.returns, default_type = "json", "application/json"
                self.output_schema = schema_for(returned)
            default_name = func.__name__
        self.name = name or default_name
        self.title = title or summary.rstrip(".") or None
        self.description = description or "\n\n".join(p for p in (summary, body) if p) or None
        self.mime_type = mime_type or default_type

    def match(self, uri: str) -> dict[str, str] | None:
        """The template's values in ``uri`` (``{}`` for this fixed URI), or None."""
        if not self.is_template:
            return {} if uri == self.uri else None
        if self._pattern is None:
            parts = re.split(_PLACEHOLDER, self.uri)  # literal, name, literal, name, ..., literal
            self._pattern = re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/?#]+)"
                                               for i, part in enumerate(parts)))
        found = self._pattern.fullmatch(uri)
        if found is None:
            return None
        from urllib.parse import unquote  # only for templates, only when one matches

        return {k: unquote(v) for k, v in found.groupdict().items()}

    def read(self, values: dict[str, str]) -> str | bytes:
        """The resource's content: text or bytes. Raises ArgumentsError for template values that
        do not fit the parameters, and ValueError for a result that breaks the declared type."""
        if self.file is not None:
            with open(os.path.join(self.root, self.file), "rb") as fh:
                data = fh.read()
            return data.decode("utf-8") if is_text_type(self.mime_type) else data
        value = self.func(**arguments_from_text(self.params, values))  # type: ignore[misc]
        if self.returns == "json":
            problem = validate(self.output_schema or {}, value)
            if problem:
                raise ValueError(f"resource {self.uri} returned a value that does not match its type: {problem}")
            import json

            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        wanted = str if self.returns == "text" else bytes
        if not isinstance(value, wanted):
            raise ValueError(f"resource {self.uri} returned {type(value).__name__}, not {wanted.__name__}")
        return value


class Prompt:
    """A prompt template: its arguments are the function's parameters, its description the
    docstring. The function returns the text of one user message, or a list whose items are
    text (user messages), content blocks ({"type": "image", ...}) or whole messages
    ({"role": "assistant", "content": {...}})."""

    def __init__(self, func: Callable, *, name: str | None = None, title: str | None = None,
                 description: str | None = None) -> None:
        self.func = func
        self.name = name or func.__name__
        summary, body, self.params = text_parameters(func, f"prompt {self.name}")
        self.title = title or summary.rstrip(".") or None
        self.description = description or "\n\n".join(p for p in (summary, body) if p) or self.name

    def messages(self, arguments: dict) -> list[dict]:
        """The messages for these arguments (ArgumentsError when they do not fit)."""
        value = self.func(**arguments_from_text(self.params, arguments))
        return [_message(item) for item in (value if isinstance(value, list) else [value])]


def _message(item: object) -> dict:
    if isinstance(item, str):
        return {"role": "user", "content": {"type": "text", "text": item}}
    if isinstance(item, dict) and "role" in item:
        if item["role"] not in ("user", "assistant") or not isinstance(item.get("content"), dict):
            raise ValueError(f"a prompt message needs role 'user' or 'assistant' and a content object: {item!r:.200}")
        return item
    if isinstance(item, dict) and isinstance(item.get("type"), str):
        return {"role": "user", "content": item}
    raise ValueError(f"a prompt returns text, content blocks or messages, not {type(item).__name__}")


class Widget:
    """How an operation's widget is shown. ``@plugin.operation(widget="card")`` is short for
    ``widget=Widget("card")``; without ``widget=`` an operation uses ``widgets/<operation>.html``
    when that file exists.

    - ``description``: what the widget shows, for the model (default: the operation's summary);
    - ``connect_domains``: origins its scripts may fetch from (the host's CSP blocks all others);
    - ``resource_domains``: origins it may load scripts, styles, images and fonts from;
    - ``frame_domains``: origins it may embed in iframes;
    - ``domain``: a dedicated origin for the widget, if the host supports one (default: the
      plugin's own https origin, which ChatGPT still reads; see ``widget_origins``);
    - ``calls_api``: its scripts fetch from this plugin's own API: that origin joins
      ``connect_domains`` (main.tf's CORS allows the widget's origin);
    - ``prefers_border``: whether the host should draw a border around it.
    """

    def __init__(self, name: str | None = None, *, description: str | None = None,
                 connect_domains: Iterable[str] = (), resource_domains: Iterable[str] = (),
                 frame_domains: Iterable[str] = (), domain: str | None = None, prefers_border: bool = True,
                 calls_api: bool = False) -> None:
        if name is not None and not (isinstance(name, str) and 0 < len(name) <= 64 and _NAME_CHARS.issuperset(name)):
            raise SchemaError(f"widget name {name!r} must be 1-64 letters, digits, _ or - (widgets/<name>.html)")
        self.name = name
        self.description = description
        self.connect_domains = tuple(connect_domains)
        self.resource_domains = tuple(resource_domains)
        self.frame_domains = tuple(frame_domains)
        self.domain = domain
        self.prefers_border = prefers_border
        self.calls_api = bool(calls_api)
        self.path: str | None = None
        self._html: str | None = None
        self._uri: str | None = None

    def bind(self, name: str, folder: str, description: str) -> Widget:
        """This widget for one operation: its name, its file and its description settled."""
        bound = Widget(self.name or name, description=self.description or description,
                       connect_domains=self.connect_domains, resource_domains=self.resource_domains,
                       frame_domains=self.frame_domains, domain=self.domain, prefers_border=self.prefers_border,
                       calls_api=self.calls_api)
        bound.path = os.path.join(folder, f"{bound.name}.html")
        return bound

    @property
    def html(self) -> str:
        """The HTML document as served: local scripts inlined (read once, on first use)."""
        if self._html is None:
            with open(self.path or "", encoding="utf-8") as fh:
                self._html = inline_scripts(fh.read(), os.path.dirname(self.path or ""))
        return self._html

    @property
    def uri(self) -> str:
        """``ui://widget/<name>-<content hash>.html``: hosts cache widgets by URI, so a changed
        widget gets a new one and is seen after the next deploy."""
        if self._uri is None:
            import zlib  # built in; hashlib would load OpenSSL (milliseconds of cold start)

            self._uri = f"{WIDGET_SCHEME}{self.name}-{zlib.crc32(self.html.encode('utf-8')):08x}.html"
        return self._uri

    def answers(self, uri: str) -> bool:
        """This widget's URI, or the URI an earlier version had: a conversation rendered before a
        deploy still gets a widget (the current one). Never one whose file cannot be read."""
        try:
            if uri == self.uri:
                return True
        except (OSError, ValueError):
            return False
        head, tail = f"{WIDGET_SCHEME}{self.name}-", ".html"
        version = uri[len(head):-len(tail)] if uri.startswith(head) and uri.endswith(tail) else ""
        return len(version) == 8 and all(c in "0123456789abcdef" for c in version)


SANDBOX_SUFFIX = ".web-sandbox.oaiusercontent.com"


def widget_origins(mcp_url: str) -> dict[str, str]:
    """The origin each ChatGPT generation gives a widget of the MCP server at ``mcp_url``:
    ``chatgpt`` (from 2026-12-15: the first 32 hex digits of SHA-256 of the server URL) and
    ``chatgpt_legacy`` (from ``_meta.ui.domain``, which the runtime sets to the plugin's origin)."""
    import hashlib  # only the build and the doctor ask; the runtime's hot path never does
    from urllib.parse import urlsplit

    digest = hashlib.sha256(mcp_url.encode("utf-8")).hexdigest()[:32]
    host = (urlsplit(mcp_url).hostname or "").replace(".", "-")
    return {"chatgpt": f"https://mcp-endpoint-{digest}{SANDBOX_SUFFIX}",
            "chatgpt_legacy": f"https://{host}{SANDBOX_SUFFIX}"}


def inline_scripts(html: str, folder: str) -> str:
    """Replace each ``<script src="name.js"></script>`` naming a file in ``folder`` by the
    script itself: hosts show the widget from one HTML string, with no server to fetch from."""

    def inline(found: re.Match) -> str:
        try:
            with open(os.path.join(folder, found.group(2)), encoding="utf-8") as fh:
                code = fh.read()
        except OSError:
            return found.group(0)  # plugin_tools.check reports it; the host will not find it either
        code = re.sub("</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
        return f"<script{found.group(1)}{found.group(3)}>\n{code}</script>"

    return re.sub(_LOCAL_SCRIPT, inline, html, flags=re.IGNORECASE)
