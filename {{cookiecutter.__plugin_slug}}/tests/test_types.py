"""Types people write: dates and datetimes (ISO 8601), UUIDs, Enums, dataclasses and the list and
text constraints of ``Field`` are described, enforced, parsed into Python objects on the way in and
turned back into JSON on the way out, on REST and MCP alike. A type with no JSON Schema fails at
import, in one line naming the operation and the parameter.

The operations belong to a small plugin of this file's own, so the tests hold whatever handler.py
defines.
"""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

import pytest
from conftest import PROJECT, make_event

from plugin_runtime import Field, Plugin
from plugin_runtime.model_schema import SchemaError


class Color(str, enum.Enum):
    RED = "rojo"
    GREEN = "verde"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 3


@dataclass
class Point:
    x: float
    y: float
    label: str | None = None
    tags: list[str] = field(default_factory=list)


class Booking(TypedDict):
    day: datetime.date
    at: datetime.datetime
    id: uuid.UUID
    color: Color
    priority: Priority
    where: Point


Code = Annotated[str, Field(pattern=r"^[A-Z]{3}-[0-9]{2}$")]
Few = Annotated[list[int], Field(min_items=1, max_items=3)]


@pytest.fixture(scope="module")
def plugin() -> Plugin:
    plugin = Plugin(version="1.0.0", root=str(PROJECT))

    @plugin.operation
    def reservar(day: datetime.date, at: datetime.datetime, id: uuid.UUID, color: Color, priority: Priority,
                 where: Point) -> Booking:
        """Book, answering what arrived (as Python objects)."""
        assert isinstance(day, datetime.date) and not isinstance(day, datetime.datetime)
        assert isinstance(at, datetime.datetime) and at.tzinfo is not None
        assert isinstance(id, uuid.UUID) and isinstance(color, Color) and isinstance(priority, Priority)
        assert isinstance(where, Point)
        return {"day": day + datetime.timedelta(days=1), "at": at, "id": id, "color": color, "priority": priority,
                "where": where}

    @plugin.operation(method="GET", path="/dia/{day}")
    def dia(day: datetime.date, color: Color = Color.RED, priority: Priority = Priority.LOW) -> str:
        return f"{day.isoformat()} {color.value} {priority.value} {day.weekday()}"

    @plugin.operation
    def codigos(code: Code, numbers: Few) -> Point:
        return Point(x=len(numbers), y=0, label=code)

    return plugin


def rest(plugin, method: str, path: str, body: object = None, query: dict | None = None) -> tuple[int, dict]:
    response = plugin.lambda_handler(make_event(method, path, body, query=query), None)
    return response["statusCode"], json.loads(response["body"])


def mcp(plugin, name: str, arguments: dict) -> dict:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    event = make_event("POST", "/mcp", message, headers={"mcp-protocol-version": "2025-06-18"})
    return json.loads(plugin.lambda_handler(event, None)["body"])["result"]


BOOKING = {"day": "2026-02-28", "at": "2026-12-03T08:30:00.5+01:00", "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
           "color": "verde", "priority": 3, "where": {"x": 1, "y": 2.5, "tags": ["a"]}}
ANSWER = {"day": "2026-03-01", "at": "2026-12-03T08:30:00.500000+01:00", "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
          "color": "verde", "priority": 3, "where": {"x": 1, "y": 2.5, "tags": ["a"]}}


def test_values_are_parsed_in_and_serialised_out_on_rest(plugin):
    assert rest(plugin, "POST", "/reservar", BOOKING) == (200, ANSWER)


def test_values_are_parsed_in_and_serialised_out_on_mcp(plugin):
    result = mcp(plugin, "reservar", BOOKING)
    assert result["isError"] is False, result
    assert result["structuredContent"] == ANSWER


def test_path_and_query_values_are_parsed(plugin):
    assert rest(plugin, "GET", "/dia/2026-12-03") == (200, {"result": "2026-12-03 rojo 1 3"})
    assert rest(plugin, "GET", "/dia/2026-12-03", query={"color": "verde", "priority": "3"}) == \
        (200, {"result": "2026-12-03 verde 3 3"})


def test_the_schemas_say_format_and_enum(plugin):
    from plugin_runtime.model_auth import AuthConfig

    schema = plugin.operations["reservar"].input_schema["properties"]
    assert schema["day"] == {"type": "string", "format": "date"}
    assert schema["at"] == {"type": "string", "format": "date-time"}
    assert schema["id"] == {"type": "string", "format": "uuid"}
    assert schema["color"] == {"type": "string", "enum": ["rojo", "verde"]}
    assert schema["priority"] == {"type": "integer", "enum": [1, 3]}
    assert schema["where"]["required"] == ["x", "y"] and schema["where"]["additionalProperties"] is False
    codes = plugin.operations["codigos"].input_schema["properties"]
    assert codes["code"]["pattern"] == r"^[A-Z]{3}-[0-9]{2}$"
    assert (codes["numbers"]["minItems"], codes["numbers"]["maxItems"]) == (1, 3)
    doc = plugin.openapi_for("https://example.test", AuthConfig("none"))
    query = {p["name"]: p["schema"] for p in doc["paths"]["/dia/{day}"]["get"]["parameters"]}
    assert query["color"]["default"] == "rojo" and query["priority"]["default"] == 1


@pytest.mark.parametrize(("field", "value", "words"), [
    ("day", "2026-02-30", "day must be a date (YYYY-MM-DD)"),
    ("day", "2026-2-3", "day must be a date"),
    ("day", "03/12/2026", "day must be a date"),
    ("at", "2026-12-03T08:30:00", "at must be a date and time with its offset"),
    ("at", "2026-12-03 08:30:00Z", "at must be a date and time"),
    ("at", "2026-12-03T24:00:00Z", "at must be a date and time"),
    ("id", "1b4e28ba2fa111d2883f0016d3cca427", "id must be a UUID"),
    ("color", "azul", 'color must be one of "rojo", "verde"'),
    ("priority", 2, "priority must be one of 1, 3"),
    ("where", {"x": 1}, "where.y is required"),
    ("where", {"x": 1, "y": 2, "z": 3}, "unexpected field where.z"),
])
def test_bad_values_are_a_clear_400_and_a_tool_error(plugin, field, value, words):
    status, body = rest(plugin, "POST", "/reservar", {**BOOKING, field: value})
    assert status == 400 and words in body["message"], body
    result = mcp(plugin, "reservar", {**BOOKING, field: value})
    assert result["isError"] is True and words in result["content"][0]["text"]


@pytest.mark.parametrize(("arguments", "words"), [
    ({"code": "ABC-1", "numbers": [1]}, "code must match the pattern"),
    ({"code": "xABC-12", "numbers": [1]}, "code must match the pattern"),
    ({"code": "ABC-12", "numbers": []}, "numbers must have at least 1 items"),
    ({"code": "ABC-12", "numbers": [1, 2, 3, 4]}, "numbers must have at most 3 items"),
])
def test_field_pattern_and_item_counts_are_enforced(plugin, arguments, words):
    status, body = rest(plugin, "POST", "/codigos", arguments)
    assert status == 400 and words in body["message"], body
    assert rest(plugin, "POST", "/codigos", {"code": "ABC-12", "numbers": [1, 2]}) == \
        (200, {"x": 2, "y": 0, "label": "ABC-12", "tags": []})


class Naive(TypedDict):
    when: datetime.date


@pytest.mark.parametrize(("declaration", "words"), [
    ("def op(a: dict) -> Naive: ...", "op: parameter 'a': a bare dict"),
    ("def op(a: list) -> Naive: ...", "op: parameter 'a': a bare list"),
    ("def op(a: dict[int, str]) -> Naive: ...", "op: parameter 'a': a bare dict"),
    ("def op(a: set[str]) -> Naive: ...", "op: parameter 'a': type"),
    ("def op(a: datetime.time) -> Naive: ...", "op: parameter 'a': type 'time' has no JSON Schema"),
    ("def op(a: int) -> dict: ...", "op: return type: a bare dict"),
    ("def op(a: Bad) -> Naive: ...", "op: parameter 'a': field 'b' of Bad: a bare list"),
    ("def op(a: Mixed) -> Naive: ...", "op: parameter 'a': enum Mixed needs members"),
    ("def op(a: Loose) -> Naive: ...", "op: parameter 'a': field 'v' of Loose is optional, so it needs a default"),
    ("def op(a: Annotated[int, Field(pattern='x')]) -> Naive: ...", "op: parameter 'a': Field(pattern=...) applies"),
    ("def op(a: Annotated[str, Field(pattern='(')]) -> Naive: ...", "is not a regular expression"),
    ("def op(a: Annotated[str, Field(min_items=1)]) -> Naive: ...", "Field(min_items=...) applies to list"),
    ("def op(a: Annotated[list[int], Field(max_items=-1)]) -> Naive: ...", "maxItems must be a whole number"),
])
def test_types_without_a_schema_fail_at_import_in_one_line(declaration, words):
    @dataclass
    class Bad:
        b: list

    @dataclass
    class Loose:
        v: int | None

    class Mixed(enum.Enum):
        A = "a"
        B = 2

    namespace = {"datetime": datetime, "Annotated": Annotated, "Field": Field, "Naive": Naive, "Bad": Bad,
                 "Mixed": Mixed, "Loose": Loose}
    exec(declaration, namespace)  # the test's own source
    plugin = Plugin(root=str(PROJECT))
    with pytest.raises(SchemaError) as info:
        plugin.operation(namespace["op"])
    message = str(info.value)
    assert words in message and "\n" not in message, message


def test_prompt_and_template_values_are_parsed_too():
    plugin = Plugin(root=str(PROJECT))

    @plugin.prompt
    def agenda(dia: datetime.date, color: Color = Color.RED) -> str:
        """La agenda de un día."""
        assert isinstance(dia, datetime.date) and isinstance(color, Color)
        return f"{dia.strftime('%A')} {color.value}"

    @plugin.resource("data://agenda/{dia}")
    def por_dia(dia: datetime.date) -> str:
        """Un día."""
        return dia.isoformat() + " " + str(dia.toordinal())

    def ask(method: str, params: dict) -> dict:
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        event = make_event("POST", "/mcp", message, headers={"mcp-protocol-version": "2025-06-18"})
        return json.loads(plugin.lambda_handler(event, None)["body"])

    got = ask("prompts/get", {"name": "agenda", "arguments": {"dia": "2026-12-03", "color": "verde"}})
    assert got["result"]["messages"][0]["content"]["text"] == "Thursday verde", got
    bad = ask("prompts/get", {"name": "agenda", "arguments": {"dia": "2026-13-03"}})
    assert "dia must be a date" in bad["error"]["message"]
    read = ask("resources/read", {"uri": "data://agenda/2026-12-03"})
    assert read["result"]["contents"][0]["text"] == f"2026-12-03 {datetime.date(2026, 12, 3).toordinal()}"
