"""The OAuth surface: the discovery documents MCP clients read, and a small authorization-server
facade in front of the upstream provider (Cognito, or any OIDC provider) for what it cannot do.

MCP clients (ChatGPT, Claude, the SDKs) need, on the API's own origin: RFC 9728 protected-resource
metadata, RFC 8414 authorization-server metadata announcing S256, and a way to register (DCR or
CIMD). Cognito has none of these, and its app clients only accept exact, pre-registered callback
URLs. So this API is the authorization server the clients see, and the provider is where users
sign in:

    client --authorize--> /oauth/authorize --302--> provider login --302--> /oauth/callback
           <--302 code---                                                    (our signed code)
    client --code + PKCE verifier--> /oauth/token --provider code + our secret--> provider
           <--the provider's access token (and a refresh token bound to the client)--

Nothing is stored server-side, so it works on Lambda across cold starts and instances. Every
artefact the facade hands out is a small JSON document signed with HMAC-SHA-256 under a key
derived from the provider client's secret (which never leaves the Lambda):

- a registered client id (DCR) carries its redirect URIs and auth method, its secret is an HMAC
  of the id (nothing to store); a CIMD client id is an https URL whose document is fetched;
- the ``state`` sent to the provider carries the client's request (redirect URI, PKCE challenge,
  state, scope), expires in 10 minutes and is bound to the browser that approved it: the MAC of
  a random nonce whose cookie only that browser holds; the callback requires the cookie and
  clears it (single use without server state; the residual: a browser that keeps a cleared
  cookie could replay its own callback, which the provider's single-use code refuses anyway);
- our code carries the provider's code, the client, its redirect URI and PKCE challenge, and
  expires in 5 minutes. The provider's code is single-use and redeemable only with our secret,
  so a replayed or stolen code is refused upstream even inside those minutes; the PKCE verifier
  and the redirect URI must match before we even try;
- a refresh token wraps the provider's refresh token with the client it was issued to.

Redirect URIs are compared exactly; errors about the client or its redirect URI are shown, never
redirected (no open redirect). Access tokens are the provider's own RS256 JWTs, which the auth
surface verifies on every request.
"""

from __future__ import annotations

from .model_auth import AuthConfig
from .model_log import log
from .model_registry import Registry
from .surface_oauth_seal import AS_METADATA_PATH, AUTHORIZE_PATH, CALLBACK_PATH, REGISTER_PATH, TOKEN_PATH, OAuthError
from .transport import HTTPError, Request, json_response


def handle(registry: Registry, config: AuthConfig, req: Request, endpoint: str) -> dict:
    """One request to a discovery document or a facade endpoint (each part imported when needed)."""
    if config.mode == "oauth" and config.problem:  # it does use OAuth: say it is broken, not absent
        log.error(f"oauth: refused a discovery or sign-in request: {config.problem}")
        raise HTTPError(500, "auth_misconfigured",
                        "the server's authentication is misconfigured; the details are in the function's logs")
    if config.mode != "oauth" or config.oauth is None:
        raise HTTPError(404, "not_found", "this API does not use OAuth (auth is not \"oauth\")")
    origin = req.origin
    if endpoint in ("resource", "server"):
        from .surface_oauth_discovery import resource_metadata, server_metadata

        document = (resource_metadata if endpoint == "resource" else server_metadata)(registry, config, origin)
        return json_response(200, document, {"cache-control": "max-age=300"})
    if not all(_text(k) and _text(v) for k, v in req.query.items()):
        raise OAuthError(400, "invalid_request", "the parameters must be UTF-8 text (a lone surrogate is not)")
    if endpoint == "register":
        from .surface_oauth_clients import ClientFacade

        return ClientFacade(registry, config, req).register()
    if endpoint in ("token", "revoke"):
        from .surface_oauth_token import Token

        token = Token(registry, config, req)
        return token.token() if endpoint == "token" else token.revoke()
    from .surface_oauth_flow import Flow

    flow = Flow(registry, config, req)
    return {"authorize": flow.authorize, "consent": flow.consent, "callback": flow.callback}[endpoint]()


def _text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = ["AS_METADATA_PATH", "AUTHORIZE_PATH", "CALLBACK_PATH", "REGISTER_PATH", "TOKEN_PATH", "handle"]
