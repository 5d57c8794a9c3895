"""The generated Terraform: static rules, fmt/validate on every prompt variant, checkov, and a real
`terraform apply` / update / destroy cycle against moto_server.

Needs terraform on PATH and TF_PLUGIN_MIRROR (provider mirror root); checkov via CHECKOV_BIN (its
own virtualenv); moto[server] from requirements-dev.txt. Each missing tool skips with the reason.
Run with `-s` to see the timings the end-to-end test prints.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import hcl2
import pytest
from bake_support import TEMPLATE, bake
from tf_support import (
    FULL_E2E,
    Terraform,
    boto3_clients,
    checkov_or_skip,
    moto_or_skip,
    moto_server,
    source_globs_of,
    terraform_or_skip,
    write_moto_override,
)

TEMPLATE_PROJECT = TEMPLATE / "{{cookiecutter.__plugin_slug}}"
VARIANTS = {
    "default": {},
    "x86_64": {"lambda_architecture": "x86_64"},
    "python3.12": {"lambda_runtime": "python3.12"},
    "python3.14": {"lambda_runtime": "python3.14"},
    "eu-west-1": {"aws_region": "eu-west-1"},
    "us-gov-west-1": {"aws_region": "us-gov-west-1"},
    "cn-north-1": {"aws_region": "cn-north-1"},
    "api_key": {"auth": "api_key"},
    "oauth": {"auth": "oauth"},
    "storage": {"storage": "dynamodb"},
    "ops": {},  # the default bake with every optional feature of OPS_TFVARS set
}
# Settings a user adds to terraform.tfvars (not prompts): the "ops" variant appends them.
OPS_TFVARS = """
log_level                    = "WARN"
alarm_email                  = "ops@example.com"
settings                     = { GREETING = "Hola", MAX_LEN = "20" }
secrets                      = ["API_TOKEN"]
domain_name                  = "api.example.com"
hosted_zone_id               = "Z0123456789ABCDEFGHIJ"
disable_execute_api_endpoint = true
"""
# Checks skipped inline in the .tf files (each with its reason there); anything else must pass.
EXPECTED_SKIPS = {
    "CKV_AWS_18", "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_144", "CKV_AWS_145",
    "CKV_AWS_158", "CKV_AWS_272", "CKV_AWS_309", "CKV_AWS_338", "CKV2_AWS_62",
    "CKV_AWS_173", "CKV_AWS_26", "CKV_AWS_337", "CKV_AWS_119",
}
CORS_HEADERS = {"content-type", "authorization", "mcp-protocol-version", "mcp-session-id", "mcp-method", "mcp-name"}


def unquote(value):
    """python-hcl2 >= 7 keeps the quotes of string literals; older versions drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


def hcl_attributes(path: Path) -> dict:
    """A flat HCL file's attributes (python-hcl2 8 adds a __comments__ entry)."""
    return {k: unquote(v) for k, v in hcl2.loads(path.read_text(encoding="utf-8")).items() if not k.startswith("__")}


def blocks(path: Path, kind: str) -> dict[str, dict]:
    """Top-level blocks of one kind (variable, output, ...) by name."""
    found: dict[str, dict] = {}
    for block in hcl2.loads(path.read_text(encoding="utf-8")).get(kind, []):
        for name, body in block.items():
            if not name.startswith("__"):
                found[unquote(name)] = body
    return found


@pytest.fixture(scope="session")
def tf_cache(tmp_path_factory) -> Path:
    """One provider cache for every init in the session: later inits only link the provider."""
    return tmp_path_factory.mktemp("tf-plugin-cache")


@pytest.fixture(scope="session")
def baked(tmp_path_factory):
    """Bakes each prompt variant once per session, shared by the validate and checkov tests."""
    projects: dict[str, Path] = {}

    def get(variant: str) -> Path:
        if variant not in projects:
            projects[variant] = bake(tmp_path_factory.mktemp(f"tf-{variant}"), **VARIANTS[variant])
            if variant == "ops":
                with (projects[variant] / "terraform.tfvars").open("a", encoding="utf-8") as tfvars:
                    tfvars.write(OPS_TFVARS)
            if variant == "storage":  # quotas count in the store: a default one for every operation
                with (projects[variant] / "terraform.tfvars").open("a", encoding="utf-8") as tfvars:
                    tfvars.write('default_quota = "1000/day"\n')
        return projects[variant]

    return get


# --- static rules (no tools needed) -------------------------------------------------------------

def test_the_hashed_files_are_the_zipped_files():
    """main.tf's build trigger hashes exactly the files build.py zips, or edits would not deploy."""
    tf_locals = hcl2.loads((TEMPLATE_PROJECT / "main.tf").read_text(encoding="utf-8"))["locals"][0]
    assert unquote(tf_locals["source_globs"]) == source_globs_of(TEMPLATE_PROJECT / "plugin_tools" / "build.py")


def test_the_secret_placeholder_is_the_one_the_runtime_refuses():
    """Terraform writes a placeholder into a new secret; the runtime must recognize it, not serve it."""
    tf_locals = hcl2.loads((TEMPLATE_PROJECT / "main.tf").read_text(encoding="utf-8"))["locals"][0]
    tree = ast.parse((TEMPLATE_PROJECT / "plugin_runtime" / "model_secrets.py").read_text(encoding="utf-8"))
    constants = {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert unquote(tf_locals["secret_placeholder"]) == constants["PLACEHOLDER"]
    assert "secret" not in constants["PLACEHOLDER"].lower().split("unset")[0]


def test_every_variable_and_output_is_described_and_every_tfvar_declared(baked):
    project = baked("default")
    variables = blocks(project / "variables.tf", "variable")
    outputs = blocks(project / "outputs.tf", "output")
    for kind, found in (("variable", variables), ("output", outputs)):
        undocumented = [name for name, body in found.items() if len(unquote(body.get("description", ""))) < 10]
        assert not undocumented, f"{kind}s without a description: {undocumented}"
    tfvars = hcl_attributes(project / "terraform.tfvars")
    assert set(tfvars) <= set(variables), f"undeclared tfvars: {set(tfvars) - set(variables)}"
    assert {"api_endpoint", "base_url", "manifest_url", "openapi_url", "mcp_url", "function_name", "bucket_name",
            "log_group_name"} <= set(outputs)


def test_only_the_aws_provider_and_no_deprecated_resources():
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(TEMPLATE_PROJECT.glob("*.tf")))
    terraform = hcl2.loads((TEMPLATE_PROJECT / "main.tf").read_text(encoding="utf-8"))["terraform"][0]
    providers = {k: {a: unquote(v) for a, v in body.items()}
                 for k, body in terraform["required_providers"][0].items() if not k.startswith("__")}
    # 5.100 is what the offline mirror has; 6.x is what `terraform init` gives users today; below
    # 5.51 source_code_hash was read back from AWS and every plan would show a change.
    assert providers == {"aws": {"source": "hashicorp/aws", "version": ">= 5.51, < 7.0"}}
    assert unquote(terraform["required_version"]).startswith(">=")
    resources = set(re.findall(r'^resource\s+"([a-z0-9_]+)"', text, re.M))
    assert not resources & {"aws_s3_bucket_object", "null_resource", "archive_file"}
    assert "{{" not in text and "{%" not in text, "no Jinja in .tf files: baked values live in terraform.tfvars"
    # A lone throttling limit leaves the other at 0 and every request gets a 429.
    assert "throttling_burst_limit" in text and "throttling_rate_limit" in text


def test_the_ci_workflow_is_copied_verbatim_and_runs_every_check(baked):
    import yaml

    template = TEMPLATE_PROJECT / ".github" / "workflows" / "ci.yml"
    workflow = baked("default") / ".github" / "workflows" / "ci.yml"
    assert workflow.read_bytes() == template.read_bytes(), "ci.yml must not be rendered by Jinja"
    jobs = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]
    commands = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    for command in ("python -m pytest", "terraform fmt -check", "terraform init -backend=false",
                    "terraform validate", "checkov"):
        assert command in commands, f"ci.yml does not run {command!r}"
    assert "--skip-download" in commands and "--framework terraform" in commands


# --- terraform fmt / init / validate / plan on every variant --------------------------------------

PARTITIONS = {"us-gov-west-1": "aws-us-gov", "cn-north-1": "aws-cn"}
RESOURCES_PER_PLUGIN = 31  # with 7 alarms (ServerErrors and request Duration are the runtime's own metrics)
# OPS_TFVARS adds: certificate, its validation record and validation, API domain name, mapping,
# alias record, one secret parameter, the e-mail subscription.
RESOURCES = {"ops": RESOURCES_PER_PLUGIN + 8}
# auth = oauth adds the Cognito pool, its domain, the resource server, the facade's client, the
# secret's SSM parameter and the Lambda's permission to read it.
EXTRA_RESOURCES = {"oauth": {"aws_cognito_user_pool.this[0]", "aws_cognito_user_pool_domain.this[0]",
                             "aws_cognito_resource_server.this[0]", "aws_cognito_user_pool_client.this[0]",
                             "aws_ssm_parameter.cognito_client_secret[0]", "aws_iam_role_policy.oauth[0]",
                             "aws_ssm_parameter.oauth_signing_key[0]"},
                   # storage = dynamodb: the table and its two alarms; for tasks (tasks.tf) the event
                   # invoke config (no retries) and the task-failures alarm
                   "storage": {"aws_dynamodb_table.store[0]", "aws_cloudwatch_metric_alarm.store_throttles[0]",
                               "aws_cloudwatch_metric_alarm.store_system_errors[0]",
                               "aws_lambda_function_event_invoke_config.tasks[0]",
                               'aws_cloudwatch_metric_alarm.this["task-failures"]'}}


@pytest.fixture(scope="session")
def plan_moto(tmp_path_factory):
    """A moto_server for plans only (nothing is created in it): STS answers the account lookup."""
    moto_or_skip()
    with moto_server(tmp_path_factory.mktemp("moto-plan") / "moto.log") as url:
        yield url


@pytest.mark.parametrize("variant", VARIANTS)
def test_fmt_validate_and_plan(variant, baked, tf_cache, request):
    """validate ignores terraform.tfvars; the plan (which validates too) reads it, so it runs each
    variable's validation on the baked values, lets the provider check the region and the runtime,
    and computes the partition (aws-us-gov, aws-cn) the ARNs are built from."""
    binary, mirror = terraform_or_skip()
    project = baked(variant)
    tf = Terraform(project, binary, mirror, tf_cache)
    tf.run("fmt", "-check", "-recursive")
    tf.init()
    if variant == "default":
        result = tf.run("validate")
        assert "Success" in result.stdout
        assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    else:  # the .tf files carry no baked values, so validate would repeat the default's result
        default = baked("default")
        assert all(f.read_bytes() == (default / f.name).read_bytes() for f in project.glob("*.tf"))

    provider = _locked_provider_version(project)
    tfvars = _tfvars(project)
    write_moto_override(project, request.getfixturevalue("plan_moto"), lifecycle=True)
    try:
        if tfvars["lambda_runtime"] == "python3.14" and provider < (6, 20):
            # The provider validates runtimes against its own list; python3.14 arrived in 6.20.
            # `terraform init` online picks the newest 6.x; an older mirror must fail clearly.
            failed = tf.run("plan", ok=(1,))
            assert "python3.14" in failed.stderr and "expected runtime" in failed.stderr, failed.stderr[-2000:]
            return
        tf.run("plan", "-out=variant.tfplan")
        plan = json.loads(tf.run("show", "-json", "variant.tfplan").stdout)
    finally:  # the checkov tests scan this same folder: leave the template's files only
        for leftover in ("override.tf", "variant.tfplan"):
            (project / leftover).unlink(missing_ok=True)
    actions = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"] if c["mode"] == "managed"}
    assert set(map(tuple, actions.values())) == {("create",)}, actions
    extra = EXTRA_RESOURCES.get(variant, set())
    assert extra <= set(actions), sorted(actions)
    assert len(actions) == RESOURCES.get(variant, RESOURCES_PER_PLUGIN) + len(extra), sorted(actions)
    data = {r["address"]: r["values"] for r in plan["prior_state"]["values"]["root_module"]["resources"]}
    region = VARIANTS[variant].get("aws_region", "us-east-1")
    assert data["data.aws_partition.current"]["partition"] == PARTITIONS.get(region, "aws")
    planned = {r["address"]: r.get("values", {}) for r in plan["planned_values"]["root_module"]["resources"]}
    assert planned["aws_s3_bucket.this"]["bucket_prefix"] == tfvars["bucket_name"] == "sumar-plugin-"
    function = planned["aws_lambda_function.this"]
    assert function["runtime"] == tfvars["lambda_runtime"]
    assert function["architectures"] == [tfvars["lambda_architecture"]]
    logging = function["logging_config"][0]
    assert (logging["log_format"], logging["application_log_level"], logging["system_log_level"]) == \
        ("JSON", tfvars.get("log_level", "INFO"), "INFO")
    environment = function["environment"][0].get("variables")
    if environment is None:  # with oauth it names the Cognito pool and client, known after apply
        assert variant == "oauth"
        environment = {"PLUGIN_METRICS_NAMESPACE": tfvars["name"]}
    assert environment["PLUGIN_METRICS_NAMESPACE"] == tfvars["name"]
    assert {k: environment[k] for k in tfvars.get("settings", {})} == tfvars.get("settings", {})
    if variant == "storage":
        table = planned["aws_dynamodb_table.store[0]"]
        assert (table["billing_mode"], table["deletion_protection_enabled"], table["hash_key"], table["range_key"]) \
            == ("PAY_PER_REQUEST", True, "pk", "sk")
        assert table["point_in_time_recovery"][0]["enabled"] and table["server_side_encryption"][0]["enabled"]
        assert table["ttl"] == [{"attribute_name": "ex", "enabled": True}]
        assert environment["PLUGIN_STORE_TABLE"] == f"{tfvars['name']}-store"
        assert environment["PLUGIN_DEFAULT_QUOTA"] == "1000/day"
    else:
        assert "PLUGIN_STORE_TABLE" not in environment and "PLUGIN_DEFAULT_QUOTA" not in environment
    if variant == "ops":  # every URL the build and the published manifest use is the custom domain's
        assert planned["terraform_data.build"]["triggers_replace"][1] == "https://api.example.com"  # --origin
        manifest = json.loads(planned["aws_s3_object.manifest"]["content"])
        assert manifest["api"]["url"] == "https://api.example.com/openapi.json"
        assert planned["aws_apigatewayv2_api.this"]["disable_execute_api_endpoint"] is True
        assert environment["PLUGIN_SECRETS"] == "API_TOKEN"
        assert environment["PLUGIN_SECRETS_PREFIX"] == f"/{tfvars['name']}/secrets/"


# A value of each new variable that must fail `terraform plan` with an error naming the variable.
BAD_VALUES = {
    "domain_name": '"https://api.example.com"',
    "hosted_zone_id": '"/hostedzone/Z0123456789"',
    "alarm_email": '"ops at example.com"',
    "settings": '{ AWS_REGION = "eu-west-1", "two words" = "x" }',
    "secrets": '["api-token", "api-token"]',
    "log_level": '"VERBOSE"',
    "system_log_level": '"ERROR"',
    "storage": '"sqlite"',
    "default_quota": '"100/week"',
}


def test_bad_values_fail_at_plan_naming_the_variable(tmp_path, tf_cache, plan_moto):
    """A wrong domain, e-mail, setting name or level in terraform.tfvars stops `terraform plan`
    before anything is created, with a message that names the variable; so do the two flags that
    only make sense with a custom domain."""
    binary, mirror = terraform_or_skip()
    project = bake(tmp_path)
    tf = Terraform(project, binary, mirror, tf_cache)
    tf.init()
    write_moto_override(project, plan_moto)
    (project / "bad.tfvars").write_text("".join(f"{k} = {v}\n" for k, v in BAD_VALUES.items()), encoding="utf-8")
    bad = tf.run("plan", "-var-file=bad.tfvars", ok=(1,))
    for variable in BAD_VALUES:
        assert f"var.{variable}" in bad.stderr and f"The {variable} must" in " ".join(bad.stderr.split()), \
            f"no validation error for {variable}:\n{bad.stderr[-3000:]}"
    for flags, message in ((["-var=disable_execute_api_endpoint=true"], "disable_execute_api_endpoint = true needs a"),
                           (["-var=hosted_zone_id=Z0123456789"], "hosted_zone_id is set without a domain_name")):
        failed = tf.run("plan", *flags, ok=(1,))
        assert message in " ".join(failed.stderr.split()), failed.stderr[-3000:]


def test_bucket_name_is_a_prefix_a_full_name_or_derived(tmp_path, tf_cache, plan_moto):
    """terraform.tfvars holds a prefix (Terraform picks the unique name once and keeps it in the
    state; the plans above and the end-to-end test check the resource); a full name, as projects
    baked before prefixes have, is used as is; with none, the prefix comes from name (lowercased,
    "_" as "-", at most 37 characters with the "-"). Anything else fails validation. `terraform
    console` evaluates each case in a second or two, where a plan takes several."""
    binary, mirror = terraform_or_skip()
    project = bake(tmp_path)
    write_moto_override(project, plan_moto, lifecycle=True)
    tf = Terraform(project, binary, mirror, tf_cache)
    tf.init()

    def console(expression: str, *args: str) -> str:
        result = subprocess.run([binary, "console", "-no-color", *args], input=expression + "\n", cwd=project,
                                env=tf.env, capture_output=True, text=True, timeout=120, check=False)
        return result.stdout + result.stderr

    bucket = "jsonencode([local.bucket_is_prefix ? null : var.bucket_name, local.bucket_prefix])"
    assert json.loads(json.loads(console(bucket))) == [None, "sumar-plugin-"]
    assert json.loads(json.loads(console(bucket, f"-var=bucket_name={LEGACY_BUCKET}"))) == [LEGACY_BUCKET, None]
    (project / "derived.tfvars").write_text('name = "' + "Ab" * 17 + 'C_Def"\nbucket_name = null\n')
    # Cut at 36 characters, where the "_" became a "-", which is kept only once.
    assert json.loads(json.loads(console(bucket, "-var-file=derived.tfvars"))) == [None, "ab" * 17 + "c-"]
    for bad in ("Upper-", "a" * 37 + "-", "xn--plugin-", "a..b"):
        output = console("var.bucket_name", f"-var=bucket_name={bad}")
        assert "Invalid value for variable" in output and "bucket_name" in output, (bad, output[-2000:])


def _locked_provider_version(project: Path) -> tuple[int, ...]:
    """The hashicorp/aws version `terraform init` picked, from .terraform.lock.hcl."""
    lock = (project / ".terraform.lock.hcl").read_text(encoding="utf-8")
    match = re.search(r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([0-9.]+)"', lock)
    assert match, lock
    return tuple(int(part) for part in match.group(1).split("."))


# --- checkov ------------------------------------------------------------------------------------

def _checkov(checkov: str, project: Path) -> dict:
    # Not --quiet here: with it the JSON report leaves out the skipped checks the test inspects.
    # One folder per run: given several -d folders, checkov 3.3 reports identical files only once.
    run = subprocess.run([checkov, "--skip-download", "--framework", "terraform", "-d", str(project),
                          "--compact", "-o", "json"], capture_output=True, text=True, timeout=300, check=False)
    assert run.stdout.strip(), f"checkov printed nothing: {run.stderr[-2000:]}"
    report = json.loads(run.stdout)
    report = report[0] if isinstance(report, list) else report
    report["returncode"] = run.returncode
    return report


def test_checkov_finds_nothing_on_any_variant(baked):
    """0 failed checks on every variant; the only skips are the inline ones, each with a reason."""
    checkov = checkov_or_skip()
    projects = {variant: baked(variant) for variant in VARIANTS}
    with ThreadPoolExecutor(2) as pool:  # checkov's start-up dominates: two at a time
        reports = dict(zip(projects, pool.map(lambda p: _checkov(checkov, p), projects.values()), strict=True))
    for variant, report in reports.items():
        results = report["results"]
        failed = [f"{c['check_id']} {c['resource']}" for c in results["failed_checks"]]
        assert not failed, f"{variant}: checkov failed checks: {failed}"
        assert report["returncode"] == 0 and report["summary"]["parsing_errors"] == 0, variant
        skipped = {c["check_id"] for c in results["skipped_checks"]}
        assert skipped == EXPECTED_SKIPS, \
            f"{variant}: new skips {skipped - EXPECTED_SKIPS}, gone {EXPECTED_SKIPS - skipped}"
        assert all(c["check_result"].get("suppress_comment", "").strip() for c in results["skipped_checks"])
        assert report["summary"]["passed"] > 50, f"{variant}: only {report['summary']['passed']} checks ran"


# --- end to end on moto_server --------------------------------------------------------------------

def _tfvars(project: Path) -> dict:
    return hcl_attributes(project / "terraform.tfvars")


LEGACY_BUCKET = "restar-plugin-abcdefgh"


def _set_tfvar(project: Path, key: str, value: str) -> None:
    path = project / "terraform.tfvars"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} "))
    lines[index] = f"{key:<19} = {json.dumps(value)}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _outputs(tf: Terraform) -> dict:
    return {k: v["value"] for k, v in json.loads(tf.run("output", "-json").stdout).items()}


def _code_sha256(zip_path: Path) -> str:
    return base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()


def _new_key(project: Path, name: str) -> str:
    """A key made by the project's own tool; returns the key it printed once."""
    made = subprocess.run([sys.executable, "-m", "plugin_tools.keys", "new", name], cwd=project,
                          capture_output=True, text=True, timeout=60, check=True)
    return made.stdout.splitlines()[1]


def _assert_keys_deployed(aws: dict, project: Path, key: str, tmp_path: Path) -> None:
    """auth = api_key: the function's configuration carries the key's hash and never the key,
    and the deployed zip, run with that configuration, asks for the key."""
    name = _tfvars(project)["name"]
    env = aws["lambda"].get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert env["PLUGIN_AUTH"] == "api_key"
    assert json.loads(env["PLUGIN_API_KEYS"]) == {"e2e": hashlib.sha256(key.encode()).hexdigest()}
    assert key not in json.dumps(env)
    for state in project.glob("*.tfstate*"):
        assert key not in state.read_text(encoding="utf-8")
    assert key not in (project / "terraform.tfvars").read_text(encoding="utf-8")
    event = json.loads((project / "events" / "post_sumar.json").read_text(encoding="utf-8"))
    events = []
    for auth in (None, f"Bearer {key}"):
        headers = {k: v for k, v in event["headers"].items() if k != "authorization"}
        events.append({**event, "headers": {**headers, **({"authorization": auth} if auth else {})}})
    assert [r["statusCode"] for r in _run_zip(project, env, events, tmp_path, {})] == [401, 200]


def _run_zip(project: Path, env: dict, events: list[dict], tmp_path: Path, extra_env: dict) -> list[dict]:
    """The deployed zip, run locally with the deployed configuration (moto cannot run Lambda code)."""
    task = tmp_path / f"task-{project.name}"
    if not task.exists():
        with zipfile.ZipFile(project / "lambda.zip") as zf:
            zf.extractall(task)
    script = ("import json, sys, handler\n"
              "print(json.dumps([handler.lambda_handler(e, None) for e in json.load(sys.stdin)]))")
    run = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, '.'); {script}"], cwd=task,
                         input=json.dumps(events), capture_output=True, text=True, timeout=120, check=False,
                         env={"PATH": os.environ.get("PATH", ""), **env, **extra_env})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def _assert_oauth_deployed(aws: dict, project: Path, out: dict, tmp_path: Path, moto: str) -> None:
    """auth = oauth with Cognito: the pool, its domain, the resource server with the plugin's scope,
    the facade's client and its callback, the secret in SSM (and only there), least privilege to
    read it, and the deployed zip answering discovery, a 401 and a registration with that setup."""
    name, region = _tfvars(project)["name"], _tfvars(project)["aws_region"]
    endpoint = out["api_endpoint"]
    cognito, ssm = aws["cognito-idp"], aws["ssm"]
    env = aws["lambda"].get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    pool_id = env["PLUGIN_OAUTH_ISSUER"].rsplit("/", 1)[1]
    assert env["PLUGIN_OAUTH_ISSUER"] == f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    assert out["cognito_user_pool_id"] == pool_id
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["Name"] == name
    domain = pool.get("Domain") or out["cognito_login_domain"].split("//")[1].split(".")[0]
    assert cognito.describe_user_pool_domain(Domain=domain)["DomainDescription"]["UserPoolId"] == pool_id
    server = cognito.describe_resource_server(UserPoolId=pool_id, Identifier=name)["ResourceServer"]
    assert [s["ScopeName"] for s in server["Scopes"]] == ["invoke"]
    client = cognito.describe_user_pool_client(UserPoolId=pool_id,
                                               ClientId=env["PLUGIN_OAUTH_CLIENT_ID"])["UserPoolClient"]
    assert client["CallbackURLs"] == [f"{endpoint}/oauth/callback"] == [env["PLUGIN_OAUTH_CALLBACK_URL"]]
    assert client["AllowedOAuthFlows"] == ["code"] and f"{name}/invoke" in client["AllowedOAuthScopes"]
    assert "ALLOW_REFRESH_TOKEN_AUTH" not in client.get("ExplicitAuthFlows", [])  # refused with rotation
    assert env["PLUGIN_OAUTH_REVOKE_URL"] == env["PLUGIN_OAUTH_TOKEN_URL"].replace("/oauth2/token", "/oauth2/revoke")
    secret = client["ClientSecret"]
    assert secret not in json.dumps(env)  # the Lambda reads it from SSM on the first sign-in
    parameter = ssm.get_parameter(Name=env["PLUGIN_OAUTH_CLIENT_SECRET_PARAMETER"], WithDecryption=True)
    assert parameter["Parameter"]["Type"] == "SecureString" and parameter["Parameter"]["Value"] == secret
    policy = aws["iam"].get_role_policy(RoleName=f"{name}-lambda", PolicyName=f"{name}-oauth")["PolicyDocument"]
    statements = policy["Statement"] if isinstance(policy, dict) else json.loads(policy)["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("ssm:GetParameter", f"arn:aws:ssm:{region}:123456789012:parameter/{name}/oauth/client-secret"),
        ("ssm:GetParameter", f"arn:aws:ssm:{region}:123456789012:parameter/{name}/secrets/OAUTH_SIGNING_KEY")]
    # the facade's own signing key: random, not the provider's secret, read through the secrets' path
    signing = ssm.get_parameter(Name=f"/{name}/secrets/OAUTH_SIGNING_KEY", WithDecryption=True)["Parameter"]
    assert signing["Type"] == "SecureString" and len(signing["Value"]) == 64 and signing["Value"] != secret
    assert env["PLUGIN_SECRETS_PREFIX"] == f"/{name}/secrets/" and "OAUTH_SIGNING_KEY" in env["PLUGIN_SECRETS"]

    host = endpoint.split("//")[1]
    base = json.loads((project / "events" / "get_manifest.json").read_text(encoding="utf-8"))

    def event(method: str, path: str, body: str | None = None, query: dict | None = None) -> dict:
        e = json.loads(json.dumps(base))
        e["rawPath"] = e["requestContext"]["http"]["path"] = path
        e["requestContext"]["http"]["method"] = method
        e["requestContext"]["domainName"] = e["headers"]["host"] = host
        e["queryStringParameters"] = query or {}
        e["body"], e["isBase64Encoded"] = body, False
        return e

    register = event("POST", "/oauth/register",
                     json.dumps({"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"}))
    register["headers"]["content-type"] = "application/json"
    answers = _run_zip(project, env, [
        event("GET", "/.well-known/oauth-protected-resource/mcp"), event("POST", "/mcp", "{}"), register], tmp_path,
        {"AWS_ENDPOINT_URL": moto, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_DEFAULT_REGION": region})
    metadata, refused, registered = answers
    assert json.loads(metadata["body"])["resource"] == f"{endpoint}/mcp"
    assert refused["statusCode"] == 401 and "resource_metadata=" in refused["headers"]["www-authenticate"]
    assert registered["statusCode"] == 201, registered  # signed with the secret read from SSM (moto)
    client_id = json.loads(registered["body"])["client_id"]
    secret_env = {"PLUGIN_OAUTH_CLIENT_SECRET": secret, "AWS_ENDPOINT_URL": moto, "AWS_ACCESS_KEY_ID": "testing",
                  "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": region}  # the signing key: SSM
    (page,) = _run_zip(project, env, [event("GET", "/oauth/authorize", query={
        "response_type": "code", "client_id": client_id, "redirect_uri": "http://127.0.0.1:9/cb",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
        "state": "s1"})], tmp_path, secret_env)
    assert page["statusCode"] == 200 and "Allow access" in page["body"]  # the consent page, then Allow:
    txn = re.search(r'name="txn" value="([^"]+)"', page["body"]).group(1)
    allow = event("POST", "/oauth/authorize", urlencode({"txn": txn, "decision": "allow"}))
    allow["headers"]["content-type"] = "application/x-www-form-urlencoded"
    allow["cookies"] = [page["cookies"][0].split(";", 1)[0]]
    (authorize,) = _run_zip(project, env, [allow], tmp_path, secret_env)
    location = authorize["headers"]["location"]
    assert authorize["statusCode"] == 302 and location.startswith(env["PLUGIN_OAUTH_AUTHORIZE_URL"] + "?")
    assert f"client_id={env['PLUGIN_OAUTH_CLIENT_ID']}" in location


def _assert_deployed(aws: dict, project: Path, out: dict) -> None:
    """What one applied project must look like in AWS."""
    tfvars = _tfvars(project)
    name, bucket, region = tfvars["name"], out["bucket_name"], tfvars["aws_region"]
    endpoint = out["base_url"]  # the execute-api URL, or https://<domain_name> with a custom domain
    # A prefix in terraform.tfvars: Terraform completed it (and keeps it in the state); a full
    # name (a deployment made before prefixes): exactly that bucket.
    if tfvars["bucket_name"].endswith("-"):
        assert bucket.startswith(tfvars["bucket_name"]) and len(tfvars["bucket_name"]) < len(bucket) <= 63, bucket
    else:
        assert bucket == tfvars["bucket_name"]
    s3, lam, apigw, logs, iam = aws["s3"], aws["lambda"], aws["apigatewayv2"], aws["logs"], aws["iam"]

    # Private, encrypted, versioned bucket.
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    if FULL_E2E:
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
        assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0

    # Published copies with content types and the deployed API's absolute URLs.
    heads = {key: s3.head_object(Bucket=bucket, Key=key)["ContentType"]
             for key in ("manifest.json", "openapi.json", "logo.png")}
    assert heads == {"manifest.json": "application/json", "openapi.json": "application/json", "logo.png": "image/png"}
    published = json.loads(s3.get_object(Bucket=bucket, Key="manifest.json")["Body"].read())
    local = json.loads((project / "manifest.json").read_text(encoding="utf-8"))
    assert published["api"] == {"type": "openapi", "url": f"{endpoint}/openapi.json"}
    assert published["logo_url"] == f"{endpoint}/logo.png"
    assert {k: v for k, v in published.items() if k not in ("api", "logo_url", "auth")} == \
        {k: v for k, v in local.items() if k not in ("api", "logo_url", "auth")}
    expected_auth = {"none": {"type": "none"},
                     "api_key": {"type": "service_http", "authorization_type": "bearer",
                                 "verification_tokens": {"openai": ""}},
                     "oauth": {"type": "oauth", "client_url": f"{endpoint}/oauth/authorize",
                               "scope": f"{name}/invoke", "authorization_url": f"{endpoint}/oauth/token",
                               "authorization_content_type": "application/x-www-form-urlencoded",
                               "verification_tokens": {"openai": ""}}}[tfvars.get("auth", "none")]
    assert published["auth"] == expected_auth
    openapi = s3.get_object(Bucket=bucket, Key="openapi.json")["Body"].read()
    assert openapi == (project / "openapi.json").read_bytes()
    assert json.loads(openapi)["servers"][0]["url"] == endpoint
    assert s3.get_object(Bucket=bucket, Key="logo.png")["Body"].read() == (project / "logo.png").read_bytes()

    # The function, as configured, running the zip the build wrote.
    fn = lam.get_function(FunctionName=name)["Configuration"]
    assert (fn["Runtime"], fn["Architectures"], fn["Handler"]) == \
        (tfvars["lambda_runtime"], [tfvars["lambda_architecture"]], tfvars["lambda_handler"])
    assert fn["Timeout"] == tfvars.get("lambda_timeout_seconds", 10) and fn["MemorySize"] >= 128
    assert fn["CodeSha256"] == _code_sha256(project / "lambda.zip")
    assert fn["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": tfvars.get("log_level", "INFO"),
                                   "SystemLogLevel": "INFO", "LogGroup": f"/aws/lambda/{name}"}
    assert fn["Environment"]["Variables"]["PLUGIN_METRICS_NAMESPACE"] == name
    alarms = aws["cloudwatch"].describe_alarms(AlarmNamePrefix=f"{name}-")["MetricAlarms"]
    topic = out["alarm_topic_arn"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(f"{name}-{k}" for k in (
        "api-5xx", "server-errors", "api-throttled", "lambda-errors", "lambda-throttles", "lambda-duration-p99",
        "request-duration-p99"))
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in alarms)
    durations = {a["Namespace"]: a for a in alarms if a["MetricName"] == "Duration"}
    assert [a.get("ExtendedStatistic") for a in durations.values()] == ["p99", "p99"]
    timeout = tfvars.get("lambda_timeout_seconds", 10)
    assert durations["AWS/Lambda"]["Threshold"] == timeout * 800  # any invocation, tasks included
    assert durations[name]["Threshold"] == min(timeout, 30) * 800  # HTTP requests: API Gateway's 30 s at most
    (server,) = [a for a in alarms if a["MetricName"] == "ServerErrors"]  # MCP tool errors and upstream 5xx page too
    assert (server["Namespace"], server["Dimensions"]) == (name, [{"Name": "Service", "Value": name}])
    dashboard = json.loads(aws["cloudwatch"].get_dashboard(DashboardName=name)["DashboardBody"])
    searches = json.dumps(dashboard)
    assert len(dashboard["widgets"]) == 8 and f'\\"{name}\\",Service,Surface,Operation' in searches
    throttled = aws["logs"].describe_metric_filters(logGroupName=out["access_log_group_name"])["metricFilters"]
    assert [(f["filterPattern"], f["metricTransformations"][0]["metricNamespace"]) for f in throttled] == \
        [('{ $.status = "429" && $.integrationLatency = "-" }', name)]
    for group in (out["log_group_name"], out["access_log_group_name"]):
        found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert [g["logGroupName"] for g in found] == [group] and found[0]["retentionInDays"] > 0
    assert out["log_group_name"] == f"/aws/lambda/{name}"

    # HTTP API: $default route -> one Lambda proxy integration (payload 2.0) -> $default stage.
    api = next(a for a in apigw.get_apis()["Items"] if a["Name"] == name)
    assert api["ApiEndpoint"] == out["api_endpoint"] and api["ProtocolType"] == "HTTP"
    cors = api["CorsConfiguration"]
    # With a custom domain the MCP URL is known before the API exists, so CORS also lists the
    # origins ChatGPT gives the widgets (SHA-256 of the MCP URL; the legacy one from the domain).
    sandbox = ".web-sandbox.oaiusercontent.com"
    expected_origins = {"chatgpt": "https://mcp-endpoint-" + hashlib.sha256(f"{endpoint}/mcp".encode()).hexdigest()[:32]
                        + sandbox, "chatgpt_legacy": "https://" + endpoint[8:].replace(".", "-") + sandbox}
    assert out["widget_origins"] == expected_origins
    custom_domain = "execute-api" not in endpoint
    assert set(cors["AllowOrigins"]) == {"https://chatgpt.com", "https://chat.openai.com"} | (
        set(expected_origins.values()) if custom_domain else set())
    assert {h.lower() for h in cors["AllowHeaders"]} == CORS_HEADERS
    assert set(cors["AllowMethods"]) == {"GET", "POST", "DELETE", "OPTIONS"}
    integrations = apigw.get_integrations(ApiId=api["ApiId"])["Items"]
    assert len(integrations) == 1
    integration = integrations[0]
    assert integration["IntegrationType"] == "AWS_PROXY" and integration["PayloadFormatVersion"] == "2.0"
    assert fn["FunctionArn"] in integration["IntegrationUri"]
    routes = apigw.get_routes(ApiId=api["ApiId"])["Items"]
    target = f"integrations/{integration['IntegrationId']}"
    assert [(r["RouteKey"], r["Target"]) for r in routes] == [("$default", target)]
    stages = apigw.get_stages(ApiId=api["ApiId"])["Items"]
    assert [s["StageName"] for s in stages] == ["$default"] and stages[0]["AutoDeploy"]
    throttle = stages[0]["DefaultRouteSettings"]
    assert throttle["ThrottlingBurstLimit"] > 0 and throttle["ThrottlingRateLimit"] > 0
    assert stages[0]["AccessLogSettings"]["DestinationArn"].endswith(f":log-group:{out['access_log_group_name']}")
    json.loads(stages[0]["AccessLogSettings"]["Format"])

    # Only this API may invoke the function.
    statements = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert len(statements) == 1
    source_arn = statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert re.fullmatch(rf"arn:aws:execute-api:{region}:\d{{12}}:{api['ApiId']}/\*/\*", source_arn), source_arn

    # The role may write its own logs and read its own secrets (checked with secrets, see the
    # custom domain test), nothing else; no wildcard actions anywhere.
    role = fn["Role"].rsplit("/", 1)[1]
    assert role.startswith(name)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    actions: list[str] = []
    for policy_name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            acts = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            actions += acts
            resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
            if acts == ["ssm:GetParameter"]:  # the OAuth client secret, or the declared secrets
                assert all(f"parameter/{name}/" in r for r in resources), resources
            else:
                assert all(r.endswith(f"log-group:/aws/lambda/{name}:*") for r in resources), resources
    expected = ["logs:CreateLogStream", "logs:PutLogEvents"] + (["ssm:GetParameter"] if tfvars.get("secrets") else [])
    expected += ["ssm:GetParameter"] * 2 if tfvars.get("auth") == "oauth" else []  # client secret, signing key
    assert sorted(actions) == sorted(expected)
    assert not [a for a in actions if "*" in a]


def _rendered_bucket_policy(tf: Terraform) -> dict:
    """The bucket policy main.tf renders (the moto override swaps only its principal)."""
    state = json.loads(tf.run("show", "-json").stdout)
    for resource in state["values"]["root_module"]["resources"]:
        if resource["address"] == "data.aws_iam_policy_document.bucket":
            return json.loads(resource["values"]["json"])
    raise AssertionError("data.aws_iam_policy_document.bucket is not in the state")


def _planned_changes(tf: Terraform) -> dict[str, list[str]]:
    tf.run("plan", "-out=update.tfplan")
    plan = json.loads(tf.run("show", "-json", "update.tfplan").stdout)
    return {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]
            if c["change"]["actions"] != ["no-op"]}


def _nothing_left(aws: dict, names: list[str]) -> list[str]:
    left = [f"bucket {b['Name']}" for b in aws["s3"].list_buckets().get("Buckets", [])]
    left += [f"function {f['FunctionName']}" for f in aws["lambda"].list_functions()["Functions"]]
    left += [f"api {a['Name']}" for a in aws["apigatewayv2"].get_apis()["Items"]]
    left += [f"role {r['RoleName']}" for r in aws["iam"].list_roles()["Roles"]
             if r["RoleName"].startswith(tuple(names))]
    left += [f"log group {g['logGroupName']}" for g in aws["logs"].describe_log_groups()["logGroups"]]
    left += [f"alarm {a['AlarmName']}" for a in aws["cloudwatch"].describe_alarms()["MetricAlarms"]]
    left += [f"dashboard {d['DashboardName']}" for d in aws["cloudwatch"].list_dashboards()["DashboardEntries"]]
    left += [f"topic {t['TopicArn']}" for t in aws["sns"].list_topics()["Topics"]]
    left += [f"parameter {p['Name']}" for p in aws["ssm"].describe_parameters()["Parameters"]]
    left += [f"certificate {c['DomainName']}" for c in aws["acm"].list_certificates()["CertificateSummaryList"]]
    left += [f"domain {d['DomainName']}" for d in aws["apigatewayv2"].get_domain_names()["Items"]]
    return left


def test_apply_update_and_destroy_on_moto(tmp_path, tf_cache):
    """Two plugins deploy side by side; an edit to handler.py ships with a plain apply; destroy
    leaves nothing. Prints the timings and the resource count (pytest -s). PLUGIN_TF_E2E_FULL=1
    also applies the S3 lifecycle configuration (adds the provider's ~55 s settling wait)."""
    binary, mirror = terraform_or_skip()
    moto_or_skip()
    first = bake(tmp_path / "a", auth="oauth")
    second = bake(tmp_path / "b", plugin_name="Restar Plugin", auth="api_key")
    key = _new_key(second, "e2e")
    # The second one was baked before bucket prefixes: its terraform.tfvars names its bucket.
    _set_tfvar(second, "bucket_name", LEGACY_BUCKET)
    # lambda.zip is git-ignored: a fresh clone has none, and the apply must build it.
    (first / "lambda.zip").unlink()
    with moto_server(tmp_path / "moto.log") as endpoint:
        tfs = []
        for project in (first, second):
            write_moto_override(project, endpoint)
            tf = Terraform(project, binary, mirror, tf_cache)
            tf.env["TF_VAR_python"] = sys.executable  # the build step's interpreter
            tf.init()
            tfs.append(tf)
        tf, other = tfs
        aws = boto3_clients(endpoint, _tfvars(first)["aws_region"])

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:  # two applies at once also prove the names do not collide
            list(pool.map(lambda t: t.run("apply", "-auto-approve"), tfs))
        apply_seconds = time.perf_counter() - started
        resources = tf.run("state", "list").stdout.split()
        outputs = [_outputs(t) for t in tfs]
        for project, out in zip((first, second), outputs, strict=True):
            _assert_deployed(aws, project, out)
        assert outputs[0]["api_endpoint"] != outputs[1]["api_endpoint"]
        assert outputs[0]["bucket_name"].startswith("sumar-plugin-") and outputs[1]["bucket_name"] == LEGACY_BUCKET
        assert outputs[0]["mcp_url"] == outputs[0]["api_endpoint"] + "/mcp"
        assert outputs[0]["openapi_url"] == outputs[0]["api_endpoint"] + "/openapi.json"
        assert outputs[0]["manifest_url"] == outputs[0]["api_endpoint"] + "/.well-known/ai-plugin.json"
        _assert_keys_deployed(aws, second, key, tmp_path)
        _assert_oauth_deployed(aws, first, outputs[0], tmp_path, endpoint)

        policy = _rendered_bucket_policy(tf)["Statement"]
        assert [(s["Effect"], s["Principal"], s["Action"], s["Condition"]) for s in policy] == [
            ("Deny", "*", "s3:*", {"Bool": {"aws:SecureTransport": "false"}})]

        started = time.perf_counter()
        assert tf.run("plan", "-detailed-exitcode", ok=(0, 2)).returncode == 0, "plan right after apply is not empty"
        plan_seconds = time.perf_counter() - started

        # Variable validation catches the values that would break the deployment.
        bad = tf.run("plan", "-refresh=false", "-var=lambda_timeout_seconds=901", "-var=throttling_rate_limit=0",
                     "-var=lambda_runtime=python3.10", "-var=name=two words", "-var=bucket_name=Not_A_Bucket", ok=(1,))
        for variable in ("lambda_timeout_seconds", "throttling_rate_limit", "lambda_runtime", "var.name",
                         "var.bucket_name"):
            assert variable in bad.stderr, f"no validation error for {variable}:\n{bad.stderr[-3000:]}"

        # Edit the handler: a plain apply rebuilds, uploads the new zip and the new openapi.json.
        # Meanwhile the other plugin is destroyed, which must leave this one untouched.
        with ThreadPoolExecutor(1) as pool:
            started = time.perf_counter()
            destroying = pool.submit(other.run, "destroy", "-auto-approve")
            handler = first / "handler.py"
            handler.write_text(handler.read_text(encoding="utf-8").replace(
                '"""Suma dos números y devuelve el resultado.', '"""Suma dos números y devuelve el resultado exacto.'),
                encoding="utf-8")
            old_sha = aws["lambda"].get_function(FunctionName=_tfvars(first)["name"])["Configuration"]["CodeSha256"]
            changes = _planned_changes(tf)
            assert set(changes) == {"terraform_data.build", "aws_lambda_function.this", "aws_s3_object.openapi"}, \
                changes
            assert changes["aws_lambda_function.this"] == ["update"] and changes["aws_s3_object.openapi"] == ["update"]
            update_started = time.perf_counter()
            tf.run("apply", "update.tfplan")
            update_seconds = time.perf_counter() - update_started
            destroying.result()
            destroy_seconds = other.timings["destroy"]
        new_sha = aws["lambda"].get_function(FunctionName=_tfvars(first)["name"])["Configuration"]["CodeSha256"]
        assert new_sha != old_sha and new_sha == _code_sha256(first / "lambda.zip")
        assert "devuelve el resultado exacto" in (first / "openapi.json").read_text(encoding="utf-8")
        _assert_deployed(aws, first, outputs[0])
        assert not [f for f in aws["lambda"].list_functions()["Functions"] if f["FunctionName"] == "restar-plugin"]
        assert tf.run("plan", "-detailed-exitcode", ok=(0, 2)).returncode == 0, "plan after the update is not empty"

        # Destroying the last plugin leaves nothing.
        tf.run("destroy", "-auto-approve")
        assert _nothing_left(aws, ["sumar-plugin", "restar-plugin"]) == []
        total_seconds = time.perf_counter() - started

    managed = [r for r in resources if not r.startswith("data.")]
    print(f"\nterraform on moto: {len(managed)} resources (+{len(resources) - len(managed)} data sources) per plugin; "
          f"apply of two plugins in parallel {apply_seconds:.1f} s "
          f"({'with' if FULL_E2E else 'without'} the S3 lifecycle configuration), plan {plan_seconds:.1f} s, "
          f"update apply {update_seconds:.1f} s, destroy "
          f"{destroy_seconds:.1f} s, update + destroys {total_seconds:.1f} s")


# --- logs, metrics, alarms, settings, secrets and a custom domain, end to end -----------------------

E2E_OPERATIONS = '''

import hashlib

from plugin_runtime import Context


class Saludo(TypedDict):
    texto: str
    huella: str


@plugin.operation(read_only=True)
def saludar(nombre: str, ctx: Context) -> Saludo:
    """Greets with the configured greeting and the fingerprint of the deployed secret."""
    token = ctx.secret("API_TOKEN")
    ctx.log.info("greeting", length=len(nombre))
    texto = f"{ctx.setting('GREETING')}, {nombre[: ctx.setting('MAX_LEN', int)]}"
    return {"texto": texto, "huella": hashlib.sha256(token.encode()).hexdigest()[:12]}


@plugin.operation(read_only=True)
def sin_ajuste(nombre: str, ctx: Context) -> Saludo:
    """Needs a setting the deployment does not have."""
    return {"texto": ctx.setting("NOT_CONFIGURED"), "huella": nombre}
'''
DOMAIN = "api.example.com"
SECRET_VALUE = "e2e-SECRET-value-5d41402abc4b2a76"
# Runs the deployed zip the way Lambda would: its folder first on sys.path, one fresh process.
LAMBDA_RUNNER = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import handler

class LambdaContext:
    def __init__(self, request_id):
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self):
        return 9000

events = json.load(open(sys.argv[2], encoding="utf-8"))
print(json.dumps([handler.lambda_handler(e, LambdaContext(f"e2e-{i}")) for i, e in enumerate(events)]))
'''


def _api_event(method: str, path: str, body: object = None, headers: dict | None = None) -> dict:
    """An API Gateway HTTP API (payload 2.0) event as it arrives through the custom domain."""
    head = {"content-type": "application/json", "host": DOMAIN, "x-forwarded-proto": "https",
            "authorization": "Bearer e2e-FAKE-TOKEN-never-logged", **(headers or {})}
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": head,
            "requestContext": {"domainName": DOMAIN, "requestId": f"api-{path}",
                               "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "203.0.113.10"}, "stage": "$default"},
            "body": None if body is None else json.dumps(body), "isBase64Encoded": False}


def _run_deployed(task: Path, environment: dict, events: list[dict], work: Path) -> tuple[list[dict], list[dict]]:
    """(responses, log lines) of the deployed handler on ``events`` in a fresh interpreter."""
    (work / "events.json").write_text(json.dumps(events), encoding="utf-8")
    (work / "runner.py").write_text(LAMBDA_RUNNER, encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", str(work / "runner.py"), str(task), str(work / "events.json")],
                         cwd=task, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stderr.splitlines()]  # every line a JSON object
    return json.loads(run.stdout), lines


# Serves the deployed zip over HTTP: its folder first on sys.path, as Lambda puts it; the project's
# plugin_tools.serve only translates each HTTP request into an API Gateway event and back.
ZIP_SERVER = '''
import sys
sys.path.insert(0, sys.argv[1])
sys.path.append(sys.argv[2])
import handler
from plugin_tools.serve import Handler, LocalServer

server = LocalServer(("127.0.0.1", 0), Handler)
server.lambda_handler = handler.lambda_handler
print(server.server_address[1], flush=True)
server.serve_forever(poll_interval=0.2)
'''


def _doctor_on_deployed(project: Path, task: Path, environment: dict, work: Path) -> dict:
    """``plugin_tools.doctor --json`` against the deployed zip, served locally with ``environment``."""
    (work / "zip_server.py").write_text(ZIP_SERVER, encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-I", str(work / "zip_server.py"), str(task), str(project)],
                              cwd=task, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(server.stdout.readline())
        run = subprocess.run([sys.executable, "-m", "plugin_tools.doctor", f"http://127.0.0.1:{port}", "--json",
                              "--calls", "3"], cwd=project, capture_output=True, text=True, timeout=120, check=False)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert run.stdout.strip(), run.stderr[-3000:]
    return json.loads(run.stdout)


def _assert_one_line_and_one_record_each(lines: list[dict], count: int, namespace: str) -> None:
    for i in range(count):
        mine = [line for line in lines if line.get("requestId") == f"e2e-{i}"]
        requests = [line for line in mine if line.get("type") == "request"]
        metrics = [line for line in mine if line.get("type") == "metrics"]
        assert len(requests) == 1 and len(metrics) == 1, mine
        assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace == metrics[0]["Service"]
        assert requests[0]["apiRequestId"].startswith("api-") and requests[0]["durationMs"] >= 0


def test_logs_metrics_settings_secrets_and_custom_domain_on_moto(tmp_path, tf_cache):
    """A deployment with a custom domain and its hosted zone, two settings, one secret and an alarm
    e-mail: the certificate, domain, mapping and records, the alarms and dashboard, the secret's
    parameter and the one permission to read it; then the deployed zip, run with the deployed
    environment against moto's SSM, answers through the custom domain, reads the secret once it is
    set, and leaves one JSON line and one metrics record per request. Prints its timings (-s).
    PLUGIN_TF_E2E_FULL=1 also destroys it and checks nothing is left (Route 53 waits: ~1 minute)."""
    binary, mirror = terraform_or_skip()
    moto_or_skip()
    project = bake(tmp_path / "ops")
    handler = project / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace(
        "\n\nlambda_handler = plugin.lambda_handler", E2E_OPERATIONS + "\n\nlambda_handler = plugin.lambda_handler"),
        encoding="utf-8")
    started = time.perf_counter()
    with moto_server(tmp_path / "moto.log") as endpoint:
        region = _tfvars(project)["aws_region"]
        aws = boto3_clients(endpoint, region)
        zone = aws["route53"].create_hosted_zone(Name="example.com", CallerReference="e2e")["HostedZone"]["Id"]
        zone_id = zone.rsplit("/", 1)[-1]
        with (project / "terraform.tfvars").open("a", encoding="utf-8") as tfvars:
            tfvars.write(f'settings = {{ GREETING = "Hola", MAX_LEN = "12" }}\nsecrets = ["API_TOKEN"]\n'
                         f'alarm_email = "ops@example.com"\ndomain_name = "{DOMAIN}"\nhosted_zone_id = "{zone_id}"\n'
                         "disable_execute_api_endpoint = true\n")
        write_moto_override(project, endpoint)
        tf = Terraform(project, binary, mirror, tf_cache)
        tf.env["TF_VAR_python"] = sys.executable
        tf.init()
        tf.run("apply", "-auto-approve")
        out = _outputs(tf)
        name = _tfvars(project)["name"]
        _assert_deployed(aws, project, out)

        # Every URL is the custom domain's: outputs, the build's --origin, the published manifest.
        base = f"https://{DOMAIN}"
        assert (out["base_url"], out["mcp_url"], out["openapi_url"]) == (base, f"{base}/mcp", f"{base}/openapi.json")
        assert json.loads((project / "openapi.json").read_text(encoding="utf-8"))["servers"][0]["url"] == base
        bucket = out["bucket_name"]  # terraform.tfvars holds a prefix; Terraform completed it
        published = json.loads(aws["s3"].get_object(Bucket=bucket, Key="manifest.json")["Body"].read())
        assert published["api"]["url"] == f"{base}/openapi.json"
        api = next(a for a in aws["apigatewayv2"].get_apis()["Items"] if a["Name"] == name)
        assert api["DisableExecuteApiEndpoint"] is True

        # Certificate (DNS-validated in the zone), domain name, mapping, alias record.
        certificate = next(c for c in aws["acm"].list_certificates()["CertificateSummaryList"]
                           if c["DomainName"] == DOMAIN)
        described = aws["acm"].describe_certificate(CertificateArn=certificate["CertificateArn"])["Certificate"]
        assert described["Status"] == "ISSUED" and described["Type"] == "AMAZON_ISSUED"
        validation = described["DomainValidationOptions"][0]["ResourceRecord"]
        domain = aws["apigatewayv2"].get_domain_name(DomainName=DOMAIN)
        config = domain["DomainNameConfigurations"][0]
        assert (config["CertificateArn"], config["EndpointType"], config["SecurityPolicy"]) == \
            (certificate["CertificateArn"], "REGIONAL", "TLS_1_2")
        mappings = aws["apigatewayv2"].get_api_mappings(DomainName=DOMAIN)["Items"]
        assert [(m["ApiId"], m["Stage"]) for m in mappings] == [(api["ApiId"], "$default")]
        records = {(r["Name"].rstrip("."), r["Type"]): r for r in
                   aws["route53"].list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]}
        cname = records[(validation["Name"].rstrip("."), "CNAME")]
        assert cname["ResourceRecords"] == [{"Value": validation["Value"]}]
        alias = records[(DOMAIN, "A")]["AliasTarget"]
        assert alias["DNSName"].rstrip(".") == config["ApiGatewayDomainName"] == out["custom_domain_target"]
        assert alias["HostedZoneId"] == config["HostedZoneId"]
        assert out["certificate_validation_records"] == []  # Terraform created them in the zone

        # Alarm e-mail, secret parameter, and the role may read exactly that parameter.
        subscriptions = aws["sns"].list_subscriptions_by_topic(TopicArn=out["alarm_topic_arn"])["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
        parameter_name = f"/{name}/secrets/API_TOKEN"
        assert out["secret_parameters"] == {"API_TOKEN": parameter_name}
        parameter = aws["ssm"].get_parameter(Name=parameter_name, WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString" and parameter["Value"].startswith("unset: ")
        fn = aws["lambda"].get_function(FunctionName=name)["Configuration"]
        statements = []
        for policy in aws["iam"].list_role_policies(RoleName=fn["Role"].rsplit("/", 1)[1])["PolicyNames"]:
            document = aws["iam"].get_role_policy(RoleName=fn["Role"].rsplit("/", 1)[1], PolicyName=policy)
            document = document["PolicyDocument"]
            statements += (json.loads(document) if isinstance(document, str) else document)["Statement"]
        ssm = [s for s in statements if "ssm" in json.dumps(s["Action"])]
        assert [(s["Effect"], s["Action"], s["Resource"]) for s in ssm] == \
            [("Allow", "ssm:GetParameter", parameter["ARN"])], ssm
        assert not [s for s in statements if "kms" in json.dumps(s) or "*" in json.dumps(s["Action"])]
        environment = fn["Environment"]["Variables"]
        assert environment == {"GREETING": "Hola", "MAX_LEN": "12", "PLUGIN_METRICS_NAMESPACE": name,
                               "PLUGIN_SECRETS_PREFIX": f"/{name}/secrets/", "PLUGIN_SECRETS": "API_TOKEN",
                               "PLUGIN_AUTH": "none", "PLUGIN_API_KEYS": "{}", "PLUGIN_OPENAI_VERIFICATION_TOKEN": ""}
        apply_seconds = time.perf_counter() - started

        # The deployed zip (same bytes as the emulator's) with the deployed environment, its SDK
        # pointed at moto, as Lambda would run it.
        assert fn["CodeSha256"] == _code_sha256(project / "lambda.zip")
        task = tmp_path / "task"
        with zipfile.ZipFile(project / "lambda.zip") as zf:
            zf.extractall(task)
        lambda_env = {**environment, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                      "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                      "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_LOG_FORMAT": fn["LoggingConfig"]["LogFormat"],
                      "AWS_LAMBDA_LOG_LEVEL": fn["LoggingConfig"]["ApplicationLogLevel"], "HOME": str(tmp_path)}
        saludar = _api_event("POST", "/saludar", {"nombre": "Ana María de la Peña"})
        sumar = _api_event("POST", "/sumar", {"numero1": 2, "numero2": 3})

        # Before the secret is set: that operation fails clearly, the others keep working.
        responses, lines = _run_deployed(task, lambda_env, [saludar, sumar], tmp_path)
        assert [r["statusCode"] for r in responses] == [500, 200]
        assert json.loads(responses[0]["body"])["error"] == "internal_error"
        assert any("still holds the placeholder" in line.get("message", "") for line in lines)
        _assert_one_line_and_one_record_each(lines, 2, name)

        # Set it out of band, as the README says; Terraform leaves it alone (the plan stays empty).
        aws["ssm"].put_parameter(Name=parameter_name, Value=SECRET_VALUE, Type="SecureString", Overwrite=True)
        plan = tf.run("plan", "-detailed-exitcode", ok=(0, 2))
        assert plan.returncode == 0, f"plan after put-parameter is not empty:\n{plan.stdout[-3000:]}"

        mcp = _api_event("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                           "params": {"name": "saludar", "arguments": {"nombre": "Luis"}}},
                         {"mcp-protocol-version": "2025-06-18"})
        events = [saludar, mcp, _api_event("POST", "/sin_ajuste", {"nombre": "x"}), sumar,
                  _api_event("GET", "/.well-known/ai-plugin.json"), _api_event("GET", "/openapi.json")]
        responses, lines = _run_deployed(task, lambda_env, events, tmp_path)
        assert [r["statusCode"] for r in responses] == [200, 200, 500, 200, 200, 200]
        fingerprint = hashlib.sha256(SECRET_VALUE.encode()).hexdigest()[:12]
        assert json.loads(responses[0]["body"]) == {"texto": "Hola, Ana María de", "huella": fingerprint}
        assert json.loads(responses[1]["body"])["result"]["structuredContent"]["huella"] == fingerprint
        assert json.loads(responses[4]["body"])["api"]["url"] == f"{base}/openapi.json"
        assert json.loads(responses[5]["body"])["servers"][0]["url"] == base
        _assert_one_line_and_one_record_each(lines, len(events), name)
        logged = json.dumps(lines)
        assert SECRET_VALUE not in logged and "e2e-FAKE-TOKEN" not in logged
        failure = next(line for line in lines if line.get("errorType") == "SettingError")
        assert failure["requestId"] == "e2e-2" and "setting NOT_CONFIGURED is not set" in failure["message"]
        assert [line["level"] for line in lines if line.get("message") == "greeting"] == ["INFO", "INFO"]

        # The doctor, from outside, against the deployed zip served over HTTP with the deployed configuration.
        report = _doctor_on_deployed(project, task, lambda_env, tmp_path)
        statuses = {c["name"]: c["status"] for c in report["checks"]}
        failed = [c for c in report["checks"] if c["status"] == "FAIL"]
        # The one thing wrong with this deployment on purpose: sin_ajuste reads a setting never set.
        assert [(c["name"], c["detail"].split()[0]) for c in failed] == [("tools_call", "sin_ajuste")], failed
        assert not report["ok"] and failed[0]["fix"]
        assert {"mcp_challenge", "server_discover", "tools_list", "openapi", "manifest"} <= set(statuses)
        assert statuses["server_discover"] == statuses["tools_list"] == "PASS", statuses
        run_seconds = time.perf_counter() - started - apply_seconds

        if FULL_E2E:  # each Route 53 change costs a 10-30 s wait in the provider: two more on destroy
            tf.run("destroy", "-auto-approve")
            assert _nothing_left(aws, [name]) == []
            left = aws["route53"].list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
            assert sorted(r["Type"] for r in left) == ["NS", "SOA"]
    print(f"\nterraform on moto with a custom domain, alarms, settings and a secret: apply and checks "
          f"{apply_seconds:.1f} s (two Route 53 changes, 10-30 s of provider wait each), deployed handler runs "
          f"and plan {run_seconds:.1f} s, total {time.perf_counter() - started:.1f} s"
          f"{' with destroy' if FULL_E2E else ' (PLUGIN_TF_E2E_FULL=1 also destroys)'}")
