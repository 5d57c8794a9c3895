output "api_endpoint" {
  description = "Base URL of the deployed API; every surface lives under it."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "manifest_url" {
  description = "Plugin manifest URL (/.well-known/ai-plugin.json) for legacy ChatGPT plugin consumers and discovery tools."
  value       = "${aws_apigatewayv2_api.this.api_endpoint}${local.manifest_path}"
}

output "openapi_url" {
  description = "OpenAPI document URL: paste it into a custom GPT (Configure > Actions > Import from URL)."
  value       = "${aws_apigatewayv2_api.this.api_endpoint}/openapi.json"
}

output "mcp_url" {
  description = "MCP server URL (Streamable HTTP, no authentication): add it as a ChatGPT connector, a Claude custom connector or any MCP client."
  value       = "${aws_apigatewayv2_api.this.api_endpoint}/mcp"
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
