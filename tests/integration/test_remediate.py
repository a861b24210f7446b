# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The remediate playbook: the stages one event named, of the event's target, under the scheduled sweep's policy.

Each test runs the real ansible-playbook with the accounts inventory of tools/sweep_world.py against the local AWS,
then checks the server, the requests it saw (only GetStage and UpdateStage on API Gateway, one STS call for the
target: never a region-wide read) and the run's own report directory.
"""

from __future__ import annotations

import collections
import copy
import json
from pathlib import Path

import jsonschema
import pytest

from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
REMEDIATE = "cloudops.apigw_tracing.remediate"
PROD = "111111111111"
STAGING = "222222222222"


@pytest.fixture
def remediate(run_playbook, tmp_path, estate):
    """remediate(account, region, stages, mode=None, extra=None) -> (run, report or None, report directory or None)"""
    inventory = write_yaml(tmp_path / "estate.accounts.yml", accounts_inventory())
    base = tmp_path / "remediations"

    def run(account, region, stages, mode=None, extra=None, policy=None, check=False):
        extra_vars = copy.deepcopy(POLICY if policy is None else policy)
        extra_vars.update({
            "apigw_tracing_event_account_id": account,
            "apigw_tracing_event_region": region,
            "tracing_sweep_stages": stages,
            "apigw_tracing_remediation_dir": str(base),
        })
        if mode is not None:
            extra_vars["apigw_tracing_remediate_mode"] = mode
        extra_vars.update(extra or {})
        estate.clear()
        result = run_playbook(REMEDIATE, extra_vars, inventory=inventory, check=check)
        runs = sorted(base.iterdir()) if base.is_dir() else []
        if not runs:
            return result, None, None
        report = json.loads((runs[-1] / "report.json").read_text(encoding="utf-8"))
        jsonschema.validate(report, SCHEMA)
        return result, report, runs[-1]

    return run


def calls(aws):
    return collections.Counter(r.operation for r in aws.requests)


def actions(report):
    return {(row["rest_api_id"], row["stage_name"]): row["action"] for row in report["stages"]}


def test_the_named_untraced_stages_are_traced_with_the_fewest_calls(remediate, estate):
    named = [{"rest_api_id": "ord1111use", "stage_name": "staging"}, {"rest_api_id": "pay1111use", "stage_name": "prod"}]

    # A policy that selects nothing by API name: the APIs' names are not read.
    policy = {key: value for key, value in POLICY.items() if key not in ("tracing_sweep_rules", "tracing_sweep_exemptions")}
    run, report, where = remediate(PROD, "us-east-1", named, policy=policy)

    assert run.rc == 0, run.describe()
    made = calls(estate)
    assert actions(report) == {("ord1111use", "staging"): "enabled", ("pay1111use", "prod"): "enabled"}
    state = tracing_state(estate)
    assert state[(PROD, "us-east-1", "ord1111use", "staging")] and state[(PROD, "us-east-1", "pay1111use", "prod")]
    # The stages the event did not name are left as they were, even the untraced one of the other region.
    assert not state[(PROD, "eu-west-1", "ord1111euw", "prod")]
    assert report["run"]["named_stages"] == named and report["mode"] == "enforce" and report["verdict"] == "compliant"
    assert made == {"AssumeRole": 1, "GetStage": 2, "UpdateStage": 2}, made
    assert where.name.endswith("-%s-us-east-1" % PROD)
    assert "history not read or written" in run.stdout


def test_exempt_tagged_and_rule_skipped_stages_are_left_alone(remediate, estate):
    # canary carries the exempt tag; internal-reports is skipped by a rule that selects by API name (which needs its
    # API's name: one GetRestApi per API); catalog dev is exempt, but its exemption expired: it is traced.
    run, report, dummy = remediate(PROD, "eu-west-1", ["ord1111euw/canary"])
    assert run.rc == 0, run.describe()
    assert actions(report) == {("ord1111euw", "canary"): "exempt"}

    run, report, dummy = remediate(STAGING, "us-east-1", ["irp2222use/dev", "cat2222use/dev"])
    assert run.rc == 0, run.describe()
    made = calls(estate)
    assert actions(report) == {("irp2222use", "dev"): "skipped", ("cat2222use", "dev"): "enabled"}
    assert made == {"AssumeRole": 1, "GetRestApi": 2, "GetStage": 2, "UpdateStage": 1}, made
    assert not tracing_state(estate)[(STAGING, "us-east-1", "irp2222use", "dev")]


def test_audit_mode_changes_nothing_and_reports_what_would_change(remediate, estate):
    run, report, dummy = remediate(PROD, "us-east-1", ["ord1111use/staging"], mode="audit")

    assert run.rc == 0, run.describe()
    assert report["mode"] == "audit" and actions(report) == {("ord1111use", "staging"): "would_enable"}
    assert not tracing_state(estate)[(PROD, "us-east-1", "ord1111use", "staging")]
    assert "UpdateStage" not in calls(estate)


def test_check_mode_changes_nothing_whatever_the_mode_says(remediate, estate):
    run, report, dummy = remediate(PROD, "us-east-1", ["ord1111use/staging"], mode="enforce", check=True)

    assert run.rc == 0, run.describe()
    assert report["mode"] == "audit" and actions(report) == {("ord1111use", "staging"): "would_enable"}
    assert "UpdateStage" not in calls(estate)


def test_a_stage_deleted_before_the_run_is_reported_skipped_not_an_error(remediate, estate):
    run, report, dummy = remediate(PROD, "us-east-1", ["ord1111use/gone", "nope000000/prod", "ord1111use/staging"])

    assert run.rc == 0, run.describe()
    rows = {(row["rest_api_id"], row["stage_name"]): row for row in report["stages"]}
    assert rows[("ord1111use", "gone")]["action"] == "skipped" and "no longer exists" in rows[("ord1111use", "gone")]["reason"]
    assert rows[("nope000000", "prod")]["action"] == "skipped"
    assert rows[("ord1111use", "staging")]["action"] == "enabled"
    assert report["summary"]["errors"] == 0 and report["verdict"] == "compliant"


def test_the_guard_refuses_a_burst_above_max_changes(remediate, estate):
    named = ["ord1111use/staging", "pay1111use/prod"]

    run, report, dummy = remediate(PROD, "us-east-1", named, extra={"tracing_sweep_max_changes": 1})

    assert run.rc != 0
    assert set(actions(report).values()) == {"refused"}
    assert "UpdateStage" not in calls(estate)


def test_a_remediation_is_never_kept_in_the_history(remediate, estate, tmp_path):
    history = tmp_path / "history"

    run, report, dummy = remediate(PROD, "us-east-1", ["ord1111use/staging"], extra={"tracing_sweep_history": str(history)})

    assert run.rc == 0, run.describe()
    assert report["since_baseline"] is None
    assert not history.exists() or not any(history.rglob("*.json"))


@pytest.mark.parametrize(
    "account, region, stages, mode, message",
    [
        ("11111111111", "us-east-1", ["ord1111use/staging"], None, "apigw_tracing_event_account_id: must be"),
        (PROD, "us-east-l", ["ord1111use/staging"], None, "apigw_tracing_event_region"),
        (PROD, "us-east-1", [], None, "tracing_sweep_stages: must name the stages to remediate"),
        (PROD, "us-east-1", ["ord1111use"], None, "tracing_sweep_stages[0]: must be a list of the stages"),
        (PROD, "us-east-1", ["ord1111use/staging"], "fix", "apigw_tracing_remediate_mode: must be one of enforce, audit"),
        ("333333333333", "us-east-1", ["ord1111use/staging"], None, "No inventory host is the target of this event"),
        (PROD, "ap-south-1", ["ord1111use/staging"], None, "No inventory host is the target of this event"),
    ],
)
def test_bad_event_variables_stop_before_any_aws_call(remediate, estate, account, region, stages, mode, message):
    run, report, dummy = remediate(account, region, stages, mode=mode)

    assert run.rc != 0
    assert message in run.stdout, run.describe()
    assert report is None
    assert not estate.requests


def test_the_remediation_updates_the_named_stages_findings_and_no_other(remediate, run_playbook, estate, tmp_path):
    estate.client("securityhub", "us-east-1", account=PROD).enable_security_hub()
    # The scheduled audit published a finding for every stage of the target.
    audit = run_playbook("cloudops.apigw_tracing.audit", dict(POLICY, tracing_sweep_security_hub=True, tracing_sweep_report_dir=str(tmp_path / "audit")),
                         inventory=write_yaml(tmp_path / "audit.accounts.yml", accounts_inventory()))
    assert audit.rc == 0, audit.describe()

    run, report, dummy = remediate(PROD, "us-east-1", ["ord1111use/staging", "ord1111use/gone"], extra={"tracing_sweep_security_hub": True})

    assert run.rc == 0, run.describe()
    hub = estate.client("securityhub", "us-east-1", account=PROD)
    found = {finding["Resources"][0]["Id"].rsplit("/restapis/", 1)[1]: (finding["Compliance"]["Status"], finding["RecordState"])
             for page in hub.get_paginator("get_findings").paginate() for finding in page["Findings"]
             if finding["GeneratorId"] == "cloudops.apigw_tracing/apigateway-stage-xray-tracing"}
    # The named stage's finding says what it is now (traced); the target's other stages keep theirs, untouched.
    assert found == {
        "ord1111use/stages/staging": ("PASSED", "ACTIVE"),
        "ord1111use/stages/prod": ("PASSED", "ACTIVE"),
        "pay1111use/stages/prod": ("FAILED", "ACTIVE"),
        "pay1111use/stages/v2": ("PASSED", "ACTIVE"),
    }, found
    assert report["targets"][0]["security_hub"]["status"] == "published", report["targets"][0]["security_hub"]
