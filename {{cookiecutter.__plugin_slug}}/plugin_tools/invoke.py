"""Invoke the handler locally with a sample event, the way Lambda would.

    python3 -m plugin_tools.invoke events/post_sumar.json
    python3 -m plugin_tools.invoke --as alice [--scopes a,b] events/post_sumar.json

``--as NAME`` runs the event as a signed-in caller: with ``auth = "oauth"`` a user NAME signed in
with the development provider (plugin_tools.dev_oidc), whose RS256 access token the runtime
verifies as it verifies the real provider's, granted the base scope ``invoke`` and the
``--scopes`` named; with ``auth = "api_key"`` the holder of the key named NAME in
terraform.tfvars (keys are stored only as hashes, so invoke stands in a one-off key under that
name for this run).

Prints the response; a JSON body is shown decoded so it reads at a glance. No AWS account, no
Docker: the handler is plain Python. The request's log line and metrics record go to stderr, as
in Lambda; settings come from terraform.tfvars and secrets from .secrets.env (or the environment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

from .project import SECRETS_FILE, BuildError, apply_auth_environment, load_local_environment, load_plugin


def invoke(event_path: Path, handler: str | None = None, as_name: str | None = None,
           scopes: list[str] | None = None) -> dict:
    """Run the handler named in terraform.tfvars on the event in ``event_path`` (as the caller
    ``as_name`` with ``scopes``, when given)."""
    apply_auth_environment()  # the auth settings of terraform.tfvars, as Terraform deploys them
    for name in load_local_environment():
        print(f"invoke: secret {name} has no local value: add {name}=... to {SECRETS_FILE}", file=sys.stderr)
    provider = None
    if os.environ.get("PLUGIN_AUTH") == "oauth" and not os.environ.get("PLUGIN_OAUTH_ISSUER"):
        from . import dev_oidc  # as make serve does: the development provider stands in for Cognito

        _server, provider, env = dev_oidc.start_in_thread()  # serves its JWKS until invoke exits
        os.environ.update(env)
    plugin = load_plugin(handler=handler)
    event = json.loads(event_path.read_text(encoding="utf-8"))
    if not isinstance(event, dict):
        raise ValueError("the event is not a JSON object")
    if as_name is not None:
        token = credential(as_name, scopes or [], provider)
        headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "authorization"}
        event["headers"] = {**headers, "authorization": f"Bearer {token}"}
    elif scopes:
        raise BuildError("--scopes needs --as NAME")
    return plugin.lambda_handler(event, None)


def credential(name: str, scopes: list[str], provider: object = None) -> str:
    """A bearer credential that makes the runtime see ``name`` as the caller, checked the way the
    deployed API checks it."""
    mode = os.environ.get("PLUGIN_AUTH", "none")
    if not name.strip() or len(name) > 64:
        raise BuildError("--as needs a name of 1 to 64 characters")
    if mode == "api_key":
        if scopes:
            raise BuildError("--scopes applies to auth = oauth only: an API key has no scopes")
        keys = json.loads(os.environ.get("PLUGIN_API_KEYS") or "{}")
        if name not in keys:
            known = ", ".join(sorted(keys)) or "none yet"
            raise BuildError(f"there is no API key named {name!r} in terraform.tfvars (keys: {known}); "
                             f"make api-key NAME={name} creates one")
        key = "pk_invoke_" + secrets.token_urlsafe(32)  # this run only: the real key is never stored
        keys[name] = hashlib.sha256(key.encode("ascii")).hexdigest()
        os.environ["PLUGIN_API_KEYS"] = json.dumps(keys)
        return key
    if mode == "oauth":
        if provider is None:
            raise BuildError("--as signs in with the local development provider; unset PLUGIN_OAUTH_ISSUER "
                             "(it names another provider) or send that provider's token in the event")
        prefix = os.environ.get("PLUGIN_OAUTH_SCOPE_PREFIX", "")
        wanted = ["invoke", *(s.strip() for s in scopes if s.strip())]
        granted = [s if s.startswith(prefix) else prefix + s for s in dict.fromkeys(wanted)]
        return provider.access_token(name.strip(), granted)
    raise BuildError(f"--as needs auth = api_key or oauth (this project's auth is {mode!r}: anyone may call)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.invoke", description=__doc__.split("\n")[0])
    parser.add_argument("event", type=Path,
                        help="an API Gateway HTTP API (payload 2.0) event, e.g. events/post_sumar.json")
    parser.add_argument("--handler", help="module.function (default: lambda_handler from terraform.tfvars)")
    parser.add_argument("--as", dest="as_name", metavar="NAME",
                        help="call as this signed-in user (oauth) or as the holder of this API key (api_key)")
    parser.add_argument("--scopes", default="", metavar="A,B",
                        help="with --as and auth = oauth: scopes to grant besides invoke (comma-separated)")
    args = parser.parse_args(argv)
    try:
        response = invoke(args.event, args.handler, args.as_name, [s for s in args.scopes.split(",") if s])
    except (OSError, ValueError) as exc:
        print(f"invoke failed: cannot read {args.event}: {exc}", file=sys.stderr)
        return 1
    except BuildError as exc:
        print(f"invoke failed: {exc}", file=sys.stderr)
        return 1
    shown = dict(response)
    if "json" in response.get("headers", {}).get("content-type", "") and isinstance(response.get("body"), str):
        shown["body"] = json.loads(response["body"])
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
