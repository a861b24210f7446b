# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS-like proxy (tests/support/aws_proxy.py), driven with boto3 as the modules would see it."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import threading
from collections import Counter

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError

from aws_proxy import AwsProxy, Faults, Quota, encode_position
from local_aws import seed

# One attempt per call: the tests look at what the proxy answered, not at botocore's retries.
NO_RETRIES = Config(retries={"total_max_attempts": 1})
TEST_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# The proxy decides before any signature check, so a syntactically valid scope is all a raw request needs.
RAW_AUTH = "AWS4-HMAC-SHA256 Credential=testing/20240101/%s/%s/aws4_request, SignedHeaders=host, Signature=00"


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def client(proxy, service="apigateway", region="us-east-1", credentials=None):
    return boto3.client(service, region_name=region, endpoint_url=proxy.endpoint_url, config=NO_RETRIES, **(credentials or TEST_KEYS))


def raw_request(proxy, method, path, service="apigateway", region="us-east-1"):
    """(status, lower-cased headers, body) of one request sent with http.client, bypassing botocore's parsing."""
    host, port = proxy.endpoint_url.rsplit("/", 1)[-1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, headers={"Authorization": RAW_AUTH % (region, service)})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def assumed_credentials(proxy, account):
    sts = client(proxy, "sts")
    credentials = sts.assume_role(RoleArn="arn:aws:iam::%s:role/x" % account, RoleSessionName="proxy-test")["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def all_pages(apigw, **paginate):
    return list(apigw.get_paginator("get_rest_apis").paginate(**paginate))


def error_of(excinfo):
    error = excinfo.value.response["Error"]
    return error["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], error.get("Message")


@pytest.fixture
def clock(aws_proxy):
    fake = FakeClock()
    aws_proxy.clock = fake
    return fake


@pytest.fixture
def sleeps(aws_proxy):
    """The seconds the proxy slept for (it never really sleeps)."""
    calls = []
    aws_proxy.sleep = calls.append
    return calls


@pytest.fixture
def stage(aws):
    """A REST API with a stage "prod" without tracing, made straight on the local AWS."""
    return seed(aws.client("apigateway"), [{"name": "orders", "stages": {"prod": {}}}])[0]


# Paging
def test_default_page_size_is_25(aws, aws_proxy):
    seed(aws.client("apigateway"), [{"name": "api%02d" % i} for i in range(60)])
    pages = all_pages(client(aws_proxy))
    assert [len(page["items"]) for page in pages] == [25, 25, 10]
    assert len({item["id"] for page in pages for item in page["items"]}) == 60
    assert aws_proxy.counts() == Counter({"GetRestApis": 3})
    assert [r.status for r in aws_proxy.requests] == [200, 200, 200]


def test_page_size_500_over_510_apis_and_limit_capped(aws, aws_proxy):
    seed(aws.client("apigateway"), [{"name": "api%03d" % i} for i in range(510)])
    apigw = client(aws_proxy)
    pages = all_pages(apigw, PaginationConfig={"PageSize": 500})
    assert [len(page["items"]) for page in pages] == [500, 10]
    assert len({item["id"] for page in pages for item in page["items"]}) == 510
    assert aws_proxy.counts() == Counter({"GetRestApis": 2})

    capped = apigw.get_rest_apis(limit=1000)
    assert len(capped["items"]) == 500
    assert capped["position"] == encode_position(500)


def test_upstream_pages_are_followed_and_not_counted(aws, aws_proxy):
    seed(aws.client("apigateway"), [{"name": "api%02d" % i} for i in range(60)])
    # LocalAws now answers at most 7 APIs per request, as AWS may.
    aws.rest_apis_page_cap = 7
    aws.clear()
    pages = all_pages(client(aws_proxy))
    assert [len(page["items"]) for page in pages] == [25, 25, 10]
    assert len({item["id"] for page in pages for item in page["items"]}) == 60
    assert aws_proxy.counts() == Counter({"GetRestApis": 3})
    # Each client page costs the whole upstream list: 9 upstream pages of at most 7.
    assert aws.calls("GetRestApis") == 3 * 9


def test_plain_moto_upstream_is_paged(aws):
    from moto.server import ThreadedMotoServer  # pylint: disable=import-outside-toplevel

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        # Same process, so the same moto backends as the local AWS: seed there, page through plain moto.
        seed(aws.client("apigateway"), [{"name": "api%02d" % i} for i in range(30)])
        with AwsProxy("http://%s:%d" % moto.get_host_and_port(), quota=None) as proxy:
            pages = all_pages(client(proxy), PaginationConfig={"PageSize": 20})
        assert [len(page["items"]) for page in pages] == [20, 10]
        assert len({item["id"] for page in pages for item in page["items"]}) == 30
    finally:
        moto.stop()


@pytest.mark.parametrize("position", [
    "garbage",
    encode_position(5) + "x!",
    base64.urlsafe_b64encode(b"local-aws:5").decode(),
    base64.urlsafe_b64encode(b"aws-proxy:-1").decode(),
])
def test_bad_position_is_bad_request(aws, aws_proxy, position):
    with pytest.raises(ClientError) as excinfo:
        client(aws_proxy).get_rest_apis(position=position)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("BadRequestException", 400)
    assert "position" in message
    assert aws.calls("GetRestApis") == 0


@pytest.mark.parametrize("limit", ["abc", "0", "-3"])
def test_bad_limit_is_bad_request(aws, aws_proxy, limit):
    status, headers, body = raw_request(aws_proxy, "GET", "/restapis?limit=%s" % limit)
    assert status == 400
    assert headers["x-amzn-errortype"] == "BadRequestException"
    assert "limit" in json.loads(body)["message"]
    assert aws.calls("GetRestApis") == 0


# Quota
def test_quota_burst_refill_and_buckets(aws, aws_proxy, clock):
    # Learn accounts only from STS answers that pass through the proxy.
    aws_proxy.account_lookup = None
    aws_proxy.quota = Quota()
    apigw = client(aws_proxy)
    for _index in range(40):
        apigw.get_rest_apis()
    with pytest.raises(ClientError) as excinfo:
        apigw.get_rest_apis()
    assert error_of(excinfo) == ("TooManyRequestsException", 429, "Too Many Requests")
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert headers["content-type"] == "application/json"
    # Throttled requests are neither forwarded nor consume tokens.
    assert aws.calls("GetRestApis") == 40

    clock.advance(0.1)
    apigw.get_rest_apis()
    with pytest.raises(ClientError):
        apigw.get_rest_apis()
    status, headers, body = raw_request(aws_proxy, "GET", "/restapis")
    assert (status, headers["x-amzn-errortype"], headers["content-type"]) == (429, "TooManyRequestsException", "application/json")
    assert json.loads(body) == {"message": "Too Many Requests"}

    # STS is not API Gateway: never throttled, even with the API Gateway bucket empty.
    sts = client(aws_proxy, "sts")
    for _index in range(45):
        sts.get_caller_identity()
    other_account = assumed_credentials(aws_proxy, "111111111111")
    # Another region and another account have full buckets of their own.
    client(aws_proxy, region="us-west-2").get_rest_apis()
    client(aws_proxy, credentials=other_account).get_rest_apis()

    outcomes = [(r.service, r.account, r.region, r.outcome) for r in aws_proxy.requests if r.service == "apigateway"]
    assert outcomes[:42] == [("apigateway", "123456789012", "us-east-1", "forwarded")] * 40 + [
        ("apigateway", "123456789012", "us-east-1", "throttled"),
        ("apigateway", "123456789012", "us-east-1", "forwarded"),
    ]
    assert outcomes[-2:] == [
        ("apigateway", "123456789012", "us-west-2", "forwarded"),
        ("apigateway", "111111111111", "us-east-1", "forwarded"),
    ]
    assert aws_proxy.outcomes() == Counter({"forwarded": 40 + 1 + 45 + 1 + 2, "throttled": 3})

    # A new quota starts with full buckets.
    aws_proxy.quota = Quota(rate=10.0, burst=40)
    apigw.get_rest_apis()


def test_quota_off_never_throttles(aws_proxy):
    apigw = client(aws_proxy)
    for _index in range(45):
        apigw.get_rest_apis()
    assert aws_proxy.outcomes() == Counter({"forwarded": 45})


# Faults
def outcome_sequence(proxy, faults, count=40):
    proxy.clear()
    proxy.faults = faults
    apigw = client(proxy)
    for _index in range(count):
        try:
            apigw.get_rest_apis()
        except (ClientError, BotoCoreError):
            pass
    return [r.outcome for r in proxy.requests]


def test_same_seed_same_faults(aws_proxy, sleeps):
    first = outcome_sequence(aws_proxy, Faults(seed=7, rate=0.5))
    again = outcome_sequence(aws_proxy, Faults(seed=7, rate=0.5))
    other = outcome_sequence(aws_proxy, Faults(seed=8, rate=0.5))
    assert first == again
    assert first != other
    assert set(first) == {"forwarded", "500", "502", "503", "drop", "slow"}
    assert sleeps == [1.0] * (first.count("slow") * 2 + other.count("slow"))


def test_rate_zero_no_faults(aws_proxy):
    assert outcome_sequence(aws_proxy, Faults(seed=7, rate=0.0)) == ["forwarded"] * 40


@pytest.mark.parametrize("kind,code,status", [
    ("500", "InternalFailure", 500),
    ("503", "ServiceUnavailableException", 503),
    ("502", "502", 502),
])
def test_error_fault_shapes(aws, aws_proxy, stage, kind, code, status):
    aws.clear()
    aws_proxy.faults = Faults(rate=1.0, kinds=(kind,))
    with pytest.raises(ClientError) as excinfo:
        client(aws_proxy).update_stage(restApiId=stage, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    assert error_of(excinfo)[:2] == (code, status)
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    # The 502 comes from a load balancer in front of API Gateway, not from API Gateway.
    assert ("x-amzn-errortype" in headers) == (kind != "502")
    assert aws.requests == []
    assert "tracingEnabled" not in aws.client("apigateway").get_stage(restApiId=stage, stageName="prod")
    assert [(r.outcome, r.status, r.upstream_status) for r in aws_proxy.requests] == [(kind, status, None)]


def test_drop_makes_the_change_but_never_answers(aws, aws_proxy, stage):
    aws_proxy.faults = Faults(rate=1.0, kinds=("drop",))
    with pytest.raises(ConnectionClosedError):
        client(aws_proxy).update_stage(restApiId=stage, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    assert aws.client("apigateway").get_stage(restApiId=stage, stageName="prod")["tracingEnabled"] is True
    assert [(r.operation, r.outcome, r.status, r.upstream_status) for r in aws_proxy.requests] == [("UpdateStage", "drop", None, 200)]


def test_slow_answers_after_the_injected_sleep(aws_proxy, sleeps, stage):
    aws_proxy.faults = Faults(rate=1.0, kinds=("slow",), slow_seconds=2.5)
    assert client(aws_proxy).get_stage(restApiId=stage, stageName="prod")["stageName"] == "prod"
    assert sleeps == [2.5]
    assert [(r.outcome, r.status) for r in aws_proxy.requests] == [("slow", 200)]


def test_faults_only_for_chosen_operations(aws_proxy, stage):
    aws_proxy.faults = Faults(rate=1.0, kinds=("500",), operations={"UpdateStage"})
    apigw = client(aws_proxy)
    apigw.get_stages(restApiId=stage)
    apigw.get_rest_apis()
    client(aws_proxy, "sts").get_caller_identity()
    with pytest.raises(ClientError) as excinfo:
        apigw.update_stage(restApiId=stage, stageName="prod", patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    assert error_of(excinfo)[:2] == ("InternalFailure", 500)
    assert [(r.operation, r.outcome) for r in aws_proxy.requests] == [
        ("GetStages", "forwarded"), ("GetRestApis", "forwarded"), ("GetCallerIdentity", "forwarded"), ("UpdateStage", "500")]


def test_faults_are_checked():
    with pytest.raises(ValueError, match="kinds"):
        Faults(kinds=("timeout",))
    with pytest.raises(ValueError, match="rate"):
        Faults(rate=1.5)


# Credential rejection
@pytest.mark.parametrize("kind,apigw_code,sts_code,message", [
    ("expired", "ExpiredTokenException", "ExpiredToken", "The security token included in the request is expired"),
    ("invalid", "UnrecognizedClientException", "InvalidClientTokenId", "The security token included in the request is invalid."),
])
def test_rejected_credentials(aws, aws_proxy, kind, apigw_code, sts_code, message):
    other_account = assumed_credentials(aws_proxy, "111111111111")
    aws.clear()
    aws_proxy.clear()
    aws_proxy.reject_credentials("testing", kind)
    with pytest.raises(ClientError) as excinfo:
        client(aws_proxy).get_rest_apis()
    assert error_of(excinfo) == (apigw_code, 403, message)
    with pytest.raises(ClientError) as excinfo:
        client(aws_proxy, "sts").get_caller_identity()
    assert error_of(excinfo) == (sts_code, 403, message)
    assert aws.requests == []
    # Only that key is refused.
    client(aws_proxy, credentials=other_account).get_rest_apis()

    aws_proxy.accept_all_credentials()
    client(aws_proxy).get_rest_apis()
    assert [r.outcome for r in aws_proxy.requests] == ["rejected", "rejected", "forwarded", "forwarded"]


# Counting
def test_counts_per_operation(aws_proxy):
    apigw = client(aws_proxy)
    ids = [apigw.create_rest_api(name=name)["id"] for name in ("orders", "users")]
    apigw.get_rest_apis()
    for stage_name in ("prod", "dev", "test"):
        apigw.create_stage(restApiId=ids[0], stageName=stage_name, deploymentId="dep000")
    apigw.get_stages(restApiId=ids[0])
    apigw.get_stages(restApiId=ids[1])
    apigw.update_stage(restApiId=ids[0], stageName="prod", patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    client(aws_proxy, "sts", region="eu-west-1").get_caller_identity()

    expected = Counter({"CreateRestApi": 2, "GetRestApis": 1, "CreateStage": 3, "GetStages": 2, "UpdateStage": 1})
    assert aws_proxy.counts() == expected
    assert aws_proxy.counts(service=None) == expected + Counter({"GetCallerIdentity": 1})
    assert aws_proxy.counts(service="sts") == Counter({"GetCallerIdentity": 1})
    assert aws_proxy.outcomes() == Counter({"forwarded": 10})
    last = aws_proxy.requests[-1]
    assert (last.method, last.path, last.service, last.region, last.access_key, last.account, last.status) == (
        "POST", "/", "sts", "eu-west-1", "testing", "123456789012", 200)
    aws_proxy.clear()
    assert aws_proxy.requests == [] and aws_proxy.counts(service=None) == Counter()


def test_listens_on_loopback_and_stop_closes_connections(aws_proxy):
    assert aws_proxy.endpoint_url.startswith("http://127.0.0.1:")
    assert aws_proxy.env("eu-west-1")["AWS_ENDPOINT_URL"] == aws_proxy.endpoint_url
    apigw = client(aws_proxy)
    apigw.get_rest_apis()
    aws_proxy.stop()
    # The kept-alive connection is closed too: nothing answers after stop().
    with pytest.raises(BotoCoreError):
        apigw.get_rest_apis()
    assert len(aws_proxy.requests) == 1


class _ForgetfulUpstream(http.server.BaseHTTPRequestHandler):
    """Answers 200 and then closes the connection without saying so, as a server does after its idle timeout."""

    protocol_version = "HTTP/1.1"
    paths = []

    def do_GET(self):  # pylint: disable=invalid-name
        self.paths.append(self.path)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def test_reconnects_when_upstream_dropped_the_kept_alive_connection():
    _ForgetfulUpstream.paths = []
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForgetfulUpstream)
    thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with AwsProxy("http://127.0.0.1:%d" % upstream.server_address[1], quota=None) as proxy:
            # Unsigned requests: the proxy only forwards them, on one client connection.
            connection = http.client.HTTPConnection("127.0.0.1", int(proxy.endpoint_url.rsplit(":", 1)[1]), timeout=30)
            statuses = []
            for index in range(3):
                connection.request("GET", "/thing/%d" % index)
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
            connection.close()
        assert statuses == [200, 200, 200]
        # Each request reached upstream exactly once, the later ones on a fresh connection.
        assert _ForgetfulUpstream.paths == ["/thing/0", "/thing/1", "/thing/2"]
    finally:
        upstream.shutdown()
        upstream.server_close()
