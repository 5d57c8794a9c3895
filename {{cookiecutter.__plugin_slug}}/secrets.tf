# Secrets: one SSM Parameter Store SecureString per name in var.secrets, under /<name>/secrets/.
# Terraform creates each parameter with a placeholder (never a secret) and then leaves its value
# alone; set the real value out of band, once per secret:
#
#   aws ssm put-parameter --name /<name>/secrets/<NAME> --type SecureString --overwrite --value '...'
#
# The Lambda may read exactly these parameters (see data.aws_iam_policy_document.lambda) and
# fetches a value on first use (ctx.secret("NAME")), caching it for a few minutes.
#
# Why `value` + ignore_changes: `value_wo` (write-only, never stored) needs Terraform 1.11 and a
# newer provider than this project requires, and `insecure_value` is refused for SecureString.
# The provider reads the current value back into the state on refresh, so after you put a real
# value the state holds it (marked sensitive): keep the state private (the README's S3 backend
# with encryption), or rotate the secret if a state file leaks.

resource "aws_ssm_parameter" "secret" {
  # checkov:skip=CKV_AWS_337: encrypted with the AWS managed key aws/ssm (no monthly cost, no key policy to keep); use a KMS CMK if other principals of the account must not read these values
  for_each = toset(var.secrets)

  name        = "/${var.name}/secrets/${each.key}"
  description = "Secret ${each.key} of the ${var.name} plugin; its value is set with aws ssm put-parameter --overwrite, never in git or tfvars."
  type        = "SecureString"
  value       = local.secret_placeholder

  lifecycle {
    ignore_changes = [value]
  }
}
