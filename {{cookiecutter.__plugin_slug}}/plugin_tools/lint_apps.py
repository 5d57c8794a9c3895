"""The MCP Apps rules: widget files (one complete HTML document, small enough for a host to load
with every result, scripts either inlined from widgets/ or from a domain the widget's CSP
names), resources, prompt names, and the metadata that points a tool at its widget."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from plugin_runtime.model_resource import WIDGET_SCHEME, Widget, inline_scripts
from plugin_runtime.surface_mcp_catalog import STATUS_TEXT_LIMIT, WIDGET_MIME_TYPE

from .lint_common import ERROR, WARNING, Finding, Report, kind_of

MAX_WIDGET_BYTES = 512 * 1024  # as served, scripts inlined: hosts load it with every result
LARGE_WIDGET_BYTES = 128 * 1024
_PROMPT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_DOCUMENT_TAGS = ("html", "head", "body")


class _Document(HTMLParser):
    """What a widget's HTML holds: its doctype, its document elements and what it loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype = False
        self.opened: set[str] = set()
        self.closed: set[str] = set()
        self.scripts: list[tuple[int, str]] = []  # (line, src)
        self.assets: list[tuple[int, str]] = []  # (line, url) of styles, images, media and frames

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.strip().lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.opened.add(tag)
        found = {name: value or "" for name, value in attrs}
        line = self.getpos()[0]
        if tag == "script" and found.get("src"):
            self.scripts.append((line, found["src"].strip()))
        elif tag == "link" and "stylesheet" in found.get("rel", "").lower() and found.get("href"):
            self.assets.append((line, found["href"].strip()))
        elif tag in ("img", "iframe", "audio", "video", "source") and found.get("src"):
            self.assets.append((line, found["src"].strip()))

    def handle_endtag(self, tag: str) -> None:
        self.closed.add(tag)


def _origin(url: str) -> str | None:
    """``https://cdn.example`` for an absolute URL, None for one relative to the widget."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return None
    if parts.scheme or url.startswith("//"):
        return f"{parts.scheme or 'https'}://{parts.netloc}".lower()
    return None


def check_widget_file(path: Path, widget: Widget | None = None) -> list[Finding]:
    """One widget file as a host receives it (local scripts inlined)."""
    file = f"{path.parent.name}/{path.name}"

    def finding(level: str, line: int | None, message: str) -> Finding:
        return Finding(level, file, f"line {line}" if line else "$", message)

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [finding(ERROR, None, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [finding(ERROR, None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]
    served = inline_scripts(text, str(path.parent))
    size = len(served.encode("utf-8"))
    findings = []
    if size > MAX_WIDGET_BYTES:
        findings.append(finding(ERROR, None, f"is {size:,} bytes with its scripts inlined; a widget may be at most "
                                f"{MAX_WIDGET_BYTES:,} (hosts load it with every result): load large libraries "
                                "from a domain named in Widget(resource_domains=...)"))
    elif size > LARGE_WIDGET_BYTES:
        findings.append(finding(WARNING, None, f"is {size:,} bytes with its scripts inlined; hosts load it with every "
                                f"result, so keep it under {LARGE_WIDGET_BYTES:,}"))
    document = _Document()
    document.feed(text)
    document.close()
    if not document.doctype:
        findings.append(finding(ERROR, None, "is not a complete HTML document: start it with <!doctype html>"))
    missing = [tag for tag in _DOCUMENT_TAGS if tag not in document.opened]
    if missing:
        findings.append(finding(ERROR, None, f"is not a complete HTML document: it has no <{missing[0]}> element"))
    elif "html" not in document.closed:
        findings.append(finding(ERROR, None, "is not a complete HTML document: it ends before </html> (cut short?)"))
    allowed = {d.rstrip("/").lower() for d in (widget.resource_domains if widget else ())}
    for line, src in document.scripts:
        origin = _origin(src)
        if origin is None and src.startswith("data:"):
            continue
        if origin is None:
            name = src.removeprefix("./")
            if "/" in name or not name.endswith(".js") or not (path.parent / name).is_file():
                findings.append(finding(ERROR, line, f"<script src=\"{src[:100]}\">: only scripts in widgets/ are "
                                        f"inlined, and widgets/{name[:100]} is not one"))
        elif origin not in allowed:
            findings.append(finding(ERROR, line, f"loads a script from {origin}, which the widget's CSP blocks: add "
                                    f"it with Widget(resource_domains=[\"{origin}\"]) or copy the script into "
                                    "widgets/"))
    for line, url in document.assets:
        origin = _origin(url)
        if origin is not None and origin not in allowed:
            findings.append(finding(WARNING, line, f"loads {url[:100]} from {origin}, which the widget's CSP "
                                    f"blocks unless Widget(resource_domains=[\"{origin}\"]) names it"))
    return findings


def check_widget_files(plugin, project: Path) -> list[Finding]:
    """Every widgets/*.html (each ships in lambda.zip), with the options of the operation that
    shows it; a file no operation shows is a warning."""
    used = {}
    for op in plugin.operations.values():
        widget = plugin.widget_for(op)
        if widget is not None and widget.path:
            used[Path(widget.path).resolve()] = widget
    findings = []
    folder = Path(plugin.widgets_dir)
    for path in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        widget = used.get(path.resolve())
        findings += check_widget_file(path, widget)
        if widget is None:
            findings.append(Finding(WARNING, f"{folder.name}/{path.name}", "$", "no operation shows it: name it "
                                    f"after an operation, or use @plugin.operation(widget=\"{path.stem}\")"))
    return findings


def check_apps(plugin, shipped: set[str] | None = None, file: str = "handler.py") -> list[Finding]:
    """Resources, prompts and status texts as handler.py declares them. With ``shipped`` (the
    files lambda.zip holds), a file resource must be one of them."""
    report = Report(file)
    for op in plugin.operations.values():
        for key in ("invoking", "invoked"):
            text = getattr(op, key, None)
            if text is not None and not (isinstance(text, str) and 1 <= len(text) <= STATUS_TEXT_LIMIT):
                size = f"is {len(text)} characters" if isinstance(text, str) else f"is {kind_of(text)}"
                report.error((op.name, key), f"{size}; a status text has 1 to {STATUS_TEXT_LIMIT} characters")
    for uri, resource in plugin.resources.items():
        where = ("resources", uri)
        if uri.startswith("ui://") and resource.mime_type != WIDGET_MIME_TYPE:
            report.warn(where, f"ui:// URIs are for widgets ({WIDGET_MIME_TYPE}); hosts may try to render it")
        if uri.startswith(WIDGET_SCHEME):
            report.error(where, f"{WIDGET_SCHEME} is where the operations' widgets are served; pick another URI")
        if resource.file is not None:
            path = Path(plugin.root) / resource.file
            rel = resource.file.replace("\\", "/").removeprefix("./")
            if not path.is_file():
                report.error(where, f"file {resource.file!r} does not exist in the project")
            elif shipped is not None and rel not in shipped:
                report.error(where, f"file {resource.file!r} is not in lambda.zip: add its pattern to SOURCE_GLOBS in "
                             "plugin_tools/build.py and to local.source_globs in main.tf")
    for name in plugin.prompts:
        if not _PROMPT_NAME.fullmatch(name):
            report.error(("prompts", name), "a prompt name must be 1-128 characters of letters, digits, _, - and .")
    return report.findings


def check_tool_meta(tools: object, file: str = "MCP tools/list") -> list[Finding]:
    """A tool's ``_meta`` as served: its widget URI and the status texts ChatGPT shows."""
    report = Report(file)
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        meta = tool.get("_meta") if isinstance(tool, dict) else None
        if meta is None:
            continue
        if not isinstance(meta, dict):
            report.error(("tools", i, "_meta"), f"must be an object, not {kind_of(meta)}")
            continue
        ui = meta.get("ui")
        uri = ui.get("resourceUri") if isinstance(ui, dict) else None
        if uri is not None and not (isinstance(uri, str) and uri.startswith("ui://")):
            report.error(("tools", i, "_meta", "ui", "resourceUri"), "must be a ui:// URI")
        template = meta.get("openai/outputTemplate")
        if uri is not None and template is not None and template != uri:
            report.warn(("tools", i, "_meta", "openai/outputTemplate"), "differs from ui.resourceUri: hosts would "
                        "show different widgets")
        visibility = ui.get("visibility") if isinstance(ui, dict) else None
        if visibility is not None and (not isinstance(visibility, list) or not set(visibility) <= {"model", "app"}):
            report.error(("tools", i, "_meta", "ui", "visibility"), "must list \"model\" and/or \"app\"")
        for key in ("openai/toolInvocation/invoking", "openai/toolInvocation/invoked"):
            text = meta.get(key)
            if text is not None and not (isinstance(text, str) and 1 <= len(text) <= STATUS_TEXT_LIMIT):
                report.error(("tools", i, "_meta", key), f"must be 1 to {STATUS_TEXT_LIMIT} characters")
    return report.findings
