"""The benchmark script runs (a smoke run: nothing here is timed or compared)."""

from __future__ import annotations

import subprocess
import sys

from bake_support import TEMPLATE


def test_quick_benchmark_writes_a_table(tmp_path):
    report = tmp_path / "bench.md"
    run = subprocess.run([sys.executable, str(TEMPLATE / "benchmarks" / "bench.py"), "--quick",
                          "--stacks", "template,floor", "--output", str(report)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    text = report.read_text(encoding="utf-8")
    assert "| this template (stdlib runtime) | POST /sumar |" in text
    assert "bare stdlib handler (floor)" in text and "lambda.zip" in text


def test_secret_cold_start_script_runs():
    """The secret cold-start comparison (moto_server as SSM): both requests answer, and neither
    imports boto3 (ctx.secret reads SSM with the runtime's own client)."""
    run = subprocess.run([sys.executable, str(TEMPLATE / "benchmarks" / "secret_cold_start.py"), "--runs", "1"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "POST /sumar (no secret)" in run.stdout and "(boto3 imported: no)" in run.stdout
    assert "POST /clave (first ctx.secret)" in run.stdout and "(boto3 imported: yes)" not in run.stdout


def test_store_cold_start_script_runs():
    """The store/secret first-call comparison (moto_server as DynamoDB and SSM) answers every
    scenario, and a cold start that makes no store call loads no AWS client."""
    run = subprocess.run([sys.executable, str(TEMPLATE / "benchmarks" / "store_cold_start.py"), "--runs", "1"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loaded: no boto3, no AWS client, no store code" in run.stdout
    for name in ("ctx.store.get", "ctx.store.put", "ctx.secret"):
        assert f"| {name} |" in run.stdout


def test_task_cost_script_runs():
    """The quota and task cost comparison (moto_server as DynamoDB and as Lambda) answers every
    scenario (each child checks that a task was created, or that the call stayed synchronous), and
    a request without a quota loads no AWS client."""
    run = subprocess.run([sys.executable, str(TEMPLATE / "benchmarks" / "task_cost.py"), "--runs", "1", "--warm", "2"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loaded by REST without quota: no AWS client, no store code" in run.stdout
    for name in ("REST: POST /medida (quota)", "MCP 2025-11-25: tools/call, creates a task",
                 "MCP 2026-07-28: tools/call, creates a task"):
        assert f"| {name} |" in run.stdout
