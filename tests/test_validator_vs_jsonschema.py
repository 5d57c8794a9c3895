"""The runtime's hand-written validator must agree with the jsonschema library on every schema
the derivation can produce and on arbitrary JSON values."""

from __future__ import annotations

import pytest
from bake_support import bake, project_modules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator


@pytest.fixture(scope="module")
def schema_module(tmp_path_factory):
    with project_modules(bake(tmp_path_factory.mktemp("validator"))):
        import plugin_runtime.model_schema as module

        yield module


numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32))
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abcxy"), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def scalar_schemas(draw):
    kind = draw(st.sampled_from(["number", "integer", "string", "boolean"]))
    schema: dict = {"type": kind}
    if kind in ("number", "integer") and draw(st.booleans()):
        low = draw(st.integers(-100, 100))
        schema["minimum"] = low
        if draw(st.booleans()):
            schema["maximum"] = low + draw(st.integers(0, 200))
    if kind == "string":
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(0, 5))
        if draw(st.booleans()):
            schema["minLength"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            schema["enum"] = draw(st.lists(st.text(max_size=3), min_size=1, max_size=3, unique=True))
    if kind == "integer" and draw(st.booleans()):
        schema = {"type": "integer", "enum": draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3, unique=True))}
    return schema


schemas = st.recursive(
    scalar_schemas(),
    lambda inner: st.builds(lambda items: {"type": "array", "items": items}, inner)
    | st.builds(
        lambda props, n, closed: {"type": "object", "properties": props, "required": sorted(props)[:n],
                                  **({"additionalProperties": False} if closed else {})},
        st.dictionaries(st.sampled_from("abcxy"), inner, max_size=3), st.integers(0, 3), st.booleans()),
    max_leaves=5,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=schemas, value=json_values)
def test_same_verdict_as_jsonschema(schema_module, schema, value):
    ours = schema_module.validate(schema, value)
    theirs = Draft202012Validator(schema).is_valid(value)
    assert (ours is None) == theirs, (schema, value, ours)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=schemas, value=json_values)
def test_errors_are_one_readable_sentence(schema_module, schema, value):
    message = schema_module.validate(schema, value, "field")
    if message is not None:
        assert message.strip() and "\n" not in message
        assert message.startswith("field") or message.startswith("unexpected field field")
