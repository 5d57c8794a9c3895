"""The ChatGPT plugin manifest rules (/.well-known/ai-plugin.json)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from .lint_common import Finding, Report, check_secure, check_url, kind_of, same_site

AUTH_TYPES = ("none", "service_http", "user_http", "oauth")
AUTH_KINDS = ("bearer", "basic")
OAUTH_FIELDS = ("client_url", "scope", "authorization_url", "authorization_content_type", "verification_tokens")
MANIFEST_FIELDS = ("schema_version", "name_for_human", "name_for_model", "description_for_human",
                   "description_for_model", "auth", "api", "logo_url", "contact_email", "legal_info_url")
# Not read by legacy plugin consumers, but the app directories and public GPTs ask for both: the
# manifest is where the project keeps them (OpenAPI info, the submission pack).
LISTING_URLS = {"privacy_policy_url": "the privacy policy", "terms_url": "the terms of service"}
_NAME_FOR_MODEL = re.compile(r"[A-Za-z0-9]+")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def check_manifest(doc: object, origin: str | None = None, file: str = "manifest.json") -> list[Finding]:
    """The ChatGPT plugin manifest rules. With ``origin`` (the document as served from there),
    every URL must also be on that origin's host."""
    report = Report(file)
    if not isinstance(doc, dict):
        report.error((), f"the manifest must be a JSON object, not {kind_of(doc)}")
        return report.findings
    if doc.get("schema_version") != "v1":
        report.error(("schema_version",), f"must be \"v1\", not {json.dumps(doc.get('schema_version'))}")
    report.text(doc, "name_for_human", 1, 20)
    name = report.text(doc, "name_for_model", 1, 50)
    if name and not _NAME_FOR_MODEL.fullmatch(name):
        bad = "".join(sorted({c for c in name if not (c.isascii() and c.isalnum())}))
        report.error(("name_for_model",), f"{name!r} may use only letters and digits (found {bad!r})")
    report.text(doc, "description_for_human", 1, 100)
    report.text(doc, "description_for_model", 1, 8000)
    _check_auth(report, doc.get("auth"), "auth" in doc)
    hosts: dict[tuple, str] = {}
    api = doc.get("api")
    if not isinstance(api, dict):
        report.error(("api",), "must be an object: {\"type\": \"openapi\", \"url\": \"https://.../openapi.json\"}"
                     if "api" in doc else "is missing")
    else:
        if api.get("type") != "openapi":
            report.error(("api", "type"), f"must be \"openapi\", not {json.dumps(api.get('type'))}")
        found = check_url(report, ("api", "url"), api.get("url"), "the OpenAPI document's URL")
        if found:
            check_secure(report, ("api", "url"), api["url"], *found)
            hosts[("api", "url")] = found[1]
    if "logo_url" not in doc:
        report.error(("logo_url",), "is missing")
    else:
        found = check_url(report, ("logo_url",), doc["logo_url"], "the logo's URL")
        if found:
            check_secure(report, ("logo_url",), doc["logo_url"], *found)
            hosts[("logo_url",)] = found[1]
            logo = urlsplit(doc["logo_url"]).path.lower()
            if logo.endswith(".gif"):
                report.error(("logo_url",), "GIF logos are not accepted; use a PNG (512x512)")
            elif not logo.endswith(".png"):
                report.warn(("logo_url",), "should point at a PNG image (512x512)")
    email = doc.get("contact_email")
    if "contact_email" not in doc:
        report.error(("contact_email",), "is missing")
    elif not isinstance(email, str) or not _EMAIL.fullmatch(email):
        report.error(("contact_email",), f"{json.dumps(email)[:80]} is not an email address")
    if "legal_info_url" not in doc:
        report.error(("legal_info_url",), "is missing")
    else:
        check_url(report, ("legal_info_url",), doc["legal_info_url"], "the legal information page")
    for field, what in LISTING_URLS.items():
        if field not in doc:
            report.warn((field,), f"is missing: the app directories ask for {what}'s URL")
        else:
            check_url(report, (field,), doc[field], what)
    if len(set(hosts.values())) > 1:
        (api_host, logo_host) = hosts.get(("api", "url")), hosts.get(("logo_url",))
        if api_host and logo_host and not same_site(api_host, logo_host):
            report.error(("logo_url",), f"is on {logo_host} but api.url is on {api_host}; "
                         "serve both from the API's own host")
    if origin:
        origin_host = (urlsplit(origin).hostname or "").lower()
        for path, host in hosts.items():
            if not same_site(host, origin_host):
                report.error(path, f"is on {host}, not on {origin_host} where the manifest is served")
    for key in doc:
        if key not in MANIFEST_FIELDS and key not in LISTING_URLS:
            report.warn((key,), "is not a manifest field; consumers ignore it")
    return report.findings


def _check_auth(report: Report, auth: object, present: bool) -> None:
    if not present:
        report.error(("auth",), "is missing; an open plugin says {\"type\": \"none\"}")
        return
    if not isinstance(auth, dict):
        report.error(("auth",), "must be an object such as {\"type\": \"none\"}, not " + kind_of(auth))
        return
    kind = auth.get("type")
    if kind not in AUTH_TYPES:
        report.error(("auth", "type"), f"must be one of {', '.join(AUTH_TYPES)}, not {json.dumps(kind)}")
        return
    if kind in ("service_http", "user_http") and auth.get("authorization_type") not in AUTH_KINDS:
        report.error(("auth", "authorization_type"),
                     f"{kind} auth needs authorization_type \"bearer\" or \"basic\", "
                     f"not {json.dumps(auth.get('authorization_type'))}")
    needed = {"service_http": ("verification_tokens",), "oauth": OAUTH_FIELDS}.get(kind, ())
    for field in needed:
        if field not in auth:
            report.error(("auth", field), f"is required for {kind} auth")
    tokens = auth.get("verification_tokens")
    if kind == "service_http" and isinstance(tokens, dict) and tokens.get("openai") == "":
        report.warn(("auth", "verification_tokens", "openai"), "is empty: set openai_verification_token in "
                    "terraform.tfvars once OpenAI gives you the token")
    if "verification_tokens" in needed and "verification_tokens" in auth and not (
            isinstance(tokens, dict) and isinstance(tokens.get("openai"), str)):
        report.error(("auth", "verification_tokens"), "must be an object such as {\"openai\": \"<token>\"}")
