"""One measurement in a fresh, isolated interpreter (run by bench.py, never imported).

    python -I -S [-B] child.py cold|warm APP_DIR EVENT_DIR MODULE:ATTR EXPECT [CALLS [PRELOAD]]

-I -S keep the caller's virtualenv and user site out: only the standard library, APP_DIR (the
baked project or one stack's ``pip --target`` folder, as a Lambda zip would hold it) and
EVENT_DIR are importable. The event is a Python literal module, imported before the clock
starts, so reading it costs no ``json`` import that the handler would then get for free.
PRELOAD=lambda first imports what AWS's Python runtime client (awslambdaric's bootstrap,
runtime client and marshaller) has imported before it imports a handler, so only the handler's
own import cost is on the clock. Prints one JSON line on stdout.
"""

import sys
import time

_MODE, _APP, _EVENTS, _TARGET, _EXPECT = sys.argv[1:6]
_CALLS = int(sys.argv[6]) if len(sys.argv) > 6 else 0
_PRELOAD = sys.argv[7] if len(sys.argv) > 7 else ""
sys.path[:0] = [_APP, _EVENTS]
from bench_event import EVENT  # noqa: E402  (a plain dict literal: imports nothing)

if _PRELOAD == "lambda":
    import decimal  # noqa: F401
    import http.client  # noqa: F401
    import importlib  # noqa: F401
    import json  # noqa: F401
    import logging  # noqa: F401
    import traceback  # noqa: F401
    import warnings  # noqa: F401

import bench_marker  # noqa: E402, F401  (empty: marks, in -X importtime output, where the clock starts)


class Context:
    """The attributes of a Lambda context object that the frameworks read."""

    function_name = "sumar-plugin"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sumar-plugin"
    memory_limit_in_mb = 512
    aws_request_id = "8f5e0c0a-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/sumar-plugin"
    log_stream_name = "2026/11/24/[$LATEST]0123456789abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def _check(response: object) -> None:
    """The answer must be the right one: a failing stack must not look fast."""
    import base64
    import json

    if not isinstance(response, dict) or response.get("statusCode", 200) != 200:
        raise SystemExit(f"unexpected response: {response!r}"[:600])
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    data = json.loads(body)
    if _EXPECT == "rest":
        ok = data == {"resultado": 5} or data == {"resultado": 5.0}
    else:
        result = data.get("result") if isinstance(data, dict) else None
        text = json.dumps(result)
        ok = isinstance(result, dict) and not result.get("isError") and "resultado" in text and "5" in text
    if not ok:
        raise SystemExit(f"wrong answer: {body[:600]}")


def main() -> None:
    context = Context()
    module_name, _, attr = _TARGET.partition(":")
    start = time.perf_counter()
    module = __import__(module_name)
    handler = getattr(module, attr)
    imported = time.perf_counter()
    response = handler(EVENT, context)
    answered = time.perf_counter()
    _check(response)
    out: dict = {"import_ms": (imported - start) * 1e3, "cold_ms": (answered - start) * 1e3,
                 "modules": len(sys.modules)}
    if _MODE == "warm":
        clock = time.perf_counter_ns
        for _ in range(max(200, _CALLS // 20)):  # warm-up: caches, branch predictors, allocator
            handler(EVENT, context)
        samples = []
        for _ in range(_CALLS):
            t0 = clock()
            handler(EVENT, context)
            samples.append(clock() - t0)
        _check(handler(EVENT, context))
        samples.sort()
        n = len(samples)
        out.update(calls=n, median_us=samples[n // 2] / 1e3, p90_us=samples[n * 9 // 10] / 1e3,
                   p99_us=samples[n * 99 // 100] / 1e3, mean_us=sum(samples) / n / 1e3)
    import json

    print(json.dumps(out))


main()
