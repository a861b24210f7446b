# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import BOTOCORE_RETRIES
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_config
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import list_rest_apis
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import paced_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import set_tracing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import RequestStats


def test_rest_apis_are_read_500_a_page_to_the_last_page(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "one"}], "position": "p2"}, {"limit": 500})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa2", "name": "two"}], "position": "p3"}, {"limit": 500, "position": "p2"})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa3", "name": "three"}]}, {"limit": 500, "position": "p3"})

    assert [api["id"] for api in list_rest_apis(client)] == ["aaaaaaaaa1", "aaaaaaaaa2", "aaaaaaaaa3"]


def test_throttled_page_is_retried_not_surfaced(stubbed, no_sleep):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "one"}], "position": "p2"}, {"limit": 500})
    stubber.add_client_error("get_rest_apis", "TooManyRequestsException", "Too Many Requests", 429)
    # amazon.aws retries the whole pagination, so the first page is read again.
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "one"}], "position": "p2"}, {"limit": 500})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa2", "name": "two"}]}, {"limit": 500, "position": "p2"})

    assert [api["id"] for api in list_rest_apis(client)] == ["aaaaaaaaa1", "aaaaaaaaa2"]
    assert len(no_sleep) == 1


@pytest.mark.parametrize(
    "code, status",
    [("TooManyRequestsException", 429), ("ServiceUnavailableException", 503), ("ConflictException", 409), ("InternalFailure", 500)],
)
def test_throttling_and_transient_errors_are_retried_with_backoff(stubbed, no_sleep, code, status):
    client, stubber = stubbed
    stubber.add_client_error("get_stages", code, "try later", status)
    stubber.add_client_error("get_stages", code, "try later", status)
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a1b2c3d4e5"})

    assert get_stages(client, "a1b2c3d4e5") == [{"stageName": "prod"}]
    assert len(no_sleep) == 2
    assert no_sleep[1] >= 0  # jittered: any wait up to the cap


def test_retries_stop_after_the_limit_and_raise(stubbed, no_sleep):
    client, stubber = stubbed
    # amazon.aws's retries=10 means ten attempts in all, nine waits between them.
    for _attempt in range(10):
        stubber.add_client_error("get_stage", "TooManyRequestsException", "slow down", 429)

    with pytest.raises(ClientError) as raised:
        get_stage(client, "a1b2c3d4e5", "prod")
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert len(no_sleep) == 9


def test_access_denied_is_not_retried(stubbed, no_sleep):
    client, stubber = stubbed
    stubber.add_client_error("get_stages", "AccessDeniedException", "not allowed", 403)

    with pytest.raises(ClientError):
        get_stages(client, "a1b2c3d4e5")
    assert no_sleep == []


def test_missing_api_or_stage_reads_as_none(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_stages", "NotFoundException", "Invalid Rest API Id specified", 404)
    stubber.add_client_error("get_stage", "NotFoundException", "Invalid stage identifier specified", 404)

    assert get_stages(client, "a1b2c3d4e5") is None
    assert get_stage(client, "a1b2c3d4e5", "prod") is None


@pytest.mark.parametrize("enabled, value", [(True, "true"), (False, "false")])
def test_set_tracing_sends_the_one_replace_patch(stubbed, enabled, value):
    client, stubber = stubbed
    stubber.add_response(
        "update_stage",
        {"stageName": "prod", "tracingEnabled": enabled},
        {"restApiId": "a1b2c3d4e5", "stageName": "prod", "patchOperations": [{"op": "replace", "path": "/tracingEnabled", "value": value}]},
    )

    assert set_tracing(client, "a1b2c3d4e5", "prod", enabled)["tracingEnabled"] is enabled


@pytest.mark.parametrize("concurrency, pool", [(1, 10), (4, 10), (16, 16)])
def test_apigateway_config_has_a_connection_per_thread_and_botocores_retries(concurrency, pool):
    config = apigateway_config(concurrency)
    assert config.max_pool_connections == pool
    assert config.retries == BOTOCORE_RETRIES


@pytest.mark.parametrize("rate", [None, 9.5])
def test_paced_client_retries_as_the_modules_client_and_counts_every_attempt(no_sleep, rate):
    raw = boto3.client("apigateway", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    client, stats = paced_client(raw, rate)
    assert isinstance(client, RetryingBotoClientWrapper)
    assert isinstance(stats, RequestStats)
    with Stubber(raw) as stubber:
        stubber.add_client_error("get_stages", "TooManyRequestsException", "slow down", 429)
        stubber.add_response("get_stages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a1b2c3d4e5"})

        assert get_stages(client, "a1b2c3d4e5") == [{"stageName": "prod"}]
        stubber.assert_no_pending_responses()
    assert len(no_sleep) == 1  # retried by amazon.aws's AWSRetry, as aws_retry=True asks
    # Every HTTP attempt of the raw client is counted (a Stubber answers before any is sent, so emit them).
    raw.meta.events.emit("before-send.api-gateway.GetStages", request=None)
    raw.meta.events.emit("response-received.api-gateway.GetStages", response_dict={"status_code": 429}, exception=None, parsed_response={}, context={})
    assert stats.as_dict() == {"sent": 1, "throttled": 1, "server_errors": 0, "connection_errors": 0}
