# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES run, as written, and succeed (the AWS modules' against the local AWS).

The REST API ids and stage names are read from the examples themselves and seeded, so the
examples and this test cannot drift apart. Credentials and the endpoint come from the AWS_*
environment, as the examples' note tells users to provide them.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from local_aws import seed
from plays import write_play

MODULES_DIR = Path(__file__).resolve().parents[2] / "plugins" / "modules"
MODULE_FILES = sorted(MODULES_DIR.glob("*.py")) if MODULES_DIR.is_dir() else []
# Modules that call AWS; tracing_sweep_report writes files on the controller and _sweep (the private action the
# tracing_sweep role runs, whose example is the role) have their own tests.
OWN_TESTS = ("tracing_sweep_report", "_sweep")
AWS_MODULE_FILES = [path for path in MODULE_FILES if path.stem not in OWN_TESTS]
REST_API_ID = re.compile(r"^[a-z0-9]{10}$")
STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def examples_of(path):
    """The EXAMPLES string of a module file, read without importing the module."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def walk(value):
    """Every dict nested anywhere in value."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)


def referenced_stages(tasks):
    """{rest_api_id: set of stage names} named literally in the examples."""
    found = {}
    for node in walk(tasks):
        api_id = node.get("rest_api_id")
        if isinstance(api_id, str) and REST_API_ID.match(api_id):
            stages = found.setdefault(api_id, set())
            stage = node.get("stage_name")
            if isinstance(stage, str) and STAGE_NAME.match(stage):
                stages.add(stage)
    return found


def task_names(tasks):
    """Names of the tasks (not blocks) in a task list, blocks included recursively."""
    names = []
    for task in tasks:
        if any(key in task for key in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                names += task_names(task.get(key) or [])
        elif task.get("name"):
            names.append(task["name"])
    return names


def test_every_module_has_examples():
    assert MODULE_FILES, "no modules in %s" % MODULES_DIR
    for path in MODULE_FILES:
        tasks = yaml.safe_load(examples_of(path) or "")
        assert isinstance(tasks, list) and tasks, "%s has no EXAMPLES tasks" % path.name


def test_report_examples_write_the_reports(aws, run_playbook, tmp_path):
    """tracing_sweep_report's EXAMPLES, after a report is built from one target's record with the sweep_report filter."""
    tasks = yaml.safe_load(examples_of(MODULES_DIR / "tracing_sweep_report.py"))
    record = {
        "host": "prod_eu-west-1", "account_id": "111111111111", "account_name": "prod", "region": "eu-west-1",
        "status": "ok", "error": None, "planned_changes": 1, "exemptions": [],
        "rows": [{
            "account_id": "111111111111", "region": "eu-west-1", "rest_api_id": "a1b2c3d4e5", "rest_api_name": "orders",
            "stage_name": "prod", "arn": "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod",
            "tracing_enabled_before": False, "tracing_enabled_after": True, "desired": True, "action": "would_enable",
            "reason": "default: tracing_sweep_desired=true",
        }],
    }
    build = {"name": "Build a report", "ansible.builtin.set_fact": {
        "tracing_sweep_report": "{{ [record] | cloudops.apigw_tracing.sweep_report('audit', '2026-11-21T00:00:00Z') }}"},
        "vars": {"record": record}}
    playbook = write_play(tmp_path / "examples_tracing_sweep_report.yml", "EXAMPLES of tracing_sweep_report", [build] + tasks)

    run = run_playbook(playbook)

    assert run.rc == 0, run.describe()
    missing = [name for name in task_names(tasks) if name not in run.results]
    assert not missing, run.describe()
    written = run.result("Write the sweep report")
    assert sorted(written["files"]) == ["json", "markdown"]
    report = json.loads((run.workdir / "tracing-sweep-archive" / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["would_change"] == 1
    assert "orders" in (run.workdir / "tracing-sweep-archive" / "report.md").read_text(encoding="utf-8")
    assert not (run.workdir / "tracing-sweep-archive" / "report.csv").exists()
    assert aws.requests == []


@pytest.mark.parametrize("module_file", AWS_MODULE_FILES, ids=[p.stem for p in AWS_MODULE_FILES])
def test_examples_run(aws, apigw, run_playbook, tmp_path, module_file):
    tasks = yaml.safe_load(examples_of(module_file) or "")
    if not tasks:
        pytest.fail("%s has no EXAMPLES" % module_file.name)
    stages = referenced_stages(tasks)
    assert stages, "the examples name no REST API id to seed"

    # Alternate off (absent key) and on, so the examples have changes to make in both directions.
    apis = []
    for number, api_id in enumerate(sorted(stages)):
        names = sorted(stages[api_id]) or ["prod"]
        apis.append({"name": "example-%d" % number, "id": api_id,
                     "stages": {name: {"tracing": index % 2 == 1} for index, name in enumerate(names)}})
    seed(apigw, apis)
    aws.clear()

    playbook = write_play(tmp_path / ("examples_%s.yml" % module_file.stem), "EXAMPLES of %s" % module_file.stem, tasks)

    run = run_playbook(playbook)
    assert run.rc == 0, run.describe()
    failed = [entry for entry in run.entries if entry["status"] == "failed"]
    assert not failed, failed
    missing = [name for name in task_names(tasks) if name not in run.results]
    assert not missing, "examples that did not run: %s\n%s" % (missing, run.describe())
    assert aws.requests, "the examples made no AWS call"
    assert {r.region for r in aws.requests} == {"us-east-1"}


def test_private_sweep_action_example_runs_the_role(aws, apigw, run_playbook, tmp_path):
    """_sweep's EXAMPLES (import the tracing_sweep role, its only caller) on localhost as one target: the local
    AWS caller's account in us-east-1, reached with the controller's credentials, its stage converged."""
    tasks = yaml.safe_load(examples_of(MODULES_DIR / "_sweep.py"))
    assert [task.get("ansible.builtin.import_role", {}).get("name") for task in tasks] == ["cloudops.apigw_tracing.tracing_sweep"]
    seed(apigw, [{"name": "example", "id": "a1b2c3d4e5", "stages": {"prod": {"tracing": False}}}])
    aws.clear()
    play = write_play(tmp_path / "examples__sweep.yml", "EXAMPLES of _sweep", tasks)
    # The target's variables, as an inventory gives them; the play's own vars (the interpreter) are kept.
    written = yaml.safe_load(Path(play).read_text(encoding="utf-8"))
    written[0]["vars"].update({"tracing_sweep_region": "us-east-1", "tracing_sweep_report_dir": str(tmp_path / "reports")})
    Path(play).write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")

    run = run_playbook(play)

    assert run.rc == 0, run.describe()
    assert run.status("Converge the stages that differ from their desired state") == "ok"
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert (report["mode"], report["verdict"], report["summary"]["changed"]) == ("enforce", "compliant", 1)
    assert apigw.get_stage(restApiId="a1b2c3d4e5", stageName="prod")["tracingEnabled"] is True
    assert {r.region for r in aws.requests} == {"us-east-1"}
