# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The role's run-wide steps: settings as -e gives them, the report directory, the report of the run and its verdict."""

from __future__ import annotations

import json
import os
import tempfile

import pytest
from botocore.exceptions import ProfileNotFound

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import apigateway
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._engine import pipeline as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import rollback as rollback_steps
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import sweep as run
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import TESTING_CREDENTIALS
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeHttp
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_half_failed_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_regressed

INVALID = "Invalid sweep settings, nothing was done: "


# ---- settings -----------------------------------------------------------------------------------------------


def test_settings_are_returned_as_the_sweep_uses_them():
    result = run.settings_step(
        {"settings": {"entry_point": "main", "desired": "false", "max_changes": "500", "concurrency": "4", "max_requests_per_second": "9.5",
                      "fail_on_error": "no", "report_formats": "json,csv", "allow_unknown_regions": [], "variables": ["tracing_sweep_desired"]}}
    )
    assert result == {
        "changed": False,
        "problems": [],
        "settings": {"desired": False, "max_changes": 500, "concurrency": 4, "max_requests_per_second": 9.5, "fail_on_error": False,
                     "report_formats": ["json", "csv"], "allow_unknown_regions": []},
    }


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"desired": "ture"}, "tracing_sweep_desired: must be a boolean: true or false (also yes/no, 1/0), got 'ture'"),
        ({"max_changes": "0x10"}, "tracing_sweep_max_changes: must be a whole number >= 0 (or null for no limit), got '0x10'"),
        (None, "settings: must be a mapping of the role's settings"),
    ],
)
def test_a_hosts_bad_settings_are_its_problems_and_no_settings(settings, problem):
    # Each host's step never fails (its failure would be printed once per host): the settings_problems step judges the run.
    assert run.settings_step({"settings": settings}) == {"changed": False, "problems": [problem]}


def test_the_run_stops_once_with_each_problem_said_once():
    desired = "tracing_sweep_desired: must be a boolean: true or false (also yes/no, 1/0), got 'flase'"
    rules = "tracing_sweep_rules: must be a list of rules, got 'x'"
    records = [[desired], [desired, rules], [desired], [desired]]
    assert run.settings_problems_step({"hosts": ["a", "b", "c", "d"], "records": records}) == {
        "failed": True,
        "msg": INVALID + desired + "; " + rules + " (host b)",
    }
    assert run.settings_problems_step({"hosts": ["a", "b"], "records": [[], []]}) == {"changed": False}


# ---- the report directory --------------------------------------------------------------------------------


def test_prepare_creates_the_report_directory(tmp_path):
    dest = tmp_path / "reports"
    assert run.prepare_step({"dest": str(dest)}) == {"changed": False, "dest": str(dest)}
    assert dest.is_dir()


def test_prepare_refuses_a_directory_under_a_regular_file_before_any_aws_call(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    result = run.prepare_step({"dest": str(regular / "reports")})
    assert result["failed"] is True
    assert result["msg"].startswith(f"tracing_sweep_report_dir: cannot write in {regular / 'reports'}: Not a directory; nothing was done and no AWS call")


# ---- the region_tracing playbook -------------------------------------------------------------------------


def test_region_from_the_environment_and_desired_as_a_word():
    result = run.region_step({"settings": {"region": "", "environment": {"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1"}, "desired": "no"}},
                             check_mode=True)
    assert result == {
        "changed": False,
        "region": "eu-west-1",
        "desired": False,
        "line": "Region eu-west-1 (from the environment variable AWS_DEFAULT_REGION); desired tracing off on every stage, check mode: nothing will be changed",
    }


def test_region_playbook_variables_are_checked_strictly():
    result = run.region_step({"settings": {"region": "eu-west-1\n", "desired": "ture", "variables": ["apigw_tracing_regoin", "apigw_tracing_desired"]}})
    assert result["failed"] is True
    assert result["msg"] == (
        "Invalid variables, nothing was done: apigw_tracing_regoin: unknown variable (did you mean apigw_tracing_region?); region_tracing takes "
        "apigw_tracing_region and apigw_tracing_desired (and the tracing_sweep role's variables); "
        "apigw_tracing_region: must be an AWS region name such as us-east-1, got 'eu-west-1\\n' (did you mean eu-west-1?); "
        "apigw_tracing_desired: must be a boolean: true or false (also yes/no, 1/0), got 'ture'"
    )


def test_a_region_that_does_not_exist_is_refused_with_the_closest_one_and_the_opt_out():
    result = run.region_step({"settings": {"region": "eu-wset-1", "environment": {}}})
    assert result["failed"] is True
    assert result["msg"].startswith(
        "Invalid variables, nothing was done: apigw_tracing_region: must be an AWS region name such as us-east-1, got 'eu-wset-1', a region no "
        "partition of the installed botocore ("
    )
    assert result["msg"].endswith("(did you mean eu-west-1?); for a region newer than that botocore, upgrade botocore or list it in "
                                  "tracing_sweep_allow_unknown_regions")
    # The same from the environment, which the message names.
    result = run.region_step({"settings": {"environment": {"AWS_REGION": "eu-wset-1"}}})
    assert "the environment variable AWS_REGION: must be an AWS region name such as us-east-1, got 'eu-wset-1'" in result["msg"]


def test_a_region_newer_than_botocore_passes_when_listed():
    result = run.region_step({"settings": {"region": "xx-newregion-1", "allow_unknown_regions": ["xx-newregion-1"], "environment": {}}})
    assert result["region"] == "xx-newregion-1" and "failed" not in result


def test_region_is_required():
    result = run.region_step({"settings": {"environment": {}}})
    assert result["msg"].startswith("Invalid variables, nothing was done: apigw_tracing_region: is required")


# ---- steps that hand over to the engine ---------------------------------------------------------------------


def test_guard_step_reads_max_changes_from_the_settings_and_ignores_empty_claims():
    claims = [{"host": "a", "status": "ok", "account_id": "111111111111", "region": "us-east-1", "planned_changes": 3}, {}, None, "x"]
    result = run.guard_step({"settings": {"max_changes": 2}, "claims": claims}, check_mode=False)
    assert result == {"changed": False, "guard": {"planned_changes": 3, "max_changes": 2, "over_limit": True, "refused": True, "duplicates": {}}}


def test_converge_step_needs_a_plan_result():
    assert run.converge_step({"planned": {"plan": None}}) == {"failed": True, "msg": "planned: must be the plan the sweep step kept in the run's workspace"}


def test_request_totals_ignore_what_is_not_a_count():
    records = [{"requests": {"sent": 3, "throttled": 1}}, {"requests": {"sent": True, "server_errors": "2"}}, {}, None]
    assert engine.request_totals(records) == {"sent": 3, "throttled": 1, "server_errors": 0, "connection_errors": 0}


def test_converge_step_says_the_finished_line_of_its_target(monkeypatch):
    record = {"host": "east", "status": "ok", "error": None, "rows": [{"action": "would_enable"}, {"action": "none"}]}
    monkeypatch.setattr(run.engine, "converge_target", lambda *args: {"changed": True, "target": record, "diff": {}, "requests": {}})
    lines = []

    result = run.converge_step({"target": {"region": "us-east-1"}, "planned": {"target": record, "seconds": 1.25}}, check_mode=True, say=lines.append)

    assert result["changed"] is True
    [line] = lines
    assert line.startswith("east: 2 stages, 1 would change, 0 errors, 1.") and line.endswith(" s")


ENFORCED = [{"account_id": "111111111111", "region": "us-east-1", "rest_api_id": "a1b2c3d4e5", "stage_name": "prod",
             "tracing_enabled_before": False, "tracing_enabled": True}]
RESTORE_TARGET = {"region": "us-east-1", "account_id": "111111111111"}


def reached(monkeypatch):
    caller = "arn:aws:sts::111111111111:assumed-role/TracingAudit/cloudops-tracing-sweep"
    monkeypatch.setattr(run.engine, "reach_account", lambda target, connection: aws.Reach("111111111111", caller, None))


def test_restore_step_that_cannot_make_its_client_fails_with_the_cause(monkeypatch):
    reached(monkeypatch)

    def broken(*args, **kwargs):
        raise ProfileNotFound(profile="nosuch")

    monkeypatch.setattr(aws, "client", broken)

    result = rollback_steps.restore_step({"settings": {}, "target": RESTORE_TARGET, "changes": ENFORCED})

    assert result["failed"] is True
    assert result["msg"] == "the stages were not put back: The config profile (nosuch) could not be found"
    assert result["identity"]["account_id"] == "111111111111"


def test_restore_step_retries_a_conflict_and_counts_every_attempt(monkeypatch, no_sleep):
    reached(monkeypatch)
    http = FakeHttp()
    real = aws.client
    monkeypatch.setattr(aws, "client", lambda service, region, endpoint_url=None, config=None, credentials=None: http.attach(
        real(service, region, endpoint_url, config, credentials or TESTING_CREDENTIALS)))
    monkeypatch.setattr(apigateway, "RequestPacer", lambda rate: RequestPacer(rate, sleep=lambda seconds: None))
    http.add({"stageName": "prod", "tracingEnabled": True})
    http.add_error("ConflictException", 409, "concurrent modification").add({"stageName": "prod", "tracingEnabled": False})

    result = rollback_steps.restore_step({"settings": {}, "target": RESTORE_TARGET, "changes": ENFORCED})

    assert result["changed"] is True
    assert [(s["stage_name"], s["tracing_enabled"]) for s in result["stages"]] == [("prod", False)]
    assert result["requests"] == {"sent": 3, "throttled": 0, "server_errors": 0, "connection_errors": 0}
    assert [method for method, dummy_path, dummy_query in http.requests] == ["GET", "PATCH", "PATCH"]
    assert len(no_sleep) == 1 and http.pending == 0


# ---- the report of the run ----------------------------------------------------------------------------------


def test_a_run_without_targets_is_reported_as_an_error_with_why(tmp_path):
    result = run.report_step({"settings": {}, "dest": str(tmp_path), "formats": ["json"], "records": [], "hosts": []}, check_mode=True)

    assert result["verdict"] == "error"
    assert result["report"]["run"]["errors"] == [run.NO_TARGET]
    assert result["files"] == {"json": str(tmp_path / "report.json")}
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["verdict"] == "error"
    assert "compliance n/a (no stage was evaluated)" in result["summary_lines"][0]
    assert result["judgements"]["errors"].startswith(f"Nothing was swept (report in {tmp_path}): no target: the inventory gave this run no host")
    assert result["write_error"] is None


def test_report_of_an_enforcement_and_its_judgements(tmp_path):
    records = enforce_records()
    args = {
        "settings": {"exemptions": EXEMPTIONS, "max_changes": 0, "desired": True},
        "dest": str(tmp_path),
        "formats": ["json", "csv"],
        "records": records,
        "hosts": [record["host"] for record in records],
        "mode": "enforce",
    }
    result = run.report_step(args)

    report = result["report"]
    assert report["summary"] == build_enforce_report()["summary"]
    assert report["run"]["policy"] == {"desired": True, "rules": 0, "exemptions": 3, "exempt_tag": None}
    assert sorted(os.listdir(tmp_path)) == ["report.csv", "report.json"]
    assert result["summary_lines"][-2:] == [
        "Verdict: error (1 target failed, 1 stage error: what failed was not evaluated, so the run cannot vouch for it)",
        f"Reports: {tmp_path}",
    ]
    judgements = result["judgements"]
    assert judgements["refused"].startswith("Nothing was changed: 4 stages would change, more than tracing_sweep_max_changes=0.")
    assert judgements["errors"].startswith(f"1 of 3 targets failed (1 stage error); the other targets were swept and reported in {tmp_path}. ")
    assert "broken: Unable to assume role" in judgements["errors"]
    assert judgements["noncompliant"] is None  # fail_on_noncompliant is false by default


def test_fail_on_error_false_lets_failed_targets_pass_but_never_run_errors(tmp_path):
    records = enforce_records()
    args = {"settings": {"exemptions": EXEMPTIONS, "fail_on_error": False, "fail_on_noncompliant": True}, "dest": str(tmp_path), "formats": ["json"],
            "records": records, "mode": "enforce"}
    judgements = run.report_step(args)["judgements"]
    assert judgements["errors"] is None
    assert judgements["noncompliant"].startswith("1 stage ")
    assert judgements["noncompliant"].endswith(f"(compliance 80.0%); see {tmp_path}.")
    # A run error (here: a run without targets) is never excused.
    judgements = run.report_step(dict(args, records=[]))["judgements"]
    assert judgements["errors"] is not None and "no target" in judgements["errors"]


def test_a_report_that_cannot_be_written_names_the_changes_and_saves_them_elsewhere(tmp_path, monkeypatch):
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    records = enforce_records()

    result = run.report_step({"settings": {"exemptions": EXEMPTIONS}, "dest": str(regular / "reports"), "formats": ["json"], "records": records,
                              "mode": "enforce"})

    assert "failed" not in result  # the summary is shown and published first; the role fails afterwards
    assert result["files"] == {}
    assert result["write_error"].startswith(f"tracing_sweep_report_dir: cannot write the reports in {regular / 'reports'}")
    assert len(result["changed_stages"]) == 2
    assert os.path.dirname(result["fallback_report"]) == str(temp)
    with open(result["fallback_report"], encoding="utf-8") as handle:
        assert json.load(handle) == result["report"]


def test_a_merged_report_is_not_written_over_one_of_its_inputs(tmp_path):
    result = run.report_step(
        {"settings": {}, "dest": str(tmp_path), "report": build_enforce_report(), "merged_from": [str(tmp_path / "report.json")]}
    )
    assert result["failed"] is True
    assert result["msg"].startswith(f"tracing_sweep_report_dir: must be a directory of its own, not {tmp_path}")
    assert os.listdir(tmp_path) == []


# ---- what the run says first ----------------------------------------------------------------------------------


def test_a_regression_is_the_first_line_of_the_summary():
    report = build_audit_report()
    report["since_baseline"] = since_baseline_regressed(1)
    lines = run.summary_lines(report, "/reports")
    assert lines[0] == (
        "1 stage regressed since the last run: arn:aws:apigateway:us-east-1::/restapis/g000000000/stages/prod in 111111111111 "
        "(tracing_enabled is false, desired true (#1), put back by this run)"
    )
    assert lines[1].startswith("Tracing sweep (audit): 1 target (0 failed)")
    report["since_baseline"] = since_baseline_regressed(7)
    first = run.summary_lines(report, "/reports")[0]
    assert first.startswith("7 stages regressed since the last run: ") and first.count("arn:") == 3 and first.endswith("; and 4 more")
    # Nothing regressed: the summary opens with the counts, as before.
    report["since_baseline"] = None
    assert run.summary_lines(report, "/reports")[0].startswith("Tracing sweep (audit): ")


def test_compliance_says_what_was_not_evaluated():
    lines = run.summary_lines(build_half_failed_report(), "/reports")
    assert lines[0] == (
        "Tracing sweep (audit): 4 targets (2 failed), 4 stages: 4 compliant, 0 non-compliant, 0 exempt, 0 skipped, 2 errors; "
        "compliance 100.0% of the evaluated stages, 2 of 4 targets failed (not evaluated)"
    )
    lines = run.summary_lines(build_enforce_report(), "/reports")
    assert lines[0].endswith("; compliance 80.0% of the evaluated stages, 1 of 3 targets failed, 1 stage error (not evaluated)")
    # A run that evaluated every target and stage: the figure is the whole run's.
    assert run.summary_lines(build_audit_report(), "/reports")[0].endswith("; compliance 25.0%")


def test_an_expired_exemption_is_said_on_the_console():
    lines = run.summary_lines(build_enforce_report(), "/reports")
    # Exemptions are numbered from 1, as in the reports: the second of tracing_sweep_exemptions.
    assert "Exemption 2 expired on 2025-01-31 (retiring): it no longer covers 1 stage: arn:aws:apigateway:us-east-1::/restapis/c1c2c3c4c5/stages/v1" in lines
    assert sum(1 for line in lines if line.startswith("Exemption ")) == 1  # the active and the unused ones are not news
