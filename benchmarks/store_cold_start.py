"""The first ctx.store.get, ctx.store.put and ctx.secret of a cold start, next to a warm call and
to boto3 doing the same calls; and the cold start of a storage = "dynamodb" plugin that makes no
store call.

    python benchmarks/store_cold_start.py [--runs 15]

Bakes a project with storage = "dynamodb" and auth = "api_key", adds three operations (one
ctx.store.get, one ctx.store.put, one ctx.secret), starts moto_server (DynamoDB and SSM) on
127.0.0.1 with the table and the secret, then times fresh ``python -I`` processes with the deployed
environment: the handler's import plus the first request, then the same request again (warm).
"first" is the first request alone (the runtime loads model_store / model_aws / http.client and
opens the connection), "warm" the second. The boto3 rows do the same call with boto3 in a fresh
process: ``import boto3`` + client + first call, then a second call. Medians over --runs,
round-robin, bytecode cached; prints a Markdown table, writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from secret_cold_start import free_port, wait_for_moto  # this folder's: the same moto_server plumbing

TEMPLATE = Path(__file__).resolve().parent.parent
KEY = "pk_bench_" + "k" * 40
OPERATIONS = '''

from plugin_runtime import Context


class Largo(TypedDict):
    largo: int


@plugin.operation(read_only=True)
def leer(ctx: Context) -> Largo:
    """One ctx.store.get."""
    item = ctx.store.get("bench")
    return {"largo": 0 if item is None else len(str(item.value))}


@plugin.operation()
def guardar(ctx: Context) -> Largo:
    """One ctx.store.put."""
    return {"largo": ctx.store.put("bench", {"texto": "hola"})}


@plugin.operation(read_only=True)
def clave(ctx: Context) -> Largo:
    """One ctx.secret."""
    return {"largo": len(ctx.secret("API_TOKEN"))}
'''
CHILD = '''
import json, sys, time
sys.path.insert(0, ".")
event = json.loads(sys.argv[1])
start = time.perf_counter()
import handler
imported = time.perf_counter()
first = handler.lambda_handler(event, None)
done = time.perf_counter()
assert first["statusCode"] == 200, first
second_start = time.perf_counter()
if "/clave" in event["rawPath"]:
    from plugin_runtime.model_secrets import _cache
    _cache.values.clear()  # a warm call that still asks SSM (the client and connection stay)
warm = handler.lambda_handler(event, None)
warm_done = time.perf_counter()
assert warm["statusCode"] == 200, warm
loaded = sorted(m for m in ("boto3", "botocore", "http.client", "plugin_runtime.model_aws",
                            "plugin_runtime.model_store") if m in sys.modules)
print(json.dumps({"cold_ms": (done - start) * 1e3, "first_ms": (done - imported) * 1e3,
                  "warm_ms": (warm_done - second_start) * 1e3, "loaded": loaded}))
'''
BOTO3 = '''
import json, os, sys, time
start = time.perf_counter()
import boto3
client = boto3.client(sys.argv[1])
def call():
    if sys.argv[1] == "ssm":
        client.get_parameter(Name="/sumar-plugin/secrets/API_TOKEN", WithDecryption=True)
    elif sys.argv[2] == "get":
        client.get_item(TableName="sumar-plugin-store", Key={"pk": {"S": "x"}, "sk": {"S": "bench"}})
    else:
        client.update_item(TableName="sumar-plugin-store", Key={"pk": {"S": "x"}, "sk": {"S": "bench"}},
                           UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"S": "{}"}})
call()
first = time.perf_counter()
call()
warm = time.perf_counter()
print(json.dumps({"first_ms": (first - start) * 1e3, "warm_ms": (warm - first) * 1e3}))
'''


def event(path: str) -> dict:
    return {"version": "2.0", "rawPath": path, "headers": {"content-type": "application/json", "host": "x.example",
                                                           "authorization": f"Bearer {KEY}"},
            "requestContext": {"requestId": "bench", "domainName": "x.example",
                               "http": {"method": "POST", "path": path}},
            "body": json.dumps({"numero1": 2, "numero2": 3}) if path == "/sumar" else "{}", "isBase64Encoded": False}


CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "bench",
         "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


def start_moto() -> tuple[subprocess.Popen, str]:
    """A moto_server on a free loopback port, with the benchmark's credentials; (process, endpoint)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **CREDS})
    return proc, f"http://127.0.0.1:{port}"


def bake_with(work: Path, operations: str) -> Path:
    """A storage = "dynamodb", auth = "api_key" bake with ``operations`` added to its handler.py."""
    from cookiecutter.main import cookiecutter

    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(work),
                                extra_context={"storage": "dynamodb", "auth": "api_key"}))
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace(
        "\n\nlambda_handler = plugin.lambda_handler", operations + "\n\nlambda_handler = plugin.lambda_handler"),
        encoding="utf-8")
    return project


def create_store_table(dynamodb: object, name: str) -> None:
    """The table storage.tf creates (pk, sk; on demand), on moto."""
    dynamodb.create_table(  # type: ignore[attr-defined]
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold starts per scenario (default 15)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-store-"))
    moto, endpoint = start_moto()
    try:
        project = bake_with(work, OPERATIONS)
        wait_for_moto(endpoint)
        import boto3

        kw = {"endpoint_url": endpoint, "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
              "region_name": "us-east-1"}
        boto3.client("ssm", **kw).put_parameter(Name="/sumar-plugin/secrets/API_TOKEN", Value="bench-secret-value",
                                                Type="SecureString", Overwrite=True)
        create_store_table(boto3.client("dynamodb", **kw), "sumar-plugin-store")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "AWS_ENDPOINT_URL": endpoint, **CREDS,
               "PLUGIN_METRICS_NAMESPACE": "sumar-plugin", "PLUGIN_SECRETS_PREFIX": "/sumar-plugin/secrets/",
               "PLUGIN_SECRETS": "API_TOKEN", "PLUGIN_STORE_TABLE": "sumar-plugin-store", "PLUGIN_AUTH": "api_key",
               "PLUGIN_API_KEYS": json.dumps({"bench": hashlib.sha256(KEY.encode()).hexdigest()})}
        flags = [sys.executable, "-I", "-X", f"pycache_prefix={work / 'pyc'}"]
        runtime = {
            "POST /sumar (no store call)": [*flags, "-c", CHILD, json.dumps(event("/sumar"))],
            "ctx.store.get": [*flags, "-c", CHILD, json.dumps(event("/leer"))],
            "ctx.store.put": [*flags, "-c", CHILD, json.dumps(event("/guardar"))],
            "ctx.secret": [*flags, "-c", CHILD, json.dumps(event("/clave"))],
        }
        baseline = {
            "ctx.store.get": [*flags, "-c", BOTO3, "dynamodb", "get"],
            "ctx.store.put": [*flags, "-c", BOTO3, "dynamodb", "put"],
            "ctx.secret": [*flags, "-c", BOTO3, "ssm", "get"],
        }
        results: dict[tuple[str, str], list[dict]] = {}
        loaded: dict[str, list[str]] = {}
        for run in range(args.runs + 1):  # the first round only fills the bytecode cache
            for kind, scenarios in (("runtime", runtime), ("boto3", baseline)):
                for name, cmd in scenarios.items():
                    done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
                    if done.returncode != 0:
                        raise SystemExit(f"{kind} {name} failed: {done.stderr[-1500:]}")
                    value = json.loads(done.stdout.strip().splitlines()[-1])
                    loaded.setdefault(name, value.get("loaded", [])) if kind == "runtime" else None
                    if run:
                        results.setdefault((kind, name), []).append(value)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    def med(kind: str, name: str, field: str) -> float:
        return statistics.median(v[field] for v in results[(kind, name)])

    print(f"median of {args.runs} fresh processes each, moto_server on 127.0.0.1, bytecode cached")
    print()
    cold = med("runtime", "POST /sumar (no store call)", "cold_ms")
    print(f"cold start, storage = dynamodb, no store call (import + first request): {cold:.1f} ms; "
          f"loaded: {', '.join(loaded['POST /sumar (no store call)']) or 'no boto3, no AWS client, no store code'}")
    print()
    print("| first call of a cold start | runtime: first | runtime: warm | runtime: extra | boto3: first "
          "(import + client + call) | boto3: warm |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("ctx.store.get", "ctx.store.put", "ctx.secret"):
        first, warm = med("runtime", name, "first_ms"), med("runtime", name, "warm_ms")
        print(f"| {name} | {first:.1f} ms | {warm:.1f} ms | {first - warm:+.1f} ms | "
              f"{med('boto3', name, 'first_ms'):.1f} ms | {med('boto3', name, 'warm_ms'):.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
