# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rollback's and the merge's steps in the controller's process: what they refuse before any AWS call, and how
the rollback counts what its targets did (a failed target's changes are never dropped)."""

from __future__ import annotations

import json

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import merge
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import rollback
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import report_changes
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import REGION
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report


def write(tmp_path, name, report):
    path = tmp_path / name
    path.write_text(json.dumps(report), encoding="utf-8")
    return str(path)


def test_rollback_plan_lists_the_changes_of_an_enforcement(tmp_path):
    plan = rollback.rollback_plan_step({"report": write(tmp_path, "report.json", build_enforce_report())})
    assert "failed" not in plan
    assert plan["changes"] and all(change["action"] in ("enabled", "disabled") for change in plan["changes"])
    assert plan["file"] == str(tmp_path / "report.json")


def test_rollback_plan_refuses_what_cannot_be_rolled_back(tmp_path):
    assert rollback.rollback_plan_step({"report": ""})["msg"].startswith("Nothing was rolled back: tracing_sweep_rollback_report is not set")
    missing = rollback.rollback_plan_step({"report": str(tmp_path / "nope.json")})
    assert missing["failed"] and "does not exist or is not a file" in missing["msg"]
    audit = rollback.rollback_plan_step({"report": write(tmp_path, "audit.json", build_audit_report())})
    assert audit["failed"] and audit["msg"].startswith("Nothing was rolled back: ")


def summary_of(changes, records, hosts, check_mode=False):
    planned = {"file": "/r/report.json", "generated_at": "2026-03-15T12:00:00+00:00", "changes": changes}
    return rollback.rollback_summary_step({"planned": planned, "records": records, "hosts": hosts, "live": hosts, "settings": {}}, check_mode=check_mode)


def test_a_target_that_failed_outside_the_restore_step_has_its_changes_counted_as_not_rolled_back():
    changes = report_changes(build_enforce_report())[0]
    mine = [change for change in changes if (change["account_id"], change["region"]) == (ACCOUNT, REGION)]
    assert mine
    # What the role's rescue records for a task that failed outside the engine: the identity and the error only.
    rescued = {"host": "east", "account_id": ACCOUNT, "account_name": None, "region": REGION, "status": "error", "error": "boom",
               "changes": 0, "restored": [], "already": [], "missing": [], "failed": []}
    result = summary_of(changes, [rescued], ["east"])
    assert result["summary"]["targets_failed"] == 1
    assert result["summary"]["failed"] == len(mine)
    assert result["failure"].startswith("%d of %d stages were not rolled back and 1 of 1 targets failed" % (len(mine), len(changes)))


def test_a_host_without_a_record_is_a_failed_target_and_its_changes_are_named():
    changes = report_changes(build_enforce_report())[0]
    result = summary_of(changes, [{}], ["east"])
    assert result["summary"]["targets_failed"] == 1
    assert result["summary"]["not_in_run"] == len(changes)
    assert any(line.startswith("not rolled back, no target of this run covers it: ") for line in result["lines"])


def test_target_lines_name_only_the_kinds_a_target_has():
    record = rollback.failed_record({"host": "east", "account_id": ACCOUNT, "region": REGION}, "boom", [], "east")
    assert rollback.target_lines(record, check_mode=False) == {"target failed": ["boom"]}


def test_merge_refuses_an_empty_list_and_missing_files(tmp_path):
    assert merge.merge_step({"merged_from": []})["msg"].startswith("Nothing was merged: tracing_sweep_merge_reports: must be a non-empty list")
    missing = merge.merge_step({"merged_from": [str(tmp_path / "slice1")]})
    assert missing["failed"] and str(tmp_path / "slice1") in missing["msg"]


def test_merge_takes_a_directory_for_the_report_json_in_it(tmp_path):
    (tmp_path / "slice1").mkdir()
    write(tmp_path / "slice1", "report.json", build_audit_report())
    merged = merge.merge_step({"merged_from": [str(tmp_path / "slice1")]})
    assert "failed" not in merged, merged
    assert merged["merged_from"] == [str(tmp_path / "slice1" / "report.json")]
    assert merged["report"]["mode"] == "audit"
