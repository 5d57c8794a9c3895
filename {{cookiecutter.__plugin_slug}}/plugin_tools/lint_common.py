"""What every lint shares: a finding (level, file, JSON path, message), a report that collects
them, URL checks, and how findings are printed. Standard library only."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

ERROR = "ERROR"
WARNING = "WARNING"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 (a name, not a bind)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Finding:
    """One broken rule: where it is (file and JSON path) and what to do about it."""

    level: str
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.file} {self.path}: {self.message}"


def json_path(*parts: str | int) -> str:
    """``$.paths["/sumar"].post``: the address of a value, readable and unambiguous."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.fullmatch(part):
            out += f".{part}"
        else:
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return out


class Report:
    """Collects findings for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.findings: list[Finding] = []

    def error(self, path: tuple, message: str) -> None:
        self.findings.append(Finding(ERROR, self.file, json_path(*path), message))

    def warn(self, path: tuple, message: str) -> None:
        self.findings.append(Finding(WARNING, self.file, json_path(*path), message))

    def text(self, doc: dict, key: str, lo: int, hi: int, path: tuple = ()) -> str | None:
        """A required string field of ``lo``..``hi`` characters; returns it when it is a string."""
        value = doc.get(key)
        where = (*path, key)
        if key not in doc:
            self.error(where, "is missing")
        elif not isinstance(value, str):
            self.error(where, f"must be a string, not {kind_of(value)}")
        elif not lo <= len(value) <= hi:
            self.error(where, f"is {len(value)} characters; the limit is {lo} to {hi}")
        return value if isinstance(value, str) else None


def kind_of(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def is_local(host: str | None) -> bool:
    """Hosts only a developer's own machine reaches; plain HTTP is allowed only for them."""
    host = (host or "").lower().strip("[]")
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def check_url(report: Report, path: tuple, value: object, what: str) -> tuple[str, str, int | None] | None:
    """An absolute http(s) URL; returns (scheme, host, port) or None after reporting."""
    if not isinstance(value, str):
        report.error(path, f"{what} must be a string, not {kind_of(value)}")
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        report.error(path, f"{value[:80]!r} is not a valid URL ({exc})")
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        report.error(path, f"{value[:80]!r} must be an absolute http(s) URL ({what})")
        return None
    return parts.scheme, parts.hostname.lower(), port


def check_secure(report: Report, path: tuple, value: str, scheme: str, host: str, port: int | None) -> None:
    """Remote hosts must be HTTPS on 443; only localhost may use plain HTTP."""
    if is_local(host):
        return
    if scheme != "https":
        report.error(path, f"{value[:80]!r} must use https:// (plain http is only allowed for localhost)")
    elif port not in (None, 443):
        report.error(path, f"{value[:80]!r} must use port 443, not {port}")


def same_site(host: str, other: str) -> bool:
    """The same host, or one a subdomain of the other (api.url may live on a subdomain)."""
    return host == other or host.endswith("." + other) or other.endswith("." + host)


def gate(findings: list[Finding], out=sys.stderr) -> list[str]:
    """Print the warnings; return the errors as lines (the build stops when there are any)."""
    for finding in findings:
        if finding.level != ERROR:
            print(finding, file=out)
    return [str(f) for f in findings if f.level == ERROR]


def report(findings: list[Finding], out=sys.stdout) -> int:
    """Print one line per finding, errors first, and a summary; returns the exit status."""
    errors = [f for f in findings if f.level == ERROR]
    warnings = [f for f in findings if f.level == WARNING]
    for finding in [*errors, *warnings]:
        print(finding, file=out)
    if errors:
        print(f"{len(errors)} error(s), {len(warnings)} warning(s)", file=out)
    else:
        print(f"ok: no errors, {len(warnings)} warning(s)", file=out)
    return 1 if errors else 0
