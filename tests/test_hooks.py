"""The hooks' logic, called as functions: every check on good and bad values."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from bake_support import TEMPLATE


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre = _load("pre_gen_project")
post = _load("post_gen_project")

GOOD = {
    "plugin_name": "Sumar Plugin", "description_for_human": "Suma dos números.",
    "description_for_model": "Plugin for adding two numbers.", "contact_email": "support@example.com",
    "legal_info_url": "https://example.com/legal", "aws_region": "us-east-1", "lambda_runtime": "python3.13",
    "lambda_architecture": "arm64", "__plugin_slug": "sumar-plugin", "__name_for_model": "sumarplugin",
    "__bucket_prefix": "sumar-plugin-",
}


def test_defaults_pass():
    assert pre.validate(GOOD) == []
    assert pre.main(GOOD) == 0


@pytest.mark.parametrize("value", ["A", "x" * 20, "Año's \"Calc\" \\ 1", "Ünïcödé Plügïn"])
def test_plugin_name_accepts(value):
    assert pre.check_plugin_name(value) is None


@pytest.mark.parametrize("value", ["", "   ", "x" * 21, "two\nlines", "tab\there", None, 7])
def test_plugin_name_rejects(value):
    assert pre.check_plugin_name(value).startswith("plugin_name: ")


def test_description_limits():
    assert pre.check_description_for_human("x" * 100) is None
    assert "101 characters" in pre.check_description_for_human("x" * 101)
    assert pre.check_description_for_model("line one\nline two\n\tindented") is None
    assert pre.check_description_for_model("x" * 8000) is None
    assert "8001 characters" in pre.check_description_for_model("x" * 8001)
    assert pre.check_description_for_model("bell\x07") is not None


@pytest.mark.parametrize("value", ["a@b.co", "first.last+tag@sub.example.org", "o'brien@example.ie"])
def test_email_accepts(value):
    assert pre.check_contact_email(value) is None


@pytest.mark.parametrize("value", ["", "plain", "a@b", "@example.com", "a@@b.com", "a b@c.com", "a@-b.com",
                                   "x" * 250 + "@e.com"])
def test_email_rejects(value):
    assert pre.check_contact_email(value).startswith("contact_email: ")


@pytest.mark.parametrize("value", ["https://example.com/legal", "http://localhost:8080/terms", "https://x.io"])
def test_url_accepts(value):
    assert pre.check_legal_info_url(value) is None


@pytest.mark.parametrize("value", ["example.com", "ftp://example.com", "https://", "https://exa mple.com",
                                   "javascript:alert(1)", "https://[::1", ""])
def test_url_rejects(value):
    assert pre.check_legal_info_url(value).startswith("legal_info_url: ")


@pytest.mark.parametrize("value", ["us-east-1", "eu-west-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1"])
def test_region_accepts(value):
    assert pre.check_aws_region(value) is None


@pytest.mark.parametrize("value", ["us-east-9", "US-EAST-1", "useast1", "", "eu-west-1 "])
def test_region_rejects_with_suggestions(value):
    message = pre.check_aws_region(value)
    assert message.startswith("aws_region: ") and "e.g." in message


def test_runtime_and_architecture():
    assert [pre.check_lambda_runtime(r) for r in ("python3.12", "python3.13", "python3.14")] == [None] * 3
    assert "python3.13" in pre.check_lambda_runtime("python3.10")
    assert pre.check_lambda_architecture("x86_64") is None
    assert "arm64" in pre.check_lambda_architecture("amd64")


@pytest.mark.parametrize(("slug", "ok"), [("sumar-plugin", True), ("", False), ("-", False), ("a" * 41, False),
                                         ("a/b", False)])
def test_slug(slug, ok):
    assert (pre.check_slug(slug, "name") is None) is ok


@pytest.mark.parametrize(("name", "ok"), [("sumarplugin", True), ("x" * 50, True), ("x" * 51, False),
                                          ("sumar_plugin", False), ("", False), ("añ", False)])
def test_name_for_model(name, ok):
    assert (pre.check_name_for_model(name) is None) is ok


@pytest.mark.parametrize(("prefix", "ok"), [
    ("sumar-plugin-", True), ("a-", True), ("a" * 36 + "-", True), ("a" * 37 + "-", False), ("-", False),
    ("sumar-plugin", False), ("Upper-", False), ("a.b-", False), ("sthree-calc-", False), ("xn--plugin-", False),
    ("amzn-s3-demo-x-", False), (None, False), (42, False),
])
def test_bucket_prefix(prefix, ok):
    assert (pre.check_bucket_prefix(prefix) is None) is ok


def test_the_derived_bucket_prefix_is_checked_and_never_random():
    cookiecutter_json = (TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8")
    assert "random" not in cookiecutter_json and "__bucket_name" not in cookiecutter_json
    bad = dict(GOOD, plugin_name="Sthree Calc", __plugin_slug="sthree-calc", __name_for_model="sthreecalc",
               __bucket_prefix="sthree-calc-")
    assert pre.validate(bad) == [
        "plugin_name: derives the bucket prefix 'sthree-calc-', which S3 would refuse; use a plain name"]


def test_every_problem_is_reported_on_its_own_line(capsys):
    bad = dict(GOOD, plugin_name="x" * 30, contact_email="nope", aws_region="mars-1")
    assert pre.main(bad) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["plugin_name", "contact_email", "aws_region"]
    assert all(line.startswith("ERROR: ") for line in lines)


def test_hook_receives_answers_as_data_not_source():
    source = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text(encoding="utf-8")
    assert source.count("{{") == 1 and 'json.loads(r"""{{ cookiecutter | tojson }}""")' in source
    assert "{{" not in (TEMPLATE / "hooks" / "post_gen_project.py").read_text(encoding="utf-8")


def test_hooks_use_only_the_standard_library():
    for module in (pre, post):
        for name in [n for n in vars(module).values() if type(n) is type(sys)]:
            assert name.__name__ in sys.stdlib_module_names, name.__name__


def test_post_hook_runs_the_projects_own_build(tmp_path):
    assert post.build_command() == [sys.executable, "-m", "plugin_runtime.build"]
    (tmp_path / "plugin_runtime").mkdir()
    (tmp_path / "plugin_runtime" / "__init__.py").write_text("")
    script = "import pathlib; pathlib.Path('ran').write_text('yes')\n"
    (tmp_path / "plugin_runtime" / "build.py").write_text(script)
    assert post.main(Path(tmp_path)) == 0
    assert (tmp_path / "ran").read_text() == "yes"
