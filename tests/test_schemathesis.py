"""Schemathesis against a baked project's local server, driven by the OpenAPI document the server
itself serves: every check, zero failures. The default run is bounded (a few seconds); set
SCHEMATHESIS_DEEP=1 for the deep run (at least 1,000 generated cases; SCHEMATHESIS_MAX_EXAMPLES
raises the number of examples per operation, default 1000).

The local server is the project's own `python3 -m plugin_tools.serve`, so these runs cover the
handler, the runtime and the document exactly as `make serve` exposes them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from bake_support import bake, stop_process

pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install schemathesis)")

DEEP = os.environ.get("SCHEMATHESIS_DEEP") == "1"
DEFAULT_EXAMPLES = 100  # per operation; about 1 s for sumar
DEEP_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "1000"))  # per operation
DEEP_MIN_CASES = 1000
SEED = 20261124  # reproducible default runs; the deep run draws a fresh seed and prints it
ST = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(project: Path, timeout: float = 20.0) -> Iterator[str]:
    """Start the project's local server; yield its origin; stop it. Fails (never skips) when the
    server does not come up, showing what it printed."""
    serve_py = project / "plugin_tools" / "serve.py"
    assert serve_py.exists(), "the project has no plugin_tools/serve.py"
    port = free_port()
    log = project.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "plugin_tools.serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--no-reload"], cwd=project, stdout=out, stderr=out)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(origin + "/openapi.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the local server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield origin
    finally:
        stop_process(proc)


def run_schemathesis(origin: str, workdir: Path, max_examples: int, seed: int | None = SEED) -> dict:
    """`st run <origin>/openapi.json --checks all`; returns the JSON report with the console output
    under "console". Runs in ``workdir`` with no example database, so runs do not leak state."""
    report = workdir / f"st-report-{max_examples}.json"
    cmd = [sys.executable, "-c", ST, "run", f"{origin}/openapi.json", "--checks", "all",
           "--max-examples", str(max_examples), "--workers", "1", "--no-color", "--generation-database", "none",
           "--request-timeout", "10", "--report", "json", "--report-json-path", str(report)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.perf_counter() - started
    assert report.exists(), f"schemathesis wrote no report:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    data = json.loads(report.read_text(encoding="utf-8"))
    data["console"] = result.stdout + result.stderr
    data["returncode"] = result.returncode
    data["elapsed"] = elapsed
    return data


def assert_clean(data: dict, operations: int, min_cases: int) -> None:
    """Zero failures and errors, every operation tested, and at least ``min_cases`` cases."""
    console = data["console"]
    assert data["returncode"] == 0, console[-6000:]
    assert data["failures"] == [] and data["errors"] == [], console[-6000:]
    assert data["test_cases"]["with_failures"] == 0 and data["test_cases"]["errored"] == 0, console[-6000:]
    assert data["operations"]["tested"] == data["operations"]["selected"] == operations, data["operations"]
    assert data["test_cases"]["generated"] >= min_cases, data["test_cases"]
    raised = {kind: items for kind, items in data["warnings"].items() if items}
    assert raised == {}, f"schemathesis warnings: {raised}"
    # positive cases must really be accepted, not only pass because everything is a 400
    for operation, phases in data["valid_rates"].items():
        accepted = sum(phase.get("accepted", 0) for phase in phases.values())
        assert accepted > 0, f"{operation}: schemathesis never got a valid request accepted"
    print(f"\nschemathesis: {data['test_cases']['generated']} cases, {operations} operation(s), "
          f"seed {data['seed']}, {data['elapsed']:.1f} s")


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Iterator[str]:
    project = bake(tmp_path_factory.mktemp("schemathesis"))
    yield from serve(project)


def test_the_served_document_is_the_committed_one(origin):
    with urllib.request.urlopen(origin + "/openapi.json", timeout=5) as response:
        served = json.loads(response.read())
    assert served["servers"] == [{"url": origin}]
    assert set(served["paths"]) == {"/sumar"}


def test_schemathesis_default_run(origin, tmp_path):
    data = run_schemathesis(origin, tmp_path, DEFAULT_EXAMPLES)
    assert_clean(data, operations=1, min_cases=50)
    assert data["elapsed"] < 60


@pytest.mark.skipif(not DEEP, reason="deep run: set SCHEMATHESIS_DEEP=1 (>= 1,000 cases)")
def test_schemathesis_deep_run(origin, tmp_path):
    data = run_schemathesis(origin, tmp_path, DEEP_EXAMPLES, seed=None)
    assert_clean(data, operations=1, min_cases=DEEP_MIN_CASES)


BROKEN_OPERATION = '''@plugin.operation(read_only=True)
def restar(numero1: Numero, numero2: Numero) -> Suma:
    """Resta dos números (with a bug: the answer is text, not the documented number)."""
    return {"resultado": str(numero1 - numero2)}  # type: ignore[typeddict-item]


lambda_handler = plugin.lambda_handler'''


def test_schemathesis_catches_a_broken_contract(tmp_path_factory, tmp_path):
    """The harness can fail: an operation answering text where its schema says number is caught."""
    project = bake(tmp_path_factory.mktemp("broken"))
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace("lambda_handler = plugin.lambda_handler",
                                                                   BROKEN_OPERATION), encoding="utf-8")
    build = subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project,
                           capture_output=True, text=True, timeout=120, check=False)
    assert build.returncode == 0, build.stderr
    for origin in serve(project):
        data = run_schemathesis(origin, tmp_path, 20)
    assert data["returncode"] == 1
    assert [(f["code"], f["operations"]) for f in data["failures"]] == [("ST108", ["POST /restar"])], data["failures"]


TYPED_OPERATION = '''@plugin.operation(errors=[404, 409, 429])
def reservar(dia: datetime.date, hora: datetime.datetime, sala: Sala, ref: uuid.UUID, lugar: Lugar,
             codigo: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]$")],
             notas: Annotated[list[str], Field(min_items=1, max_items=3)]) -> Reserva:
    """Reserva una sala (dates, times, an Enum, a UUID, a dataclass, a pattern, item counts, errors)."""
    if dia.year < 1900:
        raise OperationError("no bookings before 1900", status=404)
    if sala is Sala.GRANDE and codigo.startswith("ZZ"):
        raise OperationError("that room is taken", status=409)
    if len(notas) == 3:
        raise OperationError("too many notes today", status=429, retry_after=5)
    return Reserva(dia=dia, hora=hora, sala=sala, ref=ref, lugar=lugar)


lambda_handler = plugin.lambda_handler'''

TYPED_IMPORTS = '''import datetime
import enum
import uuid
from dataclasses import dataclass
from typing import Annotated, TypedDict

from plugin_runtime import Field, OperationError, Plugin


class Sala(enum.Enum):
    GRANDE = "grande"
    PEQUENA = "pequena"


@dataclass
class Lugar:
    planta: Annotated[int, Field(ge=0, le=9)]
    ala: str | None = None


@dataclass
class Reserva:
    dia: datetime.date
    hora: datetime.datetime
    sala: Sala
    ref: uuid.UUID
    lugar: Lugar
'''


def test_schemathesis_on_the_types_people_write_and_declared_errors(tmp_path_factory, tmp_path):
    """Dates, datetimes, an Enum, a UUID, a dataclass, patterns and item counts, with declared
    404/409/429: every check passes (schemas, formats, documented statuses, negative data refused)."""
    project = bake(tmp_path_factory.mktemp("typed"))
    handler = project / "handler.py"
    text = handler.read_text(encoding="utf-8")
    imports = "from typing import Annotated, TypedDict\n\nfrom plugin_runtime import Field, Plugin\n"
    assert imports in text
    text = text.replace(imports, TYPED_IMPORTS).replace("lambda_handler = plugin.lambda_handler", TYPED_OPERATION)
    handler.write_text(text, encoding="utf-8")
    build = subprocess.run([sys.executable, "-m", "plugin_tools.build", "--quiet"], cwd=project,
                           capture_output=True, text=True, timeout=120, check=False)
    assert build.returncode == 0, build.stderr
    for origin in serve(project):
        data = run_schemathesis(origin, tmp_path, DEFAULT_EXAMPLES)
    assert_clean(data, operations=2, min_cases=100)
