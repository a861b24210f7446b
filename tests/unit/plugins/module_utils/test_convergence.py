# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converging many stages against a stubbed API Gateway client (answered over fake HTTP where retries matter), and the
compact diff of many stages."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import compact_diff
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import converge

API_A = "aaaaaaaaa1"
API_B = "bbbbbbbbb2"


def request(rest_api_id, stage_name, enabled=True):
    return {"rest_api_id": rest_api_id, "stage_name": stage_name, "tracing_enabled": enabled}


def patch(rest_api_id, stage_name, value):
    return {"restApiId": rest_api_id, "stageName": stage_name, "patchOperations": [{"op": "replace", "path": "/tracingEnabled", "value": value}]}


def test_only_differing_stages_are_updated_both_directions(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "get_stages",
        {"item": [{"stageName": "prod"}, {"stageName": "dev", "tracingEnabled": True}, {"stageName": "qa", "tracingEnabled": True}]},
        {"restApiId": API_A},
    )
    stubber.add_response("update_stage", {"stageName": "prod", "tracingEnabled": True}, patch(API_A, "prod", "true"))
    stubber.add_response("update_stage", {"stageName": "dev", "tracingEnabled": False}, patch(API_A, "dev", "false"))

    outcome = converge(client, [request(API_A, "prod"), request(API_A, "dev", False), request(API_A, "qa")], check_mode=False)

    assert outcome.changed
    assert [(s["stage_name"], s["tracing_enabled_before"], s["tracing_enabled"], s["changed"]) for s in outcome.stages] == [
        ("prod", False, True, True),
        ("dev", True, False, True),
        ("qa", True, True, False),
    ]
    assert [d["before_header"] for d in outcome.diff] == [f"{API_A}/prod", f"{API_A}/dev"]
    assert outcome.diff[0]["before"] == {"tracing_enabled": False} and outcome.diff[0]["after"] == {"tracing_enabled": True}
    assert outcome.failures == [] and outcome.missing == []


def test_check_mode_reads_and_reports_but_never_updates(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": API_A, "stageName": "prod"})

    outcome = converge(client, [request(API_A, "prod")], check_mode=True)

    # The stubber has no update_stage queued: any such call would be recorded as a failure.
    assert outcome.failures == []
    assert outcome.changed
    assert outcome.stages_after[(API_A, "prod")]["tracingEnabled"] is True


def test_one_stage_failing_does_not_stop_the_others(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev"}]}, {"restApiId": API_A})
    stubber.add_client_error("update_stage", "AccessDeniedException", "User is not authorized", 403, expected_params=patch(API_A, "prod", "true"))
    stubber.add_response("update_stage", {"stageName": "dev", "tracingEnabled": True}, patch(API_A, "dev", "true"))
    stubber.add_response("get_stage", {"stageName": "v1"}, {"restApiId": API_B, "stageName": "v1"})
    stubber.add_response("update_stage", {"stageName": "v1", "tracingEnabled": True}, patch(API_B, "v1", "true"))

    outcome = converge(client, [request(API_A, "prod"), request(API_A, "dev"), request(API_B, "v1")], check_mode=False)

    assert [(s["rest_api_id"], s["stage_name"]) for s in outcome.stages] == [(API_A, "dev"), (API_B, "v1")]
    assert outcome.changed
    [failure] = outcome.failures
    assert (failure["rest_api_id"], failure["stage_name"], failure["error_code"]) == (API_A, "prod", "AccessDeniedException")
    assert failure["arn"] == f"arn:aws:apigateway:us-east-1::/restapis/{API_A}/stages/prod"


def test_access_denied_on_enable_names_both_permissions(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": API_A, "stageName": "prod"})
    stubber.add_client_error("update_stage", "AccessDeniedException", "User is not authorized", 403)

    [failure] = converge(client, [request(API_A, "prod")], check_mode=False).failures

    assert f"apigateway:PATCH on arn:aws:apigateway:us-east-1::/restapis/{API_A}/stages/prod" in failure["message"]
    assert "iam:CreateServiceLinkedRole" in failure["message"]
    assert "AWSServiceRoleForAPIGateway" in failure["message"]
    assert "User is not authorized" in failure["message"]


def test_access_denied_on_disable_needs_no_service_linked_role(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod", "tracingEnabled": True}, {"restApiId": API_A, "stageName": "prod"})
    stubber.add_client_error("update_stage", "AccessDeniedException", "User is not authorized", 403)

    [failure] = converge(client, [request(API_A, "prod", False)], check_mode=False).failures

    assert "apigateway:PATCH" in failure["message"]
    assert "iam:CreateServiceLinkedRole" not in failure["message"]


def test_unreadable_api_fails_its_stages_only(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_stages", "AccessDeniedException", "no", 403, expected_params={"restApiId": API_A})
    stubber.add_response("get_stage", {"stageName": "v1", "tracingEnabled": True}, {"restApiId": API_B, "stageName": "v1"})

    outcome = converge(client, [request(API_A, "prod"), request(API_A, "dev"), request(API_B, "v1")], check_mode=False)

    assert [(f["stage_name"], f["error_code"]) for f in outcome.failures] == [("prod", "AccessDeniedException"), ("dev", "AccessDeniedException")]
    assert "apigateway:GET" in outcome.failures[0]["message"]
    assert [s["stage_name"] for s in outcome.stages] == ["v1"]
    assert not outcome.changed


def test_missing_stages_and_apis_are_listed(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod", "tracingEnabled": True}]}, {"restApiId": API_A})
    stubber.add_client_error("get_stage", "NotFoundException", "Invalid Rest API Id specified", 404)

    outcome = converge(client, [request(API_A, "prod"), request(API_A, "old"), request(API_B, "v1")], check_mode=False)

    assert [(m["rest_api_id"], m["stage_name"]) for m in outcome.missing] == [(API_A, "old"), (API_B, "v1")]
    assert [s["stage_name"] for s in outcome.stages] == ["prod"]


def test_update_answer_not_showing_the_change_is_a_failure(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": API_A, "stageName": "prod"})
    stubber.add_response("update_stage", {"stageName": "prod"}, patch(API_A, "prod", "true"))

    outcome = converge(client, [request(API_A, "prod")], check_mode=False)

    [failure] = outcome.failures
    assert failure["error_code"] == "VerificationFailed"
    assert "tracingEnabled=False" in failure["message"]
    assert outcome.stages == []


def observed(rest_api_id, stage_name, now, enabled=True):
    return dict(request(rest_api_id, stage_name, enabled), observed_tracing_enabled=now)


def test_check_mode_trusts_observed_state_and_makes_no_call(stubbed):
    client, stubber = stubbed  # no response queued: any call fails the test

    outcome = converge(client, [observed(API_A, "prod", False), observed(API_A, "dev", True, enabled=False)], check_mode=True)

    assert [(s["stage_name"], s["tracing_enabled_before"], s["changed"]) for s in outcome.stages] == [("prod", False, True), ("dev", True, True)]
    assert [d["before_header"] for d in outcome.diff] == [f"{API_A}/prod", f"{API_A}/dev"]


def test_check_mode_reads_an_api_when_one_of_its_stages_was_not_observed(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev"}]}, {"restApiId": API_A})

    outcome = converge(client, [observed(API_A, "prod", False), request(API_A, "dev")], check_mode=True)

    assert [s["stage_name"] for s in outcome.stages] == ["prod", "dev"]


def test_outside_check_mode_observed_state_does_not_replace_the_guarding_read(stubbed):
    client, stubber = stubbed
    # Someone turned tracing on since it was observed off: the read shows it, nothing is written.
    stubber.add_response("get_stage", {"stageName": "prod", "tracingEnabled": True}, {"restApiId": API_A, "stageName": "prod"})

    outcome = converge(client, [observed(API_A, "prod", False)], check_mode=False)

    assert not outcome.changed
    assert outcome.stages[0]["tracing_enabled_before"] is True


# ---- a stage deleted between the read and the write -----------------------------------------------------


def test_update_answered_not_found_lists_the_stage_as_missing_not_failed(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev"}]}, {"restApiId": API_A})
    stubber.add_client_error("update_stage", "NotFoundException", "Invalid stage identifier specified", 404, expected_params=patch(API_A, "prod", "true"))
    stubber.add_response("update_stage", {"stageName": "dev", "tracingEnabled": True}, patch(API_A, "dev", "true"))

    outcome = converge(client, [request(API_A, "prod"), request(API_A, "dev")], check_mode=False)

    assert outcome.failures == []
    assert outcome.missing == [{"rest_api_id": API_A, "stage_name": "prod", "arn": f"arn:aws:apigateway:us-east-1::/restapis/{API_A}/stages/prod"}]
    assert [(s["stage_name"], s["changed"]) for s in outcome.stages] == [("dev", True)]
    # Nothing changed on the deleted stage: no diff, no state after.
    assert [d["before_header"] for d in outcome.diff] == [f"{API_A}/dev"]
    assert (API_A, "prod") not in outcome.stages_after


def test_update_not_found_is_not_retried(aws_http):
    aws = aws_http()
    aws.http.add({"stageName": "prod"})
    aws.http.add_error("NotFoundException", 404, "Invalid REST API identifier specified")

    outcome = converge(aws.client, [request(API_A, "prod")], check_mode=False)

    assert [m["stage_name"] for m in outcome.missing] == ["prod"]
    assert not outcome.changed
    assert [method for method, dummy_path, dummy_query in aws.http.requests] == ["GET", "PATCH"]
    assert aws.waits == []


def test_other_update_errors_are_still_failures(aws_http):
    aws = aws_http()
    aws.http.add({"stageName": "prod"})
    aws.http.add_error("BadRequestException", 400, "Invalid patch path")

    outcome = converge(aws.client, [request(API_A, "prod")], check_mode=False)

    assert outcome.missing == []
    assert [(f["stage_name"], f["error_code"]) for f in outcome.failures] == [("prod", "BadRequestException")]
    assert (len(aws.http.requests), aws.waits) == (2, [])


def test_a_concurrent_change_of_the_api_is_retried_not_a_failure(aws_http):
    """ConflictException on UpdateStage (another deployment of the same API) is retried by the client."""
    aws = aws_http()
    aws.http.add({"stageName": "prod"})
    aws.http.add_error("ConflictException", 409, "Unable to complete operation due to concurrent modification. Please try again later.")
    aws.http.add({"stageName": "prod", "tracingEnabled": True})

    outcome = converge(aws.client, [request(API_A, "prod")], check_mode=False)

    assert (outcome.failures, outcome.changed) == ([], True)
    assert [method for method, dummy_path, dummy_query in aws.http.requests] == ["GET", "PATCH", "PATCH"]
    assert len(aws.waits) == 1
    assert aws.stats.as_dict() == {"sent": 3, "throttled": 0, "server_errors": 0, "connection_errors": 0}


# ---- compact diff --------------------------------------------------------------------------------------


def entry(label, before, after):
    return {"before_header": label, "after_header": label, "before": {"tracing_enabled": before}, "after": {"tracing_enabled": after}}


@pytest.mark.parametrize("check_mode, verb", [(False, "changed"), (True, "would change")])
def test_compact_diff_is_one_line_per_stage_under_a_heading(check_mode, verb):
    diffs = [entry(f"{API_A}/prod", False, True), entry(f"{API_B}/v1", True, False)]
    assert compact_diff("account 111111111111, eu-west-1", diffs, check_mode) == {
        "prepared": (
            f"account 111111111111, eu-west-1: X-Ray tracing of 2 stages {verb}\n"
            f"  {API_A}/prod: tracing_enabled false -> true\n"
            f"  {API_B}/v1: tracing_enabled true -> false\n"
        )
    }


def test_compact_diff_of_one_stage_is_singular():
    assert compact_diff("eu-west-1", [entry(f"{API_A}/prod", False, True)], False) == {
        "prepared": f"eu-west-1: X-Ray tracing of 1 stage changed\n  {API_A}/prod: tracing_enabled false -> true\n"
    }


@pytest.mark.parametrize("diffs", [[], None])
def test_compact_diff_of_nothing_is_empty(diffs):
    assert compact_diff("eu-west-1", diffs, True) == {}


def test_compact_diff_of_a_convergence(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}, {"stageName": "dev", "tracingEnabled": True}]}, {"restApiId": API_A})

    outcome = converge(client, [request(API_A, "prod"), request(API_A, "dev", False)], check_mode=True)

    assert compact_diff("us-east-1", outcome.diff, True)["prepared"].splitlines() == [
        "us-east-1: X-Ray tracing of 2 stages would change",
        f"  {API_A}/prod: tracing_enabled false -> true",
        f"  {API_A}/dev: tracing_enabled true -> false",
    ]


def test_compact_diff_of_thousands_of_stages_stays_one_line_each():
    diffs = [entry(f"{API_A}/s{index:04d}", False, True) for index in range(2500)]
    lines = compact_diff("us-east-1", diffs, False)["prepared"].splitlines()
    assert len(lines) == 2501
    assert lines[0] == "us-east-1: X-Ray tracing of 2500 stages changed"
    assert lines[-1] == f"  {API_A}/s2499: tracing_enabled false -> true"


def test_a_change_right_after_the_callers_own_read_is_not_read_again(stubbed):
    # trust_observed: the sweep of named stages read them a moment ago in the same step; the write is checked by its answer.
    client, stubber = stubbed
    stubber.add_response("update_stage", {"stageName": "prod", "tracingEnabled": True}, patch(API_A, "prod", "true"))
    observed = dict(request(API_A, "prod"), observed_tracing_enabled=False)

    outcome = converge(client, [observed], check_mode=False, trust_observed=True)

    assert [(s["stage_name"], s["tracing_enabled_before"], s["tracing_enabled"], s["changed"]) for s in outcome.stages] == [("prod", False, True, True)]
    assert outcome.failures == []


def test_without_trust_the_write_is_guarded_by_a_fresh_read(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod", "tracingEnabled": True}, {"restApiId": API_A, "stageName": "prod"})
    observed = dict(request(API_A, "prod"), observed_tracing_enabled=False)

    outcome = converge(client, [observed], check_mode=False)

    # Someone traced it since the plan's read: nothing to change.
    assert [(s["stage_name"], s["changed"]) for s in outcome.stages] == [("prod", False)]
