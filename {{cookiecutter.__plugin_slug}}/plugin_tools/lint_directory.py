"""The app directories' scan rules (OpenAI's submission review, spec-facts 3c), applied to the
tools as tools/list lists them and to each widget as resources/read serves it:

- every tool has explicit booleans for readOnlyHint, destructiveHint and openWorldHint, and an
  outputSchema (every operation returns structuredContent);
- names unique and verb-like; descriptions non-empty and free of steering;
- no catch-all executor tool (one tool per action);
- every http(s) origin a widget's HTML or scripts reference is in its CSP, and no CSP domain goes
  unused.
"""

from __future__ import annotations

import re

from plugin_runtime.model_resource import Widget

from .lint_common import Finding, Report, kind_of

HINTS = ("readOnlyHint", "destructiveHint", "openWorldHint")
# English verbs tools start with, and common Spanish -er verbs; other Spanish and Portuguese
# infinitives are caught by their endings (sumar, calcular, traducir). A heuristic: a warning.
VERBS = frozenset("""
    add analyze append apply approve archive ask assign book build calculate call cancel check classify
    clear close compare compute convert copy count create delete describe detect download draft edit
    estimate explain export extract fetch filter find format generate get import insert list load log
    lookup make mark merge move notify open order parse pay place plan post predict preview publish
    put query read record refresh register reject remove rename render reply report request reserve
    reset resolve restore retrieve return review run save schedule score search select send set share
    show sign sort start stop submit subtract suggest summarize sync tag track transform translate
    unsubscribe update upload validate verify view watch write
    obtener leer hacer poner mover vender ver devolver resolver correr comprender responder escoger
""".split())
_INFINITIVE = re.compile(r"[a-z]{2,}(ar|ir)$")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Steering: text that tries to make the model pick the tool or drop its instructions.
STEERING = (
    re.compile(r"\balways\s+(use|call|choose|prefer|pick)\s+(this|these|our|my)\b", re.IGNORECASE),
    re.compile(r"\bignore\s+(all\s+|any\s+)?(previous|prior|earlier|above|other)\b", re.IGNORECASE),
    re.compile(r"\b(do\s+not|don't|never)\s+use\s+(any\s+)?other\s+tools?\b", re.IGNORECASE),
    re.compile(r"\binstead\s+of\s+(any\s+)?other\s+tools?\b", re.IGNORECASE),
    re.compile(r"\buse\s+(this|it)\s+(tool\s+)?for\s+(everything|anything|all\s+(tasks|requests|questions))\b",
               re.IGNORECASE),
    re.compile(r"\byou\s+must\s+(always\s+)?(use|call)\s+this\b", re.IGNORECASE),
)
_EXECUTOR_VERBS = frozenset({"execute", "exec", "run", "eval", "evaluate", "invoke", "dispatch", "call", "perform",
                             "do"})
_EXECUTOR_OBJECTS = frozenset({"", "anything", "any", "command", "commands", "code", "action", "actions", "tool",
                               "tools", "task", "operation", "script", "shell", "sql", "query", "request", "function"})
_FREE_FORM = frozenset({"command", "code", "script", "action", "tool", "tool_name", "operation", "sql", "expression"})
_URL_ORIGIN = re.compile(r"""(?<![A-Za-z0-9+.-])(https?):(?:\\?/){2}([A-Za-z0-9.-]+(?::\d+)?)""")
_NAMESPACES = ("http://www.w3.org", "https://www.w3.org")
_ANCHOR = re.compile(r"<a\b[^>]*>", re.IGNORECASE)  # links open through the host, not under the CSP
_COMMENT = re.compile(r"<!--.*?-->|/\*.*?\*/", re.DOTALL)  # HTML, CSS and JS block comments


def words(name: str) -> list[str]:
    """``sumar`` -> [sumar]; ``get_weather``, ``getWeather`` and ``get-weather`` -> [get, weather]."""
    return [w.lower() for part in re.split(r"[_.\-\s]+", name) for w in _WORDS.findall(part)]


def is_verb_like(name: str) -> bool:
    first = (words(name) or [""])[0]
    return first in VERBS or bool(_INFINITIVE.fullmatch(first))


def check_directory_tools(tools: object, file: str = "MCP tools/list") -> list[Finding]:
    """The directory's rules for the tools as a titled-era tools/list lists them."""
    report = Report(file)
    if not isinstance(tools, list):
        report.error(("tools",), f"must be an array, not {kind_of(tools)}")
        return report.findings
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        name = tool.get("name") if isinstance(tool.get("name"), str) else ""
        if name in seen:
            report.error(("tools", i, "name"), f"{name!r} is listed twice; the directory needs unique names")
        seen.add(name)
        if name and not is_verb_like(name):
            report.warn(("tools", i, "name"), f"{name!r} does not start with a verb; name a tool after its action "
                        "(e.g. get_forecast, sumar)")
        _check_description(report, i, name, tool.get("description"))
        annotations = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
        for hint in HINTS:
            if not isinstance(annotations.get(hint), bool):
                report.error(("tools", i, "annotations", hint), "must be an explicit true or false (a missing hint "
                             "blocks submission): set read_only=, destructive= or open_world= in @plugin.operation")
        if not isinstance(tool.get("outputSchema"), dict):
            report.error(("tools", i, "outputSchema"), "is missing; every tool returning structuredContent needs "
                         "one (give the function a TypedDict return type)")
        if _is_executor(name, tool.get("inputSchema")):
            report.error(("tools", i), f"{name!r} looks like a catch-all executor; the directory wants one tool per "
                         "action with typed parameters")
    return report.findings


def _check_description(report: Report, i: int, name: str, description: object) -> None:
    if not isinstance(description, str) or not description.strip() or description.strip() == name:
        report.error(("tools", i, "description"), "is empty; write a docstring that says what the tool does")
        return
    for pattern in STEERING:
        found = pattern.search(description)
        if found:
            report.error(("tools", i, "description"), f"steers the model ({found.group(0)!r}); say what the tool "
                         "does and when it fits, not that it must be used")
            return


def _is_executor(name: str, schema: object) -> bool:
    parts = words(name)
    if parts and parts[0] in _EXECUTOR_VERBS and " ".join(parts[1:]) in _EXECUTOR_OBJECTS:
        return True
    props = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(props, dict) and len(props) == 1:
        (key, value), = props.items()
        return key.lower() in _FREE_FORM and isinstance(value, dict) and value.get("type") == "string" \
            and "enum" not in value
    return False


def referenced_origins(html: str) -> set[str]:
    """The http(s) origins a widget's HTML and inlined scripts name (not links, not XML namespaces)."""
    text = _ANCHOR.sub("", _COMMENT.sub("", html))
    found = set()
    for scheme, host in _URL_ORIGIN.findall(text):
        origin = f"{scheme}://{host}".lower().rstrip(".")
        if not origin.startswith(_NAMESPACES):
            found.add(origin)
    return found


def check_widget_csp(name: str, widget: Widget, html: str, own_origin: str | None = None,
                     file: str | None = None) -> list[Finding]:
    """Every origin the widget references is in its CSP; every CSP domain is referenced."""
    report = Report(file or f"widgets/{name}.html")
    declared = {d.rstrip("/").lower(): key for key, values in (
        ("connect_domains", widget.connect_domains), ("resource_domains", widget.resource_domains),
        ("frame_domains", widget.frame_domains)) for d in values}
    used = referenced_origins(html)
    for origin in sorted(used - set(declared)):
        if own_origin and origin == own_origin.lower() and widget.calls_api:
            continue
        report.error(("csp",), f"references {origin}, which its CSP does not list: add it to "
                     "Widget(connect_domains=[...]) (fetch) or resource_domains (scripts, styles, images)")
    for origin, key in sorted(declared.items()):
        if origin not in used:
            report.warn(("csp", key), f"{origin} is in the CSP but the widget never references it; list exactly "
                        "the domains it uses")
    return report.findings


def directory_tools(plugin) -> list[dict]:
    """The tools as the directory's scan sees them (tools/list of a 2025-06-18 client: ChatGPT)."""
    from plugin_runtime.surface_mcp_catalog import _tool, _tool_meta

    return [_tool(op, True, _tool_meta(op, plugin.widget_for(op))) for op in plugin.operations.values()]


def check_directory(plugin, file: str = "handler.py (directory scan)") -> list[Finding]:
    """The directory's rules for a project's tools and widgets."""
    findings = check_directory_tools(directory_tools(plugin), file=file)
    report = Report(file)
    for i, op in enumerate(plugin.operations.values()):
        if op.task == "required":  # spec-facts 3: ChatGPT was seen speaking 2025-06-18, which has no tasks
            report.warn(("tools", i, "execution"), f"{op.name!r} runs only as a task, and ChatGPT's MCP client "
                        "(protocol 2025-06-18) cannot run tasks: use task=\"optional\" (and finish within 30 s for "
                        "clients without tasks) if the directory's users must reach it")
    findings += report.findings
    for op in plugin.operations.values():
        widget = plugin.widget_for(op)
        if widget is None:
            continue
        try:
            html = widget.html
        except OSError:
            continue  # check_widget_files reports a file it cannot read
        findings += check_widget_csp(widget.name, widget, html)
    return findings
