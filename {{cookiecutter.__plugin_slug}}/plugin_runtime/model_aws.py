"""A small AWS client, standard library only: SigV4 signing with the Lambda's credentials and the
JSON protocol DynamoDB and SSM speak. It replaces boto3 on the request path (importing boto3 costs
about 95 ms of a cold start; this module costs a few).

- Credentials and region come from the environment Lambda sets (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` sent as ``X-Amz-Security-Token``,
  ``AWS_REGION``), read on every call so rotated credentials are picked up.
- Endpoints honour ``AWS_ENDPOINT_URL_<SERVICE>`` and ``AWS_ENDPOINT_URL`` like botocore (moto,
  dynalite, LocalStack).
- Throttling, 5xx answers and dropped connections are retried with jittered exponential backoff,
  never past the time the Lambda has left (``deadline``).
- Failures raise ``AwsError`` with AWS's error code (``ConditionalCheckFailedException``, ...);
  the callers map them to what their users should see.

``request`` is the general signed HTTPS call; ``call_json`` is the JSON protocol on top of it
(one more small function gives Lambda's asynchronous invoke:
``request("lambda", "POST", f"/2015-03-31/functions/{name}/invocations",
headers={"X-Amz-Invocation-Type": "Event"}, body=payload)``).
This module is in the model layer because ``model_secrets`` and ``model_store`` use it; it
imports only the standard library and nothing from the runtime.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Callable

ALGORITHM = "AWS4-HMAC-SHA256"
# botocore leaves these out of the signature (hop-by-hop or rewritten by proxies): so do we.
UNSIGNED_HEADERS = frozenset({"baggage", "connection", "expect", "keep-alive", "proxy-authenticate",
                              "proxy-authorization", "te", "traceparent", "tracestate", "trailer",
                              "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"})
RETRYABLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
                             "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException",
                             "RequestThrottledException", "TransactionInProgressException",
                             "InternalServerError", "ServiceUnavailable", "InternalFailure"})
MAX_ATTEMPTS = 5
BASE_DELAY_S = 0.025
MAX_DELAY_S = 1.0
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 3.0
SAFETY_MARGIN_S = 0.2  # what a retry leaves the operation to answer after the last attempt


class AwsError(Exception):
    """An AWS call that failed: ``code`` is AWS's error code (or ``ConnectionError``/``Timeout``)."""

    def __init__(self, service: str, code: str, message: str, status: int = 0) -> None:
        super().__init__(f"{service}: {code}: {message}"[:500])
        self.service, self.code, self.message, self.status = service, code, message, status

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES or "Throttl" in self.code or self.status >= 500 or self.status == 0


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def quote(text: str, safe: str = "") -> str:
    """Percent-encode UTF-8 bytes outside the unreserved set and ``safe`` (urllib.parse.quote's
    rule, without importing urllib)."""
    keep = _UNRESERVED.union(safe.encode("ascii"))
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode("utf-8"))


def _jitter(ceiling: float) -> float:
    """A uniform delay in [0, ceiling) for backoff (not a secret; os.urandom spares importing random)."""
    return ceiling * int.from_bytes(os.urandom(4), "big") / 2 ** 32


# -- SigV4 ------------------------------------------------------------------------------
def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The key chain HMAC("AWS4"+secret, date) -> region -> service -> "aws4_request"."""
    return _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode("utf-8"), date), region), service), "aws4_request")


def remove_dot_segments(path: str) -> str:
    """The path as SigV4 signs it: RFC 3986 dot segments removed and, as AWS requires, repeated
    slashes collapsed (the normalisation botocore and the SigV4 test suite apply)."""
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment and segment != ".":
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return (first + "/".join(output) + last) or "/"


def canonical_query(query: str) -> str:
    """The query string as sent (already URI-encoded), its pairs sorted by key then value."""
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{k}={v}" for k, v in pairs)


def encode_query(params: dict[str, str] | list[tuple[str, str]]) -> str:
    """A query string from pairs, encoded the way SigV4 expects (unreserved characters only)."""
    items = params.items() if isinstance(params, dict) else params
    return "&".join(f"{quote(str(k), safe='-_.~')}={quote(str(v), safe='-_.~')}" for k, v in items)


def canonical_request(method: str, path: str, query: str, headers: dict[str, str], payload_hash: str
                      ) -> tuple[str, str]:
    """(canonical request, signed headers). ``path`` and ``query`` are as sent on the wire; the
    path is URI-encoded once more (every service but S3 signs it that way)."""
    signed: dict[str, list[str]] = {}
    for name, value in headers.items():
        lname = name.lower()
        if lname not in UNSIGNED_HEADERS:
            signed.setdefault(lname, []).append(" ".join(str(value).split()))
    names = sorted(signed)
    lines = "".join(f"{n}:{','.join(signed[n])}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_path = quote(remove_dot_segments(path), safe="/~")
    return "\n".join([method.upper(), canonical_path, canonical_query(query), lines, signed_headers,
                      payload_hash]), signed_headers


def sign(method: str, host: str, path: str, query: str, headers: dict[str, str], body: bytes, *, service: str,
         region: str, access_key: str, secret_key: str, token: str | None = None,
         amz_date: str | None = None) -> dict[str, str]:
    """The headers to send: ``headers`` plus Host, X-Amz-Date, X-Amz-Security-Token (when there is
    a session token) and Authorization. ``amz_date`` (``YYYYMMDDTHHMMSSZ``) defaults to now."""
    amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-date",
                                                                  "x-amz-security-token")}
    if not any(k.lower() == "host" for k in out):
        out["Host"] = host
    out["X-Amz-Date"] = amz_date
    if token:
        out["X-Amz-Security-Token"] = token
    request, signed_headers = canonical_request(method, path, query, out, hashlib.sha256(body).hexdigest())
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(request.encode("utf-8")).hexdigest()])
    signature = hmac.new(signing_key(secret_key, amz_date[:8], region, service), to_sign.encode("utf-8"),
                         hashlib.sha256).hexdigest()
    out["Authorization"] = (f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed_headers}, "
                            f"Signature={signature}")
    return out


# -- endpoints and connections ----------------------------------------------------------
def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def endpoint(service: str) -> tuple[str, str, str]:
    """(scheme, host[:port], base path) for ``service``: AWS_ENDPOINT_URL_<SERVICE>, then
    AWS_ENDPOINT_URL, then the service's regional endpoint."""
    url = (os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}")
           or os.environ.get("AWS_ENDPOINT_URL") or f"https://{service}.{region()}.amazonaws.com")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https") or not rest:
        raise AwsError(service, "InvalidEndpoint", f"endpoint URL {url!r} is not http(s)://host[:port]")
    host, _, base = rest.partition("/")
    return scheme, host, ("/" + base).rstrip("/")


class Connection:
    """One kept-alive HTTP/1.1 connection over a socket (TLS for https): the part of http.client
    this client needs, without its import (http.client loads the email package, ~10 ms of a cold
    start). Answers with Content-Length, chunked, or read to the end are all understood."""

    def __init__(self, scheme: str, host: str) -> None:
        self.scheme, self.host = scheme, host
        name, colon, port = host.rpartition(":")
        self.address = (name, int(port)) if colon and port.isdigit() else (host, 443 if scheme == "https" else 80)
        self.sock: typing.Any = None
        self.file: typing.Any = None

    def open(self, timeout: float) -> None:
        import socket  # on the first AWS call only

        name, port = self.address
        # An ASCII host as bytes: a str is IDNA-encoded, which imports encodings.idna and unicodedata.
        host = name.encode("ascii") if name.isascii() else name
        sock = socket.create_connection((host, port), timeout=min(timeout, CONNECT_TIMEOUT_S))
        if self.scheme == "https":
            sock = _tls().wrap_socket(sock, server_hostname=self.address[0])
        self.sock, self.file = sock, sock.makefile("rb")

    def close(self) -> None:
        for part in (self.file, self.sock):
            if part is not None:
                try:
                    part.close()
                except OSError:
                    pass
        self.sock = self.file = None

    def exchange(self, method: str, target: str, headers: dict[str, str], body: bytes, timeout: float
                 ) -> tuple[int, dict[str, str], bytes]:
        if self.sock is None:
            self.open(timeout)
        self.sock.settimeout(timeout)
        head = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()),
                f"Content-Length: {len(body)}", "", ""]
        self.sock.sendall("\r\n".join(head).encode("utf-8") + body)
        status_line = self.file.readline(65537)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ConnectionError(f"no HTTP answer ({status_line[:40]!r})")
        answer: dict[str, str] = {}
        while True:
            line = self.file.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            answer[name.strip().lower()] = value.strip()
        if "chunked" in answer.get("transfer-encoding", "").lower():
            data = self._chunked()
        elif "content-length" in answer:
            size = int(answer["content-length"])
            data = self.file.read(size)
            if len(data) != size:
                raise ConnectionError("the answer was cut short")
        else:
            data = self.file.read()
            answer["connection"] = "close"
        if answer.get("connection", "").lower() == "close" or parts[0] == b"HTTP/1.0":
            self.close()
        return int(parts[1]), answer, data

    def _chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.file.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.file.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.file.read(size))
            self.file.readline(3)


_connections: dict[tuple[str, str], Connection] = {}
_tls_context: list[typing.Any] = []


def _tls() -> typing.Any:
    if not _tls_context:
        import ssl

        _tls_context.append(ssl.create_default_context())
    return _tls_context[0]


def close_connections() -> None:
    for conn in _connections.values():
        conn.close()
    _connections.clear()


def _credentials(service: str) -> tuple[str, str, str | None]:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise AwsError(service, "NoCredentials", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set "
                                                 "(Lambda sets them from the function's role)")
    return key, secret, os.environ.get("AWS_SESSION_TOKEN") or None


# -- calls --------------------------------------------------------------------------------
def request(service: str, method: str, path: str, *, query: str = "", headers: dict[str, str] | None = None,
            body: bytes = b"", deadline: float | None = None,
            sleep: Callable[[float], None] = time.sleep) -> tuple[int, dict[str, str], bytes]:
    """One signed HTTPS call, retried on throttling, 5xx and dropped connections while time allows.

    ``deadline`` is a ``time.monotonic()`` value (the Lambda's end, less a margin): no attempt
    starts and no backoff sleeps past it. Answers (status, lower-case headers, body); a 4xx is
    returned to the caller, which knows its protocol's errors."""
    scheme, host, base = endpoint(service)
    attempt = 0
    while True:
        attempt += 1
        try:
            status, answer_headers, data = _send(service, scheme, host, method, base + path, query,
                                                 headers or {}, body, deadline)
        except AwsError as exc:  # no connection, no answer in time
            error = exc
        else:
            code = _error_code(data) if status >= 400 else ""
            if status < 500 and status != 429 and not (code in RETRYABLE_CODES or "Throttl" in code):
                return status, answer_headers, data
            error = AwsError(service, code or f"HTTP{status}", _message(data), status)
        delay = _jitter(min(MAX_DELAY_S, BASE_DELAY_S * 2 ** attempt))  # full jitter
        out_of_time = deadline is not None and time.monotonic() + delay + 0.05 > deadline
        if attempt >= MAX_ATTEMPTS or out_of_time or error.code == "NoTimeLeft":
            raise error
        sleep(delay)


def _send(service: str, scheme: str, host: str, method: str, path: str, query: str, headers: dict[str, str],
          body: bytes, deadline: float | None) -> tuple[int, dict[str, str], bytes]:
    key, secret, token = _credentials(service)
    signed = sign(method, host, path, query, headers, body, service=service, region=region(), access_key=key,
                  secret_key=secret, token=token)
    timeout = READ_TIMEOUT_S
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise AwsError(service, "NoTimeLeft", "no time left in this invocation for the call")
        timeout = min(timeout, left)
    url = path + ("?" + query if query else "")
    conn = _connections.get((scheme, host))
    if conn is None:
        conn = _connections[(scheme, host)] = Connection(scheme, host)
    for fresh in (conn.sock is None, True):  # a kept-alive connection the server closed: one fresh try
        try:
            return conn.exchange(method, url, signed, body, timeout)
        except TimeoutError:
            conn.close()
            raise AwsError(service, "Timeout", f"no answer from {host} within {timeout:.1f} s") from None
        except (OSError, ValueError) as exc:  # refused, reset, closed, or not HTTP
            conn.close()
            if fresh:
                raise AwsError(service, "ConnectionError", f"{host}: {type(exc).__name__}: {exc}") from None
    raise AssertionError("unreachable")


def _error_code(data: bytes) -> str:
    try:
        answer = json.loads(data)
    except ValueError:
        return ""
    if not isinstance(answer, dict):
        return ""
    code = str(answer.get("__type") or answer.get("code") or answer.get("Code") or "")
    return code.rsplit("#", 1)[-1]


def _message(data: bytes) -> str:
    try:
        answer = json.loads(data)
        return str(answer.get("message") or answer.get("Message") or "")[:300]
    except (ValueError, AttributeError):
        return data[:200].decode("utf-8", "replace")


def call_json(service: str, target: str, payload: dict, *, version: str = "1.0",
              deadline: float | None = None, signing_name: str | None = None) -> dict:
    """The AWS JSON protocol: POST / with ``X-Amz-Target: <target>``; the answer's JSON object, or
    ``AwsError`` with the ``__type`` of the error (``ConditionalCheckFailedException``, ...)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target}
    status, _, data = request(signing_name or service, "POST", "/", headers=headers, body=body, deadline=deadline)
    if status != 200:
        raise AwsError(service, _error_code(data) or f"HTTP{status}", _message(data), status)
    try:
        answer = json.loads(data) if data else {}
    except ValueError:
        raise AwsError(service, "InvalidResponse", "the answer is not JSON", status) from None
    if not isinstance(answer, dict):
        raise AwsError(service, "InvalidResponse", "the answer is not a JSON object", status)
    return answer


def invoke_async(function: str, payload: dict, *, deadline: float | None = None) -> None:
    """Lambda's asynchronous invoke (``X-Amz-Invocation-Type: Event``, answered 202): the call a
    later background task needs, on the same signed client. ``function`` is a name or an ARN."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    status, _, data = request("lambda", "POST", f"/2015-03-31/functions/{quote(function, safe='')}/invocations",
                              headers={"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"},
                              body=body, deadline=deadline)
    if status != 202:
        raise AwsError("lambda", _error_code(data) or f"HTTP{status}", _message(data), status)


def deadline_from(remaining_ms: Callable[[], int | None] | None) -> float | None:
    """A ``time.monotonic()`` deadline from a Lambda context's remaining time, less a margin."""
    left = remaining_ms() if remaining_ms is not None else None
    return None if left is None else time.monotonic() + left / 1000.0 - SAFETY_MARGIN_S
