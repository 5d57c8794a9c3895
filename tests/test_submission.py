"""`python3 -m plugin_tools.submission` (issue 18, section 2): the pack passes on the default bake
and fails, naming the item, when a case's expectation, a case's form, a privacy URL or the tool
itself is wrong; cases for a tool that no longer exists are the pack's business, not `make test`'s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bake_support import bake


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("submission"))


@pytest.fixture
def copy(pristine, tmp_path) -> Path:
    target = tmp_path / pristine.name
    shutil.copytree(pristine, target)
    return target


def submission(project: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "plugin_tools.submission", *args], cwd=project,
                          capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def edit_cases(project: Path, change) -> None:
    path = project / "submission" / "cases.json"
    cases = json.loads(path.read_text(encoding="utf-8"))
    change(cases)
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")


def test_the_default_bake_s_pack_passes_and_says_what_it_saw(copy):
    done = submission(copy)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[0].startswith("submission pack: 8/8 case(s) pass, 0 missing, ")
    assert done.stderr == ""  # no log lines from the in-process calls
    doc = json.loads((copy / "submission" / "submission.json").read_text(encoding="utf-8"))
    assert doc["ok"] is True and doc["missing"] == []
    assert doc["privacy_policy_url"] == "https://example.com/privacy" and doc["terms_url"] == "https://example.com/terms"
    assert doc["listing"]["name"] == "Sumar Plugin" and doc["listing"]["short_description"] == "Suma dos números."
    (tool,) = doc["tools"]
    assert tool["name"] == "sumar" and tool["annotations"]["readOnlyHint"] is True
    assert tool["outputSchema"]["required"] == ["resultado"]
    assert tool["widget_csp"] == {"connect_domains": [], "resource_domains": [], "frame_domains": []}
    assert doc["auth"] == {"type": "none", "demo_account": ""}
    kinds = [c["kind"] for c in doc["cases"]]
    assert kinds.count("positive") >= 5 and kinds.count("negative") >= 3
    assert {c["outcome"] for c in doc["cases"]} == {"pass"}
    assert doc["cases"][0]["result"] == {"resultado": 5}
    steps = {s["item"] for s in doc["before_you_submit"]}
    assert {"public MCP URL", "domain verification"} <= steps
    markdown = (copy / "submission" / "submission.md").read_text(encoding="utf-8")
    assert "| positive | ¿Cuánto es 2 + 3? | sumar |" in markdown and "## Missing\n\n- nothing" in markdown


def test_a_wrong_expectation_fails_naming_the_case(copy):
    edit_cases(copy, lambda c: c["positive"][1].update(expected={"resultado": 43}))
    done = submission(copy)
    assert done.returncode == 1
    assert ('MISSING positive case 2: expected {"resultado": 43}, got {"resultado": 42.0}' in done.stdout
            or 'MISSING positive case 2: expected {"resultado": 43}, got {"resultado": 42}' in done.stdout), done.stdout


@pytest.mark.parametrize("value", ["http://example.com/privacy", "privacy", ""])
def test_a_wrong_privacy_url_fails_naming_it(copy, value):
    path = copy / "manifest.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["privacy_policy_url"] = value
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = submission(copy)
    assert done.returncode == 1
    assert any(line.startswith("MISSING privacy_policy_url: ") for line in done.stdout.splitlines()), done.stdout


@pytest.mark.parametrize(("change", "item"), [
    (lambda c: c["negative"].pop(), "cases: negative"),
    (lambda c: c["positive"].pop(), "cases: positive"),
    (lambda c: c["negative"][0].update(tool="sumar"), "negative case 1"),
    (lambda c: c["positive"][0].update(arguments={"numero1": "dos"}), "positive case 1"),
    (lambda c: c["positive"][2].update(prompt=" "), "positive case 3"),
])
def test_a_case_of_the_wrong_form_fails_naming_it(copy, change, item):
    edit_cases(copy, change)
    done = submission(copy)
    assert done.returncode == 1
    assert any(line.startswith(f"MISSING {item}: ") for line in done.stdout.splitlines()), done.stdout


def test_a_result_that_breaks_the_output_schema_fails(copy):
    handler = copy / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace(
        'return {"resultado": numero1 + numero2}', 'return {"resultado": str(numero1 + numero2)}'), encoding="utf-8")
    done = submission(copy)
    assert done.returncode == 1
    assert "MISSING positive case 1: " in done.stdout


def test_cases_for_a_removed_tool_are_reported_by_the_pack_not_by_the_tests(copy):
    handler = copy / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace("def sumar(", "def multiplicar(").replace(
        "numero1 + numero2", "numero1 * numero2"), encoding="utf-8")
    done = submission(copy)
    assert done.returncode == 1
    assert "MISSING positive case 1: expects tool 'sumar', which handler.py no longer defines" in done.stdout
    readers = [p for p in (copy / "tests").rglob("*.py") if "cases.json" in p.read_text(encoding="utf-8")]
    assert readers == []  # make test never reads the cases


def test_a_protected_plugin_needs_demo_account_notes(tmp_path):
    project = bake(tmp_path, auth="api_key")
    done = submission(project)
    assert done.returncode == 1
    assert any(line.startswith("MISSING demo account: ") for line in done.stdout.splitlines()), done.stdout
    edit_cases(project, lambda c: c.update(demo_account="API key in the review notes; no MFA."))
    assert submission(project).returncode == 0


def test_final_turns_the_deployment_steps_into_failures(copy):
    done = submission(copy, "--final")
    assert done.returncode == 1
    assert "MISSING public MCP URL: server.json names http://localhost:8080/mcp" in done.stdout
    assert "MISSING domain verification: " in done.stdout


def test_the_pack_stays_out_of_the_zip(pristine):
    import zipfile

    with zipfile.ZipFile(pristine / "lambda.zip") as zf:
        assert not [n for n in zf.namelist() if "submission" in n]
