"""moto_server with the small patches the Terraform end-to-end tests need (spec-facts section 5).

    python tests/moto_patched.py -H 127.0.0.1 -p 5000

moto 5.2 leaves out what the AWS provider waits for or reads back:

- apigatewayv2 domain names come back without ``domainNameStatus``, ``apiGatewayDomainName`` and
  ``hostedZoneId``: terraform apply would wait for AVAILABLE forever and a Route 53 alias would
  have no target. The patch answers AVAILABLE with a regional target, as AWS does, and leaves out
  an empty ``mutualTlsAuthentication`` as AWS does (else every plan shows a block to delete).
- Cognito has no DeleteResourceServer or UpdateResourceServer: destroying an auth = oauth
  project (or changing its scopes) would retry until it timed out. The patch implements both.
- Lambda drops ``LoggingConfig`` (log format and levels): every plan would show a change. The
  patch keeps what was sent (with AWS's defaults) and returns it.

Each patch only adds what moto omits, so a moto that learns these fields wins.
"""

from __future__ import annotations

import hashlib
import sys

# Route 53 hosted zone of regional API Gateway endpoints in us-east-1 (AWS's published value).
REGIONAL_ZONE = "Z1UJRXOUMOOFQ8"


def patch_apigatewayv2() -> None:
    from moto.apigatewayv2 import models

    original = models.DomainName.to_json

    def to_json(self: models.DomainName) -> dict:
        data = original(self)
        region = self.domain_name_arn.split(":")[3]
        target = "d-" + hashlib.sha256(self.domain_name.encode()).hexdigest()[:10]
        for config in data.get("domainNameConfigurations") or []:
            config.setdefault("domainNameStatus", "AVAILABLE")
            config.setdefault("apiGatewayDomainName", f"{target}.execute-api.{region}.amazonaws.com")
            config.setdefault("hostedZoneId", REGIONAL_ZONE)
        if not data.get("mutualTlsAuthentication"):  # AWS leaves it out; an empty one reads as a block to delete
            data.pop("mutualTlsAuthentication", None)
        return data

    models.DomainName.to_json = to_json


def patch_lambda_logging_config() -> None:
    from moto.awslambda import models

    original_init = models.LambdaFunction.__init__
    original_get = models.LambdaFunction.get_configuration
    original_update = models.LambdaFunction.update_configuration

    def __init__(self, account_id: str, spec: dict, region: str, version: int = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.logging_config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.function_name}",
                               **(spec.get("LoggingConfig") or {})}

    def get_configuration(self, on_create: bool = False) -> dict:
        config = original_get(self, on_create)
        config.setdefault("LoggingConfig", dict(getattr(self, "logging_config", {})))
        return config

    def update_configuration(self, config_updates: dict) -> dict:
        if "LoggingConfig" in config_updates:
            self.logging_config = {**getattr(self, "logging_config", {}), **config_updates["LoggingConfig"]}
        return original_update(self, config_updates)

    models.LambdaFunction.__init__ = __init__
    models.LambdaFunction.get_configuration = get_configuration
    models.LambdaFunction.update_configuration = update_configuration


def patch_cognito_resource_servers() -> None:
    """moto implements neither DeleteResourceServer nor UpdateResourceServer: terraform destroy
    of an auth = oauth project, and a change of its scopes, would retry until they time out."""
    from moto.cognitoidp import models, responses
    from moto.core.responses import ActionResult, EmptyResult

    backend = models.CognitoIdpBackend
    if not hasattr(backend, "delete_resource_server"):
        def delete_resource_server(self, user_pool_id: str, identifier: str) -> None:
            self.describe_resource_server(user_pool_id, identifier)  # raises ResourceNotFound as AWS does
            del self.user_pools[user_pool_id].resource_servers[identifier]

        def delete_response(self) -> EmptyResult:
            self.backend.delete_resource_server(self._get_param("UserPoolId"), self._get_param("Identifier"))
            return EmptyResult()

        backend.delete_resource_server = delete_resource_server
        responses.CognitoIdpResponse.delete_resource_server = delete_response
    if not hasattr(backend, "update_resource_server"):
        def update_response(self) -> ActionResult:
            pool_id, identifier = self._get_param("UserPoolId"), self._get_param("Identifier")
            server = self.backend.describe_resource_server(pool_id, identifier)
            server.name = self._get_param("Name")
            server.scopes = self._get_param("Scopes") or []
            return ActionResult({"ResourceServer": server.to_json()})

        responses.CognitoIdpResponse.update_resource_server = update_response


def main() -> None:
    patch_apigatewayv2()
    patch_lambda_logging_config()
    patch_cognito_resource_servers()
    from moto.server import main as serve

    serve(sys.argv[1:])


if __name__ == "__main__":
    main()
