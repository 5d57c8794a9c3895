"""The official conformance suite's ``server-stateless`` scenario at ``--spec-version 2026-07-28``
(issue 18, section 4), and the reading of the four checks the default bake cannot pass.

The scenario calls three diagnostic tools by name. Two of them exercise rules this server keeps
by construction, so they are added here as a user would write any tool:

- ``test_logging_tool`` (``sep-2575-server-no-log-without-loglevel``: no notifications/message
  unless the request set a log level): it logs with ``ctx.log``, which goes to CloudWatch, never to
  the client; the check passes.
- ``test_streaming_elicitation`` (``sep-2575-http-server-no-independent-requests-on-stream``: the
  response stream carries no server-to-client requests): every answer is one JSON message; passes.

The third, ``test_missing_capability`` (``sep-2575-server-rejects-undeclared-capability`` and
``sep-2575-missing-capability-http-400``), would need a tool whose processing requires the
client's ``sampling`` capability. The rule as the suite quotes it: "If processing a request
requires a capability the client did not include in io.modelcontextprotocol/clientCapabilities,
the server MUST return a MissingRequiredClientCapabilityError (-32021)." This runtime never sends a
request to the client (no sampling, elicitation or roots), so no request it processes requires a
client capability and the MUST's condition never holds. The tests show that reading: those two
are the only checks left, reported as not testable for want of the tool; the runtime's source
sends none of those methods; and a tool answers the same whatever capabilities the client
declares. The generated project's CI runs the scenario with a baseline naming all four
(.github/conformance-expected-failures.yml), which is checked here against the same run.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from bake_support import bake, project_modules
from server_support import LocalServer
from test_apps import CONFORMANCE, NODE, node_command, run_scenario

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (CI installs node 20+)"),
    pytest.mark.skipif(not CONFORMANCE.is_file(), reason="the MCP conformance suite is not installed (.ci/run)"),
]

FIXTURES = '''

@plugin.operation(read_only=True)
def test_logging_tool(ctx: Context) -> str:
    """Writes a log line and answers (the conformance suite's logging probe)."""
    ctx.log.info("test_logging_tool called")
    return "logged"


@plugin.operation(read_only=True)
def test_streaming_elicitation() -> str:
    """Answers at once (the conformance suite's response-stream probe)."""
    return "done"
'''
NOT_APPLICABLE = {"sep-2575-server-rejects-undeclared-capability", "sep-2575-missing-capability-http-400"}
NEEDS_FIXTURES = {"sep-2575-http-server-no-independent-requests-on-stream", "sep-2575-server-no-log-without-loglevel"}
CLIENT_REQUESTS = ("sampling/createMessage", "elicitation/create", "roots/list")


def _with_fixtures(project: Path) -> Path:
    handler = project / "handler.py"
    text = handler.read_text(encoding="utf-8").replace("from plugin_runtime import Field, Plugin",
                                                       "from plugin_runtime import Context, Field, Plugin")
    marker = "\n\nlambda_handler = plugin.lambda_handler"
    handler.write_text(text.replace(marker, FIXTURES + marker), encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("stateless"))


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> Path:
    return _with_fixtures(bake(tmp_path_factory.mktemp("stateless-fixtures")))


def _not_passed(checks: list[dict]) -> dict[str, str]:
    return {c["id"]: c.get("errorMessage") or "" for c in checks if c["status"] not in ("SUCCESS", "INFO", "SKIPPED")}


def test_with_the_probe_tools_only_the_checks_that_do_not_apply_remain(fixtures, tmp_path):
    with LocalServer(fixtures, "--no-reload") as server:
        checks = run_scenario(server.url, "server-stateless", "2026-07-28", tmp_path)
    failed = _not_passed(checks)
    assert set(failed) == NOT_APPLICABLE, failed
    for message in failed.values():
        assert message.startswith("Not testable: server does not list the diagnostic tool 'test_missing_capability'")
    passed = {c["id"] for c in checks if c["status"] == "SUCCESS"}
    assert NEEDS_FIXTURES <= passed, sorted(passed)
    assert len(passed) >= 15


def test_the_default_bake_fails_exactly_the_four_and_the_ci_baseline_names_them(pristine, tmp_path):
    with LocalServer(pristine, "--no-reload") as server:
        checks = run_scenario(server.url, "server-stateless", "2026-07-28", tmp_path)
        assert set(_not_passed(checks)) == NOT_APPLICABLE | NEEDS_FIXTURES
        baseline = pristine / ".github" / "conformance-expected-failures.yml"
        listed = set(re.findall(r"^  - server-stateless:(\S+)$", baseline.read_text(encoding="utf-8"), re.M))
        assert listed == NOT_APPLICABLE | NEEDS_FIXTURES
        # The generated CI's command, with that baseline: it passes.
        done = subprocess.run([*node_command(), str(CONFORMANCE), "server", "--url", server.url, "--scenario",
                               "server-stateless", "--spec-version", "2026-07-28", "--expected-failures",
                               str(baseline)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              check=False)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-800:]
    ci = (pristine / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "--scenario server-stateless --spec-version 2026-07-28" in ci
    assert "--expected-failures .github/conformance-expected-failures.yml" in ci
    assert "@modelcontextprotocol/conformance@0.2.0-alpha.12" in ci


def test_the_runtime_never_sends_a_request_to_the_client(pristine):
    sources = {p.name: p.read_text(encoding="utf-8") for p in (pristine / "plugin_runtime").glob("*.py")}
    assert len(sources) > 10
    for name, text in sources.items():
        for method in CLIENT_REQUESTS:
            assert method not in text, f"{name} sends {method}: then a tool may need a client capability (-32021)"


def test_a_tool_answers_the_same_whatever_capabilities_the_client_declares(pristine, monkeypatch):
    monkeypatch.setenv("PLUGIN_AUTH", "none")
    with project_modules(pristine):
        import handler

        answers = []
        for capabilities in ({}, {"sampling": {}, "elicitation": {}, "roots": {}}):
            meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": capabilities}
            body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                    "params": {"name": "sumar", "arguments": {"numero1": 2, "numero2": 3}, "_meta": meta}}
            host = "abc.execute-api.us-east-1.amazonaws.com"
            event = {"version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
                     "headers": {"host": host, "content-type": "application/json",
                                 "accept": "application/json, text/event-stream",
                                 "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "sumar"},
                     "requestContext": {"domainName": host, "requestId": "r",
                                        "http": {"method": "POST", "path": "/mcp", "sourceIp": "203.0.113.1"}},
                     "body": json.dumps(body), "isBase64Encoded": False}
            response = handler.plugin.lambda_handler(event, None)
            assert response["statusCode"] == 200
            assert response["headers"]["content-type"].startswith("application/json")  # one message, no stream
            answers.append(json.loads(response["body"])["result"])
    assert answers[0] == answers[1] and answers[0]["structuredContent"] == {"resultado": 5}
