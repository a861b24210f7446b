#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: how close the tracing sweep runs to what API Gateway's quota allows.

Every figure is a ratio of two things measured side by side in this one run, on the same machine,
against the same local AWS (moto) behind tests/support/aws_proxy.py, which pages GetRestApis and
throttles like AWS (10 requests/s, burst 40, per account and region):

World A  1 account-region, 600 REST APIs x 2 stages, half of them off, quota on.
         API calls per stage; audit wall time / floor, where floor = (calls - 40) / 10 s is the
         quota's physical limit; the same for enforce; peak memory of the module processes.
World B  the same world, quota off: the role's audit against tests/bench/minimal_boto3.py making the
         same calls, and the role's fixed overhead (both on an empty account-region).
World C  12 account-regions x 50 APIs x 2 stages, forks 12, quota on: wall time / slowest single
         target alone (parallel efficiency), and calls per stage.

Goals (printed with each figure; nothing here fails on them, the machine is shared and noisy):
audit/floor <= 1.15 (A); role <= 1.5 x minimal boto3 + 5 s fixed (B); parallel efficiency <= 1.3 (C);
audit calls exactly ceil(APIs/500) GetRestApis + one GetStages per API.
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


def cpu_seconds_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def api_specs(count, prefix):
    """`count` REST APIs with stages prod and dev; the first half traced, the second half not."""
    return [
        {"name": "%s-%03d" % (prefix, index), "stages": {"prod": {"tracing": index < count // 2}, "dev": {"tracing": index < count // 2}}}
        for index in range(count)
    ]


class Bench:
    def __init__(self, workdir, world_c_singles):
        self.workdir = Path(workdir)
        self.world_c_singles = world_c_singles
        self.aws = LocalAws().start()
        self.proxy = AwsProxy(self.aws.endpoint_url, quota=None).start()
        self.runs = 0
        self.lines = []
        self.last_task_times = []
        self.last_cpu_seconds = 0.0

    def close(self):
        self.proxy.stop()
        self.aws.stop()

    # ---- running the role -----------------------------------------------------------------------
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

    def sweep(self, playbook, hosts, extra_vars=None, forks=None, limit=None, interpreter=None, env=None):
        """Run cloudops.apigw_tracing.<playbook> over `hosts` ({name: host vars}); returns (seconds, report)."""
        self.runs += 1
        run_dir = self.workdir / ("run%02d-%s" % (self.runs, playbook))
        run_dir.mkdir(parents=True)
        common = {"ansible_connection": "local", "ansible_python_interpreter": interpreter or sys.executable}
        inventory = {"all": {"vars": common, "hosts": hosts}}
        (run_dir / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
        variables = {"tracing_sweep_report_dir": str(run_dir / "reports"), "tracing_sweep_max_changes": 100000}
        variables.update(extra_vars or {})
        (run_dir / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
        command = ["ansible-playbook", "cloudops.apigw_tracing.%s" % playbook, "-i", "inventory.yml", "-e", "@vars.json"]
        if forks:
            command += ["--forks", str(forks)]
        if limit:
            command += ["--limit", limit]
        run_env = self.environment(env)
        run_env["BENCH_TASK_TIMES"] = str(run_dir / "task_times.json")
        cpu_before = cpu_seconds_of_children()
        started = time.monotonic()
        completed = subprocess.run(command, cwd=run_dir, env=run_env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        # CPU of ansible-playbook, its workers and the module processes (the local AWS runs in this process).
        self.last_cpu_seconds = cpu_seconds_of_children() - cpu_before
        self.last_task_times = json.loads((run_dir / "task_times.json").read_text(encoding="utf-8")) if (run_dir / "task_times.json").exists() else []
        (run_dir / "stdout.txt").write_text(completed.stdout + completed.stderr, encoding="utf-8")
        if completed.returncode != 0:
            raise RuntimeError("%s failed (rc=%d), see %s\n%s" % (playbook, completed.returncode, run_dir / "stdout.txt", completed.stdout[-3000:]))
        report = json.loads((run_dir / "reports" / "report.json").read_text(encoding="utf-8"))
        return seconds, report

    def script(self):
        """Seconds the minimal boto3 audit takes against the proxy."""
        started = time.monotonic()
        subprocess.run([sys.executable, str(HERE / "minimal_boto3.py")], env=self.environment(), check=True, capture_output=True)
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
        self.say("  %-52s %s%s" % (label, value, verdict))


def check_report(report, stages, expect_noncompliant, what):
    summary = report["summary"]
    if summary["stages"] != stages or summary["errors"] or summary["targets_failed"] or summary["noncompliant"] != expect_noncompliant:
        raise RuntimeError("%s: unexpected report summary %s" % (what, json.dumps(summary)))


def world_a_and_b(bench):
    apis = 600
    stages = apis * 2
    started = time.monotonic()
    seed(bench.aws.client("apigateway", "us-east-1"), api_specs(apis, "a"))
    bench.say("World A: %d REST APIs x 2 stages, %d off (seeded in %.0f s)" % (apis, stages // 2, time.monotonic() - started))
    hosts = {"world-a_us-east-1": {"tracing_sweep_region": "us-east-1", "tracing_sweep_account_id": CALLER_ACCOUNT}}
    expected_calls = math.ceil(apis / 500) + apis

    # Audit, quota on.
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
    bench.figure("audit wall time / floor", "%.1f s / %.1f s = %.3f" % (seconds, floor, seconds / floor), "<= 1.15", seconds / floor <= 1.15)
    reading = bench.task_seconds("Read every REST API stage")
    bench.figure("  of which the read task / floor", "%.1f s / %.1f s = %.3f (the rest: %.1f s)" % (reading, floor, reading / floor, seconds - reading))
    throttled = bench.proxy.outcomes().get("throttled", 0)
    bench.figure("audit answers 429 (retried)", str(throttled))

    # World B, the same world without the quota: the role against the minimal script.
    bench.say("World B: the same world, no quota")
    bench.proxy.quota = None
    unpaced = {"tracing_sweep_max_requests_per_second": 100000}
    role_seconds, report = bench.sweep("audit", hosts, unpaced)
    check_report(report, stages, stages // 2, "World B audit")
    script_seconds = bench.script()

    # Enforce, quota on, module processes under the peak-memory recorder.
    bench.say("World A: enforce")
    bench.fresh_quota()
    bench.proxy.clear()
    rss_log = bench.workdir / "rss.jsonl"
    seconds, report = bench.sweep(
        "enforce", hosts, interpreter=str(HERE / "peak_rss_python.py"), env={"BENCH_RSS_LOG": str(rss_log), "BENCH_REAL_PYTHON": sys.executable},
    )
    check_report(report, stages, 0, "World A enforce")
    if report["summary"]["changed"] != stages // 2:
        raise RuntimeError("World A enforce changed %s stages, not %d" % (report["summary"]["changed"], stages // 2))
    calls = bench.apigw_calls()
    total = sum(calls.values())
    floor = (total - QUOTA_BURST) / QUOTA_RATE
    bench.figure("enforce API Gateway calls", "%d (%s)" % (total, ", ".join("%s %d" % item for item in sorted(calls.items()))))
    bench.figure("enforce calls per stage", "%.3f" % (total / stages))
    bench.figure("enforce wall time / floor", "%.1f s / %.1f s = %.3f" % (seconds, floor, seconds / floor))
    modules = bench.task_seconds("Read every REST API stage") + bench.task_seconds("Converge the stages")
    bench.figure("  of which read + converge tasks / floor", "%.1f s / %.1f s = %.3f" % (modules, floor, modules / floor))
    peaks = {}
    for line in rss_log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        name = next((Path(arg).name for arg in entry["argv"] if "AnsiballZ_" in arg), "other")
        peaks[name] = max(peaks.get(name, 0), entry["peak_rss_kib"])
    baseline = boto3_baseline_kib()
    for name in ("AnsiballZ_apigw_stage_tracing_info.py", "AnsiballZ_apigw_stage_tracing.py"):
        if name in peaks:
            bench.figure("peak RSS %s" % name.replace("AnsiballZ_", "").replace(".py", ""),
                         "%.1f MiB (%.2f x a bare python+boto3 client, %.1f MiB)" % (peaks[name] / 1024, peaks[name] / baseline, baseline / 1024))

    # World B's fixed overhead: the same runs on an account-region with no REST API.
    bench.aws.reset()
    bench.proxy.quota = None
    empty_role, report = bench.sweep("audit", hosts, unpaced)
    check_report(report, 0, 0, "World B empty audit")
    empty_script = bench.script()
    fixed = empty_role - empty_script
    variable = (role_seconds - fixed) / script_seconds
    bench.figure("role audit / minimal boto3 script", "%.1f s / %.1f s = %.2f" % (role_seconds, script_seconds, role_seconds / script_seconds))
    bench.figure("fixed overhead (empty account-region)", "%.1f s (role %.1f s, script %.1f s)" % (fixed, empty_role, empty_script), "<= 5 s", fixed <= 5)
    bench.figure("(role - fixed) / minimal boto3 script", "%.2f" % variable, "<= 1.5", variable <= 1.5)


def boto3_baseline_kib():
    """Peak RSS of a python process that only creates an apigateway client."""
    code = "import boto3; boto3.client('apigateway', region_name='us-east-1')"
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
        env = dict(os.environ, BENCH_RSS_LOG=log.name, BENCH_REAL_PYTHON=sys.executable)
        subprocess.run([sys.executable, str(HERE / "peak_rss_python.py"), "-c", code], env=env, check=True)
        return json.loads(log.read().splitlines()[-1])["peak_rss_kib"]


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
                "tracing_sweep_role_arn": "arn:aws:iam::%s:role/%s" % (account, ROLE_NAME),
            }
    targets = len(hosts)
    stages = targets * apis * 2
    bench.say("World C: %d account-regions x %d REST APIs x 2 stages, forks %d" % (targets, apis, targets))

    bench.fresh_quota()
    bench.proxy.clear()
    wall, report = bench.sweep("audit", hosts, forks=targets)
    check_report(report, stages, stages // 2, "World C audit")
    cores = os.cpu_count() or 1
    bench.figure("CPU used / (wall time x %d cores)" % cores, "%.1f s / %.1f s = %.2f" % (
        bench.last_cpu_seconds, wall * cores, bench.last_cpu_seconds / (wall * cores)))
    calls = bench.apigw_calls()
    total = sum(calls.values())
    expected = targets * (math.ceil(apis / 500) + apis)
    bench.figure("audit API Gateway calls", "%d (%s)" % (total, ", ".join("%s %d" % item for item in sorted(calls.items()))),
                 "%d" % expected, total == expected)
    bench.figure("audit calls per stage", "%.3f" % (total / stages))

    singles = []
    for host in list(hosts)[:bench.world_c_singles]:
        bench.fresh_quota()
        seconds, report = bench.sweep("audit", hosts, limit=host)
        check_report(report, apis * 2, apis, "World C single %s" % host)
        singles.append(seconds)
    slowest = max(singles)
    bench.figure("wall time / slowest single target", "%.1f s / %.1f s = %.2f (%d singles, %s)" % (
        wall, slowest, wall / slowest, len(singles), ", ".join("%.1f" % s for s in singles)), "<= 1.3", wall / slowest <= 1.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--world-c-singles", type=int, default=4, help="how many World C targets to time alone (all are the same size)")
    parser.add_argument("--keep", action="store_true", help="keep the run directories (inventories, output, reports)")
    args = parser.parse_args()
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="apigw-tracing-bench-", dir=str(REPO / ".build") if (REPO / ".build").is_dir() else None)
    print("cloudops.apigw_tracing benchmark (runs in %s)" % workdir, flush=True)
    bench = Bench(workdir, args.world_c_singles)
    try:
        world_a_and_b(bench)
        world_c(bench)
    finally:
        bench.close()
    bench.say("Benchmark done in %.0f s" % (time.monotonic() - started))
    if not args.keep:
        subprocess.run(["rm", "-rf", workdir], check=False)


if __name__ == "__main__":
    main()
