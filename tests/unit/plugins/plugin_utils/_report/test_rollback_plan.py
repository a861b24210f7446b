# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json
import re

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import MAX_PROBLEMS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import changes_outside
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import report_changes
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import rollback_plan
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import target_stages
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import OTHER_ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import REGION
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage_arn


def row(api_id="a1b2c3d4e5", name="prod", action="enabled", account_id=ACCOUNT, region=REGION, before=None):
    """A report stage row; before defaults to the state the action implies."""
    if before is None:
        before = {"enabled": False, "disabled": True}.get(action, True)
    return {
        "account_id": account_id,
        "region": region,
        "rest_api_id": api_id,
        "rest_api_name": "orders",
        "stage_name": name,
        "arn": stage_arn(api_id, name, region),
        "tracing_enabled_before": before,
        "tracing_enabled_after": (not before) if action in ("enabled", "disabled") else before,
        "desired": not before if action in ("enabled", "disabled") else before,
        "action": action,
        "reason": "default: tracing_sweep_desired=true",
    }


def report(rows, mode="enforce"):
    return {"schema_version": "1.0", "generated_at": GENERATED_AT, "mode": mode, "summary": {}, "targets": [], "stages": rows, "exemptions": []}


MIXED = [
    row("a1b2c3d4e5", "prod", "enabled"),
    row("a1b2c3d4e5", "dev", "none"),
    row("b1b2c3d4e5", "v2", "disabled"),
    row("c1c2c3c4c5", "qa", "exempt"),
    row("d1d2d3d4d5", "prod", "enabled", account_id=OTHER_ACCOUNT, region="eu-west-1"),
    row("e1e2e3e4e5", "prod", "error"),
    row("f1f2f3f4f5", "prod", "skipped"),
]


def keys(changes):
    return [(change["account_id"], change["region"], change["rest_api_id"], change["stage_name"]) for change in changes]


# ---- reading a report ---------------------------------------------------------------------------------


def test_only_enabled_and_disabled_rows_are_changes_in_report_order():
    changes, problems, header = report_changes(report(MIXED))
    assert problems == []
    assert header == {"mode": "enforce", "generated_at": GENERATED_AT}
    assert keys(changes) == [
        (ACCOUNT, REGION, "a1b2c3d4e5", "prod"),
        (ACCOUNT, REGION, "b1b2c3d4e5", "v2"),
        (OTHER_ACCOUNT, "eu-west-1", "d1d2d3d4d5", "prod"),
    ]
    assert [(change["action"], change["tracing_enabled_before"], change["tracing_enabled_after"]) for change in changes] == [
        ("enabled", False, True), ("disabled", True, False), ("enabled", False, True)]
    assert changes[0]["arn"] == stage_arn("a1b2c3d4e5", "prod")
    assert changes[0]["rest_api_name"] == "orders"


def test_json_text_and_mapping_give_the_same_changes():
    as_text = report_changes(json.dumps(report(MIXED)))
    as_bytes = report_changes(json.dumps(report(MIXED)).encode("utf-8"))
    assert as_text == as_bytes == report_changes(report(MIXED))


def test_a_report_the_role_built_is_read():
    built = build_enforce_report()
    changes, problems, dummy = report_changes(json.loads(json.dumps(built)))
    assert problems == []
    expected = [r for r in built["stages"] if r["action"] in ("enabled", "disabled")]
    assert expected, "the sample enforcement must change something"
    assert keys(changes) == keys(expected)


def test_the_input_is_not_modified():
    given = report(MIXED)
    kept = copy.deepcopy(given)
    rollback_plan(given, target={"account_id": ACCOUNT, "region": REGION}, targets=[{"account_id": ACCOUNT, "region": REGION}])
    assert given == kept


def test_a_report_without_changes_has_no_problems_and_nothing_to_do():
    plan = rollback_plan(report([row(action="none"), row(name="dev", action="exempt")]))
    assert plan["problems"] == [] and plan["changes"] == []
    assert plan["mode"] == "enforce"


@pytest.mark.parametrize(
    "given, message",
    [
        ("", r"^is empty, not a report\.json$"),
        ("   \n", r"^is empty"),
        ("{not json", r"^is not JSON \(Expecting property name enclosed in double quotes: line 1 column 2 \(char 1\)\)$"),
        ("[1, 2", r"^is not JSON \("),
        ("42", r"^is not a tracing sweep report .*; got 42 \(integer\)$"),
        ({"hello": "world"}, r"^is not a tracing sweep report .*; it has no schema_version, mode, stages$"),
        ({"schema_version": "1.0", "mode": "enforce"}, r"; it has no stages$"),
        (dict(report([]), schema_version="2.0"), r"^schema_version: '2\.0' is not supported; this collection reads report schema 1\.x$"),
        (dict(report([]), schema_version=1), r"^schema_version: 1 \(integer\) is not supported"),
        (dict(report([]), mode="rollback"), r"^mode: must be enforce \(the report of an enforcement run\), got 'rollback'$"),
        (dict(report([]), stages={"a": 1}), r"^stages: must be a list of stage rows, got a mapping$"),
    ],
)
def test_what_is_not_a_report_is_refused(given, message):
    plan = rollback_plan(given)
    assert len(plan["problems"]) == 1
    assert re.search(message, plan["problems"][0]), plan["problems"]
    assert plan["changes"] == []


def test_an_audit_report_is_refused_even_with_would_change_rows():
    plan = rollback_plan(report([row(action="would_enable", before=False)], mode="audit"))
    assert plan["changes"] == []
    assert plan["problems"] == [
        "is the report of an audit (mode audit), which changed nothing, so there is nothing to roll back; "
        "pass the report.json of an enforcement run (mode enforce)"
    ]


def test_a_real_audit_report_is_refused():
    assert "mode audit" in rollback_plan(build_audit_report())["problems"][0]


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(row(), account_id="1234"), "stages[1].account_id: must be a 12-digit account id in a row with action enabled, got '1234'"),
        (dict(row(), account_id=None), "stages[1].account_id: must be a 12-digit account id in a row with action enabled, got null"),
        (dict(row(), region="Mars"), "stages[1].region: must be an AWS region name such as us-east-1 in a row with action enabled, got 'Mars'"),
        (dict(row(), rest_api_id="ABC"),
         "stages[1].rest_api_id: must be a REST API id (10 lowercase letters or digits) in a row with action enabled, got 'ABC'"),
        (dict(row(), stage_name="*"), "stages[1].stage_name: must be a stage name (1 to 128 letters, digits, - or _) in a row with action enabled, got '*'"),
        (dict(row(), tracing_enabled_before=True), "stages[1].tracing_enabled_before: must be false in a row with action enabled, got true (boolean)"),
        (dict(row(action="disabled"), tracing_enabled_before="true"),
         "stages[1].tracing_enabled_before: must be true in a row with action disabled, got 'true'"),
        (dict(row(), tracing_enabled_before=None), "stages[1].tracing_enabled_before: must be false in a row with action enabled, got null"),
        (dict(row(), action=None), "stages[1].action: must be a string such as enabled or none, got null"),
        ("prod", "stages[1]: must be a stage row (a mapping), got 'prod'"),
    ],
)
def test_a_damaged_changed_row_refuses_the_whole_report(bad, message):
    plan = rollback_plan(report([row("z1z2z3z4z5"), bad]))
    assert plan["problems"] == [message]
    assert plan["changes"] == [], "nothing of a damaged report is rolled back"


def test_rows_that_were_not_changed_are_not_checked_beyond_their_action():
    unread = dict(row(name="*", action="error"), tracing_enabled_before=None, tracing_enabled_after=None, account_id=None)
    plan = rollback_plan(report([unread, row()]))
    assert plan["problems"] == []
    assert keys(plan["changes"]) == [(ACCOUNT, REGION, "a1b2c3d4e5", "prod")]


def test_many_problems_are_named_by_the_first_few_and_counted():
    rows = [dict(row(api_id="a%09d" % index), account_id="x") for index in range(MAX_PROBLEMS + 5)]
    problems = rollback_plan(report(rows))["problems"]
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == "and 5 more problems"


def test_a_stage_changed_twice_the_same_way_is_rolled_back_once():
    plan = rollback_plan(report([row(), row(), row(name="dev")]))
    assert plan["problems"] == []
    assert keys(plan["changes"]) == [(ACCOUNT, REGION, "a1b2c3d4e5", "prod"), (ACCOUNT, REGION, "a1b2c3d4e5", "dev")]


def test_a_stage_changed_both_ways_is_ambiguous():
    plan = rollback_plan(report([row(), row(action="disabled")]))
    assert plan["problems"] == [
        "stages[1]: changes stage a1b2c3d4e5/prod of account 111111111111 in us-east-1 the other way from an earlier row; its previous state is ambiguous"
    ]


def test_a_list_of_rows_is_read_as_an_enforcement_s_rows():
    changes = rollback_plan(report(MIXED))["changes"]
    again = rollback_plan(changes)
    assert again["problems"] == [] and again["changes"] == changes
    assert again["mode"] is None and again["generated_at"] is None
    assert rollback_plan([dict(row(), region="x")])["problems"] == [
        "(a list of stage rows) stages[0].region: must be an AWS region name such as us-east-1 in a row with action enabled, got 'x'"]


# ---- one target, and the targets of a run ---------------------------------------------------------------


def test_a_target_gets_its_changes_back_to_their_previous_state():
    changes = rollback_plan(report(MIXED))["changes"]
    assert target_stages(changes, {"account_id": ACCOUNT, "region": REGION}) == [
        {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": False},
        {"rest_api_id": "b1b2c3d4e5", "stage_name": "v2", "tracing_enabled": True},
    ]
    assert target_stages(changes, {"account_id": OTHER_ACCOUNT, "region": "eu-west-1"}) == [
        {"rest_api_id": "d1d2d3d4d5", "stage_name": "prod", "tracing_enabled": False}]
    assert target_stages(changes, {"account_id": OTHER_ACCOUNT, "region": REGION}) == []
    assert target_stages(changes, {"account_id": ACCOUNT, "region": "eu-west-1"}) == []


@pytest.mark.parametrize(
    "target, message",
    [
        ({"account_id": None, "region": REGION}, r"^target\.account_id: must be a 12-digit account id as a string, got null$"),
        ({"account_id": 111111111111, "region": REGION}, r"^target\.account_id: .*got 111111111111 \(integer\)$"),
        ({"account_id": ACCOUNT}, r"^target\.region: must be an AWS region name such as us-east-1, got null$"),
        ("prod_us-east-1", r"^target: must be a mapping with account_id and region, got 'prod_us-east-1'$"),
    ],
)
def test_a_malformed_target_is_an_error(target, message):
    with pytest.raises(ValueError, match=message):
        rollback_plan(report(MIXED), target=target)


def test_changes_of_no_target_of_the_run_are_listed():
    changes = rollback_plan(report(MIXED))["changes"]
    targets = [
        {"host": "prod_us-east-1", "account_id": ACCOUNT, "region": REGION},
        {"host": "staging_us-east-1", "account_id": OTHER_ACCOUNT, "region": REGION},
    ]
    assert keys(changes_outside(changes, targets)) == [(OTHER_ACCOUNT, "eu-west-1", "d1d2d3d4d5", "prod")]
    assert changes_outside(changes, targets + [{"account_id": OTHER_ACCOUNT, "region": "eu-west-1"}]) == []
    assert changes_outside(changes, []) == changes


@pytest.mark.parametrize("account_id, region", [(None, REGION), ("", REGION), ("1234", REGION), (ACCOUNT, None), (ACCOUNT, "")])
def test_a_target_of_unknown_account_or_region_covers_nothing(account_id, region):
    changes = rollback_plan(report(MIXED))["changes"]
    assert changes_outside(changes, [{"account_id": account_id, "region": region}]) == changes


@pytest.mark.parametrize("targets, message", [("prod", r"^targets: must be a list"), ([None], r"^targets\[0\]: must be a mapping")])
def test_malformed_targets_are_an_error(targets, message):
    with pytest.raises(ValueError, match=message):
        rollback_plan(report(MIXED), targets=targets)


def test_without_target_or_targets_the_lists_are_empty():
    plan = rollback_plan(report(MIXED))
    assert plan["stages"] == [] and plan["not_in_run"] == []
    assert len(plan["changes"]) == 3


def test_a_refused_report_selects_nothing_for_anyone():
    plan = rollback_plan(report(MIXED, mode="audit"), target={"account_id": ACCOUNT, "region": REGION}, targets=[])
    assert plan["problems"] and plan["stages"] == [] and plan["not_in_run"] == []
