"""The model: OAuth access tokens (RS256 JWTs) checked against the issuer's published keys, with
the standard library only. Imported lazily, only when ``auth`` is ``oauth``.

- ``JWKS``: an issuer's key set, fetched from its ``jwks_uri`` on first use and kept for the
  container's life; an unknown ``kid`` refetches it at most once a minute (keys rotate).
- ``verify``: a token's claims, or a ``TokenError``. Only RS256 is accepted; the signature is
  checked as RFC 8017 says a verifier may: ``m = s^e mod n`` is compared byte for byte with the
  EMSA-PKCS1-v1_5 encoding of the SHA-256 digest, so the padding is never parsed (parsing it is
  where RSA verifiers have been fooled). Then the claims bind the token to this API: issuer,
  expiry, and the client (``client_id``) or the resource (``aud``) it was issued for.
- ``scopes_of``: the scopes a token grants.

A token whose signature checked out is remembered (by its exact text, with the key) so that the
next call with it skips the RSA step; everything else is checked on every call.

Amazon Cognito access tokens carry ``token_use: "access"``, ``client_id`` and no ``aud``; RFC 9068
tokens (oidc-provider and most other servers) carry ``aud`` (the resource) and ``client_id``.
A ``TokenError`` carries a short reason for the logs; the HTTP layer answers every one with the
same 401 ``invalid_token``, so a caller never learns what was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Callable

ALGORITHM = "RS256"
TYPES = frozenset(("jwt", "at+jwt", "application/jwt", "application/at+jwt"))
MIN_BITS, MAX_BITS = 2048, 8192  # RSA moduli outside this range are refused when the keys are read
MAX_JWKS_BYTES = 65536
FETCH_TIMEOUT = 3.0  # seconds, for the key set request
REFETCH_INTERVAL = 60.0  # seconds between two fetches once keys are known
RETRY_INTERVAL = 5.0  # seconds between two fetches while no key set could be read yet
LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1"))  # urlsplit gives [::1] as ::1

# DigestInfo for SHA-256 (RFC 8017 section 9.2, note 1): DER of AlgorithmIdentifier + OCTET STRING header
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class TokenError(Exception):
    """A refused token. ``reason`` is short and meant for the logs, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def b64url_decode(segment: str) -> bytes:
    """Strict base64url without padding (RFC 7515 section 2): only the alphabet, and only the
    one canonical spelling of the bytes, so a token cannot be rewritten into another that still
    verifies. Raises ValueError."""
    if len(segment) % 4 == 1 or _B64URL.fullmatch(segment) is None:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment.encode("ascii"):
        raise ValueError("not the canonical base64url of its bytes")
    return raw


def _unique_keys(pairs: list) -> dict:
    claims = dict(pairs)
    if len(claims) != len(pairs):
        raise ValueError("a key appears twice")
    return claims


def _refuse_constant(name: str) -> float:
    raise ValueError(name + " is not JSON")


def _json_object(raw: bytes) -> dict:
    """A strict JSON object from UTF-8 bytes (no NaN or Infinity, no repeated key); raises ValueError
    (or RecursionError on absurd nesting, which the caller turns into a refusal too)."""
    value = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _number(value: object) -> bool:
    """A JSON number usable as a time: int or finite float, never a bool (1e400 parses to inf)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


# -- the key set ---------------------------------------------------------------------------------


def _check_uri(uri: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host in LOOPBACK:
        return
    raise ValueError("jwks_uri must be an https URL (http only on a loopback host): " + repr(uri[:200]))


def http_get(uri: str, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_JWKS_BYTES) -> bytes:
    """GET a small document: no redirects (a key set does not move), at most ``max_bytes``."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None  # urllib then raises HTTPError for the 3xx

    opener = urllib.request.build_opener(NoRedirect)
    # the scheme was checked when the JWKS was made (https, or http on loopback only)
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310
    with opener.open(request, timeout=timeout) as response:
        if response.status != 200:
            raise OSError("HTTP " + str(response.status))
        body = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise OSError("key set larger than " + str(max_bytes) + " bytes")
    return body


def parse_jwks(body: bytes | str) -> dict[str, tuple[int, int]]:
    """kid -> (n, e) for the usable keys of a JWKS document: RSA signing keys for RS256, 2048 to
    8192 bits, a small odd public exponent. Other entries are skipped; a body that is not a key
    set raises ValueError."""
    doc = json.loads(body, parse_constant=_refuse_constant)
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError("not a JWKS document")
    keys: dict[str, tuple[int, int]] = {}
    for entry in doc["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        kid, n64, e64 = entry.get("kid"), entry.get("n"), entry.get("e")
        if entry.get("alg", ALGORITHM) != ALGORITHM or not isinstance(kid, str) or kid in keys:
            continue
        if not (isinstance(n64, str) and isinstance(e64, str)) or len(n64) > 2 * MAX_BITS // 6 or len(e64) > 12:
            continue
        try:
            n = int.from_bytes(b64url_decode(n64), "big")
            e = int.from_bytes(b64url_decode(e64), "big")
        except ValueError:
            continue
        if MIN_BITS <= n.bit_length() <= MAX_BITS and n % 2 == 1 and 3 <= e < 2**32 and e % 2 == 1:
            keys[kid] = (n, e)
    return keys


class JWKS:
    """An issuer's signing keys, read from ``jwks_uri`` on first use and cached for the container's
    life. A token with a ``kid`` not in the set makes one refetch (keys rotate), at most once per
    ``refetch_interval`` seconds, so unknown kids cannot turn into a flood of requests. A failed
    fetch is a ``TokenError("jwks unavailable")`` and leaves the keys read before usable.

    ``fetch(uri) -> bytes`` and ``clock() -> seconds`` are injectable for tests.
    """

    def __init__(self, jwks_uri: str, *, fetch: Callable[[str], bytes | str] | None = None,
                 clock: Callable[[], float] = time.monotonic, refetch_interval: float = REFETCH_INTERVAL,
                 retry_interval: float = RETRY_INTERVAL) -> None:
        _check_uri(jwks_uri)
        self.uri = jwks_uri
        self._fetch = fetch or http_get
        self._clock = clock
        self.refetch_interval = refetch_interval
        self.retry_interval = retry_interval
        self._keys: dict[str, tuple[int, int]] | None = None  # None until a key set was read
        self._last_attempt: float | None = None
        self.fetches = 0  # how many fetches were attempted (for tests and logs)

    @classmethod
    def for_issuer(cls, issuer: str, **kwargs) -> JWKS:
        """The key set at ``<issuer>/.well-known/jwks.json`` (where Cognito publishes it)."""
        return cls(issuer.rstrip("/") + "/.well-known/jwks.json", **kwargs)

    def _refresh(self) -> None:
        """Fetch the key set again, unless the last attempt was too recent."""
        now = self._clock()
        if self._last_attempt is not None:
            wait = self.refetch_interval if self._keys is not None else self.retry_interval
            if now - self._last_attempt < wait:
                return
        self._last_attempt = now
        self.fetches += 1
        try:
            self._keys = parse_jwks(self._fetch(self.uri))
        except Exception:  # network, HTTP status, size, JSON, shape, or an injected fetch failing
            return  # the keys read before (if any) stay in use

    def key(self, kid: str) -> tuple[int, int]:
        """(n, e) for ``kid``; raises TokenError("unknown kid") or TokenError("jwks unavailable")."""
        keys = self._keys
        if keys is not None and kid in keys:
            return keys[kid]
        self._refresh()
        keys = self._keys
        if keys is None:
            raise TokenError("jwks unavailable")
        if kid in keys:
            return keys[kid]
        raise TokenError("unknown kid")


_registry: dict[str, JWKS] = {}


def jwks_for(issuer: str) -> JWKS:
    """One JWKS per issuer for the container's life (keys fetched on first use)."""
    found = _registry.get(issuer)
    if found is None:
        found = _registry[issuer] = JWKS.for_issuer(issuer)
    return found


# -- the token -----------------------------------------------------------------------------------


_padding: dict[int, bytes] = {}
# Tokens whose signature checked out, with the key that checked it: a client sends the same token
# on every call until it expires, and the RSA step is most of the cost of a verification. A hit
# skips only that step, and only while the kid still names the same key; every other rule is
# checked again on every call. Bounded: when full, it starts over.
SIGNATURE_CACHE_SIZE = 512  # 0 turns the cache off
_verified: dict[str, tuple[int, int]] = {}


def _encoded_digest(signing_input: bytes, k: int) -> bytes:
    """EMSA-PKCS1-v1_5(SHA-256(signing_input)) of k bytes: 00 01 FF..FF 00 DigestInfo digest."""
    prefix = _padding.get(k)
    if prefix is None:
        prefix = _padding[k] = b"\x00\x01" + b"\xff" * (k - 3 - len(_SHA256_PREFIX) - 32) + b"\x00" + _SHA256_PREFIX
    return prefix + hashlib.sha256(signing_input).digest()


def rsa_verify(signing_input: bytes, signature: bytes, n: int, e: int) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 section 8.2.2): the signature is exactly k bytes,
    s < n, and s^e mod n, written as k bytes, equals the expected encoding byte for byte."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    return hmac.compare_digest(pow(s, e, n).to_bytes(k, "big"), _encoded_digest(signing_input, k))


def verify(token: str, jwks: JWKS, *, issuer: str, client_id: str | None, audience: str | None,
           token_use: str | None, leeway: int = 60, now: float | None = None, max_length: int = 8192) -> dict:
    """The claims of a valid RS256 access token, or TokenError. ``issuer`` must match ``iss``
    exactly; ``client_id`` (the ``client_id`` claim, else ``azp``, else ``cid``) and ``audience``
    (in ``aud``) bind the token to this API, and at least one of them must be given;
    ``token_use`` (Cognito: ``"access"``) refuses Cognito ID tokens. ``leeway`` seconds of clock
    skew are allowed on ``exp``, ``nbf`` and ``iat``."""
    if not isinstance(issuer, str) or not issuer:
        raise ValueError("verify needs the issuer")
    if client_id is None and audience is None:
        raise ValueError("verify needs client_id or audience: a token bound to nothing is anyone's token")
    if not isinstance(token, str):
        raise TokenError("malformed")
    if len(token) > max_length:
        raise TokenError("too long")
    try:
        return _verify(token, jwks, issuer, client_id, audience, token_use, leeway,
                       time.time() if now is None else now)
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:  # decoding, JSON, odd values
        raise TokenError("malformed") from exc


def _verify(token: str, jwks: JWKS, issuer: str, client_id: str | None, audience: str | None,
            token_use: str | None, leeway: float, now: float) -> dict:
    if _SHAPE.fullmatch(token) is None:
        raise TokenError("malformed")
    header64, payload64, signature64 = token.split(".")
    header = _json_object(b64url_decode(header64))
    if header.get("alg") != ALGORITHM:
        raise TokenError("wrong algorithm")
    if "crit" in header:
        raise TokenError("critical header")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in TYPES):
        raise TokenError("wrong type")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenError("malformed")
    signature = b64url_decode(signature64)
    key = jwks.key(kid)
    if _verified.get(token) != key:
        if not rsa_verify((header64 + "." + payload64).encode("ascii"), signature, *key):
            raise TokenError("bad signature")
        if SIGNATURE_CACHE_SIZE > 0:
            if len(_verified) >= SIGNATURE_CACHE_SIZE:
                _verified.clear()  # start over: one atomic step, safe under the threaded local server
            _verified[token] = key

    claims = _json_object(b64url_decode(payload64))
    if claims.get("iss") != issuer:
        raise TokenError("wrong issuer")
    exp = claims.get("exp")
    if not _number(exp):
        raise TokenError("malformed")
    if exp <= now - leeway:
        raise TokenError("expired")
    for name in ("nbf", "iat"):
        if name in claims:
            if not _number(claims[name]):
                raise TokenError("malformed")
            if claims[name] > now + leeway:
                raise TokenError("not yet valid")
    if token_use is not None and claims.get("token_use") != token_use:
        raise TokenError("not an access token")
    if client_id is not None:
        claimed = claims["client_id"] if "client_id" in claims else claims.get("azp", claims.get("cid"))
        if not isinstance(claimed, str) or claimed != client_id:
            raise TokenError("wrong client")
    if audience is not None:
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences) \
                or audience not in audiences:
            raise TokenError("wrong audience")
    return claims


def scopes_of(claims: dict) -> frozenset[str]:
    """The scopes granted: ``scope`` (space-separated, RFC 9068 and Cognito) or ``scp`` (a list or a
    string, as some servers write it). Anything else grants nothing."""
    scope = claims.get("scope")
    if scope is None:
        scope = claims.get("scp")
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scope, list):
        return frozenset(s for s in scope if isinstance(s, str) and s and " " not in s)
    return frozenset()
