"""The MCP rules for a tools/list answer: tool names and input/output schemas."""

from __future__ import annotations

import json
import re

from .lint_common import Finding, Report, kind_of

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def check_tools(tools: object, file: str = "MCP tools/list") -> list[Finding]:
    """MCP tool names (1-128 of [A-Za-z0-9_.-], unique) and object input schemas."""
    report = Report(file)
    if not isinstance(tools, list):
        report.error(("tools",), f"must be an array, not {kind_of(tools)}")
        return report.findings
    names: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            report.error(("tools", i), f"must be an object, not {kind_of(tool)}")
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
