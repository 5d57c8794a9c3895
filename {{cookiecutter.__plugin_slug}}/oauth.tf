# Sign-in with OAuth (auth = "oauth"). By default a Cognito user pool with a hosted login domain,
# a resource server holding the plugin's scopes and one confidential app client for the Lambda's
# authorization-server facade (plugin_runtime/surface_oauth.py). With oauth_issuer set, an
# existing OIDC provider is used instead and nothing here is created but the secret's parameter.

locals {
  oauth          = var.auth == "oauth"
  cognito        = local.oauth && var.oauth_issuer == ""
  oauth_base     = "invoke" # plugin_runtime/model_auth.py BASE_SCOPE
  callback_url   = "${local.endpoint}/oauth/callback"
  secret_name    = "/${var.name}/oauth/client-secret"
  scope_prefix   = local.cognito ? "${var.name}/" : var.oauth_scope_prefix
  cognito_host   = local.cognito ? "${aws_cognito_user_pool_domain.this[0].domain}.auth.${var.aws_region}.amazoncognito.com" : ""
  cognito_issuer = local.cognito ? "https://cognito-idp.${var.aws_region}.amazonaws.com/${aws_cognito_user_pool.this[0].id}" : ""

  # The scopes handler.py declares, read from the committed openapi.json (the build writes them
  # there from @plugin.operation(scopes=...)); the base scope is always there.
  openapi_doc    = jsondecode(file("${path.module}/${var.path_to_openapi}"))
  openapi_scopes = try(keys(local.openapi_doc.components.securitySchemes.oauth2.flows.authorizationCode.scopes), [])
  plugin_scopes = distinct(concat([local.oauth_base], [
    for s in local.openapi_scopes : trimprefix(s, local.scope_prefix) if can(regex("^[A-Za-z0-9._:-]+$", trimprefix(s, local.scope_prefix)))
  ]))

  # plugin_runtime/surface_oauth_seal.py SIGNING_KEY_SECRET, under the secrets' prefix (main.tf)
  signing_key_name = "OAUTH_SIGNING_KEY"

  # Unique per account and name without anything random, so a re-apply never renames it.
  cognito_domain = substr("${lower(replace(var.name, "_", "-"))}-${substr(sha256("${data.aws_caller_identity.current.account_id}/${var.name}"), 0, 8)}", 0, 63)

  oauth_environment = local.oauth ? {
    PLUGIN_OAUTH_ISSUER                  = local.cognito ? local.cognito_issuer : var.oauth_issuer
    PLUGIN_OAUTH_CLIENT_ID               = local.cognito ? aws_cognito_user_pool_client.this[0].id : var.oauth_client_id
    PLUGIN_OAUTH_AUTHORIZE_URL           = local.cognito ? "https://${local.cognito_host}/oauth2/authorize" : ""
    PLUGIN_OAUTH_TOKEN_URL               = local.cognito ? "https://${local.cognito_host}/oauth2/token" : ""
    PLUGIN_OAUTH_JWKS_URL                = local.cognito ? "${local.cognito_issuer}/.well-known/jwks.json" : ""
    PLUGIN_OAUTH_REVOKE_URL              = local.cognito ? "https://${local.cognito_host}/oauth2/revoke" : ""
    PLUGIN_OAUTH_CALLBACK_URL            = local.callback_url
    PLUGIN_OAUTH_SCOPE_PREFIX            = local.scope_prefix
    PLUGIN_OAUTH_TOKEN_USE               = local.cognito ? "access" : ""
    PLUGIN_OAUTH_AUDIENCE                = local.cognito ? "" : var.oauth_audience
    PLUGIN_OAUTH_RESOURCE_PARAMETER      = local.cognito ? "none" : var.oauth_resource_parameter
    PLUGIN_OAUTH_CLIENT_SECRET_PARAMETER = local.secret_name
  } : {}
}

resource "aws_cognito_user_pool" "this" {
  count = local.cognito ? 1 : 0

  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = "INACTIVE"
  mfa_configuration        = "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = false
  }

  admin_create_user_config {
    allow_admin_create_user_only = var.oauth_admin_create_only
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  count = local.cognito ? 1 : 0

  domain       = local.cognito_domain
  user_pool_id = aws_cognito_user_pool.this[0].id
}

resource "aws_cognito_resource_server" "this" {
  count = local.cognito ? 1 : 0

  identifier   = var.name
  name         = var.name
  user_pool_id = aws_cognito_user_pool.this[0].id

  dynamic "scope" {
    for_each = local.plugin_scopes

    content {
      scope_name        = scope.value
      scope_description = scope.value == local.oauth_base ? "Use the ${var.name} plugin" : "${var.name}: ${scope.value}"
    }
  }
}

resource "aws_cognito_user_pool_client" "this" {
  count = local.cognito ? 1 : 0

  name                                 = "${var.name}-facade"
  user_pool_id                         = aws_cognito_user_pool.this[0].id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = concat(["openid", "email"], [for s in local.plugin_scopes : "${var.name}/${s}"])
  callback_urls                        = [local.callback_url]
  supported_identity_providers         = ["COGNITO"]
  explicit_auth_flows                  = ["ALLOW_USER_SRP_AUTH"] # see refresh_token_rotation
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = 60
  id_token_validity                    = 60
  refresh_token_validity               = 30

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  # Refresh-token rotation (RFC 9700 4.14.2; in the aws provider 5.100 and 6.x): each refresh at the token
  # endpoint answers a new refresh token and invalidates the one sent, so a replayed refresh token
  # fails. Cognito refuses ALLOW_REFRESH_TOKEN_AUTH alongside it; the hosted login needs no API flow,
  # SRP is listed only because the list cannot be empty.
  refresh_token_rotation {
    feature                    = "ENABLED"
    retry_grace_period_seconds = 0
  }

  depends_on = [aws_cognito_resource_server.this]
}

# The facade's client secret, read by the Lambda on the first sign-in (never in its environment).
# Cognito's is written by Terraform (it is in the state anyway, as for any Terraform-made client);
# another provider's is set out of band:
#   aws ssm put-parameter --overwrite --type SecureString --name /<name>/oauth/client-secret --value ...
resource "aws_ssm_parameter" "cognito_client_secret" {
  # checkov:skip=CKV_AWS_337: a SecureString under the AWS-managed aws/ssm key, readable only by this Lambda's role; a CMK adds a monthly cost
  count = local.cognito ? 1 : 0

  name        = local.secret_name
  description = "Client secret of the ${var.name} OAuth facade at Cognito."
  type        = "SecureString"
  value       = aws_cognito_user_pool_client.this[0].client_secret
}

resource "aws_ssm_parameter" "oauth_client_secret" {
  # checkov:skip=CKV_AWS_337: a SecureString under the AWS-managed aws/ssm key, readable only by this Lambda's role; a CMK adds a monthly cost
  count = local.oauth && !local.cognito ? 1 : 0

  name        = local.secret_name
  description = "Client secret of the ${var.name} OAuth facade at ${var.oauth_issuer}; set its value out of band."
  type        = "SecureString"
  value       = "set-me-with-aws-ssm-put-parameter"

  lifecycle {
    ignore_changes = [value]
  }
}

# The facade's own signing key (its client ids, states, codes and refresh tokens are HMAC seals):
# random, made once by Terraform and then left alone. GetRandomPassword (a data source, no random
# provider needed) is read on every plan but only the first value is written: ignore_changes. The
# value is in the state (sensitive), like the Cognito client secret: keep the state private.
# Rotation without downtime: put "<new> <old>" (current first, then previous), wait at least 30
# days (a refresh token's life), then put "<new>"; see the README's threat model.
data "aws_secretsmanager_random_password" "oauth_signing_key" {
  count = local.oauth ? 1 : 0

  password_length     = 64
  exclude_punctuation = true
  include_space       = false
}

resource "aws_ssm_parameter" "oauth_signing_key" {
  # checkov:skip=CKV_AWS_337: a SecureString under the AWS-managed aws/ssm key, readable only by this Lambda's role; a CMK adds a monthly cost
  count = local.oauth ? 1 : 0

  name        = "/${var.name}/secrets/${local.signing_key_name}"
  description = "Signing key of the ${var.name} OAuth facade: \"<current>\" or \"<current> <previous>\" while rotating."
  type        = "SecureString"
  value       = data.aws_secretsmanager_random_password.oauth_signing_key[0].random_password

  lifecycle {
    ignore_changes = [value]
  }
}

data "aws_iam_policy_document" "oauth" {
  count = local.oauth ? 1 : 0

  statement {
    sid       = "ReadOAuthClientSecret"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:${data.aws_partition.current.partition}:ssm:${var.aws_region}:${data.aws_caller_identity.current.account_id}:parameter${local.secret_name}"]
  }

  statement {
    sid       = "ReadOAuthSigningKey"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.oauth_signing_key[0].arn]
  }
}

resource "aws_iam_role_policy" "oauth" {
  count = local.oauth ? 1 : 0

  name   = "${var.name}-oauth"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.oauth[0].json
}
