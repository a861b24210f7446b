# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/merge_reports.yml on reports written here: what it writes, and what it refuses before writing anything.

test_awx_jobs.py merges the reports of a real sliced job; these reports are small hand-made ones, so that
each refusal is one ansible-playbook run without any AWS.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from conftest import REPO

MERGE = "cloudops.apigw_tracing.merge_reports"
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))


# The fields schema 1.1 added (docs/report.schema.json): collection 1.0.0 wrote reports without them.
ADDED_IN_1_1 = {
    "report": ("verdict", "verdict_reason", "run", "since_baseline"),
    "summary": ("stage_errors",),
    "target": ("caller_arn",),
    "stage": ("account_name",),
}


def stage_row(account_id, region, api_id, stage_name, action, before, after, account_name=None):
    return {
        "account_id": account_id, "account_name": account_name, "region": region, "rest_api_id": api_id, "rest_api_name": "orders",
        "stage_name": stage_name, "arn": "arn:aws:apigateway:%s::/restapis/%s/stages/%s" % (region, api_id, stage_name),
        "tracing_enabled_before": before, "tracing_enabled_after": after, "desired": True, "action": action, "reason": "desired state",
    }


def slice_report(host, account_id, rows, mode="audit", generated_at="2026-11-21T06:00:00Z", account_name=None):
    """A report of one target, as a slice of a sweep writes it (schema 1.1)."""
    counts = {
        "compliant": sum(1 for row in rows if row["action"] in ("none", "enabled")),
        "would_change": sum(1 for row in rows if row["action"] == "would_enable"),
    }
    report = {
        "schema_version": "1.1",
        "generated_at": generated_at,
        "mode": mode,
        "verdict": "noncompliant" if counts["would_change"] else "compliant",
        "verdict_reason": "%d stages do not have their desired tracing state" % counts["would_change"],
        "run": {
            "collection": "cloudops.apigw_tracing", "collection_version": "1.1.0",
            "policy": {"desired": True, "rules": 0, "exemptions": 0, "exempt_tag": None}, "errors": [],
        },
        "summary": {
            "targets": 1, "targets_failed": 0, "stages": len(rows), "compliant": counts["compliant"], "noncompliant": counts["would_change"],
            "changed": sum(1 for row in rows if row["action"] == "enabled"), "would_change": counts["would_change"], "exempt": 0, "skipped": 0,
            "stage_errors": 0, "errors": 0, "compliance_percent": round(100.0 * counts["compliant"] / len(rows), 1),
            "planned_changes": counts["would_change"], "max_changes": 100, "refused": False,
        },
        "targets": [{
            "host": host, "account_id": account_id, "account_name": account_name, "region": "us-east-1", "status": "ok", "error": None,
            "caller_arn": "arn:aws:sts::%s:assumed-role/TracingSweep/cloudops-tracing-sweep" % account_id,
            "stages": len(rows), "noncompliant": counts["would_change"],
        }],
        "stages": [dict(row, account_name=account_name) for row in rows],
        "exemptions": [],
        "since_baseline": None,
    }
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(report))
    return report


def schema_1_0():
    """docs/report.schema.json as it was at 1.0.0: the 1.1 schema without what 1.1 added (its schema_version
    description lists it), the refused action, and a compliance_percent that is always a number."""
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["schema_version"]["const"] = "1.0"
    for place, definition in (("report", schema), ("summary", schema["$defs"]["summary"]),
                              ("target", schema["$defs"]["target"]), ("stage", schema["$defs"]["stage"])):
        for key in ADDED_IN_1_1[place]:
            definition["required"].remove(key)
            del definition["properties"][key]
    schema["$defs"]["stage"]["properties"]["action"]["enum"].remove("refused")
    schema["$defs"]["summary"]["properties"]["compliance_percent"]["type"] = "number"
    return schema


def as_written_by_1_0_0(report):
    """A 1.1 report of ok targets as collection 1.0.0 wrote it (schema 1.0): none of the fields 1.1 added."""
    old = copy.deepcopy(report)
    old["schema_version"] = "1.0"
    for key in ADDED_IN_1_1["report"]:
        del old[key]
    del old["summary"]["stage_errors"]  # errors counted the stage errors only (no target failed here)
    for target in old["targets"]:
        del target["caller_arn"]
    for row in old["stages"]:
        del row["account_name"]
    assert not list(jsonschema.Draft202012Validator(schema_1_0()).iter_errors(old))
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(old)), "a 1.0 report must not pass as a 1.1 one"
    return old


EAST = slice_report("prod_us-east-1", "111111111111", [
    stage_row("111111111111", "us-east-1", "a1b2c3d4e5", "prod", "none", True, True),
    stage_row("111111111111", "us-east-1", "a1b2c3d4e5", "dev", "would_enable", False, True),
], account_name="prod")
STAGING = slice_report("staging_us-east-1", "222222222222", [
    stage_row("222222222222", "us-east-1", "b1b2c3d4e5", "prod", "would_enable", False, True),
], generated_at="2026-11-21T06:00:07Z")


def write_report(directory, report):
    directory.mkdir(parents=True)
    (directory / "report.json").write_text(report if isinstance(report, str) else json.dumps(report), encoding="utf-8")
    return directory


@pytest.fixture(name="merge")
def merge_fixture(run_playbook, tmp_path):
    def run(paths, **extra):
        extra_vars = dict({"tracing_sweep_merge_reports": [str(path) for path in paths], "tracing_sweep_report_dir": str(tmp_path / "merged")}, **extra)
        return run_playbook(MERGE, extra_vars, aws_env=False)
    return run


def test_two_slices_make_one_report_in_every_format(merge, tmp_path):
    east = write_report(tmp_path / "east", EAST)
    staging = write_report(tmp_path / "staging", STAGING)
    run = merge([east, staging / "report.json"])

    assert run.rc == 0, run.describe()
    merged = json.loads((tmp_path / "merged" / "report.json").read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(merged))
    assert (merged["schema_version"], merged["generated_at"]) == ("1.1", "2026-11-21T06:00:00Z")
    assert [target["host"] for target in merged["targets"]] == ["prod_us-east-1", "staging_us-east-1"]
    assert [target["caller_arn"] for target in merged["targets"]] == [EAST["targets"][0]["caller_arn"], STAGING["targets"][0]["caller_arn"]]
    assert [(row["account_id"], row["account_name"], row["stage_name"]) for row in merged["stages"]] == [
        ("111111111111", "prod", "dev"), ("111111111111", "prod", "prod"), ("222222222222", None, "prod"),
    ]
    summary = merged["summary"]
    assert (summary["targets"], summary["stages"], summary["compliant"], summary["would_change"], summary["compliance_percent"]) == (2, 3, 1, 2, 33.3)
    assert (summary["stage_errors"], summary["errors"]) == (0, 0)
    assert merged["verdict"] == "noncompliant" and re.search(r"\b2 stages\b", merged["verdict_reason"]), merged["verdict_reason"]
    # The slices recorded no judgement settings (hand-made reports): the merge records the ones it judged with, its own.
    judged_with = {"fail_on_error": True, "fail_on_noncompliant": False, "fail_on_regression": False}
    assert merged["run"] == dict(EAST["run"], errors=[], failed_steps=[], judged_with=judged_with)
    assert sorted(path.name for path in (tmp_path / "merged").iterdir()) == ["report.csv", "report.html", "report.json", "report.md", "report.xml"]
    csv_lines = (tmp_path / "merged" / "report.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0].startswith("status,account_id,account_name,region,"), csv_lines[0]
    assert [line.split(",")[0] for line in csv_lines[1:]] == ["FAIL", "PASS", "FAIL"]
    assert "Merged from 2 reports: %s/report.json, %s/report.json" % (east, staging) in run.stdout
    assert "Verdict: noncompliant (%s)" % merged["verdict_reason"] in run.stdout
    assert "API Gateway requests" not in run.stdout


@pytest.mark.parametrize("versions", [("1.0", "1.0"), ("1.0", "1.1")], ids=["both-1.0", "1.0-and-1.1"])
def test_reports_written_by_1_0_0_merge_into_a_1_1_report(merge, tmp_path, versions):
    """Slices swept by collection 1.0.0 (schema 1.0: no verdict, run, caller_arn nor account_name) still merge,
    with slices of this version too; the merged report is a valid 1.1 report, its verdict and counts made anew."""
    east = EAST if versions[0] == "1.1" else as_written_by_1_0_0(EAST)
    staging = STAGING if versions[1] == "1.1" else as_written_by_1_0_0(STAGING)
    run = merge([write_report(tmp_path / "east", east), write_report(tmp_path / "staging", staging)])

    assert run.rc == 0, run.describe()
    merged = json.loads((tmp_path / "merged" / "report.json").read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(merged)) == []
    assert merged["schema_version"] == "1.1"
    assert merged["verdict"] == "noncompliant" and re.search(r"\b2 stages\b", merged["verdict_reason"]), merged["verdict_reason"]
    summary = merged["summary"]
    assert (summary["targets"], summary["stages"], summary["compliant"], summary["noncompliant"], summary["compliance_percent"]) == (2, 3, 1, 2, 33.3)
    assert (summary["stage_errors"], summary["errors"], summary["planned_changes"], summary["max_changes"]) == (0, 0, 2, 100)
    # What a 1.0 report does not say is null, never made up; the target's account name reaches its stages.
    assert [target["caller_arn"] for target in merged["targets"]] == [None, staging["targets"][0].get("caller_arn")]
    assert [(row["account_name"], row["stage_name"]) for row in merged["stages"]] == [("prod", "dev"), ("prod", "prod"), (None, "prod")]
    assert merged["run"]["collection"] == "cloudops.apigw_tracing" and merged["run"]["errors"] == []
    if versions[1] == "1.1":
        assert merged["run"]["policy"] == STAGING["run"]["policy"]
    assert "Verdict: noncompliant (%s)" % merged["verdict_reason"] in run.stdout


def test_noncompliant_stages_fail_the_merge_when_asked(merge, tmp_path):
    run = merge([write_report(tmp_path / "east", EAST)], tracing_sweep_fail_on_noncompliant=True)
    assert run.rc == 2
    assert "1 stage does not have its desired tracing state (compliance 50.0%%); see %s." % (tmp_path / "merged") in run.stdout, run.stdout
    merged = json.loads((tmp_path / "merged" / "report.json").read_text(encoding="utf-8"))
    assert merged["verdict"] == "noncompliant" and re.search(r"\b1 stage\b", merged["verdict_reason"]), merged["verdict_reason"]
    assert "Verdict: noncompliant (%s)" % merged["verdict_reason"] in run.stdout
    assert (tmp_path / "merged" / "report.json").exists()


def host_in_two(tmp_path):
    return [write_report(tmp_path / "a", EAST), write_report(tmp_path / "b", EAST)]


def enforcement_and_audit(tmp_path):
    return [write_report(tmp_path / "a", EAST), write_report(tmp_path / "b", dict(copy.deepcopy(STAGING), mode="enforce"))]


# No report to merge at all (tracing_sweep_merge_reports null or not a list) is refused with the role's settings, before
# any report is read: test_bad_input_matrix.py's once-per-run cases.
@pytest.mark.parametrize(
    "reports, message",
    [
        (lambda tmp_path: [tmp_path / "nowhere"], "{tmp}/nowhere does not exist or is not a file; tracing_sweep_merge_reports lists"),
        (lambda tmp_path: [write_report(tmp_path / "a", "{")], "{tmp}/a/report.json is not JSON"),
        (lambda tmp_path: [write_report(tmp_path / "a", {"mode": "audit"})], "{tmp}/a/report.json: is not a tracing sweep report"),
        (host_in_two, "{tmp}/b/report.json: host prod_us-east-1 is also in {tmp}/a/report.json; merge the reports of slices with disjoint hosts"),
        (enforcement_and_audit, "mode: the reports must all be of audits or all of enforcements, got audit and enforce"),
    ],
    ids=["missing", "not-json", "not-a-report", "host-in-two", "mixed-modes"],
)
def test_reports_that_cannot_be_merged_write_nothing(merge, tmp_path, reports, message):
    run = merge(reports(tmp_path))
    assert run.rc == 2, run.describe()
    assert ("Nothing was merged: " + message).format(tmp=tmp_path) in run.stdout, run.stdout
    assert not (tmp_path / "merged").exists()


def test_a_misspelt_variable_is_refused(merge, tmp_path):
    run = merge([write_report(tmp_path / "east", EAST)], tracing_sweep_merge_report=["x"])
    assert run.rc == 2
    assert "tracing_sweep_merge_report: unknown variable (did you mean tracing_sweep_merge_reports?)" in run.stdout
    assert not (tmp_path / "merged").exists()
