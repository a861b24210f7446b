# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings in Security Hub (tracing_sweep_security_hub) through the real audit and enforce playbooks.

moto's Security Hub on the local AWS: after EnableSecurityHub, BatchImportFindings with an existing Id updates
it and GetFindings lists every finding (moto ignores GetFindings' filters). The local AWS refuses both calls in an
account and region that has not enabled Security Hub, as AWS does (moto does not).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
from moto.securityhub import models as securityhub_models

from sweep_run import Sweep
from sweep_world import AUDIT_TRUTH
from sweep_world import CALLER_ACCOUNT
from sweep_world import ESTATE
from sweep_world import POLICY
from sweep_world import static_inventory
from sweep_world import write_yaml
from local_aws import seed

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
GENERATOR = "cloudops.apigw_tracing/apigateway-stage-xray-tracing"
NOT_ENABLED = ("222222222222", "eu-west-1")
STATUS = {"none": "PASSED", "would_enable": "FAILED", "exempt": "NOT_AVAILABLE", "skipped": "NOT_AVAILABLE", "enabled": "PASSED"}


def arn(region, api_id, stage):
    return "arn:aws:apigateway:%s::/restapis/%s/stages/%s" % (region, api_id, stage)


def hub_client(aws, account_id, region):
    return aws.client("securityhub", region, account=None if account_id == CALLER_ACCOUNT else account_id)


def findings(aws, account_id, region):
    """Stage ARN -> the collection's finding in that account and region (moto lists them all: filter here)."""
    found = []
    for page in hub_client(aws, account_id, region).get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 100}):
        found.extend(page["Findings"])
    ours = [finding for finding in found if finding["GeneratorId"] == GENERATOR]
    assert len({finding["Id"] for finding in ours}) == len(ours), "duplicate finding ids"
    return {finding["Resources"][0]["Id"]: finding for finding in ours}


@pytest.fixture
def sweep(run_playbook, tmp_path):
    counter = iter(range(1, 100))

    def run(playbook, extra=None, inventory=None, check=False, args=()):
        report_dir = tmp_path / ("reports%d" % next(counter))
        extra_vars = copy.deepcopy(POLICY)
        extra_vars["tracing_sweep_report_dir"] = str(report_dir)
        extra_vars.update(extra or {})
        if inventory is None:
            inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
        return Sweep(run_playbook(playbook, extra_vars, check=check, inventory=inventory, args=args), report_dir)

    return run


def test_audit_then_enforce_publish_update_and_archive_findings(sweep, estate):
    for account_id, region in ESTATE:
        if (account_id, region) != NOT_ENABLED:
            hub_client(estate, account_id, region).enable_security_hub()
    estate.clear()

    # -e gives strings: "yes" is read as true.
    audit = sweep(AUDIT, args=("-e", "tracing_sweep_security_hub=yes"))

    assert audit.run.rc == 0, audit.run.describe()
    assert [r for r in estate.writes() if r.service == "apigateway"] == []
    # Each of the 4 targets with a role is reached once: the findings go with the credentials the read used.
    assert estate.calls("AssumeRole") == 4
    published = {}
    for (account_id, region, api_id, stage), (dummy, action) in AUDIT_TRUTH.items():
        if (account_id, region) == NOT_ENABLED:
            continue
        finding = findings(estate, account_id, region)[arn(region, api_id, stage)]
        published[(account_id, region, api_id, stage)] = finding
        assert finding["Compliance"]["Status"] == STATUS[action], (api_id, stage)
        assert finding["RecordState"] == "ACTIVE" and finding["AwsAccountId"] == account_id
        assert finding["ProductArn"] == "arn:aws:securityhub:%s:%s:product/%s/default" % (region, account_id, account_id)
        assert finding["Severity"]["Label"] == ("LOW" if action == "would_enable" else "INFORMATIONAL")
        assert finding["Remediation"]["Recommendation"]["Url"].startswith("https://github.com/cloudops/apigw_tracing/")
    canary = published[("111111111111", "eu-west-1", "ord1111euw", "canary")]
    assert "CHG-2231" in canary["ProductFields"]["cloudops.apigw_tracing/exemption_reason"]
    refused = [r for r in estate.requests if r.service == "securityhub" and (r.account, r.region) == NOT_ENABLED]
    assert [(r.operation, r.status) for r in refused] == [("GetFindings", 401)]
    # The target without Security Hub: a warning naming it and the cause; the sweep is still ok.
    assert re.search(
        r"\[WARNING\]: staging_eu-west-1: Security Hub: Security Hub is not enabled in account 222222222222 eu-west-1, no finding was "
        r"published there: InvalidAccessException: Account 222222222222 is not subscribed to AWS Security Hub",
        audit.run.stdout + audit.run.stderr), audit.run.describe()
    report = audit.report
    jsonschema.validate(report, SCHEMA)
    targets = audit.targets()
    assert targets["staging_eu-west-1"]["security_hub"]["status"] == "not_enabled"
    assert {host: t["security_hub"]["status"] for host, t in targets.items() if host != "staging_eu-west-1"} == dict.fromkeys(
        [host for host in targets if host != "staging_eu-west-1"], "published")
    assert report["summary"]["security_hub"] == {
        "targets": 6, "imported": 10, "archived": 0, "failed": 0, "not_enabled": ["staging_eu-west-1"], "not_published": []}
    assert "Security Hub: 10 findings imported, 0 archived in 6 targets; not enabled in (no finding published there): staging_eu-west-1" in audit.run.stdout
    assert report["verdict"] == "noncompliant"
    markdown = (audit.report_dir / "report.md").read_text(encoding="utf-8")
    assert "Security Hub is not enabled in staging_eu-west-1: no finding was published there." in markdown
    # At most 100 findings a call: one import per target with stages and Security Hub enabled.
    assert estate.calls("BatchImportFindings") == 4
    # The same stages, enforced after one of them is deleted: the findings are updated, not added, and the deleted
    # stage's finding is archived. In staging us-east-1 the stages cannot be read this time (and one was deleted):
    # its findings are kept as they were, never archived.
    gone = ("111111111111", "us-east-1", "ord1111use", "staging")
    estate.client("apigateway", "us-east-1", account="111111111111").delete_stage(restApiId="ord1111use", stageName="staging")
    estate.client("apigateway", "us-east-1", account="222222222222").delete_stage(restApiId="cat2222use", stageName="dev")
    estate.deny("GetStages", account="222222222222", region="us-east-1")
    estate.clear()

    enforce = sweep(ENFORCE, extra={"tracing_sweep_security_hub": True, "tracing_sweep_fail_on_error": False})

    assert enforce.run.rc == 0, enforce.run.describe()
    assert enforce.report["verdict"] == "error"
    for key, before in published.items():
        account_id, region, api_id, stage = key
        after = findings(estate, account_id, region)[arn(region, api_id, stage)]
        assert after["Id"] == before["Id"]
        if (account_id, region) == ("222222222222", "us-east-1"):
            assert after == before, key
            continue
        assert after["CreatedAt"] == before["CreatedAt"] and after["UpdatedAt"] > before["UpdatedAt"]
        if key == gone:
            assert after["RecordState"] == "ARCHIVED"
            continue
        assert after["RecordState"] == "ACTIVE"
        expected = STATUS["enabled" if AUDIT_TRUTH[key][1] == "would_enable" else AUDIT_TRUTH[key][1]]
        assert after["Compliance"]["Status"] == expected, key
    assert sum(len(findings(estate, a, r)) for a, r in ESTATE if (a, r) != NOT_ENABLED) == len(published)
    summary = enforce.report["summary"]["security_hub"]
    # 10 stages had findings: one archived, three kept in staging us-east-1 (unread), six updated.
    assert (summary["imported"], summary["archived"], summary["not_enabled"]) == (6, 1, ["staging_eu-west-1"])
    assert "[WARNING]: staging_eu-west-1: Security Hub: Security Hub is not enabled" in enforce.run.stdout + enforce.run.stderr
    jsonschema.validate(enforce.report, SCHEMA)


def test_an_ambiguous_setting_is_refused_before_any_aws_call(sweep, estate):
    run = sweep(AUDIT, args=("-e", "tracing_sweep_security_hub=ture"))

    assert run.run.rc != 0
    assert "tracing_sweep_security_hub" in run.run.stdout + run.run.stderr, run.run.describe()
    assert estate.requests == []


def test_many_stages_go_in_several_calls_and_refused_findings_fail_the_run(sweep, aws, tmp_path, monkeypatch):
    stages = {"s%03d" % index: {} for index in range(120)}
    seed(aws.client("apigateway"), [{"name": "many", "id": "man0000use", "stages": stages}])
    aws.client("securityhub").enable_security_hub()
    real_import = securityhub_models.SecurityHubBackend.batch_import_findings

    def refusing(backend, findings):
        # AWS refuses a finding it cannot take (InvalidInput) and imports the others of the call.
        kept = [finding for finding in findings if not finding["Id"].endswith(("/stages/s007", "/stages/s042"))]
        failed, success, failed_findings = real_import(backend, kept)
        refused = [{"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "Finding exceeds the size limit"} for f in findings if f not in kept]
        return failed + len(refused), success, failed_findings + refused

    monkeypatch.setattr(securityhub_models.SecurityHubBackend, "batch_import_findings", refusing)
    inventory = write_yaml(tmp_path / "one.yml", {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"tooling_us-east-1": {"tracing_sweep_region": "us-east-1"}}}})
    aws.clear()

    run = sweep(AUDIT, inventory=inventory, extra={"tracing_sweep_security_hub": True})

    assert aws.calls("BatchImportFindings") == 2  # 100 + 20
    assert len(findings(aws, CALLER_ACCOUNT, "us-east-1")) == 118
    # Not hidden: a warning with the refused ids and AWS's message, and the run fails after writing the reports.
    assert run.run.rc != 0
    output = run.run.stdout + run.run.stderr  # warnings go to stderr
    assert "[WARNING]: tooling_us-east-1: Security Hub: account 123456789012 us-east-1: Security Hub refused 2 findings" in output, output
    assert "/restapis/man0000use/stages/s007: InvalidInput: Finding exceeds the size limit" in output
    assert "Findings were not published to Security Hub in 1 target" in output
    report = run.report
    jsonschema.validate(report, SCHEMA)
    assert report["targets"][0]["security_hub"]["status"] == "failed"
    assert (report["targets"][0]["security_hub"]["imported"], report["targets"][0]["security_hub"]["failed"]) == (118, 2)
    # Every stage was evaluated, but findings not published are a step of the run that failed: the verdict says so.
    assert report["verdict"] == "error" and report["summary"]["errors"] == 0
    assert report["verdict_reason"].startswith("findings not published to Security Hub in 1 target")
    assert report["summary"]["security_hub"]["not_published"] == ["tooling_us-east-1"]
