# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input fails before any AWS call, with a message that names the field and the rule.

All cases run as tasks of ONE playbook (ignore_errors), which saves a playbook start-up per case.
Requests are attributed to a task by time: the result log gives each task's start and end, the
local AWS stamps each request, and tasks of a play never overlap. A valid control task proves the
attribution sees requests when there are some, and one case also runs alone in its own playbook.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from local_aws import seed
from plays import write_play

API = "a1b2c3d4e5"
SEEDED = {(API, "prod"): None, (API, "staging"): True}
INFO = "cloudops.apigw_tracing.apigw_stage_tracing_info"
TRACING = "cloudops.apigw_tracing.apigw_stage_tracing"

FORMAT_RULE = ("invalid", "must", "lowercase", "letters", "characters")
REQUIRED_RULE = ("required", "requires", "missing", "together", "one of")
BOOL_RULE = ("bool",)


@dataclass
class Case:
    """A module call that must fail: every word of ``fields`` in msg, and at least one of ``rule``."""

    name: str
    module: str
    args: dict
    fields: tuple
    rule: tuple


def item(rest_api_id=API, stage_name="prod", **extra):
    return dict(rest_api_id=rest_api_id, stage_name=stage_name, **extra)


CASES = [
    # apigw_stage_tracing_info
    Case("info rest_api_id uppercase", INFO, {"rest_api_id": "A1B2C3D4E5"}, ("rest_api_id",), FORMAT_RULE),
    Case("info rest_api_id too short", INFO, {"rest_api_id": "a1b2c3"}, ("rest_api_id",), FORMAT_RULE),
    Case("info stage_name bad characters", INFO, {"rest_api_id": API, "stage_name": "prod stage"}, ("stage_name",), FORMAT_RULE),
    Case("info stage_name too long", INFO, {"rest_api_id": API, "stage_name": "p" * 129}, ("stage_name",), FORMAT_RULE),
    Case("info stage_name without rest_api_id", INFO, {"stage_name": "prod"}, ("rest_api_id",), REQUIRED_RULE),
    # apigw_stage_tracing, single form
    Case("rest_api_id uppercase", TRACING, item("ABC"), ("rest_api_id",), FORMAT_RULE),
    Case("rest_api_id 11 characters", TRACING, item("a1b2c3d4e5f"), ("rest_api_id",), FORMAT_RULE),
    Case("rest_api_id punctuation", TRACING, item("a1b2c3d4e!"), ("rest_api_id",), FORMAT_RULE),
    Case("stage_name with space", TRACING, item(stage_name="prod stage"), ("stage_name",), FORMAT_RULE),
    Case("stage_name with slash", TRACING, item(stage_name="prod/x"), ("stage_name",), FORMAT_RULE),
    Case("stage_name empty", TRACING, item(stage_name=""), ("stage_name",), FORMAT_RULE),
    Case("stage_name too long", TRACING, item(stage_name="p" * 129), ("stage_name",), FORMAT_RULE),
    Case("both forms", TRACING, dict(item(), stages=[item()]), ("rest_api_id", "stages"), ("exclusive", "both", "not both")),
    Case("neither form", TRACING, {}, ("rest_api_id", "stages"), REQUIRED_RULE),
    Case("stage_name without rest_api_id", TRACING, {"stage_name": "prod"}, ("rest_api_id",), REQUIRED_RULE),
    Case("rest_api_id without stage_name", TRACING, {"rest_api_id": API}, ("stage_name",), REQUIRED_RULE),
    Case("tracing_enabled not a bool", TRACING, item(tracing_enabled="maybe"), ("tracing_enabled",), BOOL_RULE),
    Case("ignore_missing not a bool", TRACING, item(ignore_missing="maybe"), ("ignore_missing",), BOOL_RULE),
    # apigw_stage_tracing, list form
    Case("stages empty", TRACING, {"stages": []}, ("stages",), ("empty", "at least")),
    # Not in the module's own rules: Ansible's sub-option validation rejects it, with a message that
    # does not name the option ("dictionary requested, could not parse JSON or key=value").
    Case("stages item not a dict", TRACING, {"stages": [API + "/prod"]}, (), ("dict",)),
    Case("stages item unknown key", TRACING, {"stages": [item(colour="red")]}, ("stages", "colour"), ("unsupported", "unknown", "not supported")),
    Case("stages item without rest_api_id", TRACING, {"stages": [{"stage_name": "prod"}]}, ("stages", "rest_api_id"), REQUIRED_RULE),
    Case("stages item without stage_name", TRACING, {"stages": [{"rest_api_id": API}]}, ("stages", "stage_name"), REQUIRED_RULE),
    Case("stages item rest_api_id invalid", TRACING, {"stages": [item(), item("ABC")]}, ("stages", "rest_api_id", "ABC"), FORMAT_RULE),
    Case("stages item stage_name invalid", TRACING, {"stages": [item(stage_name="prod!")]}, ("stages", "stage_name", "prod!"), FORMAT_RULE),
    Case("stages duplicate", TRACING, {"stages": [item(), item(stage_name="staging"), item()]}, (API, "prod"),
         ("duplicate", "twice", "more than once", "repeat", "once")),
    Case("stages item tracing_enabled not a bool", TRACING, {"stages": [item(tracing_enabled="maybe")]}, ("stages", "tracing_enabled"), BOOL_RULE),
]
CONTROL = "control: a valid read"


def server_state(apigw):
    return {key: apigw.get_stage(restApiId=key[0], stageName=key[1]).get("tracingEnabled") for key in SEEDED}


@pytest.fixture(scope="module")
def bad_input_run(local_aws_server, playbook_runner, tmp_path_factory):
    """Seeds one API, runs every case in one playbook, returns (run, requests, state after)."""
    local_aws_server.rest_apis_page_cap = None
    local_aws_server.reset()
    apigw = local_aws_server.client("apigateway")
    seed(apigw, [{"name": "orders", "id": API, "stages": {"prod": {}, "staging": {"tracing": True}}}])
    assert server_state(apigw) == SEEDED
    local_aws_server.clear()

    tasks = [{"name": case.name, case.module: case.args, "ignore_errors": True} for case in CASES]
    tasks.append({"name": CONTROL, TRACING: item(), "check_mode": True})
    playbook = write_play(tmp_path_factory.mktemp("bad_input") / "bad_input.yml", "Bad input", tasks)

    run = playbook_runner.run(playbook)
    requests = local_aws_server.requests
    return run, requests, server_state(apigw)


def test_control_task_requests_are_seen(bad_input_run):
    run, requests, state = bad_input_run
    assert run.rc == 0, run.describe()
    assert run.status(CONTROL) == "ok"
    assert [r.operation for r in run.requests(CONTROL, requests)] == ["GetStage"]
    # Everything recorded during the play is the control task's (state reads come after it).
    assert len([r for r in requests if r.received_at <= run.results[CONTROL]["finished"]]) == 1
    assert state == SEEDED


@pytest.mark.parametrize("case", CASES, ids=[case.name.replace(" ", "-") for case in CASES])
def test_bad_input_fails_before_any_call(bad_input_run, case):
    run, requests, state = bad_input_run
    assert run.status(case.name) == "failed", run.results[case.name]
    msg = run.result(case.name)["msg"]
    for word in case.fields:
        assert word in msg, "%r not named in: %s" % (word, msg)
    assert any(word in msg.lower() for word in case.rule), "no rule word %s in: %s" % (case.rule, msg)
    assert run.requests(case.name, requests) == []
    assert state == SEEDED


def test_bad_input_alone_sends_nothing(aws, apigw, run_playbook):
    seed(apigw, [{"name": "orders", "id": API, "stages": {"prod": {}, "staging": {"tracing": True}}}])
    aws.clear()
    run = run_playbook("tracing.yml", {"stages": [item(), item("ABC")]})
    assert run.rc != 0
    assert run.status("Tracing") == "failed"
    assert "rest_api_id" in run.result("Tracing")["msg"]
    assert aws.requests == []
    assert server_state(apigw) == SEEDED
