"""Benchmark the generated Lambda against the usual ways of writing the same `sumar` handler.

    python benchmarks/bench.py                  # full run; writes BENCHMARKS.md
    python benchmarks/bench.py --quick          # smoke run: few repetitions, writes nothing
    python benchmarks/bench.py --fuzz 10000     # also the opt-in fuzz run (tests/test_fuzz.py)

One run, one machine: it bakes the default project with the cookiecutter API (timing the bake,
which includes the post-gen hook's zip build), then measures, for the template and for each
comparison stack (benchmarks/stacks/<name>/handler.py, installed on its own with
``pip install --target benchmarks/.stacks/<name>`` as a Lambda zip would hold it):

- cold start: a fresh ``python -I -S`` process imports the handler and answers the first
  request; the clock runs inside the child from before the import to after the response
  (median of --cold runs), and the whole process is timed from outside as well;
- warm latency: median of --calls individually timed in-process calls with a full API Gateway
  HTTP API (payload 2.0) event, after a warm-up.

Cold starts are measured twice: "pyc", with every module's bytecode already cached (what a zip
that ships __pycache__ gives, or a second process on a warm disk), and "source", with the
application's own modules compiled at import (-B; what a zip without .pyc files gives: the
template's build ships bytecode only when a local Python matches lambda_runtime; the standard
library keeps its .pyc as on Lambda).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
CACHE = HERE / ".stacks"
CHILD = HERE / "child.py"
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
STATELESS = "2026-07-28"
HANDSHAKE = "2025-06-18"

TARGETS = {
    "rest_cold_over_floor_ms": 10.0,
    "mcp_cold_speedup_vs_awslabs": 10.0,
    "warm_rest_us": 25.0,
    "warm_mcp_us": 30.0,
    "zip_bytes": 96 * 1024,  # 64 KB until the OAuth facade/verifier and MCP Apps widgets shipped
    "bake_s": 1.0,
}


# -- events -----------------------------------------------------------------------------------
def http_event(path: str, body: str, headers: dict[str, str] | None = None) -> dict:
    """A full API Gateway HTTP API (payload 2.0) POST event, as the Lambda receives it."""
    head = {
        "accept": "application/json",
        "content-length": str(len(body.encode())),
        "content-type": "application/json",
        "host": HOST,
        "user-agent": "Mozilla/5.0 (compatible; ChatGPT-User/1.0; +https://openai.com/bot)",
        "x-amzn-trace-id": "Root=1-67890abc-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **(headers or {}),
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": head,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": HOST,
            "domainPrefix": "abc123defg",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10",
                     "userAgent": head["user-agent"]},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795521600000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def rest_event() -> dict:
    return http_event("/sumar", json.dumps({"numero1": 2, "numero2": 3}))


def mcp_call_body(version: str) -> dict:
    """A tools/call request; the 2026-07-28 revision carries its envelope in params._meta."""
    params: dict = {"name": "sumar", "arguments": {"numero1": 2, "numero2": 3}}
    if version == STATELESS:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": STATELESS,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1.0.0"},
        }
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}


def mcp_event(version: str) -> dict:
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": version}
    if version == STATELESS:
        headers.update({"mcp-method": "tools/call", "mcp-name": "sumar"})
    return http_event("/mcp", json.dumps(mcp_call_body(version)), headers)


# -- what is measured -------------------------------------------------------------------------
@dataclass
class Stack:
    name: str
    label: str
    surface: str  # "rest" or "mcp"
    note: str = ""
    stack_dir: str = ""  # benchmarks/stacks/<stack_dir>; "" for the template itself

    @property
    def is_template(self) -> bool:
        return not self.stack_dir


@dataclass
class Scenario:
    key: str
    stack: Stack
    event: dict
    label: str
    results: dict = field(default_factory=dict)
    events: Path | None = None  # the folder holding bench_event.py
    env: dict = field(default_factory=dict)  # the Lambda environment this scenario runs with


STACKS = [
    Stack("template", "this template (stdlib runtime)", "both"),
    Stack("floor", "bare stdlib handler (floor)", "rest", "json.loads + checks + add", "floor"),
    Stack("powertools", "Powertools APIGatewayHttpResolver", "rest", "no validation", "powertools"),
    Stack("powertools_pydantic", "Powertools resolver + Pydantic validation", "rest",
          "enable_validation=True", "powertools_pydantic"),
    Stack("fastapi_mangum", "FastAPI + Mangum", "rest", "Pydantic model body, async def", "fastapi_mangum"),
    Stack("awslabs_mcp", "awslabs-mcp-lambda-handler", "mcp", "no session store", "awslabs_mcp"),
    Stack("mcp_sdk", "official MCP SDK + Mangum", "mcp",
          "MCPServer, stateless streamable HTTP, JSON responses", "mcp_sdk"),
]


def scenarios(stacks: list[Stack]) -> list[Scenario]:
    out = []
    for s in stacks:
        if s.surface in ("rest", "both"):
            out.append(Scenario(f"{s.name}:rest", s, rest_event(), "POST /sumar"))
        if s.surface in ("mcp", "both") and s.name != "awslabs_mcp":
            out.append(Scenario(f"{s.name}:mcp{STATELESS}", s, mcp_event(STATELESS), f"MCP tools/call {STATELESS}"))
        if s.surface in ("mcp", "both"):
            out.append(Scenario(f"{s.name}:mcp{HANDSHAKE}", s, mcp_event(HANDSHAKE), f"MCP tools/call {HANDSHAKE}"))
    return out


# -- the cost of checking the caller ------------------------------------------------------------
API_KEY = "pk_" + "b" * 43


@contextlib.contextmanager
def auth_fixtures():
    """An RSA key, a signed access token and a loopback JWKS server for the OAuth scenario (the
    Lambda fetches the provider's keys on its first token; here from 127.0.0.1, on AWS from
    Cognito). Yields None when PyJWT/cryptography are not installed."""
    try:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        yield None
        return
    import base64
    import http.server
    import threading

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    jwks = json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "use": "sig", "alg": "RS256",
                                 "n": b64(numbers.n), "e": b64(numbers.e)}]}).encode()

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench"
    token = jwt.encode({"iss": issuer, "sub": "user-1", "client_id": "bench-client", "token_use": "access",
                        "scope": "sumar-plugin/invoke", "exp": int(time.time()) + 86_400, "iat": int(time.time())},
                       key, algorithm="RS256", headers={"kid": "bench"})
    try:
        yield {"issuer": issuer, "jwks": f"http://127.0.0.1:{server.server_address[1]}/jwks", "token": token}
    finally:
        server.shutdown()


def auth_scenarios(template: Stack, fixtures: dict | None) -> list[Scenario]:
    """POST /sumar with an API key, and with an OAuth access token (RS256 verification)."""
    import hashlib

    out = [Scenario("template:api_key+rest", template,
                    http_event("/sumar", json.dumps({"numero1": 2, "numero2": 3}),
                               {"authorization": f"Bearer {API_KEY}"}), "POST /sumar, auth = api_key",
                    env={"PLUGIN_AUTH": "api_key",
                         "PLUGIN_API_KEYS": json.dumps({"bench": hashlib.sha256(API_KEY.encode()).hexdigest()})})]
    if fixtures:
        out.append(Scenario("template:oauth+rest", template,
                            http_event("/sumar", json.dumps({"numero1": 2, "numero2": 3}),
                                       {"authorization": f"Bearer {fixtures['token']}"}),
                            "POST /sumar, auth = oauth (JWKS on first call)",
                            env={"PLUGIN_AUTH": "oauth", "PLUGIN_OAUTH_ISSUER": fixtures["issuer"],
                                 "PLUGIN_OAUTH_CLIENT_ID": "bench-client", "PLUGIN_OAUTH_TOKEN_USE": "access",
                                 "PLUGIN_OAUTH_JWKS_URL": fixtures["jwks"],
                                 "PLUGIN_OAUTH_SCOPE_PREFIX": "sumar-plugin/",
                                 "PLUGIN_OAUTH_AUTHORIZE_URL": "https://x.invalid/a",
                                 "PLUGIN_OAUTH_TOKEN_URL": "https://x.invalid/t",
                                 "PLUGIN_OAUTH_CLIENT_SECRET_PARAMETER": "/bench/secret"}))
    return out


# -- machine ----------------------------------------------------------------------------------
def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(), "os": platform.platform(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


# -- bake -------------------------------------------------------------------------------------
def bake(out: Path, repeats: int) -> tuple[Path, list[float]]:
    """Bake the default project `repeats` times (fresh folder each time); returns the last one."""
    from cookiecutter.main import cookiecutter  # imported before the clock: not part of a bake

    times, project = [], None
    for i in range(repeats):
        dest = out / f"bake{i}"
        dest.mkdir()
        t0 = time.perf_counter()
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(dest)))
        times.append(time.perf_counter() - t0)
    assert project is not None
    return project, times


# -- stacks -----------------------------------------------------------------------------------
def stack_dir(stack: Stack) -> Path:
    return HERE / "stacks" / stack.stack_dir


def stamp_key(stack: Stack) -> str:
    """What an installed stack depends on: its requirements, its handler, the interpreter."""
    src = stack_dir(stack)
    reqs = src / "requirements.txt"
    return hashlib.sha256((reqs.read_text() if reqs.exists() else "").encode()
                          + sys.version.encode() + (src / "handler.py").read_bytes()).hexdigest()


def install(stack: Stack, allow: bool) -> Path | None:
    """pip-install the stack's requirements alone into .stacks/<name> (cached by a stamp)."""
    src = stack_dir(stack)
    target = CACHE / stack.name
    reqs = src / "requirements.txt"
    key = stamp_key(stack)
    stamp = CACHE / f"{stack.name}.stamp"
    if target.is_dir() and stamp.exists() and stamp.read_text() == key:
        return target
    if not allow:
        return None
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if reqs.exists() and reqs.read_text().strip():
        print(f"  installing {stack.name} ({', '.join(reqs.read_text().split())}) ...", flush=True)
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--target", str(target), "-r", str(reqs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"  ! pip could not install {stack.name}; skipped:\n{proc.stderr[-1500:]}", file=sys.stderr)
            return None
    shutil.copy2(src / "handler.py", target / "handler.py")
    stamp.write_text(key)
    return target


def versions(folder: Path) -> list[str]:
    found = []
    for dist in sorted(folder.glob("*.dist-info")):
        meta = (dist / "METADATA").read_text(encoding="utf-8", errors="replace")
        name = re.search(r"^Name: (.+)$", meta, re.M)
        ver = re.search(r"^Version: (.+)$", meta, re.M)
        if name and ver:
            found.append(f"{name.group(1).strip()} {ver.group(1).strip()}")
    return found


def zipped_size(folder: Path) -> int:
    """Size of a deflated zip of the folder, without bytecode caches (as a deployment zip)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and "__pycache__" not in rel and not rel.endswith(".pyc"):
                zf.write(path, rel)
    return buf.tell()


def clear_bytecode(folder: Path) -> None:
    for cache in folder.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


# -- running children -------------------------------------------------------------------------
BYTECODE_MODES = ("pyc", "source", "lambda", "lambda+pyc")


def child_cmd(app: Path, events: Path, expect: str, mode: str, bytecode: str, pyc_dir: Path,
              calls: int = 0) -> list[str]:
    """bytecode: "pyc" (all bytecode cached), "source" (the app's modules compiled at import);
    "lambda" and "lambda+pyc": the same after the modules AWS's runtime client has imported."""
    flags = ["-X", f"pycache_prefix={pyc_dir}"] if bytecode.endswith("pyc") else ["-B"]
    return [sys.executable, "-I", "-S", *flags, str(CHILD), mode, str(app), str(events),
            "handler:lambda_handler", expect, str(calls), "lambda" if bytecode.startswith("lambda") else "-"]


def run_child(cmd: list[str], timeout: float = 600, env: dict | None = None) -> tuple[dict, float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **env} if env else None)
    wall = (time.perf_counter() - t0) * 1e3
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"child failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall, proc.stderr


def write_event(folder: Path, event: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench_event.py").write_text(f"EVENT = {event!r}\n", encoding="utf-8")
    (folder / "bench_marker.py").write_text("", encoding="utf-8")
    return folder


def importtime(cmd: list[str], runs: int = 5) -> dict[str, tuple[float, float]]:
    """{module: (cumulative ms, own ms)} of what the handler's import brought in, from
    `python -X importtime` (median of a few runs: the machine may be busy)."""
    cmd = [*cmd[:1], "-X", "importtime", *cmd[1:]]
    seen: dict[str, list[tuple[float, float]]] = {}
    for _ in range(runs):
        _, _, stderr = run_child(cmd)
        lines = stderr.splitlines()
        start = next((i for i, line in enumerate(lines) if line.rstrip().endswith("| bench_marker")), -1)
        for line in lines[start + 1:]:
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m and len(m.group(3)) <= 7:  # the handler, its imports and theirs
                seen.setdefault(m.group(4), []).append((int(m.group(2)) / 1e3, int(m.group(1)) / 1e3))
    return {name: (statistics.median(c for c, _ in v), statistics.median(o for _, o in v))
            for name, v in seen.items()}


# -- report -----------------------------------------------------------------------------------
def fmt(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if not a or not b else f"{a / b:.1f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 cold starts, 1,000 warm calls, 1 bake")
    ap.add_argument("--cold", type=int, help="cold starts per scenario and bytecode mode (default 21)")
    ap.add_argument("--calls", type=int, help="timed warm calls per scenario (default 10,000)")
    ap.add_argument("--bakes", type=int, help="bakes to time (default 3)")
    ap.add_argument("--stacks", help="comma-separated subset, e.g. template,floor (default: all)")
    ap.add_argument("--no-install", action="store_true", help="skip stacks that are not installed yet")
    ap.add_argument("--fuzz", type=int, default=0, help="also run tests/test_fuzz.py with this many events")
    ap.add_argument("--output", help="where to write the report (default: BENCHMARKS.md; --quick writes none)")
    args = ap.parse_args(argv)
    cold_n = args.cold or (3 if args.quick else 21)
    calls = args.calls or (1_000 if args.quick else 10_000)
    bakes = args.bakes or (1 if args.quick else 3)
    output = Path(args.output) if args.output else (None if args.quick else TEMPLATE / "BENCHMARKS.md")
    wanted = set(args.stacks.split(",")) if args.stacks else {s.name for s in STACKS}
    unknown = wanted - {s.name for s in STACKS}
    if unknown:
        ap.error(f"unknown stacks: {', '.join(sorted(unknown))}")
    stacks = [s for s in STACKS if s.name in wanted]
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, {info['date']}")

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    stack = contextlib.ExitStack()
    try:
        project, bake_times = bake(work, bakes)
        zip_size = (project / "lambda.zip").stat().st_size
        print(f"bake: median {statistics.median(bake_times):.2f} s over {bakes}; lambda.zip {zip_size:,} bytes")
        apps: dict[str, Path] = {}
        sizes: dict[str, int] = {"template": zip_size}
        pins: dict[str, list[str]] = {}
        for s in stacks:
            if s.is_template:
                apps[s.name] = project
                continue
            folder = install(s, allow=not args.no_install)
            if folder is None:
                print(f"  {s.name}: not installed, skipped")
                continue
            clear_bytecode(folder)
            apps[s.name] = folder
            pins[s.name] = versions(folder)
            if not args.quick:
                sizes[s.name] = zipped_size(folder)
        runs = [sc for sc in scenarios(stacks) if sc.stack.name in apps]
        if "template" in apps:
            jwks_server = stack.enter_context(auth_fixtures())
            runs += auth_scenarios(next(s for s in stacks if s.name == "template"), jwks_server)
        pyc_dir = work / "pyc"
        for sc in runs:
            sc.events = write_event(work / "events" / sc.key.replace(":", "_"), sc.event)

        def cmd(sc: Scenario, mode: str, bytecode: str, n: int = 0) -> list[str]:
            assert sc.events is not None
            return child_cmd(apps[sc.stack.name], sc.events, "rest" if sc.key.endswith("rest") else "mcp",
                             mode, bytecode, pyc_dir, n)

        print(f"cold starts: {cold_n} per scenario and mode, round-robin over {len(runs)} scenarios ...", flush=True)
        failures: dict[str, str] = {}
        for sc in list(runs):  # prime the bytecode cache of "pyc" mode, and check every stack answers right
            try:
                run_child(cmd(sc, "cold", "pyc"), env=sc.env)
            except RuntimeError as exc:
                failures[sc.key] = str(exc).strip().splitlines()[-1][:300]
                print(f"  ! {sc.key} does not answer correctly, left out: {failures[sc.key]}", file=sys.stderr)
                runs.remove(sc)
        for bytecode in BYTECODE_MODES:
            for sc in runs:
                sc.results[bytecode] = {"cold": [], "wall": [], "import": []}
            for _ in range(cold_n):
                for sc in runs:
                    out, wall, _ = run_child(cmd(sc, "cold", bytecode), env=sc.env)
                    r = sc.results[bytecode]
                    r["cold"].append(out["cold_ms"])
                    r["import"].append(out["import_ms"])
                    r["wall"].append(wall)
                    r["modules"] = out["modules"]
        print(f"warm latency: {calls:,} timed calls per scenario ...", flush=True)
        for sc in runs:
            out, _, _ = run_child(cmd(sc, "warm", "pyc", calls), env=sc.env)
            sc.results["warm"] = out
        profiles = {}
        for sc in runs:
            if sc.stack.is_template and "2025" not in sc.key and not sc.env:
                profiles[sc.key] = (importtime(cmd(sc, "cold", "lambda")), importtime(cmd(sc, "cold", "lambda+pyc")))
        fuzz = run_fuzz(args.fuzz) if args.fuzz else None
        if not args.quick:
            info["secrets"] = run_secrets()
            info["store"] = run_secrets("store_cold_start.py")
            info["tasks"] = run_secrets("task_cost.py")
    finally:
        stack.close()
        shutil.rmtree(work, ignore_errors=True)

    table = render(info, runs, bake_times, sizes, pins, profiles, fuzz, cold_n, calls, failures)
    print()
    print(table["console"])
    if output:
        output.write_text(table["markdown"], encoding="utf-8")
        print(f"\nwrote {output}")
    return 0


def run_secrets(script: str = "secret_cold_start.py") -> str:
    """benchmarks/secret_cold_start.py (moto_server as SSM), store_cold_start.py (DynamoDB and SSM)
    or task_cost.py (DynamoDB and Lambda): its table, or why it could not run."""
    print(f"{script}: secret / store / quota / task calls against moto_server ...", flush=True)
    run = subprocess.run([sys.executable, str(Path(__file__).with_name(script)), "--runs", "15"],
                         capture_output=True, text=True, timeout=900, check=False)
    lines = [line for line in run.stdout.strip().splitlines()
             if not line.startswith(("built ", "widget origin in "))]  # the bake's lines
    text = "\n".join(lines) if run.returncode == 0 else f"not measured: {run.stderr.strip()[-300:]}"
    print(text)
    return text


def run_fuzz(events: int) -> dict:
    """The opt-in fuzz run of tests/test_fuzz.py; the test writes its own figures to a file."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "fuzz.json"
        env = {**os.environ, "FUZZ_EVENTS": str(events), "FUZZ_REPORT": str(report)}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                               str(TEMPLATE / "tests" / "test_fuzz.py")], cwd=TEMPLATE, env=env,
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
        figures = json.loads(report.read_text()) if report.exists() else {}
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    print(f"fuzz: {tail}")
    return {"passed": proc.returncode == 0, "summary": tail, "seconds": seconds, **figures}


def render(info: dict, runs: list[Scenario], bake_times: list[float], sizes: dict[str, int],
           pins: dict[str, list[str]], profiles: dict, fuzz: dict | None, cold_n: int, calls: int,
           failures: dict[str, str]) -> dict:
    med = statistics.median

    def fig(sc: Scenario, bytecode: str, what: str) -> float:
        return med(sc.results[bytecode][what])

    by_key = {sc.key: sc for sc in runs}
    floor = by_key.get("floor:rest")
    rows = []
    for sc in runs:
        warm = sc.results["warm"]
        rows.append({
            "stack": sc.stack.label, "request": sc.label,
            "cold_pyc": fig(sc, "pyc", "cold"), "cold_src": fig(sc, "source", "cold"),
            "cold_lambda": fig(sc, "lambda", "cold"), "cold_lambda_pyc": fig(sc, "lambda+pyc", "cold"),
            "import_pyc": fig(sc, "pyc", "import"), "wall_pyc": fig(sc, "pyc", "wall"),
            "wall_src": fig(sc, "source", "wall"), "modules": sc.results["pyc"]["modules"],
            "warm": warm["median_us"], "p99": warm["p99_us"],
            "x_floor_cold": ratio(fig(sc, "pyc", "cold"), fig(floor, "pyc", "cold")) if floor else "n/a",
            "x_floor_warm": ratio(warm["median_us"], floor.results["warm"]["median_us"]) if floor else "n/a",
            "zip": sizes.get(sc.stack.name),
        })
    head = ["stack", "request", "cold ms (pyc)", "cold ms (source)", "cold ms (lambda)", "cold ms (lambda+pyc)",
            "process ms (pyc)",
            "modules",
            "warm us (median)", "warm us (p99)", "cold vs floor", "warm vs floor", "zip KB"]
    body = [[r["stack"], r["request"], fmt(r["cold_pyc"]), fmt(r["cold_src"]), fmt(r["cold_lambda"]),
             fmt(r["cold_lambda_pyc"]),
             fmt(r["wall_pyc"]), str(r["modules"]),
             fmt(r["warm"]), fmt(r["p99"]), r["x_floor_cold"], r["x_floor_warm"],
             fmt(r["zip"] / 1024 if r["zip"] else None)] for r in rows]

    # The template against each peer (peer / template: how many times slower the peer is).
    peers = []
    for sc in runs:
        if sc.stack.is_template:
            continue
        mine = by_key.get("template:rest") if sc.key.endswith("rest") else (
            by_key.get(f"template:mcp{STATELESS}") if STATELESS in sc.key else by_key.get(f"template:mcp{HANDSHAKE}"))
        if mine is None:
            continue
        peers.append([sc.stack.label, sc.label,
                      ratio(fig(sc, "pyc", "cold"), fig(mine, "pyc", "cold")),
                      ratio(fig(sc, "source", "cold"), fig(mine, "source", "cold")),
                      ratio(fig(sc, "lambda", "cold"), fig(mine, "lambda", "cold")),
                      ratio(fig(sc, "lambda+pyc", "cold"), fig(mine, "lambda+pyc", "cold")),
                      ratio(sc.results["warm"]["median_us"], mine.results["warm"]["median_us"]),
                      ratio(sizes.get(sc.stack.name), sizes.get("template"))])
    peer_head = ["peer", "request", "cold (pyc) peer/template", "cold (source) peer/template",
                 "cold (lambda) peer/template", "cold (lambda+pyc) peer/template",
                 "warm peer/template", "zip peer/template"]

    verdicts = targets(by_key, bake_times, sizes)
    console = "\n".join([_text_table(head, body), "", "template vs peers (peer / template):",
                         _text_table(peer_head, peers), "", "targets:"]
                        + [f"  [{'met' if ok else 'MISSED'}] {name}: {detail}" for name, ok, detail in verdicts]
                        + [f"  [FAILED] {key}: {why}" for key, why in failures.items()])
    md = markdown(info, head, body, peer_head, peers, verdicts, bake_times, sizes, pins, profiles, fuzz,
                  cold_n, calls, failures)
    return {"console": console, "markdown": md}


def targets(by_key: dict[str, Scenario], bake_times: list[float], sizes: dict[str, int]) -> list:
    med = statistics.median
    out = []
    floor, rest = by_key.get("floor:rest"), by_key.get("template:rest")
    if floor and rest:
        for bytecode in BYTECODE_MODES:
            mine, base = rest.results[bytecode]["cold"], floor.results[bytecode]["cold"]
            over = med(a - b for a, b in zip(mine, base, strict=True))
            out.append((f"REST cold start <= floor + 10 ms ({bytecode})", over <= TARGETS["rest_cold_over_floor_ms"],
                        f"+{over:.1f} ms (median of paired differences; medians: template {med(mine):.1f} ms, "
                        f"floor {med(base):.1f} ms)"))
    awslabs = by_key.get(f"awslabs_mcp:mcp{HANDSHAKE}")
    for version in (STATELESS, HANDSHAKE):
        mine = by_key.get(f"template:mcp{version}")
        if awslabs and mine:
            for bytecode in BYTECODE_MODES:
                theirs, ours = awslabs.results[bytecode]["cold"], mine.results[bytecode]["cold"]
                speed = med(a / b for a, b in zip(theirs, ours, strict=True))
                out.append((f"MCP cold start >= 10x faster than awslabs-mcp-lambda-handler ({version}, {bytecode})",
                            speed >= TARGETS["mcp_cold_speedup_vs_awslabs"],
                            f"{speed:.1f}x (median of paired ratios; ratio of medians {med(theirs) / med(ours):.1f}x)"))
    if rest:
        w = rest.results["warm"]["median_us"]
        out.append(("warm REST <= 25 us", w <= TARGETS["warm_rest_us"], f"{w:.1f} us"))
    for version in (STATELESS, HANDSHAKE):
        mine = by_key.get(f"template:mcp{version}")
        if mine:
            w = mine.results["warm"]["median_us"]
            out.append((f"warm MCP <= 30 us ({version})", w <= TARGETS["warm_mcp_us"], f"{w:.1f} us"))
    z = sizes["template"]
    out.append(("lambda.zip <= 96 KB", z <= TARGETS["zip_bytes"], f"{z:,} bytes ({z / 1024:.1f} KB)"))
    b = statistics.median(bake_times)
    out.append(("bake <= 1 s", b <= TARGETS["bake_s"], f"{b:.2f} s (median of {len(bake_times)})"))
    return out


def _text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def explain_misses(verdicts: list, profiles: dict) -> list[str]:
    """Why a missed target is missed, from this run's own profile."""
    missed = [name for name, ok, _ in verdicts if not ok]
    if not missed:
        return []
    out = ["Why the misses happen (from the profile below):", ""]
    rest = profiles.get("template:rest")
    if any(n.startswith("REST cold start") for n in missed) and rest:
        src, pyc = rest
        ours = [n for n in src if n == "handler" or n.startswith("plugin_runtime")]
        compile_ms = sum(src[n][1] for n in ours) - sum(pyc.get(n, (0.0, 0.0))[1] for n in ours)
        typing_ms = src.get("typing", (0.0, 0.0))[0]
        out.append(
            f"- REST cold start over the floor: missed only where the project's modules are compiled at "
            f"import (\"source\", \"lambda\"). Compiling handler.py and the runtime it imports costs "
            f"{compile_ms:.1f} ms; `typing` ({typing_ms:.1f} ms, imported by handler.py itself for "
            "`Annotated`/`TypedDict`) is most of the rest. The runtime's own import and first request are "
            "within the target once bytecode exists (\"pyc\", \"lambda+pyc\"). Lambda cannot cache "
            "bytecode (/var/task is read-only), so a sources-only zip pays the compile on every cold "
            "start. The build therefore ships `__pycache__/*.cpython-3XY.pyc` (unchecked-hash, no "
            "timestamp, so the zip stays reproducible) whenever a local Python matches `lambda_runtime` "
            "(the build's own, or `python3.X` on PATH): the deployed figure is then the \"lambda+pyc\" "
            "column. Without a matching Python (as on the machine that wrote this file: 3.11 against "
            "runtimes 3.12-3.14) the zip holds sources and the \"lambda\" column applies.")
    other = [n for n in missed if not n.startswith("REST cold start")]
    for name in other:
        out.append(f"- {name}: see the tables above and the profile below; this run did not meet it.")
    out.append("")
    return out


def markdown(info, head, body, peer_head, peers, verdicts, bake_times, sizes, pins, profiles, fuzz,
             cold_n, calls, failures) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Written by `python benchmarks/bench.py` (do not edit by hand; rerun it). One run, one machine:",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores (shared with other work while this ran)",
        f"- Python: {info['implementation']} {info['python']} ({info['os']})",
        f"- Date: {info['date']}",
        "",
        "## Results",
        "",
        _md_table(head, body),
        "",
        "The template against each peer (how many times the peer's figure is the template's):",
        "",
        _md_table(peer_head, peers),
        "",
        "## Targets",
        "",
        *[f"- {'met' if ok else '**missed**'}: {name}: {detail}" for name, ok, detail in verdicts],
        *[f"- **failed** (left out of the tables): {key}: {why}" for key, why in failures.items()],
        "",
        *explain_misses(verdicts, profiles),
        "## Bake and package",
        "",
        f"- Bake of the default project (cookiecutter API, including the post-gen hook's build of "
        f"`lambda.zip` and `openapi.json`): {', '.join(f'{t:.2f} s' for t in bake_times)}",
        f"- `lambda.zip`: {sizes['template']:,} bytes",
    ]
    others = [f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items() if k != "template"]
    if others:
        parts.append("- Comparison stacks zipped the same way (deflate, no bytecode): " + ", ".join(others))
    parts += ["", "## Where the template's cold start goes", "",
              "`python -X importtime` of the template's cold start after the modules AWS's runtime client has "
              "already imported (median of 5 runs; ms). \"lambda\" compiles the project's sources as the "
              "template's zip (sources only) makes Lambda do; \"lambda+pyc\" reads cached bytecode. The "
              "difference in own time of the project's modules is the compile cost.", ""]
    for key, (src, pyc) in profiles.items():
        names = sorted(src, key=lambda n: -src[n][0])[:14]
        parts += [f"{key}:", "", _md_table(
            ["module", "cumulative (lambda)", "own (lambda)", "cumulative (lambda+pyc)", "own (lambda+pyc)"],
            [[n, f"{src[n][0]:.2f}", f"{src[n][1]:.2f}", fmt(pyc.get(n, (None, None))[0], 2),
              fmt(pyc.get(n, (None, None))[1], 2)] for n in names])]
        ours = [n for n in src if n == "handler" or n.startswith("plugin_runtime")]
        compile_ms = sum(src[n][1] for n in ours) - sum(pyc.get(n, (0.0, 0.0))[1] for n in ours)
        parts += ["", f"Compiling the project's own modules ({', '.join(sorted(ours))}) costs about "
                      f"{compile_ms:.1f} ms of this cold start.", ""]
    if info.get("secrets"):
        parts += ["## Secrets: the first `ctx.secret`", "",
                  "`python benchmarks/secret_cold_start.py` (moto_server standing in for SSM): an operation "
                  "that reads no secret keeps the cold start above; the first one that reads a secret loads the "
                  "runtime's stdlib AWS client (no boto3) and makes one signed SSM call, then the value is cached.", "",
                  "```", info["secrets"], "```", ""]
    if info.get("store"):
        parts += ["## Storage: the first `ctx.store` call and `ctx.secret`", "",
                  "`python benchmarks/store_cold_start.py` (moto_server standing in for DynamoDB and SSM): the "
                  "first request of a cold start that makes the call against the same request warm, and boto3 "
                  "(import + client + call) doing the same calls. Goal: the first store call and the first "
                  "secret at most 15 ms more than a warm call.", "",
                  info["store"], ""]
    if info.get("tasks"):
        parts += ["## Quotas and tasks: the quota check and a task's creation", "",
                  "`python benchmarks/task_cost.py` (moto_server standing in for DynamoDB, and a second one for "
                  "Lambda with Docker off, so an asynchronous Invoke is answered 202 and no worker runs): a "
                  "`storage = \"dynamodb\"`, `auth = \"api_key\"` bake, each row a fresh process with the "
                  "deployed environment. `POST /medida` has `quota=\"1000000/day\"` (one DynamoDB UpdateItem per "
                  "call) against `POST /libre` without one; a `tools/call` of a `task=\"optional\"` tool that "
                  "creates a task (the task record's conditional write and Lambda's asynchronous Invoke) against "
                  "the same call answered synchronously, in both MCP eras (2025-11-25: `params.task`; 2026-07-28: "
                  "the `io.modelcontextprotocol/tasks` extension). \"warm\" is the median of 30 requests per "
                  "process; \"extra\" the median over rounds of the difference with the baseline row above. "
                  "moto's loopback round trips are not AWS's in-region ones (no TLS and no network, but moto's "
                  "own Python work): read the extras as the runtime's work plus one local round trip per AWS "
                  "call, not as DynamoDB's or Lambda's latency.", "",
                  info["tasks"], ""]
    if fuzz:
        parts += ["## Robustness (opt-in fuzz run)", "",
                  f"`FUZZ_EVENTS={fuzz.get('events', '?')} python -m pytest tests/test_fuzz.py`: "
                  f"{fuzz.get('events', '?')} generated events in {fuzz.get('fuzz_seconds', 0):.1f} s "
                  f"(the whole file, with its hand-picked cases and the bake: {fuzz['seconds']:.1f} s), "
                  f"5xx answers: {fuzz.get('status_5xx', '?')}, uncaught exceptions: "
                  f"{fuzz.get('uncaught', '?')}; pytest: {fuzz['summary']}", ""]
    parts += ["## Method", "",
              f"- Cold start: a fresh `python -I -S` process per run ({cold_n} runs per scenario and mode, "
              "scenarios interleaved round-robin so background load hits all alike; the median is shown). "
              "The cold-start targets compare runs of the same round (seconds apart): the median of the "
              "paired differences or ratios, which cancels most of the load of a shared machine. "
              "`-I -S` keep the development virtualenv out: only the standard library and the one folder "
              "under test are importable (the baked project, or the stack's own `pip install --target` folder, "
              "as a Lambda zip holds it). The clock runs inside the child, with `time.perf_counter`, from "
              "before the handler's import to after the first response; the event is a Python literal "
              "module imported before the clock starts. \"process ms\" is the whole process timed from "
              "outside (interpreter start-up included).",
              "- Bytecode: \"pyc\" means every module's bytecode is already cached (a zip that ships "
              "`__pycache__`, or a warm second process); \"source\" runs with `-B` so the application's own "
              "modules are compiled at import while the standard library keeps its `.pyc` (what a zip "
              "without `.pyc` files gives on Lambda; the template's build ships sources only); \"lambda\" is "
              "source mode after importing, before the clock, what AWS's Python runtime client has already "
              "imported when it imports a handler (json, logging, traceback, decimal, http.client, warnings), "
              "so only what the handler adds is counted; \"lambda+pyc\" is the same with bytecode cached (what "
              "a zip carrying `.pyc` files for the runtime's Python would give). On Lambda /var/task is "
              "read-only, so a zip without `.pyc` files compiles its modules at every cold start: \"lambda\" "
              "is the figure closest to the deployed template today.",
              f"- Warm: in one process, after a warm-up, {calls:,} calls with the same full API Gateway HTTP "
              "API (payload 2.0) event, each timed with `time.perf_counter_ns`; median and p99.",
              f"- MCP: `tools/call` for `sumar`; {STATELESS} requests carry `params._meta` "
              "(protocol version, client capabilities and info) and the headers MCP-Protocol-Version, "
              f"Mcp-Method and Mcp-Name; handshake-era requests send MCP-Protocol-Version {HANDSHAKE} "
              "(every server here is stateless, so no initialize is needed first; awslabs-mcp-lambda-handler "
              "speaks only the handshake era).",
              "- Every child checks its answer (status 200 and `resultado` 5) before reporting, so a "
              "stack that fails cannot look fast.",
              "- Stacks (benchmarks/stacks/<name>/handler.py; versions installed for this run):", ""]
    for s in STACKS:
        if s.name in pins or s.name == "template" or s.name == "floor":
            installed = ", ".join(pins.get(s.name, [])) or "standard library only"
            parts.append(f"  - {s.label}: {s.note + '; ' if s.note else ''}{installed}")
    parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
