# MCP Tasks (storage = "dynamodb"): an operation marked @plugin.operation(task="optional" or
# "required") may answer tools/call with a task handle. The runtime keeps the task in the store
# and runs its work in an asynchronous invocation of this same function (Lambda Invoke with
# X-Amz-Invocation-Type: Event, plugin_runtime/model_aws.py), so the function may invoke itself,
# and nothing else. Lambda never retries that invocation: a retry would run the operation twice,
# and the worker records every outcome in the task record itself (a worker that crashed or timed
# out is found from that record), so no dead-letter queue is needed. An event Lambda held back for
# more than a minute (throttling, say) is dropped: the runtime marks a task whose worker never
# started as failed. lambda_timeout_seconds bounds a task's run (up to 900 s); synchronous calls
# still end at 30 s, where API Gateway stops waiting.

locals {
  # This function's ARN, built like the source_arn of aws_lambda_permission.api (main.tf): the
  # role's policy cannot name aws_lambda_function.this.arn, as the function depends on that policy.
  function_arn = "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${data.aws_caller_identity.current.account_id}:function:${var.name}"
}

# A timeout of 30 s or more helps tasks only (API Gateway ends every synchronous call at 30 s),
# and tasks need the store: without it plan and apply warn.
check "long_timeout_needs_storage" {
  assert {
    condition     = var.lambda_timeout_seconds < 30 || local.storage_enabled
    error_message = "lambda_timeout_seconds of 30 or more only lets tasks run longer (API Gateway ends synchronous calls at 30 s), and tasks need storage = \"dynamodb\": set storage too, or a timeout under 30."
  }
}

resource "aws_lambda_function_event_invoke_config" "tasks" {
  count = local.storage_enabled ? 1 : 0

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}
