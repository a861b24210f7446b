# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one retry layer of API Gateway calls, at the HTTP layer: botocore's legacy retries and our ConflictException
handler, MAX_ATTEMPTS attempts per request in all, every attempt paced and counted.

A Stubber answers before botocore's retry machinery runs, so these tests answer at ``before-send`` instead
(conftest.py's aws_http): each answer below is one HTTP attempt, as AWS would see it.
"""

from __future__ import annotations

import botocore.retryhandler
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import ReadTimeoutError

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import apigateway
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import MAX_ATTEMPTS
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import list_rest_apis
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import retry_conflicts
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import set_tracing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestPacer
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeHttp
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeTime

API = "a1b2c3d4e5"
STAGES = f"/restapis/{API}/stages"
PROD = f"/restapis/{API}/stages/prod"
ENDPOINT = "https://apigateway.us-east-1.amazonaws.com"
NOTHING = {"sent": 0, "throttled": 0, "server_errors": 0, "connection_errors": 0}


def counts(**given):
    return dict(NOTHING, **given)


def assert_legacy_backoff(waits):
    """Before attempt n+1 botocore's legacy mode (and our conflict handler) waits random() * 2**(n-1) seconds."""
    for attempt, wait in enumerate(waits, start=1):
        assert 0 <= wait < 2 ** (attempt - 1), f"wait {wait} before attempt {attempt + 1} is outside [0, {2 ** (attempt - 1)})"


# ---- what is retried --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "add, kind",
    [
        (lambda http: http.add_error("TooManyRequestsException", 429, "Too Many Requests"), "throttled"),
        (lambda http: http.add_error("LimitExceededException", 429, "Rate exceeded"), "throttled"),
        # API Gateway's own header form: the code, then a colon and a namespace.
        (lambda http: http.add_error("TooManyRequestsException", 429, header_code="TooManyRequestsException:http://internal.amazon.com/coral/"),
         "throttled"),
        (lambda http: http.add_error("InternalFailure", 500), "server_errors"),
        (lambda http: http.add({"message": "Bad Gateway"}, 502), "server_errors"),
        (lambda http: http.add_error("ServiceUnavailableException", 503, "Service Unavailable"), "server_errors"),
        (lambda http: http.add(b"<html><body>504 Gateway Time-out</body></html>", 504, {"Content-Type": "text/html"}), "server_errors"),
        (lambda http: http.add_exception(ConnectionClosedError(endpoint_url=ENDPOINT)), "connection_errors"),
        (lambda http: http.add_exception(EndpointConnectionError(endpoint_url=ENDPOINT)), "connection_errors"),
        (lambda http: http.add_exception(ReadTimeoutError(endpoint_url=ENDPOINT)), "connection_errors"),
        # Retried by our needs-retry handler, not by botocore's; not counted as throttled or a server error.
        (lambda http: http.add_error("ConflictException", 409, "Another update is in progress"), None),
    ],
)
def test_a_transient_failure_is_retried_and_counted(aws_http, add, kind):
    aws = aws_http()
    add(aws.http)
    add(aws.http)
    aws.http.add({"item": [{"stageName": "prod"}]})

    assert get_stages(aws.client, API) == [{"stageName": "prod"}]

    assert aws.http.paths() == [STAGES] * 3
    assert len(aws.waits) == 2
    assert_legacy_backoff(aws.waits)
    assert aws.stats.as_dict() == (counts(sent=3, **{kind: 2}) if kind else counts(sent=3))


@pytest.mark.parametrize(
    "code, status",
    [("AccessDeniedException", 403), ("UnauthorizedException", 401), ("BadRequestException", 400), ("ValidationException", 400)],
)
def test_a_refusal_is_raised_at_once_not_retried(aws_http, code, status):
    aws = aws_http()
    aws.http.add_error(code, status, "not allowed")

    with pytest.raises(ClientError) as raised:
        get_stages(aws.client, API)

    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert (aws.http.paths(), aws.waits) == ([STAGES], [])
    assert aws.stats.as_dict() == counts(sent=1)


def test_not_found_is_one_attempt_and_reads_as_none(aws_http):
    aws = aws_http()
    aws.http.add_error("NotFoundException", 404, "Invalid Rest API Id specified")
    aws.http.add_error("NotFoundException", 404, "Invalid stage identifier specified")

    assert get_stages(aws.client, API) is None
    assert get_stage(aws.client, API, "prod") is None
    assert (aws.http.paths(), aws.waits) == ([STAGES, PROD], [])


# ---- how many attempts, how long between them -------------------------------------------------------------


def test_a_persistent_503_is_raised_after_exactly_max_attempts(aws_http):
    aws = aws_http()
    aws.http.repeat(MAX_ATTEMPTS + 1, aws.http.add_error, "ServiceUnavailableException", 503, "Service Unavailable")

    with pytest.raises(ClientError) as raised:
        get_stages(aws.client, API)

    assert raised.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == MAX_ATTEMPTS - 1 == 7
    assert raised.value.response["ResponseMetadata"]["MaxAttemptsReached"] is True
    assert len(aws.http.requests) == MAX_ATTEMPTS
    assert aws.http.pending == 1  # the answer after the last attempt was never asked for
    aws.http.answers.clear()
    assert len(aws.waits) == MAX_ATTEMPTS - 1
    assert_legacy_backoff(aws.waits)
    assert aws.stats.as_dict() == counts(sent=MAX_ATTEMPTS, server_errors=MAX_ATTEMPTS)


def test_a_connection_that_keeps_dropping_is_raised_after_max_attempts(aws_http):
    aws = aws_http()
    aws.http.repeat(MAX_ATTEMPTS, aws.http.add_exception, ConnectionClosedError(endpoint_url=ENDPOINT))

    with pytest.raises(ConnectionClosedError):
        get_stages(aws.client, API)

    assert len(aws.http.requests) == MAX_ATTEMPTS
    assert len(aws.waits) == MAX_ATTEMPTS - 1
    assert aws.stats.as_dict() == counts(sent=MAX_ATTEMPTS, connection_errors=MAX_ATTEMPTS)


def test_the_legacy_backoff_doubles_from_a_random_base(aws_http, monkeypatch):
    """delay = random() * 2**(attempts - 1), no cap: a persistent failure waits at most 1+2+...+64 = 127 s in all."""

    class FixedRandom:
        @staticmethod
        def random():
            return 0.5

    monkeypatch.setattr(botocore.retryhandler, "random", FixedRandom)
    aws = aws_http()
    aws.http.repeat(MAX_ATTEMPTS, aws.http.add_error, "TooManyRequestsException", 429, "Too Many Requests")

    with pytest.raises(ClientError):
        get_stages(aws.client, API)

    assert aws.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_backoff_stays_within_the_legacy_bounds_with_real_jitter(aws_http):
    for dummy in range(20):
        aws = aws_http()
        aws.http.repeat(MAX_ATTEMPTS, aws.http.add_error, "TooManyRequestsException", 429, "Too Many Requests")
        aws.waits.clear()
        with pytest.raises(ClientError):
            get_stages(aws.client, API)
        assert len(aws.waits) == MAX_ATTEMPTS - 1
        assert_legacy_backoff(aws.waits)


def test_there_is_no_retry_budget_to_exhaust(aws_http):
    """botocore's standard mode would stop retrying once its quota (500 tokens, 5 a retry) is spent; legacy never does."""
    aws = aws_http()
    for dummy in range(60):
        aws.http.add_error("ServiceUnavailableException", 503).add_error("InternalFailure", 500).add({"item": []})

    for dummy in range(60):
        assert get_stages(aws.client, API) == []

    assert aws.stats.as_dict() == counts(sent=180, server_errors=120)
    assert len(aws.waits) == 120


# ---- ConflictException, by our needs-retry handler ------------------------------------------------------------


def test_a_conflict_is_retried_up_to_max_attempts_then_raised(aws_http):
    aws = aws_http()
    aws.http.repeat(MAX_ATTEMPTS + 1, aws.http.add_error, "ConflictException", 409, "Unable to complete operation due to concurrent modification")

    with pytest.raises(ClientError) as raised:
        set_tracing(aws.client, API, "prod", True)

    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == MAX_ATTEMPTS - 1
    assert aws.http.requests == [("PATCH", PROD, {})] * MAX_ATTEMPTS
    assert aws.http.pending == 1
    aws.http.answers.clear()
    assert len(aws.waits) == MAX_ATTEMPTS - 1
    assert_legacy_backoff(aws.waits)
    assert aws.stats.as_dict() == counts(sent=MAX_ATTEMPTS)


def test_a_conflict_that_clears_lets_the_update_through(aws_http):
    aws = aws_http()
    aws.http.add_error("ConflictException", 409).add({"stageName": "prod", "tracingEnabled": True})

    assert set_tracing(aws.client, API, "prod", True)["tracingEnabled"] is True
    assert len(aws.http.requests) == 2
    assert len(aws.waits) == 1 and 0 <= aws.waits[0] < 1


def test_conflicts_and_botocores_retries_share_one_count_of_attempts(aws_http):
    """Not MAX_ATTEMPTS of each kind: MAX_ATTEMPTS attempts of the request in all, whoever asked for the retry."""
    aws = aws_http()
    http = aws.http
    http.add_error("TooManyRequestsException", 429).add_error("ConflictException", 409).add_error("ServiceUnavailableException", 503)
    http.add_exception(ConnectionClosedError(endpoint_url=ENDPOINT)).add_error("ConflictException", 409).add_error("InternalFailure", 500)
    http.add_error("TooManyRequestsException", 429).add_error("ConflictException", 409)

    with pytest.raises(ClientError) as raised:
        set_tracing(aws.client, API, "prod", False)

    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert len(http.requests) == MAX_ATTEMPTS
    assert_legacy_backoff(aws.waits)
    assert len(aws.waits) == MAX_ATTEMPTS - 1
    assert aws.stats.as_dict() == counts(sent=8, throttled=2, server_errors=2, connection_errors=1)


def test_the_conflict_handler_follows_the_legacy_formula_and_its_own_limit(no_sleep):
    http = FakeHttp()
    raw = http.attach(retry_conflicts(make_client(), max_attempts=4, rand=lambda: 0.5))
    http.repeat(4, http.add_error, "ConflictException", 409)

    with pytest.raises(ClientError):
        raw.update_stage(restApiId=API, stageName="prod", patchOperations=[])

    assert len(http.requests) == 4
    assert no_sleep == [0.5, 1.0, 2.0]


def test_the_conflict_handler_leaves_every_other_answer_to_botocore(no_sleep):
    """Registered alone on a client without botocore's retries, it retries ConflictException and nothing else."""
    http = FakeHttp()
    raw = http.attach(retry_conflicts(make_client(config=Config(retries={"mode": "legacy", "total_max_attempts": 1}))))
    http.add_error("TooManyRequestsException", 429)
    http.add_exception(EndpointConnectionError(endpoint_url=ENDPOINT))

    with pytest.raises(ClientError):
        raw.get_stages(restApiId=API)
    with pytest.raises(EndpointConnectionError):
        raw.get_stages(restApiId=API)
    assert (len(http.requests), no_sleep) == (2, [])


# ---- pagination ---------------------------------------------------------------------------------------------


def test_a_throttled_page_is_retried_in_place(aws_http):
    """botocore retries the one GetRestApis request; the pages read before it are not read again."""
    aws = aws_http()
    # On the wire the APIs of a page are under "item" (botocore names them "items").
    aws.http.add({"item": [{"id": "aaaaaaaaa1", "name": "one"}], "position": "p2"})
    aws.http.add_error("TooManyRequestsException", 429, "Too Many Requests")
    aws.http.add({"item": [{"id": "aaaaaaaaa2", "name": "two"}], "position": "p3"})
    aws.http.add_exception(ConnectionClosedError(endpoint_url=ENDPOINT))
    aws.http.add({"item": [{"id": "aaaaaaaaa3", "name": "three"}]})

    assert [api["id"] for api in list_rest_apis(aws.client)] == ["aaaaaaaaa1", "aaaaaaaaa2", "aaaaaaaaa3"]

    assert aws.http.requests == [
        ("GET", "/restapis", {"limit": "500"}),
        ("GET", "/restapis", {"limit": "500", "position": "p2"}),
        ("GET", "/restapis", {"limit": "500", "position": "p2"}),
        ("GET", "/restapis", {"limit": "500", "position": "p3"}),
        ("GET", "/restapis", {"limit": "500", "position": "p3"}),
    ]
    assert len(aws.waits) == 2
    assert_legacy_backoff(aws.waits)
    assert aws.stats.as_dict() == counts(sent=5, throttled=1, connection_errors=1)


def test_a_page_that_keeps_failing_fails_the_listing(aws_http):
    aws = aws_http()
    aws.http.add({"item": [{"id": "aaaaaaaaa1", "name": "one"}], "position": "p2"})
    aws.http.repeat(MAX_ATTEMPTS, aws.http.add_error, "TooManyRequestsException", 429, "Too Many Requests")

    with pytest.raises(ClientError) as raised:
        list_rest_apis(aws.client)

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert aws.http.requests[0] == ("GET", "/restapis", {"limit": "500"})
    assert aws.http.requests[1:] == [("GET", "/restapis", {"limit": "500", "position": "p2"})] * MAX_ATTEMPTS
    assert aws.stats.as_dict() == counts(sent=1 + MAX_ATTEMPTS, throttled=MAX_ATTEMPTS)


# ---- the pacer sees every attempt ------------------------------------------------------------------------------


def test_every_attempt_waits_for_the_pacer_and_a_429_slows_it(aws_http, monkeypatch):
    fake = FakeTime()
    pacers = []

    def pacer(rate):
        pacers.append(RequestPacer(rate, clock=fake.clock, sleep=fake.sleep))
        return pacers[-1]

    monkeypatch.setattr(apigateway, "RequestPacer", pacer)
    aws = aws_http(rate=9.5)
    aws.http.add({"item": []})
    aws.http.add_error("TooManyRequestsException", 429).add_error("ConflictException", 409)
    aws.http.add_exception(EndpointConnectionError(endpoint_url=ENDPOINT)).add_error("ServiceUnavailableException", 503)
    aws.http.add({"item": [{"stageName": "prod"}]})

    assert get_stages(aws.client, API) == []
    assert fake.sleeps == []  # within the burst: no wait
    assert get_stages(aws.client, API) == [{"stageName": "prod"}]

    assert len(pacers) == 1
    # The 429 emptied the bucket: each of the four retries then waited for its token at 9.5 requests/s.
    assert fake.sleeps == [pytest.approx(1 / 9.5)] * 4
    assert len(aws.waits) == 4  # and botocore's own backoff came on top, between the same attempts
    assert aws.stats.as_dict() == counts(sent=6, throttled=1, server_errors=1, connection_errors=1)


def test_the_stubber_bypasses_the_retry_layer(stubbed, no_sleep):
    """Why the tests above answer at the HTTP layer: a stubbed 429 is raised at once, with no attempt counted."""
    client, stubber = stubbed
    stubber.add_client_error("get_stages", "TooManyRequestsException", "Too Many Requests", 429)

    with pytest.raises(ClientError):
        get_stages(client, API)
    assert no_sleep == []
