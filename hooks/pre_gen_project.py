"""Validate every answer before any file is written.

Standard library only. The answers arrive as data: cookiecutter renders the whole context as a
JSON document inside a raw string at the bottom of this file, so no answer is ever pasted into
Python source. Each check is an importable function; tests/test_hooks.py calls them directly.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from urllib.parse import urlsplit

MAX_SLUG = 40
RUNTIMES = ("python3.12", "python3.13", "python3.14")
ARCHITECTURES = ("arm64", "x86_64")
AUTH_MODES = ("none", "api_key", "oauth")
STORAGE_MODES = ("none", "dynamodb")
# Region codes as of late 2026 (commercial, GovCloud, China, European Sovereign Cloud).
REGIONS = frozenset(
    """
    us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-east-2 ap-south-1 ap-south-2
    ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-southeast-1 ap-southeast-2 ap-southeast-3
    ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-central-1 ca-west-1
    eu-central-1 eu-central-2 eu-west-1 eu-west-2 eu-west-3 eu-south-1 eu-south-2 eu-north-1
    il-central-1 me-south-1 me-central-1 mx-central-1 sa-east-1 us-gov-east-1 us-gov-west-1
    cn-north-1 cn-northwest-1 eusc-de-east-1
    """.split()
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LOCAL_PART = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"  # this file is rendered by Jinja: no double braces
_EMAIL = re.compile("^" + _LOCAL_PART + "@" + _LABEL + r"(?:\." + _LABEL + ")+$")
_LAMBDA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,35}-$")


def _text(value: object, prompt: str, lo: int, hi: int, example: str, one_line: bool = True) -> str | None:
    if not isinstance(value, str):
        return f"{prompt}: expected text, got {type(value).__name__}"
    if one_line and any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"{prompt}: must be one line without control characters (e.g. {example!r})"
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        return f"{prompt}: must not contain control characters (e.g. {example!r})"
    if not value.strip():
        return f"{prompt}: must not be empty (e.g. {example!r})"
    if len(value) < lo or len(value) > hi:
        return f"{prompt}: is {len(value)} characters; use {lo} to {hi} (e.g. {example!r})"
    return None


def check_plugin_name(value: object) -> str | None:
    """name_for_human: 1-20 characters."""
    return _text(value, "plugin_name", 1, 20, "Sumar Plugin")


def check_description_for_human(value: object) -> str | None:
    return _text(value, "description_for_human", 1, 100, "Suma dos números.")


def check_description_for_model(value: object) -> str | None:
    return _text(value, "description_for_model", 1, 8000, "Plugin for adding two numbers.", one_line=False)


def check_contact_email(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value):
        return f"contact_email: {str(value)[:60]!r} is not an email address (e.g. 'support@example.com')"
    return None


def _check_page_url(prompt: str, value: object, example: str) -> str | None:
    """An http(s) URL of a page people read (legal information, privacy policy, terms)."""
    problem = None
    if not isinstance(value, str) or any(c.isspace() for c in value) or len(value) > 2048:
        problem = "must be one URL without spaces"
    else:
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if parts is None or parts.scheme not in ("http", "https"):
            problem = "must start with https:// or http://"
        elif not host:
            problem = "has no host name"
    if problem:
        return f"{prompt}: {str(value)[:60]!r} {problem} (e.g. {example!r})"
    return None


def check_legal_info_url(value: object) -> str | None:
    return _check_page_url("legal_info_url", value, "https://example.com/legal")


def check_privacy_policy_url(value: object) -> str | None:
    """The privacy policy the app directories and public GPTs require."""
    return _check_page_url("privacy_policy_url", value, "https://example.com/privacy")


def check_terms_url(value: object) -> str | None:
    """The terms of service the app directories require."""
    return _check_page_url("terms_url", value, "https://example.com/terms")


def check_aws_region(value: object) -> str | None:
    if value not in REGIONS:
        near = sorted(r for r in REGIONS if isinstance(value, str) and value[:2].lower() == r[:2])[:4]
        hint = ", ".join(near or ["us-east-1", "eu-west-1"])
        return f"aws_region: {str(value)[:40]!r} is not an AWS region code (e.g. {hint})"
    return None


def check_lambda_runtime(value: object) -> str | None:
    if value not in RUNTIMES:
        return f"lambda_runtime: {str(value)[:40]!r} is not supported; choose one of {', '.join(RUNTIMES)}"
    return None


def check_lambda_architecture(value: object) -> str | None:
    if value not in ARCHITECTURES:
        return f"lambda_architecture: {str(value)[:40]!r} is not supported; choose arm64 or x86_64"
    return None


def check_auth(value: object) -> str | None:
    if value not in AUTH_MODES:
        return f"auth: {str(value)[:40]!r} is not an auth mode; choose one of {', '.join(AUTH_MODES)}"
    return None


def check_storage(value: object) -> str | None:
    if value not in STORAGE_MODES:
        return f"storage: {str(value)[:40]!r} is not a storage mode; choose one of {', '.join(STORAGE_MODES)}"
    return None


def check_slug(slug: object, name: object) -> str | None:
    """The slug names the folder and prefixes every AWS resource, so it must fit Lambda's rules.

    cookiecutter.json falls back to "-" (which slugify never yields) so that a name without
    letters or digits reaches this check instead of failing on an empty folder name.
    """
    if not isinstance(slug, str) or not slug.strip("-"):
        return (f"plugin_name: {str(name)[:40]!r} has no letters or digits to build a resource name from "
                "(e.g. 'Sumar Plugin')")
    if len(slug) > MAX_SLUG or not _LAMBDA_NAME.match(slug):
        return f"plugin_name: derives the name {slug!r}, which does not fit AWS naming rules; use a shorter plain name"
    return None


def check_name_for_model(value: object) -> str | None:
    if not isinstance(value, str) or not (1 <= len(value) <= 50) or not value.isascii() or not value.isalnum():
        return f"plugin_name: derives name_for_model {str(value)[:60]!r}; it must be 1-50 letters or digits"
    return None


def check_bucket_prefix(value: object) -> str | None:
    """The bucket prefix written into terraform.tfvars: Terraform appends a unique 26-character
    suffix (S3 names are 3-63 characters), so it must be at most 37 characters and start a name S3
    accepts. Derived from the slug, never random, so every render of the same answers agrees."""
    ok = isinstance(value, str) and bool(_BUCKET_PREFIX.match(value))
    if ok:
        ok = not value.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
    if not ok:
        return f"plugin_name: derives the bucket prefix {str(value)[:70]!r}, which S3 would refuse; use a plain name"
    return None


def validate(context: dict) -> list[str]:
    """Every problem with the answers, one readable line each (empty when all is well)."""
    checks = [
        check_plugin_name(context.get("plugin_name")),
        check_description_for_human(context.get("description_for_human")),
        check_description_for_model(context.get("description_for_model")),
        check_contact_email(context.get("contact_email")),
        check_legal_info_url(context.get("legal_info_url")),
        check_privacy_policy_url(context.get("privacy_policy_url")),
        check_terms_url(context.get("terms_url")),
        check_aws_region(context.get("aws_region")),
        check_lambda_runtime(context.get("lambda_runtime")),
        check_lambda_architecture(context.get("lambda_architecture")),
        check_auth(context.get("auth", "none")),
        check_storage(context.get("storage", "none")),
    ]
    if checks[0] is None:
        slug_problem = check_slug(context.get("__plugin_slug"), context.get("plugin_name"))
        checks.append(slug_problem)
        if slug_problem is None:
            checks.append(check_name_for_model(context.get("__name_for_model")))
            checks.append(check_bucket_prefix(context.get("__bucket_prefix")))
    return [c for c in checks if c]


# The retry line printed after the errors.
PLACEHOLDER = "<fix this>"
# cookiecutter.json's order (a test checks)
PROMPTS = ("plugin_name", "description_for_human", "description_for_model", "contact_email", "legal_info_url",
           "privacy_policy_url", "terms_url", "aws_region", "lambda_runtime", "lambda_architecture",
           "auth", "storage")
# Characters that end a line somewhere (a terminal, str.splitlines) or are C0/DEL controls.
_BREAKS = frozenset([chr(i) for i in range(32)] + ["\x7f", "\x85", "\u2028", "\u2029"])
# Jinja's openers and raw block, spelled in pieces: this file is itself rendered by Jinja.
_JINJA_OPENERS = ("{" + "{", "{" + "%", "{" + "#")
_RAW, _ENDRAW = "{" + "% raw %" + "}", "{" + "% endraw %" + "}"


def prompted_keys(context: dict) -> list[str]:
    """The answers the user gave: the context's keys not starting with "_", in PROMPTS order (tojson
    sorts the keys, and cookiecutter.json may be out of reach: _repo_dir can be relative to elsewhere)."""
    keys = [key for key in context if not key.startswith("_")]
    return sorted(keys, key=lambda key: PROMPTS.index(key) if key in PROMPTS else len(PROMPTS))


def shell_quote(value: str) -> str:
    """shlex.quote, except for text holding a line break or control character (a multi-line
    description_for_model): dollar-single-quotes, $'...' (bash, zsh, ksh and POSIX.1-2024; not dash),
    with \\n, \\t and every other such character escaped, so the quoted text is always one line."""
    if not any(c in _BREAKS for c in value):
        return shlex.quote(value)
    named = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t"}
    body = "".join(named.get(c) or ("".join(f"\\x{b:02x}" for b in c.encode()) if c in _BREAKS else c)
                   for c in value)
    return "$'" + body + "'"


def as_typed(value: str) -> str:
    """cookiecutter renders key=value extra context with Jinja but keeps typed answers literal; a raw
    block (or, if the answer itself says endraw, one expression per brace) gives back the same text."""
    if not any(opener in value for opener in _JINJA_OPENERS):
        return value
    if "endraw" not in value:
        return _RAW + value + _ENDRAW
    return value.replace("{", "{" + "{ '{' }" + "}")


def _same_dir(a: object, b: object) -> bool:
    return isinstance(a, str) and isinstance(b, str) and os.path.realpath(a) == os.path.realpath(b)


def retry_hint(context: dict, problems: list[str]) -> str:
    """One line: the command that bakes again with every answer kept and PLACEHOLDER for the bad ones.

    cookiecutter cannot ask again. Its replay file (written before this hook runs) is no way back:
    it holds the derived names rendered from the bad plugin_name, and --replay-file renders nothing.
    """
    bad = {problem.split(":", 1)[0] for problem in problems}
    words = ["cookiecutter", "--no-input", shell_quote(str(context.get("_template") or "<template>"))]
    if context.get("_checkout"):
        words += ["--checkout", shell_quote(str(context["_checkout"]))]
    output_dir = context.get("_output_dir")
    if output_dir and not _same_dir(output_dir, os.environ.get("PWD")):  # not when it is where the user is
        words += ["--output-dir", shell_quote(str(output_dir))]
    for key in prompted_keys(context):
        value = PLACEHOLDER if key in bad else as_typed(str(context[key]))
        words.append(f"{key}={shell_quote(value)}")
    return f"To retry keeping your other answers, replace {PLACEHOLDER} and run: {' '.join(words)}"


def main(context: dict) -> int:
    unedited = [f"{key}: still {PLACEHOLDER!r}; put your answer there" for key in prompted_keys(context)
                if context[key] == PLACEHOLDER]
    flagged = {problem.split(":", 1)[0] for problem in unedited}
    problems = unedited + [p for p in validate(context) if p.split(":", 1)[0] not in flagged]
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        print(retry_hint(context, problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
