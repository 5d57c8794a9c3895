"""The OAuth facade's seals: its constants, its error answer, its signing key and the HMAC-signed
documents (client ids, states, codes, refresh tokens) that stand in for server-side storage.

``signing_secret`` is the one place the facade gets the key it signs with.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode, urlsplit

from .model_auth import OAuthSettings
from .transport import OAUTH_ROUTES, HTTPError, json_response

PATHS = {endpoint: path for _, path, endpoint in OAUTH_ROUTES}
AUTHORIZE_PATH, CALLBACK_PATH, TOKEN_PATH = PATHS["authorize"], PATHS["callback"], PATHS["token"]
REGISTER_PATH, AS_METADATA_PATH, REVOKE_PATH = PATHS["register"], PATHS["server"], PATHS["revoke"]
TXN_SECONDS = 600
CONSENT_COOKIE = "plugin_oauth_consent"
FLOW_COOKIE = "plugin_oauth_flow_"  # + the flow's id: one cookie per sign-in in progress
COOKIE_PATH = "/oauth"
CODE_SECONDS = 300
REFRESH_SECONDS = 30 * 86400  # a sign-in's refresh tokens, however often rotated (Cognito's default validity)
SECRET_TTL = 900  # re-read the provider secret after this long (rotation)
MAX_FIELD = 4096
PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class OAuthError(HTTPError):
    """An OAuth error answered as JSON (RFC 6749 section 5.2): ``error`` and ``error_description``."""

    def response(self) -> dict:
        return json_response(self.status, {"error": self.code, "error_description": self.message},
                             {**NO_STORE, **(self.headers or {})})


# -- signing ------------------------------------------------------------------------------------
_secret: tuple[float, str, str] | None = None  # (read at, where from, value)


def provider_secret(settings: OAuthSettings) -> str:
    """The provider client's secret: from the environment (local runs) or SSM Parameter Store,
    read on the first sign-in (boto3 is imported only then) and kept for SECRET_TTL."""
    global _secret
    if settings.client_secret:
        return settings.client_secret
    source = settings.client_secret_parameter
    if _secret is not None and _secret[1] == source and time.monotonic() - _secret[0] < SECRET_TTL:
        return _secret[2]
    import boto3  # only the sign-in endpoints need it; the Lambda runtime provides it

    value = boto3.client("ssm").get_parameter(Name=source, WithDecryption=True)["Parameter"]["Value"]
    _secret = (time.monotonic(), source, value)
    return value


def b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")



SIGNING_KEY_SECRET = "OAUTH_SIGNING_KEY"  # noqa: S105 (a secret's name: /<name>/secrets/OAUTH_SIGNING_KEY, oauth.tf)


def signing_keys() -> list[str]:
    """The facade's own signing keys, current first, then the previous one while it is rotated out
    (the value is ``"<current>"`` or ``"<current> <previous>"``). The one function to change for
    another key source: deployed, model_secrets reads the SSM parameter Terraform made (cached);
    locally the environment (plugin_tools.serve makes one per run unless .secrets.env sets it).
    Never derived from the provider's client secret, which the GPT Action's owner also holds."""
    from .model_secrets import secret

    keys = secret(SIGNING_KEY_SECRET).split()
    if not 1 <= len(keys) <= 2 or any(len(k) < 32 for k in keys):
        raise ValueError(f"{SIGNING_KEY_SECRET} must be one or two keys of >= 32 characters, separated by a space")
    return keys


class Signer:
    """HMAC-SHA-256 seals for the facade's stateless artefacts, one purpose per ``kind``: made with
    the current key, opened with the current or the previous one."""

    def __init__(self, secrets: list[str]) -> None:
        import hashlib
        import hmac

        self._hmac, self._sha256 = hmac, hashlib.sha256
        self._keys = [hmac.new(s.encode("utf-8"), b"plugin-oauth-facade/v2", hashlib.sha256).digest() for s in secrets]

    def mac(self, kind: str, text: str, key: int = 0) -> str:
        return b64(self._hmac.new(self._keys[key], f"{kind}.{text}".encode(), self._sha256).digest())

    def mac_ok(self, kind: str, text: str, mac: object) -> bool:
        """Whether ``mac`` is the MAC of ``text`` for ``kind`` under any of the keys."""
        if not isinstance(mac, str):
            return False
        return any(self.equal(mac, self.mac(kind, text, i)) for i in range(len(self._keys)))

    def seal(self, kind: str, payload: dict) -> str:
        body = b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{body}.{self.mac(kind, body)}"

    def open(self, kind: str, sealed: object, now: float | None = None) -> dict | None:
        """The payload of a seal made for ``kind``, or None (forged, altered, expired, malformed)."""
        if not isinstance(sealed, str) or len(sealed) > MAX_FIELD or sealed.count(".") != 1:
            return None
        body, mac = sealed.split(".")
        if not self.mac_ok(kind, body, mac):
            return None
        try:
            from .model_jwt import b64url_decode  # strict and canonical: only our own spelling opens

            payload = json.loads(b64url_decode(body))
        except (ValueError, RecursionError):
            return None
        if not isinstance(payload, dict):
            return None
        expires = payload.get("exp")
        if expires is not None and (not isinstance(expires, int) or expires < (now or time.time())):
            return None
        return payload

    def equal(self, a: str, b: str) -> bool:
        return self._hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))  # bytes: non-ASCII str is refused

    def pkce_ok(self, verifier: object, challenge: str) -> bool:
        if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128 or not PKCE_CHARS.issuperset(verifier):
            return False
        return self.equal(b64(self._sha256(verifier.encode("ascii")).digest()), challenge)



def redirect(url: str, params: dict[str, str]) -> dict:
    joiner = "&" if urlsplit(url).query else "?"
    return {"statusCode": 302, "headers": {"location": url + joiner + urlencode(params), **NO_STORE}, "body": ""}
