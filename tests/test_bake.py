"""Bakes: the default, each option one at a time, named pairs, tricky valid input, and a must-fail
list. Every successful bake is checked for leftover Jinja, JSON, HCL, manifest and OpenAPI rules."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
from bake_support import TEMPLATE, assert_sound_bake, bake, run_project_tests
from cookiecutter.exceptions import FailedHookException

DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))


def test_default_bake(cookies):
    started = time.perf_counter()
    result = cookies.bake()
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.exception
    project = result.project_path
    assert project.name == "sumar-plugin"
    manifest = assert_sound_bake(project)
    assert manifest["name_for_human"] == "Sumar Plugin"
    assert manifest["name_for_model"] == "sumarplugin"
    tfvars = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert 'name                = "sumar-plugin"' in tfvars
    assert 'lambda_runtime      = "python3.13"' in tfvars
    assert 'lambda_architecture = "arm64"' in tfvars
    assert 'aws_region          = "us-east-1"' in tfvars
    with zipfile.ZipFile(project / "lambda.zip") as zf:
        assert "handler.py" in zf.namelist()
    print(f"\ndefault bake incl. zip: {elapsed:.2f} s, lambda.zip {(project / 'lambda.zip').stat().st_size:,} bytes")


def test_every_prompt_has_a_question():
    prompts = DEFAULTS["__prompts__"]
    visible = [k for k in DEFAULTS if not k.startswith("_")]
    assert sorted(prompts) == sorted(visible)


def test_nothing_random_is_baked(cookies):
    """Two bakes of the same answers are identical file for file (lambda.zip too): `cruft update`
    renders the template twice and diffs the renders, so anything random would be a conflict.
    The bucket is a prefix; Terraform adds the unique suffix and keeps it in its state."""
    projects = [cookies.bake().project_path for _ in range(2)]
    files = [{p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*") if p.is_file()}
             for project in projects]
    assert files[0] == files[1]
    assert 'bucket_name         = "sumar-plugin-"' in files[0]["terraform.tfvars"].decode()


OPTIONS = [("lambda_runtime", v) for v in DEFAULTS["lambda_runtime"]] + [
    ("lambda_architecture", v) for v in DEFAULTS["lambda_architecture"]
] + [("aws_region", v) for v in ("eu-west-1", "ap-southeast-2", "us-gov-west-1")] + [
    ("auth", v) for v in DEFAULTS["auth"]
] + [("storage", v) for v in DEFAULTS["storage"]]


@pytest.mark.parametrize(("key", "value"), OPTIONS, ids=[f"{k}={v}" for k, v in OPTIONS])
def test_each_option_alone(cookies, key, value):
    result = cookies.bake(extra_context={key: value})
    assert result.exit_code == 0, result.exception
    assert_sound_bake(result.project_path)
    tfvars = (result.project_path / "terraform.tfvars").read_text(encoding="utf-8")
    assert f'"{value}"' in tfvars


PAIRS = {
    "x86-py312": {"lambda_architecture": "x86_64", "lambda_runtime": "python3.12"},
    "arm-py314-eu": {"lambda_architecture": "arm64", "lambda_runtime": "python3.14", "aws_region": "eu-central-1"},
    "api-key-py312-x86": {"auth": "api_key", "lambda_runtime": "python3.12", "lambda_architecture": "x86_64"},
    "storage-oauth-eu": {"storage": "dynamodb", "auth": "oauth", "aws_region": "eu-west-1"},
}


@pytest.mark.parametrize("name", PAIRS)
def test_named_pairs(cookies, name):
    result = cookies.bake(extra_context=PAIRS[name])
    assert result.exit_code == 0, result.exception
    assert_sound_bake(result.project_path)


TRICKY = {
    "accents": {"plugin_name": "Calculadora Añejá", "description_for_human": "Suma números: ¿cuánto es 2+3? ¡Fácil!"},
    "quotes": {"plugin_name": "Bob's \"Calc\"", "description_for_human": "It's \"quoted\" and 'single'"},
    "backslashes": {"plugin_name": "Back\\slash \\n", "description_for_model": "C:\\path\\to\\x and \\u0041 and \\"},
    "code-shaped": {"plugin_name": "__import__('os')", "description_for_human": "'); DROP TABLE x; -- $(rm -rf ~)",
                    "description_for_model": "\"\"\"\nraise SystemExit\n\"\"\" ${path.module} %{ if true }"},
    "multiline-model": {"description_for_model": "Plugin for sums.\n\nRules:\n\t- add two numbers"},
    "unicode": {"plugin_name": "計算 Plugin 🚀", "description_for_human": "Emoji ✅ and RTL שלום"},
    "limits": {"plugin_name": "x" * 20, "description_for_human": "y" * 100, "description_for_model": "z" * 8000},
    "odd-email-url": {"contact_email": "o'brien+plugins@sub.example.co.uk",
                      "legal_info_url": "https://example.com/legal?lang=es&x=\"y\"#top",
                      "privacy_policy_url": "https://example.com/privacy?a=1&b='c'",
                      "terms_url": "http://example.com/terms#\"top\""},
}


@pytest.mark.parametrize("name", TRICKY)
def test_tricky_valid_input_bakes_into_valid_files(cookies, name):
    result = cookies.bake(extra_context=TRICKY[name])
    assert result.exit_code == 0, result.exception
    manifest = assert_sound_bake(result.project_path)
    for key, value in TRICKY[name].items():
        field = "name_for_human" if key == "plugin_name" else key
        assert manifest[field] == value
    pyproject = (result.project_path / "pyproject.toml").read_text(encoding="utf-8")
    import tomllib

    assert tomllib.loads(pyproject)["project"]["description"] == manifest["description_for_human"]


def test_tricky_bake_passes_its_own_tests(cookies):
    result = cookies.bake(extra_context=TRICKY["code-shaped"])
    run = run_project_tests(result.project_path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_default_bake_passes_its_own_tests(cookies):
    result = cookies.bake()
    run = run_project_tests(result.project_path)
    assert run.returncode == 0, run.stdout + run.stderr
    print("\n" + run.stdout.strip().splitlines()[-1])


def test_oauth_bake_passes_its_own_tests_and_documents_the_sign_in(cookies):
    result = cookies.bake(extra_context={"auth": "oauth"})
    project = result.project_path
    run = run_project_tests(project)
    assert run.returncode == 0, run.stdout + run.stderr
    openapi = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    flow = openapi["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert list(flow["scopes"]) == ["sumar-plugin/invoke"] and flow["tokenUrl"].endswith("/oauth/token")
    assert openapi["security"] == [{"oauth2": ["sumar-plugin/invoke"]}]
    assert (project / "oauth.tf").exists()


def test_api_key_bake_passes_its_own_tests_and_documents_the_key(cookies):
    result = cookies.bake(extra_context={"auth": "api_key"})
    project = result.project_path
    run = run_project_tests(project)
    assert run.returncode == 0, run.stdout + run.stderr
    openapi = json.loads((project / "openapi.json").read_text(encoding="utf-8"))
    assert openapi["security"] == [{"apiKey": []}]
    assert openapi["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "401" in openapi["paths"]["/sumar"]["post"]["responses"]
    tfvars = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert 'auth = "api_key"' in tfvars and "api_keys = {}" in tfvars


MUST_FAIL = [
    ("plugin_name", ""), ("plugin_name", " "), ("plugin_name", "x" * 21), ("plugin_name", "!!!"),
    ("plugin_name", "two\nlines"), ("plugin_name", "😀😀😀"), ("plugin_name", "Sthree Calc"),
    ("description_for_human", ""), ("description_for_human", "x" * 101), ("description_for_human", "a\nb"),
    ("description_for_model", ""), ("description_for_model", "x" * 8001),
    ("contact_email", "nobody"), ("contact_email", "a@b"), ("contact_email", "a b@example.com"),
    ("legal_info_url", "example.com/legal"), ("legal_info_url", "ftp://example.com"),
    ("legal_info_url", "https://"), ("legal_info_url", "javascript:alert(1)"),
    ("privacy_policy_url", "example.com/privacy"), ("privacy_policy_url", "mailto:a@example.com"),
    ("terms_url", "https://"), ("terms_url", "terms"),
    ("aws_region", "us-east-9"), ("aws_region", "US-EAST-1"), ("aws_region", "mars-1"),
    ("lambda_runtime", "python3.9"), ("lambda_runtime", "python3.10"), ("lambda_runtime", "nodejs22.x"),
    ("lambda_architecture", "amd64"), ("lambda_architecture", "arm"),
    ("auth", "apikey"), ("auth", "OAuth"),
]


CHOICES = {k for k, v in DEFAULTS.items() if isinstance(v, list)}


@pytest.mark.parametrize(("key", "value"), MUST_FAIL, ids=[f"{k}={v[:12]!r}" for k, v in MUST_FAIL])
def test_must_fail(tmp_path, capfd, key, value):
    """A bad answer: one ERROR line naming the prompt, and no project folder left behind.

    Choice prompts are checked by cookiecutter itself before any hook runs; its error names the
    prompt and lists the choices (only reachable with --no-input key=value)."""
    with pytest.raises((FailedHookException, ValueError)) as info:
        bake(tmp_path, **{key: value})
    assert list(tmp_path.iterdir()) == []
    if key in CHOICES and value not in DEFAULTS[key]:
        assert f"choice variable {key}, but the choices are" in str(info.value)
        return
    assert isinstance(info.value, FailedHookException)
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("ERROR: ")]
    assert lines and all(line.startswith(f"ERROR: {key}: ") for line in lines), err
    hints = [line for line in err.splitlines() if line.startswith("To retry")]
    assert len(hints) == 1 and f" {key}='<fix this>'" in hints[0], err
    assert err.splitlines().index(hints[0]) == err.splitlines().index(lines[-1]) + 1, err


def test_cli_prints_the_hooks_line_and_leaves_no_folder(tmp_path):
    """What a user sees from the real command line: one readable line naming the prompt."""
    run = subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE), "-o", str(tmp_path),
                          "contact_email=not-an-email"], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode != 0
    assert "ERROR: contact_email: 'not-an-email' is not an email address (e.g. 'support@example.com')" in run.stderr
    assert list(tmp_path.iterdir()) == []


HINT = "To retry keeping your other answers, replace <fix this> and run: "


def _cli(home, *args: str, bash: str = "") -> subprocess.CompletedProcess:
    """`cookiecutter ARGS` (or a bash script in which `cookiecutter` runs it), with a user config of its
    own so the replay file lands in the test's folder, not ~/.cookiecutter_replay."""
    config = home / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(home / 'replay'))}\n"
                      f"cookiecutters_dir: {json.dumps(str(home / 'cookiecutters'))}\n", encoding="utf-8")
    env = {**os.environ, "COOKIECUTTER_CONFIG": str(config), "PYTHON": sys.executable}
    command = ["bash", "-c", f'cookiecutter() {{ "$PYTHON" -m cookiecutter "$@"; }}; {bash}'] if bash else [
        sys.executable, "-m", "cookiecutter", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env)


def _retry_command(stderr: str) -> str:
    hints = [line for line in stderr.splitlines() if line.startswith(HINT)]
    assert len(hints) == 1, stderr
    return hints[0][len(HINT):]


def test_cli_failure_prints_a_retry_command_that_bakes_once_the_bad_answer_is_fixed(tmp_path):
    """A 32-character name costs one answer: the suggested command keeps the others, placeholder fixed."""
    out = tmp_path / "out"
    out.mkdir()
    answers = {"description_for_human": "Bob's \"Calc\": $(rm -rf ~) `id` $HOME!", "aws_region": "eu-west-1",
               "lambda_architecture": "x86_64", "contact_email": "o'brien+plugins@sub.example.co.uk"}
    first = _cli(tmp_path, "--no-input", str(TEMPLATE), "-o", str(out), "plugin_name=" + "x" * 32,
                 *[f"{k}={v}" for k, v in answers.items()])
    assert first.returncode != 0 and list(out.iterdir()) == []
    replay = json.loads((tmp_path / "replay" / f"{TEMPLATE.name}.json").read_text(encoding="utf-8"))
    assert replay["cookiecutter"]["plugin_name"] == "x" * 32  # saved before the hook ran, bad answer and all
    assert "ERROR: plugin_name: is 32 characters; use 1 to 20 (e.g. 'Sumar Plugin')\n" + HINT in first.stderr
    words = shlex.split(_retry_command(first.stderr))
    assert words[:3] == ["cookiecutter", "--no-input", str(TEMPLATE)]
    assert words.count("plugin_name=<fix this>") == 1 and "x" * 32 not in words
    words[words.index("plugin_name=<fix this>")] = "plugin_name=Retry Plugin"
    retry = _cli(tmp_path, *words[1:])
    assert retry.returncode == 0, retry.stderr
    project = out / "retry-plugin"
    assert (project / "lambda.zip").stat().st_size > 0
    manifest = json.loads((project / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["name_for_human"] == "Retry Plugin"
    assert manifest["description_for_human"] == answers["description_for_human"]
    assert manifest["contact_email"] == answers["contact_email"]
    tfvars = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert 'aws_region          = "eu-west-1"' in tfvars and 'lambda_architecture = "x86_64"' in tfvars


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_cli_retry_command_keeps_a_multi_line_description_on_one_line(tmp_path):
    """A multi-line description_for_model (valid) comes back as $'...' on the one hint line; bash runs it."""
    model = "Plugin for sums.\n\nRules:\n\t- add two numbers, it's {{ exact }}\n"
    first = _cli(tmp_path, "--no-input", str(TEMPLATE), "-o", str(tmp_path / "out"), "plugin_name=!!!",
                 "description_for_model=" + model.replace("{{ exact }}", "{% raw %}{{ exact }}{% endraw %}"))
    assert first.returncode != 0
    command = _retry_command(first.stderr)
    assert "description_for_model=$'" in command and "\n" not in command
    retry = _cli(tmp_path, bash=command.replace("plugin_name='<fix this>'", "plugin_name='Multi Line'"))
    assert retry.returncode == 0, retry.stderr
    project = tmp_path / "out" / "multi-line"
    assert json.loads((project / "manifest.json").read_text(encoding="utf-8"))["description_for_model"] == model
    assert (project / "lambda.zip").stat().st_size > 0
