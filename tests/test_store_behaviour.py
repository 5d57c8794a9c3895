"""One behaviour suite for the store (plugin_runtime.model_store), run against every backend: the
local SQLite file (plugin_tools.store_sqlite), DynamoDB on moto_server through the runtime's stdlib
AWS client (model_store_dynamodb + model_aws), and npm's dynalite (an independent DynamoDB
implementation) when it is installed (.ci/run puts it in .ci/.npm). Versions, conditional writes,
TTL (expired items never come back, even before the table deletes them), prefix listing with
cursors, hostile keys, value limits and isolation between callers behave the same on each."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bake_support import TEMPLATE, project_modules, stop_process
from tf_support import free_port, moto_server

PROJECT = TEMPLATE / "{{cookiecutter.__plugin_slug}}"
DYNALITE = TEMPLATE / ".ci" / ".npm" / "node_modules" / "dynalite" / "cli.js"
TABLE = "store-behaviour"


@pytest.fixture(scope="module")
def runtime():
    with project_modules(PROJECT):
        from plugin_runtime import model_aws, model_context, model_store
        from plugin_tools import store_sqlite

        yield model_store, store_sqlite, model_context, model_aws


def create_table(endpoint: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    client.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp("moto-store") / "moto.log") as url:
        create_table(url)
        yield url


@pytest.fixture(scope="module")
def dynalite_endpoint(tmp_path_factory):
    node = shutil.which("node")
    if node is None or not DYNALITE.exists():
        pytest.skip("dynalite is not installed (.ci/run installs it into .ci/.npm with npm)")
    port = free_port()
    log = tmp_path_factory.mktemp("dynalite") / "dynalite.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([node, str(DYNALITE), "--port", str(port), "--createTableMs", "0",
                                 "--deleteTableMs", "0", "--updateTableMs", "0"], stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                create_table(url)
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"dynalite did not start: {log.read_text(errors='replace')[-2000:]}"
                                         ) from None
                time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "dynamodb-moto", "dynamodb-dynalite"])
def store_env(request, runtime, monkeypatch, tmp_path):
    """(model_store, a clock the test moves, a function caller -> Store)."""
    model_store, store_sqlite, model_context, model_aws = runtime
    clock = Clock()
    monkeypatch.setattr(model_store._state, "clock", clock)
    if request.param == "sqlite":
        monkeypatch.delenv(model_store.TABLE_ENV, raising=False)
        backend = store_sqlite.install(tmp_path / "store.sqlite3")
    else:
        endpoint = request.getfixturevalue("moto_endpoint" if request.param == "dynamodb-moto"
                                           else "dynalite_endpoint")
        for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_REGION": "us-east-1",
                            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "session",
                            model_store.TABLE_ENV: TABLE}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
        monkeypatch.setattr(model_store._state, "dynamodb", None)
        backend = None
    # every test gets partitions of its own (the tables outlive a test)
    run = f"{request.node.name}-{time.monotonic_ns()}"

    def store_of(name: str | None, kind: str = "api_key", **claims: str):
        caller = None if name is None else model_context.Caller(f"{run}:{name}", kind, claims=claims or None)
        return model_store.store_for(caller)

    yield model_store, clock, store_of
    model_store.use_backend(None)
    if backend is not None:
        backend.close()
    model_aws.close_connections()


# -- the API ----------------------------------------------------------------------------------------
def test_put_get_versions_and_delete(store_env):
    ms, _, store_of = store_env
    ana = store_of("ana")
    assert ana.get("notes/1") is None
    value = {"text": "hola", "n": [1, 2.5, None, True], "ñ": "日本"}
    v1 = ana.put("notes/1", value)
    item = ana.get("notes/1")
    assert (item.key, item.value, item.version, item.expires_at) == ("notes/1", value, v1, None)
    v2 = ana.put("notes/1", "otro")
    assert v2 == v1 + 1
    assert ana.get("notes/1") == ("notes/1", "otro", v2, None)
    assert ana.delete("notes/1") is True
    assert ana.get("notes/1") is None
    assert ana.delete("notes/1") is False
    v3 = ana.put("notes/1", 0)
    assert v3 > v2  # a recreated item never takes a version a stale client may hold
    for stale in (v1, v2):
        with pytest.raises(ms.ConflictError):
            ana.put("notes/1", "stale", if_version=stale)


def test_a_stale_version_is_a_conflict_never_an_overwrite(store_env):
    ms, _, store_of = store_env
    ana = store_of("ana")
    v1 = ana.put("k", "first", if_version=0)
    with pytest.raises(ms.ConflictError):
        ana.put("k", "again", if_version=0)  # create-only: it exists
    v2 = ana.put("k", "second", if_version=v1)
    with pytest.raises(ms.ConflictError):
        ana.put("k", "lost update", if_version=v1)
    with pytest.raises(ms.ConflictError):
        ana.delete("k", if_version=v1)
    assert ana.get("k").value == "second"
    assert ana.delete("k", if_version=v2) is True
    with pytest.raises(ms.ConflictError):
        ana.put("k", "gone", if_version=v2)
    assert issubclass(ms.ConflictError, ms.OperationError) and ms.ConflictError.status == 409


def test_expired_items_are_never_returned(store_env):
    ms, clock, store_of = store_env
    ana = store_of("ana")
    version = ana.put("tmp", "x", ttl_seconds=60)
    ana.put("tmp2", "y", ttl_seconds=60)
    ana.put("keep", "z")
    assert ana.get("tmp").expires_at == int(clock.now) + 60
    clock.now += 60
    assert ana.get("tmp").value == "x"  # alive through its last second
    clock.now += 1
    assert ana.get("tmp") is None
    assert [i.key for i in ana.list().items] == ["keep"]
    with pytest.raises(ms.ConflictError):
        ana.put("tmp", "x", if_version=version)  # expired is absent
    assert ana.put("tmp2", "new", if_version=0) > 0  # ... so create-only succeeds
    assert ana.get("tmp2").expires_at is None  # a put without a TTL clears the old one
    assert ana.delete("tmp") is False


def test_listing_by_prefix_with_cursors(store_env):
    _, _, store_of = store_env
    ana = store_of("ana")
    keys = [f"notes/{i:03d}" for i in range(7)] + ["notesX", "other/1", "notes"]
    for key in keys:
        ana.put(key, key)
    seen, cursor = [], None
    while True:
        page = ana.list(prefix="notes/", limit=3, cursor=cursor)
        assert len(page.items) <= 3
        seen += [i.key for i in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == [f"notes/{i:03d}" for i in range(7)]
    assert [i.key for i in ana.list(prefix="notes").items] == ["notes", *seen, "notesX"]
    assert [i.value for i in ana.list(prefix="other/").items] == ["other/1"]
    assert ana.list(prefix="zzz").items == []


def test_listing_skips_expired_items_and_still_fills_pages(store_env):
    _, clock, store_of = store_env
    ana = store_of("ana")
    for i in range(6):
        ana.put(f"k{i}", i, ttl_seconds=10 if i % 2 else None)
    clock.now += 11
    page = ana.list(limit=2)
    assert [i.key for i in page.items] == ["k0", "k2"]
    assert [i.key for i in ana.list(limit=2, cursor=page.cursor).items] == ["k4"]


def test_keys_sort_in_utf8_byte_order(store_env):
    _, _, store_of = store_env
    ana = store_of("ana")
    keys = ["b", "a", "é", "z", "日本", "😀", "A", "~"]
    for key in keys:
        ana.put(key, 1)
    assert [i.key for i in ana.list().items] == sorted(keys, key=lambda k: k.encode("utf-8"))


# -- isolation ----------------------------------------------------------------------------------------
def test_callers_never_see_each_other(store_env):
    ms, _, store_of = store_env
    ana, bob = store_of("ana"), store_of("bob")
    ana.put("secret", "ana's")
    assert bob.get("secret") is None
    assert bob.list().items == []
    assert bob.delete("secret") is False
    with pytest.raises(ms.ConflictError):
        bob.put("secret", "bob's", if_version=1)
    bob.put("secret", "bob's")
    assert ana.get("secret").value == "ana's"
    assert store_of("ana").get("secret").value == "ana's"  # the same caller again: the same partition


def test_kinds_and_issuers_are_separate_partitions(store_env):
    _, _, store_of = store_env
    key_ana = store_of("ana")
    oauth_ana = store_of("ana", "oauth", iss="https://a.example", sub="ana")
    other_issuer = store_of("ana", "oauth", iss="https://b.example", sub="ana")
    key_ana.put("x", "key")
    oauth_ana.put("x", "a")
    other_issuer.put("x", "b")
    assert (key_ana.get("x").value, oauth_ana.get("x").value, other_issuer.get("x").value) == ("key", "a", "b")


@pytest.mark.parametrize("odd", [123, 12.0, True, ["ana"], {"u": 1}, None, ""])
def test_an_oauth_subject_that_is_not_a_string_has_no_partition(store_env, odd):
    """RFC 7519's sub is a string: a number would share the partition of its text ("123")."""
    ms, _, store_of = store_env
    with pytest.raises(ms.StoreError):
        store_of("x", "oauth", iss="https://a.example", sub=odd).put("k", "v")


@pytest.mark.parametrize("key", ["../bob/x", "a/../../b", "c#0000/x", "app", "x\\y", "%00", "ñ", " ", "a" * 512])
def test_hostile_keys_stay_in_the_callers_partition(store_env, key):
    _, _, store_of = store_env
    ana, bob = store_of("ana"), store_of("bob")
    ana.put(key, "ana")
    assert ana.get(key).value == "ana"
    assert bob.get(key) is None and bob.list().items == []
    assert [i.key for i in ana.list().items] == [key]


@pytest.mark.parametrize("key", ["", "a\x00b", "\n", "\x7f", "\ud800", "a" * 513, "é" * 257, 7, None, b"x"])
def test_keys_that_cannot_be_stored_exactly_are_refused(store_env, key):
    ms, _, store_of = store_env
    ana = store_of("ana")
    for call in (lambda: ana.get(key), lambda: ana.put(key, 1), lambda: ana.delete(key)):
        with pytest.raises(ms.StoreInputError):
            call()


def test_values_limits_and_arguments_are_checked(store_env):
    ms, _, store_of = store_env
    ana = store_of("ana")
    ana.put("big", "x" * (ms.MAX_VALUE_BYTES - 2))
    for bad in ("x" * (ms.MAX_VALUE_BYTES - 1), {1, 2}, float("nan"), object(), "\ud800"):
        with pytest.raises(ms.StoreInputError):
            ana.put("k", bad)
    for ttl in (0, -1, 1.5, True, "60", ms.MAX_TTL_SECONDS + 1):
        with pytest.raises(ms.StoreInputError):
            ana.put("k", 1, ttl_seconds=ttl)
    for version in (-1, 1.0, "1", True):
        with pytest.raises(ms.StoreInputError):
            ana.put("k", 1, if_version=version)
    for limit in (0, ms.MAX_LIMIT + 1, "5", True):
        with pytest.raises(ms.StoreInputError):
            ana.list(limit=limit)
    assert ana.get("k") is None


def test_cursors_cannot_be_forged(store_env):
    ms, _, store_of = store_env
    ana = store_of("ana")
    for i in range(3):
        ana.put(f"a/{i}", i)
    cursor = ana.list(prefix="a/", limit=1).cursor
    for bad in ("!!", "e30", "x" * 5000, 5, ms._encode_cursor("b/0")):
        with pytest.raises(ms.StoreInputError):
            ana.list(prefix="a/", cursor=bad)
    assert [i.key for i in store_of("bob").list(prefix="a/", cursor=cursor).items] == []  # never ana's


def test_no_caller_no_store_but_an_app_store(store_env):
    ms, _, store_of = store_env
    with pytest.raises(ms.StoreError, match="auth = \"none\""):
        store_of(None)
    shared = ms.app_store()
    key = f"shared-{time.monotonic_ns()}"
    shared.put(key, "all")
    assert ms.app_store().get(key).value == "all"
    assert store_of("ana").get(key) is None


def test_caller_ids_name_the_same_partitions(store_env):
    ms, _, _ = store_env
    from plugin_runtime.model_context import Caller

    key_caller = Caller("alice", "api_key")
    oauth_caller = Caller("Alice", "oauth", claims={"iss": "https://i.example", "sub": "abc|def"})
    for caller in (key_caller, oauth_caller):
        assert ms.partition_of_id(ms.caller_id(caller)) == ms.caller_partition(caller)
    assert ms.partition_of_id("app") == ms.APP_PARTITION
    for bad in ("alice", "oauth:nobar", "magic:x", "api_key:"):
        with pytest.raises(ms.StoreInputError):
            ms.partition_of_id(bad)


def test_sqlite_does_not_ship_and_dynamodb_loads_only_on_use():
    """The SQLite backend lives in plugin_tools (never in lambda.zip); the DynamoDB backend and the
    AWS client are imported by the first store call, not by a cold start."""
    assert not (PROJECT / "plugin_runtime" / "model_store_sqlite.py").exists()
    code = ("import sys; sys.path.insert(0, '.'); import plugin_runtime; "
            "print(sorted(m for m in sys.modules if m.startswith('plugin_runtime.model_') and "
            "m.split('.')[-1] in ('model_store', 'model_store_dynamodb', 'model_aws', 'model_secrets')), "
            "'sqlite3' in sys.modules, 'boto3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PLUGIN_STORE_TABLE": "t"})
    assert out.stdout.strip() == "[] False False"


def test_the_runtime_never_imports_sqlite_or_boto3():
    for path in Path(PROJECT / "plugin_runtime").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] in ("sqlite3", "boto3", "botocore")
                        and path.name != "surface_oauth.py"], (path.name, names)


def test_one_callers_data_is_exported_and_deleted(store_env):
    """plugin_tools.data on every backend: export leaves out expired items and other callers'; delete
    removes all of the caller's items, expired ones too, and nobody else's."""
    import io

    from plugin_tools import data

    ms, clock, store_of = store_env
    ana, bob = store_of("ana"), store_of("bob")
    ana.put("a", {"n": 1})
    ana.put("b", 2, ttl_seconds=5)
    for i in range(3):
        ana.put(f"many/{i}", i)
    bob.put("a", "bob's")
    clock.now += 6
    out = io.StringIO()
    assert data.export(ms.backend(), ana.partition, out, now=int(clock.now)) == 4
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["key"] for e in exported] == ["a", "many/0", "many/1", "many/2"]
    assert exported[0]["value"] == {"n": 1} and isinstance(exported[0]["version"], int)
    assert data.delete(ms.backend(), ana.partition) == 5
    assert ana.list().items == [] and ana.get("a") is None
    assert bob.get("a").value == "bob's"


def test_owner_errors_are_store_errors_with_their_reason(runtime, moto_endpoint, monkeypatch):
    """A missing table (moto) or access denied: a StoreError naming the table, the code and what to
    do, which the plugin answers as a 500 and logs for the owner; the caller never sees it."""
    model_store, _, model_context, model_aws = runtime
    from plugin_runtime import model_store_dynamodb

    for name, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_REGION": "us-east-1",
                        "AWS_SECRET_ACCESS_KEY": "testing", model_store.TABLE_ENV: "no-such-table"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(model_store._state, "dynamodb", None)
    store = model_store.store_for(model_context.Caller("ana", "api_key"))
    with pytest.raises(model_store.StoreError, match="no-such-table: ResourceNotFoundException: the table does not"):
        store.get("k")

    def denied(*args, **kwargs):
        raise model_aws.AwsError("dynamodb", "AccessDeniedException", "not authorized", 400)

    monkeypatch.setattr(model_store_dynamodb, "call_json", denied)
    with pytest.raises(model_store.StoreError, match="AccessDeniedException: the function's role may not use"):
        store.put("k", 1)
    assert not issubclass(model_store.StoreError, model_store.OperationError)  # a 500, never the caller's fault
    model_aws.close_connections()
