"""The model: the registry of a plugin's operations and the facts every surface describes it
with (its version and the project's manifest.json: names and descriptions).

The surfaces read a ``Registry``; the ``Plugin`` at the top of the runtime is one.
"""

from __future__ import annotations

import json
import os

from .model_auth import BASE_SCOPE
from .model_operation import Operation
from .model_schema import SchemaError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Registry:
    """Operations by name, in the order they were declared, plus the plugin's own facts."""

    def __init__(self, version: str = "1.0.0", root: str = ROOT) -> None:
        self.version = version
        self.root = root
        self.operations: dict[str, Operation] = {}
        self._manifest: dict | None = None

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
