"""Regression tests of the OAuth facade's security review (issue 15), one section per finding,
with the attack classes as parametrised corpora. They drive the facade through lambda_handler
(helpers shared with test_oauth_facade.py); no provider is needed.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import test_oauth_facade as facade
from test_oauth_facade import (
    LAST,
    ORIGIN,
    REDIRECT,
    UPSTREAM,
    authorize_query,
    call,
    consent_form,
    query_of,
    refused,
    register,
)

plugin, oauth_env = facade.plugin, facade.oauth_env  # the same fixtures: a baked auth=oauth plugin, its environment

FORM = {"content-type": "application/x-www-form-urlencoded"}
GPT = "https://chatgpt.com/aip/g-attacker/oauth/callback"


def cookie_pairs(response: dict) -> list[str]:
    return [c.split(";", 1)[0] for c in response.get("cookies") or ()]


def approve(plugin, query: dict) -> tuple[dict, list[str]]:
    """An attacker's (or user's) own browser: consent page, Allow; (provider redirect query, cookies)."""
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 200, page
    jar = cookie_pairs(LAST)
    status, headers, _ = call(plugin, "POST", "/oauth/authorize", body=urlencode(consent_form(page)), headers=FORM,
                              cookies=jar)
    assert status == 302 and headers["location"].startswith(UPSTREAM), headers
    return query_of(headers["location"]), cookie_pairs(LAST)


# -- 1. consent bypass (confused deputy) ------------------------------------------------------------
def test_a_txn_read_from_the_consent_page_is_worthless_in_another_browser(plugin):
    client = register(plugin)["client_id"]
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    txn = consent_form(page)["txn"]
    # the victim signs in at the provider with the attacker's txn as state; no cookie of ours
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "victim", "state": txn})
    refused(status, body, "invalid_request")
    assert "location" not in headers


def test_a_state_approved_in_the_attackers_browser_is_refused_in_the_victims(plugin):
    client = register(plugin)["client_id"]
    upstream, attacker_jar = approve(plugin, authorize_query(client))
    assert attacker_jar, "Allow must bind the flow to this browser with a cookie"
    for jar in (None, ["plugin_oauth_consent=x"], [attacker_jar[0].split("=", 1)[0] + "=forged"]):
        status, headers, body = call(plugin, "GET", "/oauth/callback",
                                     query={"code": "victim", "state": upstream["state"]}, cookies=jar)
        refused(status, body, "invalid_request")
        assert "location" not in headers


def test_the_approving_browser_completes_once_and_the_cookie_is_cleared(plugin):
    client = register(plugin)["client_id"]
    upstream, jar = approve(plugin, authorize_query(client))
    assert any(c for c in LAST["cookies"] if "HttpOnly" in c and "SameSite=Lax" in c and "Secure" in c
               and "Path=/oauth" in c)
    status, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": "mine", "state": upstream["state"]},
                              cookies=jar)
    assert status == 302 and query_of(headers["location"])["code"]
    cleared = LAST.get("cookies") or []
    assert cleared and all("Max-Age=0" in c for c in cleared), cleared
    # the browser forgot the cookie: the same state again is refused
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "again", "state": upstream["state"]})
    refused(status, body, "invalid_request")


def test_two_flows_in_one_browser_do_not_cross(plugin):
    a, b = register(plugin)["client_id"], register(plugin)["client_id"]
    up_a, jar_a = approve(plugin, authorize_query(a))
    _, jar_b = approve(plugin, authorize_query(b))
    status, _, body = call(plugin, "GET", "/oauth/callback", query={"code": "x", "state": up_a["state"]},
                           cookies=jar_b)
    refused(status, body, "invalid_request")
    status, _, _ = call(plugin, "GET", "/oauth/callback", query={"code": "x", "state": up_a["state"]},
                        cookies=jar_a + jar_b)
    assert status == 302


def test_the_predefined_client_path_is_bound_to_the_browser_too(plugin):
    """GPT Actions' client skips the consent page: its flow must be bound to the browser as well."""
    query = {"response_type": "code", "client_id": "upstream-client", "redirect_uri": GPT, "state": "gpt"}
    status, headers, _ = call(plugin, "GET", "/oauth/authorize", query=query)
    assert status == 302 and headers["location"].startswith(UPSTREAM)
    state, jar = query_of(headers["location"])["state"], cookie_pairs(LAST)
    assert jar
    status, headers, body = call(plugin, "GET", "/oauth/callback", query={"code": "victim", "state": state})
    refused(status, body, "invalid_request")
    status, headers, _ = call(plugin, "GET", "/oauth/callback", query={"code": "victim", "state": state}, cookies=jar)
    assert status == 302 and headers["location"].startswith(GPT)


@pytest.mark.parametrize("decision", ["deny", "", "ALLOW"])
def test_only_allow_binds_a_flow(plugin, decision):
    client = register(plugin)["client_id"]
    status, _, page = call(plugin, "GET", "/oauth/authorize", query=authorize_query(client))
    jar = cookie_pairs(LAST)
    form = {**consent_form(page), "decision": decision}
    status, headers, _ = call(plugin, "POST", "/oauth/authorize", body=urlencode(form), headers=FORM, cookies=jar)
    assert status == 302 and headers["location"].startswith(REDIRECT) and "error=access_denied" in headers["location"]
    assert not any("Path=/oauth;" in c and "Max-Age=0" not in c for c in LAST.get("cookies") or [])
    assert ORIGIN in query_of(headers["location"])["iss"]
