"""private_key_jwt client authentication (RFC 7523 section 2.2, OpenID Connect Core 9): a CIMD
client (ChatGPT's ``https://chatgpt.com/oauth/client.json``) proves itself at the token endpoint
with a short-lived JWT signed by a key of its metadata document (``jwks`` inline, or ``jwks_uri``
fetched as safely as the document itself).

Checked: RS256 only (the signature with model_jwt's byte-exact RSASSA-PKCS1-v1_5 check), the
``kid`` names a key of the document, ``iss`` = ``sub`` = the client id, ``aud`` names this token
endpoint or this issuer, ``exp`` is in the future and at most MAX_LIFETIME away, and the ``jti``
was not seen before by this container while the assertion lives (single use per container: a
replay on another instance inside those minutes still needs a valid code or refresh token, which
are bound to this client and, for codes, to its PKCE verifier).
"""

from __future__ import annotations

import json
import time

from .model_jwt import b64url_decode, parse_jwks, rsa_verify

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 300  # seconds an assertion may live
LEEWAY = 30
MAX_ASSERTION = 8192
_seen: dict[tuple[str, str], float] = {}  # (client id, jti) -> when that assertion expires
# Assertions one client may have alive at once in a container. Per client, so that a client flooding
# the store (its own CIMD document and keys) is refused alone; new clients cost a budgeted fetch,
# which bounds the store as a whole.
PER_CLIENT_IN_FLIGHT = 200


class AssertionError_(ValueError):
    """Why a client assertion is refused (for the logs; the client is told invalid_client only)."""


def _object(raw: bytes) -> dict:
    def unique(pairs: list) -> dict:
        value = dict(pairs)
        if len(value) != len(pairs):
            raise ValueError("a key appears twice")
        return value

    def constant(name: str) -> float:
        raise ValueError(name + " is not JSON")

    value = json.loads(raw.decode("utf-8"), object_pairs_hook=unique, parse_constant=constant)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def keys_of(jwks: object) -> dict[str, tuple[int, int]]:
    """kid -> (n, e) of a metadata document's ``jwks`` (a dict) or ``jwks_uri`` (a URL, fetched)."""
    if isinstance(jwks, dict):
        return parse_jwks(json.dumps(jwks))
    if isinstance(jwks, str):
        from .surface_oauth_cimd import key_set

        body = key_set(jwks)
        if body is None:
            raise AssertionError_("the client's jwks_uri could not be read")
        return parse_jwks(body)
    raise AssertionError_("the client's metadata document has no keys")


def verify_assertion(assertion: object, client_id: str, jwks: object, audiences: tuple[str, ...],
                     now: float | None = None) -> None:
    """Raises AssertionError_ unless ``assertion`` authenticates ``client_id``."""
    now = time.time() if now is None else now
    if not isinstance(assertion, str) or not 0 < len(assertion) <= MAX_ASSERTION or assertion.count(".") != 2:
        raise AssertionError_("not a compact JWT")
    head64, body64, sig64 = assertion.split(".")
    try:
        header, claims = _object(b64url_decode(head64)), _object(b64url_decode(body64))
        signature = b64url_decode(sig64)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise AssertionError_("malformed JWT") from None
    if header.get("alg") != "RS256" or "crit" in header:
        raise AssertionError_("alg must be RS256")
    try:
        keys = keys_of(jwks)
    except (ValueError, RecursionError):
        raise AssertionError_("the client's key set is malformed") from None
    key = keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
    if key is None:
        raise AssertionError_("kid names no key of the client's metadata document")
    if not rsa_verify(f"{head64}.{body64}".encode("ascii"), signature, *key):
        raise AssertionError_("bad signature")
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionError_("iss and sub must be the client id")
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(a in audiences for a in named if isinstance(a, str)):
        raise AssertionError_("aud must name this token endpoint or issuer")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool) or exp < now - LEEWAY or exp > now + MAX_LIFETIME + LEEWAY:
        raise AssertionError_(f"exp must be within the next {MAX_LIFETIME} s")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value > now + LEEWAY):
            raise AssertionError_(f"{name} is in the future")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise AssertionError_("jti is required")
    remember(client_id, jti, float(exp), now)


def remember(client_id: str, jti: str, until: float, now: float) -> None:
    """Record an assertion as used until it expires; a replay, or a client over its own share of
    the store, is refused (never another client: one client cannot lock out the rest)."""
    mine = 0
    for seen, expires in list(_seen.items()):
        if expires < now - LEEWAY:
            del _seen[seen]
        elif seen[0] == client_id:
            mine += 1
    if (client_id, jti) in _seen:
        raise AssertionError_("this assertion was used already")
    if mine >= PER_CLIENT_IN_FLIGHT:
        raise AssertionError_("too many assertions in flight for this client")
    _seen[(client_id, jti)] = until
