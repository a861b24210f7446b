# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import datetime
import json

import jsonschema
import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import ACTIONS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import target_rows
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import CATEGORIES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import NOT_RECORDED
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import SCHEMA_VERSION
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import collection_version
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import compliance_percent
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import policy_in_force
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import verdict
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import OTHER_ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import POLICY
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import REGION
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import converged
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import load_schema
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import planned_rows
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import record
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage_arn


@pytest.fixture(name="enforce_report")
def enforce_report_fixture():
    return build_enforce_report()


@pytest.fixture(name="audit_report")
def audit_report_fixture():
    return build_audit_report()


# ---- categories ---------------------------------------------------------------------------------------


def row(action, before=False, after=False, desired=True, reason="r"):
    return {"action": action, "tracing_enabled_before": before, "tracing_enabled_after": after, "desired": desired, "reason": reason}


@pytest.mark.parametrize(
    "case, category",
    [
        (row("exempt", desired=None), "exempt"),
        (row("skipped", desired=None), "skipped"),
        # The guard's refusal: an action of its own since schema 1.1; a skipped row with 'refused: ' in 1.0.
        (row("refused", desired=True, reason="3 changes planned in this run, more than tracing_sweep_max_changes"), "noncompliant"),
        (row("refused", before=True, after=True, desired=True, reason="x"), "noncompliant"),
        (row("skipped", desired=True, reason="refused: 3 changes planned, more than tracing_sweep_max_changes=1"), "noncompliant"),
        # Skipped is skipped whatever its desired state: a stage deleted between the read and the change.
        (row("skipped", desired=True, reason="no longer exists: the stage (or its REST API) was deleted between the read and the change"), "skipped"),
        (row("skipped", before=True, after=True, desired=True), "skipped"),
        (row("none", before=True, after=True), "compliant"),
        (row("none", desired=False), "compliant"),
        (row("would_enable", after=True), "noncompliant"),
        (row("would_disable", before=True, after=False, desired=False), "noncompliant"),
        (row("enabled", after=True), "compliant"),
        (row("disabled", before=True, desired=False), "compliant"),
        (row("error"), "stage_errors"),
        (row("error", after=True), "stage_errors"),
    ],
)
def test_row_category(case, category):
    assert row_category(case) == category


@pytest.mark.parametrize(
    "compliant, noncompliant, percent",
    [(0, 0, None), (5, 0, 100.0), (0, 3, 0.0), (2, 1, 66.7), (1, 2, 33.3), (1, 7, 12.5), (999, 1, 99.9), (1999, 1, 100.0)],
)
def test_compliance_percent(compliant, noncompliant, percent):
    assert compliance_percent(compliant, noncompliant) == percent


def test_categories_partition_the_stages(enforce_report, audit_report):
    for report in (enforce_report, audit_report):
        summary = report["summary"]
        assert sum(summary[name] for name in CATEGORIES) == summary["stages"] == len(report["stages"])
        for name in CATEGORIES:
            assert summary[name] == sum(1 for item in report["stages"] if row_category(item) == name)


def test_zero_denominator_has_no_compliance_percent():
    """A run that evaluated no stage never reads as 100% compliant."""
    plan, rows = planned_rows([stage(tags={"XrayExempt": "x"}), stage(name="dev", api_name="sandbox-1")], **POLICY)
    report = build_report([record("only-exempt", rows, plan)], "audit", GENERATED_AT, exemptions=EXEMPTIONS)
    assert (report["summary"]["exempt"], report["summary"]["skipped"], report["summary"]["compliance_percent"]) == (1, 1, None)
    # Nothing failed and nothing is non-compliant: the verdict is compliant, with nothing evaluated.
    assert report["verdict"] == "compliant"
    assert report["verdict_reason"] == "every evaluated stage has its desired tracing state (0 evaluated)"
    assert schema_errors(report) == []
    empty = build_report([], "audit", GENERATED_AT)
    assert empty["summary"]["stages"] == 0
    assert empty["summary"]["compliance_percent"] is None
    assert schema_errors(empty) == []


def test_only_failed_targets_is_an_error_not_compliant():
    report = build_report([record("a", [], None, status="error", error="Unable to assume role")], "audit", GENERATED_AT)
    summary = report["summary"]
    assert (summary["targets_failed"], summary["stage_errors"], summary["errors"], summary["compliance_percent"]) == (1, 0, 1, None)
    assert report["verdict"] == "error"
    assert report["verdict_reason"] == "1 target failed: what failed was not evaluated, so the run cannot vouch for it"


# ---- enforce report -----------------------------------------------------------------------------------


def test_enforce_summary(enforce_report):
    assert enforce_report["summary"] == {
        "targets": 3,
        "targets_failed": 1,
        "stages": 9,
        "compliant": 4,  # east orders/prod and legacy enabled, east orders/dev and west qa none
        "noncompliant": 1,  # west prod refused
        "changed": 2,
        "would_change": 0,
        "exempt": 2,
        "skipped": 1,
        "stage_errors": 1,  # east billing/prod
        "errors": 2,  # the stage error and the broken target
        "compliance_percent": 80.0,
        "planned_changes": 4,
        "max_changes": 0,
        "refused": True,
    }
    assert [item["action"] for item in enforce_report["stages"] if item["region"] == "us-west-2"] == ["refused", "none"]
    assert enforce_report["verdict"] == "error"
    assert enforce_report["verdict_reason"] == "1 target failed, 1 stage error: what failed was not evaluated, so the run cannot vouch for it"


def test_enforce_header_and_order_of_keys(enforce_report):
    assert list(enforce_report) == [
        "schema_version", "generated_at", "mode", "verdict", "verdict_reason", "run", "summary", "targets", "stages", "exemptions", "since_baseline",
    ]
    assert (enforce_report["schema_version"], enforce_report["generated_at"], enforce_report["mode"]) == ("1.1", GENERATED_AT, "enforce")
    assert SCHEMA_VERSION == "1.1"
    assert list(enforce_report["summary"]) == [
        "targets", "targets_failed", "stages", "compliant", "noncompliant", "changed", "would_change", "exempt", "skipped", "stage_errors", "errors",
        "compliance_percent", "planned_changes", "max_changes", "refused",
    ]


def test_run_section_defaults(enforce_report):
    assert enforce_report["run"] == {
        "collection": "cloudops.apigw_tracing",
        "collection_version": collection_version(),
        "policy": {"desired": True, "rules": 0, "exemptions": 0, "exempt_tag": None},
        "errors": [],
        "failed_steps": [],
        "judged_with": None,
    }
    assert collection_version() != ""


def test_targets_are_sorted_by_host_with_counts(enforce_report):
    assert enforce_report["targets"] == [
        {
            "host": "broken",
            "account_id": "444444444444",
            "account_name": None,
            "region": "eu-west-1",
            "status": "error",
            "error": "Unable to assume role",
            "caller_arn": None,
            "stages": 0,
            "noncompliant": 0,
        },
        {
            "host": "east",
            "account_id": ACCOUNT,
            "account_name": "shop",
            "region": "us-east-1",
            "status": "ok",
            "error": None,
            "caller_arn": None,
            "stages": 7,
            "noncompliant": 0,
        },
        {
            "host": "west",
            "account_id": OTHER_ACCOUNT,
            "account_name": "payments",
            "region": "us-west-2",
            "status": "ok",
            "error": None,
            "caller_arn": None,
            "stages": 2,
            "noncompliant": 1,
        },
    ]


def test_stages_are_sorted(enforce_report):
    keys = [(item["account_id"], item["region"], item["rest_api_name"], item["rest_api_id"], item["stage_name"]) for item in enforce_report["stages"]]
    assert keys == [
        (ACCOUNT, "us-east-1", None, "d1d2d3d4d5", "tagged"),  # no API name sorts first
        (ACCOUNT, "us-east-1", "billing", "b1b2c3d4e5", "prod"),
        (ACCOUNT, "us-east-1", "legacy-shop", "c1c2c3c4c5", "v1"),
        (ACCOUNT, "us-east-1", "orders", "a1b2c3d4e5", "dev"),
        (ACCOUNT, "us-east-1", "orders", "a1b2c3d4e5", "prod"),
        (ACCOUNT, "us-east-1", "sandbox-1", "f1f2f3f4f5", "dev"),
        (ACCOUNT, "us-east-1", "vendor", "e1e2e3e4e5", "prod"),
        (OTHER_ACCOUNT, "us-west-2", "orders", "a1b2c3d4e5", "prod"),
        (OTHER_ACCOUNT, "us-west-2", "orders", "a1b2c3d4e5", "qa"),
    ]


def test_stages_without_account_id_sort_first():
    plan, rows = planned_rows([stage(name="b"), stage(name="a")], target={"account_id": None, "region": "us-east-1"})
    other_plan, other_rows = planned_rows([stage(name="a")])
    report = build_report([record("x", other_rows, other_plan), record("y", rows, plan, account_id=None)], "audit", GENERATED_AT)
    assert [(item["account_id"], item["stage_name"]) for item in report["stages"]] == [(None, "a"), (None, "b"), (ACCOUNT, "a")]
    assert schema_errors(report) == []


def test_exemptions_merged_over_targets(enforce_report):
    assert enforce_report["exemptions"] == [
        {
            "index": 0,
            "arn": stage_arn("e1e2e3e4e5", "prod"),
            "reason": "vendor managed",
            "expires": "2026-12-31",
            "status": "active",
            "stages": [stage_arn("e1e2e3e4e5", "prod")],
        },
        {
            "index": 1,
            "api_name": "legacy-*",
            "stage_name": "v1",
            "reason": "retiring",
            "expires": "2025-01-31",
            "status": "expired",
            "stages": [stage_arn("c1c2c3c4c5", "v1")],
        },
        {"index": 2, "account_id": "333333333333", "reason": "never matches", "expires": None, "status": "unused", "stages": []},
    ]


def test_exemption_active_in_one_target_and_stages_unioned():
    exemptions = [{"stage_name": "prod", "reason": "r"}]
    east_plan, east_rows = planned_rows([stage(name="prod")], exemptions=exemptions)
    west_plan, west_rows = planned_rows([stage(name="prod", region="us-west-2")], target={"account_id": ACCOUNT, "region": "us-west-2"}, exemptions=exemptions)
    records = [record("e", east_rows, east_plan), record("w", west_rows, west_plan, region="us-west-2"), record("e2", east_rows, east_plan)]
    report = build_report(records, "audit", GENERATED_AT, exemptions=exemptions)
    assert report["exemptions"][0]["stages"] == [stage_arn("a1b2c3d4e5", "prod"), stage_arn("a1b2c3d4e5", "prod", region="us-west-2")]
    assert report["exemptions"][0]["status"] == "active"


def test_failed_target_without_message_gets_one():
    report = build_report([record("h", [], None, status="error", error="")], "enforce", GENERATED_AT)
    assert report["targets"][0]["error"] == "the target failed"
    assert report["summary"]["targets_failed"] == 1


# ---- audit report -------------------------------------------------------------------------------------


def test_audit_summary(audit_report):
    summary = audit_report["summary"]
    assert (summary["would_change"], summary["changed"], summary["noncompliant"], summary["compliant"]) == (3, 0, 3, 1)
    assert (summary["exempt"], summary["skipped"], summary["stage_errors"], summary["errors"], summary["planned_changes"]) == (2, 1, 0, 0, 3)
    assert summary["compliance_percent"] == 25.0
    assert summary["max_changes"] is None
    assert summary["refused"] is False
    assert {item["action"] for item in audit_report["stages"]} == {"would_enable", "none", "exempt", "skipped"}
    assert audit_report["verdict"] == "noncompliant"
    assert audit_report["verdict_reason"] == "3 stages do not have their desired tracing state"


def test_report_is_deterministic_and_json_serialisable():
    first = build_report(enforce_records(), "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0)
    second = build_report(list(reversed(enforce_records())), "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0)
    assert json.dumps(first) == json.dumps(second)


def test_generated_at_may_be_a_datetime():
    when = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.timezone.utc)
    assert build_report([], "audit", when)["generated_at"] == "2026-03-15T12:00:00+00:00"


def test_inputs_are_not_modified():
    records = enforce_records()
    exemptions = copy.deepcopy(EXEMPTIONS)
    saved = copy.deepcopy((records, exemptions))
    build_report(records, "enforce", GENERATED_AT, exemptions=exemptions, max_changes=3)
    assert (records, exemptions) == saved


# ---- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (([], "check", GENERATED_AT), "^mode: must be audit or enforce, got 'check'$"),
        (([], "audit", ""), "^generated_at: must be an ISO 8601"),
        (([], "audit", None), "^generated_at: must be an ISO 8601"),
        (({}, "audit", GENERATED_AT), "^targets: must be a list"),
        ((["east"], "audit", GENERATED_AT), r"^targets\[0\]: must be a mapping"),
        (([{"region": "us-east-1"}], "audit", GENERATED_AT), r"^targets\[0\]\.host: is required$"),
        (([{"host": "h"}], "audit", GENERATED_AT), r"^targets\[0\]\.region: is required$"),
        (([{"host": "h", "region": "us-east-1", "status": "failed"}], "audit", GENERATED_AT), r"^targets\[0\]\.status: must be ok or error"),
        (([{"host": "h", "region": "us-east-1", "rows": [{"action": "none"}]}], "audit", GENERATED_AT), r"^targets\[0\]\.rows\[0\]: missing account_id"),
        (([{"host": "h", "region": "us-east-1", "rows": "x"}], "audit", GENERATED_AT), r"^targets\[0\]\.rows: must be a list"),
        (([{"host": "h", "region": "us-east-1", "exemptions": [{"index": "0"}]}], "audit", GENERATED_AT), r"^targets\[0\]\.exemptions: must be"),
    ],
)
def test_bad_report_input(args, message):
    with pytest.raises(ValueError, match=message):
        build_report(*args)


def test_bad_row_action():
    dummy, rows = planned_rows([stage()], check_mode=True)
    rows[0]["action"] = "changed"
    with pytest.raises(ValueError, match=r"^targets\[0\]\.rows\[0\]\.action: must be one of exempt, skipped, refused, none"):
        build_report([record("h", rows)], "audit", GENERATED_AT)


@pytest.mark.parametrize("max_changes", [-1, True, "5", 2.0])
def test_bad_max_changes(max_changes):
    with pytest.raises(ValueError, match="^max_changes: must be a whole number >= 0 or null"):
        build_report([], "audit", GENERATED_AT, max_changes=max_changes)


def test_exemption_index_without_definition_needs_the_configured_list():
    plan, rows = planned_rows([stage()], exemptions=[{"stage_name": "prod", "reason": "r"}])
    plan = dict(plan, exemptions=[{key: value for key, value in entry.items() if key != "definition"} for entry in plan["exemptions"]])
    with pytest.raises(ValueError, match="^a target reports exemption 1, but exemptions has 0: pass the configured exemptions$"):
        build_report([record("h", rows, plan)], "audit", GENERATED_AT)


def test_exemptions_that_differ_between_hosts_are_reported_by_what_they_say():
    """Exemptions in group_vars per account: each host's list is its own; the report merges by content."""
    ours = [{"stage_name": "prod", "reason": "ours"}]
    theirs = [{"stage_name": "nothing-matches", "reason": "unused here"}, {"stage_name": "prod", "reason": "theirs"}]
    plan_a, rows_a = planned_rows([stage()], target={"account_id": "111111111111", "region": REGION}, exemptions=ours)
    plan_b, rows_b = planned_rows([stage()], target={"account_id": "222222222222", "region": REGION}, exemptions=theirs)
    records = [record("a", rows_a, plan_a, account_id="111111111111"), record("b", rows_b, plan_b, account_id="222222222222")]
    report = build_report(records, "audit", GENERATED_AT, exemptions=ours)
    assert [(entry["index"], entry["reason"], entry["status"], len(entry["stages"])) for entry in report["exemptions"]] == [
        (0, "ours", "active", 1),
        (1, "theirs", "active", 1),
    ]


def test_malformed_configured_exemptions():
    with pytest.raises(ValueError, match=r"^exemptions\[0\]\.reason: is required"):
        build_report([], "audit", GENERATED_AT, exemptions=[{"stage_name": "prod"}])


# ---- schema -------------------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["stage"]["properties"]["action"]["enum"] == list(ACTIONS)


def test_built_reports_conform_to_the_schema(enforce_report, audit_report):
    assert schema_errors(enforce_report) == []
    assert schema_errors(audit_report) == []
    assert schema_errors(build_report([], "audit", GENERATED_AT)) == []


def test_every_action_of_a_report_conforms(enforce_report, audit_report):
    seen = {item["action"] for item in enforce_report["stages"] + audit_report["stages"]}
    assert seen | {"would_disable", "disabled"} == set(ACTIONS)
    change = {"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": False}
    plan, rows = planned_rows([stage(enabled=True)], desired=False, converge=converged([change]))
    dummy, check_rows = planned_rows([stage(enabled=True)], desired=False, check_mode=True)
    report = build_report([record("a", rows, plan), record("b", check_rows, plan, region="us-east-2")], "enforce", GENERATED_AT)
    assert {item["action"] for item in report["stages"]} == {"disabled", "would_disable"}
    assert schema_errors(report) == []


def break_report(report, path, value):
    broken = copy.deepcopy(report)
    *parents, last = path
    target = broken
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return broken


@pytest.mark.parametrize(
    "path, value",
    [
        (("extra",), 1),
        (("schema_version",), "2.0"),
        (("mode",), "check"),
        (("summary", "extra"), 1),
        (("summary", "stages"), -1),
        (("summary", "compliance_percent"), 101),
        (("summary", "refused"), KeyError),
        (("targets", 0, "status"), "failed"),
        (("targets", 0, "error"), None),  # status error needs a message
        (("targets", 1, "error"), "x"),  # status ok has none
        (("targets", 1, "account_id"), "1234"),
        (("stages", 0, "action"), "changed"),
        (("stages", 0, "host"), "east"),
        (("stages", 0, "reason"), KeyError),
        (("stages", 0, "desired"), True),  # the first stage is exempt: no desired state
        (("stages", 0, "rest_api_id"), "NOT-AN-ID"),
        (("stages", 4, "tracing_enabled_after"), False),  # orders/prod was enabled
        (("exemptions", 0, "status"), "revoked"),
        (("exemptions", 0, "expires"), "31/12/2026"),
        (("exemptions", 0, "region"), "us-east-1"),  # arn and a selector
        (("exemptions", 2, "account_id"), KeyError),  # no selector left
        (("schema_version",), "1.0"),  # this collection writes 1.1
        (("verdict",), "green"),
        (("verdict",), KeyError),
        (("verdict_reason",), None),
        (("run",), KeyError),
        (("run", "extra"), 1),
        (("run", "errors"), "x"),
        (("run", "policy", "rules"), -1),
        (("summary", "stage_errors"), KeyError),
        (("summary", "compliance_percent"), "n/a"),
        (("targets", 0, "caller_arn"), 5),
        (("stages", 0, "account_name"), KeyError),
    ],
)
def test_schema_rejects_malformed_reports(enforce_report, path, value):
    assert schema_errors(enforce_report) == []
    assert schema_errors(break_report(enforce_report, path, value)) != []


# ---- hosts without a record ---------------------------------------------------------------------------


def test_hosts_fill_in_targets_that_recorded_nothing():
    records = enforce_records() + [{}]
    hosts = [item["host"] for item in records[:-1]] + ["silent"]
    report = build_report(records, "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0, hosts=hosts)
    assert [target["host"] for target in report["targets"]] == ["broken", "east", "silent", "west"]
    assert report["targets"][2] == {
        "host": "silent",
        "account_id": None,
        "account_name": None,
        "region": None,
        "status": "error",
        "error": NOT_RECORDED,
        "caller_arn": None,
        "stages": 0,
        "noncompliant": 0,
    }
    assert report["summary"]["targets"] == 4
    assert report["summary"]["targets_failed"] == 2
    assert schema_errors(report) == []


def test_hosts_name_a_record_without_host():
    dummy, rows = planned_rows([stage()], check_mode=True)
    anonymous = {"region": "us-east-1", "status": "ok", "rows": rows}
    report = build_report([anonymous], "audit", GENERATED_AT, hosts=["named"])
    assert report["targets"][0]["host"] == "named"


def test_hosts_must_match_the_records():
    records = enforce_records()
    with pytest.raises(ValueError, match="^hosts: must list the host of each target record in order, got 2 hosts for 3 records$"):
        build_report(records, "enforce", GENERATED_AT, exemptions=EXEMPTIONS, hosts=["west", "east"])
    with pytest.raises(ValueError, match=r"^targets\[1\]\.host: is 'east' but hosts\[1\] is 'broken'; list the hosts in the records' order$"):
        build_report(records, "enforce", GENERATED_AT, exemptions=EXEMPTIONS, hosts=["west", "broken", "east"])
    with pytest.raises(ValueError, match="^hosts: must list the host of each target record in order, got no list of hosts for 3 records$"):
        build_report(records, "enforce", GENERATED_AT, exemptions=EXEMPTIONS, hosts="west")


def test_failed_target_may_lack_a_region_but_a_swept_one_may_not():
    report = build_report([{"host": "h", "status": "error", "error": "tracing_sweep_region: is required"}], "enforce", GENERATED_AT)
    assert report["targets"][0]["region"] is None
    assert schema_errors(report) == []
    with pytest.raises(ValueError, match=r"^targets\[0\]\.region: is required$"):
        build_report([{"host": "h", "status": "ok"}], "enforce", GENERATED_AT)
    swept_without_region = break_report(report, ("targets", 0, "status"), "ok")
    swept_without_region["targets"][0]["error"] = None
    assert schema_errors(swept_without_region) != []


def test_a_target_that_failed_on_its_own_variables_keeps_only_well_formed_ids():
    """Its error names the bad values; the report stays valid against its schema."""
    bad = {"host": "h", "account_id": "1234", "region": "US-EAST-1", "status": "error", "error": "tracing_sweep_region: ..."}
    report = build_report([bad], "audit", GENERATED_AT)
    assert (report["targets"][0]["account_id"], report["targets"][0]["region"]) == (None, None)
    jsonschema.validate(report, load_schema())


# ---- REST APIs whose stages could not be read ---------------------------------------------------------


def test_an_unreadable_api_is_one_error_row_never_compliant_and_the_report_stays_valid():
    failure = {
        "rest_api_id": "f6g7h8i9j0",
        "rest_api_name": "billing",
        "arn": f"arn:aws:apigateway:{REGION}::/restapis/f6g7h8i9j0/stages/*",
        "error_code": "ServiceUnavailableException",
        "message": "Reading the stages of REST API f6g7h8i9j0 failed: ServiceUnavailableException: try later",
    }
    plan = plan_target([stage(enabled=False)], {"account_id": ACCOUNT, "region": REGION}, read_failures=[failure])
    rows = target_rows(plan, check_mode=True)

    unread = rows[-1]
    assert (unread["rest_api_id"], unread["stage_name"], unread["action"]) == ("f6g7h8i9j0", "*", "error")
    assert unread["tracing_enabled_before"] is None and unread["tracing_enabled_after"] is None
    assert unread["reason"] == failure["message"]
    assert plan["changes"] == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": True, "observed_tracing_enabled": False}]

    report = build_report([record("h1", rows, plan=plan)], "audit", GENERATED_AT)

    assert schema_errors(report) == []
    summary = report["summary"]
    assert (summary["stages"], summary["stage_errors"], summary["errors"], summary["noncompliant"], summary["compliant"]) == (2, 1, 1, 1, 0)
    assert report["verdict"] == "error"
    for name, render in RENDERERS.items():
        assert "f6g7h8i9j0" in render(report), name


def test_a_malformed_read_failure_names_its_index():
    with pytest.raises(ValueError, match=r"read_failures\[0\]"):
        plan_target([], {"account_id": ACCOUNT, "region": REGION}, read_failures=[{"rest_api_id": "f6g7h8i9j0"}])


# ---- verdict, run section, caller and account name ----------------------------------------------------


def summary_of(targets=1, targets_failed=0, stage_errors=0, noncompliant=0, compliant=0):
    return {
        "targets": targets,
        "targets_failed": targets_failed,
        "stage_errors": stage_errors,
        "errors": stage_errors + targets_failed,
        "noncompliant": noncompliant,
        "compliant": compliant,
    }


@pytest.mark.parametrize(
    "summary, run_errors, expected",
    [
        (summary_of(compliant=3), (), ("compliant", "every evaluated stage has its desired tracing state (3 evaluated)")),
        (summary_of(noncompliant=1, compliant=3), (), ("noncompliant", "1 stage does not have its desired tracing state")),
        (summary_of(noncompliant=2), (), ("noncompliant", "2 stages do not have their desired tracing state")),
        # Errors win over non-compliance.
        (summary_of(noncompliant=5, stage_errors=1), (), ("error", "1 stage error: what failed was not evaluated, so the run cannot vouch for it")),
        (
            summary_of(targets=2, targets_failed=2, compliant=1),
            (),
            ("error", "2 targets failed: what failed was not evaluated, so the run cannot vouch for it"),
        ),
        (summary_of(compliant=1), ["boom"], ("error", "1 run error: what failed was not evaluated, so the run cannot vouch for it")),
        (
            summary_of(targets=3, targets_failed=1, stage_errors=2),
            ["a", "b"],
            ("error", "2 run errors, 1 target failed, 2 stage errors: what failed was not evaluated, so the run cannot vouch for it"),
        ),
        # Zero targets is an error, never a compliant run.
        (summary_of(targets=0), (), ("error", "no target was swept: the run had no inventory host (see the run's errors)")),
        (summary_of(targets=0), ["no target"], ("error", "no target was swept: the run had no inventory host (see the run's errors)")),
    ],
)
def test_verdict(summary, run_errors, expected):
    assert verdict(summary, run_errors) == expected


def test_zero_targets_report_is_an_error_with_its_run_errors():
    report = build_report([], "audit", GENERATED_AT, run={"errors": ["no target: the inventory gave this run no host"]})
    assert report["verdict"] == "error"
    assert report["run"]["errors"] == ["no target: the inventory gave this run no host"]
    assert schema_errors(report) == []


def test_run_errors_make_an_otherwise_compliant_run_an_error():
    plan, rows = planned_rows([stage(enabled=True)])
    report = build_report([record("h", rows, plan)], "enforce", GENERATED_AT, run={"errors": ["the rollback report could not be read"]})
    assert report["summary"]["compliance_percent"] == 100.0
    assert report["summary"]["errors"] == 0
    assert (report["verdict"], report["verdict_reason"]) == ("error", "1 run error: what failed was not evaluated, so the run cannot vouch for it")
    assert schema_errors(report) == []


def test_run_section_as_given():
    policy = policy_in_force(False, rules=[{"skip": True}, {"tracing_enabled": True}], exemptions=EXEMPTIONS, exempt_tag="XrayExempt")
    assert policy == {"desired": False, "rules": 2, "exemptions": 3, "exempt_tag": "XrayExempt"}
    report = build_report([], "audit", GENERATED_AT, run={"collection_version": "9.8.7", "policy": policy, "errors": ["e1"]})
    assert report["run"] == {
        "collection": "cloudops.apigw_tracing", "collection_version": "9.8.7", "policy": policy, "errors": ["e1"], "failed_steps": [], "judged_with": None,
    }
    assert schema_errors(report) == []


def test_policy_in_force_defaults():
    assert policy_in_force() == {"desired": True, "rules": 0, "exemptions": 0, "exempt_tag": None}
    assert policy_in_force(True, None, None, "")["exempt_tag"] is None


@pytest.mark.parametrize(
    "run, message",
    [
        ({"version": "1"}, r"^run: unknown key 'version'; run takes collection_version, policy, errors, failed_steps, judged_with, named_stages, whole_path$"),
        ({"policy": {"desired": True}}, r"^run\.policy: must be a mapping of desired, rules, exemptions, exempt_tag"),
        ({"policy": "strict"}, r"^run\.policy: must be a mapping"),
        ({"errors": "boom"}, r"^run\.errors: must be a list of messages$"),
        ({"errors": ["ok", ""]}, r"^run\.errors: must be a list of messages$"),
        ({"errors": [5]}, r"^run\.errors: must be a list of messages$"),
    ],
)
def test_bad_run_section(run, message):
    with pytest.raises(ValueError, match=message):
        build_report([], "audit", GENERATED_AT, run=run)


def test_caller_arn_of_a_target_is_reported():
    plan, rows = planned_rows([stage(enabled=True)])
    caller = "arn:aws:sts::111111111111:assumed-role/TracingAudit/cloudops-tracing-sweep"
    report = build_report([dict(record("h", rows, plan), caller_arn=caller), dict(record("g", rows, plan, region="us-east-2"), caller_arn="")],
                          "audit", GENERATED_AT)
    assert [(target["host"], target["caller_arn"]) for target in report["targets"]] == [("g", None), ("h", caller)]
    assert schema_errors(report) == []


def test_stage_rows_carry_the_account_name_right_after_the_account_id(enforce_report):
    for item in enforce_report["stages"]:
        assert list(item)[:2] == ["account_id", "account_name"]
    names = {(item["account_id"], item["region"]): item["account_name"] for item in enforce_report["stages"]}
    assert names == {(ACCOUNT, "us-east-1"): "shop", (OTHER_ACCOUNT, "us-west-2"): "payments"}


def test_a_row_naming_its_own_account_keeps_that_name():
    plan, rows = planned_rows([stage(enabled=True)])
    rows = [dict(rows[0], account_name="from-the-row")]
    report = build_report([record("h", rows, plan, account_name="from-the-target")], "audit", GENERATED_AT)
    assert report["stages"][0]["account_name"] == "from-the-row"
    unnamed = build_report([record("h", planned_rows([stage(enabled=True)])[1], plan)], "audit", GENERATED_AT)
    assert unnamed["stages"][0]["account_name"] is None
