# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way the collection reaches AWS (module_utils/_aws.py): pacing by service, the client factory, reaching an
account and the causes of errors. No request leaves the process: botocore events are emitted by hand, STS is a
Stubber, and a client's answers come from the fake HTTP layer of aws_fakes."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import NoCredentialsError
from botocore.exceptions import ProfileNotFound
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestStats
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import pace_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import BOTOCORE_RETRIES
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_config
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import TESTING_CREDENTIALS
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeHttp
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeTime

REGION = "us-east-1"
ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
ROLE = "arn:aws:iam::111111111111:role/TracingAudit"
ASSUMED = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "secret", "SessionToken": "token"}


# ---- pacing: the token bucket ------------------------------------------------------------------------------


def test_burst_then_steady_rate():
    fake = FakeTime()
    pacer = RequestPacer(10, burst=40, clock=fake.clock, sleep=fake.sleep)

    for _request in range(40):
        pacer.wait()
    assert fake.sleeps == []  # the burst goes out at once

    for _request in range(20):
        pacer.wait()
    # 20 more at 10/s: two seconds, never faster than the rate.
    assert fake.now == pytest.approx(102.0)
    assert all(s == pytest.approx(0.1) for s in fake.sleeps)


def test_a_slow_pace_gets_a_small_burst():
    pacer = RequestPacer(2, burst=40, clock=FakeTime().clock)
    assert pacer.burst == pytest.approx(8.0)


def test_a_429_empties_the_bucket():
    fake = FakeTime()
    pacer = RequestPacer(10, burst=40, clock=fake.clock, sleep=fake.sleep)
    pacer.wait()
    pacer.throttled()

    pacer.wait()

    assert fake.sleeps == [pytest.approx(0.1)]


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="above 0"):
        RequestPacer(0)


# ---- pacing by service -------------------------------------------------------------------------------------


def test_api_gateways_figures():
    # One bucket for every operation of API Gateway, 9.5 requests/s by default; the burst is 4 s of the rate (AWS's
    # 40 at 10/s), at most 40.
    assert aws.PACES["apigateway"] == {None: aws.API_GATEWAY_PACE}
    assert (aws.DEFAULT_MAX_REQUESTS_PER_SECOND, aws.AWS_BURST, aws.API_GATEWAY_PACE.burst_seconds) == (9.5, 40, 4.0)
    assert RequestPacer(aws.DEFAULT_MAX_REQUESTS_PER_SECOND, clock=FakeTime().clock).burst == 38
    assert RequestPacer(100, clock=FakeTime().clock).burst == 40


@pytest.mark.parametrize(
    "service, operation, burst",
    [("apigateway", None, 38), ("securityhub", "BatchImportFindings", 10), ("securityhub", "GetFindings", 4)],
)
def test_every_pace_is_below_its_quota(service, operation, burst):
    pace = aws.PACES[service][operation]
    assert pace.rate < pace.aws_rate and pace.burst <= pace.aws_burst
    assert RequestPacer(pace.rate, burst=pace.burst, clock=FakeTime().clock, burst_seconds=pace.burst_seconds).burst == burst


def test_every_attempt_waits_for_the_pacer_and_answers_are_counted():
    client = boto3.client("apigateway", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    waits = []

    class CountingPacer:
        def wait(self):
            waits.append(1)

        def throttled(self):
            waits.append("throttled")

    stats = RequestStats()
    pace_client(client, CountingPacer(), stats)
    events = client.meta.events

    for status in (200, 429, 503, 404):
        events.emit("before-send.api-gateway.GetStages", request=None)
        events.emit("response-received.api-gateway.GetStages", response_dict={"status_code": status}, exception=None, parsed_response={}, context={})
    events.emit("before-send.api-gateway.GetStages", request=None)
    events.emit("response-received.api-gateway.GetStages", response_dict=None, exception=ConnectionError("dropped"), parsed_response=None, context={})
    # Another service's events are not ours to pace.
    events.emit("before-send.sts.GetCallerIdentity", request=None)

    assert stats.as_dict() == {"sent": 5, "throttled": 1, "server_errors": 1, "connection_errors": 1}
    assert waits == [1, 1, "throttled", 1, 1, 1]


def test_the_event_names_are_the_clients_own():
    assert aws.event_id(make_client("apigateway")) == "api-gateway"
    assert aws.event_id(make_client("securityhub")) == "securityhub"


def test_security_hub_is_paced_per_operation():
    fake = FakeTime()
    client, stats = aws.pace_service(make_client("securityhub"), clock=fake.clock, sleep=fake.sleep)
    events = client.meta.events
    imports, reads = aws.PACES["securityhub"]["BatchImportFindings"], aws.PACES["securityhub"]["GetFindings"]

    for dummy in range(imports.burst):
        events.emit("before-send.securityhub.BatchImportFindings", request=None)
    for dummy in range(reads.burst):
        events.emit("before-send.securityhub.GetFindings", request=None)
    # Each operation has its own burst: neither waited for the other's.
    assert fake.sleeps == []

    events.emit("before-send.securityhub.GetFindings", request=None)
    events.emit("response-received.securityhub.BatchImportFindings", response_dict={"status_code": 429}, exception=None, parsed_response={}, context={})
    events.emit("before-send.securityhub.BatchImportFindings", request=None)
    # An operation without a quota of its own here is neither paced nor counted.
    events.emit("before-send.securityhub.EnableSecurityHub", request=None)

    # The read waited for its own bucket; the 429 emptied the imports' bucket (refilled meanwhile), so the import waited too.
    assert fake.sleeps == [pytest.approx(1 / reads.rate), pytest.approx(1 / imports.rate)]
    assert stats.as_dict() == {"sent": imports.burst + reads.burst + 2, "throttled": 1, "server_errors": 0, "connection_errors": 0}


def test_a_paced_client_waits_on_every_http_attempt_retries_included(no_sleep):
    fake = FakeTime()
    client, stats = aws.pace_service(make_client("securityhub", config=aws.client_config("securityhub")), clock=fake.clock, sleep=fake.sleep)
    http = FakeHttp()
    http.attach(client)
    reads = aws.PACES["securityhub"]["GetFindings"]
    for dummy in range(reads.burst):
        http.add({"Findings": []})
    http.add_error("TooManyRequestsException", 429, "Rate exceeded").add({"Findings": []})

    for dummy in range(reads.burst):
        client.get_findings(MaxResults=100)
    client.get_findings(MaxResults=100)

    # The burst went at once; the next call's first attempt waited for its token, was throttled (the bucket emptied),
    # and its retry waited for the next one.
    assert len(http.requests) == reads.burst + 2 and len(no_sleep) == 1
    assert fake.sleeps == [pytest.approx(1 / reads.rate), pytest.approx(1 / reads.rate)]
    assert stats.as_dict() == {"sent": reads.burst + 2, "throttled": 1, "server_errors": 0, "connection_errors": 0}


# ---- the client factory ------------------------------------------------------------------------------------


def test_the_session_is_made_once_with_the_sweeps_models_loaded():
    session = aws.shared_session()
    assert isinstance(session, botocore.session.Session)
    assert aws.shared_session() is session
    assert aws.WARM_SERVICES == ("sts", "apigateway")


def test_a_client_with_given_credentials_region_endpoint_and_config():
    made = aws.client("apigateway", "eu-west-1", "http://localhost:4566", apigateway_config(16), ASSUMED)

    assert (made.meta.region_name, made.meta.endpoint_url) == ("eu-west-1", "http://localhost:4566")
    assert (made.meta.config.retries, made.meta.config.max_pool_connections) == (BOTOCORE_RETRIES, 16)
    credentials = made._get_credentials()  # pylint: disable=protected-access
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("ASIAEXAMPLEEXAMPLE01", "secret", "token")


def test_an_empty_endpoint_is_aws_own():
    made = aws.client("apigateway", "eu-west-1", "", Config(), ASSUMED)
    assert made.meta.endpoint_url == "https://apigateway.eu-west-1.amazonaws.com"


def isolated_environment(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACONTROLLER000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "controller-secret")


def test_a_client_without_credentials_has_the_controllers_own(monkeypatch, tmp_path):
    isolated_environment(monkeypatch, tmp_path)
    # A session of this test's own: the process's shared one keeps whatever credentials it has resolved.
    monkeypatch.setattr(aws, "_SESSION", None)

    made = aws.client("sts", REGION)

    assert made._get_credentials().access_key == "AKIACONTROLLER000001"  # pylint: disable=protected-access
    assert aws.shared_session() is aws.shared_session()


@pytest.mark.parametrize(
    "service, retries, read_timeout",
    [
        ("sts", {"mode": "standard", "max_attempts": 4}, 30),
        ("ec2", {"mode": "standard", "max_attempts": 4}, 30),
        ("securityhub", {"mode": "standard", "max_attempts": 5}, 30),
        ("s3", {"mode": "standard", "max_attempts": 4}, 60),
    ],
)
def test_each_service_has_its_retries_and_timeouts(service, retries, read_timeout):
    config = aws.client_config(service)
    assert (config.retries, config.connect_timeout, config.read_timeout) == (retries, 10, read_timeout)
    # A client made with it leaves the next client's settings as they are.
    aws.client(service, REGION, config=config, credentials=TESTING_CREDENTIALS)
    assert aws.client_config(service).retries == retries


def test_a_factory_of_a_plugins_connection_settings(monkeypatch, tmp_path):
    isolated_environment(monkeypatch, tmp_path)
    connect = {"aws_access_key_id": "AKIAINVENTORY0000001", "aws_secret_access_key": "s", "aws_session_token": None, "verify": False,
               "aws_config": Config(read_timeout=99)}
    make = aws.client_factory("http://127.0.0.1:9", connect)

    sts = make("sts", REGION)
    ec2 = make("ec2", "eu-west-1", ASSUMED)

    assert (sts.meta.endpoint_url, sts.meta.region_name, ec2.meta.region_name) == ("http://127.0.0.1:9", REGION, "eu-west-1")
    # The service's own retries, the plugin's aws_config over them.
    # (botocore counts the first attempt in: max_attempts 4 is total_max_attempts 5.)
    assert (sts.meta.config.retries, sts.meta.config.connect_timeout, sts.meta.config.read_timeout) == ({"mode": "standard", "total_max_attempts": 5}, 10, 99)
    assert sts._get_credentials().access_key == "AKIAINVENTORY0000001"  # pylint: disable=protected-access
    # An assumed role's credentials replace the plugin's keys.
    assert ec2._get_credentials().access_key == "ASIAEXAMPLEEXAMPLE01"  # pylint: disable=protected-access


def test_a_factory_refuses_an_unknown_profile_at_once(monkeypatch, tmp_path):
    isolated_environment(monkeypatch, tmp_path)
    with pytest.raises(ProfileNotFound):
        aws.client_factory(None, {"profile_name": "nosuch", "aws_access_key_id": None, "aws_secret_access_key": None})


# ---- reaching an account -----------------------------------------------------------------------------------


@pytest.fixture(name="sts")
def sts_fixture():
    """(client(service, region) giving a real STS client answered by a Stubber, the stubber)."""
    raw = aws.client("sts", REGION, config=aws.client_config("sts"), credentials=TESTING_CREDENTIALS)
    made = []

    def client(service, region):
        made.append((service, region))
        return raw

    with Stubber(raw) as stubber:
        stubber.made = made
        yield client, stubber
        stubber.assert_no_pending_responses()


def identity(account=ACCOUNT):
    return {"Account": account, "Arn": f"arn:aws:iam::{account}:user/controller", "UserId": "AIDAEXAMPLEEXAMPLE1"}


def test_an_assumed_roles_account_is_the_named_one_else_the_roles(sts):
    client, stubber = sts
    answer = {"Credentials": dict(ASSUMED, Expiration="2030-01-01T00:00:00Z"),
              "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:s", "Arn": "arn:aws:sts::111111111111:assumed-role/TracingAudit/s"}}
    stubber.add_response("assume_role", answer, {"RoleArn": ROLE, "RoleSessionName": "tests"})
    stubber.add_response("assume_role", {"Credentials": answer["Credentials"]}, {"RoleArn": ROLE, "RoleSessionName": "tests", "ExternalId": "ext-1"})

    named = aws.reach_account(client, REGION, ROLE, None, "tests", ACCOUNT)
    unnamed = aws.reach_account(client, REGION, ROLE, "ext-1", "tests")

    assert (named.account_id, named.caller_arn, named.credentials["AccessKeyId"]) == (ACCOUNT, answer["AssumedRoleUser"]["Arn"], "ASIAEXAMPLEEXAMPLE01")
    # An answer without AssumedRoleUser (a local stand-in's) still reaches the role's account.
    assert (unnamed.account_id, unnamed.caller_arn) == (ACCOUNT, None)
    assert stubber.made == [("sts", REGION), ("sts", REGION)]


def test_the_controllers_own_account_named_or_not(sts):
    client, stubber = sts
    stubber.add_response("get_caller_identity", identity(OTHER_ACCOUNT))
    stubber.add_response("get_caller_identity", identity(OTHER_ACCOUNT))

    reach = aws.reach_account(client, REGION)
    with pytest.raises(aws.ReachError) as raised:
        aws.reach_account(client, REGION, account_id=ACCOUNT)

    assert (reach.account_id, reach.caller_arn, reach.credentials) == (OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:user/controller", None)
    assert (raised.value.step, raised.value.found, raised.value.cause) == (aws.OTHER_ACCOUNT, OTHER_ACCOUNT, None)


def test_each_step_that_fails_is_named_with_its_cause(sts):
    client, stubber = sts
    stubber.add_client_error("assume_role", "AccessDenied", "not trusted", 403)
    stubber.add_client_error("get_caller_identity", "ExpiredToken", "expired", 403)

    with pytest.raises(aws.ReachError) as assumed:
        aws.reach_account(client, REGION, ROLE, "secret-id", "tests")
    with pytest.raises(aws.ReachError) as asked:
        aws.reach_account(client, REGION)

    assert (assumed.value.step, assumed.value.cause) == (aws.ASSUME_ROLE, "AccessDenied: not trusted")
    assert (asked.value.step, asked.value.cause) == (aws.CALLER_IDENTITY, "ExpiredToken: expired" + aws.credentials_hint("ExpiredToken"))


def test_a_client_that_cannot_be_made_is_a_step_too():
    def broken(service, region):
        raise ProfileNotFound(profile="nosuch")

    with pytest.raises(aws.ReachError) as raised:
        aws.reach_account(broken, REGION, ROLE)
    assert (raised.value.step, raised.value.cause) == (aws.MAKE_CLIENT, "The config profile (nosuch) could not be found")


def test_the_callers_words_never_show_the_external_id():
    words = {aws.ASSUME_ROLE: "could not assume {role_arn} in {region}{external}: {cause}"}
    error = aws.ReachError(aws.ASSUME_ROLE, "AccessDenied: no")
    assert error.words(words, role_arn=ROLE, region=REGION, external_id="very-secret-id") == (
        f"could not assume {ROLE} in {REGION} with the external id: AccessDenied: no"
    )
    assert error.words(words, role_arn=ROLE, region=REGION, external_id=None) == f"could not assume {ROLE} in {REGION}: AccessDenied: no"


# ---- the error causes --------------------------------------------------------------------------------------


def test_describe_cause():
    assert aws.describe_cause(NoCredentialsError()) == "Unable to locate credentials" + aws.NO_CREDENTIALS_HINT
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")
    assert aws.describe_cause(denied) == "AccessDenied: no"
    refused = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert aws.describe_cause(refused) == 'Could not connect to the endpoint URL: "http://127.0.0.1:1"'


def test_error_code_of_an_answer_or_of_the_sdk():
    assert aws.error_code(ClientError({"Error": {"Code": "InvalidAccessException", "Message": "not subscribed"}}, "GetFindings")) == "InvalidAccessException"
    assert aws.error_code(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")) == "EndpointConnectionError"
    assert aws.error_message(ClientError({"Error": {"Code": "X"}}, "GetFindings")).startswith("An error occurred (X)")
