"""The model: the registry of a plugin's operations and the facts every surface describes it
with (its version and the project's manifest.json: names and descriptions), plus what MCP
clients can read: resources, prompts and the operations' widgets.

The surfaces read a ``Registry``; the ``Plugin`` at the top of the runtime is one.
"""

from __future__ import annotations

import json
import os
import typing

from .model_auth import BASE_SCOPE
from .model_operation import Operation
from .model_schema import SchemaError

if typing.TYPE_CHECKING:  # imported on first use: a cold start without widgets never loads it
    from .model_resource import Prompt, Resource, Widget

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Registry:
    """Operations by name, in the order they were declared, plus the plugin's own facts."""

    def __init__(self, version: str = "1.0.0", root: str = ROOT) -> None:
        self.version = version
        self.root = root
        self.operations: dict[str, Operation] = {}
        self._manifest: dict | None = None
        self.resources: dict[str, Resource] = {}  # by URI (or URI template), in declaration order
        self.prompts: dict[str, Prompt] = {}
        self.widgets_dir = os.path.join(root, "widgets")
        self._widgets: dict[str, Widget | None] = {}

    def add(self, op: Operation) -> None:
        if op.name in self.operations:
            raise SchemaError(f"operation {op.name!r} is defined twice")
        self.operations[op.name] = op

    @property
    def manifest(self) -> dict:
        """manifest.json as written in the project (read once, on first use)."""
        if self._manifest is None:
            with open(os.path.join(self.root, "manifest.json"), encoding="utf-8") as fh:
                self._manifest = json.load(fh)
        return self._manifest

    def scope_names(self) -> list[str]:
        """The OAuth scopes this plugin uses: the base one, then every operation's, sorted."""
        return [BASE_SCOPE, *sorted({s for op in self.operations.values() for s in op.scopes} - {BASE_SCOPE})]

    def add_resource(self, resource: Resource) -> None:
        if resource.uri in self.resources:
            raise SchemaError(f"resource {resource.uri!r} is defined twice")
        self.resources[resource.uri] = resource

    def add_prompt(self, prompt: Prompt) -> None:
        if prompt.name in self.prompts:
            raise SchemaError(f"prompt {prompt.name!r} is defined twice")
        self.prompts[prompt.name] = prompt

    def widget_for(self, op: Operation) -> Widget | None:
        """The operation's widget, or None. Without ``widget=`` that is widgets/<name>.html when
        the file exists (looked up on first use, not at import)."""
        if op.name not in self._widgets:
            spec, widget = op.widget, None  # None, False, or a Widget (Plugin.operation made it one)
            if spec is not False and (spec is not None or
                                      os.path.isfile(os.path.join(self.widgets_dir, f"{op.name}.html"))):
                from .model_resource import Widget

                widget = (spec if isinstance(spec, Widget) else Widget()).bind(op.name, self.widgets_dir,
                                                                                op.summary or op.name)
            self._widgets[op.name] = widget
        return self._widgets[op.name]

    def find_resource(self, uri: str) -> tuple[Resource | Widget, dict[str, str]] | None:
        """What answers ``uri``: a widget, a resource with a fixed URI, or a template's match."""
        if uri.startswith("ui://"):
            for op in self.operations.values():
                widget = self.widget_for(op)
                if widget is not None and widget.answers(uri):
                    return widget, {}
        fixed = self.resources.get(uri)
        if fixed is not None and not fixed.is_template:
            return fixed, {}
        for resource in self.resources.values():
            values = resource.match(uri) if resource.is_template else None
            if values is not None:
                return resource, values
        return None
