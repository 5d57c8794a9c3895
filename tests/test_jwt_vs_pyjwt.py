"""The runtime's stdlib RS256 verifier (plugin_runtime.model_jwt) against PyJWT + cryptography:
valid Cognito- and oidc-provider-shaped access tokens verify to the claims PyJWT decodes, every
forgery in a long list is refused with TokenError (never another exception), the key set is
fetched, throttled and kept as documented, and on hypothesis-generated claims and tamperings the
verifier accepts exactly when PyJWT does. JWT_FUZZ_EXAMPLES=N runs the generated tests deeper."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time

import jwt as pyjwt
import pytest
from bake_support import TEMPLATE, bake, project_modules
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

SOURCE = TEMPLATE / "{{cookiecutter.__plugin_slug}}" / "plugin_runtime" / "model_jwt.py"
EXAMPLES = int(os.environ.get("JWT_FUZZ_EXAMPLES", "300"))

REGION_POOL = "us-east-1_AbCdEf123"
COGNITO_ISS = f"https://cognito-idp.us-east-1.amazonaws.com/{REGION_POOL}"
CLIENT = "5v1h2k3m4n5p6q7r8s9t0uvwxy"
OIDC_ISS = "http://127.0.0.1:3000"
RESOURCE = "https://api.example.com/mcp"
JWKS_URI = COGNITO_ISS + "/.well-known/jwks.json"


# -- keys, key sets, tokens ------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64json(value: object) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def int_b64(value: int, size: int | None = None) -> str:
    return b64(value.to_bytes(size or (value.bit_length() + 7) // 8, "big"))


def jwk(key: rsa.RSAPrivateKey, kid: str, **extra: object) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": int_b64(numbers.n),
            "e": int_b64(numbers.e), **extra}


KEY2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY4096 = rsa.generate_private_key(public_exponent=65537, key_size=4096)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # in no key set
KEY1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)
KEYS = {"k2048": KEY2048, "k4096": KEY4096}
JWKS_DOC = {"keys": [jwk(KEY2048, "k2048"), jwk(KEY4096, "k4096")]}


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(claims: dict, key: rsa.RSAPrivateKey = KEY2048, kid: str | None = "k2048", **headers: object) -> str:
    """A token as PyJWT makes it (header typ JWT unless given)."""
    if kid is not None:
        headers["kid"] = kid
    return pyjwt.encode(claims, key, algorithm="RS256", headers=headers)


def raw_token(header: bytes | str, payload: bytes | str, key: rsa.RSAPrivateKey = KEY2048) -> str:
    """A token from raw header and payload bytes, with a valid RS256 signature over them: what a
    signer that PyJWT would refuse to imitate could produce."""
    def seg(part: bytes | str) -> str:
        return b64(part.encode() if isinstance(part, str) else part)

    signing_input = seg(header) + "." + seg(payload)
    return signing_input + "." + b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))


def token_of(header: dict, claims: object, key: rsa.RSAPrivateKey = KEY2048) -> str:
    return raw_token(json.dumps(header), json.dumps(claims), key)


def cognito_claims(now: float | None = None, **changes: object) -> dict:
    now = int(time.time() if now is None else now)
    claims = {"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "iss": COGNITO_ISS, "client_id": CLIENT,
              "origin_jti": "1b2c", "event_id": "e-1", "token_use": "access",
              "scope": "openid sumar-plugin/sumar", "auth_time": now - 5, "exp": now + 3600, "iat": now - 5,
              "jti": "4d5e", "username": "ana", "version": 2}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not DROP}


def oidc_claims(now: float | None = None, **changes: object) -> dict:
    now = int(time.time() if now is None else now)
    claims = {"iss": OIDC_ISS, "sub": "user-1", "aud": RESOURCE, "client_id": "mcp-client", "scope": "sumar",
              "iat": now, "exp": now + 600, "jti": "abc123"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not DROP}


DROP = object()
COGNITO = {"issuer": COGNITO_ISS, "client_id": CLIENT, "audience": None, "token_use": "access"}
OIDC = {"issuer": OIDC_ISS, "client_id": None, "audience": RESOURCE, "token_use": None}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Fetch:
    """An injected fetch: counts its calls and answers with the document (or raises) it is given."""

    def __init__(self, answer: object = None) -> None:
        self.answer = JWKS_DOC if answer is None else answer
        self.calls = 0

    def __call__(self, uri: str) -> bytes:
        self.calls += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer if isinstance(self.answer, bytes) else json.dumps(self.answer).encode()


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baked(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("jwt"))


@pytest.fixture(scope="module")
def mj(baked):
    with project_modules(baked):
        import plugin_runtime.model_jwt as module

        yield module


@pytest.fixture
def keyset(mj):
    return mj.JWKS(JWKS_URI, fetch=Fetch(), clock=Clock())


def test_the_bake_renders_the_module_unchanged(baked):
    """Jinja must not touch it (no brace pairs in it): the shipped file is the source byte for byte."""
    assert (baked / "plugin_runtime" / "model_jwt.py").read_bytes() == SOURCE.read_bytes()


# -- valid tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key,kid", [(KEY2048, "k2048"), (KEY4096, "k4096")])
def test_cognito_access_token_verifies_like_pyjwt(mj, keyset, key, kid):
    token = sign(cognito_claims(), key, kid)
    ours = mj.verify(token, keyset, **COGNITO)
    theirs = pyjwt.decode(token, public_pem(key), algorithms=["RS256"], issuer=COGNITO_ISS, leeway=60,
                          options={"require": ["exp", "iss"]})
    assert ours == theirs
    assert mj.scopes_of(ours) == {"openid", "sumar-plugin/sumar"}


@pytest.mark.parametrize("key,kid", [(KEY2048, "k2048"), (KEY4096, "k4096")])
def test_oidc_provider_access_token_verifies_like_pyjwt(mj, keyset, key, kid):
    token = sign(oidc_claims(), key, kid, typ="at+jwt")
    ours = mj.verify(token, keyset, **OIDC)
    theirs = pyjwt.decode(token, public_pem(key), algorithms=["RS256"], issuer=OIDC_ISS, audience=RESOURCE,
                          leeway=60, options={"require": ["exp", "iss"]})
    assert ours == theirs
    assert mj.verify(token, keyset, **{**OIDC, "client_id": "mcp-client"}) == theirs  # both bindings at once
    assert mj.scopes_of(ours) == {"sumar"}


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"])
def test_accepted_types(mj, keyset, typ):
    header = {"alg": "RS256", "kid": "k2048", **({"typ": typ} if typ else {})}
    assert mj.verify(token_of(header, oidc_claims()), keyset, **OIDC)["sub"] == "user-1"


def test_audience_in_a_list_and_client_fallbacks(mj, keyset):
    assert mj.verify(sign(oidc_claims(aud=["other", RESOURCE])), keyset, **OIDC)
    for claim in ("azp", "cid"):
        claims = cognito_claims(client_id=DROP, **{claim: CLIENT})
        assert mj.verify(sign(claims), keyset, **COGNITO)["sub"]
    # client_id wins over azp: a matching azp never rescues a wrong client_id
    with pytest.raises(mj.TokenError, match="wrong client"):
        mj.verify(sign(cognito_claims(client_id="other", azp=CLIENT)), keyset, **COGNITO)


def test_leeway_edges(mj, keyset):
    now = 1_700_000_000
    ok = sign(cognito_claims(now, exp=now - 59, iat=now - 3600, auth_time=now - 3600))
    assert mj.verify(ok, keyset, **COGNITO, now=now)  # expired 59 s ago, within the 60 s leeway
    with pytest.raises(mj.TokenError, match="expired"):
        mj.verify(sign(cognito_claims(now, exp=now - 60)), keyset, **COGNITO, now=now)
    assert mj.verify(sign(cognito_claims(now, nbf=now + 60, iat=now + 60)), keyset, **COGNITO, now=now)
    with pytest.raises(mj.TokenError, match="expired"):
        mj.verify(ok, keyset, **COGNITO, now=now, leeway=0)
    assert mj.verify(sign(cognito_claims(now, exp=now + 0.5)), keyset, **COGNITO, now=now, leeway=0)


def test_scopes_of(mj):
    assert mj.scopes_of({"scope": "a  b\tc"}) == {"a", "b", "c"}
    assert mj.scopes_of({"scp": ["a", "b", 3, "", "c d"]}) == {"a", "b"}
    assert mj.scopes_of({"scp": "x y"}) == {"x", "y"}
    assert mj.scopes_of({"scope": "a", "scp": ["b"]}) == {"a"}
    assert mj.scopes_of({}) == mj.scopes_of({"scope": 5}) == mj.scopes_of({"scope": None}) == frozenset()


def test_a_verifier_bound_to_nothing_is_a_bug(mj, keyset):
    with pytest.raises(ValueError, match="client_id or audience"):
        mj.verify(sign(cognito_claims()), keyset, issuer=COGNITO_ISS, client_id=None, audience=None,
                  token_use="access")
    with pytest.raises(ValueError, match="issuer"):
        mj.verify(sign(cognito_claims()), keyset, issuer="", client_id=CLIENT, audience=None, token_use=None)


# -- forgeries -------------------------------------------------------------------------------------


def _flip(token: str, segment: int) -> str:
    """One bit flipped in the middle byte of a segment's bytes, re-encoded canonically."""
    parts = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[segment] + "=" * (-len(parts[segment]) % 4)))
    raw[len(raw) // 2] ^= 0x04
    parts[segment] = b64(bytes(raw))
    return ".".join(parts)


def _resign(token: str, signature: bytes) -> str:
    return token.rsplit(".", 1)[0] + "." + b64(signature)


def _hs256_with_public_pem() -> str:
    """The classic key confusion: HS256 with the RSA public key's PEM as the HMAC secret."""
    signing_input = b64json({"alg": "HS256", "typ": "JWT", "kid": "k2048"}) + "." + b64json(cognito_claims())
    mac = hmac.new(public_pem(KEY2048), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def _unsigned(trailing_dot: bool) -> str:
    token = b64json({"alg": "none", "typ": "JWT", "kid": "k2048"}) + "." + b64json(cognito_claims())
    return token + "." if trailing_dot else token


def _sig_int(value: int) -> str:
    """The real token with its signature replaced by the integer value as 256 bytes (k for 2048 bits)."""
    return _resign(sign(cognito_claims()), value.to_bytes(256, "big"))


def _nested(depth: int) -> str:
    return raw_token(json.dumps({"alg": "RS256", "kid": "k2048"}), "[" * depth + "]" * depth)


def _dup_iss() -> str:
    claims = json.dumps(cognito_claims())[:-1] + ', "iss": "https://evil.example"}'
    return raw_token(json.dumps({"alg": "RS256", "kid": "k2048"}), claims)


H = {"alg": "RS256", "kid": "k2048"}
N2048 = KEY2048.public_key().public_numbers().n
GOOD = sign(cognito_claims())
FORGERIES = {
    # the algorithm
    "alg none, no trailing dot": lambda: _unsigned(False),
    "alg none, trailing dot": lambda: _unsigned(True),
    "alg none, a real signature": lambda: token_of({**H, "alg": "none"}, cognito_claims()),
    "HS256 keyed with the public PEM": _hs256_with_public_pem,
    "alg RS384": lambda: pyjwt.encode(cognito_claims(), KEY2048, "RS384", headers={"kid": "k2048"}),
    "alg PS256": lambda: pyjwt.encode(cognito_claims(), KEY2048, "PS256", headers={"kid": "k2048"}),
    "alg ES256": lambda: pyjwt.encode(cognito_claims(), ec.generate_private_key(ec.SECP256R1()), "ES256",
                                      headers={"kid": "k2048"}),
    "alg missing": lambda: token_of({"kid": "k2048"}, cognito_claims()),
    "alg rs256 (case)": lambda: token_of({**H, "alg": "rs256"}, cognito_claims()),
    "alg a list": lambda: token_of({**H, "alg": ["RS256"]}, cognito_claims()),
    # the key and the signature
    "signed by another key, real kid": lambda: sign(cognito_claims(), OTHER, "k2048"),
    "signed by the 4096 key, kid of the 2048": lambda: sign(cognito_claims(), KEY4096, "k2048"),
    "unknown kid": lambda: sign(cognito_claims(), OTHER, "rotated-away"),
    "kid missing": lambda: sign(cognito_claims(), kid=None),
    "kid a number": lambda: token_of({**H, "kid": 1}, cognito_claims()),
    "kid null": lambda: token_of({**H, "kid": None}, cognito_claims()),
    "kid a list": lambda: token_of({**H, "kid": ["k2048"]}, cognito_claims()),
    "1024-bit signer with its own jwk in the header": lambda: token_of(
        {**H, "jwk": jwk(KEY1024, "k2048"), "kid": "k2048"}, cognito_claims(), KEY1024),
    "bit flipped in the header": lambda: _flip(GOOD, 0),
    "bit flipped in the payload": lambda: _flip(GOOD, 1),
    "bit flipped in the signature": lambda: _flip(GOOD, 2),
    "signature one byte short": lambda: _resign(GOOD, base64.urlsafe_b64decode(GOOD.split(".")[2] + "==")[:-1]),
    "signature one byte long (leading zero)": lambda: _resign(
        GOOD, b"\x00" + base64.urlsafe_b64decode(GOOD.split(".")[2] + "==")),
    "signature = n": lambda: _sig_int(N2048),
    "signature = n + 1": lambda: _sig_int(N2048 + 1),
    "signature = n - 1": lambda: _sig_int(N2048 - 1),
    "signature all FF": lambda: _sig_int(2**2048 - 1),
    "signature 0": lambda: _sig_int(0),
    "signature 1": lambda: _sig_int(1),
    "signature of the 4096 key on a 2048 kid": lambda: _resign(
        GOOD, KEY4096.sign(GOOD.rsplit(".", 1)[0].encode(), padding.PKCS1v15(), hashes.SHA256())),
    "PS256 signature under an RS256 header": lambda: _resign(GOOD, KEY2048.sign(
        GOOD.rsplit(".", 1)[0].encode(), padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())),
    "SHA-1 PKCS#1 signature": lambda: _resign(
        GOOD, KEY2048.sign(GOOD.rsplit(".", 1)[0].encode(), padding.PKCS1v15(), hashes.SHA1())),
    "header segment swapped for another token's": lambda: ".".join(
        [sign(cognito_claims(), typ="at+jwt").split(".")[0], *GOOD.split(".")[1:]]),
    "payload segment swapped for another token's": lambda: ".".join(
        [GOOD.split(".")[0], sign(cognito_claims(username="eve")).split(".")[1], GOOD.split(".")[2]]),
    # the shape
    "truncated by one character": lambda: GOOD[:-1],
    "truncated to the header and payload": lambda: GOOD.rsplit(".", 1)[0],
    "truncated mid-payload": lambda: GOOD[: len(GOOD) // 2],
    "two segments": lambda: ".".join(GOOD.split(".")[:2]),
    "four segments": lambda: GOOD + "." + GOOD.split(".")[2],
    "five segments (JWE-shaped)": lambda: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
    "empty payload segment": lambda: GOOD.split(".")[0] + ".." + GOOD.split(".")[2],
    "empty string": lambda: "",
    "oversized (8193 characters)": lambda: (GOOD + "A" * 8193)[:8193],
    "oversized but validly signed": lambda: sign(cognito_claims(pad="x" * 7000)),
    "padding characters": lambda: GOOD.split(".")[0] + "==." + ".".join(GOOD.split(".")[1:]),
    "padding on the signature": lambda: GOOD + "==",
    "standard base64 character +": lambda: GOOD[:-1] + "+",
    "standard base64 character /": lambda: "/" + GOOD[1:],
    "a space inside": lambda: GOOD[:20] + " " + GOOD[20:],
    "a trailing newline": lambda: GOOD + "\n",
    "non-ASCII character": lambda: GOOD[:-1] + "é",
    "non-canonical base64 (low bits set in the last character)": lambda: _noncanonical(GOOD),
    "a length of 4k+1 in a segment": lambda: GOOD + "A",
    "Bearer prefix left on": lambda: "Bearer " + GOOD,
    # the header and payload as JSON
    "header not JSON": lambda: b64(b"{alg:RS256}") + "." + ".".join(GOOD.split(".")[1:]),
    "header a JSON array": lambda: raw_token('["RS256"]', json.dumps(cognito_claims())),
    "header a JSON string": lambda: raw_token('"RS256"', json.dumps(cognito_claims())),
    "header a JSON number": lambda: raw_token("256", json.dumps(cognito_claims())),
    "header not UTF-8": lambda: raw_token(b'{"alg":"RS256","kid":"k2048","x":"\xff"}', json.dumps(cognito_claims())),
    "header in UTF-16": lambda: raw_token(json.dumps(H).encode("utf-16"), json.dumps(cognito_claims())),
    "crit header": lambda: token_of({**H, "crit": ["exp"], "exp": 1}, cognito_claims()),
    "crit header, empty": lambda: token_of({**H, "crit": []}, cognito_claims()),
    "typ id_token+jwt": lambda: token_of({**H, "typ": "id_token+jwt"}, cognito_claims()),
    "typ a number": lambda: token_of({**H, "typ": 1}, cognito_claims()),
    "payload not JSON (signed)": lambda: raw_token(json.dumps(H), "not json"),
    "payload empty JSON (signed)": lambda: raw_token(json.dumps(H), b""),
    "payload a JSON array (signed)": lambda: raw_token(json.dumps(H), json.dumps([cognito_claims()])),
    "payload a JSON string (signed)": lambda: raw_token(json.dumps(H), json.dumps("claims")),
    "payload a JSON number (signed)": lambda: raw_token(json.dumps(H), "1"),
    "payload null (signed)": lambda: raw_token(json.dumps(H), "null"),
    "payload deeply nested (signed)": lambda: _nested(2000),
    "payload with NaN (signed)": lambda: raw_token(json.dumps(H), json.dumps(cognito_claims(x=float("nan")))),
    "payload with a repeated iss (signed)": _dup_iss,
    # the claims
    "wrong issuer": lambda: sign(cognito_claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil")),
    "issuer with a trailing slash": lambda: sign(cognito_claims(iss=COGNITO_ISS + "/")),
    "issuer missing": lambda: sign(cognito_claims(iss=DROP)),
    "issuer a list": lambda: token_of(H, cognito_claims(iss=[COGNITO_ISS])),
    "expired beyond the leeway": lambda: sign(cognito_claims(exp=int(time.time()) - 61)),
    "expired long ago": lambda: sign(cognito_claims(exp=1)),
    "exp missing": lambda: sign(cognito_claims(exp=DROP)),
    "exp a string": lambda: sign(cognito_claims(exp=str(int(time.time()) + 600))),
    "exp true": lambda: sign(cognito_claims(exp=True)),
    "exp null": lambda: sign(cognito_claims(exp=None)),
    "exp 1e400 (infinity)": lambda: raw_token(json.dumps(H), json.dumps(cognito_claims(exp=DROP))[:-1]
                                              + ', "exp": 1e400}'),
    "exp Infinity (not JSON)": lambda: raw_token(json.dumps(H), json.dumps(cognito_claims(exp=float("inf")))),
    "exp a list": lambda: sign(cognito_claims(exp=[int(time.time()) + 600])),
    "nbf in the future": lambda: sign(cognito_claims(nbf=int(time.time()) + 600)),
    "nbf a string": lambda: sign(cognito_claims(nbf="0")),
    "iat in the future": lambda: sign(cognito_claims(iat=int(time.time()) + 600)),
    "iat false": lambda: sign(cognito_claims(iat=False)),
    "id token (token_use id)": lambda: sign(cognito_claims(token_use="id", aud=CLIENT, client_id=DROP)),
    "token_use missing": lambda: sign(cognito_claims(token_use=DROP)),
    "another client_id": lambda: sign(cognito_claims(client_id="another-app-client")),
    "client_id missing": lambda: sign(cognito_claims(client_id=DROP)),
    "client_id a list": lambda: sign(cognito_claims(client_id=[CLIENT])),
    "client_id in aud only": lambda: sign(cognito_claims(client_id=DROP, aud=CLIENT)),
}
OIDC_FORGERIES = {
    "wrong aud": lambda: sign(oidc_claims(aud="https://other.example.com/mcp"), typ="at+jwt"),
    "aud missing": lambda: sign(oidc_claims(aud=DROP), typ="at+jwt"),
    "aud empty list": lambda: sign(oidc_claims(aud=[]), typ="at+jwt"),
    "aud a prefix of the resource": lambda: sign(oidc_claims(aud="https://api.example.com"), typ="at+jwt"),
    "aud a list with a non-string": lambda: sign(oidc_claims(aud=[RESOURCE, 1]), typ="at+jwt"),
    "aud an object": lambda: sign(oidc_claims(aud={"x": RESOURCE}), typ="at+jwt"),
    "issuer of another server": lambda: sign(oidc_claims(iss="http://127.0.0.1:3001"), typ="at+jwt"),
}


def _noncanonical(token: str) -> str:
    """The same signature bytes with unused low bits set in the last character (342 characters
    for 256 bytes leave 4 spare bits): lax decoders accept it as the same token."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    head, last = token[:-1], token[-1]
    return head + alphabet[alphabet.index(last) | 1]


def _refused(mj, token: str, keyset, config: dict, **extra: object) -> str:
    with pytest.raises(mj.TokenError) as refusal:
        mj.verify(token, keyset, **config, **extra)
    return refusal.value.reason


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forgery_refused(mj, keyset, name):
    reason = _refused(mj, FORGERIES[name](), keyset, COGNITO)
    assert reason and len(reason) < 40 and "\n" not in reason


@pytest.mark.parametrize("name", sorted(OIDC_FORGERIES))
def test_oidc_forgery_refused(mj, keyset, name):
    assert _refused(mj, OIDC_FORGERIES[name](), keyset, OIDC) in {"wrong audience", "wrong issuer"}


def test_forgeries_for_the_right_reason(mj, keyset):
    """A few reasons pinned, so that a refusal is not an accident of an earlier check."""
    expect = {"HS256 keyed with the public PEM": "wrong algorithm", "signed by another key, real kid": "bad signature",
              "signature = n": "bad signature", "unknown kid": "unknown kid", "wrong issuer": "wrong issuer",
              "expired beyond the leeway": "expired", "nbf in the future": "not yet valid",
              "iat in the future": "not yet valid", "id token (token_use id)": "not an access token",
              "another client_id": "wrong client", "crit header": "critical header",
              "oversized (8193 characters)": "too long", "payload deeply nested (signed)": "malformed",
              "exp 1e400 (infinity)": "malformed", "payload with a repeated iss (signed)": "malformed",
              "PS256 signature under an RS256 header": "bad signature",
              "non-canonical base64 (low bits set in the last character)": "malformed"}
    for name, reason in expect.items():
        assert _refused(mj, FORGERIES[name](), keyset, COGNITO) == reason, name


def test_second_spellings_of_a_token(mj, keyset):
    """A lax base64 decoder takes a second spelling of the same token (spare bits set, padding);
    model_jwt refuses both. PyJWT (2.15; older releases took both) refuses the first and takes '='
    padding (some issuers, e.g. AWS ALB, pad the signature): where the two verdicts differ on purpose."""
    key = public_pem(KEY2048)
    assert _refused(mj, _noncanonical(GOOD), keyset, COGNITO) == "malformed"
    padded = GOOD + "=" * (-len(GOOD.split(".")[2]) % 4)  # the signed part padded would change the signature
    assert padded != GOOD
    assert pyjwt.decode(padded, key, algorithms=["RS256"], issuer=COGNITO_ISS)
    assert _refused(mj, padded, keyset, COGNITO) == "malformed"
    assert mj.verify(GOOD, keyset, **COGNITO)


def test_non_string_tokens_refused(mj, keyset):
    for token in (None, b"a.b.c", 3, ["a", "b", "c"]):
        assert _refused(mj, token, keyset, COGNITO) == "malformed"


def test_a_forgery_never_fetches_more_than_once_a_minute(mj):
    fetch, clock = Fetch(), Clock()
    keys = mj.JWKS(JWKS_URI, fetch=fetch, clock=clock)
    assert mj.verify(GOOD, keys, **COGNITO)
    clock.now += 60
    for _ in range(3):
        for name in sorted(FORGERIES):
            with pytest.raises(mj.TokenError):
                mj.verify(FORGERIES[name](), keys, **COGNITO)
    assert fetch.calls == 2  # the first use, then one refetch for the first unknown kid


# -- the signature cache ---------------------------------------------------------------------------


@pytest.fixture
def rsa_calls(mj, monkeypatch):
    calls = []
    real = mj.rsa_verify

    def counting(*args):
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(mj, "rsa_verify", counting)
    monkeypatch.setattr(mj, "_verified", {})
    return calls


def test_a_checked_signature_is_remembered_and_the_claims_are_not(mj, rsa_calls):
    fetch, clock = Fetch(), Clock()
    keys = mj.JWKS(JWKS_URI, fetch=fetch, clock=clock)
    token = sign(cognito_claims())
    assert mj.verify(token, keys, **COGNITO) == mj.verify(token, keys, **COGNITO)
    assert len(rsa_calls) == 1
    # every claim rule still runs on a remembered token
    assert _refused(mj, token, keys, COGNITO, now=time.time() + 7200) == "expired"
    assert _refused(mj, token, keys, {**COGNITO, "client_id": "another"}) == "wrong client"
    assert _refused(mj, token, keys, {**COGNITO, "issuer": OIDC_ISS}) == "wrong issuer"
    assert _refused(mj, token, keys, {**COGNITO, "token_use": "id"}) == "not an access token"
    assert len(rsa_calls) == 1
    # a token one character away is another token: checked, refused, never remembered
    for name in ("bit flipped in the payload", "bit flipped in the signature", "signed by another key, real kid"):
        assert _refused(mj, FORGERIES[name](), keys, COGNITO) == "bad signature"
    assert list(mj._verified) == [token]


def test_a_remembered_token_needs_its_key_still_in_the_set(mj, rsa_calls):
    fetch, clock = Fetch(), Clock()
    keys = mj.JWKS(JWKS_URI, fetch=fetch, clock=clock)
    token = sign(cognito_claims())
    assert mj.verify(token, keys, **COGNITO)
    clock.now += 61
    fetch.answer = {"keys": [jwk(OTHER, "k2048")]}  # the same kid now names another key
    assert _refused(mj, sign(cognito_claims(), OTHER, "unknown-so-refetch"), keys, COGNITO) == "unknown kid"
    assert _refused(mj, token, keys, COGNITO) == "bad signature"
    fetch.answer = {"keys": [jwk(KEY4096, "k4096")]}
    clock.now += 61
    assert _refused(mj, sign(cognito_claims(), OTHER, "unknown-again"), keys, COGNITO) == "unknown kid"
    assert _refused(mj, token, keys, COGNITO) == "unknown kid"  # removed from the set: refused at once


def test_the_cache_is_bounded(mj, keyset, rsa_calls, monkeypatch):
    monkeypatch.setattr(mj, "SIGNATURE_CACHE_SIZE", 5)
    tokens = [sign(cognito_claims(jti=str(i))) for i in range(8)]
    for token in tokens:
        assert mj.verify(token, keyset, **COGNITO)
    assert list(mj._verified) == tokens[5:]  # full at 5: the sixth started it over
    assert mj.verify(tokens[0], keyset, **COGNITO) and len(rsa_calls) == 9  # forgotten: checked again
    assert mj.verify(tokens[7], keyset, **COGNITO) and len(rsa_calls) == 9  # remembered
    monkeypatch.setattr(mj, "SIGNATURE_CACHE_SIZE", 0)  # off
    mj._verified.clear()
    assert mj.verify(tokens[0], keyset, **COGNITO) and mj.verify(tokens[0], keyset, **COGNITO)
    assert len(rsa_calls) == 11 and not mj._verified


# -- the key set -----------------------------------------------------------------------------------


def test_unknown_kid_refetches_once_then_waits_a_minute(mj):
    fetch, clock = Fetch(), Clock()
    keys = mj.JWKS(JWKS_URI, fetch=fetch, clock=clock)
    assert mj.verify(GOOD, keys, **COGNITO)
    assert fetch.calls == 1
    clock.now += 30
    assert _refused(mj, sign(cognito_claims(), OTHER, "new-0"), keys, COGNITO) == "unknown kid"
    assert fetch.calls == 1  # the first fetch counts: no two fetches within 60 s
    clock.now += 30
    assert _refused(mj, sign(cognito_claims(), OTHER, "new-1"), keys, COGNITO) == "unknown kid"
    assert fetch.calls == 2
    clock.now += 59
    assert _refused(mj, sign(cognito_claims(), OTHER, "new-2"), keys, COGNITO) == "unknown kid"
    assert fetch.calls == 2  # within 60 s of the last fetch: no request
    assert mj.verify(GOOD, keys, **COGNITO)  # known keys still work
    clock.now += 2
    fetch.answer = {"keys": [*JWKS_DOC["keys"], jwk(OTHER, "new-2")]}  # the issuer rotated
    assert mj.verify(sign(cognito_claims(), OTHER, "new-2"), keys, **COGNITO)
    assert fetch.calls == 3
    assert mj.verify(sign(cognito_claims(), OTHER, "new-2"), keys, **COGNITO)
    assert fetch.calls == 3


def test_rotation_drops_removed_keys(mj):
    fetch, clock = Fetch(), Clock()
    keys = mj.JWKS(JWKS_URI, fetch=fetch, clock=clock)
    assert mj.verify(GOOD, keys, **COGNITO)
    fetch.answer = {"keys": [jwk(OTHER, "new")]}
    clock.now += 61
    assert mj.verify(sign(cognito_claims(), OTHER, "new"), keys, **COGNITO)
    assert _refused(mj, GOOD, keys, COGNITO) == "unknown kid"


@pytest.mark.parametrize("failure", [OSError("connection refused"), TimeoutError("timed out"), b"<html>",
                                     b"", b'{"keys": {}}', b"[]", b'{"keys": [1]', RuntimeError("odd fetch"),
                                     b"[" * 5000 + b"]" * 5000, b"\xff\xfe\x00"])
def test_fetch_failure_is_a_refusal_and_keeps_the_old_keys(mj, failure):
    fetch, clock = Fetch(failure), Clock()
    keys = mj.JWKS(JWKS_URI, fetch=fetch, clock=clock)
    assert _refused(mj, GOOD, keys, COGNITO) == "jwks unavailable"
    assert _refused(mj, GOOD, keys, COGNITO) == "jwks unavailable"
    assert fetch.calls == 1  # the retry waits (5 s while nothing was ever read)
    clock.now += 5
    fetch.answer = JWKS_DOC
    assert mj.verify(GOOD, keys, **COGNITO)
    assert fetch.calls == 2
    fetch.answer = failure
    clock.now += 61
    assert _refused(mj, sign(cognito_claims(), OTHER, "new"), keys, COGNITO) == "unknown kid"
    assert fetch.calls == 3
    assert mj.verify(GOOD, keys, **COGNITO)  # the keys read before stay usable


def test_jwks_parsing_keeps_only_sound_rsa_signing_keys(mj):
    good = jwk(KEY2048, "good")
    n2048 = good["n"]
    doc = {"keys": [
        good,
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
         "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "use": "sig"},
        jwk(KEY1024, "small"),
        jwk(KEY2048, "enc", use="enc"),
        jwk(KEY2048, "rs512", alg="RS512"),
        {**good, "kid": "even-e", "e": int_b64(65536)},
        {**good, "kid": "e-one", "e": int_b64(1)},
        {**good, "kid": "e-huge", "e": int_b64(2**64 + 1)},
        {**good, "kid": "n-even", "n": int_b64(int.from_bytes(base64.urlsafe_b64decode(n2048 + "=="), "big") - 1)},
        {**good, "kid": "n-huge", "n": int_b64(2**9000 + 1)},
        {**good, "kid": "n-padded", "n": n2048 + "=="},
        {**good, "kid": "n-not-b64", "n": "!!!"},
        {**good, "kid": "n-number", "n": 12345},
        {**good, "kid": 7},
        {k: v for k, v in good.items() if k != "kid"},
        {**good, "kty": "rsa", "kid": "lowercase-kty"},
        {**jwk(OTHER, "good")},  # a second entry for a kid already read: the first stays
        "garbage", 42, None, [], {},
    ]}
    keys = mj.parse_jwks(json.dumps(doc).encode())
    numbers = KEY2048.public_key().public_numbers()
    assert keys == {"good": (numbers.n, numbers.e)}
    assert mj.parse_jwks(b'{"keys": []}') == {}
    no_use = {k: v for k, v in good.items() if k not in ("use", "alg")}
    assert set(mj.parse_jwks(json.dumps({"keys": [no_use]}))) == {"good"}


def test_a_token_for_a_skipped_key_is_refused(mj):
    doc = {"keys": [jwk(KEY1024, "small"), jwk(KEY2048, "enc", use="enc"), jwk(KEY2048, "k2048")]}
    keys = mj.JWKS(JWKS_URI, fetch=Fetch(doc), clock=Clock())
    assert _refused(mj, token_of({"alg": "RS256", "kid": "small"}, cognito_claims(), KEY1024), keys,
                    COGNITO) == "unknown kid"
    assert _refused(mj, sign(cognito_claims(), KEY2048, "enc"), keys, COGNITO) == "unknown kid"
    assert mj.verify(GOOD, keys, **COGNITO)


@pytest.mark.parametrize("uri", ["https://cognito-idp.us-east-1.amazonaws.com/p/.well-known/jwks.json",
                                 "http://127.0.0.1:3000/jwks", "http://localhost/jwks", "http://[::1]:8080/jwks"])
def test_jwks_uri_accepted(mj, uri):
    assert mj.JWKS(uri).uri == uri


@pytest.mark.parametrize("uri", ["http://example.com/jwks", "ftp://127.0.0.1/jwks", "file:///etc/passwd", "https://",
                                 "jwks.json", "http://127.0.0.1.evil.example/jwks", "http://localhost@evil.example/x",
                                 "http://[::1"])
def test_jwks_uri_refused(mj, uri):
    with pytest.raises(ValueError):
        mj.JWKS(uri)


def test_for_issuer_and_the_per_issuer_cache(mj):
    assert mj.JWKS.for_issuer(COGNITO_ISS).uri == JWKS_URI
    assert mj.jwks_for(COGNITO_ISS) is mj.jwks_for(COGNITO_ISS)
    assert mj.jwks_for(COGNITO_ISS).fetches == 0  # nothing fetched until a token needs a key


class _JWKSHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        routes = {"/jwks": (200, json.dumps(JWKS_DOC).encode()), "/big": (200, b" " * 70000 + b"{}"),
                  "/404": (404, b"{}"), "/204": (204, b"")}
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/jwks")
            self.end_headers()
            return
        status, body = routes.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def jwks_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JWKSHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_default_fetch_over_http(mj, jwks_server):
    keys = mj.JWKS(jwks_server + "/jwks", clock=Clock())
    assert mj.verify(GOOD, keys, **COGNITO)
    for path in ("/big", "/404", "/204", "/moved"):  # too large, an error, no content, a redirect
        keys = mj.JWKS(jwks_server + path, clock=Clock())
        assert _refused(mj, GOOD, keys, COGNITO) == "jwks unavailable", path
    with pytest.raises(OSError, match="larger"):
        mj.http_get(jwks_server + "/big")


def test_an_unreachable_jwks_is_a_refusal_within_the_timeout(mj):
    import socket

    with socket.socket() as listener:  # bound, never accepting: the connection hangs
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        keys = mj.JWKS(f"http://127.0.0.1:{port}/jwks", fetch=lambda uri: mj.http_get(uri, timeout=0.3))
        start = time.monotonic()
        assert _refused(mj, GOOD, keys, COGNITO) == "jwks unavailable"
        assert time.monotonic() - start < 5


# -- the same verdict as PyJWT on generated tokens -------------------------------------------------

ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def canonical(token: str) -> bool:
    """Every segment the one canonical unpadded base64url spelling of its bytes, as model_jwt
    demands (RFC 7515: no padding); PyJWT takes '=' padding, and before 2.15 spare bits too."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p and set(p) <= ALPHABET and len(p) % 4 != 1 for p in parts):
        return False
    return all(b64(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) == p for p in parts)


def pyjwt_verdict(token: str, *, audience: str | None, client_id: str | None, leeway: int) -> bool:
    """PyJWT's answer with the same checks, plus the two model_jwt makes that PyJWT has no option
    for: the key is looked up by kid in the same key set, and the client binding (``client_id``,
    else ``azp``, else ``cid``) is checked here in the test. token_use is not compared (PyJWT does
    not know it): the generated tests pass token_use=None."""
    try:
        kid = pyjwt.get_unverified_header(token).get("kid")
        key = KEYS.get(kid) if isinstance(kid, str) else None
        if key is None:
            return False
        claims = pyjwt.decode(token, key.public_key(), algorithms=["RS256"], issuer=COGNITO_ISS, audience=audience,
                              leeway=leeway, options={"require": ["exp", "iss"], "verify_aud": audience is not None})
    except pyjwt.PyJWTError:
        return False
    if client_id is not None:
        claimed = claims["client_id"] if "client_id" in claims else claims.get("azp", claims.get("cid"))
        return claimed == client_id
    return True


def _offset(edge: int, after: bool):
    """An offset at least 6 s before or after an edge, so that the two verifiers' clocks (read a
    few ms apart) never straddle it."""
    return st.integers(6, 7200).map(lambda d: edge + d if after else edge - d)


# Each generated token has at most two faults; half have none, so that about half are valid and
# the agreement on acceptance is tested as much as the agreement on refusal.
CLAIM_FAULTS = ["iss wrong", "iss missing", "exp past", "exp missing", "nbf future", "iat future", "client wrong",
                "client missing", "aud wrong", "aud missing"]
TOKEN_FAULTS = ["other key", "unknown kid", "kid of the other key", "flip", "swap", "cut", "extra"]
faults = st.one_of(st.just(frozenset()), st.sets(st.sampled_from(CLAIM_FAULTS + TOKEN_FAULTS), min_size=1,
                                                 max_size=2).map(frozenset))


bindings = st.sampled_from([(None, RESOURCE), (CLIENT, None), (CLIENT, RESOURCE)])


@st.composite
def claim_sets(draw, fault: frozenset, leeway: int):
    now = int(time.time())
    claims: dict = {"sub": draw(st.text(min_size=1, max_size=8)), "jti": "j"}
    if "iss missing" not in fault:
        claims["iss"] = draw(st.sampled_from([OIDC_ISS, COGNITO_ISS + "/", "", COGNITO_ISS.upper()])) \
            if "iss wrong" in fault else COGNITO_ISS
    if "exp missing" not in fault:
        claims["exp"] = now + draw(_offset(-leeway, after="exp past" not in fault))
    for name in ("nbf", "iat"):
        if f"{name} future" in fault or draw(st.booleans()):
            claims[name] = now + draw(_offset(leeway, after=f"{name} future" in fault))
    if "client missing" not in fault:  # client_id, else azp, else cid; a wrong one where it counts
        where = draw(st.sampled_from(["client_id", "client_id", "azp", "cid"]))
        claims[where] = draw(st.sampled_from(["other-client", "", CLIENT.upper()])) if "client wrong" in fault \
            else CLIENT
        for later in ("azp", "cid")[("client_id", "azp", "cid").index(where):]:
            if later != where and draw(st.booleans()):
                claims[later] = draw(st.sampled_from([CLIENT, "other-client"]))  # never consulted
    if "aud missing" not in fault:
        claims["aud"] = draw(st.sampled_from(["https://other/mcp", [], ["x"], RESOURCE + "/"])) \
            if "aud wrong" in fault else draw(st.sampled_from([RESOURCE, [RESOURCE], ["x", RESOURCE]]))
    if draw(st.booleans()):
        claims["scope"] = draw(st.sampled_from(["openid", "a b", ""]))
    claims.update(draw(st.dictionaries(st.sampled_from(["username", "x", "version", "token_use"]),
                                       st.none() | st.integers() | st.text(max_size=5), max_size=2)))
    return claims


def signer_of(fault: frozenset):
    if "other key" in fault:
        return st.just((OTHER, "k2048"))
    if "unknown kid" in fault:
        return st.just((KEY2048, "gone"))
    if "kid of the other key" in fault:
        return st.sampled_from([(KEY2048, "k4096"), (KEY4096, "k2048")])
    return st.sampled_from([(KEY2048, "k2048"), (KEY4096, "k4096")])


def tampered(draw, fault: frozenset, token: str, other: str) -> str:
    if "flip" in fault:  # one bit of one character (stays ASCII)
        at = draw(st.integers(0, len(token) - 1))
        token = token[:at] + chr(ord(token[at]) ^ (1 << draw(st.integers(0, 6)))) + token[at + 1:]
    if "swap" in fault and token.count(".") == 2:  # a segment taken from another token
        i = draw(st.integers(0, 2))
        parts = token.split(".")
        parts[i] = other.split(".")[i]
        token = ".".join(parts)
    if "cut" in fault:
        token = token[: draw(st.integers(0, len(token) - 1))]
    if "extra" in fault:
        token += draw(st.sampled_from([".", "=", "==", "A", "AA", "." + token.split(".")[-1]]))
    return token


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fault=faults, leeway=st.sampled_from([0, 30, 60]), typ=st.sampled_from([None, "JWT", "at+jwt"]),
       binding=bindings)
def test_same_verdict_as_pyjwt(mj, keyset, data, fault, leeway, typ, binding):
    """PyJWT is configured with the same issuer, audience, leeway, required exp and iss, and
    algorithms=["RS256"]; see pyjwt_verdict for what the test adds (kid lookup, client binding)."""
    client_id, audience = binding
    claims = data.draw(claim_sets(fault, leeway))
    token = sign(claims, *data.draw(signer_of(fault)), **({"typ": typ} if typ else {}))
    other = sign({**claims, "sub": claims["sub"] + "-other"}, *data.draw(signer_of(frozenset())))
    token = tampered(data.draw, fault, token, other)
    now = time.time()
    try:
        mj.verify(token, keyset, issuer=COGNITO_ISS, client_id=client_id, audience=audience, token_use=None,
                  leeway=leeway, now=now)
        ours = True
    except mj.TokenError:
        ours = False
    theirs = pyjwt_verdict(token, audience=audience, client_id=client_id, leeway=leeway) and canonical(token)
    event("accepted" if ours else "refused")
    assert ours == theirs, (token, claims, leeway, binding, sorted(fault))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)
claim_names = st.sampled_from(["iss", "exp", "nbf", "iat", "aud", "client_id", "azp", "token_use", "scope", "x"])
claim_value = json_values | st.sampled_from([COGNITO_ISS, CLIENT, RESOURCE, "access", 2**70, 1e308, -1, 0.5])
claim_values = st.dictionaries(claim_names, claim_value, max_size=8)
claim_changes = st.dictionaries(claim_names, claim_value, max_size=1)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.just({}) | st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku", "x"]),
                              json_values | st.sampled_from(["RS256", "k2048", "JWT"]), max_size=5)
       | json_values,
       payload=claim_changes.map(lambda changes: {**cognito_claims(aud=RESOURCE), **changes}) | claim_values
       | json_values,
       signed=st.sampled_from([True, True, True, False]), binding=bindings)
def test_any_json_in_a_signed_token_is_a_verdict_never_a_crash(mj, keyset, header, payload, signed, binding):
    """Whatever a signer put in the header and payload, the answer is claims or TokenError, and
    claims only when every rule holds."""
    if signed and isinstance(header, dict):
        header = {**header, "alg": "RS256", "kid": "k2048"}
    token = raw_token(json.dumps(header), json.dumps(payload))
    client_id, audience = binding
    try:
        claims = mj.verify(token, keyset, issuer=COGNITO_ISS, client_id=client_id, audience=audience,
                           token_use="access")
    except mj.TokenError:
        event("refused")
        return
    event("accepted")
    assert claims == payload and claims["iss"] == COGNITO_ISS and claims["token_use"] == "access"
    assert isinstance(claims["exp"], (int, float)) and not isinstance(claims["exp"], bool)
    assert header.get("alg") == "RS256" and "crit" not in header


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=300) | st.lists(st.text("AZaz09-_=+/.é ", max_size=40), min_size=1, max_size=5)
       .map(".".join))
def test_arbitrary_text_is_refused_without_a_crash(mj, keyset, token):
    assume(token != GOOD)
    with pytest.raises(mj.TokenError):
        mj.verify(token, keyset, **COGNITO)


# -- the standard library only ---------------------------------------------------------------------


def test_imports_only_the_standard_library():
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert imported and imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level], "no project imports"


def test_verify_loads_only_the_standard_library_and_no_network_code(tmp_path):
    """In a fresh interpreter: load the module and verify a token (keys injected); every module
    loaded on the way is the standard library's, and urllib.request (the fetch) is not one."""
    script = tmp_path / "probe.py"
    script.write_text(f"""
import sys
before = set(sys.modules)
import importlib.util, json
spec = importlib.util.spec_from_file_location("model_jwt", {str(SOURCE)!r})
mj = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mj)
doc = sys.stdin.read()
keys = mj.JWKS("https://issuer.example/jwks", fetch=lambda uri: doc)
claims = mj.verify(sys.argv[1], keys, issuer={COGNITO_ISS!r}, client_id={CLIENT!r}, audience=None, token_use="access")
loaded = sorted(m for m in set(sys.modules) - before if m != "model_jwt")
print(json.dumps([claims["sub"], loaded]))
""", encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", "-S", "-B", str(script), GOOD], input=json.dumps(JWKS_DOC),
                          capture_output=True, text=True, timeout=60, check=True)
    sub, loaded = json.loads(done.stdout)
    assert sub == cognito_claims()["sub"]
    foreign = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names]
    assert not foreign, foreign
    assert "urllib.request" not in loaded and "ssl" not in loaded
    assert not (SOURCE.parent / "__pycache__").exists(), "the probe must not write bytecode into the template"


def test_the_source_has_no_brace_pairs():
    text = SOURCE.read_text(encoding="utf-8")
    for pair in ("{" * 2, "}" * 2, "{%", "%}", "{#", "#}"):
        assert pair not in text, f"{pair!r} in model_jwt.py: Jinja would read it"


def test_a_recursion_error_anywhere_in_parsing_is_a_refusal(mj, keyset, monkeypatch):
    """Deep nesting raises RecursionError in json (at a depth that depends on the Python version);
    wherever it comes from, it is a refusal."""
    def deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(mj.json, "loads", deep)
    assert _refused(mj, GOOD, keyset, COGNITO) == "malformed"


@pytest.mark.parametrize("where", ["header", "claim"])
def test_deep_but_legal_nesting_is_a_verdict(mj, keyset, where):
    """A signed token with a deeply nested (but valid) JSON value: claims or TokenError, nothing else."""
    deep = "[" * 1800 + "]" * 1800
    header = json.dumps(H)[:-1] + ', "x": ' + deep + "}" if where == "header" else json.dumps(H)
    payload = json.dumps(cognito_claims())[:-1] + (', "x": ' + deep if where == "claim" else "") + "}"
    try:
        assert mj.verify(raw_token(header, payload), keyset, **COGNITO)["iss"] == COGNITO_ISS
    except mj.TokenError as refusal:
        assert refusal.reason == "malformed"


def test_a_huge_number_in_a_claim_is_a_verdict(mj, keyset):
    payload = json.dumps(cognito_claims())[:-1] + ', "x": ' + "9" * 5000 + "}"  # beyond int_max_str_digits
    try:
        mj.verify(raw_token(json.dumps(H), payload), keyset, **COGNITO)
    except mj.TokenError as refusal:
        assert refusal.reason == "malformed"
    far = json.dumps(cognito_claims(exp=DROP))[:-1] + ', "exp": ' + "9" * 400 + "}"  # an int, but no float
    assert mj.verify(raw_token(json.dumps(H), far), keyset, **COGNITO)  # the issuer said: never expires
