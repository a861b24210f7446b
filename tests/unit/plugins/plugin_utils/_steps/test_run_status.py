# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which host fails with what (a target on its own host, the run as a whole on localhost or once in the target
play), and the earlier run's reports moved out of the way before a run can stop."""

from __future__ import annotations

import json
import os

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import run_status as status
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import sweep as run
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records


def report_result(tmp_path, **settings):
    records = enforce_records()
    args = {"settings": dict({"exemptions": EXEMPTIONS, "desired": True}, **settings), "dest": str(tmp_path), "formats": ["json"],
            "records": records, "hosts": [record["host"] for record in records], "live": [record["host"] for record in records], "mode": "enforce"}
    return args, run.report_step(args)


# ---- placement -------------------------------------------------------------------------------------------------


def test_a_target_fails_on_its_host_and_the_run_on_localhost_when_a_play_there_follows():
    hosts, localhost = status.placement({"b": "b broke"}, "the run failed", ["a", "b", "c"], judged_on_localhost=True)
    assert (hosts, localhost) == ({"b": "b broke"}, "the run failed")


def test_without_a_play_on_localhost_the_run_fails_once_on_a_target_that_fails_anyway():
    hosts, localhost = status.placement({"b": "b broke.", "c": "c broke"}, "the run failed", ["a", "b", "c"], judged_on_localhost=False)
    assert localhost is None
    assert hosts == {"b": "b broke. The run as a whole failed too: the run failed", "c": "c broke"}


def test_without_a_play_on_localhost_nor_a_failed_target_the_run_fails_on_the_first_host():
    assert status.placement({}, "the run failed", ["a", "b"], judged_on_localhost=False) == ({"a": "the run failed"}, None)


def test_when_every_target_fails_no_further_play_runs_so_the_run_fails_with_them():
    """ansible-playbook runs no play after one whose every host failed: localhost would never judge."""
    hosts, localhost = status.placement({"a": "a broke", "b": "b broke"}, "2 of 2 targets failed", ["a", "b"], judged_on_localhost=True)
    assert localhost is None
    assert hosts == {"a": "a broke. The run as a whole failed too: 2 of 2 targets failed", "b": "b broke"}


def test_hosts_that_already_stopped_are_not_failed_again():
    hosts, localhost = status.placement({"gone": "stopped before its sweep", "b": "b broke"}, None, ["a", "b"], judged_on_localhost=True)
    assert (hosts, localhost) == ({"b": "b broke"}, None)


def test_nothing_fails_when_nothing_failed():
    assert status.placement({}, None, ["a"], judged_on_localhost=False) == ({}, None)


# ---- the report step's host status -------------------------------------------------------------------------------


def test_the_report_names_each_failed_target_and_the_run_failure(tmp_path):
    args, result = report_result(tmp_path, max_changes=0)
    fields = status.host_status("report", dict(args, judged_on_localhost=True), result, "a")
    failed = {target["host"]: target["error"] for target in result["report"]["targets"] if target["status"] == "error"}
    assert failed and set(failed) <= set(fields["target_failures"])
    for host, error in failed.items():
        assert fields["target_failures"][host] == error
    # A swept target with a stage error fails on its own host too, naming the stage.
    stage_failed = [host for host in fields["target_failures"] if host not in failed]
    assert len(stage_failed) == 1 and fields["target_failures"][stage_failed[0]].startswith("1 stage of this target failed"), fields
    # Two judgements: the change guard refused, and the errors; one message, each numbered, in the order they are checked.
    assert fields["run_failure"].startswith("The run failed for 2 reasons: (1) Nothing was changed: ")
    assert " (2) 1 of 3 targets failed (1 stage error)" in fields["run_failure"]
    assert fields["localhost_failure"] == fields["run_failure"]
    assert fields["host_failures"] == fields["target_failures"]


def test_with_fail_on_error_false_no_target_fails(tmp_path):
    args, result = report_result(tmp_path, fail_on_error=False)
    fields = status.host_status("report", dict(args, judged_on_localhost=True), result, "a")
    assert fields["target_failures"] == {} and fields["host_failures"] == {}
    # The errors do not fail the run either; what does (the sample's refused changes) is the run's, on localhost.
    assert fields["run_failure"].startswith("Nothing was changed: ") and "targets failed" not in fields["run_failure"]
    assert fields["localhost_failure"] == fields["run_failure"]


def test_the_merge_and_a_run_without_targets_judge_on_their_own_host(tmp_path):
    result = run.report_step({"settings": {}, "dest": str(tmp_path), "formats": ["json"], "records": [], "hosts": [], "mode": "audit"})
    fields = status.host_status("report", {"settings": {}}, result, "localhost")
    assert list(fields["host_failures"]) == ["localhost"] and fields["host_failures"]["localhost"].startswith("Nothing was swept")
    assert fields["localhost_failure"] is None


def test_a_step_that_failed_or_judges_nothing_adds_nothing():
    assert status.host_status("report", {}, {"failed": True, "msg": "no"}, "a") == {}
    assert status.host_status("plan", {}, {"changed": False}, "a") == {}


def test_the_rollback_names_each_target_it_could_not_roll_back():
    records = [
        {"host": "a", "status": "ok", "failed": []},
        {"host": "b", "status": "error", "error": "Could not assume role", "failed": [{"rest_api_id": "x", "stage_name": "y", "message": "not done"}]},
        {"host": "c", "status": "ok", "failed": [{"rest_api_id": "r1", "stage_name": "prod", "message": "AccessDenied"}]},
    ]
    args = {"settings": {}, "records": records, "hosts": ["a", "b", "c"], "live": ["a", "b", "c"], "judged_on_localhost": True}
    fields = status.host_status("rollback_summary", args, {"failure": "1 of 2 stages were not rolled back"}, "a")
    assert fields["host_failures"] == {"b": "Could not assume role", "c": "1 stage of this target was not rolled back: r1/prod: AccessDenied"}
    assert fields["localhost_failure"] == "1 of 2 stages were not rolled back"


# ---- no stale report -------------------------------------------------------------------------------------------


def plant(directory, verdict="compliant"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps({"verdict": verdict, "generated_at": "2020-01-01T00:00:00Z"}), encoding="utf-8")
    (directory / "report.md").write_text("earlier\n", encoding="utf-8")
    (directory / "notes.txt").write_text("mine\n", encoding="utf-8")


def test_retire_moves_the_earlier_report_files_and_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(status.tempfile, "tempdir", None)
    plant(tmp_path / "reports")
    said = []

    result = status.retire_step({"dest": str(tmp_path / "reports")}, say=said.append)

    assert sorted(os.listdir(tmp_path / "reports")) == ["notes.txt"]  # only the report files move
    assert os.path.dirname(result["moved_to"]) == str(tmp_path / "tmp")
    assert sorted(os.listdir(result["moved_to"])) == ["report.json", "report.md"] == sorted(result["moved"])
    assert said == ["The reports of an earlier run (report.json of 2020-01-01T00:00:00Z, verdict compliant) were moved from %s to %s, so that they "
                    "are not read as this run's" % (tmp_path / "reports", result["moved_to"])]


def test_retire_does_nothing_without_an_earlier_report(tmp_path):
    assert status.retire_step({"dest": str(tmp_path / "missing")})["moved_to"] is None
    (tmp_path / "empty").mkdir()
    assert status.retire_step({"dest": str(tmp_path / "empty")})["moved_to"] is None
    assert status.retire_step({"dest": ["not", "a", "path"]})["moved_to"] is None


def test_retire_never_moves_a_report_the_merge_reads(tmp_path):
    plant(tmp_path / "slice")
    for keep in ([str(tmp_path / "slice")], [str(tmp_path / "slice" / "report.json")], "not a list", [{"a": 1}]):
        assert status.retire_step({"dest": str(tmp_path / "slice"), "keep": keep})["moved_to"] is None, keep
    assert (tmp_path / "slice" / "report.json").exists()
    assert status.retire_step({"dest": str(tmp_path / "slice"), "keep": [str(tmp_path / "other")]})["moved_to"] is not None


def test_retire_warns_and_leaves_the_files_when_it_cannot_move_them(tmp_path, monkeypatch):
    plant(tmp_path / "reports")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(status.shutil, "move", refuse)
    result = status.retire_step({"dest": str(tmp_path / "reports")})
    assert result["moved_to"] is None and "could not be moved" in result["warnings"][0]
    assert (tmp_path / "reports" / "report.json").exists()


def test_a_host_that_stands_for_an_account_fails_with_each_of_its_targets_named():
    owners = {"prod_us-east-1": "prod", "prod_eu-west-1": "prod"}
    failures = {"prod_us-east-1": "AccessDenied", "prod_eu-west-1": "Throttled", "staging_us-east-1": "broke"}
    assert status.by_host(failures, owners) == {
        "prod": "2 targets of this host failed: prod_us-east-1: AccessDenied | prod_eu-west-1: Throttled",
        "staging_us-east-1": "broke",
    }
    assert status.by_host({"prod_eu-west-1": "Throttled"}, owners) == {"prod": "prod_eu-west-1: Throttled"}
