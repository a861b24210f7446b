# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tracing_sweep role through the audit and enforce playbooks, over three accounts x two regions.

Every test runs the real ansible-playbook on an inventory of account x region hosts against the
local AWS, then checks the server (boto3), the requests it saw and the reports the run wrote.
The estate and the policy are in tools/sweep_world.py.
"""

from __future__ import annotations

import collections
import copy
import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from sweep_world import ACCOUNTS
from sweep_run import Sweep
from sweep_world import AUDIT_TRUTH
from sweep_world import CALLER_ACCOUNT
from sweep_world import POLICY
from sweep_world import PROD_EXTERNAL_ID
from sweep_world import accounts_inventory
from sweep_world import role_arn
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
WOULD_ENABLE = sorted(key for key, (_before, action) in AUDIT_TRUTH.items() if action == "would_enable")
HOSTS = sorted("%s_%s" % (a["name"], r) for a in ACCOUNTS for r in ("us-east-1", "eu-west-1"))


@pytest.fixture
def sweep(run_playbook, tmp_path, estate):
    """sweep(playbook, policy=POLICY, extra=None, inventory=None, check=False, diff=True, args=(), aws_env=True, env=None) -> Sweep"""
    counter = iter(range(1, 100))

    def run(playbook, policy=None, extra=None, inventory=None, check=False, diff=True, args=(), aws_env=True, env=None):
        report_dir = tmp_path / ("reports%d" % next(counter))
        extra_vars = copy.deepcopy(POLICY if policy is None else policy)
        extra_vars["tracing_sweep_report_dir"] = str(report_dir)
        extra_vars.update(extra or {})
        if inventory is None:
            inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
        result = run_playbook(playbook, extra_vars, check=check, diff=diff, inventory=inventory, args=args, aws_env=aws_env, env=env)
        return Sweep(result, report_dir)

    return run


def calls(aws):
    return collections.Counter(r.operation for r in aws.requests)


def assert_reports_valid(sweep):
    """Every report the run wrote is well formed and agrees with report.json."""
    report = sweep.report
    jsonschema.validate(report, SCHEMA)
    summary = report["summary"]
    assert summary["stages"] == len(report["stages"])
    assert summary["compliant"] + summary["noncompliant"] + summary["exempt"] + summary["skipped"] + summary["stage_errors"] == summary["stages"]
    assert summary["errors"] == summary["stage_errors"] + summary["targets_failed"]
    assert summary["targets"] == len(report["targets"])
    expected = "error" if summary["errors"] else "noncompliant" if summary["noncompliant"] else "compliant"
    assert report["verdict"] == expected

    # report.csv: a line per stage, and a line per failed target (status ERROR, no stage).
    rows = list(csv.DictReader(io.StringIO((sweep.report_dir / "report.csv").read_text(encoding="utf-8"))))
    assert len(rows) == summary["stages"] + summary["targets_failed"]
    assert sorted(r["arn"] for r in rows if r["arn"]) == sorted(r["arn"] for r in report["stages"])
    assert len([r for r in rows if r["status"] == "ERROR"]) == summary["errors"]
    assert len([r for r in rows if r["status"] == "FAIL"]) == summary["noncompliant"]

    root = ET.parse(sweep.report_dir / "report.xml").getroot()
    cases = root.findall(".//testcase")
    failed_targets = summary["targets_failed"]
    assert len(cases) == summary["stages"] + failed_targets
    assert len(root.findall(".//testcase/failure")) == summary["noncompliant"]
    assert len(root.findall(".//testcase/error")) == summary["errors"]

    markdown = (sweep.report_dir / "report.md").read_text(encoding="utf-8")
    shown = "n/a" if summary["compliance_percent"] is None else str(summary["compliance_percent"])
    assert "| Compliance % | " + shown + " |" in markdown
    assert "- Verdict: **%s**" % report["verdict"] in markdown


def test_audit_reports_every_stage_and_changes_nothing(sweep, estate):
    before = tracing_state(estate)
    estate.clear()

    audit = sweep(AUDIT)

    assert audit.run.rc == 0, audit.run.describe()
    made = calls(estate)
    assert made["UpdateStage"] == 0
    assert [r for r in estate.writes() if r.service == "apigateway"] == []
    assert tracing_state(estate) == before

    report = audit.report
    assert report["mode"] == "audit"
    rows = audit.rows()
    assert set(rows) == set(AUDIT_TRUTH)
    for key, (tracing_before, action) in AUDIT_TRUTH.items():
        row = rows[key]
        assert (row["tracing_enabled_before"], row["action"]) == (tracing_before, action), key
        if action == "would_enable":
            assert row["tracing_enabled_after"] is True and row["desired"] is True
        else:
            assert row["tracing_enabled_after"] == tracing_before
    assert rows[("222222222222", "us-east-1", "cat2222use", "dev")]["reason"].count("expired") == 1
    assert "CHG-2231" in rows[("111111111111", "eu-west-1", "ord1111euw", "canary")]["reason"]
    assert "CHG-1187" in rows[(CALLER_ACCOUNT, "us-east-1", "leg0000use", "v1")]["reason"]

    summary = audit.summary
    counted = ("targets", "targets_failed", "stages", "compliant", "noncompliant", "exempt", "skipped", "errors", "changed", "would_change")
    assert {k: summary[k] for k in counted} == {
        "targets": 6, "targets_failed": 0, "stages": 11, "compliant": 3, "noncompliant": 5, "exempt": 2, "skipped": 1,
        "errors": 0, "changed": 0, "would_change": 5}
    assert summary["compliance_percent"] == 37.5
    assert sorted(audit.targets()) == HOSTS
    statuses = {e["status"] for e in report["exemptions"]}
    assert statuses == {"active", "expired"}
    assert_reports_valid(audit)

    # --diff: one line per stage that would change, under its account and region.
    lines = re.findall(r"^  (\S+): tracing_enabled false -> true$", audit.run.stdout, re.MULTILINE)
    assert sorted(lines) == sorted("%s/%s" % (k[2], k[3]) for k in WOULD_ENABLE), audit.run.stdout
    assert "111111111111 (prod) us-east-1: X-Ray tracing of 2 stages would change" in audit.run.stdout
    assert report["verdict"] == "noncompliant"

    # The least an audit can do: one GetRestApis per target, one GetStages per REST API, roles assumed
    # once per target. The check-mode converge call trusts what was just read: no re-read, no write.
    assert made["GetRestApis"] == 6
    assert made["GetStages"] == 7
    assert made.get("GetStage", 0) == 0
    assert made.get("UpdateStage", 0) == 0
    assert made["AssumeRole"] == 4
    assert len(audit.entries("read every REST API stage and decide each one's tracing state")) == 6

    # The summary and the verdict go to AWX as set_stats data.
    [stats] = audit.entries("Write the report of every target, once, on the controller")
    data = stats["result"]["ansible_stats"]["data"]
    assert data["tracing_sweep_summary"] == summary
    assert data["tracing_sweep_verdict"] == "noncompliant"
    assert data["tracing_sweep_reports"]["json"] == str(audit.report_dir.resolve() / "report.json")


def test_enforce_converges_and_a_second_run_changes_nothing(sweep, estate):
    before = tracing_state(estate)
    estate.clear()

    first = sweep(ENFORCE)

    assert first.run.rc == 0, first.run.describe()
    assert calls(estate)["UpdateStage"] == len(WOULD_ENABLE)
    after = tracing_state(estate)
    assert after == {key: (True if key in WOULD_ENABLE else value) for key, value in before.items()}
    assert first.report["mode"] == "enforce"
    assert {key: row["action"] for key, row in first.rows().items() if row["action"] not in ("none", "exempt", "skipped")} == {
        key: "enabled" for key in WOULD_ENABLE}
    assert first.summary["changed"] == 5
    assert first.summary["compliance_percent"] == 100.0
    assert_reports_valid(first)

    estate.clear()
    second = sweep(ENFORCE)
    assert second.run.rc == 0, second.run.describe()
    assert calls(estate)["UpdateStage"] == 0
    assert second.summary["changed"] == 0
    assert {row["action"] for row in second.report["stages"]} == {"none", "exempt", "skipped"}

    audit = sweep(AUDIT)
    assert audit.summary["noncompliant"] == 0
    assert audit.summary["compliance_percent"] == 100.0


def test_rules_turn_tracing_off_and_the_first_match_wins(sweep, estate):
    policy = copy.deepcopy(POLICY)
    policy["tracing_sweep_rules"] = [
        {"name": "v2 is sampled elsewhere", "match": {"account_id": "111111111111", "api_name": "pay*", "stage_name": "v2"}, "tracing_enabled": False},
        {"name": "all payments traced", "match": {"api_name": "payments"}, "tracing_enabled": True},
        {"match": {"region": "eu-west-1", "api_id": "cat2222euw"}, "skip": True},
    ]

    run = sweep(ENFORCE, policy=policy)

    assert run.run.rc == 0, run.run.describe()
    rows = run.rows()
    assert rows[("111111111111", "us-east-1", "pay1111use", "v2")]["action"] == "disabled"
    assert "v2 is sampled elsewhere" in rows[("111111111111", "us-east-1", "pay1111use", "v2")]["reason"]
    assert rows[("111111111111", "us-east-1", "pay1111use", "prod")]["action"] == "enabled"
    assert rows[("222222222222", "eu-west-1", "cat2222euw", "prod")]["action"] == "skipped"
    state = tracing_state(estate)
    assert state[("111111111111", "us-east-1", "pay1111use", "v2")] is False
    assert state[("111111111111", "us-east-1", "pay1111use", "prod")] is True
    assert state[("222222222222", "eu-west-1", "cat2222euw", "prod")] is False
    assert_reports_valid(run)


def test_desired_false_and_tag_rules(sweep, estate):
    """Turning tracing off by default, with a rule on a stage tag keeping one stage on."""
    client = estate.client("apigateway", "us-east-1", account="111111111111")
    client.tag_resource(resourceArn="arn:aws:apigateway:us-east-1::/restapis/ord1111use/stages/prod", tags={"Tier": "gold"})
    policy = {
        "tracing_sweep_desired": False,
        "tracing_sweep_rules": [{"match": {"tag": {"key": "Tier", "value": "gold"}}, "tracing_enabled": True}],
    }

    run = sweep(ENFORCE, policy=policy, args=["--limit", "prod_us-east-1"])

    assert run.run.rc == 0, run.run.describe()
    actions = {key[2:]: row["action"] for key, row in run.rows().items()}
    assert actions == {("ord1111use", "prod"): "none", ("ord1111use", "staging"): "none",
                       ("pay1111use", "prod"): "none", ("pay1111use", "v2"): "disabled"}


def test_a_failing_target_is_reported_and_the_others_complete(sweep, estate, tmp_path):
    inventory = static_inventory()
    inventory["all"]["hosts"]["tooling_eu-west-1"]["tracing_sweep_endpoint_url"] = "http://127.0.0.1:9"
    estate.deny("AssumeRole", role_arn=role_arn("222222222222"))
    estate.deny("UpdateStage", account="111111111111", region="eu-west-1")
    estate.deny("GetRestApis", account=CALLER_ACCOUNT, region="us-east-1")

    run = sweep(ENFORCE, inventory=write_yaml(tmp_path / "inventory.yml", inventory))

    assert run.run.rc != 0
    targets = run.targets()
    # prod_eu-west-1 was swept: its one change was refused by IAM, a stage error, not a failed target.
    assert {host: t["status"] for host, t in targets.items()} == {
        "prod_us-east-1": "ok", "prod_eu-west-1": "ok", "staging_us-east-1": "error", "staging_eu-west-1": "error",
        "tooling_us-east-1": "error", "tooling_eu-west-1": "error"}
    assert "AccessDenied" in targets["staging_us-east-1"]["error"] and role_arn("222222222222") in targets["staging_us-east-1"]["error"]
    assert "apigateway:GET" in targets["tooling_us-east-1"]["error"]
    assert "127.0.0.1:9" in targets["tooling_eu-west-1"]["error"]

    # The healthy target converged; the denied stage is an error row with its cause.
    estate.allow_all()
    state = tracing_state(estate)
    assert state[("111111111111", "us-east-1", "ord1111use", "staging")] is True
    assert state[("111111111111", "us-east-1", "pay1111use", "prod")] is True
    denied = run.rows()[("111111111111", "eu-west-1", "ord1111euw", "prod")]
    assert denied["action"] == "error" and "apigateway:PATCH" in denied["reason"]
    # Errors count the failed targets too: 4 targets and 1 stage.
    assert run.summary["targets_failed"] == 4 and run.summary["stage_errors"] == 1 and run.summary["errors"] == 5
    assert run.summary["changed"] == 2 and run.report["verdict"] == "error"
    assert "4 of 6 targets failed (1 stage error)" in run.run.stdout
    assert_reports_valid(run)

    # The same failures with tracing_sweep_fail_on_error=false: reported, but the run passes.
    estate.deny("AssumeRole", role_arn=role_arn("222222222222"))
    estate.deny("GetRestApis", account=CALLER_ACCOUNT, region="us-east-1")
    tolerant = sweep(ENFORCE, inventory=write_yaml(tmp_path / "inventory.yml", inventory), extra={"tracing_sweep_fail_on_error": False})
    assert tolerant.run.rc == 0, tolerant.run.describe()
    # prod_eu-west-1 may write now, and converges.
    assert tolerant.summary["targets_failed"] == 4 and tolerant.summary["stage_errors"] == 0 and tolerant.summary["changed"] == 1
    assert tolerant.summary["errors"] == 4 and tolerant.report["verdict"] == "error"


def test_max_changes_guard_refuses_the_whole_enforcement(sweep, estate):
    before = tracing_state(estate)
    estate.clear()

    refused = sweep(ENFORCE, extra={"tracing_sweep_max_changes": 4})

    assert refused.run.rc != 0
    assert "Nothing was changed: 5 stages would change, more than tracing_sweep_max_changes=4" in refused.run.stdout
    assert calls(estate)["UpdateStage"] == 0
    assert tracing_state(estate) == before
    assert refused.summary["refused"] is True and refused.summary["planned_changes"] == 5
    for key in WOULD_ENABLE:
        row = refused.rows()[key]
        assert row["action"] == "refused" and "more than tracing_sweep_max_changes=4" in row["reason"], row
    assert refused.summary["noncompliant"] == 5
    assert_reports_valid(refused)

    # In check mode the excess is reported, not refused.
    audit = sweep(AUDIT, extra={"tracing_sweep_max_changes": 4})
    assert audit.run.rc == 0, audit.run.describe()
    assert audit.summary["refused"] is False
    assert audit.summary["planned_changes"] == 5 and audit.summary["max_changes"] == 4
    assert "An enforcement now would be refused: 5 changes planned, more than tracing_sweep_max_changes=4" in audit.run.stdout

    # The role's argument checks take null for no number at all, before any AWS call.
    estate.clear()
    null = sweep(ENFORCE, extra={"tracing_sweep_max_changes": None})
    assert null.run.rc != 0 and "tracing_sweep_max_changes" in null.run.stdout
    assert estate.requests == []


def test_limit_sweeps_only_the_chosen_target(sweep, estate):
    run = sweep(AUDIT, args=["--limit", "staging_eu-west-1"])

    assert run.run.rc == 0, run.run.describe()
    assert list(run.targets()) == ["staging_eu-west-1"]
    assert {(r.account, r.region) for r in estate.requests if r.service == "apigateway"} == {("222222222222", "eu-west-1")}
    assert [key[2:] for key in run.rows()] == [("cat2222euw", "prod")]


def test_no_secret_reaches_output_logs_or_reports(sweep, estate, tmp_path):
    # -vvv shows each module's arguments as the result's "invocation". ansible-core 2.19 always adds it; 2.21
    # only with INJECT_INVOCATION, a setting a project may turn on (2.19 does not know it): on, so both show them.
    verbose = {"args": ["-vvv"], "env": {"ANSIBLE_INJECT_INVOCATION": "true"}}
    audit = sweep(AUDIT, **verbose)
    enforce = sweep(ENFORCE, **verbose)

    assert audit.run.rc == 0 and enforce.run.rc == 0, audit.run.describe() + enforce.run.describe()
    sessions = [s for s in estate.assumed_sessions() if s["role_arn"].endswith(":role/TracingAudit")]
    # Four targets assume a role in each run, and the enforcement's four targets with changes once more to make
    # them (no credentials are kept between steps); the prod role got its external id each time.
    assert len(sessions) == 12
    assert sorted(s["external_id"] for s in sessions if ":111111111111:" in s["role_arn"]) == [PROD_EXTERNAL_ID] * 6
    secrets = [s[key] for s in sessions for key in ("secret_access_key", "session_token")] + [PROD_EXTERNAL_ID]
    places = {"audit stdout": audit.run.stdout, "audit stderr": audit.run.stderr,
              "enforce stdout": enforce.run.stdout, "enforce stderr": enforce.run.stderr,
              "result logs": json.dumps([audit.run.entries, enforce.run.entries])}
    for run in (audit, enforce):
        for path in run.report_dir.iterdir():
            places[str(path)] = path.read_text(encoding="utf-8")
    leaks = [(secret[:6] + "...", place) for secret in secrets for place, text in places.items() if secret in text]
    assert leaks == []
    # -vvv really was verbose (every step's whole result is shown), so the check above looked at everything. (The
    # playbooks' report step keeps no copy of the report in its result: its whole result is the verdict, the files,
    # the stats and which host fails.)
    assert '"host_failures": {}' in enforce.run.stdout and '"run_id": ' in enforce.run.stdout, enforce.run.stdout[-3000:]


# Bad settings (a rule's unknown match key, an expiry that is no date, a rule without exactly one result, an exemption
# without a reason, a change limit that is no number...) stop the run before any AWS call: test_bad_input_matrix.py,
# a case per kind of bad input; the wording of every rule: tests/unit/plugins/plugin_utils/_settings/test_checks.py.


def test_a_target_with_bad_variables_is_reported_without_aws_calls(sweep, estate, tmp_path):
    inventory = static_inventory()
    inventory["all"]["hosts"]["prod_eu-west-1"]["tracing_sweep_region"] = "eu-west"
    inventory["all"]["hosts"]["staging_us-east-1"]["tracing_sweep_role_arn"] = "arn:aws:iam::22222222222:role/TracingAudit"
    # No role, and an account id the controller's credentials are not in.
    inventory["all"]["hosts"]["tooling_us-east-1"]["tracing_sweep_account_id"] = "999999999999"
    # Left empty in YAML (null): the same as absent, the controller's credentials.
    inventory["all"]["hosts"]["tooling_eu-west-1"]["tracing_sweep_role_arn"] = None

    run = sweep(AUDIT, inventory=write_yaml(tmp_path / "inventory.yml", inventory))

    assert run.run.rc != 0
    targets = run.targets()
    assert "tracing_sweep_region" in targets["prod_eu-west-1"]["error"]
    assert "tracing_sweep_role_arn" in targets["staging_us-east-1"]["error"]
    assert "999999999999" in targets["tooling_us-east-1"]["error"] and CALLER_ACCOUNT in targets["tooling_us-east-1"]["error"]
    assert targets["prod_us-east-1"]["status"] == "ok"
    assert not [r for r in estate.requests if r.region == "eu-west" or r.role_arn == "arn:aws:iam::22222222222:role/TracingAudit"]
    assert not [r for r in estate.requests if r.service == "apigateway" and r.account == CALLER_ACCOUNT and r.region == "us-east-1"]
    assert targets["tooling_eu-west-1"]["status"] == "ok"
    assert run.summary["targets_failed"] == 3 and run.summary["stages"] == 11 - 2 - 3 - 1
    assert_reports_valid(run)


def test_fail_on_noncompliant_fails_an_audit_after_writing_reports(sweep, estate):
    run = sweep(AUDIT, extra={"tracing_sweep_fail_on_noncompliant": True})

    assert run.run.rc != 0
    assert "5 stages do not have their desired tracing state" in run.run.stdout
    assert run.summary["noncompliant"] == 5


def test_the_accounts_inventory_plugin_drives_the_sweep(sweep, estate, tmp_path):
    inventory = write_yaml(tmp_path / "estate.accounts.yml", accounts_inventory())

    run = sweep(AUDIT, inventory=inventory)

    assert run.run.rc == 0, run.run.describe()
    assert sorted(run.targets()) == HOSTS
    assert {key: (row["tracing_enabled_before"], row["action"]) for key, row in run.rows().items()} == AUDIT_TRUTH
    # The prod role was assumed with its external id, once per prod target.
    prod = [s for s in estate.assumed_sessions() if s["role_arn"] == role_arn("111111111111")]
    assert [s["external_id"] for s in prod] == [PROD_EXTERNAL_ID] * 2


def test_tracing_sweep_endpoint_url_alone_carries_every_call(sweep, estate):
    """No AWS_ENDPOINT_URL in the environment: the role's endpoint setting takes every call, STS included, to the local AWS."""
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

    run = sweep(ENFORCE, aws_env=False, env=credentials, extra={"tracing_sweep_endpoint_url": estate.endpoint_url})

    assert run.run.rc == 0, run.run.describe()
    made = calls(estate)
    # STS: a role per prod and staging target, assumed again by each of them to make its changes; the tooling targets
    # have no role, so STS says which account they are.
    assert made["AssumeRole"] == 8 and made["GetCallerIdentity"] == 2
    assert made["UpdateStage"] == len(WOULD_ENABLE)
    assert run.summary["changed"] == len(WOULD_ENABLE) and run.summary["targets_failed"] == 0
    assert run.targets()["tooling_us-east-1"]["account_id"] == CALLER_ACCOUNT
