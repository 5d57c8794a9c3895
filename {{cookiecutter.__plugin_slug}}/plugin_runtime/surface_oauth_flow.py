"""The OAuth facade's sign-in flow: /oauth/authorize (checks, then the consent page or straight
to the provider for the predefined client), the consent answer, and /oauth/callback (the
provider's answer, turned into our signed code for the client)."""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qsl, urlsplit

from .model_auth import provider_endpoints
from .surface_oauth_clients import Client, ClientFacade
from .surface_oauth_seal import (
    AUTHORIZE_PATH,
    CODE_SECONDS,
    CONSENT_COOKIE,
    FLOW_COOKIE,
    MAX_FIELD,
    NO_STORE,
    PKCE_CHARS,
    TXN_SECONDS,
    OAuthError,
    b64,
    redirect,
)


class Flow(ClientFacade):
    """The authorize, consent and callback endpoints."""

    def authorize(self) -> dict:
        q = self.req.query
        client = self.client(q.get("client_id"))
        if client is None:
            raise OAuthError(400, "invalid_client", "unknown client_id; register first")
        redirect_uri = q.get("redirect_uri")
        if redirect_uri is None and len(client.redirect_uris) == 1:
            redirect_uri = client.redirect_uris[0]
        if not isinstance(redirect_uri, str) or not client.allows(redirect_uri):
            raise OAuthError(400, "invalid_request", "redirect_uri is not registered for this client")

        def refuse(error: str, description: str) -> dict:
            return redirect(redirect_uri, {"error": error, "error_description": description,
                                            **({"state": q["state"]} if "state" in q else {}), "iss": self.origin})

        if q.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be code")
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
        if (challenge is None and client.auth_method != "predefined") or (challenge is not None and method != "S256"):
            return refuse("invalid_request", "PKCE with code_challenge_method=S256 is required")
        if challenge is not None and not (43 <= len(challenge) <= 128 and PKCE_CHARS.issuperset(challenge)):
            return refuse("invalid_request", "code_challenge is malformed")
        if not self.resource_ok(q.get("resource")):
            return refuse("invalid_target", "resource must be this API's MCP endpoint")
        state = q.get("state", "")
        if len(state) > 1024:
            return refuse("invalid_request", "state is longer than 1024 characters")
        scope = self.upstream_scope(q.get("scope"))
        txn = {"c": client.client_id, "r": redirect_uri, "p": challenge, "s": state, "o": scope, "i": self.origin,
               "x": "redirect_uri" in q, "exp": int(time.time()) + TXN_SECONDS}
        if client.auth_method == "predefined":  # the owner's own GPT Action: configured, not registered
            return self.to_provider(txn)
        return self.consent_page(client, redirect_uri, self.signer.seal("txn", txn), scope)

    def to_provider(self, txn: dict) -> dict:
        """To the provider's login, with the flow bound to this browser: a fresh nonce in a cookie
        (HttpOnly, SameSite=Lax, only sent to /oauth) whose MAC rides in the sealed ``state``. The
        callback completes a state only next to its cookie, and clears it: a state (or a txn read
        off a consent page) sent to someone else's browser is worthless there."""
        nonce, flow = b64(os.urandom(16)), b64(os.urandom(6))
        state = self.signer.seal("state", {**txn, "k": flow, "b": self.signer.mac("bind", nonce)})
        upstream = provider_endpoints(self.settings)["authorize"]
        response = redirect(upstream, {"response_type": "code", "client_id": self.settings.client_id,
                                        "redirect_uri": self.callback_url, "scope": txn["o"], "state": state,
                                        **self.settings.resource_indicator(self.origin, authorize=True)})
        response["cookies"] = [self.cookie(FLOW_COOKIE + flow, nonce, TXN_SECONDS)]
        return response

    def consent_page(self, client: Client, redirect_uri: str, txn: str, scope: str) -> dict:
        """Anyone can register a client, and the provider's login shows only this API's name: so the
        user is asked, here, whether this client may act for them (the confused-deputy defence).
        The answer is bound to this browser: a cookie only this page sets, never sent cross-site."""
        from html import escape

        who = escape(client.name or "An application")
        where = escape(urlsplit(redirect_uri).netloc or redirect_uri)  # host[:port] (no userinfo: refused)
        asked = "".join(f"<li><code>{escape(s)}</code></li>" for s in scope.split() if s != "openid")
        plugin = escape(str(self.registry.manifest.get("name_for_human", "this plugin")))
        page = (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Allow access?</title>"
            "<meta name=\"viewport\" content=\"width=device-width\"><style>body{font:16px system-ui;max-width:32rem;"
            "margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin-right:.5rem}</style>"
            f"</head><body><h1>Allow access to {plugin}?</h1><p><strong>{who}</strong> wants to use {plugin} "
            f"as you. After you sign in, it will be sent to <code>{where}</code>.</p>"
            f"<p>It asks for:</p><ul>{asked}</ul>"
            "<p>Only continue if you started this from that application.</p>"
            + "".join(f"<form method=\"post\" action=\"{AUTHORIZE_PATH}\"><input type=\"hidden\" name=\"txn\" "
                      f"value=\"{escape(txn)}\"><input type=\"hidden\" name=\"decision\" value=\"{value}\">"
                      f"<button type=\"submit\">{label}</button></form>"
                      for value, label in (("allow", "Allow"), ("deny", "Deny")))
            + "</body></html>")
        secure = "; Secure" if self.origin.startswith("https://") else ""
        cookie = f"{CONSENT_COOKIE}={self.signer.mac('consent', txn)}; Path={AUTHORIZE_PATH}; HttpOnly; SameSite=Lax" \
                 f"; Max-Age={TXN_SECONDS}{secure}"
        return {"statusCode": 200, "cookies": [cookie], "body": page,
                "headers": {"content-type": "text/html; charset=utf-8", **NO_STORE, "x-frame-options": "DENY",
                            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                       "frame-ancestors 'none'"}}

    def consent(self) -> dict:
        """The user's answer on the consent page: on to the provider, or back with access_denied."""
        try:
            form = dict(parse_qsl(self.req.body.decode("utf-8"), max_num_fields=8))
        except (UnicodeDecodeError, ValueError):
            form = {}
        txn = self.signer.open("txn", form.get("txn"))
        cookie = self.req.cookies.get(CONSENT_COOKIE, "")
        if txn is None or not self.signer.mac_ok("consent", form.get("txn", ""), cookie):
            raise OAuthError(400, "invalid_request", "this consent was not given on this browser's consent page, "
                                                     "or it expired; start again from the application")
        if form.get("decision") != "allow":
            back = {"state": txn["s"]} if txn.get("s") else {}
            return redirect(txn["r"], {"error": "access_denied", **back, "iss": txn["i"]})
        return self.to_provider(txn)

    def callback(self) -> dict:
        """The provider's answer: completed only in the browser that started the flow, and once
        (the flow's cookie is required, then cleared)."""
        q = self.req.query
        txn = self.signer.open("state", q.get("state"))
        if txn is None:
            raise OAuthError(400, "invalid_request", "the sign-in expired or was altered; start again from the app")
        name = FLOW_COOKIE + str(txn.get("k", ""))
        nonce = self.req.cookies.get(name, "")
        if not nonce or not self.signer.mac_ok("bind", nonce, str(txn.get("b", ""))):
            raise OAuthError(400, "invalid_request", "this sign-in was not started in this browser (or was already "
                                                     "completed); start again from the application")
        back = {"state": txn["s"]} if txn.get("s") else {}
        if "code" not in q:
            reason = q.get("error", "server_error")
            if reason not in ("access_denied", "invalid_scope", "temporarily_unavailable"):
                reason = "access_denied"
            response = redirect(txn["r"], {"error": reason, **back, "iss": txn["i"]})
        else:
            code = self.signer.seal("code", {"u": q["code"][:MAX_FIELD], "c": txn["c"], "r": txn["r"],
                                             "p": txn["p"], "o": txn["o"], "x": txn.get("x", True),
                                             "exp": int(time.time()) + CODE_SECONDS})
            response = redirect(txn["r"], {"code": code, **back, "iss": txn["i"]})
        response["cookies"] = [self.cookie(name, "", 0)]
        return response

