"""Quotas on every store backend (the store behaviour suite's SQLite, moto_server and dynalite
fixtures): the limit-th call passes and the next is refused, windows roll over, callers are
counted apart, and concurrent calls never overrun the limit (one conditional write per call)."""

from __future__ import annotations

import threading
import time

import pytest
from test_store_behaviour import dynalite_endpoint, moto_endpoint, runtime, store_env  # noqa: F401


@pytest.fixture(scope="module")
def quota_mod(runtime):  # noqa: F811
    from plugin_runtime import model_context, model_operation, model_quota

    return model_quota, model_context, model_operation.parse_quota


def context_of(model_context, name: str, run: str):
    return model_context.Context(caller=model_context.Caller(f"{run}:{name}", "api_key"))


@pytest.fixture
def charger(store_env, quota_mod, request):  # noqa: F811
    _, clock, _ = store_env
    model_quota, model_context, parse_quota = quota_mod
    run = f"{request.node.name}-{time.monotonic_ns()}"

    def charge(spec: str, name: str = "ana", operation: str = "op") -> bool:
        try:
            quota = parse_quota(spec, operation)
            model_quota.charge(operation, quota, context_of(model_context, name, run))
        except model_quota.OperationError as exc:
            assert exc.status == 429 and exc.retry_after >= 1
            return False
        return True

    return charge, clock


def test_the_limit_th_call_passes_and_the_next_is_refused(charger):
    charge, clock = charger
    clock.now = 1_900_000_000.0
    assert [charge("3/minute") for _ in range(4)] == [True, True, True, False]
    assert all(charge("100/day", operation="other") for _ in range(100))
    assert charge("100/day", operation="other") is False
    assert charge("100/day", operation="other") is False  # refused calls are not counted on


def test_windows_roll_over(charger):
    charge, clock = charger
    clock.now = 1_900_000_000.0 - 1_900_000_000 % 3600 + 3599  # the last second of an hour
    assert [charge("2/hour") for _ in range(3)] == [True, True, False]
    clock.now += 1
    assert [charge("2/hour") for _ in range(3)] == [True, True, False]


def test_callers_and_operations_are_counted_apart(charger):
    charge, _ = charger
    assert [charge("1/day", "ana"), charge("1/day", "ana")] == [True, False]
    assert [charge("1/day", "bea"), charge("1/day", "bea")] == [True, False]
    assert charge("1/day", "ana", operation="another") is True


def _charge_in_a_container(args: tuple[str, str, str]) -> list[bool]:
    """One forked process standing for one Lambda container (each has its own AWS connection)."""
    import sys

    model_aws = sys.modules["plugin_runtime.model_aws"]
    model_aws._connections.clear()  # the parent's sockets stay the parent's
    spec, name, run = args
    model_quota, model_context = sys.modules["plugin_runtime.model_quota"], sys.modules["plugin_runtime.model_context"]
    parse_quota = sys.modules["plugin_runtime.model_operation"].parse_quota
    answers = []
    for _ in range(5):
        try:
            model_quota.charge("op", parse_quota(spec, "op"), context_of(model_context, name, run))
            answers.append(True)
        except model_quota.OperationError:
            answers.append(False)
    return answers


def test_concurrent_calls_never_overrun(charger, store_env, request):  # noqa: F811
    charge, _ = charger
    if "sqlite" in request.node.name:  # threads sharing the local file
        results: list[bool] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(5):
                ok = charge("10/minute", "crowd")
                with lock:
                    results.append(ok)

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:  # DynamoDB: six containers at once, each one conditional UpdateItem per call
        import multiprocessing

        run = f"{request.node.name}-{time.monotonic_ns()}"
        with multiprocessing.get_context("fork").Pool(6) as pool:
            results = [ok for answers in pool.map(_charge_in_a_container, [("10/minute", "crowd", run)] * 6)
                       for ok in answers]
    assert len(results) == 30 and results.count(True) == 10


def test_counters_stay_out_of_the_callers_listing(charger, store_env):  # noqa: F811
    charge, _ = charger
    _, _, store_of = store_env
    assert charge("5/day", "dora")
    assert store_of("dora").list().items == []


def test_anonymous_callers_are_never_counted(quota_mod):
    model_quota, model_context, parse_quota = quota_mod
    ctx = model_context.Context()  # auth = none: no store is needed either
    for _ in range(3):
        model_quota.charge("op", parse_quota("1/day", "op"), ctx)
