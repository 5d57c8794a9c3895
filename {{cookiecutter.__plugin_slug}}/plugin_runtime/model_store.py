"""The model: per-user state. ``ctx.store`` holds the verified caller's own JSON documents,
``ctx.app_store`` the plugin-wide ones; both have the same small API::

    item = ctx.store.get("notes/1")                  # Item(key, value, version) or None
    version = ctx.store.put("notes/1", {"text": "hola"}, ttl_seconds=3600, if_version=item.version)
    ctx.store.delete("notes/1", if_version=version)  # True if it was there
    page = ctx.store.list(prefix="notes/", limit=50) # Page(items, cursor); cursor=page.cursor for more

Isolation is this module's job, not the operation's: the partition is derived from the verified
caller (auth kind, issuer and subject, or the API key's name), never from input, so a caller can
neither name nor list another caller's items. With ``auth = "none"`` there is no caller and
``ctx.store`` raises ``StoreError``. Keys are refused when they cannot be stored exactly (empty,
not text, control characters, over 512 bytes); anything else (``/``, ``..``, ``#``, unicode) is
stored as given, inside the caller's partition only. A stale ``if_version`` raises ``ConflictError``
(409 on REST, a tool error on MCP), never a silent overwrite; ``if_version=0`` means "only if it
does not exist". Versions are opaque whole numbers that only grow (a recreated item never reuses
one). Items past their TTL are never returned, even before the backend deletes them.

The backend is DynamoDB when Terraform passes a table (``PLUGIN_STORE_TABLE``, ``storage =
"dynamodb"``), over the runtime's stdlib AWS client; locally the development tools install a
SQLite file (plugin_tools.store_sqlite, which never ships) with ``use_backend``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import typing

from .model_context import Caller
from .model_operation import OperationError
from .model_store_errors import ConflictError, StoreError, StoreInputError

if typing.TYPE_CHECKING:
    from collections.abc import Callable

TABLE_ENV = "PLUGIN_STORE_TABLE"  # set by Terraform when storage = "dynamodb"
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 350_000  # DynamoDB's item limit is 400 KB, names and versions included
MAX_LIMIT = 1000
MAX_TTL_SECONDS = 10 * 366 * 86400
APP_PARTITION = "app"
__all__ = ["ConflictError", "Item", "OperationError", "Page", "Store", "StoreError", "StoreInputError"]


class Item(typing.NamedTuple):
    key: str
    value: object
    version: int
    expires_at: int | None = None


class Page(typing.NamedTuple):
    items: list[Item]
    cursor: str | None


class Backend(typing.Protocol):
    """What a backend stores: rows (partition, key) -> (value JSON text, version, expires_at)."""

    def get(self, partition: str, key: str, now: int) -> tuple[str, int, int | None] | None: ...

    def put(self, partition: str, key: str, value: str, expires_at: int | None, if_version: int | None,
            now: int, base: int) -> int: ...

    def delete(self, partition: str, key: str, if_version: int | None, now: int) -> bool: ...

    def list(self, partition: str, prefix: str, limit: int, after: str | None, now: int
             ) -> tuple[list[tuple[str, str, int, int | None]], str | None]: ...

    def count(self, partition: str, key: str, limit: int, expires_at: int, now: int) -> bool:
        """Add one to the counter (partition, key) if it is below ``limit`` (an expired counter
        counts as 0), in one atomic write, no read; False (unchanged) when it was at the limit."""
        ...


class _State:
    backend: Backend | None = None  # installed by the local tools (SQLite)
    dynamodb: Backend | None = None
    clock: Callable[[], float] = time.time


_state = _State()


def use_backend(backend: Backend | None) -> None:
    """Install the store's backend for local runs (the tools' SQLite file); None removes it."""
    _state.backend = backend


def backend() -> Backend:
    """DynamoDB when Terraform passed a table, else the locally installed backend."""
    table = os.environ.get(TABLE_ENV)
    if table:
        current = _state.dynamodb
        if current is None or getattr(current, "table", None) != table:
            from .model_store_dynamodb import DynamoBackend  # the first store call only

            current = _state.dynamodb = DynamoBackend(table)
        return current
    if _state.backend is not None:
        return _state.backend
    raise StoreError("there is no store: set storage = \"dynamodb\" in terraform.tfvars and run terraform apply "
                     "(locally, make serve, invoke and the tests use .data/store.sqlite3)")


# -- partitions ---------------------------------------------------------------------------------
def partition_of(kind: str, issuer: str, subject: str) -> str:
    """The partition of one caller: a hash of (kind, issuer, subject), so no input can spell it."""
    if not kind or not subject:
        raise StoreError("the caller has no verified identity to keep data under")
    digest = hashlib.sha256("\x00".join((kind, issuer, subject)).encode("utf-8", "surrogatepass")).hexdigest()
    return f"c#{digest[:40]}"


def caller_partition(caller: Caller | None) -> str:
    if caller is None:
        raise StoreError("ctx.store needs a verified caller, and auth = \"none\" has none: use ctx.app_store for "
                         "plugin-wide data, or set auth to api_key or oauth")
    if caller.kind == "oauth":
        issuer, subject = caller.claims.get("iss"), caller.claims.get("sub")
        # RFC 7519: both are strings. A number would share the partition of its text ("123").
        return partition_of("oauth", issuer if isinstance(issuer, str) else "",
                            subject if isinstance(subject, str) else "")
    return partition_of(caller.kind, "", caller.name)


def caller_id(caller: Caller) -> str:
    """The caller as ``plugin_tools.data --caller`` names it: ``api_key:NAME`` or ``oauth:ISSUER|SUBJECT``."""
    if caller.kind == "oauth":
        return f"oauth:{caller.claims.get('iss', '')}|{caller.claims.get('sub', '')}"
    return f"{caller.kind}:{caller.name}"


def partition_of_id(caller: str) -> str:
    """The partition of a caller id (``api_key:NAME``, ``oauth:ISSUER|SUBJECT``, or ``app``)."""
    if caller == APP_PARTITION:
        return APP_PARTITION
    kind, sep, rest = caller.partition(":")
    if not sep or kind not in ("api_key", "oauth") or not rest:
        raise StoreInputError("a caller is api_key:NAME, oauth:ISSUER|SUBJECT or app")
    if kind == "oauth":
        issuer, bar, subject = rest.partition("|")  # issuers are URLs; subjects may hold "|"
        if not bar:
            raise StoreInputError("an OAuth caller is oauth:ISSUER|SUBJECT")
        return partition_of("oauth", issuer, subject)
    return partition_of(kind, "", rest)


# -- validation ----------------------------------------------------------------------------------
def check_key(key: object, what: str = "key", empty: bool = False) -> str:
    if not isinstance(key, str):
        raise StoreInputError(f"a store {what} must be text, not {type(key).__name__}")
    if not key and not empty:
        raise StoreInputError(f"a store {what} cannot be empty")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in key):
        raise StoreInputError(f"a store {what} cannot hold control characters or lone surrogates")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise StoreInputError(f"a store {what} is at most {MAX_KEY_BYTES} bytes of UTF-8")
    return key


def encode_value(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreInputError(f"a store value must be JSON (objects, lists, text, numbers, booleans, null): {exc}"
                              ) from None
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise StoreInputError("a store value cannot hold lone surrogates") from None
    if size > MAX_VALUE_BYTES:
        raise StoreInputError(f"a store value is at most {MAX_VALUE_BYTES} bytes as JSON; this one is {size}")
    return text


def _check_version(if_version: object) -> int | None:
    if if_version is None:
        return None
    if isinstance(if_version, bool) or not isinstance(if_version, int) or if_version < 0:
        raise StoreInputError("if_version is a version a get or put returned (0: only if the item does not exist)")
    return if_version


def _encode_cursor(key: str) -> str:
    import base64  # listing with a next page only

    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, prefix: str) -> str:
    import base64

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except Exception:  # any tampering: the cursor is the caller's input
        raise StoreInputError("the cursor is not one a list call returned") from None
    if not isinstance(after, str) or not after.startswith(prefix):
        raise StoreInputError("the cursor is not one a list call with this prefix returned")
    return check_key(after, "cursor")


# -- the store -----------------------------------------------------------------------------------
class Store:
    """One partition's documents: the caller's own (``ctx.store``) or the plugin's (``ctx.app_store``)."""

    __slots__ = ("_deadline", "partition")

    def __init__(self, partition: str, deadline: Callable[[], int | None] | None = None) -> None:
        self.partition = partition
        self._deadline = deadline

    def _backend(self) -> Backend:
        found = backend()
        if hasattr(found, "remaining_ms"):
            found.remaining_ms = self._deadline  # type: ignore[attr-defined]
        return found

    def get(self, key: str) -> Item | None:
        """The item under ``key`` (its value and version), or None."""
        key = check_key(key)
        row = self._backend().get(self.partition, key, int(_state.clock()))
        return None if row is None else Item(key, json.loads(row[0]), row[1], row[2])

    def put(self, key: str, value: object, ttl_seconds: int | None = None, if_version: int | None = None) -> int:
        """Store ``value`` under ``key``; its new version. ``ttl_seconds``: forget it after that long.
        ``if_version``: only if the item still has that version (0: only if absent), else ConflictError."""
        key, text, if_version = check_key(key), encode_value(value), _check_version(if_version)
        now = int(_state.clock())
        expires = None
        if ttl_seconds is not None:
            if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) \
                    or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
                raise StoreInputError(f"ttl_seconds is a whole number of seconds from 1 to {MAX_TTL_SECONDS}")
            expires = now + ttl_seconds
        # A new item's version starts from the clock in microseconds, so an item deleted and created
        # again never takes a version a stale client still holds; each write adds one.
        return self._backend().put(self.partition, key, text, expires, if_version, now, time.time_ns() // 1000)

    def delete(self, key: str, if_version: int | None = None) -> bool:
        """Forget ``key``; True if it was there. A stale ``if_version`` raises ConflictError."""
        key, if_version = check_key(key), _check_version(if_version)
        return self._backend().delete(self.partition, key, if_version, int(_state.clock()))

    def list(self, prefix: str = "", limit: int = 50, cursor: str | None = None) -> Page:
        """Items whose key starts with ``prefix``, in key order, at most ``limit``; ``cursor`` (from
        the previous page) continues, and the page's cursor is None after the last one."""
        prefix = check_key(prefix, "prefix", empty=True)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise StoreInputError(f"limit is from 1 to {MAX_LIMIT}")
        after = None
        if cursor is not None:
            if not isinstance(cursor, str) or len(cursor) > 2 * MAX_KEY_BYTES + 64:
                raise StoreInputError("the cursor is not one a list call returned")
            after = _decode_cursor(cursor, prefix)
        rows, last = self._backend().list(self.partition, prefix, limit, after, int(_state.clock()))
        items = [Item(k, json.loads(v), ver, ex) for k, v, ver, ex in rows]
        return Page(items, _encode_cursor(last) if last is not None else None)


def store_for(caller: Caller | None, remaining_ms: Callable[[], int | None] | None = None) -> Store:
    return Store(caller_partition(caller), remaining_ms)


def app_store(remaining_ms: Callable[[], int | None] | None = None) -> Store:
    return Store(APP_PARTITION, remaining_ms)
