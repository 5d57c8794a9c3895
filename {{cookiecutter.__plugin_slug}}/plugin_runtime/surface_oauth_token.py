"""The OAuth facade's token endpoint: codes and refresh tokens exchanged at the provider with
our own client secret, answered in RFC 6749 form."""

from __future__ import annotations

import json
import os
import time
from urllib.parse import parse_qsl, urlencode

from .model_auth import provider_endpoints
from .model_log import log
from .surface_oauth_clients import ClientFacade
from .surface_oauth_seal import NO_STORE, REFRESH_SECONDS, OAuthError, b64, provider_secret
from .transport import json_response


class Token(ClientFacade):
    """The token and revocation endpoints."""

    def form(self) -> dict[str, str]:
        """The request's form (RFC 6749 3.2: urlencoded, every parameter at most once)."""
        ctype = self.req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "send the token request as application/x-www-form-urlencoded")
        try:
            pairs = parse_qsl(self.req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=32)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "the form is malformed") from None
        form: dict[str, str] = {}
        for key, value in pairs:
            if key in form:
                raise OAuthError(400, "invalid_request", f"{key[:40]} appears more than once")
            form[key] = value
        return form

    def token(self) -> dict:
        form = self.form()
        client = self.authenticate_client(form)
        grant = form.get("grant_type")
        if not self.resource_ok(form.get("resource")):
            raise OAuthError(400, "invalid_target", "resource must be this API's MCP endpoint")
        lifetime = int(time.time()) + REFRESH_SECONDS  # a sign-in's refresh tokens end together
        if grant == "authorization_code":
            code = self.signer.open("code", form.get("code"))
            if code is None or code["c"] != client.client_id:
                raise OAuthError(400, "invalid_grant", "the code is invalid, expired or for another client")
            if code.get("x", True) and "redirect_uri" not in form:  # RFC 6749 4.1.3
                raise OAuthError(400, "invalid_request", "redirect_uri is required: the authorization request had it")
            if form.get("redirect_uri", code["r"]) != code["r"]:
                raise OAuthError(400, "invalid_grant", "redirect_uri differs from the authorization request")
            if code["p"] is not None and not self.signer.pkce_ok(form.get("code_verifier"), code["p"]):
                raise OAuthError(400, "invalid_grant", "the PKCE code_verifier does not match")
            answer = self.upstream({"grant_type": "authorization_code", "code": code["u"],
                                    "redirect_uri": self.callback_url, **self.indicator})
        elif grant == "refresh_token":
            if "refresh_token" not in client.grants:
                raise OAuthError(400, "unauthorized_client", "this client did not register the refresh_token grant")
            wrapped = self.signer.open("refresh", form.get("refresh_token"))
            if wrapped is None or wrapped["c"] != client.client_id or not isinstance(wrapped.get("exp"), int):
                raise OAuthError(400, "invalid_grant", "the refresh token is invalid, expired or for another client")
            answer = self.upstream({"grant_type": "refresh_token", "refresh_token": wrapped["t"], **self.indicator})
            # A provider that rotates (Cognito with refresh_token_rotation) answers a new one and
            # kills the old, so a replayed wrapper dies there; one that does not gets the same token
            # back, rewrapped, and the wrapper's fixed expiry bounds it.
            answer.setdefault("refresh_token", wrapped["t"])
            lifetime = wrapped["exp"]
        else:
            raise OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        result = {"access_token": answer["access_token"], "token_type": "Bearer",
                  "expires_in": int(answer.get("expires_in") or 3600)}
        if answer.get("refresh_token"):
            result["refresh_token"] = self.signer.seal("refresh", {"t": answer["refresh_token"], "c": client.client_id,
                                                                   "exp": lifetime, "j": b64(os.urandom(9))})
        if answer.get("scope"):
            result["scope"] = answer["scope"]
        return json_response(200, result, NO_STORE)

    @property
    def indicator(self) -> dict[str, str]:
        return self.settings.resource_indicator(self.origin, authorize=False)

    def revoke(self) -> dict:
        """RFC 7009: the client's refresh token revoked at the provider (which revokes the access
        tokens it gave too, with Cognito). An unknown, expired or foreign token is no error."""
        form = self.form()
        client = self.authenticate_client(form)
        wrapped = self.signer.open("refresh", form.get("token"))
        url = provider_endpoints(self.settings).get("revoke")
        if wrapped is not None and wrapped.get("c") == client.client_id:
            if not url:
                raise OAuthError(400, "unsupported_token_type", "the sign-in provider cannot revoke tokens")
            self.upstream({"token": str(wrapped["t"]), "token_type_hint": "refresh_token"}, url, "revoke")
        return {"statusCode": 200, "headers": dict(NO_STORE), "body": ""}

    def upstream(self, fields: dict[str, str], url: str | None = None, what: str = "") -> dict:
        """A token request to the provider, authenticated with our client secret."""
        import base64
        import urllib.error
        import urllib.request
        from urllib.parse import quote

        settings = self.settings
        pair = f"{quote(settings.client_id, safe='')}:{quote(provider_secret(settings), safe='')}"
        request = urllib.request.Request(  # noqa: S310 (the configured provider's token endpoint)
            url or provider_endpoints(settings)["token"], data=urlencode(fields).encode("ascii"), method="POST",
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json",
                     "authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if what == "revoke":
                    return {}
                answer = json.loads(response.read(65_536))
        except urllib.error.HTTPError as exc:
            detail = exc.read(2048).decode("utf-8", "replace")
            log.error(f"oauth: the provider refused a {what or fields['grant_type']} request: "
                      f"HTTP {exc.code} {detail[:300]}")
            raise OAuthError(400, "invalid_grant",
                             "the provider refused the grant (used, expired or revoked)") from None
        except (OSError, ValueError) as exc:
            log.error(f"oauth: the provider's token endpoint failed: {type(exc).__name__}: {exc}")
            raise OAuthError(503, "temporarily_unavailable", "the sign-in provider is unreachable") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise OAuthError(502, "server_error", "the provider answered without an access token")
        return answer
