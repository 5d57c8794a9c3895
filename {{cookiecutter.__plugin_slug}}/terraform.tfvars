# Settings for this deployment. Every AWS name is derived from `name`. bucket_name ends in "-":
# it is a prefix, and the first apply adds a unique suffix and keeps the full name in the state
# (`terraform output bucket_name`); put a full bucket name there to use that bucket instead.
name                = {{ cookiecutter.__plugin_slug | tojson }}
aws_region          = {{ cookiecutter.aws_region | tojson }}
bucket_name         = {{ cookiecutter.__bucket_prefix | tojson }}
path_to_manifest    = "manifest.json"
path_to_openapi     = "openapi.json"
path_to_logo        = "logo.png"
path_to_lambda      = "lambda.zip"
lambda_runtime      = {{ cookiecutter.lambda_runtime | tojson }}
lambda_architecture = {{ cookiecutter.lambda_architecture | tojson }}
lambda_handler      = "handler.lambda_handler"
# Who may call the operations and /mcp: "none" (anyone), "api_key" or "oauth".
auth = {{ cookiecutter.auth | tojson }}
# API keys (auth = "api_key"): name = SHA-256 of the key. Add one with `make api-key NAME=...`.
api_keys = {}
# Per-user state for ctx.store and ctx.app_store: "none" or "dynamodb" (one table; see the README).
storage = {{ cookiecutter.storage | tojson }}

# Optional (see variables.tf and the README). Uncomment and edit, then terraform apply.
# log_level   = "INFO"                   # WARN keeps only failed requests and warnings
# alarm_email = "you@example.com"        # alarms by e-mail (confirm the link AWS sends)
# settings    = { GREETING = "Hola" }    # plain values: ctx.setting("GREETING")
# secrets     = ["API_TOKEN"]            # names only: ctx.secret("API_TOKEN"); values go to SSM
# domain_name    = "api.example.com"     # a custom domain for every URL
# hosted_zone_id = "Z0123456789ABCDEFGHIJ"
# storage_deletion_protection = false    # only to destroy a project whose table holds data
# openai_apps_challenge = "..."          # the token OpenAI shows for domain verification
