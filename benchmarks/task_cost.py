"""What a quota check adds to a call (one DynamoDB UpdateItem), and what creating an MCP task
adds to a tools/call (the task record's conditional write plus Lambda's asynchronous Invoke).

    python benchmarks/task_cost.py [--runs 15] [--warm 30]

Bakes a project with storage = "dynamodb" and auth = "api_key", adds three operations (``libre``:
no quota; ``medida``: ``quota="1000000/day"``, a limit never reached here; ``tarea``:
``task="optional"``, no quota), starts two moto_servers on 127.0.0.1, one as DynamoDB with the
table and one as Lambda with a function of the deployed name (``AWS_ENDPOINT_URL_LAMBDA``: two
endpoints, so the first task opens its own connection to Lambda as it does on AWS). moto's
Lambda would try to run the function in Docker on every Invoke (it answers 202 anyway, after
the failed attempt); the script turns that off (``/moto-api/config``: ``lambda.use_docker`` =
false), so an ``InvocationType: Event`` Invoke is answered 202 at once and the worker never runs:
only the request side of a task is timed.

Each sample is a fresh ``python -I`` process with the deployed environment (PLUGIN_STORE_TABLE,
AWS_* credentials and region, AWS_ENDPOINT_URL, AWS_LAMBDA_FUNCTION_NAME): it imports the handler,
answers the first request ("cold" counts the import too, "first" the request alone), then
--warm more requests, each timed (the process's median is its "warm"). Scenarios: POST /libre
against POST /medida (extra: the quota check), and per MCP era a synchronous tools/call of
``tarea`` against one that creates a task (2025-11-25: ``params.task = {"ttl": 60000}``;
2026-07-28: the ``io.modelcontextprotocol/tasks`` extension in the client capabilities). Every
answer is checked (a task really created, a synchronous call really synchronous). Medians over
--runs, round-robin, bytecode cached; the extras are medians of the differences within a round
(seconds apart, so background load mostly cancels). Prints a Markdown table, writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from secret_cold_start import wait_for_moto  # this folder's: the same moto_server plumbing
from store_cold_start import CREDS, bake_with, create_store_table, start_moto

KEY = "pk_bench_" + "k" * 40
FUNCTION = "sumar-plugin"
TABLE = "sumar-plugin-store"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
OPERATIONS = '''

from plugin_runtime import Context


class Hecho(TypedDict):
    hecho: int


@plugin.operation()
def libre(n: int) -> Hecho:
    """No quota, no store call."""
    return {"hecho": n}


@plugin.operation(quota="1000000/day")
def medida(n: int, ctx: Context) -> Hecho:
    """The same, with a quota: one counted call."""
    return {"hecho": n}


@plugin.operation(task="optional")
def tarea(n: int, ctx: Context) -> Hecho:
    """The same, which an MCP client may run as a task."""
    return {"hecho": n}
'''
CHILD = '''
import json, statistics, sys, time
sys.path.insert(0, ".")  # the project folder, as /var/task on Lambda (-I leaves it out)
event, expect, warm_n = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])


def check(response):
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    if expect == "rest":
        assert body == {"hecho": 2}, body
        return
    result = body["result"]
    if expect == "task":  # the era's CreateTaskResult: a task was stored and its worker invoked
        task = result.get("task", result)
        assert task["status"] == "working" and task["taskId"], result
        assert "task" in result or result.get("resultType") == "task", result
    else:
        assert "task" not in result and result.get("resultType", "complete") == "complete", result
        assert result["structuredContent"] == {"hecho": 2}, result


start = time.perf_counter()
import handler
imported = time.perf_counter()
first = handler.lambda_handler(event, None)
done = time.perf_counter()
check(first)
warm = []
for _ in range(warm_n):
    t = time.perf_counter()
    response = handler.lambda_handler(event, None)
    warm.append((time.perf_counter() - t) * 1e3)
    check(response)
loaded = sorted(m for m in ("boto3", "plugin_runtime.model_aws", "plugin_runtime.model_quota",
                            "plugin_runtime.model_store", "plugin_runtime.model_task") if m in sys.modules)
print(json.dumps({"cold_ms": (done - start) * 1e3, "first_ms": (done - imported) * 1e3,
                  "warm_ms": statistics.median(warm), "loaded": loaded}))
'''


def http_event(path: str, body: dict, headers: dict | None = None) -> dict:
    return {"version": "2.0", "rawPath": path,
            "headers": {"content-type": "application/json", "host": "x.example", "authorization": f"Bearer {KEY}",
                        **(headers or {})},
            "requestContext": {"requestId": "bench", "domainName": "x.example",
                               "http": {"method": "POST", "path": path}},
            "body": json.dumps(body), "isBase64Encoded": False}


def mcp_event(version: str, task: bool) -> dict:
    """tools/call of ``tarea``: synchronous, or asking for a task the way the era does."""
    params: dict = {"name": "tarea", "arguments": {"n": 2}}
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": version}
    if version == MODERN:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities":
                {"extensions": {"io.modelcontextprotocol/tasks": {}}} if task else {},
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1.0.0"},
        }
        headers.update({"mcp-method": "tools/call", "mcp-name": "tarea"})
    elif task:
        params["task"] = {"ttl": 60000}
    return http_event("/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}, headers)


def setup_lambda(endpoint: str, kw: dict) -> None:
    """A function of the deployed name on moto, whose Invoke answers without Docker."""
    import boto3

    request = urllib.request.Request(f"{endpoint}/moto-api/config", method="POST",
                                     data=json.dumps({"lambda": {"use_docker": False}}).encode())
    urllib.request.urlopen(request, timeout=10).close()
    role = boto3.client("iam", **kw).create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return {}\n")
    client = boto3.client("lambda", **kw)
    client.create_function(FunctionName=FUNCTION, Runtime="python3.12", Role=role, Handler="handler.lambda_handler",
                           Code={"ZipFile": code.getvalue()})
    answer = client.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=b"{}")
    if answer["StatusCode"] != 202:
        raise SystemExit(f"moto's Lambda answered {answer['StatusCode']} to an asynchronous Invoke, not 202")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per scenario (default 15)")
    parser.add_argument("--warm", type=int, default=30, help="warm requests per process (default 30)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-task-"))
    dynamodb, endpoint = start_moto()
    lam, lambda_endpoint = start_moto()
    try:
        project = bake_with(work, OPERATIONS)
        wait_for_moto(endpoint)
        wait_for_moto(lambda_endpoint)
        import boto3

        kw = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
        create_store_table(boto3.client("dynamodb", endpoint_url=endpoint, **kw), TABLE)
        setup_lambda(lambda_endpoint, {"endpoint_url": lambda_endpoint, **kw})
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "AWS_ENDPOINT_URL": endpoint,
               "AWS_ENDPOINT_URL_LAMBDA": lambda_endpoint, **CREDS, "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
               "PLUGIN_METRICS_NAMESPACE": "sumar-plugin", "PLUGIN_STORE_TABLE": TABLE, "PLUGIN_AUTH": "api_key",
               "PLUGIN_API_KEYS": json.dumps({"bench": hashlib.sha256(KEY.encode()).hexdigest()})}
        flags = [sys.executable, "-I", "-X", f"pycache_prefix={work / 'pyc'}", "-c", CHILD]
        warm = str(args.warm)
        scenarios = {
            "REST: POST /libre (no quota)": [*flags, json.dumps(http_event("/libre", {"n": 2})), "rest", warm],
            "REST: POST /medida (quota)": [*flags, json.dumps(http_event("/medida", {"n": 2})), "rest", warm],
            f"MCP {LEGACY}: tools/call, synchronous": [*flags, json.dumps(mcp_event(LEGACY, False)), "sync", warm],
            f"MCP {LEGACY}: tools/call, creates a task": [*flags, json.dumps(mcp_event(LEGACY, True)), "task", warm],
            f"MCP {MODERN}: tools/call, synchronous": [*flags, json.dumps(mcp_event(MODERN, False)), "sync", warm],
            f"MCP {MODERN}: tools/call, creates a task": [*flags, json.dumps(mcp_event(MODERN, True)), "task", warm],
        }
        results: dict[str, list[dict]] = {name: [] for name in scenarios}
        loaded: dict[str, list[str]] = {}
        for run in range(args.runs + 1):  # the first round only fills the bytecode cache
            for name, cmd in scenarios.items():
                done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr[-1500:]}")
                value = json.loads(done.stdout.strip().splitlines()[-1])
                loaded.setdefault(name, value["loaded"])
                if run:
                    results[name].append(value)
    finally:
        for proc in (dynamodb, lam):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    def med(name: str, field: str) -> float:
        return statistics.median(v[field] for v in results[name])

    def extra(name: str, base: str, field: str) -> float:  # paired within a round
        return statistics.median(a[field] - b[field] for a, b in zip(results[name], results[base], strict=True))

    names = list(scenarios)
    pairs = {names[1]: names[0], names[3]: names[2], names[5]: names[4]}
    print(f"median of {args.runs} fresh processes each ({args.warm} warm requests per process), moto_server on "
          "127.0.0.1 as DynamoDB and as Lambda, bytecode cached; extra = median of the paired differences "
          "with the row above")
    print()
    print(f"loaded by REST without quota: {', '.join(loaded[names[0]]) or 'no AWS client, no store code'}; "
          f"by a task's creation: {', '.join(m.rpartition('.')[2] for m in loaded[names[3]])}")
    print()
    print("| scenario | cold (import + first request) | first request | warm | extra: first | extra: warm |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        cells = [f"{med(name, f):.1f} ms" for f in ("cold_ms", "first_ms")] + [f"{med(name, 'warm_ms'):.2f} ms"]
        if name in pairs:
            base = pairs[name]
            cells += [f"{extra(name, base, 'first_ms'):+.1f} ms", f"{extra(name, base, 'warm_ms'):+.2f} ms"]
        else:
            cells += ["(baseline)", "(baseline)"]
        print(f"| {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
