"""python3 -m plugin_tools.keys: a key is printed once, only its SHA-256 lands in terraform.tfvars,
and the rest of the file is left as it was (and as terraform fmt writes it). The tests work on a
copy of the project's terraform.tfvars, with whatever keys you made already."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from conftest import PROJECT

from plugin_tools import keys
from plugin_tools.project import auth_environment, read_tfvars, read_tfvars_map


@pytest.fixture
def project(tmp_path):
    shutil.copy(PROJECT / "terraform.tfvars", tmp_path / "terraform.tfvars")
    return tmp_path


@pytest.fixture
def existing():
    """The keys terraform.tfvars holds already (`make api-key` may have made some)."""
    return read_tfvars_map(PROJECT, "api_keys")


def test_new_prints_the_key_once_and_records_only_its_hash(project, capsys, existing):
    before = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert keys.main(["--project", str(project), "new", "zz-test-ci-bot"]) == 0
    key = capsys.readouterr().out.splitlines()[1]
    assert key.startswith("pk_") and len(key) >= 3 + 43  # 32 random bytes, URL-safe base64
    text = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert key not in text
    made = hashlib.sha256(key.encode()).hexdigest()
    assert read_tfvars_map(project, "api_keys") == {**existing, "zz-test-ci-bot": made}
    # every line but the map's own (its entries are realigned when a longer name joins them)
    unchanged = [line for line in before.splitlines()
                 if not line.startswith(("api_keys", "  ")) and line.strip() not in ("", "}")]
    assert all(line in text.splitlines() for line in unchanged)
    assert read_tfvars(project)["name"] == read_tfvars(PROJECT)["name"]


def test_keys_are_random(project, capsys, existing):
    made = {keys.create(project, f"zz-test-k{i}") for i in range(5)}
    assert len(made) == 5
    assert len(read_tfvars_map(project, "api_keys")) == len(existing) + 5


def test_list_and_revoke(project, capsys, existing):
    keys.create(project, "zz-test-laptop")
    keys.create(project, "zz-test-ci-bot")
    capsys.readouterr()
    assert keys.main(["--project", str(project), "list"]) == 0
    assert capsys.readouterr().out.split() == sorted([*existing, "zz-test-ci-bot", "zz-test-laptop"])
    assert keys.main(["--project", str(project), "revoke", "zz-test-laptop"]) == 0
    assert list(read_tfvars_map(project, "api_keys")) == sorted([*existing, "zz-test-ci-bot"])
    for name in [*existing, "zz-test-ci-bot"]:
        keys.revoke(project, name)
    assert read_tfvars_map(project, "api_keys") == {}
    assert "api_keys = {}" in (project / "terraform.tfvars").read_text(encoding="utf-8")


def test_the_map_is_written_as_terraform_fmt_writes_it(project):
    """Names of different lengths: terraform fmt aligns their "=" (make lint runs terraform fmt -check)."""
    for name in ("zz-a", "zz-test-ci-bot", "zz-a-much-longer-name"):
        keys.create(project, name)
    lines = [line for line in (project / "terraform.tfvars").read_text(encoding="utf-8").splitlines()
             if line.startswith('  "')]
    assert len({line.index(" = ") for line in lines}) == 1, lines
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed (the CI's terraform job runs terraform fmt -check)")
    check = subprocess.run([terraform, "fmt", "-check", "-diff", str(project / "terraform.tfvars")],
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout


def test_the_local_server_reads_the_same_hashes(project, capsys):
    key = keys.create(project, "zz-test-laptop")
    env = auth_environment(project)
    assert hashlib.sha256(key.encode()).hexdigest() in env["PLUGIN_API_KEYS"]
    assert key not in str(env)


def test_a_file_without_the_map_gets_one(tmp_path):
    (tmp_path / "terraform.tfvars").write_text('name = "x"\n', encoding="utf-8")
    keys.create(tmp_path, "first")
    assert list(read_tfvars_map(tmp_path, "api_keys")) == ["first"]
    assert read_tfvars(tmp_path)["name"] == "x"


@pytest.mark.parametrize("name", ["", "-dash", "has space", "ñandú", "a" * 65, "x;rm -rf /", 'q"uote', "a\nb"])
def test_bad_names_are_refused_in_one_line(project, capsys, name):
    before = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert keys.main(["--project", str(project), "new", "--", name]) == 1
    err = capsys.readouterr().err
    assert err.startswith("keys: ") and err.count("\n") == 1 and "Traceback" not in err
    assert (project / "terraform.tfvars").read_text(encoding="utf-8") == before


def test_duplicates_and_unknown_names_are_refused(project, capsys):
    keys.create(project, "zz-test-laptop")
    assert keys.main(["--project", str(project), "new", "zz-test-laptop"]) == 1
    assert keys.main(["--project", str(project), "revoke", "zz-no-such-key"]) == 1
    assert "exists already" in capsys.readouterr().err


def test_a_broken_map_is_reported_not_rewritten(tmp_path, capsys):
    (tmp_path / "terraform.tfvars").write_text('api_keys = {\n  laptop = \n', encoding="utf-8")
    assert keys.main(["--project", str(tmp_path), "new", "x"]) == 1
    assert "never closed" in capsys.readouterr().err
