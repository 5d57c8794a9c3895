"""Fixtures shared by the tests: the sample events in events/ and variations built from them,
the project's handler, and the marker for tests of the example operation ``sumar``.

Tests of the example say so in their names (``test_sumar_*``) and skip once you remove it from
handler.py; every other test works over whatever operations handler.py defines.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
EVENTS = PROJECT / "events"
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))


EXAMPLE = "sumar"
UNKNOWN_OPERATION = "zz_no_such_operation"  # a name nobody gives an operation


def project_plugin():
    """The Plugin of handler.py (the module named in terraform.tfvars)."""
    from plugin_tools.project import load_plugin

    return load_plugin(PROJECT)


# The tests run under the auth mode of terraform.tfvars, as the deployed Lambda does. With
# api_key, this session adds a key of its own (made here, written nowhere) and `call` sends it.
TEST_KEY = "pk_test_" + secrets.token_urlsafe(32)


def _configure_auth() -> str:
    from plugin_tools.project import auth_environment

    env = auth_environment(PROJECT)
    if env["PLUGIN_AUTH"] == "api_key":
        keys = json.loads(env["PLUGIN_API_KEYS"])
        keys["pytest-session"] = hashlib.sha256(TEST_KEY.encode()).hexdigest()
        env["PLUGIN_API_KEYS"] = json.dumps(keys)
    elif env["PLUGIN_AUTH"] == "oauth":
        # No provider here: the session's token stands for a signed-in user with every scope. The
        # verification of real tokens is tested by the template (a real OIDC provider, the MCP
        # SDK's OAuth client, forged tokens against PyJWT).
        env.update(PLUGIN_OAUTH_ISSUER="https://issuer.pytest.invalid", PLUGIN_OAUTH_CLIENT_ID="pytest",
                   PLUGIN_OAUTH_CLIENT_SECRET="pytest-only")
        _accept_the_session_token()
    os.environ.update(env)
    return env["PLUGIN_AUTH"]


def _accept_the_session_token() -> None:
    import plugin_runtime.surface_auth as surface_auth
    from plugin_runtime import Caller

    verify = surface_auth.oauth_caller

    def session_or_verify(req, config):
        if req.headers.get("authorization") == f"Bearer {TEST_KEY}":
            scopes = {"invoke", *(s for op in project_plugin().operations.values() for s in op.scopes)}
            return Caller("pytest", "oauth", frozenset(scopes), {"sub": "pytest"})
        return verify(req, config)

    surface_auth.oauth_caller = session_or_verify


AUTH_MODE = _configure_auth()


example = pytest.mark.skipif(EXAMPLE not in project_plugin().operations,
                             reason=f"the example operation {EXAMPLE} is no longer in handler.py")


def load_event(name: str) -> dict:
    """A sample event from events/, e.g. load_event("post_sumar")."""
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


API_REQUEST_ID = "JKJaXmPLvHcESHA="  # API Gateway's requestId in every event make_event builds
_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
_AGENT = "Mozilla/5.0 (compatible; ChatGPT-User/1.0; +https://openai.com/bot)"
# What API Gateway sends, as in events/*.json; written here so the tests need none of those files
# (removing the example's events/post_sumar.json removes nothing the other tests use).
BASE_EVENT = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
    "headers": {"accept": "application/json", "content-type": "application/json", "host": _HOST, "user-agent": _AGENT,
                "x-amzn-trace-id": "Root=1-67890abc-0123456789abcdef01234567", "x-forwarded-for": "203.0.113.10",
                "x-forwarded-port": "443", "x-forwarded-proto": "https"},
    "requestContext": {
        "accountId": "123456789012", "apiId": "abc123defg", "domainName": _HOST, "domainPrefix": "abc123defg",
        "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10",
                 "userAgent": _AGENT},
        "requestId": API_REQUEST_ID, "routeKey": "$default", "stage": "$default",
        "time": "24/Nov/2026:12:00:00 +0000", "timeEpoch": 1795521600000,
    },
    "isBase64Encoded": False,
}


def make_event(method: str = "POST", path: str = "/sumar", body: object = None, *,
               headers: dict | None = None, query: dict | None = None, raw: str | bytes | None = None,
               base64_body: bool = False) -> dict:
    """A full API Gateway HTTP API (payload 2.0) event, as API Gateway sends one (BASE_EVENT).

    ``body`` is JSON-encoded; ``raw`` is sent as it is (bytes imply base64, as API Gateway does).
    """
    event = copy.deepcopy(BASE_EVENT)
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if raw is None and body is None:
        event.pop("body", None)
        event["headers"].pop("content-type", None)
        event["headers"].pop("content-length", None)
    else:
        data = raw if raw is not None else json.dumps(body)
        if isinstance(data, bytes) or base64_body:
            data = data if isinstance(data, bytes) else data.encode("utf-8")
            event["body"] = base64.b64encode(data).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = data
            event["isBase64Encoded"] = False
    if AUTH_MODE != "none":
        event["headers"]["authorization"] = f"Bearer {TEST_KEY}"
    if headers:
        event["headers"].update({k.lower(): v for k, v in headers.items()})
    return event


@pytest.fixture(autouse=True)
def store():
    """A fresh, empty store for every test (SQLite in memory), as ctx.store and ctx.app_store see it;
    the test can read what an operation kept: ``store.list(partition, "", 50, None, now)``."""
    from plugin_runtime.model_store import TABLE_ENV, use_backend
    from plugin_tools.store_sqlite import install

    saved = os.environ.pop(TABLE_ENV, None)  # never a deployed table from the shell
    backend = install(":memory:")
    yield backend
    use_backend(None)
    backend.close()
    if saved is not None:
        os.environ[TABLE_ENV] = saved


@pytest.fixture
def handler() -> Callable[[dict, object], dict]:
    """The Lambda entry point named in terraform.tfvars."""
    return project_plugin().lambda_handler


def caller(handler: Callable[[dict, object], dict]) -> Callable[..., tuple[int, dict, object]]:
    """Invoke ``handler``; returns (status, headers, decoded JSON body or raw body)."""

    def invoke(event: dict) -> tuple[int, dict, object]:
        if AUTH_MODE != "none" and isinstance(event, dict) and isinstance(event.get("headers"), dict):
            event = {**event, "headers": {"authorization": f"Bearer {TEST_KEY}", **event["headers"]}}
        response = handler(event, None)
        body = response.get("body", "")
        assert "Traceback" not in body, body
        if "json" in response["headers"].get("content-type", ""):
            body = json.loads(body) if body else None
        return response["statusCode"], response["headers"], body

    return invoke


@pytest.fixture
def call(handler) -> Callable[..., tuple[int, dict, object]]:
    """Invoke the project's handler; returns (status, headers, decoded JSON body or raw body)."""
    return caller(handler)
