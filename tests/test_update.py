"""Generated projects take template updates with cruft: `cruft create`, the user's own edits, a
template change, `cruft update`. The change must arrive as a clean three-way merge, and nothing
the user owns, nothing the build made and nothing about the bucket may change.

Each test builds a git repository of the template (commit A) from the files git tracks here, so
uncommitted edits to the template are what gets tested. Needs git and cruft (requirements-dev.txt).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from bake_support import TEMPLATE, bake, with_operation

PROJECT_DIR = "{{cookiecutter.__plugin_slug}}"
# What a template repository needs; README, tests and benchmarks of this repository do not matter.
TEMPLATE_PARTS = ("cookiecutter.json", "hooks", PROJECT_DIR)
# Lines template commit B appends, one per file it changes.
B_LINES = {
    "plugin_runtime/__init__.py": "# template B: a runtime change\n",
    "README.md": "\nTemplate B: a README change.\n",
    "main.tf": "# template B: a main.tf change\n",
    # The template changing files the user owns must not reach them.
    "handler.py": "# template B: the example handler changed\n",
    "requirements.txt": "# template B: the template's requirements changed\n",
    "terraform.tfvars": "# template B: a new setting\n",
}
USER_OWNED = ("handler.py", "requirements.txt", "terraform.tfvars", "openapi.json")


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """git that works anywhere (identity set, no global or system config) for cruft and for us."""
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH (cruft needs it)")
    pytest.importorskip("cruft", reason="cruft is not installed (pip install -r requirements-dev.txt)")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("")
    values = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
              "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_GLOBAL": str(gitconfig),
              "GIT_CONFIG_NOSYSTEM": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


def run(args: list[str], cwd: Path, env: dict, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode in ok, f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def git(cwd: Path, env: dict, *args: str) -> str:
    return run(["git", *args], cwd, env).stdout.strip()


def cruft(cwd: Path, env: dict, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "cruft", *args], cwd, env, ok)


def commit_all(repo: Path, env: dict, message: str) -> str:
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "-m", message)
    return git(repo, env, "rev-parse", "HEAD")


def template_repo(dest: Path, env: dict) -> tuple[Path, str]:
    """A git repository holding the template as it is in this checkout, committed once (A)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *TEMPLATE_PARTS], cwd=TEMPLATE, env=env,
                            capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        files = [TEMPLATE / name for name in listed.stdout.decode().split("\0") if name]
    else:  # not a git checkout: every file, without caches
        files = [p for part in TEMPLATE_PARTS for p in ([TEMPLATE / part] if (TEMPLATE / part).is_file()
                 else (TEMPLATE / part).rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    for source in files:
        if source.is_file():  # a tracked file deleted in the checkout is not part of the template
            target = dest / source.relative_to(TEMPLATE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(dest, env, "-c", "init.defaultBranch=main", "init", "-q")
    return dest, commit_all(dest, env, "A")


def create(template: Path, out: Path, env: dict) -> Path:
    """`cruft create --no-input`, then the project in a git repository of its own, as users keep it."""
    cruft(out.parent, env, "create", "--no-input", str(template), "--output-dir", str(out))
    (project,) = out.iterdir()
    git(project, env, "-c", "init.defaultBranch=main", "init", "-q")
    commit_all(project, env, "Generated with cruft")
    return project


def commit_template_b(template: Path, env: dict) -> str:
    for name, line in B_LINES.items():
        path = template / PROJECT_DIR / name
        path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")
    return commit_all(template, env, "B")


def files_of(project: Path) -> dict[str, bytes]:
    return {p.relative_to(project).as_posix(): p.read_bytes()
            for p in sorted(project.rglob("*")) if p.is_file() and ".git" not in p.relative_to(project).parts}


def leftovers(project: Path) -> list[str]:
    """Signs of a failed merge: *.rej / *.orig files, unmerged paths."""
    found = [p.relative_to(project).as_posix() for p in project.rglob("*") if p.suffix in (".rej", ".orig")]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    return found + [line for line in status if line[:2] in ("UU", "AA", "DU", "UD", "AU", "UA", "DD")]


def invoke(project: Path, env: dict, event: str) -> dict:
    result = run([sys.executable, "-m", "plugin_tools.invoke", event], project, env)
    return json.loads(result.stdout)


def update(project: Path, env: dict) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = cruft(project, env, "update", "--skip-apply-ask", "--allow-untracked-files")
    return result, time.perf_counter() - started


def test_update_merges_the_template_and_leaves_what_the_user_owns(tmp_path, env):
    template, _ = template_repo(tmp_path / "template", env)
    project = create(template, tmp_path / "out", env)
    tfvars = (project / "terraform.tfvars").read_text(encoding="utf-8")
    assert 'bucket_name         = "sumar-plugin-"\n' in tfvars, "the bucket must be a prefix, not a random name"

    # The user's edits: a second operation (rebuilt, as `make build` does), a requirement, a setting.
    handler = project / "handler.py"
    handler.write_text(with_operation(handler.read_text(encoding="utf-8")), encoding="utf-8")
    with (project / "requirements.txt").open("a", encoding="utf-8") as f:
        f.write("# the user's own requirement comes here\n")
    with (project / "terraform.tfvars").open("a", encoding="utf-8") as f:
        f.write("lambda_memory_mb    = 512\n")
    event = json.loads((project / "events" / "post_sumar.json").read_text(encoding="utf-8"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/restar"
    (project / "events" / "post_restar.json").write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
    run([sys.executable, "-m", "plugin_tools.build"], project, env)
    commit_all(project, env, "restar")
    before = files_of(project)
    assert "restar" in before["openapi.json"].decode() and "lambda.zip" in before

    commit_b = commit_template_b(template, env)
    assert cruft(project, env, "check", ok=(0, 1)).returncode == 1, "cruft check must say the project is behind"
    result, seconds = update(project, env)
    after = files_of(project)

    assert leftovers(project) == [], result.stdout + result.stderr
    for name in ("plugin_runtime/__init__.py", "README.md", "main.tf"):
        assert after[name].decode().endswith(B_LINES[name]), f"template B's change to {name} did not arrive"
    for name in (*USER_OWNED, "lambda.zip"):
        assert after[name] == before[name], f"the update changed {name}"
    assert "template B" not in after["handler.py"].decode() + after["requirements.txt"].decode()
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed == [".cruft.json", "README.md", "main.tf", "plugin_runtime/__init__.py"], changed
    assert json.loads(after[".cruft.json"])["commit"] == commit_b
    cruft(project, env, "check")

    # The project still works, the user's operation included. (Its own test suite assumes the
    # single example operation, so with restar added it is run in the next test instead.)
    assert invoke(project, env, "events/post_sumar.json")["body"] == {"resultado": 5}
    assert invoke(project, env, "events/post_restar.json")["body"] == {"resultado": -1}
    print(f"\ncruft update: {seconds:.2f} s (two renders of the template, hooks included)")


def test_an_updated_project_passes_its_own_tests(tmp_path, env):
    """A user who edited the README close to where the template changes it (so only a real
    three-way merge applies the change) and requirements.txt, and never rebuilt: the README merges,
    their generated lambda.zip stays as it is (not the template's newer one), and after `make build`
    the project's own tests pass."""
    template, _ = template_repo(tmp_path / "template", env)
    project = create(template, tmp_path / "out", env)
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].rstrip("\n") + " (ours)\n"
    lines[-3] = lines[-3].rstrip("\n") + " (ours)\n"  # inside the context of template B's hunk
    readme.write_text("".join(lines), encoding="utf-8")
    with (project / "requirements.txt").open("a", encoding="utf-8") as f:
        f.write("# nothing yet\n")
    commit_all(project, env, "user edits")
    before = files_of(project)

    commit_template_b(template, env)
    result, _ = update(project, env)
    after = files_of(project)
    assert leftovers(project) == [], result.stdout + result.stderr
    assert after["README.md"].decode() == "".join(lines) + B_LINES["README.md"]
    assert after["plugin_runtime/__init__.py"].decode().endswith(B_LINES["plugin_runtime/__init__.py"])
    for name in ("lambda.zip", "requirements.txt"):
        assert after[name] == before[name], f"the update changed {name}"

    run([sys.executable, "-m", "plugin_tools.build"], project, env)
    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env, ok=(0, 1))
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]


def test_two_creates_of_the_same_answers_are_identical(tmp_path, env):
    """Nothing random in a project: cruft's two renders of an update could never agree on it."""
    template, _ = template_repo(tmp_path / "template", env)
    projects = []
    for name in ("one", "two"):
        cruft(tmp_path, env, "create", "--no-input", str(template), "--output-dir", str(tmp_path / name))
        projects.append(files_of(tmp_path / name / "sumar-plugin"))
    assert projects[0]["terraform.tfvars"] == projects[1]["terraform.tfvars"]
    assert projects[0] == projects[1]


def test_the_skip_list_names_what_the_user_owns_and_the_build_makes(tmp_path):
    import tomllib

    project = bake(tmp_path)
    skip = set(tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["cruft"]["skip"])
    assert {*USER_OWNED, "lambda.zip", "build", "logo.png"} <= skip
    gitignored = {line.rstrip("/") for line in (project / ".gitignore").read_text(encoding="utf-8").splitlines()
                  if line and not line.startswith("#")}
    # Every build output and Terraform file the project ignores is skipped too.
    assert {"lambda.zip", "lambda.zip.tmp", "build", ".terraform", "*.tfstate", "*.tfstate.*"} <= gitignored & skip


def test_the_generated_ci_runs_cruft_check_when_the_project_has_cruft():
    workflow = yaml.safe_load((TEMPLATE / PROJECT_DIR / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    (check,) = [step for step in steps if step.get("run", "").strip() == "cruft check"]
    assert check["if"] == "hashFiles('.cruft.json') != ''"
    (install,) = [step for step in steps if "pip install" in step.get("run", "") and "cruft" in step["run"]]
    assert install["if"] == check["if"]
