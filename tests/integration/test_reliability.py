# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sweep when API Gateway misbehaves or the run is cut short (worlds from tools/fault_world.py).

Every run goes through tests/support/aws_proxy.py with API Gateway's quota on (10 requests/s, burst 40,
per account and region) and one fork per target. The outcome is always checked against the seeded
truth and against the server itself, read directly from the local AWS, never through the proxy.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest
import yaml

import fault_world
from aws_proxy import FAULT_KINDS
from aws_proxy import Faults
from aws_proxy import Quota
from sweep_run import Sweep

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"

# World C: 12 account-regions x 50 REST APIs x 2 stages.
WORLD_C = fault_world.targets()
# The interrupted enforcement needs many stages left to change when it is killed, not World C's size,
# which took it over three minutes on a 2-core machine: two accounts (one through a role, one with the
# caller's own credentials) in two regions, 200 of 400 stages off, do the same in well under half that.
SMALL_WORLD = fault_world.targets([fault_world.ACCOUNTS[0], fault_world.CALLER_ACCOUNT])

# A fixed seed, so that a failing run can be replayed with the same sequence of faults.
FAULT_SEED = 20240611
# Short, so that the slow requests cost little time; the point is that they are answered late, not never.
SLOW_SECONDS = 0.3
SERVER_FAULTS = ("500", "502", "503")

# The interrupted enforcement is killed once this many UpdateStage calls reached the server: enough to
# leave a real mix of changed and unchanged stages behind, far from all 200.
KILL_AFTER_UPDATES = 20
# Only a stop for a run that hangs or a server that never settles; no test asserts on time.
SAFETY_TIMEOUT = 300
POLL_SECONDS = 0.05

RETRY_LINE = re.compile(r"API Gateway requests: (\d+) sent; answers throttled (\d+),\s+server errors (\d+), no answer (\d+)")
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=\d+\s+rescued=(\d+)", re.MULTILINE)


class World:
    """A seeded selection of fault_world's targets, and what a sweep of it must find."""

    def __init__(self, aws, where, tmp_path):
        self.aws = aws
        self.where = where
        self.truth = fault_world.truth(where)
        self.off = frozenset(key for key, enabled in self.truth.items() if not enabled)
        self.hosts = sorted(fault_world.host_name(account, region) for account, region in where)
        self.inventory = tmp_path / "hosts.yml"
        self.inventory.write_text(yaml.safe_dump(fault_world.static_inventory(where), sort_keys=False), encoding="utf-8")
        fault_world.seed_world(aws, where)
        aws.clear()

    def state(self):
        """What the server holds now, read without the proxy."""
        return fault_world.tracing_state(self.aws, self.where)

    def extra_vars(self, report_dir):
        # An enforcement here changes hundreds of stages; the guard's default (100) would refuse it.
        return {"tracing_sweep_max_changes": len(self.truth), "tracing_sweep_report_dir": str(report_dir)}

    def args(self):
        # One fork per target: every account-region is swept at once, each against its own quota bucket.
        return ["-i", str(self.inventory), "--forks", str(len(self.hosts))]


@dataclass
class WorldSweep(Sweep):
    """A sweep of a generated world, checked against that world's truth."""

    world: World

    def rows(self):
        """(account, region, api id, stage) -> report row; fails if a stage is listed twice."""
        rows = {}
        for row in self.report["stages"]:
            key = (row["account_id"], row["region"], row["rest_api_id"], row["stage_name"])
            assert key not in rows, "stage listed twice in the report: %s" % (key,)
            rows[key] = row
        return rows

    def retry_line(self):
        """(sent, throttled, server errors, no answer) from the summary the run printed."""
        found = RETRY_LINE.findall(self.run.stdout)
        assert len(found) == 1, "expected one 'API Gateway requests' line; %s" % self.run.describe()
        return tuple(int(value) for value in found[0])

    def assert_no_failure(self):
        """The run passed and no task failed on any host, not even one the role rescued."""
        assert self.run.rc == 0, self.run.describe()
        assert "FAILED!" not in self.run.stdout and "fatal:" not in self.run.stdout, self.run.describe()
        recap = {host: (int(unreachable), int(failed), int(rescued)) for host, unreachable, failed, rescued in RECAP_LINE.findall(self.run.stdout)}
        # localhost is the playbook's first play, which stops a run whose inventory gave no host.
        assert recap == dict(dict.fromkeys(self.world.hosts, (0, 0, 0)), localhost=(0, 0, 0)), self.run.describe()

    def assert_summary_consistent(self):
        """Every stage of the world counted once, no target and no stage failed; returns the summary."""
        summary = self.report["summary"]
        assert summary["targets"] == len(self.world.hosts) and summary["targets_failed"] == 0, summary
        assert summary["stages"] == len(self.world.truth), summary
        assert summary["compliant"] + summary["noncompliant"] + summary["exempt"] + summary["skipped"] + summary["errors"] == summary["stages"], summary
        assert summary["errors"] == 0, summary
        return summary

    def assert_counts_honest(self, proxy):
        """The run's own count of its API Gateway requests and their answers is what the proxy saw."""
        outcomes = [r.outcome for r in proxy.requests if r.service == "apigateway"]
        seen = (len(outcomes), outcomes.count("throttled"), sum(outcomes.count(kind) for kind in SERVER_FAULTS), outcomes.count("drop"))
        assert self.retry_line() == seen, self.run.stdout


@pytest.fixture
def sweep(run_playbook, aws_proxy, tmp_path):
    """sweep(world, playbook) -> Sweep: the playbook over the world through the proxy, the proxy's log cleared first."""
    counter = iter(range(1, 100))

    def run(world, playbook):
        report_dir = tmp_path / ("reports%d" % next(counter))
        aws_proxy.clear()
        result = run_playbook(playbook, world.extra_vars(report_dir), args=world.args(), env={"AWS_ENDPOINT_URL": aws_proxy.endpoint_url})
        return WorldSweep(result, report_dir, world)

    return run


def test_audit_and_enforce_of_world_c_reach_the_truth_through_faults_and_the_quota(aws, aws_proxy, sweep, tmp_path):
    world = World(aws, WORLD_C, tmp_path)
    assert (len(world.hosts), len(world.truth), len(world.off)) == (12, 1200, 600)
    aws_proxy.quota = Quota()
    aws_proxy.faults = Faults(seed=FAULT_SEED, rate=0.10, slow_seconds=SLOW_SECONDS)

    audit = sweep(world, AUDIT)

    audit.assert_no_failure()
    audit_outcomes = aws_proxy.outcomes()
    # Not vacuous: every kind of fault was injected in this run.
    assert {kind for kind in FAULT_KINDS if audit_outcomes[kind]} == set(FAULT_KINDS), audit_outcomes
    audit.assert_counts_honest(aws_proxy)
    sent, _throttled, server_errors, no_answer = audit.retry_line()
    # More than the fault-free minimum (one GetRestApis and 50 GetStages per target): the retries.
    assert server_errors > 0 and no_answer > 0 and sent > len(world.hosts) * 51, audit.run.stdout
    # An audit writes nothing, whatever the faults: every request of the run went through the proxy.
    assert [r for r in aws_proxy.requests if r.service == "apigateway" and r.method != "GET"] == []

    assert audit.report["mode"] == "audit"
    rows = audit.rows()
    assert set(rows) == set(world.truth)
    for key, enabled in world.truth.items():
        assert (rows[key]["tracing_enabled_before"], rows[key]["action"]) == (enabled, "none" if enabled else "would_enable"), key
    summary = audit.assert_summary_consistent()
    assert (summary["compliant"], summary["noncompliant"], summary["would_change"], summary["changed"]) == (600, 600, 600, 0), summary

    enforce = sweep(world, ENFORCE)

    enforce.assert_no_failure()
    enforce_outcomes = aws_proxy.outcomes()
    assert {kind for kind in FAULT_KINDS if enforce_outcomes[kind]} == set(FAULT_KINDS), enforce_outcomes
    enforce.assert_counts_honest(aws_proxy)
    assert enforce.retry_line()[2] > 0 and enforce.retry_line()[3] > 0, enforce.run.stdout
    assert world.state() == dict.fromkeys(world.truth, True)

    assert enforce.report["mode"] == "enforce"
    rows = enforce.rows()
    assert set(rows) == set(world.truth)
    for key, enabled in world.truth.items():
        row = rows[key]
        assert (row["tracing_enabled_before"], row["tracing_enabled_after"], row["action"]) == (enabled, True, "none" if enabled else "enabled"), key
    summary = enforce.assert_summary_consistent()
    assert (summary["compliant"], summary["noncompliant"], summary["changed"], summary["compliance_percent"]) == (1200, 0, 600, 100.0), summary
    # Throttling depends on how the targets' runs overlap, so it is not asserted; when it happens, the
    # honest counts above include it.


def _process_table():
    """{pid: (parent pid, state letter)} of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces or parentheses itself.
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), fields[0])
    return table


def wait_for(condition, what):
    deadline = time.monotonic() + SAFETY_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("gave up waiting for %s" % what)
        time.sleep(POLL_SECONDS)


def _stop(pids):
    """SIGSTOP ``pids`` and wait until each one is stopped (or gone); returns the process table seen then."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass
    table = {}

    def all_stopped():
        table.clear()
        table.update(_process_table())
        return all(pid not in table or table[pid][1] in "TtZX" for pid in pids)

    wait_for(all_stopped, "processes %s to stop" % pids)
    return table


def kill_process_tree(root):
    """SIGKILL ``root`` and every process below it, as when the machine running the sweep dies.

    Killing the process group is not enough: ansible's workers call setsid(), so the module processes
    would outlive ansible-playbook and finish their calls. Each level of the tree is stopped first,
    and only then are its children listed, so that no process forks a child that goes unnoticed.
    """
    stopped = []
    level = [root]
    while level:
        table = _stop(level)
        stopped.extend(level)
        parents = set(level)
        level = [pid for pid, (parent, _state) in table.items() if parent in parents]
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_an_enforcement_killed_midway_is_finished_by_the_next_run(aws, aws_proxy, sweep, playbook_runner, tmp_path):
    world = World(aws, SMALL_WORLD, tmp_path)
    aws_proxy.quota = Quota()
    run_dir = tmp_path / "killed"
    run_dir.mkdir()
    (run_dir / "vars.json").write_text(json.dumps(world.extra_vars(run_dir / "reports")), encoding="utf-8")
    command = [playbook_runner.command, ENFORCE, "-e", "@%s" % (run_dir / "vars.json")] + world.args()
    env = playbook_runner.environment(env={"AWS_ENDPOINT_URL": aws_proxy.endpoint_url, "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp")})

    def updates_made():
        return len([r for r in aws.requests if r.operation == "UpdateStage" and r.status == 200])

    with open(run_dir / "output.txt", "w+", encoding="utf-8") as output:
        process = subprocess.Popen(command, cwd=str(run_dir), env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: updates_made() >= KILL_AFTER_UPDATES or process.poll() is not None, "%d UpdateStage calls" % KILL_AFTER_UPDATES)
        finally:
            kill_process_tree(process.pid)
            process.wait()
        output.seek(0)
        assert process.returncode == -signal.SIGKILL, "the enforcement ended before it was killed:\n%s" % output.read()

    # Requests already on their way are still answered (AWS would finish them too): wait until the proxy
    # has closed every connection of the killed processes, then look at what the server holds.
    wait_for(lambda: not aws_proxy.open_connections(), "the proxy to finish the killed run's requests")
    assert not (run_dir / "reports" / "report.json").exists()
    interrupted = world.state()
    assert set(interrupted) == set(world.truth)
    # Nothing was turned off, and some but not all of the off stages were turned on.
    assert all(interrupted[key] for key in world.truth if key not in world.off)
    turned_on = {key for key in world.off if interrupted[key]}
    left = world.off - turned_on
    assert len(turned_on) >= KILL_AFTER_UPDATES and left, (len(turned_on), len(left))

    rerun = sweep(world, ENFORCE)

    rerun.assert_no_failure()
    rerun.assert_counts_honest(aws_proxy)
    assert world.state() == dict.fromkeys(world.truth, True)
    rows = rerun.rows()
    assert {key: row["action"] for key, row in rows.items()} == {key: "enabled" if key in left else "none" for key in world.truth}
    assert {key for key, row in rows.items() if row["tracing_enabled_before"] is False} == left
    summary = rerun.assert_summary_consistent()
    assert (summary["changed"], summary["noncompliant"]) == (len(left), 0), summary
    # The second run wrote only what the first left undone (no faults here: nothing is written twice).
    assert len([r for r in aws_proxy.requests if r.operation == "UpdateStage" and r.outcome == "forwarded"]) == len(left)

    audit = sweep(world, AUDIT)

    audit.assert_no_failure()
    summary = audit.assert_summary_consistent()
    assert (summary["compliant"], summary["noncompliant"], summary["compliance_percent"]) == (len(world.truth), 0, 100.0), summary
