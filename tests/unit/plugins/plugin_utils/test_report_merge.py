# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_merge import merge_reports
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors

LATER = "2026-03-15T12:05:00+00:00"


def slice_report(indexes, generated_at=GENERATED_AT, max_changes=0):
    """The report a slice holding the enforce_records() of ``indexes`` writes."""
    records = enforce_records()
    return build_report([records[index] for index in indexes], "enforce", generated_at, exemptions=EXEMPTIONS, max_changes=max_changes)


def whole_report():
    return slice_report(range(3))


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
        ("schema_version", "2.0", "s1.schema_version: must be 1.0, the version this collection writes, got '2.0'"),
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
