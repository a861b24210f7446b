# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials that stop working, permissions that are missing, and secrets that must never show.

The sweep runs over the three-account estate of tools/sweep_world.py, through the AwsProxy, which
answers like AWS for expired or unknown credentials, and with LocalAws.deny() for AccessDenied.
Each failure must stay with the target (or REST API, or stage) it belongs to, and say its cause.

The last tests run the audit the way AWX does, through ansible-runner, and search every artifact
it keeps for the credentials and the external id the sweep handled.
test_sweep.py already covers AccessDenied on AssumeRole, GetRestApis and UpdateStage per target,
and the secrets in ansible-playbook's own -vvv output.
"""

from __future__ import annotations

import copy
import re

import pytest

from awx_runner import clear_caller_environment
from awx_runner import files_holding
from awx_runner import job_environment
from awx_runner import run_job
from awx_runner import secrets_the_sweep_handled
from sweep_run import Sweep
from sweep_world import AUDIT_TRUTH
from sweep_world import POLICY
from sweep_world import PROD_EXTERNAL_ID
from sweep_world import role_arn
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
HOSTS = ("prod_us-east-1", "prod_eu-west-1", "staging_us-east-1", "staging_eu-west-1", "tooling_us-east-1", "tooling_eu-west-1")
ROLE_HOSTS = HOSTS[:4]

# What AWS answers for each kind of rejected credentials (STS speaks XML, API Gateway JSON), and the
# word its message uses.
REJECTED = {
    "expired": {"sts": "ExpiredToken", "apigateway": "ExpiredTokenException", "says": "security token included in the request is expired"},
    "invalid": {"sts": "InvalidClientTokenId", "apigateway": "UnrecognizedClientException", "says": "security token included in the request is invalid"},
}

# The caller's own credentials in the ansible-runner tests. Distinctive values (not "testing", which is a
# common word): the tests look for them in every artifact. moto does not check secrets or tokens.
CALLER_SECRET_KEY = "caller-secret-9Zk3uVq7Lw2xR8"
CALLER_SESSION_TOKEN = "caller-session-token-Qp7wX2mN4dK6"


@pytest.fixture
def sweep(run_playbook, tmp_path, estate, aws_proxy):
    """sweep(playbook, policy=POLICY, args=()) -> Sweep, every AWS call going through the proxy."""
    counter = iter(range(1, 100))

    def run(playbook, policy=None, args=()):
        report_dir = tmp_path / ("reports%d" % next(counter))
        extra_vars = copy.deepcopy(POLICY if policy is None else policy)
        extra_vars["tracing_sweep_report_dir"] = str(report_dir)
        inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
        result = run_playbook(playbook, extra_vars, diff=True, inventory=inventory, args=args, env={"AWS_ENDPOINT_URL": aws_proxy.endpoint_url})
        return Sweep(result, report_dir)

    return run


def expire_sessions_once_assumed(proxy, monkeypatch, kinds):
    """Make the proxy reject the credentials of chosen role sessions as soon as STS has issued them.

    ``kinds`` maps (account id, region) to "expired" or "invalid". The keys moto hands out are random,
    so they are caught in the AssumeRole answer, where the proxy learns them anyway: the target's
    role is assumed normally, and its first API Gateway call meets credentials that no longer work,
    as when a session expires during a long run.
    """
    learn = proxy.learn

    def learn_and_reject(record, answer):
        learn(record, answer)
        if record.operation != "AssumeRole" or answer.status != 200:
            return
        account = re.search(rb":sts::(\d{12}):assumed-role/", answer.body).group(1).decode()
        kind = kinds.get((account, record.region))
        if kind:
            proxy.reject_credentials(re.search(rb"<AccessKeyId>\s*([^<\s]+)", answer.body).group(1).decode(), kind)

    monkeypatch.setattr(proxy, "learn", learn_and_reject)


def deny_requests_to(aws, monkeypatch, operation, path_part):
    """Answer AccessDenied to ``operation`` requests whose path holds ``path_part`` (one REST API), on top of deny() rules."""
    denies = aws.denies
    monkeypatch.setattr(aws, "denies", lambda request: denies(request) or (request.operation == operation and path_part in request.path))


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_rejected_controller_credentials_fail_every_target_with_their_cause(sweep, aws_proxy, kind):
    """The controller's own keys are refused by STS: every target stops there, and says why."""
    aws_proxy.reject_credentials("testing", kind)

    run = sweep(AUDIT)

    assert run.run.rc != 0
    targets = run.targets()
    assert {host: t["status"] for host, t in targets.items()} == {host: "error" for host in HOSTS}
    other = REJECTED["invalid" if kind == "expired" else "expired"]
    for host, target in targets.items():
        error = target["error"]
        assert REJECTED[kind]["sts"] in error and REJECTED[kind]["says"] in error, (host, error)
        assert other["sts"] not in error and other["says"] not in error, (host, error)
        if host in ROLE_HOSTS:
            assert error.startswith("Could not assume role %s in %s (sts:AssumeRole" % (role_arn(target["account_id"]), target["region"])), error
        else:
            assert "GetCallerIdentity" in error, error
    assert run.report["stages"] == []
    assert run.report["summary"]["targets_failed"] == 6
    assert "6 of 6 targets failed" in run.run.stdout
    # Refused credentials are not retried, and nothing reaches API Gateway without credentials.
    assert aws_proxy.counts(service="sts") == {"AssumeRole": 4, "GetCallerIdentity": 2}
    assert aws_proxy.counts() == {}
    assert aws_proxy.outcomes() == {"rejected": 6}


def test_a_target_whose_session_stops_working_fails_alone(sweep, aws_proxy, monkeypatch):
    """Two role sessions stop working after AssumeRole (one expired, one unknown): only those two targets fail."""
    expire_sessions_once_assumed(aws_proxy, monkeypatch, {("222222222222", "us-east-1"): "expired", ("111111111111", "eu-west-1"): "invalid"})

    run = sweep(AUDIT)

    assert run.run.rc != 0
    targets = run.targets()
    assert {host: t["status"] for host, t in targets.items()} == {
        "prod_us-east-1": "ok", "prod_eu-west-1": "error", "staging_us-east-1": "error", "staging_eu-west-1": "ok",
        "tooling_us-east-1": "ok", "tooling_eu-west-1": "ok"}
    expired, invalid = targets["staging_us-east-1"]["error"], targets["prod_eu-west-1"]["error"]
    assert REJECTED["expired"]["apigateway"] in expired and REJECTED["expired"]["says"] in expired, expired
    assert REJECTED["invalid"]["apigateway"] in invalid and REJECTED["invalid"]["says"] in invalid, invalid
    assert REJECTED["invalid"]["apigateway"] not in expired and REJECTED["expired"]["apigateway"] not in invalid
    assert expired.startswith("Reading the REST APIs of us-east-1 failed: ") and invalid.startswith("Reading the REST APIs of eu-west-1 failed: ")

    # Every stage of the healthy targets is reported as usual; the failed targets have none.
    failed = {("222222222222", "us-east-1"), ("111111111111", "eu-west-1")}
    expected = {key: value for key, value in AUDIT_TRUTH.items() if key[:2] not in failed}
    assert {key: (row["tracing_enabled_before"], row["action"]) for key, row in run.rows().items()} == expected
    summary = run.report["summary"]
    assert summary["targets_failed"] == 2 and summary["stage_errors"] == 0 and summary["errors"] == 2 and summary["stages"] == len(expected)
    assert "2 of 6 targets failed" in run.run.stdout
    # Each failed target tried its credentials once, and stopped.
    rejected = [(r.operation, r.region, r.account) for r in aws_proxy.requests if r.outcome == "rejected"]
    assert sorted(rejected) == [("GetRestApis", "eu-west-1", "111111111111"), ("GetRestApis", "us-east-1", "222222222222")]


def test_access_denied_on_read_and_write_stays_with_the_api_and_the_stage(sweep, estate, aws_proxy, monkeypatch):
    """GetStages denied on one REST API, UpdateStage denied in one target: each is an error row naming the missing permission."""
    deny_requests_to(estate, monkeypatch, "GetStages", "/restapis/pay1111use/")
    estate.deny("UpdateStage", account="222222222222", region="us-east-1")
    policy = copy.deepcopy(POLICY)
    # Turn one stage of the write-denied target off, so that the denied write of a disabling is seen too.
    policy["tracing_sweep_rules"].insert(0, {
        "name": "catalog prod is sampled elsewhere",
        "match": {"account_id": "222222222222", "region": "us-east-1", "api_name": "catalog", "stage_name": "prod"},
        "tracing_enabled": False})

    run = sweep(ENFORCE, policy=policy)

    assert run.run.rc != 0
    rows = run.rows()
    targets = run.targets()

    # Read: the REST API whose stages could not be read is one error row, its sibling is swept.
    unread = rows[("111111111111", "us-east-1", "pay1111use", "*")]
    assert unread["action"] == "error"
    assert "AccessDenied" in unread["reason"] and "apigateway:GET" in unread["reason"] and "pay1111use" in unread["reason"], unread
    assert [key for key in rows if key[2] == "pay1111use"] == [("111111111111", "us-east-1", "pay1111use", "*")]
    assert rows[("111111111111", "us-east-1", "ord1111use", "prod")]["action"] == "none"
    assert rows[("111111111111", "us-east-1", "ord1111use", "staging")]["action"] == "enabled"
    assert targets["prod_us-east-1"]["status"] == "ok"
    # Stages that could not be read are never written blindly.
    assert not [r for r in aws_proxy.requests if r.operation == "UpdateStage" and "/pay1111use/" in r.path]

    # Write: both stages of the denied target are error rows; enabling also needs the service-linked role.
    enabling = rows[("222222222222", "us-east-1", "cat2222use", "dev")]
    disabling = rows[("222222222222", "us-east-1", "cat2222use", "prod")]
    assert enabling["action"] == "error" and disabling["action"] == "error"
    assert "apigateway:PATCH" in enabling["reason"] and "iam:CreateServiceLinkedRole" in enabling["reason"], enabling
    assert "apigateway:PATCH" in disabling["reason"] and "iam:CreateServiceLinkedRole" not in disabling["reason"], disabling
    assert rows[("222222222222", "us-east-1", "irp2222use", "dev")]["action"] == "skipped"
    # Its stages were read and its changes tried: stage errors, each with its cause, not a failed target.
    assert targets["staging_us-east-1"]["status"] == "ok"

    # The other targets converged.
    for host in ("prod_eu-west-1", "staging_eu-west-1", "tooling_us-east-1", "tooling_eu-west-1"):
        assert targets[host]["status"] == "ok", targets[host]
    estate.allow_all()
    monkeypatch.undo()
    state = tracing_state(estate)
    assert state[("111111111111", "us-east-1", "ord1111use", "staging")] is True
    assert state[("111111111111", "eu-west-1", "ord1111euw", "prod")] is True
    assert state[("222222222222", "eu-west-1", "cat2222euw", "prod")] is True
    assert state[("111111111111", "us-east-1", "pay1111use", "prod")] is False
    assert state[("222222222222", "us-east-1", "cat2222use", "dev")] is False
    assert state[("222222222222", "us-east-1", "cat2222use", "prod")] is True
    # Three error rows, each counted once.
    assert run.report["summary"]["stage_errors"] == 3 and run.report["summary"]["errors"] == 3
    assert run.report["summary"]["targets_failed"] == 0 and run.report["verdict"] == "error"


# ansible-runner, as AWX runs a job
def runner_job(estate, tmp_path, monkeypatch, collections_path, playbook, cmdline, limit=None, settings=None):
    """Run ``playbook`` with ansible-runner in a fresh private data dir; returns (runner, private data dir, report dir).

    The caller's credentials come in through the environment, as an AWX AWS credential injects them.
    """
    clear_caller_environment(monkeypatch)
    private = tmp_path / "runner"
    (private / "inventory").mkdir(parents=True)
    inventory = write_yaml(private / "inventory" / "hosts.yml", static_inventory())
    report_dir = tmp_path / "reports"
    extravars = copy.deepcopy(POLICY)
    extravars["tracing_sweep_report_dir"] = str(report_dir)
    envvars = job_environment(tmp_path, collections_path, estate.endpoint_url, CALLER_SECRET_KEY, CALLER_SESSION_TOKEN)
    envvars.update(settings or {})
    runner = run_job(private, playbook, inventory, envvars, extravars, cmdline, limit=limit)
    return runner, private, report_dir


def test_no_secret_in_any_ansible_runner_artifact(estate, tmp_path, monkeypatch, collections_path):
    """An AWX-style check job (--diff -vvv) over the whole estate: the secrets the sweep handled are in no artifact and no report.

    Searched: every file under artifacts/job/ (job_events/*.json, stdout, stderr, command, rc,
    status, fact_cache/) and every report the run wrote. Searched for: the secret key and the
    session token of every role session moto issued to the run, and the prod role's external id.
    The caller's own secret key and session token are allowed in exactly one place:
    artifacts/job/command, where ansible-runner records the whole environment it started
    ansible-playbook with (it has no setting to leave it out; the caller, such as AWX, owns that
    directory and those credentials). The inventory in the private data dir is the caller's input
    and holds the external id by design; it is not searched.
    """
    # ansible-core 2.21 adds "invocation" (the module arguments -vvv shows) only with INJECT_INVOCATION; 2.19 always does
    # and ignores the variable.
    runner, private, report_dir = runner_job(
        estate, tmp_path, monkeypatch, collections_path, AUDIT, "--diff -vvv", settings={"ANSIBLE_INJECT_INVOCATION": "true"})

    artifacts = private / "artifacts" / "job"
    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    stdout = (artifacts / "stdout").read_text(encoding="utf-8")
    # -vvv was in effect (every step's whole result is shown), there were events, and the reports were written.
    assert '"host_failures": {}' in stdout and '"run_id": ' in stdout, stdout[-3000:]
    assert len(list((artifacts / "job_events").glob("*.json"))) > 50
    assert sorted(p.name for p in report_dir.iterdir()) == ["report.csv", "report.html", "report.json", "report.md", "report.xml"]
    # Nothing was written to env/ (suppress_env_files).
    assert not (private / "env").exists()

    sessions, secrets = secrets_the_sweep_handled(estate)
    # The four role targets assumed their role, prod's with the external id: there was something to leak.
    assert len(sessions) == 4
    assert sorted(s["external_id"] or "" for s in sessions) == ["", "", PROD_EXTERNAL_ID, PROD_EXTERNAL_ID]
    leaks = {label: files_holding([artifacts, report_dir], value) for label, value in secrets.items()}
    assert {label: where for label, where in leaks.items() if where} == {}

    for value in (CALLER_SECRET_KEY, CALLER_SESSION_TOKEN):
        assert files_holding([artifacts, report_dir], value) == {"job/command"}


def test_no_secret_in_job_events_with_display_args_to_stdout(estate, tmp_path, monkeypatch, collections_path):
    """ANSIBLE_DISPLAY_ARGS_TO_STDOUT=true, a setting a project's ansible.cfg may turn on, on one role target.

    The callbacks then record every task's templated arguments; the tasks that carry the assumed role's keys
    run with no_log in that setting.
    """
    runner, private, report_dir = runner_job(
        estate, tmp_path, monkeypatch, collections_path, AUDIT, "--diff", limit="prod_us-east-1",
        settings={"ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true"})

    artifacts = private / "artifacts" / "job"
    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    sessions, secrets = secrets_the_sweep_handled(estate)
    assert len(sessions) == 1
    leaks = {label: files_holding([artifacts, report_dir], value) for label, value in secrets.items()}
    assert {label: where for label, where in leaks.items() if where} == {}
