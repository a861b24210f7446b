# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.modules import apigw_stage_tracing as module

API = "a1b2c3d4e5"


@pytest.mark.parametrize(
    "args, fragments",
    [
        ({"rest_api_id": "A1B2C3D4E5", "stage_name": "prod"}, ["rest_api_id", "10 lowercase letters or digits"]),
        ({"rest_api_id": API, "stage_name": "prod stage"}, ["stage_name", "1 to 128 characters"]),
        ({"rest_api_id": API, "stage_name": "prod", "stages": [{"rest_api_id": API, "stage_name": "dev"}]}, ["mutually exclusive", "stages"]),
        ({}, ["one of the following is required", "rest_api_id", "stages"]),
        ({"stage_name": "prod"}, ["required together", "rest_api_id"]),
        ({"stages": []}, ["stages is empty"]),
        ({"stages": [{"rest_api_id": API, "stage_name": "prod", "colour": "red"}]}, ["colour", "stages"]),
        ({"stages": [{"rest_api_id": API}]}, ["stage_name", "stages", "missing required"]),
        ({"stages": [{"rest_api_id": API, "stage_name": "prod"}, {"rest_api_id": API, "stage_name": "prod"}]}, ["stages[1] repeats stage", "stages[0]"]),
        ({"stages": [{"rest_api_id": "nope", "stage_name": "prod"}]}, ["stages[0].rest_api_id 'nope'"]),
        ({"rest_api_id": API, "stage_name": "prod", "tracing_enabled": "maybe"}, ["tracing_enabled", "bool"]),
        ({"stages": [{"rest_api_id": API, "stage_name": "prod", "tracing_enabled": "maybe"}]}, ["tracing_enabled", "bool"]),
    ],
)
def test_bad_input_fails_before_any_aws_client_exists(run_module, args, fragments):
    result = run_module(module, args)

    assert result["failed"] is True
    for fragment in fragments:
        assert fragment in result["msg"]


def test_list_form_reports_every_failure_and_what_changed(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev"}]}, {"restApiId": API})
    stubber.add_client_error("update_stage", "AccessDeniedException", "User is not authorized", 403)
    stubber.add_response("update_stage", {"stageName": "dev", "tracingEnabled": True})

    result = run_module(
        module,
        {"stages": [{"rest_api_id": API, "stage_name": "prod"}, {"rest_api_id": API, "stage_name": "dev"}, {"rest_api_id": API, "stage_name": "gone"}]},
        client=client,
    )

    assert result["failed"] is True
    assert result["changed"] is True
    assert result["msg"].startswith("2 of 3 stages could not be converged: ")
    assert "iam:CreateServiceLinkedRole" in result["msg"]
    assert f"Stage {API}/gone does not exist" in result["msg"]
    assert [(f["stage_name"], f["error_code"]) for f in result["failures"]] == [("prod", "AccessDeniedException"), ("gone", "NotFoundException")]
    assert [(s["stage_name"], s["changed"]) for s in result["stages"]] == [("dev", True)]
    assert [m["stage_name"] for m in result["missing"]] == ["gone"]


def test_ignore_missing_lists_without_failing(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_stage", "NotFoundException", "Invalid stage identifier specified", 404)

    result = run_module(module, {"rest_api_id": API, "stage_name": "gone", "ignore_missing": True}, client=client)

    assert not result.get("failed")
    assert result["changed"] is False
    assert result["missing"] == [{"rest_api_id": API, "stage_name": "gone", "arn": f"arn:aws:apigateway:us-east-1::/restapis/{API}/stages/gone"}]
    assert "stage" not in result


def test_single_form_returns_the_stage_after(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod", "deploymentId": "d1", "tags": {"Env": "prod"}})
    stubber.add_response("update_stage", {"stageName": "prod", "deploymentId": "d1", "tags": {"Env": "prod"}, "tracingEnabled": True})

    result = run_module(module, {"rest_api_id": API, "stage_name": "prod"}, client=client)

    assert result["changed"] is True
    assert result["stage"]["tracing_enabled"] is True
    assert result["stage"]["tags"] == {"Env": "prod"}
    assert result["stages"] == [
        {
            "rest_api_id": API,
            "stage_name": "prod",
            "arn": f"arn:aws:apigateway:us-east-1::/restapis/{API}/stages/prod",
            "tracing_enabled_before": False,
            "tracing_enabled": True,
            "changed": True,
        }
    ]


def test_many_failures_are_summarised_in_msg_and_all_returned(run_module, stubbed):
    client, stubber = stubbed
    names = [f"s{index:02d}" for index in range(13)]
    stubber.add_response("get_stages", {"item": []}, {"restApiId": API})

    result = run_module(module, {"stages": [{"rest_api_id": API, "stage_name": name} for name in names]}, client=client)

    assert result["msg"].startswith("13 of 13 stages could not be converged: ")
    assert result["msg"].endswith("; and 3 more, listed in failures")
    assert f"Stage {API}/s09 does not exist in us-east-1" in result["msg"]
    assert f"{API}/s10" not in result["msg"]
    assert [failure["stage_name"] for failure in result["failures"]] == names
