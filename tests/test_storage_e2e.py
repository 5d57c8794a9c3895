"""storage = "dynamodb" end to end on moto_server: a real `terraform apply` of a project with the
README's notes app; the table's settings, the IAM statement and the table's name in the function's
environment; for tasks (tasks.tf) the function's grant to invoke itself, its asynchronous
invocations without retries, the task-failures alarm and dashboard row; the deployed zip, run with
the deployed configuration against moto (two callers, isolation, conflicts, TTL); a plan after
apply shows no changes; destroy is refused while deletion protection is on and works once it is
off."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from bake_support import bake, with_operation
from test_storage_bake import add_notes_app
from test_terraform import _new_key, _outputs, _run_zip, _tfvars
from tf_support import Terraform, boto3_clients, moto_or_skip, moto_server, terraform_or_skip, write_moto_override

BRIEF = '''

class Brief(TypedDict):
    found: bool


@plugin.operation()
def keep_briefly(key: str, ctx: Context) -> Brief:
    """Keep a value for one second."""
    ctx.store.put(key, "brief", ttl_seconds=1)
    return {"found": ctx.store.get(key) is not None}


@plugin.operation(read_only=True)
def still_there(key: str, ctx: Context) -> Brief:
    """Whether the value is still kept."""
    return {"found": ctx.store.get(key) is not None}


class Tally(TypedDict):
    kept: int


@plugin.operation(read_only=True, task="required")
def tally(ctx: Context) -> Tally:
    """Count what the caller keeps, in the background (an MCP task)."""
    ctx.progress("counting")
    return {"kept": len(ctx.store.list().items)}
'''


@pytest.fixture(scope="module")
def tf_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tf-plugin-cache")


def event(op: str, body: dict, key: str) -> dict:
    return {"version": "2.0", "rawPath": f"/{op}", "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": "api.example.com",
                        "authorization": f"Bearer {key}"},
            "requestContext": {"requestId": f"e2e-{op}", "domainName": "api.example.com",
                               "http": {"method": "POST", "path": f"/{op}"}},
            "body": json.dumps(body), "isBase64Encoded": False}


def mcp(method: str, params: dict, key: str) -> dict:
    """A 2025-11-25 JSON-RPC request to /mcp, as API Gateway hands it over."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return {**event("mcp", {}, key), "body": json.dumps(body),
            "headers": {**event("mcp", {}, key)["headers"], "mcp-protocol-version": "2025-11-25",
                        "accept": "application/json, text/event-stream"}}


class FakeLambda:
    """Lambda's Invoke endpoint for the runtime's asynchronous invoke (moto cannot run code):
    records each signed Event invocation and answers 202, as Lambda queues it."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.calls: list[tuple[str, dict, dict]] = []
        calls = self.calls

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


WORKER = """
import json, sys, time
sys.path.insert(0, ".")
import handler

class Context:  # what Lambda passes an asynchronous invocation: the deployed timeout
    aws_request_id = "e2e-worker"
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
    def get_remaining_time_in_millis(self):
        return int((self.end - time.monotonic()) * 1000)

seconds, events = json.load(sys.stdin)
print(json.dumps([handler.lambda_handler(e, Context(seconds)) for e in events]))
"""


def run_worker(folder: Path, env: dict, seconds: int, payloads: list[dict]) -> list[dict]:
    """The deployed zip (already extracted by _run_zip) as Lambda runs an asynchronous invocation."""
    import subprocess

    run = subprocess.run([sys.executable, "-I", "-c", WORKER], cwd=folder, input=json.dumps([seconds, payloads]),
                         capture_output=True, text=True, timeout=120, check=False,
                         env={"PATH": os.environ.get("PATH", ""), **env})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def answers(responses: list[dict]) -> list[tuple[int, object]]:
    return [(r["statusCode"], json.loads(r["body"])) for r in responses]


def test_storage_apply_isolation_conflicts_ttl_and_protected_destroy(tmp_path: Path, tf_cache):
    binary, mirror = terraform_or_skip()
    moto_or_skip()
    project = bake(tmp_path / "p", plugin_name="Notas Plugin", storage="dynamodb", auth="api_key")
    add_notes_app(project)
    handler = project / "handler.py"
    handler.write_text(with_operation(handler.read_text(encoding="utf-8"), BRIEF), encoding="utf-8")
    ana, bob = _new_key(project, "ana"), _new_key(project, "bob")
    with moto_server(tmp_path / "moto.log") as endpoint:
        write_moto_override(project, endpoint)
        tf = Terraform(project, binary, mirror, tf_cache)
        tf.env["TF_VAR_python"] = sys.executable
        tf.init()
        started = time.perf_counter()
        tf.run("apply", "-auto-approve")
        apply_seconds = time.perf_counter() - started
        name, region = _tfvars(project)["name"], _tfvars(project)["aws_region"]
        aws = boto3_clients(endpoint, region)
        out = _outputs(tf)
        table_name = f"{name}-store"
        assert out["store_table"] == table_name

        # The table: on demand, PITR, encrypted, TTL on ex, deletion protection.
        import boto3

        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["DeletionProtectionEnabled"] is True
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]) == [("pk", "HASH"),
                                                                                           ("sk", "RANGE")]
        backups = dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ex")

        # The role may use exactly the four calls, on that table only.
        fn = aws["lambda"].get_function(FunctionName=name)["Configuration"]
        role = fn["Role"].rsplit("/", 1)[1]
        statements = []
        for policy in aws["iam"].list_role_policies(RoleName=role)["PolicyNames"]:
            document = aws["iam"].get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            statements += (json.loads(document) if isinstance(document, str) else document)["Statement"]
        store = [s for s in statements if "dynamodb" in json.dumps(s)]
        assert len(store) == 1, store
        assert sorted(store[0]["Action"]) == ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query",
                                              "dynamodb:UpdateItem"]
        assert store[0]["Resource"] == table["TableArn"] and store[0]["Effect"] == "Allow"
        environment = fn["Environment"]["Variables"]
        assert environment["PLUGIN_STORE_TABLE"] == table_name
        alarms = {a["AlarmName"]: a for a in aws["cloudwatch"].describe_alarms()["MetricAlarms"]}
        assert {f"{name}-store-throttles", f"{name}-store-system-errors", f"{name}-task-failures"} <= set(alarms)

        # Tasks: the function may invoke itself (the runtime's asynchronous worker) and nothing
        # else; Lambda never retries those invocations and drops events older than a minute.
        (own,) = [s for s in statements if s.get("Sid") == "RunOwnTasks"]
        assert (own["Effect"], own["Action"], own["Resource"]) == ("Allow", "lambda:InvokeFunction", fn["FunctionArn"])
        assert [s for s in statements if "lambda:" in json.dumps(s)] == [own]
        invoke = aws["lambda"].get_function_event_invoke_config(FunctionName=name)
        assert (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]) == (0, 60), invoke
        assert not invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        failures = alarms[f"{name}-task-failures"]
        assert (failures["Namespace"], failures["MetricName"], failures["Dimensions"], failures["Statistic"],
                failures["Threshold"], failures["ComparisonOperator"], failures["TreatMissingData"]) == (
            name, "TasksFailed", [{"Name": "Service", "Value": name}], "Sum", 1.0, "GreaterThanOrEqualToThreshold",
            "notBreaching")
        assert failures["AlarmActions"] == failures["OKActions"] == [out["alarm_topic_arn"]]
        dashboard = json.loads(aws["cloudwatch"].get_dashboard(DashboardName=name)["DashboardBody"])
        titles = [w["properties"].get("title") for w in dashboard["widgets"]]
        assert titles[-3:] == ["Store table", "Tasks by operation (created, completed, failed, cancelled)",
                               "Task duration by operation (p50, max; ms)"], titles
        (alarm_widget,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
        assert failures["AlarmArn"] in alarm_widget["properties"]["alarms"]

        # The deployed zip with the deployed configuration, against moto: no boto3 on this path.
        lambda_env = {**environment, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                      "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "e2e-session", "AWS_REGION": region,
                      "AWS_LAMBDA_FUNCTION_NAME": name, "HOME": str(tmp_path)}
        first = answers(_run_zip(project, lambda_env, [
            event("add_note", {"text": "de Ana"}, ana),
            event("list_notes", {}, bob),
            event("keep_briefly", {"key": "tmp"}, ana),
        ], tmp_path, {}))
        (status, note), (_, bobs), (_, brief) = first
        assert status == 200 and note["text"] == "de Ana", first
        assert bobs == {"notes": [], "cursor": ""} and brief == {"found": True}
        time.sleep(2.1)
        second = answers(_run_zip(project, lambda_env, [
            event("list_notes", {}, ana),
            event("delete_note", {"id": note["id"]}, bob),
            event("delete_note", {"id": note["id"], "version": note["version"] + 1}, ana),
            event("still_there", {"key": "tmp"}, ana),
            event("add_note", {"text": ""}, ana),
            event("delete_note", {"id": note["id"], "version": note["version"]}, ana),
            event("list_notes", {}, ana),
        ], tmp_path, {}))
        assert second[0] == (200, {"notes": [note], "cursor": ""})
        assert second[1] == (200, {"deleted": False})  # bob cannot reach ana's note
        assert second[2][0] == 409 and second[2][1]["error"] == "conflict"
        assert second[3] == (200, {"found": False})  # expired: never returned, even if moto still holds it
        assert second[4][0] == 400
        assert second[5] == (200, {"deleted": True})
        assert second[6] == (200, {"notes": [], "cursor": ""})
        items = dynamodb.scan(TableName=table_name)["Items"]
        assert all(i["pk"]["S"].startswith("c#") and len(i["pk"]["S"]) == 42 for i in items), items

        # A task through the deployed zip: the request stores it and invokes the function itself
        # (signed, InvocationType Event, the function's own name); that invocation, run as Lambda
        # runs it with the deployed timeout, does the work as the same caller; the result is read back.
        fake = FakeLambda()
        try:
            task_env = {**lambda_env, "AWS_ENDPOINT_URL_LAMBDA": fake.url}
            (started,) = _run_zip(project, task_env, [mcp("tools/call", {"name": "tally", "arguments": {},
                                                                         "task": {"ttl": 600000}}, ana)], tmp_path, {})
            task = json.loads(started["body"])["result"]["task"]
            assert task["status"] == "working" and task["ttl"] == 600000, started
            (path, headers, payload), = fake.calls
            assert path == f"/2015-03-31/functions/{name}/invocations" and headers["x-amz-invocation-type"] == "Event"
            assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
            assert f"/{region}/lambda/aws4_request" in headers["authorization"]
            assert headers["x-amz-security-token"] == "e2e-session"
            assert set(payload) == {"plugin_task"} and task["taskId"] not in json.dumps(headers)
        finally:
            fake.close()
        records = [i for i in dynamodb.scan(TableName=table_name)["Items"] if i["pk"]["S"].startswith("t#")]
        assert len(records) == 1 and records[0]["sk"]["S"] == task["taskId"], records
        folder = tmp_path / f"task-{project.name}"
        assert run_worker(folder, lambda_env, fn["Timeout"], [payload, payload]) == [{"status": "completed"},
                                                                                    {"status": "ignored"}]
        got, result, theirs = (json.loads(r["body"]) for r in _run_zip(project, lambda_env, [
            mcp("tasks/get", {"taskId": task["taskId"]}, ana),
            mcp("tasks/result", {"taskId": task["taskId"]}, ana),
            mcp("tasks/get", {"taskId": task["taskId"]}, bob),
        ], tmp_path, {}))
        assert got["result"]["status"] == "completed" and "statusMessage" not in got["result"], got
        assert result["result"]["structuredContent"] == {"kept": 0}, result  # ana deleted her note above
        assert theirs["error"]["code"] == -32602  # bob: not found

        # Nothing drifts; destroy is refused while the table is protected, and works once it is not.
        plan = tf.run("plan", "-detailed-exitcode", "-no-color", ok=(0, 2))
        assert plan.returncode == 0, plan.stdout[-3000:]
        refused = tf.run("destroy", "-auto-approve", "-no-color", ok=(1,))
        assert "deletionprotectionenabled is set to true" in " ".join(refused.stderr.split()).lower(), \
            refused.stderr[-2000:]
        assert dynamodb.describe_table(TableName=table_name)["Table"]["TableName"] == table_name
        tf.run("apply", "-auto-approve", "-var", "storage_deletion_protection=false")
        tf.run("destroy", "-auto-approve")
        assert table_name not in dynamodb.list_tables()["TableNames"]
    print(f"\nstorage e2e: apply {apply_seconds:.1f} s", file=sys.stderr if os.environ.get("CI") else sys.stdout)
