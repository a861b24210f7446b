# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run history (tracing_sweep_history) through the real playbooks: a local directory and moto's S3.

A run keeps its report set and its state under <history>/<scope>/<run id>/; the next run of the same targets
compares itself with it (report.json since_baseline, the summary, report.xml, set_stats) and, with
tracing_sweep_fail_on_regression, fails when a stage regressed.
"""

from __future__ import annotations

import json
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


@pytest.fixture
def sweep(run_playbook, tmp_path, estate):
    counter = iter(range(1, 100))

    def run(playbook, extra=None, check=False, args=(), env=None):
        report_dir = tmp_path / ("reports%d" % next(counter))
        extra_vars = dict(POLICY, tracing_sweep_report_dir=str(report_dir))
        extra_vars.update(extra or {})
        inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
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
    entry = run.result("Publish the verdict, the summary and the report paths (AWX/Tower artifacts)")
    return entry["ansible_stats"]["data"]


def test_local_history_finds_drift_fails_on_regression_and_sees_it_fixed(sweep, estate, tmp_path):
    history = tmp_path / "history"
    keep = {"tracing_sweep_history": str(history)}

    # 1. The enforcement turns every stage on: the first run of these targets, the first baseline.
    run, first, dummy = sweep(ENFORCE, keep)
    assert run.rc == 0, run.describe()
    since = first["since_baseline"]
    assert since["status"] == "no_baseline" and since["baseline"] is None
    assert "first baseline" in since["reason"]
    assert [entry["id"] for entry in since["trend"]] == [since["run_id"]]
    scopes = [path for path in history.iterdir() if path.is_dir()]
    assert len(scopes) == 1
    stored = scopes[0] / since["run_id"]
    assert sorted(path.name for path in stored.iterdir()) == ["report.csv", "report.html", "report.json", "report.md", "report.xml", "state.json"]
    assert json.loads((stored / "report.json").read_text(encoding="utf-8")) == first
    assert json.loads((history / "latest.json").read_text(encoding="utf-8"))["run_id"] == since["run_id"]

    # 2. Someone turns one stage off; the audit finds the regression, says so everywhere, and fails for it.
    turn_off(estate, PROD, "us-east-1", *DRIFTED)
    run, second, reports = sweep(AUDIT, dict(keep, tracing_sweep_fail_on_regression=True), check=True)
    assert run.rc == 2, run.describe()
    since = second["since_baseline"]
    assert since["status"] == "compared", since
    assert since["baseline"]["id"] == first["since_baseline"]["run_id"]
    assert since["baseline"]["mode"] == "enforce" and since["baseline"]["compliance_percent"] == 100.0
    assert since["counts"] == {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 1, "fixed": 0}
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

    # 3. The next enforcement puts it back: fixed since the audit, nothing regressed.
    run, third, dummy = sweep(ENFORCE, dict(keep, tracing_sweep_fail_on_regression=True))
    assert run.rc == 0, run.describe()
    since = third["since_baseline"]
    assert since["baseline"]["id"] == second["since_baseline"]["run_id"]
    assert since["counts"]["regressed"] == 0 and since["counts"]["fixed"] == 1
    assert since["fixed"][0]["arn"] == DRIFTED_ARN and since["fixed"][0]["corrected"] is True
    assert len(since["trend"]) == 3

    # 4. A run of other targets (--limit) is not compared with the runs of all of them, and says why.
    run, limited, dummy = sweep(AUDIT, keep, check=True, args=("--limit", "prod_us-east-1"))
    assert run.rc == 0, run.describe()
    since = limited["since_baseline"]
    assert since["status"] == "no_baseline"
    assert "swept other targets" in since["reason"] and "5 of its targets not in this run" in since["reason"], since["reason"]
    assert len([path for path in history.iterdir() if path.is_dir()]) == 2


def test_s3_history_on_moto_with_an_unreadable_baseline_and_a_missing_bucket(sweep, estate):
    s3 = estate.client("s3")
    s3.create_bucket(Bucket="tracing-history")
    keep = {"tracing_sweep_history": "s3://tracing-history/nightly/audit"}

    run, first, dummy = sweep(AUDIT, keep, check=True)
    assert run.rc == 0, run.describe()
    run_id = first["since_baseline"]["run_id"]
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="tracing-history")["Contents"])
    scope = next(key.split("/")[2] for key in keys if key.endswith("/state.json"))
    assert f"nightly/audit/{scope}/{run_id}/report.json" in keys and "nightly/audit/latest.json" in keys
    assert first["since_baseline"]["history"] == "s3://tracing-history/nightly/audit"

    # A baseline that cannot be read is a warning and an empty comparison, never a failure.
    s3.put_object(Bucket="tracing-history", Key=f"nightly/audit/{scope}/{run_id}/state.json", Body=b"{not json")
    run, second, dummy = sweep(AUDIT, dict(keep, tracing_sweep_fail_on_regression=True), check=True)
    assert run.rc == 0, run.describe()
    assert second["since_baseline"]["status"] == "no_baseline"
    assert f"the baseline {run_id} could not be read" in second["since_baseline"]["reason"]
    assert "[WARNING]: tracing_sweep_history: the baseline" in run.stdout + run.stderr

    # The next run compares with the second one, across the S3 history.
    run, third, dummy = sweep(AUDIT, keep, check=True)
    assert run.rc == 0, run.describe()
    since = third["since_baseline"]
    assert since["status"] == "compared" and since["baseline"]["id"] == second["since_baseline"]["run_id"]
    assert since["counts"] == {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 0, "fixed": 0}

    # A history that cannot be written fails the run, after its reports are written, naming the cause.
    run, report, reports = sweep(AUDIT, {"tracing_sweep_history": "s3://no-such-bucket-here/x"}, check=True, args=("--limit", "prod_us-east-1"))
    assert run.rc == 2, run.describe()
    assert (reports / "report.json").exists() and report["since_baseline"]["status"] == "no_baseline"
    assert "not kept in the history" in run.stdout and "NoSuchBucket" in run.stdout, run.stdout


# Every rule of the location is in tests/unit/plugins/module_utils/test_rules.py and test_history.py; these show that
# the role refuses before any AWS call, with the variable named.
@pytest.mark.parametrize(
    "extra, message",
    [
        ({"tracing_sweep_history": "s3:/tracing-history"}, "tracing_sweep_history: must be a directory on the controller or an S3 location"),
        ({"tracing_sweep_fail_on_regression": "true"}, "tracing_sweep_fail_on_regression: is true, but tracing_sweep_history is not set"),
    ],
    ids=["s3-typo", "alert-without-history"],
)
def test_bad_history_settings_are_refused_before_any_aws_call(sweep, estate, extra, message):
    run, report, dummy = sweep(AUDIT, extra, check=True, args=("--limit", "prod_us-east-1"))
    assert run.rc != 0
    assert message in run.stdout, run.stdout
    assert estate.requests == [] and report is None
