# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The API Gateway calls and the client they are made with; the retries themselves are in test_retries.py."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import apigateway
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import BOTOCORE_RETRIES
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import MAX_ATTEMPTS
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_config
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_rest_api
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import list_rest_apis
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import paced_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import set_tracing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestStats
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client


def test_rest_apis_are_read_500_a_page_to_the_last_page(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "one"}], "position": "p2"}, {"limit": 500})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa2", "name": "two"}], "position": "p3"}, {"limit": 500, "position": "p2"})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa3", "name": "three"}]}, {"limit": 500, "position": "p3"})

    assert [api["id"] for api in list_rest_apis(client)] == ["aaaaaaaaa1", "aaaaaaaaa2", "aaaaaaaaa3"]


def test_a_region_without_apis_lists_none(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {}, {"limit": 500})
    assert list_rest_apis(client) == []


def test_missing_api_or_stage_reads_as_none(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_rest_api", "NotFoundException", "Invalid API identifier specified", 404)
    stubber.add_client_error("get_stages", "NotFoundException", "Invalid Rest API Id specified", 404)
    stubber.add_client_error("get_stage", "NotFoundException", "Invalid stage identifier specified", 404)

    assert get_rest_api(client, "a1b2c3d4e5") is None
    assert get_stages(client, "a1b2c3d4e5") is None
    assert get_stage(client, "a1b2c3d4e5", "prod") is None


def test_reads_take_no_aws_retry_argument(stubbed):
    """amazon.aws's wrapper is gone: the calls are the botocore client's own, with the API's parameters only."""
    client, stubber = stubbed
    stubber.add_response("get_rest_api", {"id": "a1b2c3d4e5", "name": "orders"}, {"restApiId": "a1b2c3d4e5"})
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a1b2c3d4e5"})
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": "a1b2c3d4e5", "stageName": "prod"})

    assert get_rest_api(client, "a1b2c3d4e5")["name"] == "orders"
    assert get_stages(client, "a1b2c3d4e5") == [{"stageName": "prod"}]
    assert get_stage(client, "a1b2c3d4e5", "prod")["stageName"] == "prod"


@pytest.mark.parametrize("enabled, value", [(True, "true"), (False, "false")])
def test_set_tracing_sends_the_one_replace_patch(stubbed, enabled, value):
    client, stubber = stubbed
    stubber.add_response(
        "update_stage",
        {"stageName": "prod", "tracingEnabled": enabled},
        {"restApiId": "a1b2c3d4e5", "stageName": "prod", "patchOperations": [{"op": "replace", "path": "/tracingEnabled", "value": value}]},
    )

    assert set_tracing(client, "a1b2c3d4e5", "prod", enabled)["tracingEnabled"] is enabled


def test_partition_and_region_of_the_client():
    assert partition_and_region(make_client(region="eu-west-1")) == ("aws", "eu-west-1")
    assert partition_and_region(make_client(region="cn-north-1")) == ("aws-cn", "cn-north-1")


# ---- the client ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency, pool", [(1, 10), (4, 10), (16, 16)])
def test_apigateway_config_has_a_connection_per_thread_and_the_one_retry_layer(concurrency, pool):
    config = apigateway_config(concurrency)
    assert config.max_pool_connections == pool
    assert config.retries == BOTOCORE_RETRIES == {"mode": "legacy", "total_max_attempts": MAX_ATTEMPTS}
    assert MAX_ATTEMPTS == 8


def test_a_client_made_with_the_config_keeps_botocores_legacy_retries():
    client = make_client(config=apigateway_config(4))
    assert client.meta.config.retries == {"mode": "legacy", "total_max_attempts": 8}
    assert client.meta.config.max_pool_connections == 10


@pytest.mark.parametrize("rate", [None, 9.5])
def test_paced_client_returns_the_raw_client_and_its_counts(monkeypatch, rate):
    pacers = []

    def pacer(max_requests_per_second):
        pacers.append(RequestPacer(max_requests_per_second))
        return pacers[-1]

    monkeypatch.setattr(apigateway, "RequestPacer", pacer)
    raw = make_client()

    client, stats = paced_client(raw, rate)

    # No wrapper: what the modules and the engine call is botocore's client, with botocore's retries.
    assert client is raw
    assert isinstance(stats, RequestStats)
    assert stats.as_dict() == {"sent": 0, "throttled": 0, "server_errors": 0, "connection_errors": 0}
    assert [p.rate for p in pacers] == ([] if rate is None else [rate])
    # Every attempt of API Gateway is counted (how they are answered: test_retries.py), another service's is not.
    raw.meta.events.emit("before-send.api-gateway.GetStages", request=None)
    raw.meta.events.emit("before-send.sts.GetCallerIdentity", request=None)
    assert stats.as_dict()["sent"] == 1


def test_apigateway_client_makes_the_modules_client_with_the_retry_layer():
    made = []

    class FakeModule:
        def client(self, service, config=None):
            made.append((service, config))
            return make_client(config=config)

    client, stats = apigateway_client(FakeModule(), max_requests_per_second=9.5, concurrency=16)

    [(service, config)] = made
    assert service == "apigateway"
    assert (config.retries, config.max_pool_connections) == (BOTOCORE_RETRIES, 16)
    assert client.meta.config.retries == BOTOCORE_RETRIES
    assert isinstance(stats, RequestStats)
