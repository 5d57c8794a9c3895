"""The model: structured log lines, one JSON object per line, as Lambda's JSON log format reads them.

Every line carries ``timestamp`` (RFC 3339, UTC), ``level`` and ``message``, and the request it
belongs to (``requestId``, Lambda's request id). Operations log through ``ctx.log``; code outside
an operation uses ``plugin_runtime.log``, which finds the request being served by itself::

    ctx.log.info("looked up", city=city, hits=len(found))

Lambda's application log level (``AWS_LAMBDA_LOG_LEVEL``, set from Terraform's ``log_level``)
drops lines below it; the runtime skips writing them at all. Lines go to stderr, which Lambda
sends to the function's log group like stdout; local tools keep stdout for their own output.
Values are JSON-encoded with ASCII escapes, so no input can break a line or forge another.

Standard library only, and only what is already loaded on a cold start (plus ``contextvars``,
a fraction of a millisecond): this module is imported by every request's path.
"""

from __future__ import annotations

import contextvars
import json
import os
import sys
import time

LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}
LEVEL_ENV = "AWS_LAMBDA_LOG_LEVEL"  # Lambda sets it from logging_config.application_log_level
_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
# Keys every line has; fields passed by the caller never replace them.
RESERVED = frozenset({"timestamp", "level", "message", "logger", "requestId"})

# The request being served in this thread (Lambda serves one at a time per process; the local
# server runs one thread per request).
_current: contextvars.ContextVar = contextvars.ContextVar("plugin_runtime_request", default=None)


def _fallback(value: object) -> str:
    return repr(value)


# ASCII escapes: a lone surrogate or a newline in a path, a header or a message stays inside its line.
encode_line = json.JSONEncoder(separators=(",", ":"), default=_fallback).encode


def level_name(level: str) -> str:
    """A level as Lambda names it (WARNING -> WARN, CRITICAL -> FATAL); INFO if unknown."""
    name = str(level).upper()
    name = _ALIASES.get(name, name)
    return name if name in LEVELS else "INFO"


_threshold = ["INFO", 20]  # the last AWS_LAMBDA_LOG_LEVEL seen, and its number


def threshold() -> int:
    """The numeric level below which lines are dropped (INFO unless AWS_LAMBDA_LOG_LEVEL says)."""
    raw = os.environ.get(LEVEL_ENV, "INFO")
    if raw != _threshold[0]:
        _threshold[:] = [raw, LEVELS[level_name(raw)]]
    return _threshold[1]


def enabled(level: str) -> bool:
    return LEVELS[level] >= threshold()


_second = [-1, ""]  # the last whole second formatted, and its text: most lines reuse it


def timestamp(seconds: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2026-11-29T17:06:01.123Z."""
    now = time.time() if seconds is None else seconds
    whole = int(now)
    if whole != _second[0]:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int(now * 1000) % 1000:03d}Z"


def write(record: dict) -> None:
    """One JSON line on stderr."""
    write_lines(encode_line(record) + "\n")


def write_lines(text: str) -> None:
    """Already encoded lines, in one write. Logging never breaks a request: a failed write is dropped."""
    try:
        sys.stderr.write(text)
    except (OSError, ValueError):
        return


def current() -> object:
    """The Context of the request being served, or None outside a request."""
    return _current.get()


def bind(ctx: object) -> None:
    """Mark ``ctx`` as the request being served (None when it is over)."""
    _current.set(ctx)


def exception_fields(exc: BaseException) -> dict:
    """errorType, errorMessage and stackTrace, as Lambda's own JSON log lines name them."""
    import traceback  # only on the error path: it costs milliseconds of cold start

    return {"errorType": type(exc).__name__, "errorMessage": str(exc)[:2000],
            "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)}


class Log:
    """Structured logging for one request (``ctx.log``), or for whatever request is being served
    (``plugin_runtime.log``): ``log.info("message", key=value, ...)``."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: object = None) -> None:
        self._ctx = ctx

    def debug(self, message: object, **fields: object) -> None:
        self.emit("DEBUG", message, fields)

    def info(self, message: object, **fields: object) -> None:
        self.emit("INFO", message, fields)

    def warning(self, message: object, **fields: object) -> None:
        self.emit("WARN", message, fields)

    warn = warning

    def error(self, message: object, **fields: object) -> None:
        self.emit("ERROR", message, fields)

    def exception(self, message: object, exc: BaseException | None = None, **fields: object) -> None:
        """An ERROR line with the traceback of ``exc`` (default: the exception being handled)."""
        exc = exc if exc is not None else sys.exc_info()[1]
        if exc is not None:
            fields = {**exception_fields(exc), **fields}
        self.emit("ERROR", message, fields)

    def emit(self, level: str, message: object, fields: dict) -> None:
        level = level_name(level)
        if not enabled(level):
            return
        ctx = self._ctx if self._ctx is not None else _current.get()
        record = {"timestamp": timestamp(), "level": level, "message": str(message), "logger": "plugin",
                  "requestId": getattr(ctx, "request_id", None)}
        for key, value in fields.items():
            record.setdefault(key, value)
        write(record)


log = Log()
