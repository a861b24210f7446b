# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host status: what the PLAY RECAP, AWX's host view and a callback's per-host results say of each host.

A target that failed ends failed on its own host, with its own error, after the reports are written; a healthy
target ends ok. The run as a whole (errors summed up, non-compliance, regressions, the change guard...) fails on
localhost, in the playbook's last play, a host that is no target. A --limit that leaves localhost out skips that
play: the run as a whole then fails once, in the target play. Real ansible-playbook, the estate of
tools/sweep_world.py on moto; a target is made to fail by denying its role's sts:AssumeRole.
"""

from __future__ import annotations

import copy
import re

import pytest

from sweep_run import Sweep
from sweep_world import POLICY
from sweep_world import role_arn
from sweep_world import static_inventory
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
ROLLBACK = "cloudops.apigw_tracing.rollback"
REGION = "cloudops.apigw_tracing.region_tracing"
# Four targets: two accounts with a role each, in two regions.
TARGETS = ["prod_us-east-1", "prod_eu-west-1", "staging_us-east-1", "staging_eu-west-1"]
STAGING_ROLE = role_arn("222222222222")
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=\d+\s+rescued=(\d+)", re.MULTILINE)
TARGET_FAILURE_TASK = "Fail this target when it failed (and the run, when no play on localhost judges it)"
RUN_FAILURE_TASK = "Fail when the run as a whole failed"


def four_targets():
    inventory = static_inventory()
    inventory["all"]["hosts"] = {host: host_vars for host, host_vars in inventory["all"]["hosts"].items() if host in TARGETS}
    return inventory


def recap(run):
    """{host: (failed, rescued)} from the PLAY RECAP; every host reachable."""
    found = {host: (int(unreachable), int(failed), int(rescued)) for host, unreachable, failed, rescued in RECAP_LINE.findall(run.stdout)}
    assert found and all(unreachable == 0 for unreachable, dummy, dummy2 in found.values()), run.describe()
    return {host: (failed, rescued) for host, (dummy, failed, rescued) in found.items()}


def failures(run):
    """[(host, task, message)] of every failed task that was not rescued (the role rescues a target's own steps)."""
    rescued = {"Reach the target's account, read every REST API stage and decide each one's tracing state",
               "Converge the stages that differ from their desired state",
               "Put this target's stages back to their tracing state before the enforcement, in one step",
               # Failed when a healthy target must carry the run's failure (no play on localhost judges it).
               "Write the report of every target, once, on the controller"}
    return [(entry["host"], entry["task"], entry["result"].get("msg", "")) for entry in run.entries
            if entry["status"] == "failed" and entry["task"] not in rescued]


@pytest.fixture
def sweep(run_playbook, tmp_path, estate):
    """sweep(playbook, extra=None, check=False, args=(), report_dir=None, inventory=None) -> Sweep on the four targets."""
    counter = iter(range(1, 100))

    def run(playbook, extra=None, check=False, args=(), report_dir=None, inventory=None):
        report_dir = report_dir or tmp_path / ("reports%d" % next(counter))
        extra_vars = copy.deepcopy(POLICY)
        extra_vars["tracing_sweep_report_dir"] = str(report_dir)
        extra_vars.update(extra or {})
        if inventory is None:
            inventory = write_yaml(tmp_path / "hosts.yml", four_targets())
        return Sweep(run_playbook(playbook, extra_vars, check=check, inventory=inventory, args=args), report_dir)

    return run


@pytest.mark.parametrize("playbook", [AUDIT, ENFORCE])
def test_failed_targets_fail_on_their_own_hosts_and_the_run_on_localhost(sweep, estate, playbook):
    """2 of 4 targets failed: those two are failed=1 with their own error, the healthy two failed=0, localhost failed=1."""
    estate.deny("AssumeRole", role_arn=STAGING_ROLE)

    run = sweep(playbook)

    assert run.run.rc == 2, run.run.describe()
    targets = run.targets()
    assert {host: target["status"] for host, target in targets.items()} == {
        "prod_us-east-1": "ok", "prod_eu-west-1": "ok", "staging_us-east-1": "error", "staging_eu-west-1": "error"}
    assert recap(run.run) == {
        "localhost": (1, 0),
        "prod_us-east-1": (0, 0), "prod_eu-west-1": (0, 0),
        # The step that failed was rescued, so that the target is reported; the target fails after the report.
        "staging_us-east-1": (1, 1), "staging_eu-west-1": (1, 1),
    }
    found = failures(run.run)
    assert sorted(found) == sorted([
        ("staging_us-east-1", TARGET_FAILURE_TASK, targets["staging_us-east-1"]["error"]),
        ("staging_eu-west-1", TARGET_FAILURE_TASK, targets["staging_eu-west-1"]["error"]),
        ("localhost", RUN_FAILURE_TASK, found[-1][2]),
    ]), run.run.describe()
    assert targets["staging_eu-west-1"]["error"].startswith("Could not assume role %s in eu-west-1" % STAGING_ROLE)
    # The run as a whole: the errors summed up, once, on localhost, after every target.
    assert found[-1][0] == "localhost" and found[-1][2].startswith("2 of 4 targets failed"), found
    assert run.report["verdict"] == "error"


def test_a_stage_that_failed_fails_its_own_target(sweep, estate):
    """A target whose stages could not be read is swept (status ok) but has stage errors: it fails on its own host too."""
    estate.deny("GetStages", account="111111111111", region="eu-west-1")

    run = sweep(AUDIT)

    assert run.run.rc == 2, run.run.describe()
    assert run.targets()["prod_eu-west-1"]["status"] == "ok"
    # Its own step failed (rescued, so that it is reported); it fails after the report.
    assert recap(run.run) == {"localhost": (1, 0), "prod_us-east-1": (0, 0), "prod_eu-west-1": (1, 1),
                              "staging_us-east-1": (0, 0), "staging_eu-west-1": (0, 0)}
    own = [message for host, task, message in failures(run.run) if host == "prod_eu-west-1"]
    assert len(own) == 1 and own[0].startswith("1 stage of this target failed"), own
    assert "ord1111euw" in own[0] and "AccessDenied" in own[0], own


def test_without_fail_on_error_no_host_fails_for_an_error(sweep, estate):
    """tracing_sweep_fail_on_error: false keeps its meaning: failed targets are reported, and nothing fails."""
    estate.deny("AssumeRole", role_arn=STAGING_ROLE)

    run = sweep(AUDIT, extra={"tracing_sweep_fail_on_error": False})

    assert run.run.rc == 0, run.run.describe()
    assert run.report["summary"]["targets_failed"] == 2
    assert {host: failed for host, (failed, dummy) in recap(run.run).items()} == dict.fromkeys(["localhost"] + TARGETS, 0)


def test_a_run_wide_judgement_without_a_failed_target_fails_only_localhost(sweep):
    """tracing_sweep_fail_on_noncompliant with every target healthy: no target is failed, localhost is."""
    run = sweep(AUDIT, extra={"tracing_sweep_fail_on_noncompliant": True})

    assert run.run.rc == 2, run.run.describe()
    assert run.report["verdict"] == "noncompliant"
    assert recap(run.run) == dict(dict.fromkeys(TARGETS, (0, 0)), localhost=(1, 0))
    assert [(host, task) for host, task, dummy in failures(run.run)] == [("localhost", RUN_FAILURE_TASK)]
    assert re.match(r"\d+ stages do not have their desired tracing state", failures(run.run)[0][2])


def test_a_limit_that_leaves_localhost_out_still_fails_the_run_once(sweep, estate):
    """--limit filters the plays on localhost out too: the run as a whole fails in the target play, once, on a
    target that failed anyway, and a healthy target stays healthy."""
    estate.deny("AssumeRole", role_arn=STAGING_ROLE)

    run = sweep(AUDIT, args=["--limit", "prod_us-east-1,staging_us-east-1"])

    assert run.run.rc == 2, run.run.describe()
    assert "localhost" not in recap(run.run)
    assert recap(run.run) == {"prod_us-east-1": (0, 0), "staging_us-east-1": (1, 1)}
    found = failures(run.run)
    assert [(host, task) for host, task, dummy in found] == [("staging_us-east-1", TARGET_FAILURE_TASK)], found
    message = found[0][2]
    error = run.targets()["staging_us-east-1"]["error"]
    assert message.startswith(error.rstrip(". ")) and "The run as a whole failed too: 1 of 2 targets failed" in message, message
    assert message.count("targets failed") == 1


def test_a_limit_that_leaves_localhost_out_fails_a_run_wide_judgement_on_the_first_target(sweep):
    """Without a failed target, the run as a whole fails on the first target of the play, as it always did."""
    run = sweep(AUDIT, extra={"tracing_sweep_fail_on_noncompliant": True}, args=["--limit", "prod_*"])

    assert run.run.rc == 2, run.run.describe()
    # The report task failed the run in this play and was rescued on the first target, which then fails.
    assert recap(run.run) == {"prod_us-east-1": (1, 1), "prod_eu-west-1": (0, 0)}
    found = failures(run.run)
    assert [(host, task) for host, task, dummy in found] == [("prod_us-east-1", TARGET_FAILURE_TASK)]
    assert "do not have their desired tracing state" in found[0][2]


def test_a_limit_that_keeps_localhost_judges_there(sweep):
    run = sweep(AUDIT, extra={"tracing_sweep_fail_on_noncompliant": True}, args=["--limit", "prod_*,localhost"])

    assert run.run.rc == 2, run.run.describe()
    assert recap(run.run) == {"prod_us-east-1": (0, 0), "prod_eu-west-1": (0, 0), "localhost": (1, 0)}


def test_when_every_target_failed_the_run_still_names_its_failure_once(sweep, estate):
    """ansible-playbook runs no play after one whose every host failed: the run as a whole fails with the last target."""
    estate.deny("AssumeRole", role_arn=STAGING_ROLE)

    run = sweep(AUDIT, args=["--limit", "staging_*,localhost"])

    assert run.run.rc == 2, run.run.describe()
    assert recap(run.run) == {"staging_us-east-1": (1, 1), "staging_eu-west-1": (1, 1), "localhost": (0, 0)}
    found = failures(run.run)
    assert sorted(host for host, dummy, dummy2 in found) == ["staging_eu-west-1", "staging_us-east-1"]
    assert sum("The run as a whole failed too: 2 of 2 targets failed" in message for dummy, dummy2, message in found) == 1


def test_a_role_in_a_play_of_your_own_still_fails_the_run(sweep, tmp_path):
    """No play on localhost follows: the run as a whole fails in the role's own play, as before."""
    playbook = tmp_path / "own.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  check_mode: true\n  roles:\n    - role: cloudops.apigw_tracing.tracing_sweep\n",
        encoding="utf-8")

    run = sweep(str(playbook), extra={"tracing_sweep_fail_on_noncompliant": True})

    assert run.run.rc == 2, run.run.describe()
    assert recap(run.run) == dict(dict.fromkeys(TARGETS, (0, 0)), **{"prod_us-east-1": (1, 1)})
    assert len(failures(run.run)) == 1


def test_a_rollback_fails_a_target_it_could_not_roll_back_on_its_host(sweep, estate):
    """The rollback: the target whose role cannot be assumed fails on its own host, the rollback as a whole on localhost."""
    enforce = sweep(ENFORCE)
    assert enforce.run.rc == 0, enforce.run.describe()
    estate.deny("AssumeRole", role_arn=STAGING_ROLE)

    rollback = sweep(ROLLBACK, extra={"tracing_sweep_rollback_report": str(enforce.report_dir / "report.json")})

    assert rollback.run.rc == 2, rollback.run.describe()
    statuses = recap(rollback.run)
    assert statuses["localhost"] == (1, 0)
    assert {host: failed for host, (failed, dummy) in statuses.items() if host != "localhost"} == {
        "prod_us-east-1": 0, "prod_eu-west-1": 0, "staging_us-east-1": 1, "staging_eu-west-1": 1}
    found = failures(rollback.run)
    assert sorted(host for host, dummy, dummy2 in found) == ["localhost", "staging_eu-west-1", "staging_us-east-1"]
    assert all(message.startswith("Could not assume role %s" % STAGING_ROLE) for host, dummy, message in found if host != "localhost")


def test_region_tracing_judges_the_run_on_localhost(run_playbook, estate, tmp_path):
    """The one region's target is healthy: the run's non-compliance fails localhost, not the target."""
    run = run_playbook(REGION, {"apigw_tracing_region": "us-east-1", "tracing_sweep_fail_on_noncompliant": True,
                                "tracing_sweep_report_dir": str(tmp_path / "reports")}, check=True)

    assert run.rc == 2, run.describe()
    assert recap(run) == {"localhost": (1, 0), "region_tracing_us-east-1": (0, 0)}
