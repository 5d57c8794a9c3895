"""A small runtime that serves typed Python functions as a ChatGPT plugin, a GPT Action
(OpenAPI) and an MCP server from one AWS Lambda. You should not need to edit it."""

from .app import OperationError, Plugin
from .schema import Field

__all__ = ["Field", "OperationError", "Plugin"]
