"""The app-directory submission pack: ``python3 -m plugin_tools.submission`` (``make submission``).

It reads submission/cases.json (the review's test cases: at least 5 positive and 3 negative, each a
prompt, the expected tool or none, its arguments and the expected result), runs every positive
case's tool call through the plugin's own MCP endpoint in-process, checks each result against the
tool's outputSchema and the expectation, checks the negative cases' form, and writes
submission/submission.md and submission/submission.json: the listing fields, each tool as the
directory's scan sees it (name, description, annotations, schemas, widget CSP), the auth type and
demo-account notes, the cases with their outcomes, the privacy and terms URLs, and what is still
missing, each with the one step that fixes it. A missing or failing item exits 1, naming the item.

Deployment steps (a public https URL, the domain-verification token) are listed as "before you
submit"; ``--final`` makes them failures too (run it after ``terraform apply``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from .lint_common import ERROR
from .lint_directory import check_directory, directory_tools
from .project import PROJECT, BuildError, load_plugin, read_tfvars

CASES_FILE = Path("submission") / "cases.json"
MIN_POSITIVE, MIN_NEGATIVE = 5, 3
LISTING = (("name", "name_for_human"), ("short_description", "description_for_human"),
           ("long_description", "description_for_model"), ("contact_email", "contact_email"),
           ("website", "legal_info_url"), ("privacy_policy_url", "privacy_policy_url"), ("terms_url", "terms_url"))
HOST = "submission.local"


class Pack:
    """What the pack found: items (name, ok, detail, fix) and the sections it writes."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.pending: list[dict] = []

    def item(self, name: str, ok: bool, detail: str, fix: str = "") -> bool:
        self.items.append({"item": name, "ok": ok, "detail": detail, "fix": "" if ok else fix})
        return ok

    def todo(self, name: str, detail: str, fix: str) -> None:
        self.pending.append({"item": name, "detail": detail, "fix": fix})

    @property
    def failures(self) -> list[dict]:
        return [i for i in self.items if not i["ok"]]


def _call_tool(plugin, name: str, arguments: object) -> dict:
    """tools/call through the plugin's MCP endpoint, as a 2025-06-18 client (ChatGPT) sends it."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    event = {"version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
             "headers": {"host": HOST, "content-type": "application/json", "mcp-protocol-version": "2025-06-18",
                         "accept": "application/json, text/event-stream"},
             "requestContext": {"domainName": HOST, "requestId": "submission",
                                "http": {"method": "POST", "path": "/mcp", "sourceIp": "127.0.0.1"}},
             "body": json.dumps(body), "isBase64Encoded": False}
    # The cases test the tools (auth is the doctor's business), without a log line per call.
    quiet = {"PLUGIN_AUTH": "none", "AWS_LAMBDA_LOG_LEVEL": "WARN"}
    saved = {key: os.environ.get(key) for key in quiet}
    os.environ.update(quiet)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            response = plugin.lambda_handler(event, None)  # its log line and metrics record are not ours
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    message = json.loads(response["body"])
    if "result" not in message:
        raise ValueError(f"tools/call answered {json.dumps(message.get('error'))[:200]}")
    return message["result"]


def _subset(expected: object, actual: object) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and abs(actual - expected) < 1e-9
    return expected == actual


def run_cases(pack: Pack, plugin, cases: dict, tools: dict[str, dict]) -> list[dict]:
    from plugin_runtime.model_schema import validate

    outcomes = []
    positive = cases.get("positive") if isinstance(cases.get("positive"), list) else []
    negative = cases.get("negative") if isinstance(cases.get("negative"), list) else []
    pack.item("cases: positive", len(positive) >= MIN_POSITIVE, f"{len(positive)} positive case(s)",
              f"add positive cases to {CASES_FILE} (the review asks for at least {MIN_POSITIVE})")
    pack.item("cases: negative", len(negative) >= MIN_NEGATIVE, f"{len(negative)} negative case(s)",
              f"add negative cases to {CASES_FILE} (the review asks for at least {MIN_NEGATIVE})")
    for i, case in enumerate(positive, 1):
        label = f"positive case {i}"
        outcome = {"kind": "positive", **(case if isinstance(case, dict) else {"case": case})}
        outcomes.append(outcome)
        if not isinstance(case, dict) or not isinstance(case.get("prompt"), str) or not case["prompt"].strip():
            outcome["outcome"] = "invalid"
            pack.item(label, False, "needs a prompt", f"give {label} in {CASES_FILE} a \"prompt\"")
            continue
        tool = tools.get(case.get("tool"))
        if tool is None:
            outcome["outcome"] = "unknown tool"
            pack.item(label, False, f"expects tool {case.get('tool')!r}, which handler.py no longer defines",
                      f"point {label} at one of {', '.join(tools) or 'your tools'} or remove it from {CASES_FILE}")
            continue
        try:
            result = _call_tool(plugin, tool["name"], case.get("arguments", {}))
        except (ValueError, KeyError) as exc:
            outcome["outcome"] = "error"
            pack.item(label, False, str(exc), f"fix the arguments of {label} in {CASES_FILE}")
            continue
        data = result.get("structuredContent")
        outcome["result"] = data
        problem = "the tool answered isError: " + json.dumps(result.get("content"))[:160] if result.get("isError") \
            else validate(tool["outputSchema"], data, "structuredContent") if "outputSchema" in tool else None
        if problem is None and "expected" in case and not _subset(case["expected"], data):
            problem = f"expected {json.dumps(case['expected'])}, got {json.dumps(data)}"
        outcome["outcome"] = "pass" if problem is None else "fail"
        pack.item(label, problem is None, problem or f"{tool['name']} answered {json.dumps(data)}",
                  f"fix {label}'s expectation in {CASES_FILE}, or the tool in handler.py")
    for i, case in enumerate(negative, 1):
        label = f"negative case {i}"
        outcome = {"kind": "negative", **(case if isinstance(case, dict) else {"case": case}), "outcome": "pass"}
        outcomes.append(outcome)
        problem = None
        if not isinstance(case, dict) or not isinstance(case.get("prompt"), str) or not case["prompt"].strip():
            problem = "needs a prompt"
        elif case.get("tool") is not None:
            problem = "a negative case expects no tool: set \"tool\": null"
        elif case.get("arguments"):
            problem = "a negative case has no arguments"
        if problem:
            outcome["outcome"] = "invalid"
        pack.item(label, problem is None, problem or "no tool expected",
                  f"fix {label} in {CASES_FILE}: a prompt, \"tool\": null, no arguments")
    return outcomes


def _https_url(value: object) -> bool:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return parts is not None and parts.scheme == "https" and bool(parts.hostname) and not any(
        c.isspace() for c in value)


def build_pack(project: Path = PROJECT, final: bool = False) -> tuple[Pack, dict]:
    pack = Pack()
    tfvars = read_tfvars(project)
    plugin = load_plugin(project, tfvars.get("lambda_handler"))
    manifest = plugin.manifest
    listing = {key: manifest.get(field) for key, field in LISTING}
    listing["logo"] = "logo.png"
    for key in ("name", "short_description", "long_description", "contact_email"):
        pack.item(f"listing: {key}", bool(listing[key]), str(listing[key])[:80], "set it in manifest.json")
    for key in ("privacy_policy_url", "terms_url"):
        ok = _https_url(listing[key])
        pack.item(key, ok, str(listing[key]), f"put the https URL of your {key.replace('_url', '').replace('_', ' ')} "
                  f"in manifest.json's {key}")
    name = str(listing["name"] or "")
    if name.lower().split()[-1:] in (["mcp"], ["plugin"]):  # the directory asks for the bare name
        pack.todo("listing: name", f"{name!r} ends in {name.split()[-1]!r}", "drop the suffix from plugin_name in "
                  "manifest.json's name_for_human (the directory asks for the bare name)")
    tools = {t["name"]: t for t in directory_tools(plugin)}
    scan = [f for f in check_directory(plugin) if f.level == ERROR]
    pack.item("tools: directory scan", not scan, "; ".join(f"{f.path}: {f.message}" for f in scan[:3])
              or f"{len(tools)} tool(s) pass the scan rules", "run python3 -m plugin_tools.check and fix what it lists")
    widgets = {}
    for op in plugin.operations.values():
        widget = plugin.widget_for(op)
        if widget is not None:
            widgets[op.name] = {"connect_domains": list(widget.connect_domains),
                                "resource_domains": list(widget.resource_domains),
                                "frame_domains": list(widget.frame_domains)}
    auth = tfvars.get("auth", "none")
    cases_path = project / CASES_FILE
    try:
        cases = json.loads(cases_path.read_text(encoding="utf-8"))
        if not isinstance(cases, dict):
            raise ValueError("it must be a JSON object with \"positive\" and \"negative\" lists")
    except (OSError, ValueError) as exc:
        pack.item("cases", False, f"{CASES_FILE}: {exc}", f"write {CASES_FILE} (see the README's submission section)")
        cases = {}
    outcomes = run_cases(pack, plugin, cases, tools) if cases else []
    demo = cases.get("demo_account") if isinstance(cases.get("demo_account"), str) else ""
    needs_demo = auth != "none"
    pack.item("demo account", bool(demo.strip()) or not needs_demo, demo or "not needed (auth = none)",
              f"describe in {CASES_FILE} \"demo_account\" a sign-in the reviewers can use without MFA, SMS or "
              "e-mail confirmation")
    remote = _registry_url(project)
    if not (remote and _https_url(remote) and not remote.startswith("https://localhost")):
        (pack.item if final else lambda n, _ok, d, f: pack.todo(n, d, f))(
            "public MCP URL", False, f"server.json names {remote or 'no URL'}",
            "terraform apply (the build writes the deployed URL into server.json), then make submission again")
    if not tfvars.get("openai_apps_challenge"):
        (pack.item if final else lambda n, _ok, d, f: pack.todo(n, d, f))(
            "domain verification", False, "openai_apps_challenge is not set",
            "put the token OpenAI shows in terraform.tfvars' openai_apps_challenge, terraform apply, then "
            "make doctor")
    doc = {"listing": listing, "mcp_url": remote, "auth": {"type": auth, "demo_account": demo},
           "tools": [{**tool, "widget_csp": widgets.get(name)} for name, tool in tools.items()],
           "cases": outcomes, "privacy_policy_url": listing["privacy_policy_url"], "terms_url": listing["terms_url"],
           "missing": [{"item": i["item"], "detail": i["detail"], "fix": i["fix"]} for i in pack.failures],
           "before_you_submit": pack.pending, "ok": not pack.failures}
    return pack, doc


def _registry_url(project: Path) -> str | None:
    try:
        remotes = json.loads((project / "server.json").read_text(encoding="utf-8")).get("remotes") or []
        return remotes[0].get("url")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def render_markdown(doc: dict) -> str:
    listing = doc["listing"]
    lines = [f"# Submission pack: {listing['name']}", "", "## Listing", ""]
    lines += [f"- **{key}**: {value}" for key, value in listing.items()]
    lines += ["", f"MCP server URL: {doc['mcp_url']}", "", "## Auth", "", f"- type: {doc['auth']['type']}",
              f"- demo account: {doc['auth']['demo_account'] or 'not needed'}", "", "## Tools (as the scan sees them)"]
    for tool in doc["tools"]:
        lines += ["", f"### {tool['name']}", "", tool.get("description", ""), "",
                  f"- annotations: `{json.dumps(tool.get('annotations'), ensure_ascii=False)}`",
                  f"- inputSchema: `{json.dumps(tool.get('inputSchema'), ensure_ascii=False)}`",
                  f"- outputSchema: `{json.dumps(tool.get('outputSchema'), ensure_ascii=False)}`",
                  f"- widget CSP: `{json.dumps(tool.get('widget_csp'))}`"]
    lines += ["", "## Test cases", "", "| kind | prompt | tool | arguments | expected | outcome |",
              "|---|---|---|---|---|---|"]
    for case in doc["cases"]:
        cells = [case.get("kind"), case.get("prompt"), case.get("tool") or "none",
                 json.dumps(case.get("arguments", {}), ensure_ascii=False),
                 json.dumps(case.get("expected", case.get("why", "")), ensure_ascii=False), case.get("outcome")]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines += ["", "## Privacy and terms", "", f"- privacy policy: {doc['privacy_policy_url']}",
              f"- terms: {doc['terms_url']}", "", "## Missing", ""]
    lines += [f"- **{m['item']}**: {m['detail']}. Fix: {m['fix']}" for m in doc["missing"]] or ["- nothing"]
    lines += ["", "## Before you submit", ""]
    lines += [f"- **{m['item']}**: {m['detail']}. Fix: {m['fix']}" for m in doc["before_you_submit"]] or ["- nothing"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.submission", description=__doc__.split("\n")[0])
    parser.add_argument("--final", action="store_true", help="also fail on the deployment steps still to do")
    parser.add_argument("--project", type=Path, default=PROJECT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        pack, doc = build_pack(args.project, final=args.final)
    except BuildError as exc:
        print(f"submission: {exc}", file=sys.stderr)
        return 1
    folder = args.project / "submission"
    folder.mkdir(exist_ok=True)
    (folder / "submission.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "submission.md").write_text(render_markdown(doc), encoding="utf-8")
    passed = sum(1 for c in doc["cases"] if c.get("outcome") == "pass")
    print(f"submission pack: {passed}/{len(doc['cases'])} case(s) pass, {len(pack.failures)} missing, "
          f"{len(pack.pending)} step(s) before you submit; wrote submission/submission.md and submission.json")
    for failure in pack.failures:
        print(f"MISSING {failure['item']}: {failure['detail']} -> {failure['fix']}")
    for step in pack.pending:
        print(f"TODO {step['item']}: {step['detail']} -> {step['fix']}")
    return 1 if pack.failures else 0


if __name__ == "__main__":
    sys.exit(main())
