output "api_endpoint" {
  description = "The HTTP API's own execute-api URL (turned off when disable_execute_api_endpoint is set). base_url is the one to share."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "base_url" {
  description = "Base URL every surface is served from: https://<domain_name> with a custom domain, else the execute-api URL."
  value       = local.endpoint
}

output "manifest_url" {
  description = "Plugin manifest URL (/.well-known/ai-plugin.json) for legacy ChatGPT plugin consumers and discovery tools."
  value       = "${local.endpoint}${local.manifest_path}"
}

output "openapi_url" {
  description = "OpenAPI document URL: paste it into a custom GPT (Configure > Actions > Import from URL)."
  value       = "${local.endpoint}/openapi.json"
}

output "mcp_url" {
  description = "MCP server URL (Streamable HTTP, no authentication): add it as a ChatGPT connector, a Claude custom connector or any MCP client."
  value       = "${local.endpoint}/mcp"
}

output "function_name" {
  description = "Name of the Lambda function that serves the plugin."
  value       = aws_lambda_function.this.function_name
}

output "bucket_name" {
  description = "Private S3 bucket holding the published manifest.json, openapi.json and logo.png (its full name, also when Terraform picked it from a prefix)."
  value       = aws_s3_bucket.this.id
}

output "log_group_name" {
  description = "CloudWatch log group of the Lambda function (aws logs tail <name> --follow)."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "access_log_group_name" {
  description = "CloudWatch log group of the HTTP API's JSON access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "oauth_authorization_url" {
  description = "With auth = \"oauth\": the authorization URL to paste into a GPT Action's OAuth settings (on the API's own host, as GPT Actions require)."
  value       = local.oauth ? "${local.endpoint}/oauth/authorize" : null
}

output "oauth_token_url" {
  description = "With auth = \"oauth\": the token URL for a GPT Action's OAuth settings."
  value       = local.oauth ? "${local.endpoint}/oauth/token" : null
}

output "oauth_scope" {
  description = "With auth = \"oauth\": the scope to ask for (a GPT Action's Scope field)."
  value       = local.oauth ? "openid ${local.scope_prefix}${local.oauth_base}" : null
}

output "gpt_actions_client_id" {
  description = "With the Cognito user pool: the client id for a GPT Action's OAuth settings (terraform output -raw gpt_actions_client_secret gives its secret)."
  value       = local.cognito ? aws_cognito_user_pool_client.this[0].id : (local.oauth ? var.oauth_client_id : null)
}

output "gpt_actions_client_secret" {
  description = "With the Cognito user pool: the client secret for a GPT Action's OAuth settings. Sensitive: shown only with terraform output -raw gpt_actions_client_secret."
  value       = local.cognito ? aws_cognito_user_pool_client.this[0].client_secret : null
  sensitive   = true
}

output "oauth_callback_url" {
  description = "With auth = \"oauth\": the callback URL registered at the provider (register it at your own provider when oauth_issuer is set)."
  value       = local.oauth ? local.callback_url : null
}

output "cognito_user_pool_id" {
  description = "With the Cognito user pool: its id (aws cognito-idp admin-create-user --user-pool-id <id> --username you@example.com)."
  value       = local.cognito ? aws_cognito_user_pool.this[0].id : null
}

output "cognito_login_domain" {
  description = "With the Cognito user pool: the hosted login domain users sign in on."
  value       = local.cognito ? "https://${local.cognito_host}" : null
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (subscribe more endpoints to it, e.g. a chat webhook)."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard with the per-operation metrics, the API, the Lambda and the alarms."
  value       = "https://console.aws.amazon.com/cloudwatch/home?region=${var.aws_region}#dashboards:name=${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "secret_parameters" {
  description = "SSM parameter of each secret; set a value with: aws ssm put-parameter --name <parameter> --type SecureString --overwrite --value '...'"
  value       = { for name, parameter in aws_ssm_parameter.secret : name => parameter.name }
}

output "certificate_validation_records" {
  description = "With a domain_name but no hosted_zone_id: the DNS records that prove you own the domain; create them at your DNS provider."
  value = local.custom_domain && !local.zone_given ? [
    for option in flatten(aws_acm_certificate.this[*].domain_validation_options) : {
      name  = option.resource_record_name
      type  = option.resource_record_type
      value = option.resource_record_value
    }
  ] : []
}

output "custom_domain_target" {
  description = "With a domain_name: the API Gateway host the domain must point to (Terraform creates the alias record when hosted_zone_id is set; otherwise create a CNAME to it)."
  value       = local.custom_domain ? aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name : null
}

output "store_table" {
  description = "With storage = \"dynamodb\": the DynamoDB table of ctx.store and ctx.app_store (plugin_tools.data --table exports or deletes one caller's data)."
  value       = local.storage_enabled ? aws_dynamodb_table.store[0].name : null
}

output "widget_origins" {
  description = "The origin ChatGPT gives the widgets (chatgpt: derived from the MCP server URL, from 2026-12-15; chatgpt_legacy: from _meta.ui.domain). Allow-list these wherever a widget is called from; with a domain_name the API's CORS already does."
  value       = local.widget_origins
}

output "registry_remote_url" {
  description = "The MCP server URL written into server.json's remotes for the MCP Registry (see the README's Publishing section)."
  value       = "${local.endpoint}/mcp"
}
