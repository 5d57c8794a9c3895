"""The OAuth discovery documents MCP clients read first: RFC 9728 protected-resource metadata
(what /mcp is and who issues its tokens) and RFC 8414 authorization-server metadata (the facade)."""

from __future__ import annotations

from .model_auth import AuthConfig, OAuthSettings
from .model_registry import Registry
from .surface_oauth_seal import AUTHORIZE_PATH, REGISTER_PATH, REVOKE_PATH, TOKEN_PATH


def scopes_supported(registry: Registry, settings: OAuthSettings) -> list[str]:
    return [settings.scope(n) for n in registry.scope_names()]


def resource_metadata(registry: Registry, config: AuthConfig, origin: str) -> dict:
    """RFC 9728: what /mcp is and who issues tokens for it (this origin: the facade)."""
    manifest = registry.manifest
    return {"resource": origin + "/mcp", "authorization_servers": [origin],
            "scopes_supported": scopes_supported(registry, config.oauth), "bearer_methods_supported": ["header"],
            "resource_name": str(manifest.get("name_for_human", "")),
            "resource_documentation": origin + "/openapi.json"}


def server_metadata(registry: Registry, config: AuthConfig, origin: str) -> dict:
    """RFC 8414 with what MCP clients require: S256, a registration endpoint, CIMD."""
    return {
        "issuer": origin,
        "authorization_endpoint": origin + AUTHORIZE_PATH,
        "token_endpoint": origin + TOKEN_PATH,
        "registration_endpoint": origin + REGISTER_PATH,
        "revocation_endpoint": origin + REVOKE_PATH,
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "scopes_supported": scopes_supported(registry, config.oauth),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt", "client_secret_post",
                                                  "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }

