"""The model: the store's errors, apart from model_store so its backends can raise them.

- ``StoreError``: the store cannot be used here (no caller, no table, access denied): a fix for the
  owner, answered as a 500 with the reason in the logs;
- ``StoreInputError``: a key, value, limit or cursor the store refuses: the caller's input, a 400
  (an ``OperationError``), never a 500;
- ``ConflictError``: ``if_version`` no longer matches: a 409 on REST, a tool error on MCP.
"""

from __future__ import annotations

from .model_operation import OperationError
from .model_settings import SettingError


class StoreError(SettingError):
    """The store cannot be used here (no caller, no table, access denied): a fix for the owner."""


class StoreInputError(OperationError):
    """A key, value, limit or cursor the store refuses: the caller's input (a 400, never a 500)."""


class ConflictError(OperationError):
    """``if_version`` no longer matches: someone changed or deleted the item first (HTTP 409)."""

    status = 409  # also on the class, so a handler can tell it apart without an instance

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409)
