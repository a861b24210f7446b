# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Findings in Security Hub: their shape, their ids, batching, archiving, pacing and what AWS answers."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._findings import security_hub as hub
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import sweep as run
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_html import render_html
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import render_markdown
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import normalized_settings
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import settings_problems
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import TESTING_CREDENTIALS
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeHttp
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors

ACCOUNT = "111111111111"
REGION = "us-east-1"
NOW = "2026-03-15T10:00:00.000Z"
EARLIER = "2026-03-01T10:00:00.000Z"


def row(api="a1b2c3d4e5", stage="prod", action="none", before=True, after=None, desired=True, reason="the policy default", account=ACCOUNT, region=REGION):
    return {
        "account_id": account,
        "region": region,
        "rest_api_id": api,
        "rest_api_name": "orders",
        "stage_name": stage,
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}",
        "tracing_enabled_before": before,
        "tracing_enabled_after": before if after is None else after,
        "desired": desired,
        "action": action,
        "reason": reason,
    }


class Clock:
    """A recorded clock: sleep() moves it on and remembers how long."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeHub:
    """A Security Hub client: GetFindings answers ``active`` in one page, BatchImportFindings recorded, answers
    scripted. (Paging is botocore's paginator: test_get_findings_is_followed_to_its_last_page.)"""

    def __init__(self, active=(), refuse=None, fail_on=None):
        self.active = list(active)
        self.imports = []
        self.reads = []
        self.refuse = refuse or (lambda finding: None)
        self.fail_on = fail_on

    def get_paginator(self, name):
        assert name == "get_findings"
        return self

    def paginate(self, **kwargs):
        self.reads.append(kwargs)
        return [{"Findings": self.active}]

    def batch_import_findings(self, Findings):  # pylint: disable=invalid-name
        if self.fail_on is not None and len(self.imports) == self.fail_on:
            raise EndpointConnectionError(endpoint_url="https://securityhub.us-east-1.amazonaws.com/findings/import")
        self.imports.append(Findings)
        failed = [{"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": self.refuse(f)} for f in Findings if self.refuse(f)]
        return {"FailedCount": len(failed), "SuccessCount": len(Findings) - len(failed), "FailedFindings": failed}


# ---- the findings ---------------------------------------------------------------------------------------------


def test_a_noncompliant_stage_is_a_failed_finding_in_asff():
    finding = hub.row_finding(row(action="would_enable", before=False, after=True), ACCOUNT, "aws", NOW)
    assert finding == {
        "SchemaVersion": "2018-10-08",
        "Id": "cloudops.apigw_tracing/apigateway-stage-xray-tracing/111111111111/arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod",
        "ProductArn": "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default",
        "GeneratorId": "cloudops.apigw_tracing/apigateway-stage-xray-tracing",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": NOW,
        "UpdatedAt": NOW,
        "Severity": {"Label": "LOW"},
        "FindingProviderFields": {"Severity": {"Label": "LOW"}, "Types": ["Software and Configuration Checks/AWS Security Best Practices"]},
        "Title": "API Gateway stage orders/prod does not have X-Ray tracing as the policy requires",
        "Description": finding["Description"],
        "Remediation": {"Recommendation": {"Text": hub.REMEDIATION, "Url": hub.DOCS_URL}},
        "Compliance": {"Status": "FAILED"},
        "Resources": [{"Type": "AwsApiGatewayStage", "Id": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod",
                       "Partition": "aws", "Region": REGION}],
        "ProductFields": {
            "cloudops.apigw_tracing/rest_api_id": "a1b2c3d4e5", "cloudops.apigw_tracing/stage_name": "prod",
            "cloudops.apigw_tracing/action": "would_enable", "cloudops.apigw_tracing/tracing_enabled": "on",
        },
        "RecordState": "ACTIVE",
    }
    # An audit's would_enable row carries the state it would have: the description says the state it has.
    assert "X-Ray tracing is on" in finding["Description"] or "X-Ray tracing is off" in finding["Description"]
    assert hub.DOCS_URL.startswith("https://github.com/cloudops/apigw_tracing/")


@pytest.mark.parametrize(
    "kwargs, status, severity",
    [
        ({"action": "none"}, "PASSED", "INFORMATIONAL"),
        ({"action": "enabled", "before": False, "after": True}, "PASSED", "INFORMATIONAL"),
        ({"action": "refused", "before": False}, "FAILED", "LOW"),
        ({"action": "exempt", "desired": None, "reason": "exempt until 2026-12-31: load test, CHG-2231"}, "NOT_AVAILABLE", "INFORMATIONAL"),
        ({"action": "skipped", "desired": None, "reason": "rule internal APIs: skipped"}, "NOT_AVAILABLE", "INFORMATIONAL"),
    ],
)
def test_each_kind_of_stage_has_its_status_and_severity(kwargs, status, severity):
    finding = hub.row_finding(row(**kwargs), ACCOUNT, "aws", NOW)
    assert (finding["Compliance"]["Status"], finding["Severity"]["Label"]) == (status, severity)


def test_an_exempt_stage_carries_its_exemption_reason():
    finding = hub.row_finding(row(action="exempt", desired=None, reason="load test baseline, CHG-2231"), ACCOUNT, "aws", NOW)
    assert finding["ProductFields"]["cloudops.apigw_tracing/exemption_reason"] == "load test baseline, CHG-2231"
    assert "CHG-2231" in finding["Description"] and "exempt" in finding["Title"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "error", "before": None, "desired": None, "stage": "*", "reason": "AccessDeniedException: no"},
        {"action": "error", "before": False, "reason": "the change failed"},
        # Deleted between the read and the change: no finding; the earlier one is archived.
        {"action": "skipped", "before": False, "reason": "no longer exists: deleted"},
    ],
)
def test_errors_and_vanished_stages_get_no_finding(kwargs):
    assert hub.row_finding(row(**kwargs), ACCOUNT, "aws", NOW) is None


def test_ids_are_stable_and_distinct_per_account_and_stage():
    first = hub.row_finding(row(), ACCOUNT, "aws", NOW)
    again = hub.row_finding(row(action="would_enable", before=False), ACCOUNT, "aws", "2027-01-01T00:00:00.000Z")
    assert first["Id"] == again["Id"]
    assert hub.row_finding(row(stage="dev"), ACCOUNT, "aws", NOW)["Id"] != first["Id"]
    assert hub.row_finding(row(account="222222222222"), "222222222222", "aws", NOW)["Id"] != first["Id"]


def test_times_are_utc_with_milliseconds():
    assert hub.now_iso(lambda: 1773568800.25) == "2026-03-15T10:00:00.250Z"


def test_the_partition_comes_from_the_caller():
    finding = hub.row_finding(row(region="cn-north-1"), ACCOUNT, "aws-cn", NOW)
    assert finding["ProductArn"] == "arn:aws-cn:securityhub:cn-north-1:111111111111:product/111111111111/default"
    assert finding["Resources"][0]["Partition"] == "aws-cn"


def test_an_update_keeps_the_findings_creation_time():
    active = [hub.row_finding(row(), ACCOUNT, "aws", EARLIER)]
    (finding,) = hub.target_findings([row()], ACCOUNT, REGION, "aws", NOW, active)
    assert (finding["CreatedAt"], finding["UpdatedAt"], finding["RecordState"]) == (EARLIER, NOW, "ACTIVE")


# ---- archiving ------------------------------------------------------------------------------------------------


def active_of(*rows):
    found = [hub.row_finding(item, item["account_id"], "aws", EARLIER) for item in rows]
    for finding in found:
        # GetFindings answers with more than a provider sends.
        finding.update(ProductName="Default", CompanyName="Personal", Workflow={"Status": "NEW"}, ProcessedAt=EARLIER)
    return found


def test_only_findings_of_vanished_stages_of_swept_apis_are_archived():
    active = active_of(
        row(stage="prod"),
        row(stage="gone"),  # deleted since: archived
        row(api="b2c3d4e5f6", stage="prod"),  # its API could not be read this time: kept
        row(api="c3d4e5f6g7", stage="v1"),  # a stage whose change failed: kept
        row(stage="other-region", region="eu-west-1"),  # another target's region: not ours to judge
    )
    active.append(dict(active[0], Id="someone-elses", GeneratorId="another-tool"))
    rows = [
        row(stage="prod"),
        row(api="b2c3d4e5f6", stage="*", action="error", before=None, desired=None, reason="AccessDenied"),
        row(api="c3d4e5f6g7", stage="v1", action="error", before=False, reason="the change failed"),
    ]
    findings = hub.target_findings(rows, ACCOUNT, REGION, "aws", NOW, active)
    archived = [finding for finding in findings if finding["RecordState"] == "ARCHIVED"]
    assert [finding["Resources"][0]["Id"].rsplit("/", 1)[1] for finding in archived] == ["gone"]
    (gone,) = archived
    assert gone["UpdatedAt"] == NOW and gone["CreatedAt"] == EARLIER
    # Re-imported with the provider's own keys only.
    assert set(gone) <= set(hub.OWN_KEYS) and "Workflow" not in gone
    assert [finding["RecordState"] for finding in findings].count("ACTIVE") == 1


def test_the_filters_ask_for_this_collections_active_findings_of_the_account():
    filters = hub.active_filters("aws", REGION, ACCOUNT)
    assert filters["GeneratorId"] == [{"Value": hub.GENERATOR_ID, "Comparison": "EQUALS"}]
    assert filters["RecordState"] == [{"Value": "ACTIVE", "Comparison": "EQUALS"}]
    assert filters["ProductArn"][0]["Value"] == hub.product_arn("aws", REGION, ACCOUNT)
    assert filters["AwsAccountId"][0]["Value"] == ACCOUNT


# ---- calls: batching, paging, pacing, failures ------------------------------------------------------------------


def many_rows(count):
    return [row(api="a%09d" % index, stage="prod") for index in range(count)]


def test_250_findings_go_in_calls_of_100_100_and_50():
    assert [len(batch) for batch in hub.batches(list(range(250)))] == [100, 100, 50]
    client = FakeHub()
    result = hub.publish(client, many_rows(250), ACCOUNT, REGION, "aws", NOW)
    assert [len(batch) for batch in client.imports] == [100, 100, 50]
    assert result == {"status": "published", "imported": 250, "archived": 0, "failed": 0, "message": None}


def test_get_findings_is_followed_to_its_last_page():
    client, stubber = stubbed_hub()
    active = active_of(*many_rows(250))
    asked = {"Filters": hub.active_filters("aws", REGION, ACCOUNT), "MaxResults": 100}
    stubber.add_response("get_findings", {"Findings": active[:100], "NextToken": "page-2"}, asked)
    stubber.add_response("get_findings", {"Findings": active[100:200], "NextToken": "page-3"}, dict(asked, NextToken="page-2"))
    stubber.add_response("get_findings", {"Findings": active[200:]}, dict(asked, NextToken="page-3"))
    stubber.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 100, "FailedFindings": []})
    stubber.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 100, "FailedFindings": []})
    stubber.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 50, "FailedFindings": []})
    with stubber:
        result = hub.publish(client, [], ACCOUNT, REGION, "aws", NOW)
    stubber.assert_no_pending_responses()
    assert result["archived"] == 250 and result["imported"] == 0


def test_the_targets_client_is_paced_under_the_quota(monkeypatch, no_sleep):
    """publish_target's client: every call waits for its operation's token bucket (module_utils/_aws.py's PACES)."""
    clock = Clock()
    http = FakeHttp()
    made = []
    real_client, real_pace = aws.client, aws.pace_service

    def client(service, region, endpoint_url=None, config=None, credentials=None):
        made.append((service, region, endpoint_url, dict(config.retries), credentials))
        return http.attach(real_client(service, region, endpoint_url, config, TESTING_CREDENTIALS))

    monkeypatch.setattr(aws, "client", client)
    monkeypatch.setattr(aws, "pace_service", lambda made_client: real_pace(made_client, clock=clock, sleep=clock.sleep))
    imports = aws.PACES["securityhub"]["BatchImportFindings"]
    http.add({"Findings": []})
    http.repeat(imports.burst + 5, http.add, {"FailedCount": 0, "SuccessCount": 100, "FailedFindings": []})
    record = {"host": "h", "status": "ok", "account_id": ACCOUNT, "region": REGION, "rows": many_rows(100 * (imports.burst + 5))}
    reach = aws.Reach(ACCOUNT, "arn:aws:sts::111111111111:assumed-role/TracingAudit/s", {"AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t"})

    result = hub.publish_target(record, {"region": REGION}, run.engine.Connection(region=REGION, endpoint_url="http://localhost:4566"), NOW, reach)

    assert result == {"status": "published", "imported": 100 * (imports.burst + 5), "archived": 0, "failed": 0, "message": None}
    assert made == [("securityhub", REGION, "http://localhost:4566", {"mode": "standard", "max_attempts": 5}, reach.credentials)]
    assert http.paths() == ["/findings"] + ["/findings/import"] * (imports.burst + 5)
    # The burst goes at once; each further call waits for its token at the imports' rate.
    assert len(clock.sleeps) == 5
    assert clock.now == pytest.approx(5 / imports.rate)
    assert no_sleep == [] and http.pending == 0


def test_refused_findings_are_not_hidden():
    client = FakeHub(refuse=lambda finding: "Invalid Title" if finding["Id"].endswith("a000000001/stages/prod") else None)
    result = hub.publish(client, many_rows(3), ACCOUNT, REGION, "aws", NOW)
    assert result["status"] == "failed" and (result["imported"], result["failed"]) == (2, 1)
    assert "refused 1 finding" in result["message"] and "a000000001/stages/prod: InvalidInput: Invalid Title" in result["message"]
    assert "account 111111111111 us-east-1" in result["message"]


def test_a_failed_count_without_ids_is_not_counted_imported():
    class Counting(FakeHub):
        def batch_import_findings(self, Findings):  # pylint: disable=invalid-name
            self.imports.append(Findings)
            return {"FailedCount": 2, "SuccessCount": len(Findings) - 2, "FailedFindings": []}

    result = hub.publish(Counting(), many_rows(5), ACCOUNT, REGION, "aws", NOW)
    assert (result["status"], result["imported"], result["failed"]) == ("failed", 3, 2)


def test_a_call_that_fails_half_way_says_how_far_it_got():
    result = hub.publish(FakeHub(fail_on=1), many_rows(150), ACCOUNT, REGION, "aws", NOW)
    assert (result["status"], result["imported"], result["failed"]) == ("failed", 100, 50)
    assert "50 of 150 findings were not published" in result["message"] and "Could not connect to the endpoint URL" in result["message"]


def stubbed_hub():
    client = make_client("securityhub")
    return client, Stubber(client)


def test_security_hub_not_enabled_is_its_own_status_with_the_cause():
    client, stubber = stubbed_hub()
    stubber.add_client_error(
        "get_findings", "InvalidAccessException", "Account 111111111111 is not subscribed to AWS Security Hub", 401
    )
    with stubber:
        result = hub.publish(client, [row()], ACCOUNT, REGION, "aws", NOW)
    assert result["status"] == "not_enabled" and result["imported"] == 0
    assert "not enabled in account 111111111111 us-east-1" in result["message"]
    assert "InvalidAccessException: Account 111111111111 is not subscribed to AWS Security Hub" in result["message"]


def test_access_denied_is_a_failure_with_its_cause():
    client, stubber = stubbed_hub()
    stubber.add_client_error("get_findings", "AccessDeniedException", "not authorized to perform: securityhub:GetFindings", 403)
    with stubber:
        result = hub.publish(client, [row()], ACCOUNT, REGION, "aws", NOW)
    assert result["status"] == "failed" and "AccessDeniedException: not authorized" in result["message"]


def test_the_real_client_takes_the_findings_as_built():
    """botocore's own validation of the request against Security Hub's model: the shape is what AWS takes."""
    client, stubber = stubbed_hub()
    findings = hub.target_findings([row(), row(stage="dev", action="exempt", desired=None, reason="x")], ACCOUNT, REGION, "aws", NOW)
    stubber.add_response("get_findings", {"Findings": []}, {"Filters": hub.active_filters("aws", REGION, ACCOUNT), "MaxResults": 100})
    stubber.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 2, "FailedFindings": []}, {"Findings": findings})
    with stubber:
        result = hub.publish(client, [row(), row(stage="dev", action="exempt", desired=None, reason="x")], ACCOUNT, REGION, "aws", NOW)
    stubber.assert_no_pending_responses()
    assert result["status"] == "published" and result["imported"] == 2


# ---- the setting, the report, the run's end ----------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), ("yes", True), ("false", False), ("no", False), (False, False)])
def test_the_setting_takes_booleans_and_their_words(value, expected):
    assert settings_problems({"security_hub": value}) == []
    assert normalized_settings({"security_hub": value}) == {"security_hub": expected}


@pytest.mark.parametrize("value", ["ture", "maybe", "", 2, None])
def test_an_ambiguous_setting_is_refused_naming_the_variable(value):
    (problem,) = settings_problems({"security_hub": value})
    assert problem.startswith("tracing_sweep_security_hub: must be a boolean")


def test_the_settings_step_refuses_before_any_aws_call(monkeypatch):
    monkeypatch.setattr(hub, "publish_target", lambda *args: pytest.fail("no AWS call"))
    # Each host's step says its problems; the run's step, once, fails on them.
    problems = run.settings_step({"settings": {"security_hub": "ture"}})["problems"]
    result = run.settings_problems_step({"hosts": ["h"], "records": [problems]})
    assert result["failed"] and "tracing_sweep_security_hub" in result["msg"]


def record(host, status, **counts):
    section = hub.section(status, **counts)
    if status != "published":
        section["message"] = f"why {host}"
    return {"host": host, "account_id": ACCOUNT, "region": REGION, "status": "ok", "error": None, "rows": [row()], "security_hub": section}


def test_the_report_and_the_end_of_the_run_say_where_findings_were_published():
    records = [record("a", "published", imported=3, archived=1), record("b", "not_enabled"), record("c", "failed", imported=1, failed=2)]
    report = build_report(records, "audit", NOW)
    targets = {target["host"]: target for target in report["targets"]}
    assert targets["b"]["security_hub"] == {"status": "not_enabled", "imported": 0, "archived": 0, "failed": 0, "message": "why b"}
    assert report["summary"]["security_hub"] == {
        "targets": 3, "imported": 4, "archived": 1, "failed": 2, "not_enabled": ["b"], "not_published": ["c"]}
    # Findings not published are a step of the run that failed: the verdict says so (every stage was evaluated).
    assert report["verdict"] == "error" and report["summary"]["errors"] == 0
    assert report["verdict_reason"].startswith("findings not published to Security Hub in 1 target")
    assert schema_errors(report) == []
    line = run.security_hub_line(report["summary"]["security_hub"])
    assert line == "Security Hub: 4 findings imported, 1 archived in 3 targets; not enabled in (no finding published there): b; 2 findings not published in: c"
    markdown = render_markdown(report)
    assert "## Findings in Security Hub" in markdown
    assert "Security Hub is not enabled in b: no finding was published there." in markdown
    assert "| c | 111111111111 | us-east-1 | failed | 1 | 0 | 2 | why c |" in markdown
    page = render_html(report)
    assert '<section id="security-hub">' in page and "Security Hub is not enabled in b: no finding was published there." in page
    assert "<tr><td>c</td><td>111111111111</td><td>us-east-1</td><td>failed</td><td class=\"num\">1</td>" in page
    judged = run.judgements(report, "/reports", {"fail_on_error": True})
    assert judged["findings"].startswith("Findings were not published to Security Hub in 1 target") and "c: why c" in judged["findings"]
    assert run.judgements(report, "/reports", {"fail_on_error": False})["findings"] is None
    # Not enabled alone: a warning, never a failed run.
    quiet = build_report([record("b", "not_enabled")], "audit", NOW)
    assert run.judgements(quiet, "/reports", {})["findings"] is None


def test_without_the_setting_the_report_has_no_security_hub_section():
    report = build_report([dict(record("a", "published"), security_hub=None)], "audit", NOW)
    assert "security_hub" not in report["summary"] and "security_hub" not in report["targets"][0]
    assert "Security Hub" not in render_markdown(report)
    assert "Security Hub" not in render_html(report)
    assert schema_errors(report) == []


def test_a_malformed_section_is_refused_naming_it():
    bad = dict(record("a", "published"), security_hub={"status": "sent"})
    with pytest.raises(ValueError, match=r"targets\[0\]\.security_hub: must be a mapping whose status is one of published"):
        build_report([bad], "audit", NOW)


def test_the_plan_step_publishes_in_check_mode_and_warns(monkeypatch):
    calls = []

    reached = aws.Reach(ACCOUNT, "arn:aws:sts::111111111111:assumed-role/TracingAudit/s", {"AccessKeyId": "secret"})

    def fake_plan(host, target, settings, connection, say=None):
        target_ = {"host": host, "status": "ok", "account_id": ACCOUNT, "region": REGION, "rows": None}
        return {"target": target_, "plan": {}, "seconds": 0, "reach": reached}

    def fake_converge(planned, guard, target, connection, check_mode):
        return {"target": dict(planned["target"], rows=[row()]), "changed": True, "diff": {}}

    def fake_publish(record_, target, connection, reach=None, named=False):
        # The audit publishes with the account its plan step reached: no second sts:AssumeRole.
        assert reach is reached
        calls.append(record_["host"])
        return hub.section("not_enabled", message="Security Hub is not enabled in account 111111111111 us-east-1, no finding was published there")

    monkeypatch.setattr(run.engine, "sweep_target", fake_plan)
    monkeypatch.setattr(run.engine, "converge_target", fake_converge)
    monkeypatch.setattr(hub, "publish_target", fake_publish)
    result = run.plan_step({"settings": {"security_hub": True}, "target": {"region": REGION}}, host="prod_us-east-1", check_mode=True)
    assert calls == ["prod_us-east-1"]
    assert "reach" not in result  # the assumed role's credentials never leave the step
    assert result["target"]["security_hub"]["status"] == "not_enabled"
    assert result["warnings"] == ["prod_us-east-1: Security Hub: Security Hub is not enabled in account 111111111111 us-east-1, no finding was published there"]
    # The would-be changes make the audit changed, never the findings; and a warning does not fail the task.
    assert result["changed"] is True and not result.get("failed")
    calls.clear()
    result = run.plan_step({"settings": {"security_hub": False}, "target": {"region": REGION}}, host="prod_us-east-1", check_mode=True)
    assert calls == [] and "security_hub" not in result["target"] and "warnings" not in result


def test_the_converge_step_publishes_what_the_enforcement_left(monkeypatch):
    published = []

    def fake_converge(planned, guard, target, connection, check_mode):
        return {"target": dict(planned["target"], rows=[row(action="enabled", before=False, after=True)]), "changed": True, "diff": {}}

    def fake_publish(record_, target, connection, reach=None, named=False):
        published.append((record_["rows"][0]["action"], connection.region))
        return hub.section("published", imported=1)

    monkeypatch.setattr(run.engine, "converge_target", fake_converge)
    monkeypatch.setattr(hub, "publish_target", fake_publish)
    planned = {"target": {"host": "prod_us-east-1", "status": "ok", "account_id": ACCOUNT, "region": REGION, "rows": None}, "plan": {}}
    result = run.converge_step({"settings": {"security_hub": True}, "target": {"region": REGION}, "planned": planned}, host="prod_us-east-1")
    assert published == [("enabled", REGION)]
    assert result["target"]["security_hub"] == {"status": "published", "imported": 1, "archived": 0, "failed": 0, "message": None}
    assert "warnings" not in result and not result.get("failed")


def test_a_failed_target_publishes_nothing():
    record_ = {"host": "h", "status": "error", "error": "AccessDenied", "rows": []}
    assert hub.publish_target(record_, {"region": REGION}, run.engine.Connection(region=REGION)) is None


def test_a_run_of_named_stages_changes_only_their_findings():
    """A remediation's rows are the stages an event named: the other stages' findings stay as they are; the finding
    of a named stage that no longer exists (skipped, its state unknown) is archived and no new one is made."""
    named = [row(action="enabled", before=False, after=True), row(stage="gone", action="skipped", before=None, desired=None, reason="not found")]
    other, gone = active_of(row(stage="other"), row(stage="gone"))
    findings = hub.target_findings(named, ACCOUNT, REGION, "aws", NOW, active=[other, gone], named=True)
    by_id = {finding["Id"]: finding.get("RecordState") for finding in findings}
    assert by_id == {hub.finding_id(ACCOUNT, named[0]["arn"]): "ACTIVE", gone["Id"]: "ARCHIVED"}
    # The same rows from a sweep of every stage: the other stage is gone too, its finding archived.
    swept = hub.target_findings(named, ACCOUNT, REGION, "aws", NOW, active=[other, gone])
    assert {finding["Id"]: finding.get("RecordState") for finding in swept}[other["Id"]] == "ARCHIVED"
