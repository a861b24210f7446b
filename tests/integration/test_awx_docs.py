# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project template docs/awx.md tells AWX users to import (docs/awx/project/), run as AWX runs it.

The project runs through ansible-runner, the engine AWX uses, with the custom credential's injector rendered and
applied by hand, as AWX applies it: the external ids must reach AssumeRole. The files themselves (surveys,
credential type, project template, guide) are checked without a job in tests/static/test_awx_files.py.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from awx_files import PROJECT
from awx_files import render_injector
from awx_files import survey_answers
from awx_runner import artifact_data
from awx_runner import clear_caller_environment
from awx_runner import job_environment
from awx_runner import project_config
from awx_runner import run_job
from sweep_world import ACCOUNTS
from sweep_world import POLICY
from sweep_world import PROD_EXTERNAL_ID
from sweep_world import ROLE_NAME
from sweep_world import accounts_inventory
from sweep_world import write_yaml

CALLER_SECRET_KEY = "awx-doc-caller-secret-4Hq8"


# ---- an AWX-style job from the project template --------------------------------------------------


def awx_job(estate, tmp_path, monkeypatch, collections_path, playbook, cmdline, extravars, credential_env, inventory=None, name="runner"):
    """Run ``playbook`` of docs/awx/project with ansible-runner as AWX runs a job; returns (runner, artifacts dir).

    The project template is copied as the private data dir's project (``tmp_path/name``); the inventory is the
    estate as an accounts file without any external id, or ``inventory``. ``credential_env`` is what the custom
    credential injects.
    """
    clear_caller_environment(monkeypatch)
    private = tmp_path / name
    shutil.copytree(PROJECT, private / "project")
    (private / "inventory").mkdir()
    if inventory is None:
        inventory = accounts_inventory()
        for account in inventory["accounts"]:
            account.pop("external_id", None)
    inventory_file = write_yaml(private / "inventory" / "estate.accounts.yml", inventory)
    # The AWS credential type, with STS: both token variables.
    # AWX runs ansible-playbook in the project's directory: the project's ansible.cfg applies.
    envvars = job_environment(tmp_path, collections_path, estate.endpoint_url, CALLER_SECRET_KEY, "awx-doc-session-token",
                              config=project_config(private))
    envvars.update(credential_env)
    runner = run_job(private, playbook, inventory_file, envvars, extravars, cmdline)
    return runner, private / "artifacts" / "job"


def role_sessions(estate):
    return {(session["role_arn"], session["external_id"] or "") for session in estate.assumed_sessions() if session["role_arn"].endswith(":role/" + ROLE_NAME)}


def test_audit_job_takes_external_ids_from_the_custom_credential(estate, tmp_path, monkeypatch, collections_path):
    """The Audit job template as docs/awx.md sets it up: check + diff, survey defaults, both credentials.

    The prod account's role is assumed with the external id the credential holds, which the inventory
    does not: it went credential input -> injector -> environment -> the project's group_vars ->
    tracing_sweep_external_id. The external id shows in no job event nor in stdout.
    """
    external_ids = {account["id"]: account["external_id"] for account in ACCOUNTS if account.get("external_id")}
    env, extra = render_injector({"external_ids": json.dumps(external_ids, indent=2)})
    assert extra == {}
    extravars = dict(POLICY, **survey_answers("audit"))
    extravars["tracing_sweep_report_dir"] = str(tmp_path / "reports")

    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check --diff", extravars, env)

    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    prod, staging = ("arn:aws:iam::%s:role/%s" % (account["id"], ROLE_NAME) for account in ACCOUNTS[:2])
    assert role_sessions(estate) == {(prod, PROD_EXTERNAL_ID), (staging, "")}

    stats = artifact_data(runner)
    assert (stats["tracing_sweep_mode"], stats["tracing_sweep_verdict"]) == ("audit", "noncompliant")
    assert stats["tracing_sweep_failed_targets"] == []
    assert stats["tracing_sweep_summary"]["errors"] == 0
    assert sorted(os.path.basename(path) for path in stats["tracing_sweep_reports"].values()) == [
        "report.csv", "report.html", "report.json", "report.md", "report.xml"]

    for path in sorted((artifacts / "job_events").glob("*.json")) + [artifacts / "stdout"]:
        assert PROD_EXTERNAL_ID not in path.read_text(encoding="utf-8"), path.name


def test_audit_job_without_the_custom_credential_assumes_roles_without_external_id(estate, tmp_path, monkeypatch, collections_path):
    """The control case: the external id of the test above came from the credential, nothing else."""
    extravars = dict(POLICY, tracing_sweep_report_dir=str(tmp_path / "reports"))
    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check", extravars, {})

    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    assert {external_id for _role, external_id in role_sessions(estate)} == {""}


def test_enforce_job_after_the_audit_in_a_workflow_accepts_the_audit_artifacts(estate, tmp_path, monkeypatch, collections_path):
    """In a workflow, AWX gives a node the artifacts of the nodes before it as extra variables.

    Audit -> approval -> Enforce hands the Enforce job tracing_sweep_mode, tracing_sweep_summary,
    tracing_sweep_failed_targets and tracing_sweep_reports; the enforcement must run regardless.
    """
    published = {
        "tracing_sweep_mode": "audit",
        "tracing_sweep_summary": {"targets": 6, "errors": 0},
        "tracing_sweep_failed_targets": [],
        "tracing_sweep_reports": [str(tmp_path / "audit" / "report.json")],
    }
    extravars = dict(POLICY, **survey_answers("enforce"))
    extravars.update(published)
    extravars["tracing_sweep_report_dir"] = str(tmp_path / "reports")

    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "enforce.yml", "--diff", extravars, {})

    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    assert artifact_data(runner)["tracing_sweep_mode"] == "enforce"


def test_a_rejected_inventory_fails_the_job_at_once(estate, tmp_path, monkeypatch, collections_path):
    """The project's ansible.cfg (any_unparsed_is_failed): an unquoted account id fails the job with the plugin's
    message, before any play, AWS call or report."""
    inventory = {"plugin": "cloudops.apigw_tracing.accounts", "regions": ["us-east-1"], "accounts": [{"id": 111111111111, "name": "prod"}]}
    extravars = dict(POLICY, tracing_sweep_report_dir=str(tmp_path / "reports"))
    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check", extravars, {}, inventory=inventory)

    stdout = (artifacts / "stdout").read_text(encoding="utf-8")
    assert (runner.rc, runner.status) != (0, "successful"), stdout
    assert "accounts[0].id: must be a 12-digit AWS account id, as a string (in quotes), got 111111111111 (integer)" in stdout
    assert "PLAY [" not in stdout
    assert estate.requests == []
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    "artifacts, passes, message",
    [
        ({"tracing_sweep_verdict": "compliant", "tracing_sweep_summary": {"stages": 9}}, True, "Verdict compliant: 9 stages, nothing to do"),
        (
            {"tracing_sweep_verdict": "noncompliant", "tracing_sweep_summary": {"noncompliant": 3, "errors": 0}, "tracing_sweep_failed_targets": [],
             "tracing_sweep_reports": {"markdown": "/reports/report.md"}},
            False,
            "Verdict noncompliant: 3 stages non-compliant, 0 errors (failed targets: none); reports: /reports/report.md",
        ),
        (
            {"tracing_sweep_verdict": "error", "tracing_sweep_summary": {"noncompliant": 0, "errors": 1},
             "tracing_sweep_failed_targets": ["prod_us-east-1"]},
            False,
            "Verdict error: 0 stages non-compliant, 1 errors (failed targets: prod_us-east-1); reports: not written",
        ),
        ({}, False, "Verdict error: ? stages non-compliant, ? errors (failed targets: none); reports: not written"),
    ],
    ids=["compliant", "noncompliant", "error", "no-verdict"],
)
def test_the_verdict_gate_passes_only_on_a_compliant_verdict(aws, tmp_path, monkeypatch, collections_path, artifacts, passes, message):
    """verdict_gate.yml as the workflow node after the Audit: AWX hands it the audit's artifacts as extra variables.
    A missing verdict (the audit stopped before its report) counts as error. No AWS call."""
    runner, job = awx_job(aws, tmp_path, monkeypatch, collections_path, "verdict_gate.yml", "", dict(artifacts), {})

    stdout = (job / "stdout").read_text(encoding="utf-8")
    assert (runner.rc == 0, runner.status) == (passes, "successful" if passes else "failed"), stdout
    assert message in " ".join(stdout.split()), stdout
    assert aws.requests == []


def test_the_audit_jobs_artifacts_take_the_verdict_gate_to_its_verdict(estate, tmp_path, monkeypatch, collections_path):
    """Audit node, then the Verdict gate node with the audit's set_stats data: the estate's non-compliant stages fail the gate."""
    extravars = dict(POLICY, tracing_sweep_report_dir=str(tmp_path / "reports"))
    runner, dummy = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check", extravars, {}, name="audit")
    assert (runner.rc, runner.status) == (0, "successful")
    published = artifact_data(runner)
    assert published["tracing_sweep_verdict"] == "noncompliant"

    gate, job = awx_job(estate, tmp_path, monkeypatch, collections_path, "verdict_gate.yml", "", published, {}, name="gate")
    stdout = " ".join((job / "stdout").read_text(encoding="utf-8").split())
    assert (gate.rc != 0, gate.status) == (True, "failed"), stdout
    assert "Verdict noncompliant: %d stages non-compliant" % published["tracing_sweep_summary"]["noncompliant"] in stdout
    assert published["tracing_sweep_reports"]["markdown"] in stdout
