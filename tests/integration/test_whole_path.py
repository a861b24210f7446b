# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole request path (apigw_stage_tracing_info's whole_path) against the local AWS, through ansible-playbook.

moto 5.2.5 keeps integrations (GetResources with embed=methods returns their URIs), authorizers and a function's
TracingConfig as created; UpdateFunctionConfiguration does not change TracingConfig there, which reading never needs
(tests/support/request_paths.py seeds the world).
"""

from __future__ import annotations

from local_aws import seed
from request_paths import function_arn
from request_paths import invocation_uri
from request_paths import seed_functions
from request_paths import seed_methods

ORDERS = "a1b2c3d4e5"
USERS = "f6g7h8i9j0"
OTHER_ACCOUNT = "999988887777"
PATH_CALLS = ("GetResources", "GetAuthorizers", "GetFunctionConfiguration")


def seed_world(aws, apigw):
    seed(apigw, [
        {"name": "orders", "id": ORDERS, "stages": {"prod": {"tracing": True}, "beta": {"tracing": True}, "ci": {}}},
        {"name": "users", "id": USERS, "stages": {"v1": {"tracing": True}}},
    ])
    apigw.update_stage(restApiId=ORDERS, stageName="prod", patchOperations=[{"op": "replace", "path": "/variables/alias", "value": "live"}])
    apigw.update_stage(restApiId=ORDERS, stageName="beta", patchOperations=[{"op": "replace", "path": "/variables/alias", "value": "beta"}])
    seed_functions(aws, {"orders": {"mode": "PassThrough", "aliases": ["live", "beta"]}, "shared": {"mode": "Active"}, "auth": {"mode": "PassThrough"}})
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
    assert [r for r in aws.writes() if r.operation != "GetCallerIdentity"] == []


def test_info_without_whole_path_makes_no_extra_call(aws, apigw, run_playbook):
    seed_world(aws, apigw)
    aws.clear()

    run = run_playbook("info.yml")

    assert run.rc == 0, run.describe()
    assert all("hops" not in stage for stage in run.result("Info")["stages"])
    assert [aws.calls(name) for name in PATH_CALLS + ("GetCallerIdentity",)] == [0, 0, 0, 0]


def _audit(run_playbook, tmp_path, name, extra):
    from sweep_world import write_yaml  # pylint: disable=import-outside-toplevel
    inventory = write_yaml(tmp_path / "hosts.yml", {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"own_us-east-1": {"tracing_sweep_region": "us-east-1"}}}})
    report_dir = tmp_path / name
    run = run_playbook("cloudops.apigw_tracing.audit", dict(extra, tracing_sweep_report_dir=str(report_dir),
                                                            tracing_sweep_report_formats=["json", "markdown", "html"]),
                       check=True, inventory=inventory)
    return run, report_dir


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
