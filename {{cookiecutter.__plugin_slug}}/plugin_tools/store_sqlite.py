"""The local store: a SQLite file (``.data/store.sqlite3``, git-ignored) with the semantics of the
deployed DynamoDB table (versions, conditional writes, TTL, prefix listing in UTF-8 byte order,
partitions). ``make serve``, ``invoke`` and the tests install it; it never ships in lambda.zip, so
the deployed function cannot use it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from plugin_runtime.model_store import ConflictError, use_backend

DEFAULT_PATH = Path(".data") / "store.sqlite3"
_SCHEMA = """CREATE TABLE IF NOT EXISTS items (
    partition TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, version INTEGER NOT NULL,
    expires_at INTEGER, PRIMARY KEY (partition, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    partition TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (partition, key)) WITHOUT ROWID"""
# Quotas: one statement, atomic in SQLite; an expired counter starts again from 1.
_COUNT = """INSERT INTO counters VALUES (?, ?, 1, ?) ON CONFLICT (partition, key) DO UPDATE SET
    n = CASE WHEN counters.expires_at < ? THEN 1 ELSE counters.n + 1 END, expires_at = excluded.expires_at
    WHERE counters.n < ? OR counters.expires_at < ?"""


class SqliteBackend:
    """model_store's Backend over one SQLite file (or ``:memory:``)."""

    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _row(self, partition: str, key: str) -> tuple[str, int, int | None] | None:
        return self._db.execute("SELECT value, version, expires_at FROM items WHERE partition = ? AND key = ?",
                                (partition, key)).fetchone()

    def get(self, partition: str, key: str, now: int) -> tuple[str, int, int | None] | None:
        with self._lock:
            row = self._row(partition, key)
        return row if row is not None and (row[2] is None or row[2] >= now) else None

    def put(self, partition: str, key: str, value: str, expires_at: int | None, if_version: int | None,
            now: int, base: int) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._row(partition, key)
                _check_version(row, key, if_version, now)
                version = (row[1] if row is not None else base) + 1
                self._db.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?)",
                                 (partition, key, value, version, expires_at))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return version

    def delete(self, partition: str, key: str, if_version: int | None, now: int) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._row(partition, key)
                alive = _check_version(row, key, if_version, now)
                self._db.execute("DELETE FROM items WHERE partition = ? AND key = ?", (partition, key))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return alive

    def list(self, partition: str, prefix: str, limit: int, after: str | None, now: int
             ) -> tuple[list[tuple[str, str, int, int | None]], str | None]:
        # substr counts characters and BINARY compares UTF-8 bytes: DynamoDB's begins_with and order
        query = ("SELECT key, value, version, expires_at FROM items WHERE partition = ? AND "
                 "substr(key, 1, ?) = ? AND key > ? AND (expires_at IS NULL OR expires_at >= ?) ORDER BY key LIMIT ?")
        with self._lock:
            rows = self._db.execute(query, (partition, len(prefix), prefix, after or "", now, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (rows[-1][0] if more else None)

    def count(self, partition: str, key: str, limit: int, expires_at: int, now: int) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                changed = self._db.execute(_COUNT, (partition, key, expires_at, now, limit, now)).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return changed == 1

    def partition_keys(self, partition: str) -> list[str]:
        """Every key of one partition, expired or not (plugin_tools.data delete)."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT key FROM items WHERE partition = ? ORDER BY key",
                                                   (partition,))]

    def partitions(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT partition FROM items ORDER BY partition")]


def install(path: str | Path = DEFAULT_PATH) -> SqliteBackend:
    """Make the SQLite file at ``path`` the store of this process (ctx.store, ctx.app_store)."""
    backend = SqliteBackend(path)
    use_backend(backend)
    return backend


def _check_version(row: tuple | None, key: str, if_version: int | None, now: int) -> bool:
    """Whether the row is alive (not past its TTL); a conflict when ``if_version`` is not its
    version (0 for an item that does not exist or has expired)."""
    alive = row is not None and (row[2] is None or row[2] >= now)
    if if_version is not None and (row[1] if alive else 0) != if_version:  # type: ignore[index]
        raise ConflictError(f"{key!r} has changed (version {row[1] if alive else 0}, "  # type: ignore[index]
                            f"not {if_version}): read it again")
    return alive
