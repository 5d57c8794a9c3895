"""The store's deployed backend: one DynamoDB table (``PLUGIN_STORE_TABLE``) over the runtime's
stdlib AWS client (model_aws: no boto3), loaded on the first store call of a cold start.

Items: ``pk`` (the partition, from the verified caller), ``sk`` (the key), ``v`` (the value as JSON
text), ``ver`` (a Number, +1 on every write), ``ex`` (the TTL attribute, epoch seconds). DynamoDB
deletes expired items within days and returns them until then, so every read filters them out
and conditions treat them as absent. A failed condition is a ``ConflictError``; a missing table
or access denied is a ``StoreError`` for the owner (a 500 with the reason in the logs).
"""

from __future__ import annotations

import typing

from .model_aws import AwsError, call_json, deadline_from
from .model_store_errors import ConflictError, StoreError, StoreInputError

if typing.TYPE_CHECKING:
    from collections.abc import Callable

TARGET = "DynamoDB_20120810."
_ALIVE = "(attribute_not_exists(ex) OR ex >= :now)"
_OWNER_CODES = {"ResourceNotFoundException": "the table does not exist (is storage = \"dynamodb\" applied?)",
                "AccessDeniedException": "the function's role may not use the table (terraform apply?)",
                "UnrecognizedClientException": "the function's credentials were refused",
                "MissingAuthenticationTokenException": "the request was not signed"}


class DynamoBackend:
    """model_store's Backend over one table."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.remaining_ms: Callable[[], int | None] | None = None

    def _call(self, operation: str, payload: dict) -> dict:
        try:
            return call_json("dynamodb", TARGET + operation, {"TableName": self.table, **payload},
                             deadline=deadline_from(self.remaining_ms))
        except AwsError as exc:
            if exc.code == "ConditionalCheckFailedException":
                raise ConflictError("the item has changed since that version: read it again") from None
            if exc.code == "ValidationException" and "size" in exc.message.lower():
                raise StoreInputError(f"DynamoDB refused the item: {exc.message}") from None
            reason = _OWNER_CODES.get(exc.code, "")
            raise StoreError(f"store table {self.table}: {exc.code}: {reason or exc.message}"[:400]) from None

    def get(self, partition: str, key: str, now: int) -> tuple[str, int, int | None] | None:
        answer = self._call("GetItem", {"Key": _key(partition, key), "ConsistentRead": True})
        item = answer.get("Item")
        if not item:
            return None
        row = _row(item)
        return None if row[3] is not None and row[3] < now else row[1:]  # type: ignore[return-value]

    def put(self, partition: str, key: str, value: str, expires_at: int | None, if_version: int | None,
            now: int, base: int) -> int:
        values: dict = {":v": {"S": value}, ":base": {"N": str(base)}, ":one": {"N": "1"}}
        update = "SET v = :v, ver = if_not_exists(ver, :base) + :one"
        if expires_at is None:
            update += " REMOVE ex"
        else:
            update += ", ex = :ex"
            values[":ex"] = {"N": str(expires_at)}
        payload: dict = {"Key": _key(partition, key), "UpdateExpression": update, "ReturnValues": "UPDATED_NEW"}
        condition = _condition(if_version, now, values)
        if condition:
            payload["ConditionExpression"] = condition
        payload["ExpressionAttributeValues"] = values
        answer = self._call("UpdateItem", payload)
        return int(answer["Attributes"]["ver"]["N"])

    def delete(self, partition: str, key: str, if_version: int | None, now: int) -> bool:
        payload: dict = {"Key": _key(partition, key), "ReturnValues": "ALL_OLD"}
        values: dict = {}
        condition = _condition(if_version, now, values)
        if condition:
            payload["ConditionExpression"] = condition
            payload["ExpressionAttributeValues"] = values
        old = self._call("DeleteItem", payload).get("Attributes")
        if not old:
            return False
        expires = _row(old)[3]
        return expires is None or expires >= now

    def list(self, partition: str, prefix: str, limit: int, after: str | None, now: int
             ) -> tuple[list[tuple[str, str, int, int | None]], str | None]:
        rows: list[tuple[str, str, int, int | None]] = []
        start = after
        while True:  # expired items still count against Limit: read on until the page is full
            values: dict = {":pk": {"S": partition}, ":now": {"N": str(now)}}
            condition = "pk = :pk"
            if prefix:
                condition += " AND begins_with(sk, :prefix)"
                values[":prefix"] = {"S": prefix}
            payload: dict = {"KeyConditionExpression": condition, "FilterExpression": _ALIVE,
                             "ExpressionAttributeValues": values, "Limit": limit + 1 - len(rows),
                             "ConsistentRead": True}
            if start is not None:
                payload["ExclusiveStartKey"] = _key(partition, start)
            answer = self._call("Query", payload)
            rows += [_row(item) for item in answer.get("Items", [])]  # type: ignore[misc]
            last = answer.get("LastEvaluatedKey")
            if len(rows) > limit or not last:
                break
            start = last["sk"]["S"]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (rows[-1][0] if more else None)

    def count(self, partition: str, key: str, limit: int, expires_at: int, now: int) -> bool:
        """Quotas: ADD one under a condition, a single UpdateItem; the window's end is the TTL."""
        payload = {"Key": _key(partition, key), "UpdateExpression": "ADD n :one SET ex = :ex",
                   "ConditionExpression": "attribute_not_exists(n) OR n < :limit",
                   "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(limit)},
                                                 ":ex": {"N": str(expires_at)}}}
        try:
            self._call("UpdateItem", payload)
        except ConflictError:
            return False
        return True

    def partition_keys(self, partition: str) -> list[str]:
        """Every key of one partition, expired or not (plugin_tools.data delete)."""
        keys: list[str] = []
        start: dict | None = None
        while True:
            payload: dict = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues":
                             {":pk": {"S": partition}}, "ProjectionExpression": "sk"}
            if start:
                payload["ExclusiveStartKey"] = start
            answer = self._call("Query", payload)
            keys += [item["sk"]["S"] for item in answer.get("Items", [])]
            start = answer.get("LastEvaluatedKey")
            if not start:
                return keys


def _key(partition: str, key: str) -> dict:
    return {"pk": {"S": partition}, "sk": {"S": key}}


def _condition(if_version: int | None, now: int, values: dict) -> str:
    if if_version is None:
        return ""
    values[":now"] = {"N": str(now)}
    if if_version == 0:
        return "attribute_not_exists(ver) OR ex < :now"
    values[":n"] = {"N": str(if_version)}
    return f"ver = :n AND {_ALIVE}"


def _row(item: dict) -> tuple[str, str, int, int | None]:
    try:
        expires = item.get("ex")
        return (item["sk"]["S"] if "sk" in item else "", item["v"]["S"], int(item["ver"]["N"]),
                int(expires["N"]) if expires else None)
    except (KeyError, ValueError, TypeError) as exc:
        raise StoreError(f"an item of the store table is not one this runtime wrote: {exc}") from None
