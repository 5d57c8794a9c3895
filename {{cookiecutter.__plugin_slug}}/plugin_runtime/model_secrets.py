"""The model: secrets, read on first use. ``ctx.secret`` and ``plugin.secret`` import this module
the first time an operation asks for one, so a cold start that reads no secret never loads it.

Deployed, a secret is an SSM Parameter Store SecureString under ``PLUGIN_SECRETS_PREFIX``
(``/<name>/secrets/``), one of the names in ``PLUGIN_SECRETS`` (Terraform sets both from its
``secrets`` list). Its value is fetched with the runtime's stdlib AWS client (``model_aws``: SigV4,
the JSON protocol, retries within the Lambda's remaining time; no boto3) and kept for
``PLUGIN_SECRETS_TTL_SECONDS`` (300 by default); when a refresh fails, the last good value is
served a little longer. Locally (no prefix in the environment) it is read from the environment,
which the local server and invoke fill from ``.secrets.env``.
"""

from __future__ import annotations

import os
import time
import typing

from .model_settings import SecretError

if typing.TYPE_CHECKING:
    from collections.abc import Callable

SECRETS_PREFIX_ENV = "PLUGIN_SECRETS_PREFIX"  # /<name>/secrets/, set by Terraform
SECRETS_NAMES_ENV = "PLUGIN_SECRETS"  # the declared names, comma-separated, set by Terraform
SECRETS_TTL_ENV = "PLUGIN_SECRETS_TTL_SECONDS"
DEFAULT_TTL_SECONDS = 300.0
# What Terraform writes when it creates a secret's parameter: never a secret, never returned.
PLACEHOLDER = "unset: set the value with aws ssm put-parameter --overwrite (see the README)"


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


def secret(name: str, remaining_ms: Callable[[], int | None] | None = None) -> str:
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
        value = _fetch(parameter, remaining_ms)
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


class _SSM:
    """GetParameter over SSM's JSON protocol (``AmazonSSM.GetParameter``, JSON 1.1), signed by
    ``model_aws``; answers like boto3's client, so tests can stand in for either."""

    def __init__(self, remaining_ms: Callable[[], int | None] | None = None) -> None:
        self.remaining_ms = remaining_ms

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict:  # boto3's argument names
        from .model_aws import call_json, deadline_from

        return call_json("ssm", "AmazonSSM.GetParameter", {"Name": Name, "WithDecryption": WithDecryption},
                         version="1.1", deadline=deadline_from(self.remaining_ms))


def _client(remaining_ms: Callable[[], int | None] | None = None) -> object:
    if _cache.client is None:
        _cache.client = _SSM()
    if isinstance(_cache.client, _SSM):
        _cache.client.remaining_ms = remaining_ms
    return _cache.client


def read_parameter(parameter: str, remaining_ms: Callable[[], int | None] | None = None) -> str:
    """One SecureString by its full name (the OAuth provider's client secret), uncached: the caller
    keeps it as long as it likes. The same stdlib client and errors as ``secret``."""
    return _fetch(parameter, remaining_ms)


def _fetch(parameter: str, remaining_ms: Callable[[], int | None] | None = None) -> str:
    """GetParameter with decryption; every failure becomes a SecretError naming what to do."""
    try:
        client = _client(remaining_ms)
        answer = client.get_parameter(Name=parameter, WithDecryption=True)  # type: ignore[attr-defined]
        return str(answer["Parameter"]["Value"])
    except Exception as exc:  # model_aws.AwsError (or a stand-in's botocore-shaped error)
        code = (str(getattr(exc, "code", "") or "")
                or str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) or type(exc).__name__)
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
