# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/rollback.yml: undo an enforcement from its report.json, over the sweep's three-account world.

Each test runs the real ansible-playbook against the local AWS (tools/sweep_world.py seeds it), then
checks the server's state, the requests it saw, what the run printed and published, and the report set
the rollback leaves (its record, and the input to undo it).
"""

from __future__ import annotations

import collections
import copy
import json
import re
import shutil
import tempfile
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO

from sweep_world import AUDIT_TRUTH
from sweep_world import CALLER_ACCOUNT
from sweep_world import POLICY
from sweep_world import PROD_EXTERNAL_ID
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
ENFORCE = "cloudops.apigw_tracing.enforce"
ROLLBACK = "cloudops.apigw_tracing.rollback"
CHANGED = sorted(key for key, (dummy, action) in AUDIT_TRUTH.items() if action == "would_enable")
SUMMARY_TASK = "Sum up the rollback and write its reports, once, on the controller"
ROLLBACK_TASK = "Put this target's stages back to their tracing state before the enforcement, in one step"


@pytest.fixture
def inventory(tmp_path):
    return write_yaml(tmp_path / "hosts.yml", static_inventory())


@pytest.fixture
def rollback(run_playbook, inventory, tmp_path):
    """rollback(report_path, check=False, args=(), report_dir=None, env=None) -> PlaybookRun of the rollback playbook on the
    sweep's inventory; its reports go to report_dir (default: tmp_path/rollback-reports)."""

    def run(report_path, check=False, args=(), report_dir=None, env=None):
        extra = {"tracing_sweep_rollback_report": str(report_path), "tracing_sweep_report_dir": str(report_dir or tmp_path / "rollback-reports")}
        return run_playbook(ROLLBACK, extra, check=check, diff=True, inventory=inventory, args=args, env=env)

    return run


def written_report(report_dir):
    """The rollback's report.json in report_dir, checked against docs/report.schema.json."""
    report = json.loads((Path(report_dir) / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    return report


def rows_by_stage(report):
    """{(account, region, api id, stage): (action, tracing_enabled_before, tracing_enabled_after)} of a report's rows."""
    return {
        (r["account_id"], r["region"], r["rest_api_id"], r["stage_name"]): (r["action"], r["tracing_enabled_before"], r["tracing_enabled_after"])
        for r in report["stages"]
    }


def reasons(report):
    return {(r["account_id"], r["region"], r["rest_api_id"], r["stage_name"]): r["reason"] for r in report["stages"]}


def stats(run):
    entries = [e for e in run.entries if e["task"] == SUMMARY_TASK]
    assert len(entries) == 1, run.describe()
    return entries[0]["result"]["ansible_stats"]["data"]


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
    enforcement_at = json.loads((tmp_path / "enforced" / "report.json").read_text(encoding="utf-8"))["generated_at"]

    # Check mode: one before/after per stage the enforcement changed, nothing written.
    enforced_state = tracing_state(estate)
    estate.clear()
    check = rollback(report, check=True, report_dir=tmp_path / "check")
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
    # Its report set says what it would put back, as an audit (mode audit, would_* actions), in every format.
    checked = written_report(tmp_path / "check")
    assert checked["mode"] == "audit"
    assert rows_by_stage(checked) == {key: ("would_disable", True, False) for key in CHANGED}
    assert checked["rollback_of"] == {
        "report": str(report), "generated_at": enforcement_at,
        "counts": {"changes": 5, "restored": 5, "already": 0, "missing": 0, "failed": 0, "not_in_run": 0},
    }
    assert checked["verdict"] == "noncompliant"
    assert sorted(p.name for p in (tmp_path / "check").iterdir()) == ["report.csv", "report.html", "report.json", "report.md", "report.xml"]
    assert stats(check)["tracing_sweep_reports"]["json"] == str(tmp_path / "check" / "report.json")

    # For real: the server holds the seeded state again, one UpdateStage per changed stage.
    estate.clear()
    real = rollback(report, report_dir=tmp_path / "rolled-back")
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
    # Its report lists each stage it put back with the state it found (before) and left (after), and which report it
    # rolled back; the verdict says every stage is back.
    rolled_back = written_report(tmp_path / "rolled-back")
    assert rolled_back["mode"] == "enforce"
    assert rows_by_stage(rolled_back) == {key: ("disabled", True, False) for key in CHANGED}
    assert rolled_back["rollback_of"]["report"] == str(report) and rolled_back["rollback_of"]["generated_at"] == enforcement_at
    assert rolled_back["verdict"] == "compliant", rolled_back["verdict_reason"]
    assert rolled_back["summary"]["changed"] == 5
    assert {t["host"] for t in rolled_back["targets"] if t["status"] == "ok"} == set(static_inventory()["all"]["hosts"])
    assert stats(real)["tracing_sweep_reports"]["json"] == str(tmp_path / "rolled-back" / "report.json")
    assert "Reports: %s" % (tmp_path / "rolled-back") in real.stdout

    # Again: every stage already has its previous state; nothing is written, nothing changes.
    estate.clear()
    again = rollback(report, report_dir=tmp_path / "again")
    assert again.rc == 0, again.describe()
    assert [r for r in estate.writes() if r.service == "apigateway"] == []
    assert tracing_state(estate) == seeded
    assert counts(again) == {"changes": 5, "restored": 0, "already": 5, "missing": 0, "failed": 0, "not_in_run": 0, "targets_failed": 0}
    assert re.search(r"^prod_us-east-1\s+: ok=\d+\s+changed=0\s", again.stdout, re.MULTILINE), again.stdout
    assert diff_headers(again) == []
    assert all(e["result"].get("changed") is False for e in again.entries if e["task"] == ROLLBACK_TASK)
    assert rows_by_stage(written_report(tmp_path / "again")) == {key: ("none", False, False) for key in CHANGED}

    # The rollback of the rollback: its report is the input to undo it; the stages are as the enforcement left them.
    estate.clear()
    undone = rollback(tmp_path / "rolled-back" / "report.json", report_dir=tmp_path / "undone")
    assert undone.rc == 0, undone.describe()
    assert calls(estate)["UpdateStage"] == len(CHANGED)
    assert tracing_state(estate) == enforced_state
    undo = written_report(tmp_path / "undone")
    assert rows_by_stage(undo) == {key: ("enabled", False, True) for key in CHANGED}
    assert undo["rollback_of"]["report"] == str(tmp_path / "rolled-back" / "report.json")
    assert undo["rollback_of"]["generated_at"] == rolled_back["generated_at"]

    # The prod role's external id is passed as the sweep passes it, and never shown.
    for run in (check, real, again, undone):
        assert PROD_EXTERNAL_ID not in run.stdout + run.stderr
    for directory in ("check", "rolled-back", "again", "undone"):
        assert PROD_EXTERNAL_ID not in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / directory).iterdir())


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
    # The rollback's report holds each change of the enforcement as the rollback left it; the unchanged row is not in it.
    report = written_report(tmp_path / "rollback-reports")
    assert rows_by_stage(report) == {
        ("111111111111", "us-east-1", "ord1111use", "prod"): ("enabled", False, True),
        ("111111111111", "us-east-1", "pay1111use", "v2"): ("none", True, True),
        ("111111111111", "us-east-1", "pay1111use", "gone"): ("skipped", True, True),
        ("333333333333", "us-east-1", "oth3333use", "prod"): ("skipped", True, True),
    }
    why = reasons(report)
    assert why[("111111111111", "us-east-1", "pay1111use", "v2")] == (
        "already at tracing on, its state before the enforcement of 2026-03-15T12:00:00Z (changed back since)"
    )
    assert why[("111111111111", "us-east-1", "pay1111use", "gone")].startswith("missing: the stage (or its REST API) was deleted since the enforcement")
    assert why[("333333333333", "us-east-1", "oth3333use", "prod")] == "not rolled back: no target of this run covers account 333333333333 in us-east-1"
    assert report["rollback_of"]["counts"] == {"changes": 4, "restored": 1, "already": 1, "missing": 1, "failed": 0, "not_in_run": 1}
    assert report["verdict"] == "compliant", report["verdict_reason"]
    assert report["verdict_reason"].endswith("; 1 not rolled back, no target of this run covers them")


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
    # The run failed, after writing its record: what it put back, and each stage it could not, with the cause.
    report = written_report(tmp_path / "rollback-reports")
    assert rows_by_stage(report) == {
        ("111111111111", "eu-west-1", "ord1111euw", "prod"): ("disabled", True, False),
        ("111111111111", "us-east-1", "pay1111use", "prod"): ("error", None, None),
        ("222222222222", "us-east-1", "cat2222use", "dev"): ("error", None, None),
    }
    why = reasons(report)
    assert re.match(r"not put back to tracing on: .*AccessDenied", why[("111111111111", "us-east-1", "pay1111use", "prod")])
    assert why[("222222222222", "us-east-1", "cat2222use", "dev")] == "not put back to tracing off: the target failed before its stages were put back"
    assert [t["host"] for t in report["targets"] if t["status"] == "error"] == ["staging_us-east-1"]
    assert report["verdict"] == "error"
    assert report["verdict_reason"].endswith(": 1 of 6 targets failed, 2 stages not put back (action error)")
    assert "Report: %s." % (tmp_path / "rollback-reports") in run.stdout


def test_a_report_without_changes_has_nothing_to_roll_back(rollback, estate, tmp_path):
    report = write_report(tmp_path / "report.json", [stage_row(CALLER_ACCOUNT, "us-east-1", "leg0000use", "v1", "exempt", False)])

    run = rollback(report)

    assert run.rc == 0, run.describe()
    assert "Nothing to roll back: the enforcement of 2026-03-15T12:00:00Z changed no stage" in run.stdout
    assert estate.requests == []
    # Its record says so too: no stage, every target reached nothing and failed nothing.
    written = written_report(tmp_path / "rollback-reports")
    assert written["stages"] == [] and written["rollback_of"]["counts"]["changes"] == 0
    assert written["summary"]["targets"] == 6 and written["summary"]["targets_failed"] == 0


def test_the_rollback_refuses_to_write_its_reports_over_the_report_it_rolls_back(rollback, estate, tmp_path):
    enforced = tmp_path / "reports"
    enforced.mkdir()
    report = write_report(enforced / "report.json", [
        stage_row("111111111111", "us-east-1", "ord1111use", "staging", "enabled", False),
    ])
    before = report.read_text(encoding="utf-8")

    run = rollback(report, report_dir=enforced)

    assert run.rc != 0
    assert (
        "Nothing was rolled back and no AWS call was made: tracing_sweep_report_dir: must be a directory of its own, not %s, which holds "
        "the report to roll back (%s)" % (enforced, report)
    ) in run.stdout, run.describe()
    assert estate.requests == []
    assert report.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in enforced.iterdir()) == ["report.json"]


def test_an_unwritable_report_dir_stops_the_rollback_before_any_aws_call(rollback, estate, tmp_path):
    report = write_report(tmp_path / "report.json", [stage_row("111111111111", "us-east-1", "ord1111use", "staging", "enabled", False)])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")

    run = rollback(report, report_dir=blocker / "reports")

    assert run.rc != 0
    message = "Nothing was rolled back and no AWS call was made: tracing_sweep_report_dir: cannot write in %s" % (blocker / "reports")
    assert message in run.stdout, run.describe()
    assert estate.requests == []


def test_a_rollback_whose_reports_cannot_be_written_names_every_stage_it_put_back_and_saves_report_json(rollback, estate, tmp_path, request):
    prod = estate.client("apigateway", "us-east-1", account="111111111111")
    prod.update_stage(restApiId="ord1111use", stageName="staging", patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    report = write_report(tmp_path / "report.json", [stage_row("111111111111", "us-east-1", "ord1111use", "staging", "enabled", False)])
    # The directory is writable (so the run starts), but report.json cannot be replaced: it is a directory.
    report_dir = tmp_path / "rolled-back"
    (report_dir / "report.json").mkdir(parents=True)
    # A short TMPDIR (see test_trust: ansible-core 2.21's socket path under it must stay short).
    fallback_dir = Path(tempfile.mkdtemp(prefix="fb-"))
    request.addfinalizer(lambda: shutil.rmtree(fallback_dir, ignore_errors=True))

    run = rollback(report, report_dir=report_dir, env={"TMPDIR": str(fallback_dir)})

    assert run.rc != 0
    assert tracing_state(estate)[("111111111111", "us-east-1", "ord1111use", "staging")] is False
    assert "arn:aws:apigateway:us-east-1::/restapis/ord1111use/stages/staging tracing_enabled true -> false" in run.stdout, run.describe()
    assert "Tracing rollback of the enforcement of 2026-03-15T12:00:00Z" in run.stdout
    saved = re.search(r"report.json was saved to (\S+) instead", run.stdout).group(1)
    assert Path(saved).parent == fallback_dir
    kept = json.loads(Path(saved).read_text(encoding="utf-8"))
    assert rows_by_stage(kept) == {("111111111111", "us-east-1", "ord1111use", "staging"): ("disabled", True, False)}


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
