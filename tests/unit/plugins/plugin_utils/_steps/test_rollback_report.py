# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rollback's record: its report set (report.json a sweep report with rollback_of), what it holds for each kind
of stage, that rolling it back undoes the rollback, and that it is kept when it cannot be written."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import rollback
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import report_changes
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import OTHER_ACCOUNT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import REGION
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage_arn

ENFORCED_AT = "2026-03-15T12:00:00Z"
NOW = "2026-03-16T08:00:00Z"


def row(api_id, stage_name, action, before, account_id=ACCOUNT, region=REGION):
    """A changed row of an enforcement's report."""
    return {
        "account_id": account_id, "account_name": None, "region": region, "rest_api_id": api_id, "rest_api_name": "orders",
        "stage_name": stage_name, "arn": stage_arn(api_id, stage_name, region), "tracing_enabled_before": before,
        "tracing_enabled_after": not before, "desired": not before, "action": action, "reason": "default",
    }


ENFORCEMENT = {
    "schema_version": "1.1", "generated_at": ENFORCED_AT, "mode": "enforce",
    "stages": [
        row("a1b2c3d4e5", "prod", "enabled", False),    # put back (tracing off again)
        row("a1b2c3d4e5", "dev", "disabled", True),     # put back (tracing on again)
        row("b1b2c3d4e5", "prod", "enabled", False),    # changed back since: already off
        row("c1b2c3d4e5", "prod", "enabled", False),    # deleted since
        row("d1b2c3d4e5", "prod", "enabled", False),    # its UpdateStage is denied
        row("e1b2c3d4e5", "prod", "enabled", False, account_id=OTHER_ACCOUNT),  # no target of the run covers it
    ],
}
CHANGES = report_changes(ENFORCEMENT)[0]


def found(api_id, stage_name, before, wanted):
    """A stage as the restore found and left it (the engine's Convergence.stages entries)."""
    return {"rest_api_id": api_id, "stage_name": stage_name, "arn": stage_arn(api_id, stage_name), "tracing_enabled_before": before,
            "tracing_enabled": wanted, "changed": before != wanted}


def east_record(check_mode=False):
    outcome = {
        "stages": [found("a1b2c3d4e5", "prod", True, False), found("a1b2c3d4e5", "dev", False, True), found("b1b2c3d4e5", "prod", False, False)],
        "missing": [{"rest_api_id": "c1b2c3d4e5", "stage_name": "prod", "arn": stage_arn("c1b2c3d4e5", "prod")}],
        "failures": [{"rest_api_id": "d1b2c3d4e5", "stage_name": "prod", "arn": stage_arn("d1b2c3d4e5", "prod"), "error_code": "AccessDenied",
                      "message": "UpdateStage of d1b2c3d4e5/prod was denied (AccessDenied)"}],
    }
    identity = {"host": "east", "account_id": ACCOUNT, "account_name": "shop", "region": REGION,
                "caller_arn": "arn:aws:sts::%s:assumed-role/TracingSweep/s" % ACCOUNT}
    return rollback.restore_record(identity, outcome, [change for change in CHANGES if change["account_id"] == ACCOUNT], {"sent": 3}, "east")


def step(tmp_path, records, hosts, check_mode=False, formats=("json",), dest=None, settings=None):
    planned = {"file": "/r/enforcement.json", "generated_at": ENFORCED_AT, "changes": CHANGES}
    args = {"planned": planned, "records": records, "hosts": hosts, "live": hosts, "settings": settings or {},
            "dest": str(dest or tmp_path / "rolled-back"), "formats": list(formats), "generated_at": NOW}
    return rollback.rollback_summary_step(args, check_mode=check_mode)


def written(result):
    with open(result["files"]["json"], encoding="utf-8") as handle:
        return json.load(handle)


def by_stage(report):
    return {(r["account_id"], r["rest_api_id"], r["stage_name"]): r for r in report["stages"]}


def test_the_rollbacks_report_lists_every_change_as_the_rollback_left_it(tmp_path):
    result = step(tmp_path, [east_record()], ["east"])
    report = written(result)

    assert schema_errors(report) == []
    assert report["mode"] == "enforce"
    assert report["rollback_of"] == {
        "report": "/r/enforcement.json", "generated_at": ENFORCED_AT,
        "counts": {"changes": 6, "restored": 2, "already": 1, "missing": 1, "failed": 1, "not_in_run": 1},
    }
    rows = by_stage(report)
    put_back = rows[(ACCOUNT, "a1b2c3d4e5", "prod")]
    assert (put_back["action"], put_back["tracing_enabled_before"], put_back["tracing_enabled_after"], put_back["desired"]) == ("disabled", True, False, False)
    assert put_back["account_name"] == "shop" and put_back["rest_api_name"] == "orders"
    assert put_back["reason"] == f"put back to tracing off, its state before the enforcement of {ENFORCED_AT}"
    assert rows[(ACCOUNT, "a1b2c3d4e5", "dev")]["action"] == "enabled"
    already = rows[(ACCOUNT, "b1b2c3d4e5", "prod")]
    assert (already["action"], already["tracing_enabled_before"], already["tracing_enabled_after"]) == ("none", False, False)
    assert "changed back since" in already["reason"]
    gone = rows[(ACCOUNT, "c1b2c3d4e5", "prod")]
    assert gone["action"] == "skipped" and gone["reason"].startswith("missing: ")
    denied = rows[(ACCOUNT, "d1b2c3d4e5", "prod")]
    assert denied["action"] == "error" and "AccessDenied" in denied["reason"] and denied["tracing_enabled_before"] is None
    outside = rows[(OTHER_ACCOUNT, "e1b2c3d4e5", "prod")]
    assert outside["action"] == "skipped" and outside["reason"] == f"not rolled back: no target of this run covers account {OTHER_ACCOUNT} in {REGION}"

    # A stage that could not be put back makes the verdict error, and the summary says so and where the reports are.
    assert report["verdict"] == "error" and result["verdict"] == "error"
    assert report["verdict_reason"].startswith(f"rollback of the enforcement of {ENFORCED_AT} (/r/enforcement.json): 1 stage not put back")
    assert report["summary"]["changed"] == 2 and report["summary"]["stage_errors"] == 1
    assert result["summary"]["reports"] == result["files"]
    assert result["lines"][-1] == "Reports: " + str(tmp_path / "rolled-back")
    assert result["write_error"] is None


def test_rolling_back_the_rollbacks_report_undoes_the_rollback(tmp_path):
    report = written(step(tmp_path, [east_record()], ["east"]))
    undo = report_changes(report)
    assert undo[1] == []
    # Exactly the stages the rollback changed, each back to the state the rollback found: as the enforcement left it.
    assert sorted((c["rest_api_id"], c["stage_name"], c["tracing_enabled_before"]) for c in undo[0]) == [
        ("a1b2c3d4e5", "dev", False), ("a1b2c3d4e5", "prod", True),
    ]
    enforced = {(c["rest_api_id"], c["stage_name"]): c["tracing_enabled_after"] for c in CHANGES}
    assert all(enforced[(c["rest_api_id"], c["stage_name"])] == c["tracing_enabled_before"] for c in undo[0])


def test_a_check_mode_rollback_writes_what_it_would_do_as_an_audit(tmp_path):
    result = step(tmp_path, [east_record()], ["east"], check_mode=True, formats=("json", "markdown", "junit", "csv", "html"))
    report = written(result)
    assert schema_errors(report) == []
    assert report["mode"] == "audit"
    assert by_stage(report)[(ACCOUNT, "a1b2c3d4e5", "prod")]["action"] == "would_disable"
    assert by_stage(report)[(ACCOUNT, "a1b2c3d4e5", "dev")]["action"] == "would_enable"
    assert report["verdict_reason"].startswith("rollback (check mode, nothing was changed) of the enforcement")
    assert sorted(os.path.basename(path) for path in result["files"].values()) == ["report.csv", "report.html", "report.json", "report.md", "report.xml"]
    # What a check-mode rollback wrote changed nothing: it is not something to roll back.
    assert report_changes(report)[1][0].startswith("is the report of an audit")


def test_a_rollback_that_put_everything_back_is_compliant(tmp_path):
    changes = [change for change in CHANGES if change["rest_api_id"] == "a1b2c3d4e5"]
    outcome = {"stages": [found("a1b2c3d4e5", "prod", True, False), found("a1b2c3d4e5", "dev", False, True)], "missing": [], "failures": []}
    record = rollback.restore_record({"host": "east", "account_id": ACCOUNT, "account_name": None, "region": REGION, "caller_arn": None},
                                     outcome, changes, {}, "east")
    args = {"planned": {"file": "/r/e.json", "generated_at": ENFORCED_AT, "changes": changes}, "records": [record], "hosts": ["east"],
            "settings": {}, "dest": str(tmp_path / "out"), "generated_at": NOW}
    result = rollback.rollback_summary_step(args)
    report = written(result)
    assert report["verdict"] == "compliant", report["verdict_reason"]
    assert report["verdict_reason"] == (
        "rollback of the enforcement of %s (/r/e.json): every stage it changed that this run covers is at its state before the "
        "enforcement (2 put back, 0 already, 0 missing)" % ENFORCED_AT
    )
    assert result["failure"] is None


def test_a_failed_target_and_a_host_without_a_record_leave_every_change_in_the_report(tmp_path):
    failed = rollback.failed_record({"host": "east", "account_id": ACCOUNT, "account_name": None, "region": REGION, "caller_arn": None},
                                    "Could not assume role", CHANGES, "east")
    report = written(step(tmp_path, [failed, {}], ["east", "west"]))
    assert schema_errors(report) == []
    rows = by_stage(report)
    assert len(rows) == len(CHANGES)
    mine = [r for r in report["stages"] if r["account_id"] == ACCOUNT]
    assert mine and all(r["action"] == "error" and r["reason"].endswith(rollback.NOT_DONE) for r in mine)
    # The other account's change: no target covered it, and a host stopped before its account was known.
    assert rows[(OTHER_ACCOUNT, "e1b2c3d4e5", "prod")]["reason"].endswith("(or its target stopped before its account was known; see the failed targets)")
    assert {t["host"]: t["status"] for t in report["targets"]} == {"east": "error", "west": "error"}
    assert report["verdict"] == "error"


def test_two_hosts_of_one_account_and_region_give_one_row_per_stage(tmp_path):
    first = east_record()
    second = dict(east_record(), host="east-again")
    # The second host found the stages the first had just put back.
    second["already"], second["restored"] = first["restored"] + first["already"], []
    report = written(step(tmp_path, [first, second], ["east", "east-again"]))
    keys = [(r["account_id"], r["rest_api_id"], r["stage_name"]) for r in report["stages"]]
    assert len(keys) == len(set(keys)) == len(CHANGES)
    assert by_stage(report)[(ACCOUNT, "a1b2c3d4e5", "prod")]["action"] == "disabled"


def test_the_report_directory_must_not_hold_the_report_to_roll_back_and_must_be_writable(tmp_path):
    source = tmp_path / "enforced"
    source.mkdir()
    (source / "report.json").write_text(json.dumps(build_enforce_report()), encoding="utf-8")

    same = rollback.rollback_plan_step({"report": str(source / "report.json"), "dest": str(source)})
    assert same["failed"]
    assert same["msg"] == (
        f"Nothing was rolled back and no AWS call was made: tracing_sweep_report_dir: must be a directory of its own, not {source}, "
        f"which holds the report to roll back ({source / 'report.json'}); the rollback's reports would be written over it. Set "
        "tracing_sweep_report_dir to another directory (or roll back a copy of the report)"
    )
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    unwritable = rollback.rollback_plan_step({"report": str(source / "report.json"), "dest": str(blocker / "reports")})
    assert unwritable["failed"]
    assert unwritable["msg"] == (
        f"Nothing was rolled back and no AWS call was made: tracing_sweep_report_dir: cannot write in {blocker / 'reports'}: Not a directory; "
        "choose a directory the controller can write in, so that the rollback's record of what it put back can be kept"
    )

    fine = rollback.rollback_plan_step({"report": str(source / "report.json"), "dest": str(tmp_path / "rolled-back")})
    assert "failed" not in fine and fine["dest"] == str(tmp_path / "rolled-back")
    assert (tmp_path / "rolled-back").is_dir() and list((tmp_path / "rolled-back").iterdir()) == []


def test_a_report_that_cannot_be_written_is_saved_elsewhere_with_every_stage_put_back_named(tmp_path, monkeypatch):
    dest = tmp_path / "rolled-back"
    (dest / "report.json").mkdir(parents=True)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    result = step(tmp_path, [east_record()], ["east"], dest=dest)

    assert result["files"] == {}
    assert result["write_error"].startswith(f"tracing_sweep_report_dir: cannot write the reports in {dest}")
    assert "This run changed 2 stages: " in result["write_error"]
    assert f"{stage_arn('a1b2c3d4e5', 'prod')} tracing_enabled true -> false" in result["write_error"]
    saved = result["fallback_report"]
    assert saved and os.path.dirname(saved) == str(tmp_path)
    assert f"report.json was saved to {saved} instead" in result["write_error"]
    with open(saved, encoding="utf-8") as handle:
        kept = json.load(handle)
    assert kept["rollback_of"]["report"] == "/r/enforcement.json"
    assert len(report_changes(kept)[0]) == 2
    assert result["lines"][-1] == f"Reports: none written in {dest} (see the failure below)"


def test_a_format_that_cannot_be_rendered_costs_the_run_only_that_format(tmp_path, monkeypatch):
    def broken(report):
        raise KeyError("verdict")

    monkeypatch.setitem(RENDERERS, "html", broken)
    result = step(tmp_path, [east_record()], ["east"], formats=("json", "markdown", "html"))
    assert sorted(result["files"]) == ["json", "markdown"]
    assert result["write_error"] == (
        "tracing_sweep_report_dir: the html report could not be rendered: KeyError: 'verdict'; report.json was written in %s" % (tmp_path / "rolled-back")
    )
    assert written(result)["rollback_of"]["counts"]["restored"] == 2


def test_a_record_that_cannot_be_reported_still_leaves_the_changes_in_report_json(tmp_path):
    record = east_record()
    record["region"] = None  # a target with status ok and no region cannot be in a report
    result = step(tmp_path, [record], ["east"])
    assert result["write_error"].startswith("tracing_sweep_report_dir: the rollback's report could not be built: ValueError: ")
    kept = written(result)
    assert kept["verdict"] == "error"
    assert len(report_changes(kept)[0]) == 2


@pytest.mark.parametrize("check_mode", [False, True])
def test_without_a_report_directory_nothing_is_written(tmp_path, check_mode, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = {"planned": {"file": "/r/e.json", "generated_at": ENFORCED_AT, "changes": CHANGES}, "records": [east_record()], "hosts": ["east"]}
    result = rollback.rollback_summary_step(args, check_mode=check_mode)
    assert result["files"] == {} and result["write_error"] is None
    assert list(tmp_path.iterdir()) == []
