"""Start a baked project's local server (``python3 -m plugin_tools.serve``) as a subprocess.

Shared by test_mcp_sdk.py and test_local_server.py: the server is started the way a user starts
it (``make serve``), on 127.0.0.1 with ``--port 0`` so the system picks a free port, and the URL
is read from the one line it prints on start.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

START_LINE = re.compile(r"on (http://127\.0\.0\.1:(\d+))\b")


class LocalServer:
    """A running ``plugin_tools.serve``; ``stop()`` sends Ctrl-C (SIGINT) and collects its output."""

    def __init__(self, project: Path, *args: str, timeout: float = 20, env: dict | None = None) -> None:
        self.project = project
        extra_env = env or {}
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("MCP_ALLOWED_ORIGINS", None)  # the tests check the default Origin policy
        for name in ("PLUGIN_AUTH", "PLUGIN_API_KEYS", "PLUGIN_OPENAI_VERIFICATION_TOKEN",
                     "PLUGIN_APPS_CHALLENGE"):
            env.pop(name, None)  # the server takes auth from the project's terraform.tfvars, as deployed
        env.update(extra_env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plugin_tools.serve", "--port", "0", *args],
            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        line = self._first_line(timeout)
        match = START_LINE.search(line)
        if not match:
            self.proc.kill()
            raise AssertionError(f"the server printed no URL: {line!r}; stderr: {''.join(self.stderr_lines)}")
        self.start_line = line
        self.base = match.group(1)
        self.port = int(match.group(2))
        self.stdout_rest = ""

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _first_line(self, timeout: float) -> str:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box:
            self.proc.kill()
            raise AssertionError(f"the server did not start within {timeout} s")
        return box[0]

    @property
    def url(self) -> str:
        return self.base + "/mcp"

    def request(self, method: str, path: str, body: bytes | str | dict | None = None,
                headers: dict[str, str] | None = None, timeout: float = 15) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request over a fresh connection: (status, lower-case headers, body)."""
        if isinstance(body, dict):
            body = json.dumps(body)
            headers = {"content-type": "application/json", **(headers or {})}
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            head = {"host": f"127.0.0.1:{self.port}", **(headers or {})}
            if body is not None:
                head["content-length"] = str(len(body))
            for name, value in head.items():
                conn.putheader(name, value)
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, body: object = None, headers: dict | None = None) -> tuple[int, object]:
        status, head, data = self.request(method, path, body, headers)  # type: ignore[arg-type]
        assert head.get("content-type", "").startswith("application/json"), (status, head, data[:200])
        return status, json.loads(data)

    def wait_until(self, predicate, timeout: float = 20, every: float = 0.2) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return True
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(every)
        return False

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> tuple[int, str, str]:
        """Stop like Ctrl-C does; returns (exit code, rest of stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError(f"the server ignored signal {sig} for {timeout} s") from None
        time.sleep(0.1)  # let the stderr reader finish
        return self.proc.returncode, out, "".join(self.stderr_lines)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.stop()
