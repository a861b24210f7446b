# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""apigw_stage_tracing run in-process: input refused before any client exists, convergence against a stubbed client."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.modules import apigw_stage_tracing as module

API = "a1b2c3d4e5"
RATE_RULE = "must be a number greater than 0"
NOTHING_GIVEN = "rest_api_id, stages: give rest_api_id and stage_name for one stage, or stages, a non-empty list, got null"


@pytest.mark.parametrize(
    "args, fragments",
    [
        ({"rest_api_id": "A1B2C3D4E5", "stage_name": "prod"}, ["rest_api_id", "10 lowercase letters or digits"]),
        ({"rest_api_id": API, "stage_name": "prod stage"}, ["stage_name", "1 to 128 characters"]),
        ({"rest_api_id": API, "stage_name": "prod", "stages": [{"rest_api_id": API, "stage_name": "dev"}]}, ["mutually exclusive", "stages"]),
        ({}, ["one of the following is required", "rest_api_id", "stages"]),
        ({"stage_name": "prod"}, ["required together", "rest_api_id"]),
        ({"stages": []}, ["stages: must list at least one stage (or use rest_api_id and stage_name), got an empty list"]),
        # required_one_of counts an option given as null: the module says what is missing.
        ({"stages": None}, [NOTHING_GIVEN]),
        ({"rest_api_id": None, "stage_name": None}, [NOTHING_GIVEN]),
        ({"rest_api_id": None, "stage_name": "prod"}, [NOTHING_GIVEN]),
        # An item's required id given as null is refused (Ansible's str type hands it over as '').
        ({"stages": [{"rest_api_id": None, "stage_name": "prod"}]}, ["stages[0].rest_api_id: must be a REST API id", "got ''"]),
        ({"stages": [{"rest_api_id": API, "stage_name": None}]}, ["stages[0].stage_name: must be a stage name", "got ''"]),
        ({"stages": [{"rest_api_id": API, "stage_name": "prod", "colour": "red"}]}, ["colour", "stages"]),
        ({"stages": [{"rest_api_id": API}]}, ["stage_name", "stages", "missing required"]),
        (
            {"stages": [{"rest_api_id": API, "stage_name": "prod"}, {"rest_api_id": API, "stage_name": "prod"}]},
            [f"stages[1]: must not repeat a stage, got {API}/prod already listed at stages[0]"],
        ),
        ({"stages": [{"rest_api_id": "nope", "stage_name": "prod"}]}, ["stages[0].rest_api_id: must be a REST API id", "got 'nope'"]),
        ({"rest_api_id": API + "\n", "stage_name": "prod"}, ["rest_api_id: must be a REST API id", "got 'a1b2c3d4e5\\n'"]),
        # type raw: a boolean is no rate (a float type would have read it as 1.0).
        ({"rest_api_id": API, "stage_name": "prod", "max_requests_per_second": True}, ["max_requests_per_second: " + RATE_RULE, "got true (boolean)"]),
        ({"rest_api_id": API, "stage_name": "prod", "max_requests_per_second": "fast"}, ["max_requests_per_second: " + RATE_RULE, "got 'fast'"]),
        ({"rest_api_id": API, "stage_name": "prod", "max_requests_per_second": 0}, ["max_requests_per_second: " + RATE_RULE, "got 0 (integer)"]),
        ({"rest_api_id": API, "stage_name": "prod", "concurrency": 17}, ["concurrency: must be a whole number from 1 to 16", "got 17 (integer)"]),
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


@pytest.mark.parametrize("rate, expected", [("9.5", 9.5), (2, 2.0), ("0.5", 0.5)])
def test_a_rate_given_as_a_number_or_a_decimal_string_paces_the_client(run_module, stubbed, rate, expected):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod", "tracingEnabled": True})

    result = run_module(module, {"rest_api_id": API, "stage_name": "prod", "max_requests_per_second": rate, "concurrency": 2}, client=client)

    assert not result.get("failed")
    assert run_module.client_args == [(expected, 2)]
    assert isinstance(run_module.client_args[0][0], float)


# ---- a stage deleted between the read and the write -----------------------------------------------------


def test_a_stage_deleted_before_its_update_is_missing_with_ignore_missing(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev"}]}, {"restApiId": API})
    stubber.add_client_error("update_stage", "NotFoundException", "Invalid stage identifier specified", 404)
    stubber.add_response("update_stage", {"stageName": "dev", "tracingEnabled": True})

    result = run_module(
        module, {"stages": [{"rest_api_id": API, "stage_name": "prod"}, {"rest_api_id": API, "stage_name": "dev"}], "ignore_missing": True}, client=client
    )

    assert not result.get("failed")
    assert [m["stage_name"] for m in result["missing"]] == ["prod"]
    assert [(s["stage_name"], s["changed"]) for s in result["stages"]] == [("dev", True)]
    assert "failures" not in result


def test_a_stage_deleted_before_its_update_fails_the_task_as_missing_without_ignore_missing(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod"})
    stubber.add_client_error("update_stage", "NotFoundException", "Invalid stage identifier specified", 404)

    result = run_module(module, {"rest_api_id": API, "stage_name": "prod"}, client=client)

    assert result["failed"] is True
    assert result["msg"] == (
        f"1 of 1 stages could not be converged: Stage {API}/prod does not exist in us-east-1 (no such REST API or stage; "
        "ignore_missing=true lists it in missing instead)"
    )
    assert [(f["stage_name"], f["error_code"]) for f in result["failures"]] == [("prod", "NotFoundException")]
    assert [m["stage_name"] for m in result["missing"]] == ["prod"]
    assert result["changed"] is False


# ---- diff mode -----------------------------------------------------------------------------------------


@pytest.fixture(name="sts")
def sts_fixture(monkeypatch):
    """The STS client module.client('sts') gives, answered by a Stubber: no request leaves the process."""
    raw = boto3.client("sts", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(raw) as stubber:
        monkeypatch.setattr(module.AnsibleAWSModule, "client", lambda self, service, *args, **kwargs: raw if service == "sts" else pytest.fail(service))
        yield stubber


def identity(account="111111111111"):
    return {"Account": account, "Arn": f"arn:aws:iam::{account}:user/me", "UserId": "AIDAEXAMPLE"}


@pytest.mark.parametrize("check_mode, verb", [(False, "changed"), (True, "would change")])
def test_list_form_diff_is_one_compact_diff(run_module, stubbed, sts, check_mode, verb):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev", "tracingEnabled": True}, {"stageName": "qa"}]})
    if not check_mode:
        stubber.add_response("update_stage", {"stageName": "prod", "tracingEnabled": True})
        stubber.add_response("update_stage", {"stageName": "dev", "tracingEnabled": False})
    sts.add_response("get_caller_identity", identity())

    result = run_module(
        module,
        {
            "stages": [
                {"rest_api_id": API, "stage_name": "prod"},
                {"rest_api_id": API, "stage_name": "dev", "tracing_enabled": False},
                {"rest_api_id": API, "stage_name": "qa", "tracing_enabled": False},
            ],
            "_ansible_diff": True,
            "_ansible_check_mode": check_mode,
        },
        client=client,
    )

    assert result["changed"] is True
    assert result["diff"] == {
        "prepared": (
            f"account 111111111111, us-east-1: X-Ray tracing of 2 stages {verb}\n"
            f"  {API}/prod: tracing_enabled false -> true\n"
            f"  {API}/dev: tracing_enabled true -> false\n"
        )
    }


def test_list_form_diff_is_empty_when_nothing_changes_and_asks_sts_nothing(run_module, stubbed, sts):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod", "tracingEnabled": True})

    result = run_module(module, {"stages": [{"rest_api_id": API, "stage_name": "prod"}], "_ansible_diff": True}, client=client)

    assert result["changed"] is False
    assert result["diff"] == {}
    sts.assert_no_pending_responses()


def test_list_form_diff_is_headed_by_the_region_when_sts_does_not_answer(run_module, stubbed, sts):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod"})
    stubber.add_response("update_stage", {"stageName": "prod", "tracingEnabled": True})
    sts.add_client_error("get_caller_identity", "AccessDenied", "no", 403)

    result = run_module(module, {"stages": [{"rest_api_id": API, "stage_name": "prod"}], "_ansible_diff": True}, client=client)

    assert result["diff"] == {"prepared": f"us-east-1: X-Ray tracing of 1 stage changed\n  {API}/prod: tracing_enabled false -> true\n"}


def test_single_form_diff_keeps_its_before_and_after(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod"})
    stubber.add_response("update_stage", {"stageName": "prod", "tracingEnabled": True})

    result = run_module(module, {"rest_api_id": API, "stage_name": "prod", "_ansible_diff": True}, client=client)

    assert result["diff"] == {
        "before_header": f"{API}/prod",
        "after_header": f"{API}/prod",
        "before": {"tracing_enabled": False},
        "after": {"tracing_enabled": True},
    }
