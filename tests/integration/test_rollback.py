# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/rollback.yml: undo an enforcement from its report.json, over the sweep's three-account world.

Each test runs the real ansible-playbook against the local AWS (tools/sweep_world.py seeds it), then
checks the server's state, the requests it saw and what the run printed and published.
"""

from __future__ import annotations

import collections
import copy
import json
import re
import shutil

import pytest

from sweep_world import AUDIT_TRUTH
from sweep_world import CALLER_ACCOUNT
from sweep_world import POLICY
from sweep_world import PROD_EXTERNAL_ID
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

ENFORCE = "cloudops.apigw_tracing.enforce"
ROLLBACK = "cloudops.apigw_tracing.rollback"
CHANGED = sorted(key for key, (dummy, action) in AUDIT_TRUTH.items() if action == "would_enable")
SUMMARY_TASK = "Publish the rollback's summary (AWX/Tower artifacts)"
ROLLBACK_TASK = "Put this target's stages back to their tracing state before the enforcement, in one step"


@pytest.fixture
def inventory(tmp_path):
    return write_yaml(tmp_path / "hosts.yml", static_inventory())


@pytest.fixture
def rollback(run_playbook, inventory):
    """rollback(report_path, check=False, args=()) -> PlaybookRun of the rollback playbook on the sweep's inventory."""

    def run(report_path, check=False, args=()):
        return run_playbook(ROLLBACK, {"tracing_sweep_rollback_report": str(report_path)}, check=check, diff=True, inventory=inventory, args=args)

    return run


def calls(aws):
    return collections.Counter(r.operation for r in aws.requests)


def summary(run):
    """The tracing_sweep_rollback_summary the run published with set_stats."""
    entries = [e for e in run.entries if e["task"] == SUMMARY_TASK]
    assert len(entries) == 1, run.describe()
    return entries[0]["result"]["ansible_stats"]["data"]["tracing_sweep_rollback_summary"]


def counts(run):
    published = summary(run)
    return {key: published[key] for key in ("changes", "restored", "already", "missing", "failed", "not_in_run", "targets_failed")}


def diff_headers(run):
    """The stages the run's compact diffs name (one line per stage, under its account and region)."""
    return sorted(re.findall(r"^  (\S+): tracing_enabled (?:true|false) -> (?:true|false)$", run.stdout, re.MULTILINE))


def labels(keys):
    return sorted("%s/%s" % (key[2], key[3]) for key in keys)


def write_report(path, stages, mode="enforce"):
    """A report.json with the given stage rows (the fields the rollback reads, as the role writes them)."""
    report = {
        "schema_version": "1.0",
        "generated_at": "2026-03-15T12:00:00Z",
        "mode": mode,
        "summary": {},
        "targets": [],
        "stages": stages,
        "exemptions": [],
    }
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return path


def stage_row(account_id, region, api_id, stage_name, action, before):
    after = (not before) if action in ("enabled", "disabled", "would_enable", "would_disable") else before
    return {
        "account_id": account_id,
        "region": region,
        "rest_api_id": api_id,
        "rest_api_name": "orders",
        "stage_name": stage_name,
        "arn": "arn:aws:apigateway:%s::/restapis/%s/stages/%s" % (region, api_id, stage_name),
        "tracing_enabled_before": before,
        "tracing_enabled_after": after,
        "desired": after,
        "action": action,
        "reason": "default: tracing_sweep_desired=true",
    }


def test_rollback_restores_the_seeded_state_in_check_mode_then_for_real_then_changes_nothing(run_playbook, rollback, estate, inventory, tmp_path):
    seeded = tracing_state(estate)
    extra = dict(copy.deepcopy(POLICY), tracing_sweep_report_dir=str(tmp_path / "enforced"))
    enforced = run_playbook(ENFORCE, extra, inventory=inventory)
    assert enforced.rc == 0, enforced.describe()
    assert tracing_state(estate) != seeded
    # A rollback reads a copy: the next sweep writes over tracing_sweep_report_dir.
    report = shutil.copy(tmp_path / "enforced" / "report.json", tmp_path / "enforcement.json")

    # Check mode: one before/after per stage the enforcement changed, nothing written.
    enforced_state = tracing_state(estate)
    estate.clear()
    check = rollback(report, check=True)
    made = calls(estate)
    assert check.rc == 0, check.describe()
    assert [r for r in estate.writes() if r.service == "apigateway"] == []
    assert made["UpdateStage"] == 0
    assert diff_headers(check) == labels(CHANGED)
    assert counts(check) == {"changes": 5, "restored": 5, "already": 0, "missing": 0, "failed": 0, "not_in_run": 0, "targets_failed": 0}
    assert summary(check)["check_mode"] is True
    assert "would put back 5, already at their previous state 0, missing 0, failed 0, not in this run 0" in check.stdout
    # Only targets with changes reach AWS: the prod and staging targets assume their role; the tooling
    # account's targets (no role, no account id in the inventory) ask STS who they are, then have nothing to do.
    assert made["AssumeRole"] == 4
    assert made["GetCallerIdentity"] == 2
    assert {r.account for r in estate.requests if r.service == "apigateway"} == {"111111111111", "222222222222"}
    assert len([e for e in check.entries if e["task"] == ROLLBACK_TASK and e["result"].get("chosen")]) == 4
    assert tracing_state(estate) == enforced_state

    # For real: the server holds the seeded state again, one UpdateStage per changed stage.
    estate.clear()
    real = rollback(report)
    assert real.rc == 0, real.describe()
    assert calls(estate)["UpdateStage"] == len(CHANGED)
    assert tracing_state(estate) == seeded
    assert counts(real) == {"changes": 5, "restored": 5, "already": 0, "missing": 0, "failed": 0, "not_in_run": 0, "targets_failed": 0}
    assert summary(real)["check_mode"] is False
    assert diff_headers(real) == labels(CHANGED)
    assert re.search(r"^changed: \[prod_us-east-1\]", real.stdout, re.MULTILINE), real.stdout
    # Each target says what it put back.
    assert "ord1111use/staging: tracing off" in real.stdout
    assert "cat2222euw/prod: tracing off" in real.stdout

    # Again: every stage already has its previous state; nothing is written, nothing changes.
    estate.clear()
    again = rollback(report)
    assert again.rc == 0, again.describe()
    assert [r for r in estate.writes() if r.service == "apigateway"] == []
    assert tracing_state(estate) == seeded
    assert counts(again) == {"changes": 5, "restored": 0, "already": 5, "missing": 0, "failed": 0, "not_in_run": 0, "targets_failed": 0}
    assert re.search(r"^prod_us-east-1\s+: ok=\d+\s+changed=0\s", again.stdout, re.MULTILINE), again.stdout
    assert diff_headers(again) == []
    assert all(e["result"].get("changed") is False for e in again.entries if e["task"] == ROLLBACK_TASK)

    # The prod role's external id is passed as the sweep passes it, and never shown.
    for run in (check, real, again):
        assert PROD_EXTERNAL_ID not in run.stdout + run.stderr


def test_stages_changed_back_deleted_or_outside_the_run_are_reported(rollback, estate, tmp_path):
    prod = estate.client("apigateway", "us-east-1", account="111111111111")
    # ord1111use/prod has tracing on: an enforcement that disabled it left it off, so the rollback turns it on.
    prod.update_stage(restApiId="ord1111use", stageName="prod", patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "false"}])
    estate.clear()
    report = write_report(tmp_path / "report.json", [
        stage_row("111111111111", "us-east-1", "ord1111use", "prod", "disabled", True),
        # Already back: pay1111use/v2 has tracing on again (someone re-enabled it after the enforcement).
        stage_row("111111111111", "us-east-1", "pay1111use", "v2", "disabled", True),
        # Deleted since the enforcement.
        stage_row("111111111111", "us-east-1", "pay1111use", "gone", "enabled", False),
        stage_row("111111111111", "us-east-1", "ord1111use", "staging", "none", False),
        # An account that no host of this inventory covers.
        stage_row("333333333333", "us-east-1", "oth3333use", "prod", "enabled", False),
    ])

    run = rollback(report)

    # One write: the stage that needed it. The other accounts and regions had nothing to do.
    assert [r.operation for r in estate.writes() if r.service == "apigateway"] == ["UpdateStage"]
    assert calls(estate)["AssumeRole"] == 1
    assert run.rc == 0, run.describe()
    assert counts(run) == {"changes": 4, "restored": 1, "already": 1, "missing": 1, "failed": 0, "not_in_run": 1, "targets_failed": 0}
    state = tracing_state(estate)
    assert state[("111111111111", "us-east-1", "ord1111use", "prod")] is True
    assert state[("111111111111", "us-east-1", "pay1111use", "v2")] is True
    assert summary(run)["outside"] == ["333333333333 us-east-1 oth3333use/prod, to put back to tracing off"]
    assert "not rolled back, no target of this run covers it: 333333333333 us-east-1 oth3333use/prod, to put back to tracing off" in run.stdout
    assert "pay1111use/v2: tracing already on" in run.stdout
    assert "missing (deleted since the enforcement)" in run.stdout


def test_a_failed_target_or_stage_fails_the_run_after_the_others(rollback, estate, tmp_path):
    estate.deny("AssumeRole", role_arn="arn:aws:iam::222222222222:role/TracingAudit")
    estate.deny("UpdateStage", account="111111111111", region="us-east-1")
    report = write_report(tmp_path / "report.json", [
        stage_row("111111111111", "eu-west-1", "ord1111euw", "prod", "enabled", False),
        stage_row("111111111111", "us-east-1", "pay1111use", "prod", "disabled", True),
        stage_row("222222222222", "us-east-1", "cat2222use", "dev", "enabled", False),
    ])
    prod_euw = estate.client("apigateway", "eu-west-1", account="111111111111")
    prod_euw.update_stage(restApiId="ord1111euw", stageName="prod", patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    estate.clear()

    run = rollback(report)

    assert run.rc != 0
    assert counts(run) == {"changes": 3, "restored": 1, "already": 0, "missing": 0, "failed": 2, "not_in_run": 0, "targets_failed": 1}
    assert tracing_state(estate)[("111111111111", "eu-west-1", "ord1111euw", "prod")] is False
    assert "2 of 3 stages were not rolled back and 1 of 6 targets failed; the other targets were rolled back." in run.stdout, run.describe()
    assert "staging_us-east-1: Could not assume role arn:aws:iam::222222222222:role/TracingAudit" in run.stdout
    assert re.search(r"prod_us-east-1 pay1111use/prod: .*AccessDenied", run.stdout), run.stdout
    assert "cat2222use/dev: the target failed before its stages were put back" in run.stdout


def test_a_report_without_changes_has_nothing_to_roll_back(rollback, estate, tmp_path):
    report = write_report(tmp_path / "report.json", [stage_row(CALLER_ACCOUNT, "us-east-1", "leg0000use", "v1", "exempt", False)])

    run = rollback(report)

    assert run.rc == 0, run.describe()
    assert "Nothing to roll back: the enforcement of 2026-03-15T12:00:00Z changed no stage" in run.stdout
    assert estate.requests == []


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"tracing_sweep_rollback_report \S+/nowhere/report\.json does not exist or is not a file"),
        ("{\"schema_version\": \"1.0\",", r"report\.json is not JSON \(Expecting property name enclosed in double quotes"),
        ("audit", r"report\.json is the report of an audit \(mode audit\), which changed nothing, so there is nothing to roll back"),
    ],
    ids=["bad-path", "not-json", "audit-report"],
)
def test_a_report_that_cannot_be_rolled_back_is_refused_before_any_aws_call(rollback, estate, tmp_path, content, message):
    path = tmp_path / "report.json"
    if content is None:
        path = tmp_path / "nowhere" / "report.json"
    elif content == "audit":
        write_report(path, [stage_row("111111111111", "us-east-1", "ord1111use", "staging", "would_enable", False)], mode="audit")
    else:
        path.write_text(content, encoding="utf-8")

    run = rollback(path)

    assert run.rc != 0
    assert re.search("Nothing was rolled back: .*" + message, run.stdout), run.describe()
    assert estate.requests == []
