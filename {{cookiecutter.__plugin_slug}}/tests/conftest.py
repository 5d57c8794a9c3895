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
# With oauth, the development provider of `make serve` (plugin_tools.dev_oidc) stands in for the
# real one: TEST_KEY is an access token of user "pytest" with every scope, verified as deployed.
TEST_KEY = "pk_test_" + secrets.token_urlsafe(32)
DEV_PROVIDER = None  # with oauth: the development provider, served on a loopback port for the session


def _configure_auth() -> str:
    global DEV_PROVIDER, TEST_KEY
    from plugin_tools.project import auth_environment

    env = auth_environment(PROJECT)
    if env["PLUGIN_AUTH"] == "api_key":
        keys = json.loads(env["PLUGIN_API_KEYS"])
        keys["pytest-session"] = hashlib.sha256(TEST_KEY.encode()).hexdigest()
        env["PLUGIN_API_KEYS"] = json.dumps(keys)
    elif env["PLUGIN_AUTH"] == "oauth":
        from plugin_tools import dev_oidc

        _server, DEV_PROVIDER, oauth_env = dev_oidc.start_in_thread()
        env.update(oauth_env)
        every = {"invoke", *(s for op in project_plugin().operations.values() for s in op.scopes)}
        TEST_KEY = DEV_PROVIDER.access_token("pytest", [env["PLUGIN_OAUTH_SCOPE_PREFIX"] + s for s in sorted(every)])
    os.environ.update(env)
    return env["PLUGIN_AUTH"]


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

def operation_event(name: str, arguments: dict | None = None, **options) -> dict:
    """The API Gateway event of a REST call to the operation ``name`` of handler.py with
    ``arguments`` (path parameters filled in, the others in the query or the JSON body, as its
    OpenAPI says), e.g. ``operation_event("sumar", {"numero1": 2, "numero2": 3})``. ``options``
    go to make_event (``headers=...``)."""
    op = project_plugin().operations[name]
    arguments = dict(arguments or {})
    path, query, body = op.path, {}, {}
    for param in op.params:
        if param.name not in arguments:
            continue
        value = arguments.pop(param.name)
        if param.location == "path":
            path = path.replace("{" + param.name + "}", str(value))
        elif param.location == "query":
            query[param.name] = value if isinstance(value, str) else json.dumps(value)
        else:
            body[param.name] = value
    if arguments:
        raise TypeError(f"{name} has no parameter {', '.join(sorted(arguments))}")
    return make_event(op.method, path, body if op.has_body else None, query=query or None, **options)


@pytest.fixture
def signed_in(monkeypatch) -> Callable[..., dict[str, str]]:
    """Headers of a request from a signed-in caller: ``signed_in("alice", scopes=["admin"])``.

    With oauth: an access token of user ``alice`` (``ctx.caller.name``) from the development
    provider, with the base scope ``invoke`` and ``scopes``, verified as the deployed API verifies
    the real provider's. With api_key: a key named ``alice`` (made for this test; API keys have no
    scopes). With auth = none there is no one to sign in: the headers are empty.
    """

    def headers(name: str = "alice", scopes: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
        if AUTH_MODE == "oauth":
            prefix = os.environ["PLUGIN_OAUTH_SCOPE_PREFIX"]
            token = DEV_PROVIDER.access_token(name, [prefix + s for s in ("invoke", *scopes)])
        elif AUTH_MODE == "api_key":
            if scopes:
                raise ValueError("API keys have no scopes (auth = api_key)")
            token = "pk_test_" + secrets.token_urlsafe(32)
            keys = json.loads(os.environ["PLUGIN_API_KEYS"])
            keys[name] = hashlib.sha256(token.encode()).hexdigest()
            monkeypatch.setenv("PLUGIN_API_KEYS", json.dumps(keys))
        else:
            return {}
        return {"authorization": f"Bearer {token}"}

    return headers


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
