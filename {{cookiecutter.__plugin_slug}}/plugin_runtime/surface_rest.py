"""The REST surface: each operation as an HTTP route (POST /<name> by default).

Path and query parameters arrive as text and are converted by their schema; the body is a JSON
object validated against the schema of the body parameters. A refused input is a 400 with a
JSON error the caller can act on.
"""

from __future__ import annotations

from .model_auth import current as auth_config
from .model_auth import scope_challenge
from .model_context import Context
from .model_operation import ERROR_STATUSES, Operation, OperationError
from .model_schema import coerce_text, validate
from .transport import HTTPError, Request, json_response


def arguments_from_request(op: Operation, req: Request, path_params: dict[str, str]) -> dict:
    """The operation's arguments from the path, the query string and the JSON body."""
    args: dict = {}
    if op.has_body:
        data = req.json() if (op.body_schema["properties"] or req.body) else {}
        if not isinstance(data, dict):
            raise HTTPError(400, "invalid_arguments", "the request body must be a JSON object")
        error = validate(op.body_schema, data)
        if error:
            raise HTTPError(400, "invalid_arguments", error)
        args.update(data)
    for p in op.params:
        if p.location == "body":
            if p.name not in args and not p.required:
                args[p.name] = p.default
            continue
        raw = path_params.get(p.name) if p.location == "path" else req.query.get(p.name)
        if raw is None:
            if p.required:
                raise HTTPError(400, "invalid_arguments", f"query parameter {p.name} is required")
            args[p.name] = p.default
            continue
        value, error = coerce_text(p.schema, raw, p.name)
        error = error or validate(p.schema, value, p.name)
        if error:
            raise HTTPError(400, "invalid_arguments", error)
        args[p.name] = value
    return args


def serve_operation(op: Operation, req: Request, path_params: dict[str, str], ctx: Context) -> dict:
    """Run the operation for one HTTP request; its answer is the JSON body of a 200."""
    ctx.operation = op.name
    if op.task == "required":
        raise HTTPError(400, "task_required", f"{op.name} runs only as an MCP task (it may take longer than an HTTP "
                                              "request may last); call it from an MCP client that supports tasks")
    caller = ctx.caller
    if op.scopes and caller is not None and caller.kind == "oauth" and not caller.has_scopes(op.scopes):
        raise HTTPError(403, "insufficient_scope", f"{op.name} needs the scope(s) {', '.join(op.scopes)}",
                        {"www-authenticate": scope_challenge(req.origin, auth_config(), op.scopes)})
    args = arguments_from_request(op, req, path_params)
    try:
        result = op.call(args, ctx)
    except OperationError as exc:
        if exc.status != 400 and exc.status not in op.errors and not ctx.throttled:
            ctx.log.warning(f"{op.name} answered {exc.status}, which its errors= does not declare: "
                            "openapi.json does not document it")
        retry = None if exc.retry_after is None else {"retry-after": str(exc.retry_after)}
        raise HTTPError(exc.status, ERROR_STATUSES[exc.status], exc.message or f"{op.name} refused this request",
                        retry) from None
    try:
        return json_response(200, result)
    except ValueError:
        raise HTTPError(400, "result_out_of_range", "the result is not a finite number; use smaller inputs") from None
