"""A small runtime that serves typed Python functions as a ChatGPT plugin, a GPT Action
(OpenAPI) and an MCP server from one AWS Lambda. You should not need to edit it.

Its layers, each importing only from the ones before it:

- the model: ``model_schema`` (type hints to JSON Schema, validation), ``model_log`` (structured
  JSON log lines), ``model_settings`` (settings), ``model_secrets`` (secrets, loaded on first
  use), ``model_auth`` (who may call), ``model_jwt`` (access tokens, loaded with the first one),
  ``model_context`` (what an operation may know of its request and caller), ``model_aws`` (a
  stdlib SigV4 client for SSM, DynamoDB and Lambda, loaded on first use), ``model_store`` (per-user
  documents: ``ctx.store``, ``ctx.app_store``; its errors in ``model_store_errors``, the deployed
  DynamoDB backend in ``model_store_dynamodb``, the local SQLite one in plugin_tools), ``model_operation``
  (an operation's signature and docstring), ``model_resource`` (resources, prompts and widgets),
  ``model_registry`` (the operations, what MCP clients can read, and the plugin's facts);
- the transport: ``transport`` (the API Gateway event as a request, JSON responses, routes),
  ``transport_log`` (each request's log line and CloudWatch metrics record);
- the surfaces, which never import each other: ``surface_rest``, ``surface_manifest``,
  ``surface_openapi``, ``surface_mcp``;
- ``plugin``: the ``Plugin`` object, which registers operations and dispatches to the surfaces.

The development tools (build, check, serve, invoke) live in ``plugin_tools`` and never ship.
"""

from .model_context import Caller, Context
from .model_log import log
from .model_operation import OperationError
from .model_schema import Field
from .model_settings import SecretError, SettingError
from .plugin import Plugin

__all__ = ["Caller", "Context", "Field", "OperationError", "Plugin", "SecretError", "SettingError", "Widget", "log"]


def __getattr__(name: str) -> object:
    """``Widget`` is imported when a handler asks for it: a cold start without one skips it."""
    if name == "Widget":
        from .model_resource import Widget

        return Widget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
