"""The model: who may call this plugin, as configured by Terraform (the ``auth`` and ``api_keys``
variables), read from the Lambda's environment.

- ``PLUGIN_AUTH``: ``none`` (anyone), ``api_key`` (a key from ``PLUGIN_API_KEYS``) or ``oauth``;
- ``PLUGIN_API_KEYS``: a JSON object of key name -> SHA-256 of the key (hex). Hashes of 256-bit
  random keys reveal nothing, so they may sit in the environment; the keys never do;
- ``PLUGIN_OPENAI_VERIFICATION_TOKEN``: the token OpenAI hands out for the manifest (public);
- with ``oauth``, ``PLUGIN_OAUTH_*`` (see ``OAuthSettings``): the upstream provider (Cognito or any
  OIDC provider) that users sign in with, and how this API's tokens are recognised.

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
OAUTH_PREFIX = "PLUGIN_OAUTH_"
BASE_SCOPE = "invoke"  # every OAuth-protected call needs it; operations may ask for more
METADATA_PATH = "/.well-known/oauth-protected-resource"
_HEX = frozenset("0123456789abcdef")


# The PLUGIN_OAUTH_* settings OAuthSettings reads (documented there).
OAUTH_KEYS = ("ISSUER", "CLIENT_ID", "AUTHORIZE_URL", "TOKEN_URL", "JWKS_URL", "CALLBACK_URL", "SCOPE_PREFIX",
              "TOKEN_USE", "AUDIENCE", "CLIENT_SECRET", "CLIENT_SECRET_PARAMETER", "REVOKE_URL",
              "RESOURCE_PARAMETER")
RESOURCE_PARAMETERS = ("resource", "audience", "none")


class OAuthSettings:
    """The upstream provider and how tokens for this API are recognised (all from the environment):

    - ``ISSUER``: the provider's issuer (Cognito: ``https://cognito-idp.<region>.amazonaws.com/<pool>``);
    - ``CLIENT_ID``: this API's confidential client at the provider; tokens must name it
      (``client_id`` claim), which is what binds a token to this API (RFC 8707's intent);
    - ``AUTHORIZE_URL``, ``TOKEN_URL``, ``JWKS_URL``: the provider's endpoints (Terraform passes
      them for Cognito; empty ones are read from the issuer's discovery document on first use);
    - ``REVOKE_URL``: the provider's RFC 7009 revocation endpoint (discovery's ``revocation_endpoint``
      when empty; none means /oauth/revoke cannot revoke);
    - ``CALLBACK_URL``: where the provider sends users back (registered there exactly);
    - ``SCOPE_PREFIX``: what the provider puts before this API's scope names (Cognito: the
      resource server's identifier and ``/``);
    - ``TOKEN_USE``: the ``token_use`` claim access tokens must carry (Cognito: ``access``);
    - ``AUDIENCE``: when set, ``aud`` must contain it; when empty, a token that carries an ``aud``
      must name this API's resource (``<origin>/mcp``), one without (Cognito) is bound by its client;
    - ``RESOURCE_PARAMETER``: how the provider is told which API a token is for: ``resource`` (the
      default: RFC 8707 ``resource=<origin>/mcp`` on authorize and token requests), ``audience``
      (Auth0: ``audience=<AUDIENCE>`` on authorize) or ``none`` (Entra ID, which refuses
      ``resource`` with v2 scopes, AADSTS9010010; Cognito, which ignores it);
    - ``CLIENT_SECRET_PARAMETER``: the SSM SecureString holding the client secret (read on the first
      sign-in, never at cold start); ``CLIENT_SECRET`` instead, for local runs only.
    """

    __slots__ = ("audience", "authorize_url", "callback_url", "client_id", "client_secret",
                 "client_secret_parameter", "issuer", "jwks_url", "resource_parameter", "revoke_url", "scope_prefix",
                 "token_url", "token_use")

    def __init__(self, env: dict[str, str]) -> None:
        self.issuer = env.get("ISSUER", "").rstrip("/")
        self.client_id = env.get("CLIENT_ID", "")
        self.authorize_url = env.get("AUTHORIZE_URL", "")
        self.token_url = env.get("TOKEN_URL", "")
        self.jwks_url = env.get("JWKS_URL", "")
        self.callback_url = env.get("CALLBACK_URL", "")
        self.scope_prefix = env.get("SCOPE_PREFIX", "")
        self.token_use = env.get("TOKEN_USE", "")
        self.audience = env.get("AUDIENCE", "")
        self.client_secret = env.get("CLIENT_SECRET", "")
        self.client_secret_parameter = env.get("CLIENT_SECRET_PARAMETER", "")
        self.revoke_url = env.get("REVOKE_URL", "")
        self.resource_parameter = env.get("RESOURCE_PARAMETER", "") or "resource"

    def problem(self) -> str | None:
        if not self.issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            return f"{OAUTH_PREFIX}ISSUER must be the provider's https issuer URL"
        if not self.client_id:
            return f"{OAUTH_PREFIX}CLIENT_ID is empty"
        if not (self.client_secret or self.client_secret_parameter):
            return f"{OAUTH_PREFIX}CLIENT_SECRET_PARAMETER is empty"
        if self.resource_parameter not in RESOURCE_PARAMETERS:
            return f"{OAUTH_PREFIX}RESOURCE_PARAMETER must be one of {', '.join(RESOURCE_PARAMETERS)}"
        if self.resource_parameter == "audience" and not self.audience:
            return f"{OAUTH_PREFIX}RESOURCE_PARAMETER=audience needs {OAUTH_PREFIX}AUDIENCE"
        return None

    def resource_indicator(self, origin: str, authorize: bool) -> dict[str, str]:
        """What tells the provider which API a token is for, on an authorize or token request."""
        if self.resource_parameter == "resource":
            return {"resource": origin + "/mcp"}
        if self.resource_parameter == "audience" and authorize:
            return {"audience": self.audience}
        return {}

    def scope(self, name: str) -> str:
        """The provider's name for one of this API's scopes (``invoke`` -> ``sumar-plugin/invoke``)."""
        return self.scope_prefix + name

    @staticmethod
    def metadata_url(origin: str) -> str:
        """The RFC 9728 protected-resource metadata of /mcp on ``origin``."""
        return origin + METADATA_PATH + "/mcp"


class AuthConfig:
    """What the deployment requires of a caller."""

    __slots__ = ("key_hashes", "mode", "oauth", "problem", "verification_token")

    def __init__(self, mode: str = "none", key_hashes: dict[str, str] | None = None,
                 verification_token: str = "", problem: str | None = None,
                 oauth: OAuthSettings | None = None) -> None:
        self.mode = mode
        self.key_hashes = dict(key_hashes or {})
        self.verification_token = verification_token
        self.problem = problem  # why this configuration cannot be used (None when it can)
        self.oauth = oauth

    @property
    def protected(self) -> bool:
        return self.mode != "none"


def parse(mode: str | None, keys: str | None, token: str | None = None,
          oauth: dict[str, str] | None = None) -> AuthConfig:
    """An AuthConfig from the environment values (absent mode means ``none``)."""
    mode = (mode or "none").strip()
    token = token or ""
    if mode not in MODES:
        return AuthConfig("invalid", problem=f"{MODE_ENV}={mode[:40]!r} is not one of {', '.join(MODES)}")
    if mode == "oauth":
        settings = OAuthSettings(oauth or {})
        return AuthConfig(mode, verification_token=token, problem=settings.problem(), oauth=settings)
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
    environ = os.environ
    mode = environ.get(MODE_ENV)
    # With OAuth, its settings by name: scanning the whole environment costs ~20 us per request.
    oauth = tuple(environ.get(OAUTH_PREFIX + key, "") for key in OAUTH_KEYS) if mode == "oauth" else None
    raw = (mode, environ.get(KEYS_ENV), environ.get(VERIFICATION_ENV), oauth)
    if _cache is None or _cache[0] != raw:
        _cache = (raw, parse(*raw[:3], dict(zip(OAUTH_KEYS, oauth, strict=True)) if oauth is not None else None))
    return _cache[1]


def challenge(origin: str, config: AuthConfig, error: str | None = None, scope: str | None = None) -> str:
    """The ``WWW-Authenticate`` value of a refusal: with OAuth it names the protected-resource
    metadata (RFC 9728) and the scope to ask for, so a client can start signing in from it."""
    parts = [f'error="{error}"'] if error else []
    if config.mode == "oauth" and config.oauth is not None:
        parts.append(f'resource_metadata="{OAuthSettings.metadata_url(origin)}"')
        parts.append(f'scope="{scope or config.oauth.scope(BASE_SCOPE)}"')
    return "Bearer " + ", ".join(parts) if parts else "Bearer"


def scope_challenge(origin: str, config: AuthConfig, needed: tuple[str, ...] | list[str]) -> str:
    """``WWW-Authenticate`` for a token that lacks an operation's scopes: it names every scope the
    operation needs (provider names), so the client can sign in again asking for them."""
    settings = config.oauth
    names = [BASE_SCOPE, *needed]
    scope = " ".join(settings.scope(n) for n in names) if settings else " ".join(names)
    return challenge(origin, config, "insufficient_scope", scope)


_endpoints: dict[str, dict] = {}


def provider_endpoints(settings: OAuthSettings) -> dict[str, str]:
    """The provider's authorization, token, JWKS (and revocation) URLs: as configured, or read once
    per container from the issuer's OpenID discovery document (only for a provider Terraform did
    not describe; Cognito's are always passed in, so its cold start makes no such call)."""
    given = {"authorize": settings.authorize_url, "token": settings.token_url, "jwks": settings.jwks_url}
    if all(given.values()):
        return {**given, "revoke": settings.revoke_url}
    found = _endpoints.get(settings.issuer)
    if found is None:
        import urllib.request

        url = settings.issuer + "/.well-known/openid-configuration"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (the configured issuer)
            doc = json.loads(response.read(262_144))
        found = _endpoints[settings.issuer] = {"authorize": str(doc["authorization_endpoint"]),
                                               "token": str(doc["token_endpoint"]), "jwks": str(doc["jwks_uri"]),
                                               "revoke": str(doc.get("revocation_endpoint") or "")}
    return {**{k: v or found[k] for k, v in given.items()}, "revoke": settings.revoke_url or found["revoke"]}

