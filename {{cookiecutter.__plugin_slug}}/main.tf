# One Lambda behind an HTTP API serves the plugin manifest, openapi.json, the operations and
# /mcp; a private S3 bucket keeps the published copies. `terraform apply` also runs the build,
# so editing handler.py and applying is the whole update.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.51 made source_code_hash a pure change trigger, which the build step relies on.
      version = ">= 5.51, < 7.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Plugin    = var.name
      ManagedBy = "terraform"
    }
  }
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # The files the build puts into the zip; keep equal to SOURCE_GLOBS in plugin_tools/build.py
  # (a template test checks this).
  source_globs = ["*.py", "plugin_runtime/*.py", "manifest.json", "logo.png", "requirements.txt", "widgets/*.html", "widgets/*.js"]
  source_files = sort(distinct(flatten([for pattern in local.source_globs : fileset(path.module, pattern)])))

  # Changes when any zipped file changes, when the platform the requirements are installed for,
  # when another handler module is named or the auth mode changes (the build derives openapi.json
  # from both).
  source_hash = sha256(jsonencode({
    files        = { for f in local.source_files : f => filesha256("${path.module}/${f}") }
    runtime      = var.lambda_runtime
    architecture = var.lambda_architecture
    handler      = var.lambda_handler
    auth         = var.auth
  }))

  # Who may call: read by the runtime (plugin_runtime/model_auth.py). Only hashes of the keys;
  # with OAuth, the provider's public settings (oauth.tf), never its secret.
  auth_environment = merge({
    PLUGIN_AUTH                      = var.auth
    PLUGIN_API_KEYS                  = jsonencode(var.api_keys)
    PLUGIN_OPENAI_VERIFICATION_TOKEN = var.openai_verification_token
  }, local.oauth_environment)
  # The manifest's auth object, as the runtime serves it (surface_manifest.manifest_auth); the
  # two shapes differ, so each is encoded and the chosen one decoded.
  manifest_auth = jsondecode(var.auth == "api_key" ? jsonencode({
    type                = "service_http"
    authorization_type  = "bearer"
    verification_tokens = { openai = var.openai_verification_token }
    }) : var.auth == "oauth" ? jsonencode({
    type                       = "oauth"
    client_url                 = "${local.endpoint}/oauth/authorize"
    scope                      = "${local.scope_prefix}${local.oauth_base}"
    authorization_url          = "${local.endpoint}/oauth/token"
    authorization_content_type = "application/x-www-form-urlencoded"
    verification_tokens        = { openai = var.openai_verification_token }
  }) : jsonencode({ type = "none" }))

  # Where every served document points: the custom domain when there is one, else the HTTP API's
  # own execute-api URL.
  endpoint      = var.domain_name != "" ? "https://${var.domain_name}" : aws_apigatewayv2_api.this.api_endpoint
  manifest_path = "/.well-known/ai-plugin.json"

  # The bucket: a full bucket_name is used as is (deployments made before prefixes keep their
  # bucket); a prefix ending in "-", or none (then derived from name: lowercased, "_" as "-", at
  # most 37 characters) lets Terraform pick a globally unique name once and keep it in the state.
  # Nothing random lives in the project's files, so template updates never touch the bucket.
  derived_bucket_prefix = "${replace(substr(replace(lower(var.name), "_", "-"), 0, 36), "/-+$/", "")}-"
  bucket_is_prefix      = var.bucket_name == null ? true : endswith(var.bucket_name, "-")
  bucket_prefix         = local.bucket_is_prefix ? coalesce(var.bucket_name, local.derived_bucket_prefix) : null

  cors_origins = concat(["https://chatgpt.com", "https://chat.openai.com"], local.widget_cors_origins)
  # The origins ChatGPT gives the widgets, derived from the MCP server's URL (the same as
  # widget_origins in plugin_runtime/model_resource.py; `terraform output widget_origins`). CORS can
  # list them only with a custom domain: the execute-api URL is not known before the API exists.
  sandbox_suffix = ".web-sandbox.oaiusercontent.com"
  widget_origins = {
    chatgpt        = "https://mcp-endpoint-${substr(sha256("${local.endpoint}/mcp"), 0, 32)}${local.sandbox_suffix}"
    chatgpt_legacy = "https://${replace(trimprefix(local.endpoint, "https://"), ".", "-")}${local.sandbox_suffix}"
  }
  widget_cors_origins = var.domain_name == "" ? [] : [
    "https://mcp-endpoint-${substr(sha256("https://${var.domain_name}/mcp"), 0, 32)}${local.sandbox_suffix}",
    "https://${replace(var.domain_name, ".", "-")}${local.sandbox_suffix}",
  ]
  cors_headers = ["content-type", "authorization", "mcp-protocol-version", "mcp-session-id", "mcp-method", "mcp-name"]
  cors_methods = ["GET", "POST", "DELETE", "OPTIONS"]

  # The Lambda's environment: the plain settings, then what the runtime itself reads (the names
  # these maps use are reserved: variable validation keeps settings out of them).
  observability_environment = {
    PLUGIN_METRICS_NAMESPACE = var.name
  }
  # with OAuth the facade's signing key is a secret too (oauth.tf), read through the same path
  secret_names = sort(concat(var.secrets, local.oauth ? [local.signing_key_name] : []))
  secrets_environment = length(local.secret_names) == 0 ? {} : {
    PLUGIN_SECRETS_PREFIX = "/${var.name}/secrets/"
    PLUGIN_SECRETS        = join(",", local.secret_names)
  }
  lambda_environment = merge(var.settings, local.observability_environment, local.secrets_environment,
  local.auth_environment, local.storage_environment, local.publish_environment)
  # Domain verification (/.well-known/openai-apps-challenge): only when a token is set.
  publish_environment = var.openai_apps_challenge == "" ? {} : { PLUGIN_APPS_CHALLENGE = var.openai_apps_challenge }

  # What Terraform writes into a new secret's parameter; keep equal to PLACEHOLDER in
  # plugin_runtime/model_secrets.py (a template test checks), which refuses to return it.
  secret_placeholder = "unset: set the value with aws ssm put-parameter --overwrite (see the README)"
}

# ---------------------------------------------------------------------------------------------
# Build: rerun `python3 -m plugin_tools.build` whenever the sources or the API URL change.
# ---------------------------------------------------------------------------------------------

resource "terraform_data" "build" {
  triggers_replace = [local.source_hash, local.endpoint]
  input            = sha256("${local.source_hash} ${local.endpoint}")

  provisioner "local-exec" {
    command     = "${var.python} -m plugin_tools.build --origin ${local.endpoint} --quiet"
    working_dir = path.module
  }
}

# ---------------------------------------------------------------------------------------------
# Lambda function, its log group and its role.
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "lambda" {
  # checkov:skip=CKV_AWS_158: logs hold request metadata only; the AWS-managed encryption CloudWatch Logs always applies is enough, a KMS CMK adds a monthly cost
  # checkov:skip=CKV_AWS_338: retention is a variable (log_retention_days, 30 days by default) to keep storage costs low; raise it if you must keep logs for a year
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  dynamic "statement" {
    # Exactly the parameters of the secrets list; the aws/ssm key decrypts them for any principal
    # of the account that may read the parameter, so no kms:Decrypt statement is needed.
    for_each = length(var.secrets) > 0 ? [1] : []

    content {
      sid       = "ReadOwnSecrets"
      actions   = ["ssm:GetParameter"]
      resources = [for name in sort(var.secrets) : aws_ssm_parameter.secret[name].arn]
    }
  }

  dynamic "statement" {
    # The store (storage = "dynamodb", storage.tf): the runtime's four calls, on its table only.
    for_each = aws_dynamodb_table.store

    content {
      sid       = "UseOwnStore"
      actions   = local.storage_actions
      resources = [statement.value.arn]
    }
  }

  dynamic "statement" {
    # Tasks (storage = "dynamodb", tasks.tf): the runtime runs a task's work in an asynchronous
    # invocation of this function, by its name; this function only.
    for_each = local.storage_enabled ? [1] : []

    content {
      sid       = "RunOwnTasks"
      actions   = ["lambda:InvokeFunction"]
      resources = [local.function_arn]
    }
  }

  dynamic "statement" {
    # X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level scoping.
    for_each = var.tracing_mode == "Active" ? [1] : []

    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name}-lambda"
  description        = "Runs the ${var.name} plugin Lambda; its policies allow only its own logs, secrets, store and tasks."
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117: the function calls no private resources, so a VPC would only add cost (NAT) and cold-start time
  # checkov:skip=CKV_AWS_116: API Gateway invokes it synchronously; with storage, tasks invoke it asynchronously (tasks.tf), where the worker records every failure, a crash or timeout included, in the task record and retries are off on purpose (a retry would run the operation twice), so a dead-letter queue would only hold events nothing replays
  # checkov:skip=CKV_AWS_272: code signing needs an AWS Signer profile; the package is built and uploaded by this same apply
  # checkov:skip=CKV_AWS_115: reserved concurrency fails on new accounts with a low concurrency quota; the API's throttling limits bound concurrency instead
  # checkov:skip=CKV_AWS_173: the environment holds plain settings, SHA-256 hashes of 256-bit API keys and the OAuth provider's public settings, never a secret (secrets live in SSM SecureString parameters); Lambda encrypts it at rest with an AWS managed key, a KMS CMK adds a monthly cost
  function_name    = var.name
  description      = "Serves the ${var.name} plugin: manifest, OpenAPI, operations and MCP."
  role             = aws_iam_role.lambda.arn
  filename         = "${path.module}/${var.path_to_lambda}"
  source_code_hash = local.source_hash
  handler          = var.lambda_handler
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_seconds

  tracing_config {
    mode = var.tracing_mode
  }

  environment {
    variables = local.lambda_environment
  }

  # JSON lines in CloudWatch, filtered by level: the runtime writes one request line and one
  # metrics record (EMF) per request, and operations add their own through ctx.log.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.lambda.name
    application_log_level = var.log_level
    system_log_level      = var.system_log_level
  }

  depends_on = [
    terraform_data.build,
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, method and path of this API only. Built from the partition (aws, aws-us-gov,
  # aws-cn) and the caller's account rather than taken from execution_arn, which comes out
  # without an account ID when the provider is told not to look it up.
  source_arn = "arn:${data.aws_partition.current.partition}:execute-api:${var.aws_region}:${data.aws_caller_identity.current.account_id}:${aws_apigatewayv2_api.this.id}/*/*"
}

# ---------------------------------------------------------------------------------------------
# HTTP API: every path goes to the Lambda through the $default route and $default stage
# (a named stage would prefix the paths and break /.well-known/ai-plugin.json).
# ---------------------------------------------------------------------------------------------

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = "Public API of the ${var.name} plugin."
  protocol_type = "HTTP"

  # With a custom domain the execute-api URL can be turned off, so the API has one address only.
  disable_execute_api_endpoint = var.disable_execute_api_endpoint

  # API Gateway answers CORS preflights itself and overrides CORS headers from the Lambda.
  cors_configuration {
    allow_origins = local.cors_origins
    allow_headers = local.cors_headers
    allow_methods = local.cors_methods
    max_age       = 3600
  }

  lifecycle {
    precondition {
      condition     = !var.disable_execute_api_endpoint || var.domain_name != ""
      error_message = "disable_execute_api_endpoint = true needs a domain_name: without one the API would have no address left."
    }

    precondition {
      condition     = var.hosted_zone_id == "" || var.domain_name != ""
      error_message = "hosted_zone_id is set without a domain_name: set domain_name to a name in that zone, or remove hosted_zone_id."
    }
  }
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  description            = "The ${var.name} Lambda."
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "default" {
  # checkov:skip=CKV_AWS_309: the manifest, openapi.json and logo must be public (clients read them before they have credentials); with auth = api_key the Lambda checks the key on every other route
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_158: access logs hold request metadata only; the AWS-managed encryption CloudWatch Logs always applies is enough, a KMS CMK adds a monthly cost
  # checkov:skip=CKV_AWS_338: retention is a variable (log_retention_days, 30 days by default) to keep storage costs low; raise it if you must keep logs for a year
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  # Both limits must be set: one left out defaults to 0 and every request gets a 429.
  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      path               = "$context.path"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      userAgent          = "$context.identity.userAgent"
    })
  }

  depends_on = [aws_apigatewayv2_route.default]
}

# ---------------------------------------------------------------------------------------------
# Private bucket with the published manifest.json, openapi.json and logo.png.
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: the bucket holds three generated public documents; server access logs would need a second bucket for no audit value
  # checkov:skip=CKV_AWS_144: the published files are rebuilt from the project by any apply; cross-region replication would double the cost for nothing
  # checkov:skip=CKV_AWS_145: SSE-S3 (AES-256) encrypts the objects; a KMS CMK adds a monthly cost for files that are public documents
  # checkov:skip=CKV2_AWS_62: nothing consumes events for these generated files
  bucket        = local.bucket_is_prefix ? null : var.bucket_name
  bucket_prefix = local.bucket_prefix

  # Only Terraform-generated copies live here, so destroy may empty the bucket (old versions too).
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    # Every object; an explicit empty prefix is what S3 returns, so the provider sees no drift.
    filter {
      prefix = ""
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_object" "manifest" {
  bucket       = aws_s3_bucket.this.id
  key          = "manifest.json"
  content_type = "application/json"
  content = jsonencode(merge(jsondecode(file("${path.module}/${var.path_to_manifest}")), {
    auth     = local.manifest_auth
    api      = { type = "openapi", url = "${local.endpoint}/openapi.json" }
    logo_url = "${local.endpoint}/logo.png"
  }))

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this, aws_s3_bucket_ownership_controls.this]
}

resource "aws_s3_object" "openapi" {
  bucket       = aws_s3_bucket.this.id
  key          = "openapi.json"
  content_type = "application/json"
  source       = "${path.module}/${var.path_to_openapi}"
  # The build rewrites openapi.json with the API's URL: upload again whenever it runs.
  source_hash = terraform_data.build.output

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this, aws_s3_bucket_ownership_controls.this]
}

resource "aws_s3_object" "logo" {
  bucket       = aws_s3_bucket.this.id
  key          = "logo.png"
  content_type = "image/png"
  source       = "${path.module}/${var.path_to_logo}"
  source_hash  = filesha256("${path.module}/${var.path_to_logo}")

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.this, aws_s3_bucket_ownership_controls.this]
}
