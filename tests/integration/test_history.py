# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run history (tracing_sweep_history) through the real playbooks: a local directory and moto's S3.

A run keeps its report set and its state under <history>/runs/<run id>/, and latest.json names the last
baseline; the next run compares each target with the last stored run that swept it (report.json
since_baseline, the summary, report.xml, set_stats) and, with tracing_sweep_fail_on_regression, fails while a
regression is open, or when the history could not be compared (verdict error).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from sweep_world import POLICY
from sweep_world import static_inventory
from sweep_world import write_yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
PROD = "111111111111"
# A stage the enforcement turns on, then someone turns off behind the collection's back.
DRIFTED = ("ord1111use", "staging")
DRIFTED_ARN = "arn:aws:apigateway:us-east-1::/restapis/ord1111use/stages/staging"
# A stage traced from the start, that someone turns off.
TRACED = ("ord1111use", "prod")
TRACED_ARN = "arn:aws:apigateway:us-east-1::/restapis/ord1111use/stages/prod"
TOOLING = ("tooling_us-east-1", "tooling_eu-west-1")


@pytest.fixture
def sweep(run_playbook, tmp_path, estate):
    counter = iter(range(1, 100))

    def run(playbook, extra=None, check=False, args=(), env=None, without=()):
        report_dir = tmp_path / ("reports%d" % next(counter))
        extra_vars = dict(POLICY, tracing_sweep_report_dir=str(report_dir))
        extra_vars.update(extra or {})
        hosts = static_inventory()
        for host in without:
            del hosts["all"]["hosts"][host]
        inventory = write_yaml(tmp_path / "hosts.yml", hosts)
        result = run_playbook(playbook, extra_vars, check=check, inventory=inventory, args=args, env=env)
        report_path = report_dir / "report.json"
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
        if report is not None:
            jsonschema.validate(report, SCHEMA)
        return result, report, report_dir

    return run


def turn_off(aws, account_id, region, api_id, stage):
    client = aws.client("apigateway", region, account=account_id)
    client.update_stage(restApiId=api_id, stageName=stage, patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "false"}])


def stats_of(run):
    """The set_stats data of the run (the publish task's result in the result log)."""
    entry = run.result("Write the report of every target, once, on the controller")
    return entry["ansible_stats"]["data"]


def latest(history):
    return json.loads((history / "latest.json").read_text(encoding="utf-8"))["run_id"]


def stored(history, run_id):
    """The directory a run is kept in (found, not built: the tests read the layout the docs describe elsewhere)."""
    [found] = history.glob(f"**/{run_id}")
    return found


def test_local_history_finds_drift_fails_on_regression_and_sees_it_fixed(sweep, estate, tmp_path):
    history = tmp_path / "history"
    keep = {"tracing_sweep_history": str(history)}

    # 1. The enforcement turns every stage on: the first run of the history, the first baseline.
    run, first, dummy = sweep(ENFORCE, keep)
    assert run.rc == 0, run.describe()
    since = first["since_baseline"]
    assert since["status"] == "no_baseline" and since["baseline"] is None and since["next_baseline"] is True
    assert "first baseline" in since["reason"]
    assert [entry["id"] for entry in since["trend"]] == [since["run_id"]]
    stored = history / "runs" / since["run_id"]
    assert sorted(path.name for path in stored.iterdir()) == ["report.csv", "report.html", "report.json", "report.md", "report.xml", "state.json"]
    assert json.loads((stored / "report.json").read_text(encoding="utf-8")) == first
    assert latest(history) == since["run_id"]

    # 2. Someone turns one stage off; the audit finds the regression, says so everywhere, and fails for it.
    turn_off(estate, PROD, "us-east-1", *DRIFTED)
    run, second, reports = sweep(AUDIT, dict(keep, tracing_sweep_fail_on_regression=True), check=True)
    assert run.rc == 2, run.describe()
    since = second["since_baseline"]
    assert since["status"] == "compared", since
    assert since["baseline"]["id"] == first["since_baseline"]["run_id"]
    assert since["baseline"]["mode"] == "enforce" and since["baseline"]["compliance_percent"] == 100.0
    assert since["counts"] == {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 1, "fixed": 0, "regressed_new": 1, "closed": 0}
    [regressed] = since["regressed"]
    assert (regressed["account_id"], regressed["arn"], regressed["before"], regressed["after"]) == (PROD, DRIFTED_ARN, "compliant", "noncompliant")
    assert regressed["cause"] == "tracing_enabled is false, desired true" and regressed["corrected"] is False
    assert [entry["mode"] for entry in since["trend"]] == ["enforce", "audit"]
    assert "1 stage has regressed since the last run" in run.stdout and DRIFTED_ARN in run.stdout
    assert f"Regressed: {DRIFTED_ARN} in {PROD}: compliant -> noncompliant" in run.stdout
    failure = [case for case in ET.parse(reports / "report.xml").getroot().iter("testcase") if case.find("failure") is not None]
    types = {case.get("name"): case.find("failure").get("type") for case in failure}
    assert types == {"orders/staging (ord1111use)": "regression"}
    stats = stats_of(run)["tracing_sweep_since_baseline"]
    assert (stats["status"], stats["regressed"], stats["baseline_id"]) == ("compared", 1, since["baseline"]["id"])

    # 3. The next enforcement puts it back: fixed since the audit, the regression closed, nothing open.
    run, third, dummy = sweep(ENFORCE, dict(keep, tracing_sweep_fail_on_regression=True))
    assert run.rc == 0, run.describe()
    since = third["since_baseline"]
    assert since["baseline"]["id"] == second["since_baseline"]["run_id"]
    assert since["counts"]["regressed"] == 0 and since["counts"]["fixed"] == 1 and since["counts"]["closed"] == 1
    assert since["fixed"][0]["arn"] == DRIFTED_ARN and since["fixed"][0]["corrected"] is True
    assert len(since["trend"]) == 3


def test_each_target_is_compared_with_the_last_run_that_swept_it(sweep, estate, tmp_path):
    """Finding 2, 3 and 6: a run id of a clock ahead, a new account the same night as a drift, a --limit run,
    a re-run with nothing fixed, and the exemption that closes the regression on purpose."""
    history = tmp_path / "history"
    alert = {"tracing_sweep_history": str(history), "tracing_sweep_fail_on_regression": True}

    # Night 1: the inventory has two accounts (4 targets).
    run, first, dummy = sweep(AUDIT, alert, check=True, without=TOOLING)
    assert run.rc == 0, run.describe()
    baseline = first["since_baseline"]["run_id"]
    # A controller whose clock was ahead stored a run of 2099 and moved the pointer to it.
    ahead = "20991231T235959.000000Z"
    copy = stored(history, baseline).parent / ahead
    shutil.copytree(stored(history, baseline), copy)
    state = json.loads((copy / "state.json").read_text(encoding="utf-8"))
    (copy / "state.json").write_text(json.dumps(dict(state, run_id=ahead)), encoding="utf-8")
    (history / "latest.json").write_text(json.dumps({"version": 1, "run_id": ahead, "generated_at": "2099-12-31T23:59:59Z"}), encoding="utf-8")

    # Night 2: a third account joins the inventory, and a stage of an old one drifts.
    turn_off(estate, PROD, "us-east-1", *TRACED)
    run, second, dummy = sweep(AUDIT, alert, check=True)
    assert run.rc == 2, run.describe()
    since = second["since_baseline"]
    assert since["status"] == "compared" and since["baseline"]["id"] == baseline, since
    assert [(item["arn"], item["new_this_run"]) for item in since["regressed"]] == [(TRACED_ARN, True)]
    assert since["counts"]["new"] == 1 and since["new"][0]["account_id"] == "123456789012" and since["new"][0]["baseline"] is None
    assert "2 targets new to the history" in since["reason"]
    assert f"names the run {ahead}, later than this run" in since["reason"] and "clock was ahead" in since["reason"]
    assert "[WARNING]: tracing_sweep_history: " in run.stdout + run.stderr
    assert "1 stage has regressed since the last run" in run.stdout and TRACED_ARN in run.stdout
    assert latest(history) == since["run_id"]

    # A --limit run: compared with the last baseline, kept, but never the baseline of a later run.
    run, limited, dummy = sweep(AUDIT, alert, check=True, args=("--limit", "staging_us-east-1"))
    assert run.rc == 0, run.describe()
    since = limited["since_baseline"]
    assert since["status"] == "compared" and since["next_baseline"] is False and len(since["out_of_scope"]) == 5
    assert "5 targets of the inventory are not in this run (--limit or a slice)" in since["reason"]
    assert since["counts"]["removed"] == 0
    assert latest(history) == second["since_baseline"]["run_id"]
    assert (stored(history, since["run_id"]) / "state.json").is_file()

    # Night 3, nothing fixed: the regression is still open (since night 2), compared with night 2, not the --limit run.
    run, third, dummy = sweep(AUDIT, alert, check=True)
    assert run.rc == 2, run.describe()
    since = third["since_baseline"]
    assert since["baseline"]["id"] == second["since_baseline"]["run_id"]
    [item] = since["regressed"]
    assert (item["arn"], item["since"], item["new_this_run"]) == (TRACED_ARN, second["since_baseline"]["run_id"], False)
    assert f"open since {second['since_baseline']['run_id']}" in run.stdout

    # Night 4: an exemption for the stage closes the regression on purpose.
    exempt = {"arn": TRACED_ARN, "reason": "tracing off while the vendor fixes the SDK, CHG-4242", "expires": "2099-01-31"}
    run, fourth, dummy = sweep(AUDIT, dict(alert, tracing_sweep_exemptions=POLICY["tracing_sweep_exemptions"] + [exempt]), check=True)
    assert run.rc == 0, run.describe()
    since = fourth["since_baseline"]
    assert since["counts"]["regressed"] == 0 and [(item["arn"], item["after"]) for item in since["closed"]] == [(TRACED_ARN, "exempt")]


def test_a_baseline_with_a_wrong_field_never_costs_an_enforcement_its_report(sweep, estate, tmp_path):
    """Finding 1: a null in the trend crashed the run after the converge; now the baseline is unusable, named."""
    history = tmp_path / "history"
    run, first, dummy = sweep(AUDIT, {"tracing_sweep_history": str(history)}, check=True)
    assert run.rc == 0, run.describe()
    identifier = first["since_baseline"]["run_id"]
    path = stored(history, identifier) / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(state, trend=[None])), encoding="utf-8")

    run, enforced, dummy = sweep(ENFORCE, {"tracing_sweep_history": str(history), "tracing_sweep_fail_on_regression": True})
    assert run.rc == 2, run.describe()
    assert enforced is not None, run.describe()
    assert len([row for row in enforced["stages"] if row["action"] == "enabled"]) == 5
    assert enforced["verdict"] == "error"
    where = f"{path}: trend[0] must be an object, got None"
    assert any(where in error for error in enforced["run"]["errors"]), enforced["run"]["errors"]
    assert enforced["since_baseline"]["problem"].startswith("a baseline in the history is unusable: " + where)
    assert where in run.stdout
    # The run is kept, but the pointer stays on the last baseline: the next run says the same until it is repaired.
    assert latest(history) == identifier and enforced["since_baseline"]["next_baseline"] is False


def test_s3_history_on_moto_when_reads_are_denied_and_when_the_bucket_is_missing(sweep, estate, monkeypatch):
    s3 = estate.client("s3")
    s3.create_bucket(Bucket="tracing-history")
    keep = {"tracing_sweep_history": "s3://tracing-history/nightly/audit"}
    alert = dict(keep, tracing_sweep_fail_on_regression=True)
    denies = estate.denies

    def deny(operation):
        def rule(request):
            if request.service != "s3" or request.method != "GET" or not request.path.startswith("/tracing-history"):
                return False
            listing = request.path.rstrip("/") == "/tracing-history"
            return listing == (operation == "ListObjectsV2")
        monkeypatch.setattr(estate, "denies", lambda request: denies(request) or rule(request))

    # A first run that cannot list the history cannot know it is the first: with the alert, an error.
    deny("ListObjectsV2")
    run, report, dummy = sweep(AUDIT, alert, check=True)
    assert run.rc == 2, run.describe()
    assert report["verdict"] == "error" and report["since_baseline"]["status"] == "no_baseline"
    assert any("cannot list the runs in s3://tracing-history/nightly/audit/: AccessDenied" in error for error in report["run"]["errors"]), report["run"]
    monkeypatch.setattr(estate, "denies", denies)

    run, first, dummy = sweep(AUDIT, keep, check=True)
    assert run.rc == 0, run.describe()
    run_id = first["since_baseline"]["run_id"]
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="tracing-history")["Contents"])
    assert f"nightly/audit/runs/{run_id}/report.json" in keys and f"nightly/audit/runs/{run_id}/state.json" in keys
    assert json.loads(s3.get_object(Bucket="tracing-history", Key="nightly/audit/latest.json")["Body"].read())["run_id"] == run_id
    assert first["since_baseline"]["history"] == "s3://tracing-history/nightly/audit"

    # A stage drifts while the history cannot be read: with the alert, verdict error and the cause, reports written.
    turn_off(estate, PROD, "us-east-1", *TRACED)
    deny("GetObject")
    run, blind, reports = sweep(AUDIT, alert, check=True)
    assert run.rc == 2, run.describe()
    assert (reports / "report.json").exists() and blind["verdict"] == "error"
    assert "cannot read latest.json in s3://tracing-history/nightly/audit/: AccessDenied" in blind["since_baseline"]["problem"]
    monkeypatch.setattr(estate, "denies", denies)
    assert json.loads(s3.get_object(Bucket="tracing-history", Key="nightly/audit/latest.json")["Body"].read())["run_id"] == run_id

    # Reads work again: the drift is not lost, it is compared with the last good baseline.
    run, third, dummy = sweep(AUDIT, alert, check=True)
    assert run.rc == 2, run.describe()
    since = third["since_baseline"]
    assert since["baseline"]["id"] == run_id and [item["arn"] for item in since["regressed"]] == [TRACED_ARN]
    assert third["verdict"] != "error"

    # A history that cannot be written fails the run, after its reports are written, naming the cause.
    run, report, reports = sweep(AUDIT, {"tracing_sweep_history": "s3://no-such-bucket-here/x"}, check=True, args=("--limit", "prod_us-east-1"))
    assert run.rc == 2, run.describe()
    assert (reports / "report.json").exists() and report["since_baseline"]["problem"] is not None
    assert "not kept in the history" in run.stdout and "NoSuchBucket" in run.stdout, run.stdout


# Every rule of the location is in tests/unit/plugins/module_utils/test_rules.py and test_history.py; these show that
# the role refuses before any AWS call, with the variable named.
@pytest.mark.parametrize(
    "extra, message",
    [
        ({"tracing_sweep_history": "s3:/tracing-history"}, "tracing_sweep_history: must be a directory on the controller or an S3 location"),
        ({"tracing_sweep_fail_on_regression": "true"}, "tracing_sweep_fail_on_regression: is true, but tracing_sweep_history is not set"),
        ({"tracing_sweep_regression_includes_new": True}, "tracing_sweep_regression_includes_new: is true, but tracing_sweep_history is not set"),
    ],
    ids=["s3-typo", "alert-without-history", "new-without-history"],
)
def test_bad_history_settings_are_refused_before_any_aws_call(sweep, estate, extra, message):
    run, report, dummy = sweep(AUDIT, extra, check=True, args=("--limit", "prod_us-east-1"))
    assert run.rc != 0
    assert message in run.stdout, run.stdout
    assert estate.requests == [] and report is None
