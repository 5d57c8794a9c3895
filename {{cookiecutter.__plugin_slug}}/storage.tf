# Per-user state (storage = "dynamodb"): one table for ctx.store and ctx.app_store. Items are
# keyed by pk (the partition the runtime derives from the verified caller, or "app") and sk (the
# key); ex is the TTL attribute (DynamoDB deletes expired items within days, and the runtime never
# returns them before that). The Lambda may use exactly the four actions the runtime calls, on
# this table only. Deletion protection is on by default: a project that holds users' data is not
# destroyed by accident (the README says how to destroy it on purpose).

locals {
  storage_enabled = var.storage == "dynamodb"
  storage_environment = merge(local.storage_enabled ? {
    PLUGIN_STORE_TABLE = aws_dynamodb_table.store[0].name
  } : {}, var.default_quota == "" ? {} : { PLUGIN_DEFAULT_QUOTA = var.default_quota })
  # The runtime's store calls: GetItem, UpdateItem (every put, and every call an operation's quota
  # counts), DeleteItem and Query (list).
  storage_actions    = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
  storage_operations = ["GetItem", "UpdateItem", "DeleteItem", "Query"]
}

# Quotas count calls in the store: without it every call to an operation with a quota fails (a
# StoreError naming the fix, in the logs), so plan and apply warn.
check "quotas_need_storage" {
  assert {
    condition     = var.default_quota == "" || local.storage_enabled
    error_message = "default_quota counts calls in the store: set storage = \"dynamodb\" too."
  }
}

resource "aws_dynamodb_table" "store" {
  # checkov:skip=CKV_AWS_119: encrypted at rest with the AWS managed key aws/dynamodb (no monthly cost, no key policy to keep); set kms_key_arn for a customer managed key if other principals of the account must not read the data
  count = local.storage_enabled ? 1 : 0

  name                        = "${var.name}-store"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.storage_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "ex"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# Throttled requests and DynamoDB's own errors on the table, into the alarm topic.
resource "aws_cloudwatch_metric_alarm" "store_throttles" {
  count = local.storage_enabled ? 1 : 0

  alarm_name          = "${var.name}-store-throttles"
  alarm_description   = "DynamoDB throttled requests to the store table (the runtime retried them within the Lambda's time)."
  namespace           = "AWS/DynamoDB"
  metric_name         = "ThrottledRequests"
  dimensions          = { TableName = aws_dynamodb_table.store[0].name }
  statistic           = "Sum"
  period              = local.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "store_system_errors" {
  count = local.storage_enabled ? 1 : 0

  alarm_name          = "${var.name}-store-system-errors"
  alarm_description   = "DynamoDB answered the store's requests with its own errors (HTTP 500)."
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "errors"
    expression  = join(" + ", [for i, _ in local.storage_operations : "FILL(e${i}, 0)"])
    label       = "SystemErrors"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.storage_operations

    content {
      id = "e${metric_query.key}"

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "SystemErrors"
        dimensions  = { TableName = aws_dynamodb_table.store[0].name, Operation = metric_query.value }
        stat        = "Sum"
        period      = local.alarm_period_seconds
      }
    }
  }
}

locals {
  # The dashboard's storage row (below the failed-requests table), with storage = "dynamodb".
  storage_alarm_arns = concat(aws_cloudwatch_metric_alarm.store_throttles[*].arn,
  aws_cloudwatch_metric_alarm.store_system_errors[*].arn)
  storage_dashboard_widgets = [for table in aws_dynamodb_table.store : {
    type = "metric", x = 0, y = 24, width = 24, height = 6
    properties = {
      title  = "Store table"
      region = var.aws_region
      view   = "timeSeries"
      stat   = "Sum"
      period = local.alarm_period_seconds
      metrics = concat(
        [for metric in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ThrottledRequests"] :
        ["AWS/DynamoDB", metric, "TableName", table.name]],
        [for operation in local.storage_operations :
        ["AWS/DynamoDB", "SystemErrors", "TableName", table.name, "Operation", operation, { yAxis = "right" }]]
      )
    }
  }]
}
