# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sweep as AWX runs it: ansible-runner jobs of the docs/awx/project template on the accounts inventory file.

Each job has its own private data dir: the project, and as inventory the estate of tools/sweep_world.py as a
cloudops.apigw_tracing.accounts inventory file. The caller's AWS credential comes in through the environment
as AWX's AWS credential type injects it with an STS token. Job type check with "Show changes" is
--check --diff; job type run is --diff. A sliced job is one job per slice, each with its own --limit.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from awx_runner import artifact_data
from awx_runner import clear_caller_environment
from awx_runner import diff_events
from awx_runner import events_text
from awx_runner import files_holding
from awx_runner import job_environment
from awx_runner import job_stdout
from awx_runner import project_config
from awx_runner import run_job
from awx_runner import secrets_the_sweep_handled
from sweep_world import ACCOUNTS
from sweep_world import AUDIT_TRUTH
from sweep_world import POLICY
from sweep_world import REGIONS
from sweep_world import accounts_inventory
from sweep_world import host_name
from sweep_world import tracing_state
from sweep_world import write_yaml

PROJECT = Path(__file__).resolve().parents[2] / "docs" / "awx" / "project"
# Distinctive values the tests look for in every job event (moto checks neither).
CALLER_SECRET_KEY = "awx-job-caller-secret-Vb6Hn1Tr"
CALLER_SESSION_TOKEN = "awx-job-session-token-Ke3Wd8Pz"
HOST_ACCOUNT_REGION = {host_name(account, region): (account["id"], region) for account in ACCOUNTS for region in REGIONS}
# How a target's diff is headed: '<account id> (<account name>) <region>'.
HOST_HEADING = {host_name(account, region): "%s (%s) %s" % (account["id"], account["name"], region) for account in ACCOUNTS for region in REGIONS}
CONVERGE_TASK = "Converge the stages that differ from their desired state"
# An audit changes nothing: its sweep step is the whole sweep of a target, and shows what would change.
PLAN_TASK = "Reach the target's account, read every REST API stage and decide each one's tracing state"
HOSTS = sorted(HOST_ACCOUNT_REGION)
WOULD_CHANGE = {key for key, (dummy, action) in AUDIT_TRUTH.items() if action == "would_enable"}
# The two halves of a job sliced in two: AWX gives each slice every other host.
SLICES = (HOSTS[0::2], HOSTS[1::2])
GENERATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class AwxProject:
    """One AWX project and inventory; each job gets a private data dir of its own."""

    def __init__(self, estate, tmp_path, monkeypatch, collections_path):
        clear_caller_environment(monkeypatch)
        self.estate = estate
        self.tmp_path = tmp_path
        self.inventory = write_yaml(tmp_path / "estate.accounts.yml", accounts_inventory())
        self.env = job_environment(tmp_path, collections_path, estate.endpoint_url, CALLER_SECRET_KEY, CALLER_SESSION_TOKEN)
        self.jobs = 0

    def job(self, playbook, cmdline, extravars, limit=None):
        """(runner, private data dir) of one job of ``playbook``."""
        self.jobs += 1
        private = self.tmp_path / ("job%d" % self.jobs)
        shutil.copytree(PROJECT, private / "project")
        # AWX runs ansible-playbook in the project's directory: the project's ansible.cfg applies.
        env = dict(self.env, ANSIBLE_CONFIG=str(project_config(private)))
        runner = run_job(private, playbook, self.inventory, env, extravars, cmdline, limit=limit)
        assert (runner.rc, runner.status) == (0, "successful"), job_stdout(private)
        return runner, private

    def sweep(self, playbook, cmdline, report_dir, limit=None):
        extravars = copy.deepcopy(POLICY)
        extravars["tracing_sweep_report_dir"] = str(report_dir)
        return self.job(playbook, cmdline, extravars, limit=",".join(limit) if limit else None)


@pytest.fixture(name="awx")
def awx_fixture(estate, tmp_path, monkeypatch, collections_path):
    return AwxProject(estate, tmp_path, monkeypatch, collections_path)


def stages_of_diffs(diffs):
    """[(account, region, api id, stage)] of every stage line of the diffs the converge task showed, sorted."""
    found = []
    for diff in diffs:
        account_id, region = HOST_ACCOUNT_REGION[diff.host]
        found.extend((account_id, region) + tuple(stage.split("/")) for stage, dummy, dummy2 in diff.stages)
    return sorted(found)


def assert_one_diff_per_changed_target(diffs, verb):
    """One diff per target with a stage to change, from the converge task (the sweep task in an audit), headed with
    the target's account and region; every stage line a change of tracing from off to on."""
    hosts = [diff.host for diff in diffs]
    assert sorted(hosts) == sorted({host for host, (account_id, region) in HOST_ACCOUNT_REGION.items()
                                    if any(key[:2] == (account_id, region) for key in WOULD_CHANGE)})
    for diff in diffs:
        assert diff.task.endswith(PLAN_TASK if verb == "would change" else CONVERGE_TASK), diff.task
        assert (diff.heading, diff.verb) == (HOST_HEADING[diff.host], verb)
        assert {(before, after) for dummy, before, after in diff.stages} == {(False, True)}
    assert stages_of_diffs(diffs) == sorted(WOULD_CHANGE)


def read_report(report_dir):
    return json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


def assert_no_secret_in_events(awx, runner, private):
    """No secret in any job event, nor in stdout: the caller's, the assumed roles' and the external id."""
    sessions, secrets = secrets_the_sweep_handled(awx.estate)
    assert sessions, "no role was assumed: there was nothing to leak"
    secrets.update({"caller secret key": CALLER_SECRET_KEY, "caller session token": CALLER_SESSION_TOKEN})
    events = events_text(runner)
    assert [label for label, value in secrets.items() if value in events] == []
    artifacts = private / "artifacts" / "job"
    leaks = {label: files_holding([artifacts / "job_events"], value) for label, value in secrets.items()}
    assert {label: where for label, where in leaks.items() if where} == {}
    stdout = job_stdout(private)
    assert [label for label, value in secrets.items() if value in stdout] == []


def test_check_job_shows_a_diff_per_noncompliant_stage_and_publishes_the_summary(awx, tmp_path):
    before = tracing_state(awx.estate)
    runner, private = awx.sweep("audit.yml", "--check --diff", tmp_path / "reports")

    stats = artifact_data(runner)
    assert stats["tracing_sweep_mode"] == "audit"
    assert stats["tracing_sweep_verdict"] == "noncompliant"
    assert stats["tracing_sweep_failed_targets"] == []
    summary = stats["tracing_sweep_summary"]
    assert (summary["targets"], summary["stages"], summary["would_change"], summary["changed"]) == (6, len(AUDIT_TRUTH), len(WOULD_CHANGE), 0)
    assert (summary["compliant"], summary["exempt"], summary["skipped"], summary["errors"]) == (3, 2, 1, 0)
    assert read_report(tmp_path / "reports")["summary"] == summary
    assert stats["tracing_sweep_reports"]["json"] == str(tmp_path / "reports" / "report.json")

    assert_one_diff_per_changed_target(diff_events(runner), "would change")
    assert_no_secret_in_events(awx, runner, private)
    assert tracing_state(awx.estate) == before


def test_run_job_changes_the_noncompliant_stages_and_shows_each_change(awx, tmp_path):
    runner, private = awx.sweep("enforce.yml", "--diff", tmp_path / "reports")

    stats = artifact_data(runner)
    assert (stats["tracing_sweep_mode"], stats["tracing_sweep_verdict"]) == ("enforce", "compliant")
    assert (stats["tracing_sweep_summary"]["changed"], stats["tracing_sweep_summary"]["noncompliant"]) == (len(WOULD_CHANGE), 0)
    assert_one_diff_per_changed_target(diff_events(runner), "changed")
    state = tracing_state(awx.estate)
    assert {key for key in WOULD_CHANGE if state[key]} == WOULD_CHANGE
    assert_no_secret_in_events(awx, runner, private)


def without_generated_at(text):
    return GENERATED_AT.sub("<generated_at>", text)


def sliced_then_merged(awx, tmp_path):
    """Two check jobs of slices with disjoint --limit halves, the unsliced check job, then the Merge job over the
    slices' report directories. Returns (slice dirs, merge runner, merge private dir, unsliced summary)."""
    slice_dirs = [tmp_path / "slice1", tmp_path / "slice2"]
    slice_stats = []
    for hosts, report_dir in zip(SLICES, slice_dirs):
        runner, dummy = awx.sweep("audit.yml", "--check --diff", report_dir, limit=hosts)
        slice_stats.append(artifact_data(runner)["tracing_sweep_summary"])
        assert sorted(target["host"] for target in read_report(report_dir)["targets"]) == sorted(hosts)
    runner, dummy = awx.sweep("audit.yml", "--check --diff", tmp_path / "whole")
    whole = artifact_data(runner)["tracing_sweep_summary"]
    # The slices' own summaries do not add up to the whole on their own (compliance_percent, for one): that is the merge's job.
    assert sum(stats["stages"] for stats in slice_stats) == whole["stages"]

    merge_vars = {"tracing_sweep_merge_reports": [str(path) for path in slice_dirs], "tracing_sweep_report_dir": str(tmp_path / "merged")}
    runner, private = awx.job("merge_reports.yml", "", merge_vars)
    return slice_dirs, runner, private, whole


def test_a_check_job_sliced_in_two_merges_to_the_report_of_the_unsliced_job(awx, tmp_path):
    """The merged report is the unsliced job's but for when it ran: the same report.json content, and every
    other report file byte for byte (report.json's bytes: see the next test)."""
    slice_dirs, runner, private, whole = sliced_then_merged(awx, tmp_path)

    stats = artifact_data(runner)
    assert stats["tracing_sweep_summary"] == whole
    assert (stats["tracing_sweep_mode"], stats["tracing_sweep_verdict"]) == ("audit", "noncompliant")
    merged, unsliced = read_report(tmp_path / "merged"), read_report(tmp_path / "whole")
    assert merged["generated_at"] == min(read_report(path)["generated_at"] for path in slice_dirs)
    merged.pop("generated_at")
    unsliced.pop("generated_at")
    assert merged == unsliced
    assert merged["schema_version"] == "1.1" and merged["verdict"] == "noncompliant"
    for name in ("report.md", "report.csv", "report.xml", "report.html"):
        assert without_generated_at((tmp_path / "merged" / name).read_text(encoding="utf-8")) == without_generated_at(
            (tmp_path / "whole" / name).read_text(encoding="utf-8")), name
    assert "Merged from 2 reports: %s/report.json, %s/report.json" % tuple(slice_dirs) in job_stdout(private)


def test_the_merged_report_json_is_the_unsliced_one_byte_for_byte(awx, tmp_path):
    sliced_then_merged(awx, tmp_path)
    assert without_generated_at((tmp_path / "merged" / "report.json").read_text(encoding="utf-8")) == without_generated_at(
        (tmp_path / "whole" / "report.json").read_text(encoding="utf-8"))
