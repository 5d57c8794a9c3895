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
    """The secret cold-start comparison (moto_server as SSM): both requests answer, and only the
    one that reads a secret imports boto3."""
    run = subprocess.run([sys.executable, str(TEMPLATE / "benchmarks" / "secret_cold_start.py"), "--runs", "1"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "POST /sumar (no secret)" in run.stdout and "(boto3 imported: no)" in run.stdout
    assert "POST /clave (first ctx.secret)" in run.stdout and "(boto3 imported: yes)" in run.stdout
