"""One caller's data, under the user's control: export it as JSON lines, or delete all of it.

    python3 -m plugin_tools.data export --caller api_key:alice
    python3 -m plugin_tools.data delete --caller 'oauth:https://issuer.example|user-123'
    python3 -m plugin_tools.data export --caller app --table "$(terraform output -raw store_table)"

A caller is named as the runtime sees it: ``api_key:<key name>``, ``oauth:<issuer>|<subject>``
(the ``iss`` and ``sub`` of its access tokens), or ``app`` for ctx.app_store. Without ``--table``
it reads the local store (.data/store.sqlite3, what make serve and invoke use); with it, the
deployed DynamoDB table, with your AWS credentials (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL as
usual) through the runtime's own client. Export leaves out expired items (the store never returns
them); delete removes every item of the caller, expired ones included. A caller's MCP tasks
(their arguments and results) are exported after its items, as lines with a "task" field, and
deleted with them, as are its quota counters.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .project import PROJECT


def _backend(table: str | None, project: Path):
    if table:
        from plugin_runtime.model_store_dynamodb import DynamoBackend

        _credentials_from_profile()
        return DynamoBackend(table)
    from .store_sqlite import DEFAULT_PATH, SqliteBackend

    path = project / DEFAULT_PATH
    if not path.exists():
        raise SystemExit(f"no local store at {path} (make serve or invoke creates it on the first put)")
    return SqliteBackend(path)


def _credentials_from_profile() -> None:
    """The runtime's client reads credentials from the environment (as on Lambda); on a laptop,
    take them from the AWS CLI's configuration through boto3 when it is installed."""
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return
    try:
        import boto3
    except ImportError:
        raise SystemExit("set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or pip install boto3 to use a profile)"
                         ) from None
    session = boto3.session.Session()
    creds = session.get_credentials()
    if creds is None:
        raise SystemExit("no AWS credentials found (aws configure, or AWS_PROFILE)")
    frozen = creds.get_frozen_credentials()
    os.environ.update(AWS_ACCESS_KEY_ID=frozen.access_key, AWS_SECRET_ACCESS_KEY=frozen.secret_key)
    if frozen.token:
        os.environ["AWS_SESSION_TOKEN"] = frozen.token
    if session.region_name and not os.environ.get("AWS_REGION"):
        os.environ["AWS_REGION"] = session.region_name


def related(partition: str) -> tuple[str, ...]:
    """The partitions kept beside a caller's items: its tasks (model_task) and quota counters
    (model_quota); none beside the plugin's own (``app``)."""
    from plugin_runtime.model_quota import quota_partition
    from plugin_runtime.model_task import tasks_partition

    return (tasks_partition(partition), quota_partition(partition)) if partition.startswith("c#") else ()


def _rows(backend, partition: str, now: int):
    """Every live row of a partition, page after page: (key, value JSON, version, expires_at)."""
    after = None
    while True:
        rows, after = backend.list(partition, "", 500, after, now)
        yield from rows
        if after is None:
            return


def export(backend, partition: str, out, now: int | None = None) -> int:
    """Every live item of the partition as JSON lines {"key", "value", "version", "expires_at"},
    then the caller's tasks as {"task", "value", "expires_at"} (without the worker's token)."""
    count, now = 0, int(time.time()) if now is None else now
    for key, value, version, expires in _rows(backend, partition, now):
        line = {"key": key, "value": json.loads(value), "version": version, "expires_at": expires}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    beside = related(partition)
    if beside:  # a caller's tasks (its quota counters are no data of its own)
        for key, value, _, expires in _rows(backend, beside[0], now):
            record = json.loads(value)
            if isinstance(record, dict):
                record = {k: v for k, v in record.items() if k != "token"}
            out.write(json.dumps({"task": key, "value": record, "expires_at": expires}, ensure_ascii=False) + "\n")
            count += 1
    return count


def delete(backend, partition: str) -> int:
    """Delete every item of the partition, expired ones included, and the caller's tasks and quota
    counters; how many were deleted."""
    count, now = 0, int(time.time())
    for source in (partition, *related(partition)):
        keys = backend.partition_keys(source)
        for key in keys:
            backend.delete(source, key, None, now)
        count += len(keys)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.data", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["export", "delete"])
    parser.add_argument("--caller", required=True, help="api_key:NAME, oauth:ISSUER|SUBJECT or app")
    parser.add_argument("--table", default="", help="the deployed table (terraform output -raw store_table)")
    args = parser.parse_args(argv)
    from plugin_runtime.model_store import StoreInputError, partition_of_id

    try:
        partition = partition_of_id(args.caller)
    except StoreInputError as exc:
        parser.error(str(exc))
    backend = _backend(args.table or None, PROJECT)
    if args.action == "export":
        count = export(backend, partition, sys.stdout)
        print(f"exported {count} item(s) of {args.caller}", file=sys.stderr)
    else:
        count = delete(backend, partition)
        print(f"deleted {count} item(s) of {args.caller}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
