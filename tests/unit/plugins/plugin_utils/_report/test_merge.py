# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.merge import merge_reports
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors

LATER = "2026-03-15T12:05:00+00:00"
SUMMARY_1_0 = (
    "targets", "targets_failed", "stages", "compliant", "noncompliant", "changed", "would_change", "exempt", "skipped", "errors",
    "compliance_percent", "planned_changes", "max_changes", "refused",
)


def slice_report(indexes, generated_at=GENERATED_AT, max_changes=0):
    """The report a slice holding the enforce_records() of ``indexes`` writes."""
    records = enforce_records()
    return build_report([records[index] for index in indexes], "enforce", generated_at, exemptions=EXEMPTIONS, max_changes=max_changes)


def whole_report():
    return slice_report(range(3))


def as_schema_1_0(report):
    """The report as collection 1.0.0 wrote it: no verdict, run, caller_arn nor account_name; the guard's refusal a
    skipped row whose reason starts with 'refused: '; errors counting stage errors only; 100.0 when nothing was evaluated."""
    old = copy.deepcopy(report)
    for key in ("verdict", "verdict_reason", "run"):
        del old[key]
    old["schema_version"] = "1.0"
    old["summary"]["errors"] = old["summary"].pop("stage_errors")
    if old["summary"]["compliance_percent"] is None:
        old["summary"]["compliance_percent"] = 100.0
    old["summary"] = {key: old["summary"][key] for key in SUMMARY_1_0}
    for target in old["targets"]:
        del target["caller_arn"]
    for row in old["stages"]:
        del row["account_name"]
        if row["action"] == "refused":
            row.update(action="skipped", reason="refused: " + row["reason"])
    return old


@pytest.mark.parametrize("slices", [[[0], [1, 2]], [[1], [0, 2]], [[2], [0, 1]], [[2], [1], [0]], [[0, 1, 2]]])
def test_the_slices_merge_to_the_unsliced_report(slices):
    """Whichever way the targets are sliced: the east target's exemptions are active or expired, while the
    slices without it report them unused; the summary, compliance and planned changes are the whole run's."""
    merged, problems = merge_reports([slice_report(indexes) for indexes in slices])
    assert problems == []
    assert merged == whole_report()
    assert schema_errors(merged) == []


def test_the_statuses_of_an_exemption_are_merged_as_in_one_run():
    whole = whole_report()
    assert [entry["status"] for entry in whole["exemptions"]] == ["active", "expired", "unused"]
    west_only = slice_report([0])
    assert [entry["status"] for entry in west_only["exemptions"]] == ["unused", "unused", "unused"]
    merged, dummy = merge_reports([west_only, slice_report([1, 2])])
    assert merged["exemptions"] == whole["exemptions"]


def test_reports_as_json_text_and_generated_at_is_the_earliest():
    reports = [json.dumps(slice_report([0], generated_at=LATER)), json.dumps(slice_report([1, 2]))]
    merged, problems = merge_reports(reports)
    assert problems == []
    assert merged["generated_at"] == GENERATED_AT
    assert merged == whole_report()


def test_different_change_limits_have_no_single_limit():
    merged, dummy = merge_reports([slice_report([0], max_changes=0), slice_report([1, 2], max_changes=50)])
    assert merged["summary"]["max_changes"] is None
    merged, dummy = merge_reports([slice_report([0], max_changes=50), slice_report([1, 2], max_changes=50)])
    assert merged["summary"]["max_changes"] == 50


def test_inputs_are_not_modified():
    reports = [slice_report([0]), slice_report([1, 2])]
    kept = copy.deepcopy(reports)
    merge_reports(reports)
    assert reports == kept


def test_a_host_in_two_reports_is_refused_naming_both():
    merged, problems = merge_reports([slice_report([0, 1]), slice_report([1, 2])], names=["a/report.json", "b/report.json"])
    assert merged is None
    assert problems == [
        "b/report.json: host east is also in a/report.json; merge the reports of slices with disjoint hosts (each host in one slice)"
    ]


def test_audits_and_enforcements_do_not_mix():
    merged, problems = merge_reports([slice_report([0]), build_audit_report()])
    assert merged is None
    assert problems[0] == "mode: the reports must all be of audits or all of enforcements, got audit and enforce"


@pytest.mark.parametrize(
    "report, expected",
    [
        ("{not json", "s1 is not JSON"),
        ("", "s1 is empty, not a report.json"),
        ([], "s1: is not a tracing sweep report"),
        ({"schema_version": "1.0", "mode": "audit"}, "s1: is not a tracing sweep report (report.json of the tracing_sweep role"),
    ],
)
def test_what_is_not_a_report_is_refused_by_name(report, expected):
    merged, problems = merge_reports([report, slice_report([1, 2])], names=["s1", "s2"])
    assert merged is None
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("schema_version", "2.0", "s1.schema_version: must be one of 1.0, 1.1, the versions this collection reads, got '2.0'"),
        ("schema_version", 1.1, "s1.schema_version: must be one of 1.0, 1.1, the versions this collection reads, got 1.1 (float)"),
        ("mode", "check", "s1.mode: must be audit or enforce, got 'check'"),
        ("generated_at", None, "s1.generated_at: must be an ISO 8601 date and time, got null"),
        ("summary", [], "s1.summary: must be a mapping"),
        ("stages", {}, "s1.stages: must be a list of stage rows (mappings)"),
        ("targets", [{"host": "east"}, 1], "s1.targets[1]: must be one of the target summaries (a mapping), got 1 (integer)"),
        ("exemptions", None, "s1.exemptions: must be a list of exemption entries (mappings), got null"),
    ],
)
def test_a_malformed_report_is_refused_naming_the_field(key, value, expected):
    report = dict(slice_report([0]), **{key: value})
    merged, problems = merge_reports([report, slice_report([1, 2])], names=["s1", "s2"])
    assert merged is None
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_a_damaged_stage_row_is_refused_naming_it():
    report = slice_report([0])
    del report["stages"][1]["action"]
    merged, problems = merge_reports([report])
    assert merged is None
    assert problems == ["reports[0].stages[1]: missing action; pass the rows sweep_outcome returns"]


def test_a_target_without_a_host_is_refused():
    report = slice_report([0])
    report["targets"][0]["host"] = None
    merged, problems = merge_reports([report])
    assert merged is None
    assert problems == ["reports[0].targets[0].host: must be the host name, got null"]


@pytest.mark.parametrize("reports", [[], None, "report.json"])
def test_nothing_to_merge(reports):
    merged, problems = merge_reports(reports)
    assert merged is None
    assert problems[0].startswith("reports: must be a non-empty list of reports")


def test_names_must_name_each_report():
    with pytest.raises(ValueError, match="names: must name each of the 2 reports"):
        merge_reports([slice_report([0]), slice_report([1])], names=["one"])


# ---- schema 1.0 and 1.1, verdict and run errors ---------------------------------------------------------


def test_merged_report_is_1_1_with_a_verdict():
    merged, problems = merge_reports([slice_report([0]), slice_report([1, 2])])
    assert problems == []
    assert merged["schema_version"] == "1.1"
    assert (merged["verdict"], merged["verdict_reason"]) == ("error", whole_report()["verdict_reason"])


def test_reports_of_schema_1_0_are_read_and_written_as_1_1():
    """Slices of a run by collection 1.0.0: their targets have no caller_arn and their stages no account_name."""
    merged, problems = merge_reports([as_schema_1_0(slice_report([0])), as_schema_1_0(slice_report([1, 2]))])
    assert problems == []
    whole = whole_report()
    assert merged["schema_version"] == "1.1"
    # Counted again from the rows: the 1.0 refusal still counts as non-compliant, errors include the failed target.
    assert merged["summary"] == whole["summary"]
    assert (merged["verdict"], merged["verdict_reason"]) == (whole["verdict"], whole["verdict_reason"])
    assert [target["caller_arn"] for target in merged["targets"]] == [None, None, None]
    # The account name of a row comes from its target (same account and region).
    assert {(row["account_id"], row["account_name"]) for row in merged["stages"]} == {("111111111111", "shop"), ("222222222222", "payments")}
    assert [list(row)[:2] for row in merged["stages"]] == [["account_id", "account_name"]] * len(merged["stages"])
    refused = [row for row in merged["stages"] if row["region"] == "us-west-2" and row["stage_name"] == "prod"]
    assert [(row["action"], row["reason"]) for row in refused] == [("skipped", "refused: 1 changes planned, more than tracing_sweep_max_changes=0")]
    assert schema_errors(merged) == []


def test_a_1_0_slice_and_a_1_1_slice_merge():
    merged, problems = merge_reports([as_schema_1_0(slice_report([0])), slice_report([1, 2])])
    assert problems == []
    assert merged["summary"] == whole_report()["summary"]
    assert merged["run"]["policy"] == whole_report()["run"]["policy"]
    assert schema_errors(merged) == []


def test_run_errors_of_every_slice_are_kept_and_make_the_verdict():
    first = build_report(enforce_records()[:1], "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0, run={"errors": ["slice 1 problem"]})
    second = build_report(enforce_records()[1:2], "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0, run={"errors": ["slice 2 problem"]})
    merged, problems = merge_reports([first, second])
    assert problems == []
    assert merged["run"]["errors"] == ["slice 1 problem", "slice 2 problem"]
    assert merged["verdict"] == "error"
    assert merged["verdict_reason"].startswith("2 run errors, 1 stage error: ")
    assert schema_errors(merged) == []


def test_the_first_slice_gives_the_collection_version_and_policy():
    run = {"collection_version": "1.1.0", "policy": {"desired": False, "rules": 2, "exemptions": 3, "exempt_tag": "XrayExempt"}}
    first = build_report(enforce_records()[:1], "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0, run=run)
    merged, dummy = merge_reports([as_schema_1_0(slice_report([1, 2])), first])
    assert merged["run"] == dict(run, collection="cloudops.apigw_tracing", errors=[], failed_steps=[], judged_with=None)
