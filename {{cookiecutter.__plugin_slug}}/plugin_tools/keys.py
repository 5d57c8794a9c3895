"""Create, list and revoke the API keys that may call this plugin (``auth = "api_key"``).

    python3 -m plugin_tools.keys new NAME      # prints a new key once; records only its SHA-256
    python3 -m plugin_tools.keys list          # the names
    python3 -m plugin_tools.keys revoke NAME   # forget one

Keys are 256-bit random tokens. terraform.tfvars keeps ``api_keys = { NAME = sha256 }`` and
nothing else: the key itself is shown once, on this terminal, and lands in no file, no
Terraform state and no log. Run ``terraform apply`` afterwards to deploy the change. Rotation
without downtime: ``new`` a second key, apply, switch the clients, ``revoke`` the old one, apply.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import sys
from pathlib import Path

from .project import PROJECT, BuildError, map_block, read_tfvars_map

VARIABLE = "api_keys"
PREFIX = "pk_"  # makes a leaked key easy to recognise (secret scanners, grep)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_KEYS = 40  # the hashes travel in the Lambda's environment, which holds at most 4 KB


def new_key() -> str:
    """A fresh key: 32 random bytes (256 bits), URL-safe, with a recognisable prefix."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise BuildError(f"{name[:70]!r} is not a key name: use 1-64 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit (e.g. ci-bot)")


def write_keys(project: Path, keys: dict[str, str]) -> None:
    """Rewrite the api_keys map in terraform.tfvars (sorted, one entry per line), keeping every
    other line of the file as it is."""
    path = project / "terraform.tfvars"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    # (no doubled braces in f-strings: cookiecutter renders this file as a template)
    # terraform fmt aligns the "=" of consecutive entries: pad every name to the longest.
    names = {n: json.dumps(n) for n in keys}
    width = max(map(len, names.values()), default=0)
    entries = [f"  {names[n].ljust(width)} = {json.dumps(h)}" for n, h in sorted(keys.items())]
    block = [VARIABLE + " = {", *entries, "}"] if entries else [VARIABLE + " = {}"]
    found = map_block(text, VARIABLE)
    if found is None:
        lines += ["# API keys that may call the plugin: name = SHA-256 of the key (python3 -m plugin_tools.keys)",
                  *block]
    else:
        lines[found[0]:found[1] + 1] = block
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def create(project: Path, name: str) -> str:
    check_name(name)
    keys = read_tfvars_map(project, VARIABLE)
    if name in keys:
        raise BuildError(f"a key named {name!r} exists already; revoke it first or pick another name")
    if len(keys) >= MAX_KEYS:
        raise BuildError(f"{len(keys)} keys already; revoke unused ones (the Lambda's environment holds about "
                         f"{MAX_KEYS})")
    key = new_key()
    write_keys(project, {**keys, name: digest(key)})
    return key


def revoke(project: Path, name: str) -> None:
    check_name(name)
    keys = read_tfvars_map(project, VARIABLE)
    if name not in keys:
        raise BuildError(f"no key named {name!r}; `python3 -m plugin_tools.keys list` shows the names")
    del keys[name]
    write_keys(project, keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.keys", description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=PROJECT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("new", help="create a key, print it once, record its hash").add_argument("name")
    sub.add_parser("list", help="the names of the keys")
    sub.add_parser("revoke", help="remove a key").add_argument("name")
    args = parser.parse_args(argv)
    try:
        if args.command == "new":
            key = create(args.project, args.name)
            print(f"API key {args.name!r} (shown once; store it in the client now):\n{key}\n"
                  "Only its SHA-256 is in terraform.tfvars. Run `terraform apply` to deploy it.")
        elif args.command == "list":
            names = sorted(read_tfvars_map(args.project, VARIABLE))
            print("\n".join(names) if names else "no API keys (python3 -m plugin_tools.keys new NAME)")
        else:
            revoke(args.project, args.name)
            print(f"revoked {args.name!r} in terraform.tfvars; run `terraform apply` to deploy the change")
    except BuildError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 1
    except (OSError, UnicodeError) as exc:
        print(f"keys: cannot read or write terraform.tfvars: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
