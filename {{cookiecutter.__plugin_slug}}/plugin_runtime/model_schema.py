"""Turn Python type hints into JSON Schema, and check values against that schema.

The Lambda must stay free of third-party packages, so the validator is hand-written for the
small subset of JSON Schema that the derivation produces; the project's tests compare its
verdicts with the `jsonschema` library.
"""

from __future__ import annotations

import math
import re
import types
import typing

__all__ = ["Field", "SchemaError", "coerce_text", "schema_for", "validate"]

_SCALARS: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


class Field:
    """Extra facts about a parameter, used as ``Annotated[float, Field(ge=0, le=10)]``.

    Bounds end up in the OpenAPI schema and the MCP input schema, and they are enforced.
    """

    __slots__ = ("description", "examples", "ge", "le", "max_length", "min_length")

    def __init__(
        self,
        description: str | None = None,
        *,
        ge: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        examples: list | None = None,
    ) -> None:
        self.description = description
        self.ge, self.le = ge, le
        self.min_length, self.max_length = min_length, max_length
        self.examples = examples

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
    if origin is list:
        (item,) = typing.get_args(tp) or (None,)
        if item is None:
            raise SchemaError("write list[X], not a bare list")
        return {"type": "array", "items": schema_for(item)}
    if _is_typeddict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        props = {name: schema_for(hint) for name, hint in hints.items()}
        required = [n for n in hints if n in tp.__required_keys__]  # type: ignore[attr-defined]
        schema: dict = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema
    if tp is dict or origin is dict:
        return {"type": "object"}
    raise SchemaError(
        f"type {tp!r} has no JSON Schema here; use float, int, str, bool, Literal[...], "
        "list[...], a TypedDict, or X | None"
    )


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
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"{label} must be true or false, not {_type_name(value)}"
    elif kind == "array":
        if not isinstance(value, list):
            return f"{label} must be an array, not {_type_name(value)}"
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
        if schema.get("additionalProperties") is False:
            extra = sorted(k for k in value if k not in props)
            if extra:
                allowed = ", ".join(props) or "none"
                return f"unexpected field {_join(where, extra[0])!s} (allowed: {allowed})"
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
    return None


def _same(a: object, b: object) -> bool:
    """Enum equality as JSON sees it: true is not 1."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _join(where: str, name: str) -> str:
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
