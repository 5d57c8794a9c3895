"""The Terraform for MCP Tasks (tasks.tf, storage = "dynamodb"): the RunOwnTasks statement (only
lambda:InvokeFunction, on this function only), the event invoke config (no retries, events at most
60 s old) and the task-failures alarm and dashboard row, all only with storage; lambda_timeout_seconds
takes 1..900 and a timeout of 30 or more without storage warns. Static rules and plans against a
moto_server that only answers STS; tests/test_storage_e2e.py checks the applied resources."""

from __future__ import annotations

import json
import subprocess

import hcl2
import pytest
from bake_support import bake
from test_terraform import TEMPLATE_PROJECT, _tfvars, blocks, unquote
from tf_support import Terraform, moto_or_skip, moto_server, terraform_or_skip, write_moto_override

TASK_RESOURCES = {"aws_lambda_function_event_invoke_config.tasks[0]",
                  'aws_cloudwatch_metric_alarm.this["task-failures"]'}
CHECK = "long_timeout_needs_storage"


def _lambda_policy_statements() -> list[dict]:
    """The dynamic statements of main.tf's policy document for the function's role."""
    data = hcl2.loads((TEMPLATE_PROJECT / "main.tf").read_text(encoding="utf-8"))["data"]
    documents = {unquote(name): body for block in data for kind, named in block.items()
                 if unquote(kind) == "aws_iam_policy_document" for name, body in named.items()
                 if not name.startswith("__")}
    return [{"for_each": dynamic["for_each"], **unquote(dynamic["content"][0])}
            for block in documents["lambda"]["dynamic"] for dynamic in [block['"statement"']]]


def test_run_own_tasks_is_invoke_on_this_function_only_and_only_with_storage():
    (statement,) = [s for s in _lambda_policy_statements() if s.get("sid") == "RunOwnTasks"]
    assert statement["for_each"] == "${local.storage_enabled ? [1] : []}"
    assert statement["actions"] == ["lambda:InvokeFunction"]
    assert statement["resources"] == ["${local.function_arn}"]
    # The ARN AWS gives a function named var.name; the function's own arn would be a cycle (the
    # function depends on the role's policy).
    tf_locals = hcl2.loads((TEMPLATE_PROJECT / "tasks.tf").read_text(encoding="utf-8"))["locals"][0]
    assert unquote(tf_locals["function_arn"]) == (
        "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:"
        "${data.aws_caller_identity.current.account_id}:function:${var.name}")
    function = blocks(TEMPLATE_PROJECT / "main.tf", "resource")["aws_lambda_function"]
    assert unquote(function['"this"']["function_name"]) == "${var.name}"
    main = (TEMPLATE_PROJECT / "main.tf").read_text(encoding="utf-8")
    policy = main.split('data "aws_iam_policy_document" "lambda"', 1)[1].split('\nresource "', 1)[0]
    assert "aws_lambda_function.this" not in policy


def test_the_checkov_skip_for_a_dead_letter_queue_explains_the_asynchronous_tasks():
    main = (TEMPLATE_PROJECT / "main.tf").read_text(encoding="utf-8")
    (reason,) = [line.split("CKV_AWS_116:", 1)[1] for line in main.splitlines() if "checkov:skip=CKV_AWS_116" in line]
    assert "asynchronously" in reason and "task record" in reason and "retries are off" in reason


@pytest.fixture(scope="module")
def tasks_plans(tmp_path_factory):
    """Plans of a default project (timeouts 10 and 30) and a storage project (timeout 900) against
    a moto_server (only STS answers: the account the ARNs are built from), and a console for each."""
    binary, mirror = terraform_or_skip()
    moto_or_skip()
    cache = tmp_path_factory.mktemp("tf-plugin-cache")
    with moto_server(tmp_path_factory.mktemp("moto-tasks") / "moto.log") as url:
        projects = {}
        for kind, settings in (("none", {}), ("dynamodb", {"storage": "dynamodb"})):
            project = bake(tmp_path_factory.mktemp(f"tasks-{kind}"), **settings)
            tf = Terraform(project, binary, mirror, cache)
            tf.init()
            write_moto_override(project, url, lifecycle=True)
            projects[kind] = (project, tf)

        def plan(kind: str, timeout: int) -> tuple[dict, str]:
            _, tf = projects[kind]
            run = tf.run("plan", f"-var=lambda_timeout_seconds={timeout}", f"-out=t{timeout}.tfplan")
            return json.loads(tf.run("show", "-json", f"t{timeout}.tfplan").stdout), run.stdout + run.stderr

        def console(kind: str, expression: str, *args: str) -> str:
            project, tf = projects[kind]
            result = subprocess.run([binary, "console", "-no-color", *args], input=expression + "\n", cwd=project,
                                    env=tf.env, capture_output=True, text=True, timeout=120, check=False)
            return result.stdout + result.stderr

        yield {"none": plan("none", 10), "none30": plan("none", 30), "dynamodb": plan("dynamodb", 900),
               "console": console, "name": _tfvars(projects["none"][0])["name"]}


def _changes(plan: dict) -> dict[str, dict]:
    return {c["address"]: c["change"]["after"] for c in plan["resource_changes"] if c["mode"] == "managed"}


def _check(plan: dict) -> dict:
    (found,) = [c for c in plan.get("checks", []) if c["address"] == {"kind": "check", "name": CHECK,
                                                                     "to_display": f"check.{CHECK}"}]
    return found


def test_with_storage_the_event_invoke_config_and_the_alarm_are_planned(tasks_plans):
    plan, output = tasks_plans["dynamodb"]
    name, changes = tasks_plans["name"], _changes(tasks_plans["dynamodb"][0])
    assert TASK_RESOURCES <= set(changes), sorted(changes)
    invoke = changes["aws_lambda_function_event_invoke_config.tasks[0]"]
    assert (invoke["function_name"], invoke["maximum_retry_attempts"], invoke["maximum_event_age_in_seconds"]) \
        == (name, 0, 60)
    assert invoke.get("qualifier") in (None, "") and invoke.get("destination_config") in (None, [])
    alarm = changes['aws_cloudwatch_metric_alarm.this["task-failures"]']
    assert {k: alarm[k] for k in ("alarm_name", "namespace", "metric_name", "dimensions", "statistic", "threshold",
                                  "comparison_operator", "treat_missing_data", "evaluation_periods", "period")} == {
        "alarm_name": f"{name}-task-failures", "namespace": name, "metric_name": "TasksFailed",
        "dimensions": {"Service": name}, "statistic": "Sum", "threshold": 1,
        "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching",
        "evaluation_periods": 1, "period": 300}
    assert changes["aws_lambda_function.this"]["timeout"] == 900
    # 900 s with storage: the check passes and says nothing
    assert _check(plan)["status"] == "pass" and CHECK not in output and "Check block" not in output


def _task_widgets(tasks_plans, kind: str) -> list[dict]:
    """The dashboard's tasks row (the whole body is known only after apply: the e2e test reads it)."""
    output = tasks_plans["console"](kind, "jsonencode(local.task_dashboard_widgets)")
    return json.loads(json.loads(output.strip().splitlines()[-1]))


def test_with_storage_the_dashboard_has_a_tasks_row(tasks_plans):
    name, tasks = tasks_plans["name"], _task_widgets(tasks_plans, "dynamodb")
    assert [(w["x"], w["y"], w["width"], w["height"]) for w in tasks] == [(0, 30, 12, 6), (12, 30, 12, 6)]
    searches = [m[0]["expression"] for w in tasks for m in w["properties"]["metrics"]]
    schema = f'{{"{name}",Service,Operation}}'
    assert searches == [f"SEARCH('{schema} MetricName=\"{metric}\"', '{stat}', 300)" for metric, stat in (
        ("TasksCreated", "Sum"), ("TasksCompleted", "Sum"), ("TasksFailed", "Sum"), ("TasksCancelled", "Sum"),
        ("TaskDuration", "p50"), ("TaskDuration", "Maximum"))]
    for widget in tasks:  # a graph's expression ids: distinct, starting with a lower-case letter
        ids = [m[0]["id"] for m in widget["properties"]["metrics"]]
        assert len(ids) == len(set(ids)) and all(i[0].islower() and i.isalnum() for i in ids), ids
    # Below the storage row (y = 24), in the dashboard, with the alarm in the alarms widget.
    monitoring = (TEMPLATE_PROJECT / "monitoring.tf").read_text(encoding="utf-8")
    assert "local.storage_dashboard_widgets,\n      local.task_dashboard_widgets\n" in monitoring
    # the alarms widget lists every alarm of local.alarms, the task-failures one among them
    dashboard = monitoring.split('"aws_cloudwatch_dashboard"')[1]
    assert "[for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]" in dashboard


def test_without_storage_nothing_of_tasks_is_planned(tasks_plans):
    plan, output = tasks_plans["none"]
    changes = _changes(plan)
    assert not TASK_RESOURCES & set(changes)
    assert not [a for a in changes if "task" in a], sorted(changes)
    assert _task_widgets(tasks_plans, "none") == []
    assert _check(plan)["status"] == "pass" and "Check block" not in output


def test_a_long_timeout_without_storage_warns(tasks_plans):
    """30 s or more only helps tasks, which need the store: the plan goes on, with a warning."""
    plan, output = tasks_plans["none30"]
    check = _check(plan)
    assert check["status"] == "fail", check
    (problem,) = [p["message"] for i in check["instances"] for p in i.get("problems", [])]
    assert "storage = \"dynamodb\"" in problem and "30 s" in problem
    flat = " ".join(output.split())
    assert "Warning: Check block assertion failed" in flat and "lambda_timeout_seconds of 30 or more" in flat
    assert _changes(plan)["aws_lambda_function.this"]["timeout"] == 30


@pytest.mark.parametrize(("region", "partition"), [("cn-north-1", "aws-cn")])
def test_the_granted_arn_is_the_functions(tasks_plans, region, partition):
    """The function's ARN as AWS builds it: partition, region, the caller's account, the name
    (`console -plan` reads the data sources, as a plan does). One partition other than "aws" shows
    each part is read, not written in; the e2e checks the applied one in "aws"."""
    arn = tasks_plans["console"]("dynamodb", "local.function_arn", "-plan", f"-var=aws_region={region}")
    assert json.loads(arn.strip().splitlines()[-1]) == \
        f"arn:{partition}:lambda:{region}:123456789012:function:{tasks_plans['name']}", arn


# 30 and 10 are planned above and 901 is among test_terraform's bad values: the edges left.
@pytest.mark.parametrize(("timeout", "valid"), [(1, True), (900, True), (0, False), (2.5, False)])
def test_lambda_timeout_seconds_is_a_whole_number_from_1_to_900(tasks_plans, timeout, valid):
    output = tasks_plans["console"]("none", "var.lambda_timeout_seconds", f"-var=lambda_timeout_seconds={timeout}")
    if valid:
        assert output.strip().splitlines()[-1] == str(timeout), output
    else:
        flat = " ".join(output.split())
        assert "Invalid value for variable" in flat and "lambda_timeout_seconds must be a whole number from 1 to 900" \
            in flat, output[-2000:]
