"""Build the deployable artefacts: openapi.json (the committed contract) and lambda.zip.

Run as ``python3 -m plugin_tools.build``. The post-generation hook, ``make build`` and
Terraform's build step all run this same command. Standard library only, so it needs no
virtual environment; it calls pip only when requirements.txt lists packages.

The zip is reproducible: entries are sorted, dated 1980-01-01 and given fixed permissions, so
two builds of the same sources are byte-identical whatever the file times and umask.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from plugin_runtime import model_auth
from plugin_runtime.model_resource import widget_origins

from .check import ERROR, check_built, check_manifest_file, check_widget_files, gate
from .project import PROJECT, BuildError, auth_environment, load_plugin, read_tfvars
from .registry import server_json

LOCAL_ORIGIN = "http://localhost:8080"
# What goes into the zip besides installed requirements. main.tf hashes the same files
# (local.source_files); a test keeps the two lists equal.
SOURCE_GLOBS = ("*.py", "plugin_runtime/*.py", "manifest.json", "logo.png", "requirements.txt", "widgets/*.html",
                "widgets/*.js")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def source_files(project: Path = PROJECT) -> list[Path]:
    """Every file that goes into the zip from the project itself, sorted."""
    found = {p for pattern in SOURCE_GLOBS for p in project.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.relative_to(project).as_posix())


def requirements(project: Path = PROJECT) -> list[str]:
    path = project / "requirements.txt"
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def tfvars_auth(project: Path = PROJECT) -> model_auth.AuthConfig:
    """The auth configuration terraform.tfvars asks for (what the deployed Lambda will get)."""
    env = auth_environment(project)
    if env["PLUGIN_AUTH"] == "oauth":  # the documents need only the scope names; the rest is Terraform's
        settings = model_auth.OAuthSettings({"SCOPE_PREFIX": env["PLUGIN_OAUTH_SCOPE_PREFIX"]})
        return model_auth.AuthConfig("oauth", verification_token=env["PLUGIN_OPENAI_VERIFICATION_TOKEN"],
                                     oauth=settings)
    config = model_auth.parse(env["PLUGIN_AUTH"], env["PLUGIN_API_KEYS"], env["PLUGIN_OPENAI_VERIFICATION_TOKEN"])
    if config.problem:
        raise BuildError(f"terraform.tfvars: {config.problem.replace(model_auth.MODE_ENV, 'auth')}")
    return config


def render_openapi(plugin, origin: str, project: Path = PROJECT) -> str:
    """openapi.json's exact text for the auth mode in terraform.tfvars: keys in the order they are
    derived, two-space indent, newline."""
    doc = plugin.openapi_for(origin, tfvars_auth(project))
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_server_json(plugin, origin: str, project: Path = PROJECT) -> Path:
    """server.json for the MCP Registry, its remote on ``origin`` (written only when it changes)."""
    slug = read_tfvars(project).get("name", project.name)
    doc = server_json(plugin.manifest, plugin.version, origin, tfvars_auth(project), slug)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    path = project / "server.json"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def origin_lines(plugin, origin: str) -> list[str]:
    """What origin each host gives the widgets (the origin CORS and embedded pages must allow)."""
    if not any(plugin.widget_for(op) for op in plugin.operations.values()):
        return []
    origins = widget_origins(origin.rstrip("/") + "/mcp")
    return [f"widget origin in ChatGPT: {origins['chatgpt']} (before 2026-12-15: {origins['chatgpt_legacy']}); "
            "Claude and other MCP Apps hosts choose their own sandbox origin"]


def current_origin(path: Path) -> str:
    """Keep the server URL a previous build wrote (e.g. the deployed API) unless told otherwise."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["servers"][0]["url"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return LOCAL_ORIGIN


def install_requirements(project: Path, runtime: str, architecture: str) -> Path | None:
    """pip-install requirements.txt for the Lambda's platform into build/deps (cached)."""
    reqs = requirements(project)
    if not reqs:
        return None
    if architecture not in _PLATFORMS:
        raise BuildError(f"lambda_architecture must be arm64 or x86_64, not {architecture!r}")
    version = runtime.removeprefix("python")
    key = hashlib.sha256(json.dumps([reqs, runtime, architecture]).encode()).hexdigest()
    target = project / "build" / "deps"
    stamp = project / "build" / "deps.sha256"
    if target.is_dir() and stamp.exists() and stamp.read_text() == key:
        return target
    shutil.rmtree(target, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--target", str(target), "--platform", _PLATFORMS[architecture], "--python-version", version,
           "--implementation", "cp", "--only-binary=:all:", "--upgrade", "-r", str(project / "requirements.txt")]
    if subprocess.run(cmd, check=False).returncode != 0:
        raise BuildError("pip could not install requirements.txt for the Lambda platform "
                         f"({_PLATFORMS[architecture]}, Python {version}); see pip's message above")
    stamp.write_text(key)
    return target


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = 3
    info.external_attr = ((0o755 if mode & 0o100 else 0o644) | 0o100000) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def runtime_interpreter(runtime: str) -> str | None:
    """A local CPython of the Lambda runtime's version (e.g. python3.13), or None."""
    version = runtime.removeprefix("python")
    if sys.implementation.name == "cpython" and f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    return shutil.which(f"python{version}")


# Run by the runtime's interpreter: unchecked-hash pycs carry no timestamp (reproducible) and are
# loaded without looking at the source's mtime. dfile keeps the build folder out of the bytecode.
_COMPILE = """
import json, py_compile, sys
for rel, source, cfile in json.load(sys.stdin):
    py_compile.compile(source, cfile=cfile, dfile=rel, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
print(sys.implementation.cache_tag)
"""


def compile_sources(entries: dict[str, Path], runtime: str, workdir: Path) -> dict[str, Path]:
    """Bytecode for the zipped .py files, so the Lambda does not compile them at every cold start.

    /var/task is read-only, so Python cannot cache bytecode there: without these files every cold
    start recompiles the runtime (about 7 ms). Bytecode is only valid for one Python version, so
    this needs a local interpreter matching the runtime; without one it returns {} and the zip
    holds sources only.
    """
    interpreter = runtime_interpreter(runtime)
    sources = sorted(rel for rel in entries if rel.endswith(".py"))
    if interpreter is None or not sources:
        return {}
    jobs = [[rel, str(entries[rel]), str(workdir / f"{i}.pyc")] for i, rel in enumerate(sources)]
    result = subprocess.run([interpreter, "-I", "-c", _COMPILE], input=json.dumps(jobs), capture_output=True,
                            text=True, check=False, timeout=300)
    if result.returncode != 0:
        return {}  # e.g. a syntax error newer than that interpreter: ship sources, Lambda compiles them
    tag = result.stdout.strip()
    compiled: dict[str, Path] = {}
    for rel, _, cfile in jobs:
        folder, _, name = rel.rpartition("/")
        compiled[f"{folder + '/' if folder else ''}__pycache__/{name[:-3]}.{tag}.pyc"] = Path(cfile)
    return compiled


def write_zip(project: Path, target: Path, deps: Path | None, runtime: str | None = None) -> int:
    """Write the zip deterministically; returns its size in bytes. With ``runtime``, the project's
    modules are also shipped as bytecode when a matching local Python can compile them."""
    own = {p.relative_to(project).as_posix(): p for p in source_files(project)}
    entries = dict(own)
    if deps is not None:
        for path in deps.rglob("*"):
            rel = path.relative_to(deps).as_posix()
            if path.is_file() and "__pycache__" not in rel and not rel.endswith(".pyc"):
                entries.setdefault(rel, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with tempfile.TemporaryDirectory() as workdir:
        if runtime:
            entries.update(compile_sources(own, runtime, Path(workdir)))
        with zipfile.ZipFile(tmp, "w", compresslevel=9) as zf:
            for name in sorted(entries):
                path = entries[name]
                zf.writestr(_entry(name, path.stat().st_mode), path.read_bytes())
    os.replace(tmp, target)
    return target.stat().st_size


def _stop_on(findings: list) -> None:
    """Print the warnings of plugin_tools.check; refuse to build on its errors."""
    errors = gate(findings)
    if errors:
        raise BuildError(f"{len(errors)} rule(s) broken (python3 -m plugin_tools.check lists them):\n"
                         + "\n".join(errors))


def _stop_on_widgets(findings: list) -> None:
    """A widget file too large or not a complete HTML document stops the build with one line."""
    gate([f for f in findings if f.level != ERROR])
    errors = [f for f in findings if f.level == ERROR]
    if errors:
        more = f" (and {len(errors) - 1} more: python3 -m plugin_tools.check lists them)" if len(errors) > 1 else ""
        first = errors[0]
        where = "" if first.path == "$" else f" {first.path}"
        raise BuildError(f"{first.file}{where}: {first.message}{more}")


def build(project: Path = PROJECT, origin: str | None = None, quiet: bool = False) -> dict[str, object]:
    """Regenerate openapi.json, then write lambda.zip. Returns what was written."""
    tfvars = read_tfvars(project)
    plugin = load_plugin(project, tfvars.get("lambda_handler"))
    _stop_on_widgets(check_widget_files(plugin, project))
    openapi_path = project / tfvars.get("path_to_openapi", "openapi.json")
    origin = origin or current_origin(openapi_path)
    _stop_on(check_manifest_file(project / tfvars.get("path_to_manifest", "manifest.json")))
    text = render_openapi(plugin, origin, project)
    if not openapi_path.exists() or openapi_path.read_text(encoding="utf-8") != text:
        openapi_path.write_text(text, encoding="utf-8")
    shipped = {p.relative_to(project).as_posix() for p in source_files(project)}
    _stop_on(check_built(plugin, json.loads(text), origin, shipped))
    write_server_json(plugin, origin, project)
    runtime = tfvars.get("lambda_runtime", "python3.13")
    deps = install_requirements(project, runtime, tfvars.get("lambda_architecture", "arm64"))
    zip_path = project / tfvars.get("path_to_lambda", "lambda.zip")
    size = write_zip(project, zip_path, deps, runtime)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    for line in store_warnings(plugin, tfvars):
        print(line, file=sys.stderr)
    if not quiet:
        ops = ", ".join(plugin.operations) or "none"
        print(f"built {zip_path.name} ({size:,} bytes, sha256 {digest[:12]}) and "
              f"{openapi_path.name} (operations: {ops})")
        for line in origin_lines(plugin, origin):
            print(line)
    return {"zip": zip_path, "size": size, "sha256": digest, "openapi": openapi_path}


def store_warnings(plugin, tfvars: dict[str, str]) -> list[str]:
    """Operations whose tasks or quotas live in the store, while terraform.tfvars deploys none:
    locally they work (the SQLite file), deployed their calls would fail."""
    if tfvars.get("storage", "none") == "dynamodb":
        return []
    lines = []
    for op in plugin.operations.values():
        uses = [what for what, used in (("task=", op.task != "forbidden"), ("quota=", op.quota is not None)) if used]
        if uses:
            lines.append(f"warning: {op.name} uses {' and '.join(uses)}, which keep their state in the store: set "
                         "storage = \"dynamodb\" in terraform.tfvars, or its calls fail once deployed")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.build", description=__doc__.split("\n")[0])
    parser.add_argument("--origin", help="server URL to write into openapi.json (default: keep the current one)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    try:
        build(origin=args.origin, quiet=args.quiet)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
