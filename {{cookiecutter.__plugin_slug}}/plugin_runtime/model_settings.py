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

boto3 is imported only when a secret is first read from SSM: operations that read none keep the
cold start of a plugin without secrets.
"""

from __future__ import annotations

import os
import time
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Callable

SECRETS_PREFIX_ENV = "PLUGIN_SECRETS_PREFIX"  # /<name>/secrets/, set by Terraform
SECRETS_NAMES_ENV = "PLUGIN_SECRETS"  # the declared names, comma-separated, set by Terraform
SECRETS_TTL_ENV = "PLUGIN_SECRETS_TTL_SECONDS"
DEFAULT_TTL_SECONDS = 300.0
# What Terraform writes when it creates a secret's parameter: never a secret, never returned.
PLACEHOLDER = "unset: set the value with aws ssm put-parameter --overwrite (see the README)"
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


# -- secrets ------------------------------------------------------------------------------------
class _Cache:
    """Secret values by name with the time they expire; the SSM client, made on first use."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float]] = {}
        self.client: object = None

    def clear(self) -> None:
        self.values.clear()
        self.client = None


_cache = _Cache()


def clear_secrets() -> None:
    """Forget every cached secret (and the SSM client): the next read asks SSM again."""
    _cache.clear()


def _ttl() -> float:
    try:
        return max(0.0, float(os.environ.get(SECRETS_TTL_ENV, DEFAULT_TTL_SECONDS)))
    except ValueError:
        return DEFAULT_TTL_SECONDS


def secret(name: str) -> str:
    """The secret ``name``: from SSM when deployed (cached for a few minutes), else from the environment."""
    prefix = os.environ.get(SECRETS_PREFIX_ENV)
    if not prefix:  # local: the environment, which the local tools fill from .secrets.env
        value = os.environ.get(name)
        if not value:
            raise SecretError(f"secret {name} is not set locally: put {name}=... in .secrets.env (git-ignored) "
                              f"or export {name}")
        return value
    declared = [n.strip() for n in os.environ.get(SECRETS_NAMES_ENV, "").split(",") if n.strip()]
    if name not in declared:
        raise SecretError(f"secret {name} is not declared: add it to the secrets list in terraform.tfvars and "
                          "run terraform apply")
    now = time.monotonic()
    cached = _cache.values.get(name)
    if cached is not None and cached[1] > now:
        return cached[0]
    parameter = prefix + name
    try:
        value = _fetch(parameter)
    except SecretError as exc:
        if cached is not None:  # SSM failed on a refresh: keep serving the last good value a while
            from .model_log import log

            log.warning(f"secret {name}: refresh failed, using the cached value: {exc}")
            _cache.values[name] = (cached[0], now + min(_ttl(), 60.0))
            return cached[0]
        raise
    if value == PLACEHOLDER:
        raise SecretError(f"secret {name} still holds the placeholder Terraform wrote: set it with aws ssm "
                          f"put-parameter --name {parameter} --type SecureString --overwrite --value '...'")
    _cache.values[name] = (value, now + _ttl())
    return value


def _client() -> object:
    if _cache.client is None:
        import boto3  # first secret read only: it costs a noticeable part of a second on a cold start
        from botocore.config import Config

        # Bounded: a slow or throttled SSM fails this operation well inside the Lambda timeout.
        config = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
        _cache.client = boto3.client("ssm", config=config)
    return _cache.client


def _fetch(parameter: str) -> str:
    """GetParameter with decryption; every failure becomes a SecretError naming what to do."""
    try:
        client = _client()
        answer = client.get_parameter(Name=parameter, WithDecryption=True)  # type: ignore[attr-defined]
        return str(answer["Parameter"]["Value"])
    except ImportError:
        raise SecretError("boto3 is not available to read secrets from SSM (the Lambda runtime includes it; "
                          "locally, pip install boto3)") from None
    except Exception as exc:  # botocore's ClientError and connection errors, without importing botocore
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) or type(exc).__name__
        if code == "ParameterNotFound":
            raise SecretError(f"secret parameter {parameter} does not exist: run terraform apply, then aws "
                              f"ssm put-parameter --name {parameter} --type SecureString --overwrite --value '...'"
                              ) from None
        if code in ("AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"):
            raise SecretError(f"the function may not read {parameter} ({code}): is it in the secrets list in "
                              "terraform.tfvars, and applied?") from None
        if "Throttl" in code or code == "TooManyUpdates":
            raise SecretError(f"SSM throttled reading {parameter} ({code}); the call was retried; try again "
                              "shortly") from None
        raise SecretError(f"could not read {parameter} from SSM: {code}: {str(exc)[:300]}") from None
