"""Every route through lambda_handler with full API Gateway HTTP API events, and the bad inputs.

Tests named ``test_sumar_*`` exercise the example operation and skip once it is gone from
handler.py; the others hold for any set of operations.
"""

from __future__ import annotations

import base64
import json

import pytest
from conftest import AUTH_MODE, EVENTS, EXAMPLE, PROJECT, example, load_event, make_event, project_plugin

ORIGIN = "https://abc123defg.execute-api.us-east-1.amazonaws.com"


def _sample(name: str) -> object:
    """A sample event; those written for the example operation skip once it is gone."""
    text = (EVENTS / f"{name}.json").read_text(encoding="utf-8")
    return pytest.param(name, marks=example) if f"/{EXAMPLE}" in text or f'\\"{EXAMPLE}\\"' in text else name


@pytest.mark.parametrize("name", [_sample(p.stem) for p in sorted(EVENTS.glob("*.json"))])
def test_every_sample_event_is_answered(call, name):
    status, _, _ = call(load_event(name))
    assert status == 200


@example
def test_sumar_sample_event(call):
    status, headers, body = call(load_event("post_sumar"))
    assert (status, body) == (200, {"resultado": 5})
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(("a", "b", "expected"), [
    (2, 3, 5), (2.5, 0.25, 2.75), (-7, 7, 0), (0, 0, 0), (1e15, 1e15, 2e15), (-1e15, -1e15, -2e15),
    (1.5e-300, 0, 1.5e-300), (2.0, 3.0, 5),
])
@example
def test_sumar_adds(call, a, b, expected):
    status, _, body = call(make_event(body={"numero1": a, "numero2": b}))
    assert status == 200
    assert body == {"resultado": expected}


def test_manifest_is_a_valid_v1_manifest_on_the_request_origin(call):
    status, _, doc = call(load_event("get_manifest"))
    assert status == 200
    assert doc["schema_version"] == "v1"
    assert 1 <= len(doc["name_for_human"]) <= 20
    assert doc["name_for_model"].isalnum() and len(doc["name_for_model"]) <= 50
    assert 1 <= len(doc["description_for_human"]) <= 100
    assert 1 <= len(doc["description_for_model"]) <= 8000
    if AUTH_MODE == "api_key":
        assert doc["auth"]["type"] == "service_http" and doc["auth"]["authorization_type"] == "bearer"
    elif AUTH_MODE == "oauth":
        assert doc["auth"]["type"] == "oauth" and doc["auth"]["client_url"] == f"{ORIGIN}/oauth/authorize"
    else:
        assert doc["auth"] == {"type": "none"}
    assert doc["api"] == {"type": "openapi", "url": f"{ORIGIN}/openapi.json"}
    assert doc["logo_url"] == f"{ORIGIN}/logo.png"
    assert "@" in doc["contact_email"]
    assert doc["legal_info_url"].startswith(("https://", "http://"))


def test_openapi_is_served_for_the_request_origin(call):
    status, _, doc = call(load_event("get_openapi"))
    assert status == 200
    assert doc["servers"] == [{"url": ORIGIN}]
    served = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    operations = project_plugin().operations.values()
    assert sorted(served) == sorted(op.name for op in operations)
    for op in operations:
        assert doc["paths"][op.path][op.method.lower()]["x-openai-isConsequential"] is (not op.read_only)


@pytest.mark.parametrize(("host", "proto", "origin"), [
    ("plugin.example.com", "https", "https://plugin.example.com"),
    ("localhost:8080", "http", "http://localhost:8080"),
    ("127.0.0.1:9000", None, "http://127.0.0.1:9000"),
])
def test_documents_follow_custom_domains_and_localhost(call, host, proto, origin):
    event = load_event("get_manifest")
    event["requestContext"]["domainName"] = host
    event["headers"]["host"] = host
    event["headers"].pop("x-forwarded-proto")
    if proto:
        event["headers"]["x-forwarded-proto"] = proto
    _, _, doc = call(event)
    assert doc["api"]["url"] == f"{origin}/openapi.json"
    assert doc["logo_url"] == f"{origin}/logo.png"


def test_a_forged_host_is_refused(call):
    event = load_event("get_openapi")
    event["requestContext"]["domainName"] = 'evil.example"><script>'
    status, _, body = call(event)
    assert status == 400 and body["error"] == "invalid_host"


def test_logo_is_the_png(call):
    response_status, headers, body = call(load_event("get_logo"))
    assert response_status == 200 and headers["content-type"] == "image/png"
    assert base64.b64decode(body) == (PROJECT / "logo.png").read_bytes()


BAD_BODIES = [
    ("malformed JSON", {"raw": '{"numero1": 2,'}, 400, "invalid_json"),
    ("empty body", {"raw": ""}, 400, "missing_body"),
    ("no body", {}, 400, "missing_body"),
    ("a JSON list", {"body": [2, 3]}, 400, "invalid_arguments"),
    ("a JSON number", {"body": 5}, 400, "invalid_arguments"),
    ("missing numero2", {"body": {"numero1": 2}}, 400, "invalid_arguments"),
    ("extra field", {"body": {"numero1": 2, "numero2": 3, "numero3": 4}}, 400, "invalid_arguments"),
    ("string number", {"body": {"numero1": "2", "numero2": 3}}, 400, "invalid_arguments"),
    ("boolean", {"body": {"numero1": True, "numero2": 3}}, 400, "invalid_arguments"),
    ("null", {"body": {"numero1": None, "numero2": 3}}, 400, "invalid_arguments"),
    ("nested object", {"body": {"numero1": {"v": 1}, "numero2": 3}}, 400, "invalid_arguments"),
    ("NaN literal", {"raw": '{"numero1": NaN, "numero2": 3}'}, 400, "invalid_json"),
    ("Infinity literal", {"raw": '{"numero1": Infinity, "numero2": 3}'}, 400, "invalid_json"),
    ("overflowing literal", {"raw": '{"numero1": 1e400, "numero2": 3}'}, 400, "invalid_json"),
    ("huge integer", {"raw": '{"numero1": ' + "9" * 5000 + ', "numero2": 3}'}, 400, "invalid_json"),
    ("above the bound", {"body": {"numero1": 1e308, "numero2": 1e308}}, 400, "invalid_arguments"),
    ("below the bound", {"body": {"numero1": -2e15, "numero2": 0}}, 400, "invalid_arguments"),
    ("not UTF-8", {"raw": b'{"numero1": "\xff", "numero2": 3}'}, 400, "invalid_body"),
    ("bad base64", {"raw": "%%%not-base64%%%", "base64_body": True}, 400, "invalid_body"),
    ("deeply nested", {"raw": "[" * 100_000 + "]" * 100_000}, 400, "invalid_json"),
    ("too large", {"raw": '{"numero1": 1, "numero2": 2, "pad": "' + "x" * 1_100_000 + '"}'}, 413, "body_too_large"),
    ("text/plain", {"body": {"numero1": 2, "numero2": 3}, "headers": {"content-type": "text/plain"}}, 415,
     "unsupported_media_type"),
]


@pytest.mark.parametrize(("label", "kwargs", "status", "code"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
@example
def test_sumar_bad_requests_get_a_clear_4xx(call, label, kwargs, status, code):
    if kwargs.get("base64_body") and isinstance(kwargs.get("raw"), str):
        event = make_event(raw="x")
        event["body"], event["isBase64Encoded"] = kwargs["raw"], True
    else:
        event = make_event(**kwargs)
    got_status, headers, body = call(event)
    assert got_status == status, body
    assert headers["content-type"] == "application/json"
    assert body["error"] == code
    assert body["message"] and "Traceback" not in body["message"]


@example
def test_sumar_error_messages_name_the_field(call):
    _, _, body = call(make_event(body={"numero1": "dos", "numero2": 3}))
    assert body["message"] == "numero1 must be a number, not string"
    _, _, body = call(make_event(body={"numero1": 2}))
    assert body["message"] == "numero2 is required"


@example
def test_sumar_a_trailing_slash_reaches_the_same_route(call):
    status, _, body = call(make_event("POST", "/sumar/", {"numero1": 1, "numero2": 2}))
    assert (status, body) == (200, {"resultado": 3})


def test_unknown_path_is_404(call):
    status, _, body = call(make_event("GET", "/zz-no-such-path"))
    assert status == 404 and body["error"] == "not_found"


@pytest.mark.parametrize(("method", "path", "allow"), [
    pytest.param("GET", "/sumar", "POST", marks=example),
    pytest.param("DELETE", "/sumar", "POST", marks=example),
    ("POST", "/openapi.json", "GET"),
    ("PUT", "/.well-known/ai-plugin.json", "GET"),
    ("GET", "/mcp", "POST"),
    ("DELETE", "/mcp", "POST"),
])
def test_wrong_method_is_405_with_allow(call, method, path, allow):
    status, headers, body = call(make_event(method, path))
    assert status == 405 and headers["allow"] == allow
    assert body["error"] == "method_not_allowed"


@pytest.mark.parametrize("event", [
    None, [], "text", {}, {"requestContext": {}}, {"requestContext": {"http": {"method": "GET"}}},
    {"rawPath": "/sumar", "requestContext": {"http": {"method": 7}}},
    {"rawPath": "/sumar", "requestContext": {"http": {"method": "POST"}}, "body": 12},
])
def test_events_that_are_not_http_api_events_get_400(handler, event):
    response = handler(event, None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "invalid_event"
