# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/merge_reports.yml on reports written here: what it writes, and what it refuses before writing anything.

test_awx_jobs.py merges the reports of a real sliced job; these reports are small hand-made ones, so that
each refusal is one ansible-playbook run without any AWS.
"""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from conftest import REPO

MERGE = "cloudops.apigw_tracing.merge_reports"
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))


def stage_row(account_id, region, api_id, stage_name, action, before, after):
    return {
        "account_id": account_id, "region": region, "rest_api_id": api_id, "rest_api_name": "orders", "stage_name": stage_name,
        "arn": "arn:aws:apigateway:%s::/restapis/%s/stages/%s" % (region, api_id, stage_name),
        "tracing_enabled_before": before, "tracing_enabled_after": after, "desired": True, "action": action, "reason": "desired state",
    }


def slice_report(host, account_id, rows, mode="audit", generated_at="2026-11-21T06:00:00Z"):
    """A report of one target, as a slice of a sweep writes it."""
    counts = {
        "compliant": sum(1 for row in rows if row["action"] in ("none", "enabled")),
        "would_change": sum(1 for row in rows if row["action"] == "would_enable"),
    }
    report = {
        "schema_version": "1.0",
        "generated_at": generated_at,
        "mode": mode,
        "summary": {
            "targets": 1, "targets_failed": 0, "stages": len(rows), "compliant": counts["compliant"], "noncompliant": counts["would_change"],
            "changed": sum(1 for row in rows if row["action"] == "enabled"), "would_change": counts["would_change"], "exempt": 0, "skipped": 0,
            "errors": 0, "compliance_percent": round(100.0 * counts["compliant"] / len(rows), 1), "planned_changes": counts["would_change"],
            "max_changes": 100, "refused": False,
        },
        "targets": [{
            "host": host, "account_id": account_id, "account_name": None, "region": "us-east-1", "status": "ok", "error": None,
            "stages": len(rows), "noncompliant": counts["would_change"],
        }],
        "stages": rows,
        "exemptions": [],
    }
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(report))
    return report


EAST = slice_report("prod_us-east-1", "111111111111", [
    stage_row("111111111111", "us-east-1", "a1b2c3d4e5", "prod", "none", True, True),
    stage_row("111111111111", "us-east-1", "a1b2c3d4e5", "dev", "would_enable", False, True),
])
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
    assert merged["generated_at"] == "2026-11-21T06:00:00Z"
    assert [target["host"] for target in merged["targets"]] == ["prod_us-east-1", "staging_us-east-1"]
    assert len(merged["stages"]) == 3
    summary = merged["summary"]
    assert (summary["targets"], summary["stages"], summary["compliant"], summary["would_change"], summary["compliance_percent"]) == (2, 3, 1, 2, 33.3)
    assert sorted(path.name for path in (tmp_path / "merged").iterdir()) == ["report.csv", "report.json", "report.md", "report.xml"]
    assert "Merged from 2 reports: %s/report.json, %s/report.json" % (east, staging) in run.stdout
    assert "API Gateway requests" not in run.stdout


def test_noncompliant_stages_fail_the_merge_when_asked(merge, tmp_path):
    run = merge([write_report(tmp_path / "east", EAST)], tracing_sweep_fail_on_noncompliant=True)
    assert run.rc == 2
    assert "1 stages do not have their desired tracing state (compliance 50.0%)" in run.stdout
    assert (tmp_path / "merged" / "report.json").exists()


def host_in_two(tmp_path):
    return [write_report(tmp_path / "a", EAST), write_report(tmp_path / "b", EAST)]


def enforcement_and_audit(tmp_path):
    return [write_report(tmp_path / "a", EAST), write_report(tmp_path / "b", dict(copy.deepcopy(STAGING), mode="enforce"))]


@pytest.mark.parametrize(
    "reports, message",
    [
        (lambda tmp_path: [tmp_path / "nowhere"], "{tmp}/nowhere does not exist or is not a file; tracing_sweep_merge_reports lists"),
        (lambda tmp_path: [write_report(tmp_path / "a", "{")], "{tmp}/a/report.json is not JSON"),
        (lambda tmp_path: [write_report(tmp_path / "a", {"mode": "audit"})], "{tmp}/a/report.json: is not a tracing sweep report"),
        (host_in_two, "{tmp}/b/report.json: host prod_us-east-1 is also in {tmp}/a/report.json; merge the reports of slices with disjoint hosts"),
        (enforcement_and_audit, "mode: the reports must all be of audits or all of enforcements, got audit and enforce"),
        (lambda tmp_path: [], "reports: must be a non-empty list of reports"),
    ],
    ids=["missing", "not-json", "not-a-report", "host-in-two", "mixed-modes", "none"],
)
def test_reports_that_cannot_be_merged_write_nothing(merge, tmp_path, reports, message):
    run = merge(reports(tmp_path))
    assert run.rc == 2, run.describe()
    assert "Nothing was merged: " + message.format(tmp=tmp_path) in run.stdout, run.stdout
    assert not (tmp_path / "merged").exists()


def test_a_misspelt_variable_is_refused(merge, tmp_path):
    run = merge([write_report(tmp_path / "east", EAST)], tracing_sweep_merge_report=["x"])
    assert run.rc == 2
    assert "tracing_sweep_merge_report: unknown variable (did you mean tracing_sweep_merge_reports?)" in run.stdout
    assert not (tmp_path / "merged").exists()
