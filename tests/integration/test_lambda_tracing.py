# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tracing_sweep_lambda_tracing against the local AWS, through ansible-playbook: Active tracing set on the Lambda
functions in the path of stages that should be traced, once per function, under the run's policy and guard.

moto 5.2.5 keeps a function's TracingConfig as created: its UpdateFunctionConfiguration does not change it (the answer
still says PassThrough). The local AWS (tools/local_aws.py) models AWS there: the update changes the function's
TracingConfig and answers the new one; and its conflict() makes the update answer ResourceConflictException, as AWS
does while a function is being updated. moto 5.2.5 does not implement IAM's SimulatePrincipalPolicy (it answers an
error): the local AWS evaluates it from the role's inline and attached managed policies (their Action statements).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from local_aws import seed
from request_paths import function_arn
from request_paths import invocation_uri
from request_paths import seed_functions
from request_paths import seed_methods
from sweep_world import write_yaml

API_IDS = ["a%09d" % index for index in range(12)]
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text(encoding="utf-8"))


def seed_world(aws, apigw, apis=3, stages=("prod", "beta"), functions=None):
    """``apis`` REST APIs with ``stages`` each (tracing on), every method behind the function "shared"
    (PassThrough), the first API also behind "auth" (an authorizer) and "pinned:1" (a published version)."""
    seed(apigw, [{"name": "api%d" % index, "id": API_IDS[index], "stages": {name: {"tracing": True} for name in stages}} for index in range(apis)])
    seed_functions(aws, functions or {"shared": {"mode": "PassThrough"}, "auth": {"mode": "PassThrough"},
                                      "pinned": {"mode": "PassThrough", "aliases": ["live"]}})
    seed_methods(apigw, API_IDS[0], [
        ("/orders", "GET", "AWS_PROXY", invocation_uri(function_arn("shared")), "tokens"),
        ("/pinned", "GET", "AWS_PROXY", invocation_uri(function_arn("pinned", "1")), None),
    ], authorizers=[("tokens", function_arn("auth"))])
    for index in range(1, apis):
        seed_methods(apigw, API_IDS[index], [("/items", "GET", "AWS_PROXY", invocation_uri(function_arn("shared")), None)])


def mode_of(aws, name):
    return aws.client("lambda").get_function_configuration(FunctionName=name)["TracingConfig"]["Mode"]


def sweep(run_playbook, tmp_path, name, extra, check=False):
    inventory = write_yaml(tmp_path / "hosts.yml", {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"own_us-east-1": {"tracing_sweep_region": "us-east-1"}}}})
    report_dir = tmp_path / name
    variables = dict({"tracing_sweep_whole_path": True, "tracing_sweep_lambda_tracing": "active"}, **extra)
    variables.update(tracing_sweep_report_dir=str(report_dir), tracing_sweep_report_formats=["json", "markdown", "html"])
    playbook = "cloudops.apigw_tracing.audit" if check else "cloudops.apigw_tracing.enforce"
    run = run_playbook(playbook, variables, check=check, inventory=inventory)
    path = report_dir / "report.json"
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    if report is not None and "functions" in report:
        # The functions list against docs/report.schema.json (the schema of the hops is another change's).
        jsonschema.validate(report["functions"], dict(SCHEMA["properties"]["functions"], **{"$defs": SCHEMA["$defs"]}))
    return run, report, report_dir


def functions_of(report):
    return {entry["function_arn"]: entry for entry in report["functions"]}


def updates(aws):
    return sorted(r.path.split("/")[3] for r in aws.requests if r.operation == "UpdateFunctionConfiguration")


def test_a_function_behind_many_stages_is_changed_once(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw)
    aws.clear()

    run, report, report_dir = sweep(run_playbook, tmp_path, "enforce", {})

    assert run.rc == 0, run.describe()
    functions = functions_of(report)
    shared = functions[function_arn("shared")]
    # shared is behind the 6 stages: one change, one UpdateFunctionConfiguration; auth behind the 2 of the first API.
    assert (shared["action"], shared["mode_before"], shared["mode_after"], len(shared["stages"])) == ("activated", "PassThrough", "Active", 6)
    assert functions[function_arn("auth")]["action"] == "activated"
    assert updates(aws) == sorted([function_arn("auth"), function_arn("shared")])
    assert mode_of(aws, "shared") == "Active" and mode_of(aws, "auth") == "Active"
    # A published version cannot change: reported with the fix, never written.
    pinned = functions[function_arn("pinned", "1")]
    assert pinned["action"] == "cannot_fix" and "published version" in pinned["reason"] and "$LATEST" in pinned["reason"]
    # ListAliases names the alias to move (moto lists every alias of the function; the code keeps those on version 1).
    assert "point alias live (which serves it) at it" in pinned["reason"]
    assert [hop.get("aliases") for stage in report["stages"] for hop in stage["hops"] if hop["function_arn"] == function_arn("pinned", "1")] == [["live"]] * 2
    assert mode_of(aws, "pinned") == "PassThrough"
    assert [r.operation for r in aws.requests].count("ListAliases") == 1
    assert report["summary"]["planned_changes"] == 2
    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "## Lambda functions (3)" in markdown and "set to Active" in markdown
    assert 'id="lambda-functions"' in (report_dir / "report.html").read_text(encoding="utf-8")


def test_the_audit_says_what_would_change_and_writes_nothing(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1)
    aws.clear()

    run, report, dummy = sweep(run_playbook, tmp_path, "audit", {}, check=True)

    assert run.rc == 0, run.describe()
    assert functions_of(report)[function_arn("shared")]["action"] == "would_activate"
    assert updates(aws) == [] and mode_of(aws, "shared") == "PassThrough"


def test_the_guard_counts_each_function_as_one_change(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw)
    aws.clear()

    # Two functions to change (shared and auth), no stage: a limit of 1 refuses them, 2 lets them through.
    run, report, dummy = sweep(run_playbook, tmp_path, "refused", {"tracing_sweep_max_changes": 1})

    assert run.rc != 0 and "tracing_sweep_max_changes=1" in run.stdout, run.describe()
    # The refusal counts the functions as changes, not as stages.
    assert "Nothing was changed: 2 changes would be made (0 stages and 2 Lambda functions), more than tracing_sweep_max_changes=1" in run.stdout
    assert report["summary"]["planned_changes"] == 2
    assert {entry["action"] for entry in report["functions"] if entry["function_arn"] != function_arn("pinned", "1")} == {"refused"}
    assert updates(aws) == []

    run, report, dummy = sweep(run_playbook, tmp_path, "allowed", {"tracing_sweep_max_changes": 2})
    assert run.rc == 0, run.describe()
    assert len(updates(aws)) == 2


def test_an_exempt_function_is_left_alone(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1)
    aws.clear()
    exemptions = [{"function_arn": function_arn("auth"), "reason": "the auth team owns its tracing"}]
    rules = [{"match": {"function_arn": function_arn("shared")}, "skip": True}]

    run, report, dummy = sweep(run_playbook, tmp_path, "exempt", {"tracing_sweep_exemptions": exemptions, "tracing_sweep_rules": rules})

    assert run.rc == 0, run.describe()
    functions = functions_of(report)
    assert functions[function_arn("auth")]["action"] == "exempt" and "the auth team owns its tracing" in functions[function_arn("auth")]["reason"]
    assert functions[function_arn("shared")]["action"] == "skipped"
    assert updates(aws) == [] and mode_of(aws, "auth") == "PassThrough"
    # The exemption of a function never exempts a stage.
    assert {row["action"] for row in report["stages"]} == {"none"}


def test_a_function_being_updated_is_tried_again(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1)
    aws.conflict("shared", times=2)
    aws.conflict("auth", times=99)
    aws.clear()

    run, report, dummy = sweep(run_playbook, tmp_path, "conflict", {})

    functions = functions_of(report)
    assert functions[function_arn("shared")]["action"] == "activated", run.describe()
    assert mode_of(aws, "shared") == "Active"
    # auth stays in conflict: an error of that function with the cause, after a bounded number of attempts.
    auth = functions[function_arn("auth")]
    assert auth["action"] == "error" and "ResourceConflictException" in auth["reason"] and "after 6 attempts" in auth["reason"]
    assert updates(aws).count(function_arn("shared")) == 3 and updates(aws).count(function_arn("auth")) == 6
    assert run.rc != 0 and report["verdict"] == "error"


def test_off_no_lambda_write_and_no_functions_section(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1)
    aws.clear()

    run, report, dummy = sweep(run_playbook, tmp_path, "off", {"tracing_sweep_lambda_tracing": ""})

    assert run.rc == 0, run.describe()
    assert "functions" not in report and updates(aws) == []


def test_refused_without_the_whole_path_before_any_aws_call(aws, apigw, run_playbook, tmp_path):
    aws.clear()

    run, report, dummy = sweep(run_playbook, tmp_path, "bad", {"tracing_sweep_whole_path": False})

    assert run.rc != 0
    assert "tracing_sweep_lambda_tracing: is active, but tracing_sweep_whole_path is not true" in run.stdout, run.describe()
    assert aws.calls() == 0


def test_the_rollback_puts_each_functions_mode_back(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1)
    run, report, report_dir = sweep(run_playbook, tmp_path, "enforce", {})
    assert run.rc == 0 and mode_of(aws, "shared") == "Active", run.describe()
    # Someone put auth back by hand since: the rollback finds it so and leaves it.
    aws.client("lambda").update_function_configuration(FunctionName="auth", TracingConfig={"Mode": "PassThrough"})
    inventory = tmp_path / "hosts.yml"
    aws.clear()

    check = run_playbook("cloudops.apigw_tracing.rollback", {"tracing_sweep_rollback_report": str(report_dir / "report.json"),
                                                             "tracing_sweep_report_dir": str(tmp_path / "rollback-check")}, check=True, inventory=inventory)
    assert check.rc == 0, check.describe()
    assert updates(aws) == [] and mode_of(aws, "shared") == "Active"
    assert "Lambda functions it set to Active: 2; would put back 1, already at their mode before 1, failed 0" in check.stdout

    undo = run_playbook("cloudops.apigw_tracing.rollback", {"tracing_sweep_rollback_report": str(report_dir / "report.json"),
                                                            "tracing_sweep_report_dir": str(tmp_path / "rollback")}, inventory=inventory)

    assert undo.rc == 0, undo.describe()
    assert mode_of(aws, "shared") == "PassThrough" and updates(aws) == [function_arn("shared")]
    rolled = json.loads((tmp_path / "rollback" / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(rolled, SCHEMA)
    assert {entry["function_arn"]: entry["action"] for entry in rolled["functions"]} == {function_arn("shared"): "restored", function_arn("auth"): "already"}


def test_the_rollback_refuses_a_damaged_functions_list_before_any_aws_call(aws, apigw, run_playbook, tmp_path):
    report = {"schema_version": "1.0", "mode": "enforce", "generated_at": "2026-12-01T00:00:00Z", "stages": [],
              "functions": [{"action": "activated", "account_id": "123456789012", "region": "us-east-1", "function_arn": "f", "update_arn": "f",
                             "mode_before": "Active"}]}
    path = tmp_path / "old" / "report.json"
    path.parent.mkdir()
    path.write_text(json.dumps(report), encoding="utf-8")
    write_yaml(tmp_path / "hosts.yml", {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                                                "hosts": {"own_us-east-1": {"tracing_sweep_region": "us-east-1"}}}})
    aws.clear()

    run = run_playbook("cloudops.apigw_tracing.rollback", {"tracing_sweep_rollback_report": str(path), "tracing_sweep_report_dir": str(tmp_path / "rb")},
                       inventory=tmp_path / "hosts.yml")

    assert run.rc != 0 and "functions[0].update_arn: must be a Lambda function's ARN" in run.stdout, run.describe()
    assert "functions[0].mode_before: must be PassThrough" in run.stdout
    assert aws.calls() == 0


XRAY_WRITE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}]}


def simulations(aws):
    return [r for r in aws.requests if r.operation == "SimulatePrincipalPolicy"]


def hops_of(report, function):
    return [hop for row in report["stages"] for hop in row.get("hops") or [] if hop.get("function_arn") == function]


def test_a_role_that_cannot_write_to_xray_is_said_with_the_fix(aws, apigw, run_playbook, tmp_path):
    # shared traces (Active), auth is to be set to Active; both run as the role lambda-exec, which has no X-Ray policy.
    seed_world(aws, apigw, apis=2, functions={"shared": {"mode": "Active"}, "auth": {"mode": "PassThrough"},
                                              "pinned": {"mode": "PassThrough", "aliases": ["live"]}})
    aws.clear()

    run, report, report_dir = sweep(run_playbook, tmp_path, "audit", {}, check=True)

    assert run.rc == 0, run.describe()
    # One simulation for the one role, whatever the number of functions and stages behind it; never an IAM write.
    assert len(simulations(aws)) == 1
    assert [r.operation for r in aws.requests if r.service == "iam"] == ["SimulatePrincipalPolicy"]
    shared = hops_of(report, function_arn("shared"))
    assert shared and all(hop["tracing"] == "traced" and hop["role_xray"] == "cannot_write" for hop in shared)
    assert "AWSXRayDaemonWriteAccess" in shared[0]["note"] and "role/lambda-exec" in shared[0]["note"]
    # The function the run would set to Active says it would still send nothing.
    auth = functions_of(report)[function_arn("auth")]
    assert auth["action"] == "would_activate" and "AWSXRayDaemonWriteAccess" in auth["reason"]
    # A PassThrough function left as it is (a published version) is not checked: it sends nothing either way.
    assert all("role_xray" not in hop for hop in hops_of(report, function_arn("pinned", "1")))
    # Such a function breaks the whole path: the stages it is behind are not covered, and the report says which.
    assert report["summary"]["whole_path_coverage"] == 0
    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "traced, role cannot write" in markdown and "AWSXRayDaemonWriteAccess" in markdown

    policy = aws.client("iam").create_policy(PolicyName="xray-write", PolicyDocument=json.dumps(XRAY_WRITE))["Policy"]["Arn"]
    aws.client("iam").attach_role_policy(RoleName="lambda-exec", PolicyArn=policy)
    run, report, dummy = sweep(run_playbook, tmp_path, "audit-again", {}, check=True)

    assert run.rc == 0, run.describe()
    assert all(hop["role_xray"] == "can_write" and "AWSXRayDaemonWriteAccess" not in hop["note"] for hop in hops_of(report, function_arn("shared")))
    assert "AWSXRayDaemonWriteAccess" not in functions_of(report)[function_arn("auth")]["reason"]


def test_a_refused_role_check_is_said_and_never_fails_the_run(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1, functions={"shared": {"mode": "Active"}, "auth": {"mode": "Active"},
                                              "pinned": {"mode": "PassThrough", "aliases": ["live"]}})
    aws.deny("SimulatePrincipalPolicy")
    aws.clear()

    run, report, dummy = sweep(run_playbook, tmp_path, "denied", {"tracing_sweep_lambda_tracing": ""})

    assert run.rc == 0 and report["verdict"] != "error", run.describe()
    shared = hops_of(report, function_arn("shared"))
    assert shared and shared[0]["role_xray"] == "unknown"
    assert "could not check the role's X-Ray permission: iam:SimulatePrincipalPolicy of" in shared[0]["note"]
    assert "AccessDenied" in shared[0]["note"]
    assert len(simulations(aws)) == 1


def test_no_role_check_without_a_function_that_traces_or_is_set_to(aws, apigw, run_playbook, tmp_path):
    seed_world(aws, apigw, apis=1)
    aws.clear()

    # The whole path read, every function PassThrough and tracing_sweep_lambda_tracing off: no IAM call at all.
    run, report, dummy = sweep(run_playbook, tmp_path, "passthrough", {"tracing_sweep_lambda_tracing": ""}, check=True)

    assert run.rc == 0, run.describe()
    assert simulations(aws) == []
    assert all("role_xray" not in hop for row in report["stages"] for hop in row.get("hops") or [])


def test_a_function_in_another_region_is_read_changed_and_put_back_in_its_own_region(aws, apigw, run_playbook, tmp_path):
    """An integration may invoke a function of another region than its API's: each call on it goes to its region."""
    seed(apigw, [{"name": "api0", "id": API_IDS[0], "stages": {"prod": {"tracing": True}}}])
    seed_functions(aws, {"far": {"mode": "PassThrough", "region": "eu-west-1"}}, xray_write=True)
    far = function_arn("far").replace(":us-east-1:", ":eu-west-1:")
    seed_methods(apigw, API_IDS[0], [("/far", "GET", "AWS_PROXY", invocation_uri(far), None)])
    eu_west = aws.client("lambda", "eu-west-1")
    aws.clear()

    run, report, report_dir = sweep(run_playbook, tmp_path, "enforce", {})

    assert run.rc == 0, run.describe()
    assert functions_of(report)[far]["action"] == "activated"
    assert eu_west.get_function_configuration(FunctionName="far")["TracingConfig"]["Mode"] == "Active"
    lambda_calls = [(r.operation, r.region) for r in aws.requests if r.service == "lambda"]
    assert sorted(set(lambda_calls)) == [("GetFunctionConfiguration", "eu-west-1"), ("UpdateFunctionConfiguration", "eu-west-1")], lambda_calls

    undo = run_playbook("cloudops.apigw_tracing.rollback", {"tracing_sweep_rollback_report": str(report_dir / "report.json"),
                                                            "tracing_sweep_report_dir": str(tmp_path / "rollback")}, inventory=tmp_path / "hosts.yml")

    assert undo.rc == 0, undo.describe()
    assert eu_west.get_function_configuration(FunctionName="far")["TracingConfig"]["Mode"] == "PassThrough"
