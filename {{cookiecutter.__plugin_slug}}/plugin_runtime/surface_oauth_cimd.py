"""Client ID Metadata Documents (CIMD): the client id is the https URL of a JSON document, fetched
here. That makes the facade fetch URLs an attacker picks, so the fetch is an SSRF boundary:

- the name is resolved once, every address it has must be public (no loopback, private,
  link-local, reserved or multicast address, and no IPv6 address carrying an IPv4 one: mapped,
  compatible, NAT64, 6to4, Teredo), and the connection goes to the checked address with TLS
  verified for the name: DNS rebinding between the check and the connection cannot happen;
- no redirects, a size cap, and one deadline for the whole fetch (connect, TLS, headers, body):
  a document dripped a byte at a time holds an invocation for FETCH_SECONDS at most;
- at most FETCHES_PER_MINUTE fetches of uncached URLs per container, a URL that failed is not
  fetched again for a minute, and a document is cached for CACHE_SECONDS only (a document that
  drops a redirect URI stops honouring it within that time).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import time
from urllib.parse import urlsplit

from .model_log import log

FETCH_SECONDS = 3.0
CACHE_SECONDS = 300
FETCHES_PER_MINUTE = 10
MAX_DOCUMENT = 16_384
_EMBEDDING = [ipaddress.ip_network(n) for n in (
    "::ffff:0:0/96",  # IPv4-mapped
    "::/96",  # IPv4-compatible (deprecated), and :: itself
    "64:ff9b::/96", "64:ff9b:1::/48",  # NAT64
    "2002::/16",  # 6to4
    "2001::/32",  # Teredo
)]
_documents: dict[str, tuple[float, dict]] = {}  # url -> (fetched at, document)
_refused: dict[str, float] = {}  # URLs that failed, not fetched again for a minute
_key_sets: dict[str, tuple[float, bytes]] = {}  # jwks_uri -> (fetched at, body)
_budget: list[float] = []  # when the recent fetches of uncached URLs started


def address_allowed(text: str) -> bool:
    """Whether a client metadata document may be fetched from this address (public ones only)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if address.version == 6 and any(address in network for network in _EMBEDDING):
        return False
    return address.is_global and not address.is_multicast


def tls_context():
    import ssl

    return ssl.create_default_context()  # certificate and host name verified


def loopback_allowed(host: str) -> bool:
    """http on 127.0.0.1 / localhost, for a developer's machine only (PLUGIN_OAUTH_LOOPBACK_CLIENTS=1)."""
    return host in ("127.0.0.1", "localhost") and os.environ.get("PLUGIN_OAUTH_LOOPBACK_CLIENTS") == "1"


def fetch(url: str) -> bytes | None:
    """The body of a 200 answer to GET ``url`` (None on any failure), within FETCH_SECONDS."""
    deadline = time.monotonic() + FETCH_SECONDS
    parts = urlsplit(url)
    host, loopback = parts.hostname or "", parts.scheme == "http"
    port = parts.port or (80 if loopback else 443)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    addresses = [info[4][0] for info in infos]
    if not addresses or not (loopback or all(address_allowed(a) for a in addresses)):
        return None
    sock = None
    try:
        sock = socket.create_connection((addresses[0], port), timeout=FETCH_SECONDS)
        sock.settimeout(max(0.05, deadline - time.monotonic()))  # the TLS handshake within the deadline too
        if not loopback:
            sock = tls_context().wrap_socket(sock, server_hostname=host)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {parts.netloc}\r\nAccept: application/json\r\n"
                     f"User-Agent: plugin-oauth-facade\r\nConnection: close\r\n\r\n".encode("ascii"))
        data = b""
        while len(data) <= MAX_DOCUMENT + 8192:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the document took longer than the deadline")
            sock.settimeout(left)
            chunk = sock.recv(8192)
            if not chunk:
                break
            data += chunk
        else:
            raise OSError("the document is too large")
    except (OSError, UnicodeError, ValueError) as exc:
        log.error(f"oauth: cannot read the client metadata document {url[:200]}: {type(exc).__name__}")
        return None
    finally:
        if sock is not None:
            sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split(b" ")
    if len(status) < 2 or status[1] != b"200" or len(body) > MAX_DOCUMENT:
        return None
    return body


def document_url_problem(url: object) -> str | None:
    """Why ``url`` cannot be fetched as a client document or key set (None when it can)."""
    if not isinstance(url, str) or len(url) > 2000:
        return "not a URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return "not a valid URL"
    host = parts.hostname or ""
    if not (parts.scheme == "https" or (parts.scheme == "http" and loopback_allowed(host))) or not host \
            or parts.fragment or parts.username is not None or "\\" in url:
        return "must be https (http only on a developer's loopback)"
    return None


def _spend_budget(now: float) -> bool:
    """Whether one more uncached fetch fits this minute's budget (counting it if so): failing
    client ids cannot make an instance fetch without bound."""
    _budget[:] = [t for t in _budget if now - t < 60]
    if len(_budget) >= FETCHES_PER_MINUTE:
        log.warning("oauth: client metadata fetch budget spent for this minute")
        return False
    _budget.append(now)
    return True


def document(url: str) -> dict | None:
    """The metadata document of a CIMD client id (cached), or None: not an https URL on a public
    address, unreachable, not a JSON object naming this URL as its client_id, or over budget."""
    now = time.monotonic()
    found = _documents.get(url)
    if found is not None and now - found[0] < CACHE_SECONDS:
        return found[1]
    if now - _refused.get(url, -3600.0) < 60:
        return None
    if document_url_problem(url):
        return None
    if not _spend_budget(now):
        return None
    body = fetch(url)
    try:
        doc = json.loads(body) if body is not None else None
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or doc.get("client_id") != url:
        refuse(url)
        return None
    if len(_documents) > 256:
        _documents.clear()
    _documents[url] = (now, doc)
    return doc


def key_set(url: str) -> bytes | None:
    """The body of a private_key_jwt client's ``jwks_uri`` (cached and budgeted like documents)."""
    now = time.monotonic()
    found = _key_sets.get(url)
    if found is not None and now - found[0] < CACHE_SECONDS:
        return found[1]
    if document_url_problem(url) or now - _refused.get(url, -3600.0) < 60:
        return None
    if not _spend_budget(now):
        return None
    body = fetch(url)
    if body is None:
        refuse(url)
        return None
    if len(_key_sets) > 256:
        _key_sets.clear()
    _key_sets[url] = (now, body)
    return body


def refuse(url: str) -> None:
    """Remember a URL whose document failed (not fetched again for a minute)."""
    if len(_refused) > 1024:
        _refused.clear()
    _refused[url] = time.monotonic()
    _documents.pop(url, None)
    _key_sets.pop(url, None)
