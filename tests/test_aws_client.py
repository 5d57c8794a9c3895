"""The runtime's stdlib AWS client (plugin_runtime.model_aws): SigV4 signatures equal botocore's
SigV4Auth on generated requests (session tokens, query strings, unicode and dot-segment paths,
repeated whitespace in header values), AWS's published examples give their published values, and
the client retries throttling within the deadline, honours the endpoint variables and maps errors.

AWS's full SigV4 test suite (aws-sig-v4-test-suite) cannot be fetched here (no network): the
vanilla cases and the IAM signing-key example below are the values AWS documents, and the rest is
checked against botocore, which runs that suite in its own tests."""

from __future__ import annotations

import datetime
import http.server
import importlib.util
import json
import threading
import time
import typing
from urllib.parse import quote

import botocore.auth
import pytest
from bake_support import TEMPLATE
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SOURCE = TEMPLATE / "{{cookiecutter.__plugin_slug}}" / "plugin_runtime" / "model_aws.py"


def _load():
    spec = importlib.util.spec_from_file_location("model_aws_under_test", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


aws = _load()
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def botocore_authorization(monkeypatch, method, host, path, query, headers, body, service, region, token, when):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when)
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    botocore.auth.SigV4Auth(Credentials(KEY, SECRET, token), service, region).add_auth(req)
    return req.headers["Authorization"], req.headers.get("X-Amz-Security-Token")


# -- AWS's published values ------------------------------------------------------------------------
def test_signing_key_of_the_iam_example():
    key = aws.signing_key(SECRET, "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


@pytest.mark.parametrize(("method", "query", "signature"), [
    ("GET", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),  # get-vanilla
    ("GET", "Param2=value2&Param1=value1",  # get-vanilla-query-order-key-case
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ("POST", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),  # post-vanilla
])
def test_sigv4_test_suite_vanilla_cases(method, query, signature):
    headers = aws.sign(method, "example.amazonaws.com", "/", query, {}, b"", service="service", region="us-east-1",
                       access_key=KEY, secret_key=SECRET, amz_date="20150830T123600Z")
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}")


def test_the_iam_list_users_example():
    headers = aws.sign("GET", "iam.amazonaws.com", "/", "Action=ListUsers&Version=2010-05-08",
                       {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, b"", service="iam",
                       region="us-east-1", access_key=KEY, secret_key=SECRET, amz_date="20150830T123600Z")
    assert headers["Authorization"].endswith(
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")


# -- against botocore --------------------------------------------------------------------------------
SEGMENT = st.one_of(st.sampled_from([".", "..", "", "a b", "ñandú", "日本", "%", "~x", "a+b", "2015-03-31"]),
                    st.text(min_size=0, max_size=8))
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e) | st.just(" "),
                       min_size=1, max_size=20).filter(lambda v: v.strip())
QUERY_PART = st.text(max_size=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), segments=st.lists(SEGMENT, max_size=5),
       query=st.lists(st.tuples(QUERY_PART, QUERY_PART), max_size=4),
       extra=st.dictionaries(st.sampled_from(["X-Amz-Target", "Content-Type", "X-Amz-Invocation-Type", "X-Custom",
                                              "User-Agent", "X-Amzn-Trace-Id"]), HEADER_VALUE, max_size=4),
       body=st.binary(max_size=64), token=st.one_of(st.none(), st.text(alphabet="abcXYZ019+/=", min_size=1)),
       service=st.sampled_from(["dynamodb", "ssm", "lambda"]), region=st.sampled_from(["us-east-1", "eu-west-3"]),
       seconds=st.integers(0, 2_000_000_000))
def test_the_signature_is_botocores(monkeypatch, method, segments, query, extra, body, token, service, region,
                                    seconds):
    path = "/" + "/".join(quote(s, safe="") if s not in (".", "..") else s for s in segments)
    query_string = aws.encode_query(query)
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)
    host = f"{service}.{region}.amazonaws.com"
    expected, sent_token = botocore_authorization(monkeypatch, method, host, path, query_string, extra, body, service,
                                                  region, token, when)
    mine = aws.sign(method, host, path, query_string, extra, body, service=service, region=region, access_key=KEY,
                    secret_key=SECRET, token=token, amz_date=when.strftime("%Y%m%dT%H%M%SZ"))
    assert mine["Authorization"] == expected
    assert mine.get("X-Amz-Security-Token") == sent_token


def test_a_session_token_is_sent_and_signed():
    headers = aws.sign("POST", "dynamodb.us-east-1.amazonaws.com", "/", "", {}, b"{}", service="dynamodb",
                       region="us-east-1", access_key=KEY, secret_key=SECRET, token="TOKEN",
                       amz_date="20260101T000000Z")
    assert headers["X-Amz-Security-Token"] == "TOKEN"
    assert "x-amz-security-token" in headers["Authorization"].split("SignedHeaders=")[1]


def test_dot_segments_and_repeated_slashes_are_normalised():
    assert aws.remove_dot_segments("/a/b/../c/./d") == "/a/c/d"
    assert aws.remove_dot_segments("/../..") == "/"
    assert aws.remove_dot_segments("/a/..") == "/"
    assert aws.remove_dot_segments("/a/b/") == "/a/b/"
    assert aws.remove_dot_segments("//example//") == "/example/"  # the suite's get-slashes
    assert aws.remove_dot_segments("") == "/"


# -- endpoints ----------------------------------------------------------------------------------------
def test_endpoints_follow_botocore_variables(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SSM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws.endpoint("dynamodb") == ("https", "dynamodb.eu-west-1.amazonaws.com", "")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert aws.endpoint("ssm") == ("http", "127.0.0.1:5000", "")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000/")
    assert aws.endpoint("dynamodb") == ("http", "localhost:8000", "")
    assert aws.endpoint("ssm") == ("http", "127.0.0.1:5000", "")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "ftp://nope")
    with pytest.raises(aws.AwsError, match="InvalidEndpoint"):
        aws.endpoint("ssm")


# -- a fake AWS that answers from a script -------------------------------------------------------------
class Script(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS answers
    answers: typing.ClassVar[list] = []
    seen: typing.ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Script.seen.append((dict(self.headers), body, self.path))
        status, payload = Script.answers.pop(0) if Script.answers else (200, {})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_aws(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Script)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    Script.answers, Script.seen = [], []
    yield Script
    aws.close_connections()
    server.shutdown()
    server.server_close()


def test_the_json_protocol_and_the_session_token_reach_the_service(fake_aws):
    fake_aws.answers = [(200, {"Item": {"pk": {"S": "x"}}})]
    assert aws.call_json("dynamodb", "DynamoDB_20120810.GetItem", {"TableName": "t"}) == {"Item": {"pk": {"S": "x"}}}
    headers, body, _ = fake_aws.seen[0]
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert json.loads(body) == {"TableName": "t"}


def test_throttling_is_retried_with_backoff(fake_aws):
    throttled = (400, {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                       "message": "slow down"})
    fake_aws.answers = [throttled, throttled, (503, {}), (200, {"ok": 1})]
    sleeps = []
    status, _, data = aws.request("dynamodb", "POST", "/", body=b"{}", sleep=sleeps.append)
    assert (status, json.loads(data)) == (200, {"ok": 1})
    assert len(sleeps) == 3 and all(0 <= s <= aws.MAX_DELAY_S for s in sleeps)


def test_retries_stop_at_the_attempt_limit(fake_aws):
    fake_aws.answers = [(400, {"__type": "ThrottlingException"})] * 10
    with pytest.raises(aws.AwsError) as caught:
        aws.call_json("ssm", "AmazonSSM.GetParameter", {}, version="1.1")
    assert caught.value.code == "ThrottlingException"
    assert len(fake_aws.seen) == aws.MAX_ATTEMPTS


def test_retries_stop_at_the_deadline(fake_aws):
    fake_aws.answers = [(400, {"__type": "ThrottlingException"})] * 10
    with pytest.raises(aws.AwsError):
        aws.call_json("ssm", "AmazonSSM.GetParameter", {}, deadline=time.monotonic() + 0.06)
    assert len(fake_aws.seen) <= 2


def test_no_call_starts_without_time_left(fake_aws):
    with pytest.raises(aws.AwsError, match="NoTimeLeft"):
        aws.call_json("ssm", "AmazonSSM.GetParameter", {}, deadline=time.monotonic())
    assert fake_aws.seen == []


def test_client_errors_are_not_retried_and_keep_their_code(fake_aws):
    fake_aws.answers = [(400, {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                               "message": "The conditional request failed"})]
    with pytest.raises(aws.AwsError) as caught:
        aws.call_json("dynamodb", "DynamoDB_20120810.PutItem", {})
    assert (caught.value.code, caught.value.status) == ("ConditionalCheckFailedException", 400)
    assert len(fake_aws.seen) == 1


def test_missing_credentials_are_named(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(aws.AwsError, match="AWS_ACCESS_KEY_ID"):
        aws.call_json("ssm", "AmazonSSM.GetParameter", {})


def test_a_dead_endpoint_is_a_connection_error(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    with pytest.raises(aws.AwsError, match="ConnectionError"):
        aws.request("ssm", "POST", "/", sleep=lambda s: None)
    aws.close_connections()


# -- over TLS, as on Lambda: a local https server whose CA the default context is told to trust --------
def _certificates(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False).sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(pem) + key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return tmp_path / "ca.pem", tmp_path / "server.pem"


def test_https_with_keep_alive_and_certificate_checks(tmp_path, monkeypatch):
    import ssl

    ca, server_pem = _certificates(tmp_path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Script)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"https://localhost:{server.server_port}")
    Script.answers, Script.seen = [(200, {"n": 1}), (200, {"n": 2})], []
    try:
        aws._tls_context.clear()
        with pytest.raises(aws.AwsError, match="ConnectionError"):  # an unknown CA is refused
            aws.call_json("dynamodb", "DynamoDB_20120810.GetItem", {})
        aws.close_connections()
        aws._tls_context.clear()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        Script.answers = [(200, {"n": 1}), (200, {"n": 2})]
        assert aws.call_json("dynamodb", "DynamoDB_20120810.GetItem", {}) == {"n": 1}
        conn = aws._connections[("https", f"localhost:{server.server_port}")]
        sock = conn.sock
        assert aws.call_json("dynamodb", "DynamoDB_20120810.GetItem", {}) == {"n": 2}
        assert conn.sock is sock  # the same TLS connection, kept alive
    finally:
        aws.close_connections()
        aws._tls_context.clear()
        server.shutdown()
        server.server_close()


def test_a_connection_the_server_closed_is_reopened(fake_aws):
    fake_aws.answers = [(200, {"n": 1}), (200, {"n": 2})]
    assert aws.call_json("ssm", "AmazonSSM.GetParameter", {}) == {"n": 1}
    (conn,) = aws._connections.values()
    old = conn.sock
    assert old is not None  # kept alive
    old.shutdown(2)  # the idle connection dies (as when the server or a NAT drops it)
    assert aws.call_json("ssm", "AmazonSSM.GetParameter", {}) == {"n": 2}
    assert conn.sock is not None and conn.sock is not old and len(fake_aws.seen) == 2


def test_lambda_async_invoke_is_one_signed_call(fake_aws):
    fake_aws.answers = [(202, {})]
    aws.invoke_async("my-fn", {"task": 1})
    headers, body, path = fake_aws.seen[0]
    assert path == "/2015-03-31/functions/my-fn/invocations"
    assert headers["X-Amz-Invocation-Type"] == "Event" and json.loads(body) == {"task": 1}
    assert "/lambda/aws4_request" in headers["Authorization"]
    fake_aws.answers = [(404, {"Type": "User", "message": "Function not found"})]
    with pytest.raises(aws.AwsError, match=r"HTTP404: Function not found"):
        aws.invoke_async("missing", {})
