"""The model: the deployment's settings and secrets, as an operation reads them.

- Settings are plain values from Terraform's ``settings`` map, which becomes the Lambda's
  environment: ``ctx.setting("LIMIT", int)``. Locally they come from the environment (the local
  server and invoke also read ``settings`` from terraform.tfvars).
- Secrets are SSM Parameter Store SecureString parameters named in Terraform's ``secrets`` list,
  stored under ``/<name>/secrets/<NAME>`` and set out of band (``aws ssm put-parameter``):
  ``ctx.secret("API_TOKEN")``. The value is fetched on first use and kept for
  ``PLUGIN_SECRETS_TTL_SECONDS`` (300 by default), so a rotated value is seen within minutes
  without a call per request. Locally (no ``PLUGIN_SECRETS_PREFIX`` in the environment) a secret
  is read from the environment, which the local server and invoke fill from ``.secrets.env``.

A missing or unreadable value raises ``SettingError`` (``SecretError`` for secrets) with a
message saying what to do: the operation that needs it fails (a 500 with the usual safe message,
the reason in the logs) and every other operation keeps working.

Reading secrets is ``model_secrets``, imported on the first ``ctx.secret`` (the stdlib AWS client
``model_aws`` on the first read from SSM; no boto3): operations that read none keep the cold start
of a plugin without secrets.
"""

from __future__ import annotations

import os
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Callable

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingError(Exception):
    """A setting or secret the deployment lacks or cannot read: a fix for the owner, not the caller."""


class SecretError(SettingError):
    """A secret that is not declared, not set, not readable, or that SSM refused to give now."""


MISSING = object()  # no default: a missing setting is an error


def setting(name: str, kind: Callable = str, default: object = MISSING) -> object:
    """The setting ``name`` converted by ``kind`` (str, int, float, bool or any callable).

    Without a ``default``, a missing setting raises ``SettingError``; so does a value ``kind``
    refuses.
    """
    raw = os.environ.get(name)
    if raw is None:
        if default is not MISSING:
            return default
        raise SettingError(f"setting {name} is not set: add {name} to the settings map in terraform.tfvars and "
                           f"run terraform apply (locally: export {name}=...)")
    if kind is str:
        return raw
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered not in _TRUE and lowered not in _FALSE:
                raise ValueError("expected true/false, yes/no, on/off or 1/0")
            return lowered in _TRUE
        return kind(raw.strip())
    except (TypeError, ValueError) as exc:
        what = getattr(kind, "__name__", str(kind))
        raise SettingError(f"setting {name} is not a valid {what}: {exc}") from None

