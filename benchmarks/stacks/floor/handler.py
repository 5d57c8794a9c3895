"""The floor: the least a sumar Lambda can do (parse, check two numbers, add, answer) with the stdlib."""

import json


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and -1e15 <= value <= 1e15


def lambda_handler(event, context=None):
    try:
        data = json.loads(event["body"])
        a, b = data["numero1"], data["numero2"]
    except (KeyError, TypeError, ValueError):
        return {"statusCode": 400, "headers": {"content-type": "application/json"}, "body": '{"error":"bad_request"}'}
    if not (_number(a) and _number(b)) or len(data) != 2:
        return {"statusCode": 400, "headers": {"content-type": "application/json"}, "body": '{"error":"bad_numbers"}'}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"resultado": a + b}, separators=(",", ":"))}
