# Settings of this deployment. The values baked for this project are in terraform.tfvars;
# the rest have defaults chosen for a small public plugin (low cost, bounded abuse).

variable "name" {
  description = "Prefix of every AWS resource name (Lambda function, IAM role, HTTP API, log groups). Two plugins with different names deploy side by side."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "The name must be 1-40 letters, digits, '-' or '_', starting with a letter or digit (it prefixes Lambda and IAM names)."
  }
}

variable "aws_region" {
  description = "AWS region to deploy to, e.g. us-east-1, eu-west-1, us-gov-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "The aws_region must be a region code such as us-east-1 or eu-west-1."
  }
}

variable "bucket_name" {
  description = "The private S3 bucket that holds the published manifest.json, openapi.json and logo.png. A prefix ending in '-' (at most 37 characters) lets Terraform add a unique suffix on the first apply and keep the name in its state; a full name (3-63 characters) uses exactly that bucket; null derives the prefix from name."
  type        = string
  default     = null

  validation {
    # A full S3 bucket name, or a prefix of one: S3 names never end in '-', so the two cannot be confused.
    condition = var.bucket_name == null ? true : (
      can(regex("^[a-z0-9](?:[a-z0-9.-]{1,61}[a-z0-9]|[a-z0-9.-]{0,35}-)$", var.bucket_name)) &&
      !strcontains(var.bucket_name, "..") &&
      !can(regex("^(?:xn--|sthree-|amzn-s3-demo-)|(?:-s3alias|--ol-s3|--x-s3)$", var.bucket_name))
    )
    error_message = "The bucket_name must be a bucket name (3-63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit) or a prefix of at most 37 such characters ending in '-'."
  }
}

variable "path_to_manifest" {
  description = "Path of the plugin manifest (relative to this folder); the published copy gets the deployed API's absolute URLs."
  type        = string
  default     = "manifest.json"
}

variable "path_to_openapi" {
  description = "Path of the OpenAPI document written by the build (relative to this folder)."
  type        = string
  default     = "openapi.json"
}

variable "path_to_logo" {
  description = "Path of the plugin logo, a PNG (relative to this folder)."
  type        = string
  default     = "logo.png"
}

variable "path_to_lambda" {
  description = "Path of the Lambda deployment package written by the build (relative to this folder)."
  type        = string
  default     = "lambda.zip"
}

variable "lambda_runtime" {
  description = "Lambda Python runtime."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.12", "python3.13", "python3.14"], var.lambda_runtime)
    error_message = "The lambda_runtime must be python3.12, python3.13 or python3.14."
  }
}

variable "lambda_architecture" {
  description = "Lambda instruction set architecture: arm64 (cheaper per ms) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "The lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_handler" {
  description = "Lambda entry point as module.attribute."
  type        = string
  default     = "handler.lambda_handler"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.lambda_handler))
    error_message = "The lambda_handler must look like module.attribute, e.g. handler.lambda_handler."
  }
}

variable "lambda_memory_mb" {
  description = "Lambda memory in MB (CPU scales with it). 256 MB keeps cold starts short at a low price."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "The lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Lambda timeout in seconds, 1 to 900. Synchronous calls (REST, MCP, the manifest) still end at 30 s, where API Gateway's HTTP API stops waiting; a value of 30 or more only lets tasks (operations with task=, which need storage = \"dynamodb\") run longer, up to 900 s."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "The lambda_timeout_seconds must be a whole number from 1 to 900 (Lambda's maximum; synchronous calls end at 30 s at API Gateway whatever the value)."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the Lambda logs and the API access logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the API accepts before answering 429. Set together with throttling_burst_limit: a zero in either rejects every request."
  type        = number
  default     = 20

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "The throttling_rate_limit must be greater than 0 (0 would answer every request with 429)."
  }
}

variable "throttling_burst_limit" {
  description = "Requests the API accepts in a burst before answering 429. Set together with throttling_rate_limit: a zero in either rejects every request."
  type        = number
  default     = 40

  validation {
    condition     = var.throttling_burst_limit >= 1 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "The throttling_burst_limit must be a whole number of at least 1 (0 would answer every request with 429)."
  }
}

variable "tracing_mode" {
  description = "Lambda X-Ray tracing: PassThrough (no traces recorded, no cost) or Active (traces every request; X-Ray charges beyond its free tier)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "The tracing_mode must be PassThrough or Active."
  }
}

variable "auth" {
  description = "Who may call the operations and /mcp: none (anyone), api_key (a key from api_keys, sent as Authorization: Bearer <key>) or oauth. The manifest, openapi.json and logo stay public."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "api_key", "oauth"], var.auth)
    error_message = "The auth must be none, api_key or oauth."
  }
}

variable "api_keys" {
  description = "API keys that may call the plugin when auth = \"api_key\": name => SHA-256 (hex) of the key. Written by `python3 -m plugin_tools.keys new NAME`; the keys themselves are never stored."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, digest in var.api_keys : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", name)) && can(regex("^[0-9a-f]{64}$", digest))])
    error_message = "Each api_keys entry must map a name (1-64 letters, digits, '.', '_' or '-') to the SHA-256 hex digest of a key (64 lowercase hex characters); use python3 -m plugin_tools.keys."
  }

  validation {
    condition     = length(var.api_keys) <= 40
    error_message = "The api_keys map holds at most 40 keys (the hashes travel in the Lambda's 4 KB environment); revoke unused ones."
  }
}

variable "openai_verification_token" {
  description = "The verification token OpenAI shows for a plugin with service_http auth (manifest auth.verification_tokens.openai). Public by design; empty until you have one."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{0,256}$", var.openai_verification_token))
    error_message = "The openai_verification_token must be up to 256 letters, digits, '_' or '-'."
  }
}

variable "python" {
  description = "Python interpreter that runs the build step (python3 -m plugin_tools.build) during terraform apply."
  type        = string
  default     = "python3"
}

variable "oauth_issuer" {
  description = "With auth = \"oauth\": the issuer URL of an existing OIDC provider (Auth0, Okta, Entra ID, Keycloak, Google...) to sign users in with. Empty (the default) creates a Cognito user pool instead."
  type        = string
  default     = ""

  validation {
    condition     = var.oauth_issuer == "" || can(regex("^https://[^\\s/?#]+(/[^\\s?#]*)?$", var.oauth_issuer))
    error_message = "The oauth_issuer must be empty or the provider's https issuer URL, e.g. https://example.eu.auth0.com."
  }
}

variable "oauth_client_id" {
  description = "With oauth_issuer: the id of the confidential client registered at that provider for this plugin (its callback URL is the oauth_callback_url output). Its secret goes into SSM Parameter Store, never here."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9._:@/+=-]{0,256}$", var.oauth_client_id))
    error_message = "The oauth_client_id must be up to 256 characters without spaces."
  }
}

variable "oauth_scope_prefix" {
  description = "With oauth_issuer: what the provider puts before this plugin's scope names (e.g. api://<app id>/ on Entra ID); usually empty."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9._:/-]{0,200}$", var.oauth_scope_prefix))
    error_message = "The oauth_scope_prefix must be up to 200 letters, digits, '.', '_', ':', '/' or '-'."
  }
}

variable "oauth_audience" {
  description = "With oauth_issuer: the audience (aud) the provider puts in access tokens for this API (Auth0: the API identifier; Entra ID: the app id URI or client id; Okta: the authorization server's audience; Keycloak: what its audience mapper adds). Empty: a token with an aud must name <endpoint>/mcp, one without is bound by the client id."
  type        = string
  default     = ""

  validation {
    condition     = length(var.oauth_audience) <= 500 && !can(regex("\\s", var.oauth_audience))
    error_message = "The oauth_audience must be up to 500 characters without spaces."
  }
}

variable "oauth_resource_parameter" {
  description = "With oauth_issuer: how the provider is told which API a token is for. resource (RFC 8707 resource=<endpoint>/mcp on authorize and token requests: oidc-provider, Okta, Keycloak 26+), audience (Auth0: audience=<oauth_audience> on authorize) or none (Entra ID refuses resource with v2 scopes, AADSTS9010010; Google). audience without oauth_audience is refused by the Lambda."
  type        = string
  default     = "resource"

  validation {
    condition     = contains(["resource", "audience", "none"], var.oauth_resource_parameter)
    error_message = "The oauth_resource_parameter must be resource, audience or none."
  }
}

variable "oauth_admin_create_only" {
  description = "With the Cognito user pool: only administrators create users (true, the default: nobody can sign up by themselves) or anyone may sign up on the hosted login page (false)."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "Lowest level of the application's log lines Lambda keeps (logging_config.application_log_level). INFO keeps one line per request; WARN keeps only failed requests and warnings (metrics records are always kept)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "The log_level must be TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  }
}

variable "system_log_level" {
  description = "Lowest level of Lambda's own log lines kept (logging_config.system_log_level): INFO keeps the start, end and report (duration, memory, cold start) of each invocation; WARN drops them."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "The system_log_level must be DEBUG, INFO or WARN."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarms' SNS topic (AWS sends a confirmation link first). Empty: no subscription; the alarms still show in CloudWatch."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "The alarm_email must be empty or an e-mail address such as ops@example.com."
  }
}

variable "settings" {
  description = "Plain settings (not secrets) the operations read with ctx.setting(\"NAME\"): they become the Lambda's environment. Names: letters, digits and _, starting with a letter; AWS_, LAMBDA_ and PLUGIN_ are reserved."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name in keys(var.settings) :
      can(regex("^[A-Za-z][A-Za-z0-9_]{0,99}$", name)) && !can(regex("^(AWS_|LAMBDA_|PLUGIN_)", upper(name)))
    ])
    error_message = "The settings must be named with letters, digits and _, starting with a letter (e.g. MAX_ITEMS), and not start with AWS_, LAMBDA_ or PLUGIN_ (reserved)."
  }

  validation {
    condition     = length(jsonencode(var.settings)) <= 3000
    error_message = "The settings must take at most 3,000 characters (Lambda's whole environment is limited to 4 KB): keep large values in S3 or SSM."
  }
}

variable "secrets" {
  description = "Names of the secrets the operations read with ctx.secret(\"NAME\"). Each becomes an SSM SecureString parameter /<name>/secrets/<NAME> whose value you set with aws ssm put-parameter (never here)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.secrets : can(regex("^[A-Za-z][A-Za-z0-9_]{0,99}$", name))]) && length(distinct(var.secrets)) == length(var.secrets)
    error_message = "The secrets must be distinct names of letters, digits and _, starting with a letter (e.g. API_TOKEN); list names only, never values."
  }

  validation {
    condition     = !contains(var.secrets, "OAUTH_SIGNING_KEY")
    error_message = "OAUTH_SIGNING_KEY is the OAuth facade's own signing key (oauth.tf makes it); choose another secret name."
  }
}

variable "domain_name" {
  description = "Optional custom domain for the API, e.g. api.example.com (empty: the execute-api URL only). Terraform creates its ACM certificate and the API Gateway domain name."
  type        = string
  default     = ""

  validation {
    condition     = var.domain_name == "" || (length(var.domain_name) <= 253 && can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.domain_name)))
    error_message = "The domain_name must be empty or a lowercase DNS name such as api.example.com (letters, digits and hyphens between dots, no scheme, no trailing dot)."
  }
}

variable "hosted_zone_id" {
  description = "Optional ID of the Route 53 hosted zone that holds domain_name. Given: Terraform creates the certificate's validation records and the alias record. Empty: create them yourself (see the outputs)."
  type        = string
  default     = ""

  validation {
    condition     = var.hosted_zone_id == "" || can(regex("^[A-Z0-9]{1,32}$", var.hosted_zone_id))
    error_message = "The hosted_zone_id must be empty or a Route 53 zone ID such as Z0123456789ABCDEFGHIJ (without /hostedzone/)."
  }
}

variable "disable_execute_api_endpoint" {
  description = "Turn off the default execute-api URL so the API answers on domain_name only. Allowed only with a domain_name."
  type        = bool
  default     = false
}

variable "storage" {
  description = "Per-user state for ctx.store and ctx.app_store: \"none\" (no table) or \"dynamodb\" (one on-demand table, its name passed to the Lambda; IAM for that table only). Switch at any time and terraform apply."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "dynamodb"], var.storage)
    error_message = "The storage must be \"none\" or \"dynamodb\"."
  }
}

variable "default_quota" {
  description = "A quota on every operation that names none in @plugin.operation(quota=...): calls per verified caller and window, e.g. \"1000/day\" (windows: minute, hour, day); \"\" for none. Needs storage = \"dynamodb\" (calls are counted in the store); anonymous callers (auth = \"none\") are limited by API Gateway's throttling alone."
  type        = string
  default     = ""

  validation {
    condition     = var.default_quota == "" || can(regex("^[1-9][0-9]{0,8}/(minute|hour|day)$", var.default_quota))
    error_message = "The default_quota must be \"\" or CALLS/WINDOW, e.g. \"1000/day\" (windows: minute, hour, day)."
  }
}

variable "storage_deletion_protection" {
  description = "Refuse to delete the store table (storage = \"dynamodb\") while true, so users' data survives a terraform destroy by mistake. Set it to false and apply before destroying on purpose (see the README)."
  type        = bool
  default     = true

  validation {
    condition     = var.storage_deletion_protection != null
    error_message = "The storage_deletion_protection must be true or false."
  }
}

variable "openai_apps_challenge" {
  description = "The domain-verification token OpenAI shows when you submit the app; served as text at /.well-known/openai-apps-challenge. Empty (the default): that path answers 404."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_.~+/=-]{0,512}$", var.openai_apps_challenge))
    error_message = "The openai_apps_challenge must be the bare token OpenAI shows: up to 512 letters, digits or _ . ~ + / = - (no spaces, no quotes, no URL)."
  }
}
