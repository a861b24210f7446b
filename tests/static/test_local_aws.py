# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local AWS of the test harness (tools/local_aws.py): operation names, seeding, the request log, AWS-like paging.

tests/integration/test_harness.py shows that a real ansible-playbook reaches it.
"""

from __future__ import annotations

import boto3
import pytest

from local_aws import LocalAws, operation_name, seed


@pytest.mark.parametrize("method,path,expected", [
    ("GET", "/restapis", "GetRestApis"),
    ("POST", "/restapis", "CreateRestApi"),
    ("GET", "/restapis/a1b2c3d4e5", "GetRestApi"),
    ("GET", "/restapis/a1b2c3d4e5/stages", "GetStages"),
    ("POST", "/restapis/a1b2c3d4e5/stages", "CreateStage"),
    ("GET", "/restapis/a1b2c3d4e5/stages/prod", "GetStage"),
    ("PATCH", "/restapis/a1b2c3d4e5/stages/prod", "UpdateStage"),
    ("DELETE", "/restapis/a1b2c3d4e5/stages/prod", "DELETE /restapis/a1b2c3d4e5/stages/prod"),
])
def test_operation_names(method, path, expected):
    assert operation_name(method, path, "apigateway") == expected


def test_seed_records_and_reset(aws, apigw):
    ids = seed(apigw, [
        {"name": "orders", "id": "a1b2c3d4e5", "stages": {"prod": {"tracing": True, "tags": {"Env": "prod"}}, "dev": {}}},
        {"name": "users", "stages": {"v1": {"tracing": False}}},
    ])
    assert ids[0] == "a1b2c3d4e5" and len(ids) == 2
    stages = {s["stageName"]: s for s in apigw.get_stages(restApiId=ids[0])["item"]}
    assert stages["prod"]["tracingEnabled"] is True
    assert stages["prod"]["tags"] == {"Env": "prod"}
    # The absent key is the point: stages never given tracing must not carry it.
    assert "tracingEnabled" not in stages["dev"]
    assert "tracingEnabled" not in apigw.get_stage(restApiId=ids[1], stageName="v1")
    assert aws.calls("CreateRestApi") == 2 and aws.calls("CreateStage") == 3
    assert aws.calls("GetStage") == 1 and aws.calls("GetStages") == 1
    assert all(r.region == "us-east-1" and r.account == "123456789012" for r in aws.requests)
    assert [r.operation for r in aws.writes()] == ["CreateRestApi", "CreateStage", "CreateStage", "CreateRestApi", "CreateStage"]
    aws.reset()
    assert aws.requests == []
    assert apigw.get_rest_apis()["items"] == []


def test_get_rest_apis_pages_like_aws(aws, apigw):
    seed(apigw, [{"name": "api%02d" % i} for i in range(30)])
    aws.clear()
    first = apigw.get_rest_apis()
    assert len(first["items"]) == 25 and first.get("position")
    assert len(apigw.get_rest_apis(limit=500)["items"]) == 30
    aws.rest_apis_page_cap = 7
    pages = list(apigw.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500}))
    assert [len(p["items"]) for p in pages] == [7, 7, 7, 7, 2]
    assert len({i["id"] for p in pages for i in p["items"]}) == 30


def test_regions_are_recorded(aws):
    aws.client("apigateway", region="eu-west-1").create_rest_api(name="x")
    assert aws.requests[-1].region == "eu-west-1"
    assert aws.client("apigateway").get_rest_apis()["items"] == []


def test_binds_loopback_only():
    with LocalAws() as server:
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        port = int(server.endpoint_url.rsplit(":", 1)[1])
        assert port > 0
        client = boto3.client("sts", region_name="us-east-1", endpoint_url=server.endpoint_url,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        assert client.get_caller_identity()["Account"] == "123456789012"


def test_assumed_role_requests_carry_their_account(aws):
    credentials = aws.client("sts").assume_role(RoleArn="arn:aws:iam::111111111111:role/audit", RoleSessionName="it")["Credentials"]
    client = boto3.client(
        "apigateway", region_name="eu-west-1", endpoint_url=aws.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    client.create_rest_api(name="audit")
    last = aws.requests[-1]
    assert (last.operation, last.account, last.region) == ("CreateRestApi", "111111111111", "eu-west-1")
    assert aws.client("apigateway", region="eu-west-1").get_rest_apis()["items"] == []
