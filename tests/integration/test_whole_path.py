# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole request path (apigw_stage_tracing_info's whole_path) against the local AWS, through ansible-playbook.

moto 5.2.5 keeps integrations (GetResources with embed=methods returns their URIs), authorizers and a function's
TracingConfig as created; UpdateFunctionConfiguration does not change TracingConfig there, which reading never needs
(tests/support/request_paths.py seeds the world).
"""

from __future__ import annotations

import collections
import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from local_aws import seed
from request_paths import function_arn
from request_paths import invocation_uri
from request_paths import seed_functions
from request_paths import seed_methods

ORDERS = "a1b2c3d4e5"
USERS = "f6g7h8i9j0"
OTHER_ACCOUNT = "999988887777"
PATH_CALLS = ("GetResources", "GetAuthorizers", "GetFunctionConfiguration")
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text(encoding="utf-8"))
ALL_FORMATS = ["json", "markdown", "html", "csv", "junit"]
LAMBDA_LINE = re.compile(r"Lambda requests: (\d+) sent; answers throttled (\d+), server errors (\d+), no answer (\d+)")
IAM_LINE = re.compile(r"IAM requests: (\d+) sent \(iam:SimulatePrincipalPolicy, one per execution role checked\); answers throttled (\d+)")


def seed_world(aws, apigw):
    seed(apigw, [
        {"name": "orders", "id": ORDERS, "stages": {"prod": {"tracing": True}, "beta": {"tracing": True}, "ci": {}}},
        {"name": "users", "id": USERS, "stages": {"v1": {"tracing": True}}},
    ])
    apigw.update_stage(restApiId=ORDERS, stageName="prod", patchOperations=[{"op": "replace", "path": "/variables/alias", "value": "live"}])
    apigw.update_stage(restApiId=ORDERS, stageName="beta", patchOperations=[{"op": "replace", "path": "/variables/alias", "value": "beta"}])
    seed_functions(aws, {"orders": {"mode": "PassThrough", "aliases": ["live", "beta"]}, "shared": {"mode": "Active"}, "auth": {"mode": "PassThrough"}},
                   xray_write=True)
    seed_methods(apigw, ORDERS, [
        ("/orders", "GET", "AWS_PROXY", invocation_uri(function_arn("orders") + ":${stageVariables.alias}"), "tokens"),
        ("/legacy", "POST", "AWS", invocation_uri("shared"), None),
        ("/health", "GET", "MOCK", None, None),
        ("/site", "GET", "HTTP_PROXY", "http://example.com", None),
        ("/partner", "GET", "AWS_PROXY", invocation_uri(function_arn("theirs", account=OTHER_ACCOUNT)), None),
    ], authorizers=[("tokens", function_arn("auth"))])
    seed_methods(apigw, USERS, [("/users", "GET", "AWS_PROXY", invocation_uri(function_arn("shared")), None)])


def hops_of(stages):
    return {(s["rest_api_id"], s["stage_name"]): [(h["kind"], h["resource_path"], h["function_arn"], h["tracing"]) for h in s["hops"]] for s in stages}


def test_info_reads_each_stages_whole_path(aws, apigw, run_playbook):
    seed_world(aws, apigw)
    aws.clear()

    run = run_playbook("info.yml", extra_vars={"whole_path": True})

    assert run.rc == 0, run.describe()
    stages = run.result("Info")["stages"]
    got = hops_of(stages)
    shared = function_arn("shared")
    assert got[(ORDERS, "prod")] == [
        ("gateway", None, None, "traced"),
        ("integration", "/health", None, "not_applicable"),
        ("integration", "/legacy", shared, "traced"),
        ("integration", "/orders", function_arn("orders", "live"), "not_traced"),
        ("integration", "/partner", function_arn("theirs", account=OTHER_ACCOUNT), "error"),
        ("integration", "/site", None, "not_applicable"),
        ("authorizer", None, function_arn("auth"), "not_traced"),
    ]
    # The stage variable resolves per stage; a stage without it is an error of that hop, with the cause.
    assert got[(ORDERS, "beta")][3] == ("integration", "/orders", function_arn("orders", "beta"), "not_traced")
    ci = {(h["resource_path"], h["kind"]): h for h in next(s for s in stages if s["stage_name"] == "ci")["hops"]}
    assert ci[("/orders", "integration")]["tracing"] == "error" and "stage variable alias not set on stage ci" in ci[("/orders", "integration")]["note"]
    prod = {(h["resource_path"], h["kind"]): h for h in next(s for s in stages if s["stage_name"] == "prod")["hops"]}
    assert "not in the target's account 123456789012" in prod[("/partner", "integration")]["note"]
    assert prod[("/site", "integration")]["integration_type"] == "HTTP_PROXY" and "X-Ray sees the gateway's call" in prod[("/site", "integration")]["note"]
    assert got[(USERS, "v1")] == [("gateway", None, None, "traced"), ("integration", "/users", shared, "traced")]
    assert [s["whole_path_traced"] for s in stages if s["rest_api_id"] == USERS] == [True]
    assert all(s["whole_path_traced"] is False for s in stages if s["rest_api_id"] == ORDERS)
    # One GetResources page and one GetAuthorizers per API; each distinct function of the account read once
    # (shared is behind two APIs, auth behind three stages), the other account's never.
    assert [aws.calls(name) for name in PATH_CALLS] == [2, 2, 4]
    read = sorted(r.path for r in aws.requests if r.operation == "GetFunctionConfiguration")
    assert len(set(read)) == 4 and not [path for path in read if OTHER_ACCOUNT in path]
    assert [r for r in aws.writes() if r.operation not in ("GetCallerIdentity", "SimulatePrincipalPolicy")] == []
    # The one function that traces runs as a role that may write to X-Ray: checked once (the others send nothing).
    assert prod[("/legacy", "integration")]["role_xray"] == "can_write" and "role_xray" not in prod[("/orders", "integration")]
    assert aws.calls("SimulatePrincipalPolicy") == 1


def test_info_says_when_a_traced_functions_role_cannot_write_to_xray(aws, apigw, run_playbook):
    seed(apigw, [{"name": "users", "id": USERS, "stages": {"v1": {"tracing": True}}}])
    seed_functions(aws, {"shared": {"mode": "Active"}})
    seed_methods(apigw, USERS, [("/users", "GET", "AWS_PROXY", invocation_uri(function_arn("shared")), None)])

    run = run_playbook("info.yml", extra_vars={"whole_path": True})

    assert run.rc == 0, run.describe()
    [stage] = run.result("Info")["stages"]
    hop = stage["hops"][1]
    assert (hop["tracing"], hop["role_xray"]) == ("traced", "cannot_write") and "AWSXRayDaemonWriteAccess" in hop["note"], hop
    assert stage["whole_path_traced"] is False


def test_info_without_whole_path_makes_no_extra_call(aws, apigw, run_playbook):
    seed_world(aws, apigw)
    aws.clear()

    run = run_playbook("info.yml")

    assert run.rc == 0, run.describe()
    assert all("hops" not in stage for stage in run.result("Info")["stages"])
    assert [aws.calls(name) for name in PATH_CALLS + ("GetCallerIdentity",)] == [0, 0, 0, 0]


def _inventory(tmp_path):
    from sweep_world import write_yaml  # pylint: disable=import-outside-toplevel
    return write_yaml(tmp_path / "hosts.yml", {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"own_us-east-1": {"tracing_sweep_region": "us-east-1", "tracing_sweep_account_id": "123456789012"},
                  "own_us-west-2": {"tracing_sweep_region": "us-west-2", "tracing_sweep_account_id": "123456789012"}}}})


def _audit(run_playbook, tmp_path, name, extra, playbook="cloudops.apigw_tracing.audit", check=True, limit="own_us-east-1"):
    """Run an audit (or another sweep playbook) writing every format; its report.json must validate against the schema."""
    report_dir = tmp_path / name
    run = run_playbook(playbook, dict(extra, tracing_sweep_report_dir=str(report_dir), tracing_sweep_report_formats=ALL_FORMATS),
                       check=check, inventory=_inventory(tmp_path), args=("--limit", limit) if limit else ())
    if (report_dir / "report.json").exists():
        jsonschema.validate(json.loads((report_dir / "report.json").read_text(encoding="utf-8")), SCHEMA)
    return run, report_dir


def _report(report_dir):
    return json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


def _csv(report_dir):
    with open(report_dir / "report.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_audit_judges_the_whole_path_only_when_asked(aws, apigw, run_playbook, tmp_path):
    import json  # pylint: disable=import-outside-toplevel
    seed_world(aws, apigw)
    aws.clear()
    run, report_dir = _audit(run_playbook, tmp_path, "off", {})
    off = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert [aws.calls(name) for name in PATH_CALLS] == [0, 0, 0], run.describe()
    assert "whole_path_coverage" not in off["summary"] and "whole_path" not in off["run"]
    assert all("hops" not in row for row in off["stages"])
    assert "Untraced hops" not in (report_dir / "report.md").read_text(encoding="utf-8")

    aws.clear()
    run, report_dir = _audit(run_playbook, tmp_path, "on", {"tracing_sweep_whole_path": True})
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert [aws.calls(name) for name in PATH_CALLS] == [2, 2, 4], run.describe()
    rows = {(row["rest_api_id"], row["stage_name"]): row for row in report["stages"]}
    # users/v1: gateway and its one function trace; the orders stages have untraced or unknown Lambda hops.
    assert rows[(USERS, "v1")]["action"] == "none" and "the whole path" not in rows[(USERS, "v1")]["reason"]
    assert "the gateway traces, but not the whole path" in rows[(ORDERS, "prod")]["reason"]
    assert function_arn("orders", "live") in rows[(ORDERS, "prod")]["reason"]
    assert report["run"]["whole_path"] is True
    # Evaluated: the 4 stages; only users/v1 traces end to end. Off, 3 of them were compliant.
    assert off["summary"]["compliant"] == 3 and report["summary"]["compliant"] == 1
    assert report["summary"]["whole_path_coverage"] == 25.0
    assert report["verdict"] == "noncompliant" and "whole-path coverage 25.0%" in report["verdict_reason"]
    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "## Untraced hops" in markdown and "Whole-path coverage: 25.0%" in markdown
    # The authorizer is behind the three orders stages: one row that says so.
    auth_line = next(line for line in markdown.splitlines() if function_arn("auth") + " |" in line)
    assert "| 3 |" in auth_line
    assert 'id="untraced-hops"' in (report_dir / "report.html").read_text(encoding="utf-8")


def test_csv_junit_and_the_summary_say_the_whole_path_only_when_asked(aws, apigw, run_playbook, tmp_path):
    """report.csv gains an untraced_hops column, report.xml names the Lambda hops that break a stage's path, and the
    run's summary counts its Lambda requests beside API Gateway's; with the setting off none of them changes."""
    seed_world(aws, apigw)
    aws.clear()
    run, report_dir = _audit(run_playbook, tmp_path, "off", {})
    assert run.rc == 0, run.describe()
    header = (report_dir / "report.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "untraced_hops" not in header and header.endswith(",action,reason"), header
    assert 'type="whole_path"' not in (report_dir / "report.xml").read_text(encoding="utf-8")
    assert "Lambda requests" not in run.stdout and "API Gateway requests" in run.stdout

    aws.clear()
    run, report_dir = _audit(run_playbook, tmp_path, "on", {"tracing_sweep_whole_path": True})
    assert run.rc == 0, run.describe()
    report = _report(report_dir)
    lines = {(line["rest_api_id"], line["stage_name"]): line for line in _csv(report_dir)}
    assert list(next(iter(lines.values())))[-1] == "untraced_hops"
    assert lines[(USERS, "v1")]["status"] == "PASS" and lines[(USERS, "v1")]["untraced_hops"] == ""
    prod = lines[(ORDERS, "prod")]["untraced_hops"].split("; ")
    assert prod == [function_arn("orders", "live"), function_arn("theirs", account=OTHER_ACCOUNT), function_arn("auth")], prod
    assert lines[(ORDERS, "prod")]["status"] == "FAIL"

    cases = {case.get("name"): case for case in ET.parse(report_dir / "report.xml").getroot().iter("testcase")}
    failure = cases["orders/prod (%s)" % ORDERS].find("failure")
    # Before: type noncompliant, text "tracing_enabled is true, desired true (none)" and nothing of the hops.
    assert failure.get("type") == "whole_path" and function_arn("orders", "live") in failure.get("message")
    text = failure.text.splitlines()
    assert "GET /orders -> %s (not_traced: TracingConfig.Mode is PassThrough" % function_arn("orders", "live") in text[1], text
    assert any(line.startswith("authorizer tokens -> %s (not_traced" % function_arn("auth")) for line in text), text
    assert any(line.startswith("GET /partner -> %s (error" % function_arn("theirs", account=OTHER_ACCOUNT)) for line in text), text
    assert cases["users/v1 (%s)" % USERS].find("failure") is None
    # orders/ci would be enabled: it fails on its gateway, and says the path would still break after it.
    ci = cases["orders/ci (%s)" % ORDERS].find("failure")
    assert ci.get("type") == "noncompliant" and "authorizer tokens -> %s" % function_arn("auth") in ci.text
    ci_row = next(row for row in report["stages"] if row["stage_name"] == "ci")
    assert ci_row["action"] == "would_enable" and "; with the gateway traced, the whole path still does not trace: Lambda hops" in ci_row["reason"]
    assert not ci_row["reason"].startswith("the gateway traces")

    counted = LAMBDA_LINE.findall(run.stdout)
    assert counted == [("4", "0", "0", "0")], run.stdout
    assert aws.calls("GetFunctionConfiguration") == 4
    # The one function that traces (shared) has its execution role checked: one IAM request, counted.
    assert IAM_LINE.findall(run.stdout) == [("1", "0")] and aws.calls("SimulatePrincipalPolicy") == 1, run.stdout


def test_the_enforcement_reports_the_hops_after_its_changes(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw)
    aws.clear()

    run, report_dir = _audit(run_playbook, tmp_path, "enforce", {"tracing_sweep_whole_path": True}, playbook="cloudops.apigw_tracing.enforce", check=False)

    assert run.rc == 0, run.describe()
    report = _report(report_dir)
    assert report["mode"] == "enforce" and report["run"]["whole_path"] is True
    rows = {(row["rest_api_id"], row["stage_name"]): row for row in report["stages"]}
    # The gateway changes as without the setting: orders/ci is enabled, the others were traced already.
    assert {key: row["action"] for key, row in rows.items()} == {
        (ORDERS, "beta"): "none", (ORDERS, "ci"): "enabled", (ORDERS, "prod"): "none", (USERS, "v1"): "none"}
    assert aws.calls("UpdateStage") == 1 and aws.calls("UpdateFunctionConfiguration") == 0
    # ci's gateway hop says the state after the change.
    gateway = rows[(ORDERS, "ci")]["hops"][0]
    assert (gateway["kind"], gateway["tracing"], gateway["note"]) == ("gateway", "traced", "the stage's X-Ray active tracing is on")
    assert report["summary"]["whole_path_coverage"] == 25.0 and report["summary"]["compliant"] == 1
    assert [aws.calls(name) for name in PATH_CALLS] == [2, 2, 4]
    assert LAMBDA_LINE.findall(run.stdout) == [("4", "0", "0", "0")], run.stdout


def test_a_remediation_reads_the_path_of_the_named_stages_only(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw)
    aws.clear()
    base = tmp_path / "remediations"

    run = run_playbook("cloudops.apigw_tracing.remediate", {
        "apigw_tracing_event_account_id": "123456789012", "apigw_tracing_event_region": "us-east-1",
        "tracing_sweep_stages": ["%s/ci" % ORDERS], "apigw_tracing_remediation_dir": str(base), "tracing_sweep_whole_path": True,
        "tracing_sweep_report_formats": ALL_FORMATS}, inventory=_inventory(tmp_path))

    assert run.rc == 0, run.describe()
    made = collections.Counter(r.operation for r in aws.requests)
    (where,) = sorted(base.iterdir())
    report = _report(where)
    jsonschema.validate(report, SCHEMA)
    assert [(row["stage_name"], row["action"]) for row in report["stages"]] == [("ci", "enabled")], run.describe()
    assert report["run"]["whole_path"] is True and report["run"]["named_stages"] == [{"rest_api_id": ORDERS, "stage_name": "ci"}]
    hops = report["stages"][0]["hops"]
    assert [(hop["kind"], hop["resource_path"], hop["tracing"]) for hop in hops] == [
        ("gateway", None, "traced"), ("integration", "/health", "not_applicable"), ("integration", "/legacy", "traced"),
        ("integration", "/orders", "error"), ("integration", "/partner", "error"), ("integration", "/site", "not_applicable"),
        ("authorizer", None, "not_traced")]
    assert report["summary"]["whole_path_coverage"] == 0.0
    # Only the named stage's API is read; only its functions (shared and auth: its stage variable is not set).
    assert {name: made[name] for name in ("GetResources", "GetAuthorizers", "GetFunctionConfiguration", "GetRestApis", "GetStages")} == {
        "GetResources": 1, "GetAuthorizers": 1, "GetFunctionConfiguration": 2, "GetRestApis": 0, "GetStages": 0}, made
    assert all(ORDERS in r.path for r in aws.requests if r.operation in ("GetResources", "GetAuthorizers"))
    assert LAMBDA_LINE.findall(run.stdout) == [("2", "0", "0", "0")], run.stdout


def test_the_merge_of_two_slices_keeps_the_whole_path(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw)
    aws.clear()
    setting = {"tracing_sweep_whole_path": True}
    east_run, east = _audit(run_playbook, tmp_path, "east", setting, limit="own_us-east-1")
    west_run, west = _audit(run_playbook, tmp_path, "west", setting, limit="own_us-west-2")
    assert _report(east)["run"]["whole_path"] is True and _report(west)["run"]["whole_path"] is True, east_run.describe() + west_run.describe()

    merged_dir = tmp_path / "merged"
    run = run_playbook("cloudops.apigw_tracing.merge_reports", {
        "tracing_sweep_merge_reports": [str(east), str(west)], "tracing_sweep_report_dir": str(merged_dir),
        "tracing_sweep_report_formats": ALL_FORMATS}, aws_env=False, inventory="localhost,", args=("-c", "local"))

    assert (merged_dir / "report.json").exists(), run.describe()
    merged = _report(merged_dir)
    jsonschema.validate(merged, SCHEMA)
    assert merged["run"]["whole_path"] is True
    assert merged["summary"]["whole_path_coverage"] == _report(east)["summary"]["whole_path_coverage"] == 25.0
    assert "whole-path coverage 25.0%" in merged["verdict_reason"]
    assert [row.get("hops") for row in merged["stages"]] == [row.get("hops") for row in _report(east)["stages"]]
    assert list(_csv(merged_dir)[0])[-1] == "untraced_hops"
