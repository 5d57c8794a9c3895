"""Cold start of an operation that reads a secret, next to one that reads none.

    python benchmarks/secret_cold_start.py [--runs 15]

Bakes the default project, adds an operation that reads ``ctx.secret("API_TOKEN")``, starts
moto_server (``moto[server]`` from requirements-dev.txt) as SSM on 127.0.0.1 and puts the secret
there, then times fresh ``python -I`` processes (the site-packages stay importable: boto3 must be,
as on Lambda's runtime) that import the handler and answer one request with the deployed
environment: ``POST /sumar`` (no secret) and ``POST /clave`` (the first ``ctx.secret``: the
runtime's stdlib AWS client, model_aws, and one signed GetParameter over HTTP; no boto3), plus
``import boto3`` alone for comparison. Bytecode is
cached (as when the zip ships it). Medians over --runs, round-robin; prints a table, writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
OPERATION = '''

from plugin_runtime import Context


class Clave(TypedDict):
    largo: int


@plugin.operation(read_only=True)
def clave(ctx: Context) -> Clave:
    """Reads the deployed secret."""
    return {"largo": len(ctx.secret("API_TOKEN"))}
'''
CHILD = '''
import json, sys, time
sys.path.insert(0, ".")  # the project folder, as /var/task on Lambda (-I leaves it out)
event = json.loads(sys.argv[1])
start = time.perf_counter()
import handler
response = handler.lambda_handler(event, None)
elapsed = (time.perf_counter() - start) * 1e3
assert response["statusCode"] == 200, response
print(json.dumps({"cold_ms": elapsed, "boto3": "boto3" in sys.modules}))
'''
BOTO3 = 'import time; t = time.perf_counter(); import boto3; print((time.perf_counter() - t) * 1e3)'


def event(path: str, body: dict) -> dict:
    return {"version": "2.0", "rawPath": path, "headers": {"content-type": "application/json", "host": "x.example"},
            "requestContext": {"requestId": "bench", "domainName": "x.example",
                               "http": {"method": "POST", "path": path}},
            "body": json.dumps(body), "isBase64Encoded": False}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_moto(endpoint: str) -> None:
    """Until moto_server answers (at most about 10 s); store_cold_start.py uses it too."""
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold starts per scenario (default 15)")
    args = parser.parse_args()
    from cookiecutter.main import cookiecutter

    work = Path(tempfile.mkdtemp(prefix="bench-secret-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
             "AWS_DEFAULT_REGION": "us-east-1"}
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **creds})
    try:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(work)))
        handler = project / "handler.py"
        handler.write_text(handler.read_text(encoding="utf-8").replace(
            "\n\nlambda_handler = plugin.lambda_handler", OPERATION + "\n\nlambda_handler = plugin.lambda_handler"),
            encoding="utf-8")
        wait_for_moto(endpoint)
        import boto3

        ssm = boto3.client("ssm", endpoint_url=endpoint, aws_access_key_id="testing",
                           aws_secret_access_key="testing", region_name="us-east-1")
        ssm.put_parameter(Name="/sumar-plugin/secrets/API_TOKEN", Value="bench-secret-value", Type="SecureString",
                          Overwrite=True)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "AWS_ENDPOINT_URL": endpoint, **creds,
               "PLUGIN_METRICS_NAMESPACE": "sumar-plugin", "PLUGIN_SECRETS_PREFIX": "/sumar-plugin/secrets/",
               "PLUGIN_SECRETS": "API_TOKEN"}
        flags = [sys.executable, "-I", "-X", f"pycache_prefix={work / 'pyc'}"]
        scenarios = {
            "POST /sumar (no secret)": [*flags, "-c", CHILD, json.dumps(event("/sumar", {"numero1": 2, "numero2": 3}))],
            "POST /clave (first ctx.secret)": [*flags, "-c", CHILD, json.dumps(event("/clave", {}))],
            "import boto3 alone": [*flags, "-c", BOTO3],
        }
        results: dict[str, list[float]] = {name: [] for name in scenarios}
        seen_boto3: dict[str, bool] = {}
        for run in range(args.runs + 1):  # the first round only fills the bytecode cache
            for name, cmd in scenarios.items():
                done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr[-1500:]}")
                out = done.stdout.strip().splitlines()[-1]
                value = json.loads(out)
                if isinstance(value, dict):
                    seen_boto3[name] = value["boto3"]
                    value = value["cold_ms"]
                if run:
                    results[name].append(float(value))
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"cold start: import the handler and answer one request (median of {args.runs}, bytecode cached)")
    for name, values in results.items():
        note = "" if name not in seen_boto3 else f"  (boto3 imported: {'yes' if seen_boto3[name] else 'no'})"
        print(f"  {name:<32} {statistics.median(values):8.1f} ms{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
