# Alarms, their SNS topic and a dashboard. The runtime writes each request's metrics as
# CloudWatch Embedded Metric Format records in the Lambda's log group (namespace = var.name):
# Requests, ClientErrors, ServerErrors, Throttled (calls over a quota) and Duration, by Service and by Service/Surface/Operation;
# with storage, per task event TasksCreated, TasksCompleted, TasksFailed, TasksCancelled and
# TaskDuration, by Service and by Service/Operation.
# The alarms watch what AWS measures itself (API 5xx, Lambda errors, throttles, p99 duration), the
# runtime's ServerErrors (an MCP tool error is a 200 to API Gateway, and an upstream outage is an
# OperationError 502/503/504), plus the 429s API Gateway answers when its throttling limits are hit
# (counted from the access log). ClientErrors (4xx) are on the dashboard, never paged.

locals {
  alarm_period_seconds = 300
  lambda_dimensions    = { FunctionName = aws_lambda_function.this.function_name }
  api_dimensions       = { ApiId = aws_apigatewayv2_api.this.id }

  # The alarms, one resource for all of them; with storage, failed tasks page too (tasks.tf).
  alarms = merge(local.base_alarms, { for name, alarm in local.task_alarms : name => alarm if local.storage_enabled })
  task_alarms = {
    "task-failures" = {
      # A failed task pages, as a failed call does (the runtime counts it in TasksFailed; the task record says why).
      description = "Tasks (operations with task=) failed (the runtime's TasksFailed); the task record says why."
      namespace   = var.name, metric = "TasksFailed", dimensions = { Service = var.name }
      statistic   = "Sum", threshold = 1
    }
  }
  base_alarms = {
    "api-5xx" = {
      description = "The HTTP API answered 5xx (server errors: failing operations, timeouts, Lambda errors)."
      namespace   = "AWS/ApiGateway", metric = "5xx", dimensions = local.api_dimensions
      statistic   = "Sum", threshold = 1
    }
    "server-errors" = {
      description = "The runtime answered server errors on any surface: MCP tool failures (HTTP 200) and upstream failures (OperationError 502/503/504) included."
      namespace   = var.name, metric = "ServerErrors", dimensions = { Service = var.name }
      statistic   = "Sum", threshold = 1
    }
    "api-throttled" = {
      description = "The HTTP API answered 429 (its throttling limits were reached; see throttling_rate_limit)."
      namespace   = var.name, metric = "ThrottledRequests", dimensions = {}
      statistic   = "Sum", threshold = 5
    }
    "lambda-errors" = {
      description = "The Lambda failed outside the runtime's own error handling (crash, out of memory, timeout)."
      namespace   = "AWS/Lambda", metric = "Errors", dimensions = local.lambda_dimensions
      statistic   = "Sum", threshold = 1
    }
    "lambda-throttles" = {
      description = "Lambda refused invocations for lack of concurrency."
      namespace   = "AWS/Lambda", metric = "Throttles", dimensions = local.lambda_dimensions
      statistic   = "Sum", threshold = 1
    }
    "lambda-duration-p99" = {
      description = "The slowest 1% of invocations came close to the Lambda timeout (80% of lambda_timeout_seconds)."
      namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.lambda_dimensions
      statistic   = "p99", threshold = var.lambda_timeout_seconds * 800
    }
    "request-duration-p99" = {
      # The runtime's own Duration counts HTTP requests only (a task's run is TaskDuration), so a
      # long timeout for tasks does not hide requests nearing API Gateway's 30 s.
      description = "The slowest 1% of HTTP requests came close to their limit (80% of lambda_timeout_seconds, at most of API Gateway's 30 s)."
      namespace   = var.name, metric = "Duration", dimensions = { Service = var.name }
      statistic   = "p99", threshold = min(var.lambda_timeout_seconds, 30) * 800
    }
  }

  # CloudWatch search expressions: one line per operation and surface, whatever handler.py defines.
  operation_metrics = "{\"${var.name}\",Service,Surface,Operation}"
}

resource "aws_sns_topic" "alarms" {
  # checkov:skip=CKV_AWS_26: CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key aws/sns (its key policy cannot grant cloudwatch.amazonaws.com), and a KMS CMK adds a monthly cost; alarm messages carry metric names and values only
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  # AWS e-mails a confirmation link; the subscription receives nothing until it is clicked.
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_log_metric_filter" "throttled" {
  name           = "${var.name}-throttled"
  log_group_name = aws_cloudwatch_log_group.access.name
  # API Gateway's own 429s reach no integration (its latency is logged as "-"); a quota's 429s
  # come from the function and count in the runtime's Throttled metric instead.
  pattern = "{ $.status = \"429\" && $.integrationLatency = \"-\" }"

  metric_transformation {
    name      = "ThrottledRequests"
    namespace = var.name
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic == "p99" ? null : each.value.statistic
  extended_statistic  = each.value.statistic == "p99" ? "p99" : null
  period              = local.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  depends_on = [aws_cloudwatch_log_metric_filter.throttled]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat(
      # Two metric graphs per row, in the order of local.dashboard_graphs.
      [for i, graph in local.dashboard_graphs : {
        type = "metric", x = (i % 2) * 12, y = floor(i / 2) * 6, width = 12, height = 6
        properties = {
          title   = graph.title
          region  = var.aws_region
          view    = "timeSeries"
          stat    = graph.stat
          period  = local.alarm_period_seconds
          metrics = graph.metrics
        }
      }],
      [
        {
          type = "alarm", x = 12, y = 12, width = 12, height = 6
          properties = {
            title  = "Alarms"
            alarms = concat([for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn], local.storage_alarm_arns)
          }
        },
        {
          type = "log", x = 0, y = 18, width = 24, height = 6
          properties = {
            title  = "Latest failed requests"
            region = var.aws_region
            view   = "table"
            query  = "SOURCE '${aws_cloudwatch_log_group.lambda.name}' | fields @timestamp, status, method, path, mcpMethod, operation, durationMs, requestId | filter type = 'request' and outcome != 'ok' | sort @timestamp desc | limit 50"
          }
        },
      ],
      local.storage_dashboard_widgets,
      local.task_dashboard_widgets
    )
  })
}

locals {
  # The runtime's metrics by operation and surface (a search finds every operation handler.py
  # defines), then what AWS measures for the API and the function.
  dashboard_graphs = [
    { title = "Requests by operation and surface", stat = "Sum", metrics = local.search["Requests"] },
    { title = "Errors by operation and surface (client, server)", stat = "Sum", metrics = concat(local.search["ClientErrors"], local.search["ServerErrors"]) },
    { title = "Duration p99 by operation and surface (ms)", stat = "p99", metrics = local.search["Duration"] },
    { title = "Calls over a quota by operation and surface (429)", stat = "Sum", metrics = local.search["Throttled"] },
    {
      title = "HTTP API", stat = "Sum"
      metrics = concat([for metric in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", metric, "ApiId", aws_apigatewayv2_api.this.id]],
      [[var.name, "ThrottledRequests", { label = "429 (throttled)" }]])
    },
    {
      title = "Lambda", stat = "Sum"
      metrics = concat([for metric in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", metric, "FunctionName", aws_lambda_function.this.function_name]],
      [["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.this.function_name, { stat = "p99", yAxis = "right" }]])
    },
  ]
  search = {
    for metric, stat in { Requests = "Sum", ClientErrors = "Sum", ServerErrors = "Sum", Throttled = "Sum", Duration = "p99" } :
    metric => [[{ id = lower(metric), expression = "SEARCH('${local.operation_metrics} MetricName=\"${metric}\"', '${stat}', ${local.alarm_period_seconds})" }]]
  }
}

locals {
  # The dashboard's tasks row (below the store table), with storage = "dynamodb": tasks by
  # operation and what became of them, and how long they ran.
  task_metrics = "{\"${var.name}\",Service,Operation}"
  task_graphs = [
    {
      title = "Tasks by operation (created, completed, failed, cancelled)", stat = "Sum"
      metrics = [for metric in ["TasksCreated", "TasksCompleted", "TasksFailed", "TasksCancelled"] :
      [{ id = lower(metric), expression = "SEARCH('${local.task_metrics} MetricName=\"${metric}\"', 'Sum', ${local.alarm_period_seconds})" }]]
    },
    {
      title = "Task duration by operation (p50, max; ms)", stat = "p50"
      metrics = [for stat in ["p50", "Maximum"] :
      [{ id = "duration${lower(stat)}", expression = "SEARCH('${local.task_metrics} MetricName=\"TaskDuration\"', '${stat}', ${local.alarm_period_seconds})" }]]
    },
  ]
  task_dashboard_widgets = [for i, graph in local.task_graphs : {
    type = "metric", x = i * 12, y = 30, width = 12, height = 6
    properties = {
      title   = graph.title
      region  = var.aws_region
      view    = "timeSeries"
      stat    = graph.stat
      period  = local.alarm_period_seconds
      metrics = graph.metrics
    }
  } if local.storage_enabled]
}
