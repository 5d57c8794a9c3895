"""Serve every route on your machine exactly as the Lambda answers it behind API Gateway.

    python3 -m plugin_tools.serve [--port 8080] [--host 127.0.0.1] [--allow-host my.tunnel.example]

Each HTTP request becomes a full API Gateway HTTP API (payload 2.0) event for the same
``lambda_handler`` that runs in AWS, and its response goes back unchanged (base64 bodies decoded).
Like API Gateway with the project's CORS settings, the server answers CORS preflights itself.

With ``auth = "oauth"`` and no PLUGIN_OAUTH_ISSUER in the environment, /_oidc/ is a development
identity provider (plugin_tools.dev_oidc) that the runtime's OAuth facade uses as its upstream
provider, as it uses Cognito once deployed: any user name signs in. It runs on a loopback address
only (serve refuses to start it on another) and answers local Hosts only.

GET /_preview is a page for building widgets without ChatGPT: it lists the tools, calls one from a
form and shows its widget in a sandboxed iframe through the MCP Apps bridge, as a host would. It
belongs to this local server only: the Lambda has no such route.

DNS-rebinding protection: only requests whose Host is local (localhost, 127.0.0.1, [::1]) or named
with --allow-host are served (421 otherwise), and a browser Origin must be local, ChatGPT's, an
--allow-host, or listed in MCP_ALLOWED_ORIGINS (403 otherwise).

The listening socket belongs to a small supervisor process; the handler runs in a child process
that is replaced whenever handler.py, plugin_runtime/ or manifest.json change. Connections that
arrive during a restart wait in the socket's queue instead of failing. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import typing
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from plugin_runtime.surface_mcp_wire import DEFAULT_ALLOWED_ORIGINS, LOCAL_HOSTS, extra_allowed_origins, is_local_origin

from . import dev_oidc
from .project import (
    PROJECT,
    SECRETS_FILE,
    BuildError,
    apply_auth_environment,
    auth_environment,
    load_local_environment,
    load_plugin,
    read_env_file,
)

WATCHED = ("*.py", "plugin_runtime/*.py", "manifest.json", "logo.png", "terraform.tfvars", "widgets/*.html",
           "widgets/*.js", SECRETS_FILE)
POLL_SECONDS = 0.3
# API Gateway refuses larger payloads itself; smaller ones reach the handler, which has its own limit.
PAYLOAD_LIMIT = 10 * 1024 * 1024
# What API Gateway sends back for a preflight with the project's cors_configuration.
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "content-type, authorization, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name"
CORS_MAX_AGE = "3600"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "application/graphql")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te", "trailer"}
PREVIEW_PATH = "/_preview"
PREVIEW_PAGE = Path(__file__).with_name("preview.html")


# -- Host and Origin checks -------------------------------------------------------------------
def split_host(host: str) -> tuple[str, str]:
    """("localhost", "8080") from "LocalHost:8080"; IPv6 stays bracketed: ("[::1]", "")."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]") + 1
        return host[:end], host[end + 1:] if host[end:end + 1] == ":" else ""
    name, _, port = host.partition(":")
    return name, port


def host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    """A local Host on any port, or one named with --allow-host (with or without its port)."""
    if not host:
        return False
    name, port = split_host(host)
    return name in LOCAL_HOSTS or name in allowed or (port and f"{name}:{port}" in allowed)


def origin_allowed(origin: str, allowed_hosts: frozenset[str]) -> bool:
    """Local pages, ChatGPT, the --allow-host origins and MCP_ALLOWED_ORIGINS may call in."""
    seen = origin.strip().rstrip("/").lower()
    if seen in DEFAULT_ALLOWED_ORIGINS or is_local_origin(seen):
        return True
    extra = extra_allowed_origins()
    if "*" in extra or seen in extra:
        return True
    scheme, sep, rest = seen.partition("://")
    return bool(sep) and scheme in ("http", "https") and host_allowed(rest, allowed_hosts)


# -- HTTP request -> API Gateway event -> HTTP response -----------------------------------------
def is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return not kind or kind.startswith(TEXT_TYPES) or kind.endswith(("+json", "+xml"))


def redact_query(line: str) -> str:
    """``line`` with the values of every query string replaced (``?code=SECRET`` -> ``?code=...``)."""
    import re

    return re.sub(r"\?[^\s\"]*", lambda m: "?" + "&".join(
        part.partition("=")[0][:40] + ("=..." if "=" in part else "") for part in m.group(0)[1:].split("&")), line)


def build_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str) -> dict:
    """The API Gateway HTTP API (payload 2.0) event for one request, as the Lambda receives it."""
    path, _, raw_query = target.partition("?")
    head: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        elif key in head:
            head[key] = f"{head[key]},{value}"  # API Gateway joins repeated headers with commas
        else:
            head[key] = value
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = dt.datetime.now(dt.timezone.utc)
    host = head.get("host", "localhost")
    event: dict = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": head,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {"method": method, "path": unquote(path), "protocol": "HTTP/1.1",
                     "sourceIp": client_ip, "userAgent": head.get("user-agent", "")},
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        text = None
        if is_text(head.get("content-type", "")):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def decode_response(response: object) -> tuple[int, dict[str, str], list[str], bytes]:
    """(status, headers, cookies, body bytes) from a Lambda's payload 2.0 response."""
    if not isinstance(response, dict) or "statusCode" not in response:
        # payload 2.0 lets a handler return a bare value: API Gateway sends it as JSON
        return 200, {"content-type": "application/json"}, [], json.dumps(response).encode()
    status = int(response.get("statusCode", 200))
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return status, headers, [str(c) for c in response.get("cookies") or ()], data


class LocalContext:
    """The Lambda context attributes a handler might read."""

    function_name = "local"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:local"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/local"
    log_stream_name = "local"

    def __init__(self, seconds: float = 30) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Handler(BaseHTTPRequestHandler):
    """Translates each request for the plugin's lambda_handler (set on the server)."""

    protocol_version = "HTTP/1.1"
    server_version = "plugin-local"

    def version_string(self) -> str:
        return self.server_version
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, 40 ms per keep-alive request
    server: LocalServer

    def do_OPTIONS(self) -> None:
        if not self._allowed():
            return
        origin = self.headers.get("origin")
        if origin and self.headers.get("access-control-request-method"):
            self._send(204, {"access-control-allow-origin": origin, "access-control-allow-methods": CORS_METHODS,
                             "access-control-allow-headers": CORS_HEADERS, "access-control-max-age": CORS_MAX_AGE,
                             "vary": "origin"}, b"")
            return
        self._lambda()

    def do_GET(self) -> None:
        if self._allowed() and not self._preview() and not self._dev_provider():
            self._lambda()

    # Every method reaches the handler, which answers 405 with Allow (http.server would send a 501 page)
    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_TRACE = do_QUERY = do_GET

    def _allowed(self) -> bool:
        if len(self.headers.get_all("host") or ()) > 1:  # every check below must read the one Host there is
            self._reply_error(400, "bad_request", "a request carries exactly one Host header")
            return False
        host = self.headers.get("host")
        if not host_allowed(host, self.server.allowed_hosts):
            self._reply_error(421, "misdirected_request",
                              f"Host {str(host)[:100]!r} is not served here; start the server with "
                              "--allow-host HOST to serve it (DNS-rebinding protection)")
            return False
        origin = self.headers.get("origin")
        if origin is not None and not origin_allowed(origin, self.server.allowed_hosts):
            self._reply_error(403, "forbidden_origin",
                              f"Origin {origin[:100]!r} may not call this server; set MCP_ALLOWED_ORIGINS "
                              "or use --allow-host (DNS-rebinding protection)")
            return False
        return True

    def _preview(self) -> bool:
        """GET /_preview: the widget preview page (this local server's own; never deployed)."""
        if self.command not in ("GET", "HEAD") or self.path.split("?", 1)[0].rstrip("/") != PREVIEW_PATH:
            return False
        self._send(200, {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"},
                   PREVIEW_PAGE.read_bytes())
        return True

    def _dev_provider(self) -> bool:
        """/_oidc/...: the development identity provider, when serve runs one (auth = oauth)."""
        provider = self.server.dev_provider
        if provider is None or not (self.path + "/").startswith(dev_oidc.PREFIX + "/"):
            return False
        try:
            body = self._read_body()
        except ValueError:
            body = None
        if body is None:
            self._reply_error(400, "invalid_body", "the request body is malformed or too large")
            return True
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._send(*provider.handle(self.command, self.path, headers, body))
        return True

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > PAYLOAD_LIMIT:
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(3)
        length = int(self.headers.get("content-length") or 0)
        if length > PAYLOAD_LIMIT:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _lambda(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self._reply_error(400, "invalid_body", "the request body's length or chunking is malformed")
            return
        if body is None:
            self._reply_error(413, "body_too_large", f"the request body is larger than {PAYLOAD_LIMIT} bytes, "
                              "API Gateway's limit")
            return
        event = build_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        try:
            response = self.server.lambda_handler(event, LocalContext())
            status, headers, cookies, data = decode_response(response)
        except Exception as exc:  # the handler's own safety net failed: say so, keep serving
            import traceback

            traceback.print_exc()
            self._reply_error(500, "internal_error", f"the handler raised {type(exc).__name__}; see the terminal")
            return
        origin = self.headers.get("origin")
        if origin:
            headers.setdefault("access-control-allow-origin", origin)
            headers["vary"] = "origin"
        self._send(status, headers, data, cookies)

    def _reply_error(self, status: int, code: str, message: str) -> None:
        self.close_connection = True  # the request body may be unread: do not reuse the connection
        data = json.dumps({"error": code, "message": message}).encode()
        self._send(status, {"content-type": "application/json"}, data)

    def _send(self, status: int, headers: dict[str, str], data: bytes, cookies: list[str] = ()) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name not in HOP_BY_HOP:
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        # query strings carry codes, states and keys (?code=, ?api_key=): the log shows names only
        sys.stderr.write(f"{self.log_date_time_string()} {redact_query(format % args)}\n")


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allowed_hosts: frozenset[str] = frozenset()
    lambda_handler = None
    dev_provider: dev_oidc.DevProvider | None = None


# -- processes ---------------------------------------------------------------------------------
def load_handler(project: Path):
    """The lambda_handler named in terraform.tfvars, or one that explains why it cannot load."""
    try:
        apply_auth_environment(project)  # like the deployed Lambda: auth and key hashes from terraform.tfvars
        for name in load_local_environment(project):  # settings from terraform.tfvars, secrets from .secrets.env
            print(f"serve: secret {name} has no local value: add {name}=... to {SECRETS_FILE}", file=sys.stderr,
                  flush=True)
        handler = load_plugin(project).lambda_handler
        install_task_runner(handler, task_seconds(project))
        return handler
    except BuildError as exc:
        message = str(exc)
    print(f"serve: {message}; fix it and save: the server reloads", file=sys.stderr, flush=True)

    def broken(event: dict, context: object) -> dict:
        body = json.dumps({"error": "handler_not_loaded", "message": message})
        return {"statusCode": 500, "headers": {"content-type": "application/json"}, "body": body}

    return broken


def task_seconds(project: Path) -> int:
    """How long a task may run here: the deployed function's timeout (lambda_timeout_seconds)."""
    path = project / "terraform.tfvars"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = re.search(r"(?m)^\s*lambda_timeout_seconds\s*=\s*(\d+)\s*(?:#.*)?$", text)
    return int(found.group(1)) if found else 10


def install_task_runner(handler: typing.Callable[[dict, object], dict], seconds: int) -> None:
    """Tasks (operations with task=) run here in a thread against the SQLite store, with the time
    the deployed function would give them, where Lambda would run an asynchronous invocation."""
    from plugin_runtime.model_task import use_runner

    def run(event: dict) -> None:
        threading.Thread(target=handler, args=(event, LocalContext(seconds)), name="task", daemon=True).start()

    use_runner(run)


def run_child(fd: int, allowed_hosts: frozenset[str]) -> int:
    """Serve on the inherited listening socket until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor owns Ctrl-C and stops us with SIGTERM
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parent = os.getppid()
    sock = socket.socket(fileno=fd)
    server = LocalServer(sock.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.allowed_hosts = allowed_hosts
    server.dev_provider = dev_oidc.DevProvider.from_environment()
    server.lambda_handler = load_handler(PROJECT)

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    return 0


def snapshot(project: Path) -> dict[Path, float]:
    """Modification times of the files whose edits change what the server answers."""
    found: dict[Path, float] = {}
    for pattern in WATCHED:
        for path in project.glob(pattern):
            try:
                found[path] = path.stat().st_mtime_ns
            except OSError:
                continue
    return found


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def start_child(sock: socket.socket, allowed: list[str]) -> subprocess.Popen:
    fd = sock.fileno()
    os.set_inheritable(fd, True)
    cmd = [sys.executable, "-m", "plugin_tools.serve", "--child-fd", str(fd)]
    for host in allowed:
        cmd += ["--allow-host", host]
    # A session of its own: Ctrl-C in the terminal reaches only the supervisor, which stops the child.
    return subprocess.Popen(cmd, cwd=PROJECT, pass_fds=(fd,), start_new_session=True)  # noqa: S603


def stop_child(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def supervise(sock: socket.socket, allowed: list[str], reload: bool) -> int:
    """Run the child; with reload, replace it whenever a watched file changes."""
    child = start_child(sock, allowed)
    seen = snapshot(PROJECT)
    try:
        while True:
            time.sleep(POLL_SECONDS)
            if reload:
                now = snapshot(PROJECT)
                if now != seen:
                    changed = sorted({p.relative_to(PROJECT).as_posix() for p in set(now) ^ set(seen)}
                                     | {p.relative_to(PROJECT).as_posix() for p in now if seen.get(p) != now[p]})
                    seen = now
                    print(f"serve: {', '.join(changed)} changed; reloading", file=sys.stderr, flush=True)
                    stop_child(child)
                    child = start_child(sock, allowed)
                    continue
            if child.poll() is not None:  # it died on its own: try again after the next edit
                if not reload:
                    return child.returncode or 1
                print("serve: the server process exited; save a file to restart it", file=sys.stderr, flush=True)
                while snapshot(PROJECT) == seen:
                    time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_child(child)


def auth_mode() -> str:
    """The auth mode the server runs with: PLUGIN_AUTH if set, else terraform.tfvars' auth."""
    try:
        return os.environ.get("PLUGIN_AUTH") or auth_environment(PROJECT)["PLUGIN_AUTH"]
    except BuildError:
        return "none"  # the child reports the malformed terraform.tfvars


def sign_in_line(mode: str, base: str, host: str, allowed: frozenset[str] = frozenset()) -> tuple[str | None, bool]:
    """(the line saying how to sign in, whether serving may go on), after starting the development
    provider when auth = oauth has no provider of its own configured."""
    if mode == "api_key":
        return ("Sign in: send Authorization: Bearer <key> (make api-key NAME=you prints one; /_preview has a key "
                "field; python3 -m plugin_tools.invoke --as NAME EVENT)"), True
    if mode != "oauth":
        return None, True
    if os.environ.get("PLUGIN_OAUTH_ISSUER"):
        return f"Sign in: with the provider at {os.environ['PLUGIN_OAUTH_ISSUER']} (PLUGIN_OAUTH_ISSUER)", True
    import ipaddress

    if not ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
        return (f"serve: auth = oauth signs in locally with a development provider that serves this machine only; "
                f"serve on 127.0.0.1 (not --host {host}), or set PLUGIN_OAUTH_ISSUER and the other PLUGIN_OAUTH_* "
                "settings to use a real provider"), False
    if allowed:  # it signs anyone in as anyone: never for a tunnel's name
        return (f"serve: the development sign-in accepts any user name, so it is not served to --allow-host "
                f"{', '.join(sorted(allowed))}; through a tunnel, set PLUGIN_OAUTH_ISSUER and the other "
                "PLUGIN_OAUTH_* settings to sign in with a real provider (or deploy)"), False
    # The issuer's host must be one the runtime accepts over http (127.0.0.1 or localhost, not [::1]).
    issuer_origin = base.replace(f"[{host}]", "localhost") if ":" in host else base
    os.environ.update(dev_oidc.environment(issuer_origin))  # inherited by every server process: one key, one secret
    return (f"Sign in: connect an MCP client to {base}/mcp (or open {base}{PREVIEW_PATH}); the local sign-in page "
            f"accepts any user name ({base}{dev_oidc.PREFIX}, development only; python3 -m plugin_tools.invoke "
            "--as NAME EVENT)"), True


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def local_signing_key() -> None:
    """The OAuth facade's signing key without AWS: OAUTH_SIGNING_KEY from the environment or
    .secrets.env, else a random one for this run (kept across reloads: children inherit it; a
    restart signs everyone out and forgets DCR clients, as a key rotation would)."""
    import secrets

    from plugin_runtime.surface_oauth_seal import SIGNING_KEY_SECRET

    if not os.environ.get(SIGNING_KEY_SECRET) and not read_env_file(PROJECT / SECRETS_FILE).get(SIGNING_KEY_SECRET):
        os.environ[SIGNING_KEY_SECRET] = secrets.token_urlsafe(32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m plugin_tools.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                        help="also serve requests for this Host, e.g. a tunnel's host name (repeatable)")
    parser.add_argument("--no-reload", action="store_true", help="do not restart when the sources change")
    parser.add_argument("--child-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    allowed = frozenset(h.strip().lower() for h in args.allow_host if h.strip())
    if args.child_fd is not None:
        return run_child(args.child_fd, allowed)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    local_signing_key()
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(f"serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else ("127.0.0.1" if host in ("0.0.0.0", "") else host)  # noqa: S104
    base = f"http://{shown}:{port}"
    line, ok = sign_in_line(auth_mode(), base, host, allowed)
    if not ok:
        print(line, file=sys.stderr, flush=True)
        sock.close()
        return 1
    print(f"Serving {PROJECT.name} on {base}  MCP: {base}/mcp  OpenAPI: {base}/openapi.json  "
          f"manifest: {base}/.well-known/ai-plugin.json  widgets: {base}{PREVIEW_PATH}  "
          f"({'no reload' if args.no_reload else 'reloads on edits'}; Ctrl-C stops)", flush=True)
    if line:
        print(line, flush=True)
    try:
        return supervise(sock, sorted(allowed), reload=not args.no_reload)
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
