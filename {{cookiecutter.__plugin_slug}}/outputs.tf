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
  description = "Private S3 bucket holding the published manifest.json, openapi.json and logo.png."
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
