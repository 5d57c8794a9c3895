"""The model: quotas, a number of calls per verified caller and window, per operation (the spec
is parsed by model_operation when handler.py registers it; calls are counted here)::

    @plugin.operation(quota="100/day")   # or "20/minute", "500/hour"

Terraform's ``default_quota`` (``PLUGIN_DEFAULT_QUOTA``) puts the same kind of quota on every
operation that names none. Calls are counted in the store (so quotas need ``storage =
"dynamodb"``; without a store a call to an operation with a quota fails with a StoreError naming
the fix) under the caller's partition, with one atomic conditional write per call and no read:
a call over the quota never runs and answers 429 with Retry-After (the seconds left in the
window) on REST, a tool error saying when to retry on MCP. Windows are fixed (minute, hour or
UTC day) and their counters expire at the window's end. Anonymous callers (``auth = "none"``)
are not counted: API Gateway's throttling alone limits them.
"""

from __future__ import annotations

import typing

from .model_operation import OperationError, Quota

if typing.TYPE_CHECKING:
    from .model_context import Context


def quota_partition(partition: str) -> str:
    """Counters live beside the caller's items, never among them: listing a store never shows them."""
    return "q#" + partition.partition("#")[2]


def charge(name: str, quota: Quota, ctx: Context) -> None:
    """Count one call of operation ``name`` for the context's caller; OperationError(429) over the quota."""
    caller = ctx.caller
    if caller is None:  # auth = "none": API Gateway's throttling alone
        return
    from .model_store import _state, backend, caller_partition

    now = int(_state.clock())
    start = now - now % quota.seconds
    end = start + quota.seconds
    found = backend()
    if hasattr(found, "remaining_ms"):
        found.remaining_ms = ctx.remaining_ms  # type: ignore[attr-defined]
    if found.count(quota_partition(caller_partition(caller)), f"{name}#{quota.window}#{start}", quota.limit,
                   end, now):
        return
    ctx.throttled = True  # type: ignore[attr-defined]  (the Throttled metric)
    wait = max(1, end - now)
    raise OperationError(f"{name} allows {quota.limit} calls per {quota.window} per caller, and this "
                         f"{quota.window}'s are used", status=429, retry_after=wait)
