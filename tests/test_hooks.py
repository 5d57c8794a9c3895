"""The hooks' logic, called as functions: every check on good and bad values."""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bake_support import TEMPLATE
from cookiecutter.environment import StrictEnvironment
from cookiecutter.prompt import render_variable


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre = _load("pre_gen_project")
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
post = _load("post_gen_project")

GOOD = {
    "plugin_name": "Sumar Plugin", "description_for_human": "Suma dos números.",
    "description_for_model": "Plugin for adding two numbers.", "contact_email": "support@example.com",
    "legal_info_url": "https://example.com/legal", "privacy_policy_url": "https://example.com/privacy",
    "terms_url": "https://example.com/terms", "aws_region": "us-east-1", "lambda_runtime": "python3.13",
    "lambda_architecture": "arm64", "auth": "none", "storage": "none", "__plugin_slug": "sumar-plugin",
    "__name_for_model": "sumarplugin", "__bucket_prefix": "sumar-plugin-",
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


URL_PROMPTS = ["legal_info_url", "privacy_policy_url", "terms_url"]


@pytest.mark.parametrize("prompt", URL_PROMPTS)
@pytest.mark.parametrize("value", ["https://example.com/legal", "http://localhost:8080/terms", "https://x.io"])
def test_url_accepts(prompt, value):
    assert getattr(pre, f"check_{prompt}")(value) is None


@pytest.mark.parametrize("prompt", URL_PROMPTS)
@pytest.mark.parametrize("value", ["example.com", "ftp://example.com", "https://", "https://exa mple.com",
                                   "javascript:alert(1)", "https://[::1", ""])
def test_url_rejects(prompt, value):
    assert getattr(pre, f"check_{prompt}")(value).startswith(f"{prompt}: ")


@pytest.mark.parametrize("prompt", ["privacy_policy_url", "terms_url"])
def test_validate_reports_a_bad_privacy_or_terms_url(prompt):
    problems = pre.validate({**GOOD, prompt: "privacy.example.com"})
    assert len(problems) == 1 and problems[0].startswith(f"{prompt}: ")


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
    assert pre.check_auth("none") is None and pre.check_auth("api_key") is None and pre.check_auth("oauth") is None
    assert "choose one of none, api_key, oauth" in pre.check_auth("apikey")
    assert "arm64" in pre.check_lambda_architecture("amd64")


def test_storage():
    assert pre.check_storage("none") is None and pre.check_storage("dynamodb") is None
    assert "storage: 'DynamoDB' is not a storage mode; choose one of none, dynamodb" == pre.check_storage("DynamoDB")
    assert pre.validate({**GOOD, "storage": "sqlite"}) == [pre.check_storage("sqlite")]


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


def test_every_problem_is_reported_on_its_own_line_then_one_retry_line(capsys):
    bad = dict(GOOD, plugin_name="x" * 30, contact_email="nope", aws_region="mars-1")
    assert pre.main(bad) == 1
    *errors, hint = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[1].strip() for line in errors] == ["plugin_name", "contact_email", "aws_region"]
    assert all(line.startswith("ERROR: ") for line in errors)
    assert hint.startswith("To retry keeping your other answers, replace <fix this> and run: cookiecutter ")


def test_prompted_keys_in_cookiecutter_json_order_even_from_a_sorted_context():
    prompts = [k for k in DEFAULTS if not k.startswith("_")]
    assert list(pre.PROMPTS) == prompts
    assert pre.prompted_keys(dict(sorted({**GOOD, **RUN}.items()))) == prompts  # tojson sorts the context
    assert pre.prompted_keys({**GOOD, "new_prompt": "x", "_x": 3, "__y": 4}) == [*prompts, "new_prompt"]


def test_no_retry_line_when_all_is_well(capsys):
    assert pre.main(GOOD) == 0
    assert capsys.readouterr().err == ""


# What cookiecutter adds to the context the hook gets, as for `cookiecutter gh:me/scaffold` in /home/me.
RUN = {"_template": "gh:me/chatgpt-plugin-scaffold", "_output_dir": "/home/me", "_checkout": None,
       "_repo_dir": "/home/me/.cookiecutters/chatgpt-plugin-scaffold"}


def _command(hint: str) -> str:
    prefix = f"To retry keeping your other answers, replace {pre.PLACEHOLDER} and run: "
    assert hint.startswith(prefix) and "\n" not in hint and len(hint.splitlines()) == 1, hint
    return hint[len(prefix):]


def _answers(words: list[str]) -> dict[str, str]:
    return dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))


def _bash_words(command: str) -> list[str]:
    """The argv bash builds from the command line (with `cookiecutter` standing for a printer)."""
    script = "cookiecutter() { printf '%s\\0' \"$@\"; }; " + command
    run = subprocess.run(["bash", "-c", script], capture_output=True, check=True)
    return ["cookiecutter", *run.stdout.decode().split("\0")[:-1]]


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def test_retry_hint_keeps_every_answer_and_leaves_a_placeholder_for_the_bad_one(monkeypatch):
    monkeypatch.setenv("PWD", "/home/me")
    context = dict(sorted(dict(GOOD, **RUN, plugin_name="x" * 32).items()))  # tojson sorts the keys
    hint = pre.retry_hint(context, ["plugin_name: is 32 characters; use 1 to 20 (e.g. 'Sumar Plugin')"])
    words = shlex.split(_command(hint))
    assert words[:3] == ["cookiecutter", "--no-input", "gh:me/chatgpt-plugin-scaffold"]
    assert "--output-dir" not in words  # the user ran it where the project would go: the default
    answers = _answers(words)
    assert list(answers) == [k for k in DEFAULTS if not k.startswith("_")]  # prompted keys only, in prompt order
    assert answers == {**{k: v for k, v in GOOD.items() if not k.startswith("_")}, "plugin_name": "<fix this>"}
    assert "x" * 32 not in hint
    assert "plugin_name='<fix this>'" in hint and " aws_region=us-east-1 " in hint  # quoted only when needed


def test_retry_hint_placeholders_every_prompt_with_a_problem():
    problems = ["plugin_name: derives the name 'x', which does not fit AWS naming rules; use a shorter plain name",
                "contact_email: 'nope' is not an email address (e.g. 'support@example.com')"]
    answers = _answers(shlex.split(_command(pre.retry_hint(dict(GOOD, **RUN), problems))))
    assert [k for k, v in answers.items() if v == pre.PLACEHOLDER] == ["plugin_name", "contact_email"]


def test_retry_hint_keeps_output_dir_and_checkout_when_given(monkeypatch):
    monkeypatch.setenv("PWD", "/somewhere/else")
    context = {**GOOD, **RUN, "_output_dir": "/home/me/my projects", "_checkout": "v1.2"}
    words = shlex.split(_command(pre.retry_hint(context, ["aws_region: 'x' is not an AWS region code"])))
    assert words[2:7] == ["gh:me/chatgpt-plugin-scaffold", "--checkout", "v1.2", "--output-dir", "/home/me/my projects"]
    monkeypatch.delenv("PWD")
    assert "--output-dir" in pre.retry_hint(dict(GOOD, **RUN), ["aws_region: x"])  # when unsure, say it


# Answers the shell must not touch: quotes, $(...), backticks, $VARS, history "!", globs, secrets-like text.
SHELL_SHAPED = {
    "plugin_name": "Bob's \"Calc\" $HOME",
    "description_for_human": "'); DROP TABLE x; -- $(rm -rf ~) `id` !! *.py ~ & | ; > <",
    "description_for_model": "token=sk-live-$ecret!'\"\\ %s %{ if } ${path.module}",
    "legal_info_url": "https://example.com/legal?lang=es&x=\"y\"#top",
}


@needs_bash
def test_retry_hint_quotes_shell_shaped_answers_exactly():
    hint = pre.retry_hint(dict(GOOD, **RUN, **SHELL_SHAPED), ["aws_region: 'mars-1' is not an AWS region code"])
    command = _command(hint)
    for words in (shlex.split(command), _bash_words(command)):
        assert _answers(words) == {**{k: v for k, v in GOOD.items() if not k.startswith("_")}, **SHELL_SHAPED,
                                   "aws_region": "<fix this>"}


MULTI_LINE = "Plugin for sums.\n\nRules:\n\t- add two numbers\n- it's \\ \"exact\"\u2028end\n"


@needs_bash
def test_retry_hint_stays_one_line_for_a_multi_line_description_for_model():
    """shlex.quote would keep the newlines (inside quotes); $'...' spells them as escapes instead."""
    assert pre.check_description_for_model(MULTI_LINE) is None  # a valid answer
    hint = pre.retry_hint(dict(GOOD, **RUN, description_for_model=MULTI_LINE), ["plugin_name: x"])
    command = _command(hint)
    assert "description_for_model=$'Plugin for sums.\\n\\nRules:\\n\\t- add" in command
    assert _answers(_bash_words(command))["description_for_model"] == MULTI_LINE
    assert pre.shell_quote("one line") == "'one line'"  # everything else: plain shlex.quote


@pytest.mark.parametrize("value", ["{{ cookiecutter.plugin_name }}", "{% if x %}", "a {# not a comment #} b",
                                   "{% raw %}{{ x }}{% endraw %} {{", "plain { braces } and }}"])
def test_retry_hint_keeps_jinja_looking_answers_literal(value):
    """Typed answers are kept as typed, but cookiecutter renders key=value extra context with Jinja."""
    env = StrictEnvironment(context={"cookiecutter": {}}, keep_trailing_newline=True)
    assert render_variable(env, pre.as_typed(value), {}) == value
    answers = _answers(shlex.split(_command(pre.retry_hint(dict(GOOD, **RUN, description_for_human=value),
                                                           ["plugin_name: x"]))))
    assert render_variable(env, answers["description_for_human"], {}) == value


def test_readme_shows_the_hint_the_hook_prints(monkeypatch):
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8").split("## The prompts", 1)[1]
    error, hint = readme.split("```\nERROR: ", 1)[1].split("\n```", 1)[0].splitlines()
    monkeypatch.setenv("PWD", RUN["_output_dir"])
    context = {**GOOD, **RUN, "_template": "gh:org/chatgpt-plugin-scaffold", "plugin_name": "x" * 32,
               "description_for_model": DEFAULTS["description_for_model"]}
    assert "ERROR: " + error == f"ERROR: {pre.check_plugin_name('x' * 32)}"
    assert hint == pre.retry_hint(context, [error])


def test_an_unedited_placeholder_is_refused(capsys):
    assert pre.main(dict(GOOD, description_for_human=pre.PLACEHOLDER, contact_email=pre.PLACEHOLDER)) == 1
    *errors, hint = capsys.readouterr().err.strip().splitlines()
    assert errors == ["ERROR: description_for_human: still '<fix this>'; put your answer there",
                      "ERROR: contact_email: still '<fix this>'; put your answer there"]
    assert "description_for_human='<fix this>'" in hint and "contact_email='<fix this>'" in hint


def test_hook_receives_answers_as_data_not_source():
    source = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text(encoding="utf-8")
    assert source.count("{{") == 1 and 'json.loads(r"""{{ cookiecutter | tojson }}""")' in source
    assert "{{" not in (TEMPLATE / "hooks" / "post_gen_project.py").read_text(encoding="utf-8")


def test_hooks_use_only_the_standard_library():
    for module in (pre, post):
        for name in [n for n in vars(module).values() if type(n) is type(sys)]:
            assert name.__name__ in sys.stdlib_module_names, name.__name__


def test_post_hook_runs_the_projects_own_build(tmp_path):
    assert post.build_command() == [sys.executable, "-m", "plugin_tools.build"]
    (tmp_path / "plugin_tools").mkdir()
    (tmp_path / "plugin_tools" / "__init__.py").write_text("")
    script = "import pathlib; pathlib.Path('ran').write_text('yes')\n"
    (tmp_path / "plugin_tools" / "build.py").write_text(script)
    assert post.main(Path(tmp_path)) == 0
    assert (tmp_path / "ran").read_text() == "yes"
