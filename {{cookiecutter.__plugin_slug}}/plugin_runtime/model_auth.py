"""The model: who may call this plugin, as configured by Terraform (the ``auth`` and ``api_keys``
variables), read from the Lambda's environment.

- ``PLUGIN_AUTH``: ``none`` (anyone), ``api_key`` (a key from ``PLUGIN_API_KEYS``) or ``oauth``;
- ``PLUGIN_API_KEYS``: a JSON object of key name -> SHA-256 of the key (hex). Hashes of 256-bit
  random keys reveal nothing, so they may sit in the environment; the keys never do;
- ``PLUGIN_OPENAI_VERIFICATION_TOKEN``: the token OpenAI hands out for the manifest (public).

The surfaces read an ``AuthConfig``: the auth surface checks callers against it, the OpenAPI and
manifest surfaces describe it. A value that cannot be understood is kept as a refusal reason, so
a misconfigured deployment refuses every protected call instead of guessing.
"""

from __future__ import annotations

import json
import os

MODES = ("none", "api_key", "oauth")
MODE_ENV = "PLUGIN_AUTH"
KEYS_ENV = "PLUGIN_API_KEYS"
VERIFICATION_ENV = "PLUGIN_OPENAI_VERIFICATION_TOKEN"
_HEX = frozenset("0123456789abcdef")


class AuthConfig:
    """What the deployment requires of a caller."""

    __slots__ = ("key_hashes", "mode", "problem", "verification_token")

    def __init__(self, mode: str = "none", key_hashes: dict[str, str] | None = None,
                 verification_token: str = "", problem: str | None = None) -> None:
        self.mode = mode
        self.key_hashes = dict(key_hashes or {})
        self.verification_token = verification_token
        self.problem = problem  # why this configuration cannot be used (None when it can)

    @property
    def protected(self) -> bool:
        return self.mode != "none"


def parse(mode: str | None, keys: str | None, token: str | None = None) -> AuthConfig:
    """An AuthConfig from the three environment values (absent mode means ``none``)."""
    mode = (mode or "none").strip()
    token = token or ""
    if mode not in MODES:
        return AuthConfig("invalid", problem=f"{MODE_ENV}={mode[:40]!r} is not one of {', '.join(MODES)}")
    hashes: dict[str, str] = {}
    if mode == "api_key" and keys:
        try:
            loaded = json.loads(keys)
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict):
            return AuthConfig(mode, problem=f"{KEYS_ENV} is not a JSON object of name -> SHA-256 hex")
        for name, digest in loaded.items():
            if not (isinstance(digest, str) and len(digest) == 64 and _HEX.issuperset(digest)):
                return AuthConfig(mode, problem=f"{KEYS_ENV}[{str(name)[:40]!r}] is not a SHA-256 hex digest")
            hashes[str(name)] = digest
    return AuthConfig(mode, hashes, token)


_cache: tuple[tuple, AuthConfig] | None = None


def current() -> AuthConfig:
    """The configuration in the environment now (parsed again only when it changed)."""
    global _cache
    raw = (os.environ.get(MODE_ENV), os.environ.get(KEYS_ENV), os.environ.get(VERIFICATION_ENV))
    if _cache is None or _cache[0] != raw:
        _cache = (raw, parse(*raw))
    return _cache[1]
