"""Invoke the handler locally with a sample event, the way Lambda would.

    python3 -m plugin_tools.invoke events/post_sumar.json

Prints the response; a JSON body is shown decoded so it reads at a glance. No AWS account, no
Docker: the handler is plain Python. The request's log line and metrics record go to stderr, as
in Lambda; settings come from terraform.tfvars and secrets from .secrets.env (or the environment).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .project import SECRETS_FILE, BuildError, apply_auth_environment, load_local_environment, load_plugin


def invoke(event_path: Path, handler: str | None = None) -> dict:
    """Run the handler named in terraform.tfvars on the event in ``event_path``."""
    apply_auth_environment()  # the auth settings of terraform.tfvars, as Terraform deploys them
    for name in load_local_environment():
        print(f"invoke: secret {name} has no local value: add {name}=... to {SECRETS_FILE}", file=sys.stderr)
    plugin = load_plugin(handler=handler)
    event = json.loads(event_path.read_text(encoding="utf-8"))
    return plugin.lambda_handler(event, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.invoke", description=__doc__.split("\n")[0])
    parser.add_argument("event", type=Path,
                        help="an API Gateway HTTP API (payload 2.0) event, e.g. events/post_sumar.json")
    parser.add_argument("--handler", help="module.function (default: lambda_handler from terraform.tfvars)")
    args = parser.parse_args(argv)
    try:
        response = invoke(args.event, args.handler)
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
