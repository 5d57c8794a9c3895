"""The ChatGPT plugin manifest surface: /.well-known/ai-plugin.json and the logo it points at.

The project's manifest.json holds the human-written fields; every URL in the served copy is
made absolute on the origin the request came to, as the manifest rules require.
"""

from __future__ import annotations

import os

from .model_auth import BASE_SCOPE, AuthConfig
from .model_registry import Registry
from .transport import LOGO_PATH, OPENAPI_PATH, HTTPError

CHALLENGE_ENV = "PLUGIN_APPS_CHALLENGE"  # Terraform's openai_apps_challenge


def manifest_auth(auth: AuthConfig, origin: str) -> dict:
    """The manifest's ``auth`` object for the deployment's auth mode."""
    if auth.mode == "api_key":
        return {"type": "service_http", "authorization_type": "bearer",
                "verification_tokens": {"openai": auth.verification_token}}
    if auth.mode == "oauth" and auth.oauth is not None:
        return {"type": "oauth", "client_url": origin + "/oauth/authorize", "scope": auth.oauth.scope(BASE_SCOPE),
                "authorization_url": origin + "/oauth/token",
                "authorization_content_type": "application/x-www-form-urlencoded",
                "verification_tokens": {"openai": auth.verification_token}}
    return {"type": "none"}


def manifest_for(registry: Registry, origin: str, auth: AuthConfig) -> dict:
    """The manifest as served from ``origin``: every URL is absolute on that origin, and ``auth``
    says what the deployment requires (manifest.json's own value is for local use)."""
    doc = dict(registry.manifest)
    doc["auth"] = manifest_auth(auth, origin)
    doc["api"] = {**doc.get("api", {}), "type": "openapi", "url": origin + OPENAPI_PATH}
    doc["logo_url"] = origin + LOGO_PATH
    return doc


def challenge_response() -> dict:
    """/.well-known/openai-apps-challenge: the bare domain-verification token as text/plain, in
    every auth mode; 404 while openai_apps_challenge is unset."""
    token = os.environ.get(CHALLENGE_ENV, "").strip()
    if not token:
        raise HTTPError(404, "not_found", "no domain-verification token is set: put the token OpenAI shows in "
                        "openai_apps_challenge (terraform.tfvars) and run terraform apply")
    return {"statusCode": 200, "headers": {"content-type": "text/plain; charset=utf-8", "cache-control": "no-store"},
            "body": token}


def logo_response(registry: Registry) -> dict:
    """logo.png as an API Gateway base64 response (built once per container by the caller)."""
    import base64  # only for the logo and base64 bodies: it costs cold start on JSON requests

    with open(os.path.join(registry.root, "logo.png"), "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return {"statusCode": 200, "headers": {"content-type": "image/png", "cache-control": "public, max-age=3600"},
            "body": data, "isBase64Encoded": True}
