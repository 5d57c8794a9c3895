"""Turn Python type hints into JSON Schema, and check values against that schema.

The Lambda must stay free of third-party packages, so the validator is hand-written for the
small subset of JSON Schema that the derivation produces; the project's tests compare its
verdicts with the `jsonschema` library (formats included).

Besides JSON's own types, ``datetime.date`` and ``datetime.datetime`` (ISO 8601 / RFC 3339
strings), ``uuid.UUID``, ``enum.Enum`` (string or integer values) and dataclasses are described,
validated, parsed into those Python objects on the way in (``converter_for``) and turned back
into JSON on the way out (``to_json``). Their modules are never imported here: a handler that uses
them has imported them already, so a cold start without them loads nothing more.
"""

from __future__ import annotations

import enum
import math
import re
import sys
import types
import typing

__all__ = ["Field", "SchemaError", "coerce_text", "converter_for", "schema_for", "to_json", "validate"]

_SCALARS: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


class Field:
    """Extra facts about a parameter, used as ``Annotated[float, Field(ge=0, le=10)]``.

    Bounds end up in the OpenAPI schema and the MCP input schema, and they are enforced.
    """

    __slots__ = ("description", "examples", "ge", "le", "max_items", "max_length", "min_items", "min_length",
                 "pattern")

    def __init__(
        self,
        description: str | None = None,
        *,
        ge: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        examples: list | None = None,
        pattern: str | None = None,
        min_items: int | None = None,
        max_items: int | None = None,
    ) -> None:
        self.description = description
        self.ge, self.le = ge, le
        self.min_length, self.max_length = min_length, max_length
        self.examples = examples
        self.pattern = pattern  # a regular expression the text must contain (anchor it with ^...$)
        self.min_items, self.max_items = min_items, max_items

    def apply(self, schema: dict) -> dict:
        """Return ``schema`` with this field's facts added."""
        out = dict(schema)
        if self.description:
            out["description"] = self.description
        if self.ge is not None:
            out["minimum"] = _plain(self.ge)
        if self.le is not None:
            out["maximum"] = _plain(self.le)
        if self.min_length is not None:
            out["minLength"] = self.min_length
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.pattern is not None:
            if out.get("type") != "string":
                raise SchemaError("Field(pattern=...) applies to str")
            try:
                re.compile(self.pattern)
            except (re.error, TypeError) as exc:
                raise SchemaError(f"Field(pattern={self.pattern!r}) is not a regular expression: {exc}") from None
            out["pattern"] = self.pattern
        for key, word, value in (("minItems", "min_items", self.min_items), ("maxItems", "max_items", self.max_items)):
            if value is not None:
                if out.get("type") != "array":
                    raise SchemaError(f"Field({word}=...) applies to list[...]")
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise SchemaError(f"Field: {key} must be a whole number >= 0, not {value!r}")
                out[key] = value
        if self.examples:
            out["examples"] = list(self.examples)
        return out


def _plain(number: float) -> float:
    """1e15 reads better as 1000000000000000 than as 1000000000000000.0 in the schema."""
    if isinstance(number, float) and number.is_integer() and abs(number) <= 2**53:
        return int(number)
    return number


class SchemaError(TypeError):
    """A type hint that has no JSON Schema equivalent (raised at import, never per request)."""


def _is_typeddict(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _is_dataclass(tp: object) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__dataclass_fields__")


def _dataclass_fields(tp: type) -> list[tuple[str, object, bool]]:
    """(name, type hint, required) of a dataclass's fields (``dataclasses`` is loaded: it made tp)."""
    import dataclasses

    hints = typing.get_type_hints(tp, include_extras=True)
    return [(f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(tp) if f.init]


def _loaded(module: str, name: str) -> object:
    """A class from a module only if something already imported that module."""
    found = sys.modules.get(module)
    return getattr(found, name, None) if found is not None else None


def _special_scalar(tp: object) -> str | None:
    """The JSON Schema format of the standard-library types that travel as strings."""
    if tp is None or not isinstance(tp, type):
        return None
    if tp is _loaded("datetime", "datetime"):
        return "date-time"
    if tp is _loaded("datetime", "date"):
        return "date"
    if tp is _loaded("uuid", "UUID"):
        return "uuid"
    return None


def _fields_schema(tp: type, fields: list[tuple[str, object, bool]]) -> dict:
    """The closed object schema of a TypedDict's or a dataclass's fields."""
    props = {}
    for name, hint, _ in fields:
        try:
            props[name] = schema_for(hint)
        except SchemaError as exc:
            raise SchemaError(f"field {name!r} of {tp.__name__}: {exc}") from None
    required = [name for name, _, needed in fields if needed]
    schema: dict = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _enum_schema(tp: type) -> dict:
    values = [member.value for member in tp]  # type: ignore[attr-defined]
    if values and all(isinstance(v, str) for v in values):
        return {"type": "string", "enum": values}
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return {"type": "integer", "enum": values}
    raise SchemaError(f"enum {tp.__name__} needs members whose values are all strings or all integers")


def strip_optional(tp: object) -> tuple[object, bool]:
    """``X | None`` -> (X, True). Optional values are expressed as "not required", never null,
    because GPT Actions only understand the common subset of OpenAPI."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or (types.UnionType is not None and origin is types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
        raise SchemaError(f"unions other than `X | None` are not supported: {tp!r}")
    return tp, False


def schema_for(tp: object) -> dict:
    """JSON Schema for a type hint: scalars, Literal, list[...], TypedDict, dict, Annotated."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(tp)
        schema = schema_for(base)
        for item in meta:
            if isinstance(item, Field):
                schema = item.apply(schema)
            elif isinstance(item, str):
                schema = {**schema, "description": item}
        return schema
    tp, _ = strip_optional(tp)
    origin = typing.get_origin(tp)
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}  # type: ignore[index]
    if origin is typing.Literal:
        values = list(typing.get_args(tp))
        kinds = {type(v) for v in values}
        if len(kinds) != 1 or kinds.pop() not in _SCALARS:
            raise SchemaError(f"Literal values must share one scalar type: {tp!r}")
        return {"type": _SCALARS[type(values[0])], "enum": values}
    if tp is list or origin is list:
        (item,) = typing.get_args(tp) or (None,)
        if item is None:
            raise SchemaError("a bare list has no item type; write list[X], e.g. list[str]")
        return {"type": "array", "items": schema_for(item)}
    if _is_typeddict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        return _fields_schema(tp, [(n, h, n in tp.__required_keys__) for n, h in hints.items()])  # type: ignore[attr-defined]
    if _is_dataclass(tp):
        fields = _dataclass_fields(tp)  # type: ignore[arg-type]
        for name, hint, needed in fields:
            if needed and strip_optional(_unannotated(hint))[1]:
                raise SchemaError(f"field {name!r} of {tp.__name__} is optional, so it needs a default (= None)")
        return _fields_schema(tp, fields)  # type: ignore[arg-type]
    if tp is dict or origin is dict:
        key, value = typing.get_args(tp) or (None, None)
        if key is not str:
            raise SchemaError("a bare dict says nothing of its fields; write a TypedDict, a dataclass or dict[str, X]")
        return {"type": "object", "additionalProperties": schema_for(value)}
    fmt = _special_scalar(tp)
    if fmt is not None:
        return {"type": "string", "format": fmt}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_schema(tp)
    raise SchemaError(
        f"type {getattr(tp, '__name__', tp)!r} has no JSON Schema here; use float, int, str, bool, Literal[...], "
        "list[X], dict[str, X], a TypedDict, a dataclass, an Enum, date, datetime, UUID, or X | None"
    )


def _unannotated(tp: object) -> object:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is typing.Annotated else tp


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def validate(schema: dict, value: object, where: str = "") -> str | None:
    """Return None when ``value`` fits ``schema``, else one readable sentence saying why not.

    Numbers arrive from ``json.loads`` as int or float; an integral float such as 2.0 counts as
    an integer, as JSON Schema says. Non-finite numbers never get this far (the parser refuses).
    """
    label = where or "the value"
    kind = schema.get("type")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{label} must be a number, not {_type_name(value)}"
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{label} must be an integer, not {_type_name(value)}"
        if isinstance(value, float) and not value.is_integer():
            return f"{label} must be an integer, not {value!r}"
    elif kind == "string":
        if not isinstance(value, str):
            return f"{label} must be a string, not {_type_name(value)}"
        fmt = schema.get("format")
        if fmt is not None and _FORMATS[fmt](value) is None:
            return f"{label} must be {_FORMAT_WORDS[fmt]}, not {value[:40]!r}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"{label} must be true or false, not {_type_name(value)}"
    elif kind == "array":
        if not isinstance(value, list):
            return f"{label} must be an array, not {_type_name(value)}"
        if "minItems" in schema and len(value) < schema["minItems"]:
            return f"{label} must have at least {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{label} must have at most {schema['maxItems']} items"
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value):
                err = validate(items, item, f"{where}[{i}]")
                if err:
                    return err
    elif kind == "object":
        if not isinstance(value, dict):
            return f"{label} must be an object, not {_type_name(value)}"
        props = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                return f"{_join(where, name)} is required"
        more = schema.get("additionalProperties")
        if more is False:
            extra = sorted(k for k in value if k not in props)
            if extra:
                allowed = ", ".join(props) or "none"
                return f"unexpected field {_join(where, extra[0])!s} (allowed: {allowed})"
        elif isinstance(more, dict):
            for name in sorted(k for k in value if k not in props):
                err = validate(more, value[name], _join(where, name))
                if err:
                    return err
        for name, sub in props.items():
            if name in value:
                err = validate(sub, value[name], _join(where, name))
                if err:
                    return err
    if "enum" in schema and not any(_same(value, v) for v in schema["enum"]):
        return f"{label} must be one of {', '.join(map(_show, schema['enum']))}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{label} must be >= {_show(schema['minimum'])}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{label} must be <= {_show(schema['maximum'])}"
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return f"{label} must have at least {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"{label} must have at most {schema['maxLength']} characters"
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            return f"{label} must match the pattern {schema['pattern']}"
    return None


# -- formats: RFC 3339 full-date and date-time, RFC 4122 UUIDs. Each parser returns the Python
# object or None; the validator and the converters share them, so what passes is what parses.
_DATE_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])"
                            r"(?:\.([0-9]+))?(?:([Zz])|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))")
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_date(text: str) -> object:
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        return None
    import datetime

    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:  # 2026-02-30, year 0
        return None


def parse_datetime(text: str) -> object:
    match = _DATETIME_TEXT.fullmatch(text)
    if match is None:
        return None
    import datetime

    year, month, day, hour, minute, second, fraction, utc, sign, off_h, off_m = match.groups()
    offset = datetime.timedelta(0) if utc else (1 if sign == "+" else -1) * datetime.timedelta(
        hours=int(off_h), minutes=int(off_m))
    try:
        return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                                 int((fraction or "0")[:6].ljust(6, "0")), datetime.timezone(offset))
    except ValueError:
        return None


def parse_uuid(text: str) -> object:
    if _UUID_TEXT.fullmatch(text) is None:
        return None
    import uuid

    return uuid.UUID(text)


_FORMATS = {"date": parse_date, "date-time": parse_datetime, "uuid": parse_uuid}
_FORMAT_WORDS = {"date": "a date (YYYY-MM-DD)", "date-time": "a date and time with its offset "
                 "(RFC 3339, e.g. 2026-12-03T08:30:00Z)", "uuid": "a UUID (8-4-4-4-12 hexadecimal digits)"}


# -- from JSON to the Python objects the hints ask for, and back --------------------------------
def converter_for(tp: object) -> typing.Callable[[object], object] | None:
    """A function turning a validated JSON value into what ``tp`` asks for (a date, an Enum member,
    a dataclass, ...), or None when the JSON value already is it (the common case: no cost)."""
    tp, _ = strip_optional(_unannotated(tp))
    tp = _unannotated(tp)
    origin = typing.get_origin(tp)
    fmt = _special_scalar(tp)
    if fmt is not None:
        parse = _FORMATS[fmt]
        return lambda v: v if v is None or isinstance(v, tp) else parse(v)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda v: v if v is None or isinstance(v, tp) else tp(v)
    if origin is list:
        item = converter_for(typing.get_args(tp)[0])
        return None if item is None else (lambda v: v if v is None else [item(x) for x in v])
    if origin is dict:
        value = converter_for(typing.get_args(tp)[1])
        return None if value is None else (lambda v: v if v is None else {k: value(x) for k, x in v.items()})
    if _is_typeddict(tp):
        fields = {n: c for n, h in typing.get_type_hints(tp, include_extras=True).items()
                  if (c := converter_for(h)) is not None}
        if not fields:
            return None
        return lambda v: v if v is None else {k: (fields[k](x) if k in fields else x) for k, x in v.items()}
    if _is_dataclass(tp):
        made = {n: converter_for(h) for n, h, _ in _dataclass_fields(tp)}  # type: ignore[arg-type]
        return lambda v: v if v is None or isinstance(v, tp) else tp(  # type: ignore[operator]
            **{k: (made[k](x) if made.get(k) else x) for k, x in v.items()})
    return None


def to_json(value: object) -> object:
    """A result as JSON values: dates and datetimes as ISO 8601, UUIDs as text, Enum members as
    their values, dataclasses as objects (fields that are None left out, as an optional field)."""
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if _is_dataclass(type(value)):
        import dataclasses

        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)  # type: ignore[arg-type]
                if getattr(value, f.name) is not None}
    dt = sys.modules.get("datetime")
    if dt is not None and isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, _loaded("uuid", "UUID") or ()):  # type: ignore[arg-type]
        return str(value)
    return value  # not JSON: the surface that encodes it says so


def needs_conversion(tp: object) -> bool:
    """Whether values of ``tp`` differ from their JSON (so results go through ``to_json``)."""
    return converter_for(tp) is not None


def _same(a: object, b: object) -> bool:
    """Enum equality as JSON sees it: true is not 1."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _join(where: str, name: str) -> str:
    """``where.name``; a key that is not a plain name (a caller's, in an open map or an unexpected
    field) is shown quoted and cut, so a message stays one line."""
    if not name.isidentifier():
        name = repr(name[:40])
    return f"{where}.{name}" if where else name


def _show(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


# JSON's number syntax, ASCII digits only: int() and float() would also take " 5", "1_0", "+5"
# and non-ASCII digits, which the documented schema does not allow.
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def coerce_text(schema: dict, text: str, where: str) -> tuple[object, str | None]:
    """Turn a path or query string into the value its schema asks for, or say why not."""
    kind = schema.get("type")
    if kind == "integer":
        try:
            if not _INTEGER_TEXT.fullmatch(text):
                raise ValueError(text)
            return int(text), None
        except ValueError:
            return None, f"{where} must be an integer, not {text!r}"
    if kind == "number":
        try:
            if not _NUMBER_TEXT.fullmatch(text):
                raise ValueError(text)
            value = float(text)
        except ValueError:
            return None, f"{where} must be a number, not {text!r}"
        if not math.isfinite(value):
            return None, f"{where} must be a finite number"
        return value, None
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true", None
        return None, f"{where} must be true or false, not {text!r}"
    if kind == "string":
        return text, None
    return None, f"{where} cannot be given in the URL"
