# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import MISSING_REASON
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import REFUSED_REASON
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import ROW_FIELDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import is_refused
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import refused_reason
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import target_rows
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TARGET
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import TODAY
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import converged
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage_arn

ON = stage(name="on", enabled=False)  # desired true, will be enabled
OFF = stage(name="off", enabled=True, api_name="internal-x")  # a rule wants it off
DONE = stage(name="done", enabled=True)  # already as desired
EXEMPT = stage(name="exempt", enabled=False, tags={"XrayExempt": "vendor"})
SKIP = stage(name="skip", enabled=False, api_name="sandbox")
POLICY = {
    "rules": [{"match": {"api_name": "internal-*"}, "tracing_enabled": False}, {"name": "sandboxes", "match": {"api_name": "sandbox"}, "skip": True}],
    "exempt_tag": "XrayExempt",
}
REFUSAL = "refused: 2 changes planned, more than tracing_sweep_max_changes=1"


@pytest.fixture(name="plan")
def plan_fixture():
    return plan_target([ON, OFF, DONE, EXEMPT, SKIP], TARGET, today=TODAY, **POLICY)


def by_stage(rows):
    return {row["stage_name"]: row for row in rows}


def summary(rows):
    """{stage: (before, after, desired, action)}"""
    return {row["stage_name"]: (row["tracing_enabled_before"], row["tracing_enabled_after"], row["desired"], row["action"]) for row in rows}


def test_rows_have_the_report_fields_in_order(plan):
    rows = target_rows(plan, check_mode=True)
    assert [list(row) for row in rows] == [list(ROW_FIELDS)] * 5
    assert [row["stage_name"] for row in rows] == ["on", "off", "done", "exempt", "skip"]
    assert rows[0] == {
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "rest_api_id": "a1b2c3d4e5",
        "rest_api_name": "orders",
        "stage_name": "on",
        "arn": stage_arn("a1b2c3d4e5", "on"),
        "tracing_enabled_before": False,
        "tracing_enabled_after": True,
        "desired": True,
        "action": "would_enable",
        "reason": "default: tracing_sweep_desired=true",
    }


def test_check_mode_without_a_call(plan):
    assert summary(target_rows(plan, check_mode=True)) == {
        "on": (False, True, True, "would_enable"),
        "off": (True, False, False, "would_disable"),
        "done": (True, True, True, "none"),
        "exempt": (False, False, None, "exempt"),
        "skip": (False, False, None, "skipped"),
    }


def test_check_mode_with_a_check_mode_call(plan):
    rows = target_rows(plan, converge=converged(plan["changes"], check_mode=True), check_mode=True)
    assert summary(rows)["on"] == (False, True, True, "would_enable")
    assert summary(rows)["off"] == (True, False, False, "would_disable")


def test_converge_success(plan):
    rows = target_rows(plan, converge=converged(plan["changes"]))
    assert summary(rows) == {
        "on": (False, True, True, "enabled"),
        "off": (True, False, False, "disabled"),
        "done": (True, True, True, "none"),
        "exempt": (False, False, None, "exempt"),
        "skip": (False, False, None, "skipped"),
    }
    assert by_stage(rows)["on"]["reason"] == "default: tracing_sweep_desired=true"
    assert by_stage(rows)["skip"]["reason"] == "rule 2 'sandboxes': skip"
    assert by_stage(rows)["exempt"]["reason"] == "exempt by tag XrayExempt: vendor"


def test_no_changes_and_no_call(plan):
    calm = plan_target([DONE, EXEMPT], TARGET, today=TODAY, **POLICY)
    assert calm["changes"] == []
    assert [row["action"] for row in target_rows(calm)] == ["none", "exempt"]


def test_stage_converged_by_someone_else_in_between(plan):
    converge = converged(plan["changes"], before={("a1b2c3d4e5", "on"): True})
    row = by_stage(target_rows(plan, converge=converge))["on"]
    assert (row["tracing_enabled_before"], row["tracing_enabled_after"], row["action"]) == (True, True, "none")


def test_converge_that_left_the_wrong_state_is_an_error(plan):
    converge = converged(plan["changes"])
    converge["stages"][0] = dict(converge["stages"][0], tracing_enabled=False, changed=False)
    row = by_stage(target_rows(plan, converge=converge))["on"]
    assert row["action"] == "error"
    assert row["reason"] == "apigw_stage_tracing left tracing_enabled=false, wanted true"
    assert row["tracing_enabled_after"] is False


def test_failed_stage_is_an_error_with_the_module_message(plan):
    failure = {
        "rest_api_id": "a1b2c3d4e5",
        "stage_name": "off",
        "arn": stage_arn("a1b2c3d4e5", "off"),
        "error_code": "AccessDeniedException",
        "message": "Turning tracing off for stage a1b2c3d4e5/off failed: AccessDeniedException: needs apigateway:PATCH",
    }
    rows = target_rows(plan, converge=converged(plan["changes"], failures=[failure]))
    assert summary(rows)["off"] == (True, True, False, "error")
    assert by_stage(rows)["off"]["reason"] == failure["message"]
    assert summary(rows)["on"] == (False, True, True, "enabled")  # one failure does not hide the others


def test_failure_without_message_uses_the_error_code(plan):
    failure = {"rest_api_id": "a1b2c3d4e5", "stage_name": "off", "error_code": "VerificationFailed"}
    assert by_stage(target_rows(plan, converge=converged(plan["changes"], failures=[failure])))["off"]["reason"] == "VerificationFailed"


def test_stage_missing_at_write_time_is_skipped(plan):
    missing = {"rest_api_id": "a1b2c3d4e5", "stage_name": "on", "arn": stage_arn("a1b2c3d4e5", "on")}
    row = by_stage(target_rows(plan, converge=converged(plan["changes"], missing=[missing])))["on"]
    assert (row["tracing_enabled_after"], row["desired"], row["action"], row["reason"]) == (False, True, "skipped", MISSING_REASON)


def test_missing_stage_that_failed_the_task_is_an_error(plan):
    # Without ignore_missing the module lists the stage in both missing and failures.
    missing = {"rest_api_id": "a1b2c3d4e5", "stage_name": "on", "arn": stage_arn("a1b2c3d4e5", "on")}
    failure = dict(missing, error_code="NotFoundException", message="Stage a1b2c3d4e5/on not found in us-east-1")
    row = by_stage(target_rows(plan, converge=converged(plan["changes"], failures=[failure], missing=[missing])))["on"]
    assert (row["action"], row["reason"]) == ("error", "Stage a1b2c3d4e5/on not found in us-east-1")


def test_task_that_failed_before_any_stage(plan):
    converge = {"failed": True, "msg": "Unable to assume role: AccessDenied"}
    rows = target_rows(plan, converge=converge)
    assert summary(rows)["on"] == (False, False, True, "error")
    assert by_stage(rows)["on"]["reason"] == "the change was not made: Unable to assume role: AccessDenied"
    assert summary(rows)["done"][3] == "none"
    assert summary(rows)["exempt"][3] == "exempt"


def test_planned_change_absent_from_a_successful_result_is_an_error(plan):
    converge = converged(plan["changes"][1:])
    row = by_stage(target_rows(plan, converge=converge))["on"]
    assert (row["action"], row["reason"]) == ("error", "the change was not made: the stage is absent from the apigw_stage_tracing result")


def test_planned_change_without_any_call_outside_check_mode_is_an_error(plan):
    row = by_stage(target_rows(plan))["on"]
    assert (row["action"], row["reason"]) == ("error", "the change was not made: no apigw_stage_tracing result for this target")


def test_result_of_a_skipped_task_counts_as_no_call(plan):
    skipped_task = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    assert target_rows(plan, converge=skipped_task, check_mode=True) == target_rows(plan, check_mode=True)


@pytest.mark.parametrize("check_mode", [True, False])
def test_refused_changes_are_refused_with_the_refusal(plan, check_mode):
    rows = target_rows(plan, check_mode=check_mode, refused="2 changes planned, more than tracing_sweep_max_changes=1")
    assert summary(rows) == {
        "on": (False, False, True, "refused"),
        "off": (True, True, False, "refused"),
        "done": (True, True, True, "none"),
        "exempt": (False, False, None, "exempt"),
        "skip": (False, False, None, "skipped"),
    }
    # The guard's explanation as given: the action says it was refused, the reason needs no prefix.
    assert by_stage(rows)["on"]["reason"] == "2 changes planned, more than tracing_sweep_max_changes=1"
    assert by_stage(rows)["done"]["reason"] == "default: tracing_sweep_desired=true"
    assert [row["stage_name"] for row in rows if is_refused(row)] == ["on", "off"]


def test_refusal_outranks_a_converge_result(plan):
    rows = target_rows(plan, converge=converged(plan["changes"]), refused=REFUSAL)
    assert by_stage(rows)["on"]["action"] == "refused"
    assert by_stage(rows)["on"]["reason"] == REFUSAL
    assert by_stage(rows)["on"]["tracing_enabled_after"] is False


@pytest.mark.parametrize(
    "refused, reason",
    [
        (REFUSAL, REFUSAL),
        ("2 changes planned, more than tracing_sweep_max_changes=1", "2 changes planned, more than tracing_sweep_max_changes=1"),
        ("  " + REFUSAL + "\n", REFUSAL),
        (True, REFUSED_REASON),
        ("   ", REFUSED_REASON),
    ],
)
def test_refused_reason_is_the_explanation_or_the_default(refused, reason):
    assert refused_reason(refused) == reason


def test_default_refused_reason_names_the_setting():
    assert "tracing_sweep_max_changes" in REFUSED_REASON
    assert "nothing was changed" in REFUSED_REASON


def _row(action, desired=True, reason="default: tracing_sweep_desired=true"):
    return {"action": action, "desired": desired, "reason": reason}


@pytest.mark.parametrize(
    "row, refused",
    [
        (_row("refused", reason="anything"), True),
        # A report of schema 1.0 said so with a skipped row whose reason starts with 'refused: '.
        (_row("skipped", reason=REFUSAL), True),
        (_row("skipped", desired=None, reason="refused: a rule's name"), False),
        (_row("skipped", reason=MISSING_REASON), False),
        (_row("skipped", desired=None, reason="rule 2 'sandboxes': skip"), False),
        (_row("would_enable", reason=REFUSAL), False),
        (_row("none"), False),
    ],
)
def test_is_refused_reads_both_schema_versions(row, refused):
    assert is_refused(row) is refused


def test_missing_reason_says_the_stage_was_deleted_in_between():
    assert MISSING_REASON == "no longer exists: the stage (or its REST API) was deleted between the read and the change"


def test_policy_skip_is_not_a_refusal(plan):
    assert not [row for row in target_rows(plan, check_mode=True) if is_refused(row)]


@pytest.mark.parametrize("bad_plan", [None, [], {"changes": []}, {"stages": "x"}])
def test_bad_plan(bad_plan):
    with pytest.raises(ValueError, match="^plan: must be the result of sweep_plan"):
        target_rows(bad_plan)


def test_bad_converge(plan):
    with pytest.raises(ValueError, match="^converge: must be the registered result of apigw_stage_tracing, or null"):
        target_rows(plan, converge=["stages"])


def test_inputs_are_not_modified(plan):
    converge = converged(plan["changes"], failures=[{"rest_api_id": "a1b2c3d4e5", "stage_name": "off", "message": "boom"}])
    saved = copy.deepcopy((plan, converge))
    target_rows(plan, converge=converge)
    target_rows(plan, refused="x")
    assert (plan, converge) == saved
