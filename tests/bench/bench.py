#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: how fast the tracing sweep runs at organisation scale, and how close to API Gateway's quota.

Every figure is a ratio of two things measured side by side in this one run, on the same machine, against
the same local AWS (moto) behind tests/support/aws_proxy.py, which pages GetRestApis and throttles like AWS
(10 requests/s, burst 40, per account and region). The yardstick is tests/bench/minimal_boto3.py, the least
a hand-written boto3 audit does (the same calls, targets on 8 threads).

World W  wide: 10 accounts x 17 regions = 170 targets, 80% of them empty, quota on. The role's audit against
         the yardstick; CPU seconds per target (all, and empty ones), the share of ansible-playbook's main
         process (which more cores cannot shorten); a projection for 500 accounts x 17 regions on 2 and 16
         cores and on AWX execution nodes with job slicing.
World B  large: 1 target, 600 REST APIs x 2 stages, no quota: the role's audit against the yardstick.
World A  the same world behind the quota: audit and enforce wall time / floor, where floor = (calls - 40) / 10 s
         is the quota's physical limit; calls exactly ceil(APIs/500) GetRestApis + one GetStages per API.
World C  12 account-regions x 50 APIs x 2 stages, forks 12, quota on: wall time / slowest single target alone
         (parallel efficiency).

Goals (printed met / NOT met with the measured ratio; nothing fails on them, the machine is shared and noisy):
W role / yardstick <= 3.0 and CPU per empty target <= 0.3 s; B role / yardstick <= 1.5; A audit / floor <= 1.10;
C parallel efficiency <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests" / "support"))

from aws_proxy import AwsProxy  # noqa: E402  pylint: disable=wrong-import-position
from aws_proxy import Quota  # noqa: E402  pylint: disable=wrong-import-position
from local_aws import LocalAws  # noqa: E402  pylint: disable=wrong-import-position
from local_aws import seed  # noqa: E402  pylint: disable=wrong-import-position

CALLER_ACCOUNT = "123456789012"
QUOTA_RATE = 10.0
QUOTA_BURST = 40
ROLE_NAME = "TracingBench"
YARDSTICK_THREADS = 8
WIDE_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
]
WIDE_ACCOUNTS = 10
# Projection: an organisation of this many accounts x the wide world's regions.
ORG_ACCOUNTS = 500


def _own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def api_specs(count, prefix):
    """`count` REST APIs with stages prod and dev; the first half traced, the second half not."""
    return [
        {"name": "%s-%03d" % (prefix, index), "stages": {"prod": {"tracing": index < count // 2}, "dev": {"tracing": index < count // 2}}}
        for index in range(count)
    ]


def role_arn(account):
    return "arn:aws:iam::%s:role/%s" % (account, ROLE_NAME)


class Bench:
    def __init__(self, workdir, world_c_singles):
        self.workdir = Path(workdir)
        self.world_c_singles = world_c_singles
        self.aws = LocalAws().start()
        self.proxy = AwsProxy(self.aws.endpoint_url, quota=None).start()
        self.runs = 0
        self.lines = []
        self.last_task_times = []
        self.last_cpu = {}
        self.last_server_cpu = 0.0

    def close(self):
        self.proxy.stop()
        self.aws.stop()

    # ---- running the role and the yardstick ------------------------------------------------------
    def environment(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.proxy.env())
        env.update({
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "AWS_EC2_METADATA_DISABLED": "true",
            # Anything that misses the local endpoint fails at once instead of reaching out.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "task_times",
        })
        env.update(extra or {})
        return env

    def sweep(self, playbook, hosts, extra_vars=None, forks=None, limit=None):
        """Run cloudops.apigw_tracing.<playbook> over `hosts` ({name: host vars}); returns (seconds, report)."""
        self.runs += 1
        run_dir = self.workdir / ("run%02d-%s" % (self.runs, playbook))
        run_dir.mkdir(parents=True)
        common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        inventory = {"all": {"vars": common, "hosts": hosts}}
        (run_dir / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
        variables = {"tracing_sweep_report_dir": str(run_dir / "reports"), "tracing_sweep_max_changes": 100000}
        variables.update(extra_vars or {})
        (run_dir / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
        command = [sys.executable, str(HERE / "cpu_split.py"), "cloudops.apigw_tracing.%s" % playbook, "-i", "inventory.yml", "-e", "@vars.json"]
        if forks:
            command += ["--forks", str(forks)]
        if limit:
            command += ["--limit", limit]
        run_env = self.environment({"BENCH_TASK_TIMES": str(run_dir / "task_times.json"), "BENCH_CPU_SPLIT": str(run_dir / "cpu.json")})
        started = time.monotonic()
        server_started = _own_cpu()
        completed = subprocess.run(command, cwd=run_dir, env=run_env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        # The local AWS (moto) and the proxy are threads of this process: its CPU is theirs while the run lasts.
        self.last_server_cpu = _own_cpu() - server_started
        self.last_task_times = json.loads((run_dir / "task_times.json").read_text(encoding="utf-8")) if (run_dir / "task_times.json").exists() else []
        self.last_cpu = json.loads((run_dir / "cpu.json").read_text(encoding="utf-8")) if (run_dir / "cpu.json").exists() else {}
        (run_dir / "stdout.txt").write_text(completed.stdout + completed.stderr, encoding="utf-8")
        if completed.returncode != 0:
            raise RuntimeError("%s failed (rc=%d), see %s\n%s" % (playbook, completed.returncode, run_dir / "stdout.txt", completed.stdout[-3000:]))
        report = json.loads((run_dir / "reports" / "report.json").read_text(encoding="utf-8"))
        return seconds, report

    def yardstick(self, targets=None, threads=YARDSTICK_THREADS):
        """Seconds the minimal boto3 audit takes against the proxy (the environment's region when no targets)."""
        command = [sys.executable, str(HERE / "minimal_boto3.py"), "--threads", str(threads)]
        if targets is not None:
            path = self.workdir / ("targets-%d.json" % len(targets))
            path.write_text(json.dumps(targets), encoding="utf-8")
            command += ["--targets", str(path)]
        started = time.monotonic()
        subprocess.run(command, env=self.environment(), check=True, capture_output=True)
        return time.monotonic() - started

    def task_seconds(self, prefix):
        """Seconds the last run spent in tasks whose name (after the role's "<role> : ") starts with prefix."""
        return sum(entry["seconds"] for entry in self.last_task_times if entry["task"].split(" : ", 1)[-1].startswith(prefix))

    def fresh_quota(self):
        """A full bucket for every account-region, as after a quiet spell."""
        self.proxy.quota = Quota(rate=QUOTA_RATE, burst=QUOTA_BURST)

    def apigw_calls(self):
        return dict(self.proxy.counts("apigateway"))

    # ---- output ---------------------------------------------------------------------------------
    def say(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def figure(self, label, value, goal=None, met=None):
        verdict = "" if met is None else ("  goal %s: %s" % (goal, "met" if met else "NOT met"))
        self.say("  %-56s %s%s" % (label, value, verdict))


def check_report(report, stages, expect_noncompliant, what):
    summary = report["summary"]
    if summary["stages"] != stages or summary["errors"] or summary["targets_failed"] or summary["noncompliant"] != expect_noncompliant:
        raise RuntimeError("%s: unexpected report summary %s" % (what, json.dumps(summary)))


def world_w(bench):
    """The wide world: most targets of a real organisation are empty regions."""
    bench.aws.reset()
    bench.proxy.quota = None
    accounts = ["4000000000%02d" % index for index in range(WIDE_ACCOUNTS)]
    hosts = {}
    targets = []
    busy = []
    started = time.monotonic()
    for number, (account, region) in enumerate((account, region) for account in accounts for region in WIDE_REGIONS):
        name = "w%s_%s" % (account[-2:], region)
        hosts[name] = {"tracing_sweep_region": region, "tracing_sweep_account_id": account, "tracing_sweep_role_arn": role_arn(account)}
        targets.append({"region": region, "role_arn": role_arn(account)})
        # One target in five holds REST APIs: 2 APIs x 2 stages, or 3 for every other one (148 stages in all).
        if number % 5 == 0:
            count = 2 if len(busy) % 2 == 0 else 3
            seed(bench.aws.client("apigateway", region, account=account), api_specs(count, "w%d" % number))
            busy.append(name)
    stages = sum(4 if index % 2 == 0 else 6 for index in range(len(busy)))
    bench.say("World W: %d accounts x %d regions = %d targets, %d with REST APIs (%d stages), %d empty (seeded in %.0f s)" % (
        WIDE_ACCOUNTS, len(WIDE_REGIONS), len(hosts), len(busy), stages, len(hosts) - len(busy), time.monotonic() - started))

    bench.fresh_quota()
    wall, report = bench.sweep("audit", hosts, forks=YARDSTICK_THREADS)
    if report["summary"]["stages"] != stages or report["summary"]["targets_failed"]:
        raise RuntimeError("World W audit: unexpected summary %s" % json.dumps(report["summary"]))
    cpu = dict(bench.last_cpu)
    bench.fresh_quota()
    yardstick = bench.yardstick(targets)
    total_cpu = cpu["main"] + cpu["workers"]
    bench.figure("role audit (forks %d) / minimal boto3 (threads %d)" % (YARDSTICK_THREADS, YARDSTICK_THREADS),
                 "%.1f s / %.1f s = %.2f" % (wall, yardstick, wall / yardstick), "<= 3.0", wall / yardstick <= 3.0)
    bench.figure("CPU per target (all %d)" % len(hosts), "%.3f s (%.1f s: main process %.1f s, workers %.1f s)" % (
        total_cpu / len(hosts), total_cpu, cpu["main"], cpu["workers"]))

    empty = [name for name in hosts if name not in busy]
    bench.fresh_quota()
    empty_wall, report = bench.sweep("audit", {name: hosts[name] for name in empty}, forks=YARDSTICK_THREADS)
    empty_cpu = bench.last_cpu["main"] + bench.last_cpu["workers"]
    per_empty = empty_cpu / len(empty)
    bench.figure("CPU per empty target (%d alone)" % len(empty), "%.3f s (%.1f s in %.1f s)" % (per_empty, empty_cpu, empty_wall),
                 "<= 0.3 s", per_empty <= 0.3)
    bench.figure("  main process per target (what more cores cannot shorten)", "%.3f s" % (bench.last_cpu["main"] / len(empty)))
    bench.figure("peak RSS of a process of the run", "%.0f MiB" % (bench.last_cpu["peak_rss_kib"] / 1024))
    project(bench, len(hosts), total_cpu, cpu["main"], wall)


def project(bench, targets, total_cpu, main_cpu, wall):
    """500 accounts x 17 regions from the wide world's per-target costs: CPU-bound on the cores, never faster than
    ansible-playbook's main process, which works serially."""
    org = ORG_ACCOUNTS * len(WIDE_REGIONS)
    per_target = total_cpu / targets
    main_per_target = main_cpu / targets
    cores = os.cpu_count() or 1
    # What the cores did not explain in the measured run (waiting on AWS, start-up) scales with the targets too.
    idle_per_target = max(0.0, wall - total_cpu / cores) / targets
    bench.say("Projection: %d accounts x %d regions = %d targets (same mix, 80%% empty)" % (ORG_ACCOUNTS, len(WIDE_REGIONS), org))
    for n_cores in (2, 16):
        seconds = max(org * per_target / n_cores, org * main_per_target) + org * idle_per_target * cores / n_cores
        bench.figure("  one controller, %d cores" % n_cores, "about %.0f min" % (seconds / 60))
    for nodes in (4, 16):
        share = math.ceil(org / nodes)
        seconds = max(share * per_target / 2, share * main_per_target) + share * idle_per_target * cores / 2
        bench.figure("  AWX, %d execution nodes of 2 cores, job slicing %d" % (nodes, nodes), "about %.0f min per slice, all at once" % (seconds / 60))


def world_a_and_b(bench):
    apis = 600
    stages = apis * 2
    bench.aws.reset()
    started = time.monotonic()
    seed(bench.aws.client("apigateway", "us-east-1"), api_specs(apis, "a"))
    bench.say("World B: 1 target, %d REST APIs x 2 stages, no quota (seeded in %.0f s)" % (apis, time.monotonic() - started))
    hosts = {"world-a_us-east-1": {"tracing_sweep_region": "us-east-1", "tracing_sweep_account_id": CALLER_ACCOUNT}}
    expected_calls = math.ceil(apis / 500) + apis

    bench.proxy.quota = None
    unpaced = {"tracing_sweep_max_requests_per_second": 100000}
    role_seconds, report = bench.sweep("audit", hosts, unpaced)
    check_report(report, stages, stages // 2, "World B audit")
    yardstick = bench.yardstick(threads=4)
    bench.figure("role audit / minimal boto3 (4 threads, as the role's concurrency)", "%.1f s / %.1f s = %.2f" % (
        role_seconds, yardstick, role_seconds / yardstick), "<= 1.5", role_seconds / yardstick <= 1.5)

    bench.say("World A: the same world behind the quota")
    bench.fresh_quota()
    bench.proxy.clear()
    seconds, report = bench.sweep("audit", hosts)
    check_report(report, stages, stages // 2, "World A audit")
    calls = bench.apigw_calls()
    total = sum(calls.values())
    floor = (total - QUOTA_BURST) / QUOTA_RATE
    bench.figure("audit API Gateway calls", "%d (%s)" % (total, ", ".join("%s %d" % item for item in sorted(calls.items()))),
                 "ceil(APIs/500) + APIs = %d" % expected_calls, calls.get("GetRestApis") == math.ceil(apis / 500) and calls.get("GetStages") == apis
                 and total == expected_calls)
    bench.figure("audit calls per stage", "%.3f" % (total / stages))
    bench.figure("audit wall time / floor", "%.1f s / %.1f s = %.3f" % (seconds, floor, seconds / floor), "<= 1.10", seconds / floor <= 1.10)
    # The role's default pace stays below the quota on purpose (room for other callers): its own floor.
    pace = 9.5
    paced = (total - 4 * pace) / pace
    bench.figure("  the default pace's own floor / floor", "%.1f s / %.1f s = %.3f ((calls - 4 s of burst) / %.1f requests/s)" % (
        paced, floor, paced / floor, pace))
    reading = bench.task_seconds("Reach the target's account")
    bench.figure("  of which the read step / floor", "%.1f s / %.1f s = %.3f (the rest: %.1f s)" % (reading, floor, reading / floor, seconds - reading))
    bench.figure("audit answers 429 (retried)", str(bench.proxy.outcomes().get("throttled", 0)))

    bench.say("World A: enforce")
    bench.fresh_quota()
    bench.proxy.clear()
    seconds, report = bench.sweep("enforce", hosts)
    check_report(report, stages, 0, "World A enforce")
    if report["summary"]["changed"] != stages // 2:
        raise RuntimeError("World A enforce changed %s stages, not %d" % (report["summary"]["changed"], stages // 2))
    calls = bench.apigw_calls()
    total = sum(calls.values())
    floor = (total - QUOTA_BURST) / QUOTA_RATE
    bench.figure("enforce API Gateway calls", "%d (%s)" % (total, ", ".join("%s %d" % item for item in sorted(calls.items()))))
    bench.figure("enforce calls per stage", "%.3f" % (total / stages))
    bench.figure("enforce wall time / floor", "%.1f s / %.1f s = %.3f" % (seconds, floor, seconds / floor))
    bench.figure("enforce answers 429 (retried)", str(bench.proxy.outcomes().get("throttled", 0)))


def world_c(bench):
    accounts = ["3000000000%02d" % index for index in range(6)]
    regions = ["us-east-1", "eu-west-1"]
    apis = 50
    bench.aws.reset()
    bench.proxy.quota = None
    hosts = {}
    for account in accounts:
        for region in regions:
            seed(bench.aws.client("apigateway", region, account=account), api_specs(apis, "c"))
            hosts["c%s_%s" % (account[-2:], region)] = {
                "tracing_sweep_region": region,
                "tracing_sweep_account_id": account,
                "tracing_sweep_role_arn": role_arn(account),
            }
    targets = len(hosts)
    stages = targets * apis * 2
    bench.say("World C: %d account-regions x %d REST APIs x 2 stages, forks %d" % (targets, apis, targets))

    bench.fresh_quota()
    bench.proxy.clear()
    wall, report = bench.sweep("audit", hosts, forks=targets)
    check_report(report, stages, stages // 2, "World C audit")
    cores = os.cpu_count() or 1
    used = bench.last_cpu["main"] + bench.last_cpu["workers"]
    bench.figure("CPU used / (wall time x %d cores)" % cores, "%.1f s / %.1f s = %.2f" % (used, wall * cores, used / (wall * cores)))
    bench.figure("  local AWS (moto and the proxy, one Python process) CPU / wall time", "%.1f s / %.1f s = %.2f" % (
        bench.last_server_cpu, wall, bench.last_server_cpu / wall))
    calls = bench.apigw_calls()
    total = sum(calls.values())
    expected = targets * (math.ceil(apis / 500) + apis)
    bench.figure("audit API Gateway calls", "%d (%s)" % (total, ", ".join("%s %d" % item for item in sorted(calls.items()))),
                 "%d" % expected, total == expected)

    singles = []
    for host in list(hosts)[:bench.world_c_singles]:
        bench.fresh_quota()
        seconds, report = bench.sweep("audit", hosts, limit=host)
        check_report(report, apis * 2, apis, "World C single %s" % host)
        singles.append(seconds)
    slowest = max(singles)
    bench.figure("wall time / slowest single target", "%.1f s / %.1f s = %.2f (%d singles, %s)" % (
        wall, slowest, wall / slowest, len(singles), ", ".join("%.1f" % s for s in singles)), "<= 1.5", wall / slowest <= 1.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--world-c-singles", type=int, default=4, help="how many World C targets to time alone (all are the same size)")
    parser.add_argument("--worlds", default="W,B,C", help="which worlds to run, of W, B (B includes A) and C")
    parser.add_argument("--keep", action="store_true", help="keep the run directories (inventories, output, reports)")
    args = parser.parse_args()
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="apigw-tracing-bench-", dir=str(REPO / ".build") if (REPO / ".build").is_dir() else None)
    print("cloudops.apigw_tracing benchmark on %d cores (runs in %s)" % (os.cpu_count() or 1, workdir), flush=True)
    bench = Bench(workdir, args.world_c_singles)
    worlds = {name.strip().upper() for name in args.worlds.split(",")}
    try:
        if "W" in worlds:
            world_w(bench)
        if "B" in worlds:
            world_a_and_b(bench)
        if "C" in worlds:
            world_c(bench)
    finally:
        bench.close()
    bench.say("Benchmark done in %.0f s" % (time.monotonic() - started))
    if not args.keep:
        subprocess.run(["rm", "-rf", workdir], check=False)


if __name__ == "__main__":
    main()
