"""server.json for the MCP Registry (schema 2025-12-11), written by the build.

The registry lists a remote server as ``remotes: [{"type": "streamable-http", "url": ...}]``; the
URL is the deployed MCP endpoint (Terraform's build step passes its base_url as ``--origin``).
The name is a reverse-DNS namespace of the server's host followed by the plugin's name: the
registry proves it with a DNS TXT record or ``https://<host>/.well-known/mcp-registry-auth``
(README: "Publishing to the MCP Registry").
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from plugin_runtime.model_auth import AuthConfig

SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
DESCRIPTION_LIMIT = 100  # the registry's maxLength for description


def namespace(origin: str) -> str:
    """``https://abc.execute-api.us-east-1.amazonaws.com`` -> ``com.amazonaws.us-east-1.execute-api.abc``."""
    host = (urlsplit(origin).hostname or "localhost").lower()
    return ".".join(reversed(host.split(".")))


def server_json(manifest: dict, version: str, origin: str, auth: AuthConfig, slug: str) -> dict:
    """The registry entry for the MCP server at ``origin + /mcp``."""
    name = f"{namespace(origin)}/{slug}"
    description = manifest.get("description_for_human", "")[:DESCRIPTION_LIMIT] or slug
    remote: dict = {"type": "streamable-http", "url": origin.rstrip("/") + "/mcp"}
    if auth.mode == "api_key":
        remote["headers"] = [{"name": "Authorization", "description": "Bearer <API key> (make api-key NAME=...)",
                              "isRequired": True, "isSecret": True}]
    doc: dict = {"$schema": SCHEMA_URL, "name": name, "title": manifest.get("name_for_human", slug),
                 "description": description, "version": version, "remotes": [remote]}
    if manifest.get("legal_info_url", "").startswith("https://"):
        doc["websiteUrl"] = manifest["legal_info_url"]
    return doc
