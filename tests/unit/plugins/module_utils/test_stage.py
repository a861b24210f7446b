# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import boto3
import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import normalize_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import stage_arn
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import tracing_enabled


@pytest.mark.parametrize(
    "region, expected_arn",
    [
        ("us-east-1", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"),
        ("cn-north-1", "arn:aws-cn:apigateway:cn-north-1::/restapis/a1b2c3d4e5/stages/prod"),
        ("us-gov-west-1", "arn:aws-us-gov:apigateway:us-gov-west-1::/restapis/a1b2c3d4e5/stages/prod"),
    ],
)
def test_arn_uses_the_partition_of_the_client_region(region, expected_arn):
    client = boto3.client("apigateway", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    partition, client_region = partition_and_region(client)
    assert stage_arn(partition, client_region, "a1b2c3d4e5", "prod") == expected_arn


@pytest.mark.parametrize("stage, expected", [({}, False), ({"tracingEnabled": False}, False), ({"tracingEnabled": True}, True)])
def test_absent_tracing_key_means_off(stage, expected):
    assert tracing_enabled(stage) is expected


def test_normalize_stage_keeps_user_keys_and_makes_flags_explicit():
    raw = {
        "stageName": "prod",
        "deploymentId": "x1y2z3",
        "tags": {"CostCenter": "A1", "Env": "prod"},
        "variables": {"backendHost": "orders.internal"},
        "methodSettings": {"~1orders/GET": {"metricsEnabled": True, "loggingLevel": "INFO"}},
        "accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:111111111111:log-group:access", "format": "$context.requestId"},
        "cacheClusterEnabled": False,
        "createdDate": datetime.datetime(2026, 1, 31, 9, 30, tzinfo=datetime.timezone.utc),
        "webAclArn": "arn:aws:wafv2:us-east-1:111111111111:regional/webacl/x/y",
    }
    stage = normalize_stage(raw, "a1b2c3d4e5", "orders", "aws", "us-east-1")

    assert stage["tracing_enabled"] is False
    assert stage["access_logging_enabled"] is True
    assert stage["tags"] == {"CostCenter": "A1", "Env": "prod"}
    assert stage["variables"] == {"backendHost": "orders.internal"}
    assert stage["method_settings"] == {"~1orders/GET": {"metrics_enabled": True, "logging_level": "INFO"}}
    assert stage["access_log_settings"]["destination_arn"].startswith("arn:aws:logs:")
    assert stage["created_date"] == "2026-01-31T09:30:00+00:00"
    assert stage["last_updated_date"] is None
    assert stage["web_acl_arn"].startswith("arn:aws:wafv2:")
    assert (stage["rest_api_id"], stage["rest_api_name"], stage["stage_name"], stage["deployment_id"]) == ("a1b2c3d4e5", "orders", "prod", "x1y2z3")
    assert stage["arn"] == "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"


def test_access_logging_off_without_destination():
    stage = normalize_stage({"stageName": "dev"}, "a1b2c3d4e5", "orders", "aws", "us-east-1")
    assert stage["access_logging_enabled"] is False
    assert stage["tags"] == {}
