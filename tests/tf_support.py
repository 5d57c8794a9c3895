"""Terraform, moto_server and checkov helpers for the template's Terraform tests.

Every tool is optional on a developer machine: the helpers tell pytest to skip with the reason
(which tool, which environment variable) when one is missing. CI has them all.
"""

from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bake_support import stop_process

TF_TIMEOUT = 600
# Every AWS service the generated Terraform talks to ("logs" is CloudWatch Logs).
MOTO_SERVICES = ("s3", "iam", "sts", "lambda", "apigatewayv2", "logs", "cloudwatch", "sns", "ssm", "acm", "route53",
                 "cognitoidp", "secretsmanager")
# moto_server with the patches spec-facts section 5 calls for (apigatewayv2 domain names, Lambda
# LoggingConfig, Cognito resource servers).
MOTO_LAUNCHER = Path(__file__).resolve().parent / "moto_patched.py"


def terraform_or_skip() -> tuple[str, Path]:
    """The terraform binary and the provider mirror root (the folder holding registry.terraform.io)."""
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on PATH (install Terraform >= 1.5 to run the Terraform tests)")
    mirror = os.environ.get("TF_PLUGIN_MIRROR")
    if not mirror:
        pytest.skip("TF_PLUGIN_MIRROR is not set (point it at the folder that holds "
                    "registry.terraform.io/hashicorp/aws, e.g. /opt/tf-plugins)")
    root = Path(mirror)
    if not (root / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip(f"TF_PLUGIN_MIRROR={mirror} holds no registry.terraform.io/hashicorp/aws provider")
    return binary, root


def checkov_or_skip() -> str:
    """checkov lives in its own virtualenv (its pins clash with boto3 and python-hcl2)."""
    binary = os.environ.get("CHECKOV_BIN")
    if not binary:
        pytest.skip("CHECKOV_BIN is not set (create a separate venv with `pip install checkov` "
                    "and export CHECKOV_BIN=<venv>/bin/checkov)")
    if not (os.access(binary, os.X_OK) or shutil.which(binary)):
        pytest.skip(f"CHECKOV_BIN={binary} is not an executable")
    return binary


def moto_or_skip() -> None:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        pytest.skip('moto[server] is not installed (pip install "moto[server]")')


class Terraform:
    """Runs terraform in one project with a shared provider cache, offline, without colour."""

    def __init__(self, project: Path, binary: str, mirror: Path, cache: Path):
        self.project, self.binary, self.mirror = project, binary, mirror
        self.env = dict(os.environ, TF_PLUGIN_CACHE_DIR=str(cache), TF_IN_AUTOMATION="1",
                        CHECKPOINT_DISABLE="1", TF_INPUT="0")
        # A CLI config file that does not exist only adds a warning to every command.
        if self.env.get("TF_CLI_CONFIG_FILE") and not Path(self.env["TF_CLI_CONFIG_FILE"]).exists():
            del self.env["TF_CLI_CONFIG_FILE"]
        self.timings: dict[str, float] = {}

    def run(self, *args: str, ok: tuple[int, ...] = (0,), env: dict | None = None) -> subprocess.CompletedProcess:
        started = time.perf_counter()
        result = subprocess.run([self.binary, *args, *(["-no-color"] if args[0] != "fmt" else [])],
                                cwd=self.project, env=dict(self.env, **(env or {})), capture_output=True,
                                text=True, timeout=TF_TIMEOUT, check=False)
        self.timings[args[0]] = self.timings.get(args[0], 0.0) + time.perf_counter() - started
        assert result.returncode in ok, (
            f"terraform {' '.join(args)} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def init(self) -> None:
        self.run("init", "-backend=false", f"-plugin-dir={self.mirror}")


def source_globs_of(build_py: Path) -> list[str]:
    """SOURCE_GLOBS as written in plugin_tools/build.py, read without importing the module."""
    tree = ast.parse(build_py.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SOURCE_GLOBS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"no SOURCE_GLOBS in {build_py}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """A moto_server (patched, see moto_patched.py) on 127.0.0.1 and a free port; yields its URL.
    ACM issues certificates at once (MOTO_ACM_VALIDATION_WAIT=0), as AWS does once DNS validates."""
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="false", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1", MOTO_ACM_VALIDATION_WAIT="0")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(MOTO_LAUNCHER), "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"moto_server did not start:\n{log.read_text(errors='replace')[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


FULL_E2E = os.environ.get("PLUGIN_TF_E2E_FULL") == "1"


def write_moto_override(project: Path, endpoint: str, lifecycle: bool = FULL_E2E) -> None:
    """Point the project's AWS provider at moto_server (an override file: the template stays as is).

    After creating a bucket lifecycle configuration the AWS provider polls until S3 has returned
    it unchanged several times in a row: about 55 s, on AWS as on moto. Unless PLUGIN_TF_E2E_FULL=1,
    the override leaves that one static resource out (count = 0) to keep the suite fast; fmt,
    validate and checkov still cover it.

    moto evaluates a bucket policy's Deny without the request's context, so the template's
    TLS-only Deny (aws:SecureTransport = false) would refuse every call, even moto's own HTTP;
    the override gives that statement a principal moto does not evaluate. The policy the template
    renders is checked separately from `terraform show` (see the end-to-end test).
    """
    endpoints = "\n".join(f'    {service:<12} = "{endpoint}"' for service in MOTO_SERVICES)
    (project / "override.tf").write_text(f"""
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}

resource "aws_s3_bucket_policy" "this" {{
  policy = jsonencode(merge(jsondecode(data.aws_iam_policy_document.bucket.json), {{
    Statement = [for s in jsondecode(data.aws_iam_policy_document.bucket.json).Statement :
    merge(s, {{ Principal = "moto-does-not-evaluate-this" }})]
  }}))
}}
""" + ("" if lifecycle else """
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = 0
}
"""), encoding="utf-8")


def boto3_clients(endpoint: str, region: str) -> dict:
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                     region_name=region)
    return {name.replace("cognitoidp", "cognito-idp"): session.client(name.replace("cognitoidp", "cognito-idp"),
                                                                     endpoint_url=endpoint)
            for name in MOTO_SERVICES if name != "sts"}
