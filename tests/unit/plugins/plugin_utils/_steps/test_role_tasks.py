# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's tasks as the private action runs them: settings read from the role's variables and checked once for the
run, the engine's state kept in the run's workspace, and where each failure is raised."""

from __future__ import annotations

import os
import tempfile

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import role_tasks as tasks
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import SETTING_VARIABLES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import Workspace
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import WorkspaceError

DEFAULTS = {
    "tracing_sweep_desired": True, "tracing_sweep_whole_path": False, "tracing_sweep_lambda_tracing": "",
    "tracing_sweep_rules": [], "tracing_sweep_exemptions": [], "tracing_sweep_exempt_tag": "",
    "tracing_sweep_max_changes": 100, "tracing_sweep_report_formats": ["json"], "tracing_sweep_endpoint_url": "",
    "tracing_sweep_sts_endpoint_url": "", "tracing_sweep_max_requests_per_second": 9.5, "tracing_sweep_concurrency": 4,
    "tracing_sweep_role_session_name": "cloudops-tracing-sweep", "tracing_sweep_fail_on_error": True, "tracing_sweep_fail_on_noncompliant": False,
    "tracing_sweep_history": "", "tracing_sweep_fail_on_regression": False, "tracing_sweep_regression_includes_new": False,
    "tracing_sweep_security_hub": False, "tracing_sweep_allow_unknown_regions": [], "tracing_sweep_stages": [],
}


def identity(value):
    return value


def context(tmp_path, host="a", hosts=("a", "b"), step_args=None, check_mode=True, per_host=None, **variables):
    values = dict(DEFAULTS, tracing_sweep_report_dir=str(tmp_path / "reports"), ansible_play_hosts=list(hosts), ansible_play_hosts_all=list(hosts))
    values.update(variables)

    def host_variables(name):
        return dict(values, **(per_host or {}).get(name, {})), identity

    return tasks.TaskContext(host, check_mode, step_args or {}, dict(values, **(per_host or {}).get(host, {})), identity, host_variables)


def test_every_setting_is_read_from_its_role_variable():
    assert set(SETTING_VARIABLES.values()) - {"tracing_sweep_rollback_report", "tracing_sweep_merge_reports", "tracing_sweep_report_dir"} == set(DEFAULTS)


def test_start_checks_every_hosts_settings_once_and_makes_the_workspace(tmp_path):
    result = tasks.start(context(tmp_path, step_args={"entry_point": "main", "retire": False}))
    assert result["failed"] is not True if "failed" in result else True
    assert os.path.isdir(result["workspace"]) and (tmp_path / "reports").is_dir()
    Workspace(result["workspace"], result["run_id"]).remove()


def test_start_names_the_hosts_of_a_problem_only_some_have_before_anything_is_made(tmp_path):
    per_host = {"b": {"tracing_sweep_desired": "ture"}}
    result = tasks.start(context(tmp_path, step_args={"entry_point": "main", "retire": False}, per_host=per_host))
    assert result["failed"] is True
    assert result["msg"] == ("Invalid sweep settings, nothing was done: tracing_sweep_desired: must be a boolean: true or false (also yes/no, 1/0), "
                             "got 'ture' (host b)")
    assert not (tmp_path / "reports").exists()


def test_start_refuses_a_misspelt_variable(tmp_path):
    result = tasks.start(context(tmp_path, step_args={"entry_point": "main", "retire": False}, tracing_sweep_exemption=[]))
    assert result["failed"] is True and "tracing_sweep_exemption: unknown variable (did you mean tracing_sweep_exemptions?)" in result["msg"]


@pytest.mark.parametrize("desired, failed", [(True, False), ("ture", True)])
def test_start_with_retire_moves_an_earlier_runs_reports_first_even_when_the_settings_then_stop_the_run(tmp_path, monkeypatch, desired, failed):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report.json").write_text('{"generated_at": "2026-01-01T00:00:00Z", "verdict": "compliant"}', encoding="utf-8")
    said = []
    ctx = context(tmp_path, step_args={"entry_point": "main", "retire": True}, tracing_sweep_desired=desired)
    ctx.say = said.append
    result = tasks.start(ctx)
    assert bool(result.get("failed")) is failed
    assert not (reports / "report.json").exists()
    assert result["moved"] == ["report.json"] and os.path.isfile(os.path.join(result["moved_to"], "report.json"))
    assert os.path.dirname(result["moved_to"]) == str(tmp_path / "tmp")
    assert said and result["moved_to"] in said[0]
    if not failed:
        Workspace(result["workspace"], result["run_id"]).remove()


def test_start_without_retire_leaves_the_report_directory_to_the_report(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report.json").write_text("{}", encoding="utf-8")
    result = tasks.start(context(tmp_path, step_args={"entry_point": "main", "retire": False}))
    assert (reports / "report.json").exists() and "moved_to" not in result
    Workspace(result["workspace"], result["run_id"]).remove()


@pytest.mark.parametrize("flag, judges", [
    (True, True),
    # The judge task's registered result replaces the flag: a later run judges in its own play.
    ({"changed": False, "failed": True, "msg": "the run failed"}, False),
    ({"changed": False}, False),
    (None, False),
])
def test_a_play_on_localhost_judges_only_while_the_first_play_of_a_playbook_says_so(tmp_path, flag, judges):
    localhost = {} if flag is None else {tasks.LAST_PLAY_JUDGES: flag}
    assert tasks._localhost_judges(context(tmp_path, hostvars={"localhost": localhost})) is judges  # pylint: disable=protected-access


def test_a_step_without_the_start_steps_workspace_says_so(tmp_path):
    with pytest.raises(WorkspaceError, match="after the role's start step"):
        tasks.sweep(context(tmp_path))


def started(tmp_path, **kwargs):
    workspace = Workspace.create()
    ctx = context(tmp_path, tracing_sweep__run=workspace.describe(), **kwargs)
    return ctx, workspace


def test_a_target_that_failed_is_marked_so_that_the_report_leaves_it_to_the_rescue(tmp_path):
    ctx, workspace = started(tmp_path)
    outcome = {"target": {"status": "error", "error": "Could not assume role"}, "changed": False}
    result = tasks._target_result(ctx, workspace, [(ctx.host, outcome)], {"fail_on_error": True})  # pylint: disable=protected-access
    assert result == {"changed": False, "failed": True, "msg": "Could not assume role"}
    assert tasks._failed_already(ctx, workspace) == {"a"}  # pylint: disable=protected-access
    workspace.remove()


@pytest.mark.parametrize("fail_on_error, failed", [(True, True), (False, False)])
def test_stage_errors_fail_the_targets_step_with_fail_on_error(tmp_path, fail_on_error, failed):
    ctx, workspace = started(tmp_path)
    outcome = {"target": {"status": "ok", "rows": [{"action": "error"}, {"action": "none"}]}, "changed": False, "diff": {}}
    result = tasks._target_result(ctx, workspace, [(ctx.host, outcome)], {"fail_on_error": fail_on_error})  # pylint: disable=protected-access
    assert bool(result.get("failed")) is failed
    if failed:
        assert result["msg"] == "1 stage of this target failed: the report says which and why"
    workspace.remove()


def judged(tmp_path, host_failures, failed_already=(), defer=False, hosts=("a", "b")):
    ctx, workspace = started(tmp_path, hosts=hosts)
    workspace.remove()
    result = {"summary_lines": ["Summary"], "verdict": "error", "files": {}}
    args = {"step": "report", "settings": {}, "live": list(hosts), "judged_on_localhost": False}
    original = tasks._run_status.host_status  # pylint: disable=protected-access
    try:
        tasks._run_status.host_status = lambda *a: {"host_failures": host_failures, "localhost_failure": None}  # pylint: disable=protected-access
        stats = {"tracing_sweep_verdict": "error"}
        return tasks._judged(ctx, result, args, stats, defer=defer, failed_already=failed_already)  # pylint: disable=protected-access
    finally:
        tasks._run_status.host_status = original  # pylint: disable=protected-access


def test_the_report_publishes_when_only_hosts_whose_step_failed_must_fail(tmp_path):
    task = judged(tmp_path, {"b": "b failed"}, failed_already={"b"})
    assert "failed" not in task and task["published"] is True
    assert task["ansible_stats"] == {"data": {"tracing_sweep_verdict": "error"}, "per_host": False, "aggregate": False}


def test_the_report_fails_when_a_healthy_host_must_carry_the_runs_failure(tmp_path):
    task = judged(tmp_path, {"a": "the run failed"})
    assert task["failed"] is True and task["msg"] == "the run failed" and task["published"] is False and "ansible_stats" not in task


def test_a_deferred_report_never_fails(tmp_path):
    assert "failed" not in judged(tmp_path, {"a": "the run failed"}, defer=True, hosts=("a",))


def test_the_rescue_publishes_what_a_failed_report_could_not(tmp_path):
    ctx, workspace = started(tmp_path)
    workspace.remove()
    unpublished = {"run_id": workspace.run_id, "stats": {"x": 1}, "published": False, "failed": True, "msg": "m", "host_failures": {}}
    ctx.variables[tasks.REPORTED] = unpublished
    again = tasks.report(ctx)
    assert again["published"] is True and again["ansible_stats"]["data"] == {"x": 1} and "failed" not in again
    # Set again, never added up (aggregate false): publishing twice is harmless.
    ctx.variables[tasks.REPORTED] = dict(unpublished, published=True, failed=False)
    assert tasks.report(ctx)["ansible_stats"]["aggregate"] is False


def test_target_status_fails_a_host_with_its_own_failure_of_this_run_only(tmp_path):
    ctx, workspace = started(tmp_path)
    workspace.remove()
    ctx.variables[tasks.REPORTED] = {"run_id": "an earlier run", "host_failures": {"a": "old"}}
    assert tasks.target_status(ctx)["msg"].startswith("the report of this run was not written")
    ctx.variables[tasks.REPORTED] = {"run_id": workspace.run_id, "host_failures": {"a": "a failed"}}
    assert tasks.target_status(ctx) == {"failed": True, "msg": "a failed"}
    ctx.variables[tasks.REPORTED] = {"run_id": workspace.run_id, "host_failures": {"b": "b failed"}}
    assert tasks.target_status(ctx) == {"changed": False}


def test_workspaces_left_by_stopped_runs_are_pruned_once_stale_and_never_a_running_one(tmp_path):
    stale = tmp_path / (Workspace.PREFIX + "old")
    running = tmp_path / (Workspace.PREFIX + "new")
    other = tmp_path / "unrelated"
    for path in (stale, running, other):
        path.mkdir()
    os.utime(stale, (0, 0))
    os.utime(other, (0, 0))
    Workspace.prune(str(tmp_path))
    assert not stale.exists() and running.is_dir() and other.is_dir()


def test_a_report_that_could_not_be_built_is_not_built_again_by_the_rescue(tmp_path):
    ctx, workspace = started(tmp_path)
    failed = {"failed": True, "msg": "The report could not be built: ...", "run_id": workspace.run_id, "unwritten": True}
    ctx.variables[tasks.REPORTED] = failed
    again = tasks.report(ctx)
    assert again["failed"] is True and again["msg"] == failed["msg"] and "ansible_stats" not in again
    assert not os.path.isdir(workspace.path)


def registered_values_of(hostvars, registered):
    """hostvars as the action sees them, with ansible-core's in-memory registered results of this run."""
    hostvars._variable_manager = type("Manager", (), {"_nonpersistent_fact_cache": registered})()  # pylint: disable=protected-access
    return hostvars


class CountedHostVars(dict):
    """hostvars whose every read of a host's variables (which ansible-core computes and templates) is counted."""

    def __init__(self, *args):
        super().__init__(*args)
        self.computed = []

    def __getitem__(self, name):
        self.computed.append(name)
        return dict.__getitem__(self, name)


def test_the_judge_reads_the_run_id_and_failure_of_the_registered_report_never_templating_it():
    report = {"run_id": "2", "localhost_failure": "3 stages regressed", "report": {"stages": ["row"] * 1000}}
    hostvars = registered_values_of(CountedHostVars({"localhost": {}, "a": {}, "b": {}}), {
        "localhost": {tasks.REPORTED: {"run_id": "1", "localhost_failure": "an earlier play's failure"}},
        "a": {tasks.REPORTED: report},
    })
    templated = []

    def template(value):
        templated.append(value)
        return value

    judging = tasks.TaskContext("localhost", True, {}, {"hostvars": hostvars, "groups": {"all": ["a", "b"]}}, template)
    assert tasks.judge(judging) == {"failed": True, "msg": "3 stages regressed"}
    assert templated == [] and hostvars.computed == []
    report["localhost_failure"] = None
    assert tasks.judge(judging) == {"changed": False}


def test_the_judge_computes_no_hosts_variables_in_a_large_inventory():
    hostvars = CountedHostVars({"h%d" % n: {} for n in range(1000)})
    registered_values_of(hostvars, {"h999": {tasks.REPORTED: {"run_id": "5", "localhost_failure": "the run failed"}}})
    judging = tasks.TaskContext("localhost", True, {}, {"hostvars": hostvars, "groups": {"all": sorted(hostvars)}}, identity)
    assert tasks.judge(judging) == {"failed": True, "msg": "the run failed"}
    assert hostvars.computed == []


def test_without_the_registered_values_the_judge_reads_hostvars():
    hostvars = {"localhost": {}, "a": {tasks.REPORTED: {"run_id": "7", "localhost_failure": "failed"}}}
    judging = tasks.TaskContext("localhost", True, {}, {"hostvars": hostvars, "groups": {"all": ["a"]}}, identity)
    assert tasks.judge(judging) == {"failed": True, "msg": "failed"}


def test_a_published_report_holds_the_report_once_and_sets_no_fact():
    # The role's next task gives the play tracing_sweep_report with set_fact: an action's facts would be top-level
    # variables only while ansible-core's deprecated INJECT_FACTS_AS_VARS is on, and would be copied twice in the worker.
    publish = tasks._published  # pylint: disable=protected-access
    published = publish({"run_id": "2", "stats": {"x": 1}, "report": {"rows": 1}})
    assert published["report"] == {"rows": 1} and "ansible_facts" not in published and published["ansible_stats"]["data"] == {"x": 1}
    # Published again by the rescue, from the registered result: the same report.
    again = publish({key: value for key, value in published.items() if key != "ansible_stats"})
    assert again["report"] == {"rows": 1} and "ansible_facts" not in again
