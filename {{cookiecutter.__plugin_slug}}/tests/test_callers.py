"""Calls from a signed-in caller (the ``signed_in`` fixture) to any operation (``operation_event``):
copy these when an operation depends on who calls it or on a scope."""

from __future__ import annotations

from conftest import AUTH_MODE, example, operation_event, project_plugin


@example
def test_sumar_as_a_signed_in_caller(call, signed_in):
    status, _, body = call(operation_event("sumar", {"numero1": 2, "numero2": 3}, headers=signed_in("alice")))
    assert status == 200 and body == {"resultado": 5}


def test_every_operation_lets_signed_in_callers_in_and_keeps_the_others_out(call, signed_in):
    for name, op in project_plugin().operations.items():
        scopes = op.scopes if AUTH_MODE == "oauth" else ()
        status, _, _ = call(operation_event(name, headers=signed_in("alice", scopes=scopes)))
        assert status not in (401, 403), name  # without arguments a 400 at most: past the door
        status, _, _ = call(operation_event(name, headers={"authorization": ""}))
        assert (status == 401) == (AUTH_MODE != "none"), (name, status)
        if AUTH_MODE == "oauth" and op.scopes:  # signed in, but without the operation's scopes
            status, _, _ = call(operation_event(name, headers=signed_in("bob")))
            assert status == 403, name
