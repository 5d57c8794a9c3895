# An optional custom domain (var.domain_name), e.g. api.example.com: an ACM certificate, the API
# Gateway domain name mapped to the $default stage, and, when the Route 53 zone is given
# (var.hosted_zone_id), the certificate's validation records and the alias record. Without a
# zone, create the records yourself: `terraform apply -target=aws_acm_certificate.this`, then the
# CNAME from `terraform output certificate_validation_records` at your DNS provider, then
# `terraform apply` (it waits until ACM has issued the certificate), then a CNAME from domain_name
# to `terraform output custom_domain_target`.
#
# Every served document (manifest, openapi.json, MCP) uses the domain the request came to, and
# the build's --origin (main.tf, local.endpoint) is the custom domain's URL once it is set.

locals {
  custom_domain = var.domain_name != ""
  zone_given    = local.custom_domain && var.hosted_zone_id != ""
}

resource "aws_acm_certificate" "this" {
  count = local.custom_domain ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  # A changed domain gets its new certificate before the old one (still in use) is deleted.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = {
    for option in(local.zone_given ? flatten(aws_acm_certificate.this[*].domain_validation_options) : []) :
    option.domain_name => option
  }

  zone_id         = var.hosted_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  count = local.custom_domain ? 1 : 0

  certificate_arn = aws_acm_certificate.this[0].arn
  # With a zone: the records above. Without: waits for the records you create.
  validation_record_fqdns = local.zone_given ? [for record in aws_route53_record.certificate_validation : record.fqdn] : null
}

resource "aws_apigatewayv2_domain_name" "this" {
  count = local.custom_domain ? 1 : 0

  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = aws_acm_certificate_validation.this[0].certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = local.custom_domain ? 1 : 0

  api_id      = aws_apigatewayv2_api.this.id
  domain_name = aws_apigatewayv2_domain_name.this[0].id
  stage       = aws_apigatewayv2_stage.default.id
}

resource "aws_route53_record" "alias" {
  count = local.zone_given ? 1 : 0

  zone_id = var.hosted_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
